/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "pd-dispense.h"

G_BEGIN_DECLS

/* The drug labels of a fill through GtkPrintOperation: one label of
 * PD_LABEL_WIDTH_MM × PD_LABEL_HEIGHT_MM per PdLabel. The page set up is
 * a label printer's roll of that size (one label a page); on a larger
 * paper chosen in the dialog, as many labels as fit go on each page. */

#define PD_LABEL_WIDTH_MM  80.0
#define PD_LABEL_HEIGHT_MM 50.0

/* labels: PdLabel*. page_setup: the paper (its margins are ignored:
 * the labels are laid out on the whole sheet), or NULL for the label
 * roll. export_pdf: a file to print to without a dialog
 * (GTK_PRINT_OPERATION_ACTION_EXPORT), or NULL for the print dialog.
 * Returns the operation's result; GTK_PRINT_OPERATION_RESULT_ERROR with
 * error set when it failed. */
GtkPrintOperationResult pd_label_print (GPtrArray    *labels,
                                        GtkWindow    *parent,
                                        GtkPageSetup *page_setup,
                                        const char   *export_pdf,
                                        GError      **error);

/* Draws one label with its top left corner at the cairo context's
 * origin, in millimetres (for the print and for tests). */
void                    pd_label_draw  (cairo_t      *cr,
                                        PangoContext *pango,
                                        const PdLabel *label);

G_END_DECLS
