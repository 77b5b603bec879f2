/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pharmdesk"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "pd-application.h"
#include "pd-ui.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(PdApplication) app = NULL;

  pd_ui_init_i18n ();
  app = pd_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
