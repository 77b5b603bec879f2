/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "pd-link-monitor.h"

G_BEGIN_DECLS

#define PD_TYPE_LINK_INDICATOR (pd_link_indicator_get_type ())
G_DECLARE_FINAL_TYPE (PdLinkIndicator, pd_link_indicator, PD, LINK_INDICATOR, GtkBox)

GtkWidget  *pd_link_indicator_new             (PdLinkMonitor   *monitor,
                                               PdLink           link);
const char *pd_link_indicator_get_state_text  (PdLinkIndicator *self);

G_END_DECLS
