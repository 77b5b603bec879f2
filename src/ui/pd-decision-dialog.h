/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pd-review-view.h"

G_BEGIN_DECLS

/* The pharmacist's decision on one prescription (review.md, hospital.md):
 * approving lists each major finding with a reason (review.md's list) and
 * the pharmacist's words, both required, and each moderate one with an
 * acknowledgement; rejecting asks for a reason for the prescriber. Then
 * the password: confirmed and the decision signed and stored off the UI
 * thread (core runs the engine again). Emits "decided" (the decision's
 * uuid) and closes; a refusal is shown in words and the dialog stays. */

#define PD_TYPE_DECISION_DIALOG (pd_decision_dialog_get_type ())
G_DECLARE_FINAL_TYPE (PdDecisionDialog, pd_decision_dialog, PD, DECISION_DIALOG, AdwWindow)

/* decision: "approve" or "reject". */
PdDecisionDialog *pd_decision_dialog_new            (PdSession        *session,
                                                     const PdRxView   *view,
                                                     const char       *decision);

/* For tests: the widgets a pharmacist fills in. i counts major (or
 * moderate) findings in the order shown. */
guint             pd_decision_dialog_get_n_major    (PdDecisionDialog *self);
guint             pd_decision_dialog_get_n_moderate (PdDecisionDialog *self);
AdwComboRow      *pd_decision_dialog_get_reason_row (PdDecisionDialog *self,
                                                     guint             i);
AdwEntryRow      *pd_decision_dialog_get_words_row  (PdDecisionDialog *self,
                                                     guint             i);
GtkCheckButton   *pd_decision_dialog_get_ack_check  (PdDecisionDialog *self,
                                                     guint             i);
AdwEntryRow      *pd_decision_dialog_get_reject_row (PdDecisionDialog *self);
GtkEditable      *pd_decision_dialog_get_password   (PdDecisionDialog *self);
GtkButton        *pd_decision_dialog_get_confirm    (PdDecisionDialog *self);
const char       *pd_decision_dialog_get_error      (PdDecisionDialog *self);
gboolean          pd_decision_dialog_is_busy        (PdDecisionDialog *self);

G_END_DECLS
