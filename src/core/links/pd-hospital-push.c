/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-hospital-push"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-hospital-private.h"
#include "pd-outbox.h"
#include "pd-rx-cache.h"

/* The outbox of the hospital link, in order: claims, releases and
 * decisions. Every write carries If-Match, so a request sent again after
 * its answer was lost cannot apply twice: the server answers 412, and the
 * Task as it now stands tells whether our write is already there (done)
 * or someone else's is (a conflict for the pharmacist). */

#define LEASE_MINUTES 10
#define DECISION_SYSTEM "urn:pharmdesk:review-decision"
#define ACT_CODE "http://terminology.hl7.org/CodeSystem/v3-ActCode"

void
pd_hospital_result_clear (Result *r)
{
  g_free (r->message);
  g_clear_pointer (&r->response, json_node_unref);
  g_clear_pointer (&r->task, json_object_unref);
  if (r->data_free != NULL)
    g_clear_pointer (&r->data, r->data_free);
}

char *
pd_hospital_if_match (const char *version)
{
  return g_strdup_printf ("W/\"%s\"", version != NULL ? version : "0");
}

static gboolean
owned_by (JsonObject *task,
          const char *owner)
{
  return g_strcmp0 (pd_json_str (task, "status"), "received") == 0
         && g_strcmp0 (pd_json_str (pd_json_obj (task, "owner"), "reference"), owner) == 0;
}

/* The Task as it stands on the server; NULL with *offline when unreachable. */
JsonObject *
pd_hospital_fetch_task (PdHospitalLink *link,
            const char     *task_id,
            GCancellable   *cancellable,
            GError        **error)
{
  g_autofree char *path = g_strconcat ("Task/", task_id, NULL);
  PdFhirAnswer answer;
  JsonObject *task = NULL;

  if (!pd_fhir_client_call (link->client, "GET", path, NULL, NULL, TRUE, &answer, cancellable, error))
    return NULL;
  if (answer.status == 200 && answer.body != NULL && JSON_NODE_HOLDS_OBJECT (answer.body))
    task = json_object_ref (json_node_get_object (answer.body));
  else
    {
      g_autofree char *why = pd_fhir_answer_describe (&answer);

      g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_REFUSED, _("Cannot read Task/%s: %s"), task_id, why);
    }
  pd_fhir_answer_clear (&answer);
  return task;
}

static char *
describe_holder (JsonObject *task)
{
  const char *status = pd_json_str (task, "status");
  const char *owner = pd_json_str (pd_json_obj (task, "owner"), "reference");

  if (g_strcmp0 (status, "cancelled") == 0)
    return g_strdup (_("The prescriber cancelled the prescription"));
  if (g_strcmp0 (status, "received") == 0 && owner != NULL)
    return g_strdup_printf (_("Another pharmacist (%s) holds this prescription"), owner);
  return g_strdup_printf (_("The prescription changed at the hospital first (now %s)"), status != NULL ? status : "?");
}

/* A write whose answer was not 2xx: a 412 is settled by what the Task
 * now says; other 4xx are refusals in the server's words. */
static void
settle_refusal (PdHospitalLink *link,
                const char     *task_id,
                PdFhirAnswer   *answer,
                gboolean      (*landed) (JsonObject *task, gpointer data),
                gpointer        data,
                const char     *landed_status,
                GCancellable   *cancellable,
                Result         *r,
                GError        **error)
{
  r->http = answer->status;
  if (answer->status == 412 || answer->status == 409)
    {
      g_autoptr(GError) local_error = NULL;

      r->task = pd_hospital_fetch_task (link, task_id, cancellable, &local_error);
      if (r->task == NULL)
        {
          r->outcome = SENT_UNKNOWN;
          r->message = g_strdup (local_error->message);
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local_error));
          return;
        }
      if (landed (r->task, data))
        {
          r->outcome = SENT_DONE;
          r->local_status = landed_status;
          return;
        }
      r->outcome = SENT_CONFLICT;
      r->message = describe_holder (r->task);
      r->local_status = "conflict";
      return;
    }
  r->outcome = answer->status >= 500 ? SENT_UNKNOWN : SENT_REFUSED;
  r->message = pd_fhir_answer_describe (answer);
  if (r->outcome == SENT_REFUSED)
    r->local_status = "conflict";
}

void
pd_hospital_transport_failure (GError **local_error,
                   Result  *r,
                   GError **error)
{
  r->outcome = SENT_UNKNOWN;
  r->message = g_strdup ((*local_error)->message);
  if (g_error_matches (*local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_error_matches (*local_error, PD_LINK_ERROR, PD_LINK_ERROR_UNAUTHORIZED))
    g_propagate_error (error, g_steal_pointer (local_error));
}

static gboolean
landed_claim (JsonObject *task,
              gpointer    owner)
{
  return owned_by (task, owner);
}

static gboolean
landed_release (JsonObject *task,
                gpointer    owner)
{
  return !owned_by (task, owner) && g_strcmp0 (pd_json_str (task, "status"), "cancelled") != 0;
}

/* PUT Task with If-Match: a claim (owner, lease) or a release. */
static void
send_task_put (PdHospitalLink *link,
               PdOutboxItem   *item,
               gboolean        claim,
               GCancellable   *cancellable,
               Result         *r,
               GError        **error)
{
  JsonObject *req = json_node_get_object (item->request);
  const char *task_id = pd_json_str (req, "task");
  const char *owner = pd_json_str (req, "owner");
  g_autofree char *cached_version = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) task = pd_rx_cache_load (link->session, "Task", task_id, &cached_version, &local_error);
  g_autofree char *path = g_strconcat ("Task/", task_id, NULL);
  g_autofree char *match = NULL;
  JsonObject *t;
  PdFhirAnswer answer;

  if (task == NULL)
    {
      r->outcome = SENT_REFUSED;
      r->message = g_strdup (local_error->message);
      return;
    }
  t = json_node_get_object (task);
  if (claim)
    {
      JsonObject *ref = json_object_new ();
      JsonObject *period = json_object_new ();
      JsonObject *restriction = json_object_new ();
      g_autofree char *until = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ())
                                                   + (gint64) LEASE_MINUTES * 60 * G_USEC_PER_SEC);

      json_object_set_string_member (t, "status", "received");
      json_object_set_string_member (ref, "reference", owner);
      json_object_set_object_member (t, "owner", ref);
      json_object_set_string_member (period, "end", until);
      json_object_set_object_member (restriction, "period", period);
      json_object_set_object_member (t, "restriction", restriction);
      /* The version the pharmacist saw when claiming, not a later one. */
      match = pd_hospital_if_match (pd_json_str (req, "version"));
    }
  else
    {
      json_object_set_string_member (t, "status", "requested");
      json_object_remove_member (t, "owner");
      json_object_remove_member (t, "restriction");
      match = pd_hospital_if_match (cached_version);
    }
  if (!pd_fhir_client_call (link->client, "PUT", path, match, task, TRUE, &answer, cancellable, &local_error))
    {
      pd_hospital_transport_failure (&local_error, r, error);
      return;
    }
  if (answer.status == 200 || answer.status == 201)
    {
      r->outcome = SENT_DONE;
      r->http = answer.status;
      if (answer.body != NULL && JSON_NODE_HOLDS_OBJECT (answer.body))
        r->task = json_object_ref (json_node_get_object (answer.body));
      else
        r->task = pd_hospital_fetch_task (link, task_id, cancellable, NULL);
      r->local_status = claim ? "claimed" : "requested";
    }
  else
    settle_refusal (link, task_id, &answer, claim ? landed_claim : landed_release, (gpointer) owner,
                    claim ? "claimed" : "requested", cancellable, r, error);
  pd_fhir_answer_clear (&answer);
}

/* --- the decision as one transaction Bundle ------------------------------------------------- */

typedef struct {
  char      *decision;
  char      *reason;
  char      *jws;
  char      *decided_at;
  char      *pharmacist_ref;
  char      *patient_ref;
  GPtrArray *findings;     /* JsonObject*: code, severity, lines, override_action, override_reason */
} Decision;

static void
decision_clear (Decision *d)
{
  g_free (d->decision);
  g_free (d->reason);
  g_free (d->jws);
  g_free (d->decided_at);
  g_free (d->pharmacist_ref);
  g_free (d->patient_ref);
  g_clear_pointer (&d->findings, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Decision, decision_clear)

static gboolean
read_decision (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  Decision *d = user_data;
  const char *uuid = d->decision;
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT d.id, d.decision, d.reason, d.jws, d.decided_at, a.practitioner_ref, p.patient_ref FROM review_decision d"
    " JOIN account a ON a.id = d.pharmacist_id JOIN prescription p ON p.id = d.prescription_id WHERE d.uuid = ?", error);
  gint64 id;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_FOUND, _("There is no decision “%s”"), uuid);
      return FALSE;
    }
  id = sqlite3_column_int64 (stmt, 0);
  d->decision = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  d->reason = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  d->jws = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  d->decided_at = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
  d->pharmacist_ref = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
  d->patient_ref = g_strdup ((const char *) sqlite3_column_text (stmt, 6));
  sqlite3_reset (stmt);
  g_free ((char *) uuid);
  d->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  stmt = pd_store_prepare (store, "SELECT code, severity, lines, override_action, override_reason FROM review_finding"
                                  " WHERE decision_id = ? ORDER BY id", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      JsonObject *f = json_object_new ();
      g_autoptr(JsonParser) p = json_parser_new ();

      json_object_set_string_member (f, "code", (const char *) sqlite3_column_text (stmt, 0));
      json_object_set_string_member (f, "severity", (const char *) sqlite3_column_text (stmt, 1));
      if (json_parser_load_from_data (p, (const char *) sqlite3_column_text (stmt, 2), -1, NULL))
        json_object_set_member (f, "lines", json_node_copy (json_parser_get_root (p)));
      if (sqlite3_column_type (stmt, 3) != SQLITE_NULL)
        json_object_set_string_member (f, "action", (const char *) sqlite3_column_text (stmt, 3));
      if (sqlite3_column_type (stmt, 4) != SQLITE_NULL)
        json_object_set_string_member (f, "reason", (const char *) sqlite3_column_text (stmt, 4));
      g_ptr_array_add (d->findings, f);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static JsonObject *
coding (const char *system,
        const char *code)
{
  JsonObject *c = json_object_new ();
  JsonObject *cc = json_object_new ();
  JsonArray *a = json_array_new ();

  json_object_set_string_member (c, "system", system);
  json_object_set_string_member (c, "code", code);
  json_array_add_object_element (a, c);
  json_object_set_array_member (cc, "coding", a);
  return cc;
}

static JsonObject *
reference (const char *ref)
{
  JsonObject *r = json_object_new ();

  json_object_set_string_member (r, "reference", ref);
  return r;
}

static JsonArray *
line_references (JsonObject *finding)
{
  JsonArray *out = json_array_new ();
  JsonArray *lines = pd_json_arr (finding, "lines");

  for (guint i = 0; lines != NULL && i < json_array_get_length (lines); i++)
    {
      g_autofree char *ref = g_strconcat ("MedicationRequest/", json_array_get_string_element (lines, i), NULL);

      json_array_add_object_element (out, reference (ref));
    }
  return out;
}

static void
add_entry (JsonArray  *entries,
           const char *full_url,
           JsonObject *resource,
           const char *method,
           const char *url,
           const char *match)
{
  JsonObject *entry = json_object_new ();
  JsonObject *request = json_object_new ();

  if (full_url != NULL)
    json_object_set_string_member (entry, "fullUrl", full_url);
  json_object_set_object_member (entry, "resource", resource);
  json_object_set_string_member (request, "method", method);
  json_object_set_string_member (request, "url", url);
  if (match != NULL)
    json_object_set_string_member (request, "ifMatch", match);
  json_object_set_object_member (entry, "request", request);
  json_array_add_object_element (entries, entry);
}

/* v3-ActCode where one fits, else urn:pharmdesk:finding (hospital.md). */
static JsonObject *
finding_code (const char *code)
{
  static const char *act[][2] = {
    { "drug-interaction", "DRG" }, { "duplicate-therapy", "DUPTHPY" }, { "allergy", "ALGY" }, { "dose-exceeds-max", "DOSEH" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (act); i++)
    if (g_str_equal (code, act[i][0]))
      return coding (ACT_CODE, act[i][1]);
  return coding ("urn:pharmdesk:finding", code);
}

static JsonNode *
decision_bundle (Decision   *d,
                 const char *decision_uuid,
                 JsonObject *task,
                 const char *task_version)
{
  JsonObject *bundle = json_object_new ();
  JsonArray *entries = json_array_new ();
  JsonArray *outputs = json_array_new ();
  JsonArray *targets = json_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *provenance_url = g_strconcat ("urn:uuid:", decision_uuid, NULL);
  g_autofree char *task_url = g_strconcat ("Task/", pd_json_str (task, "id"), NULL);
  g_autofree char *match = pd_hospital_if_match (task_version);
  g_autofree char *jws_b64 = g_base64_encode ((const guchar *) d->jws, strlen (d->jws));
  gboolean approve = g_str_equal (d->decision, "approve");
  JsonObject *provenance = json_object_new ();
  JsonObject *agent = json_object_new ();
  JsonArray *agents = json_array_new ();
  JsonObject *signature = json_object_new ();
  JsonArray *signatures = json_array_new ();
  JsonArray *sig_types = json_array_new ();
  JsonObject *sig_type = json_object_new ();
  JsonArray *identifiers;
  JsonObject *identifier = json_object_new ();

  json_object_set_string_member (bundle, "resourceType", "Bundle");
  json_object_set_string_member (bundle, "type", "transaction");
  json_object_set_array_member (bundle, "entry", entries);
  for (guint i = 0; i < d->findings->len; i++)
    {
      JsonObject *f = d->findings->pdata[i];
      JsonObject *issue = json_object_new ();
      g_autofree char *random = g_uuid_string_random ();
      g_autofree char *url = g_strconcat ("urn:uuid:", random, NULL);
      JsonObject *output = json_object_new ();
      JsonObject *type = json_object_new ();
      const char *severity = pd_json_str (f, "severity");
      JsonArray *lines = pd_json_arr (f, "lines");

      json_object_set_string_member (issue, "resourceType", "DetectedIssue");
      json_object_set_string_member (issue, "status", "final");
      json_object_set_object_member (issue, "code", finding_code (pd_json_str (f, "code")));
      json_object_set_string_member (issue, "severity",
                                     g_strcmp0 (severity, "block") == 0 || g_strcmp0 (severity, "major") == 0 ? "high"
                                     : g_strcmp0 (severity, "moderate") == 0 ? "moderate" : "low");
      if (d->patient_ref != NULL)
        json_object_set_object_member (issue, "patient", reference (d->patient_ref));
      json_object_set_string_member (issue, "identifiedDateTime", d->decided_at);
      json_object_set_object_member (issue, "author", reference (d->pharmacist_ref));
      json_object_set_array_member (issue, "implicated", line_references (f));
      if (pd_json_str (f, "action") != NULL)
        {
          JsonArray *mitigations = json_array_new ();
          JsonObject *m = json_object_new ();
          JsonObject *action = json_object_new ();
          g_autofree char *text = pd_json_str (f, "reason") != NULL
                                  ? g_strdup_printf ("%s: %s", pd_json_str (f, "action"), pd_json_str (f, "reason"))
                                  : g_strdup (pd_json_str (f, "action"));

          json_object_set_string_member (action, "text", text);
          json_object_set_object_member (m, "action", action);
          json_object_set_string_member (m, "date", d->decided_at);
          json_object_set_object_member (m, "author", reference (d->pharmacist_ref));
          json_array_add_object_element (mitigations, m);
          json_object_set_array_member (issue, "mitigation", mitigations);
        }
      add_entry (entries, url, issue, "POST", "DetectedIssue", NULL);
      json_object_set_string_member (type, "text", "detected-issue");
      json_object_set_object_member (output, "type", type);
      json_object_set_object_member (output, "valueReference", reference (url));
      json_array_add_object_element (outputs, output);
      for (guint l = 0; lines != NULL && l < json_array_get_length (lines); l++)
        g_hash_table_add (seen, g_strconcat ("MedicationRequest/", json_array_get_string_element (lines, l), NULL));
    }

  /* The Provenance targets every line of the prescription. */
  {
    JsonArray *inputs = pd_json_arr (task, "input");

    for (guint i = 0; inputs != NULL && i < json_array_get_length (inputs); i++)
      {
        const char *ref = pd_json_str (pd_json_obj (pd_json_arr_obj (inputs, i), "valueReference"), "reference");

        if (ref != NULL)
          json_array_add_object_element (targets, reference (ref));
      }
  }
  json_object_set_string_member (provenance, "resourceType", "Provenance");
  json_object_set_array_member (provenance, "target", targets);
  json_object_set_string_member (provenance, "recorded", d->decided_at);
  json_object_set_object_member (provenance, "activity", coding ("urn:pharmdesk:review-activity", d->decision));
  json_object_set_object_member (agent, "who", reference (d->pharmacist_ref));
  json_array_add_object_element (agents, agent);
  json_object_set_array_member (provenance, "agent", agents);
  json_object_set_string_member (sig_type, "system", "urn:iso-astm:E1762-95:2013");
  json_object_set_string_member (sig_type, "code", "1.2.840.10065.1.12.1.5");
  json_array_add_object_element (sig_types, sig_type);
  json_object_set_array_member (signature, "type", sig_types);
  json_object_set_string_member (signature, "when", d->decided_at);
  json_object_set_object_member (signature, "who", reference (d->pharmacist_ref));
  json_object_set_string_member (signature, "sigFormat", "application/jose");
  json_object_set_string_member (signature, "data", jws_b64);
  json_array_add_object_element (signatures, signature);
  json_object_set_array_member (provenance, "signature", signatures);
  add_entry (entries, provenance_url, provenance, "POST", "Provenance", NULL);
  {
    JsonObject *output = json_object_new ();
    JsonObject *type = json_object_new ();

    json_object_set_string_member (type, "text", "provenance");
    json_object_set_object_member (output, "type", type);
    json_object_set_object_member (output, "valueReference", reference (provenance_url));
    json_array_add_object_element (outputs, output);
  }

  /* The Task: completed or rejected, with our decision's identifier so a
   * repeated send can tell it already landed. */
  json_object_set_string_member (task, "status", approve ? "completed" : "rejected");
  {
    JsonObject *business = json_object_new ();

    json_object_set_string_member (business, "text", approve ? "approved by pharmacist" : "rejected by pharmacist");
    json_object_set_object_member (task, "businessStatus", business);
  }
  if (!approve)
    {
      JsonObject *status_reason = json_object_new ();

      json_object_set_string_member (status_reason, "text", d->reason != NULL ? d->reason : "");
      json_object_set_object_member (task, "statusReason", status_reason);
    }
  json_object_set_array_member (task, "output", outputs);
  identifiers = pd_json_arr (task, "identifier");
  if (identifiers == NULL)
    {
      identifiers = json_array_new ();
      json_object_set_array_member (task, "identifier", identifiers);
    }
  json_object_set_string_member (identifier, "system", DECISION_SYSTEM);
  json_object_set_string_member (identifier, "value", decision_uuid);
  json_array_add_object_element (identifiers, identifier);
  add_entry (entries, NULL, json_object_ref (task), "PUT", task_url, match);
  return pd_json_node_take (bundle);
}

static gboolean
landed_decision (JsonObject *task,
                 gpointer    decision_uuid)
{
  JsonArray *ids = pd_json_arr (task, "identifier");

  for (guint i = 0; ids != NULL && i < json_array_get_length (ids); i++)
    {
      JsonObject *id = pd_json_arr_obj (ids, i);

      if (g_strcmp0 (pd_json_str (id, "system"), DECISION_SYSTEM) == 0 && g_strcmp0 (pd_json_str (id, "value"), decision_uuid) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
send_decision (PdHospitalLink *link,
               PdOutboxItem   *item,
               GCancellable   *cancellable,
               Result         *r,
               GError        **error)
{
  JsonObject *req = json_node_get_object (item->request);
  const char *task_id = pd_json_str (req, "task");
  const char *decision_uuid = pd_json_str (req, "decision");
  g_auto(Decision) d = { g_strdup (decision_uuid) };
  g_autofree char *version = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) task = NULL;
  g_autoptr(JsonNode) bundle = NULL;
  const char *status;
  PdFhirAnswer answer;

  if (!pd_store_write (pd_session_get_store (link->session), read_decision, &d, &local_error)
      || (task = pd_rx_cache_load (link->session, "Task", task_id, &version, &local_error)) == NULL)
    {
      r->outcome = SENT_REFUSED;
      r->message = g_strdup (local_error->message);
      return;
    }
  status = g_str_equal (d.decision, "approve") ? "approved" : "rejected";
  if (landed_decision (json_node_get_object (task), (gpointer) decision_uuid))
    {
      r->outcome = SENT_DONE;
      r->task = json_object_ref (json_node_get_object (task));
      r->local_status = status;
      return;
    }
  if (!owned_by (json_node_get_object (task), d.pharmacist_ref))
    {
      /* Our claim did not hold (or the cache is behind): ask the server. */
      r->task = pd_hospital_fetch_task (link, task_id, cancellable, &local_error);
      if (r->task == NULL)
        {
          pd_hospital_transport_failure (&local_error, r, error);
          return;
        }
      if (landed_decision (r->task, (gpointer) decision_uuid))
        {
          r->outcome = SENT_DONE;
          r->local_status = status;
          return;
        }
      if (!owned_by (r->task, d.pharmacist_ref))
        {
          r->outcome = SENT_CONFLICT;
          r->message = describe_holder (r->task);
          r->local_status = "conflict";
          return;
        }
      g_clear_pointer (&task, json_node_unref);
      task = json_node_init_object (json_node_alloc (), r->task);
      g_free (version);
      version = g_strdup (pd_json_str (pd_json_obj (r->task, "meta"), "versionId"));
      g_clear_pointer (&r->task, json_object_unref);
    }
  bundle = decision_bundle (&d, decision_uuid, json_node_get_object (task), version);
  if (!pd_fhir_client_call (link->client, "POST", "", NULL, bundle, TRUE, &answer, cancellable, &local_error))
    {
      pd_hospital_transport_failure (&local_error, r, error);
      return;
    }
  if (answer.status == 200)
    {
      r->outcome = SENT_DONE;
      r->http = 200;
      r->response = json_node_ref (answer.body);
      r->task = pd_hospital_fetch_task (link, task_id, cancellable, NULL);
      r->local_status = status;
    }
  else
    settle_refusal (link, task_id, &answer, landed_decision, (gpointer) decision_uuid, status, cancellable, r, error);
  pd_fhir_answer_clear (&answer);
}

/* --- the loop ------------------------------------------------------------------------------ */

typedef struct {
  PdHospitalLink *link;
  PdOutboxItem   *item;
  Result         *result;
  const char     *state;
} RecordJob;

static gboolean
write_sending (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  RecordJob *job = user_data;

  return pd_outbox_set_state (job->link->session, job->item->id, "sending", 0, NULL, NULL, error);
}

static gboolean
write_result (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  RecordJob *job = user_data;
  Result *r = job->result;

  if (!pd_outbox_set_state (job->link->session, job->item->id, job->state, (int) r->http, r->response, r->message, error))
    return FALSE;
  if (r->task != NULL && !pd_rx_cache_put_task (job->link->session, r->task, r->local_status, error))
    return FALSE;
  if (r->task == NULL && r->local_status != NULL && job->item->subject_uuid != NULL
      && !pd_rx_cache_set_status (store, job->item->subject_uuid, r->local_status, error))
    return FALSE;
  return r->after == NULL || r->after (job->link->session, job->item, r, error);
}

static const char *
blocked_by (PdStore      *store,
            PdOutboxItem *item)
{
  g_autofree char *before = item->after_id > 0 ? pd_outbox_get_state (store, item->after_id) : NULL;

  if (before != NULL && (g_str_equal (before, "conflict") || g_str_equal (before, "refused") || g_str_equal (before, "cancelled")))
    return "conflict";
  return NULL;
}

gboolean
pd_hospital_link_push (PdHospitalLink *link,
                       GCancellable   *cancellable,
                       PdSyncStats    *stats,
                       GError        **error)
{
  PdStore *store = pd_session_get_store (link->session);
  g_autoptr(GPtrArray) items = pd_outbox_open_items (link->session, "hospital", error);

  if (items == NULL)
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    {
      PdOutboxItem *item = items->pdata[i];
      Result r = { 0 };
      RecordJob job = { link, item, &r, NULL };
      g_autoptr(GError) local_error = NULL;

      if (blocked_by (store, item) != NULL)
        {
          r.message = g_strdup (_("The claim before it did not hold"));
          r.local_status = "conflict";
          job.state = "conflict";
          stats->conflicts++;
          if (!pd_store_write (store, write_result, &job, error))
            {
              pd_hospital_result_clear (&r);
              return FALSE;
            }
          pd_hospital_result_clear (&r);
          continue;
        }
      if (!pd_store_write (store, write_sending, &job, error))
        return FALSE;
      if (g_str_equal (item->operation, "claim") || g_str_equal (item->operation, "release"))
        send_task_put (link, item, g_str_equal (item->operation, "claim"), cancellable, &r, &local_error);
      else if (g_str_equal (item->operation, "decide"))
        send_decision (link, item, cancellable, &r, &local_error);
      else if (g_str_equal (item->operation, "dispense"))
        pd_hospital_send_dispense (link, item, cancellable, &r, &local_error);
      else if (g_str_equal (item->operation, "dispense-status"))
        pd_hospital_send_dispense_status (link, item, cancellable, &r, &local_error);
      else
        {
          r.outcome = SENT_REFUSED;
          r.message = g_strdup_printf (_("Unknown outbox operation “%s”"), item->operation);
        }
      job.state = r.outcome == SENT_DONE ? "done" : r.outcome == SENT_CONFLICT ? "conflict"
                  : r.outcome == SENT_REFUSED ? "refused" : "unknown";
      if (!pd_store_write (store, write_result, &job, error))
        {
          pd_hospital_result_clear (&r);
          return FALSE;
        }
      stats->sent += r.outcome == SENT_DONE;
      stats->conflicts += r.outcome == SENT_CONFLICT;
      stats->refused += r.outcome == SENT_REFUSED;
      if (r.outcome == SENT_UNKNOWN)
        {
          /* The link is down or the answer is lost: keep the order, stop. */
          stats->offline = TRUE;
          pd_hospital_result_clear (&r);
          if (local_error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          return TRUE;
        }
      pd_hospital_result_clear (&r);
    }
  return TRUE;
}
