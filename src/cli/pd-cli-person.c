/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-person"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"
#include "pd-insurance-link.h"
#include "pd-json.h"
#include "pd-money.h"

/* `person --cert-type 01|02|03 --cert-no NO [--name NAME]` (cli.md
 * "Settlement"): 1101 as the signed-in clerk, its output as it came. */

int
pd_cli_insurance_exit (const GError *error)
{
  if (g_error_matches (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_UNKNOWN))
    return PD_EXIT_UNKNOWN;
  if (g_error_matches (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_NOT_CONFIGURED))
    return PD_EXIT_USAGE;
  return PD_EXIT_NO;
}

/* For a person at a terminal: who, and each insurance's type, status and balance. */
static void
print_table (JsonObject *output)
{
  JsonObject *base = pd_json_obj (output, "baseinfo");
  JsonArray *insu = pd_json_arr (output, "insuinfo");

  pd_cli_print (_("%s (personal number %s)\n"), pd_json_str (base, "psn_name") != NULL ? pd_json_str (base, "psn_name") : "?",
                pd_json_str (base, "psn_no"));
  for (guint i = 0; insu != NULL && i < json_array_get_length (insu); i++)
    {
      JsonObject *o = pd_json_arr_obj (insu, i);
      gint64 fen = 0;
      g_autofree char *balance = pd_insurance_read_fen (o, "balc", &fen) ? pd_money_format_fen (fen) : g_strdup ("?");

      pd_cli_print (_("  insurance type %s, status %s, area %s, account balance %s\n"),
                    pd_json_str (o, "insutype") != NULL ? pd_json_str (o, "insutype") : "?",
                    pd_json_str (o, "psn_insu_stas") != NULL ? pd_json_str (o, "psn_insu_stas") : "?",
                    pd_json_str (o, "insuplc_admdvs") != NULL ? pd_json_str (o, "insuplc_admdvs") : "?", balance);
    }
}

int
pd_cli_person (PdCli  *cli,
               int     argc,
               char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdInsuranceLink) link = NULL;
  g_autoptr(JsonObject) output = NULL;
  g_autofree char *cert_type = NULL;
  g_autofree char *cert_no = NULL;
  g_autofree char *name = NULL;
  GOptionEntry entries[] = {
    { "cert-type", 0, 0, G_OPTION_ARG_STRING, &cert_type,
      N_("01 e-voucher (the QR's token), 02 ID card, 03 social-security card"), N_("TYPE") },
    { "cert-no", 0, 0, G_OPTION_ARG_STRING, &cert_no, N_("The certificate's number"), N_("NO") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("The person's name, checked by the centre"), N_("NAME") },
    { NULL }
  };

  if (!pd_cli_parse (cli, &argc, &argv, NULL,
                     _("Ask the insurance centre who a person is (1101) and print its answer as it came."),
                     entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc > 1)
    return pd_cli_fail (PD_EXIT_USAGE, _("person: unexpected argument “%s”"), argv[1]);
  if (cert_type == NULL || (!g_str_equal (cert_type, "01") && !g_str_equal (cert_type, "02") && !g_str_equal (cert_type, "03")))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("--cert-type must be 01 (e-voucher), 02 (ID card) or 03 (social-security card)"));
  if (cert_no == NULL || *g_strstrip (cert_no) == '\0')
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("--cert-no is needed"));
  if (name != NULL && *g_strstrip (name) == '\0')
    g_clear_pointer (&name, g_free);

  store = pd_cli_open_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL || !pd_session_require (session, PD_ACTION_SETTLE, "person", NULL, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (cli->config == NULL && !pd_cli_config_from_store (cli, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  link = pd_insurance_link_new (session, cli->config, &error);
  if (link == NULL)
    return pd_cli_fail (pd_cli_insurance_exit (error), "%s", error->message);
  output = pd_insurance_person (link, cert_type, cert_no, name, NULL, &error);
  if (output == NULL)
    return pd_cli_fail (pd_cli_insurance_exit (error), "%s", error->message);
  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (), output);

      pd_cli_print_json (root);
    }
  else
    print_table (output);
  return PD_EXIT_OK;
}
