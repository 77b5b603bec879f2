/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "test-hospital-link"

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-clock.h"
#include "pd-hospital-link.h"
#include "pd-kb-store.h"
#include "pd-outbox.h"
#include "pd-review-decision.h"
#include "pd-rx-cache.h"
#include "pd-store.h"
#include "sandbox-harness.h"

/* The hospital link against the real sandbox over loopback: pulling the
 * queue, paging, claims by two desks, decisions queued offline and sent on
 * reconnect, cancellations, faults, and a client killed mid-sync. */

typedef struct {
  char           *path;
  PdStore        *store;
  PdSession      *session;     /* the pharmacist */
  PdKb           *kb;
  PdHospitalLink *link;
} Desk;

static void desk_connect (Desk *d, Sandbox *sb, GPtrArray *urls);

static void
desk_open (Desk       *d,
           Sandbox    *sb,
           const char *name,
           const char *practitioner,
           const char *licence)
{
  PdAccountSpec admin = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec pharmacist = { "ph", "药师", PD_ROLE_PHARMACIST, licence, practitioner, NULL };
  g_autofree char *kb_dir = g_build_filename (g_getenv ("PHARMDESK_DATADIR"), "kb", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *recovery = NULL;
  g_autoptr(PdSession) boss = NULL;

  d->path = g_build_filename (state_root, name, NULL);
  d->store = pd_store_open (d->path, &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_init (d->store, &admin, "admin-password", &recovery, &error));
  boss = pd_session_sign_in (d->store, "admin", "admin-password", &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_add (boss, &pharmacist, "pharmacist-password", &error));
  g_assert_true (pd_kb_import (boss, kb_dir, NULL, &error));
  g_assert_no_error (error);
  d->session = pd_session_sign_in (d->store, "ph", "pharmacist-password", &error);
  g_assert_no_error (error);
  d->kb = pd_kb_load_active (d->store, &error);
  g_assert_no_error (error);
  desk_connect (d, sb, NULL);
}

/* A new link to the sandbox; with urls, every GET's URL goes there. */
static void
desk_connect (Desk      *d,
              Sandbox   *sb,
              GPtrArray *urls)
{
  g_autoptr(GError) error = NULL;
  PdFhirClient *client = pd_fhir_client_new (sb->config, &error);

  g_assert_no_error (error);
  pd_fhir_client_set_retry (client, 3, 50);
  if (urls != NULL)
    pd_fhir_client_log_gets (client, urls);
  g_clear_pointer (&d->link, pd_hospital_link_free);
  d->link = pd_hospital_link_new (d->session, client, d->kb);
}

static void
desk_close (Desk *d)
{
  g_clear_pointer (&d->link, pd_hospital_link_free);
  g_clear_object (&d->session);
  g_clear_pointer (&d->kb, pd_kb_free);
  if (d->store != NULL)
    pd_store_close (d->store);
  g_clear_object (&d->store);
  g_clear_pointer (&d->path, g_free);
}

static gint64
db_count (Desk       *d,
          const char *sql)
{
  sqlite3_stmt *stmt = pd_store_prepare (d->store, sql, NULL);
  gint64 n;

  g_assert_nonnull (stmt);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

static char *
db_text (Desk       *d,
         const char *sql)
{
  sqlite3_stmt *stmt = pd_store_prepare (d->store, sql, NULL);
  char *text = NULL;

  g_assert_nonnull (stmt);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return text;
}

static void
sync_ok (Desk        *d,
         PdSyncStats *stats)
{
  g_autoptr(GError) error = NULL;

  pd_sync_stats_clear (stats);
  if (!pd_hospital_link_sync (d->link, NULL, NULL, NULL, stats, &error))
    g_error ("sync: %s", error->message);
}

/* A count read straight from a database file another process writes. */
static gint64
file_count (const char *path,
            const char *sql)
{
  sqlite3 *h = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n = 0;

  if (sqlite3_open_v2 (path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
      && sqlite3_busy_timeout (h, 1000) == SQLITE_OK
      && sqlite3_prepare_v2 (h, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (h);
  return n;
}

/* The sandbox's count of something, through its own database. */
static gint64
server_count (const char *state,
              const char *sql)
{
  return count_rows (state, sql);
}

/* A pass prescription of the cache: no finding the pharmacist must answer. */
static char *
pick (Desk       *d,
      const char *where)
{
  g_autofree char *sql = g_strdup_printf ("SELECT uuid FROM prescription WHERE %s ORDER BY authored_at, id LIMIT 1", where);

  return db_text (d, sql);
}

/* --- tests -------------------------------------------------------------------------------- */

static guint searches_of (GPtrArray *urls, const char *type);

static void
test_pull (void)
{
  g_autofree char *state = new_state ("pull");
  Sandbox sb;
  Desk d = { 0 };
  g_auto(PdSyncStats) s = { 0 };
  gint64 tasks;
  g_autofree char *raw = NULL;
  gsize raw_len = 0;
  g_autofree char *name = NULL;
  g_autoptr(GPtrArray) urls = NULL;

  sandbox_start (&sb, state, "--control", "--arrival-every", "0", NULL);
  desk_open (&d, &sb, "pull.db", "Practitioner/ph-1", "YS-110105-0001");
  sync_ok (&d, &s);
  tasks = server_count (state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'Task'");
  g_assert_cmpint (tasks, >, 10);
  g_assert_cmpint (s.stored, ==, tasks);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM prescription"), ==, tasks);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM prescription WHERE verdict IS NULL"), ==, 0);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM prescription WHERE verdict = 'pass'"), >, 0);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM prescription WHERE has_block = 1"), >, 0);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM prescription_line"), >=, tasks);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM prescription WHERE patient_name_sealed IS NULL"), ==, 0);
  {
    g_autofree char *cursor = db_text (&d, "SELECT cursor FROM sync_cursor WHERE link = 'hospital'");

    g_assert_nonnull (cursor);
  }

  /* What the cache keeps of each prescription is enough for every rule:
   * reviewing the cached Bundles finds every finding code the demo
   * prescriptions were written to raise (reuse needs a dispensing). */
  {
    static const char *codes[] = {
      "prescriber-unqualified", "first-visit-online", "prescription-expired", "too-many-drugs", "missing-element",
      "signature-missing", "prescriber-no-authority", "special-drug-online", "supply-too-long", "dose-exceeds-max",
      "dose-unverifiable", "route-mismatch", "allergy", "allergy-unverifiable", "population-contraindication",
      "indication-mismatch", "skin-test-required", "unknown-drug", "duplicate-therapy", "drug-interaction",
    };
    g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
    sqlite3_stmt *stmt = pd_store_prepare (d.store, "SELECT uuid FROM prescription", NULL);
    g_autoptr(GPtrArray) uuids = g_ptr_array_new_with_free_func (g_free);

    while (sqlite3_step (stmt) == SQLITE_ROW)
      g_ptr_array_add (uuids, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
    sqlite3_reset (stmt);
    for (guint i = 0; i < uuids->len; i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(PdReviewContext) c = pd_review_context_load (d.session, d.kb, uuids->pdata[i], &error);

        g_assert_no_error (error);
        for (guint f = 0; f < c->review->findings->len; f++)
          g_hash_table_add (seen, (gpointer) ((PdFinding *) c->review->findings->pdata[f])->code);
      }
    for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
      if (!g_hash_table_contains (seen, codes[i]))
        g_error ("no cached prescription raises %s", codes[i]);
  }

  /* Nothing new: nothing stored again, and nothing fetched for the Tasks
   * at the cursor that come again (ge): only the work-queue search. */
  urls = g_ptr_array_new_with_free_func (g_free);
  desk_connect (&d, &sb, urls);
  sync_ok (&d, &s);
  g_assert_cmpint (s.stored, ==, 0);
  g_assert_cmpint (s.tasks_seen, >=, 1);
  g_assert_cmpuint (searches_of (urls, "Task"), ==, 1);
  g_assert_cmpuint (urls->len, ==, 1);

  /* No patient's name in clear in the file. */
  name = query_text (state, "SELECT name FROM person ORDER BY id LIMIT 1");
  {
    g_autofree char *path = g_strdup (d.path);

    desk_close (&d);
    g_assert_true (g_file_get_contents (path, &raw, &raw_len, NULL));
    g_assert_null (memmem (raw, raw_len, name, strlen (name)));
  }
  sandbox_stop (&sb, SIGTERM);
}

/* Overrides answering every finding a pharmacist must answer. */
static GHashTable *
answer_all (Desk       *d,
            const char *rx_uuid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdReviewContext) c = pd_review_context_load (d->session, d->kb, rx_uuid, &error);
  GHashTable *overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_assert_no_error (error);
  for (guint i = 0; i < c->review->findings->len; i++)
    {
      const PdFinding *f = c->review->findings->pdata[i];

      if (f->severity == PD_SEVERITY_MAJOR)
        g_hash_table_insert (overrides, pd_finding_key (f), g_strdup ("prescriber-confirmed: 已电话确认"));
      else if (f->severity == PD_SEVERITY_MODERATE)
        g_hash_table_insert (overrides, pd_finding_key (f), g_strdup ("acknowledge"));
    }
  return overrides;
}

static char *
decide (Desk       *d,
        const char *rx_uuid)
{
  g_autoptr(GHashTable) overrides = answer_all (d, rx_uuid);
  g_autoptr(GError) error = NULL;
  char *uuid = pd_review_decide (d->session, d->kb, rx_uuid, "approve", overrides, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (uuid);
  return uuid;
}

static void
push (Desk        *d,
      PdSyncStats *stats)
{
  g_autoptr(GError) error = NULL;

  pd_sync_stats_clear (stats);
  if (!pd_hospital_link_push (d->link, NULL, stats, &error))
    g_error ("push: %s", error->message);
}

static char *
outbox_state (Desk       *d,
              const char *operation,
              const char *rx_uuid)
{
  g_autofree char *sql = g_strdup_printf ("SELECT state FROM outbox WHERE operation = '%s' AND subject_uuid = '%s'"
                                          " ORDER BY id DESC LIMIT 1", operation, rx_uuid);

  return db_text (d, sql);
}

typedef struct {
  Desk        *desk;
  PdSyncStats  stats;
} PushThread;

static gpointer
push_thread (gpointer data)
{
  PushThread *t = data;

  push (t->desk, &t->stats);
  return NULL;
}

/* Two desks claim one prescription at once: exactly one holds it. */
static void
test_claim_race (void)
{
  g_autofree char *state = new_state ("race");
  Sandbox sb;
  Desk a = { 0 }, b = { 0 };
  g_auto(PdSyncStats) s = { 0 };
  g_autofree char *rx_a = NULL;
  g_autofree char *number = NULL;
  g_autofree char *rx_b = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(GError) error = NULL;
  PushThread ta = { 0 }, tb = { 0 };
  GThread *threads[2];
  g_autofree char *state_a = NULL;
  g_autofree char *state_b = NULL;
  g_autofree char *error_b = NULL;

  sandbox_start (&sb, state, "--control", "--arrival-every", "0", NULL);
  desk_open (&a, &sb, "race-a.db", "Practitioner/ph-1", "YS-110105-0001");
  desk_open (&b, &sb, "race-b.db", "Practitioner/ph-2", "YS-110105-0002");
  sync_ok (&a, &s);
  sync_ok (&b, &s);
  rx_a = pick (&a, "status = 'requested'");
  sql = g_strdup_printf ("SELECT rx_number FROM prescription WHERE uuid = '%s'", rx_a);
  number = db_text (&a, sql);
  g_free (sql);
  sql = g_strdup_printf ("SELECT uuid FROM prescription WHERE rx_number = '%s'", number);
  rx_b = db_text (&b, sql);
  g_assert_cmpint (pd_hospital_queue_claim (a.session, rx_a, &error), >, 0);
  g_assert_cmpint (pd_hospital_queue_claim (b.session, rx_b, &error), >, 0);
  g_assert_no_error (error);

  ta.desk = &a;
  tb.desk = &b;
  threads[0] = g_thread_new ("a", push_thread, &ta);
  threads[1] = g_thread_new ("b", push_thread, &tb);
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);
  g_assert_cmpuint (ta.stats.sent + tb.stats.sent, ==, 1);
  g_assert_cmpuint (ta.stats.conflicts + tb.stats.conflicts, ==, 1);
  state_a = outbox_state (&a, "claim", rx_a);
  state_b = outbox_state (&b, "claim", rx_b);
  if (g_str_equal (state_a, "done"))
    {
      g_assert_cmpstr (state_b, ==, "conflict");
      error_b = db_text (&b, "SELECT error FROM outbox WHERE operation = 'claim'");
      g_assert_nonnull (strstr (error_b, "Practitioner/ph-1"));
    }
  else
    g_assert_cmpstr (state_b, ==, "done");
  /* The sandbox agrees: one owner. */
  g_free (sql);
  sql = g_strdup_printf ("SELECT count(*) FROM fhir_resource WHERE resource_type = 'Task' AND body LIKE '%%\"status\":\"received\"%%'"
                         " AND body LIKE '%%%s%%'", number);
  g_assert_cmpint (server_count (state, sql), ==, 1);
  desk_close (&a);
  desk_close (&b);
  sandbox_stop (&sb, SIGTERM);
}

/* A day offline, moved by the clock: the decision waits in the outbox
 * with its claim, goes out in order on reconnect, and verifies. */
static void
test_offline_day (void)
{
  g_autofree char *state = new_state ("offline");
  Sandbox sb;
  Desk d = { 0 };
  g_auto(PdSyncStats) s = { 0 };
  g_autofree char *rx = NULL;
  g_autofree char *decision = NULL;
  g_autofree char *task_id = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(GError) error = NULL;
  gint64 provenances;

  pd_clock_set_now_from_iso (pd_clock_get_default (), "2026-11-20T10:00:00+08:00", NULL);
  sandbox_start (&sb, state, "--control", "--arrival-every", "0", "--now", "2026-11-20T10:00:00+08:00", NULL);
  desk_open (&d, &sb, "offline.db", "Practitioner/ph-1", "YS-110105-0001");
  sync_ok (&d, &s);
  provenances = server_count (state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'Provenance'");
  rx = pick (&d, "status = 'requested' AND verdict = 'review' AND has_block = 0");
  g_assert_nonnull (rx);
  sql = g_strdup_printf ("SELECT task_id FROM prescription WHERE uuid = '%s'", rx);
  task_id = db_text (&d, sql);
  sandbox_stop (&sb, SIGTERM);

  /* Offline: the decision is made on the cache and waits. */
  decision = decide (&d, rx);
  push (&d, &s);
  g_assert_true (s.offline);
  g_assert_cmpuint (s.sent, ==, 0);
  g_assert_cmpstr (outbox_state (&d, "claim", rx), ==, "unknown");
  g_assert_cmpstr (outbox_state (&d, "decide", rx), ==, "queued");

  /* A day later the hospital is back (on another port). */
  pd_clock_set_now_from_iso (pd_clock_get_default (), "2026-11-21T10:00:00+08:00", NULL);
  sandbox_start (&sb, state, "--control", "--arrival-every", "0", "--now", "2026-11-21T10:00:00+08:00", NULL);
  desk_connect (&d, &sb, NULL);
  sync_ok (&d, &s);
  g_assert_cmpuint (s.sent, ==, 2);
  g_assert_cmpstr (outbox_state (&d, "claim", rx), ==, "done");
  g_assert_cmpstr (outbox_state (&d, "decide", rx), ==, "done");
  g_free (sql);
  sql = g_strdup_printf ("SELECT status FROM prescription WHERE uuid = '%s'", rx);
  g_assert_cmpstr (db_text (&d, sql), ==, "approved");
  g_free (sql);
  sql = g_strdup_printf ("SELECT count(*) FROM fhir_resource WHERE resource_type = 'Task' AND id = '%s'"
                         " AND body LIKE '%%\"status\":\"completed\"%%' AND body LIKE '%%%s%%'", task_id, decision);
  g_assert_cmpint (server_count (state, sql), ==, 1);
  g_assert_cmpint (server_count (state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'Provenance'"), ==,
                   provenances + 1);
  g_assert_cmpint (server_count (state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'DetectedIssue'"), >, 0);

  /* The stored decision verifies, and not after one byte changes. */
  g_assert_true (pd_review_verify (d.store, decision, &error));
  g_assert_no_error (error);
  g_assert_true (pd_store_exec (d.store, "UPDATE review_decision SET record = replace (record, '\"approve\"', '\"approvf\"')", NULL));
  g_assert_false (pd_review_verify (d.store, decision, &error));
  g_assert_nonnull (error);
  desk_close (&d);
  sandbox_stop (&sb, SIGTERM);
  pd_clock_set_scale (pd_clock_get_default (), 1.0);
}

/* The prescriber cancels while the pharmacist reviews: the decision comes
 * back as a conflict, never silently dropped; a cancellation without our
 * step in flight is simply stored. */
static void
test_cancel_mid_review (void)
{
  g_autofree char *state = new_state ("cancel");
  Sandbox sb;
  Desk d = { 0 };
  g_auto(PdSyncStats) s = { 0 };
  g_autofree char *rx = NULL;
  g_autofree char *other = NULL;
  g_autofree char *decision = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *body = NULL;
  g_autoptr(GError) error = NULL;

  sandbox_start (&sb, state, "--control", "--arrival-every", "0", NULL);
  desk_open (&d, &sb, "cancel.db", "Practitioner/ph-1", "YS-110105-0001");
  sync_ok (&d, &s);
  rx = pick (&d, "status = 'requested' AND verdict = 'pass'");
  other = pick (&d, "status = 'requested' AND verdict = 'review' AND has_block = 0");
  g_assert_cmpint (pd_hospital_queue_claim (d.session, rx, &error), >, 0);
  sync_ok (&d, &s);
  g_assert_cmpstr (outbox_state (&d, "claim", rx), ==, "done");

  sql = g_strdup_printf ("SELECT rx_number FROM prescription WHERE uuid = '%s'", rx);
  body = g_strdup_printf ("{\"prescription\":\"%s\"}", db_text (&d, sql));
  g_assert_cmpuint (sandbox_control (&sb, "cancel", body, NULL), ==, 200);
  g_free (sql);
  sql = g_strdup_printf ("SELECT rx_number FROM prescription WHERE uuid = '%s'", other);
  g_free (body);
  body = g_strdup_printf ("{\"prescription\":\"%s\"}", db_text (&d, sql));
  g_assert_cmpuint (sandbox_control (&sb, "cancel", body, NULL), ==, 200);

  /* Decided on the cache before the cancellation arrived. */
  decision = decide (&d, rx);
  sync_ok (&d, &s);
  g_assert_cmpuint (s.conflicts, ==, 1);
  /* The push already read the cancelled Task of the first; the pull brings the other. */
  g_assert_cmpuint (s.cancelled, ==, 1);
  g_assert_cmpstr (outbox_state (&d, "decide", rx), ==, "conflict");
  g_free (sql);
  sql = g_strdup_printf ("SELECT status FROM prescription WHERE uuid = '%s'", rx);
  g_assert_cmpstr (db_text (&d, sql), ==, "conflict");
  g_free (sql);
  sql = g_strdup_printf ("SELECT status FROM prescription WHERE uuid = '%s'", other);
  g_assert_cmpstr (db_text (&d, sql), ==, "cancelled");
  g_assert_nonnull (strstr (db_text (&d, "SELECT error FROM outbox WHERE state = 'conflict'"), "cancelled"));
  desk_close (&d);
  sandbox_stop (&sb, SIGTERM);
}

/* Under every fault kind, decisions go out exactly once. */
static void
test_faults (void)
{
  g_autofree char *state = new_state ("faults");
  Sandbox sb;
  Desk d = { 0 };
  g_auto(PdSyncStats) s = { 0 };
  g_autoptr(GPtrArray) decisions = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) rxs = g_ptr_array_new_with_free_func (g_free);
  guint rounds = 0;

  sandbox_start (&sb, state, "--control", "--arrival-every", "0", NULL);
  desk_open (&d, &sb, "faults.db", "Practitioner/ph-1", "YS-110105-0001");
  sync_ok (&d, &s);
  sandbox_stop (&sb, SIGTERM);
  sandbox_start (&sb, state, "--control", "--arrival-every", "0", "--seed", "11",
                 "--faults", "drop-request=0.15,drop-response=0.15,http-500=0.1,garbage=0.1,duplicate=0.1", NULL);
  desk_connect (&d, &sb, NULL);
  pd_fhir_client_set_retry (pd_hospital_link_get_client (d.link), 2, 20);
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *where = g_strdup_printf ("status = 'requested' AND has_block = 0 AND verdict IN ('pass', 'review')");
      char *rx = pick (&d, where);

      g_assert_nonnull (rx);
      g_ptr_array_add (rxs, rx);
      g_ptr_array_add (decisions, decide (&d, rx));
    }
  /* Keep sending until nothing is left open, as the app would. */
  while (db_count (&d, "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending', 'unknown')") > 0)
    {
      g_autoptr(GError) error = NULL;

      g_assert_cmpuint (++rounds, <, 200);
      memset (&s, 0, sizeof s);
      pd_hospital_link_push (d.link, NULL, &s, &error);
    }
  if (db_count (&d, "SELECT count(*) FROM outbox WHERE state <> 'done'") != 0)
    g_error ("not done: %s", db_text (&d, "SELECT group_concat (operation || ' ' || state || ' ' || coalesce (http_status, '')"
                                          " || ' ' || coalesce (error, ''), ' | ') FROM outbox WHERE state <> 'done'"));
  for (guint i = 0; i < decisions->len; i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM fhir_resource WHERE resource_type = 'Task'"
                                              " AND body LIKE '%%%s%%'", (const char *) decisions->pdata[i]);

      g_assert_cmpint (server_count (state, sql), ==, 1);
    }
  g_assert_cmpint (server_count (state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'Provenance'"
                                        " AND body LIKE '%review-activity%'"), ==, decisions->len);
  g_test_message ("%u push rounds under faults", rounds);
  desk_close (&d);
  sandbox_stop (&sb, SIGTERM);
}

static void
cancel_after_first_page (const PdSyncStats *stats,
                         gpointer           cancellable)
{
  if (stats->pages == 1)
    g_cancellable_cancel (cancellable);
}

/* A thousand prescriptions with runs of equal lastUpdated planted across
 * every page boundary, pulled in two goes (the first cancelled after one
 * page): none lost, none twice. */
static void
test_paging_equal_timestamps (void)
{
  g_autofree char *state = new_state ("paging");
  Sandbox sb;
  Desk d = { 0 };
  g_auto(PdSyncStats) s = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GString *planted = g_string_new ("{\"resources\":[");
  guint n_planted = 0;

  sandbox_start (&sb, state, "--control", "--arrival-every", "0", "--no-demo", NULL);
  g_assert_cmpuint (sandbox_control (&sb, "bulk-load", "{\"prescriptions\":1000}", NULL), ==, 200);
  /* Tasks 95…104, 195…204, … all get the lastUpdated of the first of their run. */
  for (guint boundary = 100; boundary < 1000; boundary += 100)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT last_updated_ms FROM fhir_resource WHERE resource_type = 'Task'"
                                              " ORDER BY last_updated_ms, id LIMIT 1 OFFSET %u", boundary - 5);
      g_autofree char *ms_text = query_text (state, sql);
      gint64 ms = g_ascii_strtoll (ms_text, NULL, 10);
      g_autofree char *seconds = pd_time_format_china (ms * 1000, "%Y-%m-%dT%H:%M:%S");
      g_autofree char *iso = g_strdup_printf ("%s.%03d+08:00", seconds, (int) (ms % 1000));

      for (guint k = boundary - 5; k < boundary + 5; k++)
        {
          g_autofree char *q = g_strdup_printf ("SELECT body FROM fhir_resource WHERE resource_type = 'Task'"
                                                " ORDER BY last_updated_ms, id LIMIT 1 OFFSET %u", k);
          g_autofree char *body = query_text (state, q);
          g_autoptr(JsonNode) node = json_from_string (body, &error);
          JsonObject *meta;

          g_assert_no_error (error);
          meta = json_object_get_object_member (json_node_get_object (node), "meta");
          json_object_set_string_member (meta, "lastUpdated", iso);
          {
            g_autofree char *text = json_to_string (node, FALSE);

            g_string_append_printf (planted, "%s%s", n_planted++ > 0 ? "," : "", text);
          }
        }
    }
  g_string_append (planted, "]}");
  g_assert_cmpuint (sandbox_control (&sb, "plant", planted->str, NULL), ==, 200);
  g_string_free (planted, TRUE);
  g_assert_cmpint (server_count (state, "SELECT count(*) FROM (SELECT last_updated_ms FROM fhir_resource WHERE"
                                        " resource_type = 'Task' GROUP BY last_updated_ms HAVING count(*) = 10)"), ==, 9);

  desk_open (&d, &sb, "paging.db", "Practitioner/ph-1", "YS-110105-0001");
  g_assert_false (pd_hospital_link_pull (d.link, cancellable, cancel_after_first_page, cancellable, &s, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM prescription"), ==, 100);
  pd_sync_stats_clear (&s);
  sync_ok (&d, &s);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM prescription"), ==, 1000);
  g_assert_cmpint (db_count (&d, "SELECT count(DISTINCT task_id) FROM prescription"), ==, 1000);
  /* The page boundary of the second go started at the cursor (ge): the
   * five planted Tasks before it came again and were skipped. */
  g_assert_cmpuint (s.tasks_seen, >, s.stored);
  g_assert_cmpuint (s.stored, ==, 900);
  desk_close (&d);
  sandbox_stop (&sb, SIGTERM);
}

/* --- a patient's record, once a pull ------------------------------------------------------- */

typedef struct {
  Sandbox    *sb;
  const char *state;
  char       *task_id;     /* the last Task, moved after the first page */
  char       *patient;     /* "Patient/…" of that Task */
} Late;

/* After the first page: the last Task's patient gets a new allergy, and the
 * Task itself a new version, later than any record fetched so far. */
static void
record_allergy_after_first_page (const PdSyncStats *stats,
                                 gpointer           data)
{
  Late *late = data;
  g_autofree char *body = NULL;
  g_autofree char *task_text = NULL;
  g_autofree char *planted = NULL;
  g_autoptr(JsonNode) task = NULL;

  if (stats->pages != 1)
    return;
  body = query_text (late->state, "SELECT body FROM fhir_resource WHERE resource_type = 'Task'"
                                  " ORDER BY last_updated_ms DESC, id DESC LIMIT 1");
  task = json_from_string (body, NULL);
  g_assert_nonnull (task);
  json_object_remove_member (json_node_get_object (task), "meta");   /* stamped anew when planted */
  late->task_id = g_strdup (json_object_get_string_member (json_node_get_object (task), "id"));
  late->patient = g_strdup (json_object_get_string_member (json_object_get_object_member (json_node_get_object (task), "for"),
                                                           "reference"));
  task_text = json_to_string (task, FALSE);
  planted = g_strdup_printf ("{\"resources\":[{\"resourceType\":\"AllergyIntolerance\",\"id\":\"alg-late\","
                             "\"code\":{\"text\":\"青霉素\"},\"patient\":{\"reference\":\"%s\"}},%s]}",
                             late->patient, task_text);
  g_assert_cmpuint (sandbox_control (late->sb, "plant", planted, NULL), ==, 200);
}

static gboolean
bundle_holds (Desk       *d,
              const char *task_id,
              const char *reference)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) bundle = pd_rx_cache_load (d->session, PD_RX_BUNDLE, task_id, NULL, &error);
  JsonArray *entries;

  g_assert_no_error (error);
  entries = json_object_get_array_member (json_node_get_object (bundle), "entry");
  for (guint i = 0; i < json_array_get_length (entries); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (entries, i), "fullUrl"), reference) == 0)
      return TRUE;
  return FALSE;
}

static guint
searches_of (GPtrArray  *urls,
             const char *type)
{
  g_autofree char *needle = g_strconcat ("/fhir/", type, "?", NULL);
  guint n = 0;

  for (guint i = 0; i < urls->len; i++)
    n += strstr (urls->pdata[i], needle) != NULL;
  return n;
}

/* A thousand prescriptions of 24 patients, on ten pages: each patient's
 * record is fetched once, on the first page, and serves the nine pages
 * after it — except for a Task changed after the record was fetched,
 * whose patient's record is fetched again, with the allergy recorded
 * meanwhile. */
static void
test_patient_record_once (void)
{
  g_autofree char *state = new_state ("record-once");
  g_autoptr(GPtrArray) urls = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *first_of_patient = NULL;
  Sandbox sb;
  Desk d = { 0 };
  g_auto(PdSyncStats) s = { 0 };
  Late late = { &sb, state, NULL, NULL };

  sandbox_start (&sb, state, "--control", "--arrival-every", "0", "--no-demo", NULL);
  g_assert_cmpuint (sandbox_control (&sb, "bulk-load", "{\"prescriptions\":1000}", NULL), ==, 200);
  desk_open (&d, &sb, "record-once.db", "Practitioner/ph-1", "YS-110105-0001");
  desk_connect (&d, &sb, urls);

  g_assert_true (pd_hospital_link_pull (d.link, NULL, record_allergy_after_first_page, &late, &s, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (s.pages, >=, 10);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM prescription"), ==, 1000);
  /* Once on the first page for everybody, once more for the late Task's patient. */
  g_assert_cmpuint (searches_of (urls, "Condition"), ==, 2);
  g_assert_cmpuint (searches_of (urls, "AllergyIntolerance"), ==, 2);
  g_assert_cmpuint (searches_of (urls, "Observation"), ==, 2);
  g_assert_cmpuint (searches_of (urls, "MedicationRequest"), >=, 10);
  /* The late Task's Bundle has the late allergy; the patient's earlier ones were pulled before it. */
  g_assert_nonnull (late.task_id);
  g_assert_true (bundle_holds (&d, late.task_id, "AllergyIntolerance/alg-late"));
  {
    g_autofree char *sql = g_strdup_printf ("SELECT task_id FROM prescription WHERE patient_ref = '%s' AND task_id <> '%s'"
                                            " ORDER BY authored_at, id LIMIT 1", late.patient, late.task_id);

    first_of_patient = db_text (&d, sql);
  }
  g_assert_nonnull (first_of_patient);
  g_assert_false (bundle_holds (&d, first_of_patient, "AllergyIntolerance/alg-late"));
  pd_sync_stats_clear (&s);
  g_free (late.task_id);
  g_free (late.patient);
  desk_close (&d);
  sandbox_stop (&sb, SIGTERM);
}

/* pharmdesk-cli sync killed mid-way, then again: a consistent cache. */
static void
test_sigkill_mid_sync (void)
{
  g_autofree char *state = new_state ("kill");
  g_autofree char *ini = NULL;
  g_autofree char *pw = g_build_filename (state_root, "kill-pw", NULL);
  Sandbox sb;
  Desk d = { 0 };
  g_autoptr(GError) error = NULL;
  PdStoreCheckReport report = { 0 };
  gint64 tasks, killed_at;
  int status;

  sandbox_start (&sb, state, "--control", "--arrival-every", "0", "--no-demo", NULL);
  g_assert_cmpuint (sandbox_control (&sb, "bulk-load", "{\"prescriptions\":1500}", NULL), ==, 200);
  desk_open (&d, &sb, "kill.db", "Practitioner/ph-1", "YS-110105-0001");
  desk_close (&d);
  ini = g_build_filename (state, "client.ini", NULL);
  g_assert_true (g_file_set_contents (pw, "pharmacist-password\n", -1, NULL));
  {
    g_autofree char *db = g_build_filename (state_root, "kill.db", NULL);
    const char *argv[] = { g_getenv ("PHARMDESK_CLI"), "sync", "--config", ini, "--db", db, "--user", "ph",
                           "--password-file", pw, "--json", NULL };
    g_autoptr(GSubprocess) p = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);

    g_assert_no_error (error);
    /* Killed once some pages are in, before all of them are. */
    while (file_count (db, "SELECT count(*) FROM prescription") < 200)
      g_usleep (5 * 1000);
    g_subprocess_force_exit (p);
    g_subprocess_wait (p, NULL, NULL);
    g_assert_true (pd_store_check_file (db, pd_schema_pharmacy (), &report, &error));
    g_assert_no_error (error);
    g_assert_true (report.ok);
    pd_store_check_report_clear (&report);
    killed_at = file_count (db, "SELECT count(*) FROM prescription");
    g_assert_cmpint (killed_at, <, 1500);
    g_assert_cmpint (file_count (db, "SELECT count(*) FROM prescription p WHERE NOT EXISTS"
                                     " (SELECT 1 FROM cached_object o WHERE o.resource_type = 'rx-bundle'"
                                     " AND o.resource_id = p.task_id)"), ==, 0);
    {
      g_autoptr(GSubprocess) again = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);

      g_assert_no_error (error);
      g_assert_true (g_subprocess_wait (again, NULL, &error));
      status = g_subprocess_get_exit_status (again);
      g_assert_cmpint (status, ==, 0);
    }
    d.store = pd_store_open (db, &error);
    g_assert_no_error (error);
  }
  tasks = server_count (state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'Task'");
  g_assert_cmpint (tasks, ==, 1500);
  g_test_message ("killed with %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " stored", killed_at, tasks);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM prescription"), ==, tasks);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM prescription p WHERE NOT EXISTS"
                                 " (SELECT 1 FROM prescription_line l WHERE l.prescription_id = p.id)"), ==, 0);
  g_assert_cmpint (db_count (&d, "SELECT count(*) FROM cached_object WHERE resource_type = 'rx-bundle'"), ==, tasks);
  desk_close (&d);
  sandbox_stop (&sb, SIGTERM);
}

int
main (int    argc,
      char **argv)
{
  int rc;

  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  g_test_init (&argc, &argv, NULL);
  harness_init ();
  g_test_add_func ("/hospital/pull", test_pull);
  g_test_add_func ("/hospital/paging-equal-timestamps", test_paging_equal_timestamps);
  g_test_add_func ("/hospital/patient-record-once", test_patient_record_once);
  g_test_add_func ("/hospital/claim-race", test_claim_race);
  g_test_add_func ("/hospital/offline-day", test_offline_day);
  g_test_add_func ("/hospital/cancel-mid-review", test_cancel_mid_review);
  g_test_add_func ("/hospital/faults", test_faults);
  g_test_add_func ("/hospital/sigkill-mid-sync", test_sigkill_mid_sync);
  rc = g_test_run ();
  harness_done ();
  return rc;
}
