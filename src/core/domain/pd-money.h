/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Money never touches floating point: amounts are integer fen (分),
 * unit prices integer 1/10,000 yuan, ratios basis points. */

#define PD_MONEY_ERROR (pd_money_error_quark ())
GQuark pd_money_error_quark (void);

typedef enum {
  PD_MONEY_ERROR_INVALID,
  PD_MONEY_ERROR_OVERFLOW,
} PdMoneyError;

gboolean pd_money_parse_yuan        (const char *text,
                                     guint       max_decimals,
                                     gint64     *out_units,
                                     guint       scale_decimals,
                                     GError    **error);
gboolean pd_money_parse_fen         (const char *text,
                                     gint64     *out_fen,
                                     GError    **error);
gboolean pd_money_parse_price_e4    (const char *text,
                                     gint64     *out_e4,
                                     GError    **error);
char    *pd_money_format_fen        (gint64      fen);
char    *pd_money_format_price_e4   (gint64      e4);
gboolean pd_money_line_amount_fen   (gint64      price_e4,
                                     gint64      count,
                                     gint64     *out_fen);
gint64   pd_money_apply_ratio_bp    (gint64      fen,
                                     gint64      ratio_bp);

G_END_DECLS
