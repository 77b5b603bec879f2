/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Cached prescriptions written the way the hospital sync writes them
 * (sealed patient name, keyed indexes, lines with names and pinyin), for
 * the queue's tests. Header-only: included by one test file each. */

#include "pd-store.h"
#include "pd-vault.h"

typedef struct {
  const char *number;
  const char *priority;
  const char *status;
  const char *verdict;
  gboolean    has_block;
  gboolean    online;
  const char *authored_at;
  const char *claimed_by;
  const char *patient;
  const char *id_number;
  const char *drugs[4][2];     /* name, pinyin initials */
} QueueRow;

static inline gint64
queue_row_insert (PdSession      *session,
                  const QueueRow *row)
{
  PdStore *store = pd_session_get_store (session);
  const guint8 *key = pd_session_get_data_key (session);
  g_autofree char *uuid = pd_uuid_new ();
  g_autoptr(GBytes) sealed = pd_vault_seal (session, "prescription", "patient_name", uuid, row->patient, NULL);
  g_autofree char *ref = g_strdup_printf ("Patient/%s", row->number);
  guint8 name[PD_INDEX_SIZE], surname[PD_INDEX_SIZE], tail[PD_INDEX_SIZE];
  sqlite3_stmt *stmt;
  gint64 id;

  pd_vault_index_name (key, row->patient, name);
  pd_vault_index_surname (key, row->patient, surname);
  g_assert_true (pd_vault_index_id_tail (key, row->id_number, tail));
  stmt = pd_store_prepare (store,
    "INSERT INTO prescription (uuid, rx_system, rx_number, task_id, task_version, patient_ref,"
    " patient_name_sealed, patient_name_index, patient_surname_index, patient_id_tail_index,"
    " prescriber_ref, priority, online, authored_at, status, verdict, has_block, claimed_by,"
    " claim_until, last_updated) VALUES (?, 'urn:oid:hospital:rx', ?, ?, '1', ?, ?, ?, ?, ?,"
    " 'Practitioner/dr-1', ?, ?, ?, ?, ?, ?, ?, ?, ?)", NULL);
  g_assert_nonnull (stmt);
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, row->number, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, row->number, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, ref, -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 5, g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 6, name, sizeof name, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 7, surname, sizeof surname, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 8, tail, sizeof tail, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 9, row->priority != NULL ? row->priority : "routine", -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 10, row->online);
  sqlite3_bind_text (stmt, 11, row->authored_at, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 12, row->status != NULL ? row->status : "requested", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 13, row->verdict, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 14, row->has_block);
  sqlite3_bind_text (stmt, 15, row->claimed_by, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 16, row->claimed_by != NULL ? "2026-11-20T10:00:00+08:00" : NULL, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 17, row->authored_at, -1, SQLITE_TRANSIENT);
  g_assert_true (pd_store_step_done (store, stmt, NULL));
  id = sqlite3_last_insert_rowid (pd_store_get_db (store));

  for (int l = 0; l < 4 && row->drugs[l][0] != NULL; l++)
    {
      g_autofree char *rid = g_strdup_printf ("mr-%s-%d", row->number, l);

      stmt = pd_store_prepare (store,
        "INSERT INTO prescription_line (prescription_id, position, resource_id, version_id, status,"
        " drug_code, drug_name, drug_pinyin) VALUES (?, ?, ?, '1', 'active', ?, ?, ?)", NULL);
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_int (stmt, 2, l);
      sqlite3_bind_text (stmt, 3, rid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, row->drugs[l][1], -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 5, row->drugs[l][0], -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 6, row->drugs[l][1], -1, SQLITE_TRANSIENT);
      g_assert_true (pd_store_step_done (store, stmt, NULL));
    }
  return id;
}
