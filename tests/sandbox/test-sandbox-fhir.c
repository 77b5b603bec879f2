/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-sandbox-fhir"

#include "config.h"

#include <signal.h>
#include <string.h>

#include "hospital-client.h"

/* The sandbox hospital's /fhir over real loopback HTTP, spoken from
 * hospital.md by this test code itself: searches, claims, decisions,
 * cancellations, arrivals, the bulk load, and a demo set that meets every
 * finding code of review.md. Dispensing is test-sandbox-dispense's. */

/* --- searches ------------------------------------------------------------------------- */

static void
test_search_and_includes (void)
{
  Hospital h = { 0 };
  g_autoptr(JsonObject) b = NULL;
  g_autoptr(GHashTable) modes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  hospital_start (&h, "search", "--arrival-every", "0", NULL);
  /* The demo's second prescription: metformin and atorvastatin for pat-0008. */
  g_assert_cmpuint (fhir (&h, "GET", "MedicationRequest?_id=mr-00000002-1,mr-00000002-2,no-such"
                          "&_include=MedicationRequest:subject&_include=MedicationRequest:requester"
                          "&_include=MedicationRequest:encounter&_include=MedicationRequest:medication",
                          NULL, NULL, NULL, &b), ==, 200);
  for (guint i = 0; i < n_entries (b); i++)
    {
      JsonObject *e = json_array_get_object_element (entries (b), i);
      JsonObject *r = json_object_get_object_member (e, "resource");

      g_assert_true (g_str_has_suffix (json_object_get_string_member (e, "fullUrl"), json_object_get_string_member (r, "id")));
      g_hash_table_insert (modes, g_strconcat (json_object_get_string_member (r, "resourceType"), "/",
                                               json_object_get_string_member (r, "id"), NULL),
                           g_strdup (json_object_get_string_member (json_object_get_object_member (e, "search"), "mode")));
    }
  /* Two lines, and each included resource once. */
  g_assert_cmpuint (n_entries (b), ==, 5);
  g_assert_cmpstr (g_hash_table_lookup (modes, "MedicationRequest/mr-00000002-1"), ==, "match");
  g_assert_cmpstr (g_hash_table_lookup (modes, "MedicationRequest/mr-00000002-2"), ==, "match");
  g_assert_cmpstr (g_hash_table_lookup (modes, "Patient/pat-0008"), ==, "include");
  g_assert_cmpstr (g_hash_table_lookup (modes, "Practitioner/dr-1"), ==, "include");
  g_assert_cmpstr (g_hash_table_lookup (modes, "Encounter/enc-00000002"), ==, "include");
  {
    JsonObject *mr = entry_resource (b, 0);
    JsonObject *coding = json_array_get_object_element (json_object_get_array_member (
      json_object_get_object_member (mr, "medicationCodeableConcept"), "coding"), 0);

    g_assert_cmpstr (json_object_get_string_member (coding, "system"), ==, "urn:pharmdesk:product-code");
    g_assert_cmpstr (json_object_get_string_member (coding, "code"), ==, "YP1029");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (mr, "groupIdentifier"), "value"), ==, "RX00000002");
  }
  g_clear_pointer (&b, json_object_unref);

  g_assert_cmpuint (fhir (&h, "GET", "Provenance?target=MedicationRequest/mr-00000002-2", NULL, NULL, NULL, &b), ==, 200);
  g_assert_cmpuint (n_entries (b), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (entry_resource (b, 0), "id"), ==, "prov-00000002");
  g_clear_pointer (&b, json_object_unref);

  /* patient= takes an id or Patient/id. */
  g_assert_cmpuint (fhir (&h, "GET", "Condition?patient=pat-0008", NULL, NULL, NULL, &b), ==, 200);
  g_assert_cmpuint (n_entries (b), ==, 3);   /* E11.9, E78.5 and J02.9 */
  g_clear_pointer (&b, json_object_unref);
  g_assert_cmpuint (fhir (&h, "GET", "AllergyIntolerance?patient=Patient/pat-0008", NULL, NULL, NULL, &b), ==, 200);
  g_assert_cmpuint (n_entries (b), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (entry_resource (b, 0), "code"), "text"), ==, "青霉素");
  g_clear_pointer (&b, json_object_unref);
  /* The pregnant demo patient: weight and pregnancy. */
  g_assert_cmpuint (fhir (&h, "GET", "Observation?patient=pat-0004&code=29463-7,82810-3,63895-7,urn:pharmdesk:observation%7Cskin-test",
                          NULL, NULL, NULL, &b), ==, 200);
  g_assert_cmpuint (n_entries (b), ==, 2);
  g_clear_pointer (&b, json_object_unref);
  /* The school child's negative skin test, by system|code. */
  g_assert_cmpuint (fhir (&h, "GET", "Observation?patient=Patient/pat-0003&code=urn:pharmdesk:observation%7Cskin-test",
                          NULL, NULL, NULL, &b), ==, 200);
  g_assert_cmpuint (n_entries (b), >=, 1);
  g_assert_cmpstr (json_object_get_string_member (entry_resource (b, 0), "id"), ==, "skin-00000005-1");
  g_clear_pointer (&b, json_object_unref);

  /* What the sandbox would otherwise ignore is refused. */
  g_assert_cmpuint (fhir (&h, "GET", "MedicationRequest?_id=mr-00000002-1&status=active", NULL, NULL, NULL, &b), ==, 400);
  g_assert_nonnull (strstr (diagnostics (b), "status"));
  g_clear_pointer (&b, json_object_unref);
  g_assert_cmpuint (fhir (&h, "GET", "MedicationRequest?_id=x&_include=MedicationRequest:performer", NULL, NULL, NULL, NULL), ==, 400);
  g_assert_cmpuint (fhir (&h, "GET", "Task?code=rx-review&_elements=id", NULL, NULL, NULL, NULL), ==, 400);
  g_assert_cmpuint (fhir (&h, "GET", "Observation?patient=pat-0004&_count=1", NULL, NULL, NULL, NULL), ==, 400);
  g_assert_cmpuint (fhir (&h, "GET", "Condition?patient=pat-0004&patient=pat-0005", NULL, NULL, NULL, NULL), ==, 400);
  g_assert_cmpuint (fhir (&h, "GET", "Condition", NULL, NULL, NULL, NULL), ==, 400);
  g_assert_cmpuint (fhir (&h, "GET", "Encounter?patient=pat-0004", NULL, NULL, NULL, NULL), ==, 400);
  hospital_stop (&h);
}

/* A thousand Tasks whose timestamps repeat across every page boundary:
 * paging loses none, and a client resuming with ge its cursor sees the
 * ones sharing it again rather than losing them. */
static void
test_paging_equal_timestamps (void)
{
  Hospital h = { 0 };
  g_autoptr(GString) plant = g_string_new ("{\"resources\":[");
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  hospital_start (&h, "paging", "--no-demo", "--arrival-every", "0", NULL);
  for (guint i = 0; i < 1000; i++)
    /* runs of 7 equal times, and one run of 250 across three pages */
    g_string_append_printf (plant, "%s{\"resourceType\":\"Task\",\"id\":\"p%04u\",\"status\":\"requested\",\"intent\":\"order\","
                            "\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:task\",\"code\":\"rx-review\"}]},"
                            "\"meta\":{\"lastUpdated\":\"2026-11-20T09:%02u:%02u.000+08:00\"}}",
                            i > 0 ? "," : "", 999 - i, i >= 300 && i < 550 ? 50u : (i / 7) / 60, i >= 300 && i < 550 ? 0u : (i / 7) % 60);
  g_string_append (plant, "]}");
  g_assert_cmpuint (sandbox_control (&h.sb, "plant", plant->str, NULL), ==, 200);
  tasks = all_tasks (&h, "2026-11-20T09:00:00.000%2B08:00", 100);
  g_assert_cmpuint (tasks->len, ==, 1000);
  for (guint i = 0; i < tasks->len; i++)
    g_assert_true (g_hash_table_add (seen, (gpointer) json_object_get_string_member (tasks->pdata[i], "id")));

  /* A client that stored the first 130 resumes from its cursor. */
  {
    const char *cursor = json_object_get_string_member (json_object_get_object_member (tasks->pdata[129], "meta"), "lastUpdated");
    g_autofree char *escaped = g_uri_escape_string (cursor, NULL, FALSE);
    g_autoptr(GPtrArray) again = all_tasks (&h, escaped, 100);

    g_assert_cmpuint (again->len, >=, 870);
    g_assert_cmpstr (json_object_get_string_member (again->pdata[again->len - 870], "id"), ==,
                     json_object_get_string_member (tasks->pdata[130], "id"));
  }
  hospital_stop (&h);
}

/* --- claims and decisions --------------------------------------------------------------- */

typedef struct {
  Hospital   *h;
  JsonObject *task;
  const char *owner;
  guint       status;
  char       *reply;
} Claim;

static gpointer
claim_thread (gpointer data)
{
  Claim *c = data;
  g_autofree char *etag = etag_of (c->task);
  g_autofree char *body = task_with (c->task, "received", c->owner);
  g_autofree char *url = g_strconcat (c->h->sb.config->hospital_url, "/Task/", json_object_get_string_member (c->task, "id"), NULL);
  const char *headers[] = { "Authorization", c->h->auth, "If-Match", etag, NULL };

  c->status = request ("PUT", url, "application/fhir+json", body, headers, &c->reply);
  g_clear_object (&session);
  return NULL;
}

static void
test_concurrent_claims (void)
{
  Hospital h = { 0 };
  g_autoptr(JsonObject) task = NULL;
  g_autoptr(JsonObject) out = NULL;
  Claim a = { &h, NULL, "Practitioner/ph-1", 0, NULL }, b = { &h, NULL, "Practitioner/ph-2", 0, NULL };
  GThread *ta, *tb;

  hospital_start (&h, "claims", "--arrival-every", "0", NULL);
  task = get_task (&h, "task-00000001");
  g_assert_cmpstr (json_object_get_string_member (task, "status"), ==, "requested");
  a.task = b.task = task;
  ta = g_thread_new ("claim-a", claim_thread, &a);
  tb = g_thread_new ("claim-b", claim_thread, &b);
  g_thread_join (ta);
  g_thread_join (tb);
  g_assert_cmpuint (a.status + b.status, ==, 200 + 412);
  {
    Claim *lost = a.status == 412 ? &a : &b;
    Claim *won = a.status == 412 ? &b : &a;
    g_autoptr(JsonObject) outcome = parse_object (lost->reply);

    /* The loser learns who holds it. */
    g_assert_nonnull (strstr (diagnostics (outcome), won->owner));
    g_assert_nonnull (strstr (diagnostics (outcome), "version 2"));
  }
  g_free (a.reply);
  g_free (b.reply);
  g_clear_pointer (&task, json_object_unref);
  task = get_task (&h, "task-00000001");
  g_assert_cmpstr (version_of (task), ==, "2");
  g_assert_cmpstr (json_object_get_string_member (task, "status"), ==, "received");

  /* No If-Match: 428. The prescription is the hospital's: 422. */
  {
    g_autofree char *body = task_with (task, "requested", NULL);
    g_autofree char *etag = etag_of (task);
    g_autoptr(JsonObject) changed = json_object_ref (task);
    g_autofree char *forged = NULL;

    g_assert_cmpuint (put_task (&h, task, NULL, body, NULL), ==, 428);
    json_object_set_string_member (changed, "priority", "stat");
    forged = task_with (changed, "received", "Practitioner/ph-1");
    json_object_set_string_member (changed, "priority", "routine");
    g_assert_cmpuint (put_task (&h, task, etag, forged, &out), ==, 422);
    g_assert_nonnull (strstr (diagnostics (out), "priority"));
    g_clear_pointer (&out, json_object_unref);
    /* Release: requested, no owner. */
    g_assert_cmpuint (put_task (&h, task, etag, body, &out), ==, 200);
    g_assert_cmpstr (version_of (out), ==, "3");
    g_assert_false (json_object_has_member (out, "owner"));
    g_clear_pointer (&out, json_object_unref);
  }
  /* Completed only from received. */
  {
    g_autoptr(JsonObject) now = get_task (&h, "task-00000001");
    g_autofree char *etag = etag_of (now);
    g_autofree char *body = task_with (now, "completed", "Practitioner/ph-1");

    g_assert_cmpuint (put_task (&h, now, etag, body, &out), ==, 409);
    g_assert_nonnull (strstr (diagnostics (out), "claimed"));
    g_clear_pointer (&out, json_object_unref);
  }
  hospital_stop (&h);
}

static void
test_transaction (void)
{
  Hospital h = { 0 };
  g_autoptr(JsonObject) task = NULL;
  g_autoptr(JsonObject) out = NULL;
  g_autofree char *stale = NULL;
  g_autofree char *good = NULL;
  g_autofree char *stored = NULL;
  gint64 provenances;

  hospital_start (&h, "transaction", "--arrival-every", "0", NULL);
  provenances = count_rows (h.state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'Provenance'");
  task = claim (&h, "task-00000001", "Practitioner/ph-1");

  /* A stale ifMatch fails the whole Bundle: nothing of it stays. */
  stale = decision_bundle (task, "1");
  g_assert_cmpuint (fhir (&h, "POST", "", stale, NULL, NULL, &out), ==, 412);
  g_assert_cmpstr (diagnostics (out), ==, "entry 2: Task/task-00000001 is at version 2, not 1: status received, owner Practitioner/ph-1");
  g_clear_pointer (&out, json_object_unref);
  g_assert_cmpint (count_rows (h.state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'DetectedIssue'"), ==, 0);
  g_assert_cmpint (count_rows (h.state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'Provenance'"), ==, provenances);
  g_assert_cmpint (count_rows (h.state, "SELECT count(*) FROM fhir_search WHERE resource_type = 'DetectedIssue'"), ==, 0);

  good = decision_bundle (task, "2");
  g_assert_cmpuint (fhir (&h, "POST", "", good, NULL, NULL, &out), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (out, "type"), ==, "transaction-response");
  g_assert_cmpuint (n_entries (out), ==, 3);
  {
    const char *want[3][2] = { { "201 Created", "DetectedIssue/" }, { "201 Created", "Provenance/" }, { "200 OK", "Task/task-00000001/_history/3" } };

    for (guint i = 0; i < 3; i++)
      {
        JsonObject *r = json_object_get_object_member (json_array_get_object_element (entries (out), i), "response");

        g_assert_cmpstr (json_object_get_string_member (r, "status"), ==, want[i][0]);
        g_assert_true (g_str_has_prefix (json_object_get_string_member (r, "location"), want[i][1]));
        g_assert_true (g_str_has_prefix (json_object_get_string_member (r, "etag"), "W/\""));
      }
  }
  g_clear_pointer (&out, json_object_unref);
  /* urn:uuid references now name the ids the server gave. */
  stored = query_text (h.state, "SELECT body FROM fhir_resource WHERE resource_type = 'Task' AND id = 'task-00000001'");
  g_assert_null (strstr (stored, "urn:uuid"));
  g_assert_nonnull (strstr (stored, "\"reference\":\"DetectedIssue/"));
  g_assert_nonnull (strstr (stored, "\"status\":\"completed\""));
  g_free (stored);
  stored = query_text (h.state, "SELECT body FROM fhir_resource WHERE resource_type = 'Provenance' AND body LIKE '%ph-1%'");
  g_assert_nonnull (strstr (stored, "\"reference\":\"DetectedIssue/"));
  /* The same decision again: its ifMatch is stale now. */
  g_assert_cmpuint (fhir (&h, "POST", "", good, NULL, NULL, NULL), ==, 412);
  g_assert_cmpint (count_rows (h.state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'DetectedIssue'"), ==, 1);

  /* Conditional create inside a transaction: the second finds the first. */
  {
    const char *once = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"fullUrl\":\"urn:uuid:1\","
      "\"resource\":{\"resourceType\":\"DetectedIssue\",\"status\":\"final\",\"identifier\":[{\"system\":\"urn:pharmdesk:review\","
      "\"value\":\"r-1\"}]},\"request\":{\"method\":\"POST\",\"url\":\"DetectedIssue\",\"ifNoneExist\":\"identifier=urn:pharmdesk:review%7Cr-1\"}}]}";
    g_autofree char *first = NULL;
    JsonObject *r;

    g_assert_cmpuint (fhir (&h, "POST", "", once, NULL, NULL, &out), ==, 200);
    r = json_object_get_object_member (json_array_get_object_element (entries (out), 0), "response");
    g_assert_cmpstr (json_object_get_string_member (r, "status"), ==, "201 Created");
    first = g_strdup (json_object_get_string_member (r, "location"));
    g_clear_pointer (&out, json_object_unref);
    g_assert_cmpuint (fhir (&h, "POST", "", once, NULL, NULL, &out), ==, 200);
    r = json_object_get_object_member (json_array_get_object_element (entries (out), 0), "response");
    g_assert_cmpstr (json_object_get_string_member (r, "status"), ==, "200 OK");
    g_assert_cmpstr (json_object_get_string_member (r, "location"), ==, first);
    g_clear_pointer (&out, json_object_unref);
    g_assert_cmpint (count_rows (h.state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'DetectedIssue'"), ==, 2);
  }
  hospital_stop (&h);
}

/* The prescriber cancels while a pharmacist reviews it. */
static void
test_cancel_mid_review (void)
{
  Hospital h = { 0 };
  g_autoptr(JsonObject) claimed = NULL;
  g_autoptr(JsonObject) out = NULL;
  g_autoptr(JsonObject) cancelled = NULL;
  g_autofree char *decision = NULL;
  g_autofree char *etag = NULL;

  hospital_start (&h, "cancel", "--arrival-every", "0", NULL);
  claimed = claim (&h, "task-00000010", "Practitioner/ph-2");

  /* The next pull from the cursor surfaces it, cancelled. */
  cancelled = cancel_and_pull (&h, claimed, "RX00000010");
  g_assert_cmpstr (json_object_get_string_member (cancelled, "status"), ==, "cancelled");
  g_assert_cmpstr (version_of (cancelled), ==, "3");
  g_assert_cmpint (count_rows (h.state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'MedicationRequest'"
                                        " AND id LIKE 'mr-00000010-%' AND json_extract (body, '$.status') = 'cancelled'"), ==, 3);
  g_assert_cmpint (count_rows (h.state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'MedicationRequest'"
                                        " AND json_extract (body, '$.status') = 'cancelled'"), ==, 3);

  /* The reviewer's decision: 412 on its old version, 409 on the new. */
  decision = decision_bundle (claimed, "2");
  g_assert_cmpuint (fhir (&h, "POST", "", decision, NULL, NULL, NULL), ==, 412);
  etag = etag_of (cancelled);
  {
    g_autofree char *claim_again = task_with (cancelled, "received", "Practitioner/ph-1");

    g_assert_cmpuint (put_task (&h, cancelled, etag, claim_again, &out), ==, 409);
    g_assert_nonnull (strstr (diagnostics (out), "cancelled"));
    g_clear_pointer (&out, json_object_unref);
  }
  /* Dispensing it is refused too; cancelling twice or an unknown one is not 200. */
  {
    const char *group = "5f0c6a8e-1d0b-4c55-9a51-4d1f6f1f0a10";
    g_autofree char *d = dispense_json (group, 1, "mr-00000010-1", "YP1001", "81234567890123456799");

    g_assert_cmpuint (post_dispense (&h, d, group, 1, &out), ==, 409);
    g_assert_nonnull (strstr (diagnostics (out), "cancelled"));
    g_clear_pointer (&out, json_object_unref);
  }
  g_assert_cmpuint (sandbox_control (&h.sb, "cancel", "{\"prescription\":\"RX00000010\"}", NULL), ==, 409);
  g_assert_cmpuint (sandbox_control (&h.sb, "cancel", "{\"prescription\":\"RX99999999\"}", NULL), ==, 404);
  /* By Task id, from requested. */
  g_assert_cmpuint (sandbox_control (&h.sb, "cancel", "{\"prescription\":\"task-00000011\"}", NULL), ==, 200);
  hospital_stop (&h);
}

/* --- arrivals, bulk load ------------------------------------------------------------------ */

/* Tokens live an hour of the sandbox clock. */
static void
move_clock (Hospital   *h,
            const char *now)
{
  g_autofree char *body = g_strdup_printf ("{\"now\":\"%s\"}", now);
  g_autofree char *token = NULL;

  g_assert_cmpuint (sandbox_control (&h->sb, "clock", body, NULL), ==, 200);
  token = token_for (&h->sb, h->sb.config->hospital_client_secret);
  g_free (h->auth);
  h->auth = g_strdup_printf ("Bearer %s", token);
}

static char *
arrivals_of (const char *seed)
{
  Hospital h = { 0 };
  g_autofree char *name = g_strdup_printf ("arrivals-%s-%u", seed, g_random_int ());
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GString) seen = g_string_new (NULL);
  guint urgent = 0;

  hospital_start (&h, name, "--seed", seed, "--arrival-every", "600", NULL);
  tasks = all_tasks (&h, "2026-11-20T00:00:00%2B08:00", 1000);
  g_assert_cmpuint (tasks->len, ==, 40);
  g_clear_pointer (&tasks, g_ptr_array_unref);

  /* Nothing arrives while the clock stands still… */
  tasks = all_tasks (&h, "2026-11-20T00:00:00%2B08:00", 1000);
  g_assert_cmpuint (tasks->len, ==, 40);
  g_clear_pointer (&tasks, g_ptr_array_unref);
  /* …an hour brings six, authored on the minute they were due. */
  move_clock (&h, "2026-11-20T11:00:00+08:00");
  tasks = all_tasks (&h, "2026-11-20T00:00:00%2B08:00", 1000);
  g_assert_cmpuint (tasks->len, ==, 46);
  g_assert_cmpstr (json_object_get_string_member (tasks->pdata[40], "authoredOn"), ==, "2026-11-20T10:10:00+08:00");
  g_assert_cmpstr (json_object_get_string_member (tasks->pdata[45], "authoredOn"), ==, "2026-11-20T11:00:00+08:00");
  g_clear_pointer (&tasks, g_ptr_array_unref);
  /* A day at once: at most 100 catch up; urgent ones among them. */
  move_clock (&h, "2026-11-21T11:00:00+08:00");
  tasks = all_tasks (&h, "2026-11-20T00:00:00%2B08:00", 1000);
  g_assert_cmpuint (tasks->len, ==, 146);
  for (guint i = 40; i < tasks->len; i++)
    {
      const char *priority = json_object_get_string_member (tasks->pdata[i], "priority");

      urgent += !g_str_equal (priority, "routine");
      g_string_append_printf (seen, "%s %s %s;", json_object_get_string_member (tasks->pdata[i], "description"), priority,
                              json_object_get_string_member (json_object_get_object_member (tasks->pdata[i], "for"), "reference"));
    }
  g_assert_cmpuint (urgent, >=, 5);
  hospital_stop (&h);
  return g_string_free (g_steal_pointer (&seen), FALSE);
}

static void
test_arrivals (void)
{
  g_autofree char *a = arrivals_of ("7");
  g_autofree char *b = arrivals_of ("7");

  /* The same seed, the same arrivals. */
  g_assert_cmpstr (a, ==, b);
}

static void
test_bulk_load (void)
{
  Hospital h = { 0 };
  g_autoptr(JsonObject) out = NULL;
  g_autoptr(JsonObject) b = NULL;

  hospital_start (&h, "bulk", "--no-demo", "--arrival-every", "0", NULL);
  g_assert_cmpuint (sandbox_control (&h.sb, "bulk-load", "{\"people\":200,\"prescriptions\":3000}", &out), ==, 200);
  g_assert_cmpint (json_object_get_int_member (out, "prescriptions"), ==, 3000);
  g_assert_cmpint (count_rows (h.state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'Task'"), ==, 3000);
  g_assert_cmpint (count_rows (h.state, "SELECT count(DISTINCT json_extract (body, '$.groupIdentifier.value'))"
                                        " FROM fhir_resource WHERE resource_type = 'Task'"), ==, 3000);
  g_assert_cmpint (count_rows (h.state, "SELECT count(DISTINCT json_extract (body, '$.for.reference'))"
                                        " FROM fhir_resource WHERE resource_type = 'Task'"), >, 200);
  /* Every line is signed but those of the cases that show it missing. */
  g_assert_cmpint (count_rows (h.state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'Provenance'"), >, 2500);
  /* Complete: a late one reads back with its includes. */
  g_assert_cmpuint (fhir (&h, "GET", "MedicationRequest?_id=mr-00002999-1&_include=MedicationRequest:subject", NULL, NULL, NULL, &b), ==, 200);
  g_assert_cmpuint (n_entries (b), ==, 2);
  hospital_stop (&h);
}

/* --- every finding code ---------------------------------------------------------------------- */

static void
add_search (Hospital   *h,
            const char *path,
            JsonArray  *into,
            GHashTable *seen)
{
  g_autoptr(JsonObject) b = NULL;

  g_assert_cmpuint (fhir (h, "GET", path, NULL, NULL, NULL, &b), ==, 200);
  for (guint i = 0; i < n_entries (b); i++)
    {
      JsonObject *e = json_array_get_object_element (entries (b), i);
      JsonObject *entry;

      if (!g_hash_table_add (seen, g_strdup (json_object_get_string_member (e, "fullUrl"))))
        continue;
      entry = json_object_new ();
      json_object_set_string_member (entry, "fullUrl", json_object_get_string_member (e, "fullUrl"));
      json_object_set_object_member (entry, "resource", json_object_ref (json_object_get_object_member (e, "resource")));
      json_array_add_object_element (into, entry);
    }
}

/* What a client fetches for a Task, as hospital.md says, in one Bundle. */
/* A Task input's line (valueReference), or NULL (the delivery address). */
static JsonObject *
line_of (JsonObject *input)
{
  return json_object_has_member (input, "valueReference") ? json_object_get_object_member (input, "valueReference") : NULL;
}

static char *
prescription_bundle (Hospital   *h,
                     JsonObject *task)
{
  JsonArray *input = json_object_get_array_member (task, "input");
  const char *patient = json_object_get_string_member (json_object_get_object_member (task, "for"), "reference");
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) ids = g_string_new (NULL);
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  JsonObject *bundle = json_object_new ();
  JsonArray *all = json_array_new ();
  g_autofree char *path = NULL;

  /* The lines; a delivery input holds an address, not a line. */
  for (guint i = 0; i < json_array_get_length (input); i++)
    {
      JsonObject *line = line_of (json_array_get_object_element (input, i));

      if (line != NULL)
        g_string_append_printf (ids, "%s%s", ids->len > 0 ? "," : "",
                                json_object_get_string_member (line, "reference") + strlen ("MedicationRequest/"));
    }
  path = g_strdup_printf ("MedicationRequest?_id=%s&_include=MedicationRequest:subject&_include=MedicationRequest:requester"
                          "&_include=MedicationRequest:encounter&_include=MedicationRequest:medication", ids->str);
  add_search (h, path, all, seen);
  for (guint i = 0; i < json_array_get_length (input); i++)
    {
      JsonObject *line = line_of (json_array_get_object_element (input, i));
      g_autofree char *p = line != NULL ? g_strdup_printf ("Provenance?target=%s", json_object_get_string_member (line, "reference")) : NULL;

      if (p != NULL)
        add_search (h, p, all, seen);
    }
  g_free (path);
  path = g_strdup_printf ("Condition?patient=%s", patient);
  add_search (h, path, all, seen);
  g_free (path);
  path = g_strdup_printf ("AllergyIntolerance?patient=%s", patient + strlen ("Patient/"));
  add_search (h, path, all, seen);
  g_free (path);
  path = g_strdup_printf ("Observation?patient=%s&code=29463-7,82810-3,63895-7,urn:pharmdesk:observation%%7Cskin-test", patient);
  add_search (h, path, all, seen);
  json_object_set_string_member (bundle, "resourceType", "Bundle");
  json_object_set_string_member (bundle, "type", "collection");
  json_object_set_array_member (bundle, "entry", all);
  json_node_take_object (root, bundle);
  return json_to_string (root, TRUE);
}

static void
test_finding_coverage (void)
{
  static const char *codes[] = {
    "prescriber-unqualified", "first-visit-online", "prescription-expired", "too-many-drugs",
    /* prescription-reused: the pharmacy's dispensed prescriptions decide it,
     * which no hospital server can plant (docs/spec-decisions.md). */
    "missing-element", "signature-missing", "prescriber-no-authority", "special-drug-online", "supply-too-long",
    "dose-exceeds-max", "dose-unverifiable", "route-mismatch", "allergy", "allergy-unverifiable",
    "population-contraindication", "indication-mismatch", "skin-test-required", "unknown-drug",
    "duplicate-therapy", "drug-interaction",
  };
  Hospital h = { 0 };
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GHashTable) found = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *kb = g_build_filename (g_getenv ("PHARMDESK_DATADIR"), "kb", NULL);
  g_autofree char *bundle_path = NULL;
  guint passes = 0, urgent = 0, stat = 0;

  hospital_start (&h, "coverage", "--arrival-every", "0", NULL);
  bundle_path = g_build_filename (h.state, "prescription.json", NULL);
  tasks = all_tasks (&h, "2026-01-01T00:00:00%2B08:00", 13);
  g_assert_cmpuint (tasks->len, >=, 30);
  for (guint i = 0; i < tasks->len; i++)
    {
      g_autofree char *text = prescription_bundle (&h, tasks->pdata[i]);
      const char *argv[] = { g_getenv ("PHARMDESK_CLI"), "review", "--kb", kb, "--now", NOW, bundle_path, NULL };
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_autoptr(JsonObject) review = NULL;
      JsonObject *rx;
      JsonArray *findings;
      int status = 0;

      urgent += g_str_equal (json_object_get_string_member (tasks->pdata[i], "priority"), "urgent");
      stat += g_str_equal (json_object_get_string_member (tasks->pdata[i], "priority"), "stat");
      g_assert_true (g_file_set_contents (bundle_path, text, -1, NULL));
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL));
      g_assert_cmpstr (err, ==, "");
      g_assert_cmpint (status, ==, 0);
      review = parse_object (out);
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (review, "prescriptions")), ==, 1);
      rx = json_array_get_object_element (json_object_get_array_member (review, "prescriptions"), 0);
      g_assert_cmpstr (json_object_get_string_member (rx, "id"), ==,
                       json_object_get_string_member (json_object_get_object_member (tasks->pdata[i], "groupIdentifier"), "value"));
      findings = json_object_get_array_member (rx, "findings");
      passes += g_str_equal (json_object_get_string_member (rx, "verdict"), "pass");
      for (guint f = 0; f < json_array_get_length (findings); f++)
        g_hash_table_add (found, g_strdup (json_object_get_string_member (json_array_get_object_element (findings, f), "code")));
    }
  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      if (!g_hash_table_contains (found, codes[i]))
        g_test_message ("no demo prescription shows %s", codes[i]);
      g_assert_true (g_hash_table_contains (found, codes[i]));
    }
  g_assert_cmpuint (passes, >=, 10);
  g_assert_cmpuint (urgent, >=, 1);
  g_assert_cmpuint (stat, >=, 1);
  hospital_stop (&h);
}

/* --- faults ---------------------------------------------------------------------------------- */

static void
test_faults (void)
{
  g_autofree char *state = new_state ("fhir-faults");
  Sandbox sb = { 0 };
  Hospital h = { 0 };
  g_autofree char *token = NULL;
  g_autoptr(JsonObject) task = NULL;
  g_autoptr(JsonObject) report = NULL;
  g_autofree char *body = NULL;
  const char *group = "5f0c6a8e-1d0b-4c55-9a51-4d1f6f1f0a11";
  g_autofree char *dispense = dispense_json (group, 1, "mr-00000003-1", "YP1098", "81234567890123456700");
  const char *kinds[] = { "drop-request=1", "drop-response=1" };
  const char *versions[] = { "1", "2" };

  /* A token first: /oauth/token meets the faults too. */
  sandbox_start (&sb, state, "--arrival-every", "0", NULL);
  token = token_for (&sb, sb.config->hospital_client_secret);
  sandbox_stop (&sb, SIGTERM);
  h.auth = g_strdup_printf ("Bearer %s", token);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *etag = NULL;

      sandbox_start (&sb, state, "--arrival-every", "0", NULL);
      h.sb = sb;
      g_clear_pointer (&task, json_object_unref);
      task = get_task (&h, "task-00000001");
      sandbox_stop (&sb, SIGTERM);
      etag = etag_of (task);
      g_free (body);
      body = task_with (task, "received", "Practitioner/ph-1");
      sandbox_start (&sb, state, "--arrival-every", "0", "--faults", kinds[i], NULL);
      h.sb = sb;
      /* drop-request commits nothing, drop-response commits: either way no answer. */
      g_assert_cmpuint (put_task (&h, task, etag, body, NULL), ==, 0);
      sandbox_stop (&sb, SIGTERM);
      sandbox_start (&sb, state, "--arrival-every", "0", NULL);
      h.sb = sb;
      g_clear_pointer (&task, json_object_unref);
      task = get_task (&h, "task-00000001");
      g_assert_cmpstr (version_of (task), ==, versions[i]);
      sandbox_stop (&sb, SIGTERM);
    }

  /* duplicate: the copy of a claim meets its If-Match, the copy of a
   * dispense its If-None-Exist (one dispense, the copy answered 200). */
  sandbox_start (&sb, state, "--arrival-every", "0", "--control", "--faults", "duplicate=1", NULL);
  h.sb = sb;
  {
    g_autoptr(JsonObject) t2 = get_task (&h, "task-00000002");
    g_autofree char *etag = etag_of (t2);
    g_autofree char *claim_body = task_with (t2, "received", "Practitioner/ph-2");
    g_autofree char *url = g_strconcat (sb.base, "/sandbox/control/faults", NULL);
    g_autofree char *text = NULL;
    JsonArray *faults;
    guint n;

    g_assert_cmpuint (put_task (&h, t2, etag, claim_body, NULL), ==, 200);
    g_assert_cmpuint (post_dispense (&h, dispense, group, 1, NULL), ==, 201);
    g_assert_cmpuint (request ("GET", url, NULL, NULL, NULL, &text), ==, 200);
    report = parse_object (text);
    faults = json_object_get_array_member (report, "faults");
    n = json_array_get_length (faults);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (faults, n - 2), "copy_status"), ==, 412);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (faults, n - 1), "copy_status"), ==, 200);
  }
  sandbox_stop (&sb, SIGTERM);
  g_assert_cmpint (count_rows (state, "SELECT version_id FROM fhir_resource WHERE id = 'task-00000002'"), ==, 2);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'MedicationDispense'"), ==, 1);
  g_free (h.auth);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  harness_init ();
  g_test_add_func ("/sandbox-fhir/search-and-includes", test_search_and_includes);
  g_test_add_func ("/sandbox-fhir/paging-equal-timestamps", test_paging_equal_timestamps);
  g_test_add_func ("/sandbox-fhir/concurrent-claims", test_concurrent_claims);
  g_test_add_func ("/sandbox-fhir/transaction", test_transaction);
  g_test_add_func ("/sandbox-fhir/cancel-mid-review", test_cancel_mid_review);
  g_test_add_func ("/sandbox-fhir/arrivals", test_arrivals);
  g_test_add_func ("/sandbox-fhir/bulk-load", test_bulk_load);
  g_test_add_func ("/sandbox-fhir/finding-coverage", test_finding_coverage);
  g_test_add_func ("/sandbox-fhir/faults", test_faults);
  status = g_test_run ();
  harness_done ();
  return status;
}
