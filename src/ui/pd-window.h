/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pd-application.h"
#include "pd-session.h"
#include "pd-sync-service.h"

G_BEGIN_DECLS

#define PD_TYPE_WINDOW (pd_window_get_type ())
G_DECLARE_FINAL_TYPE (PdWindow, pd_window, PD, WINDOW, AdwApplicationWindow)

PdWindow     *pd_window_new              (PdApplication *application);
AdwViewStack *pd_window_get_stack        (PdWindow      *self);
GtkWidget    *pd_window_get_link_indicator (PdWindow    *self,
                                          PdLink         link);
gboolean      pd_window_is_refused       (PdWindow      *self);
const char   *pd_window_get_page         (PdWindow      *self);
GtkWidget    *pd_window_get_sign_in_page (PdWindow      *self);
GtkWidget    *pd_window_get_first_start_page (PdWindow  *self);
PdSession    *pd_window_get_session      (PdWindow      *self);
/* The question asked before signing out or locking with claims held,
 * while it is open (for tests), else NULL. */
GtkWindow    *pd_window_get_leave_dialog (PdWindow      *self);
/* The hospital sync while signed in with the link configured, else NULL. */
PdSyncService *pd_window_get_sync_service (PdWindow     *self);

G_END_DECLS
