/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-audit"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-audit.h"
#include "pd-audit-pending.h"
#include "pd-audit-private.h"
#include "pd-clock.h"

void
pd_audit_key_from_data_key (const guint8 *data_key,
                            guint8        audit_key[PD_KEY_SIZE])
{
  pd_crypto_hmac (data_key, "pharmdesk audit chain", NULL, 0, audit_key);
}

/* The chain's MAC key and the pharmacy's current head-signing key. */
gboolean
pd_audit_keys_load (PdStore      *store,
                    const guint8 *data_key,
                    PdAuditKeys  *keys,
                    GError      **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT id, uuid, private_sealed FROM signing_key"
                                                " WHERE owner = 'pharmacy' AND valid_to IS NULL ORDER BY id DESC LIMIT 1", error);
  g_autoptr(GBytes) priv = NULL;

  memset (keys, 0, sizeof *keys);
  pd_audit_key_from_data_key (data_key, keys->mac_key);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      keys->head_key_id = sqlite3_column_int64 (stmt, 0);
      priv = pd_crypto_open (data_key, "signing_key", "private_sealed", (const char *) sqlite3_column_text (stmt, 1),
                             sqlite3_column_blob (stmt, 2), sqlite3_column_bytes (stmt, 2), error);
      if (priv == NULL || g_bytes_get_size (priv) != PD_ED25519_PRIVATE_SIZE)
        {
          sqlite3_reset (stmt);
          if (priv != NULL)
            g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT, "%s", _("The pharmacy’s signing key is damaged"));
          return FALSE;
        }
      memcpy (keys->head_key, g_bytes_get_data (priv, NULL), PD_ED25519_PRIVATE_SIZE);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

void
pd_audit_keys_wipe (PdAuditKeys *keys)
{
  pd_crypto_wipe (keys, sizeof *keys);
}

void
pd_audit_put_field (GByteArray *buf,
                    const char *value)
{
  guint32 len = value != NULL ? (guint32) strlen (value) : G_MAXUINT32;
  guint8 be[4] = { len >> 24, len >> 16, len >> 8, len };

  g_byte_array_append (buf, be, 4);
  if (value != NULL)
    g_byte_array_append (buf, (const guint8 *) value, len);
}

/* The actor is sealed as stored: NULL, or the account id's digits (a 0,
 * -1 or 'x' put in place of NULL no longer reads as "no actor"). The
 * settable clock's time is sealed when there is one, so rows written
 * before it existed keep their seals. */
static void
row_mac (const guint8 *key,
         const guint8 *prev_mac,
         gsize         prev_len,
         gint64        seq,
         const char   *at,
         const char   *actor,
         const char   *action,
         const char   *object_type,
         const char   *object_uuid,
         const char   *outcome,
         const char   *detail,
         const char   *clock_at,
         guint8        out[PD_KEY_SIZE])
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  char number[32];

  g_byte_array_append (buf, prev_mac, prev_len);
  g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, seq);
  pd_audit_put_field (buf, number);
  pd_audit_put_field (buf, at);
  pd_audit_put_field (buf, actor);
  pd_audit_put_field (buf, action);
  pd_audit_put_field (buf, object_type);
  pd_audit_put_field (buf, object_uuid);
  pd_audit_put_field (buf, outcome);
  pd_audit_put_field (buf, detail);
  if (clock_at != NULL)
    pd_audit_put_field (buf, clock_at);
  pd_crypto_hmac (key, "audit row", buf->data, buf->len, out);
}

/* {"last_mac": b64url, "last_seq": n, "signed_at": time}, canonical. */
char *
pd_audit_head_payload (gint64        seq,
                       const guint8 *mac,
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

static gboolean
sign_head (PdStore           *store,
           const PdAuditKeys *keys,
           gint64             seq,
           const guint8      *mac,
           GError           **error)
{
  g_autofree char *now = pd_time_format_iso (pd_clock_real_now_us ());
  g_autofree char *payload = NULL;
  g_autofree char *jws = NULL;
  sqlite3_stmt *upd;

  if (keys->head_key_id == 0)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT, "%s",
                   _("The pharmacy has no signing key, so the audit trail cannot be signed"));
      return FALSE;
    }
  payload = pd_audit_head_payload (seq, mac, PD_KEY_SIZE, now, error);
  if (payload == NULL)
    return FALSE;
  jws = pd_jws_sign_detached (keys->head_key, payload, strlen (payload), error);
  if (jws == NULL)
    return FALSE;
  upd = pd_store_prepare (store, "UPDATE audit_head SET signed_seq = ?, signed_at = ?, signature = ?, signing_key_id = ? WHERE id = 1", error);
  if (upd == NULL)
    return FALSE;
  sqlite3_bind_int64 (upd, 1, seq);
  sqlite3_bind_text (upd, 2, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (upd, 3, jws, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (upd, 4, keys->head_key_id);
  return pd_store_step_done (store, upd, error);
}

/* Call inside a write transaction (pd_store_write), with the change it
 * records. The head is signed anew with each row, in the same
 * transaction: a cut-off tail cannot be given a head that verifies. */
gboolean
pd_audit_append (PdStore            *store,
                 const PdAuditKeys  *keys,
                 const PdAuditEntry *entry,
                 GError            **error)
{
  sqlite3_stmt *head = pd_store_prepare (store, "SELECT last_seq, last_mac FROM audit_head WHERE id = 1", error);
  sqlite3_stmt *ins;
  sqlite3_stmt *upd;
  g_autofree guint8 *prev = NULL;
  gsize prev_len = 0;
  gint64 seq;
  guint8 mac[PD_KEY_SIZE];
  char actor[32];
  g_autofree char *now = NULL;
  g_autofree char *clock_now = NULL;
  const char *at = entry->at;
  const char *clock_at = entry->clock_at;
  const char *outcome = entry->outcome != NULL ? entry->outcome : "ok";

  g_return_val_if_fail (!sqlite3_get_autocommit (pd_store_get_db (store)), FALSE);

  if (at == NULL)
    {
      at = now = pd_time_format_iso (pd_clock_real_now_us ());
      if (pd_store_get_settable_clock (store))
        clock_at = clock_now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
    }
  g_snprintf (actor, sizeof actor, "%" G_GINT64_FORMAT, entry->actor_id);

  if (head == NULL)
    return FALSE;
  if (sqlite3_step (head) != SQLITE_ROW)
    {
      sqlite3_reset (head);
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT, "%s", _("The audit trail has no head row"));
      return FALSE;
    }
  seq = sqlite3_column_int64 (head, 0) + 1;
  prev_len = sqlite3_column_bytes (head, 1);
  prev = g_memdup2 (sqlite3_column_blob (head, 1), prev_len);
  sqlite3_reset (head);

  row_mac (keys->mac_key, prev, prev_len, seq, at, entry->actor_id > 0 ? actor : NULL, entry->action,
           entry->object_type, entry->object_uuid, outcome, entry->detail, clock_at, mac);

  ins = pd_store_prepare (store,
                          "INSERT INTO audit_event (seq, at, actor_id, action, object_type, object_uuid, outcome, detail, mac, clock_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (ins == NULL)
    return FALSE;
  sqlite3_bind_int64 (ins, 1, seq);
  sqlite3_bind_text (ins, 2, at, -1, SQLITE_TRANSIENT);
  if (entry->actor_id > 0)
    sqlite3_bind_int64 (ins, 3, entry->actor_id);
  sqlite3_bind_text (ins, 4, entry->action, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (ins, 5, entry->object_type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (ins, 6, entry->object_uuid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (ins, 7, outcome, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (ins, 8, entry->detail, -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob (ins, 9, mac, sizeof mac, SQLITE_TRANSIENT);
  sqlite3_bind_text (ins, 10, clock_at, -1, SQLITE_TRANSIENT);
  if (!pd_store_step_done (store, ins, error))
    return FALSE;

  upd = pd_store_prepare (store, "UPDATE audit_head SET last_seq = ?, last_mac = ? WHERE id = 1", error);
  if (upd == NULL)
    return FALSE;
  sqlite3_bind_int64 (upd, 1, seq);
  sqlite3_bind_blob (upd, 2, mac, sizeof mac, SQLITE_TRANSIENT);
  return pd_store_step_done (store, upd, error) && sign_head (store, keys, seq, mac, error);
}

static void
report_bad (PdAuditReport *report,
            gint64         seq,
            char          *problem)
{
  if (report->ok)
    {
      report->ok = FALSE;
      report->first_bad_seq = seq;
      report->problem = problem;
    }
  else
    g_free (problem);
}

gboolean
pd_audit_head_read (PdStore     *store,
                    PdAuditHead *head,
                    GError     **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT coalesce (signed_seq, 0), e.mac, signed_at, signature, coalesce (signing_key_id, 0)"
    " FROM audit_head h LEFT JOIN audit_event e ON e.seq = h.signed_seq WHERE h.id = 1", error);

  memset (head, 0, sizeof *head);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      head->seq = sqlite3_column_int64 (stmt, 0);
      if (sqlite3_column_bytes (stmt, 1) == PD_KEY_SIZE)
        memcpy (head->mac, sqlite3_column_blob (stmt, 1), PD_KEY_SIZE);
      head->signed_at = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      head->signature = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      head->key_id = sqlite3_column_int64 (stmt, 4);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* A signed head (the database's own, or an anchor the hospital kept) is
 * good when its signature verifies under a pharmacy key of the registry. */
gboolean
pd_audit_head_verify (PdStore           *store,
                      const PdAuditHead *head,
                      GError           **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *payload = NULL;
  guint8 got[PD_ED25519_PUBLIC_SIZE];
  gboolean known = FALSE;

  if (head->signature == NULL || head->signed_at == NULL)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT, "%s", _("The head of the audit trail is not signed"));
      return FALSE;
    }
  payload = pd_audit_head_payload (head->seq, head->mac, PD_KEY_SIZE, head->signed_at, error);
  if (payload == NULL)
    return FALSE;
  if (!pd_jws_verify_detached (head->signature, payload, strlen (payload), got, error))
    {
      g_prefix_error (error, _("The signed head of the audit trail does not verify: "));
      return FALSE;
    }
  stmt = pd_store_prepare (store, "SELECT 1 FROM signing_key WHERE owner = 'pharmacy' AND public_key = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, got, sizeof got, SQLITE_TRANSIENT);
  known = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  if (!known)
    g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT, "%s",
                 _("The signed head was signed by a key other than the pharmacy’s"));
  return known;
}

void
pd_audit_head_clear (PdAuditHead *head)
{
  g_clear_pointer (&head->signed_at, g_free);
  g_clear_pointer (&head->signature, g_free);
}

/* The head names the last row, with its MAC, and is signed at that row. */
static void
check_head (PdStore       *store,
            const guint8  *last_mac,
            gint64         last_seq,
            PdAuditReport *report)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT last_seq, last_mac FROM audit_head WHERE id = 1", NULL);
  g_auto(PdAuditHead) head = { 0 };
  g_autoptr(GError) error = NULL;
  gint64 head_seq;
  gboolean mac_ok;

  if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
    {
      if (stmt != NULL)
        sqlite3_reset (stmt);
      report_bad (report, last_seq + 1, g_strdup (_("The audit trail’s head row is missing")));
      return;
    }
  head_seq = sqlite3_column_int64 (stmt, 0);
  mac_ok = last_seq == 0
           || (sqlite3_column_bytes (stmt, 1) == PD_KEY_SIZE && memcmp (sqlite3_column_blob (stmt, 1), last_mac, PD_KEY_SIZE) == 0);
  sqlite3_reset (stmt);
  if (head_seq != last_seq || !mac_ok)
    {
      report_bad (report, MIN (head_seq, last_seq) + 1,
                  g_strdup_printf (_("The audit trail ends at row %lld but its head names row %lld: rows were removed or the head was altered"),
                                   (long long) last_seq, (long long) head_seq));
      return;
    }
  if (last_seq == 0 || !pd_audit_head_read (store, &head, NULL))
    return;
  if (head.signature != NULL && head.seq != last_seq)
    {
      report_bad (report, MIN (head.seq, last_seq) + 1,
                  g_strdup_printf (_("The head of the audit trail is signed at row %lld, but the trail ends at row %lld: rows were removed or the head was altered"),
                                   (long long) head.seq, (long long) last_seq));
      return;
    }
  if (!pd_audit_head_verify (store, &head, &error))
    {
      report_bad (report, 0, g_strdup (error->message));
      return;
    }
  report->head_signed = TRUE;
}

gboolean
pd_audit_verify (PdStore       *store,
                 const guint8  *audit_key,
                 PdAuditReport *report,
                 GError       **error)
{
  sqlite3_stmt *rows = pd_store_prepare (store,
                                         "SELECT seq, at, actor_id, action, object_type, object_uuid, outcome, detail, mac, clock_at"
                                         " FROM audit_event ORDER BY seq", error);
  guint8 prev[PD_KEY_SIZE];
  gsize prev_len = 0;
  gint64 expected = 1;
  int rc;

  memset (report, 0, sizeof *report);
  report->ok = TRUE;
  if (rows == NULL)
    return FALSE;
  while ((rc = sqlite3_step (rows)) == SQLITE_ROW)
    {
      gint64 seq = sqlite3_column_int64 (rows, 0);
      guint8 mac[PD_KEY_SIZE];
      const void *stored = sqlite3_column_blob (rows, 8);
      int stored_len = sqlite3_column_bytes (rows, 8);
      int actor_type = sqlite3_column_type (rows, 2);

      report->rows++;
      if (seq != expected)
        {
          report_bad (report, expected,
                      g_strdup_printf (_("Audit row %lld is missing (the next row is %lld)"),
                                       (long long) expected, (long long) seq));
          break;
        }
      row_mac (audit_key, prev, prev_len, seq,
               (const char *) sqlite3_column_text (rows, 1),
               actor_type == SQLITE_NULL ? NULL : (const char *) sqlite3_column_text (rows, 2),
               (const char *) sqlite3_column_text (rows, 3),
               (const char *) sqlite3_column_text (rows, 4),
               (const char *) sqlite3_column_text (rows, 5),
               (const char *) sqlite3_column_text (rows, 6),
               (const char *) sqlite3_column_text (rows, 7),
               (const char *) sqlite3_column_text (rows, 9),
               mac);
      if (stored_len != PD_KEY_SIZE || memcmp (stored, mac, PD_KEY_SIZE) != 0
          || (actor_type != SQLITE_NULL && actor_type != SQLITE_INTEGER))
        {
          report_bad (report, seq,
                      g_strdup_printf (_("Audit row %lld was altered: its seal does not match"), (long long) seq));
          break;
        }
      memcpy (prev, mac, PD_KEY_SIZE);
      prev_len = PD_KEY_SIZE;
      expected++;
    }
  sqlite3_reset (rows);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return pd_store_set_error (pd_store_get_db (store), rc, "audit_event", error);
  if (report->ok)
    check_head (store, prev, expected - 1, report);
  if (report->ok)
    pd_audit_pending_check (store, report);
  return TRUE;
}

void
pd_audit_report_clear (PdAuditReport *report)
{
  g_clear_pointer (&report->problem, g_free);
  g_clear_pointer (&report->pending_note, g_free);
}
