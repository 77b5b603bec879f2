/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-audit"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"
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
      json_builder_set_member_name (b, "first_bad_row");
      if (report.ok)
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
    pd_cli_print (_("The audit trail is intact (%" G_GINT64_FORMAT " rows).\n"), report.rows);
  status = report.ok ? PD_EXIT_OK : pd_cli_fail (PD_EXIT_NO, "%s", report.problem);
  pd_audit_report_clear (&report);
  return status;
}

int
pd_cli_audit (PdCli  *cli,
              int     argc,
              char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;

  if (!pd_cli_parse (cli, &argc, &argv, "verify", _("Verify the audit trail."), NULL, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc != 2 || !g_str_equal (argv[1], "verify"))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli audit verify --user NAME --password-file FILE"));
  store = pd_store_open (pd_cli_db_path (cli), &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  return audit_verify (cli, session);
}
