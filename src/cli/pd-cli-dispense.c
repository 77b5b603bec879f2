/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-dispense"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"
#include "pd-dispense.h"
#include "pd-hospital-link.h"
#include "pd-kb-store.h"
#include "pd-store.h"

/* `dispense RX --plan FILE --checker NAME --checker-password-file FILE` and
 * `dispense handover RX` (cli.md "Dispensing"). */

/* The hospital link of the config, when it names one; NULL otherwise. */
static PdHospitalLink *
hospital_link (PdCli     *cli,
               PdSession *session,
               PdKb      *kb)
{
  PdFhirClient *client;
  PdHospitalLink *link;

  if (cli->config == NULL || cli->config->hospital_url == NULL)
    return NULL;
  client = pd_fhir_client_new (cli->config, NULL);
  if (client == NULL)
    return NULL;
  link = pd_hospital_link_new (session, client, kb);
  pd_hospital_link_set_pharmacy (link, cli->config->fixmedins_code, cli->config->fixmedins_name);
  return link;
}

/* What was recorded goes out at once when the hospital answers; otherwise
 * the outbox keeps it for the next sync. */
static void
send_now (PdHospitalLink *link)
{
  PdSyncStats stats = { 0 };
  g_autoptr(GError) error = NULL;

  if (link != NULL && !pd_hospital_link_push (link, NULL, &stats, &error))
    g_printerr (_("The hospital did not take it yet (%s); the outbox sends it at the next sync.\n"), error->message);
  pd_sync_stats_clear (&stats);
}

static int
fail_with (GError *error)
{
  return pd_cli_fail (g_error_matches (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID) ? PD_EXIT_USAGE : PD_EXIT_NO,
                      "%s", error->message);
}

static int
fill (PdCli      *cli,
      const char *rx,
      const char *plan_path,
      const char *checker,
      const char *checker_password_file)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdKb) kb = NULL;
  g_autoptr(PdFillPlan) plan = NULL;
  g_autoptr(PdHospitalLink) link = NULL;
  g_autoptr(GPtrArray) resources = NULL;
  g_autofree char *text = NULL;
  g_autofree char *checker_password = NULL;
  g_autofree char *uuid = NULL;
  gsize len;

  if (plan_path == NULL || checker == NULL || checker_password_file == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli dispense RX --plan FILE --checker NAME --checker-password-file FILE"));
  if (!g_file_get_contents (plan_path, &text, &len, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  plan = pd_fill_plan_from_json (text, len, &error);
  if (plan == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  checker_password = pd_cli_read_secret_file (checker_password_file, &error);
  if (checker_password == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  store = pd_cli_open_existing_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL || !pd_session_require (session, PD_ACTION_DISPENSE, "prescription", NULL, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  kb = pd_kb_load_active (store, &error);
  if (kb == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  /* Online, the Task is read first: a cancelled prescription is refused
   * before anything leaves the shelf. */
  link = hospital_link (cli, session, kb);
  if (link != NULL)
    {
      g_autoptr(GError) offline = NULL;

      if (!pd_hospital_link_refresh_task (link, rx, NULL, &offline))
        {
          if (g_error_matches (offline, PD_STORE_ERROR, PD_STORE_ERROR_NOT_FOUND))
            return pd_cli_fail (PD_EXIT_NO, "%s", offline->message);
          g_printerr (_("The hospital cannot be asked (%s): filling on what the pharmacy knows.\n"), offline->message);
        }
    }
  uuid = pd_dispense_fill (session, kb, rx, plan, checker, checker_password, &error);
  if (uuid == NULL)
    return fail_with (error);
  send_now (link);
  resources = pd_dispense_resources (store, uuid, &error);
  if (resources == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "dispense_id");
      json_builder_add_string_value (b, uuid);
      json_builder_set_member_name (b, "rx");
      json_builder_add_string_value (b, rx);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, "dispensed");
      json_builder_set_member_name (b, "medication_dispenses");
      json_builder_begin_array (b);
      for (guint i = 0; i < resources->len; i++)
        json_builder_add_string_value (b, resources->pdata[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      pd_cli_print_json (root);
    }
  else if (resources->len > 0)
    pd_cli_print (_("Prescription %s dispensed (%s); the hospital holds %u MedicationDispenses.\n"), rx, uuid, resources->len);
  else
    pd_cli_print (_("Prescription %s dispensed (%s); the MedicationDispenses wait in the outbox for the hospital.\n"), rx, uuid);
  pd_store_close (store);
  return PD_EXIT_OK;
}

static int
handover (PdCli      *cli,
          const char *rx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdHospitalLink) link = NULL;

  store = pd_cli_open_existing_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (!pd_dispense_handover (session, rx, &error))
    return fail_with (error);
  link = hospital_link (cli, session, NULL);
  send_now (link);
  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "rx");
      json_builder_add_string_value (b, rx);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, "completed");
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      pd_cli_print_json (root);
    }
  else
    pd_cli_print (_("Prescription %s handed over.\n"), rx);
  pd_store_close (store);
  return PD_EXIT_OK;
}

int
pd_cli_dispense (PdCli  *cli,
                 int     argc,
                 char  **argv)
{
  g_autofree char *plan = NULL;
  g_autofree char *checker = NULL;
  g_autofree char *checker_password_file = NULL;
  GOptionEntry entries[] = {
    { "plan", 0, 0, G_OPTION_ARG_FILENAME, &plan, N_("The fill: per line the lot, the boxes and their traceability codes (JSON)"), "FILE" },
    { "checker", 0, 0, G_OPTION_ARG_STRING, &checker, N_("The second person who checks the fill (a checker, or another pharmacist)"), "NAME" },
    { "checker-password-file", 0, 0, G_OPTION_ARG_FILENAME, &checker_password_file, N_("The checker’s password, in a file"), "FILE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;

  if (!pd_cli_parse_verbs (cli, &argc, &argv, _("RX --plan FILE --checker NAME --checker-password-file FILE | handover RX"),
                           _("Fill an approved prescription, checked by a second person; hand it over at the counter."),
                           _("RX is the prescription’s number (its groupIdentifier value). A pharmacist or checker signs in\n"
                             "with --user; the checker named by --checker is another account."),
                           entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc == 3 && g_str_equal (argv[1], "handover"))
    return handover (cli, argv[2]);
  if (argc != 2)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli dispense RX --plan FILE --checker NAME --checker-password-file FILE | dispense handover RX"));
  return fill (cli, argv[1], plan, checker, checker_password_file);
}
