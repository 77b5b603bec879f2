/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-kb.h"
#include "pd-prescription.h"

G_BEGIN_DECLS

/* The rules of review.md on a prescription already in memory: no I/O, so
 * the app can run it on its cache, offline, and again at approval. What
 * the engine cannot check is a finding, never a pass. */

typedef struct {
  const char            *code;
  PdSeverity             severity;
  GPtrArray             *lines;        /* const PdRxLine*, Bundle order */
  const char            *population;   /* pregnancy, lactation, elderly, child, or NULL */
  char                  *rule;         /* FILE:LINE or review.md#CODE */
  GPtrArray             *defects;      /* char*: what exactly, for the message */
  const PdKbInteraction *interaction;  /* drug-interaction: the row that stands */
} PdFinding;

typedef struct {
  const PdRx *rx;
  const char *verdict;                 /* pass, review, reject, cancelled */
  GPtrArray  *findings;                /* PdFinding*, in review.md's order */
} PdReview;

/* TRUE when (system, value) is among the pharmacy's dispensed prescriptions. */
typedef gboolean (*PdDispensedFunc) (const char *system,
                                     const char *value,
                                     gpointer    user_data);

PdReview   *pd_review_run            (PdKb            *kb,
                                      const PdRx      *rx,
                                      gint64           now_us,
                                      PdDispensedFunc  dispensed,
                                      gpointer         user_data);
void        pd_review_free           (PdReview        *review);
char       *pd_finding_message       (const PdFinding *finding,
                                      const char      *lang);
const char *pd_severity_to_string    (PdSeverity       severity);

/* What the engine reads of a line's quantities (review.md "Supply"), for
 * dispensing too: NAN when not understood. */
double      pd_rx_line_quantity_units (const PdRxLine *line);
double      pd_rx_line_daily_units    (const PdRxLine *line);
double      pd_rx_line_supply_days    (const PdRxLine *line);
gboolean    pd_is_product_unit        (const char     *unit);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdReview, pd_review_free)

G_END_DECLS
