/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-json-doc.h"
#include "pd-kb.h"
#include "pd-prescription.h"
#include "pd-session.h"
#include "pd-stock.h"
#include "pd-trace-code.h"

G_BEGIN_DECLS

/* Filling an approved prescription (调配), its check (核对) by a second
 * person, the labels, the handover (cli.md "Dispensing", hospital.md
 * "Dispense" and "Handover"). A fill is one transaction: the dispense, one
 * item per line and lot, the codes, the boxes taken from stock, the audit
 * rows and the outbox row that carries the MedicationDispenses. */

/* --- the plan: what the pharmacist gives, per line ---------------------- */

typedef struct {
  char      *line;          /* the MedicationRequest's id */
  char      *lot;
  int        boxes;
  int        units;         /* 0: whole boxes (boxes × pack_size) */
  GPtrArray *trace_codes;   /* char*, one per box */
} PdFillEntry;

typedef struct {
  GPtrArray *entries;       /* PdFillEntry* */
} PdFillPlan;

PdFillPlan  *pd_fill_plan_new        (void);
PdFillEntry *pd_fill_plan_add        (PdFillPlan   *plan,
                                      const char   *line,
                                      const char   *lot,
                                      int           boxes,
                                      int           units);
/* cli.md's plan JSON; INVALID with what is wrong when malformed. */
PdFillPlan  *pd_fill_plan_from_json  (const char   *text,
                                      gsize         len,
                                      GError      **error);
void         pd_fill_plan_free       (PdFillPlan   *plan);

/* --- the sheet: what a prescription asks to be filled ------------------- */

typedef struct {
  char           *line;         /* MedicationRequest id */
  guint           position;
  const PdKbDrug *drug;         /* NULL: not in the knowledge base (cannot be filled) */
  char           *drug_name;
  int             units;        /* prescribed quantity in product units; 0: not understood */
  char           *unit;         /* the product unit as prescribed (片, 粒, {tbl}), or NULL */
  char           *unit_word;    /* its word in the current language, plural ("tablets", 片); NULL: none */
  int             boxes;        /* ceil (units / pack_size) */
  gboolean        split;        /* units is not a whole number of boxes */
  char           *course_end;   /* YYYY-MM-DD: a lot must not expire before it */
  char           *dose_words;   /* 每日3次，每次1粒 (in the current language) */
  char           *route_text;   /* 口服 */
  GPtrArray      *batches;      /* PdStockBatch*: first expiry first, usable for the course */
} PdFillLine;

typedef struct {
  char      *rx_uuid;
  char      *rx_number;       /* groupIdentifier value */
  char      *task_id;
  char      *patient_name;
  char      *state;           /* prescription status */
  gboolean   delivery;        /* the patient asked for delivery */
  char      *decided_by;      /* the approving pharmacist's name */
  GPtrArray *lines;           /* PdFillLine*: the active lines */
  char      *dispense_uuid;   /* the live fill, if any */
  char      *dispensed_by;    /* the live fill's: who filled, who checked, when (ISO 8601) */
  char      *checked_by;
  char      *dispensed_at;
  /* the core's own */
  gint64     rx_id;
  char      *patient_ref;
  PdRx      *rx;
  PdJsonDoc *doc;
} PdFillSheet;

/* rx: the prescription's groupIdentifier value or its uuid. */
PdFillSheet *pd_fill_sheet_load      (PdSession    *session,
                                      PdKb         *kb,
                                      const char   *rx,
                                      GError      **error);
void         pd_fill_sheet_free      (PdFillSheet  *sheet);
const PdFillLine *pd_fill_sheet_find_line (PdFillSheet *sheet,
                                      const char   *line);

/* --- the Dispensing area's list ----------------------------------------- */

typedef struct {
  char     *rx_uuid;
  char     *rx_number;
  char     *patient_name;
  char     *state;           /* approved (to fill), dispensed (to hand over), conflict */
  char     *decided_at;
  guint     n_lines;
  gboolean  delivery;
  char     *dispense_uuid;   /* NULL while to fill */
} PdDispensingItem;

void       pd_dispensing_item_free   (PdDispensingItem *item);
/* Approved prescriptions waiting to be filled, then filled ones not yet
 * handed over, then fills in conflict; oldest decision first. */
GPtrArray *pd_dispensing_list        (PdSession    *session,
                                      GError      **error);

/* --- the fill ----------------------------------------------------------- */

/* Checks everything cli.md lists (REFUSED with the reason, nothing
 * changed), has the checker sign in with their own password (a checker, or
 * a pharmacist other than the one who fills), then records the fill.
 * Returns the dispense's uuid (the dispense-group). */
char      *pd_dispense_fill          (PdSession        *session,
                                      PdKb             *kb,
                                      const char       *rx,
                                      const PdFillPlan *plan,
                                      const char       *checker_username,
                                      const char       *checker_password,
                                      GError          **error);
/* At the counter: the fill's MedicationDispenses become completed. */
gboolean   pd_dispense_handover      (PdSession    *session,
                                      const char   *rx,
                                      GError      **error);
/* A parcel came back (delivery): the fill is stopped with the reason; its
 * boxes and codes go back to their batch (restock) or are destroyed; the
 * prescription may be filled again. */
gboolean   pd_dispense_stop          (PdSession    *session,
                                      const char   *dispense_uuid,
                                      const char   *reason,
                                      gboolean      restock,
                                      GError      **error);
/* The hospital refused a fill (409) or the prescription was found
 * cancelled: the fill becomes a conflict, its boxes go back to stock. Inside
 * a pd_store_write() transaction. */
gboolean   pd_dispense_set_conflict  (PdSession    *session,
                                      const char   *dispense_uuid,
                                      const char   *why,
                                      GError      **error);
/* "MedicationDispense/ID" of each item the hospital holds, in order. */
GPtrArray *pd_dispense_resources     (PdStore      *store,
                                      const char   *dispense_uuid,
                                      GError      **error);

/* --- labels ------------------------------------------------------------- */

/* One label per item, as printed (patient, drug, dose in words, route,
 * quantity, the knowledge base's warning, pharmacy, date, prescription). */
typedef struct {
  char *patient;
  char *drug;
  char *dose_words;
  char *route;
  char *quantity;          /* "2盒（48粒）" / "2 boxes (48 units)" */
  char *warning;           /* label_warning, or NULL */
  char *pharmacy;
  char *date;              /* YYYY-MM-DD */
  char *rx_number;
  char *lot;
} PdLabel;

void       pd_label_free             (PdLabel      *label);
GPtrArray *pd_dispense_labels        (PdSession    *session,
                                      PdKb         *kb,
                                      const char   *dispense_uuid,
                                      const char   *pharmacy_name,
                                      GError      **error);
/* Audits a print (or print to PDF) of n labels. */
gboolean   pd_dispense_labels_printed (PdSession   *session,
                                      const char   *dispense_uuid,
                                      guint         n_labels,
                                      GError      **error);
/* 每日3次，每次1粒 / "3 times a day, 1 capsule each time"; NULL when the
 * frequency or dose is not understood. */
char      *pd_dose_words             (int           per_day,
                                      double        dose_value,
                                      const char   *dose_unit);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdFillPlan, pd_fill_plan_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdFillSheet, pd_fill_sheet_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdDispensingItem, pd_dispensing_item_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdLabel, pd_label_free)

G_END_DECLS
