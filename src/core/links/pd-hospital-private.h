/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-hospital-link.h"
#include "pd-json.h"
#include "pd-json-doc.h"

G_BEGIN_DECLS

struct _PdHospitalLink
{
  PdSession    *session;
  PdFhirClient *client;
  PdKb         *kb;
  char         *fixmedins_code;   /* the pharmacy the audit anchor names; NULL: no anchor */
  char         *pharmacy_name;
};

const char *pd_fhir_next_link      (const PdJv  *bundle);
/* Inside a transaction: the cursor, when there is one. */
gboolean    pd_hospital_set_cursor (PdStore     *store,
                                    const char  *cursor,
                                    GError     **error);
/* Inside a transaction: the prescriber cancelled Task task_id; whatever
 * of ours was still on its way for it becomes a conflict. */
gboolean    pd_hospital_cancelled  (PdSession   *session,
                                    const char  *task_id,
                                    GError     **error);

/* --- pd-hospital-related.c: what a page of Tasks needs ------------------------------------ */

/* The resources a page's searches found. */
typedef struct {
  GHashTable *by_ref;      /* "Type/id" → const PdJv* (in docs) */
  GPtrArray  *docs;        /* PdJsonDoc*: the searches' answers */
  GHashTable *by_target;   /* "MedicationRequest/id" → GPtrArray of Provenance */
  gint64      as_of_us;    /* the earliest Bundle.timestamp of the searches; G_MININT64 when one had none */
} PdHospitalFound;

/* The patient records of one pull (pd-patient-record.h): the latest of
 * each patient, and every one made, which pages may still read until the
 * pull ends. The fetching thread's alone. */
typedef struct {
  GHashTable *latest;      /* "Patient/id" → PdPatientRecord* */
  GPtrArray  *made;        /* PdPatientRecord*, owned */
} PdHospitalRecords;

void      pd_hospital_found_init    (PdHospitalFound   *found);
void      pd_hospital_found_clear   (PdHospitalFound   *found);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PdHospitalFound, pd_hospital_found_clear)
/* Every resource of a searchset answer (taken) into found. */
void      pd_hospital_found_take    (PdHospitalFound   *found,
                                     PdJsonDoc         *searchset);
/* The lines, signatures and patient records of tasks (const PdJv*), in
 * batched searches, into found; page_records ("Patient/id" → the pull's
 * PdPatientRecord*) gets the record of each patient of tasks. */
gboolean  pd_hospital_fetch_related (PdHospitalLink    *link,
                                     GPtrArray         *tasks,
                                     PdHospitalFound   *found,
                                     PdHospitalRecords *records,
                                     GHashTable        *page_records,
                                     GCancellable      *cancellable,
                                     GError           **error);
/* A collection Bundle of everything the review reads for one Task, as
 * JSON text: the resources' texts as the hospital gave them. */
char     *pd_hospital_assemble      (const PdJv        *task,
                                     PdHospitalFound   *found,
                                     GHashTable        *page_records);

G_END_DECLS
