/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-hospital"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-hospital-private.h"

#include "pd-dispense.h"
#include "pd-rx-cache.h"

/* The MedicationDispenses of a fill (hospital.md "Dispense", "Handover").
 * The fill's transaction Bundle was written whole into the outbox when the
 * fill was recorded; each entry is a conditional create on the dispense's
 * own identifier, so sending it again after a lost answer creates nothing
 * new. A 409 (another fill, a cancelled prescription) makes the fill a
 * conflict: its boxes go back on the shelf and the pharmacist is told.
 * The status that follows (completed at the handover, stopped when a
 * parcel came back) is a PUT of each under If-Match, read back first. */

#define GROUP_SYSTEM "urn:pharmdesk:dispense-group"

typedef struct {
  char *id;
  char *version;
} Landed;

static void
landed_free (gpointer data)
{
  Landed *l = data;

  g_free (l->id);
  g_free (l->version);
  g_free (l);
}

/* "MedicationDispense/ID/_history/V" → ID and V. */
static Landed *
landed_from_location (const char *location)
{
  g_auto(GStrv) parts = location != NULL ? g_strsplit (location, "/", -1) : NULL;
  guint n = parts != NULL ? g_strv_length (parts) : 0;
  Landed *l;

  for (guint i = 0; i + 1 < n; i++)
    if (g_str_equal (parts[i], "MedicationDispense"))
      {
        l = g_new0 (Landed, 1);
        l->id = g_strdup (parts[i + 1]);
        if (i + 3 < n && g_str_equal (parts[i + 2], "_history"))
          l->version = g_strdup (parts[i + 3]);
        return l;
      }
  return NULL;
}

static gboolean
after_dispense (PdSession    *session,
                PdOutboxItem *item,
                Result       *r,
                GError      **error)
{
  PdStore *store = pd_session_get_store (session);
  GPtrArray *landed = r->data;

  if (r->outcome == SENT_CONFLICT)
    return pd_dispense_set_conflict (session, item->subject_uuid, r->message, error);
  for (guint i = 0; landed != NULL && i < landed->len; i++)
    {
      Landed *l = landed->pdata[i];
      sqlite3_stmt *stmt = pd_store_prepare (store, "UPDATE dispense_item SET resource_id = ?, version_id = ?"
                                                    " WHERE n = ? AND dispense_id = (SELECT id FROM dispense WHERE uuid = ?)", error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, l->id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, l->version, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 3, (int) i + 1);
      sqlite3_bind_text (stmt, 4, item->subject_uuid, -1, SQLITE_STATIC);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  return TRUE;
}

void
pd_hospital_send_dispense (PdHospitalLink *link,
                           PdOutboxItem   *item,
                           GCancellable   *cancellable,
                           Result         *r,
                           GError        **error)
{
  g_autoptr(GError) local_error = NULL;
  PdFhirAnswer answer;

  r->after = after_dispense;
  if (!pd_fhir_client_call (link->client, "POST", "", NULL, item->request, TRUE, &answer, cancellable, &local_error))
    {
      pd_hospital_transport_failure (&local_error, r, error);
      return;
    }
  r->http = answer.status;
  if (answer.status == 200 && answer.body != NULL && JSON_NODE_HOLDS_OBJECT (answer.body))
    {
      JsonArray *entries = pd_json_arr (json_node_get_object (answer.body), "entry");
      GPtrArray *landed = g_ptr_array_new_with_free_func (landed_free);

      r->data = landed;
      r->data_free = (GDestroyNotify) g_ptr_array_unref;
      for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
        {
          Landed *l = landed_from_location (pd_json_str (pd_json_obj (pd_json_arr_obj (entries, i), "response"), "location"));

          if (l == NULL)
            break;
          g_ptr_array_add (landed, l);
        }
      if (entries == NULL || landed->len == 0 || landed->len != json_array_get_length (entries))
        {
          /* A 200 we cannot read is an answer we did not get: the
           * conditional creates make the next try safe. */
          r->outcome = SENT_UNKNOWN;
          r->message = g_strdup (_("The hospital’s answer to the dispense does not say where each MedicationDispense is"));
        }
      else
        {
          r->outcome = SENT_DONE;
          r->response = json_node_ref (answer.body);
        }
    }
  else if (answer.status == 409)
    {
      r->outcome = SENT_CONFLICT;
      r->message = pd_fhir_answer_describe (&answer);
    }
  else
    {
      r->outcome = answer.status >= 500 || answer.status == 429 || answer.status == 200 ? SENT_UNKNOWN : SENT_REFUSED;
      r->message = pd_fhir_answer_describe (&answer);
    }
  pd_fhir_answer_clear (&answer);
}

/* The fill's MedicationDispenses as the hospital holds them now. */
static JsonArray *
find_fill (PdHospitalLink *link,
           const char     *uuid,
           GCancellable   *cancellable,
           Result         *r,
           GError        **error)
{
  g_autofree char *value = g_strconcat (GROUP_SYSTEM "|", uuid, NULL);
  g_autofree char *escaped = g_uri_escape_string (value, NULL, FALSE);
  g_autofree char *path = g_strconcat ("MedicationDispense?identifier=", escaped, NULL);
  g_autoptr(GError) local_error = NULL;
  JsonArray *found = NULL;
  PdFhirAnswer answer;

  if (!pd_fhir_client_call (link->client, "GET", path, NULL, NULL, TRUE, &answer, cancellable, &local_error))
    {
      pd_hospital_transport_failure (&local_error, r, error);
      return NULL;
    }
  if (answer.status == 200 && answer.body != NULL && JSON_NODE_HOLDS_OBJECT (answer.body))
    {
      JsonArray *entries = pd_json_arr (json_node_get_object (answer.body), "entry");

      found = json_array_new ();
      for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
        {
          JsonObject *resource = pd_json_obj (pd_json_arr_obj (entries, i), "resource");

          if (resource != NULL && g_strcmp0 (pd_json_str (resource, "resourceType"), "MedicationDispense") == 0)
            json_array_add_object_element (found, json_object_ref (resource));
        }
    }
  else
    {
      r->outcome = answer.status >= 500 ? SENT_UNKNOWN : SENT_REFUSED;
      r->http = answer.status;
      r->message = pd_fhir_answer_describe (&answer);
    }
  pd_fhir_answer_clear (&answer);
  return found;
}

static void
set_status (JsonObject *md,
            JsonObject *req)
{
  const char *status = pd_json_str (req, "status");

  json_object_set_string_member (md, "status", status);
  if (g_strcmp0 (status, "completed") == 0)
    json_object_set_string_member (md, "whenHandedOver", pd_json_str (req, "when"));
  else if (pd_json_str (req, "reason") != NULL)
    {
      JsonObject *reason = json_object_new ();

      json_object_set_string_member (reason, "text", pd_json_str (req, "reason"));
      json_object_set_object_member (md, "statusReasonCodeableConcept", reason);
    }
}

void
pd_hospital_send_dispense_status (PdHospitalLink *link,
                                  PdOutboxItem   *item,
                                  GCancellable   *cancellable,
                                  Result         *r,
                                  GError        **error)
{
  JsonObject *req = json_node_get_object (item->request);
  const char *status = pd_json_str (req, "status");
  g_autoptr(JsonArray) found = find_fill (link, pd_json_str (req, "dispense"), cancellable, r, error);

  if (found == NULL)
    return;
  if (json_array_get_length (found) == 0)
    {
      r->outcome = SENT_REFUSED;
      r->message = g_strdup (_("The hospital holds no MedicationDispense of this fill"));
      return;
    }
  r->outcome = SENT_DONE;
  for (guint i = 0; i < json_array_get_length (found); i++)
    {
      JsonObject *md = json_array_get_object_element (found, i);
      g_autofree char *path = g_strconcat ("MedicationDispense/", pd_json_str (md, "id"), NULL);
      g_autofree char *match = pd_hospital_if_match (pd_json_str (pd_json_obj (md, "meta"), "versionId"));
      g_autoptr(JsonNode) body = NULL;
      g_autoptr(GError) local_error = NULL;
      PdFhirAnswer answer;

      if (g_strcmp0 (pd_json_str (md, "status"), status) == 0)
        continue;    /* there already: an earlier try whose answer was lost */
      set_status (md, req);
      body = json_node_init_object (json_node_alloc (), md);
      if (!pd_fhir_client_call (link->client, "PUT", path, match, body, TRUE, &answer, cancellable, &local_error))
        {
          pd_hospital_transport_failure (&local_error, r, error);
          return;
        }
      r->http = answer.status;
      if (answer.status != 200 && answer.status != 201)
        {
          /* 412: it changed since we read it; the next push reads it again. */
          r->outcome = answer.status >= 500 || answer.status == 412 || answer.status == 429 ? SENT_UNKNOWN : SENT_REFUSED;
          r->message = pd_fhir_answer_describe (&answer);
          pd_fhir_answer_clear (&answer);
          return;
        }
      pd_fhir_answer_clear (&answer);
    }
}

/* --- before a fill ------------------------------------------------------------------------- */

typedef struct {
  PdSession  *session;
  JsonObject *task;
} RefreshJob;

static gboolean
write_refresh (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  RefreshJob *job = user_data;
  const char *status = pd_json_str (job->task, "status");

  if (g_strcmp0 (status, "cancelled") == 0)
    return pd_rx_cache_put_task (job->session, job->task, "cancelled", error)
           && pd_hospital_cancelled (job->session, pd_json_str (job->task, "id"), error);
  return TRUE;
}

gboolean
pd_hospital_link_refresh_task (PdHospitalLink *link,
                               const char     *rx_uuid,
                               GCancellable   *cancellable,
                               GError        **error)
{
  PdStore *store = pd_session_get_store (link->session);
  g_autofree char *uuid = NULL;
  g_autofree char *task_id = NULL;
  g_autoptr(JsonObject) task = NULL;
  RefreshJob job = { link->session };

  if (!pd_rx_cache_find (store, rx_uuid, &uuid, &task_id, error))
    return FALSE;
  if (task_id == NULL)
    return TRUE;
  task = pd_hospital_fetch_task (link, task_id, cancellable, error);
  if (task == NULL)
    return FALSE;
  job.task = task;
  return pd_store_write (store, write_refresh, &job, error);
}
