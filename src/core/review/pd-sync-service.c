/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sync-service"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-hospital-link.h"
#include "pd-kb-store.h"
#include "pd-sync-service.h"

struct _PdSyncService
{
  GObject         parent_instance;

  PdSession      *session;
  const PdConfig *config;
  PdLinkMonitor  *monitor;
  GCancellable   *cancellable;
  guint           timer;
  gboolean        running;
  gboolean        again;
  gboolean        stopped;
  guint           runs;
  gint64          seen_id;       /* the largest prescription id already announced; -1: not read yet */
  char           *error;
};

G_DEFINE_FINAL_TYPE (PdSyncService, pd_sync_service, G_TYPE_OBJECT)

enum {
  FINISHED,
  URGENT_ARRIVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct {
  PdSession *session;
  char      *path;
  const PdConfig *config;
  gint64     seen_id;
  /* out */
  gint64     max_id;
  GPtrArray *urgent;             /* char*: uuid, number, priority, … */
} Run;

static void
run_free (gpointer data)
{
  Run *run = data;

  g_clear_object (&run->session);
  g_free (run->path);
  g_clear_pointer (&run->urgent, g_ptr_array_unref);
  g_free (run);
}

typedef struct {
  PdSyncService *self;
} Progress;

static gboolean
progress_idle_cb (gpointer user_data)
{
  PdSyncService *self = user_data;

  if (self->running && !self->stopped)
    pd_link_monitor_report_sync (self->monitor, PD_LINK_HOSPITAL, TRUE, -1.0);
  return G_SOURCE_REMOVE;
}

/* On the worker: a page arrived; the indicator pulses on the main context. */
static void
progress_cb (const PdSyncStats *stats,
             gpointer           user_data)
{
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, progress_idle_cb,
                              g_object_ref (user_data), g_object_unref);
}

static gint64
max_prescription_id (PdStore *store)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT coalesce (max (id), 0) FROM prescription", NULL);
  gint64 id = 0;

  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return id;
}

static void
read_urgent (PdStore *store,
             Run     *run)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT uuid, rx_number, priority FROM prescription"
                                                " WHERE id > ? AND priority IN ('stat', 'urgent', 'asap')"
                                                " AND status = 'requested' ORDER BY id", NULL);

  if (stmt == NULL)
    return;
  sqlite3_bind_int64 (stmt, 1, run->seen_id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    for (int i = 0; i < 3; i++)
      g_ptr_array_add (run->urgent, g_strdup ((const char *) sqlite3_column_text (stmt, i)));
  sqlite3_reset (stmt);
}

static void
run_thread (GTask        *task,
            gpointer      source,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Run *run = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = pd_store_open (run->path, &error);
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdHospitalLink) link = NULL;
  PdFhirClient *client;
  PdKb *kb = NULL;
  PdSyncStats stats = { 0 };
  gboolean ok;

  if (store == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  session = pd_session_clone (run->session, store, &error);
  client = session != NULL ? pd_fhir_client_new (run->config, &error) : NULL;
  if (client == NULL)
    {
      pd_store_close (store);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (run->seen_id < 0)
    run->seen_id = max_prescription_id (store);
  /* Without a knowledge base the queue gets no verdicts yet; the sync still runs. */
  kb = pd_kb_load_active (store, NULL);
  link = pd_hospital_link_new (session, client, kb);
  pd_hospital_link_set_pharmacy (link, run->config->fixmedins_code, run->config->fixmedins_name);
  ok = pd_hospital_link_sync (link, cancellable, progress_cb, source, &stats, &error);
  if (ok && stats.offline && error == NULL)
    {
      ok = FALSE;
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE, "%s", _("The hospital could not be reached"));
    }
  pd_sync_stats_clear (&stats);
  run->max_id = max_prescription_id (store);
  read_urgent (store, run);
  g_clear_pointer (&link, pd_hospital_link_free);
  g_clear_pointer (&kb, pd_kb_free);
  g_clear_object (&session);
  pd_store_close (store);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void start_run (PdSyncService *self);

static void
run_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  PdSyncService *self = PD_SYNC_SERVICE (object);
  Run *run = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  self->running = FALSE;
  self->runs++;
  g_clear_pointer (&self->error, g_free);
  if (!ok)
    {
      self->error = g_strdup (error->message);
      g_debug ("sync: %s", error->message);
    }
  pd_link_monitor_report_sync (self->monitor, PD_LINK_HOSPITAL, FALSE, 1.0);
  if (self->stopped)
    return;
  /* Offline is normal: the indicator shows it, nothing more. */
  if (!ok && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    pd_link_monitor_check_now (self->monitor);
  if (self->seen_id >= 0 || run->seen_id >= 0)
    for (guint i = 0; i + 2 < run->urgent->len; i += 3)
      g_signal_emit (self, signals[URGENT_ARRIVED], 0, run->urgent->pdata[i], run->urgent->pdata[i + 1], run->urgent->pdata[i + 2]);
  self->seen_id = MAX (run->max_id, MAX (run->seen_id, self->seen_id));
  g_signal_emit (self, signals[FINISHED], 0, ok);
  if (self->again)
    start_run (self);
}

static void
start_run (PdSyncService *self)
{
  g_autoptr(GTask) task = NULL;
  Run *run;

  if (self->stopped)
    return;
  if (self->running)
    {
      self->again = TRUE;
      return;
    }
  /* A locked desk does not talk to the hospital until it is unlocked. */
  if (pd_session_is_locked (self->session))
    return;
  self->again = FALSE;
  self->running = TRUE;
  run = g_new0 (Run, 1);
  run->session = g_object_ref (self->session);
  run->path = g_strdup (pd_store_get_path (pd_session_get_store (self->session)));
  run->config = self->config;
  run->seen_id = self->seen_id;
  run->urgent = g_ptr_array_new_with_free_func (g_free);
  pd_link_monitor_report_sync (self->monitor, PD_LINK_HOSPITAL, TRUE, -1.0);
  task = g_task_new (self, self->cancellable, run_done_cb, NULL);
  g_task_set_source_tag (task, start_run);
  g_task_set_task_data (task, run, run_free);
  g_task_run_in_thread (task, run_thread);
}

static gboolean
tick_cb (gpointer user_data)
{
  start_run (user_data);
  return G_SOURCE_CONTINUE;
}

static void
pd_sync_service_dispose (GObject *object)
{
  pd_sync_service_stop (PD_SYNC_SERVICE (object));
  G_OBJECT_CLASS (pd_sync_service_parent_class)->dispose (object);
}

static void
pd_sync_service_finalize (GObject *object)
{
  PdSyncService *self = PD_SYNC_SERVICE (object);

  g_clear_object (&self->session);
  g_clear_object (&self->monitor);
  g_clear_object (&self->cancellable);
  g_free (self->error);
  G_OBJECT_CLASS (pd_sync_service_parent_class)->finalize (object);
}

static void
pd_sync_service_class_init (PdSyncServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pd_sync_service_dispose;
  object_class->finalize = pd_sync_service_finalize;
  signals[FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                    G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  signals[URGENT_ARRIVED] = g_signal_new ("urgent-arrived", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
}

static void
pd_sync_service_init (PdSyncService *self)
{
  self->cancellable = g_cancellable_new ();
  self->seen_id = -1;
}

PdSyncService *
pd_sync_service_new (PdSession      *session,
                     const PdConfig *config,
                     PdLinkMonitor  *monitor)
{
  PdSyncService *self;

  g_return_val_if_fail (PD_IS_SESSION (session), NULL);
  if (config == NULL || config->hospital_url == NULL)
    return NULL;
  self = g_object_new (PD_TYPE_SYNC_SERVICE, NULL);
  self->session = g_object_ref (session);
  self->config = config;
  self->monitor = g_object_ref (monitor);
  return self;
}

void
pd_sync_service_start (PdSyncService *self,
                       guint          interval_s)
{
  g_return_if_fail (PD_IS_SYNC_SERVICE (self));
  g_clear_handle_id (&self->timer, g_source_remove);
  if (interval_s > 0)
    self->timer = g_timeout_add_seconds (interval_s, tick_cb, self);
  start_run (self);
}

void
pd_sync_service_sync_now (PdSyncService *self)
{
  g_return_if_fail (PD_IS_SYNC_SERVICE (self));
  start_run (self);
}

void
pd_sync_service_stop (PdSyncService *self)
{
  g_return_if_fail (PD_IS_SYNC_SERVICE (self));
  self->stopped = TRUE;
  g_clear_handle_id (&self->timer, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
pd_sync_service_is_running (PdSyncService *self)
{
  return self->running;
}

guint
pd_sync_service_get_runs (PdSyncService *self)
{
  return self->runs;
}

const char *
pd_sync_service_get_error (PdSyncService *self)
{
  return self->error;
}
