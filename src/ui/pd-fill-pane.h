/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pd-dispense.h"

G_BEGIN_DECLS

/* One prescription beside the Dispensing list: per line the boxes to
 * give (a split pack said plainly), the batch to take them from, and a
 * scan entry that checks each traceability code at once; then the check
 * by a second person with their own password, which records the fill;
 * then the labels and, for a collection, the handover. Emits "changed"
 * after a fill or a handover (the list re-reads) and asks the window to
 * sync ("win.sync-now"). */

#define PD_TYPE_FILL_PANE (pd_fill_pane_get_type ())
G_DECLARE_FINAL_TYPE (PdFillPane, pd_fill_pane, PD, FILL_PANE, GtkBox)

GtkWidget         *pd_fill_pane_new            (void);
/* Shows a prescription (NULL: none); scans already made for the same one
 * are kept. FALSE with error when it cannot be read. */
gboolean           pd_fill_pane_show           (PdFillPane  *self,
                                                PdSession   *session,
                                                PdKb        *kb,
                                                const char  *rx_uuid,
                                                GError     **error);
/* Re-reads the prescription shown (its state after a sync). */
void               pd_fill_pane_reload         (PdFillPane  *self);
const PdFillSheet *pd_fill_pane_get_sheet      (PdFillPane  *self);
/* The list's word that the last fill of the prescription shown is in
 * conflict (the hospital refused it, or found it cancelled). */
void               pd_fill_pane_set_conflict   (PdFillPane  *self,
                                                gboolean     conflict);
gboolean           pd_fill_pane_get_conflict   (PdFillPane  *self);
/* The pharmacy's name printed on the labels. */
void               pd_fill_pane_set_pharmacy   (PdFillPane  *self,
                                                const char  *name);
/* With a file set, "Print Labels" writes the labels to that PDF without
 * a dialog (tests, screenshots). */
void               pd_fill_pane_set_print_to_file (PdFillPane *self,
                                                const char  *pdf);

/* For tests: line i's scan entry, its codes (char*), the refusal said
 * beside it (NULL when none); the checker's rows, the buttons
 * ("confirm", "print", "handover"), the words of a refused action. */
GtkEntry          *pd_fill_pane_get_scan_entry (PdFillPane  *self,
                                                guint        line);
GPtrArray         *pd_fill_pane_get_codes      (PdFillPane  *self,
                                                guint        line);
const char        *pd_fill_pane_get_refusal    (PdFillPane  *self,
                                                guint        line);
/* Removes the code at index of line i, as its remove button does. */
void               pd_fill_pane_remove_code    (PdFillPane  *self,
                                                guint        line,
                                                guint        index);
GtkEditable       *pd_fill_pane_get_checker    (PdFillPane  *self);
GtkEditable       *pd_fill_pane_get_checker_password (PdFillPane *self);
GtkButton         *pd_fill_pane_get_button     (PdFillPane  *self,
                                                const char  *name);
const char        *pd_fill_pane_get_error      (PdFillPane  *self);
/* The dispense recorded from this pane last, or NULL. */
const char        *pd_fill_pane_get_dispense   (PdFillPane  *self);
/* Labels printed from this pane (after the print was audited). */
guint              pd_fill_pane_get_n_printed  (PdFillPane  *self);
gboolean           pd_fill_pane_is_busy        (PdFillPane  *self);

G_END_DECLS
