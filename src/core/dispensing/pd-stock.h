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
 * code,lot,manufactured,expires,boxes (other columns are ignored). All of
 * it or nothing: a missing column, a row naming a code the knowledge base
 * lacks, a bad date, an expiry not after manufacture, a count that is not
 * a whole number above 0, or a lot already in stock (or earlier in the
 * file) with other dates refuses the whole file, naming name:line:column
 * (INVALID). A lot already in stock with the same dates takes the boxes.
 * One transaction; each row is a stock_move (`receive`) and an audit row.
 * out_batches: the batches received into (a lot twice in the file is one);
 * out_boxes: the boxes added. Pharmacist or checker (PD_ACTION_DISPENSE). */
gboolean   pd_stock_receive       (PdSession    *session,
                                   PdKb         *kb,
                                   const char   *name,
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

/* First expiry first (then the order received): the batches of a drug,
 * with boxes on hand or opened boxes, that may fill a course ending on
 * course_end: a lot must expire after course_end (a lot whose expiry date
 * is the course's last day is not offered) and after today. today NULL:
 * the clock's date in China; course_end NULL: today. Dates YYYY-MM-DD. */
GPtrArray *pd_stock_suggest       (PdStore      *store,
                                   const char   *drug_code,
                                   const char   *today,
                                   const char   *course_end,
                                   GError      **error);

/* Inside a pd_store_write() transaction: boxes leave or come back to a
 * batch. boxes is the signed change of the batch's boxes on hand, as
 * stock_move.boxes records it: negative for what leaves (reason
 * `dispense`, `sale`, `destroy`), positive for what comes back (`return`,
 * `conflict`); a sign the reason does not allow, or another reason, is
 * INVALID. 0 changes and writes nothing. A take of more boxes than are on
 * hand is REFUSED. Each move is a stock_move row (dispense_id 0: none) and
 * an audit row `stock.REASON`. The caller has checked the role of its
 * action (a fill: PD_ACTION_DISPENSE). */
gboolean   pd_stock_move          (PdSession    *session,
                                   gint64        batch_id,
                                   int           boxes,
                                   const char   *reason,
                                   gint64        dispense_id,
                                   GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdStockBatch, pd_stock_batch_free)

G_END_DECLS
