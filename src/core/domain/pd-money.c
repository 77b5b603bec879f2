/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-money"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-money.h"

G_DEFINE_QUARK (pd-money-error-quark, pd_money_error)

/* Parses "12", "12.3", "-0.05" into an integer count of 10^-scale yuan.
 * At most max_decimals digits after the point; no exponent, no spaces,
 * no thousands separators: a wire amount is exact or it is refused. */
gboolean
pd_money_parse_yuan (const char *text,
                     guint       max_decimals,
                     gint64     *out_units,
                     guint       scale_decimals,
                     GError    **error)
{
  const char *p = text;
  gboolean negative = FALSE;
  gint64 value = 0;
  guint decimals = 0;
  gboolean any_digit = FALSE;

  g_return_val_if_fail (max_decimals <= scale_decimals, FALSE);

  if (text == NULL || *text == '\0')
    goto invalid;
  if (*p == '-')
    {
      negative = TRUE;
      p++;
    }
  for (; g_ascii_isdigit (*p); p++)
    {
      if (value > (G_MAXINT64 - (*p - '0')) / 10)
        goto overflow;
      value = value * 10 + (*p - '0');
      any_digit = TRUE;
    }
  if (*p == '.')
    {
      if (!any_digit)
        goto invalid;
      p++;
      if (!g_ascii_isdigit (*p))
        goto invalid;
      for (; g_ascii_isdigit (*p); p++)
        {
          if (++decimals > max_decimals)
            {
              g_set_error (error, PD_MONEY_ERROR, PD_MONEY_ERROR_INVALID,
                           _("“%s” has more than %u decimals"), text, max_decimals);
              return FALSE;
            }
          if (value > (G_MAXINT64 - (*p - '0')) / 10)
            goto overflow;
          value = value * 10 + (*p - '0');
          any_digit = TRUE;
        }
    }
  if (*p != '\0' || !any_digit)
    goto invalid;
  for (; decimals < scale_decimals; decimals++)
    {
      if (value > G_MAXINT64 / 10)
        goto overflow;
      value *= 10;
    }
  *out_units = negative ? -value : value;
  return TRUE;

invalid:
  g_set_error (error, PD_MONEY_ERROR, PD_MONEY_ERROR_INVALID,
               _("“%s” is not an amount in yuan"), text != NULL ? text : "");
  return FALSE;
overflow:
  g_set_error (error, PD_MONEY_ERROR, PD_MONEY_ERROR_OVERFLOW,
               _("“%s” is too large an amount"), text);
  return FALSE;
}

gboolean
pd_money_parse_fen (const char *text,
                    gint64     *out_fen,
                    GError    **error)
{
  return pd_money_parse_yuan (text, 2, out_fen, 2, error);
}

gboolean
pd_money_parse_price_e4 (const char *text,
                         gint64     *out_e4,
                         GError    **error)
{
  return pd_money_parse_yuan (text, 4, out_e4, 4, error);
}

static char *
format_scaled (gint64 units,
               gint64 scale,
               int    decimals)
{
  guint64 magnitude = units < 0 ? (guint64) 0 - (guint64) units : (guint64) units;

  return g_strdup_printf ("%s%" G_GUINT64_FORMAT ".%0*" G_GUINT64_FORMAT,
                          units < 0 ? "-" : "",
                          magnitude / (guint64) scale, decimals, magnitude % (guint64) scale);
}

/* 1234 → "12.34", as the wire and the clerk want yuan. */
char *
pd_money_format_fen (gint64 fen)
{
  return format_scaled (fen, 100, 2);
}

char *
pd_money_format_price_e4 (gint64 e4)
{
  return format_scaled (e4, 10000, 4);
}

/* round(price × count) to fen, half up, as the centre computes a line. */
gboolean
pd_money_line_amount_fen (gint64  price_e4,
                          gint64  count,
                          gint64 *out_fen)
{
  gint64 product;

  if (price_e4 < 0 || count < 0)
    return FALSE;
  if (count != 0 && price_e4 > (G_MAXINT64 - 50) / count)
    return FALSE;
  product = price_e4 * count;     /* in 1/10,000 yuan */
  *out_fen = (product + 50) / 100;
  return TRUE;
}

/* round(fen × ratio / 10,000), half up (amounts here are never negative). */
gint64
pd_money_apply_ratio_bp (gint64 fen,
                         gint64 ratio_bp)
{
  return (fen * ratio_bp + 5000) / 10000;
}
