/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-review-view"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-clock.h"
#include "pd-fhir-reader.h"
#include "pd-json-doc.h"
#include "pd-review-view.h"
#include "pd-rx-cache.h"

static void
line_free (gpointer data)
{
  PdRxViewLine *l = data;

  g_free (l->id);
  g_free (l->drug);
  g_free (l->status);
  g_free (l->dose_unit);
  g_free (l->frequency);
  g_free (l->route);
  g_free (l->quantity_unit);
  g_free (l->diagnosis);
  g_free (l);
}

static void
finding_free (gpointer data)
{
  PdRxViewFinding *f = data;

  g_free (f->key);
  g_free (f->code);
  g_free (f->message);
  g_free (f->lines);
  g_free (f);
}

static void
qualification_free (gpointer data)
{
  PdRxViewQualification *q = data;

  g_free (q->code);
  g_free (q->start);
  g_free (q->end);
  g_free (q);
}

static void
decision_free (gpointer data)
{
  PdRxViewDecision *d = data;

  g_free (d->uuid);
  g_free (d->decision);
  g_free (d->reason);
  g_free (d->decided_at);
  g_free (d->pharmacist);
  g_free (d->outbox_state);
  g_free (d);
}

static void
evidence_free (gpointer data)
{
  PdRxViewEvidence *e = data;

  g_free (e->about);
  g_free (e->result);
  g_free (e->when);
  g_free (e);
}

static void
outbox_free (gpointer data)
{
  PdRxViewOutbox *o = data;

  g_free (o->operation);
  g_free (o->state);
  g_free (o->error);
  g_free (o->updated_at);
  g_free (o);
}

void
pd_rx_view_free (PdRxView *view)
{
  if (view == NULL)
    return;
  g_free (view->rx_uuid);
  g_free (view->number);
  g_free (view->status);
  g_free (view->priority);
  g_free (view->claimed_by);
  g_free (view->claim_until);
  g_free (view->claimer_name);
  g_free (view->authored_at);
  g_free (view->patient_name);
  g_free (view->gender);
  g_free (view->prescriber);
  g_clear_pointer (&view->evidence, g_ptr_array_unref);
  g_clear_pointer (&view->qualifications, g_ptr_array_unref);
  g_clear_pointer (&view->lines, g_ptr_array_unref);
  g_clear_pointer (&view->findings, g_ptr_array_unref);
  g_clear_pointer (&view->decisions, g_ptr_array_unref);
  g_clear_pointer (&view->outbox, g_ptr_array_unref);
  g_free (view);
}

static char *
column_dup (sqlite3_stmt *stmt,
            int           i)
{
  return sqlite3_column_type (stmt, i) == SQLITE_NULL ? NULL : g_strdup ((const char *) sqlite3_column_text (stmt, i));
}

static const PdJv *
follow (const PdJv *bundle,
        const PdJv *reference,
        const char *type)
{
  g_autofree char *id = pd_fhir_ref_id (pd_jv_str (reference, "reference"), type);

  return id != NULL ? pd_fhir_bundle_resource (bundle, type, id) : NULL;
}

static void
add_concept (GPtrArray  *out,
             const PdJv *concept)
{
  const char *text = pd_fhir_concept_text (concept);
  const PdJv *codings = pd_jv_arr (concept, "coding");

  for (guint i = 0; codings != NULL && i < pd_jv_len (codings); i++)
    {
      const PdJv *c = pd_jv_at_obj (codings, i);

      if (pd_jv_str (c, "system") != NULL && strstr (pd_jv_str (c, "system"), "icd-10") != NULL
          && pd_jv_str (c, "code") != NULL && g_strcmp0 (text, pd_jv_str (c, "code")) != 0)
        {
          g_ptr_array_add (out, text != NULL ? g_strdup_printf ("%s (%s)", text, pd_jv_str (c, "code"))
                                             : g_strdup (pd_jv_str (c, "code")));
          return;
        }
    }
  if (text != NULL)
    g_ptr_array_add (out, g_strdup (text));
}

static char *
diagnosis_of (const PdJv *bundle,
              const PdJv *mr)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  const PdJv *codes = pd_jv_arr (mr, "reasonCode");
  const PdJv *refs = pd_jv_arr (mr, "reasonReference");

  for (guint i = 0; codes != NULL && i < pd_jv_len (codes); i++)
    add_concept (parts, pd_jv_at_obj (codes, i));
  for (guint i = 0; refs != NULL && i < pd_jv_len (refs); i++)
    add_concept (parts, pd_jv_obj (follow (bundle, pd_jv_at_obj (refs, i), "Condition"), "code"));
  if (parts->len == 0)
    return NULL;
  g_ptr_array_add (parts, NULL);
  return g_strjoinv ("; ", (char **) parts->pdata);
}

static char *
frequency_of (const PdJv *mr)
{
  const PdJv *dosage = pd_jv_at_obj (pd_jv_arr (mr, "dosageInstruction"), 0);
  const PdJv *code = pd_jv_obj (pd_jv_obj (dosage, "timing"), "code");

  if (pd_fhir_concept_text (code) != NULL)
    return g_strdup (pd_fhir_concept_text (code));
  return g_strdup (pd_jv_str (dosage, "text"));
}

static char *
period_date (gint64 us)
{
  int y, m, d;

  pd_china_date (us, &y, &m, &d);
  return g_strdup_printf ("%04d-%02d-%02d", y, m, d);
}

static void
read_people (PdRxView *v,
             const PdJv *bundle,
             const PdRx *rx,
             const PdJv *first_mr)
{
  const PdJv *patient = follow (bundle, pd_jv_obj (first_mr, "subject"), "Patient");
  const PdJv *requester = pd_jv_obj (first_mr, "requester");
  const PdJv *prescriber = follow (bundle, requester, "Practitioner");

  if (prescriber == NULL)
    {
      const PdJv *role = follow (bundle, requester, "PractitionerRole");

      prescriber = follow (bundle, pd_jv_obj (role, "practitioner"), "Practitioner");
    }
  v->patient_name = pd_fhir_human_name (patient);
  v->gender = g_strdup (pd_jv_str (patient, "gender"));
  v->age = rx->age_for_child >= 0 ? rx->age_for_child : rx->age_for_elderly;
  v->prescriber = pd_fhir_human_name (prescriber);

  for (guint i = 0; rx->qualifications != NULL && i < rx->qualifications->len; i++)
    {
      const PdQualification *q = rx->qualifications->pdata[i];
      PdRxViewQualification *vq = g_new0 (PdRxViewQualification, 1);

      vq->code = g_strdup (q->code);
      vq->start = q->start_us != G_MININT64 ? period_date (q->start_us) : NULL;
      vq->end = q->end_us != G_MAXINT64 ? period_date (q->end_us) : NULL;
      g_ptr_array_add (v->qualifications, vq);
    }
}

/* --- what the engine read: the reader keeps where each fact came from -- */

static PdRxViewEvidence *
evidence_new (GPtrArray        *out,
              PdRxEvidenceKind  kind,
              const char       *about,
              const char       *when)
{
  PdRxViewEvidence *e = g_new0 (PdRxViewEvidence, 1);

  e->kind = kind;
  e->about = g_strdup (about);
  e->when = g_strdup (when);
  g_ptr_array_add (out, e);
  return e;
}

static void
read_evidence (PdRxView   *v,
               const PdJv *bundle,
               const PdRx *rx)
{
  g_autoptr(GHashTable) conditions = g_hash_table_new (g_str_hash, g_str_equal);

  /* Skin tests: each counting result the reader found for a line. */
  for (guint l = 0; l < rx->lines->len; l++)
    {
      const PdRxLine *line = rx->lines->pdata[l];
      const PdRxViewLine *shown = v->lines->pdata[l];

      for (guint t = 0; t < line->skin_tests->len; t++)
        {
          const PdRxSkinTest *test = line->skin_tests->pdata[t];
          PdRxViewEvidence *e = evidence_new (v->evidence, PD_RX_EVIDENCE_SKIN_TEST, shown->drug, test->at);

          e->yes = g_strcmp0 (test->result, "negative") == 0;
          e->result = g_strdup (test->result);
        }
    }

  if (rx->weight_reading.taken && rx->weight_known)
    evidence_new (v->evidence, PD_RX_EVIDENCE_WEIGHT, NULL, rx->weight_reading.at)->kg = rx->weight_kg;
  if (rx->pregnancy_reading.taken)
    evidence_new (v->evidence, PD_RX_EVIDENCE_PREGNANCY, NULL, rx->pregnancy_reading.at)->yes = rx->pregnant;
  if (rx->lactation_reading.taken)
    evidence_new (v->evidence, PD_RX_EVIDENCE_LACTATION, NULL, rx->lactation_reading.at)->yes = rx->lactating;

  /* Allergies the engine counts (active, or no status; not refuted). */
  for (guint i = 0; i < rx->allergies->len; i++)
    {
      const PdRxAllergy *a = rx->allergies->pdata[i];

      if (a->text != NULL)
        evidence_new (v->evidence, PD_RX_EVIDENCE_ALLERGY, a->text, a->recorded_at)->result
          = a->confirmed ? g_strdup ("confirmed") : NULL;
    }

  /* Conditions: what each line gives as its reason, once each. */
  for (guint i = 0; i < rx->lines->len; i++)
    {
      const PdJv *mr = pd_fhir_bundle_resource (bundle, "MedicationRequest", ((PdRxLine *) rx->lines->pdata[i])->id);
      const PdJv *refs = pd_jv_arr (mr, "reasonReference");
      const PdJv *codes = pd_jv_arr (mr, "reasonCode");
      g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) whens = g_ptr_array_new ();

      for (guint r = 0; refs != NULL && r < pd_jv_len (refs); r++)
        {
          const PdJv *condition = follow (bundle, pd_jv_at_obj (refs, r), "Condition");
          guint before = texts->len;

          add_concept (texts, pd_jv_obj (condition, "code"));
          if (texts->len > before)
            g_ptr_array_add (whens, (gpointer) (pd_jv_str (condition, "recordedDate") != NULL ? pd_jv_str (condition, "recordedDate")
                                                                                             : pd_jv_str (condition, "onsetDateTime")));
        }
      for (guint c = 0; codes != NULL && c < pd_jv_len (codes); c++)
        {
          guint before = texts->len;

          add_concept (texts, pd_jv_at_obj (codes, c));
          if (texts->len > before)
            g_ptr_array_add (whens, NULL);
        }
      for (guint t = 0; t < texts->len; t++)
        if (!g_hash_table_contains (conditions, texts->pdata[t]))
          {
            PdRxViewEvidence *e = evidence_new (v->evidence, PD_RX_EVIDENCE_CONDITION, texts->pdata[t], whens->pdata[t]);

            g_hash_table_add (conditions, e->about);
          }
    }
}

char *
pd_rx_view_format_kg (double kg)
{
  /* A newborn's grams matter; an adult's tenth of a kilogram is enough. */
  char *text = g_strdup_printf ("%.*f", kg < 10.0 ? 2 : 1, kg);

  if (strchr (text, '.') != NULL)
    {
      char *end = text + strlen (text) - 1;

      while (*end == '0')
        *end-- = '\0';
      if (*end == '.')
        *end = '\0';
    }
  return text;
}

static PdRxViewLine *
view_line (const PdJv     *bundle,
           const PdRxLine *line)
{
  PdRxViewLine *l = g_new0 (PdRxViewLine, 1);
  const PdJv *mr = pd_fhir_bundle_resource (bundle, "MedicationRequest", line->id);

  l->id = g_strdup (line->id);
  l->drug = g_strdup (line->drug != NULL ? line->drug->name : line->drug_text);
  l->status = g_strdup (line->status);
  l->has_dose = line->has_dose;
  l->dose_value = line->dose_value;
  l->dose_unit = g_strdup (line->dose_unit);
  l->frequency = frequency_of (mr);
  l->per_day = line->has_frequency ? line->per_day : 0;
  l->route = g_strdup (line->route_text != NULL ? line->route_text : line->route);
  l->has_days = line->has_supply_duration && !isnan (line->supply_days);
  l->days = line->supply_days;
  l->has_quantity = line->has_quantity;
  l->quantity_value = line->quantity_value;
  l->quantity_unit = g_strdup (line->quantity_unit);
  l->diagnosis = diagnosis_of (bundle, mr);
  return l;
}

static gboolean
read_row (PdRxView *v,
          PdStore  *store,
          const char *me,
          GError  **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT p.rx_number, p.status, p.priority, p.claimed_by, p.claim_until, p.authored_at,"
                                                PD_ACCOUNT_NAME_OF_PRACTITIONER_SQL ("p.claimed_by")
                                                " FROM prescription p WHERE p.uuid = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, v->rx_uuid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      v->number = column_dup (stmt, 0);
      v->status = column_dup (stmt, 1);
      v->priority = column_dup (stmt, 2);
      v->claimed_by = column_dup (stmt, 3);
      v->claim_until = column_dup (stmt, 4);
      v->authored_at = column_dup (stmt, 5);
      v->claimer_name = pd_practitioner_display_name (v->claimed_by, (const char *) sqlite3_column_text (stmt, 6));
    }
  sqlite3_reset (stmt);
  v->mine = v->claimed_by != NULL && g_strcmp0 (v->claimed_by, me) == 0;
  return TRUE;
}

/* Earlier decisions and every outbox item about the prescription. The
 * outbox has no index on its subject: it holds the desk's own requests,
 * a few per prescription, so a scan stays small. */
static gboolean
read_history (PdRxView *v,
              PdStore  *store,
              GError  **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT d.uuid, d.decision, d.reason, d.decided_at, a.display_name, o.state"
                                                " FROM review_decision d JOIN prescription p ON p.id = d.prescription_id"
                                                " LEFT JOIN account a ON a.id = d.pharmacist_id"
                                                " LEFT JOIN outbox o ON o.id = d.outbox_id"
                                                " WHERE p.uuid = ? ORDER BY d.id", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, v->rx_uuid, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      PdRxViewDecision *d = g_new0 (PdRxViewDecision, 1);

      d->uuid = column_dup (stmt, 0);
      d->decision = column_dup (stmt, 1);
      d->reason = column_dup (stmt, 2);
      d->decided_at = column_dup (stmt, 3);
      d->pharmacist = column_dup (stmt, 4);
      d->outbox_state = column_dup (stmt, 5);
      g_ptr_array_add (v->decisions, d);
    }
  sqlite3_reset (stmt);

  stmt = pd_store_prepare (store, "SELECT id, operation, state, http_status, error, updated_at FROM outbox"
                                  " WHERE subject_type = 'prescription' AND subject_uuid = ? ORDER BY id", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, v->rx_uuid, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      PdRxViewOutbox *o = g_new0 (PdRxViewOutbox, 1);

      o->id = sqlite3_column_int64 (stmt, 0);
      o->operation = column_dup (stmt, 1);
      o->state = column_dup (stmt, 2);
      o->http_status = sqlite3_column_int (stmt, 3);
      o->error = column_dup (stmt, 4);
      o->updated_at = column_dup (stmt, 5);
      g_ptr_array_add (v->outbox, o);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

PdRxView *
pd_rx_view_load (PdSession   *session,
                 PdKb        *kb,
                 const char  *rx_uuid,
                 const char  *lang,
                 gboolean     opening,
                 GError     **error)
{
  g_autoptr(PdRxView) v = g_new0 (PdRxView, 1);
  g_autoptr(PdReviewContext) c = NULL;
  PdStore *store = pd_session_get_store (session);
  const PdRx *rx;
  const PdJv *first_mr;

  c = pd_review_context_load (session, kb, rx_uuid, error);
  if (c == NULL)
    {
      if (opening)
        pd_session_audit (session, "prescription.open", "prescription", rx_uuid, "error",
                        error != NULL && *error != NULL ? (*error)->message : NULL, NULL);
      return NULL;
    }
  if (opening && !pd_session_audit (session, "prescription.open", "prescription", c->rx_uuid, "ok", NULL, error))
    return NULL;
  rx = c->rxs->pdata[0];
  v->rx_uuid = g_strdup (c->rx_uuid);
  v->evidence = g_ptr_array_new_with_free_func (evidence_free);
  v->qualifications = g_ptr_array_new_with_free_func (qualification_free);
  v->lines = g_ptr_array_new_with_free_func (line_free);
  v->findings = g_ptr_array_new_with_free_func (finding_free);
  v->decisions = g_ptr_array_new_with_free_func (decision_free);
  v->outbox = g_ptr_array_new_with_free_func (outbox_free);
  if (!read_row (v, store, pd_session_get_account (session)->practitioner_ref, error))
    return NULL;
  if (v->number == NULL)
    v->number = g_strdup (rx->id);
  v->verdict = c->review->verdict;

  first_mr = rx->lines->len > 0 ? pd_fhir_bundle_resource (c->bundle, "MedicationRequest", ((PdRxLine *) rx->lines->pdata[0])->id) : NULL;
  read_people (v, c->bundle, rx, first_mr);
  v->has_encounter = rx->has_encounter;
  v->online = rx->online;
  v->follow_up = rx->follow_up;
  v->emergency = rx->emergency;

  for (guint i = 0; i < rx->lines->len; i++)
    g_ptr_array_add (v->lines, view_line (c->bundle, rx->lines->pdata[i]));
  read_evidence (v, c->bundle, rx);
  for (guint i = 0; i < c->review->findings->len; i++)
    {
      const PdFinding *f = c->review->findings->pdata[i];
      PdRxViewFinding *vf = g_new0 (PdRxViewFinding, 1);
      GString *names = g_string_new (NULL);

      vf->key = pd_finding_key (f);
      vf->code = g_strdup (f->code);
      vf->severity = f->severity;
      vf->message = pd_finding_message (f, lang);
      for (guint l = 0; l < f->lines->len; l++)
        {
          const PdRxLine *line = f->lines->pdata[l];

          g_string_append_printf (names, "%s%s", l > 0 ? " + " : "", line->drug != NULL ? line->drug->name : line->drug_text);
        }
      vf->lines = g_string_free (names, FALSE);
      if (f->severity == PD_SEVERITY_BLOCK)
        v->has_block = TRUE;
      g_ptr_array_add (v->findings, vf);
    }
  if (!read_history (v, store, error))
    return NULL;
  /* The verdict points into the review, which goes with the context. */
  v->verdict = g_intern_string (v->verdict);
  return g_steal_pointer (&v);
}

guint
pd_rx_view_count (const PdRxView *view,
                  PdSeverity      severity)
{
  guint n = 0;

  for (guint i = 0; i < view->findings->len; i++)
    if (((PdRxViewFinding *) view->findings->pdata[i])->severity == severity)
      n++;
  return n;
}

const PdRxViewOutbox *
pd_rx_view_get_conflict (const PdRxView *view)
{
  for (guint i = view->outbox->len; i > 0; i--)
    {
      const PdRxViewOutbox *o = view->outbox->pdata[i - 1];

      if (g_strcmp0 (o->state, "conflict") == 0)
        return o;
    }
  return NULL;
}
