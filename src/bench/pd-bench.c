/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pharmdesk-bench"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pd-bench.h"

/* Path and floor alternate, best of `repeat`, so that a noisy second core
 * hurts both alike. ratio = floor / path: 1.0 is as fast as the floor. */
void
pd_bench_run_table (const PdBench *benches,
                    guint          n,
                    const char    *filter,
                    int            repeat,
                    JsonBuilder   *out)
{
  for (guint i = 0; i < n; i++)
    {
      const PdBench *bench = &benches[i];
      double best = 0, best_floor = 0;

      if (filter != NULL && strstr (bench->name, filter) == NULL)
        continue;
      for (int r = 0; r < MAX (repeat, 1); r++)
        {
          double v = bench->run (r);
          double f = bench->floor != NULL ? bench->floor (r) : 0;

          best = MAX (best, v);
          best_floor = MAX (best_floor, f);
        }
      fprintf (stderr, "%-24s %14.0f %14.0f %8.2f  %s\n", bench->name, best, best_floor,
               best > 0 && best_floor > 0 ? best_floor / best : 0.0, bench->unit);

      json_builder_begin_object (out);
      json_builder_set_member_name (out, "name");
      json_builder_add_string_value (out, bench->name);
      json_builder_set_member_name (out, "what");
      json_builder_add_string_value (out, bench->what);
      json_builder_set_member_name (out, "unit");
      json_builder_add_string_value (out, bench->unit);
      json_builder_set_member_name (out, "value");
      json_builder_add_int_value (out, (gint64) best);
      json_builder_set_member_name (out, "floor");
      json_builder_add_string_value (out, bench->floor_what != NULL ? bench->floor_what : "");
      json_builder_set_member_name (out, "floor_value");
      json_builder_add_int_value (out, (gint64) best_floor);
      json_builder_set_member_name (out, "floor_over_value_milli");
      json_builder_add_int_value (out, best > 0 ? (gint64) (1000.0 * best_floor / best) : 0);
      if (bench->report != NULL)
        bench->report (out);
      json_builder_end_object (out);
    }
}
