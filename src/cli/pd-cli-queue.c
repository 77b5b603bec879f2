/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-queue"

#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "pd-cli.h"
#include "pd-hospital-link.h"
#include "pd-kb-store.h"
#include "pd-queue-lines.h"
#include "pd-queue-model.h"
#include "pd-review-decidable.h"
#include "pd-review-view.h"
#include "pd-rx-cache.h"
#include "pd-store.h"

/* `queue list` and `decide` (cli.md "The queue and the decision from a
 * script"): the app's Review queue and its decision dialog, over the same
 * core calls, for night jobs, support staff and tests. */

/* cli.md's state of a queue row, from prescription.status. */
static const char *
state_of (const char *status)
{
  return g_strcmp0 (status, "requested") == 0 ? "to-review" : status;
}

static void
add_string_or_null (JsonBuilder *b,
                    const char  *name,
                    const char  *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

/* --- queue list ---------------------------------------------------------------------------- */

/* Who holds a claim: only while the row is claimed. */
static const char *
claim_of (PdQueueItem *item,
          gboolean     in_words)
{
  if (g_strcmp0 (pd_queue_item_get_status (item), "claimed") != 0)
    return NULL;
  return in_words ? pd_queue_item_get_claimer_name (item) : pd_queue_item_get_claimed_by (item);
}

static void
add_row_json (JsonBuilder *b,
              PdQueueItem *item,
              const char  *task_id,
              GPtrArray   *lines)
{
  json_builder_begin_object (b);
  add_string_or_null (b, "rx", pd_queue_item_get_number (item));
  add_string_or_null (b, "task", task_id);
  add_string_or_null (b, "patient", pd_queue_item_get_patient_name (item));
  add_string_or_null (b, "verdict", pd_queue_item_get_verdict (item));
  add_string_or_null (b, "state", state_of (pd_queue_item_get_status (item)));
  add_string_or_null (b, "priority", pd_queue_item_get_priority (item));
  add_string_or_null (b, "claimed_by", claim_of (item, FALSE));
  json_builder_set_member_name (b, "lines");
  json_builder_begin_array (b);
  for (guint i = 0; i < lines->len; i++)
    {
      const PdQueueLine *line = lines->pdata[i];

      json_builder_begin_object (b);
      add_string_or_null (b, "id", line->id);
      add_string_or_null (b, "code", line->code);
      add_string_or_null (b, "name", line->name);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

enum { COL_RX, COL_STATE, COL_PRIORITY, COL_VERDICT, COL_PATIENT, COL_CLAIM, COL_DRUGS, N_COLS };

static void
print_table (GPtrArray *rows)
{
  const char *header[N_COLS] = {
    _("Prescription"), _("State"), _("Priority"), _("Verdict"), _("Patient"), _("Claimed by"), _("Drugs"),
  };
  guint width[N_COLS];

  for (guint c = 0; c < N_COLS; c++)
    width[c] = pd_cli_display_width (header[c]);
  for (guint r = 0; r < rows->len; r++)
    for (guint c = 0; c < N_COLS; c++)
      width[c] = MAX (width[c], pd_cli_display_width (((char **) rows->pdata[r])[c]));
  for (guint r = 0; r <= rows->len; r++)
    {
      const char * const *cells = r == 0 ? header : rows->pdata[r - 1];
      g_autoptr(GString) line = g_string_new (NULL);

      for (guint c = 0; c < N_COLS; c++)
        {
          g_autofree char *cell = c + 1 < N_COLS ? pd_cli_pad (cells[c], width[c] + 2) : g_strdup (cells[c]);

          g_string_append (line, cell);
        }
      pd_cli_print ("%s\n", line->str);
    }
  if (rows->len == 0)
    pd_cli_print ("%s\n", _("The queue is empty."));
}

static char **
table_row (PdQueueItem *item)
{
  char **cells = g_new0 (char *, N_COLS + 1);
  const char *claim = claim_of (item, TRUE);

  cells[COL_RX] = g_strdup (pd_queue_item_get_number (item));
  cells[COL_STATE] = g_strdup (state_of (pd_queue_item_get_status (item)));
  cells[COL_PRIORITY] = g_strdup (pd_queue_item_get_priority (item));
  cells[COL_VERDICT] = g_strdup (pd_queue_item_get_verdict (item) != NULL ? pd_queue_item_get_verdict (item) : "");
  cells[COL_PATIENT] = g_strdup (pd_queue_item_get_patient_name (item) != NULL ? pd_queue_item_get_patient_name (item) : "");
  cells[COL_CLAIM] = g_strdup (claim != NULL ? claim : "");
  cells[COL_DRUGS] = g_strdup (pd_queue_item_get_drugs (item) != NULL ? pd_queue_item_get_drugs (item) : "");
  return cells;
}

int
pd_cli_queue (PdCli  *cli,
              int     argc,
              char  **argv)
{
  g_autofree char *search = NULL;
  GOptionEntry entries[] = {
    { "search", 0, 0, G_OPTION_ARG_STRING, &search,
      N_("list: only what the app’s search finds (a name, an ID number’s last four, a prescription number, a drug)"), N_("TEXT") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdQueueModel) model = NULL;
  g_autoptr(PdQueueLines) reader = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GPtrArray) table = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  gboolean json;
  guint n;

  if (!pd_cli_parse_verbs (cli, &argc, &argv, _("list [--search TEXT]"),
                           _("The Review queue in its order, as the app shows it."), NULL, entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc != 2 || !g_str_equal (argv[1], "list"))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli queue list [--search TEXT]"));
  json = pd_cli_want_json (cli);
  store = pd_cli_open_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL || !pd_session_require (session, PD_ACTION_OPEN_PATIENT, "prescription", NULL, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  model = pd_queue_model_new (session, &error);
  if (model == NULL || (reader = pd_queue_lines_new (session, &error)) == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (search != NULL)
    pd_queue_model_set_search (model, search);

  json_builder_begin_array (b);
  n = g_list_model_get_n_items (G_LIST_MODEL (model));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PdQueueItem) item = g_list_model_get_item (G_LIST_MODEL (model), i);
      g_autoptr(GPtrArray) lines = NULL;
      g_autofree char *task_id = NULL;

      if (item == NULL)
        break;
      if (!json)
        {
          g_ptr_array_add (table, table_row (item));
          continue;
        }
      lines = pd_queue_lines_read (reader, pd_queue_item_get_id (item), &task_id, &error);
      if (lines == NULL)
        return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
      add_row_json (b, item, task_id, lines);
    }
  json_builder_end_array (b);
  if (pd_queue_model_get_error (model) != NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", pd_queue_model_get_error (model)->message);
  if (json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (b);

      pd_cli_print_json (root);
    }
  else
    print_table (table);
  pd_store_close (store);
  return PD_EXIT_OK;
}

/* --- decide -------------------------------------------------------------------------------- */

/* One --override: the finding's code and lines, and the answer. */
typedef struct {
  char  *code;
  char **lines;     /* sorted */
  char  *reason;    /* "REASON-CODE: text" */
  gboolean used;
} Override;

static void
override_free (gpointer data)
{
  Override *o = data;

  g_free (o->code);
  g_strfreev (o->lines);
  g_free (o->reason);
  g_free (o);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* A comma-separated list of line ids, sorted; NULL when one is empty. */
static char **
split_lines (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, ",", -1);
  guint n = g_strv_length (lines);

  for (guint i = 0; i < n; i++)
    {
      g_strstrip (lines[i]);
      if (*lines[i] == '\0')
        return NULL;
    }
  if (n == 0)
    return NULL;
  qsort (lines, n, sizeof (char *), compare_strings);
  return g_steal_pointer (&lines);
}

/* "CODE:LINES=REASON-CODE: text" (review.md's override reasons). */
static Override *
parse_override (const char  *text,
                GError     **error)
{
  const char *eq = strchr (text, '=');
  const char *colon = eq != NULL ? memchr (text, ':', eq - text) : NULL;
  g_autofree char *lines = NULL;
  g_autofree char *reason_code = NULL;
  g_autofree char *words = NULL;
  Override *o;

  if (colon != NULL && strchr (eq + 1, ':') != NULL)
    {
      const char *reason_colon = strchr (eq + 1, ':');

      reason_code = g_strstrip (g_strndup (eq + 1, reason_colon - (eq + 1)));
      words = g_strstrip (g_strdup (reason_colon + 1));
    }
  if (colon == NULL || colon == text || reason_code == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--override “%s” is not CODE:LINES=REASON-CODE: TEXT (for example drug-interaction:m1,m2=benefit-outweighs-risk: INR checked weekly)"),
                   text);
      return NULL;
    }
  if (!g_strv_contains (pd_override_reasons, reason_code) || *words == '\0')
    {
      g_autofree char *codes = g_strjoinv (", ", (char **) pd_override_reasons);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--override “%s”: the reason is one of %s, a colon, then your words"), text, codes);
      return NULL;
    }
  lines = g_strndup (colon + 1, eq - (colon + 1));
  o = g_new0 (Override, 1);
  o->code = g_strstrip (g_strndup (text, colon - text));
  o->lines = split_lines (lines);
  o->reason = g_strdup_printf ("%s: %s", reason_code, words);
  if (o->lines == NULL)
    {
      override_free (o);
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--override “%s” names no lines: give the finding’s lines (MedicationRequest ids) after its code"), text);
      return NULL;
    }
  return o;
}

static gboolean
same_lines (char       **a,
            char       **b)
{
  guint n = g_strv_length (a);

  if (n != g_strv_length (b))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (!g_str_equal (a[i], b[i]))
      return FALSE;
  return TRUE;
}

/* The dialog's answers from the options: each major finding its
 * --override (one --override answers the finding on those lines for every
 * population), each moderate one acknowledged. An --override that names
 * no finding of the prescription is bad input. */
static GHashTable *
answers_for (const PdRxView  *view,
             GPtrArray       *overrides,
             GError         **error)
{
  g_autoptr(GHashTable) answers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < view->findings->len; i++)
    {
      const PdRxViewFinding *f = view->findings->pdata[i];
      /* pd_finding_key(): "code|line,line|population". */
      g_auto(GStrv) parts = g_strsplit (f->key, "|", 3);
      g_auto(GStrv) lines = parts[0] != NULL && parts[1] != NULL ? split_lines (parts[1]) : NULL;

      if (f->severity == PD_SEVERITY_MODERATE)
        g_hash_table_replace (answers, g_strdup (f->key), g_strdup ("acknowledge"));
      for (guint j = 0; j < overrides->len && lines != NULL; j++)
        {
          Override *o = overrides->pdata[j];

          if (!g_str_equal (o->code, parts[0]) || !same_lines (o->lines, lines))
            continue;
          o->used = TRUE;
          if (f->severity == PD_SEVERITY_MAJOR)
            g_hash_table_replace (answers, g_strdup (f->key), g_strdup (o->reason));
        }
    }
  for (guint j = 0; j < overrides->len; j++)
    {
      Override *o = overrides->pdata[j];
      g_autofree char *lines = g_strjoinv (",", o->lines);

      if (!o->used)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--override names “%s” on the lines %s, which this prescription does not have now"), o->code, lines);
          return NULL;
        }
    }
  return g_steal_pointer (&answers);
}

/* The decision's outbox item after the push: sent, queued, or what the
 * hospital said against it (conflict, refused) with its words. */
static char *
decision_state (const PdRxView  *view,
                const char      *decision_uuid,
                char           **why)
{
  const char *state = NULL;

  for (guint i = 0; i < view->decisions->len; i++)
    {
      const PdRxViewDecision *d = view->decisions->pdata[i];

      if (g_strcmp0 (d->uuid, decision_uuid) == 0)
        state = d->outbox_state;
    }
  if (g_strcmp0 (state, "done") == 0)
    return g_strdup ("sent");
  if (g_strcmp0 (state, "conflict") != 0 && g_strcmp0 (state, "refused") != 0)
    return g_strdup ("queued");
  /* A claim that did not hold says why better than the decision after it. */
  for (guint i = view->outbox->len; i > 0; i--)
    {
      const PdRxViewOutbox *o = view->outbox->pdata[i - 1];

      if (g_str_equal (o->operation, "decide"))
        {
          if (*why == NULL && o->error != NULL)
            *why = g_strdup (o->error);
          continue;
        }
      if (g_str_equal (o->operation, "claim") && o->error != NULL)
        {
          g_free (*why);
          *why = g_strdup (o->error);
        }
      break;
    }
  return g_strdup (state);
}

/* Sends the outbox now when --config names the hospital. An unreachable
 * hospital leaves the decision queued for the next sync. */
static void
send_now (PdCli     *cli,
          PdSession *session,
          PdKb      *kb)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdHospitalLink) link = NULL;
  g_auto(PdSyncStats) stats = { 0 };
  PdFhirClient *client;

  if (cli->config == NULL || cli->config->hospital_url == NULL)
    return;
  client = pd_fhir_client_new (cli->config, &error);
  if (client == NULL)
    {
      g_printerr (_("Warning: %s; the decision waits in the outbox.\n"), error->message);
      return;
    }
  link = pd_hospital_link_new (session, client, kb);
  pd_hospital_link_set_pharmacy (link, cli->config->fixmedins_code, cli->config->fixmedins_name);
  if (!pd_hospital_link_push (link, NULL, &stats, &error))
    g_printerr (_("Warning: %s; the decision waits in the outbox.\n"), error->message);
}

int
pd_cli_decide (PdCli  *cli,
               int     argc,
               char  **argv)
{
  g_auto(GStrv) override_texts = NULL;
  g_autofree char *reason = NULL;
  GOptionEntry entries[] = {
    { "override", 0, 0, G_OPTION_ARG_STRING_ARRAY, &override_texts,
      N_("approve: a major finding’s reason, CODE:LINES=REASON-CODE: TEXT (once per finding)"), N_("OVERRIDE") },
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, N_("reject: the reason, for the prescriber"), N_("TEXT") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) overrides = g_ptr_array_new_with_free_func (override_free);
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdKb) kb = NULL;
  g_autoptr(PdRxView) view = NULL;
  g_autoptr(GHashTable) answers = NULL;
  g_autofree char *rx_uuid = NULL;
  g_autofree char *decision_uuid = NULL;
  g_autofree char *state = NULL;
  g_autofree char *why = NULL;
  const char *rx, *decision;
  gboolean approve;

  if (!pd_cli_parse (cli, &argc, &argv, _("RX approve|reject"),
                     _("Approve or reject a prescription as the signed-in pharmacist, as the app’s decision dialog does."),
                     entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc != 3 || (!g_str_equal (argv[2], "approve") && !g_str_equal (argv[2], "reject")))
    return pd_cli_fail (PD_EXIT_USAGE, "%s",
                        _("usage: pharmdesk-cli decide RX approve|reject [--override CODE:LINES=REASON]… [--reason TEXT]"));
  rx = argv[1];
  decision = argv[2];
  approve = g_str_equal (decision, "approve");
  if (approve && reason != NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("--reason goes with reject; an approval takes --override for its major findings"));
  if (!approve && override_texts != NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("--override goes with approve; a rejection takes --reason"));
  for (guint i = 0; override_texts != NULL && override_texts[i] != NULL; i++)
    {
      Override *o = parse_override (override_texts[i], &error);

      if (o == NULL)
        return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
      for (guint j = 0; j < overrides->len; j++)
        {
          Override *other = overrides->pdata[j];

          if (g_str_equal (other->code, o->code) && same_lines (other->lines, o->lines))
            {
              override_free (o);
              return pd_cli_fail (PD_EXIT_USAGE, _("--override “%s” answers a finding already answered"), override_texts[i]);
            }
        }
      g_ptr_array_add (overrides, o);
    }

  store = pd_cli_open_store (cli, &error);
  if (store == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL || !pd_session_require (session, PD_ACTION_REVIEW, "prescription", NULL, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  kb = pd_kb_load_active (store, &error);
  if (kb == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (!pd_rx_cache_find (store, rx, &rx_uuid, NULL, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  view = pd_rx_view_load (session, kb, rx_uuid, "en", FALSE, &error);
  if (view == NULL || !pd_review_check_decidable (view, &error))
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  answers = answers_for (view, overrides, &error);
  if (answers == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  decision_uuid = pd_review_decide (session, kb, rx_uuid, decision, approve ? answers : NULL, reason, &error);
  if (decision_uuid == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);

  send_now (cli, session, kb);
  g_clear_pointer (&view, pd_rx_view_free);
  view = pd_rx_view_load (session, kb, rx_uuid, "en", FALSE, &error);
  state = view != NULL ? decision_state (view, decision_uuid, &why) : g_strdup ("queued");
  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      add_string_or_null (b, "decision_id", decision_uuid);
      add_string_or_null (b, "rx", rx);
      add_string_or_null (b, "decision", decision);
      add_string_or_null (b, "state", state);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      pd_cli_print_json (root);
    }
  else if (g_str_equal (state, "sent"))
    pd_cli_print (approve ? _("Prescription %s approved (decision %s); the hospital has it.\n")
                          : _("Prescription %s rejected (decision %s); the hospital has it.\n"), rx, decision_uuid);
  else if (g_str_equal (state, "queued"))
    pd_cli_print (approve ? _("Prescription %s approved (decision %s); it goes to the hospital with the next sync.\n")
                          : _("Prescription %s rejected (decision %s); it goes to the hospital with the next sync.\n"), rx, decision_uuid);
  pd_store_close (store);
  if (!g_str_equal (state, "sent") && !g_str_equal (state, "queued"))
    return pd_cli_fail (PD_EXIT_NO, _("The hospital did not take the decision on %s: %s"), rx,
                        why != NULL ? why : state);
  return PD_EXIT_OK;
}
