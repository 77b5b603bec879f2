/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pharmdesk-bench"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "pd-bench.h"
#include "pd-money.h"
#include "pd-store.h"

/* pharmdesk-bench: each hot path timed next to its floor (the same work
 * done the plainest way possible) in the same run, so that the ratio, not
 * the machine, is what a change moves. Prints a table on stderr and JSON
 * on stdout. Later issues add their paths to the table below. */

static char *workdir;

static char *
bench_path (const char *name)
{
  return g_build_filename (workdir, name, NULL);
}

static void
remove_db (const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);

  g_remove (path);
  g_remove (wal);
  g_remove (shm);
}

/* --- store: a batch of rows in one write transaction -------------------- */

#define BATCH_ROWS 20000

static gboolean
insert_batch (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  int base = GPOINTER_TO_INT (user_data);

  for (int i = 0; i < BATCH_ROWS; i++)
    {
      sqlite3_stmt *stmt = pd_store_prepare (store,
        "INSERT INTO prescription (uuid, rx_system, rx_number, authored_at) VALUES (?, 'urn:rx', ?, ?)", error);
      char uuid[32], number[32];

      if (stmt == NULL)
        return FALSE;
      g_snprintf (uuid, sizeof uuid, "u-%d", base + i);
      g_snprintf (number, sizeof number, "RX-%08d", base + i);
      sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, number, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, "2026-11-20T08:00:00+08:00", -1, SQLITE_STATIC);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  return TRUE;
}

static double
store_batch_run (int iteration)
{
  g_autofree char *path = bench_path ("batch.db");
  g_autoptr(PdStore) store = NULL;
  g_autoptr(GError) error = NULL;
  gint64 t0;
  double s;

  remove_db (path);
  store = pd_store_open (path, &error);
  g_assert_no_error (error);
  t0 = g_get_monotonic_time ();
  if (!pd_store_write (store, insert_batch, GINT_TO_POINTER (iteration * BATCH_ROWS), &error))
    g_error ("%s", error->message);
  s = (g_get_monotonic_time () - t0) / 1e6;
  pd_store_close (store);
  return BATCH_ROWS / s;
}

static double
store_batch_floor (int iteration)
{
  g_autofree char *path = bench_path ("batch-floor.db");
  g_autoptr(PdStore) store = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 t0;
  double s;

  /* Same schema and pragmas, raw SQLite calls. */
  remove_db (path);
  store = pd_store_open (path, NULL);
  pd_store_close (store);
  sqlite3_open (path, &db);
  sqlite3_exec (db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", NULL, NULL, NULL);
  sqlite3_prepare_v2 (db, "INSERT INTO prescription (uuid, rx_system, rx_number, authored_at) VALUES (?, 'urn:rx', ?, ?)", -1, &stmt, NULL);
  t0 = g_get_monotonic_time ();
  sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  for (int i = 0; i < BATCH_ROWS; i++)
    {
      char uuid[32], number[32];

      g_snprintf (uuid, sizeof uuid, "u-%d", i);
      g_snprintf (number, sizeof number, "RX-%08d", i);
      sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, number, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, "2026-11-20T08:00:00+08:00", -1, SQLITE_STATIC);
      sqlite3_step (stmt);
      sqlite3_reset (stmt);
    }
  sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
  s = (g_get_monotonic_time () - t0) / 1e6;
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return BATCH_ROWS / s;
}

/* --- store: open with the cheap checks ---------------------------------- */

#define OPENS 200

static double
store_open_run (int iteration)
{
  g_autofree char *path = bench_path ("open.db");
  gint64 t0;

  if (iteration == 0)
    {
      g_autoptr(PdStore) s = pd_store_open (path, NULL);
      pd_store_close (s);
    }
  t0 = g_get_monotonic_time ();
  for (int i = 0; i < OPENS; i++)
    {
      g_autoptr(PdStore) s = pd_store_open (path, NULL);
      g_assert_nonnull (s);
      pd_store_close (s);
    }
  return OPENS / ((g_get_monotonic_time () - t0) / 1e6);
}

static double
store_open_floor (int iteration)
{
  g_autofree char *path = bench_path ("open.db");
  gint64 t0 = g_get_monotonic_time ();

  /* Open, read the version, close: the least an open can do. */
  for (int i = 0; i < OPENS; i++)
    {
      sqlite3 *db = NULL;
      sqlite3_stmt *stmt = NULL;

      sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL);
      sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL);
      sqlite3_step (stmt);
      sqlite3_finalize (stmt);
      sqlite3_close (db);
    }
  return OPENS / ((g_get_monotonic_time () - t0) / 1e6);
}

/* --- money: formatting amounts for the wire ------------------------------ */

#define AMOUNTS 1000000

static double
money_format_run (int iteration)
{
  gint64 t0 = g_get_monotonic_time ();
  gsize total = 0;

  for (gint64 fen = 0; fen < AMOUNTS; fen++)
    {
      g_autofree char *s = pd_money_format_fen (fen * 7);
      total += strlen (s);
    }
  g_assert_cmpuint (total, >, 0);
  return AMOUNTS / ((g_get_monotonic_time () - t0) / 1e6);
}

static double
money_format_floor (int iteration)
{
  gint64 t0 = g_get_monotonic_time ();
  gsize total = 0;

  for (gint64 fen = 0; fen < AMOUNTS; fen++)
    {
      g_autofree char *s = g_strdup_printf ("%" G_GINT64_FORMAT, fen * 7);
      total += strlen (s);
    }
  g_assert_cmpuint (total, >, 0);
  return AMOUNTS / ((g_get_monotonic_time () - t0) / 1e6);
}

static const PdBench benches[] = {
  { "store.write-batch", "rows/s", "20,000 prescription rows in one pd_store_write() transaction",
    store_batch_run, "raw sqlite3 prepared inserts, same schema", store_batch_floor },
  { "store.open", "opens/s", "pd_store_open() of an existing database (header, probe, pragmas)",
    store_open_run, "sqlite3_open_v2 + PRAGMA user_version", store_open_floor },
  { "money.format-fen", "amounts/s", "pd_money_format_fen()",
    money_format_run, "g_strdup_printf of the integer", money_format_floor },
};

int
main (int    argc,
      char **argv)
{
  g_autofree char *filter = NULL;
  int repeat = 3;
  int scan_codes = (int) pd_bench_scan_codes;
  int scans = (int) pd_bench_scan_scans;
  GOptionEntry entries[] = {
    { "filter", 'f', 0, G_OPTION_ARG_STRING, &filter, "Run only benchmarks whose name contains TEXT", "TEXT" },
    { "repeat", 'r', 0, G_OPTION_ARG_INT, &repeat, "Runs per benchmark (the best counts)", "N" },
    { "scan-codes", 0, 0, G_OPTION_ARG_INT, &scan_codes, "scan.check: traceability codes stored (default 10,000,000)", "N" },
    { "scans", 0, 0, G_OPTION_ARG_INT, &scans, "scan.check: scans checked per run (default 100,000)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- PharmDesk's hot paths next to their floors");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "pharmdesk-bench: %s\n", error->message);
      return 2;
    }
  if (scan_codes < 1000 || scans < 100)
    {
      fprintf (stderr, "pharmdesk-bench: --scan-codes takes at least 1000, --scans at least 100\n");
      return 2;
    }
  pd_bench_scan_codes = (guint) scan_codes;
  pd_bench_scan_scans = (guint) scans;
  workdir = g_dir_make_tmp ("pharmdesk-bench-XXXXXX", NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "benchmarks");
  json_builder_begin_array (b);
  fprintf (stderr, "%-24s %14s %14s %8s  %s\n", "benchmark", "path", "floor", "floor/path", "unit");
  pd_bench_run_table (benches, G_N_ELEMENTS (benches), filter, repeat, b);
  pd_bench_run_table (pd_bench_review, pd_bench_review_n, filter, repeat, b);
  pd_bench_run_table (pd_bench_queue, pd_bench_queue_n, filter, repeat, b);
  pd_bench_run_table (pd_bench_sync, pd_bench_sync_n, filter, repeat, b);
  pd_bench_run_table (pd_bench_json, pd_bench_json_n, filter, repeat, b);
  pd_bench_run_table (pd_bench_scan, pd_bench_scan_n, filter, repeat, b);
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  json = json_generator_to_data (gen, NULL);
  fputs (json, stdout);
  fputs ("\n", stdout);

  {
    g_autoptr(GDir) d = g_dir_open (workdir, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *p = g_build_filename (workdir, name, NULL);
        g_remove (p);
      }
    g_rmdir (workdir);
  }
  return 0;
}
