/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-kb.h"
#include "pd-store.h"

G_BEGIN_DECLS

/* A box's drug traceability code (药品追溯码): 20 digits, beginning with the
 * drug's 7-digit identification code (`trace_prefix`) where the knowledge
 * base has one, never used before in this pharmacy — except an opened box
 * of the same drug with units left (a later split fill takes from it), and
 * a box that went back to stock. Checked at each scan, within 5 ms at the
 * 99th percentile with ten million codes stored (docs/benchmarks.md). */

typedef enum {
  PD_SCAN_OK,                /* a new box */
  PD_SCAN_OPENED,            /* an opened box of this drug: *units_left units in it */
  PD_SCAN_RETURNED,          /* a box of this drug that came back to stock */
  PD_SCAN_NOT_20_DIGITS,
  PD_SCAN_WRONG_PREFIX,
  PD_SCAN_USED,              /* dispensed, sold or destroyed before */
  PD_SCAN_OTHER_DRUG,        /* an opened or returned box of another drug */
  PD_SCAN_REPEATED,          /* already scanned for this fill */
  PD_SCAN_TOO_MANY,          /* more codes than boxes */
} PdScanResult;

/* db: the store's connection or a reader. already: the codes taken so far
 * by this fill (NULL-terminated, may be NULL); room: boxes still without
 * a code on this line (0: TOO_MANY). units_left and batch_id may be NULL. */
PdScanResult pd_trace_code_check    (sqlite3            *db,
                                     const PdKbDrug     *drug,
                                     const char         *code,
                                     const char * const *already,
                                     guint               room,
                                     int                *units_left,
                                     gint64             *batch_id,
                                     GError            **error);
gboolean     pd_scan_result_is_ok   (PdScanResult        result);
/* The sentence said beside the line, translated; the code and the drug's
 * prefix are named where they help. */
char        *pd_scan_result_describe (PdScanResult       result,
                                     const char         *code,
                                     const PdKbDrug     *drug);

G_END_DECLS
