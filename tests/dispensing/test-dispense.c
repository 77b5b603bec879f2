/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE             /* memmem */
#define G_LOG_DOMAIN "test-dispense"

#include "config.h"

#include <string.h>

#include "pd-dispense.h"
#include "pd-kb-store.h"
#include "pd-store.h"
#include "fill.h"
#include "shift.h"

/* `dispense` (cli.md "Dispensing") against the sandbox hospital: a fill
 * with its checker, its MedicationDispenses on the hospital exactly once
 * whatever the network does, each refusal exiting 1 with the database as
 * it was, the handover, and a fill the hospital refuses becoming a
 * conflict with its boxes back on the shelf. */

static JsonObject *
parse_object_or_fail (const char *text)
{
  JsonObject *o = parse_object (text);

  g_assert_nonnull (o);
  return o;
}

/* The MedicationDispenses the hospital holds for a line. */
static JsonArray *
hospital_dispenses (Shift      *s,
                    const char *line)
{
  g_autofree char *token = token_for (&s->sb, s->sb.config->hospital_client_secret);
  g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
  g_autofree char *url = g_strconcat (s->sb.base, "/fhir/MedicationDispense?prescription=MedicationRequest/", line, NULL);
  const char *headers[] = { "Authorization", auth, NULL };
  g_autofree char *reply = NULL;
  g_autoptr(JsonObject) bundle = NULL;
  JsonArray *found = json_array_new ();
  JsonArray *entries;

  g_assert_cmpuint (request ("GET", url, NULL, NULL, headers, &reply), ==, 200);
  bundle = parse_object_or_fail (reply);
  entries = json_object_has_member (bundle, "entry") ? json_object_get_array_member (bundle, "entry") : NULL;
  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    json_array_add_object_element (found, json_object_ref (json_object_get_object_member (json_array_get_object_element (entries, i), "resource")));
  return found;
}

static gint64
boxes_on_hand (Shift      *s,
               const char *drug,
               const char *lot)
{
  g_autofree char *sql = g_strdup_printf ("SELECT boxes_on_hand FROM stock_batch WHERE drug_code = '%s' AND lot = '%s'", drug, lot);

  return shift_db_int (s, sql);
}

/* The label's words (每日3次，每次1粒 in zh_CN; the display test reads them
 * there). */
static void
test_dose_words (void)
{
  g_autofree char *three = pd_dose_words (3, 1, "粒");
  g_autofree char *once = pd_dose_words (1, 0.5, "{tbl}");
  g_autofree char *mg = pd_dose_words (2, 500, "mg");
  g_autofree char *none = pd_dose_words (0, 1, "片");

  g_assert_cmpstr (three, ==, "3 times a day, 1 capsule each time");
  g_assert_cmpstr (once, ==, "once a day, 0.5 tablets each time");
  g_assert_cmpstr (mg, ==, "2 times a day, 500 mg each time");
  g_assert_null (none);
}

/* A fill's labels: one per item, with what the knowledge base says. */
static void
assert_labels (Shift      *s,
               const char *dispense_uuid,
               const char *rx,
               guint       n_items)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = pd_store_open (s->db, &error);
  g_autoptr(PdSession) session = sign_in_wang (s, store);
  g_autoptr(PdKb) kb = pd_kb_load_active (store, &error);
  g_autoptr(GPtrArray) labels = pd_dispense_labels (session, kb, dispense_uuid, "示例大药房", &error);

  g_assert_no_error (error);
  g_assert_cmpuint (labels->len, ==, n_items);
  for (guint i = 0; i < labels->len; i++)
    {
      PdLabel *label = labels->pdata[i];

      g_assert_nonnull (label->patient);
      g_assert_nonnull (label->drug);
      g_assert_true (g_str_has_suffix (label->dose_words, "each time"));
      g_assert_cmpstr (label->route, ==, "oral");
      g_assert_nonnull (strstr (label->quantity, "box"));
      g_assert_cmpstr (label->pharmacy, ==, "示例大药房");
      g_assert_cmpstr (label->rx_number, ==, rx);
      g_assert_cmpstr (label->lot, ==, "LGOOD");
    }
  g_assert_true (pd_dispense_labels_printed (session, dispense_uuid, labels->len, &error));
  g_clear_object (&session);
  pd_store_close (store);
}

/* --- a fill ----------------------------------------------------------------------------------- */

static void
test_fill (void)
{
  Shift s = { 0 };
  g_autofree char *rx = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GPtrArray) codes = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *plan = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(JsonArray) queue = NULL;
  g_autofree char *sql = NULL;
  JsonArray *mds;
  guint total = 0;

  shift_start (&s, "fill");
  rx = shift_approve_one (&s);
  lines = lines_of (&s, rx);
  receive (&s, lines, "LGOOD", 700, 40);
  plan = plan_for (&s, lines, "LGOOD", codes);
  g_assert_cmpint (dispense (&s, "wang", rx, plan, "zhao", &out, &err), ==, 0);
  answer = parse_object_or_fail (out);
  g_assert_cmpstr (json_object_get_string_member (answer, "state"), ==, "dispensed");
  g_assert_cmpstr (json_object_get_string_member (answer, "rx"), ==, rx);
  mds = json_object_get_array_member (answer, "medication_dispenses");
  g_assert_cmpuint (json_array_get_length (mds), ==, lines->len);
  for (guint i = 0; i < lines->len; i++)
    {
      Line *l = lines->pdata[i];
      g_autoptr(JsonArray) found = hospital_dispenses (&s, l->line);
      JsonObject *md;

      g_assert_cmpuint (json_array_get_length (found), ==, 1);
      md = json_array_get_object_element (found, 0);
      g_assert_cmpstr (json_object_get_string_member (md, "status"), ==, "in-progress");
      g_assert_cmpint (boxes_on_hand (&s, l->code, "LGOOD"), ==, 40 - l->boxes);
      total += l->boxes;
    }
  /* every code recorded, the dispenser and the checker both */
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM trace_code"), ==, total);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM dispense d JOIN account a ON a.id = d.dispenser_id"
                                     " JOIN account c ON c.id = d.checker_id WHERE a.username = 'wang' AND c.username = 'zhao'"), ==, 1);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM audit_event WHERE action IN ('dispense.fill', 'dispense.check')"), ==, 2);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM audit_event WHERE action = 'stock.dispense'"), ==, lines->len);
  assert_labels (&s, json_object_get_string_member (answer, "dispense_id"), rx, lines->len);
  g_assert_cmpint (shift_db_int (&s, "SELECT labels_printed FROM dispense"), ==, 1);
  /* queue list says dispensed */
  queue = shift_queue (&s);
  g_assert_cmpstr (json_object_get_string_member (shift_queue_row (queue, rx), "state"), ==, "dispensed");

  /* a second fill is refused here, and the hospital refuses another group */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&plan, g_free);
  plan = plan_for (&s, lines, "LGOOD", NULL);
  g_assert_cmpint (dispense (&s, "wang", rx, plan, "zhao", &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "already dispensed"));

  /* handed over at the counter: completed on the hospital */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (shift_cli (&s, "wang", &out, &err, "dispense", "handover", rx, NULL), ==, 0);
  for (guint i = 0; i < lines->len; i++)
    {
      g_autoptr(JsonArray) found = hospital_dispenses (&s, ((Line *) lines->pdata[i])->line);

      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (found, 0), "status"), ==, "completed");
      g_assert_true (json_object_has_member (json_array_get_object_element (found, 0), "whenHandedOver"));
    }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (shift_cli (&s, "wang", &out, &err, "dispense", "handover", rx, NULL), ==, 1);
  sql = g_strdup_printf ("SELECT state FROM dispense");
  g_assert_cmpstr (shift_db_text (&s, sql), ==, "completed");
  g_assert_cmpint (shift_cli (&s, NULL, NULL, NULL, "audit", "verify", "--user", "admin",
                              "--password-file", shift_password_file (&s, "admin"), NULL), ==, 0);
  shift_stop (&s);
}

/* --- refusals: exit 1, nothing changed ---------------------------------------------------- */

static void
assert_refused (Shift      *s,
                const char *user,
                const char *rx,
                const char *plan,
                const char *checker,
                const char *said)
{
  g_autofree char *before = shift_dump (s);
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  int status = dispense (s, user, rx, plan, checker, &out, &err);

  if (status != 1)
    g_error ("expected a refusal (“%s”), got %d: %s %s; plan %s", said, status, out, err, plan);
  if (strstr (err, said) == NULL)
    g_error ("expected “%s” in: %s", said, err);
  after = shift_dump (s);
  g_assert_cmpstr (before, ==, after);
}

/* One line's plan entry, with the codes given. */
static char *
entry (Line       *l,
       const char *lot,
       int         boxes,
       int         units,
       GPtrArray  *codes)
{
  g_autoptr(GString) e = g_string_new (NULL);

  g_string_append_printf (e, "{\"line\":\"%s\",\"lot\":\"%s\",\"boxes\":%d,", l->line, lot, boxes);
  if (units > 0)
    g_string_append_printf (e, "\"units\":%d,", units);
  g_string_append (e, "\"trace_codes\":[");
  for (guint k = 0; k < codes->len; k++)
    g_string_append_printf (e, "%s\"%s\"", k > 0 ? "," : "", (char *) codes->pdata[k]);
  g_string_append (e, "]}");
  return g_string_free (g_steal_pointer (&e), FALSE);
}

/* The plan of every line from LGOOD, but line 0's entry replaced. */
static char *
plan_with_first (Shift      *s,
                 GPtrArray  *lines,
                 const char *first)
{
  g_autoptr(GString) plan = g_string_new ("{\"lines\":[");

  if (first != NULL)
    g_string_append (plan, first);
  for (guint i = 1; i < lines->len; i++)
    {
      Line *l = lines->pdata[i];
      g_autoptr(GPtrArray) codes = codes_for (s, l->code, l->boxes);
      g_autofree char *e = entry (l, "LGOOD", l->boxes, l->split ? l->units : 0, codes);

      g_string_append_printf (plan, "%s%s", plan->len > 10 ? "," : "", e);
    }
  g_string_append (plan, "]}");
  return g_string_free (g_steal_pointer (&plan), FALSE);
}

static void
test_refusals (void)
{
  Shift s = { 0 };
  g_autofree char *rx = NULL;
  g_autofree char *other = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GPtrArray) good = NULL;
  g_autoptr(GPtrArray) used = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonArray) queue = NULL;
  Line *l;
  char *plan, *e;

  shift_start (&s, "refusals");
  rx = shift_approve_one (&s);
  lines = lines_of (&s, rx);
  l = lines->pdata[0];
  receive (&s, lines, "LGOOD", 700, 40);
  receive_until (&s, lines, "LSOON", l->course_end, 40);   /* expires on the course's last day */
  receive (&s, lines, "LTHIN", 800, 1);    /* one box on hand */
  good = codes_for (&s, l->code, l->boxes);

  /* not approved: a prescription still waiting for review */
  queue = shift_queue (&s);
  for (guint i = 0; i < json_array_get_length (queue) && other == NULL; i++)
    if (g_str_equal (json_object_get_string_member (json_array_get_object_element (queue, i), "state"), "to-review"))
      other = g_strdup (json_object_get_string_member (json_array_get_object_element (queue, i), "rx"));
  plan = plan_for (&s, lines, "LGOOD", NULL);
  assert_refused (&s, "wang", other, plan, "zhao", "not approved");
  /* the checker: not oneself, not a delivery account, the right password */
  assert_refused (&s, "wang", rx, plan, "wang", "cannot also check");
  assert_refused (&s, "wang", rx, plan, "sun", "");
  g_free (plan);

  /* a lot not in stock, one expiring within the course */
  e = entry (l, "NOSUCH", l->boxes, l->split ? l->units : 0, good);
  plan = plan_with_first (&s, lines, e);
  assert_refused (&s, "wang", rx, plan, "zhao", "not in stock");
  g_free (plan), g_free (e);
  e = entry (l, "LSOON", l->boxes, l->split ? l->units : 0, good);
  plan = plan_with_first (&s, lines, e);
  assert_refused (&s, "wang", rx, plan, "zhao", "before the course ends");
  g_free (plan), g_free (e);
  /* too few boxes on hand (when the line takes more than one) */
  if (l->boxes > 1)
    {
      e = entry (l, "LTHIN", l->boxes, l->split ? l->units : 0, good);
      plan = plan_with_first (&s, lines, e);
      assert_refused (&s, "wang", rx, plan, "zhao", "Too few boxes");
      g_free (plan), g_free (e);
    }
  /* a line missing; a quantity not covered */
  plan = plan_with_first (&s, lines, NULL);
  if (lines->len > 1)
    assert_refused (&s, "wang", rx, plan, "zhao", "missing from the plan");
  g_free (plan);
  {
    g_autoptr(GPtrArray) more = codes_for (&s, l->code, l->boxes + 1);

    e = entry (l, "LGOOD", l->boxes + 1, 0, more);
    plan = plan_with_first (&s, lines, e);
    assert_refused (&s, "wang", rx, plan, "zhao", "asks for");
    g_free (plan), g_free (e);
    e = entry (l, "LGOOD", l->boxes + 1, l->units, more);
    plan = plan_with_first (&s, lines, e);
    assert_refused (&s, "wang", rx, plan, "zhao", "fewer boxes");
    g_free (plan), g_free (e);
  }
  /* more or fewer codes than boxes; a malformed code; a wrong prefix */
  {
    g_autoptr(GPtrArray) fewer = g_ptr_array_new ();
    g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func (g_free);

    for (guint k = 0; k + 1 < good->len; k++)
      g_ptr_array_add (fewer, good->pdata[k]);
    e = entry (l, "LGOOD", l->boxes, l->split ? l->units : 0, fewer);
    plan = plan_with_first (&s, lines, e);
    assert_refused (&s, "wang", rx, plan, "zhao", "one code per box");
    g_free (plan), g_free (e);

    for (guint k = 0; k < good->len; k++)
      g_ptr_array_add (bad, g_strdup (good->pdata[k]));
    ((char *) bad->pdata[0])[19] = '\0';
    e = entry (l, "LGOOD", l->boxes, l->split ? l->units : 0, bad);
    plan = plan_with_first (&s, lines, e);
    assert_refused (&s, "wang", rx, plan, "zhao", "20 digits");
    g_free (plan), g_free (e);

    g_free (bad->pdata[0]);
    bad->pdata[0] = g_strdup ("12345670000000000001");
    e = entry (l, "LGOOD", l->boxes, l->split ? l->units : 0, bad);
    plan = plan_with_first (&s, lines, e);
    assert_refused (&s, "wang", rx, plan, "zhao", "");
    g_free (plan), g_free (e);
  }
  /* a code used before: fill once, then reuse a code for the next */
  {
    g_autofree char *next = shift_approve_one (&s);
    g_autoptr(GPtrArray) next_lines = lines_of (&s, next);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    plan = plan_for (&s, lines, "LGOOD", used);
    g_assert_cmpint (dispense (&s, "wang", rx, plan, "zhao", &out, &err), ==, 0);
    g_free (plan);
    receive (&s, next_lines, "LGOOD", 700, 40);
    plan = plan_for (&s, next_lines, "LGOOD", NULL);
    /* the first code of the next plan becomes one already dispensed */
    memcpy (strstr (plan, "\"trace_codes\":[\"") + 16, used->pdata[0], 20);
    if (g_str_equal (((Line *) next_lines->pdata[0])->code, l->code))
      assert_refused (&s, "wang", next, plan, "zhao", "already");
    else
      assert_refused (&s, "wang", next, plan, "zhao", "");
    g_free (plan);
  }
  shift_stop (&s);
}

/* --- the network ---------------------------------------------------------------------------- */

/* Under drop-response the fill's answer is lost: the fill stands, the
 * outbox keeps the request as unknown, the next sync sends it again, and
 * the hospital holds each line's MedicationDispense exactly once. */
static void
test_drop_response (void)
{
  Shift s = { 0 };
  g_autofree char *rx = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *plan = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonObject) answer = NULL;

  shift_start (&s, "drop-response");
  rx = shift_approve_one (&s);
  lines = lines_of (&s, rx);
  receive (&s, lines, "LGOOD", 700, 40);
  plan = plan_for (&s, lines, "LGOOD", NULL);
  /* every one of the client's five tries loses its answer */
  g_assert_cmpuint (sandbox_control (&s.sb, "faults", "{\"fault\":\"drop-response\",\"method\":\"POST\",\"path\":\"/fhir\",\"times\":5}", NULL), ==, 200);
  g_assert_cmpint (dispense (&s, "wang", rx, plan, "zhao", &out, &err), ==, 0);
  answer = parse_object_or_fail (out);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (answer, "medication_dispenses")), ==, 0);
  g_assert_cmpstr (shift_db_text (&s, "SELECT state FROM outbox WHERE operation = 'dispense'"), ==, "unknown");
  /* the request did arrive: the hospital holds them already */
  for (guint i = 0; i < lines->len; i++)
    {
      g_autoptr(JsonArray) found = hospital_dispenses (&s, ((Line *) lines->pdata[i])->line);

      g_assert_cmpuint (json_array_get_length (found), ==, 1);
    }
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (shift_cli (&s, "wang", &out, NULL, "sync", NULL), ==, 0);
  g_assert_cmpstr (shift_db_text (&s, "SELECT state FROM outbox WHERE operation = 'dispense'"), ==, "done");
  for (guint i = 0; i < lines->len; i++)
    {
      g_autoptr(JsonArray) found = hospital_dispenses (&s, ((Line *) lines->pdata[i])->line);

      g_assert_cmpuint (json_array_get_length (found), ==, 1);
    }
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM dispense_item WHERE resource_id IS NULL"), ==, 0);
  shift_stop (&s);
}

/* Filled while the hospital was down; the prescriber cancels meanwhile;
 * when the hospital is back the fill is a conflict, its boxes are back on
 * the shelf and its codes free again. */
static void
test_cancelled_while_offline (void)
{
  Shift s = { 0 };
  g_autofree char *rx = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GPtrArray) codes = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *plan = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *body = NULL;
  Line *l;

  shift_start (&s, "cancelled");
  rx = shift_approve_one (&s);
  lines = lines_of (&s, rx);
  l = lines->pdata[0];
  receive (&s, lines, "LGOOD", 700, 40);
  plan = plan_for (&s, lines, "LGOOD", codes);
  shift_hospital_down (&s);
  g_assert_cmpint (dispense (&s, "wang", rx, plan, "zhao", &out, &err), ==, 0);
  g_assert_cmpint (boxes_on_hand (&s, l->code, "LGOOD"), ==, 40 - l->boxes);
  shift_hospital_up (&s);
  body = g_strdup_printf ("{\"prescription\":\"%s\"}", rx);
  g_assert_cmpuint (sandbox_control (&s.sb, "cancel", body, NULL), ==, 200);
  g_clear_pointer (&out, g_free);
  shift_cli (&s, "wang", &out, NULL, "sync", NULL);
  g_assert_cmpstr (shift_db_text (&s, "SELECT state FROM dispense"), ==, "conflict");
  g_assert_cmpint (boxes_on_hand (&s, l->code, "LGOOD"), ==, 40);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT state FROM trace_code WHERE code = '%s'", (char *) codes->pdata[0]);

    g_assert_cmpstr (shift_db_text (&s, sql), ==, "in_stock");
  }
  for (guint i = 0; i < lines->len; i++)
    {
      g_autoptr(JsonArray) found = hospital_dispenses (&s, ((Line *) lines->pdata[i])->line);

      g_assert_cmpuint (json_array_get_length (found), ==, 0);
    }
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM audit_event WHERE action = 'dispense.conflict'"), ==, 1);
  shift_stop (&s);
}

/* Approves (decide as wang) the queue's first prescription waiting for
 * review whose verdict is pass and whose first line is drug in a split
 * pack; its rx. */
static char *
approve_split (Shift      *s,
               const char *drug)
{
  g_autoptr(JsonArray) queue = shift_queue (s);

  for (guint i = 0; i < json_array_get_length (queue); i++)
    {
      JsonObject *row = json_array_get_object_element (queue, i);
      JsonArray *lines = json_object_get_array_member (row, "lines");

      if (g_strcmp0 (json_object_get_string_member_with_default (row, "verdict", ""), "pass") == 0
          && g_str_equal (json_object_get_string_member (row, "state"), "to-review")
          && g_str_equal (json_object_get_string_member (json_array_get_object_element (lines, 0), "code"), drug))
        {
          const char *rx = json_object_get_string_member (row, "rx");
          g_autoptr(GPtrArray) sheet = lines_of (s, rx);

          if (!((Line *) sheet->pdata[0])->split)
            continue;

          g_assert_cmpint (shift_cli (s, "wang", NULL, NULL, "decide", rx, "approve", NULL), ==, 0);
          return g_strdup (rx);
        }
    }
  return NULL;
}

/* A split pack: the last box is opened and keeps its units; a parcel that
 * comes back puts the box back whole, and the next fill may take it again
 * by the same code. */
static void
test_split_and_return (void)
{
  Shift s = { 0 };
  g_autofree char *rx = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GPtrArray) codes = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *plan = NULL;
  g_autofree char *out = NULL;
  g_autofree char *uuid = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(JsonNode) list = NULL;
  JsonArray *opened = NULL;
  Line *l;

  shift_start (&s, "split");
  rx = approve_split (&s, "YP1161");     /* 9 tablets, 24 to a box */
  g_assert_nonnull (rx);
  lines = lines_of (&s, rx);
  l = lines->pdata[0];
  g_assert_true (l->split);
  receive (&s, lines, "LGOOD", 700, 5);
  plan = plan_for (&s, lines, "LGOOD", codes);
  g_assert_cmpint (dispense (&s, "wang", rx, plan, "zhao", &out, NULL), ==, 0);
  answer = parse_object_or_fail (out);
  uuid = g_strdup (json_object_get_string_member (answer, "dispense_id"));
  sql = g_strdup_printf ("SELECT state || ' ' || units_left FROM trace_code WHERE code = '%s'", (char *) codes->pdata[codes->len - 1]);
  g_assert_cmpstr (shift_db_text (&s, sql), ==, "opened 15");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (shift_cli (&s, "wang", &out, NULL, "stock", "list", "--code", "YP1161", NULL), ==, 0);
  list = json_from_string (out, NULL);
  for (guint i = 0; i < json_array_get_length (json_node_get_array (list)); i++)
    {
      JsonObject *batch = json_array_get_object_element (json_node_get_array (list), i);

      if (g_str_equal (json_object_get_string_member (batch, "lot"), "LGOOD"))
        opened = json_object_get_array_member (batch, "opened");
    }
  g_assert_nonnull (opened);
  g_assert_cmpuint (json_array_get_length (opened), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (opened, 0), "units_left"), ==, 15);
  g_assert_cmpint (boxes_on_hand (&s, "YP1161", "LGOOD"), ==, 4);

  /* the parcel comes back: stopped, the box back whole, refillable */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(PdStore) store = pd_store_open (s.db, &error);
    g_autoptr(PdSession) session = sign_in_wang (&s, store);

    g_assert_no_error (error);
    g_assert_true (pd_dispense_stop (session, uuid, "refused at the door", TRUE, &error));
    g_assert_no_error (error);
    pd_store_close (store);
  }
  g_assert_cmpstr (shift_db_text (&s, sql), ==, "in_stock 0");
  g_assert_cmpint (boxes_on_hand (&s, "YP1161", "LGOOD"), ==, 5);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (shift_cli (&s, "wang", &out, NULL, "sync", NULL), ==, 0);
  {
    g_autoptr(JsonArray) found = hospital_dispenses (&s, l->line);

    g_assert_cmpuint (json_array_get_length (found), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (found, 0), "status"), ==, "stopped");
  }
  /* the same box, by its code, fills the prescription again */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (dispense (&s, "wang", rx, plan, "qian", &out, NULL), ==, 0);
  g_assert_cmpstr (shift_db_text (&s, sql), ==, "opened 15");
  g_assert_cmpint (boxes_on_hand (&s, "YP1161", "LGOOD"), ==, 4);
  {
    g_autoptr(JsonArray) found = hospital_dispenses (&s, l->line);

    g_assert_cmpuint (json_array_get_length (found), ==, 2);
  }
  shift_stop (&s);
}

/* A line may take two lots: the first box from one, the rest from the
 * next; two MedicationDispenses for the line, one per lot. */
static void
test_two_lots (void)
{
  Shift s = { 0 };
  g_autofree char *rx = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GString) plan = g_string_new ("{\"lines\":[");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  Line *l = NULL;

  shift_start (&s, "two-lots");
  for (int tries = 0; tries < 6 && l == NULL; tries++)
    {
      g_free (rx);
      g_clear_pointer (&lines, g_ptr_array_unref);
      rx = shift_approve_one (&s);
      lines = lines_of (&s, rx);
      for (guint i = 0; i < lines->len && l == NULL; i++)
        if (((Line *) lines->pdata[i])->boxes >= 2)
          l = lines->pdata[i];
    }
  g_assert_nonnull (l);
  receive (&s, lines, "LFIRST", 600, 1);
  receive (&s, lines, "LNEXT", 700, 40);
  for (guint i = 0; i < lines->len; i++)
    {
      Line *li = lines->pdata[i];

      if (li == l)
        {
          g_autoptr(GPtrArray) first = codes_for (&s, li->code, 1);
          g_autoptr(GPtrArray) rest = codes_for (&s, li->code, li->boxes - 1);
          g_autofree char *a = entry (li, "LFIRST", 1, 0, first);
          g_autofree char *b = entry (li, "LNEXT", li->boxes - 1, li->split ? li->units - li->pack : 0, rest);

          g_string_append_printf (plan, "%s%s,%s", plan->len > 10 ? "," : "", a, b);
        }
      else
        {
          g_autoptr(GPtrArray) codes = codes_for (&s, li->code, li->boxes);
          g_autofree char *e = entry (li, "LNEXT", li->boxes, li->split ? li->units : 0, codes);

          g_string_append_printf (plan, "%s%s", plan->len > 10 ? "," : "", e);
        }
    }
  g_string_append (plan, "]}");
  g_assert_cmpint (dispense (&s, "wang", rx, plan->str, "zhao", &out, &err), ==, 0);
  g_assert_cmpint (boxes_on_hand (&s, l->code, "LFIRST"), ==, 0);
  g_assert_cmpint (boxes_on_hand (&s, l->code, "LNEXT"), ==, 40 - (l->boxes - 1));
  {
    g_autoptr(JsonArray) found = hospital_dispenses (&s, l->line);

    g_assert_cmpuint (json_array_get_length (found), ==, 2);
  }
  shift_stop (&s);
}

static gboolean
file_holds (const char *path,
            const char *text)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return FALSE;
  return memmem (data, len, text, strlen (text)) != NULL;
}

/* The Task's delivery input (hospital.md): the pharmacy knows which
 * prescriptions go by courier, and the receiver's address and phone are
 * sealed at rest like every patient field. */
static void
test_receiver_sealed (void)
{
  Shift s = { 0 };
  g_autofree char *token = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *url = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *wal = NULL;
  g_autoptr(JsonObject) bundle = NULL;
  g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func (g_free);
  JsonArray *entries;
  guint with_delivery = 0;

  shift_start (&s, "receiver");
  token = token_for (&s.sb, s.sb.config->hospital_client_secret);
  auth = g_strconcat ("Bearer ", token, NULL);
  url = g_strconcat (s.sb.base, "/fhir/Task?code=urn:pharmdesk:task|rx-review&_count=100", NULL);
  {
    const char *headers[] = { "Authorization", auth, NULL };

    g_assert_cmpuint (request ("GET", url, NULL, NULL, headers, &reply), ==, 200);
  }
  bundle = parse_object_or_fail (reply);
  entries = json_object_get_array_member (bundle, "entry");
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *task = json_object_get_object_member (json_array_get_object_element (entries, i), "resource");
      JsonArray *inputs = json_object_get_array_member (task, "input");

      for (guint k = 0; k < json_array_get_length (inputs); k++)
        {
          JsonObject *input = json_array_get_object_element (inputs, k);
          JsonObject *address;

          if (g_strcmp0 (json_object_get_string_member_with_default (json_object_get_object_member (input, "type"), "text", ""),
                         "delivery") != 0)
            continue;
          with_delivery++;
          address = json_object_get_object_member (input, "valueAddress");
          g_ptr_array_add (secrets, g_strdup (json_array_get_string_element (json_object_get_array_member (address, "line"), 0)));
          if (json_object_has_member (address, "extension"))
            {
              JsonArray *ext = json_object_get_array_member (address, "extension");

              for (guint e = 0; e < json_array_get_length (ext); e++)
                if (json_object_has_member (json_array_get_object_element (ext, e), "valueString"))
                  g_ptr_array_add (secrets, g_strdup (json_object_get_string_member (json_array_get_object_element (ext, e), "valueString")));
            }
        }
    }
  g_assert_cmpuint (with_delivery, >, 0);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM prescription WHERE delivery = 1 AND receiver_sealed IS NOT NULL"), ==, with_delivery);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM prescription WHERE delivery = 0 AND receiver_sealed IS NULL"), >, 0);
  wal = g_strconcat (s.db, "-wal", NULL);
  for (guint i = 0; i < secrets->len; i++)
    {
      g_assert_false (file_holds (s.db, secrets->pdata[i]));
      g_assert_false (file_holds (wal, secrets->pdata[i]));
    }
  shift_stop (&s);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dispense/dose-words", test_dose_words);
  g_test_add_func ("/dispense/fill", test_fill);
  g_test_add_func ("/dispense/refusals", test_refusals);
  g_test_add_func ("/dispense/drop-response", test_drop_response);
  g_test_add_func ("/dispense/cancelled-while-offline", test_cancelled_while_offline);
  g_test_add_func ("/dispense/split-and-return", test_split_and_return);
  g_test_add_func ("/dispense/receiver-sealed", test_receiver_sealed);
  g_test_add_func ("/dispense/two-lots", test_two_lots);
  return g_test_run ();
}
