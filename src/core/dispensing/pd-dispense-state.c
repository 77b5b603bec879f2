/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-dispense"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-clock.h"
#include "pd-dispense-private.h"
#include "pd-json.h"
#include "pd-outbox.h"
#include "pd-rx-cache.h"

/* What happens to a fill after it: handed over (completed), back from a
 * courier (stopped: its boxes restocked or destroyed), or refused by the
 * hospital (a conflict: its boxes back on the shelf). Each is audited, and
 * the MedicationDispenses' new status goes out through the outbox after
 * the fill's own request (hospital.md "Handover"). */

typedef struct {
  gint64  id;
  gint64  rx_id;
  char   *rx_uuid;
  char   *rx_number;
  char   *state;
  gint64  outbox_id;
} Fill;

static void
fill_clear (Fill *fill)
{
  g_free (fill->rx_uuid);
  g_free (fill->rx_number);
  g_free (fill->state);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Fill, fill_clear)

#define FILL_SQL \
  "SELECT f.id, p.id, p.uuid, p.rx_number, f.state, f.outbox_id, f.uuid FROM dispense f JOIN prescription p ON p.id = f.prescription_id"

static gboolean
read_fill (PdStore    *store,
           const char *sql_where,
           const char *key,
           Fill       *fill,
           char      **uuid,
           GError    **error)
{
  g_autofree char *sql = g_strconcat (FILL_SQL, " ", sql_where, NULL);
  sqlite3_stmt *stmt = pd_store_prepare (store, sql, error);
  gboolean found;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  if (found)
    {
      fill->id = sqlite3_column_int64 (stmt, 0);
      fill->rx_id = sqlite3_column_int64 (stmt, 1);
      fill->rx_uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      fill->rx_number = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      fill->state = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      fill->outbox_id = sqlite3_column_int64 (stmt, 5);
      if (uuid != NULL)
        *uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 6));
    }
  sqlite3_reset (stmt);
  if (!found)
    g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED, _("No fill of “%s” in this pharmacy"), key);
  return found;
}

static gboolean
set_state (PdStore    *store,
           gint64      id,
           const char *state,
           const char *column,
           const char *when,
           const char *reason_column,
           const char *reason,
           GError    **error)
{
  g_autofree char *sql = reason_column != NULL
    ? g_strdup_printf ("UPDATE dispense SET state = ?1, %s = ?2, %s = ?4 WHERE id = ?3", column, reason_column)
    : g_strdup_printf ("UPDATE dispense SET state = ?1, %s = ?2 WHERE id = ?3", column);
  sqlite3_stmt *stmt;

  stmt = pd_store_prepare (store, sql, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, state, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, when, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, id);
  if (reason_column != NULL)
    sqlite3_bind_text (stmt, 4, reason, -1, SQLITE_STATIC);
  return pd_store_step_done (store, stmt, error);
}

/* The MedicationDispenses' new status, after the fill's request. */
static gboolean
queue_status (PdSession  *session,
              const char *uuid,
              gint64      after_id,
              const char *status,
              const char *when,
              const char *reason,
              GError    **error)
{
  g_autoptr(JsonNode) request = pd_json_node_take (json_object_new ());
  JsonObject *o = json_node_get_object (request);
  g_autofree char *key = g_strdup_printf ("dispense-status:%s:%s", uuid, status);

  json_object_set_string_member (o, "dispense", uuid);
  json_object_set_string_member (o, "status", status);
  json_object_set_string_member (o, "when", when);
  if (reason != NULL)
    json_object_set_string_member (o, "reason", reason);
  return pd_outbox_enqueue (session, "hospital", "dispense-status", key, after_id, request, "dispense", uuid, NULL, error);
}

/* The fill's boxes: a box it took whole from the shelf, and no other fill
 * has taken from since, goes back whole (restock) or is destroyed; units it
 * took from an opened box, or from a box another fill has opened since, go
 * back into that box. */
static gboolean
return_boxes (PdSession  *session,
              gint64      dispense_id,
              gboolean    restock,
              const char *reason,
              const char *now,
              GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autoptr(GHashTable) per_batch = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GPtrArray) whole = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) partial = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) partial_units = g_array_new (FALSE, FALSE, sizeof (int));
  GHashTableIter iter;
  gpointer key, value;
  sqlite3_stmt *stmt;
  int rc;

  stmt = pd_store_prepare (store,
    "SELECT c.code, c.units, c.opened_before, t.batch_id,"
    "  EXISTS (SELECT 1 FROM dispense_code c2 JOIN dispense_item i2 ON i2.id = c2.item_id"
    "          WHERE c2.code = c.code AND i2.dispense_id <> i.dispense_id)"
    " FROM dispense_code c JOIN dispense_item i ON i.id = c.item_id JOIN trace_code t ON t.code = c.code"
    " WHERE i.dispense_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, dispense_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *code = (const char *) sqlite3_column_text (stmt, 0);
      int units = sqlite3_column_int (stmt, 1);
      gboolean opened_before = sqlite3_column_int (stmt, 2) != 0;
      gint64 batch = sqlite3_column_int64 (stmt, 3);
      gboolean shared = sqlite3_column_int (stmt, 4) != 0;

      if (!opened_before && !shared)
        {
          gpointer n = g_hash_table_lookup (per_batch, &batch);

          g_ptr_array_add (whole, g_strdup (code));
          g_hash_table_replace (per_batch, g_memdup2 (&batch, sizeof batch), GINT_TO_POINTER (GPOINTER_TO_INT (n) + 1));
        }
      else
        {
          g_ptr_array_add (partial, g_strdup (code));
          g_array_append_val (partial_units, units);
        }
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pd_store_set_error (pd_store_get_db (store), rc, "dispense_code", error);
  for (guint i = 0; i < whole->len; i++)
    {
      stmt = pd_store_prepare (store, "UPDATE trace_code SET state = ?, units_left = 0, updated_at = ? WHERE code = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, restock ? "in_stock" : "destroyed", -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, whole->pdata[i], -1, SQLITE_STATIC);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  for (guint i = 0; restock && i < partial->len; i++)
    {
      stmt = pd_store_prepare (store, "UPDATE trace_code SET state = 'opened', units_left = units_left + ?, updated_at = ? WHERE code = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int (stmt, 1, g_array_index (partial_units, int, i));
      sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, partial->pdata[i], -1, SQLITE_STATIC);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  if (!restock)
    return TRUE;
  g_hash_table_iter_init (&iter, per_batch);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!pd_stock_move (session, *(gint64 *) key, GPOINTER_TO_INT (value), reason, dispense_id, error))
      return FALSE;
  return TRUE;
}

/* --- handover ------------------------------------------------------------------------------ */

typedef struct {
  PdSession  *session;
  const char *rx;
  const char *uuid;
  const char *reason;
  gboolean    restock;
} StateJob;

static gboolean
audit (PdSession  *session,
       const char *action,
       const char *uuid,
       const char *detail,
       GError    **error)
{
  PdAuditEntry e = { pd_session_get_account (session)->id, action, "dispense", uuid, "ok", detail };

  return pd_audit_append (pd_session_get_store (session), pd_session_get_audit_keys (session), &e, error);
}

static gboolean
write_handover (PdStore  *store,
                gpointer  user_data,
                GError  **error)
{
  StateJob *job = user_data;
  g_auto(Fill) fill = { 0 };
  g_autofree char *uuid = NULL;
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));

  if (!read_fill (store, "WHERE (p.uuid = ?1 OR p.rx_number = ?1) AND f.state IN ('dispensed', 'completed')"
                         " ORDER BY f.id DESC LIMIT 1", job->rx, &fill, &uuid, NULL))
    {
      g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED,
                   _("Prescription %s has no fill waiting to be handed over"), job->rx);
      return FALSE;
    }
  if (g_str_equal (fill.state, "completed"))
    {
      g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED,
                   _("Prescription %s was already handed over"), fill.rx_number);
      return FALSE;
    }
  return set_state (store, fill.id, "completed", "handed_over_at", now, NULL, NULL, error)
         && queue_status (job->session, uuid, fill.outbox_id, "completed", now, NULL, error)
         && audit (job->session, "dispense.handover", uuid, fill.rx_number, error);
}

gboolean
pd_dispense_handover (PdSession  *session,
                      const char *rx,
                      GError    **error)
{
  StateJob job = { session, rx };

  return pd_session_require (session, PD_ACTION_DISPENSE, "prescription", NULL, error)
         && pd_store_write (pd_session_get_store (session), write_handover, &job, error);
}

/* --- a parcel that came back ---------------------------------------------------------------- */

static gboolean
write_stop (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  StateJob *job = user_data;
  g_auto(Fill) fill = { 0 };
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  g_autofree char *detail = NULL;

  if (!read_fill (store, "WHERE f.uuid = ?1", job->uuid, &fill, NULL, error))
    return FALSE;
  if (!g_str_equal (fill.state, "dispensed"))
    {
      g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED,
                   g_str_equal (fill.state, "completed") ? _("The fill of %s was handed over: only a fill not yet handed over comes back")
                   : g_str_equal (fill.state, "stopped") ? _("The fill of %s has come back already")
                   : _("The fill of %s is in conflict with the hospital: its boxes are back in stock already"),
                   fill.rx_number);
      return FALSE;
    }
  detail = g_strdup_printf ("%s; %s", job->restock ? "restocked" : "destroyed", job->reason);
  return set_state (store, fill.id, "stopped", "stopped_at", now, "stop_reason", job->reason, error)
         && return_boxes (job->session, fill.id, job->restock, "return", now, error)
         && pd_rx_cache_set_status (store, fill.rx_uuid, "approved", error)
         && queue_status (job->session, job->uuid, fill.outbox_id, "stopped", now, job->reason, error)
         && audit (job->session, "dispense.stop", job->uuid, detail, error);
}

gboolean
pd_dispense_stop (PdSession  *session,
                  const char *dispense_uuid,
                  const char *reason,
                  gboolean    restock,
                  GError    **error)
{
  StateJob job = { session, NULL, dispense_uuid, reason, restock };
  g_autofree char *said = g_strstrip (g_strdup (reason != NULL ? reason : ""));

  if (*said == '\0')
    {
      g_set_error_literal (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID,
                           _("Say why the parcel came back (refused, broken seal, not reachable)"));
      return FALSE;
    }
  return pd_session_require (session, PD_ACTION_DISPENSE, "dispense", dispense_uuid, error)
         && pd_store_write (pd_session_get_store (session), write_stop, &job, error);
}

/* --- the hospital refused it ---------------------------------------------------------------- */

gboolean
pd_dispense_set_conflict (PdSession  *session,
                          const char *dispense_uuid,
                          const char *why,
                          GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  g_auto(Fill) fill = { 0 };
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));

  if (!read_fill (store, "WHERE f.uuid = ?1", dispense_uuid, &fill, NULL, error))
    return FALSE;
  if (g_str_equal (fill.state, "conflict") || g_str_equal (fill.state, "stopped"))
    return TRUE;
  return set_state (store, fill.id, "conflict", "stopped_at", now, "conflict", why, error)
         && return_boxes (session, fill.id, TRUE, "conflict", now, error)
         && pd_rx_cache_set_status (store, fill.rx_uuid, "conflict", error)
         && audit (session, "dispense.conflict", dispense_uuid, why, error);
}

GPtrArray *
pd_dispense_resources (PdStore    *store,
                       const char *dispense_uuid,
                       GError    **error)
{
  g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT i.resource_id FROM dispense_item i JOIN dispense f ON f.id = i.dispense_id"
                                                " WHERE f.uuid = ? AND i.resource_id IS NOT NULL ORDER BY i.n", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, dispense_uuid, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (refs, g_strconcat ("MedicationDispense/", sqlite3_column_text (stmt, 0), NULL));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      pd_store_set_error (pd_store_get_db (store), rc, "dispense_item", error);
      return NULL;
    }
  return g_steal_pointer (&refs);
}
