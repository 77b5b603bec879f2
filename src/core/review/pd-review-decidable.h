/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-review-view.h"

G_BEGIN_DECLS

/* Whether the signed-in pharmacist may decide a prescription now, by
 * the cache, before any key is opened: FALSE with
 * PD_REVIEW_ERROR_NOT_REVIEWABLE once it is decided, cancelled,
 * dispensed or in conflict, and with PD_REVIEW_ERROR_CLAIMED (naming the
 * holder) while another pharmacist's claim holds, that is until its lease
 * runs out (hospital.md: the lease only lets others take over a claim
 * whose lease ran out). The app lets the hospital settle a claim; a
 * script is told at once. pd_review_decide() checks the status again in
 * its transaction. */
gboolean pd_review_check_decidable (const PdRxView  *view,
                                    GError         **error);

G_END_DECLS
