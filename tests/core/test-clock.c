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

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/clock/parse-requires-offset", test_parse_requires_offset);
  g_test_add_func ("/clock/format-china-time", test_format_in_china_time);
  g_test_add_func ("/clock/set-and-scale", test_set_and_scale);
  g_test_add_func ("/clock/env", test_env);
  return g_test_run ();
}
