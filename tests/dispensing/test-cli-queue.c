/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-queue"

#include "config.h"

#include <string.h>

#include "pd-hospital-link.h"
#include "pd-queue-model.h"
#include "pd-rx-cache.h"
#include "pd-store.h"
#include "pd-review-decision.h"
#include "pd-kb-store.h"
#include "shift.h"

/* pharmdesk-cli queue list and decide (cli.md "The queue and the decision
 * from a script") against the sandbox hospital: the queue in the app's
 * order and search, the decision as the app's dialog makes it, each
 * refusal exiting 1 (bad input 2) with nothing changed. */

static const char *states[] = { "to-review", "claimed", "approved", "rejected", "dispensed", "cancelled", "conflict", NULL };

/* The first row of the queue for which match() holds; its rx. */
static char *
find_rx (Shift     *s,
         gboolean (*match) (JsonObject *row))
{
  g_autoptr(JsonArray) queue = shift_queue (s);

  for (guint i = 0; i < json_array_get_length (queue); i++)
    {
      JsonObject *row = json_array_get_object_element (queue, i);

      if (match (row))
        return g_strdup (json_object_get_string_member (row, "rx"));
    }
  g_assert_not_reached ();
  return NULL;
}

static gboolean
has_code (JsonObject *row,
          const char *code)
{
  JsonArray *lines = json_object_get_array_member (row, "lines");

  for (guint i = 0; i < json_array_get_length (lines); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (lines, i), "code"), code) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
is_pass (JsonObject *row)
{
  return g_strcmp0 (json_object_get_string_member (row, "verdict"), "pass") == 0
         && g_str_equal (json_object_get_string_member (row, "state"), "to-review");
}

static gboolean
is_pass_routine (JsonObject *row)
{
  return is_pass (row) && g_str_equal (json_object_get_string_member (row, "priority"), "routine");
}

/* The demo's warfarin + aspirin: one major drug-interaction. */
static gboolean
is_warfarin_aspirin (JsonObject *row)
{
  return has_code (row, "YP1076") && has_code (row, "YP1063");
}

/* The demo's ambroxol in mL: a moderate dose-unverifiable alone. */
static gboolean
is_moderate_only (JsonObject *row)
{
  return has_code (row, "YP1088") && json_array_get_length (json_object_get_array_member (row, "lines")) == 1;
}

static gboolean
is_blocked (JsonObject *row)
{
  return g_strcmp0 (json_object_get_string_member (row, "verdict"), "reject") == 0;
}

static char *
line_id (Shift      *s,
         const char *rx,
         guint       i)
{
  g_autoptr(JsonArray) queue = shift_queue (s);
  JsonObject *row = shift_queue_row (queue, rx);

  return g_strdup (json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (row, "lines"), i), "id"));
}

static char *
row_state (Shift      *s,
           const char *rx)
{
  g_autoptr(JsonArray) queue = shift_queue (s);

  return g_strdup (json_object_get_string_member (shift_queue_row (queue, rx), "state"));
}

static char *
task_status_at_hospital (Shift      *s,
                         const char *rx)
{
  g_autoptr(JsonArray) queue = shift_queue (s);
  const char *task = json_object_get_string_member (shift_queue_row (queue, rx), "task");
  g_autofree char *sql = g_strdup_printf ("SELECT json_extract (body, '$.status') FROM fhir_resource"
                                          " WHERE resource_type = 'Task' AND id = '%s'", task);

  return query_text (s->state, sql);
}

/* decide RX ARGS… as user; asserts the status and that a refusal
 * changed nothing and said why in one line. */
static void
refused (Shift      *s,
         const char *user,
         int         want,
         const char *words,
         ...)
{
  g_autofree char *before = shift_dump (s);
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  va_list ap;
  int status;

  va_start (ap, words);
  status = shift_cli_valist (s, NULL, user, &out, &err, ap);
  va_end (ap);
  g_assert_cmpint (status, ==, want);
  g_assert_cmpstr (out, ==, "");
  g_assert_true (g_str_has_prefix (err, "pharmdesk-cli: "));
  g_assert_nonnull (strstr (err, words));
  g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
  after = shift_dump (s);
  g_assert_cmpstr (after, ==, before);
}

/* decide … as wang, which must succeed; the parsed answer. */
static JsonObject *
decided (Shift      *s,
         const char *rx,
         const char *decision,
         const char *option,
         const char *value)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o;

  g_assert_cmpint (shift_cli (s, "wang", &out, &err, "decide", rx, decision, option, value, NULL), ==, 0);
  root = shift_json (out);
  o = json_node_get_object (root);
  g_assert_cmpuint (json_object_get_size (o), ==, 4);
  g_assert_cmpuint (strlen (json_object_get_string_member (o, "decision_id")), ==, 36);
  g_assert_cmpstr (json_object_get_string_member (o, "rx"), ==, rx);
  g_assert_cmpstr (json_object_get_string_member (o, "decision"), ==, decision);
  return json_object_ref (o);
}

static char *
read_password (Shift      *s,
               const char *user)
{
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (shift_password_file (s, user), &text, NULL, NULL));
  return g_strdup (g_strstrip (text));
}

/* --- queue list ---------------------------------------------------------------------------- */

/* The rows' rx in the order the app's queue model gives them to wang. */
static GPtrArray *
app_order (Shift *s)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *password = read_password (s, "wang");
  g_autoptr(PdStore) store = pd_store_open (s->db, &error);
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdQueueModel) model = NULL;
  GPtrArray *order = g_ptr_array_new_with_free_func (g_free);

  g_assert_no_error (error);
  session = pd_session_sign_in (store, "wang", password, &error);
  g_assert_no_error (error);
  model = pd_queue_model_new (session, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (model)); i++)
    {
      g_autoptr(PdQueueItem) item = g_list_model_get_item (G_LIST_MODEL (model), i);

      g_ptr_array_add (order, g_strdup (pd_queue_item_get_number (item)));
    }
  g_clear_object (&model);
  g_clear_object (&session);
  pd_store_close (store);
  return order;
}

static void
test_list (void)
{
  Shift s;
  g_autoptr(JsonArray) queue = NULL;
  g_autoptr(GPtrArray) order = NULL;
  gboolean routine_seen = FALSE;

  shift_start (&s, "list");
  queue = shift_queue (&s);
  order = app_order (&s);
  g_assert_cmpuint (json_array_get_length (queue), >, 10);
  g_assert_cmpuint (json_array_get_length (queue), ==, order->len);
  g_assert_cmpint (json_array_get_length (queue), ==, shift_db_int (&s, "SELECT count(*) FROM prescription"));
  for (guint i = 0; i < json_array_get_length (queue); i++)
    {
      JsonObject *row = json_array_get_object_element (queue, i);
      const char *members[] = { "rx", "task", "patient", "verdict", "state", "priority", "claimed_by", "lines" };
      JsonArray *lines = json_object_get_array_member (row, "lines");
      const char *priority = json_object_get_string_member (row, "priority");
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM prescription_line l JOIN prescription p"
                                              " ON p.id = l.prescription_id WHERE p.rx_number = '%s'",
                                              json_object_get_string_member (row, "rx"));

      g_assert_cmpuint (json_object_get_size (row), ==, G_N_ELEMENTS (members));
      for (guint m = 0; m < G_N_ELEMENTS (members); m++)
        g_assert_true (json_object_has_member (row, members[m]));
      /* The app's order, and so urgent before routine while nobody holds a claim. */
      g_assert_cmpstr (json_object_get_string_member (row, "rx"), ==, order->pdata[i]);
      if (g_str_equal (priority, "routine"))
        routine_seen = TRUE;
      else
        g_assert_false (routine_seen);
      g_assert_true (g_strv_contains (states, json_object_get_string_member (row, "state")));
      g_assert_true (g_str_has_prefix (json_object_get_string_member (row, "task"), "task-"));
      g_assert_nonnull (json_object_get_string_member (row, "patient"));
      g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (row, "claimed_by")));
      g_assert_cmpint (json_array_get_length (lines), ==, shift_db_int (&s, sql));
      for (guint l = 0; l < json_array_get_length (lines); l++)
        {
          JsonObject *line = json_array_get_object_element (lines, l);

          g_assert_cmpuint (json_object_get_size (line), ==, 3);
          g_assert_true (g_str_has_prefix (json_object_get_string_member (line, "id"), "mr-"));
          g_assert_nonnull (json_object_get_string_member (line, "name"));
          g_assert_true (json_object_has_member (line, "code"));
        }
    }
  g_assert_true (routine_seen);

  /* The app's search: a drug, a prescription number, a patient. */
  {
    g_autofree char *out = NULL;
    g_autoptr(JsonNode) found = NULL;
    JsonArray *rows;

    g_assert_cmpint (shift_cli (&s, "wang", &out, NULL, "queue", "list", "--search", "华法林", NULL), ==, 0);
    found = shift_json (out);
    rows = json_node_get_array (found);
    g_assert_cmpuint (json_array_get_length (rows), >=, 1);
    g_assert_cmpuint (json_array_get_length (rows), <, json_array_get_length (queue));
    for (guint i = 0; i < json_array_get_length (rows); i++)
      g_assert_true (has_code (json_array_get_object_element (rows, i), "YP1076"));
  }
  {
    JsonObject *last = json_array_get_object_element (queue, json_array_get_length (queue) - 1);
    const char *patient = json_object_get_string_member (last, "patient");
    g_autofree char *out = NULL;
    g_autofree char *by_number = NULL;
    g_autoptr(JsonNode) found = NULL;
    g_autoptr(JsonNode) numbered = NULL;
    JsonArray *rows;
    guint expected = 0;

    g_assert_cmpint (shift_cli (&s, "wang", &out, NULL, "queue", "list", "--search", patient, NULL), ==, 0);
    found = shift_json (out);
    rows = json_node_get_array (found);
    for (guint i = 0; i < json_array_get_length (queue); i++)
      expected += g_strcmp0 (json_object_get_string_member (json_array_get_object_element (queue, i), "patient"), patient) == 0;
    g_assert_cmpuint (json_array_get_length (rows), ==, expected);
    for (guint i = 0; i < json_array_get_length (rows); i++)
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, i), "patient"), ==, patient);

    g_assert_cmpint (shift_cli (&s, "wang", &by_number, NULL, "queue", "list", "--search",
                                json_object_get_string_member (last, "rx"), NULL), ==, 0);
    numbered = shift_json (by_number);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (numbered)), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_node_get_array (numbered), 0), "rx"),
                     ==, json_object_get_string_member (last, "rx"));
  }

  /* A table for people; JSON for scripts. */
  {
    g_autofree char *out = NULL;
    JsonObject *first = json_array_get_object_element (queue, 0);

    g_assert_cmpint (shift_cli (&s, "wang", &out, NULL, "queue", "list", "--table", NULL), ==, 0);
    g_assert_true (g_str_has_prefix (out, "Prescription"));
    g_assert_nonnull (strstr (out, json_object_get_string_member (first, "rx")));
    g_assert_nonnull (strstr (out, json_object_get_string_member (first, "patient")));
  }

  /* Patient data needs an account with a role that may open it. */
  {
    g_autofree char *err = NULL;

    g_assert_cmpint (shift_cli (&s, "admin", NULL, &err, "queue", "list", NULL), ==, 1);
    g_assert_nonnull (strstr (err, "not to administrators"));
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (shift_cli (&s, NULL, NULL, &err, "queue", "list", NULL), ==, 1);
    g_assert_nonnull (strstr (err, "--user"));
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (shift_cli (&s, "wang", NULL, &err, "queue", "show", NULL), ==, 2);
  }
  shift_stop (&s);
}

/* --- decide -------------------------------------------------------------------------------- */

static void
test_approve_pass (void)
{
  Shift s;
  g_autofree char *rx = NULL;
  g_autofree char *state = NULL;
  g_autofree char *task = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonObject) answer = NULL;

  shift_start (&s, "approve-pass");
  rx = find_rx (&s, is_pass);
  answer = decided (&s, rx, "approve", NULL, NULL);
  g_assert_cmpstr (json_object_get_string_member (answer, "state"), ==, "sent");
  task = task_status_at_hospital (&s, rx);
  g_assert_cmpstr (task, ==, "completed");
  state = row_state (&s, rx);
  g_assert_cmpstr (state, ==, "approved");
  /* Signed with wang's key, as the app's dialog signs. */
  g_assert_cmpint (shift_cli (&s, "wang", NULL, &err, "verify-review", json_object_get_string_member (answer, "decision_id"), NULL), ==, 0);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM outbox WHERE state = 'done'"), ==, 2);

  /* Decided once. */
  refused (&s, "wang", 1, "cannot be decided again", "decide", rx, "approve", NULL);
  refused (&s, "wang", 1, "cannot be decided again", "decide", rx, "reject", "--reason", "again", NULL);

  /* The fixture's shortcut for the dispensing tests does the same. */
  {
    g_autofree char *second = shift_approve_one (&s);
    g_autofree char *second_state = row_state (&s, second);
    g_autofree char *second_task = task_status_at_hospital (&s, second);

    g_assert_cmpstr (second, !=, rx);
    g_assert_cmpstr (second_state, ==, "approved");
    g_assert_cmpstr (second_task, ==, "completed");
  }
  shift_stop (&s);
}

static void
test_major_needs_override (void)
{
  Shift s;
  g_autofree char *rx = NULL;
  g_autofree char *m1 = NULL;
  g_autofree char *m2 = NULL;
  g_autofree char *good = NULL;
  g_autofree char *wrong_lines = NULL;
  g_autofree char *bad_reason = NULL;
  g_autofree char *no_words = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *task = NULL;
  g_autoptr(JsonObject) answer = NULL;

  shift_start (&s, "major");
  rx = find_rx (&s, is_warfarin_aspirin);
  m1 = line_id (&s, rx, 0);
  m2 = line_id (&s, rx, 1);

  refused (&s, "wang", 1, "drug-interaction", "decide", rx, "approve", NULL);
  wrong_lines = g_strdup_printf ("drug-interaction:%s=benefit-outweighs-risk: INR checked weekly", m1);
  refused (&s, "wang", 2, "drug-interaction", "decide", rx, "approve", "--override", wrong_lines, NULL);
  bad_reason = g_strdup_printf ("drug-interaction:%s,%s=because: INR checked weekly", m1, m2);
  refused (&s, "wang", 2, "benefit-outweighs-risk", "decide", rx, "approve", "--override", bad_reason, NULL);
  no_words = g_strdup_printf ("drug-interaction:%s,%s=benefit-outweighs-risk:  ", m1, m2);
  refused (&s, "wang", 2, "--override", "decide", rx, "approve", "--override", no_words, NULL);
  refused (&s, "wang", 2, "--override", "decide", rx, "approve", "--override", "drug-interaction=other: x", NULL);
  refused (&s, "wang", 2, "--override", "decide", rx, "approve", "--override", "drug-interaction:=other: x", NULL);

  /* The lines in any order name the finding. */
  good = g_strdup_printf ("drug-interaction:%s,%s=benefit-outweighs-risk: INR checked weekly", m2, m1);
  refused (&s, "wang", 2, "already answered", "decide", rx, "approve", "--override", good, "--override", good, NULL);
  answer = decided (&s, rx, "approve", "--override", good);
  g_assert_cmpstr (json_object_get_string_member (answer, "state"), ==, "sent");
  reason = shift_db_text (&s, "SELECT override_reason FROM review_finding WHERE code = 'drug-interaction' AND override_action = 'override'");
  g_assert_cmpstr (reason, ==, "benefit-outweighs-risk: INR checked weekly");
  task = task_status_at_hospital (&s, rx);
  g_assert_cmpstr (task, ==, "completed");

  /* A moderate finding is acknowledged by the approval itself. */
  g_clear_pointer (&rx, g_free);
  g_clear_pointer (&answer, json_object_unref);
  rx = find_rx (&s, is_moderate_only);
  answer = decided (&s, rx, "approve", NULL, NULL);
  g_assert_cmpstr (json_object_get_string_member (answer, "state"), ==, "sent");
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM review_finding WHERE severity = 'moderate'"
                                     " AND override_action = 'acknowledge' AND override_reason IS NULL"), >=, 1);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM review_finding WHERE severity = 'moderate'"
                                     " AND override_action IS NULL"), ==, 0);
  shift_stop (&s);
}

static void
test_block_and_reject (void)
{
  Shift s;
  g_autofree char *blocked = NULL;
  g_autofree char *rx = NULL;
  g_autofree char *task = NULL;
  g_autofree char *reason = NULL;
  g_autoptr(JsonObject) answer = NULL;

  shift_start (&s, "block");
  blocked = find_rx (&s, is_blocked);
  refused (&s, "wang", 1, "blocks approval", "decide", blocked, "approve", NULL);
  answer = decided (&s, blocked, "reject", "--reason", "请开具者核对后重开");
  g_assert_cmpstr (json_object_get_string_member (answer, "state"), ==, "sent");
  task = task_status_at_hospital (&s, blocked);
  g_assert_cmpstr (task, ==, "rejected");

  rx = find_rx (&s, is_pass);
  refused (&s, "wang", 1, "needs a reason", "decide", rx, "reject", NULL);
  refused (&s, "wang", 1, "needs a reason", "decide", rx, "reject", "--reason", "   ", NULL);
  refused (&s, "wang", 2, "--reason", "decide", rx, "approve", "--reason", "fine", NULL);
  refused (&s, "wang", 2, "--override", "decide", rx, "reject", "--reason", "no", "--override", "a:m=other: x", NULL);
  refused (&s, "wang", 2, "usage", "decide", rx, "approved", NULL);
  refused (&s, "wang", 2, "usage", "decide", rx, NULL);
  refused (&s, "wang", 2, "RX-NOT-THERE", "decide", "RX-NOT-THERE", "approve", NULL);
  g_clear_pointer (&answer, json_object_unref);
  answer = decided (&s, rx, "reject", "--reason", "Wrong patient");
  reason = shift_db_text (&s, "SELECT reason FROM review_decision WHERE decision = 'reject' ORDER BY id DESC LIMIT 1");
  g_assert_cmpstr (reason, ==, "Wrong patient");
  shift_stop (&s);
}

/* qian claims rx in the app (the core's claim, sent to the hospital). */
static void
claim_as_qian (Shift      *s,
               const char *rx)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *password = read_password (s, "qian");
  g_autofree char *uuid = NULL;
  g_autoptr(PdStore) store = pd_store_open (s->db, &error);
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdConfig) config = pd_config_load (s->ini, &error);
  g_autoptr(PdHospitalLink) link = NULL;
  g_auto(PdSyncStats) stats = { 0 };

  g_assert_no_error (error);
  session = pd_session_sign_in (store, "qian", password, &error);
  g_assert_no_error (error);
  g_assert_true (pd_rx_cache_find (store, rx, &uuid, NULL, &error));
  g_assert_cmpint (pd_hospital_queue_claim (session, uuid, &error), >, 0);
  link = pd_hospital_link_new (session, pd_fhir_client_new (config, &error), NULL);
  g_assert_no_error (error);
  pd_hospital_link_set_pharmacy (link, config->fixmedins_code, config->fixmedins_name);
  g_assert_true (pd_hospital_link_push (link, NULL, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.sent, ==, 1);
  g_clear_pointer (&link, pd_hospital_link_free);
  g_clear_object (&session);
  pd_store_close (store);
}

/* Someone at the hospital's side (another pharmacy's ph-2) claims the
 * Task without this pharmacy's cache knowing. */
static void
claim_at_hospital (Shift      *s,
                   const char *rx)
{
  g_autoptr(JsonArray) queue = shift_queue (s);
  const char *task_id = json_object_get_string_member (shift_queue_row (queue, rx), "task");
  g_autofree char *url = g_strconcat (s->sb.config->hospital_url, "/Task/", task_id, NULL);
  g_autofree char *token = token_for (&s->sb, s->sb.config->hospital_client_secret);
  g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);
  g_autofree char *reply = NULL;
  g_autofree char *body = NULL;
  g_autofree char *match = NULL;
  g_autoptr(JsonObject) task = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *owner = json_object_new ();
  JsonObject *period = json_object_new ();
  JsonObject *restriction = json_object_new ();
  const char *get_headers[] = { "Authorization", bearer, NULL };

  g_assert_cmpuint (request ("GET", url, NULL, NULL, get_headers, &reply), ==, 200);
  task = parse_object (reply);
  match = g_strdup_printf ("W/\"%s\"", json_object_get_string_member (json_object_get_object_member (task, "meta"), "versionId"));
  json_object_set_string_member (task, "status", "received");
  json_object_set_string_member (owner, "reference", "Practitioner/ph-2");
  json_object_set_object_member (task, "owner", owner);
  json_object_set_string_member (period, "end", "2099-01-01T00:00:00+08:00");
  json_object_set_object_member (restriction, "period", period);
  json_object_set_object_member (task, "restriction", restriction);
  node = json_node_init_object (json_node_alloc (), task);
  body = json_to_string (node, FALSE);
  {
    const char *put_headers[] = { "Authorization", bearer, "If-Match", match, NULL };

    g_assert_cmpuint (request ("PUT", url, "application/fhir+json", body, put_headers, NULL), ==, 200);
  }
}

static void
test_claimed_by_another (void)
{
  Shift s;
  g_autofree char *rx = NULL;
  g_autofree char *other = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *state = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonArray) queue = NULL;
  JsonObject *row;

  shift_start (&s, "claimed");
  rx = find_rx (&s, is_pass);
  claim_as_qian (&s, rx);
  queue = shift_queue (&s);
  row = shift_queue_row (queue, rx);
  g_assert_cmpstr (json_object_get_string_member (row, "state"), ==, "claimed");
  g_assert_cmpstr (json_object_get_string_member (row, "claimed_by"), ==, "Practitioner/ph-2");
  /* Refused here, by name, before anything is signed or sent. */
  refused (&s, "wang", 1, "钱药师", "decide", rx, "approve", NULL);
  refused (&s, "wang", 1, "钱药师", "decide", rx, "reject", "--reason", "x", NULL);
  /* The app's path, the core's decision itself, refuses it too (it used to
   * pass: the cached Task's version already held qian's claim, so the
   * hospital's If-Match let wang's claim overwrite hers). */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *password = read_password (&s, "wang");
    g_autofree char *uuid = NULL;
    g_autoptr(PdStore) store = pd_store_open (s.db, &error);
    g_autoptr(PdSession) session = pd_session_sign_in (store, "wang", password, &error);
    g_autoptr(PdKb) kb = pd_kb_load_active (store, &error);
    g_autofree char *decided = NULL;

    g_assert_no_error (error);
    g_assert_true (pd_rx_cache_find (store, rx, &uuid, NULL, &error));
    decided = pd_review_decide (session, kb, uuid, "approve", NULL, NULL, &error);
    g_assert_null (decided);
    g_assert_error (error, PD_REVIEW_ERROR, PD_REVIEW_ERROR_CLAIMED);
    g_clear_object (&session);
    pd_store_close (store);
  }
  /* Once the lease (10 minutes) has run out, wang may take it over. */
  {
    g_autoptr(GTimeZone) china = g_time_zone_new_identifier ("+08:00");
    g_autoptr(GDateTime) now = g_date_time_new_now (china);
    g_autoptr(GDateTime) later = g_date_time_add_minutes (now, 11);
    g_autofree char *when = g_date_time_format (later, "%Y-%m-%dT%H:%M:%S+08:00");
    g_autofree char *taken = NULL;
    g_autofree char *task = NULL;
    g_autoptr(JsonNode) took = NULL;

    g_assert_cmpint (shift_cli (&s, "wang", &taken, NULL, "decide", rx, "approve", "--now", when, NULL), ==, 0);
    took = shift_json (taken);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (took), "state"), ==, "sent");
    task = task_status_at_hospital (&s, rx);
    g_assert_cmpstr (task, ==, "completed");
  }

  /* A claim the cache does not know yet: the hospital says no. */
  other = find_rx (&s, is_pass_routine);
  claim_at_hospital (&s, other);
  g_assert_cmpint (shift_cli (&s, "wang", &out, &err, "decide", other, "approve", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "Practitioner/ph-2"));
  root = shift_json (out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "state"), ==, "conflict");
  state = row_state (&s, other);
  g_assert_cmpstr (state, ==, "conflict");
  shift_stop (&s);
}

static void
test_hospital_down (void)
{
  Shift s;
  g_autofree char *rx = NULL;
  g_autofree char *out = NULL;
  g_autofree char *task = NULL;
  g_autofree char *state = NULL;
  g_autoptr(JsonObject) answer = NULL;

  shift_start (&s, "down");
  rx = find_rx (&s, is_pass);
  shift_hospital_down (&s);
  answer = decided (&s, rx, "approve", NULL, NULL);
  g_assert_cmpstr (json_object_get_string_member (answer, "state"), ==, "queued");
  state = row_state (&s, rx);
  g_assert_cmpstr (state, ==, "approved");
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM outbox WHERE state IN ('queued', 'unknown')"), ==, 2);

  shift_hospital_up (&s);
  task = task_status_at_hospital (&s, rx);
  g_assert_cmpstr (task, ==, "requested");
  g_clear_pointer (&task, g_free);
  g_assert_cmpint (shift_cli (&s, "wang", &out, NULL, "sync", NULL), ==, 0);
  task = task_status_at_hospital (&s, rx);
  g_assert_cmpstr (task, ==, "completed");
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM outbox WHERE state = 'done'"), ==, 2);
  shift_stop (&s);
}

static void
test_roles (void)
{
  Shift s;
  g_autofree char *rx = NULL;
  g_autofree char *wrong = NULL;

  shift_start (&s, "roles");
  rx = find_rx (&s, is_pass);
  refused (&s, "zhao", 1, "Only a pharmacist may review prescriptions.", "decide", rx, "approve", NULL);
  refused (&s, "li", 1, "Only a pharmacist may review prescriptions.", "decide", rx, "approve", NULL);
  refused (&s, "admin", 1, "Only a pharmacist may review prescriptions.", "decide", rx, "approve", NULL);
  refused (&s, NULL, 1, "--user", "decide", rx, "approve", NULL);
  wrong = g_build_filename (s.dir, "wrong.pw", NULL);
  g_assert_true (g_file_set_contents (wrong, "not-the-password\n", -1, NULL));
  {
    g_autofree char *err = NULL;

    g_assert_cmpint (shift_cli (&s, NULL, NULL, &err, "decide", rx, "approve", "--user", "wang", "--password-file", wrong, NULL), ==, 1);
  }
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM review_decision"), ==, 0);
  shift_stop (&s);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli-queue/list", test_list);
  g_test_add_func ("/cli-queue/approve-pass", test_approve_pass);
  g_test_add_func ("/cli-queue/major-needs-override", test_major_needs_override);
  g_test_add_func ("/cli-queue/block-and-reject", test_block_and_reject);
  g_test_add_func ("/cli-queue/claimed-by-another", test_claimed_by_another);
  g_test_add_func ("/cli-queue/hospital-down", test_hospital_down);
  g_test_add_func ("/cli-queue/roles", test_roles);
  return g_test_run ();
}
