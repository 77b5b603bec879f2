/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-hospital"

#include "config.h"

#include <string.h>

#include "pd-sandbox.h"
#include "pd-sandbox-hospital.h"

/* The searches of hospital.md, with standard R4 parameters only. Each
 * type takes the parameters listed here and refuses any other with 400,
 * so that a client relying on one the sandbox would silently ignore
 * finds out at once. */

typedef struct {
  const char *type;
  const char *params[6];
} Allowed;

static const Allowed allowed[] = {
  { "Task", { "code", "_lastUpdated", "_sort", "_count", "_page_token", NULL } },
  { "MedicationRequest", { "_id", "_include", NULL } },
  { "Provenance", { "target", NULL } },
  { "Condition", { "patient", NULL } },
  { "AllergyIntolerance", { "patient", NULL } },
  { "Observation", { "patient", "code", NULL } },
  { "AuditEvent", { "entity-name", "_sort", "_count", NULL } },
  { "MedicationDispense", { "prescription", "identifier", NULL } },
};

static const char *includes[] = {
  "MedicationRequest:subject", "MedicationRequest:requester",
  "MedicationRequest:encounter", "MedicationRequest:medication",
};

/* key, value, key, value…; '+' stays '+' (a time's offset is often sent
 * unescaped), %XX is decoded. */
static GPtrArray *
parse_query (const char *query)
{
  GPtrArray *pairs = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) items = g_strsplit (query != NULL ? query : "", "&", -1);

  for (guint i = 0; items[i] != NULL; i++)
    {
      char *eq = strchr (items[i], '=');
      char *key, *value;

      if (*items[i] == '\0')
        continue;
      if (eq != NULL)
        *eq = '\0';
      key = g_uri_unescape_string (items[i], NULL);
      value = g_uri_unescape_string (eq != NULL ? eq + 1 : "", NULL);
      g_ptr_array_add (pairs, key != NULL ? key : g_strdup (""));
      g_ptr_array_add (pairs, value != NULL ? value : g_strdup (""));
    }
  return pairs;
}

static const char *
query_get (GPtrArray  *q,
           const char *key)
{
  for (guint i = 0; i + 1 < q->len; i += 2)
    if (g_str_equal (q->pdata[i], key))
      return q->pdata[i + 1];
  return NULL;
}

/* NULL when every parameter is allowed for the type and given once
 * (_include may repeat), else the problem. */
static char *
check_params (const char *type,
              GPtrArray  *q)
{
  const Allowed *a = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (allowed); i++)
    if (g_str_equal (allowed[i].type, type))
      a = &allowed[i];
  if (a == NULL)
    return g_strdup_printf ("this sandbox hospital does not search %s", type);
  for (guint i = 0; i + 1 < q->len; i += 2)
    {
      const char *key = q->pdata[i];
      gboolean ok = FALSE;

      for (guint k = 0; a->params[k] != NULL; k++)
        ok |= g_str_equal (a->params[k], key);
      if (!ok)
        return g_strdup_printf ("unknown search parameter “%s” for %s", key, type);
      if (!g_str_equal (key, "_include"))
        for (guint j = i + 2; j + 1 < q->len; j += 2)
          if (g_str_equal (q->pdata[j], key))
            return g_strdup_printf ("search parameter “%s” is given twice", key);
    }
  return NULL;
}

/* --- the Bundle ------------------------------------------------------------- */

typedef struct {
  PdSandbox  *sandbox;
  GString    *body;
  GHashTable *seen;     /* "Type/id" */
  guint       n;
} Page;

static void
page_begin (Page      *page,
            PdSandbox *sandbox)
{
  g_autofree char *now = pd_sandbox_fhir_now (sandbox);

  page->sandbox = sandbox;
  page->body = g_string_new (NULL);
  g_string_printf (page->body, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"timestamp\":\"%s\",\"entry\":[", now);
  page->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  page->n = 0;
}

/* Adds an entry once; `body` is the resource's JSON text. */
static void
page_add (Page       *page,
          const char *type,
          const char *id,
          const char *body,
          const char *mode)
{
  char *key = g_strconcat (type, "/", id, NULL);

  if (!g_hash_table_add (page->seen, key))
    return;
  if (page->n++ > 0)
    g_string_append_c (page->body, ',');
  g_string_append_printf (page->body, "{\"fullUrl\":\"%s/fhir/%s\",\"resource\":%s,\"search\":{\"mode\":\"%s\"}}",
                          page->sandbox->base_url, key, body, mode);
}

static void
page_reply (Page              *page,
            SoupServerMessage *msg,
            const char        *next_url)
{
  g_string_append_c (page->body, ']');
  if (next_url != NULL)
    g_string_append_printf (page->body, ",\"link\":[{\"relation\":\"next\",\"url\":\"%s\"}]", next_url);
  g_string_append_c (page->body, '}');
  pd_sandbox_reply_text (msg, 200, PD_FHIR_JSON, page->body->str);
  g_string_free (page->body, TRUE);
  g_hash_table_unref (page->seen);
}

/* Adds the current version of Type/id (a Patient from the people). */
static void
page_add_reference (Page       *page,
                    const char *reference,
                    const char *mode)
{
  g_auto(GStrv) parts = NULL;
  g_autofree char *body = NULL;

  if (reference == NULL)
    return;
  if (g_str_has_prefix (reference, page->sandbox->base_url))
    reference += strlen (page->sandbox->base_url) + strlen ("/fhir/");
  parts = g_strsplit (reference, "/", -1);
  if (g_strv_length (parts) < 2)
    return;
  body = pd_sandbox_fhir_stored (page->sandbox, parts[0], parts[1], 0, NULL);
  if (body == NULL && g_str_equal (parts[0], "Patient"))
    {
      g_autoptr(JsonNode) patient = pd_sandbox_fhir_patient (page->sandbox, parts[1]);

      if (patient != NULL)
        body = json_to_string (patient, FALSE);
    }
  if (body != NULL)
    page_add (page, parts[0], parts[1], body, mode);
}

/* --- Task: keyset paging ------------------------------------------------------- */

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

static char *
next_url (PdSandbox         *sandbox,
          SoupServerMessage *msg,
          GPtrArray         *q,
          gint64             last_ms,
          const char        *last_id)
{
  GString *url = g_string_new (sandbox->base_url);

  g_string_append (url, g_uri_get_path (soup_server_message_get_uri (msg)));
  g_string_append_c (url, '?');
  for (guint i = 0; i + 1 < q->len; i += 2)
    {
      if (g_str_equal (q->pdata[i], "_page_token"))
        continue;
      g_string_append_uri_escaped (url, q->pdata[i], NULL, FALSE);
      g_string_append_c (url, '=');
      g_string_append_uri_escaped (url, q->pdata[i + 1], NULL, FALSE);
      g_string_append_c (url, '&');
    }
  g_string_append_printf (url, "_page_token=%" G_GINT64_FORMAT "%%3A", last_ms);
  g_string_append_uri_escaped (url, last_id, NULL, FALSE);
  return g_string_free (url, FALSE);
}

/* GET Task?code=[system|]code&_lastUpdated=ge…&_sort=_lastUpdated&_count=N[&_page_token=…] */
static void
search_tasks (PdSandbox         *sandbox,
              SoupServerMessage *msg,
              GPtrArray         *q)
{
  const char *since = query_get (q, "_lastUpdated");
  const char *count_text = query_get (q, "_count");
  const char *token = query_get (q, "_page_token");
  const char *sort = query_get (q, "_sort");
  const char *code = query_get (q, "code");
  g_autofree char *code_system = NULL;
  g_autofree char *next = NULL;
  const char *code_value = NULL;
  gint64 since_ms = G_MININT64, count = count_text != NULL ? g_ascii_strtoll (count_text, NULL, 10) : 100;
  gint64 after_ms = G_MININT64;
  const char *after_id = "";
  g_autofree char *last_id = NULL;
  gint64 last_ms = 0;
  sqlite3_stmt *stmt;
  Page page;
  gint64 n = 0;
  gboolean more;

  if (since != NULL)
    {
      gint64 us = 0;

      if (!g_str_has_prefix (since, "ge") || !pd_time_parse_iso (since + 2, &us, NULL))
        {
          pd_sandbox_fhir_reply_outcome (msg, 400, "invalid", "_lastUpdated must be ge followed by a time with an offset");
          return;
        }
      since_ms = us / 1000;
    }
  if (sort != NULL && !g_str_equal (sort, "_lastUpdated"))
    {
      pd_sandbox_fhir_reply_outcome (msg, 400, "not-supported", "this sandbox sorts Tasks by _lastUpdated only");
      return;
    }
  if (token != NULL && !parse_page_token (token, &after_ms, &after_id))
    {
      pd_sandbox_fhir_reply_outcome (msg, 400, "invalid", "_page_token is not one this server gave");
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
      pd_sandbox_fhir_reply_outcome (msg, 500, "exception", "the sandbox's store failed");
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
  page_begin (&page, sandbox);
  while ((more = sqlite3_step (stmt) == SQLITE_ROW) && n < count)
    {
      last_ms = sqlite3_column_int64 (stmt, 1);
      g_free (last_id);
      last_id = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      page_add (&page, "Task", last_id, (const char *) sqlite3_column_text (stmt, 0), "match");
      n++;
    }
  sqlite3_reset (stmt);
  /* The next page starts after this page's last entry. */
  if (more)
    next = next_url (sandbox, msg, q, last_ms, last_id);
  page_reply (&page, msg, next);
}

/* --- the prescription's resources ------------------------------------------------ */

static const char *
reference_of (JsonObject *o,
              const char *member)
{
  return pd_json_str (pd_json_obj (o, member), "reference");
}

/* GET MedicationRequest?_id=a,b&_include=MedicationRequest:subject… */
static void
search_medication_requests (PdSandbox         *sandbox,
                            SoupServerMessage *msg,
                            GPtrArray         *q)
{
  const char *ids_text = query_get (q, "_id");
  g_auto(GStrv) ids = NULL;
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  gboolean want[G_N_ELEMENTS (includes)] = { FALSE };
  Page page;

  if (ids_text == NULL)
    {
      pd_sandbox_fhir_reply_outcome (msg, 400, "required", "MedicationRequest is searched by _id");
      return;
    }
  for (guint i = 0; i + 1 < q->len; i += 2)
    {
      gboolean known = FALSE;

      if (!g_str_equal (q->pdata[i], "_include"))
        continue;
      for (guint k = 0; k < G_N_ELEMENTS (includes); k++)
        if (g_str_equal (q->pdata[i + 1], includes[k]))
          want[k] = known = TRUE;
      if (!known)
        {
          g_autofree char *text = g_strdup_printf ("unsupported _include “%s”", (char *) q->pdata[i + 1]);

          pd_sandbox_fhir_reply_outcome (msg, 400, "not-supported", text);
          return;
        }
    }
  page_begin (&page, sandbox);
  ids = g_strsplit (ids_text, ",", -1);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *body = pd_sandbox_fhir_stored (sandbox, "MedicationRequest", ids[i], 0, NULL);
      g_autoptr(JsonParser) p = NULL;

      if (body == NULL)
        continue;
      page_add (&page, "MedicationRequest", ids[i], body, "match");
      p = json_parser_new ();
      if (json_parser_load_from_data (p, body, -1, NULL))
        g_ptr_array_add (found, json_object_ref (json_node_get_object (json_parser_get_root (p))));
    }
  for (guint i = 0; i < found->len; i++)
    {
      JsonObject *mr = found->pdata[i];

      if (want[0])
        page_add_reference (&page, reference_of (mr, "subject"), "include");
      if (want[1])
        page_add_reference (&page, reference_of (mr, "requester"), "include");
      if (want[2])
        page_add_reference (&page, reference_of (mr, "encounter"), "include");
      if (want[3])
        page_add_reference (&page, reference_of (mr, "medicationReference"), "include");
    }
  page_reply (&page, msg, NULL);
}

/* Every id matching any of the comma-separated values of `param`; a
 * value without a '/' takes `type_prefix` (patient=ID means Patient/ID). */
static GPtrArray *
lookup_any (PdSandbox  *sandbox,
            const char *type,
            const char *param,
            const char *values,
            const char *type_prefix)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto(GStrv) each = g_strsplit (values, ",", -1);

  for (guint i = 0; each[i] != NULL; i++)
    {
      g_autofree char *value = type_prefix != NULL && strchr (each[i], '/') == NULL
                               ? g_strconcat (type_prefix, each[i], NULL) : g_strdup (each[i]);
      g_autoptr(GPtrArray) got = pd_sandbox_fhir_lookup (sandbox, type, param, value);

      for (guint k = 0; k < got->len; k++)
        if (!g_hash_table_contains (seen, got->pdata[k]))
          {
            char *id = g_strdup (got->pdata[k]);

            g_hash_table_add (seen, id);
            g_ptr_array_add (ids, id);
          }
    }
  return ids;
}

/* type?key=…[&filter=…]: the resources any of key's values points at
 * (a bare id takes `prefix`), those of them that filter's values also
 * point at when it is given. */
static void
search_indexed (PdSandbox         *sandbox,
                SoupServerMessage *msg,
                const char        *type,
                GPtrArray         *q,
                const char        *key,
                const char        *prefix,
                const char        *filter)
{
  const char *value = query_get (q, key);
  const char *also = filter != NULL ? query_get (q, filter) : NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(GPtrArray) with_also = NULL;
  g_autoptr(GHashTable) kept = NULL;
  Page page;

  if (value == NULL)
    {
      g_autofree char *text = g_strdup_printf ("%s is searched by %s", type, key);

      pd_sandbox_fhir_reply_outcome (msg, 400, "required", text);
      return;
    }
  ids = lookup_any (sandbox, type, key, value, prefix);
  if (also != NULL)
    {
      with_also = lookup_any (sandbox, type, filter, also, NULL);
      kept = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; i < with_also->len; i++)
        g_hash_table_add (kept, with_also->pdata[i]);
    }
  page_begin (&page, sandbox);
  for (guint i = 0; i < ids->len; i++)
    {
      g_autofree char *body = NULL;

      if (kept != NULL && !g_hash_table_contains (kept, ids->pdata[i]))
        continue;
      body = pd_sandbox_fhir_stored (sandbox, type, ids->pdata[i], 0, NULL);
      if (body != NULL)
        page_add (&page, type, ids->pdata[i], body, "match");
    }
  page_reply (&page, msg, NULL);
}

/* AuditEvent?entity-name=audit-head:{code}&_sort=-date&_count=1: the
 * latest anchors first (by recorded, then by arrival). */
static void
search_audit_events (PdSandbox         *sandbox,
                     SoupServerMessage *msg,
                     GPtrArray         *q)
{
  const char *name = query_get (q, "entity-name");
  const char *sort = query_get (q, "_sort");
  const char *count_text = query_get (q, "_count");
  gint64 count = count_text != NULL ? g_ascii_strtoll (count_text, NULL, 10) : 100;
  sqlite3_stmt *stmt;
  Page page;

  if (name == NULL)
    {
      pd_sandbox_fhir_reply_outcome (msg, 400, "required", "AuditEvent is searched by entity-name");
      return;
    }
  if (sort != NULL && !g_str_equal (sort, "-date"))
    {
      pd_sandbox_fhir_reply_outcome (msg, 400, "not-supported", "this sandbox sorts AuditEvents by -date only");
      return;
    }
  stmt = pd_store_prepare (sandbox->store,
    "SELECT r.id, r.body FROM fhir_search n"
    " JOIN fhir_resource r ON r.resource_type = n.resource_type AND r.id = n.id"
    " LEFT JOIN fhir_search d ON d.resource_type = n.resource_type AND d.id = n.id AND d.param = 'date'"
    " WHERE n.resource_type = 'AuditEvent' AND n.param = 'entity-name' AND n.value = ?1"
    " ORDER BY d.value DESC, r.last_updated_ms DESC, r.id DESC LIMIT ?2", NULL);
  if (stmt == NULL)
    {
      pd_sandbox_fhir_reply_outcome (msg, 500, "exception", "the sandbox's store failed");
      return;
    }
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, CLAMP (count, 1, 1000));
  page_begin (&page, sandbox);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    page_add (&page, "AuditEvent", (const char *) sqlite3_column_text (stmt, 0),
              (const char *) sqlite3_column_text (stmt, 1), "match");
  sqlite3_reset (stmt);
  page_reply (&page, msg, NULL);
}

void
pd_sandbox_fhir_search (PdSandbox         *sandbox,
                        SoupServerMessage *msg,
                        const char        *type)
{
  g_autoptr(GPtrArray) q = parse_query (g_uri_get_query (soup_server_message_get_uri (msg)));
  g_autofree char *problem = check_params (type, q);

  if (problem != NULL)
    pd_sandbox_fhir_reply_outcome (msg, 400, "not-supported", problem);
  else if (g_str_equal (type, "Task"))
    search_tasks (sandbox, msg, q);
  else if (g_str_equal (type, "MedicationRequest"))
    search_medication_requests (sandbox, msg, q);
  else if (g_str_equal (type, "AuditEvent"))
    search_audit_events (sandbox, msg, q);
  else if (g_str_equal (type, "Provenance"))
    search_indexed (sandbox, msg, type, q, "target", NULL, NULL);
  /* A prescription's dispenses (every fill, every status), or by the
   * identifier a conditional create names. */
  else if (g_str_equal (type, "MedicationDispense") && query_get (q, "prescription") != NULL)
    search_indexed (sandbox, msg, type, q, "prescription", "MedicationRequest/", "identifier");
  else if (g_str_equal (type, "MedicationDispense"))
    search_indexed (sandbox, msg, type, q, "identifier", NULL, NULL);
  else
    search_indexed (sandbox, msg, type, q, "patient", "Patient/", "code");
}
