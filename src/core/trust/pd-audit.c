/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-audit"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-audit.h"
#include "pd-clock.h"

void
pd_audit_key_from_data_key (const guint8 *data_key,
                            guint8        audit_key[PD_KEY_SIZE])
{
  pd_crypto_hmac (data_key, "pharmdesk audit chain", NULL, 0, audit_key);
}

/* Length-prefixed fields, so that no two different rows encode alike. */
static void
put_field (GByteArray *buf,
           const char *value)
{
  guint32 len = value != NULL ? (guint32) strlen (value) : G_MAXUINT32;
  guint8 be[4] = { len >> 24, len >> 16, len >> 8, len };

  g_byte_array_append (buf, be, 4);
  if (value != NULL)
    g_byte_array_append (buf, (const guint8 *) value, len);
}

static void
row_mac (const guint8 *key,
         const guint8 *prev_mac,
         gsize         prev_len,
         gint64        seq,
         const char   *at,
         gint64        actor_id,
         const char   *action,
         const char   *object_type,
         const char   *object_uuid,
         const char   *outcome,
         const char   *detail,
         guint8        out[PD_KEY_SIZE])
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  char number[32];

  g_byte_array_append (buf, prev_mac, prev_len);
  g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, seq);
  put_field (buf, number);
  put_field (buf, at);
  g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, actor_id);
  put_field (buf, actor_id > 0 ? number : NULL);
  put_field (buf, action);
  put_field (buf, object_type);
  put_field (buf, object_uuid);
  put_field (buf, outcome);
  put_field (buf, detail);
  pd_crypto_hmac (key, "audit row", buf->data, buf->len, out);
}

/* Call inside a write transaction (pd_store_write), with the change it records. */
gboolean
pd_audit_append (PdStore            *store,
                 const guint8       *audit_key,
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
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  const char *at = entry->at != NULL ? entry->at : now;
  const char *outcome = entry->outcome != NULL ? entry->outcome : "ok";

  g_return_val_if_fail (!sqlite3_get_autocommit (pd_store_get_db (store)), FALSE);

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

  row_mac (audit_key, prev, prev_len, seq, at, entry->actor_id, entry->action,
           entry->object_type, entry->object_uuid, outcome, entry->detail, mac);

  ins = pd_store_prepare (store,
                          "INSERT INTO audit_event (seq, at, actor_id, action, object_type, object_uuid, outcome, detail, mac)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
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
  if (!pd_store_step_done (store, ins, error))
    return FALSE;

  upd = pd_store_prepare (store, "UPDATE audit_head SET last_seq = ?, last_mac = ? WHERE id = 1", error);
  if (upd == NULL)
    return FALSE;
  sqlite3_bind_int64 (upd, 1, seq);
  sqlite3_bind_blob (upd, 2, mac, sizeof mac, SQLITE_TRANSIENT);
  return pd_store_step_done (store, upd, error);
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
pd_audit_verify (PdStore       *store,
                 const guint8  *audit_key,
                 PdAuditReport *report,
                 GError       **error)
{
  sqlite3_stmt *rows = pd_store_prepare (store,
                                         "SELECT seq, at, actor_id, action, object_type, object_uuid, outcome, detail, mac"
                                         " FROM audit_event ORDER BY seq", error);
  sqlite3_stmt *head;
  guint8 prev[PD_KEY_SIZE];
  gsize prev_len = 0;
  gint64 expected = 1;
  gint64 head_seq = 0, signed_seq = 0;
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
               sqlite3_column_int64 (rows, 2),
               (const char *) sqlite3_column_text (rows, 3),
               (const char *) sqlite3_column_text (rows, 4),
               (const char *) sqlite3_column_text (rows, 5),
               (const char *) sqlite3_column_text (rows, 6),
               (const char *) sqlite3_column_text (rows, 7),
               mac);
      if (stored_len != PD_KEY_SIZE || memcmp (stored, mac, PD_KEY_SIZE) != 0)
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
  if (!report->ok)
    return TRUE;

  head = pd_store_prepare (store, "SELECT last_seq, last_mac, coalesce (signed_seq, 0) FROM audit_head WHERE id = 1", error);
  if (head == NULL)
    return FALSE;
  if (sqlite3_step (head) != SQLITE_ROW)
    {
      sqlite3_reset (head);
      report_bad (report, expected, g_strdup (_("The audit trail’s head row is missing")));
      return TRUE;
    }
  head_seq = sqlite3_column_int64 (head, 0);
  signed_seq = sqlite3_column_int64 (head, 2);
  if (head_seq != expected - 1
      || (head_seq > 0 && (sqlite3_column_bytes (head, 1) != PD_KEY_SIZE
                           || memcmp (sqlite3_column_blob (head, 1), prev, PD_KEY_SIZE) != 0)))
    report_bad (report, MIN (head_seq, expected - 1) + 1,
                g_strdup_printf (_("The audit trail ends at row %lld but its head names row %lld: rows were removed or the head was altered"),
                                 (long long) (expected - 1), (long long) head_seq));
  else if (signed_seq > head_seq)
    report_bad (report, head_seq + 1,
                g_strdup_printf (_("A signed head covered row %lld, but the trail now ends at row %lld"),
                                 (long long) signed_seq, (long long) head_seq));
  sqlite3_reset (head);
  return TRUE;
}

void
pd_audit_report_clear (PdAuditReport *report)
{
  g_clear_pointer (&report->problem, g_free);
}
