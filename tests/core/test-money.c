/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-money"

#include "config.h"

#include "pd-money.h"

static void
test_parse (void)
{
  gint64 v = 0;
  g_autoptr(GError) error = NULL;
  struct { const char *text; gint64 fen; } good[] = {
    { "0", 0 }, { "12", 1200 }, { "12.3", 1230 }, { "12.34", 1234 }, { "0.01", 1 },
    { "-3.50", -350 }, { "92233720368547758.07", G_MAXINT64 },
  };
  const char *bad[] = { "", "-", ".5", "5.", "1e3", "12.345", " 1", "1 ", "1,000.00", "¥1", "0x10", "1.2.3" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_assert_true (pd_money_parse_fen (good[i].text, &v, &error));
      g_assert_no_error (error);
      g_assert_cmpint (v, ==, good[i].fen);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (pd_money_parse_fen (bad[i], &v, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
    }
  g_assert_false (pd_money_parse_fen ("92233720368547758.08", &v, &error));
  g_assert_error (error, PD_MONEY_ERROR, PD_MONEY_ERROR_OVERFLOW);
  g_clear_error (&error);

  g_assert_true (pd_money_parse_price_e4 ("0.35", &v, NULL));
  g_assert_cmpint (v, ==, 3500);
  g_assert_true (pd_money_parse_price_e4 ("0.3501", &v, NULL));
  g_assert_cmpint (v, ==, 3501);
  g_assert_false (pd_money_parse_price_e4 ("0.35001", &v, NULL));
}

static void
test_format (void)
{
  g_autofree char *a = pd_money_format_fen (1234);
  g_autofree char *b = pd_money_format_fen (5);
  g_autofree char *c = pd_money_format_fen (-350);
  g_autofree char *d = pd_money_format_price_e4 (3500);
  g_autofree char *e = pd_money_format_fen (G_MININT64 + 1);

  g_assert_cmpstr (a, ==, "12.34");
  g_assert_cmpstr (b, ==, "0.05");
  g_assert_cmpstr (c, ==, "-3.50");
  g_assert_cmpstr (d, ==, "0.3500");
  g_assert_cmpstr (e, ==, "-92233720368547758.07");
}

static void
test_line_amount_rounds_half_up (void)
{
  gint64 fen = 0;

  /* 28 × 0.3500 = 9.80 */
  g_assert_true (pd_money_line_amount_fen (3500, 28, &fen));
  g_assert_cmpint (fen, ==, 980);
  /* 3 × 0.0150 = 0.045 → 0.05 (half up) */
  g_assert_true (pd_money_line_amount_fen (150, 3, &fen));
  g_assert_cmpint (fen, ==, 5);
  /* 3 × 0.0149 = 0.0447 → 0.04 */
  g_assert_true (pd_money_line_amount_fen (149, 3, &fen));
  g_assert_cmpint (fen, ==, 4);
  g_assert_false (pd_money_line_amount_fen (-1, 3, &fen));
  g_assert_false (pd_money_line_amount_fen (G_MAXINT64 / 2, 3, &fen));

  /* 10% of 9.85 = 0.985 → 0.99 */
  g_assert_cmpint (pd_money_apply_ratio_bp (985, 1000), ==, 99);
  g_assert_cmpint (pd_money_apply_ratio_bp (984, 1000), ==, 98);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/money/parse", test_parse);
  g_test_add_func ("/money/format", test_format);
  g_test_add_func ("/money/line-amount", test_line_amount_rounds_half_up);
  return g_test_run ();
}
