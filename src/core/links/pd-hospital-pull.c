/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "pd-hospital-pull"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <pthread.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-hospital-private.h"
#include "pd-patient-record.h"
#include "pd-rx-cache.h"

/* The pull of hospital.md's "Work queue": Task pages from the cursor
 * (`ge`, so equal timestamps across a page boundary are never lost),
 * skipping what the cache holds at the same (id, versionId); then, per
 * page, what the new Tasks need (pd-hospital-related.c); then one
 * transaction per page with the cursor. */

#define TASK_CODE "urn%3Apharmdesk%3Atask%7Crx-review"

/* One page of the queue, fetched with everything its Tasks need. */
typedef struct {
  PdJsonDoc       *body;       /* the searchset; holds the Tasks */
  GPtrArray       *tasks;      /* const PdJv* */
  GPtrArray       *news;       /* those of tasks the cache did not hold at that version when fetched */
  PdHospitalFound  found;
  GHashTable      *records;    /* "Patient/id" → PdPatientRecord* (the pull's) */
  GHashTable      *prepared;   /* const PdJv* task → PdRxPrepared* */
  char            *cursor;     /* the largest lastUpdated so far */
  char            *next;
  GError          *error;
} Page;

static Page *
page_new (void)
{
  Page *p = g_new0 (Page, 1);

  p->tasks = g_ptr_array_new ();
  p->news = g_ptr_array_new ();
  pd_hospital_found_init (&p->found);
  p->records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->prepared = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) pd_rx_prepared_free);
  return p;
}

static void
page_free (Page *p)
{
  g_hash_table_unref (p->prepared);
  g_clear_pointer (&p->body, pd_json_doc_unref);
  g_ptr_array_unref (p->tasks);
  g_ptr_array_unref (p->news);
  g_hash_table_unref (p->records);
  pd_hospital_found_clear (&p->found);
  g_free (p->cursor);
  g_free (p->next);
  g_clear_error (&p->error);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Page, page_free)

typedef struct {
  PdHospitalLink *link;
  GPtrArray      *tasks;       /* const PdJv*: the page's Tasks */
  GPtrArray      *fresh;       /* out: those the cache does not hold at that version */
  GHashTable     *prepared;
  const char     *cursor;
  PdSyncStats    *stats;
} PageJob;

static gboolean
read_fresh (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  PageJob *job = user_data;

  for (guint i = 0; i < job->tasks->len; i++)
    {
      const PdJv *task = job->tasks->pdata[i];
      g_autofree char *cached = pd_rx_cache_task_version (store, pd_jv_str (task, "id"));

      if (g_strcmp0 (cached, pd_jv_str (pd_jv_obj (task, "meta"), "versionId")) != 0)
        g_ptr_array_add (job->fresh, (gpointer) task);
    }
  return TRUE;
}

static gboolean
write_page (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  PageJob *job = user_data;
  PdSession *session = job->link->session;

  if (!read_fresh (store, job, error))
    return FALSE;
  for (guint i = 0; i < job->fresh->len; i++)
    {
      const PdJv *task = job->fresh->pdata[i];
      PdRxPrepared *prepared = g_hash_table_lookup (job->prepared, task);

      if (prepared == NULL)
        {
          g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_SERVER, _("Task/%s could not be read"),
                       pd_jv_str (task, "id") != NULL ? pd_jv_str (task, "id") : "?");
          return FALSE;
        }
      if (!pd_rx_cache_write (session, prepared, error))
        return FALSE;
      if (g_strcmp0 (pd_jv_str (task, "status"), "cancelled") == 0)
        {
          if (!pd_hospital_cancelled (session, pd_jv_str (task, "id"), error))
            return FALSE;
          job->stats->cancelled++;
        }
    }
  return pd_hospital_set_cursor (store, job->cursor, error);
}

static char *
read_cursor (PdStore *store)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT cursor FROM sync_cursor WHERE link = 'hospital'", NULL);
  char *cursor = NULL;

  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    cursor = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return cursor;
}

static gboolean
read_cursor_job (PdStore  *store,
                 gpointer  user_data,
                 GError  **error)
{
  *(char **) user_data = read_cursor (store);
  return TRUE;
}

/* The pull runs in three stages, each on its own thread, so that the
 * hospital's answers, our preparing and our storing overlap: fetching
 * (pages and what their Tasks need, and the pull's patient records),
 * preparing (assembling, sealing, the engine) and storing (one
 * transaction a page, in order). At most AHEAD pages are on their way. */
#define AHEAD 3

typedef struct {
  PdHospitalLink    *link;
  GCancellable      *cancellable;
  char              *first;
  char              *cursor;
  gint64             cursor_us;
  GAsyncQueue       *pages;      /* fetched → preparing */
  GAsyncQueue       *prepared;   /* prepared → storing */
  GMutex             lock;
  GCond              cond;
  guint              ahead;
  PdHospitalRecords  records;
  sqlite3           *reader;     /* the fetching thread's read-only connection, or NULL */
  sqlite3_stmt      *held;       /* on it: PD_RX_CACHE_TASK_VERSION_SQL */
} Fetcher;

/* Whether the cache holds the Task at this version already (its lines,
 * signatures and patient record need no fetching then; the storing
 * thread decides again, in its transaction). */
static gboolean
cached_already (Fetcher    *f,
                const PdJv *task)
{
  const char *version = pd_jv_str (pd_jv_obj (task, "meta"), "versionId");
  gboolean held;

  if (f->held == NULL || version == NULL || pd_jv_str (task, "id") == NULL)
    return FALSE;
  sqlite3_bind_text (f->held, 1, pd_jv_str (task, "id"), -1, SQLITE_STATIC);
  held = sqlite3_step (f->held) == SQLITE_ROW && g_strcmp0 ((const char *) sqlite3_column_text (f->held, 0), version) == 0;
  sqlite3_reset (f->held);
  sqlite3_clear_bindings (f->held);
  return held;
}

static Page *
fetch_page (Fetcher    *f,
            const char *url)
{
  Page *p = page_new ();
  PdFhirAnswer answer;
  const PdJv *bundle, *entries;

  if (!pd_fhir_client_read (f->link->client, url, &answer, f->cancellable, &p->error))
    return p;
  if (answer.status != 200 || pd_jv_type (answer.doc != NULL ? pd_json_doc_root (answer.doc) : NULL) != PD_JV_OBJECT)
    {
      g_autofree char *why = pd_fhir_answer_describe (&answer);

      g_set_error (&p->error, PD_LINK_ERROR, answer.status >= 500 ? PD_LINK_ERROR_SERVER : PD_LINK_ERROR_REFUSED,
                   _("The hospital refused the work-queue search: %s"), why);
      pd_fhir_answer_clear (&answer);
      return p;
    }
  p->body = g_steal_pointer (&answer.doc);
  pd_fhir_answer_clear (&answer);
  bundle = pd_json_doc_root (p->body);
  entries = pd_jv_arr (bundle, "entry");
  for (const PdJv *entry = pd_jv_first (entries); entry != NULL; entry = pd_jv_next (entries, entry))
    {
      const PdJv *task = pd_jv_obj (entry, "resource");
      const char *updated = pd_jv_str (pd_jv_obj (task, "meta"), "lastUpdated");
      gint64 us;

      if (g_strcmp0 (pd_jv_str (task, "resourceType"), "Task") != 0)
        continue;
      g_ptr_array_add (p->tasks, (gpointer) task);
      if (!cached_already (f, task))
        g_ptr_array_add (p->news, (gpointer) task);
      if (updated != NULL && pd_time_parse_fhir (updated, FALSE, &us) && us > f->cursor_us)
        {
          f->cursor_us = us;
          g_free (f->cursor);
          f->cursor = g_strdup (updated);
        }
    }
  p->cursor = g_strdup (f->cursor);
  p->next = g_strdup (pd_fhir_next_link (bundle));
  if (p->news->len > 0)
    pd_hospital_fetch_related (f->link, p->news, &p->found, &f->records, p->records, f->cancellable, &p->error);
  return p;
}

/* Assembling, sealing and the engine: no database, so outside the
 * storing thread's transaction. */
static gboolean
prepare_page (PdHospitalLink *link,
              Page           *p,
              GError        **error)
{
  for (guint i = 0; i < p->news->len; i++)
    {
      char *bundle = pd_hospital_assemble (p->news->pdata[i], &p->found, p->records);
      PdRxPrepared *prepared = pd_rx_cache_prepare (link->session, link->kb, p->body, p->news->pdata[i], bundle, error);

      if (prepared == NULL)
        return FALSE;
      g_hash_table_insert (p->prepared, p->news->pdata[i], prepared);
    }
  return TRUE;
}

static gpointer
fetcher_main (gpointer data)
{
  Fetcher *f = data;
  g_autofree char *url = g_strdup (f->first);

  /* Named for top, perf and the sync bench (GLib 2.74 does not). */
  pthread_setname_np (pthread_self (), "pd-pull-fetch");
  while (url != NULL)
    {
      Page *p;

      g_mutex_lock (&f->lock);
      while (f->ahead >= AHEAD && !g_cancellable_is_cancelled (f->cancellable))
        g_cond_wait (&f->cond, &f->lock);
      f->ahead++;
      g_mutex_unlock (&f->lock);
      p = fetch_page (f, url);
      g_free (url);
      url = p->error == NULL ? g_strdup (p->next) : NULL;
      g_async_queue_push (f->pages, p);
    }
  return NULL;
}

/* The preparing stage: every page passes through, the last one too. */
static gpointer
preparer_main (gpointer data)
{
  Fetcher *f = data;
  gboolean last = FALSE;

  pthread_setname_np (pthread_self (), "pd-pull-prepare");
  while (!last)
    {
      Page *p = g_async_queue_pop (f->pages);

      last = p->error != NULL || p->next == NULL;
      if (p->error == NULL && !g_cancellable_is_cancelled (f->cancellable))
        prepare_page (f->link, p, &p->error);
      g_async_queue_push (f->prepared, p);
    }
  return NULL;
}

static void
fetcher_took_one (Fetcher *f)
{
  g_mutex_lock (&f->lock);
  f->ahead--;
  g_cond_signal (&f->cond);
  g_mutex_unlock (&f->lock);
}

static void
stop_fetcher (Fetcher *f)
{
  g_mutex_lock (&f->lock);
  g_cancellable_cancel (f->cancellable);
  g_cond_signal (&f->cond);
  g_mutex_unlock (&f->lock);
}

static void
cancel_own (GCancellable *outer,
            gpointer      own)
{
  g_cancellable_cancel (own);
}

gboolean
pd_hospital_link_pull (PdHospitalLink     *link,
                       GCancellable       *cancellable,
                       PdSyncProgressFunc  progress,
                       gpointer            user_data,
                       PdSyncStats        *stats,
                       GError            **error)
{
  PdStore *store = pd_session_get_store (link->session);
  g_autoptr(GCancellable) own = g_cancellable_new ();
  g_autofree char *cursor = NULL;
  Fetcher f = { link, own };
  GThread *thread, *preparer;
  gulong handler = 0;
  gboolean ok = TRUE;

  if (!pd_store_write (store, read_cursor_job, &cursor, error))
    return FALSE;
  f.cursor_us = G_MININT64;
  if (cursor != NULL)
    pd_time_parse_fhir (cursor, FALSE, &f.cursor_us);
  f.cursor = g_strdup (cursor);
  {
    g_autofree char *escaped = g_uri_escape_string (cursor != NULL ? cursor : "1970-01-01T00:00:00Z", NULL, FALSE);

    f.first = g_strconcat ("Task?code=" TASK_CODE "&_lastUpdated=ge", escaped, "&_sort=_lastUpdated&_count=100", NULL);
  }
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (cancel_own), own, NULL);
  f.pages = g_async_queue_new ();
  f.records.latest = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f.records.made = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_patient_record_free);
  g_mutex_init (&f.lock);
  g_cond_init (&f.cond);
  f.prepared = g_async_queue_new ();
  /* Without it every Task is fetched in full: slower, not wrong. */
  f.reader = pd_store_open_reader (store, NULL);
  if (f.reader != NULL
      && sqlite3_prepare_v2 (f.reader, PD_RX_CACHE_TASK_VERSION_SQL, -1, &f.held, NULL) != SQLITE_OK)
    g_clear_pointer (&f.held, sqlite3_finalize);
  thread = g_thread_new ("pd-hospital-fetch", fetcher_main, &f);
  preparer = g_thread_new ("pd-hospital-prep", preparer_main, &f);

  for (;;)
    {
      g_autoptr(Page) p = g_async_queue_pop (f.prepared);
      g_autoptr(GPtrArray) fresh = g_ptr_array_new ();
      PageJob job = { link, p->tasks, fresh, p->prepared, p->cursor, stats };
      gboolean last = p->error != NULL || p->next == NULL;

      fetcher_took_one (&f);
      /* Cancelled: nothing more is stored, whatever was fetched ahead. */
      if (ok && g_cancellable_set_error_if_cancelled (own, error))
        {
          ok = FALSE;
          stop_fetcher (&f);
        }
      if (ok && p->error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&p->error));
          ok = FALSE;
          stop_fetcher (&f);
        }
      if (ok)
        {
          stats->pages++;
          stats->tasks_seen += p->tasks->len;
          if (!pd_store_write (store, write_page, &job, error))
            {
              ok = FALSE;
              stop_fetcher (&f);
            }
          else
            {
              stats->stored += fresh->len;
              g_free (stats->cursor);
              stats->cursor = g_strdup (p->cursor);
              if (progress != NULL)
                progress (stats, user_data);
            }
        }
      if (last)
        break;
    }
  g_thread_join (thread);
  g_thread_join (preparer);
  /* Pages fetched after a failure of ours. */
  {
    Page *rest;

    while ((rest = g_async_queue_try_pop (f.pages)) != NULL)
      page_free (rest);
    while ((rest = g_async_queue_try_pop (f.prepared)) != NULL)
      page_free (rest);
  }
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  g_async_queue_unref (f.pages);
  g_clear_pointer (&f.held, sqlite3_finalize);
  sqlite3_close (f.reader);
  g_async_queue_unref (f.prepared);
  /* Only now: the pages read them until the last one is stored. */
  g_hash_table_unref (f.records.latest);
  g_ptr_array_unref (f.records.made);
  g_mutex_clear (&f.lock);
  g_cond_clear (&f.cond);
  g_free (f.first);
  g_free (f.cursor);
  return ok;
}
