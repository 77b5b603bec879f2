/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-registry"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-registry.h"
#include "pd-signing.h"

/* {"last_mac": b64url, "last_seq": n, "signed_at": time}, canonical. */
static char *
head_payload (gint64        seq,
              const void   *mac,
              gsize         mac_len,
              const char   *signed_at,
              GError      **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *mac_b64 = pd_base64url_encode (mac, mac_len);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "last_mac");
  json_builder_add_string_value (b, mac_b64);
  json_builder_set_member_name (b, "last_seq");
  json_builder_add_int_value (b, seq);
  json_builder_set_member_name (b, "signed_at");
  json_builder_add_string_value (b, signed_at);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return pd_jcs_serialize (root, error);
}

typedef struct {
  PdSession *session;
} SignJob;

static gboolean
write_signed_head (PdStore  *store,
                   gpointer  user_data,
                   GError  **error)
{
  SignJob *job = user_data;
  sqlite3_stmt *key = pd_store_prepare (store, "SELECT id, uuid, private_sealed FROM signing_key"
                                               " WHERE owner = 'pharmacy' AND valid_to IS NULL ORDER BY id DESC LIMIT 1", error);
  sqlite3_stmt *head;
  sqlite3_stmt *upd;
  g_autoptr(GBytes) priv = NULL;
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  g_autofree char *payload = NULL;
  g_autofree char *jws = NULL;
  g_autofree char *detail = NULL;
  gint64 key_id = 0, seq;
  PdAuditEntry e = { 0 };

  if (key == NULL)
    return FALSE;
  if (sqlite3_step (key) == SQLITE_ROW)
    {
      key_id = sqlite3_column_int64 (key, 0);
      priv = pd_crypto_open (pd_session_get_data_key (job->session), "signing_key", "private_sealed",
                             (const char *) sqlite3_column_text (key, 1),
                             sqlite3_column_blob (key, 2), sqlite3_column_bytes (key, 2), error);
    }
  else
    g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID, "%s", _("The pharmacy has no signing key"));
  sqlite3_reset (key);
  if (priv == NULL)
    return FALSE;

  /* The signing is itself an event; the head then covers it. */
  e.actor_id = pd_session_get_account (job->session)->id;
  e.action = "audit.sign-head";
  e.object_type = "audit";
  if (!pd_audit_append (store, pd_session_get_audit_key (job->session), &e, error))
    return FALSE;

  head = pd_store_prepare (store, "SELECT last_seq, last_mac FROM audit_head WHERE id = 1", error);
  if (head == NULL || sqlite3_step (head) != SQLITE_ROW)
    {
      if (head != NULL)
        sqlite3_reset (head);
      return FALSE;
    }
  seq = sqlite3_column_int64 (head, 0);
  payload = head_payload (seq, sqlite3_column_blob (head, 1), sqlite3_column_bytes (head, 1), now, error);
  sqlite3_reset (head);
  if (payload == NULL)
    return FALSE;
  jws = pd_jws_sign_detached (g_bytes_get_data (priv, NULL), payload, strlen (payload), error);
  if (jws == NULL)
    return FALSE;
  upd = pd_store_prepare (store, "UPDATE audit_head SET signed_seq = ?, signed_at = ?, signature = ?, signing_key_id = ? WHERE id = 1", error);
  if (upd == NULL)
    return FALSE;
  sqlite3_bind_int64 (upd, 1, seq);
  sqlite3_bind_text (upd, 2, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (upd, 3, jws, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (upd, 4, key_id);
  return pd_store_step_done (store, upd, error);
}

/* Hourly and at every export. An administrator or any signed-in desk may
 * sign: the key belongs to the pharmacy and is opened by the data key. */
gboolean
pd_registry_sign_audit_head (PdSession *session,
                             GError   **error)
{
  SignJob job = { session };

  return pd_store_write (pd_session_get_store (session), write_signed_head, &job, error);
}

static gboolean
public_key_of (PdStore    *store,
               gint64      key_id,
               guint8      pub[32],
               char      **valid_from,
               char      **valid_to,
               gint64     *account_id,
               GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT public_key, valid_from, valid_to, coalesce (account_id, 0)"
                                                " FROM signing_key WHERE id = ?", error);
  gboolean ok = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, key_id);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_bytes (stmt, 0) == 32)
    {
      memcpy (pub, sqlite3_column_blob (stmt, 0), 32);
      if (valid_from != NULL)
        *valid_from = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      if (valid_to != NULL)
        *valid_to = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      if (account_id != NULL)
        *account_id = sqlite3_column_int64 (stmt, 3);
      ok = TRUE;
    }
  else
    g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID, "%s", _("The signing key is not in the pharmacy’s registry"));
  sqlite3_reset (stmt);
  return ok;
}

/* The signed head must verify under the registry's pharmacy key and name
 * the MAC the trail really has at that row. */
gboolean
pd_registry_verify_audit_head (PdStore  *store,
                               gboolean *signed_out,
                               GError  **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT h.signed_seq, h.signed_at, h.signature, h.signing_key_id, e.mac"
    " FROM audit_head h LEFT JOIN audit_event e ON e.seq = h.signed_seq WHERE h.id = 1", error);
  g_autofree char *signed_at = NULL, *jws = NULL, *payload = NULL;
  g_autofree guint8 *mac = NULL;
  gsize mac_len = 0;
  gint64 seq = 0, key_id = 0;
  guint8 pub[32], got[32];

  *signed_out = FALSE;
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 2) != SQLITE_NULL)
    {
      seq = sqlite3_column_int64 (stmt, 0);
      signed_at = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      jws = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      key_id = sqlite3_column_int64 (stmt, 3);
      mac_len = sqlite3_column_bytes (stmt, 4);
      mac = g_memdup2 (sqlite3_column_blob (stmt, 4), mac_len);
    }
  sqlite3_reset (stmt);
  if (jws == NULL)
    return TRUE;
  *signed_out = TRUE;
  if (mac_len == 0)
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID,
                   _("The signed head names audit row %lld, which is missing"), (long long) seq);
      return FALSE;
    }
  payload = head_payload (seq, mac, mac_len, signed_at, error);
  if (payload == NULL || !public_key_of (store, key_id, pub, NULL, NULL, NULL, error))
    return FALSE;
  if (!pd_jws_verify_detached (jws, payload, strlen (payload), got, error))
    {
      g_prefix_error (error, _("The signed head of the audit trail does not verify: "));
      return FALSE;
    }
  if (memcmp (got, pub, 32) != 0)
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID, "%s",
                   _("The signed head was signed by a key other than the pharmacy’s"));
      return FALSE;
    }
  return TRUE;
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
