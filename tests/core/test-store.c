/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-store"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pd-store.h"

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->dir = g_dir_make_tmp ("pd-store-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->path = g_build_filename (f->dir, "pharmdesk.db", NULL);
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_remove (p);
    }
  g_rmdir (dir);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

static char *
file_digest (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
}

static gint64
raw_int (const char *path,
         const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 v;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return v;
}

static void
raw_exec (const char *path,
          const char *sql)
{
  sqlite3 *db = NULL;
  char *err = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &err) != SQLITE_OK)
    g_error ("%s: %s", sql, err);
  sqlite3_close (db);
}

static gint64
store_int (PdStore    *store,
           const char *sql)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, sql, NULL);
  gint64 v;

  g_assert_nonnull (stmt);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  v = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return v;
}

static void
test_new_database (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = pd_store_open (f->path, &error);
  sqlite3_stmt *stmt;
  g_autofree char *clean = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_assert_cmpuint (pd_store_get_schema_version (store), ==, pd_schema_pharmacy ()->n_migrations);
  g_assert_false (pd_store_was_unclean (store));

  stmt = pd_store_prepare (store, "PRAGMA journal_mode", &error);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
  sqlite3_reset (stmt);
  g_assert_cmpint (store_int (store, "PRAGMA foreign_keys"), ==, 1);
  g_assert_cmpint (store_int (store, "PRAGMA application_id"), ==, (gint32) pd_schema_pharmacy ()->application_id);
  g_assert_cmpint (store_int (store, "PRAGMA busy_timeout"), >, 0);

  /* Open: marked unclean until closed. */
  clean = pd_store_get_meta (store, "clean_shutdown");
  g_assert_cmpstr (clean, ==, "0");
  pd_store_close (store);
  g_assert_cmpint (raw_int (f->path, "SELECT value FROM store_meta WHERE key = 'clean_shutdown'"), ==, 1);
  /* The header itself carries the id and version for the cheap check. */
  g_assert_cmpint (raw_int (f->path, "PRAGMA user_version"), ==, pd_schema_pharmacy ()->n_migrations);
}

/* Rows valid at each schema version, inserted into a database made by that
 * version, must survive every later migration. */
static const char *fixtures[] = {
  NULL,
  /* version 1 */
  "INSERT INTO account (uuid, username, display_name, roles, created_at)"
  "  VALUES ('a-1', 'wang', '王药师', 'pharmacist', '2026-11-20T09:00:00+08:00');"
  "INSERT INTO sync_cursor VALUES ('hospital', '2026-11-20T08:00:00.123+08:00', '2026-11-20T08:00:01+08:00');"
  "INSERT INTO cached_object (uuid, link, resource_type, resource_id, version_id, body_sealed, fetched_at)"
  "  VALUES ('c-1', 'hospital', 'Task', 't1', '3', x'00', '2026-11-20T08:00:01+08:00');"
  "INSERT INTO outbox (uuid, link, operation, idempotency_key, request_sealed, created_at, updated_at)"
  "  VALUES ('o-1', 'hospital', 'claim', 'k-1', x'01', '2026-11-20T09:00:00+08:00', '2026-11-20T09:00:00+08:00');"
  "INSERT INTO audit_event (seq, at, actor_id, action, mac) VALUES (1, '2026-11-20T09:00:00+08:00', 1, 'sign-in', x'aa');"
  "UPDATE audit_head SET last_seq = 1, last_mac = x'aa';",
  /* version 2 */
  "INSERT INTO prescription (uuid, rx_system, rx_number, authored_at)"
  "  VALUES ('p-1', 'urn:rx', 'RX-1', '2026-11-20T08:00:00+08:00');"
  "INSERT INTO stock_batch (uuid, drug_code, lot, manufactured_on, expires_on, boxes_on_hand, unit_price_e4, received_at)"
  "  VALUES ('b-1', 'YP0001', 'L001', '2026-01-01', '2028-01-01', 10, 4500, '2026-11-01T10:00:00+08:00');",
  /* version 3 */
  "INSERT INTO signing_key (uuid, owner, public_key, private_sealed, valid_from, created_at)"
  "  VALUES ('k-1', 'pharmacy', zeroblob (32), x'01', '2026-11-20T09:00:00+08:00', '2026-11-20T09:00:00+08:00');"
  "UPDATE account SET locked_until = '2026-11-20T09:15:00+08:00' WHERE username = 'wang';"
  "INSERT INTO audit_pending (at, action, outcome, detail) VALUES ('2026-11-20T09:01:00+08:00', 'sign-in', 'refused', 'wrong password');",
  /* version 4 */
  "INSERT INTO prescription (uuid, rx_system, rx_number, priority, authored_at)"
  "  VALUES ('p-4', 'urn:rx', 'RX-4', 'stat', NULL);"
  "INSERT INTO prescription_line (prescription_id, position, resource_id, status, drug_name, drug_pinyin)"
  "  SELECT id, 0, 'mr-4', 'active', '阿莫西林胶囊', 'AMXLJN' FROM prescription WHERE uuid = 'p-4';"
  "UPDATE prescription SET status = 'claimed', claimed_by = 'Practitioner/ph-1' WHERE uuid = 'p-4';",
  /* version 5 */
  "INSERT INTO prescription (uuid, rx_system, rx_number, priority, authored_at)"
  "  VALUES ('p-5', 'urn:rx', 'RX-5', 'urgent', '2026-11-20T10:00:00+08:00');"
  "INSERT INTO prescription_line (prescription_id, position, resource_id, status, drug_name, drug_pinyin)"
  "  SELECT id, 0, 'mr-5', 'active', '布洛芬缓释胶囊', 'BLFHSJN' FROM prescription WHERE uuid = 'p-5';"
  "UPDATE prescription SET priority = 'routine', status = 'approved', has_block = 1 WHERE uuid = 'p-5';",
  /* version 6: a pending row of the chain, the head it moved */
  "INSERT INTO audit_pending (seq, at, action, outcome, mac) VALUES (1, '2026-11-20T09:02:00+08:00', 'sign-in', 'refused', zeroblob (32));"
  "UPDATE audit_head SET pending_seq = 1, pending_mac = zeroblob (32);",
  /* version 7: a fill of the approved prescription, one box from the batch */
  "INSERT INTO review_decision (uuid, prescription_id, pharmacist_id, decision, kb_version, record, jws, decided_at)"
  "  SELECT 'd-7', id, 1, 'approve', 'kb-1', '{}', 'x', '2026-11-20T10:05:00+08:00' FROM prescription WHERE uuid = 'p-5';"
  "INSERT INTO account (uuid, username, display_name, roles, created_at) VALUES ('a-7', 'zhao', '赵核对', 'checker', '2026-11-20T09:00:00+08:00');"
  "INSERT INTO dispense (uuid, prescription_id, decision_id, dispenser_id, checker_id, prepared_at)"
  "  SELECT 'g-7', p.id, d.id, 1, (SELECT id FROM account WHERE uuid = 'a-7'), '2026-11-20T10:10:00+08:00'"
  "  FROM prescription p JOIN review_decision d ON d.prescription_id = p.id WHERE p.uuid = 'p-5';"
  "INSERT INTO trace_code (code, drug_code, batch_id, state, updated_at)"
  "  SELECT '81234560000000000001', 'YP0001', id, 'dispensed', '2026-11-20T10:10:00+08:00' FROM stock_batch WHERE uuid = 'b-1';",
  /* version 8: the fill's sale, open */
  "INSERT INTO sale (uuid, rxno, dispense_id, kind, medfee_sumamt_fen, created_at, updated_at)"
  "  SELECT 's-8', 'RX-5', id, 'insurance', 1080, '2026-11-20T10:20:00+08:00', '2026-11-20T10:20:00+08:00' FROM dispense WHERE uuid = 'g-7';",
};

static void
test_upgrade_from_every_version (Fixture       *f,
                                 gconstpointer  data)
{
  const PdSchema *schema = pd_schema_pharmacy ();

  g_assert_cmpuint (G_N_ELEMENTS (fixtures), ==, schema->n_migrations + 1);

  for (guint from = 1; from < schema->n_migrations; from++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PdStore) old = NULL;
      g_autoptr(PdStore) store = NULL;
      PdStoreCheckReport report;

      g_remove (f->path);
      old = pd_store_open_schema (f->path, schema, from, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (pd_store_get_schema_version (old), ==, from);
      for (guint v = 1; v <= from; v++)
        g_assert_true (pd_store_exec (old, fixtures[v], NULL));
      pd_store_close (old);

      store = pd_store_open (f->path, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (pd_store_get_schema_version (store), ==, schema->n_migrations);
      g_assert_cmpint (store_int (store, "SELECT count(*) FROM account WHERE username = 'wang'"), ==, 1);
      g_assert_cmpint (store_int (store, "SELECT last_seq FROM audit_head"), ==, 1);
      if (from >= 2)
        g_assert_cmpint (store_int (store, "SELECT boxes_on_hand FROM stock_batch"), ==, 10);
      if (from >= 3)
        g_assert_cmpint (store_int (store, "SELECT count(*) FROM signing_key"), ==, 1);
      /* A row that waited for a sign-in before the pending chain is kept,
       * counted as one the next sign-in may take unchained. */
      if (from >= 3 && from < 6)
        {
          g_assert_cmpint (store_int (store, "SELECT count(*) FROM audit_pending WHERE seq IS NULL"), ==, 1);
          g_assert_cmpint (store_int (store, "SELECT legacy_pending FROM audit_head"), ==, 1);
        }
      /* The queue's order keys and tallies cover rows made before version 4. */
      if (from >= 2 && from < 4)
        {
          g_assert_cmpint (store_int (store, "SELECT queue_rank FROM prescription WHERE uuid = 'p-1'"), ==, 2);
          g_assert_cmpint (store_int (store, "SELECT n FROM queue_tally WHERE status = 'requested' AND claimed_by = ''"), ==, 1);
        }
      /* The newer tables work on the upgraded file. */
      for (guint v = from + 1; v <= schema->n_migrations; v++)
        g_assert_true (pd_store_exec (store, fixtures[v], NULL));
      if (schema->n_migrations >= 4)
        {
          /* Triggers keep the tally equal to the table, the vocabulary to the lines. */
          g_assert_cmpint (store_int (store, "SELECT sum (n) FROM queue_tally"), ==,
                           store_int (store, "SELECT count (*) FROM prescription"));
          g_assert_cmpint (store_int (store, "SELECT count (*) FROM queue_tally WHERE n < 0"), ==, 0);
          g_assert_cmpint (store_int (store, "SELECT n FROM queue_tally WHERE status = 'claimed' AND queue_rank = 0"
                                             " AND claimed_by = 'Practitioner/ph-1'"), ==, 1);
          g_assert_cmpint (store_int (store, "SELECT count (*) FROM queue_drug WHERE pinyin = 'AMXLJN'"), ==, 1);
          g_assert_cmpint (store_int (store, "SELECT count (*) FROM prescription WHERE queue_time = ''"), ==, 1);
        }
      if (schema->n_migrations >= 5)
        {
          /* Lines carry their prescription's queue columns, whether written
           * before version 5 (filled by the migration) or after (triggers). */
          g_assert_cmpint (store_int (store,
            "SELECT count (*) FROM prescription_line AS l JOIN prescription AS p ON p.id = l.prescription_id"
            " WHERE l.rx_rank IS p.queue_rank AND l.rx_time IS p.queue_time AND l.rx_status IS p.status"
            " AND l.rx_online IS p.online AND l.rx_block IS p.has_block AND l.rx_claimed_by IS p.claimed_by"), ==,
            store_int (store, "SELECT count (*) FROM prescription_line"));
          g_assert_cmpint (store_int (store, "SELECT count (*) FROM prescription_line"), ==, 2);
          g_assert_cmpint (store_int (store, "SELECT rx_rank FROM prescription_line WHERE resource_id = 'mr-5'"), ==, 2);
          g_assert_cmpint (store_int (store, "SELECT rx_block FROM prescription_line WHERE resource_id = 'mr-5'"), ==, 1);
          g_assert_cmpint (store_int (store, "SELECT count (*) FROM prescription_line WHERE resource_id = 'mr-4'"
                                             " AND rx_status = 'claimed' AND rx_rank = 0 AND rx_time = ''"), ==, 1);
          /* The searches' indexes cover the queue's columns: no table read. */
          g_assert_cmpint (store_int (store,
            "SELECT count (*) FROM prescription_line INDEXED BY prescription_line_queue"
            " WHERE drug_name = '阿莫西林胶囊' AND rx_rank = 0 AND rx_status = 'claimed'"), ==, 1);
          g_assert_cmpint (store_int (store,
            "SELECT count (*) FROM prescription INDEXED BY prescription_number"
            " WHERE rx_number >= 'RX-' AND rx_number < 'RX.' AND queue_rank = 2"), ==, 2);
        }
      pd_store_close (store);

      g_assert_true (pd_store_check_file (f->path, schema, &report, &error));
      g_assert_no_error (error);
      g_assert_true (report.ok);
      pd_store_check_report_clear (&report);
    }
}

static const PdMigration broken_migrations[] = {
  { "first", "CREATE TABLE thing (id INTEGER PRIMARY KEY, name TEXT NOT NULL);" },
  { "second, which fails half-way", "ALTER TABLE thing ADD COLUMN size INTEGER; INSERT INTO nowhere VALUES (1);" },
};

static const PdSchema broken_schema = { "broken", 0x54455354, broken_migrations, 2 };

static void
test_failed_migration_changes_nothing (Fixture       *f,
                                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = pd_store_open_schema (f->path, &broken_schema, 1, &error);
  g_autoptr(PdStore) again = NULL;

  g_assert_no_error (error);
  g_assert_true (pd_store_exec (store, "INSERT INTO thing (name) VALUES ('kept')", NULL));
  pd_store_close (store);

  again = pd_store_open_schema (f->path, &broken_schema, PD_STORE_LATEST, &error);
  g_assert_null (again);
  g_assert_error (error, PD_STORE_ERROR, PD_STORE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "schema 2"));

  g_assert_cmpint (raw_int (f->path, "PRAGMA user_version"), ==, 1);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM pragma_table_info('thing') WHERE name = 'size'"), ==, 0);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM thing WHERE name = 'kept'"), ==, 1);
}

static void
assert_refused_untouched (const char *path,
                          int         code,
                          const char *words)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = file_digest (path);
  g_autofree char *after = NULL;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  GStatBuf st;
  g_autoptr(PdStore) store = pd_store_open (path, &error);

  g_assert_null (store);
  g_assert_error (error, PD_STORE_ERROR, code);
  g_assert_nonnull (strstr (error->message, words));
  after = file_digest (path);
  g_assert_cmpstr (before, ==, after);
  /* A read-only look may leave an empty -wal beside it, never content. */
  if (g_stat (wal, &st) == 0)
    g_assert_cmpint (st.st_size, ==, 0);
}

static void
test_refuses_foreign_file (Fixture       *f,
                           gconstpointer  data)
{
  g_assert_true (g_file_set_contents (f->path, "name,dose\nwarfarin,2.5mg\n", -1, NULL));
  assert_refused_untouched (f->path, PD_STORE_ERROR_NOT_PHARMDESK, "not a PharmDesk database");
}

static void
test_refuses_foreign_sqlite (Fixture       *f,
                             gconstpointer  data)
{
  raw_exec (f->path, "CREATE TABLE recipes (id INTEGER PRIMARY KEY, title TEXT);"
                     "INSERT INTO recipes (title) VALUES ('红烧肉');");
  assert_refused_untouched (f->path, PD_STORE_ERROR_NOT_PHARMDESK, "another program");

  /* Even an empty SQLite file made by someone else is not adopted. */
  g_remove (f->path);
  raw_exec (f->path, "PRAGMA user_version = 7; VACUUM;");
  assert_refused_untouched (f->path, PD_STORE_ERROR_NOT_PHARMDESK, "another program");
}

static void
test_refuses_newer_file (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(PdStore) store = pd_store_open (f->path, NULL);
  g_autofree char *sql = NULL;

  g_assert_nonnull (store);
  pd_store_close (store);
  sql = g_strdup_printf ("PRAGMA user_version = %u; PRAGMA wal_checkpoint(TRUNCATE);",
                         pd_schema_pharmacy ()->n_migrations + 1);
  raw_exec (f->path, sql);
  assert_refused_untouched (f->path, PD_STORE_ERROR_TOO_NEW, "newer PharmDesk");
}

static void
fill_some_rows (const char *path,
                int         n)
{
  g_autoptr(PdStore) store = pd_store_open (path, NULL);

  g_assert_nonnull (store);
  g_assert_true (pd_store_exec (store, "BEGIN", NULL));
  for (int i = 0; i < n; i++)
    {
      g_autofree char *sql = g_strdup_printf (
        "INSERT INTO prescription (uuid, rx_system, rx_number, authored_at)"
        " VALUES ('u-%d', 'urn:rx', 'RX-%06d', '2026-11-20T08:00:00+08:00')", i, i);
      g_assert_true (pd_store_exec (store, sql, NULL));
    }
  g_assert_true (pd_store_exec (store, "COMMIT", NULL));
  pd_store_close (store);
  raw_exec (path, "PRAGMA wal_checkpoint(TRUNCATE);");
}

/* Overwrites the interior of the last pages, where the prescription rows are. */
static void
damage_pages (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  gsize page = 4096;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_cmpuint (len, >, 8 * page);
  for (gsize p = len / page - 3; p < len / page; p++)
    memset (data + p * page + 8, 0x5a, page - 16);
  g_assert_true (g_file_set_contents (path, data, len, NULL));
}

static void
test_refuses_corrupted_header (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *content = NULL;
  gsize len = 0;

  fill_some_rows (f->path, 10);
  g_assert_true (g_file_get_contents (f->path, &content, &len, NULL));
  content[16] = 0x00;  /* page size 0x0010 ... not a power of two */
  content[17] = 0x03;
  g_assert_true (g_file_set_contents (f->path, content, len, NULL));
  assert_refused_untouched (f->path, PD_STORE_ERROR_CORRUPT, "damaged");
}

static void
test_unclean_shutdown_runs_quick_check (Fixture       *f,
                                        gconstpointer  data)
{
  fill_some_rows (f->path, 3000);
  /* As if the program had died: the flag still says "open". */
  raw_exec (f->path, "UPDATE store_meta SET value = '0' WHERE key = 'clean_shutdown'; PRAGMA wal_checkpoint(TRUNCATE);");

  /* A sound file after a crash opens, and says it was unclean. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(PdStore) store = pd_store_open (f->path, &error);

    g_assert_no_error (error);
    g_assert_true (pd_store_was_unclean (store));
    pd_store_close (store);
  }
  raw_exec (f->path, "UPDATE store_meta SET value = '0' WHERE key = 'clean_shutdown'; PRAGMA wal_checkpoint(TRUNCATE);");
  damage_pages (f->path);
  assert_refused_untouched (f->path, PD_STORE_ERROR_CORRUPT, "damaged");

  /* db check's full check finds it too, without refusing to look. */
  {
    PdStoreCheckReport report;
    g_autoptr(GError) error = NULL;

    g_assert_true (pd_store_check_file (f->path, pd_schema_pharmacy (), &report, &error));
    g_assert_false (report.ok);
    g_assert_cmpuint (report.problems->len, >, 0);
    pd_store_check_report_clear (&report);
  }
}

static gboolean
insert_then_fail (PdStore  *store,
                  gpointer  user_data,
                  GError  **error)
{
  if (!pd_store_exec (store, "INSERT INTO prescription (uuid, rx_system, rx_number) VALUES ('x', 'urn:rx', 'RX-HALF')", error))
    return FALSE;
  /* The second write breaks a CHECK: the first must not survive. */
  return pd_store_exec (store, "INSERT INTO stock_batch (uuid, drug_code, lot, manufactured_on, expires_on, boxes_on_hand, received_at)"
                               " VALUES ('s', 'YP1', 'L', '2026-01-01', '2027-01-01', -1, 'now')", error);
}

static void
test_write_is_all_or_nothing (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(PdStore) store = pd_store_open (f->path, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (pd_store_write (store, insert_then_fail, NULL, &error));
  g_assert_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT);
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM prescription"), ==, 0);
}

typedef struct {
  GMainLoop *loop;
  GPtrArray *order;
  int        pending;
} AsyncState;

static gboolean
append_number (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  int n = GPOINTER_TO_INT (user_data);
  g_autofree char *sql = g_strdup_printf ("INSERT INTO prescription (uuid, rx_system, rx_number) VALUES ('u%d', 's', '%d')", n, n);

  return pd_store_exec (store, sql, error);
}

static void
write_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncState *st = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (pd_store_write_finish (PD_STORE (object), result, &error));
  g_assert_no_error (error);
  if (--st->pending == 0)
    g_main_loop_quit (st->loop);
}

static void
test_write_queue_is_serial (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(PdStore) store = pd_store_open (f->path, NULL);
  AsyncState st = { g_main_loop_new (NULL, FALSE), NULL, 50 };
  sqlite3_stmt *stmt;
  int expected = 0;

  for (int i = 0; i < 50; i++)
    pd_store_write_async (store, append_number, GINT_TO_POINTER (i), NULL, NULL, write_done_cb, &st);
  g_main_loop_run (st.loop);
  g_main_loop_unref (st.loop);

  stmt = pd_store_prepare (store, "SELECT rx_number FROM prescription ORDER BY id", NULL);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, expected++);
  sqlite3_reset (stmt);
  g_assert_cmpint (expected, ==, 50);
}

static void
test_audit_is_append_only (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(PdStore) store = pd_store_open (f->path, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (pd_store_exec (store, "INSERT INTO audit_event (seq, at, action, mac) VALUES (1, 't', 'sign-in', x'01');"
                                       "UPDATE audit_head SET last_seq = 1", NULL));
  g_assert_false (pd_store_exec (store, "UPDATE audit_event SET action = 'nothing' WHERE seq = 1", &error));
  g_assert_nonnull (strstr (error->message, "append-only"));
  g_clear_error (&error);
  g_assert_false (pd_store_exec (store, "DELETE FROM audit_event", &error));
  g_clear_error (&error);
  /* A gap in the sequence is refused. */
  g_assert_false (pd_store_exec (store, "INSERT INTO audit_event (seq, at, action, mac) VALUES (3, 't', 'x', x'02')", &error));
  g_assert_nonnull (strstr (error->message, "gap"));
}

static void
test_money_columns_refuse_nonsense (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(PdStore) store = pd_store_open (f->path, NULL);
  g_autoptr(GError) error = NULL;

  /* A dispensing can never point at a missing prescription (foreign keys on). */
  g_assert_false (pd_store_exec (store, "INSERT INTO dispense (uuid, prescription_id, decision_id, dispenser_id, prepared_at)"
                                        " VALUES ('d', 99, 99, 99, 'now')", &error));
  g_assert_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);
  g_assert_false (pd_store_exec (store, "INSERT INTO settlement_line (settlement_id, feedetl_sn, drug_code, units, unit_price_e4, amount_fen)"
                                        " VALUES (1, '1', 'YP', 1, -5, 0)", &error));
  g_assert_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, fn) g_test_add (name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/store/new-database", test_new_database);
  ADD ("/store/upgrade-from-every-version", test_upgrade_from_every_version);
  ADD ("/store/failed-migration-changes-nothing", test_failed_migration_changes_nothing);
  ADD ("/store/refuses/foreign-file", test_refuses_foreign_file);
  ADD ("/store/refuses/foreign-sqlite", test_refuses_foreign_sqlite);
  ADD ("/store/refuses/newer-file", test_refuses_newer_file);
  ADD ("/store/refuses/corrupted-header", test_refuses_corrupted_header);
  ADD ("/store/unclean-shutdown-quick-check", test_unclean_shutdown_runs_quick_check);
  ADD ("/store/write-all-or-nothing", test_write_is_all_or_nothing);
  ADD ("/store/write-queue-serial", test_write_queue_is_serial);
  ADD ("/store/audit-append-only", test_audit_is_append_only);
  ADD ("/store/constraints", test_money_columns_refuse_nonsense);
#undef ADD

  return g_test_run ();
}
