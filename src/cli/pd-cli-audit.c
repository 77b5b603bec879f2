/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-audit"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"
#include "pd-audit-anchor.h"
#include "pd-audit-export.h"
#include "pd-registry.h"
#include "pd-session.h"

/* What `--against-anchor` found: checked with ok or a problem, or not
 * checked and why; failed when the anchor could not be read (exit 2). */
typedef struct {
  gboolean  checked;
  gboolean  ok;
  gboolean  failed;
  gint64    seq;
  char     *recorded;
  char     *problem;
  char     *reason;
} AnchorResult;

static void
anchor_result_clear (AnchorResult *r)
{
  g_free (r->recorded);
  g_free (r->problem);
  g_free (r->reason);
}

/* The latest anchor from the hospital against this trail (hospital.md).
 * The link is --config's or the one kept in the database. */
static void
check_anchor (PdCli        *cli,
              PdStore      *store,
              AnchorResult *r)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdFhirClient) client = NULL;
  g_auto(PdAuditHead) anchor = { 0 };
  gboolean found = FALSE;

  if (cli->config == NULL && !pd_cli_config_from_store (cli, &error))
    {
      r->reason = g_strdup_printf (_("no hospital link (--config FILE, or links kept in the database): the anchor was not checked (%s)"),
                                   error->message);
      return;
    }
  if (cli->config->hospital_url == NULL || cli->config->fixmedins_code == NULL)
    {
      r->reason = g_strdup (_("no hospital link with a [pharmacy] fixmedins_code: the anchor was not checked"));
      return;
    }
  client = pd_fhir_client_new (cli->config, &error);
  if (client == NULL || !pd_audit_anchor_fetch (client, cli->config->fixmedins_code, &anchor, &found, NULL, &error))
    {
      r->failed = TRUE;
      r->reason = g_strdup_printf (_("The anchor could not be read from the hospital: %s"), error->message);
      return;
    }
  if (!found)
    {
      r->reason = g_strdup_printf (_("the hospital holds no anchor of this pharmacy (%s) yet"), cli->config->fixmedins_code);
      return;
    }
  r->checked = TRUE;
  r->seq = anchor.seq;
  r->recorded = g_strdup (anchor.signed_at);
  r->ok = pd_audit_anchor_check (store, &anchor, &error);
  if (r->ok)
    return;
  if (error->domain != PD_AUDIT_ANCHOR_ERROR)
    {
      r->checked = FALSE;
      r->failed = TRUE;
      r->reason = g_strdup_printf (_("The anchor could not be checked: %s"), error->message);
      return;
    }
  r->problem = g_strdup (error->message);
}

static void
add_anchor (JsonBuilder        *b,
            const AnchorResult *r)
{
  json_builder_set_member_name (b, "anchor");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "checked");
  json_builder_add_boolean_value (b, r->checked);
  if (r->checked)
    {
      json_builder_set_member_name (b, "seq");
      json_builder_add_int_value (b, r->seq);
      json_builder_set_member_name (b, "recorded");
      json_builder_add_string_value (b, r->recorded);
      json_builder_set_member_name (b, "ok");
      json_builder_add_boolean_value (b, r->ok);
      json_builder_set_member_name (b, "problem");
      json_builder_add_string_value (b, r->problem);
    }
  else
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, r->reason);
    }
  json_builder_end_object (b);
}

/* `audit verify [--against-anchor]`: walks the chain and names the first
 * bad row, then holds the trail against the hospital's latest anchor.
 * Exit 0 intact, 1 tampered or rolled back (the problem on stderr), 2
 * cannot check (the anchor unreadable included: a read has no unknown
 * outcome, so never 3). */
static int
audit_verify (PdCli     *cli,
              PdSession *session,
              gboolean   against_anchor)
{
  PdAuditReport report;
  g_autoptr(GError) error = NULL;
  AnchorResult anchor = { 0 };
  int status;

  if (!pd_session_require (session, PD_ACTION_VERIFY_AUDIT, "audit", NULL, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (!pd_audit_verify (pd_session_get_store (session), pd_session_get_audit_key (session), &report, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (against_anchor)
    check_anchor (cli, pd_session_get_store (session), &anchor);
  else
    anchor.reason = g_strdup (_("not asked (--against-anchor)"));
  pd_session_audit (session, "audit.verify", "audit", NULL,
                    report.ok && (!anchor.checked || anchor.ok) ? "ok" : "failed", NULL, NULL);

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
      add_anchor (b, &anchor);
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
  if (!pd_cli_want_json (cli) && report.ok && anchor.checked && anchor.ok)
    pd_cli_print (_("The trail holds the hospital’s latest anchor (row %lld, signed at %s).\n"),
                  (long long) anchor.seq, anchor.recorded);
  else if (!pd_cli_want_json (cli) && report.ok && !anchor.checked && !anchor.failed && against_anchor)
    pd_cli_print (_("The anchor was not checked: %s\n"), anchor.reason);
  if (!report.ok)
    status = pd_cli_fail (PD_EXIT_NO, "%s", report.problem);
  else if (anchor.checked && !anchor.ok)
    status = pd_cli_fail (PD_EXIT_NO, "%s", anchor.problem);
  else if (anchor.failed)
    status = pd_cli_fail (PD_EXIT_USAGE, "%s", anchor.reason);
  else
    status = PD_EXIT_OK;
  pd_audit_report_clear (&report);
  anchor_result_clear (&anchor);
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
  gboolean against_anchor = FALSE;
  GOptionEntry entries[] = {
    { "against-anchor", 0, 0, G_OPTION_ARG_NONE, &against_anchor,
      N_("Also hold the trail against the latest anchor the hospital keeps (verify)"), NULL },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, N_("First day of the period (export)"), N_("YYYY-MM-DD") },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, N_("Last day of the period (export)"), N_("YYYY-MM-DD") },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, N_("Where to write the export; - for standard output"), N_("FILE") },
    { NULL }
  };

  if (!pd_cli_parse (cli, &argc, &argv, "verify|export", _("Verify or export the audit trail."), entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc != 2 || (!g_str_equal (argv[1], "verify") && !g_str_equal (argv[1], "export")))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli audit verify [--against-anchor]|export [--from DAY --to DAY --out FILE|-] --user NAME --password-file FILE"));
  store = pd_cli_open_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (g_str_equal (argv[1], "export"))
    return audit_export (session, from, to, out);
  return audit_verify (cli, session, against_anchor);
}
