/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pd-fill-pane.h"
#include "pd-session.h"

G_BEGIN_DECLS

#define PD_TYPE_DISPENSING_PAGE (pd_dispensing_page_get_type ())
G_DECLARE_FINAL_TYPE (PdDispensingPage, pd_dispensing_page, PD, DISPENSING_PAGE, GtkBox)

/* The Dispensing area (pharmacists and checkers): approved prescriptions
 * waiting to be filled, filled ones waiting for the handover, and fills
 * in conflict; beside them the fill of the one chosen. */
void        pd_dispensing_page_set_session  (PdDispensingPage *self,
                                             PdSession        *session);
/* The pharmacy's name, printed on the labels. */
void        pd_dispensing_page_set_pharmacy (PdDispensingPage *self,
                                             const char       *name);
/* Re-reads the list (after a sync; also done every few seconds). */
void        pd_dispensing_page_refresh      (PdDispensingPage *self);
/* "list", "empty", "error", "not-permitted" or "signed-out" */
const char *pd_dispensing_page_get_state    (PdDispensingPage *self);
guint       pd_dispensing_page_get_n_items  (PdDispensingPage *self);
/* Selects a listed prescription by its uuid; FALSE when not listed. */
gboolean    pd_dispensing_page_select       (PdDispensingPage *self,
                                             const char       *rx_uuid);
PdFillPane *pd_dispensing_page_get_fill_pane (PdDispensingPage *self);

G_END_DECLS
