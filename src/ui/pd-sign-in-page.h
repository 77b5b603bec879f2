/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pd-session.h"

G_BEGIN_DECLS

#define PD_TYPE_SIGN_IN_PAGE (pd_sign_in_page_get_type ())
G_DECLARE_FINAL_TYPE (PdSignInPage, pd_sign_in_page, PD, SIGN_IN_PAGE, GtkBox)

/* Emits "signed-in" (PdSession) after the password was checked in a
 * worker thread (the key derivation never runs on the UI thread). In
 * lock mode the user name is fixed and the page unlocks that session. */
GtkWidget *pd_sign_in_page_new        (PdStore      *store);
void       pd_sign_in_page_set_locked (PdSignInPage *self,
                                       PdSession    *session);
void       pd_sign_in_page_reset      (PdSignInPage *self);
void       pd_sign_in_page_submit     (PdSignInPage *self,
                                       const char   *username,
                                       const char   *password);
const char *pd_sign_in_page_get_error (PdSignInPage *self);

G_END_DECLS
