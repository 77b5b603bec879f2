/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pd-queue-model.h"
#include "pd-rx-pane.h"

G_BEGIN_DECLS

#define PD_TYPE_REVIEW_PAGE (pd_review_page_get_type ())
G_DECLARE_FINAL_TYPE (PdReviewPage, pd_review_page, PD, REVIEW_PAGE, GtkBox)

/* The Review area: the queue of cached prescriptions with its search and
 * filters, and the knowledge base's demonstration mark. */
void            pd_review_page_set_session     (PdReviewPage *self,
                                                PdSession    *session);
PdQueueModel   *pd_review_page_get_model       (PdReviewPage *self);
/* "list", "empty", "no-match", "error" or "signed-out" */
const char     *pd_review_page_get_state       (PdReviewPage *self);
const char     *pd_review_page_get_count_text  (PdReviewPage *self);
/* The demonstration warning when it shows, else NULL. */
const char     *pd_review_page_get_kb_warning  (PdReviewPage *self);
GtkSearchEntry *pd_review_page_get_search_entry (PdReviewPage *self);
GtkDropDown    *pd_review_page_get_status_drop (PdReviewPage *self);
GtkListView    *pd_review_page_get_list_view   (PdReviewPage *self);
/* Re-reads the queue after a sync (also done every few seconds). */
void            pd_review_page_refresh         (PdReviewPage *self);
/* Re-reads the prescription shown (after a sync), without opening it again. */
void            pd_review_page_reload_prescription (PdReviewPage *self);
/* Selects a prescription of the queue by its uuid; FALSE when not listed. */
gboolean        pd_review_page_select          (PdReviewPage *self,
                                                const char   *rx_uuid);
PdRxPane       *pd_review_page_get_rx_pane     (PdReviewPage *self);

G_END_DECLS
