/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-links"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"
#include "pd-link-monitor.h"

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

int
pd_cli_links (PdCli  *cli,
              int     argc,
              char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdLinkMonitor) monitor = NULL;
  gint64 deadline;
  gboolean all_online = TRUE;

  if (!pd_cli_parse (cli, &argc, &argv, NULL, _("Check that each configured link answers."), NULL, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (cli->config == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("links needs --config FILE (or PHARMDESK_CONFIG)"));

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
