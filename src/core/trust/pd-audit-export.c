/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-audit-export"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-audit-export.h"
#include "pd-clock.h"
#include "pd-registry.h"
#include "pd-signing.h"

static gboolean
valid_day (const char *day)
{
  return day != NULL && g_regex_match_simple ("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", day, 0, 0);
}

static void
add_extension (JsonBuilder *b,
               const char  *url,
               const char  *type,
               const char  *value)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "url");
  json_builder_add_string_value (b, url);
  json_builder_set_member_name (b, type);
  json_builder_add_string_value (b, value);
  json_builder_end_object (b);
}

static void
identifier (JsonBuilder *b,
            const char  *member,
            const char  *system,
            const char  *value)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "identifier");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, system);
  json_builder_set_member_name (b, "value");
  json_builder_add_string_value (b, value);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static gboolean
add_audit_events (JsonBuilder *b,
                  PdStore     *store,
                  const char  *from,
                  const char  *to,
                  GError     **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT e.seq, e.at, a.uuid, e.action, e.object_type, e.object_uuid, e.outcome, e.detail, e.mac"
    " FROM audit_event e LEFT JOIN account a ON a.id = e.actor_id"
    " WHERE substr (e.at, 1, 10) BETWEEN ? AND ? ORDER BY e.seq", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, from, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, to, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autofree char *id = g_strdup_printf ("audit-%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (stmt, 0));
      g_autofree char *seq = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (stmt, 0));
      g_autofree char *mac = pd_base64url_encode (sqlite3_column_blob (stmt, 8), sqlite3_column_bytes (stmt, 8));
      const char *outcome = (const char *) sqlite3_column_text (stmt, 6);
      const char *who = (const char *) sqlite3_column_text (stmt, 2);
      const char *object_type = (const char *) sqlite3_column_text (stmt, 4);
      const char *object_uuid = (const char *) sqlite3_column_text (stmt, 5);
      const char *detail = (const char *) sqlite3_column_text (stmt, 7);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "fullUrl");
      json_builder_add_string_value (b, id);
      json_builder_set_member_name (b, "resource");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "resourceType");
      json_builder_add_string_value (b, "AuditEvent");
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, id);
      json_builder_set_member_name (b, "extension");
      json_builder_begin_array (b);
      add_extension (b, "urn:pharmdesk:audit-seq", "valueString", seq);
      add_extension (b, "urn:pharmdesk:audit-mac", "valueString", mac);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "type");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "system");
      json_builder_add_string_value (b, "urn:pharmdesk:audit");
      json_builder_set_member_name (b, "code");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 3));
      json_builder_end_object (b);
      json_builder_set_member_name (b, "recorded");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 1));
      /* 0 success, 4 minor failure (refused), 8 serious failure. */
      json_builder_set_member_name (b, "outcome");
      json_builder_add_string_value (b, g_strcmp0 (outcome, "ok") == 0 ? "0" : g_strcmp0 (outcome, "refused") == 0 ? "4" : "8");
      if (detail != NULL)
        {
          json_builder_set_member_name (b, "outcomeDesc");
          json_builder_add_string_value (b, detail);
        }
      json_builder_set_member_name (b, "agent");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      if (who != NULL)
        identifier (b, "who", "urn:pharmdesk:account", who);
      json_builder_set_member_name (b, "requestor");
      json_builder_add_boolean_value (b, TRUE);
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "source");
      json_builder_begin_object (b);
      identifier (b, "observer", "urn:pharmdesk:desk", "pharmdesk");
      json_builder_end_object (b);
      if (object_uuid != NULL)
        {
          g_autofree char *system = g_strdup_printf ("urn:pharmdesk:%s", object_type != NULL ? object_type : "object");

          json_builder_set_member_name (b, "entity");
          json_builder_begin_array (b);
          json_builder_begin_object (b);
          identifier (b, "what", system, object_uuid);
          json_builder_end_object (b);
          json_builder_end_array (b);
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
add_decisions (JsonBuilder *b,
               PdStore     *store,
               const char  *from,
               const char  *to,
               GError     **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT d.uuid, d.decision, d.decided_at, d.jws, d.record, a.pharmacist_licence, a.practitioner_ref, p.rx_system, p.rx_number"
    " FROM review_decision d JOIN account a ON a.id = d.pharmacist_id JOIN prescription p ON p.id = d.prescription_id"
    " WHERE substr (d.decided_at, 1, 10) BETWEEN ? AND ? ORDER BY d.id", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, from, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, to, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autofree char *data = g_base64_encode (sqlite3_column_text (stmt, 3), sqlite3_column_bytes (stmt, 3));
      g_autofree char *record = g_base64_encode (sqlite3_column_text (stmt, 4), sqlite3_column_bytes (stmt, 4));

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "resource");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "resourceType");
      json_builder_add_string_value (b, "Provenance");
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 0));
      json_builder_set_member_name (b, "extension");
      json_builder_begin_array (b);
      add_extension (b, "urn:pharmdesk:review-record", "valueBase64Binary", record);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "target");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "identifier");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "system");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 7));
      json_builder_set_member_name (b, "value");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 8));
      json_builder_end_object (b);
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "recorded");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 2));
      json_builder_set_member_name (b, "activity");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 1));
      json_builder_end_object (b);
      json_builder_set_member_name (b, "agent");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      identifier (b, "who", "urn:pharmdesk:identifier:pharmacist-licence", (const char *) sqlite3_column_text (stmt, 5));
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "signature");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "system");
      json_builder_add_string_value (b, "urn:iso-astm:E1762-95:2013");
      json_builder_set_member_name (b, "code");
      json_builder_add_string_value (b, "1.2.840.10065.1.12.1.5");
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "when");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 2));
      identifier (b, "who", "urn:pharmdesk:identifier:pharmacist-licence", (const char *) sqlite3_column_text (stmt, 5));
      json_builder_set_member_name (b, "sigFormat");
      json_builder_add_string_value (b, "application/jose");
      json_builder_set_member_name (b, "data");
      json_builder_add_string_value (b, data);
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
add_head_and_registry (JsonBuilder *b,
                       PdStore     *store,
                       GError     **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT signed_seq, signed_at, signature FROM audit_head WHERE id = 1", error);
  g_autoptr(JsonNode) registry = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *registry_text = NULL;
  g_autofree char *seq = NULL;

  if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
    {
      if (stmt != NULL)
        sqlite3_reset (stmt);
      return FALSE;
    }
  seq = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (stmt, 0));
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resource");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resourceType");
  json_builder_add_string_value (b, "Basic");
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, "audit-head");
  json_builder_set_member_name (b, "code");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, "signed head of the audit chain");
  json_builder_end_object (b);
  json_builder_set_member_name (b, "extension");
  json_builder_begin_array (b);
  add_extension (b, "urn:pharmdesk:audit-head-seq", "valueString", seq);
  add_extension (b, "urn:pharmdesk:audit-head-signed-at", "valueString", (const char *) sqlite3_column_text (stmt, 1));
  add_extension (b, "urn:pharmdesk:audit-head-jws", "valueString", (const char *) sqlite3_column_text (stmt, 2));
  sqlite3_reset (stmt);

  registry = pd_registry_to_json (store, error);
  if (registry == NULL)
    return FALSE;
  json_generator_set_root (gen, registry);
  registry_text = json_generator_to_data (gen, NULL);
  add_extension (b, "urn:pharmdesk:key-registry", "valueString", registry_text);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return TRUE;
}

JsonNode *
pd_audit_export (PdSession  *session,
                 const char *from_day,
                 const char *to_day,
                 GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  g_autofree char *detail = NULL;

  if (!valid_day (from_day) || !valid_day (to_day) || g_strcmp0 (from_day, to_day) > 0)
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID,
                   _("The period must be two dates YYYY-MM-DD, the first not after the second (got “%s” to “%s”)"),
                   from_day != NULL ? from_day : "", to_day != NULL ? to_day : "");
      return NULL;
    }
  if (!pd_session_require (session, PD_ACTION_EXPORT_AUDIT, "audit", NULL, error))
    return NULL;
  detail = g_strdup_printf ("from=%s to=%s", from_day, to_day);
  if (!pd_session_audit (session, "audit.export", "audit", NULL, "ok", detail, error)
      || !pd_registry_sign_audit_head (session, error))
    return NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resourceType");
  json_builder_add_string_value (b, "Bundle");
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "collection");
  json_builder_set_member_name (b, "timestamp");
  json_builder_add_string_value (b, now);
  json_builder_set_member_name (b, "entry");
  json_builder_begin_array (b);
  if (!add_audit_events (b, store, from_day, to_day, error)
      || !add_decisions (b, store, from_day, to_day, error)
      || !add_head_and_registry (b, store, error))
    return NULL;
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
