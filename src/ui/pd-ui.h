/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* gettext set-up shared by the app and its tests: LOCALEDIR, or
 * PHARMDESK_LOCALEDIR when running from the build tree. */
void pd_ui_init_i18n (void);

G_END_DECLS
