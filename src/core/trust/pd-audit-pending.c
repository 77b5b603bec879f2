/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-audit-pending"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>
#include <string.h>

#include "pd-audit-pending.h"
#include "pd-audit-private.h"
#include "pd-clock.h"

/* The keyring's mark: "SEQ:HEX-OF-LAST-HASH" for one database, found by
 * the database's audit id (store_meta), so that a copy of the file moved
 * elsewhere is still held against the same mark. */
static const SecretSchema mark_schema = {
  "io.github.pharmdesk.PharmDesk.AuditPending", SECRET_SCHEMA_NONE,
  {
    { "database", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  },
};

/* A hash chain, not a seal: nothing secret is at hand before a sign-in.
 * What makes it hold is the mark kept outside the database. */
static const guint8 chain_key[PD_KEY_SIZE] = { 0 };

#define KEYRING_TIMEOUT_US (3 * G_USEC_PER_SEC)

typedef struct {
  gboolean reachable;
  gboolean found;
  gint64   seq;
  guint8   mac[PD_KEY_SIZE];
} Mark;

typedef struct {
  GMutex        lock;
  GCond         cond;
  gboolean      done;
  GCancellable *cancellable;
} Watchdog;

/* A keyring that does not answer (no Secret Service, a prompt nobody can
 * see) must not hold up a sign-in: every call is cancelled after a while. */
static gpointer
watchdog_run (gpointer data)
{
  Watchdog *w = data;
  gint64 deadline = g_get_monotonic_time () + KEYRING_TIMEOUT_US;

  g_mutex_lock (&w->lock);
  while (!w->done)
    if (!g_cond_wait_until (&w->cond, &w->lock, deadline))
      {
        g_cancellable_cancel (w->cancellable);
        break;
      }
  g_mutex_unlock (&w->lock);
  return NULL;
}

static GThread *
watchdog_start (Watchdog *w)
{
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->done = FALSE;
  w->cancellable = g_cancellable_new ();
  return g_thread_new ("pd-keyring-watchdog", watchdog_run, w);
}

static void
watchdog_stop (Watchdog *w,
               GThread  *thread)
{
  g_mutex_lock (&w->lock);
  w->done = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
  g_thread_join (thread);
  g_clear_object (&w->cancellable);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
}

/* Only a session bus that is already there: no autolaunch, no prompt. */
static gboolean
keyring_reachable (void)
{
  const char *bus = g_getenv ("DBUS_SESSION_BUS_ADDRESS");

  return bus != NULL && *bus != '\0';
}

static char *
audit_id (PdStore *store)
{
  return pd_store_get_meta (store, "audit_id");
}

static void
mark_read (PdStore *store,
           Mark    *mark)
{
  g_autofree char *id = audit_id (store);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  Watchdog w;
  GThread *t;

  memset (mark, 0, sizeof *mark);
  if (id == NULL || !keyring_reachable ())
    return;
  t = watchdog_start (&w);
  text = secret_password_lookup_sync (&mark_schema, w.cancellable, &error, "database", id, NULL);
  watchdog_stop (&w, t);
  if (error != NULL)
    {
      g_debug ("keyring lookup: %s", error->message);
      return;
    }
  mark->reachable = TRUE;
  if (text != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (text, ":", 2);
      gsize len = 0;
      g_autofree guint8 *mac = NULL;

      if (g_strv_length (parts) == 2)
        {
          mac = (guint8 *) g_base64_decode (parts[1], &len);
          mark->seq = g_ascii_strtoll (parts[0], NULL, 10);
        }
      mark->found = TRUE;
      if (len == PD_KEY_SIZE)
        memcpy (mark->mac, mac, PD_KEY_SIZE);
    }
}

/* Into the default collection only when it is there and open: creating or
 * unlocking one would need a prompt. */
static void
mark_write (PdStore      *store,
            gint64        seq,
            const guint8 *mac)
{
  g_autofree char *id = audit_id (store);
  g_autofree char *mac_b64 = g_base64_encode (mac, PD_KEY_SIZE);
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", seq, mac_b64);
  g_autofree char *label = g_strdup_printf ("PharmDesk audit (%s)", id);
  g_autoptr(SecretService) service = NULL;
  g_autoptr(SecretCollection) collection = NULL;
  g_autoptr(GError) error = NULL;
  Watchdog w;
  GThread *t;

  if (id == NULL || !keyring_reachable ())
    return;
  t = watchdog_start (&w);
  service = secret_service_get_sync (SECRET_SERVICE_NONE, w.cancellable, &error);
  if (service != NULL)
    collection = secret_collection_for_alias_sync (service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE,
                                                   w.cancellable, &error);
  if (collection != NULL && !secret_collection_get_locked (collection))
    secret_password_store_sync (&mark_schema, g_dbus_proxy_get_object_path (G_DBUS_PROXY (collection)),
                                label, text, w.cancellable, &error, "database", id, NULL);
  watchdog_stop (&w, t);
  if (error != NULL)
    g_debug ("keyring store: %s", error->message);
}

static void
pending_mac (const guint8 *prev,
             gsize         prev_len,
             gint64        seq,
             const char  **fields,   /* at, actor, action, object_type, object_uuid, outcome, detail, clock_at */
             guint8        out[PD_KEY_SIZE])
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  char number[32];

  g_byte_array_append (buf, prev, prev_len);
  g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, seq);
  pd_audit_put_field (buf, number);
  for (int i = 0; i < 8; i++)
    pd_audit_put_field (buf, fields[i]);
  pd_crypto_hmac (chain_key, "audit pending", buf->data, buf->len, out);
}

typedef struct {
  const PdAuditEntry *entry;
  PdStoreWriteFunc    also;
  gpointer            also_data;
  gint64              seq;
  guint8              mac[PD_KEY_SIZE];
} AddJob;

static gboolean
write_pending (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  AddJob *job = user_data;
  const PdAuditEntry *e = job->entry;
  sqlite3_stmt *head = pd_store_prepare (store, "SELECT pending_seq, pending_mac FROM audit_head WHERE id = 1", error);
  sqlite3_stmt *ins;
  sqlite3_stmt *upd;
  g_autofree char *at = pd_time_format_iso (pd_clock_real_now_us ());
  g_autofree char *clock_at = NULL;
  g_autofree char *id = audit_id (store);
  g_autofree guint8 *prev = NULL;
  gsize prev_len = 0;
  char actor[32];
  const char *fields[8];

  if (head == NULL)
    return FALSE;
  if (sqlite3_step (head) != SQLITE_ROW)
    {
      sqlite3_reset (head);
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT, "%s", _("The audit trail has no head row"));
      return FALSE;
    }
  job->seq = sqlite3_column_int64 (head, 0) + 1;
  prev_len = sqlite3_column_bytes (head, 1);
  prev = g_memdup2 (sqlite3_column_blob (head, 1), prev_len);
  sqlite3_reset (head);

  if (id == NULL)
    {
      id = g_uuid_string_random ();
      if (!pd_store_set_meta (store, "audit_id", id, error))
        return FALSE;
    }
  if (pd_store_get_settable_clock (store))
    clock_at = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  g_snprintf (actor, sizeof actor, "%" G_GINT64_FORMAT, e->actor_id);
  fields[0] = at;
  fields[1] = e->actor_id > 0 ? actor : NULL;
  fields[2] = e->action;
  fields[3] = e->object_type;
  fields[4] = e->object_uuid;
  fields[5] = e->outcome != NULL ? e->outcome : "ok";
  fields[6] = e->detail;
  fields[7] = clock_at;
  pending_mac (prev, prev_len, job->seq, fields, job->mac);

  ins = pd_store_prepare (store,
    "INSERT INTO audit_pending (seq, at, actor_id, action, object_type, object_uuid, outcome, detail, clock_at, mac)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (ins == NULL)
    return FALSE;
  sqlite3_bind_int64 (ins, 1, job->seq);
  for (int i = 0; i < 8; i++)
    if (i == 1 && fields[1] != NULL)
      sqlite3_bind_int64 (ins, 3, e->actor_id);
    else if (i != 1)
      sqlite3_bind_text (ins, i + 2, fields[i], -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob (ins, 10, job->mac, PD_KEY_SIZE, SQLITE_TRANSIENT);
  if (!pd_store_step_done (store, ins, error))
    return FALSE;
  upd = pd_store_prepare (store, "UPDATE audit_head SET pending_seq = ?, pending_mac = ? WHERE id = 1", error);
  if (upd == NULL)
    return FALSE;
  sqlite3_bind_int64 (upd, 1, job->seq);
  sqlite3_bind_blob (upd, 2, job->mac, PD_KEY_SIZE, SQLITE_TRANSIENT);
  return pd_store_step_done (store, upd, error) && (job->also == NULL || job->also (store, job->also_data, error));
}

/* Outside a transaction of the caller's: its own (with `also`, the change
 * the row records), then the keyring. */
gboolean
pd_audit_pending_add (PdStore            *store,
                      const PdAuditEntry *entry,
                      PdStoreWriteFunc    also,
                      gpointer            also_data,
                      GError            **error)
{
  AddJob job = { entry, also, also_data };

  if (!pd_store_write (store, write_pending, &job, error))
    return FALSE;
  mark_write (store, job.seq, job.mac);
  return TRUE;
}

typedef struct {
  gint64  seq;
  char   *fields[8];
} PendingRow;

static void
pending_row_free (gpointer data)
{
  PendingRow *r = data;

  for (int i = 0; i < 8; i++)
    g_free (r->fields[i]);
  g_free (r);
}

/* Walks the waiting rows from the last sealed position to the head;
 * returns the rows (when asked) and what was wrong, in words, or NULL. */
static char *
walk_pending (PdStore    *store,
              GPtrArray  *rows_out,
              gint64     *head_seq,
              guint8      head_mac[PD_KEY_SIZE])
{
  sqlite3_stmt *head = pd_store_prepare (store,
    "SELECT pending_seq, pending_mac, sealed_pending_seq, sealed_pending_mac, legacy_pending FROM audit_head WHERE id = 1", NULL);
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT seq, at, actor_id, action, object_type, object_uuid, outcome, detail, clock_at, mac, typeof (actor_id)"
    " FROM audit_pending ORDER BY seq IS NOT NULL, seq, id", NULL);
  guint8 prev[PD_KEY_SIZE] = { 0 };
  gsize prev_len = 0;
  gint64 expected, last, legacy;
  char *problem = NULL;

  if (head == NULL || stmt == NULL || sqlite3_step (head) != SQLITE_ROW)
    {
      if (head != NULL)
        sqlite3_reset (head);
      return g_strdup (_("The audit trail’s head row is missing"));
    }
  last = sqlite3_column_int64 (head, 0);
  memset (head_mac, 0, PD_KEY_SIZE);
  if (sqlite3_column_bytes (head, 1) == PD_KEY_SIZE)
    memcpy (head_mac, sqlite3_column_blob (head, 1), PD_KEY_SIZE);
  *head_seq = last;
  expected = sqlite3_column_int64 (head, 2) + 1;
  if (sqlite3_column_bytes (head, 3) == PD_KEY_SIZE)
    {
      memcpy (prev, sqlite3_column_blob (head, 3), PD_KEY_SIZE);
      prev_len = PD_KEY_SIZE;
    }
  legacy = sqlite3_column_int64 (head, 4);
  sqlite3_reset (head);

  while (problem == NULL && sqlite3_step (stmt) == SQLITE_ROW)
    {
      PendingRow *r = g_new0 (PendingRow, 1);
      guint8 mac[PD_KEY_SIZE];
      const char *type = (const char *) sqlite3_column_text (stmt, 10);

      r->seq = sqlite3_column_int64 (stmt, 0);
      for (int i = 0; i < 8; i++)
        r->fields[i] = g_strdup ((const char *) sqlite3_column_text (stmt, i + 1));
      if (sqlite3_column_type (stmt, 0) == SQLITE_NULL)
        {
          if (legacy-- <= 0)
            problem = g_strdup (_("A row waiting for a sign-in is outside the chain: it was planted"));
          if (rows_out != NULL)
            g_ptr_array_add (rows_out, r);
          else
            pending_row_free (r);
          continue;
        }
      if (r->seq != expected)
        problem = g_strdup_printf (_("Waiting audit row %lld is missing or out of place (found row %lld)"),
                                   (long long) expected, (long long) r->seq);
      else
        {
          pending_mac (prev, prev_len, r->seq, (const char **) r->fields, mac);
          if (sqlite3_column_bytes (stmt, 9) != PD_KEY_SIZE || memcmp (sqlite3_column_blob (stmt, 9), mac, PD_KEY_SIZE) != 0
              || (g_strcmp0 (type, "null") != 0 && g_strcmp0 (type, "integer") != 0))
            problem = g_strdup_printf (_("Waiting audit row %lld was altered: its hash does not match"), (long long) r->seq);
          memcpy (prev, mac, PD_KEY_SIZE);
          prev_len = PD_KEY_SIZE;
        }
      expected++;
      if (rows_out != NULL)
        g_ptr_array_add (rows_out, r);
      else
        pending_row_free (r);
    }
  sqlite3_reset (stmt);
  if (problem == NULL && (expected - 1 != last || (last > 0 && memcmp (prev, head_mac, PD_KEY_SIZE) != 0)))
    problem = g_strdup_printf (_("The rows waiting for a sign-in end at %lld, but the trail’s head counts %lld: rows were removed or the head was altered"),
                               (long long) (expected - 1), (long long) last);
  return problem;
}

static char *
compare_mark (const Mark   *mark,
              gint64        seq,
              const guint8 *mac)
{
  if (!mark->found || (mark->seq == seq && (seq == 0 || memcmp (mark->mac, mac, PD_KEY_SIZE) == 0)))
    return NULL;
  if (mark->seq > seq)
    return g_strdup_printf (_("The keyring counts %lld rows written before a sign-in, the database only %lld: rows were removed"),
                            (long long) mark->seq, (long long) seq);
  if (mark->seq < seq)
    return g_strdup_printf (_("The database counts %lld rows written before a sign-in, the keyring only %lld: rows were planted"),
                            (long long) seq, (long long) mark->seq);
  return g_strdup_printf (_("The rows written before a sign-in differ from what the keyring holds (at row %lld): rows were replaced"),
                          (long long) seq);
}

typedef struct {
  const PdAuditKeys *keys;
  const Mark        *mark;
  PdStoreWriteFunc   also;
  gpointer           also_data;
  gboolean           remark;
  gint64             seq;
  guint8             mac[PD_KEY_SIZE];
} SealJob;

static gboolean
seal_rows (PdStore  *store,
           SealJob  *job,
           GError  **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (pending_row_free);
  g_autofree char *problem = walk_pending (store, rows, &job->seq, job->mac);
  g_autofree char *mark_problem = problem == NULL ? compare_mark (job->mark, job->seq, job->mac) : NULL;
  sqlite3_stmt *upd;

  for (guint i = 0; i < rows->len; i++)
    {
      PendingRow *r = rows->pdata[i];
      PdAuditEntry e = { r->fields[1] != NULL ? g_ascii_strtoll (r->fields[1], NULL, 10) : 0,
                         r->fields[2], r->fields[3], r->fields[4], r->fields[5], r->fields[6],
                         r->fields[0], r->fields[7] };

      if (e.action == NULL || !pd_audit_append (store, job->keys, &e, error))
        {
          if (e.action == NULL && problem == NULL)
            problem = g_strdup_printf (_("Waiting audit row %lld has no action"), (long long) r->seq);
          if (e.action != NULL)
            return FALSE;
        }
    }
  if (problem != NULL || mark_problem != NULL)
    {
      PdAuditEntry e = { 0, "audit.pending-tampered", "audit", NULL, "failed",
                         problem != NULL ? problem : mark_problem, NULL, NULL };

      if (!pd_audit_append (store, job->keys, &e, error))
        return FALSE;
      job->remark = job->mark->reachable;
    }
  upd = pd_store_prepare (store, "UPDATE audit_head SET sealed_pending_seq = pending_seq, sealed_pending_mac = pending_mac, legacy_pending = 0 WHERE id = 1", error);
  return upd != NULL && pd_store_step_done (store, upd, error) && pd_store_exec (store, "DELETE FROM audit_pending", error);
}

static gboolean
write_seal (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  SealJob *job = user_data;

  return seal_rows (store, job, error) && (job->also == NULL || job->also (store, job->also_data, error));
}

/* At a sign-in, in one transaction with `also` (the sign-in's own rows):
 * the waiting rows go into the trail with their own times; what was
 * planted or removed is said in a row of its own, and the keyring's mark
 * then follows the database again. The keyring is read before, outside
 * the transaction. */
gboolean
pd_audit_pending_seal (PdStore           *store,
                       const PdAuditKeys *keys,
                       PdStoreWriteFunc   also,
                       gpointer           also_data,
                       GError           **error)
{
  Mark mark;
  SealJob job = { keys, &mark, also, also_data, FALSE };

  mark_read (store, &mark);
  if (!pd_store_write (store, write_seal, &job, error))
    return FALSE;
  if (job.remark || (mark.reachable && !mark.found && job.seq > 0))
    mark_write (store, job.seq, job.mac);
  return TRUE;
}

/* For `audit verify`: the waiting rows' chain, the keyring's mark, and any
 * tampering a sign-in found before. */
void
pd_audit_pending_check (PdStore       *store,
                        PdAuditReport *report)
{
  sqlite3_stmt *found = pd_store_prepare (store,
    "SELECT seq, detail FROM audit_event WHERE action = 'audit.pending-tampered' ORDER BY seq LIMIT 1", NULL);
  g_autofree char *problem = NULL;
  Mark mark;
  gint64 seq = 0;
  guint8 mac[PD_KEY_SIZE];

  if (found != NULL && sqlite3_step (found) == SQLITE_ROW)
    {
      gint64 at_row = sqlite3_column_int64 (found, 0);

      report->ok = FALSE;
      report->first_bad_seq = at_row;
      report->problem = g_strdup_printf (_("At audit row %lld a sign-in found the rows written before it tampered with: %s"),
                                         (long long) at_row, (const char *) sqlite3_column_text (found, 1));
      sqlite3_reset (found);
      return;
    }
  if (found != NULL)
    sqlite3_reset (found);

  problem = walk_pending (store, NULL, &seq, mac);
  if (problem == NULL)
    {
      mark_read (store, &mark);
      report->pending_checked = mark.found;
      if (!mark.reachable)
        report->pending_note = g_strdup (_("The rows written before a sign-in were not checked against the keyring: no keyring could be reached"));
      else if (!mark.found && seq > 0)
        report->pending_note = g_strdup (_("The rows written before a sign-in were not checked against the keyring: it holds no mark for this database"));
      problem = compare_mark (&mark, seq, mac);
    }
  if (problem != NULL)
    {
      report->ok = FALSE;
      report->first_bad_seq = 0;
      report->problem = g_steal_pointer (&problem);
    }
}
