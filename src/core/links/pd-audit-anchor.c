/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-audit-anchor"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-audit-anchor.h"
#include "pd-clock.h"
#include "pd-json.h"

G_DEFINE_QUARK (pd-audit-anchor-error-quark, pd_audit_anchor_error)

static gboolean malformed (GError    **error,
                           const char *format,
                           ...) G_GNUC_PRINTF (2, 3);

static gboolean
malformed (GError    **error,
           const char *format,
           ...)
{
  va_list ap;
  g_autofree char *what = NULL;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, PD_AUDIT_ANCHOR_ERROR, PD_AUDIT_ANCHOR_ERROR_MALFORMED,
               _("The hospital’s audit anchor is malformed: %s"), what);
  return FALSE;
}

static char *
entity_name (const char *fixmedins_code)
{
  return g_strconcat ("audit-head:", fixmedins_code, NULL);
}

static void
add_detail (JsonArray  *details,
            const char *type,
            const char *member,
            const char *value)
{
  JsonObject *d = json_object_new ();

  json_object_set_string_member (d, "type", type);
  json_object_set_string_member (d, member, value);
  json_array_add_object_element (details, d);
}

JsonNode *
pd_audit_anchor_build (const PdAuditHead *head,
                       const char        *fixmedins_code,
                       const char        *pharmacy_name)
{
  JsonObject *event = json_object_new ();
  JsonObject *type = json_object_new ();
  JsonObject *source = json_object_new ();
  JsonObject *observer = json_object_new ();
  JsonObject *agent = json_object_new ();
  JsonObject *who = json_object_new ();
  JsonObject *entity = json_object_new ();
  JsonArray *agents = json_array_new ();
  JsonArray *entities = json_array_new ();
  JsonArray *details = json_array_new ();
  const char *name = pharmacy_name != NULL ? pharmacy_name : fixmedins_code;
  g_autofree char *seq = g_strdup_printf ("%" G_GINT64_FORMAT, head->seq);
  g_autofree char *hash = g_malloc (2 * PD_KEY_SIZE + 1);
  g_autofree char *signature = g_base64_encode ((const guchar *) head->signature, strlen (head->signature));
  g_autofree char *ename = entity_name (fixmedins_code);

  for (guint i = 0; i < PD_KEY_SIZE; i++)
    g_snprintf (hash + 2 * i, 3, "%02x", head->mac[i]);
  json_object_set_string_member (event, "resourceType", "AuditEvent");
  json_object_set_string_member (type, "system", PD_AUDIT_ANCHOR_SYSTEM);
  json_object_set_string_member (type, "code", PD_AUDIT_ANCHOR_CODE);
  json_object_set_object_member (event, "type", type);
  json_object_set_string_member (event, "recorded", head->signed_at);
  json_object_set_string_member (observer, "display", name);
  json_object_set_object_member (source, "observer", observer);
  json_object_set_object_member (event, "source", source);
  json_object_set_string_member (who, "display", name);
  json_object_set_object_member (agent, "who", who);
  json_object_set_boolean_member (agent, "requestor", TRUE);
  json_array_add_object_element (agents, agent);
  json_object_set_array_member (event, "agent", agents);
  json_object_set_string_member (entity, "name", ename);
  add_detail (details, "seq", "valueString", seq);
  add_detail (details, "hash", "valueString", hash);
  add_detail (details, "signature", "valueBase64Binary", signature);
  json_object_set_array_member (entity, "detail", details);
  json_array_add_object_element (entities, entity);
  json_object_set_array_member (event, "entity", entities);
  return pd_json_node_take (event);
}

/* The one detail of that type, holding a string in member. */
static const char *
detail_value (JsonArray  *details,
              const char *type,
              const char *member,
              GError    **error)
{
  const char *value = NULL;

  for (guint i = 0; i < json_array_get_length (details); i++)
    {
      JsonObject *d = pd_json_arr_obj (details, i);
      JsonNode *v;

      if (d == NULL)
        {
          malformed (error, _("entity[0].detail[%u] is not an object"), i);
          return NULL;
        }
      if (g_strcmp0 (pd_json_str (d, "type"), type) != 0)
        continue;
      if (value != NULL)
        {
          malformed (error, _("the detail “%s” is given twice"), type);
          return NULL;
        }
      v = json_object_get_member (d, member);
      if (v == NULL || !JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING)
        {
          malformed (error, _("the detail “%s” has no %s"), type, member);
          return NULL;
        }
      value = json_node_get_string (v);
    }
  if (value == NULL)
    malformed (error, _("the detail “%s” is missing"), type);
  return value;
}

static gboolean
parse_seq (const char *text,
           gint64     *seq)
{
  guint64 n = 0;

  if (text[0] < '1' || text[0] > '9' || strlen (text) > 18)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      n = n * 10 + (guint64) (*p - '0');
    }
  *seq = (gint64) n;
  return TRUE;
}

static gboolean
parse_hash (const char *text,
            guint8     *mac)
{
  if (strlen (text) != 2 * PD_KEY_SIZE)
    return FALSE;
  for (guint i = 0; i < 2 * PD_KEY_SIZE; i++)
    if (!g_ascii_isdigit (text[i]) && !(text[i] >= 'a' && text[i] <= 'f'))
      return FALSE;
  for (guint i = 0; i < PD_KEY_SIZE; i++)
    mac[i] = (guint8) (g_ascii_xdigit_value (text[2 * i]) * 16 + g_ascii_xdigit_value (text[2 * i + 1]));
  return TRUE;
}

/* Standard base64 with its padding, of a compact JWS (three parts). */
static char *
parse_signature (const char *text)
{
  gsize len = strlen (text), pad = 0, out_len = 0;
  g_autofree guchar *raw = NULL;
  g_autofree char *jws = NULL;
  g_auto(GStrv) parts = NULL;

  while (pad < len && pad < 2 && text[len - 1 - pad] == '=')
    pad++;
  if (len == 0 || len % 4 != 0)
    return NULL;
  for (gsize i = 0; i < len - pad; i++)
    if (!g_ascii_isalnum (text[i]) && text[i] != '+' && text[i] != '/')
      return NULL;
  raw = g_base64_decode (text, &out_len);
  if (raw == NULL || out_len == 0)
    return NULL;
  for (gsize i = 0; i < out_len; i++)
    if (raw[i] < 0x21 || raw[i] > 0x7e)
      return NULL;
  jws = g_strndup ((const char *) raw, out_len);
  parts = g_strsplit (jws, ".", -1);
  if (g_strv_length (parts) != 3 || *parts[0] == '\0' || *parts[2] == '\0')
    return NULL;
  return g_steal_pointer (&jws);
}

gboolean
pd_audit_anchor_parse (JsonObject  *event,
                       const char  *fixmedins_code,
                       PdAuditHead *head,
                       GError     **error)
{
  JsonObject *type = pd_json_obj (event, "type");
  JsonArray *entities = pd_json_arr (event, "entity");
  JsonObject *entity = entities != NULL && json_array_get_length (entities) > 0 ? pd_json_arr_obj (entities, 0) : NULL;
  JsonArray *details = entity != NULL ? pd_json_arr (entity, "detail") : NULL;
  g_autofree char *ename = entity_name (fixmedins_code);
  const char *recorded = pd_json_str (event, "recorded");
  const char *seq, *hash, *signature;
  gint64 us = 0;

  memset (head, 0, sizeof *head);
  if (g_strcmp0 (pd_json_str (event, "resourceType"), "AuditEvent") != 0)
    return malformed (error, "%s", _("it is not an AuditEvent"));
  if (type == NULL || g_strcmp0 (pd_json_str (type, "system"), PD_AUDIT_ANCHOR_SYSTEM) != 0
      || g_strcmp0 (pd_json_str (type, "code"), PD_AUDIT_ANCHOR_CODE) != 0)
    return malformed (error, _("its type is not %s|%s"), PD_AUDIT_ANCHOR_SYSTEM, PD_AUDIT_ANCHOR_CODE);
  if (recorded == NULL || !pd_time_parse_iso (recorded, &us, NULL))
    return malformed (error, "%s", _("its recorded time is missing or not a time"));
  if (entity == NULL)
    return malformed (error, "%s", _("it has no entity"));
  if (g_strcmp0 (pd_json_str (entity, "name"), ename) != 0)
    return malformed (error, _("entity[0].name is not %s"), ename);
  if (details == NULL)
    return malformed (error, "%s", _("entity[0] has no detail"));
  if ((seq = detail_value (details, "seq", "valueString", error)) == NULL
      || (hash = detail_value (details, "hash", "valueString", error)) == NULL
      || (signature = detail_value (details, "signature", "valueBase64Binary", error)) == NULL)
    return FALSE;
  if (!parse_seq (seq, &head->seq))
    return malformed (error, _("the seq “%s” is not a row number"), seq);
  if (!parse_hash (hash, head->mac))
    return malformed (error, _("the hash is not %d lowercase hexadecimal digits"), 2 * PD_KEY_SIZE);
  head->signature = parse_signature (signature);
  if (head->signature == NULL)
    return malformed (error, "%s", _("the signature is not a signed head in base64"));
  head->signed_at = g_strdup (recorded);
  return TRUE;
}

gboolean
pd_audit_anchor_send (PdFhirClient *client,
                      PdStore      *store,
                      const char   *fixmedins_code,
                      const char   *pharmacy_name,
                      gint64       *sent_seq,
                      GCancellable *cancellable,
                      GError      **error)
{
  g_auto(PdAuditHead) head = { 0 };
  g_autoptr(JsonNode) event = NULL;
  PdFhirAnswer answer = { 0 };
  gboolean ok;

  if (sent_seq != NULL)
    *sent_seq = 0;
  if (!pd_audit_head_read (store, &head, error))
    return FALSE;
  if (head.signature == NULL || head.signed_at == NULL || head.seq == 0)
    return TRUE;
  event = pd_audit_anchor_build (&head, fixmedins_code, pharmacy_name);
  /* Sent again, the same anchor does no harm: the latest stays the same head. */
  if (!pd_fhir_client_call (client, "POST", "AuditEvent", NULL, event, TRUE, &answer, cancellable, error))
    return FALSE;
  ok = answer.status == 200 || answer.status == 201;
  if (!ok)
    {
      g_autofree char *why = pd_fhir_answer_describe (&answer);

      g_set_error (error, PD_LINK_ERROR, answer.status >= 500 ? PD_LINK_ERROR_SERVER : PD_LINK_ERROR_REFUSED,
                   _("The hospital refused the audit anchor of row %lld: %s"), (long long) head.seq, why);
    }
  else if (sent_seq != NULL)
    *sent_seq = head.seq;
  pd_fhir_answer_clear (&answer);
  return ok;
}

gboolean
pd_audit_anchor_fetch (PdFhirClient *client,
                       const char   *fixmedins_code,
                       PdAuditHead  *head,
                       gboolean     *found,
                       GCancellable *cancellable,
                       GError      **error)
{
  g_autofree char *ename = entity_name (fixmedins_code);
  g_autofree char *escaped = g_uri_escape_string (ename, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("AuditEvent?entity-name=%s&_sort=-date&_count=1", escaped);
  PdFhirAnswer answer = { 0 };
  JsonObject *bundle;
  JsonArray *entries;
  JsonObject *resource;
  gboolean ok;

  memset (head, 0, sizeof *head);
  *found = FALSE;
  if (!pd_fhir_client_call (client, "GET", path, NULL, NULL, TRUE, &answer, cancellable, error))
    return FALSE;
  if (answer.status != 200)
    {
      g_autofree char *why = pd_fhir_answer_describe (&answer);

      g_set_error (error, PD_LINK_ERROR, answer.status >= 500 ? PD_LINK_ERROR_SERVER : PD_LINK_ERROR_REFUSED,
                   _("The hospital did not give the audit anchor: %s"), why);
      pd_fhir_answer_clear (&answer);
      return FALSE;
    }
  bundle = answer.body != NULL && JSON_NODE_HOLDS_OBJECT (answer.body) ? json_node_get_object (answer.body) : NULL;
  if (bundle == NULL || g_strcmp0 (pd_json_str (bundle, "resourceType"), "Bundle") != 0
      || g_strcmp0 (pd_json_str (bundle, "type"), "searchset") != 0)
    {
      pd_fhir_answer_clear (&answer);
      return malformed (error, "%s", _("the answer is not a searchset Bundle"));
    }
  entries = pd_json_arr (bundle, "entry");
  if (entries == NULL || json_array_get_length (entries) == 0)
    {
      pd_fhir_answer_clear (&answer);
      return TRUE;
    }
  resource = pd_json_arr_obj (entries, 0) != NULL ? pd_json_obj (pd_json_arr_obj (entries, 0), "resource") : NULL;
  if (resource == NULL)
    {
      pd_fhir_answer_clear (&answer);
      return malformed (error, "%s", _("entry[0] has no resource"));
    }
  ok = pd_audit_anchor_parse (resource, fixmedins_code, head, error);
  *found = ok;
  pd_fhir_answer_clear (&answer);
  return ok;
}

static gint64
last_seq (PdStore *store,
          GError **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT coalesce (max (seq), 0) FROM audit_event", error);
  gint64 seq = -1;

  if (stmt == NULL)
    return -1;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    seq = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return seq;
}

gboolean
pd_audit_anchor_check (PdStore           *store,
                       const PdAuditHead *anchor,
                       GError           **error)
{
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *stmt;
  gboolean have = FALSE, same = FALSE;
  gint64 last;

  if (!pd_audit_head_verify (store, anchor, &local_error))
    {
      g_set_error (error, PD_AUDIT_ANCHOR_ERROR, PD_AUDIT_ANCHOR_ERROR_UNSIGNED,
                   _("The hospital’s anchor of row %lld does not verify: %s"), (long long) anchor->seq,
                   local_error->message);
      return FALSE;
    }
  stmt = pd_store_prepare (store, "SELECT mac FROM audit_event WHERE seq = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, anchor->seq);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      have = TRUE;
      same = sqlite3_column_bytes (stmt, 0) == PD_KEY_SIZE
             && memcmp (sqlite3_column_blob (stmt, 0), anchor->mac, PD_KEY_SIZE) == 0;
    }
  sqlite3_reset (stmt);
  if (have && same)
    return TRUE;
  if (have)
    {
      g_set_error (error, PD_AUDIT_ANCHOR_ERROR, PD_AUDIT_ANCHOR_ERROR_DIFFERS,
                   _("The trail differs from what was anchored at row %lld (anchored at %s): row %lld is not the row the hospital holds"),
                   (long long) anchor->seq, anchor->signed_at, (long long) anchor->seq);
      return FALSE;
    }
  last = last_seq (store, error);
  if (last < 0)
    return FALSE;
  if (last < anchor->seq)
    g_set_error (error, PD_AUDIT_ANCHOR_ERROR, PD_AUDIT_ANCHOR_ERROR_ROLLED_BACK,
                 _("Rolled back: the hospital holds an anchor of row %lld signed at %s, this trail ends at row %lld (restored from an older copy, or cut)"),
                 (long long) anchor->seq, anchor->signed_at, (long long) last);
  else
    g_set_error (error, PD_AUDIT_ANCHOR_ERROR, PD_AUDIT_ANCHOR_ERROR_DIFFERS,
                 _("The trail differs from what was anchored at row %lld (anchored at %s): that row is missing"),
                 (long long) anchor->seq, anchor->signed_at);
  return FALSE;
}
