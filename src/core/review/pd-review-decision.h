/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "pd-json-doc.h"
#include "pd-review-engine.h"
#include "pd-session.h"

G_BEGIN_DECLS

/* The pharmacist's decision (hospital.md "Pharmacist signature", review.md
 * "Override reasons"): the engine runs again at that moment on the cached
 * prescription; approve is impossible while a blocking finding stands;
 * each major finding needs a reason code and text, each moderate one an
 * acknowledgement; reject needs a reason for the prescriber. The canonical
 * record is signed with the pharmacist's key, stored, audited, and queued
 * for the hospital (after a claim when the pharmacist holds none). */

#define PD_REVIEW_ERROR (pd_review_error_quark ())
GQuark pd_review_error_quark (void);

typedef enum {
  PD_REVIEW_ERROR_BLOCKED,        /* a blocking finding stands */
  PD_REVIEW_ERROR_NEEDS_REASON,   /* a major finding without a reason, a moderate one unacknowledged, a reject without reason */
  PD_REVIEW_ERROR_NOT_REVIEWABLE, /* cancelled, already decided */
  PD_REVIEW_ERROR_CLAIMED,        /* another pharmacist's claim holds (pd-review-decidable.h) */
} PdReviewError;

extern const char * const pd_override_reasons[];

/* A review of a cached prescription as it stands now. */
typedef struct {
  char      *rx_uuid;
  char      *task_id;
  PdJsonDoc *doc;          /* the cached Bundle */
  const PdJv *bundle;      /* its root */
  GPtrArray *rxs;          /* PdRx* */
  PdReview  *review;       /* of rxs[0] */
} PdReviewContext;

PdReviewContext *pd_review_context_load (PdSession       *session,
                                         PdKb            *kb,
                                         const char      *rx_uuid,
                                         GError         **error);
void             pd_review_context_free (PdReviewContext *context);

/* "code|line,line|population": how an override names its finding. */
char            *pd_finding_key         (const PdFinding *finding);

/* overrides: finding key → "REASON-CODE: text" for a major finding, or
 * "acknowledge" for a moderate one. Returns the decision's uuid. */
char            *pd_review_decide       (PdSession       *session,
                                         PdKb            *kb,
                                         const char      *rx_uuid,
                                         const char      *decision,
                                         GHashTable      *overrides,
                                         const char      *reason,
                                         GError         **error);

/* A stored decision's record and signature against the key registry. */
gboolean         pd_review_verify       (PdStore         *store,
                                         const char      *decision_uuid,
                                         GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdReviewContext, pd_review_context_free)

G_END_DECLS
