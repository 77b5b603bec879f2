/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-outbox"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-audit.h"
#include "pd-clock.h"
#include "pd-outbox.h"
#include "pd-vault.h"

#define COLUMNS "id, uuid, link, operation, idempotency_key, after_id, state, attempts, http_status, error," \
                " subject_type, subject_uuid, created_at, updated_at, request_sealed"

void
pd_outbox_item_free (PdOutboxItem *item)
{
  if (item == NULL)
    return;
  g_free (item->uuid);
  g_free (item->link);
  g_free (item->operation);
  g_free (item->idempotency_key);
  g_free (item->state);
  g_free (item->error);
  g_free (item->subject_type);
  g_free (item->subject_uuid);
  g_free (item->created_at);
  g_free (item->updated_at);
  g_clear_pointer (&item->request, json_node_unref);
  g_free (item);
}

static char *
now_iso (void)
{
  return pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
}

gboolean
pd_outbox_enqueue (PdSession  *session,
                   const char *link,
                   const char *operation,
                   const char *idempotency_key,
                   gint64      after_id,
                   JsonNode   *request,
                   const char *subject_type,
                   const char *subject_uuid,
                   gint64     *out_id,
                   GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autofree char *uuid = pd_uuid_new ();
  g_autofree char *now = now_iso ();
  g_autofree char *text = json_to_string (request, FALSE);
  g_autoptr(GBytes) sealed = pd_vault_seal (session, "outbox", "request_sealed", uuid, text, error);
  sqlite3_stmt *stmt;

  if (sealed == NULL)
    return FALSE;
  stmt = pd_store_prepare (store,
    "INSERT INTO outbox (uuid, link, operation, idempotency_key, after_id, request_sealed, subject_type, subject_uuid,"
    " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, link, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, operation, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, idempotency_key, -1, SQLITE_STATIC);
  if (after_id > 0)
    sqlite3_bind_int64 (stmt, 5, after_id);
  else
    sqlite3_bind_null (stmt, 5);
  sqlite3_bind_blob (stmt, 6, g_bytes_get_data (sealed, NULL), (int) g_bytes_get_size (sealed), SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, subject_type, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, subject_uuid, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 9, pd_session_get_account (session)->id);
  sqlite3_bind_text (stmt, 10, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 11, now, -1, SQLITE_STATIC);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  if (out_id != NULL)
    *out_id = sqlite3_last_insert_rowid (pd_store_get_db (store));
  return TRUE;
}

gboolean
pd_outbox_set_state (PdSession  *session,
                     gint64      id,
                     const char *state,
                     int         http_status,
                     JsonNode   *response,
                     const char *error_text,
                     GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autofree char *now = now_iso ();
  g_autoptr(GBytes) sealed = NULL;
  sqlite3_stmt *stmt;

  if (response != NULL)
    {
      g_autofree char *uuid = NULL;
      g_autofree char *text = json_to_string (response, FALSE);

      stmt = pd_store_prepare (store, "SELECT uuid FROM outbox WHERE id = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, id);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      sqlite3_reset (stmt);
      if (uuid == NULL)
        return TRUE;
      sealed = pd_vault_seal (session, "outbox", "response_sealed", uuid, text, error);
      if (sealed == NULL)
        return FALSE;
    }
  stmt = pd_store_prepare (store,
    "UPDATE outbox SET state = ?2, attempts = attempts + (?2 = 'sending'), http_status = COALESCE (?3, http_status),"
    " response_sealed = COALESCE (?4, response_sealed), error = ?5, updated_at = ?6 WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, state, -1, SQLITE_STATIC);
  if (http_status > 0)
    sqlite3_bind_int (stmt, 3, http_status);
  else
    sqlite3_bind_null (stmt, 3);
  if (sealed != NULL)
    sqlite3_bind_blob (stmt, 4, g_bytes_get_data (sealed, NULL), (int) g_bytes_get_size (sealed), SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, 4);
  sqlite3_bind_text (stmt, 5, error_text, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, now, -1, SQLITE_STATIC);
  return pd_store_step_done (store, stmt, error);
}

char *
pd_outbox_get_state (PdStore *store,
                     gint64   id)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT state FROM outbox WHERE id = ?", NULL);
  char *state = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    state = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return state;
}

static PdOutboxItem *
item_from_row (sqlite3_stmt *stmt)
{
  PdOutboxItem *item = g_new0 (PdOutboxItem, 1);

  item->id = sqlite3_column_int64 (stmt, 0);
  item->uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  item->link = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  item->operation = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  item->idempotency_key = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
  item->after_id = sqlite3_column_int64 (stmt, 5);
  item->state = g_strdup ((const char *) sqlite3_column_text (stmt, 6));
  item->attempts = sqlite3_column_int (stmt, 7);
  item->http_status = sqlite3_column_int (stmt, 8);
  item->error = g_strdup ((const char *) sqlite3_column_text (stmt, 9));
  item->subject_type = g_strdup ((const char *) sqlite3_column_text (stmt, 10));
  item->subject_uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 11));
  item->created_at = g_strdup ((const char *) sqlite3_column_text (stmt, 12));
  item->updated_at = g_strdup ((const char *) sqlite3_column_text (stmt, 13));
  return item;
}

GPtrArray *
pd_outbox_open_items (PdSession  *session,
                      const char *link,
                      GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_outbox_item_free);
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT " COLUMNS " FROM outbox WHERE link = ?"
                                                " AND state IN ('queued', 'sending', 'unknown') ORDER BY id", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, link, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PdOutboxItem *item = item_from_row (stmt);
      g_autofree char *text = pd_vault_open (session, "outbox", "request_sealed", item->uuid, sqlite3_column_blob (stmt, 14),
                                             (gsize) sqlite3_column_bytes (stmt, 14), error);
      g_autoptr(JsonParser) parser = json_parser_new ();

      g_ptr_array_add (out, item);
      if (text == NULL || !json_parser_load_from_data (parser, text, -1, error))
        {
          sqlite3_reset (stmt);
          return NULL;
        }
      item->request = json_node_ref (json_parser_get_root (parser));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      pd_store_set_error (pd_store_get_db (store), rc, "outbox", error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

GPtrArray *
pd_outbox_list (PdStore  *store,
                gboolean  all,
                GError  **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_outbox_item_free);
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT " COLUMNS " FROM outbox WHERE ?1"
                                                " OR state IN ('queued', 'sending', 'unknown', 'conflict') ORDER BY id DESC", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, all);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (out, item_from_row (stmt));
  sqlite3_reset (stmt);
  return g_steal_pointer (&out);
}

typedef struct {
  PdSession  *session;
  gint64      id;
  const char *state;
} ResolveJob;

static gboolean
write_resolve (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  ResolveJob *job = user_data;
  g_autofree char *current = pd_outbox_get_state (store, job->id);
  g_autofree char *detail = NULL;
  g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, job->id);
  PdAuditEntry e = { pd_session_get_account (job->session)->id, "outbox.resolve", "outbox", NULL, "ok", NULL, NULL };

  if (current == NULL)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_FOUND, _("There is no outbox item %s"), id_text);
      return FALSE;
    }
  if (!g_str_equal (current, "unknown") && !g_str_equal (current, "conflict") && !g_str_equal (current, "queued"))
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT,
                   _("Outbox item %s is %s: only a queued, unknown or conflicting item can be resolved"),
                   id_text, current);
      return FALSE;
    }
  detail = g_strdup_printf ("%" G_GINT64_FORMAT " %s→%s", job->id, current, job->state);
  e.detail = detail;
  return pd_outbox_set_state (job->session, job->id, job->state, 0, NULL, NULL, error)
         && pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error);
}

gboolean
pd_outbox_resolve (PdSession  *session,
                   gint64      id,
                   const char *state,
                   GError    **error)
{
  ResolveJob job = { session, id, state };

  g_return_val_if_fail (g_str_equal (state, "resolved") || g_str_equal (state, "cancelled"), FALSE);
  return pd_store_write (pd_session_get_store (session), write_resolve, &job, error);
}
