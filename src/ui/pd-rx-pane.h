/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pd-review-view.h"

G_BEGIN_DECLS

/* One prescription beside the queue: patient, prescriber and visit, the
 * lines, the findings by severity, the history (decisions, what waits in
 * the outbox, conflicts), and the claim, release, approve and reject
 * buttons. Patient data is opened only for the prescription shown.
 * Emits "changed" after a claim, a release or a decision (the queue
 * re-reads) and asks the window to sync ("win.sync-now"). */

#define PD_TYPE_RX_PANE (pd_rx_pane_get_type ())
G_DECLARE_FINAL_TYPE (PdRxPane, pd_rx_pane, PD, RX_PANE, GtkBox)

GtkWidget      *pd_rx_pane_new              (void);
/* Shows a prescription (NULL: none); the same one again is reloaded
 * quietly, another is opened (audited). FALSE with error when it cannot
 * be read. */
gboolean        pd_rx_pane_show             (PdRxPane    *self,
                                             PdSession   *session,
                                             PdKb        *kb,
                                             const char  *rx_uuid,
                                             GError     **error);
void            pd_rx_pane_reload           (PdRxPane    *self);
const PdRxView *pd_rx_pane_get_view         (PdRxPane    *self);
GtkButton      *pd_rx_pane_get_button       (PdRxPane    *self,
                                             const char  *name);   /* claim release approve reject */
/* The decision dialog while it is open, for tests. */
GtkWindow      *pd_rx_pane_get_dialog       (PdRxPane    *self);
/* The decision made last from this pane, or NULL. */
const char     *pd_rx_pane_get_last_decision (PdRxPane   *self);
/* The pane's scrolled content and the line under its title, for tests. */
GtkScrolledWindow *pd_rx_pane_get_scroller  (PdRxPane   *self);
const char     *pd_rx_pane_get_subtitle     (PdRxPane    *self);
/* Claim or release under way. */
gboolean        pd_rx_pane_is_busy          (PdRxPane    *self);
/* The conflict banner's words while it shows, else NULL. */
const char     *pd_rx_pane_get_conflict     (PdRxPane    *self);

G_END_DECLS
