/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-hospital-link"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-audit-anchor.h"
#include "pd-clock.h"
#include "pd-dispense.h"
#include "pd-hospital-private.h"
#include "pd-outbox.h"
#include "pd-rx-cache.h"

PdHospitalLink *
pd_hospital_link_new (PdSession    *session,
                      PdFhirClient *client,
                      PdKb         *kb)
{
  PdHospitalLink *link = g_new0 (PdHospitalLink, 1);

  link->session = g_object_ref (session);
  link->client = client;
  link->kb = kb;
  return link;
}

void
pd_hospital_link_free (PdHospitalLink *link)
{
  if (link == NULL)
    return;
  g_clear_object (&link->session);
  g_clear_pointer (&link->client, pd_fhir_client_free);
  g_free (link->fixmedins_code);
  g_free (link->pharmacy_name);
  g_free (link);
}

void
pd_hospital_link_set_pharmacy (PdHospitalLink *link,
                               const char     *fixmedins_code,
                               const char     *pharmacy_name)
{
  g_free (link->fixmedins_code);
  g_free (link->pharmacy_name);
  link->fixmedins_code = g_strdup (fixmedins_code);
  link->pharmacy_name = g_strdup (pharmacy_name);
}

PdFhirClient *
pd_hospital_link_get_client (PdHospitalLink *link)
{
  return link->client;
}

void
pd_sync_stats_clear (PdSyncStats *stats)
{
  g_clear_pointer (&stats->cursor, g_free);
  g_clear_pointer (&stats->anchor_warning, g_free);
  memset (stats, 0, sizeof *stats);
}

const char *
pd_fhir_next_link (const PdJv *bundle)
{
  const PdJv *links = pd_jv_arr (bundle, "link");

  for (const PdJv *l = pd_jv_first (links); l != NULL; l = pd_jv_next (links, l))
    if (g_strcmp0 (pd_jv_str (l, "relation"), "next") == 0)
      return pd_jv_str (l, "url");
  return NULL;
}

gboolean
pd_hospital_set_cursor (PdStore    *store,
                        const char *cursor,
                        GError    **error)
{
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  sqlite3_stmt *stmt;

  if (cursor == NULL)
    return TRUE;
  stmt = pd_store_prepare (store, "INSERT INTO sync_cursor (link, cursor, updated_at) VALUES ('hospital', ?1, ?2)"
                                  " ON CONFLICT (link) DO UPDATE SET cursor = ?1, updated_at = ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, cursor, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  return pd_store_step_done (store, stmt, error);
}

gboolean
pd_hospital_cancelled (PdSession  *session,
                       const char *task_id,
                       GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "UPDATE outbox SET state = 'conflict', error = ?2, updated_at = ?3 WHERE state IN ('queued', 'sending', 'unknown')"
    " AND subject_type = 'prescription' AND subject_uuid = (SELECT uuid FROM prescription WHERE task_id = ?1)", error);
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  g_autofree char *fill = NULL;
  int changed;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, task_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, _("The prescriber cancelled the prescription"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  changed = sqlite3_changes (pd_store_get_db (store));
  /* A fill not yet handed over: the hospital will refuse its dispenses;
   * its boxes go back on the shelf now. */
  stmt = pd_store_prepare (store, "SELECT f.uuid FROM dispense f JOIN prescription p ON p.id = f.prescription_id"
                                  " WHERE p.task_id = ? AND f.state = 'dispensed'", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, task_id, -1, SQLITE_STATIC);
  fill = sqlite3_step (stmt) == SQLITE_ROW ? g_strdup ((const char *) sqlite3_column_text (stmt, 0)) : NULL;
  sqlite3_reset (stmt);
  if (fill != NULL)
    {
      stmt = pd_store_prepare (store, "UPDATE outbox SET state = 'conflict', error = ?2, updated_at = ?3"
                                      " WHERE state IN ('queued', 'sending', 'unknown') AND subject_type = 'dispense' AND subject_uuid = ?1", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, fill, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, _("The prescriber cancelled the prescription"), -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
      if (!pd_store_step_done (store, stmt, error)
          || !pd_dispense_set_conflict (session, fill, _("The prescriber cancelled the prescription"), error))
        return FALSE;
      changed++;
    }
  stmt = pd_store_prepare (store, "UPDATE prescription SET status = ? WHERE task_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, changed > 0 ? "conflict" : "cancelled", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, task_id, -1, SQLITE_STATIC);
  return pd_store_step_done (store, stmt, error);
}

/* --- queueing claims and releases --------------------------------------------------------- */

typedef struct {
  PdSession  *session;
  const char *rx_uuid;
  const char *operation;
  gint64      id;
} QueueJob;

static gint64
queue_in_txn (PdSession  *session,
              const char *rx_uuid,
              const char *operation,
              GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  const PdAccount *me = pd_session_get_account (session);
  g_autofree char *uuid = NULL;
  g_autofree char *task_id = NULL;
  g_autofree char *version = NULL;
  g_autofree char *key = NULL;
  g_autofree char *nonce = pd_uuid_new ();
  g_autoptr(JsonNode) request = pd_json_node_take (json_object_new ());
  JsonObject *r = json_node_get_object (request);
  gint64 id = 0;

  if (me->practitioner_ref == NULL)
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_FORBIDDEN, "%s",
                   _("This account has no hospital Practitioner reference: an administrator adds it"));
      return 0;
    }
  if (!pd_rx_cache_find (store, rx_uuid, &uuid, &task_id, error))
    return 0;
  version = pd_rx_cache_task_version (store, task_id);
  json_object_set_string_member (r, "task", task_id);
  json_object_set_string_member (r, "version", version);
  json_object_set_string_member (r, "owner", me->practitioner_ref);
  key = g_strdup_printf ("%s:%s:%s", operation, task_id, nonce);
  if (!pd_outbox_enqueue (session, "hospital", operation, key, 0, request, "prescription", uuid, &id, error))
    return 0;
  return id;
}

gint64
pd_hospital_queue_claim_in_txn (PdSession  *session,
                                const char *rx_uuid,
                                GError    **error)
{
  return queue_in_txn (session, rx_uuid, "claim", error);
}

static gboolean
write_queue (PdStore  *store,
             gpointer  user_data,
             GError  **error)
{
  QueueJob *job = user_data;

  job->id = queue_in_txn (job->session, job->rx_uuid, job->operation, error);
  return job->id > 0;
}

static gint64
queue (PdSession  *session,
       const char *rx_uuid,
       const char *operation,
       GError    **error)
{
  QueueJob job = { session, rx_uuid, operation, 0 };

  if (!pd_session_require (session, PD_ACTION_REVIEW, "prescription", rx_uuid, error)
      || !pd_store_write (pd_session_get_store (session), write_queue, &job, error))
    return 0;
  return job.id;
}

gint64
pd_hospital_queue_claim (PdSession  *session,
                         const char *rx_uuid,
                         GError    **error)
{
  return queue (session, rx_uuid, "claim", error);
}

gint64
pd_hospital_queue_release (PdSession  *session,
                           const char *rx_uuid,
                           GError    **error)
{
  return queue (session, rx_uuid, "release", error);
}

/* The last step of a sync: the signed head to the hospital. Its failure
 * is the sync's warning, not its error; the next sync sends the head then
 * current, which covers this one. */
static void
anchor (PdHospitalLink *link,
        GCancellable   *cancellable,
        PdSyncStats    *stats)
{
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&stats->anchor_warning, g_free);
  stats->anchored_seq = 0;
  if (link->fixmedins_code == NULL)
    {
      stats->anchor_warning = g_strdup (_("The audit trail was not anchored with the hospital: the link has no [pharmacy] fixmedins_code"));
      g_debug ("%s", stats->anchor_warning);
    }
  else if (!pd_audit_anchor_send (link->client, pd_session_get_store (link->session), link->fixmedins_code,
                                  link->pharmacy_name, &stats->anchored_seq, cancellable, &error))
    {
      stats->anchor_warning = g_strdup_printf (_("The audit trail was not anchored with the hospital (sent again with the next sync): %s"),
                                               error->message);
      g_message ("%s", stats->anchor_warning);
    }
}

gboolean
pd_hospital_link_sync (PdHospitalLink     *link,
                       GCancellable       *cancellable,
                       PdSyncProgressFunc  progress,
                       gpointer            user_data,
                       PdSyncStats        *stats,
                       GError            **error)
{
  if (!pd_hospital_link_push (link, cancellable, stats, error)
      || !pd_hospital_link_pull (link, cancellable, progress, user_data, stats, error))
    return FALSE;
  if (!stats->offline)
    anchor (link, cancellable, stats);
  return TRUE;
}
