/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* One hot path and its floor: each function does its work once and
 * returns a throughput (higher is better) in `unit`. */
typedef double (*PdBenchFunc) (int iteration);

typedef struct {
  const char  *name;
  const char  *unit;
  const char  *what;
  PdBenchFunc  run;
  const char  *floor_what;
  PdBenchFunc  floor;
  /* Optional: more figures (latencies) for the JSON object, after the runs. */
  void       (*report) (JsonBuilder *out);
} PdBench;

extern const PdBench pd_bench_review[];
extern const guint   pd_bench_review_n;
extern const PdBench pd_bench_sync[];
extern const guint   pd_bench_sync_n;
extern const PdBench pd_bench_queue[];
extern const guint   pd_bench_queue_n;
extern const PdBench pd_bench_json[];
extern const guint   pd_bench_json_n;
extern const PdBench pd_bench_scan[];
extern const guint   pd_bench_scan_n;
/* scan.check's sizes: codes stored, scans checked per run. */
extern guint         pd_bench_scan_codes;
extern guint         pd_bench_scan_scans;

void pd_bench_run_table (const PdBench *benches,
                         guint          n,
                         const char    *filter,
                         int            repeat,
                         JsonBuilder   *out);

G_END_DECLS
