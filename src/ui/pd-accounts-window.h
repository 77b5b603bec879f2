/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pd-session.h"

G_BEGIN_DECLS

#define PD_TYPE_ACCOUNTS_WINDOW (pd_accounts_window_get_type ())
G_DECLARE_FINAL_TYPE (PdAccountsWindow, pd_accounts_window, PD, ACCOUNTS_WINDOW, AdwWindow)

/* The administrator's list of accounts; core refuses it to anyone else. */
PdAccountsWindow *pd_accounts_window_new       (PdSession        *session);
guint             pd_accounts_window_get_count (PdAccountsWindow *self);

G_END_DECLS
