/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-links"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"
#include "pd-link-monitor.h"
#include "pd-link-settings.h"

/* `pharmdesk-cli links`: can this desk reach its links with its
 * credentials? What the app's connection indicators show, for night jobs
 * and support. Exit 0 when every configured link is online, 1 otherwise. */

#define WAIT_S 15

static gboolean
settled (PdLinkMonitor *monitor)
{
  for (PdLink l = 0; l < PD_N_LINKS; l++)
    if (pd_link_monitor_get_state (monitor, l) == PD_LINK_STATE_CHECKING)
      return FALSE;
  return TRUE;
}

/* An administrator's act: addresses to the database (audited), secrets to
 * the keyring. */
static int
links_set (PdCli      *cli,
           const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autofree char *data = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &data, &length, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  store = pd_cli_open_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL || !pd_link_settings_import (session, data, length, &error))
    return pd_cli_fail (g_error_matches (error, PD_CONFIG_ERROR, PD_CONFIG_ERROR_INVALID) ? PD_EXIT_USAGE : PD_EXIT_NO,
                        "%s", error->message);
  pd_cli_print (_("The links of %s are kept; their secrets are in the keyring.\n"), path);
  pd_store_close (store);
  return PD_EXIT_OK;
}

int
pd_cli_links (PdCli  *cli,
              int     argc,
              char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdLinkMonitor) monitor = NULL;
  gint64 deadline;
  gboolean all_online = TRUE;

  if (!pd_cli_parse (cli, &argc, &argv, _("[set FILE]"),
                     _("Check that each configured link answers; or, as an administrator, keep the links of FILE (client.ini's format) "
                       "in the database and their secrets in the keyring."), NULL, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc == 3 && g_str_equal (argv[1], "set"))
    return links_set (cli, argv[2]);
  if (argc != 1)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli links | links set FILE"));
  if (cli->config == NULL && !pd_cli_config_from_store (cli, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);

  monitor = pd_link_monitor_new (cli->config);
  pd_link_monitor_check_now (monitor);
  deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  while (!settled (monitor) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  pd_link_monitor_stop (monitor);

  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      static const char *states[] = { "unconfigured", "checking", "offline", "online", "syncing", "error" };

      json_builder_begin_object (b);
      for (PdLink l = 0; l < PD_N_LINKS; l++)
        {
          PdLinkState st = pd_link_monitor_get_state (monitor, l);

          json_builder_set_member_name (b, pd_link_get_id (l));
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "state");
          json_builder_add_string_value (b, states[st]);
          json_builder_set_member_name (b, "message");
          json_builder_add_string_value (b, pd_link_monitor_get_message (monitor, l));
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      pd_cli_print_json (root);
    }
  for (PdLink l = 0; l < PD_N_LINKS; l++)
    {
      PdLinkState st = pd_link_monitor_get_state (monitor, l);
      const char *message = pd_link_monitor_get_message (monitor, l);

      if (st != PD_LINK_STATE_UNCONFIGURED && st != PD_LINK_STATE_ONLINE)
        all_online = FALSE;
      if (!pd_cli_want_json (cli))
        pd_cli_print ("%-18s %-14s %s\n", pd_link_get_title (l), pd_link_state_get_label (st), message != NULL ? message : "");
    }
  /* Let the cancelled probes finish before the monitor goes. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return all_online ? PD_EXIT_OK : PD_EXIT_NO;
}
