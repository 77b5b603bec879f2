/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-registry"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-registry.h"
#include "pd-signing.h"

typedef struct {
  PdSession *session;
} SignJob;

static gboolean
write_signed_head (PdStore  *store,
                   gpointer  user_data,
                   GError  **error)
{
  SignJob *job = user_data;
  PdAuditEntry e = { pd_session_get_account (job->session)->id, "audit.sign-head", "audit", NULL, "ok", NULL, NULL, NULL };

  return pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error);
}

/* At every export: a row of its own, whose append signs the head anew
 * (every append does, pd-audit.c). */
gboolean
pd_registry_sign_audit_head (PdSession *session,
                             GError   **error)
{
  SignJob job = { session };

  return pd_store_write (pd_session_get_store (session), write_signed_head, &job, error);
}

/* A signature proves who signed only if the key was that pharmacist's and
 * valid at the time of signing. */
gboolean
pd_registry_verify_signature (PdStore    *store,
                              const char *jws,
                              const char *payload,
                              gsize       len,
                              const char *at,
                              gint64     *account_id,
                              GError    **error)
{
  guint8 pub[32];
  sqlite3_stmt *stmt;
  gboolean found = FALSE;

  if (!pd_jws_verify_detached (jws, payload, len, pub, error))
    return FALSE;
  stmt = pd_store_prepare (store, "SELECT coalesce (account_id, 0) FROM signing_key WHERE public_key = ?"
                                  " AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, pub, 32, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, at, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, at, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      found = TRUE;
      if (account_id != NULL)
        *account_id = sqlite3_column_int64 (stmt, 0);
    }
  sqlite3_reset (stmt);
  if (!found)
    g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID, "%s",
                 _("The signature is sound but its key was not a registered pharmacist’s key at that time"));
  return found;
}

/* The registry as the regulator export carries it: public keys, owners
 * (by account uuid and licence number), validity. */
JsonNode *
pd_registry_to_json (PdStore *store,
                     GError **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT k.uuid, k.owner, k.public_key, k.valid_from, k.valid_to, a.uuid, a.pharmacist_licence"
    " FROM signing_key k LEFT JOIN account a ON a.id = k.account_id ORDER BY k.id", error);
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (stmt == NULL)
    return NULL;
  json_builder_begin_array (b);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autofree char *x = pd_base64url_encode (sqlite3_column_blob (stmt, 2), sqlite3_column_bytes (stmt, 2));

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "kid");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 0));
      json_builder_set_member_name (b, "owner");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 1));
      json_builder_set_member_name (b, "jwk");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "kty");
      json_builder_add_string_value (b, "OKP");
      json_builder_set_member_name (b, "crv");
      json_builder_add_string_value (b, "Ed25519");
      json_builder_set_member_name (b, "x");
      json_builder_add_string_value (b, x);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "valid_from");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 3));
      json_builder_set_member_name (b, "valid_to");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 4));
      json_builder_set_member_name (b, "account");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 5));
      json_builder_set_member_name (b, "pharmacist_licence");
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 6));
      json_builder_end_object (b);
    }
  sqlite3_reset (stmt);
  json_builder_end_array (b);
  return json_builder_get_root (b);
}
