/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* What review.md reads of one patient's record at the hospital — the
 * allergies, the latest countable weight, pregnancy and lactation
 * observations, the skin tests and the conditions — as one pull fetched
 * it, so that the next pages of the same pull need not fetch it again.
 * Two threads share it, each with its own part: the fetching thread makes
 * it and asks whether it serves (only what it set at the start); the
 * preparing thread picks from it. The first pick turns the searches'
 * objects into JSON text and lets them go, and every pick parses anew what
 * it gives: json-glib counts references to an object without atomics, so
 * one tree must not be in a Bundle the storing thread frees while the
 * preparing thread puts it into the next; and ten thousand patients' trees
 * would take hundreds of megabytes. */
typedef struct _PdPatientRecord PdPatientRecord;

/* resources: the patient's Condition, AllergyIntolerance and Observation
 * objects as the searches gave them (kept until the first pick); as_of_us:
 * the hospital's time of the searches (G_MININT64 when it did not say). */
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

/* New JsonObjects (the caller owns them) for a Bundle: every allergy, the
 * latest countable observation of each kind, the skin tests that focus on
 * one of line_refs ("MedicationRequest/id") and the conditions in reasons.
 * One thread only. */
GPtrArray       *pd_patient_record_pick   (PdPatientRecord       *record,
                                           GHashTable            *line_refs,
                                           GHashTable            *reasons);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdPatientRecord, pd_patient_record_free)

G_END_DECLS
