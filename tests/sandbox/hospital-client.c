/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-sandbox"

#include "config.h"

#include <string.h>

#include "hospital-client.h"

/* The hospital side of the sandbox as a FHIR client written from
 * hospital.md by the tests themselves: the token, reads, searches,
 * claims, decisions and a fill's MedicationDispenses. */

void
hospital_start (Hospital   *h,
                const char *name,
                ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *token = NULL;
  const char *arg;
  va_list ap;

  h->state = new_state (name);
  va_start (ap, name);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  /* Enough for every test: the argument lists are short. */
  while (args->len < 8)
    g_ptr_array_add (args, NULL);
  sandbox_start (&h->sb, h->state, "--control", "--now", NOW, "--time-scale", "0",
                 args->pdata[0], args->pdata[1], args->pdata[2], args->pdata[3],
                 args->pdata[4], args->pdata[5], args->pdata[6], args->pdata[7], NULL);
  token = token_for (&h->sb, h->sb.config->hospital_client_secret);
  g_assert_nonnull (token);
  h->auth = g_strdup_printf ("Bearer %s", token);
}

void
hospital_stop (Hospital *h)
{
  sandbox_stop (&h->sb, SIGTERM);
  g_clear_pointer (&h->state, g_free);
  g_clear_pointer (&h->auth, g_free);
}

/* GET|PUT|POST {fhir}/{path}; extra headers name, value… */
guint
fhir (Hospital    *h,
      const char  *method,
      const char  *path,
      const char  *body,
      const char  *header,
      const char  *value,
      JsonObject **out)
{
  g_autofree char *url = g_str_has_prefix (path, "http") ? g_strdup (path) : g_strconcat (h->sb.config->hospital_url, "/", path, NULL);
  const char *headers[] = { "Authorization", h->auth, header, value, NULL };
  g_autofree char *reply = NULL;
  guint status = request (method, url, body != NULL ? "application/fhir+json" : NULL, body, headers, &reply);

  if (out != NULL)
    *out = parse_object (reply);
  return status;
}

JsonArray *
entries (JsonObject *bundle)
{
  return json_object_has_member (bundle, "entry") ? json_object_get_array_member (bundle, "entry") : NULL;
}

JsonObject *
entry_resource (JsonObject *bundle,
                guint       i)
{
  return json_object_get_object_member (json_array_get_object_element (entries (bundle), i), "resource");
}

guint
n_entries (JsonObject *bundle)
{
  return entries (bundle) != NULL ? json_array_get_length (entries (bundle)) : 0;
}

/* Every Task of the queue since `since`, page by page, in order. */
GPtrArray *
all_tasks (Hospital   *h,
           const char *since,
           guint       count)
{
  GPtrArray *tasks = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autofree char *path = g_strdup_printf ("Task?code=urn:pharmdesk:task%%7Crx-review&_lastUpdated=ge%s&_sort=_lastUpdated&_count=%u",
                                           since, count);

  while (path != NULL)
    {
      g_autoptr(JsonObject) page = NULL;

      g_assert_cmpuint (fhir (h, "GET", path, NULL, NULL, NULL, &page), ==, 200);
      g_assert_cmpstr (json_object_get_string_member (page, "type"), ==, "searchset");
      for (guint i = 0; i < n_entries (page); i++)
        g_ptr_array_add (tasks, json_object_ref (entry_resource (page, i)));
      g_free (path);
      path = next_link (page);
    }
  return tasks;
}

const char *
version_of (JsonObject *resource)
{
  return json_object_get_string_member (json_object_get_object_member (resource, "meta"), "versionId");
}

char *
etag_of (JsonObject *resource)
{
  return g_strdup_printf ("W/\"%s\"", version_of (resource));
}

/* The Task as JSON with status (and owner, for a claim) changed. */
char *
task_with (JsonObject *task,
           const char *status,
           const char *owner)
{
  g_autoptr(JsonNode) node = json_node_alloc ();
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autofree char *text = NULL;
  JsonObject *copy;

  /* A deep copy: json_node_copy shares the object. */
  json_node_init_object (node, task);
  text = json_to_string (node, FALSE);
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  copy = json_node_get_object (json_parser_get_root (p));
  json_object_set_string_member (copy, "status", status);
  if (json_object_has_member (copy, "owner"))
    json_object_remove_member (copy, "owner");
  if (owner != NULL)
    {
      JsonObject *ref = json_object_new ();
      JsonObject *restriction = json_object_new ();
      JsonObject *period = json_object_new ();

      json_object_set_string_member (ref, "reference", owner);
      json_object_set_object_member (copy, "owner", ref);
      json_object_set_string_member (period, "end", "2026-11-20T10:10:00+08:00");
      json_object_set_object_member (restriction, "period", period);
      json_object_set_object_member (copy, "restriction", restriction);
    }
  return json_to_string (json_parser_get_root (p), FALSE);
}

JsonObject *
get_task (Hospital   *h,
          const char *id)
{
  g_autofree char *path = g_strconcat ("Task/", id, NULL);
  JsonObject *task = NULL;

  g_assert_cmpuint (fhir (h, "GET", path, NULL, NULL, NULL, &task), ==, 200);
  return task;
}

guint
put_task (Hospital   *h,
          JsonObject *task,
          const char *if_match,
          const char *body,
          JsonObject **out)
{
  g_autofree char *path = g_strconcat ("Task/", json_object_get_string_member (task, "id"), NULL);

  return fhir (h, "PUT", path, body, if_match != NULL ? "If-Match" : NULL, if_match, out);
}

const char *
diagnostics (JsonObject *outcome)
{
  g_assert_cmpstr (json_object_get_string_member (outcome, "resourceType"), ==, "OperationOutcome");
  return json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (outcome, "issue"), 0),
                                        "diagnostics");
}

/* A decision Bundle: DetectedIssue and Provenance by urn:uuid, the Task
 * update by ifMatch. */
char *
decision_bundle (JsonObject *task,
                 const char *version)
{
  g_autofree char *claimed = task_with (task, "completed", "Practitioner/ph-1");
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *t;
  JsonArray *output = json_array_new ();
  const char *id = json_object_get_string_member (task, "id");
  g_autofree char *task_text = NULL;

  g_assert_true (json_parser_load_from_data (p, claimed, -1, NULL));
  t = json_node_get_object (json_parser_get_root (p));
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *o = json_object_new ();
      JsonObject *ref = json_object_new ();

      json_object_set_string_member (ref, "reference", i == 0 ? "urn:uuid:0b8b2d6e-0000-4000-8000-000000000001"
                                                               : "urn:uuid:0b8b2d6e-0000-4000-8000-000000000002");
      json_object_set_object_member (o, "valueReference", ref);
      json_array_add_object_element (output, o);
    }
  json_object_set_array_member (t, "output", output);
  {
    JsonObject *business = json_object_new ();

    json_object_set_string_member (business, "text", "approved");
    json_object_set_object_member (t, "businessStatus", business);
  }
  task_text = json_to_string (json_parser_get_root (p), FALSE);
  return g_strdup_printf (
    "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
    "{\"fullUrl\":\"urn:uuid:0b8b2d6e-0000-4000-8000-000000000001\",\"resource\":{\"resourceType\":\"DetectedIssue\",\"status\":\"final\","
    "\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:finding\",\"code\":\"indication-mismatch\"}]},\"severity\":\"moderate\","
    "\"implicated\":[{\"reference\":\"MedicationRequest/%s\"}]},\"request\":{\"method\":\"POST\",\"url\":\"DetectedIssue\"}},"
    "{\"fullUrl\":\"urn:uuid:0b8b2d6e-0000-4000-8000-000000000002\",\"resource\":{\"resourceType\":\"Provenance\","
    "\"target\":[{\"reference\":\"MedicationRequest/%s\"}],\"recorded\":\"" NOW "\",\"activity\":{\"text\":\"approve\"},"
    "\"agent\":[{\"who\":{\"reference\":\"Practitioner/ph-1\"}}],\"entity\":[{\"role\":\"source\",\"what\":{\"reference\":"
    "\"urn:uuid:0b8b2d6e-0000-4000-8000-000000000001\"}}],\"signature\":[{\"type\":[{\"system\":\"urn:iso-astm:E1762-95:2013\","
    "\"code\":\"1.2.840.10065.1.12.1.5\"}],\"when\":\"" NOW "\",\"who\":{\"reference\":\"Practitioner/ph-1\"},"
    "\"sigFormat\":\"application/jose\",\"data\":\"ZXlK\"}]},\"request\":{\"method\":\"POST\",\"url\":\"Provenance\"}},"
    "{\"resource\":%s,\"request\":{\"method\":\"PUT\",\"url\":\"Task/%s\",\"ifMatch\":\"W/\\\"%s\\\"\"}}]}",
    json_object_get_string_member (json_object_get_object_member (task, "focus"), "reference") + strlen ("MedicationRequest/"),
    json_object_get_string_member (json_object_get_object_member (task, "focus"), "reference") + strlen ("MedicationRequest/"),
    task_text, id, version);
}

JsonObject *
claim (Hospital   *h,
       const char *id,
       const char *owner)
{
  g_autoptr(JsonObject) task = get_task (h, id);
  g_autofree char *etag = etag_of (task);
  g_autofree char *body = task_with (task, "received", owner);
  JsonObject *out = NULL;

  g_assert_cmpuint (put_task (h, task, etag, body, &out), ==, 200);
  return out;
}

/* One MedicationDispense of a fill as hospital.md has it: in-progress, its
 * line, a contained Medication with its batch, quantity, whenPrepared, the
 * dispenser and the checker, the dispense-group and dispense identifiers
 * and one box's traceability code. */
char *
dispense_json (const char *group,
               guint       n,
               const char *line,
               const char *drug,
               const char *trace)
{
  return g_strdup_printf ("{\"resourceType\":\"MedicationDispense\",\"status\":\"in-progress\","
    "\"contained\":[{\"resourceType\":\"Medication\",\"id\":\"med\",\"code\":{\"coding\":[{\"system\":"
    "\"urn:pharmdesk:product-code\",\"code\":\"%s\"}]},\"batch\":{\"lotNumber\":\"L2406A\",\"expirationDate\":\"2028-06-30\"}}],"
    "\"identifier\":[{\"system\":\"urn:pharmdesk:dispense-group\",\"value\":\"%s\"},"
    "{\"system\":\"urn:pharmdesk:dispense\",\"value\":\"%s:%u\"},"
    "{\"system\":\"urn:pharmdesk:trace-code\",\"value\":\"%s\"}],"
    "\"medicationReference\":{\"reference\":\"#med\"},"
    "\"authorizingPrescription\":[{\"reference\":\"MedicationRequest/%s\"}],\"quantity\":{\"value\":28,\"unit\":\"片\"},"
    "\"whenPrepared\":\"" NOW "\",\"performer\":["
    "{\"function\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/medicationdispense-performer-function\","
    "\"code\":\"packager\"}]},\"actor\":{\"reference\":\"Practitioner/ph-1\"}},"
    "{\"function\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/medicationdispense-performer-function\","
    "\"code\":\"checker\"}]},\"actor\":{\"reference\":\"Practitioner/ph-2\"}}]}",
    drug, group, group, n, trace, line);
}

/* POST MedicationDispense under If-None-Exist on its own identifier. */
guint
post_dispense (Hospital    *h,
               const char  *body,
               const char  *group,
               guint        n,
               JsonObject **out)
{
  g_autofree char *condition = g_strdup_printf ("identifier=urn:pharmdesk:dispense%%7C%s:%u", group, n);

  return fhir (h, "POST", "MedicationDispense", body, "If-None-Exist", condition, out);
}

/* The prescriber cancels `rx` (its groupIdentifier value) of `task`, as it
 * was before: the pull since then brings that Task alone, cancelled. */
JsonObject *
cancel_and_pull (Hospital   *h,
                 JsonObject *task,
                 const char *rx)
{
  g_autofree char *cursor = g_uri_escape_string (json_object_get_string_member (json_object_get_object_member (task, "meta"),
                                                                                 "lastUpdated"), NULL, FALSE);
  g_autofree char *body = g_strdup_printf ("{\"prescription\":\"%s\"}", rx);
  g_autoptr(JsonObject) out = NULL;
  g_autoptr(GPtrArray) changed = NULL;

  g_assert_cmpuint (sandbox_control (&h->sb, "cancel", body, &out), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (out, "task"), ==, json_object_get_string_member (task, "id"));
  changed = all_tasks (h, cursor, 100);
  g_assert_cmpuint (changed->len, ==, 1);
  g_assert_cmpstr (json_object_get_string_member (changed->pdata[0], "status"), ==, "cancelled");
  return json_object_ref (changed->pdata[0]);
}
