/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-queue"

#include "config.h"

#include "pd-queue-lines.h"
#include "pd-queue-private.h"
#include "pd-store.h"

struct _PdQueueLines
{
  PdQueueDb qdb;
};

static void
line_free (gpointer data)
{
  PdQueueLine *line = data;

  g_free (line->id);
  g_free (line->code);
  g_free (line->name);
  g_free (line);
}

PdQueueLines *
pd_queue_lines_new (PdSession  *session,
                    GError    **error)
{
  g_autoptr(PdQueueLines) self = g_new0 (PdQueueLines, 1);

  self->qdb.db = pd_store_open_reader (pd_session_get_store (session), error);
  if (self->qdb.db == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

void
pd_queue_lines_free (PdQueueLines *self)
{
  if (self == NULL)
    return;
  pd_queue_db_clear (&self->qdb);
  g_free (self);
}

GPtrArray *
pd_queue_lines_read (PdQueueLines  *self,
                     gint64         rx_id,
                     char         **task_id,
                     GError       **error)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (line_free);
  sqlite3_stmt *stmt = pd_queue_db_prepare (&self->qdb, "SELECT task_id FROM prescription WHERE id = ?", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, rx_id);
  rc = sqlite3_step (stmt);
  if (task_id != NULL)
    *task_id = rc == SQLITE_ROW ? g_strdup ((const char *) sqlite3_column_text (stmt, 0)) : NULL;
  sqlite3_reset (stmt);
  stmt = pd_queue_db_prepare (&self->qdb, "SELECT resource_id, drug_code, drug_name FROM prescription_line"
                                          " WHERE prescription_id = ? ORDER BY position", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, rx_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PdQueueLine *line = g_new0 (PdQueueLine, 1);

      line->id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      line->code = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      line->name = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      g_ptr_array_add (lines, line);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      pd_store_set_error (self->qdb.db, rc, "prescription_line", error);
      return NULL;
    }
  return g_steal_pointer (&lines);
}
