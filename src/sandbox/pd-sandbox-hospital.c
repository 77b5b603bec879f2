/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-hospital"

#include "config.h"

#include <string.h>

#include "pd-sandbox.h"
#include "pd-sandbox-hospital.h"

/* The internet hospital: OAuth 2.0 client credentials and the FHIR R4
 * subset of hospital.md. The prescription work queue itself arrives with
 * the hospital-link issue; here are the server, its tokens, its people
 * and the resource store with real version ids and strictly increasing
 * lastUpdated. */

#define TOKEN_LIFETIME_S 3600
#define FHIR_JSON "application/fhir+json"

static JsonNode *
operation_outcome (const char *code,
                   const char *text)
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
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
reply_outcome (SoupServerMessage *msg,
               guint              status,
               const char        *code,
               const char        *text)
{
  g_autoptr(JsonNode) node = operation_outcome (code, text);

  pd_sandbox_reply_json (msg, status, FHIR_JSON, node);
}

static char *
format_ms (gint64 ms)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, pd_china_time_zone ());
  g_autofree char *base = g_date_time_format (local, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03d+08:00", base, (int) (ms % 1000));
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
  updated = format_ms (ms);
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
  return pd_store_step_done (store, stmt, error);
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
                                 "Provenance", "MedicationDispense", "DetectedIssue" };
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
static JsonNode *
patient_from_person (PdSandbox  *sandbox,
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
static char *
stored_resource (PdSandbox  *sandbox,
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
  g_autofree char *body = stored_resource (sandbox, type, id, version, &found);
  g_autofree char *etag = NULL;

  if (body == NULL)
    {
      reply_outcome (msg, 404, "not-found", version == 0 ? "no such resource" : "no such version of this resource");
      return;
    }
  etag = g_strdup_printf ("W/\"%" G_GINT64_FORMAT "\"", found);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "ETag", etag);
  pd_sandbox_reply_text (msg, 200, FHIR_JSON, body);
}

/* A page token is the (lastUpdated, id) of the page's last entry: keyset
 * paging, so that a Task updated between two pages (and so moved to the
 * end) never pushes an unseen one out of the next page, as an offset
 * would. */
static gboolean
parse_page_token (const char *token,
                  gint64     *ms,
                  const char **id)
{
  char *end = NULL;

  *ms = g_ascii_strtoll (token, &end, 10);
  if (end == token || *end != ':')
    return FALSE;
  *id = end + 1;
  return TRUE;
}

/* GET Task?code=[system|]code&_lastUpdated=ge…&_sort=_lastUpdated&_count=N[&_page_token=…] */
static void
search_tasks (PdSandbox         *sandbox,
              SoupServerMessage *msg,
              GHashTable        *query)
{
  const char *since = query != NULL ? g_hash_table_lookup (query, "_lastUpdated") : NULL;
  const char *count_text = query != NULL ? g_hash_table_lookup (query, "_count") : NULL;
  const char *token = query != NULL ? g_hash_table_lookup (query, "_page_token") : NULL;
  const char *sort = query != NULL ? g_hash_table_lookup (query, "_sort") : NULL;
  const char *code = query != NULL ? g_hash_table_lookup (query, "code") : NULL;
  g_autofree char *code_system = NULL;
  const char *code_value = NULL;
  gint64 since_ms = G_MININT64, count = count_text != NULL ? g_ascii_strtoll (count_text, NULL, 10) : 100;
  gint64 after_ms = G_MININT64;
  const char *after_id = "";
  g_autofree char *last_id = NULL;
  gint64 last_ms = 0;
  sqlite3_stmt *stmt;
  GString *body;
  gint64 n = 0;
  gboolean more;

  if (since != NULL)
    {
      gint64 us = 0;

      if (!g_str_has_prefix (since, "ge") || !pd_time_parse_iso (since + 2, &us, NULL))
        {
          reply_outcome (msg, 400, "invalid", "_lastUpdated must be ge followed by a time with an offset");
          return;
        }
      since_ms = us / 1000;
    }
  if (sort != NULL && !g_str_equal (sort, "_lastUpdated"))
    {
      reply_outcome (msg, 400, "not-supported", "this sandbox sorts Tasks by _lastUpdated only");
      return;
    }
  if (token != NULL && !parse_page_token (token, &after_ms, &after_id))
    {
      reply_outcome (msg, 400, "invalid", "_page_token is not one this server gave");
      return;
    }
  if (code != NULL)
    {
      const char *bar = strchr (code, '|');

      code_system = bar != NULL ? g_strndup (code, bar - code) : NULL;
      code_value = bar != NULL ? bar + 1 : code;
    }
  count = CLAMP (count, 1, 1000);
  stmt = pd_store_prepare (sandbox->store,
    "SELECT body, last_updated_ms, id FROM fhir_resource"
    " WHERE resource_type = 'Task' AND last_updated_ms >= ?1 AND (last_updated_ms, id) > (?2, ?3)"
    "   AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each (body, '$.code.coding') c"
    "        WHERE json_extract (c.value, '$.code') = ?4"
    "          AND (?5 IS NULL OR json_extract (c.value, '$.system') = ?5)))"
    " ORDER BY last_updated_ms, id LIMIT ?6", NULL);
  if (stmt == NULL)
    {
      reply_outcome (msg, 500, "exception", "the sandbox's store failed");
      return;
    }
  /* A cached statement keeps its last bindings: ?4 and ?5 are optional. */
  sqlite3_clear_bindings (stmt);
  sqlite3_bind_int64 (stmt, 1, since_ms);
  sqlite3_bind_int64 (stmt, 2, after_ms);
  sqlite3_bind_text (stmt, 3, after_id, -1, SQLITE_TRANSIENT);
  if (code_value != NULL)
    sqlite3_bind_text (stmt, 4, code_value, -1, SQLITE_TRANSIENT);
  if (code_system != NULL)
    sqlite3_bind_text (stmt, 5, code_system, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, count + 1);
  body = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[");
  while ((more = sqlite3_step (stmt) == SQLITE_ROW) && n < count)
    {
      if (n > 0)
        g_string_append_c (body, ',');
      g_string_append (body, "{\"resource\":");
      g_string_append (body, (const char *) sqlite3_column_text (stmt, 0));
      g_string_append (body, ",\"search\":{\"mode\":\"match\"}}");
      last_ms = sqlite3_column_int64 (stmt, 1);
      g_free (last_id);
      last_id = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      n++;
    }
  sqlite3_reset (stmt);
  g_string_append (body, "]");
  if (more)
    {
      /* The next page starts after this page's last entry. */
      GUri *uri = soup_server_message_get_uri (msg);
      g_autoptr(GHashTable) next = g_hash_table_new (g_str_hash, g_str_equal);
      g_autofree char *next_token = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", last_ms, last_id);
      g_autofree char *q = NULL;
      GHashTableIter it;
      gpointer k, v;

      if (query != NULL)
        {
          g_hash_table_iter_init (&it, query);
          while (g_hash_table_iter_next (&it, &k, &v))
            g_hash_table_insert (next, k, v);
        }
      g_hash_table_insert (next, "_page_token", next_token);
      q = soup_form_encode_hash (next);
      g_string_append_printf (body, ",\"link\":[{\"relation\":\"next\",\"url\":\"%s%s?%s\"}]",
                              sandbox->base_url, g_uri_get_path (uri), q);
    }
  g_string_append (body, "}");
  pd_sandbox_reply_text (msg, 200, FHIR_JSON, body->str);
  g_string_free (body, TRUE);
}

static void
fhir_handler (PdSandbox         *sandbox,
              SoupServerMessage *msg,
              const char        *path)
{
  const char *rest = path + strlen ("/fhir");
  g_auto(GStrv) parts = NULL;
  g_autoptr(GHashTable) query = NULL;
  GUri *uri = soup_server_message_get_uri (msg);

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
      reply_outcome (msg, 401, "login", "a valid bearer token is required (POST /oauth/token)");
      return;
    }
  if (g_uri_get_query (uri) != NULL)
    query = soup_form_decode (g_uri_get_query (uri));
  parts = g_strsplit (rest, "/", -1);
  if (!g_str_equal (soup_server_message_get_method (msg), "GET"))
    {
      reply_outcome (msg, 405, "not-supported", "this sandbox hospital answers GET here for now");
      return;
    }
  if (g_strv_length (parts) == 1 && g_str_equal (parts[0], "Task"))
    {
      search_tasks (sandbox, msg, query);
      return;
    }
  if (g_strv_length (parts) == 2 && g_str_equal (parts[0], "Patient"))
    {
      g_autoptr(JsonNode) patient = patient_from_person (sandbox, parts[1]);

      if (patient != NULL)
        pd_sandbox_reply_json (msg, 200, FHIR_JSON, patient);
      else
        reply_outcome (msg, 404, "not-found", "no such Patient");
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
        reply_outcome (msg, 400, "invalid", "a version id is a whole number from 1");
      else
        reply_resource (sandbox, msg, parts[0], parts[1], version);
      return;
    }
  reply_outcome (msg, 404, "not-supported", "not served by this sandbox hospital");
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
  };

  for (guint i = 0; i < G_N_ELEMENTS (practitioners); i++)
    {
      g_autoptr(JsonParser) p = json_parser_new ();
      JsonObject *o;
      g_autofree char *exists = NULL;

      json_parser_load_from_data (p, practitioners[i], -1, NULL);
      o = json_node_get_object (json_parser_get_root (p));
      exists = stored_resource (sandbox, "Practitioner", json_object_get_string_member (o, "id"), 0, NULL);
      if (exists == NULL && !pd_sandbox_fhir_put (sandbox, o, 0, error))
        return FALSE;
    }
  return TRUE;
}

void
pd_sandbox_hospital_register (PdSandbox *sandbox)
{
  g_autoptr(GError) error = NULL;

  if (!pd_store_write (sandbox->store, seed_practitioners, sandbox, &error))
    g_warning ("seeding the hospital: %s", error->message);
  pd_sandbox_add_service (sandbox, "/oauth/token", token_handler);
  pd_sandbox_add_service (sandbox, "/fhir", fhir_handler);
}
