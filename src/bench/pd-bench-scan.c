/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pharmdesk-bench"

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pd-bench.h"
#include "pd-store.h"
#include "pd-trace-code.h"

/* scan.check: a traceability code scanned at the dispensing counter,
 * checked with pd_trace_code_check() against a pharmacy holding ten
 * million codes (issue 13: within 5 ms at the 99th percentile), next to
 * the bare indexed lookup of the same code on a connection of its own.
 * Latencies are what matters here, so the table's figures are
 * throughputs but the percentiles go to stderr and into the JSON. The
 * first run is cold: the file's pages are dropped from the kernel's cache
 * (posix_fadvise DONTNEED) and both connections are new, as after a
 * restart of the machine; the later runs are warm.
 *
 * The codes: 200 drugs, each a 7-digit identification code (8xxxxxx, as
 * real ones begin), a 9-digit serial and 4 check digits (the 7+9+4 of a
 * 药品追溯码); serials climb by random gaps, so the rows go in in key
 * order, in one transaction with one prepared statement. A quarter of the
 * drugs have no trace_prefix in the knowledge base (their scans reach the
 * table whatever they begin with). States: 85 % dispensed, 5 % sold,
 * 3 % destroyed, 4 % opened (one in ten of them emptied), 3 % back in
 * stock.
 *
 * PHARMDESK_BENCH_SCAN_DB=FILE keeps the database there and reuses it
 * (same seed: the same codes, rebuilt without writing). */

#define N_DRUGS     200
#define TARGET_NS   (5 * 1000 * 1000)
#define SEED        13

guint pd_bench_scan_codes = 10000000;
guint pd_bench_scan_scans = 100000;

typedef struct {
  char   code[21];
  guint8 drug;
} Sample;

typedef struct {
  char          code[24];
  guint8        drug;
  PdScanResult  expected;
} Scan;

typedef struct {
  GArray *check_ns;   /* gint64, every scan of the warm runs */
  GArray *bare_ns;
  GArray *cold_check_ns;   /* the first run */
  GArray *cold_bare_ns;
  guint   counts[PD_SCAN_TOO_MANY + 1];
  double  build_s;
  gint64  db_bytes;
  double  floor_rate;
} Figures;

static char      *dir;
static char      *db_path;
static gboolean   kept;
static PdKbDrug   drugs[N_DRUGS];
static char       codes_of_drugs[N_DRUGS][8];
static char       prefixes[N_DRUGS][8];
static char       names[N_DRUGS][32];
static gint64     batch_ids[N_DRUGS];
static Scan      *scans;
static guint      n_scans;
static PdStore   *store;
static sqlite3   *bare_db;
static sqlite3_stmt *bare_stmt;
static Figures    figures;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
cleanup (void)
{
  const char *suffixes[] = { "", "-wal", "-shm" };

  if (bare_stmt != NULL)
    sqlite3_finalize (bare_stmt);
  if (bare_db != NULL)
    sqlite3_close (bare_db);
  g_clear_object (&store);
  for (guint i = 0; !kept && db_path != NULL && i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = g_strconcat (db_path, suffixes[i], NULL);
      g_remove (p);
    }
  if (dir != NULL)
    g_rmdir (dir);
}

static void
make_drugs (GRand *rand)
{
  guint prefix = 8100000;

  for (guint d = 0; d < N_DRUGS; d++)
    {
      prefix += 1 + g_rand_int_range (rand, 0, 9000);
      g_snprintf (prefixes[d], sizeof prefixes[d], "%07u", prefix);
      g_snprintf (codes_of_drugs[d], sizeof codes_of_drugs[d], "YP%04u", 1001 + d);
      g_snprintf (names[d], sizeof names[d], "drug %u", d);
      drugs[d].code = codes_of_drugs[d];
      drugs[d].name = names[d];
      drugs[d].weight_g = 100;
      drugs[d].trace_prefix = d % 4 == 3 ? NULL : prefixes[d];
    }
}

static gboolean
has_prefix (guint d)
{
  return drugs[d].trace_prefix != NULL;
}

static void
exec_or_die (sqlite3    *db,
             const char *sql)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
}

/* Generates the codes in key order, inserting them when db is not NULL,
 * and keeps a sample of each kind for the scans. */
static void
generate (sqlite3 *db,
          GRand   *rand,
          GArray  *used,
          GArray  *opened,
          GArray  *in_stock)
{
  guint per_drug = MAX (pd_bench_scan_codes / N_DRUGS, 1);
  guint max_gap = MAX (900000000u / per_drug, 2);
  double c = MAX (pd_bench_scan_codes, 1), n = pd_bench_scan_scans;
  double q_used = MIN (1.0, 2 * 0.32 * n / (0.93 * c));
  double q_opened = MIN (1.0, 4 * 0.15 * n / (0.036 * c));
  double q_stock = MIN (1.0, 4 * 0.10 * n / (0.03 * c));
  sqlite3_stmt *stmt = NULL;
  guint made = 0;

  if (db != NULL && sqlite3_prepare_v2 (db, "INSERT INTO trace_code (code, drug_code, batch_id, state, units_left, updated_at) "
                                            "VALUES (?, ?, ?, ?, ?, '2026-11-20T10:00:00+08:00')", -1, &stmt, NULL) != SQLITE_OK)
    g_error ("prepare: %s", sqlite3_errmsg (db));
  for (guint d = 0; d < N_DRUGS; d++)
    {
      guint serial = 0;
      guint count = d == N_DRUGS - 1 ? pd_bench_scan_codes - made : per_drug;

      for (guint i = 0; i < count; i++, made++)
        {
          int roll = g_rand_int_range (rand, 0, 100);
          const char *state;
          int units = 0;
          Sample s;

          serial += 1 + g_rand_int_range (rand, 0, max_gap);
          g_snprintf (s.code, sizeof s.code, "%s%09u%04u", prefixes[d], serial, g_rand_int_range (rand, 0, 10000));
          s.drug = d;
          if (roll < 85)
            state = "dispensed";
          else if (roll < 90)
            state = "sold";
          else if (roll < 93)
            state = "destroyed";
          else if (roll < 97)
            {
              state = "opened";
              units = g_rand_int_range (rand, 0, 10) == 0 ? 0 : g_rand_int_range (rand, 1, 28);
            }
          else
            state = "in_stock";

          if (units > 0 ? g_rand_double (rand) < q_opened
              : g_str_equal (state, "in_stock") ? g_rand_double (rand) < q_stock
              : g_rand_double (rand) < q_used)
            g_array_append_val (units > 0 ? opened : g_str_equal (state, "in_stock") ? in_stock : used, s);

          if (stmt == NULL)
            continue;
          sqlite3_bind_text (stmt, 1, s.code, 20, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 2, drugs[d].code, -1, SQLITE_STATIC);
          sqlite3_bind_int64 (stmt, 3, batch_ids[d]);
          sqlite3_bind_text (stmt, 4, state, -1, SQLITE_STATIC);
          sqlite3_bind_int (stmt, 5, units);
          if (sqlite3_step (stmt) != SQLITE_DONE)
            g_error ("insert %s: %s", s.code, sqlite3_errmsg (db));
          sqlite3_reset (stmt);
        }
    }
  sqlite3_finalize (stmt);
}

/* The pharmacy schema by pd_store_open(); the rows by a plain connection
 * without a journal (a throw-away file), back to WAL at the end. */
static void
build (GRand  *rand,
       GArray *used,
       GArray *opened,
       GArray *in_stock)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) s = pd_store_open (db_path, &error);
  g_autofree char *count = g_strdup_printf ("%u", pd_bench_scan_codes);
  sqlite3 *db = NULL;
  gint64 t0 = now_ns ();

  g_assert_no_error (error);
  for (guint d = 0; d < N_DRUGS; d++)
    {
      g_autofree char *sql = g_strdup_printf ("INSERT INTO stock_batch (uuid, drug_code, lot, manufactured_on, expires_on, boxes_on_hand, received_at) "
                                              "VALUES ('bench-%u', '%s', 'L%u', '2026-01-01', '2028-12-31', 1000, '2026-02-01T09:00:00+08:00')",
                                              d, drugs[d].code, d);

      if (!pd_store_exec (s, sql, &error))
        g_error ("%s", error->message);
      batch_ids[d] = sqlite3_last_insert_rowid (pd_store_get_db (s));
    }
  pd_store_set_meta (s, "bench_scan_codes", count, NULL);
  pd_store_close (s);

  if (sqlite3_open (db_path, &db) != SQLITE_OK)
    g_error ("%s: %s", db_path, sqlite3_errmsg (db));
  exec_or_die (db, "PRAGMA journal_mode=DELETE; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144");
  exec_or_die (db, "BEGIN");
  generate (db, rand, used, opened, in_stock);
  exec_or_die (db, "COMMIT");
  exec_or_die (db, "PRAGMA journal_mode=WAL");
  sqlite3_close (db);
  figures.build_s = (now_ns () - t0) / 1e9;
}

static guint
other_drug_without_prefix (GRand *rand,
                           guint  not)
{
  for (;;)
    {
      guint d = g_rand_int_range (rand, 0, N_DRUGS);

      if (!has_prefix (d) && d != not)
        return d;
    }
}

static const Sample *
pick (GRand  *rand,
      GArray *from)
{
  g_assert_cmpuint (from->len, >, 0);
  return &g_array_index (from, Sample, g_rand_int_range (rand, 0, from->len));
}

/* A sample of opened or returned boxes of drugs without a known prefix. */
static const Sample *
pick_unprefixed (GRand  *rand,
                 GArray *opened,
                 GArray *in_stock)
{
  for (guint tries = 0; tries < 100000; tries++)
    {
      const Sample *s = pick (rand, g_rand_boolean (rand) ? opened : in_stock);

      if (!has_prefix (s->drug))
        return s;
    }
  g_error ("scan: too few codes to find another drug's opened box");
}

/* 30 % new boxes, 32 % used, 10 % opened, 5 % back in stock, 5 % another
 * drug's box, 15 % a wrong prefix, 3 % not 20 digits; shuffled. */
static void
make_scans (GRand  *rand,
            GArray *used,
            GArray *opened,
            GArray *in_stock)
{
  n_scans = pd_bench_scan_scans;
  scans = g_new0 (Scan, n_scans);
  for (guint i = 0; i < n_scans; i++)
    {
      Scan *scan = &scans[i];
      guint kind = (guint) ((guint64) i * 100 / n_scans);
      const Sample *s;

      if (kind < 30)
        {
          scan->drug = g_rand_int_range (rand, 0, N_DRUGS);
          g_snprintf (scan->code, sizeof scan->code, "%s%09u%04u", prefixes[scan->drug],
                      g_rand_int_range (rand, 0, 1000000000), g_rand_int_range (rand, 0, 10000));
          scan->expected = PD_SCAN_OK;
        }
      else if (kind < 77)
        {
          s = pick (rand, kind < 62 ? used : kind < 72 ? opened : in_stock);
          memcpy (scan->code, s->code, sizeof s->code);
          scan->drug = s->drug;
          scan->expected = kind < 62 ? PD_SCAN_USED : kind < 72 ? PD_SCAN_OPENED : PD_SCAN_RETURNED;
        }
      else if (kind < 82)
        {
          s = pick_unprefixed (rand, opened, in_stock);
          memcpy (scan->code, s->code, sizeof s->code);
          scan->drug = other_drug_without_prefix (rand, s->drug);
          scan->expected = PD_SCAN_OTHER_DRUG;
        }
      else if (kind < 97)
        {
          s = pick (rand, used);
          memcpy (scan->code, s->code, sizeof s->code);
          do
            scan->drug = g_rand_int_range (rand, 0, N_DRUGS);
          while (!has_prefix (scan->drug) || scan->drug == s->drug);
          scan->expected = PD_SCAN_WRONG_PREFIX;
        }
      else
        {
          s = pick (rand, used);
          memcpy (scan->code, s->code, 19);
          scan->drug = s->drug;
          scan->expected = PD_SCAN_NOT_20_DIGITS;
        }
    }
  for (guint i = n_scans; i > 1; i--)
    {
      guint j = g_rand_int_range (rand, 0, i);
      Scan t = scans[i - 1];

      scans[i - 1] = scans[j];
      scans[j] = t;
    }
}

/* Only this file's clean pages: nothing else on the machine is touched. */
static void
drop_from_page_cache (void)
{
  const char *suffixes[] = { "", "-wal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = g_strconcat (db_path, suffixes[i], NULL);
      int fd = open (p, O_RDONLY);

      if (fd < 0)
        continue;
      fdatasync (fd);
      if (posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
        fprintf (stderr, "scan: %s stays in the page cache (posix_fadvise failed)\n", p);
      close (fd);
    }
}

static void
ensure (void)
{
  g_autoptr(GArray) used = g_array_new (FALSE, FALSE, sizeof (Sample));
  g_autoptr(GArray) opened = g_array_new (FALSE, FALSE, sizeof (Sample));
  g_autoptr(GArray) in_stock = g_array_new (FALSE, FALSE, sizeof (Sample));
  g_autoptr(GError) error = NULL;
  g_autofree char *kept_codes = NULL;
  g_autofree char *count = g_strdup_printf ("%u", pd_bench_scan_codes);
  const char *keep = g_getenv ("PHARMDESK_BENCH_SCAN_DB");
  GRand *rand;
  GStatBuf st;

  if (store != NULL)
    return;
  atexit (cleanup);
  figures.check_ns = g_array_new (FALSE, FALSE, sizeof (gint64));
  figures.bare_ns = g_array_new (FALSE, FALSE, sizeof (gint64));
  figures.cold_check_ns = g_array_new (FALSE, FALSE, sizeof (gint64));
  figures.cold_bare_ns = g_array_new (FALSE, FALSE, sizeof (gint64));
  rand = g_rand_new_with_seed (SEED);
  make_drugs (rand);
  if (keep != NULL)
    {
      db_path = g_strdup (keep);
      kept = TRUE;
    }
  else
    {
      dir = g_dir_make_tmp ("pharmdesk-bench-scan-XXXXXX", NULL);
      db_path = g_build_filename (dir, "scan.db", NULL);
    }

  if (kept && g_file_test (db_path, G_FILE_TEST_EXISTS))
    {
      store = pd_store_open (db_path, &error);
      g_assert_no_error (error);
      kept_codes = pd_store_get_meta (store, "bench_scan_codes");
      if (g_strcmp0 (kept_codes, count) != 0)
        g_error ("scan: %s holds %s codes, not %u: remove it or pass --scan-codes %s",
                 db_path, kept_codes, pd_bench_scan_codes, kept_codes);
      generate (NULL, rand, used, opened, in_stock);
      fprintf (stderr, "scan: reusing %s\n", db_path);
    }
  else
    {
      build (rand, used, opened, in_stock);
      fprintf (stderr, "scan: %u codes stored in %.1f s\n", pd_bench_scan_codes, figures.build_s);
      store = pd_store_open (db_path, &error);
      g_assert_no_error (error);
    }
  if (g_stat (db_path, &st) == 0)
    figures.db_bytes = st.st_size;
  make_scans (rand, used, opened, in_stock);
  g_rand_free (rand);

  if (sqlite3_open_v2 (db_path, &bare_db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (bare_db, "SELECT state FROM trace_code WHERE code = ?", -1, &bare_stmt, NULL) != SQLITE_OK)
    g_error ("scan: %s", sqlite3_errmsg (bare_db));
  drop_from_page_cache ();
}

static gint64
bare_lookup (const char *code)
{
  gint64 t0 = now_ns ();
  int rc;

  sqlite3_bind_text (bare_stmt, 1, code, -1, SQLITE_STATIC);
  rc = sqlite3_step (bare_stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    g_error ("scan: %s", sqlite3_errmsg (bare_db));
  sqlite3_reset (bare_stmt);
  return now_ns () - t0;
}

/* Every scan through the check and through the bare lookup, alternating
 * which goes first; each answer is the expected one. */
static double
scan_run (int iteration)
{
  static const char * const already[] = { "00000000000000000001", "00000000000000000002", "00000000000000000003", NULL };
  sqlite3 *db;
  gint64 check_total = 0, bare_total = 0;

  ensure ();
  db = pd_store_get_db (store);
  for (guint i = 0; i < n_scans; i++)
    {
      const Scan *scan = &scans[i];
      g_autoptr(GError) error = NULL;
      gint64 t0, check_ns, bare_ns = 0;
      PdScanResult r;
      int units = 0;
      gint64 batch = 0;

      if (i % 2 == 1)
        bare_ns = bare_lookup (scan->code);
      t0 = now_ns ();
      r = pd_trace_code_check (db, &drugs[scan->drug], scan->code, already, 5, &units, &batch, &error);
      check_ns = now_ns () - t0;
      if (i % 2 == 0)
        bare_ns = bare_lookup (scan->code);
      if (error != NULL)
        g_error ("scan %s: %s", scan->code, error->message);
      if (r != scan->expected)
        g_error ("scan %s as %s: %d, expected %d", scan->code, drugs[scan->drug].code, r, scan->expected);
      g_array_append_val (iteration == 0 ? figures.cold_check_ns : figures.check_ns, check_ns);
      g_array_append_val (iteration == 0 ? figures.cold_bare_ns : figures.bare_ns, bare_ns);
      figures.counts[r]++;
      check_total += check_ns;
      bare_total += bare_ns;
    }
  figures.floor_rate = bare_total > 0 ? n_scans / (bare_total / 1e9) : 0;
  return check_total > 0 ? n_scans / (check_total / 1e9) : 0;
}

static double
scan_floor (int iteration)
{
  return figures.floor_rate;
}

static int
compare_ns (gconstpointer a,
            gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static gint64
percentile (GArray *sorted,
            double  p)
{
  guint i;

  if (sorted->len == 0)
    return 0;
  i = (guint) MIN (sorted->len - 1, (guint64) (p * sorted->len));
  return g_array_index (sorted, gint64, i);
}

static void
add_int (JsonBuilder *out,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (out, name);
  json_builder_add_int_value (out, value);
}

static void
print_line (const char *what,
            GArray     *sorted)
{
  if (sorted->len == 0)
    return;
  fprintf (stderr, "  %-30s p50 %8.1f µs   p99 %8.1f µs   max %8.1f µs\n", what,
           percentile (sorted, 0.50) / 1e3, percentile (sorted, 0.99) / 1e3, percentile (sorted, 1.0) / 1e3);
}

static void
add_latencies (JsonBuilder *out,
               const char  *name,
               GArray      *sorted)
{
  json_builder_set_member_name (out, name);
  json_builder_begin_object (out);
  add_int (out, "scans", sorted->len);
  add_int (out, "p50_ns", percentile (sorted, 0.50));
  add_int (out, "p99_ns", percentile (sorted, 0.99));
  add_int (out, "max_ns", percentile (sorted, 1.0));
  json_builder_end_object (out);
}

/* The target holds cold and warm: the worse p99 decides. */
static void
scan_report (JsonBuilder *out)
{
  static const char *result_names[] = {
    "ok", "opened", "returned", "not_20_digits", "wrong_prefix", "used", "other_drug", "repeated", "too_many",
  };
  GArray *sets[4] = { figures.cold_check_ns, figures.cold_bare_ns, figures.check_ns, figures.bare_ns };
  const char *labels[4] = { "cold_check", "cold_bare_lookup", "check", "bare_lookup" };
  gint64 p99;

  for (guint k = 0; k < G_N_ELEMENTS (sets); k++)
    g_array_sort (sets[k], compare_ns);
  p99 = MAX (percentile (figures.cold_check_ns, 0.99), percentile (figures.check_ns, 0.99));

  fprintf (stderr, "  scan: %u codes stored (%.0f MiB), %u scans a run\n", pd_bench_scan_codes,
           figures.db_bytes / 1048576.0, n_scans);
  print_line ("cold pd_trace_code_check", figures.cold_check_ns);
  print_line ("cold bare SELECT state", figures.cold_bare_ns);
  print_line ("warm pd_trace_code_check", figures.check_ns);
  print_line ("warm bare SELECT state", figures.bare_ns);
  fprintf (stderr, "  p99 %.3f ms against 5 ms: %s\n", p99 / 1e6, p99 <= TARGET_NS ? "PASS" : "FAIL");
  fprintf (stderr, "  results (every run):");
  for (guint r = 0; r < G_N_ELEMENTS (result_names); r++)
    if (figures.counts[r] > 0)
      fprintf (stderr, " %s %u", result_names[r], figures.counts[r]);
  fprintf (stderr, "\n");

  add_int (out, "codes_stored", pd_bench_scan_codes);
  add_int (out, "database_bytes", figures.db_bytes);
  for (guint k = 0; k < G_N_ELEMENTS (sets); k++)
    add_latencies (out, labels[k], sets[k]);
  add_int (out, "target_p99_ns", TARGET_NS);
  json_builder_set_member_name (out, "pass");
  json_builder_add_boolean_value (out, p99 <= TARGET_NS);
  json_builder_set_member_name (out, "results");
  json_builder_begin_object (out);
  for (guint r = 0; r < G_N_ELEMENTS (result_names); r++)
    add_int (out, result_names[r], figures.counts[r]);
  json_builder_end_object (out);
}

const PdBench pd_bench_scan[] = {
  { "scan.check", "scans/s", "pd_trace_code_check() of a scan (form, prefix, this fill, trace_code) with --scan-codes stored (default 10,000,000)",
    scan_run, "SELECT state FROM trace_code WHERE code = ? on a plain connection, same codes, same run", scan_floor,
    scan_report },
};
const guint pd_bench_scan_n = G_N_ELEMENTS (pd_bench_scan);
