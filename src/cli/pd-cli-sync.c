/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-sync"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"
#include "pd-hospital-link.h"
#include "pd-kb-store.h"
#include "pd-outbox.h"
#include "pd-review-decision.h"
#include "pd-store.h"

/* `sync`, `outbox list|resolve` and `verify-review` (cli.md), for night
 * jobs, support and tests. */

static void
add_stats (JsonBuilder       *b,
           const PdSyncStats *s)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "pages");
  json_builder_add_int_value (b, s->pages);
  json_builder_set_member_name (b, "tasks");
  json_builder_add_int_value (b, s->tasks_seen);
  json_builder_set_member_name (b, "stored");
  json_builder_add_int_value (b, s->stored);
  json_builder_set_member_name (b, "cancelled");
  json_builder_add_int_value (b, s->cancelled);
  json_builder_set_member_name (b, "sent");
  json_builder_add_int_value (b, s->sent);
  json_builder_set_member_name (b, "conflicts");
  json_builder_add_int_value (b, s->conflicts);
  json_builder_set_member_name (b, "refused");
  json_builder_add_int_value (b, s->refused);
  json_builder_set_member_name (b, "offline");
  json_builder_add_boolean_value (b, s->offline);
  json_builder_set_member_name (b, "cursor");
  if (s->cursor != NULL)
    json_builder_add_string_value (b, s->cursor);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "anchored_seq");
  json_builder_add_int_value (b, s->anchored_seq);
  json_builder_set_member_name (b, "anchor_warning");
  json_builder_add_string_value (b, s->anchor_warning);
  json_builder_end_object (b);
}

int
pd_cli_sync (PdCli  *cli,
             int     argc,
             char  **argv)
{
  g_autofree char *which = NULL;
  GOptionEntry entries[] = {
    { "link", 0, 0, G_OPTION_ARG_STRING, &which, N_("hospital, courier or all (default all)"), "LINK" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdKb) kb = NULL;
  g_autoptr(GError) kb_error = NULL;
  g_autoptr(PdHospitalLink) link = NULL;
  PdFhirClient *client;
  PdSyncStats stats = { 0 };
  gboolean ok;
  int status = PD_EXIT_OK;

  if (!pd_cli_parse (cli, &argc, &argv, NULL, _("Send the outbox and pull the work queue."), entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (which != NULL && !g_str_equal (which, "hospital") && !g_str_equal (which, "courier") && !g_str_equal (which, "all"))
    return pd_cli_fail (PD_EXIT_USAGE, _("--link must be hospital, courier or all, not “%s”"), which);
  if (which != NULL && g_str_equal (which, "courier"))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("The courier link is not in this version yet"));
  if (cli->config == NULL && !pd_cli_config_from_store (cli, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  store = pd_cli_open_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL || !pd_session_require (session, PD_ACTION_OPEN_PATIENT, "link", NULL, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  kb = pd_kb_load_active (store, &kb_error);
  if (kb == NULL)
    g_printerr (_("Warning: %s; prescriptions are stored without a verdict.\n"), kb_error->message);
  client = pd_fhir_client_new (cli->config, &error);
  if (client == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  link = pd_hospital_link_new (session, client, kb);
  /* Each sync anchors the audit trail's signed head with the hospital. */
  pd_hospital_link_set_pharmacy (link, cli->config->fixmedins_code, cli->config->fixmedins_name);
  ok = pd_hospital_link_sync (link, NULL, NULL, NULL, &stats, &error);
  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "hospital");
      add_stats (b, &stats);
      json_builder_set_member_name (b, "error");
      if (ok)
        json_builder_add_null_value (b);
      else
        json_builder_add_string_value (b, error->message);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      pd_cli_print_json (root);
    }
  else
    pd_cli_print (_("Hospital: %u prescriptions stored (%u cancelled), %u sent, %u conflicts, %u refused.\n"),
                  stats.stored, stats.cancelled, stats.sent, stats.conflicts, stats.refused);
  if (!ok)
    {
      g_printerr ("%s\n", error->message);
      status = PD_EXIT_NO;
    }
  else if (stats.offline)
    status = PD_EXIT_UNKNOWN;
  pd_sync_stats_clear (&stats);
  pd_store_close (store);
  return status;
}

/* `outbox resolve` with no ID: every outcome that is not known, settled —
 * the hospital's by sending again what carries its own idempotency
 * (If-Match, conditional creates) and reading back, the insurance
 * centre's by 2601 — as the signed-in account's roles allow. */
static int
resolve_unknown (PdCli   *cli,
                 PdStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autoptr(JsonArray) report = json_array_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) left = NULL;
  gboolean reached = TRUE;
  guint unknown = 0;

  if (cli->config == NULL && !pd_cli_config_from_store (cli, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (cli->config->hospital_url != NULL && (pd_session_get_account (session)->roles & PD_ROLE_PHARMACIST))
    {
      g_autoptr(PdHospitalLink) link = NULL;
      PdFhirClient *client = pd_fhir_client_new (cli->config, &error);
      PdSyncStats stats = { 0 };

      if (client == NULL)
        return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
      link = pd_hospital_link_new (session, client, NULL);
      pd_hospital_link_set_pharmacy (link, cli->config->fixmedins_code, cli->config->fixmedins_name);
      if (!pd_hospital_link_push (link, NULL, &stats, NULL) || stats.offline)
        reached = FALSE;
      pd_sync_stats_clear (&stats);
    }
  if (pd_session_get_account (session)->roles & PD_ROLE_CLERK)
    {
      g_autoptr(GError) insurance_error = NULL;

      if (!pd_cli_resolve_insurance (cli, session, report, &insurance_error))
        {
          g_printerr ("%s\n", insurance_error->message);
          reached = FALSE;
        }
    }
  left = pd_outbox_list (store, FALSE, &error);
  for (guint i = 0; left != NULL && i < left->len; i++)
    unknown += g_strcmp0 (((PdOutboxItem *) left->pdata[i])->state, "unknown") == 0
               || g_strcmp0 (((PdOutboxItem *) left->pdata[i])->state, "sending") == 0;
  root = json_node_init_array (json_node_alloc (), report);
  pd_cli_print_json (root);
  return unknown == 0 && reached ? PD_EXIT_OK : PD_EXIT_UNKNOWN;
}

int
pd_cli_outbox (PdCli  *cli,
               int     argc,
               char  **argv)
{
  gboolean all = FALSE;
  g_autofree char *as = NULL;
  GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, N_("Also list what was sent and settled"), NULL },
    { "as", 0, 0, G_OPTION_ARG_STRING, &as, N_("resolve ID: what became of it, done or cancelled"), "STATE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;

  if (!pd_cli_parse (cli, &argc, &argv, _("list | resolve [ID --as done|cancelled]"), _("The requests waiting to go out."),
                     entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc < 2 || (g_str_equal (argv[1], "list") && argc != 2)
      || (g_str_equal (argv[1], "resolve") && argc == 3 && (as == NULL || (!g_str_equal (as, "done") && !g_str_equal (as, "cancelled"))))
      || (g_str_equal (argv[1], "resolve") && argc > 3)
      || (!g_str_equal (argv[1], "list") && !g_str_equal (argv[1], "resolve")))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli outbox list [--all] | outbox resolve [ID --as done|cancelled]"));
  store = pd_cli_open_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (g_str_equal (argv[1], "list") && !pd_cli_check_credentials (cli, store, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (g_str_equal (argv[1], "resolve") && argc == 2)
    {
      int status = resolve_unknown (cli, store);

      pd_store_close (store);
      return status;
    }
  if (g_str_equal (argv[1], "resolve"))
    {
      g_autoptr(PdSession) session = pd_cli_sign_in (cli, store, &error);
      const char *state = g_str_equal (as, "done") ? "resolved" : "cancelled";
      char *end = NULL;
      gint64 id = g_ascii_strtoll (argv[2], &end, 10);

      if (end == argv[2] || *end != '\0')
        return pd_cli_fail (PD_EXIT_USAGE, _("“%s” is not an outbox item number"), argv[2]);
      if (session == NULL || !pd_session_require (session, PD_ACTION_REVIEW, "outbox", NULL, &error)
          || !pd_outbox_resolve (session, id, state, &error))
        return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
      pd_cli_print (_("Outbox item %s is %s.\n"), argv[2], as);
      pd_store_close (store);
      return PD_EXIT_OK;
    }
  {
    g_autoptr(GPtrArray) items = pd_outbox_list (store, all, &error);
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;

    if (items == NULL)
      return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
    json_builder_begin_array (b);
    for (guint i = 0; i < items->len; i++)
      {
        PdOutboxItem *it = items->pdata[i];

        if (!pd_cli_want_json (cli))
          {
            pd_cli_print ("%6" G_GINT64_FORMAT "  %-9s %-8s %-9s %2d  %s\n", it->id, it->link, it->operation, it->state,
                          it->attempts, it->error != NULL ? it->error : "");
            continue;
          }
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "id");
        json_builder_add_int_value (b, it->id);
        json_builder_set_member_name (b, "link");
        json_builder_add_string_value (b, it->link);
        json_builder_set_member_name (b, "operation");
        json_builder_add_string_value (b, it->operation);
        json_builder_set_member_name (b, "state");
        json_builder_add_string_value (b, it->state);
        json_builder_set_member_name (b, "attempts");
        json_builder_add_int_value (b, it->attempts);
        json_builder_set_member_name (b, "http_status");
        json_builder_add_int_value (b, it->http_status);
        json_builder_set_member_name (b, "error");
        if (it->error != NULL)
          json_builder_add_string_value (b, it->error);
        else
          json_builder_add_null_value (b);
        json_builder_set_member_name (b, "subject");
        json_builder_add_string_value (b, it->subject_uuid);
        json_builder_set_member_name (b, "updated_at");
        json_builder_add_string_value (b, it->updated_at);
        json_builder_end_object (b);
      }
    json_builder_end_array (b);
    root = json_builder_get_root (b);
    if (pd_cli_want_json (cli))
      pd_cli_print_json (root);
  }
  pd_store_close (store);
  return PD_EXIT_OK;
}

int
pd_cli_verify_review (PdCli  *cli,
                      int     argc,
                      char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;

  if (!pd_cli_parse (cli, &argc, &argv, _("DECISION-ID"), _("Check a stored decision's signature against the key registry."),
                     NULL, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc != 2)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli verify-review DECISION-ID"));
  store = pd_cli_open_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (!pd_cli_check_credentials (cli, store, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (!pd_review_verify (store, argv[1], &error))
    {
      if (g_error_matches (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_FOUND))
        return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
      return pd_cli_fail (PD_EXIT_NO, _("The decision %s does not verify: %s"), argv[1], error->message);
    }
  if (pd_cli_want_json (cli))
    pd_cli_print ("{\"decision\":\"%s\",\"verified\":true}\n", argv[1]);
  else
    pd_cli_print (_("The decision %s is signed by its pharmacist's registered key.\n"), argv[1]);
  pd_store_close (store);
  return PD_EXIT_OK;
}
