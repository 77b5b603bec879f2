/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-stock"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"
#include "pd-kb-store.h"
#include "pd-stock.h"

/* `stock receive FILE` and `stock list [--code CODE]` (cli.md
 * "Dispensing"): a purchase receipt into stock, and what is on the shelf. */

static int
stock_receive (PdCli     *cli,
               PdSession *session,
               int        argc,
               char     **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdKb) kb = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  guint batches = 0, boxes = 0;

  if (argc != 2)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli stock receive FILE"));
  if (!g_file_get_contents (argv[1], &data, &len, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  /* The codes are checked against the knowledge base in force. */
  kb = pd_kb_load_active (pd_session_get_store (session), &error);
  if (kb == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (!pd_stock_receive (session, kb, argv[1], data, len, &batches, &boxes, &error))
    return pd_cli_fail (g_error_matches (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID) ? PD_EXIT_USAGE : PD_EXIT_NO,
                        "%s", error->message);
  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "batches");
      json_builder_add_int_value (b, batches);
      json_builder_set_member_name (b, "boxes");
      json_builder_add_int_value (b, boxes);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      pd_cli_print_json (root);
    }
  else
    pd_cli_print (_("Received %u boxes into %u batches.\n"), boxes, batches);
  return PD_EXIT_OK;
}

static void
print_list_json (GPtrArray *list)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++)
    {
      const PdStockBatch *batch = list->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "code");
      json_builder_add_string_value (b, batch->drug_code);
      json_builder_set_member_name (b, "lot");
      json_builder_add_string_value (b, batch->lot);
      json_builder_set_member_name (b, "manufactured");
      json_builder_add_string_value (b, batch->manufactured_on);
      json_builder_set_member_name (b, "expires");
      json_builder_add_string_value (b, batch->expires_on);
      json_builder_set_member_name (b, "boxes");
      json_builder_add_int_value (b, batch->boxes);
      json_builder_set_member_name (b, "opened");
      json_builder_begin_array (b);
      for (guint j = 0; j < batch->opened->len; j++)
        {
          const PdOpenedBox *box = batch->opened->pdata[j];

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "trace_code");
          json_builder_add_string_value (b, box->trace_code);
          json_builder_set_member_name (b, "units_left");
          json_builder_add_int_value (b, box->units_left);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  pd_cli_print_json (root);
}

/* A table for a person: the drug's name where the knowledge base knows it. */
static void
print_list_table (GPtrArray *list,
                  PdKb      *kb)
{
  g_autofree char *h_code = pd_cli_pad (_("Code"), 8);
  g_autofree char *h_name = pd_cli_pad (_("Drug"), 30);
  g_autofree char *h_lot = pd_cli_pad (_("Lot"), 14);
  g_autofree char *h_made = pd_cli_pad (_("Made"), 10);
  g_autofree char *h_exp = pd_cli_pad (_("Expires"), 10);
  g_autofree char *h_boxes = pd_cli_pad (_("Boxes"), 6);

  if (list->len == 0)
    {
      pd_cli_print ("%s\n", _("Nothing in stock."));
      return;
    }
  pd_cli_print ("%s %s %s %s %s %s %s\n", h_code, h_name, h_lot, h_made, h_exp, h_boxes, _("Opened boxes (units left)"));
  for (guint i = 0; i < list->len; i++)
    {
      const PdStockBatch *batch = list->pdata[i];
      const PdKbDrug *drug = kb != NULL ? pd_kb_find_drug (kb, batch->drug_code) : NULL;
      g_autofree char *boxes_text = g_strdup_printf ("%d", batch->boxes);
      g_autofree char *code = pd_cli_pad (batch->drug_code, 8);
      g_autofree char *name = pd_cli_pad (drug != NULL ? drug->name : "", 30);
      g_autofree char *lot = pd_cli_pad (batch->lot, 14);
      g_autofree char *made = pd_cli_pad (batch->manufactured_on, 10);
      g_autofree char *expires = pd_cli_pad (batch->expires_on, 10);
      g_autofree char *boxes = pd_cli_pad (boxes_text, 6);
      g_autoptr(GString) opened = g_string_new (NULL);

      for (guint j = 0; j < batch->opened->len; j++)
        {
          const PdOpenedBox *box = batch->opened->pdata[j];

          g_string_append_printf (opened, "%s%s (%d)", j > 0 ? ", " : "", box->trace_code, box->units_left);
        }
      pd_cli_print ("%s %s %s %s %s %s %s\n", code, name, lot, made, expires, boxes, opened->str);
    }
}

static int
stock_list (PdCli      *cli,
            PdSession  *session,
            const char *code,
            int         argc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;

  if (argc != 1)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli stock list [--code CODE]"));
  list = pd_stock_list (pd_session_get_store (session), code, &error);
  if (list == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (pd_cli_want_json (cli))
    print_list_json (list);
  else
    {
      g_autoptr(PdKb) kb = pd_kb_load_active (pd_session_get_store (session), NULL);

      print_list_table (list, kb);
    }
  return PD_EXIT_OK;
}

int
pd_cli_stock (PdCli  *cli,
              int     argc,
              char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autofree char *code = NULL;
  GOptionEntry entries[] = {
    { "code", 0, 0, G_OPTION_ARG_STRING, &code, N_("list: only this drug (product code of drugs.csv)"), N_("CODE") },
    { NULL }
  };
  const char *verb;

  if (!pd_cli_parse_verbs (cli, &argc, &argv, _("receive FILE | list [--code CODE]"),
                           _("Receive a purchase receipt into stock; list the batches on hand."),
                           _("Verbs:\n"
                             "  receive FILE        a CSV with the header code,lot,manufactured,expires,boxes\n"
                             "                      (dates YYYY-MM-DD); all of it or nothing (pharmacist or checker)\n"
                             "  list [--code CODE]  batches with boxes on hand or opened boxes, first expiry first\n"
                             "\n"
                             "Both sign in with --user and --password-file or --password-stdin."),
                           entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc < 2)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli stock receive FILE | list [--code CODE]"));
  argc--;
  argv++;   /* argv[0] is now the verb */
  verb = argv[0];
  if (!g_str_equal (verb, "receive") && !g_str_equal (verb, "list"))
    return pd_cli_fail (PD_EXIT_USAGE, _("stock: unknown verb “%s” (receive, list)"), verb);
  if (code != NULL && !g_str_equal (verb, "list"))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("--code is an option of “stock list”"));
  store = pd_cli_open_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (g_str_equal (verb, "receive"))
    return stock_receive (cli, session, argc, argv);
  return stock_list (cli, session, code, argc);
}
