/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-hospital"

#include "config.h"

#include <string.h>

#include "pd-sandbox.h"
#include "pd-sandbox-hospital.h"

/* The internet hospital: OAuth 2.0 client credentials and the FHIR R4
 * subset of hospital.md. Here are the server, its tokens, its people, the
 * reads and the resource store with real version ids, strictly increasing
 * lastUpdated and a search index; searches, writes and the prescriptions
 * themselves live in their own files. */

#define TOKEN_LIFETIME_S 3600
#define FHIR_JSON PD_FHIR_JSON

JsonNode *
pd_sandbox_fhir_outcome (const char *code,
                         const char *text,
                         const char *expression)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resourceType");
  json_builder_add_string_value (b, "OperationOutcome");
  json_builder_set_member_name (b, "issue");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "severity");
  json_builder_add_string_value (b, "error");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "diagnostics");
  json_builder_add_string_value (b, text);
  if (expression != NULL)
    {
      json_builder_set_member_name (b, "expression");
      json_builder_begin_array (b);
      json_builder_add_string_value (b, expression);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
pd_sandbox_fhir_reply_outcome (SoupServerMessage *msg,
                               guint              status,
                               const char        *code,
                               const char        *text)
{
  g_autoptr(JsonNode) node = pd_sandbox_fhir_outcome (code, text, NULL);

  pd_sandbox_reply_json (msg, status, FHIR_JSON, node);
}

void
pd_sandbox_fhir_reply_refusal (SoupServerMessage      *msg,
                               const PdSandboxRefusal *refusal)
{
  g_autoptr(JsonNode) node = pd_sandbox_fhir_outcome (refusal->code != NULL ? refusal->code : "exception",
                                                      refusal->problem != NULL ? refusal->problem : "the write failed",
                                                      refusal->expression);

  pd_sandbox_reply_json (msg, refusal->status != 0 ? refusal->status : 500, FHIR_JSON, node);
}

void
pd_sandbox_refusal_clear (PdSandboxRefusal *refusal)
{
  g_clear_pointer (&refusal->problem, g_free);
  g_clear_pointer (&refusal->expression, g_free);
}

char *
pd_sandbox_fhir_format_ms (gint64 ms)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, pd_china_time_zone ());
  g_autofree char *base = g_date_time_format (local, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03d+08:00", base, (int) (ms % 1000));
}

char *
pd_sandbox_fhir_now (PdSandbox *sandbox)
{
  gint64 ms = pd_clock_now_us (sandbox->clock) / 1000;
  sqlite3_stmt *stmt = pd_store_prepare (sandbox->store, "SELECT last_ms FROM fhir_clock WHERE id = 1", NULL);

  /* Writes are stamped max (last + 1, now): the stamps may run ahead of
   * the clock, and every one of them is written already. */
  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    ms = MAX (ms, sqlite3_column_int64 (stmt, 0));
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return pd_sandbox_fhir_format_ms (ms);
}

static gboolean
add_index (PdStore    *store,
           const char *type,
           const char *id,
           const char *param,
           const char *value,
           GError    **error)
{
  sqlite3_stmt *stmt;

  if (value == NULL || *value == '\0')
    return TRUE;
  stmt = pd_store_prepare (store, "INSERT OR IGNORE INTO fhir_search (resource_type, param, value, id) VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, param, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, value, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, id, -1, SQLITE_TRANSIENT);
  return pd_store_step_done (store, stmt, error);
}

static const char *
member_reference (JsonObject *o,
                  const char *member)
{
  return pd_json_str (pd_json_obj (o, member), "reference");
}

/* Each element of an array: its "system|value" (or "system|code") and
 * its bare value, so that a search may give either. */
static gboolean
index_tokens (PdStore    *store,
              const char *type,
              const char *id,
              const char *param,
              JsonArray  *array,
              const char *value_member,
              GError    **error)
{
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *n = json_array_get_element (array, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      const char *system = json_object_get_string_member_with_default (o, "system", "");
      const char *value = json_object_get_string_member_with_default (o, value_member, NULL);
      g_autofree char *both = NULL;

      if (o == NULL || value == NULL)
        continue;
      both = g_strconcat (system, "|", value, NULL);
      if (!add_index (store, type, id, param, both, error) || !add_index (store, type, id, param, value, error))
        return FALSE;
    }
  return TRUE;
}

/* The search index of hospital.md's parameters (and identifier, for
 * conditional create), rebuilt for each new version. */
static gboolean
index_resource (PdStore    *store,
                const char *type,
                const char *id,
                JsonObject *r,
                gboolean    first_version,
                GError    **error)
{
  JsonNode *group = json_object_get_member (r, "groupIdentifier");
  JsonArray *refs;

  if (!first_version)
    {
      sqlite3_stmt *stmt = pd_store_prepare (store, "DELETE FROM fhir_search WHERE resource_type = ? AND id = ?", error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, type, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, id, -1, SQLITE_TRANSIENT);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  if (!index_tokens (store, type, id, "identifier", pd_json_arr (r, "identifier"), "value", error))
    return FALSE;
  if (group != NULL && JSON_NODE_HOLDS_OBJECT (group)
      && !add_index (store, type, id, "group",
                     json_object_get_string_member_with_default (json_node_get_object (group), "value", NULL), error))
    return FALSE;
  if (g_str_equal (type, "MedicationRequest") || g_str_equal (type, "Condition") || g_str_equal (type, "Observation"))
    {
      if (!add_index (store, type, id, "patient", member_reference (r, "subject"), error))
        return FALSE;
    }
  if (g_str_equal (type, "AllergyIntolerance") && !add_index (store, type, id, "patient", member_reference (r, "patient"), error))
    return FALSE;
  if (g_str_equal (type, "Observation")
      && json_object_has_member (r, "code") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (r, "code"))
      && !index_tokens (store, type, id, "code", pd_json_arr (json_object_get_object_member (r, "code"), "coding"), "code", error))
    return FALSE;
  /* AuditEvent?entity-name=…&_sort=-date: the date as a sortable key. */
  if (g_str_equal (type, "AuditEvent"))
    {
      JsonArray *entities = pd_json_arr (r, "entity");
      const char *recorded = pd_json_str (r, "recorded");
      gint64 us = 0;

      for (guint i = 0; entities != NULL && i < json_array_get_length (entities); i++)
        {
          JsonObject *e = pd_json_arr_obj (entities, i);

          if (e != NULL && !add_index (store, type, id, "entity-name", pd_json_str (e, "name"), error))
            return FALSE;
        }
      if (recorded != NULL && pd_time_parse_iso (recorded, &us, NULL))
        {
          /* Shifted positive, zero-padded: the text order is the time order. */
          g_autofree char *key = g_strdup_printf ("%020" G_GINT64_FORMAT, us + (G_GINT64_CONSTANT (1) << 62));

          if (!add_index (store, type, id, "date", key, error))
            return FALSE;
        }
    }
  refs = g_str_equal (type, "Provenance") ? pd_json_arr (r, "target")
       : g_str_equal (type, "MedicationDispense") ? pd_json_arr (r, "authorizingPrescription") : NULL;
  for (guint i = 0; refs != NULL && i < json_array_get_length (refs); i++)
    {
      JsonNode *n = json_array_get_element (refs, i);

      if (JSON_NODE_HOLDS_OBJECT (n)
          && !add_index (store, type, id, g_str_equal (type, "Provenance") ? "target" : "prescription",
                         json_object_get_string_member_with_default (json_node_get_object (n), "reference", NULL), error))
        return FALSE;
    }
  return TRUE;
}

/* Stores a resource as the next version. lastUpdated strictly increases
 * unless the caller plants one (planted_ms > 0). */
gboolean
pd_sandbox_fhir_put (PdSandbox  *sandbox,
                     JsonObject *resource,
                     gint64      planted_ms,
                     GError    **error)
{
  PdStore *store = sandbox->store;
  const char *type = json_object_get_string_member_with_default (resource, "resourceType", NULL);
  const char *id = json_object_get_string_member_with_default (resource, "id", NULL);
  sqlite3_stmt *stmt;
  gint64 version = 1, ms;
  JsonObject *meta;
  g_autofree char *version_text = NULL;
  g_autofree char *updated = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *body = NULL;

  if (type == NULL || id == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "a resource needs resourceType and id");
      return FALSE;
    }
  stmt = pd_store_prepare (store, "SELECT version_id FROM fhir_resource WHERE resource_type = ? AND id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int64 (stmt, 0) + 1;
  sqlite3_reset (stmt);

  if (planted_ms > 0)
    {
      /* Later ordinary writes still come after what was planted. */
      ms = planted_ms;
      stmt = pd_store_prepare (store, "UPDATE fhir_clock SET last_ms = max (last_ms, ?) WHERE id = 1", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, ms);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  else
    {
      gint64 now_ms = pd_clock_now_us (sandbox->clock) / 1000;

      stmt = pd_store_prepare (store, "UPDATE fhir_clock SET last_ms = max (last_ms + 1, ?) WHERE id = 1 RETURNING last_ms", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, now_ms);
      if (sqlite3_step (stmt) != SQLITE_ROW)
        {
          sqlite3_reset (stmt);
          return pd_store_set_error (pd_store_get_db (store), SQLITE_ERROR, "fhir_clock", error);
        }
      ms = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
    }

  version_text = g_strdup_printf ("%" G_GINT64_FORMAT, version);
  updated = pd_sandbox_fhir_format_ms (ms);
  meta = json_object_has_member (resource, "meta") ? json_object_get_object_member (resource, "meta") : NULL;
  if (meta == NULL)
    {
      meta = json_object_new ();
      json_object_set_object_member (resource, "meta", meta);
    }
  json_object_set_string_member (meta, "versionId", version_text);
  json_object_set_string_member (meta, "lastUpdated", updated);
  json_node_set_object (node, resource);
  json_generator_set_root (gen, node);
  body = json_generator_to_data (gen, NULL);

  stmt = pd_store_prepare (store,
    "INSERT INTO fhir_resource (resource_type, id, version_id, last_updated_ms, body) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (resource_type, id) DO UPDATE SET version_id = excluded.version_id,"
    " last_updated_ms = excluded.last_updated_ms, body = excluded.body", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, version);
  sqlite3_bind_int64 (stmt, 4, ms);
  sqlite3_bind_text (stmt, 5, body, -1, SQLITE_TRANSIENT);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  stmt = pd_store_prepare (store,
    "INSERT INTO fhir_history (resource_type, id, version_id, last_updated_ms, body) VALUES (?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, version);
  sqlite3_bind_int64 (stmt, 4, ms);
  sqlite3_bind_text (stmt, 5, body, -1, SQLITE_TRANSIENT);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  return index_resource (store, type, id, resource, version == 1, error);
}

/* The ids whose `param` has `value`, from the search index. */
GPtrArray *
pd_sandbox_fhir_lookup (PdSandbox  *sandbox,
                        const char *type,
                        const char *param,
                        const char *value)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = pd_store_prepare (sandbox->store,
    "SELECT id FROM fhir_search WHERE resource_type = ? AND param = ? AND value = ? ORDER BY id", NULL);

  if (stmt == NULL)
    return ids;
  sqlite3_bind_text (stmt, 1, type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, param, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, value, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (ids, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_reset (stmt);
  return ids;
}

/* The next value of a hospital counter, inside the caller's transaction. */
gint64
pd_sandbox_counter_next (PdSandbox  *sandbox,
                         const char *name,
                         GError    **error)
{
  return pd_sandbox_counter_take (sandbox, name, 1, error);
}

/* Takes the next n values of a hospital counter, inside the caller's
 * transaction: the last of them, or -1. */
gint64
pd_sandbox_counter_take (PdSandbox  *sandbox,
                         const char *name,
                         gint64      n,
                         GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (sandbox->store,
    "UPDATE hospital_counter SET value = value + ? WHERE name = ? RETURNING value", error);
  gint64 value = -1;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, n);
  sqlite3_bind_text (stmt, 2, name, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (value < 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no hospital counter %s", name);
  return value;
}

static gboolean
listed (const char * const *members,
        const char         *member)
{
  for (guint i = 0; members[i] != NULL; i++)
    if (g_str_equal (members[i], member))
      return TRUE;
  return FALSE;
}

/* The first member outside `mutable_members` (NULL-terminated) that an
 * update adds, removes or changes, or NULL. */
const char *
pd_sandbox_fhir_changed_member (JsonObject         *old,
                                JsonObject         *new,
                                const char * const *mutable_members)
{
  g_autoptr(GList) old_members = json_object_get_members (old);
  g_autoptr(GList) new_members = json_object_get_members (new);

  for (GList *l = old_members; l != NULL; l = l->next)
    if (!listed (mutable_members, l->data)
        && (!json_object_has_member (new, l->data)
            || !json_node_equal (json_object_get_member (old, l->data), json_object_get_member (new, l->data))))
      return l->data;
  for (GList *l = new_members; l != NULL; l = l->next)
    if (!listed (mutable_members, l->data) && !json_object_has_member (old, l->data))
      return l->data;
  return NULL;
}

char *
pd_sandbox_fhir_to_string (JsonObject *resource)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, resource);
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

/* The current version, parsed. */
JsonObject *
pd_sandbox_fhir_load (PdSandbox  *sandbox,
                      const char *type,
                      const char *id,
                      gint64     *version_out)
{
  g_autofree char *body = pd_sandbox_fhir_stored (sandbox, type, id, 0, version_out);
  g_autoptr(JsonParser) p = NULL;

  if (body == NULL)
    return NULL;
  p = json_parser_new ();
  if (!json_parser_load_from_data (p, body, -1, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return NULL;
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

/* --- OAuth ------------------------------------------------------------------ */

static void
token_handler (PdSandbox         *sandbox,
               SoupServerMessage *msg,
               const char        *path)
{
  g_autoptr(GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autofree char *form_text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_autoptr(GHashTable) form = NULL;
  g_autofree char *token = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  sqlite3_stmt *stmt;

  if (!g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      pd_sandbox_reply_text (msg, 405, "application/json", "{\"error\":\"invalid_request\"}");
      return;
    }
  form = soup_form_decode (form_text);
  if (g_strcmp0 (g_hash_table_lookup (form, "grant_type"), "client_credentials") != 0)
    {
      pd_sandbox_reply_text (msg, 400, "application/json",
                             "{\"error\":\"unsupported_grant_type\",\"error_description\":\"use client_credentials\"}");
      return;
    }
  if (g_strcmp0 (g_hash_table_lookup (form, "client_id"), sandbox->hospital_client_id) != 0
      || g_strcmp0 (g_hash_table_lookup (form, "client_secret"), sandbox->hospital_client_secret) != 0)
    {
      pd_sandbox_reply_text (msg, 401, "application/json",
                             "{\"error\":\"invalid_client\",\"error_description\":\"unknown client or wrong secret\"}");
      return;
    }
  token = pd_sandbox_random_hex (20);
  stmt = pd_store_prepare (sandbox->store, "INSERT INTO oauth_token (token, client_id, expires_at) VALUES (?, ?, ?)", NULL);
  sqlite3_bind_text (stmt, 1, token, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, sandbox->hospital_client_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, pd_clock_now_s (sandbox->clock) + TOKEN_LIFETIME_S);
  if (!pd_store_step_done (sandbox->store, stmt, NULL))
    {
      pd_sandbox_reply_text (msg, 500, "application/json", "{\"error\":\"server_error\"}");
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "access_token");
  json_builder_add_string_value (b, token);
  json_builder_set_member_name (b, "expires_in");
  json_builder_add_int_value (b, TOKEN_LIFETIME_S);
  json_builder_set_member_name (b, "token_type");
  json_builder_add_string_value (b, "Bearer");
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  pd_sandbox_reply_json (msg, 200, "application/json", root);
}

static gboolean
bearer_ok (PdSandbox         *sandbox,
           SoupServerMessage *msg)
{
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;

  if (auth == NULL || !g_str_has_prefix (auth, "Bearer "))
    return FALSE;
  stmt = pd_store_prepare (sandbox->store, "SELECT expires_at FROM oauth_token WHERE token = ?", NULL);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, auth + 7, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    ok = sqlite3_column_int64 (stmt, 0) > pd_clock_now_s (sandbox->clock);
  sqlite3_reset (stmt);
  return ok;
}

/* --- resources ---------------------------------------------------------------- */

static JsonNode *
capability_statement (void)
{
  static const char *types[] = { "Task", "MedicationRequest", "Patient", "Practitioner", "PractitionerRole",
                                 "Encounter", "Condition", "AllergyIntolerance", "Observation", "Medication",
                                 "Provenance", "MedicationDispense", "DetectedIssue", "AuditEvent" };
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resourceType");
  json_builder_add_string_value (b, "CapabilityStatement");
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, "active");
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, "instance");
  json_builder_set_member_name (b, "fhirVersion");
  json_builder_add_string_value (b, "4.0.1");
  json_builder_set_member_name (b, "format");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "application/fhir+json");
  json_builder_end_array (b);
  json_builder_set_member_name (b, "software");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, "pharmdesk-sandbox internet hospital");
  json_builder_end_object (b);
  json_builder_set_member_name (b, "rest");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, "server");
  json_builder_set_member_name (b, "resource");
  json_builder_begin_array (b);
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, types[i]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* A Patient from the shared table of people. */
JsonNode *
pd_sandbox_fhir_patient (PdSandbox  *sandbox,
                         const char *id)
{
  sqlite3_stmt *stmt = pd_store_prepare (sandbox->store,
    "SELECT name, gender, birth_date, certno, phone FROM person WHERE patient_id = ?", NULL);
  g_autoptr(JsonBuilder) b = NULL;
  JsonNode *node = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "resourceType");
      json_builder_add_string_value (b, "Patient");
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, id);
      /* People do not change in the sandbox: one version each. */
      json_builder_set_member_name (b, "meta");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "versionId");
      json_builder_add_string_value (b, "1");
      json_builder_end_object (b);
      json_builder_set_member_name (b, "identifier");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "system");
      json_builder_add_string_value (b, "urn:pharmdesk:identifier:resident-id");
      json_builder_set_member_name (b, "value");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 3));
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "name");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 0));
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "telecom");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "system");
      json_builder_add_string_value (b, "phone");
      json_builder_set_member_name (b, "value");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 4));
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "gender");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 1));
      json_builder_set_member_name (b, "birthDate");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 2));
      json_builder_end_object (b);
      node = json_builder_get_root (b);
    }
  sqlite3_reset (stmt);
  return node;
}

/* The current version (version 0) or a given one, with its versionId. */
char *
pd_sandbox_fhir_stored (PdSandbox  *sandbox,
                        const char *type,
                        const char *id,
                        gint64      version,
                        gint64     *version_out)
{
  sqlite3_stmt *stmt = pd_store_prepare (sandbox->store, version == 0
    ? "SELECT body, version_id FROM fhir_resource WHERE resource_type = ?1 AND id = ?2"
    : "SELECT body, version_id FROM fhir_history WHERE resource_type = ?1 AND id = ?2 AND version_id = ?3", NULL);
  char *body = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_TRANSIENT);
  if (version != 0)
    sqlite3_bind_int64 (stmt, 3, version);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      body = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      if (version_out != NULL)
        *version_out = sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_reset (stmt);
  return body;
}

/* A read answers with ETag W/"versionId", which If-Match takes back. */
static void
reply_resource (PdSandbox         *sandbox,
                SoupServerMessage *msg,
                const char        *type,
                const char        *id,
                gint64             version)
{
  gint64 found = 0;
  g_autofree char *body = pd_sandbox_fhir_stored (sandbox, type, id, version, &found);
  g_autofree char *etag = NULL;

  if (body == NULL)
    {
      pd_sandbox_fhir_reply_outcome (msg, 404, "not-found", version == 0 ? "no such resource" : "no such version of this resource");
      return;
    }
  etag = g_strdup_printf ("W/\"%" G_GINT64_FORMAT "\"", found);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "ETag", etag);
  pd_sandbox_reply_text (msg, 200, FHIR_JSON, body);
}

static void
fhir_handler (PdSandbox         *sandbox,
              SoupServerMessage *msg,
              const char        *path)
{
  const char *rest = path + strlen ("/fhir");
  g_auto(GStrv) parts = NULL;

  if (*rest == '/')
    rest++;
  if (g_str_equal (rest, "metadata"))
    {
      g_autoptr(JsonNode) cs = capability_statement ();

      pd_sandbox_reply_json (msg, 200, FHIR_JSON, cs);
      return;
    }
  if (!bearer_ok (sandbox, msg))
    {
      pd_sandbox_fhir_reply_outcome (msg, 401, "login", "a valid bearer token is required (POST /oauth/token)");
      return;
    }
  /* New prescriptions arrive by the sandbox clock, seen at once. */
  pd_sandbox_rx_arrivals (sandbox);
  parts = g_strsplit (rest, "/", -1);
  if (!g_str_equal (soup_server_message_get_method (msg), "GET"))
    {
      pd_sandbox_fhir_write (sandbox, msg, parts);
      return;
    }
  if (g_strv_length (parts) == 1 && *parts[0] != '\0')
    {
      pd_sandbox_fhir_search (sandbox, msg, parts[0]);
      return;
    }
  if (g_strv_length (parts) == 2 && g_str_equal (parts[0], "Patient"))
    {
      g_autoptr(JsonNode) patient = pd_sandbox_fhir_patient (sandbox, parts[1]);

      if (patient != NULL)
        {
          soup_message_headers_replace (soup_server_message_get_response_headers (msg), "ETag", "W/\"1\"");
          pd_sandbox_reply_json (msg, 200, FHIR_JSON, patient);
        }
      else
        pd_sandbox_fhir_reply_outcome (msg, 404, "not-found", "no such Patient");
      return;
    }
  if (g_strv_length (parts) == 2)
    {
      reply_resource (sandbox, msg, parts[0], parts[1], 0);
      return;
    }
  if (g_strv_length (parts) == 4 && g_str_equal (parts[2], "_history"))
    {
      char *end = NULL;
      gint64 version = g_ascii_strtoll (parts[3], &end, 10);

      if (end == parts[3] || *end != '\0' || version < 1)
        pd_sandbox_fhir_reply_outcome (msg, 400, "invalid", "a version id is a whole number from 1");
      else
        reply_resource (sandbox, msg, parts[0], parts[1], version);
      return;
    }
  pd_sandbox_fhir_reply_outcome (msg, 404, "not-supported", "not served by this sandbox hospital");
}

/* The people the hospital knows besides patients. */
static gboolean
seed_practitioners (PdStore  *store,
                    gpointer  user_data,
                    GError  **error)
{
  PdSandbox *sandbox = user_data;
  static const char *practitioners[] = {
    "{\"resourceType\":\"Practitioner\",\"id\":\"ph-1\",\"name\":[{\"text\":\"王药师\"}],"
    "\"identifier\":[{\"system\":\"urn:pharmdesk:identifier:pharmacist-licence\",\"value\":\"YS-110105-0001\"}]}",
    "{\"resourceType\":\"Practitioner\",\"id\":\"ph-2\",\"name\":[{\"text\":\"陈药师\"}],"
    "\"identifier\":[{\"system\":\"urn:pharmdesk:identifier:pharmacist-licence\",\"value\":\"YS-110105-0002\"}]}",
    "{\"resourceType\":\"Practitioner\",\"id\":\"dr-1\",\"name\":[{\"text\":\"李医生\"}],"
    "\"qualification\":[{\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:qualification\",\"code\":\"practice-license\"}]},"
    "\"period\":{\"start\":\"2015-01-01\"}},{\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:qualification\",\"code\":\"antimicrobial-2\"}]}}]}",
    /* A prescriber whose practising licence ran out: prescriber-unqualified. */
    "{\"resourceType\":\"Practitioner\",\"id\":\"dr-2\",\"name\":[{\"text\":\"赵医生\"}],"
    "\"qualification\":[{\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:qualification\",\"code\":\"practice-license\"}]},"
    "\"period\":{\"start\":\"2010-01-01\",\"end\":\"2020-12-31\"}}]}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (practitioners); i++)
    {
      g_autoptr(JsonParser) p = json_parser_new ();
      JsonObject *o;
      g_autofree char *exists = NULL;

      json_parser_load_from_data (p, practitioners[i], -1, NULL);
      o = json_node_get_object (json_parser_get_root (p));
      exists = pd_sandbox_fhir_stored (sandbox, "Practitioner", json_object_get_string_member (o, "id"), 0, NULL);
      if (exists == NULL && !pd_sandbox_fhir_put (sandbox, o, 0, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
arrivals_cb (gpointer user_data)
{
  pd_sandbox_rx_arrivals (user_data);
  return G_SOURCE_CONTINUE;
}

void
pd_sandbox_hospital_register (PdSandbox *sandbox)
{
  g_autoptr(GError) error = NULL;

  if (!pd_store_write (sandbox->store, seed_practitioners, sandbox, &error)
      || !pd_sandbox_rx_seed_demo (sandbox, &error))
    g_warning ("seeding the hospital: %s", error->message);
  if (sandbox->arrival_every_s > 0)
    g_timeout_add_seconds (1, arrivals_cb, sandbox);
  pd_sandbox_add_service (sandbox, "/oauth/token", token_handler);
  pd_sandbox_add_service (sandbox, "/fhir", fhir_handler);
}
