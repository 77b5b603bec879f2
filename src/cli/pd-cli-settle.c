/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-settle"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"
#include "pd-insurance-link.h"
#include "pd-kb-store.h"
#include "pd-money.h"
#include "pd-settle.h"
#include "pd-store.h"

/* `settle` and `settlement list` (cli.md "Settlement"), and the
 * insurance side of `outbox resolve`. */

/* The signed-in clerk's link to the centre. */
static PdInsuranceLink *
open_link (PdCli     *cli,
           PdSession *session,
           GError   **error)
{
  if (cli->config == NULL && !pd_cli_config_from_store (cli, error))
    return NULL;
  return pd_insurance_link_new (session, cli->config, error);
}

static void
print_result (PdCli                *cli,
              const PdSettleResult *r)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  if (!pd_cli_want_json (cli))
    {
      if (r->setlinfo != NULL)
        pd_cli_print (_("Prescription %s: %s; the patient pays %s yuan in cash, the fund %s.\n"), r->rxno, r->state,
                      json_object_get_string_member_with_default (r->setlinfo, "psn_cash_pay", "?"),
                      json_object_get_string_member_with_default (r->setlinfo, "fund_pay_sumamt", "?"));
      else
        pd_cli_print (_("Prescription %s: %s.\n"), r->rxno, r->state);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "setlinfo");
  if (r->setlinfo != NULL)
    json_builder_add_value (b, json_node_init_object (json_node_alloc (), r->setlinfo));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "outbox_id");
  if (r->outbox_id > 0)
    json_builder_add_int_value (b, r->outbox_id);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "rxno");
  json_builder_add_string_value (b, r->rxno);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, r->state);
  json_builder_set_member_name (b, "err_msg");
  if (r->err_msg != NULL)
    json_builder_add_string_value (b, r->err_msg);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "uploads");
  json_builder_begin_array (b);
  for (guint i = 0; r->uploads != NULL && i < r->uploads->len; i++)
    {
      const PdUpload *u = r->uploads->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "code");
      json_builder_add_string_value (b, u->code);
      json_builder_set_member_name (b, "trace_codes");
      json_builder_begin_array (b);
      for (guint k = 0; k < u->trace_codes->len; k++)
        json_builder_add_string_value (b, u->trace_codes->pdata[k]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, u->state);
      json_builder_set_member_name (b, "msg");
      if (u->msg != NULL)
        json_builder_add_string_value (b, u->msg);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  pd_cli_print_json (root);
}

int
pd_cli_settle (PdCli  *cli,
               int     argc,
               char  **argv)
{
  g_autofree char *cert_type = NULL;
  g_autofree char *cert_no = NULL;
  g_autofree char *basket_path = NULL;
  gboolean account = FALSE, pre_only = FALSE, self_pay = FALSE;
  GOptionEntry entries[] = {
    { "cert-type", 0, 0, G_OPTION_ARG_STRING, &cert_type, N_("How the person is identified: 01 e-voucher, 02 ID card, 03 social-security card"), "TYPE" },
    { "cert-no", 0, 0, G_OPTION_ARG_STRING, &cert_no, N_("The e-voucher's token, the ID number or the card number"), "NO" },
    { "basket", 0, 0, G_OPTION_ARG_FILENAME, &basket_path, N_("What is sold (JSON, cli.md)"), "FILE" },
    { "account", 0, 0, G_OPTION_ARG_NONE, &account, N_("Let the personal account pay"), NULL },
    { "pre-only", 0, 0, G_OPTION_ARG_NONE, &pre_only, N_("Pre-settle only (2101): nothing is charged"), NULL },
    { "self-pay", 0, 0, G_OPTION_ARG_NONE, &self_pay, N_("Sell without insurance"), NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdKb) kb = NULL;
  g_autoptr(PdBasket) basket = NULL;
  g_autoptr(PdInsuranceLink) link = NULL;
  g_autoptr(PdSettleResult) result = NULL;
  g_autofree char *text = NULL;
  gsize len;

  if (!pd_cli_parse (cli, &argc, &argv, NULL, _("Settle a sale with the insurance centre."), entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (self_pay)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("A self-paid sale (--self-pay) is not in this version yet"));
  if (cert_type == NULL || cert_no == NULL || basket_path == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli settle --cert-type 01|02|03 --cert-no NO --basket FILE [--account] [--pre-only]"));
  if (!g_str_equal (cert_type, "01") && !g_str_equal (cert_type, "02") && !g_str_equal (cert_type, "03"))
    return pd_cli_fail (PD_EXIT_USAGE, _("--cert-type is 01 (e-voucher), 02 (ID card) or 03 (social-security card), not “%s”"), cert_type);
  if (!g_file_get_contents (basket_path, &text, &len, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  basket = pd_basket_from_json (text, len, &error);
  if (basket == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  store = pd_cli_open_existing_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL || !pd_session_require (session, PD_ACTION_SETTLE, "sale", NULL, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  kb = pd_kb_load_active (store, &error);
  if (kb == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  link = open_link (cli, session, &error);
  if (link == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  result = pd_settle (session, link, kb, basket, cert_type, cert_no, account, pre_only, NULL, &error);
  if (result == NULL)
    return pd_cli_fail (pd_cli_insurance_exit (error), "%s", error->message);
  print_result (cli, result);
  pd_store_close (store);
  if (g_str_equal (result->state, "refused"))
    return pd_cli_fail (PD_EXIT_NO, "%s", result->err_msg != NULL ? result->err_msg : _("The centre refused the settlement"));
  return g_str_equal (result->state, "unknown") ? PD_EXIT_UNKNOWN : PD_EXIT_OK;
}

/* --- settlement list ------------------------------------------------------------------------ */

static void
add_fen (JsonBuilder  *b,
         const char   *member,
         sqlite3_stmt *stmt,
         int           column)
{
  json_builder_set_member_name (b, member);
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    json_builder_add_null_value (b);
  else
    {
      g_autofree char *yuan = pd_money_format_fen (sqlite3_column_int64 (stmt, column));

      json_builder_add_string_value (b, yuan);
    }
}

static void
add_text (JsonBuilder  *b,
          const char   *member,
          sqlite3_stmt *stmt,
          int           column)
{
  json_builder_set_member_name (b, member);
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    json_builder_add_null_value (b);
  else
    json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, column));
}

static int
settlement_list (PdCli      *cli,
                 PdStore    *store,
                 const char *from,
                 const char *to)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT s.setl_id, s.mdtrt_id, s.msgid, sa.rxno, s.psn_no, s.insutype, s.setl_time, s.medfee_sumamt_fen,"
    " s.fund_pay_sumamt_fen, s.acct_pay_fen, s.psn_cash_pay_fen, s.refd_setl_flag, s.state"
    " FROM settlement s LEFT JOIN sale sa ON sa.id = s.sale_id"
    " WHERE s.kind IN ('settle', 'cancel') AND substr (s.created_at, 1, 10) BETWEEN ?1 AND ?2 ORDER BY s.id", &error);
  int rc;

  if (stmt == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  sqlite3_bind_text (stmt, 1, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, to, -1, SQLITE_STATIC);
  json_builder_begin_array (b);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *names[] = { "setl_id", "mdtrt_id", "msgid", "rxno", "psn_no", "insutype", "setl_time" };

      json_builder_begin_object (b);
      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        add_text (b, names[i], stmt, (int) i);
      add_fen (b, "medfee_sumamt", stmt, 7);
      add_fen (b, "fund_pay_sumamt", stmt, 8);
      add_fen (b, "acct_pay", stmt, 9);
      add_fen (b, "psn_cash_pay", stmt, 10);
      json_builder_set_member_name (b, "refd_setl_flag");
      json_builder_add_int_value (b, sqlite3_column_int (stmt, 11));
      add_text (b, "state", stmt, 12);
      json_builder_end_object (b);
    }
  sqlite3_reset (stmt);
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  pd_cli_print_json (root);
  return rc == SQLITE_DONE ? PD_EXIT_OK : PD_EXIT_NO;
}

int
pd_cli_settlement (PdCli  *cli,
                   int     argc,
                   char  **argv)
{
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, N_("First day (YYYY-MM-DD, China time; default today)"), "DATE" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, N_("Last day (default the first)"), "DATE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autofree char *today = NULL;

  if (!pd_cli_parse_verbs (cli, &argc, &argv, _("list [--from DATE --to DATE]"), _("The settlements with the insurance centre."),
                           NULL, entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc != 2 || !g_str_equal (argv[1], "list"))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli settlement list [--from DATE --to DATE]"));
  store = pd_cli_open_existing_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL || !pd_session_require (session, PD_ACTION_SETTLE, "settlement", NULL, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  today = pd_time_format_china (pd_clock_now_us (pd_clock_get_default ()), "%Y-%m-%d");
  return settlement_list (cli, store, from != NULL ? from : today, to != NULL ? to : from != NULL ? from : today);
}

/* `outbox resolve` with no ID: every insurance call whose outcome is not
 * known, by 2601. report gets a row per call. */
gboolean
pd_cli_resolve_insurance (PdCli     *cli,
                          PdSession *session,
                          JsonArray *report,
                          GError   **error)
{
  g_autoptr(PdInsuranceLink) link = NULL;

  if (cli->config == NULL || cli->config->insurance_url == NULL)
    return TRUE;
  link = open_link (cli, session, error);
  return link != NULL && pd_settle_resolve (session, link, 60, report, NULL, error);
}
