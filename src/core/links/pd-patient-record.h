/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What review.md reads of one patient's record at the hospital — the
 * allergies, the latest countable weight, pregnancy and lactation
 * observations, the skin tests and the conditions — as one pull fetched
 * it, so that the next pages of the same pull need not fetch it again.
 * Made on the fetching thread, as JSON texts copied out of the searches'
 * answers (which then go), and never changed after: the preparing thread
 * picks from it while the fetching thread asks whether it serves. */
typedef struct _PdPatientRecord PdPatientRecord;

/* One resource of the record: "Type/id" and its JSON text. */
typedef struct {
  char *ref;
  char *text;
} PdRecordEntry;

/* resources: the patient's Condition, AllergyIntolerance and Observation
 * resources (const PdJv*) as the searches gave them; as_of_us: the
 * hospital's time of the searches (G_MININT64 when it did not say). */
PdPatientRecord *pd_patient_record_new    (GPtrArray       *resources,
                                           gint64           as_of_us);
void             pd_patient_record_free   (PdPatientRecord *record);

/* Whether the record, fetched at as_of_us and at our monotonic time
 * fetched_us, serves a Task last updated at task_updated_us that cites
 * the conditions reasons ("Condition/id"): made after the Task's last
 * change, not too old, and holding each condition the lines cite. */
gboolean         pd_patient_record_serves (const PdPatientRecord *record,
                                           gint64                 task_updated_us,
                                           GHashTable            *reasons);

/* The entries (const PdRecordEntry*, the record's own) for a Bundle: every
 * allergy, the latest countable observation of each kind, the skin tests
 * that focus on one of line_refs ("MedicationRequest/id") and the
 * conditions in reasons. */
GPtrArray       *pd_patient_record_pick   (const PdPatientRecord *record,
                                           GHashTable            *line_refs,
                                           GHashTable            *reasons);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdPatientRecord, pd_patient_record_free)

G_END_DECLS
