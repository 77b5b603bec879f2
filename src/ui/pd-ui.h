/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* gettext set-up shared by the app and its tests: LOCALEDIR, or
 * PHARMDESK_LOCALEDIR when running from the build tree. */
void       pd_ui_init_i18n  (void);

/* An AdwActionRow of plain text (no markup) added to group; a subtitle
 * only when there is one. */
GtkWidget *pd_ui_add_row    (AdwPreferencesGroup *group,
                             const char          *title,
                             const char          *subtitle);
/* 2026-11-20T09:30:00+08:00 → 2026-11-20 09:30 */
char      *pd_ui_short_time (const char          *iso);

G_END_DECLS
