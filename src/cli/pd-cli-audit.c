/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-audit"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"
#include "pd-audit-export.h"
#include "pd-registry.h"
#include "pd-session.h"

/* `audit verify`: walks the chain and names the first bad row. Exit 0
 * intact, 1 tampered (the row on stderr), 2 cannot check. */
static int
audit_verify (PdCli     *cli,
              PdSession *session)
{
  PdAuditReport report;
  g_autoptr(GError) error = NULL;
  int status;

  if (!pd_session_require (session, PD_ACTION_VERIFY_AUDIT, "audit", NULL, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (!pd_audit_verify (pd_session_get_store (session), pd_session_get_audit_key (session), &report, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  pd_session_audit (session, "audit.verify", "audit", NULL, report.ok ? "ok" : "failed", NULL, NULL);

  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "ok");
      json_builder_add_boolean_value (b, report.ok);
      json_builder_set_member_name (b, "rows");
      json_builder_add_int_value (b, report.rows);
      json_builder_set_member_name (b, "head_signed");
      json_builder_add_boolean_value (b, report.head_signed);
      json_builder_set_member_name (b, "pending_checked");
      json_builder_add_boolean_value (b, report.pending_checked);
      json_builder_set_member_name (b, "pending_note");
      json_builder_add_string_value (b, report.pending_note);
      json_builder_set_member_name (b, "first_bad_row");
      if (report.ok || report.first_bad_seq == 0)
        json_builder_add_null_value (b);
      else
        json_builder_add_int_value (b, report.first_bad_seq);
      json_builder_set_member_name (b, "problem");
      json_builder_add_string_value (b, report.problem);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      pd_cli_print_json (root);
    }
  else if (report.ok)
    {
      pd_cli_print (_("The audit trail is intact (%lld rows).\n"), (long long) report.rows);
      if (report.pending_note != NULL)
        pd_cli_print ("%s\n", report.pending_note);
    }
  status = report.ok ? PD_EXIT_OK : pd_cli_fail (PD_EXIT_NO, "%s", report.problem);
  pd_audit_report_clear (&report);
  return status;
}

/* `audit export --from DAY --to DAY --out FILE|-` */
static int
audit_export (PdSession  *session,
              const char *from,
              const char *to,
              const char *out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) bundle = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  if (out == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("audit export needs --out FILE (or --out - for standard output)"));
  bundle = pd_audit_export (session, from, to, &error);
  if (bundle == NULL)
    return pd_cli_fail (g_error_matches (error, PD_TRUST_ERROR, PD_TRUST_ERROR_FORBIDDEN) ? PD_EXIT_NO : PD_EXIT_USAGE,
                        "%s", error->message);
  json_generator_set_root (gen, bundle);
  json_generator_set_pretty (gen, TRUE);
  if (g_str_equal (out, "-"))
    {
      g_autofree char *text = json_generator_to_data (gen, NULL);

      pd_cli_print ("%s\n", text);
    }
  else if (!json_generator_to_file (gen, out, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  return PD_EXIT_OK;
}

int
pd_cli_audit (PdCli  *cli,
              int     argc,
              char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autofree char *from = NULL, *to = NULL, *out = NULL;
  GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, N_("First day of the period (export)"), N_("YYYY-MM-DD") },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, N_("Last day of the period (export)"), N_("YYYY-MM-DD") },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, N_("Where to write the export; - for standard output"), N_("FILE") },
    { NULL }
  };

  if (!pd_cli_parse (cli, &argc, &argv, "verify|export", _("Verify or export the audit trail."), entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc != 2 || (!g_str_equal (argv[1], "verify") && !g_str_equal (argv[1], "export")))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli audit verify|export [--from DAY --to DAY --out FILE|-] --user NAME --password-file FILE"));
  store = pd_cli_open_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (g_str_equal (argv[1], "export"))
    return audit_export (session, from, to, out);
  return audit_verify (cli, session);
}
