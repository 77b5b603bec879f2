/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-ui"

#include "config.h"

#include <string.h>

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

GtkWidget *
pd_ui_add_row (AdwPreferencesGroup *group,
               const char          *title,
               const char          *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL && *subtitle != '\0')
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_preferences_group_add (group, row);
  return row;
}

char *
pd_ui_short_time (const char *iso)
{
  if (iso == NULL || strlen (iso) < 16)
    return g_strdup (iso != NULL ? iso : "");
  return g_strdup_printf ("%.10s %.5s", iso, iso + 11);
}
