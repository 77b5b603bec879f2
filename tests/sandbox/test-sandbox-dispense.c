/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-sandbox-dispense"

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "hospital-client.h"

/* The sandbox hospital's side of dispensing over real loopback HTTP,
 * spoken from hospital.md by this test code itself: a fill's
 * MedicationDispenses in a transaction with conditional creates, the rule
 * that one dispense-group at a time fills a prescription, handover and
 * stop under If-Match, the search by prescription, the prescriber's
 * cancellation until the prescription is dispensed, the demo Tasks'
 * delivery input, the control call that issues traceability codes, and a
 * lost answer to a fill. */

#define G1 "0d6f0b9e-7c1a-4e0b-9a55-2f1c8f9e0a01"
#define G2 "0d6f0b9e-7c1a-4e0b-9a55-2f1c8f9e0a02"
#define G3 "0d6f0b9e-7c1a-4e0b-9a55-2f1c8f9e0a03"

/* The demo's second prescription: metformin and atorvastatin. */
static const char *rx2_lines[] = { "mr-00000002-1", "mr-00000002-2", NULL };
static const char *rx2_drugs[] = { "YP1029", "YP1053", NULL };

/* A fill of `lines` by `group` as one transaction Bundle, each entry
 * created with ifNoneExist on its own dispense identifier. */
static char *
fill_bundle (const char  *group,
             const char **lines,
             const char **drugs)
{
  GString *b = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *trace = g_strdup_printf ("8123456%013u", g_str_hash (group) % 1000000 * 100 + i);
      g_autofree char *d = dispense_json (group, i + 1, lines[i], drugs[i], trace);

      g_string_append_printf (b, "%s{\"fullUrl\":\"urn:uuid:%s-%u\",\"resource\":%s,\"request\":{\"method\":\"POST\","
                              "\"url\":\"MedicationDispense\",\"ifNoneExist\":\"identifier=urn:pharmdesk:dispense|%s:%u\"}}",
                              i > 0 ? "," : "", group, i + 1, d, group, i + 1);
    }
  g_string_append (b, "]}");
  return g_string_free (b, FALSE);
}

/* The JSON text with one member set (value_json) or removed (NULL). */
static char *
edited (const char *json,
        const char *member,
        const char *value_json)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *o;

  g_assert_true (json_parser_load_from_data (p, json, -1, NULL));
  o = json_node_get_object (json_parser_get_root (p));
  if (value_json == NULL)
    json_object_remove_member (o, member);
  else
    {
      g_autoptr(JsonParser) v = json_parser_new ();

      g_assert_true (json_parser_load_from_data (v, value_json, -1, NULL));
      json_object_set_member (o, member, json_node_copy (json_parser_get_root (v)));
    }
  return json_to_string (json_parser_get_root (p), FALSE);
}

static const char *
expression (JsonObject *outcome)
{
  JsonObject *issue = json_array_get_object_element (json_object_get_array_member (outcome, "issue"), 0);

  if (!json_object_has_member (issue, "expression"))
    return "";
  return json_array_get_string_element (json_object_get_array_member (issue, "expression"), 0);
}

static JsonObject *
response_of (JsonObject *bundle,
             guint       i)
{
  return json_object_get_object_member (json_array_get_object_element (entries (bundle), i), "response");
}

static gint64
n_dispenses (Hospital *h)
{
  return count_rows (h->state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'MedicationDispense'");
}

/* The dispense a Bundle's answer entry located. */
static JsonObject *
located (Hospital   *h,
         JsonObject *answer,
         guint       i)
{
  g_auto(GStrv) parts = g_strsplit (json_object_get_string_member (response_of (answer, i), "location"), "/", -1);
  g_autofree char *path = g_strconcat (parts[0], "/", parts[1], NULL);
  JsonObject *d = NULL;

  g_assert_cmpuint (fhir (h, "GET", path, NULL, NULL, NULL, &d), ==, 200);
  return d;
}

/* PUT the dispense with status (completed: whenHandedOver; stopped: the
 * reason) under If-Match: W/"if_match" (the current version when NULL). */
static guint
put_status (Hospital    *h,
            JsonObject  *dispense,
            const char  *status,
            const char  *if_match,
            JsonObject **out)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), dispense);
  g_autofree char *text = json_to_string (node, FALSE);
  g_autofree char *with_status = NULL;
  g_autofree char *body = NULL;
  g_autofree char *path = g_strconcat ("MedicationDispense/", json_object_get_string_member (dispense, "id"), NULL);
  g_autofree char *etag = if_match != NULL ? g_strdup_printf ("W/\"%s\"", if_match) : etag_of (dispense);
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", status);

  with_status = edited (text, "status", quoted);
  body = g_str_equal (status, "completed") ? edited (with_status, "whenHandedOver", "\"2026-11-20T11:30:00+08:00\"")
       : g_str_equal (status, "stopped") ? edited (with_status, "statusReasonCodeableConcept", "{\"text\":\"收件人拒收\"}")
       : g_strdup (with_status);
  return fhir (h, "PUT", path, body, "If-Match", etag, out);
}

/* --- conditional creates ----------------------------------------------------------- */

static void
test_conditional_create (void)
{
  Hospital h = { 0 };
  g_autofree char *bundle = fill_bundle (G1, rx2_lines, rx2_drugs);
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) again = NULL;
  g_autoptr(JsonObject) out = NULL;

  hospital_start (&h, "conditional", "--arrival-every", "0", NULL);
  g_assert_cmpuint (fhir (&h, "POST", "", bundle, NULL, NULL, &first), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (first, "type"), ==, "transaction-response");
  g_assert_cmpuint (n_entries (first), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *r = response_of (first, i);

      g_assert_cmpstr (json_object_get_string_member (r, "status"), ==, "201 Created");
      g_assert_true (g_str_has_prefix (json_object_get_string_member (r, "location"), "MedicationDispense/"));
      g_assert_true (g_str_has_suffix (json_object_get_string_member (r, "location"), "/_history/1"));
      g_assert_cmpstr (json_object_get_string_member (r, "etag"), ==, "W/\"1\"");
    }
  /* The same Bundle again (a retry after a lost answer): nothing new, the
   * same dispenses answered 200. */
  g_assert_cmpuint (fhir (&h, "POST", "", bundle, NULL, NULL, &again), ==, 200);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpstr (json_object_get_string_member (response_of (again, i), "status"), ==, "200 OK");
      g_assert_cmpstr (json_object_get_string_member (response_of (again, i), "location"), ==,
                       json_object_get_string_member (response_of (first, i), "location"));
    }
  g_assert_cmpint (n_dispenses (&h), ==, 2);

  /* A plain POST with If-None-Exist finds the first too. */
  {
    g_autofree char *d = dispense_json (G1, 1, "mr-00000002-1", "YP1029", "81234567890123456789");
    g_autoptr(JsonObject) stored = located (&h, first, 0);

    g_assert_cmpuint (post_dispense (&h, d, G1, 1, &out), ==, 200);
    g_assert_cmpstr (json_object_get_string_member (out, "id"), ==, json_object_get_string_member (stored, "id"));
    g_clear_pointer (&out, json_object_unref);
    /* Without If-None-Exist, or with one that is not its own: refused. */
    g_assert_cmpuint (fhir (&h, "POST", "MedicationDispense", d, NULL, NULL, &out), ==, 428);
    g_assert_nonnull (strstr (diagnostics (out), "If-None-Exist"));
    g_clear_pointer (&out, json_object_unref);
    g_assert_cmpuint (fhir (&h, "POST", "MedicationDispense", d, "If-None-Exist",
                            "identifier=urn:pharmdesk:dispense%7C" G1 ":7", &out), ==, 422);
    g_clear_pointer (&out, json_object_unref);
  }
  g_assert_cmpint (n_dispenses (&h), ==, 2);

  /* Two entries of one Bundle with the same identifier: one would be lost. */
  {
    const char *lines[] = { "mr-00000003-1", NULL };
    const char *drugs[] = { "YP1098", NULL };
    g_autofree char *one = fill_bundle (G3, lines, drugs);
    const char *entry = strstr (one, "{\"fullUrl\"");
    g_autofree char *entry_text = g_strndup (entry, strlen (entry) - 2);
    g_autofree char *twice = g_strdup_printf ("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[%s,%s]}",
                                              entry_text, entry_text);

    g_assert_cmpuint (fhir (&h, "POST", "", twice, NULL, NULL, &out), ==, 422);
    g_assert_true (g_str_has_prefix (diagnostics (out), "entry 1: "));
    g_clear_pointer (&out, json_object_unref);
  }

  /* All or nothing: a Bundle whose second entry is refused leaves no first. */
  {
    const char *lines[] = { "mr-00000003-1", "mr-00000003-1", NULL };
    const char *drugs[] = { "YP1098", "YP1098", NULL };
    g_autofree char *good = fill_bundle (G2, lines, drugs);
    g_autofree char *bad = NULL;
    char *at = strstr (good, "},\"request\"");

    g_assert_nonnull (at);
    at = strstr (at + 1, "\"quantity\"");
    g_assert_nonnull (at);
    memcpy (at, "\"qu4ntity\"", 10);
    bad = g_strdup (good);
    g_assert_cmpuint (fhir (&h, "POST", "", bad, NULL, NULL, &out), ==, 422);
    g_assert_true (g_str_has_prefix (diagnostics (out), "entry 1: "));
    g_assert_cmpstr (expression (out), ==, "MedicationDispense.quantity");
    g_clear_pointer (&out, json_object_unref);
    g_assert_cmpint (n_dispenses (&h), ==, 2);
  }
  hospital_stop (&h);
}

/* What a fill's MedicationDispense must carry: 422 naming the element. */
static void
test_validation (void)
{
  Hospital h = { 0 };
  g_autofree char *good = dispense_json (G1, 1, "mr-00000002-1", "YP1029", "81234567890123456789");
  const struct {
    const char *member, *value, *element;
  } cases[] = {
    { "status", "\"completed\"", "MedicationDispense.status" },
    { "status", NULL, "MedicationDispense.status" },
    { "authorizingPrescription", NULL, "MedicationDispense.authorizingPrescription" },
    { "authorizingPrescription", "[{\"reference\":\"MedicationRequest/no-such\"}]", "MedicationDispense.authorizingPrescription[0]" },
    { "medicationReference", NULL, "MedicationDispense.medicationReference" },
    { "contained", "[{\"resourceType\":\"Medication\",\"id\":\"med\",\"batch\":{\"expirationDate\":\"2028-06-30\"}}]",
      "MedicationDispense.contained[0].batch.lotNumber" },
    { "contained", "[{\"resourceType\":\"Medication\",\"id\":\"med\",\"batch\":{\"lotNumber\":\"L1\"}}]",
      "MedicationDispense.contained[0].batch.expirationDate" },
    { "contained", "[{\"resourceType\":\"Medication\",\"id\":\"med\",\"batch\":{\"lotNumber\":\"L1\",\"expirationDate\":\"2026-01-31\"}}]",
      "MedicationDispense.contained[0].batch.expirationDate" },
    { "contained", "[{\"resourceType\":\"Medication\",\"id\":\"med\",\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:product-code\","
      "\"code\":\"YP1001\"}]},\"batch\":{\"lotNumber\":\"L1\",\"expirationDate\":\"2028-06-30\"}}]", "MedicationDispense.contained[0].code" },
    { "quantity", NULL, "MedicationDispense.quantity" },
    { "quantity", "{\"value\":0}", "MedicationDispense.quantity" },
    { "whenPrepared", NULL, "MedicationDispense.whenPrepared" },
    /* the prescription is valid until two days after it was written */
    { "whenPrepared", "\"2026-11-23T09:00:00+08:00\"", "MedicationDispense.whenPrepared" },
    { "whenHandedOver", "\"" NOW "\"", "MedicationDispense.whenHandedOver" },
    { "performer", "[{\"actor\":{\"reference\":\"Practitioner/ph-1\"}}]", "MedicationDispense.performer" },
    { "performer", "[{\"actor\":{\"reference\":\"Practitioner/ph-1\"}},{\"actor\":{\"reference\":\"Practitioner/ph-1\"}}]",
      "MedicationDispense.performer" },
    { "performer", "[{\"actor\":{\"reference\":\"Practitioner/ph-1\"}},{\"actor\":{\"display\":\"陈药师\"}}]",
      "MedicationDispense.performer[1].actor" },
    { "identifier", "[{\"system\":\"urn:pharmdesk:dispense\",\"value\":\"" G1 ":1\"}]", "MedicationDispense.identifier" },
    { "identifier", "[{\"system\":\"urn:pharmdesk:dispense-group\",\"value\":\"" G1 "\"}]", "MedicationDispense.identifier" },
    { "identifier", "[{\"system\":\"urn:pharmdesk:dispense-group\",\"value\":\"" G1 "\"},"
      "{\"system\":\"urn:pharmdesk:dispense\",\"value\":\"" G1 ":1\"},{\"system\":\"urn:pharmdesk:trace-code\",\"value\":\"8123\"}]",
      "MedicationDispense.identifier" },
  };

  hospital_start (&h, "validation", "--arrival-every", "0", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *body = edited (good, cases[i].member, cases[i].value);
      g_autoptr(JsonObject) out = NULL;

      g_test_message ("%s = %s", cases[i].member, cases[i].value != NULL ? cases[i].value : "(none)");
      g_assert_cmpuint (post_dispense (&h, body, G1, 1, &out), ==, 422);
      g_assert_cmpstr (expression (out), ==, cases[i].element);
    }
  /* A dispense identifier not of its own group. */
  {
    g_autofree char *body = edited (good, "identifier", "[{\"system\":\"urn:pharmdesk:dispense-group\",\"value\":\"" G1 "\"},"
                                    "{\"system\":\"urn:pharmdesk:dispense\",\"value\":\"" G2 ":1\"}]");
    g_autoptr(JsonObject) out = NULL;

    g_assert_cmpuint (fhir (&h, "POST", "MedicationDispense", body, "If-None-Exist",
                            "identifier=urn:pharmdesk:dispense%7C" G2 ":1", &out), ==, 422);
    g_assert_nonnull (strstr (diagnostics (out), "dispense-group"));
  }
  g_assert_cmpint (n_dispenses (&h), ==, 0);
  /* A checker the hospital knows by the pharmacy's identifier only. */
  {
    g_autofree char *body = edited (good, "performer", "[{\"actor\":{\"reference\":\"Practitioner/ph-1\"}},"
                                    "{\"actor\":{\"identifier\":{\"system\":\"urn:pharmdesk:account\",\"value\":\"a-7\"},"
                                    "\"display\":\"核对员\"}}]");

    g_assert_cmpuint (post_dispense (&h, body, G1, 1, NULL), ==, 201);
  }
  hospital_stop (&h);
}

/* --- one group at a time ---------------------------------------------------------- */

static void
test_another_group (void)
{
  Hospital h = { 0 };
  g_autofree char *g1 = fill_bundle (G1, rx2_lines, rx2_drugs);
  g_autofree char *g2 = fill_bundle (G2, rx2_lines, rx2_drugs);
  g_autofree char *g3 = fill_bundle (G3, rx2_lines, rx2_drugs);
  g_autoptr(JsonObject) filled = NULL;
  g_autoptr(JsonObject) refilled = NULL;
  g_autoptr(JsonObject) out = NULL;

  hospital_start (&h, "groups", "--arrival-every", "0", NULL);
  g_assert_cmpuint (fhir (&h, "POST", "", g1, NULL, NULL, &filled), ==, 200);
  /* Another group, the whole fill or one line of it: 409, nothing kept. */
  g_assert_cmpuint (fhir (&h, "POST", "", g2, NULL, NULL, &out), ==, 409);
  g_assert_nonnull (strstr (diagnostics (out), "dispense-group " G1));
  g_assert_nonnull (strstr (diagnostics (out), "RX00000002"));
  g_clear_pointer (&out, json_object_unref);
  {
    g_autofree char *d = dispense_json (G2, 1, "mr-00000002-2", "YP1053", "81234567890123456700");

    g_assert_cmpuint (post_dispense (&h, d, G2, 1, &out), ==, 409);
    g_assert_cmpstr (json_object_get_string_member (out, "resourceType"), ==, "OperationOutcome");
    g_clear_pointer (&out, json_object_unref);
  }
  g_assert_cmpint (n_dispenses (&h), ==, 2);

  /* The parcel came back: the first fill is stopped, a new group may fill. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(JsonObject) d = located (&h, filled, i);

      g_assert_cmpuint (put_status (&h, d, "stopped", NULL, &out), ==, 200);
      g_assert_cmpstr (json_object_get_string_member (out, "status"), ==, "stopped");
      g_clear_pointer (&out, json_object_unref);
    }
  g_assert_cmpuint (fhir (&h, "POST", "", g2, NULL, NULL, &refilled), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (response_of (refilled, 0), "status"), ==, "201 Created");
  g_assert_cmpint (n_dispenses (&h), ==, 4);
  /* The first group's retry still finds its own (stopped) dispenses. */
  g_assert_cmpuint (fhir (&h, "POST", "", g1, NULL, NULL, &out), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (response_of (out, 0), "status"), ==, "200 OK");
  g_clear_pointer (&out, json_object_unref);

  /* The second fill in progress, then completed: both block a third. */
  g_assert_cmpuint (fhir (&h, "POST", "", g3, NULL, NULL, NULL), ==, 409);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(JsonObject) d = located (&h, refilled, i);

      g_assert_cmpuint (put_status (&h, d, "completed", NULL, NULL), ==, 200);
    }
  g_assert_cmpuint (fhir (&h, "POST", "", g3, NULL, NULL, &out), ==, 409);
  g_assert_nonnull (strstr (diagnostics (out), "completed"));
  g_assert_cmpint (n_dispenses (&h), ==, 4);
  hospital_stop (&h);
}

/* --- handover and stop, search ------------------------------------------------------ */

static void
test_handover (void)
{
  Hospital h = { 0 };
  g_autofree char *bundle = fill_bundle (G1, rx2_lines, rx2_drugs);
  g_autoptr(JsonObject) filled = NULL;
  g_autoptr(JsonObject) d1 = NULL;
  g_autoptr(JsonObject) d2 = NULL;
  g_autoptr(JsonObject) out = NULL;

  hospital_start (&h, "handover", "--arrival-every", "0", NULL);
  g_assert_cmpuint (fhir (&h, "POST", "", bundle, NULL, NULL, &filled), ==, 200);
  d1 = located (&h, filled, 0);
  d2 = located (&h, filled, 1);

  /* No If-Match: 428; what is not the handover: 422. */
  {
    g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), d1);
    g_autofree char *text = json_to_string (node, FALSE);
    g_autofree char *path = g_strconcat ("MedicationDispense/", json_object_get_string_member (d1, "id"), NULL);
    g_autofree char *completed = edited (text, "status", "\"completed\"");
    g_autofree char *stopped = edited (text, "status", "\"stopped\"");
    g_autofree char *more = edited (completed, "quantity", "{\"value\":56,\"unit\":\"片\"}");
    g_autofree char *more_handed = edited (more, "whenHandedOver", "\"2026-11-20T11:30:00+08:00\"");

    g_assert_cmpuint (fhir (&h, "PUT", path, completed, NULL, NULL, NULL), ==, 428);
    g_assert_cmpuint (fhir (&h, "PUT", path, completed, "If-Match", "W/\"1\"", &out), ==, 422);
    g_assert_cmpstr (expression (out), ==, "MedicationDispense.whenHandedOver");
    g_clear_pointer (&out, json_object_unref);
    g_assert_cmpuint (fhir (&h, "PUT", path, stopped, "If-Match", "W/\"1\"", &out), ==, 422);
    g_assert_cmpstr (expression (out), ==, "MedicationDispense.statusReasonCodeableConcept");
    g_clear_pointer (&out, json_object_unref);
    g_assert_cmpuint (fhir (&h, "PUT", path, more_handed, "If-Match", "W/\"1\"", &out), ==, 422);
    g_assert_cmpstr (expression (out), ==, "MedicationDispense.quantity");
    g_clear_pointer (&out, json_object_unref);
  }
  /* Handed over: a new version; the same PUT again is stale. */
  g_assert_cmpuint (put_status (&h, d1, "completed", NULL, &out), ==, 200);
  g_assert_cmpstr (version_of (out), ==, "2");
  g_assert_cmpstr (json_object_get_string_member (out, "whenHandedOver"), ==, "2026-11-20T11:30:00+08:00");
  g_clear_pointer (&out, json_object_unref);
  g_assert_cmpuint (put_status (&h, d1, "completed", NULL, &out), ==, 412);
  g_assert_nonnull (strstr (diagnostics (out), "version 2"));
  g_clear_pointer (&out, json_object_unref);
  /* A completed dispense is final. */
  g_assert_cmpuint (put_status (&h, d1, "stopped", "2", &out), ==, 409);
  g_clear_pointer (&out, json_object_unref);

  /* The other line's handover inside a transaction, under request.ifMatch. */
  {
    g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), d2);
    g_autofree char *text = json_to_string (node, FALSE);
    g_autofree char *completed = edited (text, "status", "\"completed\"");
    g_autofree char *handed = edited (completed, "whenHandedOver", "\"2026-11-20T11:30:00+08:00\"");
    g_autofree char *stale = g_strdup_printf ("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":%s,"
                                              "\"request\":{\"method\":\"PUT\",\"url\":\"MedicationDispense/%s\",\"ifMatch\":\"W/\\\"9\\\"\"}}]}",
                                              handed, json_object_get_string_member (d2, "id"));
    g_autofree char *good = g_strdup_printf ("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":%s,"
                                             "\"request\":{\"method\":\"PUT\",\"url\":\"MedicationDispense/%s\",\"ifMatch\":\"W/\\\"1\\\"\"}}]}",
                                             handed, json_object_get_string_member (d2, "id"));
    g_autofree char *want = g_strdup_printf ("MedicationDispense/%s/_history/2", json_object_get_string_member (d2, "id"));

    g_assert_cmpuint (fhir (&h, "POST", "", stale, NULL, NULL, NULL), ==, 412);
    g_assert_cmpuint (fhir (&h, "POST", "", good, NULL, NULL, &out), ==, 200);
    g_assert_cmpstr (json_object_get_string_member (response_of (out, 0), "status"), ==, "200 OK");
    g_assert_cmpstr (json_object_get_string_member (response_of (out, 0), "location"), ==, want);
    g_assert_cmpstr (json_object_get_string_member (response_of (out, 0), "etag"), ==, "W/\"2\"");
    g_clear_pointer (&out, json_object_unref);
  }

  /* A prescription's dispenses, by line (Type/id or a bare id), by
   * identifier, or both. */
  g_assert_cmpuint (fhir (&h, "GET", "MedicationDispense?prescription=MedicationRequest/mr-00000002-1", NULL, NULL, NULL, &out), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (out, "type"), ==, "searchset");
  g_assert_cmpuint (n_entries (out), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (entry_resource (out, 0), "id"), ==, json_object_get_string_member (d1, "id"));
  g_assert_cmpstr (json_object_get_string_member (entry_resource (out, 0), "status"), ==, "completed");
  g_clear_pointer (&out, json_object_unref);
  g_assert_cmpuint (fhir (&h, "GET", "MedicationDispense?prescription=mr-00000002-1,mr-00000002-2", NULL, NULL, NULL, &out), ==, 200);
  g_assert_cmpuint (n_entries (out), ==, 2);
  g_clear_pointer (&out, json_object_unref);
  g_assert_cmpuint (fhir (&h, "GET", "MedicationDispense?identifier=urn:pharmdesk:dispense-group%7C" G1, NULL, NULL, NULL, &out), ==, 200);
  g_assert_cmpuint (n_entries (out), ==, 2);
  g_clear_pointer (&out, json_object_unref);
  g_assert_cmpuint (fhir (&h, "GET", "MedicationDispense?identifier=urn:pharmdesk:dispense%7C" G1 ":2", NULL, NULL, NULL, &out), ==, 200);
  g_assert_cmpuint (n_entries (out), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (entry_resource (out, 0), "id"), ==, json_object_get_string_member (d2, "id"));
  g_clear_pointer (&out, json_object_unref);
  g_assert_cmpuint (fhir (&h, "GET", "MedicationDispense?prescription=MedicationRequest/mr-00000002-1"
                          "&identifier=urn:pharmdesk:dispense%7C" G1 ":2", NULL, NULL, NULL, &out), ==, 200);
  g_assert_cmpuint (n_entries (out), ==, 0);
  g_clear_pointer (&out, json_object_unref);
  g_assert_cmpuint (fhir (&h, "GET", "MedicationDispense?prescription=MedicationRequest/mr-00000003-1", NULL, NULL, NULL, &out), ==, 200);
  g_assert_cmpuint (n_entries (out), ==, 0);
  g_clear_pointer (&out, json_object_unref);
  g_assert_cmpuint (fhir (&h, "GET", "MedicationDispense", NULL, NULL, NULL, NULL), ==, 400);
  g_assert_cmpuint (fhir (&h, "GET", "MedicationDispense?status=completed", NULL, NULL, NULL, NULL), ==, 400);
  hospital_stop (&h);
}

/* --- the prescriber's cancellation ----------------------------------------------------- */

static JsonObject *
approve (Hospital   *h,
         const char *task_id)
{
  g_autoptr(JsonObject) claimed = claim (h, task_id, "Practitioner/ph-1");
  g_autofree char *decision = decision_bundle (claimed, version_of (claimed));

  g_assert_cmpuint (fhir (h, "POST", "", decision, NULL, NULL, NULL), ==, 200);
  return get_task (h, task_id);
}

static void
test_cancel (void)
{
  Hospital h = { 0 };
  g_autoptr(JsonObject) approved = NULL;
  g_autoptr(JsonObject) cancelled = NULL;
  g_autoptr(JsonObject) out = NULL;
  g_autoptr(JsonObject) filled = NULL;
  g_autofree char *bundle = fill_bundle (G1, rx2_lines, rx2_drugs);

  hospital_start (&h, "cancel", "--arrival-every", "0", NULL);
  /* Approved, not dispensed: the prescriber may still cancel it. */
  approved = approve (&h, "task-00000001");
  g_assert_cmpstr (json_object_get_string_member (approved, "status"), ==, "completed");
  cancelled = cancel_and_pull (&h, approved, "RX00000001");
  g_assert_cmpint (g_ascii_strtoll (version_of (cancelled), NULL, 10), ==, g_ascii_strtoll (version_of (approved), NULL, 10) + 1);
  g_assert_cmpint (count_rows (h.state, "SELECT count(*) FROM fhir_resource WHERE id = 'mr-00000001-1'"
                                        " AND json_extract (body, '$.status') = 'cancelled' AND version_id = 2"), ==, 1);
  /* Nothing of it can be dispensed now. */
  {
    g_autofree char *d = dispense_json (G2, 1, "mr-00000001-1", "YP1001", "81234567890123456701");

    g_assert_cmpuint (post_dispense (&h, d, G2, 1, &out), ==, 409);
    g_assert_nonnull (strstr (diagnostics (out), "cancelled"));
    g_clear_pointer (&out, json_object_unref);
  }

  /* Dispensed (in progress): the cancellation is refused, nothing changes. */
  g_clear_pointer (&approved, json_object_unref);
  approved = approve (&h, "task-00000002");
  g_assert_cmpuint (fhir (&h, "POST", "", bundle, NULL, NULL, &filled), ==, 200);
  g_assert_cmpuint (sandbox_control (&h.sb, "cancel", "{\"prescription\":\"RX00000002\"}", &out), ==, 409);
  g_assert_nonnull (strstr (json_object_get_string_member (out, "error"), "dispensed"));
  g_clear_pointer (&out, json_object_unref);
  g_assert_cmpint (count_rows (h.state, "SELECT count(*) FROM fhir_resource WHERE resource_type IN ('Task', 'MedicationRequest')"
                                        " AND json_extract (body, '$.status') = 'cancelled'"), ==, 2);
  /* Completed: still refused. Stopped: it may be cancelled again. */
  {
    g_autoptr(JsonObject) d1 = located (&h, filled, 0);
    g_autoptr(JsonObject) d2 = located (&h, filled, 1);

    g_assert_cmpuint (put_status (&h, d1, "completed", NULL, NULL), ==, 200);
    g_assert_cmpuint (sandbox_control (&h.sb, "cancel", "{\"prescription\":\"RX00000002\"}", NULL), ==, 409);
    g_assert_cmpuint (sandbox_control (&h.sb, "cancel", "{\"prescription\":\"task-00000003\"}", NULL), ==, 200);
    g_assert_cmpuint (put_status (&h, d2, "stopped", NULL, NULL), ==, 200);
    g_assert_cmpuint (sandbox_control (&h.sb, "cancel", "{\"prescription\":\"RX00000002\"}", NULL), ==, 409);
  }
  /* A fill whose every dispense stopped leaves the prescription cancellable. */
  {
    const char *lines[] = { "mr-00000004-1", NULL };
    const char *drugs[] = { "YP1161", NULL };
    g_autofree char *fill4 = fill_bundle (G3, lines, drugs);
    g_autoptr(JsonObject) d = NULL;

    g_clear_pointer (&filled, json_object_unref);
    g_assert_cmpuint (fhir (&h, "POST", "", fill4, NULL, NULL, &filled), ==, 200);
    d = located (&h, filled, 0);
    g_assert_cmpuint (put_status (&h, d, "stopped", NULL, NULL), ==, 200);
    g_assert_cmpuint (sandbox_control (&h.sb, "cancel", "{\"prescription\":\"RX00000004\"}", NULL), ==, 200);
    g_assert_cmpuint (sandbox_control (&h.sb, "cancel", "{\"prescription\":\"RX00000004\"}", NULL), ==, 409);
  }
  hospital_stop (&h);
}

/* --- the demo Tasks: delivery or collection -------------------------------------------- */

static JsonObject *
delivery_of (JsonObject *task)
{
  JsonArray *inputs = json_object_get_array_member (task, "input");
  JsonObject *found = NULL;

  for (guint i = 0; i < json_array_get_length (inputs); i++)
    {
      JsonObject *input = json_array_get_object_element (inputs, i);
      const char *type = json_object_get_string_member (json_object_get_object_member (input, "type"), "text");

      if (g_str_equal (type, "delivery"))
        {
          g_assert_null (found);
          found = json_object_get_object_member (input, "valueAddress");
        }
      else
        g_assert_cmpstr (type, ==, "line");
    }
  return found;
}

static const char *
extension (JsonObject *address,
           const char *url)
{
  JsonArray *extensions = json_object_has_member (address, "extension") ? json_object_get_array_member (address, "extension") : NULL;

  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    {
      JsonObject *e = json_array_get_object_element (extensions, i);

      if (g_str_equal (json_object_get_string_member (e, "url"), url))
        return json_object_has_member (e, "valueString") ? json_object_get_string_member (e, "valueString") : url;
    }
  return NULL;
}

static void
test_delivery (void)
{
  Hospital h = { 0 };
  g_autoptr(GPtrArray) tasks = NULL;
  guint delivered = 0, collected = 0, receivers = 0, located_ = 0;

  hospital_start (&h, "delivery", "--arrival-every", "0", NULL);
  tasks = all_tasks (&h, "2000-01-01T00:00:00%2B08:00", 100);
  g_assert_cmpuint (tasks->len, >=, 30);
  for (guint i = 0; i < tasks->len; i++)
    {
      JsonObject *a = delivery_of (tasks->pdata[i]);
      const char *name, *phone;
      JsonArray *line;

      if (a == NULL)
        {
          collected++;
          continue;
        }
      delivered++;
      line = json_object_get_array_member (a, "line");
      g_assert_cmpuint (json_array_get_length (line), ==, 1);
      g_assert_cmpstr (json_object_get_string_member (a, "city"), ==, "北京市");
      g_assert_true (g_str_has_suffix (json_object_get_string_member (a, "district"), "区"));
      g_assert_cmpuint (strlen (json_object_get_string_member (a, "postalCode")), ==, 6);
      g_assert_true (g_str_has_prefix (json_object_get_string_member (a, "text"), "北京市"));
      g_assert_true (g_str_has_suffix (json_object_get_string_member (a, "text"), json_array_get_string_element (line, 0)));
      name = extension (a, "urn:pharmdesk:receiver-name");
      phone = extension (a, "urn:pharmdesk:receiver-phone");
      g_assert_true ((name == NULL) == (phone == NULL));
      if (name != NULL)
        {
          receivers++;
          g_assert_cmpuint (strlen (phone), ==, 11);
        }
      if (extension (a, "http://hl7.org/fhir/StructureDefinition/geolocation") != NULL)
        located_++;
    }
  g_assert_cmpuint (delivered, >, 0);
  g_assert_cmpuint (collected, >, 0);
  g_assert_cmpuint (receivers, >, 0);
  g_assert_cmpuint (receivers, <, delivered);
  g_assert_cmpuint (located_, >, 0);
  g_assert_cmpuint (located_, <, delivered);

  /* The receiver's phone otherwise: the patient's telecom. */
  {
    g_autoptr(JsonObject) patient = NULL;
    JsonObject *telecom;

    g_assert_cmpuint (fhir (&h, "GET", "Patient/pat-0006", NULL, NULL, NULL, &patient), ==, 200);
    telecom = json_array_get_object_element (json_object_get_array_member (patient, "telecom"), 0);
    g_assert_cmpstr (json_object_get_string_member (telecom, "system"), ==, "phone");
    g_assert_cmpuint (strlen (json_object_get_string_member (telecom, "value")), ==, 11);
  }
  hospital_stop (&h);
}

/* --- traceability codes ------------------------------------------------------------------- */

static JsonArray *
issue_codes (Hospital    *h,
             const char  *body,
             guint        status,
             JsonObject **out)
{
  g_assert_cmpuint (sandbox_control (&h->sb, "trace-codes", body, out), ==, status);
  return status == 200 ? json_object_get_array_member (*out, "codes") : NULL;
}

static void
test_trace_codes (void)
{
  Hospital h = { 0 };
  g_autofree char *kb = g_build_filename (state_root, "kb-trace", "kb", NULL);
  g_autofree char *drugs = g_build_filename (kb, "drugs.csv", NULL);
  g_autofree char *datadir = g_build_filename (state_root, "kb-trace", NULL);
  g_autofree char *saved = g_strdup (g_getenv ("PHARMDESK_DATADIR"));
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(JsonObject) out = NULL;
  JsonArray *codes;

  /* A knowledge base whose drugs.csv has trace_prefix among its columns
   * (found by name), a quoted field with a comma, one drug without. */
  g_assert_cmpint (g_mkdir_with_parents (kb, 0700), ==, 0);
  g_assert_true (g_file_set_contents (drugs,
    "code,name,trace_prefix,source\n"
    "YP1001,苯磺酸氨氯地平片 5mg,8600001,\"label, 2024\"\n"
    "YP1002,\"硝苯地平控释片 30mg\",,label\r\n"
    "YP1003,\"a \"\"quoted\"\" name\",8600003,label\n", -1, NULL));
  g_setenv ("PHARMDESK_DATADIR", datadir, TRUE);
  hospital_start (&h, "trace-codes", "--arrival-every", "0", NULL);
  codes = issue_codes (&h, "{\"drug\":\"YP1001\",\"count\":3}", 200, &out);
  g_assert_cmpuint (json_array_get_length (codes), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      const char *code = json_array_get_string_element (codes, i);

      g_assert_cmpuint (strlen (code), ==, 20);
      g_assert_cmpuint (strspn (code, "0123456789"), ==, 20);
      g_assert_true (g_str_has_prefix (code, "8600001"));
      g_assert_true (g_hash_table_add (seen, g_strdup (code)));
    }
  g_clear_pointer (&out, json_object_unref);
  codes = issue_codes (&h, "{\"drug\":\"YP1002\"}", 200, &out);
  g_assert_cmpuint (json_array_get_length (codes), ==, 1);
  g_assert_true (g_str_has_prefix (json_array_get_string_element (codes, 0), "6900000"));
  g_assert_true (g_hash_table_add (seen, g_strdup (json_array_get_string_element (codes, 0))));
  g_clear_pointer (&out, json_object_unref);
  codes = issue_codes (&h, "{\"drug\":\"YP1003\",\"count\":2}", 200, &out);
  g_assert_true (g_str_has_prefix (json_array_get_string_element (codes, 1), "8600003"));
  g_clear_pointer (&out, json_object_unref);

  /* Refused: an unknown drug (404), a count out of range (400). */
  issue_codes (&h, "{\"drug\":\"YP9999\",\"count\":1}", 404, &out);
  g_assert_cmpstr (json_object_get_string_member (out, "resourceType"), ==, "OperationOutcome");
  g_assert_nonnull (strstr (diagnostics (out), "YP9999"));
  g_clear_pointer (&out, json_object_unref);
  issue_codes (&h, "{\"drug\":\"YP1001\",\"count\":0}", 400, NULL);
  issue_codes (&h, "{\"drug\":\"YP1001\",\"count\":1001}", 400, NULL);
  issue_codes (&h, "{\"count\":1}", 400, NULL);

  /* Never the same code twice, across restarts too. */
  sandbox_stop (&h.sb, SIGTERM);
  sandbox_start (&h.sb, h.state, "--control", "--arrival-every", "0", NULL);
  codes = issue_codes (&h, "{\"drug\":\"YP1001\",\"count\":1000}", 200, &out);
  for (guint i = 0; i < json_array_get_length (codes); i++)
    g_assert_true (g_hash_table_add (seen, g_strdup (json_array_get_string_element (codes, i))));
  g_clear_pointer (&out, json_object_unref);
  hospital_stop (&h);

  /* The default knowledge base: every code 20 digits. */
  if (saved != NULL)
    g_setenv ("PHARMDESK_DATADIR", saved, TRUE);
  else
    g_unsetenv ("PHARMDESK_DATADIR");
  hospital_start (&h, "trace-codes-default", "--arrival-every", "0", NULL);
  codes = issue_codes (&h, "{\"drug\":\"YP1001\",\"count\":2}", 200, &out);
  g_assert_cmpuint (strlen (json_array_get_string_element (codes, 0)), ==, 20);
  g_assert_cmpstr (json_array_get_string_element (codes, 0), !=, json_array_get_string_element (codes, 1));
  hospital_stop (&h);
}

/* --- a lost answer ---------------------------------------------------------------------- */

/* The fill's answer is lost (the sandbox commits, then closes the
 * connection); the client sends the same Bundle again, with the same
 * ifNoneExist: each line's MedicationDispense exists exactly once. */
static void
test_drop_response (void)
{
  Hospital h = { 0 };
  g_autofree char *bundle = fill_bundle (G1, rx2_lines, rx2_drugs);
  g_autoptr(JsonObject) report = NULL;
  g_autoptr(JsonObject) out = NULL;
  JsonArray *faults;

  hospital_start (&h, "drop-response", "--arrival-every", "0", NULL);
  g_assert_cmpuint (sandbox_control (&h.sb, "faults", "{\"fault\":\"drop-response\",\"method\":\"POST\",\"path\":\"/fhir/\"}",
                                     &report), ==, 200);
  g_clear_pointer (&report, json_object_unref);
  g_assert_cmpuint (fhir (&h, "POST", "", bundle, NULL, NULL, NULL), ==, 0);
  g_assert_cmpint (n_dispenses (&h), ==, 2);
  g_assert_cmpuint (fhir (&h, "POST", "", bundle, NULL, NULL, &out), ==, 200);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpstr (json_object_get_string_member (response_of (out, i), "status"), ==, "200 OK");
  g_assert_cmpint (n_dispenses (&h), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM fhir_resource WHERE resource_type = 'MedicationDispense'"
                                              " AND json_extract (body, '$.authorizingPrescription[0].reference') = 'MedicationRequest/%s'",
                                              rx2_lines[i]);

      g_assert_cmpint (count_rows (h.state, sql), ==, 1);
    }
  /* The injector says what it did: one drop-response, on that POST. */
  {
    g_autofree char *url = g_strconcat (h.sb.base, "/sandbox/control/faults", NULL);
    g_autofree char *text = NULL;

    g_assert_cmpuint (request ("GET", url, NULL, NULL, NULL, &text), ==, 200);
    report = parse_object (text);
    faults = json_object_get_array_member (report, "faults");
    g_assert_cmpuint (json_array_get_length (faults), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (faults, 0), "fault"), ==, "drop-response");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (faults, 0), "method"), ==, "POST");
  }
  g_assert_cmpuint (sandbox_control (&h.sb, "faults", "{\"fault\":\"lost\",\"path\":\"/fhir\"}", NULL), ==, 400);
  hospital_stop (&h);

  /* The same under --faults drop-response=1 (every answer lost), the
   * retry sent once the sandbox runs without faults. */
  {
    Sandbox sb = { 0 };
    g_autofree char *state = new_state ("drop-response-option");

    sandbox_start (&sb, state, "--arrival-every", "0", NULL);
    h.sb = sb;
    g_free (h.auth);
    {
      g_autofree char *token = token_for (&sb, sb.config->hospital_client_secret);

      h.auth = g_strdup_printf ("Bearer %s", token);
    }
    h.state = g_strdup (state);
    sandbox_stop (&sb, SIGTERM);
    sandbox_start (&sb, state, "--arrival-every", "0", "--faults", "drop-response=1", NULL);
    h.sb = sb;
    g_assert_cmpuint (fhir (&h, "POST", "", bundle, NULL, NULL, NULL), ==, 0);
    sandbox_stop (&sb, SIGTERM);
    sandbox_start (&sb, state, "--arrival-every", "0", NULL);
    h.sb = sb;
    g_assert_cmpuint (fhir (&h, "POST", "", bundle, NULL, NULL, NULL), ==, 200);
    g_assert_cmpint (n_dispenses (&h), ==, 2);
    sandbox_stop (&sb, SIGTERM);
    g_clear_pointer (&h.state, g_free);
    g_clear_pointer (&h.auth, g_free);
  }
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  harness_init ();
  g_test_add_func ("/sandbox-dispense/conditional-create", test_conditional_create);
  g_test_add_func ("/sandbox-dispense/validation", test_validation);
  g_test_add_func ("/sandbox-dispense/another-group", test_another_group);
  g_test_add_func ("/sandbox-dispense/handover", test_handover);
  g_test_add_func ("/sandbox-dispense/cancel", test_cancel);
  g_test_add_func ("/sandbox-dispense/delivery", test_delivery);
  g_test_add_func ("/sandbox-dispense/trace-codes", test_trace_codes);
  g_test_add_func ("/sandbox-dispense/drop-response", test_drop_response);
  status = g_test_run ();
  harness_done ();
  return status;
}
