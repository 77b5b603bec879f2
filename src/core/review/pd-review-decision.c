/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-review-decision"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-audit.h"
#include "pd-clock.h"
#include "pd-fhir-reader.h"
#include "pd-hospital-link.h"
#include "pd-json.h"
#include "pd-outbox.h"
#include "pd-registry.h"
#include "pd-review-decidable.h"
#include "pd-review-decision.h"
#include "pd-rx-cache.h"
#include "pd-signing.h"

G_DEFINE_QUARK (pd-review-error-quark, pd_review_error)

const char * const pd_override_reasons[] = {
  "benefit-outweighs-risk", "prescriber-confirmed", "dose-adjusted-for-patient",
  "long-term-stable-therapy", "monitoring-in-place", "other", NULL,
};

void
pd_review_context_free (PdReviewContext *context)
{
  if (context == NULL)
    return;
  g_free (context->rx_uuid);
  g_free (context->task_id);
  g_clear_pointer (&context->review, pd_review_free);
  g_clear_pointer (&context->rxs, g_ptr_array_unref);
  g_clear_pointer (&context->doc, pd_json_doc_unref);
  g_free (context);
}

PdReviewContext *
pd_review_context_load (PdSession  *session,
                        PdKb       *kb,
                        const char *rx_uuid,
                        GError    **error)
{
  g_autoptr(PdReviewContext) c = g_new0 (PdReviewContext, 1);
  PdStore *store = pd_session_get_store (session);

  if (!pd_session_require (session, PD_ACTION_OPEN_PATIENT, "prescription", rx_uuid, error)
      || !pd_rx_cache_find (store, rx_uuid, &c->rx_uuid, &c->task_id, error))
    return NULL;
  c->doc = pd_rx_cache_load_doc (session, PD_RX_BUNDLE, c->task_id, error);
  if (c->doc == NULL)
    return NULL;
  c->bundle = pd_json_doc_root (c->doc);
  c->rxs = pd_fhir_read_bundle (c->bundle, kb, error);
  if (c->rxs == NULL)
    return NULL;
  if (c->rxs->len == 0)
    {
      g_set_error (error, PD_REVIEW_ERROR, PD_REVIEW_ERROR_NOT_REVIEWABLE, "%s", _("The cached prescription has no lines"));
      return NULL;
    }
  c->review = pd_review_run (kb, c->rxs->pdata[0], pd_clock_now_us (pd_clock_get_default ()), pd_rx_cache_dispensed, store);
  return g_steal_pointer (&c);
}

char *
pd_finding_key (const PdFinding *f)
{
  GString *key = g_string_new (f->code);

  g_string_append_c (key, '|');
  for (guint i = 0; i < f->lines->len; i++)
    g_string_append_printf (key, "%s%s", i > 0 ? "," : "", ((const PdRxLine *) f->lines->pdata[i])->id);
  g_string_append_printf (key, "|%s", f->population != NULL ? f->population : "");
  return g_string_free (key, FALSE);
}

static gboolean
valid_override_reason (const char *text)
{
  const char *colon = text != NULL ? strchr (text, ':') : NULL;
  g_autofree char *code = colon != NULL ? g_strndup (text, colon - text) : NULL;
  g_autofree char *rest = colon != NULL ? g_strstrip (g_strdup (colon + 1)) : NULL;

  return code != NULL && g_strv_contains (pd_override_reasons, code) && rest != NULL && *rest != '\0';
}

/* The canonical review record of hospital.md, before JCS. */
static JsonNode *
build_record (PdReviewContext *c,
              const PdAccount *pharmacist,
              const char      *decision,
              GHashTable      *overrides,
              const char      *reason,
              const char      *kb_version,
              const char      *time)
{
  const PdRx *rx = c->rxs->pdata[0];
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *practitioner = pd_fhir_ref_id (pharmacist->practitioner_ref, "Practitioner");

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "decision");
  json_builder_add_string_value (b, decision);
  json_builder_set_member_name (b, "findings");
  json_builder_begin_array (b);
  for (guint i = 0; i < c->review->findings->len; i++)
    {
      const PdFinding *f = c->review->findings->pdata[i];
      g_autofree char *key = pd_finding_key (f);
      const char *given = overrides != NULL && g_str_equal (decision, "approve") ? g_hash_table_lookup (overrides, key) : NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "code");
      json_builder_add_string_value (b, f->code);
      json_builder_set_member_name (b, "lines");
      json_builder_begin_array (b);
      for (guint l = 0; l < f->lines->len; l++)
        json_builder_add_string_value (b, ((const PdRxLine *) f->lines->pdata[l])->id);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "override");
      if (given != NULL && f->severity == PD_SEVERITY_MAJOR)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "action");
          json_builder_add_string_value (b, "override");
          json_builder_set_member_name (b, "reason");
          json_builder_add_string_value (b, given);
          json_builder_end_object (b);
        }
      else if (given != NULL && f->severity == PD_SEVERITY_MODERATE)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "action");
          json_builder_add_string_value (b, "acknowledge");
          json_builder_set_member_name (b, "reason");
          json_builder_add_null_value (b);
          json_builder_end_object (b);
        }
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "population");
      if (f->population != NULL)
        json_builder_add_string_value (b, f->population);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "severity");
      json_builder_add_string_value (b, pd_severity_to_string (f->severity));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "kb_version");
  json_builder_add_string_value (b, kb_version);
  json_builder_set_member_name (b, "lines");
  json_builder_begin_array (b);
  for (guint i = 0; i < rx->lines->len; i++)
    {
      const PdRxLine *line = rx->lines->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, line->id);
      json_builder_set_member_name (b, "version");
      if (line->version != NULL)
        json_builder_add_string_value (b, line->version);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "pharmacist");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, practitioner);
  json_builder_set_member_name (b, "licence");
  json_builder_add_string_value (b, pharmacist->pharmacist_licence);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "prescription");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  if (rx->system != NULL)
    json_builder_add_string_value (b, rx->system);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "value");
  json_builder_add_string_value (b, rx->id);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "reason");
  if (reason != NULL && g_str_equal (decision, "reject"))
    json_builder_add_string_value (b, reason);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "time");
  json_builder_add_string_value (b, time);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Refuses what review.md forbids, in words naming the finding. */
static gboolean
check_decision (PdReviewContext *c,
                const char      *decision,
                GHashTable      *overrides,
                const char      *reason,
                GError         **error)
{
  if (g_str_equal (decision, "reject"))
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (reason != NULL ? reason : ""));

      if (*trimmed == '\0')
        {
          g_set_error (error, PD_REVIEW_ERROR, PD_REVIEW_ERROR_NEEDS_REASON, "%s",
                       _("A rejection needs a reason for the prescriber"));
          return FALSE;
        }
      return TRUE;
    }
  if (g_str_equal (c->review->verdict, "cancelled"))
    {
      g_set_error (error, PD_REVIEW_ERROR, PD_REVIEW_ERROR_NOT_REVIEWABLE, "%s",
                   _("Every line of this prescription is cancelled: there is nothing to approve"));
      return FALSE;
    }
  for (guint i = 0; i < c->review->findings->len; i++)
    {
      const PdFinding *f = c->review->findings->pdata[i];
      g_autofree char *key = pd_finding_key (f);
      const char *given = overrides != NULL ? g_hash_table_lookup (overrides, key) : NULL;

      if (f->severity == PD_SEVERITY_BLOCK)
        {
          g_set_error (error, PD_REVIEW_ERROR, PD_REVIEW_ERROR_BLOCKED,
                       _("The finding “%s” blocks approval: reject the prescription and return it to the prescriber"), f->code);
          return FALSE;
        }
      if (f->severity == PD_SEVERITY_MAJOR && !valid_override_reason (given))
        {
          g_set_error (error, PD_REVIEW_ERROR, PD_REVIEW_ERROR_NEEDS_REASON,
                       _("The major finding “%s” needs a reason (one of the listed codes, a colon, then your words)"), f->code);
          return FALSE;
        }
      if (f->severity == PD_SEVERITY_MODERATE && g_strcmp0 (given, "acknowledge") != 0)
        {
          g_set_error (error, PD_REVIEW_ERROR, PD_REVIEW_ERROR_NEEDS_REASON,
                       _("The moderate finding “%s” needs your acknowledgement"), f->code);
          return FALSE;
        }
    }
  return TRUE;
}

typedef struct {
  PdSession       *session;
  PdReviewContext *c;
  const char      *decision;
  const char      *reason;
  const char      *kb_version;
  const char      *record;
  const char      *jws;
  const char      *time;
  JsonNode        *record_node;
  char            *uuid;
} DecideJob;

static gboolean
write_decision (PdStore  *store,
                gpointer  user_data,
                GError  **error)
{
  DecideJob *job = user_data;
  const PdAccount *me = pd_session_get_account (job->session);
  JsonArray *findings = json_object_get_array_member (json_node_get_object (job->record_node), "findings");
  g_autoptr(JsonNode) request = NULL;
  g_autofree char *key = NULL;
  g_autofree char *detail = NULL;
  sqlite3_stmt *stmt;
  gint64 rx_id = 0, decision_id, claim_id = 0, decide_id = 0;
  PdAuditEntry e = { me->id, NULL, "prescription", job->c->rx_uuid, "ok", NULL, NULL };

  stmt = pd_store_prepare (store, "SELECT id, status, claimed_by FROM prescription WHERE uuid = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->c->rx_uuid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *status = (const char *) sqlite3_column_text (stmt, 1);
      const char *holder = (const char *) sqlite3_column_text (stmt, 2);

      rx_id = sqlite3_column_int64 (stmt, 0);
      if (g_strcmp0 (status, "requested") != 0 && g_strcmp0 (status, "claimed") != 0)
        {
          g_set_error (error, PD_REVIEW_ERROR, PD_REVIEW_ERROR_NOT_REVIEWABLE,
                       _("This prescription is %s: it cannot be decided again"), status);
          sqlite3_reset (stmt);
          return FALSE;
        }
      /* Someone else's claim, as far as we know: ours goes first and the
       * hospital decides who holds it. */
      if (g_strcmp0 (status, "claimed") != 0 || g_strcmp0 (holder, me->practitioner_ref) != 0)
        claim_id = -1;
    }
  sqlite3_reset (stmt);
  job->uuid = pd_uuid_new ();
  stmt = pd_store_prepare (store, "INSERT INTO review_decision (uuid, prescription_id, pharmacist_id, decision, reason,"
                                  " kb_version, record, jws, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->uuid, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, rx_id);
  sqlite3_bind_int64 (stmt, 3, me->id);
  sqlite3_bind_text (stmt, 4, job->decision, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, g_str_equal (job->decision, "reject") ? job->reason : NULL, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, job->kb_version, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, job->record, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, job->jws, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, job->time, -1, SQLITE_STATIC);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  decision_id = sqlite3_last_insert_rowid (pd_store_get_db (store));
  for (guint i = 0; i < job->c->review->findings->len; i++)
    {
      const PdFinding *f = job->c->review->findings->pdata[i];
      JsonObject *rf = json_array_get_object_element (findings, i);
      JsonObject *ov = pd_json_obj (rf, "override");
      g_autoptr(JsonNode) lines = json_node_ref (json_object_get_member (rf, "lines"));
      g_autofree char *lines_text = json_to_string (lines, FALSE);

      stmt = pd_store_prepare (store, "INSERT INTO review_finding (decision_id, code, severity, lines, population, rule,"
                                      " override_action, override_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, decision_id);
      sqlite3_bind_text (stmt, 2, f->code, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, pd_severity_to_string (f->severity), -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, lines_text, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, f->population, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 6, f->rule, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 7, pd_json_str (ov, "action"), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 8, pd_json_str (ov, "reason"), -1, SQLITE_TRANSIENT);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  if (claim_id < 0)
    {
      claim_id = pd_hospital_queue_claim_in_txn (job->session, job->c->rx_uuid, error);
      if (claim_id <= 0)
        return FALSE;
    }
  request = pd_json_node_take (json_object_new ());
  json_object_set_string_member (json_node_get_object (request), "task", job->c->task_id);
  json_object_set_string_member (json_node_get_object (request), "decision", job->uuid);
  key = g_strconcat ("decide:", job->uuid, NULL);
  if (!pd_outbox_enqueue (job->session, "hospital", "decide", key, claim_id, request, "prescription", job->c->rx_uuid,
                          &decide_id, error))
    return FALSE;
  stmt = pd_store_prepare (store, "UPDATE review_decision SET outbox_id = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, decide_id);
  sqlite3_bind_int64 (stmt, 2, decision_id);
  if (!pd_store_step_done (store, stmt, error)
      || !pd_rx_cache_set_status (store, job->c->rx_uuid, g_str_equal (job->decision, "approve") ? "approved" : "rejected", error))
    return FALSE;
  e.action = g_str_equal (job->decision, "approve") ? "review.approve" : "review.reject";
  detail = g_strdup_printf ("decision %s", job->uuid);
  e.detail = detail;
  return pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error);
}

char *
pd_review_decide (PdSession  *session,
                  PdKb       *kb,
                  const char *rx_uuid,
                  const char *decision,
                  GHashTable *overrides,
                  const char *reason,
                  GError    **error)
{
  const PdAccount *me = pd_session_get_account (session);
  g_autoptr(PdReviewContext) c = NULL;
  g_autoptr(PdRxView) view = NULL;
  g_autoptr(JsonNode) record = NULL;
  g_autofree char *text = NULL;
  g_autofree char *jws = NULL;
  g_autofree char *key_uuid = NULL;
  g_autofree char *time = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  guint8 priv[32];
  DecideJob job = { 0 };

  g_return_val_if_fail (g_strcmp0 (decision, "approve") == 0 || g_strcmp0 (decision, "reject") == 0, NULL);
  if (!pd_session_require (session, PD_ACTION_REVIEW, "prescription", rx_uuid, error))
    return NULL;
  if (me->practitioner_ref == NULL || me->pharmacist_licence == NULL)
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_FORBIDDEN, "%s",
                   _("This account has no practising-certificate number or hospital Practitioner reference: an administrator adds them"));
      return NULL;
    }
  /* Not over a colleague's claim that still holds, whatever the cached
   * Task's version would let through at the hospital. */
  view = pd_rx_view_load (session, kb, rx_uuid, "en", FALSE, error);
  if (view == NULL || !pd_review_check_decidable (view, error))
    return NULL;
  c = pd_review_context_load (session, kb, rx_uuid, error);
  if (c == NULL || !check_decision (c, decision, overrides, reason, error))
    return NULL;
  record = build_record (c, me, decision, overrides, reason, pd_kb_get_version (kb), time);
  text = pd_jcs_serialize (record, error);
  if (text == NULL || !pd_accounts_pharmacist_key (session, priv, &key_uuid, error))
    return NULL;
  jws = pd_jws_sign_detached (priv, text, strlen (text), error);
  memset (priv, 0, sizeof priv);
  if (jws == NULL)
    return NULL;
  job.session = session;
  job.c = c;
  job.decision = decision;
  job.reason = reason;
  job.kb_version = pd_kb_get_version (kb);
  job.record = text;
  job.jws = jws;
  job.time = time;
  job.record_node = record;
  if (!pd_store_write (pd_session_get_store (session), write_decision, &job, error))
    {
      g_free (job.uuid);
      return NULL;
    }
  return job.uuid;
}

gboolean
pd_review_verify (PdStore    *store,
                  const char *decision_uuid,
                  GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT record, jws, decided_at, pharmacist_id FROM review_decision"
                                                " WHERE uuid = ?1 OR CAST (id AS TEXT) = ?1", error);
  g_autofree char *record = NULL;
  g_autofree char *jws = NULL;
  g_autofree char *at = NULL;
  gint64 signer = 0, pharmacist = 0;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, decision_uuid, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_FOUND, _("There is no decision “%s”"), decision_uuid);
      return FALSE;
    }
  record = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  jws = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  at = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  pharmacist = sqlite3_column_int64 (stmt, 3);
  sqlite3_reset (stmt);
  if (!pd_registry_verify_signature (store, jws, record, strlen (record), at, &signer, error))
    return FALSE;
  if (signer != pharmacist)
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_FORBIDDEN, "%s",
                   _("The decision is signed by another pharmacist's key than the one it names"));
      return FALSE;
    }
  return TRUE;
}
