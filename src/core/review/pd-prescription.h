/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "pd-kb.h"

G_BEGIN_DECLS

/* A prescription as the review engine sees it: what review.md's "Input"
 * section reads out of a FHIR Bundle, already interpreted (units, codes,
 * China-time dates), so the engine itself does no parsing and no I/O. */

typedef struct {
  char           *id;             /* MedicationRequest id */
  char           *version;        /* meta.versionId, or NULL */
  guint           position;       /* Bundle order among the lines */
  char           *status;
  gboolean        reviewed;       /* status active or draft */
  const PdKbDrug *drug;           /* NULL: matches nothing in the knowledge base */
  char           *drug_text;      /* as prescribed, for messages */

  gboolean        has_dose;
  double          dose_value;
  char           *dose_unit;      /* UCUM code or unit text */
  gboolean        has_frequency;
  int             per_day;        /* 0: present but not understood */
  gboolean        has_route;
  char           *route;          /* route token, NULL when not recognised */
  char           *route_text;
  gboolean        has_quantity;
  double          quantity_value;
  char           *quantity_unit;
  gboolean        has_supply_duration;
  double          supply_days;    /* from expectedSupplyDuration; NAN when its unit is unknown */
  gboolean        continuous;     /* courseOfTherapyType continuous */
  gboolean        has_diagnosis;
  GPtrArray      *icd10;          /* of char* */
  gboolean        signed_;        /* a Provenance with non-empty signature data */
  gboolean        skin_negative;
  gboolean        skin_positive;
  GPtrArray      *skin_tests;     /* PdRxSkinTest*: the counting results read for this line */
} PdRxLine;

typedef struct {
  char    **terms;                /* every coding code and code.text */
  gboolean  medication;           /* category medication, or none given */
  char     *text;                 /* code.text, else the first coding's display or code; NULL: none */
  gboolean  confirmed;            /* verificationStatus confirmed */
  char     *recorded_at;          /* recordedDate as written, or NULL */
} PdRxAllergy;

/* What the engine read, kept so that the pharmacist can be shown it. */
typedef struct {
  char     *result;               /* negative | positive | the value's text, or NULL */
  char     *at;                   /* the Observation's time as written, or NULL */
} PdRxSkinTest;

typedef struct {
  gboolean  taken;                /* an Observation was read for it (the latest counting one) */
  char     *at;                   /* its time as written, or NULL */
} PdRxReading;

typedef struct {
  char     *code;
  gint64    start_us;             /* G_MININT64: unbounded */
  gint64    end_us;               /* G_MAXINT64: unbounded */
} PdQualification;

typedef struct {
  char      *id;                  /* groupIdentifier.value, or the line's id */
  char      *system;              /* groupIdentifier.system, or NULL */
  GPtrArray *lines;               /* PdRxLine*, Bundle order */

  gboolean   has_patient;
  gboolean   has_birth_date;
  gboolean   has_gender;
  int        age_for_child;       /* from the latest possible birth date; -1 unknown */
  int        age_for_elderly;     /* from the earliest possible birth date; -1 unknown */
  gboolean   weight_known;
  double     weight_kg;
  gboolean   pregnant;
  gboolean   lactating;
  PdRxReading weight_reading;     /* where weight_kg, pregnant and lactating were read */
  PdRxReading pregnancy_reading;
  PdRxReading lactation_reading;
  GPtrArray *allergies;           /* PdRxAllergy*, active ones only */

  gboolean   has_requester;
  GPtrArray *qualifications;      /* PdQualification* */
  gboolean   has_authored;
  gint64     authored_us;
  gint64     valid_until_us;      /* validity V, China time, capped */
  gboolean   has_encounter;
  gboolean   online;
  gboolean   emergency;
  gboolean   follow_up;
} PdRx;

void pd_rx_free (PdRx *rx);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdRx, pd_rx_free)

G_END_DECLS
