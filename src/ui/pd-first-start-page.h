/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pd-store.h"

G_BEGIN_DECLS

#define PD_TYPE_FIRST_START_PAGE (pd_first_start_page_get_type ())
G_DECLARE_FINAL_TYPE (PdFirstStartPage, pd_first_start_page, PD, FIRST_START_PAGE, GtkBox)

/* The walk-through of a database without accounts: the first
 * administrator, then the recovery key, then "done". */
GtkWidget  *pd_first_start_page_new          (PdStore          *store);
void        pd_first_start_page_submit       (PdFirstStartPage *self,
                                              const char       *username,
                                              const char       *display_name,
                                              const char       *password,
                                              const char       *repeat);
const char *pd_first_start_page_get_step     (PdFirstStartPage *self);
const char *pd_first_start_page_get_error    (PdFirstStartPage *self);
const char *pd_first_start_page_get_recovery_key (PdFirstStartPage *self);
void        pd_first_start_page_confirm_kept (PdFirstStartPage *self);

G_END_DECLS
