/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

/* pd-review-decision.h uses JsonNode without including json-glib. */
#include "pd-review-decision.h"

G_BEGIN_DECLS

/* One cached prescription as the Review area shows it: what the engine
 * read (PdRx) plus the names and texts it does not need (patient,
 * prescriber, diagnoses, allergies), the findings with their messages in
 * one language, and the prescription's history — earlier decisions and
 * the outbox items sent or waiting for it. Plain data, no GTK: the pane
 * and the tests share it. Opening one is audited (prescription.open). */

typedef struct {
  char       *id;              /* MedicationRequest id */
  char       *drug;            /* knowledge-base name, else as prescribed */
  char       *status;
  gboolean    has_dose;
  double      dose_value;
  char       *dose_unit;
  char       *frequency;       /* timing code or dosage text, or NULL */
  int         per_day;         /* 0: not understood or absent */
  char       *route;           /* as written (text), else the token */
  gboolean    has_days;
  double      days;
  gboolean    has_quantity;
  double      quantity_value;
  char       *quantity_unit;
  char       *diagnosis;       /* texts and ICD-10 codes joined by "; ", or NULL */
} PdRxViewLine;

typedef struct {
  char       *code;            /* practice-license, narcotic, antimicrobial-N */
  char       *start;           /* YYYY-MM-DD China time, or NULL: unbounded */
  char       *end;
} PdRxViewQualification;

typedef struct {
  char       *key;             /* pd_finding_key() */
  char       *code;
  PdSeverity  severity;
  char       *message;         /* effect and advice, in the view's language */
  char       *lines;           /* drug names of the lines named, joined by " + " */
} PdRxViewFinding;

typedef struct {
  char       *uuid;
  char       *decision;        /* approve | reject */
  char       *reason;
  char       *decided_at;
  char       *pharmacist;      /* display name */
  char       *outbox_state;    /* the decision's outbox item, or NULL */
} PdRxViewDecision;

typedef struct {
  gint64      id;
  char       *operation;       /* claim | release | decide … */
  char       *state;           /* queued sending unknown done refused conflict resolved cancelled */
  int         http_status;
  char       *error;
  char       *updated_at;
} PdRxViewOutbox;

/* What the engine read about the patient, shown so the pharmacist sees
 * why a prescription passed: the skin tests of its lines, the weight,
 * pregnancy and breastfeeding it took (the latest result of each), the
 * allergies it counted and the conditions the lines give as reasons. */
typedef enum {
  PD_RX_EVIDENCE_SKIN_TEST,
  PD_RX_EVIDENCE_WEIGHT,
  PD_RX_EVIDENCE_PREGNANCY,
  PD_RX_EVIDENCE_LACTATION,
  PD_RX_EVIDENCE_ALLERGY,
  PD_RX_EVIDENCE_CONDITION,
} PdRxEvidenceKind;

typedef struct {
  PdRxEvidenceKind kind;
  char       *about;           /* skin test: the line's drug; allergy, condition: what, as written */
  char       *result;          /* skin test: negative | positive | the value's text; allergy: confirmed or NULL */
  gboolean    yes;             /* skin test: negative; pregnancy: pregnant; lactation: breastfeeding */
  double      kg;              /* weight */
  char       *when;            /* the time it counts from, as written, or NULL */
} PdRxViewEvidence;

typedef struct {
  char       *rx_uuid;
  char       *number;
  char       *status;          /* prescription.status */
  char       *priority;
  char       *claimed_by;
  char       *claim_until;
  char       *claimer_name;    /* an account's display name for claimed_by, else its id; NULL: no claim */
  gboolean    mine;            /* claimed by the signed-in pharmacist */
  char       *authored_at;
  const char *verdict;         /* the engine's, now */

  char       *patient_name;
  char       *gender;          /* male | female | other | unknown, or NULL */
  int         age;             /* completed years, -1 unknown */
  GPtrArray  *evidence;        /* PdRxViewEvidence*, in the order above */

  char       *prescriber;
  GPtrArray  *qualifications;  /* PdRxViewQualification* */

  gboolean    has_encounter;
  gboolean    online;
  gboolean    follow_up;
  gboolean    emergency;

  GPtrArray  *lines;           /* PdRxViewLine* */
  GPtrArray  *findings;        /* PdRxViewFinding*, block first */
  gboolean    has_block;
  GPtrArray  *decisions;       /* PdRxViewDecision*, oldest first */
  GPtrArray  *outbox;          /* PdRxViewOutbox*, oldest first */
} PdRxView;

/* lang: "en" or "zh_CN" for the findings' messages. opening: the
 * pharmacist opens it (audited); FALSE for a reload of what is shown. */
PdRxView   *pd_rx_view_load          (PdSession   *session,
                                      PdKb        *kb,
                                      const char  *rx_uuid,
                                      const char  *lang,
                                      gboolean     opening,
                                      GError     **error);
void        pd_rx_view_free          (PdRxView    *view);
/* A weight to read: one decimal (71.912 -> "71.9"), none when whole. */
char       *pd_rx_view_format_kg     (double          kg);
/* Counts of findings of one severity. */
guint       pd_rx_view_count         (const PdRxView *view,
                                      PdSeverity      severity);
/* The latest outbox item in conflict (not resolved since), or NULL. */
const PdRxViewOutbox *pd_rx_view_get_conflict (const PdRxView *view);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdRxView, pd_rx_view_free)

G_END_DECLS
