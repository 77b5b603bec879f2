/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-hospital"

#include "config.h"

#include <string.h>

#include "pd-sandbox.h"
#include "pd-sandbox-hospital.h"

/* What the pharmacy may write (hospital.md): Task claims, releases and
 * decisions under If-Match, DetectedIssue and Provenance, MedicationDispenses
 * (created under If-None-Exist, handed over or stopped under If-Match:
 * pd-sandbox-dispense.c), the audit anchor, and all of it in one
 * transaction Bundle. Each write runs in one SQLite transaction, so a
 * refused entry leaves nothing behind. */

/* What a pharmacy may change in a Task; everything else is the
 * hospital's (the prescription itself). */
static const char * const task_mutable[] = {
  "status", "owner", "restriction", "businessStatus", "statusReason", "output", "identifier",
  "meta", "lastModified", NULL
};

static const char *creatable[] = { "DetectedIssue", "Provenance", "MedicationDispense", "AuditEvent" };

typedef struct {
  PdSandbox        *sandbox;
  PdSandboxRefusal  refusal;
} Write;

typedef struct {
  char   *type;
  char   *id;
  gint64  version;
  guint   status;          /* 201 created, 200 updated or already there */
} Written;

static void
written_clear (Written *w)
{
  g_clear_pointer (&w->type, g_free);
  g_clear_pointer (&w->id, g_free);
}

static gboolean refuse (Write      *w,
                        GError    **error,
                        guint       status,
                        const char *code,
                        const char *format,
                        ...) G_GNUC_PRINTF (5, 6);

static gboolean
refuse (Write      *w,
        GError    **error,
        guint       status,
        const char *code,
        const char *format,
        ...)
{
  va_list ap;

  pd_sandbox_refusal_clear (&w->refusal);
  va_start (ap, format);
  w->refusal.problem = g_strdup_vprintf (format, ap);
  va_end (ap);
  w->refusal.status = status;
  w->refusal.code = code;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, w->refusal.problem);
  return FALSE;
}

/* A refusal the dispense rules made, as this write's. */
static gboolean
refused (Write   *w,
         GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, w->refusal.problem);
  return FALSE;
}

/* W/"3" or "3" */
static gboolean
parse_etag (const char *etag,
            gint64     *version)
{
  g_autofree char *bare = NULL;
  char *end = NULL;

  if (g_str_has_prefix (etag, "W/"))
    etag += 2;
  bare = g_strdup (etag);
  g_strstrip (bare);
  if (bare[0] == '"' && strlen (bare) >= 2 && bare[strlen (bare) - 1] == '"')
    {
      bare[strlen (bare) - 1] = '\0';
      memmove (bare, bare + 1, strlen (bare));
    }
  *version = g_ascii_strtoll (bare, &end, 10);
  return end != bare && *end == '\0' && *version > 0;
}

static gboolean
final_status (const char *status)
{
  return g_strcmp0 (status, "completed") == 0 || g_strcmp0 (status, "rejected") == 0
         || g_strcmp0 (status, "cancelled") == 0 || g_strcmp0 (status, "failed") == 0;
}

static gboolean
store_version (Write      *w,
               JsonObject *resource,
               Written    *out,
               guint       status,
               GError    **error)
{
  const char *version;

  if (!pd_sandbox_fhir_put (w->sandbox, resource, 0, error))
    return refuse (w, error, 500, "exception", "the sandbox's store failed: %s", (*error)->message);
  version = pd_json_str (pd_json_obj (resource, "meta"), "versionId");
  out->type = g_strdup (pd_json_str (resource, "resourceType"));
  out->id = g_strdup (pd_json_str (resource, "id"));
  out->version = version != NULL ? g_ascii_strtoll (version, NULL, 10) : 1;
  out->status = status;
  return TRUE;
}

/* The current version of Type/id when If-Match names it: 428 without
 * If-Match, 412 when another write came first. */
static gboolean
load_if_match (Write       *w,
               const char  *type,
               const char  *id,
               const char  *if_match,
               JsonObject **current,
               GError     **error)
{
  gint64 version = 0, wanted = 0;
  const char *now, *owner;
  g_autofree char *who = NULL;

  if (if_match == NULL)
    return refuse (w, error, 428, "required", "PUT %s/%s needs If-Match: W/\"versionId\"", type, id);
  if (!parse_etag (if_match, &wanted))
    return refuse (w, error, 400, "invalid", "If-Match “%s” is not W/\"versionId\"", if_match);
  *current = pd_sandbox_fhir_load (w->sandbox, type, id, &version);
  if (*current == NULL)
    return refuse (w, error, 404, "not-found", "no %s/%s", type, id);
  if (version == wanted)
    return TRUE;
  now = pd_json_str (*current, "status");
  owner = pd_json_str (pd_json_obj (*current, "owner"), "reference");
  who = g_str_equal (type, "Task") ? g_strdup_printf (", owner %s", owner != NULL ? owner : "none") : g_strdup ("");
  return refuse (w, error, 412, "conflict", "%s/%s is at version %" G_GINT64_FORMAT ", not %" G_GINT64_FORMAT ": status %s%s",
                 type, id, version, wanted, now != NULL ? now : "none", who);
}

/* PUT Task/{id} with If-Match: claim, release, decision. */
static gboolean
put_task (Write      *w,
          const char *id,
          const char *if_match,
          JsonObject *task,
          Written    *out,
          GError    **error)
{
  g_autoptr(JsonObject) current = NULL;
  const char *now, *next, *changed;

  if (!load_if_match (w, "Task", id, if_match, &current, error))
    return FALSE;
  now = pd_json_str (current, "status");
  if (g_strcmp0 (pd_json_str (task, "resourceType"), "Task") != 0
      || (json_object_has_member (task, "id") && g_strcmp0 (pd_json_str (task, "id"), id) != 0))
    return refuse (w, error, 400, "invalid", "the body is not Task/%s", id);
  next = pd_json_str (task, "status");
  if (g_strcmp0 (now, "cancelled") == 0)
    return refuse (w, error, 409, "conflict", "Task/%s was cancelled by the prescriber", id);
  if (final_status (now))
    return refuse (w, error, 409, "conflict", "Task/%s is already %s", id, now);
  if (next == NULL || !(g_str_equal (next, "requested") || g_str_equal (next, "received")
                        || g_str_equal (next, "completed") || g_str_equal (next, "rejected")))
    return refuse (w, error, 422, "business-rule", "a pharmacy sets a Task to requested, received, completed or rejected, not %s",
                   next != NULL ? next : "nothing");
  if ((g_str_equal (next, "completed") || g_str_equal (next, "rejected")) && g_strcmp0 (now, "received") != 0)
    return refuse (w, error, 409, "business-rule", "Task/%s must be claimed (received) before it is %s; it is %s", id, next, now);
  if (g_str_equal (next, "received") && pd_json_obj (task, "owner") == NULL)
    return refuse (w, error, 422, "business-rule", "a claim (received) names its owner");
  if (g_str_equal (next, "requested") && json_object_has_member (task, "owner"))
    return refuse (w, error, 422, "business-rule", "a release (requested) has no owner");
  changed = pd_sandbox_fhir_changed_member (current, task, task_mutable);
  if (changed != NULL)
    return refuse (w, error, 422, "business-rule", "Task.%s is the hospital's and may not change", changed);
  json_object_set_string_member (task, "id", id);
  return store_version (w, task, out, 200, error);
}

/* PUT MedicationDispense/{id} with If-Match: the handover (completed) or
 * the stop of a fill's dispense. */
static gboolean
put_dispense (Write      *w,
              const char *id,
              const char *if_match,
              JsonObject *dispense,
              Written    *out,
              GError    **error)
{
  g_autoptr(JsonObject) current = NULL;

  if (!load_if_match (w, "MedicationDispense", id, if_match, &current, error))
    return FALSE;
  if (g_strcmp0 (pd_json_str (dispense, "resourceType"), "MedicationDispense") != 0
      || (json_object_has_member (dispense, "id") && g_strcmp0 (pd_json_str (dispense, "id"), id) != 0))
    return refuse (w, error, 400, "invalid", "the body is not MedicationDispense/%s", id);
  json_object_set_string_member (dispense, "id", id);
  if (!pd_sandbox_dispense_check_update (w->sandbox, current, dispense, &w->refusal))
    return refused (w, error);
  return store_version (w, dispense, out, 200, error);
}

/* PUT Task/{id} or MedicationDispense/{id}; 405 for anything else. */
static gboolean
put (Write      *w,
     const char *url,
     const char *if_match,
     JsonObject *resource,
     Written    *out,
     GError    **error)
{
  g_auto(GStrv) parts = g_strsplit (url, "/", -1);

  if (g_strv_length (parts) == 2 && *parts[1] != '\0' && g_str_equal (parts[0], "Task"))
    return put_task (w, parts[1], if_match, resource, out, error);
  if (g_strv_length (parts) == 2 && *parts[1] != '\0' && g_str_equal (parts[0], "MedicationDispense"))
    return put_dispense (w, parts[1], if_match, resource, out, error);
  return refuse (w, error, 405, "not-supported", "a pharmacy PUTs Task/{id} and MedicationDispense/{id} only, not %s", url);
}

/* identifier=system|value, the only If-None-Exist this sandbox knows. */
static gboolean
existing_match (Write      *w,
                const char *type,
                const char *if_none_exist,
                Written    *out,
                gboolean   *found,
                GError    **error)
{
  g_autofree char *value = NULL;
  g_autoptr(GPtrArray) ids = NULL;

  *found = FALSE;
  if (if_none_exist == NULL)
    return TRUE;
  if (g_str_has_prefix (if_none_exist, "?"))
    if_none_exist++;
  if (!g_str_has_prefix (if_none_exist, "identifier="))
    return refuse (w, error, 400, "not-supported", "If-None-Exist takes identifier=system|value here, not “%s”", if_none_exist);
  value = g_uri_unescape_string (if_none_exist + strlen ("identifier="), NULL);
  if (value == NULL)
    return refuse (w, error, 400, "invalid", "If-None-Exist is not URL-encoded");
  ids = pd_sandbox_fhir_lookup (w->sandbox, type, "identifier", value);
  if (ids->len > 1)
    return refuse (w, error, 412, "duplicate", "If-None-Exist matches %u %s resources", ids->len, type);
  if (ids->len == 1)
    {
      g_autofree char *body = pd_sandbox_fhir_stored (w->sandbox, type, ids->pdata[0], 0, &out->version);

      out->type = g_strdup (type);
      out->id = g_strdup (ids->pdata[0]);
      out->status = 200;
      *found = TRUE;
    }
  return TRUE;
}

/* The one detail of entity[0] of that type, a string in member. */
static gboolean
anchor_detail (Write      *w,
               JsonArray  *details,
               const char *type,
               const char *member,
               const char **value,
               GError    **error)
{
  *value = NULL;
  for (guint i = 0; i < json_array_get_length (details); i++)
    {
      JsonObject *d = pd_json_arr_obj (details, i);
      JsonNode *v;

      if (d == NULL)
        return refuse (w, error, 400, "invalid", "AuditEvent.entity[0].detail[%u] is not an object", i);
      if (g_strcmp0 (pd_json_str (d, "type"), type) != 0)
        continue;
      if (*value != NULL)
        return refuse (w, error, 400, "invalid", "AuditEvent.entity[0].detail “%s” is given twice", type);
      v = json_object_get_member (d, member);
      if (v == NULL || !JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING
          || *json_node_get_string (v) == '\0')
        return refuse (w, error, 400, "invalid", "AuditEvent.entity[0].detail “%s” needs %s", type, member);
      *value = json_node_get_string (v);
    }
  if (*value == NULL)
    return refuse (w, error, 400, "required", "AuditEvent.entity[0] has no detail “%s”", type);
  return TRUE;
}

/* hospital.md's audit anchor: type urn:pharmdesk:audit|head, recorded,
 * the pharmacy as observer and requestor, entity[0] named
 * audit-head:{code} with seq and hash (valueString, the hash hex) and
 * signature (valueBase64Binary). The sandbox keeps any well-formed one:
 * it cannot know the pharmacy's trail, only hold its heads. */
static gboolean
check_audit_event (Write      *w,
                   JsonObject *event,
                   GError    **error)
{
  JsonObject *type = pd_json_obj (event, "type");
  JsonArray *agents = pd_json_arr (event, "agent");
  JsonArray *entities = pd_json_arr (event, "entity");
  JsonObject *entity = entities != NULL && json_array_get_length (entities) > 0 ? pd_json_arr_obj (entities, 0) : NULL;
  JsonArray *details = entity != NULL ? pd_json_arr (entity, "detail") : NULL;
  const char *name = entity != NULL ? pd_json_str (entity, "name") : NULL;
  const char *recorded = pd_json_str (event, "recorded");
  const char *seq, *hash, *signature;
  gboolean requestor = FALSE;
  gint64 us;
  gsize len;

  if (type == NULL || g_strcmp0 (pd_json_str (type, "system"), "urn:pharmdesk:audit") != 0
      || g_strcmp0 (pd_json_str (type, "code"), "head") != 0)
    return refuse (w, error, 400, "invalid", "AuditEvent.type is the Coding urn:pharmdesk:audit|head");
  if (recorded == NULL || !pd_time_parse_iso (recorded, &us, NULL))
    return refuse (w, error, 400, "invalid", "AuditEvent.recorded is a time with an offset");
  if (pd_json_str (pd_json_obj (pd_json_obj (event, "source"), "observer"), "display") == NULL)
    return refuse (w, error, 400, "required", "AuditEvent.source.observer.display names the pharmacy");
  for (guint i = 0; agents != NULL && i < json_array_get_length (agents); i++)
    {
      JsonObject *a = pd_json_arr_obj (agents, i);
      JsonNode *r = a != NULL ? json_object_get_member (a, "requestor") : NULL;

      requestor |= r != NULL && JSON_NODE_HOLDS_VALUE (r) && json_node_get_value_type (r) == G_TYPE_BOOLEAN
                   && json_node_get_boolean (r);
    }
  if (!requestor)
    return refuse (w, error, 400, "required", "AuditEvent.agent has the pharmacy as requestor");
  if (name == NULL || !g_str_has_prefix (name, "audit-head:") || name[strlen ("audit-head:")] == '\0')
    return refuse (w, error, 400, "invalid", "AuditEvent.entity[0].name is audit-head:{fixmedins_code}");
  if (details == NULL)
    return refuse (w, error, 400, "required", "AuditEvent.entity[0].detail holds seq, hash and signature");
  if (!anchor_detail (w, details, "seq", "valueString", &seq, error)
      || !anchor_detail (w, details, "hash", "valueString", &hash, error)
      || !anchor_detail (w, details, "signature", "valueBase64Binary", &signature, error))
    return FALSE;
  for (const char *p = seq; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return refuse (w, error, 400, "invalid", "AuditEvent seq “%s” is not a decimal number", seq);
  for (const char *p = hash; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p))
      return refuse (w, error, 400, "invalid", "AuditEvent hash is not hexadecimal");
  len = strlen (signature);
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (signature[i]) && signature[i] != '+' && signature[i] != '/'
        && !(signature[i] == '=' && i + 2 >= len))
      return refuse (w, error, 400, "invalid", "AuditEvent signature is not base64");
  if (len % 4 != 0)
    return refuse (w, error, 400, "invalid", "AuditEvent signature is not base64");
  return TRUE;
}

static char *
new_id (Write      *w,
        const char *type,
        GError    **error)
{
  gint64 n = pd_sandbox_counter_next (w->sandbox, "resource", error);
  g_autofree char *lower = g_ascii_strdown (type, -1);

  return n < 0 ? NULL : g_strdup_printf ("%s-%" G_GINT64_FORMAT, lower, n);
}

/* POST Type: the id is the server's (`id` when the transaction chose it). */
static gboolean
create (Write      *w,
        JsonObject *resource,
        const char *id,
        const char *if_none_exist,
        Written    *out,
        GError    **error)
{
  const char *type = pd_json_str (resource, "resourceType");
  g_autofree char *fresh = NULL;
  gboolean ok = FALSE;

  for (guint i = 0; type != NULL && i < G_N_ELEMENTS (creatable); i++)
    ok |= g_str_equal (creatable[i], type);
  if (!ok)
    return refuse (w, error, 405, "not-supported", "a pharmacy creates DetectedIssue, Provenance, MedicationDispense or AuditEvent, not %s",
                   type != NULL ? type : "a resource without resourceType");
  if (id == NULL)
    {
      fresh = new_id (w, type, error);
      if (fresh == NULL)
        return refuse (w, error, 500, "exception", "the sandbox's store failed");
      id = fresh;
    }
  json_object_set_string_member (resource, "id", id);
  json_object_remove_member (resource, "meta");
  if (g_str_equal (type, "MedicationDispense")
      && !pd_sandbox_dispense_check_new (w->sandbox, resource, if_none_exist, &w->refusal))
    return refused (w, error);
  if (g_str_equal (type, "AuditEvent") && !check_audit_event (w, resource, error))
    return FALSE;
  return store_version (w, resource, out, 201, error);
}

/* --- one request, one answer ------------------------------------------------------- */

static void
reply_refused (SoupServerMessage *msg,
               Write             *w)
{
  pd_sandbox_fhir_reply_refusal (msg, &w->refusal);
  pd_sandbox_refusal_clear (&w->refusal);
}

static void
reply_written (PdSandbox         *sandbox,
               SoupServerMessage *msg,
               Written           *out)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  g_autofree char *body = pd_sandbox_fhir_stored (sandbox, out->type, out->id, out->version, NULL);
  g_autofree char *etag = g_strdup_printf ("W/\"%" G_GINT64_FORMAT "\"", out->version);
  g_autofree char *location = g_strdup_printf ("%s/fhir/%s/%s/_history/%" G_GINT64_FORMAT,
                                               sandbox->base_url, out->type, out->id, out->version);

  soup_message_headers_replace (h, "ETag", etag);
  soup_message_headers_replace (h, "Location", location);
  pd_sandbox_reply_text (msg, out->status, PD_FHIR_JSON, body != NULL ? body : "{}");
}

typedef struct {
  Write       w;
  const char *type;
  const char *id;
  const char *header;      /* If-Match or If-None-Exist */
  JsonObject *resource;
  Written     out;
} Single;

static gboolean
write_single (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  Single *s = user_data;
  gboolean found = FALSE;

  if (s->id != NULL)
    {
      g_autofree char *url = g_strconcat (s->type, "/", s->id, NULL);

      return put (&s->w, url, s->header, s->resource, &s->out, error);
    }
  if (!existing_match (&s->w, s->type, s->header, &s->out, &found, error))
    return FALSE;
  return found || create (&s->w, s->resource, NULL, s->header, &s->out, error);
}

/* PUT Task/{id} or MedicationDispense/{id}, POST Type */
static void
write_one (PdSandbox         *sandbox,
           SoupServerMessage *msg,
           const char        *type,
           const char        *id)
{
  g_autofree char *parse_error = NULL;
  g_autoptr(JsonNode) root = pd_sandbox_read_json (msg, &parse_error);
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  Single s = { { sandbox, { 0 } }, type, id, NULL, NULL, { NULL } };

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      pd_sandbox_fhir_reply_outcome (msg, 400, "invalid", parse_error != NULL ? parse_error : "the body is not a JSON object");
      return;
    }
  s.resource = json_node_get_object (root);
  if (g_strcmp0 (pd_json_str (s.resource, "resourceType"), type) != 0)
    {
      pd_sandbox_fhir_reply_outcome (msg, 400, "invalid", "the body's resourceType is not the URL's");
      return;
    }
  s.header = soup_message_headers_get_one (h, id != NULL ? "If-Match" : "If-None-Exist");
  if (!pd_store_write (sandbox->store, write_single, &s, &error))
    reply_refused (msg, &s.w);
  else
    reply_written (sandbox, msg, &s.out);
  written_clear (&s.out);
}

/* --- transaction Bundles --------------------------------------------------------------- */

/* Replaces every reference equal to a urn:uuid fullUrl by Type/id. */
static void
rewrite_references (JsonNode   *node,
                    GHashTable *map)
{
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (a); i++)
        rewrite_references (json_array_get_element (a, i), map);
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *o = json_node_get_object (node);
      const char *ref = pd_json_str (o, "reference");
      const char *to = ref != NULL ? g_hash_table_lookup (map, ref) : NULL;
      g_autoptr(GList) members = NULL;

      /* Replacing a member frees its name: list the names after. */
      if (to != NULL)
        json_object_set_string_member (o, "reference", to);
      members = json_object_get_members (o);
      for (GList *l = members; l != NULL; l = l->next)
        rewrite_references (json_object_get_member (o, l->data), map);
    }
}

typedef struct {
  Write      w;
  JsonArray *entries;
  Written   *out;        /* one per entry */
} Transaction;

static gboolean
write_transaction (PdStore  *store,
                   gpointer  user_data,
                   GError  **error)
{
  Transaction *t = user_data;
  guint n = json_array_get_length (t->entries);
  g_autoptr(GHashTable) map = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);

  /* First every POST's id (or the existing match), so that any entry
   * may reference any other. */
  for (guint i = 0; i < n; i++)
    {
      JsonObject *e = json_array_get_object_element (t->entries, i);
      JsonObject *req = pd_json_obj (e, "request");
      JsonObject *res = pd_json_obj (e, "resource");
      const char *method = pd_json_str (req, "method");
      const char *full_url = pd_json_str (e, "fullUrl");
      gboolean found = FALSE;
      char *id = NULL;

      if (res == NULL || method == NULL || pd_json_str (req, "url") == NULL)
        return refuse (&t->w, error, 400, "invalid", "entry %u needs resource, request.method and request.url", i);
      if (g_str_equal (method, "POST"))
        {
          const char *type = pd_json_str (res, "resourceType");

          if (type == NULL || g_strcmp0 (pd_json_str (req, "url"), type) != 0)
            return refuse (&t->w, error, 400, "invalid", "entry %u: request.url is not the resource's type", i);
          if (!existing_match (&t->w, type, pd_json_str (req, "ifNoneExist"), &t->out[i], &found, error))
            return FALSE;
          id = found ? g_strdup (t->out[i].id) : new_id (&t->w, type, error);
          if (id == NULL)
            return refuse (&t->w, error, 500, "exception", "the sandbox's store failed");
          if (full_url != NULL)
            g_hash_table_insert (map, (gpointer) full_url, g_strconcat (type, "/", id, NULL));
        }
      else if (!g_str_equal (method, "PUT"))
        return refuse (&t->w, error, 405, "not-supported", "entry %u: this sandbox takes POST and PUT in a transaction", i);
      g_ptr_array_add (ids, id);
    }
  for (guint i = 0; i < n; i++)
    {
      JsonObject *e = json_array_get_object_element (t->entries, i);
      JsonObject *req = pd_json_obj (e, "request");
      const char *url = pd_json_str (req, "url");

      rewrite_references (json_object_get_member (e, "resource"), map);
      if (t->out[i].id != NULL)
        continue;   /* If-None-Exist matched: nothing to create */
      if (g_str_equal (pd_json_str (req, "method"), "POST"))
        {
          if (!create (&t->w, pd_json_obj (e, "resource"), ids->pdata[i], pd_json_str (req, "ifNoneExist"), &t->out[i], error))
            goto failed;
        }
      else if (!put (&t->w, url, pd_json_str (req, "ifMatch"), pd_json_obj (e, "resource"), &t->out[i], error))
        goto failed;
    }
  return TRUE;

failed:
  {
    /* Name the entry that failed the whole transaction. */
    g_autofree char *problem = g_steal_pointer (&t->w.refusal.problem);

    for (guint i = 0; i < n; i++)
      if (t->out[i].id == NULL)
        {
          t->w.refusal.problem = g_strdup_printf ("entry %u: %s", i, problem);
          break;
        }
    if (t->w.refusal.problem == NULL)
      t->w.refusal.problem = g_steal_pointer (&problem);
    return FALSE;
  }
}

static void
transaction (PdSandbox         *sandbox,
             SoupServerMessage *msg)
{
  g_autofree char *parse_error = NULL;
  g_autoptr(JsonNode) root = pd_sandbox_read_json (msg, &parse_error);
  g_autoptr(GError) error = NULL;
  JsonObject *bundle = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonNode *entries = bundle != NULL ? json_object_get_member (bundle, "entry") : NULL;
  Transaction t = { { sandbox, { 0 } }, NULL, NULL };
  GString *body;
  guint n;

  if (bundle == NULL || g_strcmp0 (pd_json_str (bundle, "resourceType"), "Bundle") != 0
      || g_strcmp0 (pd_json_str (bundle, "type"), "transaction") != 0
      || entries == NULL || !JSON_NODE_HOLDS_ARRAY (entries))
    {
      pd_sandbox_fhir_reply_outcome (msg, 400, "invalid", "POST /fhir takes a transaction Bundle with entries");
      return;
    }
  t.entries = json_node_get_array (entries);
  n = json_array_get_length (t.entries);
  for (guint i = 0; i < n; i++)
    if (!JSON_NODE_HOLDS_OBJECT (json_array_get_element (t.entries, i)))
      {
        pd_sandbox_fhir_reply_outcome (msg, 400, "invalid", "every entry is an object");
        return;
      }
  t.out = g_new0 (Written, n + 1);
  if (!pd_store_write (sandbox->store, write_transaction, &t, &error))
    {
      reply_refused (msg, &t.w);
      for (guint i = 0; i < n; i++)
        written_clear (&t.out[i]);
      g_free (t.out);
      return;
    }
  body = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"transaction-response\",\"entry\":[");
  for (guint i = 0; i < n; i++)
    {
      Written *o = &t.out[i];

      g_string_append_printf (body, "%s{\"response\":{\"status\":\"%s\",\"location\":\"%s/%s/_history/%" G_GINT64_FORMAT "\","
                              "\"etag\":\"W/\\\"%" G_GINT64_FORMAT "\\\"\"}}",
                              i > 0 ? "," : "", o->status == 201 ? "201 Created" : "200 OK",
                              o->type, o->id, o->version, o->version);
      written_clear (o);
    }
  g_string_append (body, "]}");
  g_free (t.out);
  pd_sandbox_reply_text (msg, 200, PD_FHIR_JSON, body->str);
  g_string_free (body, TRUE);
}

void
pd_sandbox_fhir_write (PdSandbox         *sandbox,
                       SoupServerMessage *msg,
                       char             **parts)
{
  const char *method = soup_server_message_get_method (msg);
  guint n = g_strv_length (parts);

  if (g_str_equal (method, "POST") && (n == 0 || (n == 1 && *parts[0] == '\0')))
    transaction (sandbox, msg);
  else if (g_str_equal (method, "POST") && n == 1)
    write_one (sandbox, msg, parts[0], NULL);
  else if (g_str_equal (method, "PUT") && n == 2 && (g_str_equal (parts[0], "Task") || g_str_equal (parts[0], "MedicationDispense"))
           && *parts[1] != '\0')
    write_one (sandbox, msg, parts[0], parts[1]);
  else
    pd_sandbox_fhir_reply_outcome (msg, 405, "not-supported",
                                   "a pharmacy writes PUT Task/{id} and MedicationDispense/{id}, POST DetectedIssue|Provenance|MedicationDispense|AuditEvent"
                                   " and POST / (transaction)");
}
