/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-settle"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-clock.h"
#include "pd-json.h"
#include "pd-outbox.h"
#include "pd-settle-private.h"

/* Outcomes that are not known, settled (insurance.md): a call whose answer
 * never came — or a desk that stopped between writing it and hearing back —
 * is reversed with 2601 naming its msgid, retried with back-off until the
 * centre answers. The centre undoes it if it committed it, and otherwise
 * leaves a tombstone so that it can never commit later. Only then is the
 * settlement `reversed` and the sale free to go out again. */

gboolean
pd_settle_refuse (GError    **error,
                  const char *format,
                  ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_REFUSED, message);
  return FALSE;
}

/* --- one unknown call -------------------------------------------------------------------------- */

typedef struct {
  gint64  outbox_id;
  char   *infno;          /* the outbox row's operation: 2102, 2103, 3505, 3506 */
  char   *msgid;          /* its idempotency key */
  char   *subject_uuid;   /* the settlement's */
  char   *psn_no;
  char   *insuplc_admdvs;
} Unknown;

static void
unknown_free (Unknown *u)
{
  g_free (u->infno);
  g_free (u->msgid);
  g_free (u->subject_uuid);
  g_free (u->psn_no);
  g_free (u->insuplc_admdvs);
  g_free (u);
}

/* The insurance outbox rows still open: `unknown`, or `sending` left by a
 * desk that stopped before it heard back (nothing else sends them: each is
 * sent by the one that wrote it, at once). sale_id > 0: that sale's. */
static GPtrArray *
read_unknown (PdStore *store,
              gint64   sale_id,
              GError **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) unknown_free);
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT o.id, o.operation, o.idempotency_key, o.subject_uuid, s.psn_no, s.insuplc_admdvs"
    " FROM outbox o LEFT JOIN settlement s ON s.uuid = o.subject_uuid"
    " WHERE o.link = 'insurance' AND o.state IN ('sending', 'unknown') AND (?1 = 0 OR s.sale_id = ?1) ORDER BY o.id", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, sale_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Unknown *u = g_new0 (Unknown, 1);

      u->outbox_id = sqlite3_column_int64 (stmt, 0);
      u->infno = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      u->msgid = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      u->subject_uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      u->psn_no = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      u->insuplc_admdvs = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      g_ptr_array_add (rows, u);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      pd_store_set_error (pd_store_get_db (store), rc, "outbox", error);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

typedef struct {
  PdSession     *session;
  const Unknown *u;
  const char    *outcome;   /* resolved, conflict */
  const char    *message;
} ReversedJob;

static gboolean
write_reversed (PdStore  *store,
                gpointer  user_data,
                GError  **error)
{
  ReversedJob *job = user_data;
  gboolean reversed = g_str_equal (job->outcome, "resolved");
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  PdAuditEntry e = { pd_session_get_account (job->session)->id, "settlement.2601", "msgid", job->u->msgid,
                     reversed ? "ok" : "refused", job->message };
  sqlite3_stmt *stmt;

  if (!pd_outbox_set_state (job->session, job->u->outbox_id, job->outcome, 200, NULL, job->message, error))
    return FALSE;
  if (reversed && g_str_equal (job->u->infno, "2102"))
    {
      stmt = pd_store_prepare (store, "UPDATE settlement SET state = 'reversed', updated_at = ? WHERE uuid = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, now, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, job->u->subject_uuid, -1, SQLITE_STATIC);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  return pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error);
}

static void
report_row (JsonArray     *report,
            const Unknown *u,
            const char    *state)
{
  JsonObject *o;

  if (report == NULL)
    return;
  o = json_object_new ();
  json_object_set_int_member (o, "outbox_id", u->outbox_id);
  json_object_set_string_member (o, "link", "insurance");
  json_object_set_string_member (o, "call", u->infno);
  json_object_set_string_member (o, "action", "2601");
  json_object_set_string_member (o, "state", state);
  json_array_add_object_element (report, o);
}

/* 2601 until the centre answers or the time runs out. */
static gboolean
reverse (PdSession       *session,
         PdInsuranceLink *link,
         const Unknown   *u,
         gint64           deadline,
         JsonArray       *report,
         GCancellable    *cancellable,
         GError         **error)
{
  guint wait_ms = 250;

  for (;;)
    {
      g_autoptr(JsonObject) input = json_object_new ();
      JsonObject *data = json_object_new ();
      g_autoptr(JsonObject) output = NULL;
      g_autoptr(GError) call_error = NULL;
      g_autofree char *msgid = pd_insurance_link_take_msgid (link, "2601", error);
      ReversedJob job = { session, u };

      if (msgid == NULL)
        return FALSE;
      json_object_set_string_member (data, "psn_no", u->psn_no != NULL ? u->psn_no : "");
      json_object_set_string_member (data, "omsgid", u->msgid);
      json_object_set_string_member (data, "oinfno", u->infno);
      json_object_set_object_member (input, "data", data);
      output = pd_insurance_call (link, "2601", msgid, u->insuplc_admdvs, input, NULL, cancellable, &call_error);
      if (output != NULL || g_error_matches (call_error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_REFUSED))
        {
          /* Refused: the centre holds it and will not undo it (cancelled
           * since): someone must look, it stays out of the way of a new sale. */
          job.outcome = output != NULL ? "resolved" : "conflict";
          job.message = call_error != NULL ? call_error->message : NULL;
          if (!pd_store_write (pd_session_get_store (session), write_reversed, &job, error))
            return FALSE;
          report_row (report, u, output != NULL ? "reversed" : "conflict");
          return TRUE;
        }
      if (g_error_matches (call_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || g_get_monotonic_time () + wait_ms * 1000 > deadline)
        {
          report_row (report, u, "unknown");
          g_propagate_error (error, g_steal_pointer (&call_error));
          return FALSE;
        }
      g_usleep (g_random_int_range (wait_ms / 2, wait_ms + 1) * 1000);
      wait_ms = MIN (wait_ms * 2, 8000);
    }
}

static gboolean
resolve_rows (PdSession       *session,
              PdInsuranceLink *link,
              gint64           sale_id,
              guint            timeout_s,
              JsonArray       *report,
              GCancellable    *cancellable,
              GError         **error)
{
  g_autoptr(GPtrArray) rows = read_unknown (pd_session_get_store (session), sale_id, error);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  gboolean all = TRUE;

  if (rows == NULL)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      g_autoptr(GError) local_error = NULL;

      if (!reverse (session, link, rows->pdata[i], deadline, report, cancellable, &local_error))
        {
          all = FALSE;
          if (error != NULL && *error == NULL)
            g_propagate_error (error, g_steal_pointer (&local_error));
        }
    }
  return all;
}

gboolean
pd_settle_resolve_sale (PdSession       *session,
                        PdInsuranceLink *link,
                        gint64           sale_id,
                        guint            timeout_s,
                        JsonArray       *report,
                        GCancellable    *cancellable,
                        GError         **error)
{
  return resolve_rows (session, link, sale_id, timeout_s, report, cancellable, error);
}

gboolean
pd_settle_resolve (PdSession       *session,
                   PdInsuranceLink *link,
                   guint            timeout_s,
                   JsonArray       *report,
                   GCancellable    *cancellable,
                   GError         **error)
{
  if (!pd_session_require (session, PD_ACTION_SETTLE, "outbox", NULL, error))
    return FALSE;
  return resolve_rows (session, link, 0, timeout_s, report, cancellable, error);
}
