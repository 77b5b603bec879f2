/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pharmdesk-bench"

#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-bench.h"
#include "pd-queue-model.h"
#include "pd-vault.h"

/* The review queue over 1,000,000 cached prescriptions (issue 6: a page
 * of scrolling and a search each within 50 ms). Rows are written as the
 * hospital sync writes them: sealed names with their keyed indexes, one
 * to three lines of the default knowledge base's drugs with their pinyin
 * initials, 2 % waiting, 90 % dispensed, 6 % urgent, two years of times. */

#define N_RX        1000000
#define N_PATIENTS  20000
#define ME          "Practitioner/ph-1"

static char *dir;
static PdStore *store;
static PdSession *session;
static char *patient_names[N_PATIENTS];
static char *patient_ids[N_PATIENTS];
static double generate_s;
static char *empty_path;          /* the window's empty cache */
static char *small_path;          /* … and one of 100 prescriptions */
static gboolean store_closed;     /* for the window, after the other runs */

static const char *surnames[] = {
  "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
  "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "欧阳",
};
static const char *given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅玉兰志文";

static void
load_drugs (void)
{
  g_autofree char *path = g_build_filename (SOURCE_DATADIR, "kb", "drugs.csv", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  sqlite3_stmt *stmt;
  int n = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    g_error ("queue bench: cannot read %s", path);
  g_assert_true (pd_store_exec (store, "CREATE TEMP TABLE kb_drug (i INTEGER PRIMARY KEY, code TEXT, name TEXT, pinyin TEXT)", NULL));
  stmt = pd_store_prepare (store, "INSERT INTO kb_drug VALUES (?, ?, ?, ?)", NULL);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], ",", 5);

      if (g_strv_length (f) < 4)
        continue;
      stmt = pd_store_prepare (store, "INSERT INTO kb_drug VALUES (?, ?, ?, ?)", NULL);
      sqlite3_bind_int (stmt, 1, n++);
      sqlite3_bind_text (stmt, 2, f[0], -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, f[2], -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, f[3], -1, SQLITE_TRANSIENT);
      g_assert_true (pd_store_step_done (store, stmt, NULL));
    }
  g_assert_cmpint (n, >, 100);
}

static void
make_patients (GRand *rand)
{
  glong n_given = g_utf8_strlen (given, -1);

  for (int p = 0; p < N_PATIENTS; p++)
    {
      char g1[8] = { 0 }, g2[8] = { 0 };

      g_unichar_to_utf8 (g_utf8_get_char (g_utf8_offset_to_pointer (given, g_rand_int_range (rand, 0, n_given))), g1);
      g_unichar_to_utf8 (g_utf8_get_char (g_utf8_offset_to_pointer (given, g_rand_int_range (rand, 0, n_given))), g2);
      patient_names[p] = g_strconcat (surnames[p % G_N_ELEMENTS (surnames)], g1, p % 3 == 0 ? "" : g2, NULL);
      patient_ids[p] = g_strdup_printf ("1101011%03d%08d", p % 1000, g_rand_int_range (rand, 0, 99999999));
    }
}

static void
insert_prescriptions (GRand *rand)
{
  const guint8 *key = pd_session_get_data_key (session);
  g_autofree guint8 *indexes = g_malloc (N_PATIENTS * 3 * PD_INDEX_SIZE);

  for (int p = 0; p < N_PATIENTS; p++)
    {
      pd_vault_index_name (key, patient_names[p], indexes + (p * 3) * PD_INDEX_SIZE);
      pd_vault_index_surname (key, patient_names[p], indexes + (p * 3 + 1) * PD_INDEX_SIZE);
      pd_vault_index_id_tail (key, patient_ids[p], indexes + (p * 3 + 2) * PD_INDEX_SIZE);
    }
  g_assert_true (pd_store_exec (store, "BEGIN", NULL));
  for (int i = 0; i < N_RX; i++)
    {
      sqlite3_stmt *stmt = pd_store_prepare (store,
        "INSERT INTO prescription (uuid, rx_system, rx_number, task_id, task_version, patient_ref,"
        " patient_name_sealed, patient_name_index, patient_surname_index, patient_id_tail_index,"
        " prescriber_ref, priority, online, authored_at, status, verdict, has_block, claimed_by, last_updated)"
        " VALUES (?1, 'urn:oid:hospital:rx', ?2, ?2, '1', ?3, ?4, ?5, ?6, ?7, 'Practitioner/dr-1', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?10)", NULL);
      int p = g_rand_int_range (rand, 0, N_PATIENTS);
      int r = g_rand_int_range (rand, 0, 1000);
      char uuid[40], number[24], ref[24], at[32];
      const char *status = r < 20 ? "requested" : r < 23 ? "claimed" : r < 25 ? "conflict" : r < 75 ? "approved"
                           : r < 95 ? "rejected" : r < 100 ? "cancelled" : "dispensed";
      int u = g_rand_int_range (rand, 0, 100);
      const char *priority = u < 2 ? "stat" : u < 5 ? "urgent" : u < 6 ? "asap" : "routine";
      gint64 t = G_GINT64_CONSTANT (1731000000) + (gint64) i * 60 + 8 * 3600;
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (t);
      g_autofree char *iso = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S+08:00");
      g_autoptr(GBytes) sealed = NULL;

      g_snprintf (uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", i);
      g_snprintf (number, sizeof number, "RX%010d", i);
      g_snprintf (ref, sizeof ref, "Patient/pt-%d", p);
      g_strlcpy (at, iso, sizeof at);
      sealed = pd_vault_seal (session, "prescription", "patient_name", uuid, patient_names[p], NULL);
      sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, number, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, ref, -1, SQLITE_TRANSIENT);
      sqlite3_bind_blob (stmt, 4, g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), SQLITE_TRANSIENT);
      for (int k = 0; k < 3; k++)
        sqlite3_bind_blob (stmt, 5 + k, indexes + (p * 3 + k) * PD_INDEX_SIZE, PD_INDEX_SIZE, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 8, priority, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 9, r % 7 != 0);
      sqlite3_bind_text (stmt, 10, at, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 11, status, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 12, r % 5 == 0 ? "review" : r % 31 == 0 ? "reject" : "pass", -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 13, r % 97 == 0);
      sqlite3_bind_text (stmt, 14, g_str_equal (status, "claimed") ? (i % 2 ? ME : "Practitioner/ph-2") : NULL, -1, SQLITE_STATIC);
      if (!pd_store_step_done (store, stmt, NULL))
        g_error ("queue bench: insert failed");
    }
  /* One to three lines each, drugs spread over the knowledge base. */
  g_assert_true (pd_store_exec (store,
    "WITH RECURSIVE pos (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM pos WHERE n < 2)"
    " INSERT INTO prescription_line (prescription_id, position, resource_id, version_id, status, drug_code, drug_name, drug_pinyin)"
    " SELECT p.id, pos.n, 'mr-' || p.id || '-' || pos.n, '1', 'active', d.code, d.name, d.pinyin"
    " FROM prescription AS p JOIN pos ON pos.n <= p.id % 3"
    " JOIN kb_drug AS d ON d.i = (p.id * 7919 + pos.n * 104729) % (SELECT count (*) FROM kb_drug)", NULL));
  g_assert_true (pd_store_exec (store, "COMMIT", NULL));
}

static void
cleanup (void)
{
  g_autofree char *path = store != NULL ? g_strdup (pd_store_get_path (store)) : NULL;
  const char *suffixes[] = { "", "-wal", "-shm" };

  g_clear_object (&session);
  g_clear_object (&store);
  for (guint i = 0; empty_path != NULL && i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = g_strconcat (empty_path, suffixes[i], NULL);
      g_autofree char *q = g_strconcat (small_path, suffixes[i], NULL);
      g_remove (p);
      g_remove (q);
    }
  /* A cache kept with PHARMDESK_BENCH_QUEUE_DB stays. */
  if (dir == NULL)
    g_clear_pointer (&path, g_free);
  for (guint i = 0; path != NULL && i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = g_strconcat (path, suffixes[i], NULL);
      g_remove (p);
    }
  if (dir != NULL)
    g_rmdir (dir);
}

static void
ensure (void)
{
  g_autofree char *path = NULL;
  g_autofree char *recovery = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PdSession) admin = NULL;
  PdAccountSpec boss = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec wang = { "wang", "王药师", PD_ROLE_PHARMACIST, "YS-110105-0001", ME, NULL };
  const char *keep;
  GRand *rand;
  gint64 t0;

  if (session != NULL)
    return;
  /* Only this throw-away database: the password hashing is not measured here. */
  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  keep = g_getenv ("PHARMDESK_BENCH_QUEUE_DB");
  atexit (cleanup);
  if (keep != NULL && g_file_test (keep, G_FILE_TEST_EXISTS))
    {
      /* Reuse a cache kept by an earlier run (same seed, same patients). */
      store = pd_store_open (keep, &error);
      g_assert_no_error (error);
      session = pd_session_sign_in (store, "wang", "password-1234", &error);
      g_assert_no_error (error);
      rand = g_rand_new_with_seed (6);
      make_patients (rand);
      g_rand_free (rand);
      return;
    }
  if (keep != NULL)
    path = g_strdup (keep);
  else
    {
      dir = g_dir_make_tmp ("pharmdesk-bench-queue-XXXXXX", NULL);
      path = g_build_filename (dir, "queue.db", NULL);
    }
  store = pd_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_init (store, &boss, "admin-password", &recovery, &error));
  admin = pd_session_sign_in (store, "admin", "admin-password", &error);
  g_assert_true (pd_accounts_add (admin, &wang, "password-1234", &error));
  session = pd_session_sign_in (store, "wang", "password-1234", &error);
  g_assert_no_error (error);

  t0 = g_get_monotonic_time ();
  rand = g_rand_new_with_seed (6);
  load_drugs ();
  make_patients (rand);
  insert_prescriptions (rand);
  g_assert_true (pd_store_exec (store, "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE", NULL));
  g_rand_free (rand);
  generate_s = (g_get_monotonic_time () - t0) / 1e6;
  fprintf (stderr, "queue: %d prescriptions generated in %.1f s\n", N_RX, generate_s);
}

static void
touch (PdQueueModel *model,
       guint         position)
{
  g_autoptr(PdQueueItem) item = g_list_model_get_item (G_LIST_MODEL (model), position);

  g_assert_nonnull (item);
}

/* Each timed once, in milliseconds, on a fresh model (cold for the model,
 * warm for SQLite's page cache after the first run). */
static double
ms_to_rate (gint64 us)
{
  double ms = us / 1000.0;

  return ms > 0 ? 1000.0 / ms : 0;
}

static double
first_page_run (int iteration)
{
  g_autoptr(PdQueueModel) model = NULL;
  gint64 t0;

  ensure ();
  t0 = g_get_monotonic_time ();
  model = pd_queue_model_new (session, NULL);
  for (guint i = 0; i < 20; i++)
    touch (model, i);
  t0 = g_get_monotonic_time () - t0;
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, N_RX);
  fprintf (stderr, "  queue first page: %.2f ms\n", t0 / 1000.0);
  return ms_to_rate (t0);
}

/* The floor: the same 64 rows by rowid, no order, no names. */
static double
floor_read (const char *sql)
{
  sqlite3 *db = pd_store_open_reader (store, NULL);
  sqlite3_stmt *stmt = NULL;
  gint64 t0 = g_get_monotonic_time ();

  sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    ;
  sqlite3_finalize (stmt);
  t0 = g_get_monotonic_time () - t0;
  sqlite3_close (db);
  return ms_to_rate (t0);
}

static double
first_page_floor (int iteration)
{
  return floor_read ("SELECT id, uuid, rx_number, priority, status, authored_at FROM prescription ORDER BY id LIMIT 64");
}

static double
scroll_run (int iteration)
{
  g_autoptr(PdQueueModel) model = NULL;
  guint start;
  gint64 t0, worst = 0;

  ensure ();
  model = pd_queue_model_new (session, NULL);
  start = pd_queue_model_get_segment_start (model, PD_QUEUE_SEGMENT_REST) + 500000;
  touch (model, start);
  /* Ten pages down, one after the other, as a scrolling view asks. */
  for (int p = 1; p <= 10; p++)
    {
      t0 = g_get_monotonic_time ();
      touch (model, start + p * PD_QUEUE_PAGE_SIZE);
      worst = MAX (worst, g_get_monotonic_time () - t0);
    }
  fprintf (stderr, "  queue scroll a page (worst of 10): %.2f ms\n", worst / 1000.0);
  return ms_to_rate (worst);
}

static double
scroll_floor (int iteration)
{
  return floor_read ("SELECT id, uuid, rx_number, priority, status, authored_at FROM prescription WHERE id > 500000 ORDER BY id LIMIT 64");
}

static double
search (const char *what,
        const char *text)
{
  g_autoptr(PdQueueModel) model = NULL;
  gint64 t0;
  guint n;

  ensure ();
  model = pd_queue_model_new (session, NULL);
  t0 = g_get_monotonic_time ();
  pd_queue_model_set_search (model, text);
  n = g_list_model_get_n_items (G_LIST_MODEL (model));
  for (guint i = 0; i < MIN (n, 20); i++)
    touch (model, i);
  t0 = g_get_monotonic_time () - t0;
  fprintf (stderr, "  queue search %s “%s”: %u matches, %.2f ms\n", what, text, n, t0 / 1000.0);
  g_assert_cmpuint (n, >, 0);
  return ms_to_rate (t0);
}

static double search_name_run (int i) { ensure (); return search ("full name", patient_names[1]); }
static double search_surname_run (int i) { ensure (); return search ("surname", "欧阳"); }
static double search_tail_run (int i) { ensure (); return search ("ID last four", patient_ids[2] + 14); }
static double search_drug_run (int i) { return search ("drug name", "阿莫西林"); }
static double search_pinyin_run (int i) { return search ("pinyin", "AMXL"); }
static double search_number_run (int i) { return search ("number", "RX0000765432"); }

static double
status_filter_run (int iteration)
{
  g_autoptr(PdQueueModel) model = NULL;
  gint64 t0;

  ensure ();
  model = pd_queue_model_new (session, NULL);
  t0 = g_get_monotonic_time ();
  pd_queue_model_set_status_filter (model, PD_QUEUE_STATUS_REQUESTED | PD_QUEUE_STATUS_CLAIMED | PD_QUEUE_STATUS_CONFLICT);
  for (guint i = 0; i < 20; i++)
    touch (model, i);
  t0 = g_get_monotonic_time () - t0;
  fprintf (stderr, "  queue filter open statuses: %u rows, %.2f ms\n",
           g_list_model_get_n_items (G_LIST_MODEL (model)), t0 / 1000.0);
  return ms_to_rate (t0);
}

/* The window: the real application (pharmdesk-bench-window, a sibling
 * of this program) signed in on an empty cache and on the million, each
 * in a fresh process, alternately. Needs a display: xvfb-run -a. */
typedef struct {
  double window_ms, queue_ms;
  guint64 rss_kb;
} WindowRun;

static char *
sibling (const char *rel)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = g_path_get_dirname (self);

  return g_build_filename (dir, rel, NULL);
}


static char *
make_cache (guint n)
{
  g_autofree char *recovery = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) cache = NULL;
  g_autoptr(PdSession) admin = NULL;
  PdAccountSpec boss = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec wang = { "wang", "王药师", PD_ROLE_PHARMACIST, "YS-110105-0001", ME, NULL };
  char *path = g_build_filename (g_get_tmp_dir (), "pharmdesk-bench-window-XXXXXX", NULL);

  g_close (g_mkstemp (path), NULL);
  g_remove (path);
  cache = pd_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_init (cache, &boss, "admin-password", &recovery, &error));
  admin = pd_session_sign_in (cache, "admin", "admin-password", &error);
  g_assert_true (pd_accounts_add (admin, &wang, "password-1234", &error));
  if (n > 0)
    {
      /* Rows that draw like the million's: numbers, Chinese drug names. */
      g_autofree char *sql = g_strdup_printf (
        "WITH RECURSIVE i (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < %u)"
        " INSERT INTO prescription (uuid, rx_system, rx_number, priority, status, authored_at)"
        " SELECT 'u-' || n, 'urn:rx', printf ('RX%%010d', n), CASE WHEN n %% 16 = 0 THEN 'stat' ELSE 'routine' END,"
        "  'requested', strftime ('%%Y-%%m-%%dT%%H:%%M:%%S+08:00', 1731000000 + n * 60, 'unixepoch') FROM i;"
        "INSERT INTO prescription_line (prescription_id, position, resource_id, status, drug_name, drug_pinyin)"
        " SELECT id, 0, 'mr-' || id, 'active', '阿莫西林胶囊 0.25g', 'AMXLJN' FROM prescription;", n);

      g_assert_true (pd_store_exec (cache, sql, &error));
    }
  g_clear_object (&admin);
  pd_store_close (cache);
  return path;
}

static gboolean
window_once (const char *db,
             WindowRun  *run)
{
  g_autofree char *exe = sibling ("pharmdesk-bench-window");
  g_autofree char *arg = g_strconcat ("--db=", db, NULL);
  g_autofree char *schemas = sibling ("../../data");
  const char *argv[] = { exe, arg, NULL };
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  g_subprocess_launcher_setenv (launcher, "GTK_A11Y", "none", FALSE);
  g_subprocess_launcher_setenv (launcher, "GSETTINGS_BACKEND", "memory", FALSE);
  g_subprocess_launcher_setenv (launcher, "GSETTINGS_SCHEMA_DIR", schemas, FALSE);
  child = g_subprocess_launcher_spawnv (launcher, argv, &error);
  if (child == NULL || !g_subprocess_communicate_utf8 (child, NULL, NULL, &out, NULL, &error))
    {
      fprintf (stderr, "  queue window: %s\n", error->message);
      return FALSE;
    }
  if (out == NULL || sscanf (out, "window_ms=%lf queue_ms=%lf rss_kb=%" G_GUINT64_FORMAT,
                             &run->window_ms, &run->queue_ms, &run->rss_kb) != 3)
    {
      fprintf (stderr, "  queue window: no report from %s\n", exe);
      return FALSE;
    }
  return TRUE;
}

static WindowRun window_empty, window_small, window_full;

static double
window_run (int iteration)
{
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      fprintf (stderr, "  queue window: no display, skipped (run under xvfb-run -a)\n");
      return 0;
    }
  /* Closed cleanly: the app must not take the bench's open file for an
   * unclean shutdown (which would add a quick_check). */
  if (!store_closed)
    {
      ensure ();
      g_clear_object (&session);
      pd_store_close (store);
      store_closed = TRUE;
    }
  if (empty_path == NULL)
    {
      empty_path = make_cache (0);
      small_path = make_cache (100);
    }
  if (!window_once (empty_path, &window_empty) || !window_once (small_path, &window_small)
      || !window_once (pd_store_get_path (store), &window_full))
    return 0;
  fprintf (stderr, "  queue window empty: first frame %.1f ms, queue frame %.1f ms, VmRSS %" G_GUINT64_FORMAT " KiB\n",
           window_empty.window_ms, window_empty.queue_ms, window_empty.rss_kb);
  /* An empty cache draws a status page, not rows: 100 rows tell the cost
   * of drawing a list from the cost of the cache's size. */
  fprintf (stderr, "  queue window 100: first frame %.1f ms, queue frame %.1f ms, VmRSS %" G_GUINT64_FORMAT " KiB\n",
           window_small.window_ms, window_small.queue_ms, window_small.rss_kb);
  fprintf (stderr, "  queue window 1,000,000: first frame %.1f ms (%.2fx), queue frame %.1f ms (%.2fx),"
           " VmRSS %" G_GUINT64_FORMAT " KiB (%.2fx)\n",
           window_full.window_ms, window_full.window_ms / window_empty.window_ms,
           window_full.queue_ms, window_full.queue_ms / window_empty.queue_ms,
           window_full.rss_kb, (double) window_full.rss_kb / window_empty.rss_kb);
  return ms_to_rate ((gint64) (window_full.queue_ms * 1000));
}

static double
window_floor (int iteration)
{
  return window_empty.queue_ms > 0 ? ms_to_rate ((gint64) (window_empty.queue_ms * 1000)) : 0;
}

const PdBench pd_bench_queue[] = {
  { "queue.first-page", "per s", "new PdQueueModel (tally counts) + its first 20 rows, 1,000,000 cached",
    first_page_run, "64 rows by rowid, no order", first_page_floor },
  { "queue.scroll", "per s", "one more page in the middle of the rest (keyset), worst of ten",
    scroll_run, "64 rows by rowid from the middle", scroll_floor },
  { "queue.filter-open", "per s", "status filter requested+claimed+conflict (5 % of rows) + first 20", status_filter_run, NULL, NULL },
  { "queue.search-name", "per s", "search a full name (keyed index) + first 20 rows", search_name_run, NULL, NULL },
  { "queue.search-surname", "per s", "search a surname (欧阳, 1/30 of patients) + first 20", search_surname_run, NULL, NULL },
  { "queue.search-id-tail", "per s", "search an ID number's last four + first 20", search_tail_run, NULL, NULL },
  { "queue.search-drug", "per s", "search a drug name substring + first 20", search_drug_run, NULL, NULL },
  { "queue.search-pinyin", "per s", "search pinyin initials prefix + first 20", search_pinyin_run, NULL, NULL },
  { "queue.search-number", "per s", "search a prescription number + first 20", search_number_run, NULL, NULL },
  /* Last: it closes the bench's store for the app to open it cleanly. */
  { "queue.window", "per s", "pharmdesk signed in, first frame with the queue, 1,000,000 cached",
    window_run, "the same on an empty cache", window_floor },
};
const guint pd_bench_queue_n = G_N_ELEMENTS (pd_bench_queue);
