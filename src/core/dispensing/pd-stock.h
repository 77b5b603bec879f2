/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-kb.h"
#include "pd-session.h"

G_BEGIN_DECLS

/* Dispensing's errors (cli.md "Dispensing"): INVALID is bad input (a
 * malformed receipt or plan: exit 2), REFUSED the business answer "no"
 * (exit 1). Either way nothing was changed. */
#define PD_DISPENSING_ERROR (pd_dispensing_error_quark ())
GQuark pd_dispensing_error_quark (void);

typedef enum {
  PD_DISPENSING_ERROR_INVALID,
  PD_DISPENSING_ERROR_REFUSED,
} PdDispensingError;

typedef struct {
  char *trace_code;
  int   units_left;
} PdOpenedBox;

/* A batch (lot) of a drug on the shelf. */
typedef struct {
  gint64     id;
  char      *uuid;
  char      *drug_code;
  char      *lot;
  char      *manufactured_on;   /* YYYY-MM-DD */
  char      *expires_on;        /* YYYY-MM-DD */
  int        boxes;             /* boxes on hand, unopened */
  GPtrArray *opened;            /* PdOpenedBox*: opened boxes of this lot with units left */
} PdStockBatch;

void       pd_stock_batch_free    (PdStockBatch *batch);

/* `stock receive`: a purchase receipt as CSV with the header
 * code,lot,manufactured,expires,boxes. All of it or nothing: a row naming
 * a code the knowledge base lacks, a bad date, an expiry not after
 * manufacture, a non-positive count, or a lot already in stock with other
 * dates refuses the whole file, naming its line (INVALID). Each batch's
 * receipt is audited. Pharmacist or checker. */
gboolean   pd_stock_receive       (PdSession    *session,
                                   PdKb         *kb,
                                   const char   *csv,
                                   gsize         len,
                                   guint        *out_batches,
                                   guint        *out_boxes,
                                   GError      **error);

/* Batches with boxes on hand or opened boxes, by drug then first expiry
 * first; drug_code NULL for all. */
GPtrArray *pd_stock_list          (PdStore      *store,
                                   const char   *drug_code,
                                   GError      **error);

/* First expiry first: the batches of a drug that may fill a course ending
 * on course_end (they expire after it and are not expired on today). */
GPtrArray *pd_stock_suggest       (PdStore      *store,
                                   const char   *drug_code,
                                   const char   *today,
                                   const char   *course_end,
                                   GError      **error);

/* Inside a pd_store_write() transaction: boxes leave or come back to a
 * batch (a stock_move row and an audit row each). reason is one of
 * stock_move's: dispense, return, conflict, destroy, sale. A take of more
 * boxes than are on hand is REFUSED. */
gboolean   pd_stock_move          (PdSession    *session,
                                   gint64        batch_id,
                                   int           boxes,
                                   const char   *reason,
                                   gint64        dispense_id,
                                   GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdStockBatch, pd_stock_batch_free)

G_END_DECLS
