/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-ui"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "pd-ui.h"

void
pd_ui_init_i18n (void)
{
  const char *dir = g_getenv ("PHARMDESK_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, dir != NULL && *dir != '\0' ? dir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
