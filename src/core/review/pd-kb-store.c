/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-kb-store"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-audit.h"
#include "pd-clock.h"
#include "pd-kb-store.h"

typedef struct {
  PdSession  *session;
  PdKb       *kb;
  GHashTable *files;
} ImportJob;

static gboolean
write_import (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  ImportJob *job = user_data;
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  sqlite3_stmt *stmt;
  gint64 id;
  GHashTableIter it;
  gpointer name, bytes;
  PdAuditEntry e = { pd_session_get_account (job->session)->id, "kb.import", "kb_version", NULL, "ok",
                     pd_kb_get_version (job->kb), NULL };

  if (!pd_store_exec (store, "UPDATE kb_version SET active = 0 WHERE active = 1", error))
    return FALSE;
  stmt = pd_store_prepare (store, "INSERT INTO kb_version (version, status, reviewed_by, imported_at, imported_by, active)"
                                  " VALUES (?, ?, ?, ?, ?, 1)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, pd_kb_get_version (job->kb), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, pd_kb_is_demonstration (job->kb) ? "demonstration" : "reviewed", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, pd_kb_get_reviewed_by (job->kb), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, pd_session_get_account (job->session)->id);
  if (!pd_store_step_done (store, stmt, error))
    {
      if (g_error_matches (*error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT))
        {
          g_clear_error (error);
          g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT,
                       _("The knowledge base version “%s” is already imported; give a new version in kb.csv"),
                       pd_kb_get_version (job->kb));
        }
      return FALSE;
    }
  id = sqlite3_last_insert_rowid (pd_store_get_db (store));
  g_hash_table_iter_init (&it, job->files);
  while (g_hash_table_iter_next (&it, &name, &bytes))
    {
      gsize len = 0;
      const void *data = g_bytes_get_data (bytes, &len);

      stmt = pd_store_prepare (store, "INSERT INTO kb_file (kb_version_id, name, content) VALUES (?, ?, ?)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_text (stmt, 2, name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_blob (stmt, 3, len > 0 ? data : "", (int) len, SQLITE_TRANSIENT);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  return pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error);
}

/* Validates the folder's files and stores those very bytes: what was
 * checked is what is kept. An administrator's act, audited. */
gboolean
pd_kb_import (PdSession  *session,
              const char *dir,
              PdKb      **out_kb,
              GError    **error)
{
  g_autoptr(GHashTable) files = NULL;
  g_autoptr(PdKb) kb = NULL;
  ImportJob job;

  if (!pd_session_require (session, PD_ACTION_IMPORT_KB, "kb_version", NULL, error))
    return FALSE;
  files = pd_kb_read_dir (dir, error);
  if (files == NULL)
    return FALSE;
  kb = pd_kb_load_files (files, error);
  if (kb == NULL)
    return FALSE;
  job.session = session;
  job.kb = kb;
  job.files = files;
  if (!pd_store_write (pd_session_get_store (session), write_import, &job, error))
    return FALSE;
  if (out_kb != NULL)
    *out_kb = g_steal_pointer (&kb);
  return TRUE;
}

PdKb *
pd_kb_load_active (PdStore *store,
                   GError **error)
{
  g_autoptr(GHashTable) files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  sqlite3_stmt *stmt = pd_store_prepare (store,
                                         "SELECT f.name, f.content FROM kb_file f JOIN kb_version v ON v.id = f.kb_version_id"
                                         " WHERE v.active = 1", error);

  if (stmt == NULL)
    return NULL;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_hash_table_insert (files, g_strdup ((const char *) sqlite3_column_text (stmt, 0)),
                         g_bytes_new (sqlite3_column_blob (stmt, 1), (gsize) sqlite3_column_bytes (stmt, 1)));
  sqlite3_reset (stmt);
  if (g_hash_table_size (files) == 0)
    {
      g_set_error (error, PD_KB_ERROR, PD_KB_ERROR_NONE, "%s",
                   _("No knowledge base has been imported: an administrator imports one with “pharmdesk-cli kb import DIR”"));
      return NULL;
    }
  return pd_kb_load_files (files, error);
}
