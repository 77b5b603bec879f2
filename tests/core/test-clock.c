/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-clock"

#include "config.h"

#include <string.h>

#include "pd-clock.h"

static void
test_parse_requires_offset (void)
{
  gint64 us = 0;
  g_autoptr(GError) error = NULL;

  g_assert_true (pd_time_parse_iso ("2026-11-20T10:00:00+08:00", &us, &error));
  g_assert_no_error (error);
  g_assert_cmpint (us, ==, G_GINT64_CONSTANT (1795140000) * G_USEC_PER_SEC);
  g_assert_true (pd_time_parse_iso ("2026-11-20T02:00:00Z", &us, NULL));
  g_assert_cmpint (us, ==, G_GINT64_CONSTANT (1795140000) * G_USEC_PER_SEC);

  g_assert_false (pd_time_parse_iso ("2026-11-20T10:00:00", &us, &error));
  g_assert_error (error, PD_CLOCK_ERROR, PD_CLOCK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "offset"));
  g_clear_error (&error);
  g_assert_false (pd_time_parse_iso ("2026-11-20", &us, &error));
  g_clear_error (&error);
  g_assert_false (pd_time_parse_iso ("yesterday+08:00", &us, &error));
  g_clear_error (&error);
  g_assert_false (pd_time_parse_iso ("", &us, &error));
}

static void
test_format_in_china_time (void)
{
  g_autofree char *s = pd_time_format_iso (G_GINT64_CONSTANT (1795190399) * G_USEC_PER_SEC);

  /* 15:59:59 UTC is 23:59:59 in Beijing, the same day. */
  g_assert_cmpstr (s, ==, "2026-11-20T23:59:59+08:00");
}

static void
test_set_and_scale (void)
{
  g_autoptr(PdClock) clock = pd_clock_new ();
  gint64 t0, t1;

  g_assert_false (pd_clock_is_set (clock));
  g_assert_cmpint (ABS (pd_clock_now_us (clock) - g_get_real_time ()), <, G_USEC_PER_SEC);

  g_assert_true (pd_clock_set_now_from_iso (clock, "2026-11-20T10:00:00+08:00", NULL));
  t0 = pd_clock_now_us (clock);
  g_assert_cmpint (t0 / G_USEC_PER_SEC, ==, 1795140000);

  /* Frozen: time does not move. */
  pd_clock_set_scale (clock, 0.0);
  t0 = pd_clock_now_us (clock);
  g_usleep (20000);
  g_assert_cmpint (pd_clock_now_us (clock), ==, t0);

  /* A thousand times real speed: 20 ms real is at least 20 s. */
  pd_clock_set_scale (clock, 1000.0);
  g_usleep (20000);
  t1 = pd_clock_now_us (clock);
  g_assert_cmpint (t1 - t0, >=, 20 * G_USEC_PER_SEC);

  /* Moving the clock forward a day, as a test does instead of sleeping. */
  pd_clock_set_now_us (clock, t1 + G_USEC_PER_SEC * G_GINT64_CONSTANT (86400));
  g_assert_cmpint (pd_clock_now_us (clock), >=, t1 + G_USEC_PER_SEC * G_GINT64_CONSTANT (86400));
}

static void
test_env (void)
{
  g_autoptr(PdClock) clock = pd_clock_new ();
  g_autoptr(GError) error = NULL;

  g_setenv ("PHARMDESK_NOW", "2026-11-21T00:00:00+08:00", TRUE);
  g_assert_true (pd_clock_init_from_env (clock, &error));
  g_assert_cmpint (pd_clock_now_s (clock) / 10, ==, G_GINT64_CONSTANT (1795190400) / 10);

  g_setenv ("PHARMDESK_NOW", "tomorrow", TRUE);
  g_assert_false (pd_clock_init_from_env (clock, &error));
  g_assert_nonnull (strstr (error->message, "PHARMDESK_NOW"));
  g_unsetenv ("PHARMDESK_NOW");
}

/* The fast FHIR time reading agrees with GDateTime on 20,000 random
 * instants from 1900 to 2200 in random offsets, and so do the China-time
 * calendar day and its end. */
static void
test_fhir_times_agree_with_gdatetime (void)
{
  GRand *rand = g_rand_new_with_seed (20261203);

  for (int i = 0; i < 20000; i++)
    {
      gint64 secs = g_rand_int_range (rand, -2208988800LL / 1000, 7258118400LL / 1000) * G_GINT64_CONSTANT (1000)
                    + g_rand_int_range (rand, 0, 1000);
      int offset_min = g_rand_int_range (rand, -12 * 4, 14 * 4 + 1) * 15;
      int frac = g_rand_int_range (rand, 0, 1000);
      g_autoptr(GTimeZone) tz = g_time_zone_new_offset (offset_min * 60);
      g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (secs);
      g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, tz);
      g_autoptr(GDateTime) china = g_date_time_to_timezone (utc, pd_china_time_zone ());
      g_autoptr(GDateTime) day_end = NULL;
      g_autofree char *base = g_date_time_format (local, "%Y-%m-%dT%H:%M:%S");
      g_autofree char *text = g_strdup_printf ("%s.%03d%c%02d:%02d", base, frac, offset_min < 0 ? '-' : '+',
                                               ABS (offset_min) / 60, ABS (offset_min) % 60);
      g_autofree char *china_text = g_date_time_format (china, "%Y-%m-%dT%H:%M:%S");
      g_autofree char *china_day = g_date_time_format (china, "%Y-%m-%d");
      gint64 us = 0;
      int y, m, d, plus = g_rand_int_range (rand, 0, 40);

      g_assert_true (pd_time_parse_fhir (text, FALSE, &us));
      g_assert_cmpint (us, ==, secs * G_USEC_PER_SEC + frac * 1000);
      /* Without an offset: China time. */
      g_assert_true (pd_time_parse_fhir (china_text, FALSE, &us));
      g_assert_cmpint (us, ==, secs * G_USEC_PER_SEC);

      pd_china_date (secs * G_USEC_PER_SEC + frac * 1000, &y, &m, &d);
      g_assert_cmpint (y, ==, g_date_time_get_year (china));
      g_assert_cmpint (m, ==, g_date_time_get_month (china));
      g_assert_cmpint (d, ==, g_date_time_get_day_of_month (china));

      day_end = g_date_time_new (pd_china_time_zone (), y, m, d, 23, 59, 59);
      {
        g_autoptr(GDateTime) later = g_date_time_add_days (day_end, plus);

        g_assert_cmpint (pd_china_day_end (y, m, d, plus), ==, g_date_time_to_unix (later) * G_USEC_PER_SEC);
      }
      /* A date alone: its first or last second in China time. */
      g_assert_true (pd_time_parse_fhir (china_day, TRUE, &us));
      g_assert_cmpint (us, ==, pd_china_day_end (y, m, d, 0));
      g_assert_true (pd_time_parse_fhir (china_day, FALSE, &us));
      g_assert_cmpint (us, ==, pd_china_day_end (y, m, d, -1) + G_USEC_PER_SEC);
    }
  g_rand_free (rand);
}

static void
test_fhir_times_refused (void)
{
  const char *bad[] = {
    "", "2026", "2026-02-30", "2025-02-29", "0000-01-01", "2026-13-01", "2026-1-01", "2026-01-01T",
    "2026-01-01T24:00:00", "2026-01-01T10:60:00", "2026-01-01T10:00", "2026-01-01T10:00:00+8:00",
    "2026-01-01T10:00:00+08:00x", "2026-01-01T10:00:00+15:00", "2026-01-01 10:00:00", "２０２６-01-01",
  };
  gint64 us = 0;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (pd_time_parse_fhir (bad[i], FALSE, &us));
  g_assert_false (pd_time_parse_fhir (NULL, FALSE, &us));
  g_assert_true (pd_time_parse_fhir ("2024-02-29", FALSE, &us));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/clock/parse-requires-offset", test_parse_requires_offset);
  g_test_add_func ("/clock/format-china-time", test_format_in_china_time);
  g_test_add_func ("/clock/set-and-scale", test_set_and_scale);
  g_test_add_func ("/clock/env", test_env);
  g_test_add_func ("/clock/fhir-times-agree", test_fhir_times_agree_with_gdatetime);
  g_test_add_func ("/clock/fhir-times-refused", test_fhir_times_refused);
  return g_test_run ();
}
