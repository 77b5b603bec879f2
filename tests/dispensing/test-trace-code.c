/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-trace-code"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pd-trace-code.h"

/* pd_trace_code_check: every PdScanResult, with the codes put straight
 * into a fresh pharmacy database's trace_code table. */

#define AMLO_PREFIX "6901001"
#define NEW_CODE    AMLO_PREFIX "0000000019999"

typedef struct {
  char    *dir;
  char    *path;
  PdStore *store;
  gint64   amlo_batch;
  gint64   met_batch;
} Fixture;

static PdKbDrug amlodipine = { .code = "YP1001", .name = "苯磺酸氨氯地平片 5mg", .trace_prefix = AMLO_PREFIX, .weight_g = 100 };
static PdKbDrug metformin = { .code = "YP1029", .name = "盐酸二甲双胍片 0.5g", .weight_g = 100 };   /* no prefix known */

/* The boxes already known to the pharmacy. */
static const struct {
  const char *code;
  const char *drug;
  const char *state;
  int         units_left;
} rows[] = {
  { AMLO_PREFIX "0000000010001", "YP1001", "opened", 12 },
  { AMLO_PREFIX "0000000010002", "YP1001", "opened", 0 },     /* emptied */
  { AMLO_PREFIX "0000000010003", "YP1001", "in_stock", 0 },
  { AMLO_PREFIX "0000000010004", "YP1001", "dispensed", 0 },
  { AMLO_PREFIX "0000000010005", "YP1001", "sold", 0 },
  { AMLO_PREFIX "0000000010006", "YP1001", "destroyed", 0 },
  { "81000290000000020001", "YP1029", "opened", 30 },
  { "81000290000000020002", "YP1029", "in_stock", 0 },
  { "81000290000000020003", "YP1029", "dispensed", 0 },
};

static gint64
insert_batch (PdStore    *store,
              const char *drug,
              const char *lot)
{
  g_autofree char *sql = g_strdup_printf ("INSERT INTO stock_batch (uuid, drug_code, lot, manufactured_on, expires_on, boxes_on_hand, received_at) "
                                          "VALUES ('batch-%s', '%s', '%s', '2026-01-01', '2028-12-31', 10, '2026-11-01T09:00:00+08:00')",
                                          lot, drug, lot);

  g_assert_true (pd_store_exec (store, sql, NULL));
  return sqlite3_last_insert_rowid (pd_store_get_db (store));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("pd-trace-code-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "pharmdesk.db", NULL);
  f->store = pd_store_open (f->path, &error);
  g_assert_no_error (error);
  f->amlo_batch = insert_batch (f->store, "YP1001", "A2611");
  f->met_batch = insert_batch (f->store, "YP1029", "M2610");
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autofree char *sql = g_strdup_printf ("INSERT INTO trace_code (code, drug_code, batch_id, state, units_left, updated_at) "
                                              "VALUES ('%s', '%s', %" G_GINT64_FORMAT ", '%s', %d, '2026-11-02T10:00:00+08:00')",
                                              rows[i].code, rows[i].drug,
                                              g_str_equal (rows[i].drug, "YP1001") ? f->amlo_batch : f->met_batch,
                                              rows[i].state, rows[i].units_left);

      g_assert_true (pd_store_exec (f->store, sql, NULL));
    }
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) d = NULL;
  const char *name;

  if (f->store != NULL)
    pd_store_close (f->store);
  g_clear_object (&f->store);
  d = g_dir_open (f->dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_remove (p);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

static PdScanResult
check (sqlite3        *db,
       const PdKbDrug *drug,
       const char     *code,
       int            *units_left,
       gint64         *batch_id)
{
  g_autoptr(GError) error = NULL;
  PdScanResult r = pd_trace_code_check (db, drug, code, NULL, 3, units_left, batch_id, &error);

  g_assert_no_error (error);
  return r;
}

/* Exactly 20 ASCII digits: nothing is stripped, and a code refused on
 * its form never reaches the database (db NULL here). */
static void
test_form (void)
{
  static const char *bad[] = {
    "",
    "6901001000000001999",        /* 19 */
    "690100100000000199990",      /* 21 */
    "6901001000000001999A",
    "6901001000000001999\n",      /* the wedge's Enter left in */
    " 6901001000000001999",
    "69010010000000019999\n",
    "６９０１００１０００００００００１９９９９",   /* full-width digits */
  };

  g_assert_cmpint (pd_trace_code_check (NULL, &amlodipine, NULL, NULL, 1, NULL, NULL, NULL), ==, PD_SCAN_NOT_20_DIGITS);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_cmpint (pd_trace_code_check (NULL, &amlodipine, bad[i], NULL, 1, NULL, NULL, NULL), ==, PD_SCAN_NOT_20_DIGITS);
  g_assert_false (pd_scan_result_is_ok (PD_SCAN_NOT_20_DIGITS));
}

/* The drug's 7-digit identification code where the knowledge base has
 * one; any 20 digits for a drug without. */
static void
test_prefix (Fixture       *f,
             gconstpointer  data)
{
  sqlite3 *db = pd_store_get_db (f->store);

  g_assert_cmpint (pd_trace_code_check (NULL, &amlodipine, "69010020000000019999", NULL, 1, NULL, NULL, NULL), ==, PD_SCAN_WRONG_PREFIX);
  g_assert_cmpint (pd_trace_code_check (NULL, &amlodipine, "81000290000000029999", NULL, 1, NULL, NULL, NULL), ==, PD_SCAN_WRONG_PREFIX);
  g_assert_cmpint (check (db, &amlodipine, NEW_CODE, NULL, NULL), ==, PD_SCAN_OK);
  g_assert_cmpint (check (db, &metformin, "81000290000000029999", NULL, NULL), ==, PD_SCAN_OK);
  g_assert_cmpint (check (db, &metformin, NEW_CODE, NULL, NULL), ==, PD_SCAN_OK);
  g_assert_cmpint (check (db, NULL, NEW_CODE, NULL, NULL), ==, PD_SCAN_OK);
  g_assert_true (pd_scan_result_is_ok (PD_SCAN_OK));
  g_assert_false (pd_scan_result_is_ok (PD_SCAN_WRONG_PREFIX));
}

/* Codes taken by this fill: REPEATED (before TOO_MANY: the scan is said
 * as the repeat it is); no room left: TOO_MANY, even for a good code. */
static void
test_this_fill (Fixture       *f,
                gconstpointer  data)
{
  sqlite3 *db = pd_store_get_db (f->store);
  const char *taken[] = { AMLO_PREFIX "0000000019998", NEW_CODE, NULL };
  const char *other[] = { AMLO_PREFIX "0000000019998", NULL };

  g_assert_cmpint (pd_trace_code_check (db, &amlodipine, NEW_CODE, taken, 1, NULL, NULL, NULL), ==, PD_SCAN_REPEATED);
  g_assert_cmpint (pd_trace_code_check (db, &amlodipine, NEW_CODE, taken, 0, NULL, NULL, NULL), ==, PD_SCAN_REPEATED);
  g_assert_cmpint (pd_trace_code_check (db, &amlodipine, NEW_CODE, other, 0, NULL, NULL, NULL), ==, PD_SCAN_TOO_MANY);
  g_assert_cmpint (pd_trace_code_check (db, &amlodipine, NEW_CODE, NULL, 0, NULL, NULL, NULL), ==, PD_SCAN_TOO_MANY);
  g_assert_cmpint (pd_trace_code_check (db, &amlodipine, NEW_CODE, other, 1, NULL, NULL, NULL), ==, PD_SCAN_OK);
  g_assert_false (pd_scan_result_is_ok (PD_SCAN_REPEATED));
  g_assert_false (pd_scan_result_is_ok (PD_SCAN_TOO_MANY));
}

/* What the table says of a code: each state, this drug or another. */
static void
test_table (Fixture       *f,
            gconstpointer  data)
{
  sqlite3 *db = pd_store_get_db (f->store);
  int units = -1;
  gint64 batch = -1;

  g_assert_cmpint (check (db, &amlodipine, AMLO_PREFIX "0000000010001", &units, &batch), ==, PD_SCAN_OPENED);
  g_assert_cmpint (units, ==, 12);
  g_assert_cmpint (batch, ==, f->amlo_batch);
  g_assert_true (pd_scan_result_is_ok (PD_SCAN_OPENED));
  /* An opened box with nothing left is used up. */
  g_assert_cmpint (check (db, &amlodipine, AMLO_PREFIX "0000000010002", &units, &batch), ==, PD_SCAN_USED);
  g_assert_cmpint (units, ==, 0);
  g_assert_cmpint (batch, ==, 0);
  g_assert_cmpint (check (db, &amlodipine, AMLO_PREFIX "0000000010003", &units, &batch), ==, PD_SCAN_RETURNED);
  g_assert_cmpint (units, ==, 0);
  g_assert_cmpint (batch, ==, f->amlo_batch);
  g_assert_true (pd_scan_result_is_ok (PD_SCAN_RETURNED));
  for (guint i = 3; i < 6; i++)
    g_assert_cmpint (check (db, &amlodipine, rows[i].code, NULL, NULL), ==, PD_SCAN_USED);
  g_assert_false (pd_scan_result_is_ok (PD_SCAN_USED));

  /* Metformin has no prefix: amlodipine's boxes reach the table. */
  g_assert_cmpint (check (db, &metformin, rows[0].code, &units, &batch), ==, PD_SCAN_OTHER_DRUG);
  g_assert_cmpint (units, ==, 0);
  g_assert_cmpint (batch, ==, 0);
  g_assert_cmpint (check (db, &metformin, rows[2].code, NULL, NULL), ==, PD_SCAN_OTHER_DRUG);
  g_assert_cmpint (check (db, &metformin, rows[3].code, NULL, NULL), ==, PD_SCAN_USED);
  g_assert_cmpint (check (db, &metformin, rows[6].code, &units, &batch), ==, PD_SCAN_OPENED);
  g_assert_cmpint (units, ==, 30);
  g_assert_cmpint (batch, ==, f->met_batch);
  g_assert_cmpint (check (db, &metformin, rows[7].code, NULL, NULL), ==, PD_SCAN_RETURNED);
  g_assert_cmpint (check (db, &metformin, rows[8].code, NULL, NULL), ==, PD_SCAN_USED);
  g_assert_false (pd_scan_result_is_ok (PD_SCAN_OTHER_DRUG));

  /* A drug the knowledge base does not know cannot claim an opened box. */
  g_assert_cmpint (check (db, NULL, rows[0].code, NULL, NULL), ==, PD_SCAN_OTHER_DRUG);
  g_assert_cmpint (check (db, NULL, rows[3].code, NULL, NULL), ==, PD_SCAN_USED);
}

/* The statement kept for a connection ends with it: a reader and the
 * store close cleanly (sqlite3_close would say SQLITE_BUSY over a
 * statement left behind, and the store's WAL would stay), and a new
 * connection, perhaps at the same address, prepares its own. */
static void
test_connections (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);

  for (int round = 0; round < 5; round++)
    {
      sqlite3 *reader = pd_store_open_reader (f->store, &error);

      g_assert_no_error (error);
      g_assert_cmpint (check (reader, &amlodipine, rows[0].code, NULL, NULL), ==, PD_SCAN_OPENED);
      g_assert_cmpint (check (reader, &amlodipine, NEW_CODE, NULL, NULL), ==, PD_SCAN_OK);
      g_assert_cmpint (sqlite3_close (reader), ==, SQLITE_OK);
    }

  g_assert_cmpint (check (pd_store_get_db (f->store), &amlodipine, rows[3].code, NULL, NULL), ==, PD_SCAN_USED);
  pd_store_close (f->store);
  g_clear_object (&f->store);
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));

  /* Reopened: a code written since is seen (no stale statement). */
  f->store = pd_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (check (pd_store_get_db (f->store), &amlodipine, NEW_CODE, NULL, NULL), ==, PD_SCAN_OK);
  g_assert_true (pd_store_exec (f->store, "UPDATE trace_code SET state = 'sold' WHERE code = '" AMLO_PREFIX "0000000010001'", NULL));
  g_assert_cmpint (check (pd_store_get_db (f->store), &amlodipine, rows[0].code, NULL, NULL), ==, PD_SCAN_USED);
}

typedef struct {
  sqlite3 *db;
  gboolean own;
  const char *path;
} Worker;

static gpointer
worker_run (gpointer data)
{
  Worker *w = data;
  sqlite3 *db = w->db;

  if (w->own)
    g_assert_cmpint (sqlite3_open_v2 (w->path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  for (int i = 0; i < 2000; i++)
    {
      guint k = (guint) i % G_N_ELEMENTS (rows);
      PdScanResult want = k == 0 ? PD_SCAN_OPENED : k == 2 ? PD_SCAN_RETURNED : k < 6 ? PD_SCAN_USED : PD_SCAN_WRONG_PREFIX;
      int units = 0;

      g_assert_cmpint (check (db, &amlodipine, rows[k].code, &units, NULL), ==, want);
      g_assert_cmpint (units, ==, k == 0 ? 12 : 0);
      g_assert_cmpint (check (db, &amlodipine, NEW_CODE, NULL, NULL), ==, PD_SCAN_OK);
    }
  if (w->own)
    g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
  return NULL;
}

/* Threads each on a connection of their own, and threads sharing one
 * (SQLite's serialized mode): every answer right, every close clean. */
static void
test_threads (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *shared = pd_store_open_reader (f->store, &error);
  Worker workers[6];
  GThread *threads[6];

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      workers[i] = (Worker) { .db = shared, .own = i % 2 == 0, .path = f->path };
      threads[i] = g_thread_new ("scan", worker_run, &workers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (sqlite3_close (shared), ==, SQLITE_OK);
}

/* A database without the table: an error, and never an accepted code. */
static void
test_error (void)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;
  PdScanResult r;

  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  r = pd_trace_code_check (db, &amlodipine, NEW_CODE, NULL, 1, NULL, NULL, &error);
  g_assert_nonnull (error);
  g_assert_false (pd_scan_result_is_ok (r));
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

static void
assert_says (PdScanResult    result,
             const char     *code,
             const PdKbDrug *drug,
             const char     *part)
{
  g_autofree char *text = pd_scan_result_describe (result, code, drug);

  g_assert_nonnull (text);
  g_assert_true (g_utf8_validate (text, -1, NULL));
  if (strstr (text, part) == NULL)
    g_error ("“%s” does not say “%s”", text, part);
  for (const char *p = text; *p != '\0'; p++)
    g_assert_false (*p == '\n' || *p == '\t');
}

/* One plain sentence per result, naming the code, and the prefix where
 * it was wrong. */
static void
test_describe (void)
{
  assert_says (PD_SCAN_OK, NEW_CODE, &amlodipine, NEW_CODE);
  assert_says (PD_SCAN_OPENED, rows[0].code, &amlodipine, "opened");
  assert_says (PD_SCAN_RETURNED, rows[2].code, &amlodipine, "back to stock");
  assert_says (PD_SCAN_NOT_20_DIGITS, "6901001000000001999", &amlodipine, "6901001000000001999 is not 20 digits (19 characters scanned)");
  assert_says (PD_SCAN_NOT_20_DIGITS, "6", &amlodipine, "(1 character scanned)");
  assert_says (PD_SCAN_NOT_20_DIGITS, "", &amlodipine, "Nothing was scanned");
  assert_says (PD_SCAN_NOT_20_DIGITS, NULL, &amlodipine, "Nothing was scanned");
  assert_says (PD_SCAN_NOT_20_DIGITS, "6901001000000001999A", &amlodipine, "other than the digits");
  assert_says (PD_SCAN_NOT_20_DIGITS, "6901001000000001999\n", &amlodipine, "6901001000000001999\xEF\xBF\xBD");
  assert_says (PD_SCAN_NOT_20_DIGITS, "690100100000000199996901001000000001999969010010000000019999", &amlodipine,
               "690100100000000199996901… is not 20 digits (60 characters scanned)");
  assert_says (PD_SCAN_NOT_20_DIGITS, "69\xFF", &amlodipine, "69\xEF\xBF\xBD");
  assert_says (PD_SCAN_WRONG_PREFIX, "81000290000000029999", &amlodipine, "81000290000000029999 does not begin with " AMLO_PREFIX);
  assert_says (PD_SCAN_WRONG_PREFIX, "81000290000000029999", &amlodipine, amlodipine.name);
  assert_says (PD_SCAN_USED, rows[3].code, &amlodipine, "already used in this pharmacy");
  assert_says (PD_SCAN_OTHER_DRUG, rows[6].code, &amlodipine, "another drug");
  assert_says (PD_SCAN_REPEATED, NEW_CODE, &amlodipine, "already scanned");
  assert_says (PD_SCAN_TOO_MANY, NEW_CODE, &amlodipine, "too many");
  assert_says (PD_SCAN_USED, rows[3].code, NULL, rows[3].code);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trace-code/form", test_form);
  g_test_add ("/trace-code/prefix", Fixture, NULL, fixture_set_up, test_prefix, fixture_tear_down);
  g_test_add ("/trace-code/this-fill", Fixture, NULL, fixture_set_up, test_this_fill, fixture_tear_down);
  g_test_add ("/trace-code/table", Fixture, NULL, fixture_set_up, test_table, fixture_tear_down);
  g_test_add ("/trace-code/connections", Fixture, NULL, fixture_set_up, test_connections, fixture_tear_down);
  g_test_add ("/trace-code/threads", Fixture, NULL, fixture_set_up, test_threads, fixture_tear_down);
  g_test_add_func ("/trace-code/error", test_error);
  g_test_add_func ("/trace-code/describe", test_describe);
  return g_test_run ();
}
