/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-rx-pane"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pd-decision-dialog.h"
#include "pd-desk-job.h"
#include "pd-hospital-link.h"
#include "pd-queue-row.h"
#include "pd-review-texts.h"
#include "pd-roles.h"
#include "pd-rx-pane.h"
#include "pd-ui.h"

struct _PdRxPane
{
  GtkBox       parent_instance;

  GtkLabel    *title_label;
  GtkLabel    *subtitle_label;
  GtkButton   *claim_button;
  GtkButton   *release_button;
  GtkButton   *reject_button;
  GtkButton   *approve_button;
  GtkSpinner  *spinner;
  GtkLabel    *error_label;
  GtkRevealer *conflict_revealer;
  GtkLabel    *conflict_label;
  GtkBox      *content_box;
  GtkScrolledWindow *scroller;

  PdSession   *session;
  PdKb        *kb;
  PdRxView    *view;
  GtkWindow   *dialog;
  char        *last_decision;
  gboolean     busy;
};

G_DEFINE_FINAL_TYPE (PdRxPane, pd_rx_pane, GTK_TYPE_BOX)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- helpers ------------------------------------------------------------------------------ */

static char *
number_text (double value)
{
  return g_strdup_printf ("%g", value);
}

static AdwPreferencesGroup *
add_group (PdRxPane   *self,
           const char *title)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  gtk_box_append (self->content_box, group);
  return ADW_PREFERENCES_GROUP (group);
}

/* "Not recorded" for pregnancy and breastfeeding is worth a line only for
 * someone who could be either: not for a man, nor for a young child.
 * A recorded result always shows. */
static gboolean
may_be_pregnant (const PdRxView *v)
{
  return g_strcmp0 (v->gender, "male") != 0 && (v->age < 0 || (v->age >= 12 && v->age <= 55));
}

static const char *
gender_text (const char *gender)
{
  if (g_strcmp0 (gender, "female") == 0)
    return _("Female");
  if (g_strcmp0 (gender, "male") == 0)
    return _("Male");
  if (g_strcmp0 (gender, "other") == 0)
    return _("Other sex");
  return _("Sex not recorded");
}

/* "value · recorded time", or the value alone when the time is unknown. */
static char *
with_time (const char *value,
           const char *when)
{
  g_autofree char *t = pd_ui_short_time (when);

  if (*t == '\0')
    return g_strdup (value);
  /* Translators: a result and when it was recorded, e.g. "Negative · 2026-11-20 08:00" */
  return g_strdup_printf (_("%s · %s"), value, t);
}

static const PdRxViewEvidence *
find_evidence (const PdRxView   *v,
               PdRxEvidenceKind  kind)
{
  for (guint i = 0; i < v->evidence->len; i++)
    if (((PdRxViewEvidence *) v->evidence->pdata[i])->kind == kind)
      return v->evidence->pdata[i];
  return NULL;
}

static const char *
skin_result_text (const PdRxViewEvidence *e)
{
  if (g_strcmp0 (e->result, "negative") == 0)
    return C_("skin test", "Negative");
  if (g_strcmp0 (e->result, "positive") == 0)
    return C_("skin test", "Positive");
  return e->result != NULL ? e->result : C_("skin test", "Result not understood");
}

/* The patient and everything the engine read about them, each with
 * when it was recorded: what a passing prescription relied on. */
static void
build_patient (PdRxPane       *self,
               const PdRxView *v)
{
  AdwPreferencesGroup *group = add_group (self, _("Patient"));
  g_autofree char *about = NULL;
  const PdRxViewEvidence *e;
  gboolean any = FALSE;

  adw_preferences_group_set_description (group, _("What the engine read about the patient, and when it was recorded."));
  if (v->age >= 0)
    about = g_strdup_printf (ngettext ("%s, %d year", "%s, %d years", v->age), gender_text (v->gender), v->age);
  else
    about = g_strdup_printf (_("%s, age not recorded"), gender_text (v->gender));
  pd_ui_add_row (group, v->patient_name != NULL ? v->patient_name : _("Name not recorded"), about);
  /* A skin test first: what a passing antibiotic relied on. */
  for (guint i = 0; i < v->evidence->len; i++)
    {
      const PdRxViewEvidence *t = v->evidence->pdata[i];
      g_autofree char *title = NULL;
      g_autofree char *text = NULL;

      if (t->kind != PD_RX_EVIDENCE_SKIN_TEST)
        continue;
      /* Translators: a skin test for a drug line, e.g. "Skin test: Amoxicillin capsules" */
      title = g_strdup_printf (_("Skin test: %s"), t->about);
      text = with_time (skin_result_text (t), t->when);
      pd_ui_add_row (group, title, text);
    }

  e = find_evidence (v, PD_RX_EVIDENCE_WEIGHT);
  if (e != NULL)
    {
      g_autofree char *n = pd_rx_view_format_kg (e->kg);
      g_autofree char *kg = g_strdup_printf (_("%s kg"), n);
      g_autofree char *text = with_time (kg, e->when);

      pd_ui_add_row (group, _("Weight"), text);
    }
  else
    pd_ui_add_row (group, _("Weight"), _("Not recorded"));

  e = find_evidence (v, PD_RX_EVIDENCE_PREGNANCY);
  if (e != NULL)
    {
      g_autofree char *text = with_time (e->yes ? _("Pregnant") : _("Not pregnant"), e->when);

      pd_ui_add_row (group, _("Pregnancy"), text);
    }
  else if (may_be_pregnant (v))
    pd_ui_add_row (group, _("Pregnancy"), _("Not recorded"));
  e = find_evidence (v, PD_RX_EVIDENCE_LACTATION);
  if (e != NULL)
    {
      g_autofree char *text = with_time (e->yes ? _("Breastfeeding") : _("Not breastfeeding"), e->when);

      pd_ui_add_row (group, _("Breastfeeding"), text);
    }
  else if (may_be_pregnant (v))
    pd_ui_add_row (group, _("Breastfeeding"), _("Not recorded"));

  for (guint i = 0; i < v->evidence->len; i++)
    {
      const PdRxViewEvidence *a = v->evidence->pdata[i];
      g_autofree char *title = NULL;
      g_autofree char *text = NULL;

      if (a->kind != PD_RX_EVIDENCE_ALLERGY)
        continue;
      any = TRUE;
      /* Translators: an allergy the patient has, e.g. "Allergy: penicillin" */
      title = g_strdup_printf (_("Allergy: %s"), a->about);
      text = with_time (g_strcmp0 (a->result, "confirmed") == 0 ? _("Active, confirmed") : _("Active"), a->when);
      pd_ui_add_row (group, title, text);
    }
  if (!any)
    pd_ui_add_row (group, _("Allergies"), _("None recorded"));

  for (guint i = 0; i < v->evidence->len; i++)
    {
      const PdRxViewEvidence *c = v->evidence->pdata[i];
      g_autofree char *title = NULL;
      g_autofree char *text = NULL;

      if (c->kind != PD_RX_EVIDENCE_CONDITION)
        continue;
      /* Translators: a diagnosis a line gives as its reason */
      title = g_strdup_printf (_("Condition: %s"), c->about);
      text = with_time (_("Given as a line's reason"), c->when);
      pd_ui_add_row (group, title, text);
    }
}

static void
build_prescriber (PdRxPane       *self,
                  const PdRxView *v)
{
  AdwPreferencesGroup *group = add_group (self, _("Prescriber and visit"));
  g_autoptr(GString) quals = g_string_new (NULL);
  g_autoptr(GString) visit = g_string_new (NULL);

  for (guint i = 0; i < v->qualifications->len; i++)
    {
      const PdRxViewQualification *q = v->qualifications->pdata[i];

      if (quals->len > 0)
        g_string_append (quals, "\n");
      g_string_append (quals, pd_qualification_text (q->code));
      if (q->start != NULL || q->end != NULL)
        g_string_append_printf (quals, " (%s – %s)", q->start != NULL ? q->start : "…", q->end != NULL ? q->end : "…");
    }
  pd_ui_add_row (group, v->prescriber != NULL ? v->prescriber : _("Prescriber not recorded"),
           quals->len > 0 ? quals->str : _("No qualification recorded"));
  if (!v->has_encounter)
    g_string_append (visit, _("No visit recorded"));
  else
    {
      g_string_append (visit, v->online ? _("Online") : _("In person"));
      g_string_append_printf (visit, " · %s", v->follow_up ? _("follow-up visit") : _("first visit"));
      if (v->emergency)
        g_string_append_printf (visit, " · %s", _("emergency"));
    }
  pd_ui_add_row (group, _("Visit"), visit->str);
}

static void
build_lines (PdRxPane       *self,
             const PdRxView *v)
{
  AdwPreferencesGroup *group = add_group (self, _("Lines"));

  for (guint i = 0; i < v->lines->len; i++)
    {
      const PdRxViewLine *l = v->lines->pdata[i];
      g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *title = NULL;
      g_autofree char *subtitle = NULL;

      if (l->has_dose)
        {
          g_autofree char *n = number_text (l->dose_value);
          g_autofree char *dose = g_strdup_printf ("%s %s", n, l->dose_unit != NULL ? l->dose_unit : "");

          g_ptr_array_add (parts, g_strdup_printf (_("dose %s"), g_strstrip (dose)));
        }
      else
        g_ptr_array_add (parts, g_strdup (_("no dose")));
      if (l->per_day > 0 && l->frequency != NULL)
        g_ptr_array_add (parts, g_strdup_printf (ngettext ("%s (%d a day)", "%s (%d a day)", l->per_day), l->frequency, l->per_day));
      else if (l->per_day > 0)
        g_ptr_array_add (parts, g_strdup_printf (ngettext ("%d time a day", "%d times a day", l->per_day), l->per_day));
      else
        g_ptr_array_add (parts, g_strdup (_("frequency not understood")));
      g_ptr_array_add (parts, g_strdup (l->route != NULL ? l->route : _("no route")));
      if (l->has_days)
        {
          g_autofree char *n = number_text (l->days);

          g_ptr_array_add (parts, g_strdup_printf (_("%s days"), n));
        }
      if (l->has_quantity)
        {
          g_autofree char *n = number_text (l->quantity_value);

          g_ptr_array_add (parts, g_strdup_printf (_("quantity %s %s"), n, l->quantity_unit != NULL ? l->quantity_unit : ""));
        }
      g_ptr_array_add (parts, g_strdup_printf (_("diagnosis: %s"), l->diagnosis != NULL ? l->diagnosis : _("none")));
      g_ptr_array_add (parts, NULL);
      subtitle = g_strjoinv (" · ", (char **) parts->pdata);
      if (g_strcmp0 (l->status, "active") == 0 || g_strcmp0 (l->status, "draft") == 0)
        title = g_strdup_printf ("%u. %s", i + 1, l->drug);
      else
        /* Translators: a prescription line the prescriber cancelled or stopped; %s is its FHIR status */
        title = g_strdup_printf (_("%u. %s (%s: not dispensed)"), i + 1, l->drug, l->status);
      pd_ui_add_row (group, title, subtitle);
    }
}

static void
build_findings (PdRxPane       *self,
                const PdRxView *v)
{
  static const PdSeverity order[] = { PD_SEVERITY_BLOCK, PD_SEVERITY_MAJOR, PD_SEVERITY_MODERATE, PD_SEVERITY_INFO };

  if (v->findings->len == 0)
    {
      AdwPreferencesGroup *group = add_group (self, _("Findings"));

      pd_ui_add_row (group, g_strcmp0 (v->verdict, "cancelled") == 0 ? _("Every line is cancelled: nothing to dispense")
                                                                : _("The engine found nothing to answer"), NULL);
      return;
    }
  for (guint s = 0; s < G_N_ELEMENTS (order); s++)
    {
      guint n = pd_rx_view_count (v, order[s]);
      AdwPreferencesGroup *group;
      g_autofree char *title = NULL;
      const char *description;

      if (n == 0)
        continue;
      if (order[s] == PD_SEVERITY_BLOCK)
        title = g_strdup_printf (_("Blocking findings (%u)"), n);
      else if (order[s] == PD_SEVERITY_MAJOR)
        title = g_strdup_printf (_("Major findings (%u)"), n);
      else if (order[s] == PD_SEVERITY_MODERATE)
        title = g_strdup_printf (_("Moderate findings (%u)"), n);
      else
        title = g_strdup_printf (_("Information (%u)"), n);
      group = add_group (self, title);
      if (order[s] == PD_SEVERITY_BLOCK)
        description = _("Cannot be approved: reject and return the prescription to the prescriber.");
      else if (order[s] == PD_SEVERITY_MAJOR)
        description = _("May be approved only with a reason from the list and your own words.");
      else if (order[s] == PD_SEVERITY_MODERATE)
        description = _("Acknowledge each one when approving.");
      else
        description = _("For information only.");
      adw_preferences_group_set_description (group, description);
      for (guint i = 0; i < v->findings->len; i++)
        {
          const PdRxViewFinding *f = v->findings->pdata[i];
          g_autofree char *row_title = NULL;
          GtkWidget *row, *badge;

          if (f->severity != order[s])
            continue;
          row_title = g_strdup_printf ("%s — %s", pd_finding_code_text (f->code), f->lines);
          row = pd_ui_add_row (group, row_title, f->message);
          badge = gtk_label_new (pd_severity_text (f->severity));
          gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
          gtk_widget_add_css_class (badge, "finding-badge");
          gtk_widget_add_css_class (badge, pd_severity_css (f->severity));
          adw_action_row_add_prefix (ADW_ACTION_ROW (row), badge);
        }
    }
}

static const PdRxViewDecision *
last_decision (const PdRxView *v)
{
  return v->decisions->len > 0 ? v->decisions->pdata[v->decisions->len - 1] : NULL;
}

static gboolean
decided (const PdRxView *v)
{
  return (g_strcmp0 (v->status, "approved") == 0 || g_strcmp0 (v->status, "rejected") == 0
          || g_strcmp0 (v->status, "dispensed") == 0) && last_decision (v) != NULL;
}

/* Where the prescription stands, in words: the decision once made, who
 * holds the claim (by name), else the status. */
static char *
state_text (const PdRxView *v)
{
  if (decided (v))
    {
      const PdRxViewDecision *d = last_decision (v);

      return g_strdup_printf (g_strcmp0 (d->decision, "approve") == 0 ? _("Approved by %s") : _("Rejected by %s"),
                              d->pharmacist != NULL ? d->pharmacist : "?");
    }
  if (v->mine && g_strcmp0 (v->status, "claimed") == 0)
    return g_strdup (_("Claimed by you"));
  if (v->claimer_name != NULL && g_strcmp0 (v->status, "claimed") == 0)
    return g_strdup_printf (_("Claimed by %s"), v->claimer_name);
  return g_strdup (pd_queue_status_text (v->status));
}

static void
build_history (PdRxPane       *self,
               const PdRxView *v)
{
  AdwPreferencesGroup *group = add_group (self, _("History"));
  g_autofree char *status = NULL;

  status = state_text (v);
  pd_ui_add_row (group, _("Now"), status);

  for (guint i = 0; i < v->decisions->len; i++)
    {
      const PdRxViewDecision *d = v->decisions->pdata[i];
      g_autofree char *when = pd_ui_short_time (d->decided_at);
      g_autofree char *title = g_strdup_printf (g_strcmp0 (d->decision, "approve") == 0 ? _("Approved by %s") : _("Rejected by %s"),
                                                d->pharmacist != NULL ? d->pharmacist : "?");
      g_autofree char *subtitle = NULL;

      if (d->reason != NULL)
        subtitle = g_strdup_printf (_("%s · to the hospital: %s · reason: %s"), when, pd_outbox_state_text (d->outbox_state), d->reason);
      else
        subtitle = g_strdup_printf (_("%s · to the hospital: %s"), when, pd_outbox_state_text (d->outbox_state));
      pd_ui_add_row (group, title, subtitle);
    }
  for (guint i = 0; i < v->outbox->len; i++)
    {
      const PdRxViewOutbox *o = v->outbox->pdata[i];
      g_autofree char *when = pd_ui_short_time (o->updated_at);
      g_autofree char *title = g_strdup_printf ("%s: %s", pd_outbox_operation_text (o->operation), pd_outbox_state_text (o->state));
      g_autofree char *subtitle = NULL;
      GtkWidget *row;

      if (o->error != NULL && o->http_status > 0)
        subtitle = g_strdup_printf ("%s · HTTP %d · %s", when, o->http_status, o->error);
      else if (o->error != NULL)
        subtitle = g_strdup_printf ("%s · %s", when, o->error);
      else
        subtitle = g_strdup (when);
      row = pd_ui_add_row (group, title, subtitle);
      if (g_strcmp0 (o->state, "conflict") == 0 || g_strcmp0 (o->state, "refused") == 0)
        gtk_widget_add_css_class (row, "conflict");
    }
}

static gboolean
decidable (const PdRxView *v)
{
  return g_strcmp0 (v->status, "requested") == 0 || g_strcmp0 (v->status, "claimed") == 0;
}

/* Claim, release and the decision are the pharmacist's (PD_ACTION_REVIEW):
 * another role does not see them (core refuses them anyway). */
static gboolean
may_review (PdRxPane *self)
{
  return self->session != NULL
         && (pd_session_get_account (self->session)->roles & pd_action_get_roles (PD_ACTION_REVIEW)) != 0;
}

static void
update_buttons (PdRxPane *self)
{
  const PdRxView *v = self->view;
  gboolean open = v != NULL && decidable (v) && !self->busy && self->dialog == NULL;
  gboolean may = may_review (self);

  /* A decided prescription has nothing to claim or release. */
  gtk_widget_set_visible (GTK_WIDGET (self->claim_button), may && (v == NULL || (!v->mine && decidable (v))));
  gtk_widget_set_visible (GTK_WIDGET (self->release_button), may && v != NULL && v->mine && decidable (v));
  gtk_widget_set_visible (GTK_WIDGET (self->reject_button), may && (v == NULL || decidable (v)));
  gtk_widget_set_visible (GTK_WIDGET (self->approve_button), may && (v == NULL || decidable (v)));
  gtk_widget_set_sensitive (GTK_WIDGET (self->claim_button), open);
  gtk_widget_set_sensitive (GTK_WIDGET (self->release_button), open);
  gtk_widget_set_sensitive (GTK_WIDGET (self->reject_button), open);
  gtk_widget_set_sensitive (GTK_WIDGET (self->approve_button),
                            open && !v->has_block && g_strcmp0 (v->verdict, "cancelled") != 0);
  if (v != NULL && v->has_block)
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->approve_button),
                                 _("A blocking finding stands: reject the prescription and return it to the prescriber"));
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->approve_button), NULL);
  gtk_spinner_set_spinning (self->spinner, self->busy);
}

static void
build (PdRxPane *self)
{
  const PdRxView *v = self->view;
  const PdRxViewOutbox *conflict;
  GtkWidget *child;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *when = NULL;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->content_box))) != NULL)
    gtk_box_remove (self->content_box, child);
  update_buttons (self);
  if (v == NULL)
    return;

  when = pd_ui_short_time (v->authored_at);
  title = g_strdup_printf (_("Prescription %s"), v->number);
  gtk_label_set_label (self->title_label, title);
  if (decided (v))
    {
      /* The decision is the state now, not the engine's verdict before it. */
      g_autofree char *state = state_text (v);

      subtitle = g_strdup_printf ("%s · %s · %s", pd_queue_priority_text (v->priority), state, when);
    }
  else
    subtitle = g_strdup_printf ("%s · %s · %s · %s", pd_queue_priority_text (v->priority), pd_queue_status_text (v->status),
                                pd_queue_verdict_text (v->verdict), when);
  gtk_label_set_label (self->subtitle_label, subtitle);

  conflict = pd_rx_view_get_conflict (v);
  if (conflict != NULL || g_strcmp0 (v->status, "conflict") == 0)
    {
      g_autofree char *text = NULL;

      if (conflict != NULL)
        {
          const char *why = conflict->error != NULL ? conflict->error : pd_outbox_state_text (conflict->state);

          /* A whole sentence each: "your %s" would need the noun in the
           * middle of a sentence, in the sentence's own case. */
          if (g_strcmp0 (conflict->operation, "claim") == 0)
            text = g_strdup_printf (_("Conflict: the hospital did not take your claim (%s). The prescription below is as the hospital now has it; the queue shows who holds it."), why);
          else if (g_strcmp0 (conflict->operation, "release") == 0)
            text = g_strdup_printf (_("Conflict: the hospital did not take your release (%s). The prescription below is as the hospital now has it; the queue shows who holds it."), why);
          else
            text = g_strdup_printf (_("Conflict: the hospital did not take your decision (%s). The prescription below is as the hospital now has it; the queue shows who holds it."), why);
        }
      else
        text = g_strdup (_("Conflict: the hospital changed this prescription while you were working on it. It is shown below as the hospital now has it."));
      gtk_label_set_label (self->conflict_label, text);
      gtk_revealer_set_reveal_child (self->conflict_revealer, TRUE);
    }
  else
    gtk_revealer_set_reveal_child (self->conflict_revealer, FALSE);

  build_findings (self, v);
  build_patient (self, v);
  build_prescriber (self, v);
  build_lines (self, v);
  build_history (self, v);
}

static void
show_error (PdRxPane   *self,
            const char *message)
{
  gtk_label_set_label (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
ask_sync (PdRxPane *self)
{
  /* The window runs the sync when the hospital link is configured. */
  gtk_widget_activate_action (GTK_WIDGET (self), "win.sync-now", NULL);
}

/* --- claim and release -------------------------------------------------------------------- */

static char *
claim_job (PdSession *session,
           gpointer   data,
           GError   **error)
{
  gint64 id = pd_hospital_queue_claim (session, data, error);

  return id > 0 ? g_strdup ("") : NULL;
}

static char *
release_job (PdSession *session,
             gpointer   data,
             GError   **error)
{
  gint64 id = pd_hospital_queue_release (session, data, error);

  return id > 0 ? g_strdup ("") : NULL;
}

static void
job_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(PdRxPane) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *done = pd_desk_job_finish (result, &error);

  self->busy = FALSE;
  if (done == NULL)
    show_error (self, error->message);
  pd_rx_pane_reload (self);
  g_signal_emit (self, signals[CHANGED], 0);
  if (done != NULL)
    ask_sync (self);
}

static void
run_job (PdRxPane      *self,
         PdDeskJobFunc  func)
{
  if (self->view == NULL || self->busy)
    return;
  self->busy = TRUE;
  show_error (self, NULL);
  update_buttons (self);
  pd_desk_job_run (self->session, func, g_strdup (self->view->rx_uuid), g_free, NULL, job_done_cb, g_object_ref (self));
}

static void
claim_clicked_cb (PdRxPane *self)
{
  run_job (self, claim_job);
}

static void
release_clicked_cb (PdRxPane *self)
{
  run_job (self, release_job);
}

/* --- the decision ------------------------------------------------------------------------- */

static void
decided_cb (PdRxPane   *self,
            const char *uuid)
{
  g_free (self->last_decision);
  self->last_decision = g_strdup (uuid);
  pd_rx_pane_reload (self);
  g_signal_emit (self, signals[CHANGED], 0);
  ask_sync (self);
}

static void
dialog_destroyed_cb (PdRxPane *self)
{
  self->dialog = NULL;
  update_buttons (self);
}

static void
open_dialog (PdRxPane   *self,
             const char *decision)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->view == NULL || self->dialog != NULL)
    return;
  show_error (self, NULL);
  self->dialog = GTK_WINDOW (pd_decision_dialog_new (self->session, self->view, decision));
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (self->dialog, GTK_WINDOW (root));
  g_signal_connect_object (self->dialog, "decided", G_CALLBACK (decided_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->dialog, "destroy", G_CALLBACK (dialog_destroyed_cb), self, G_CONNECT_SWAPPED);
  update_buttons (self);
  gtk_window_present (self->dialog);
}

static void
approve_clicked_cb (PdRxPane *self)
{
  open_dialog (self, "approve");
}

static void
reject_clicked_cb (PdRxPane *self)
{
  open_dialog (self, "reject");
}

/* --- GObject ------------------------------------------------------------------------------ */

static void
pd_rx_pane_dispose (GObject *object)
{
  PdRxPane *self = PD_RX_PANE (object);

  if (self->dialog != NULL)
    gtk_window_destroy (self->dialog);
  g_clear_pointer (&self->view, pd_rx_view_free);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (object), PD_TYPE_RX_PANE);
  G_OBJECT_CLASS (pd_rx_pane_parent_class)->dispose (object);
}

static void
pd_rx_pane_finalize (GObject *object)
{
  g_free (PD_RX_PANE (object)->last_decision);
  G_OBJECT_CLASS (pd_rx_pane_parent_class)->finalize (object);
}

static void
pd_rx_pane_class_init (PdRxPaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pd_rx_pane_dispose;
  object_class->finalize = pd_rx_pane_finalize;
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-rx-pane.ui");
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, title_label);
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, claim_button);
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, release_button);
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, reject_button);
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, approve_button);
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, spinner);
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, error_label);
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, conflict_revealer);
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, conflict_label);
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, content_box);
  gtk_widget_class_bind_template_child (widget_class, PdRxPane, scroller);
}

static void
pd_rx_pane_init (PdRxPane *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->claim_button, "clicked", G_CALLBACK (claim_clicked_cb), self);
  g_signal_connect_swapped (self->release_button, "clicked", G_CALLBACK (release_clicked_cb), self);
  g_signal_connect_swapped (self->approve_button, "clicked", G_CALLBACK (approve_clicked_cb), self);
  g_signal_connect_swapped (self->reject_button, "clicked", G_CALLBACK (reject_clicked_cb), self);
}

GtkWidget *
pd_rx_pane_new (void)
{
  return g_object_new (PD_TYPE_RX_PANE, NULL);
}

/* What a reload could change; the same means no rebuild (the
 * pharmacist keeps the scroll position while the queue syncs). */
static char *
fingerprint (const PdRxView *v)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "%s|%s|%s|%s|%s|%u|%u", v->status, v->claimed_by, v->claim_until, v->verdict,
                          v->priority, v->findings->len, v->decisions->len);
  for (guint i = 0; i < v->findings->len; i++)
    g_string_append_printf (s, "|%s", ((PdRxViewFinding *) v->findings->pdata[i])->key);
  for (guint i = 0; i < v->decisions->len; i++)
    g_string_append_printf (s, "|%s", ((PdRxViewDecision *) v->decisions->pdata[i])->outbox_state);
  for (guint i = 0; i < v->outbox->len; i++)
    {
      const PdRxViewOutbox *o = v->outbox->pdata[i];

      g_string_append_printf (s, "|%s:%s:%s", o->operation, o->state, o->error);
    }
  return g_string_free (s, FALSE);
}

gboolean
pd_rx_pane_show (PdRxPane    *self,
                 PdSession   *session,
                 PdKb        *kb,
                 const char  *rx_uuid,
                 GError     **error)
{
  gboolean same = self->view != NULL && g_strcmp0 (self->view->rx_uuid, rx_uuid) == 0 && session == self->session;
  PdRxView *view = NULL;

  g_return_val_if_fail (PD_IS_RX_PANE (self), FALSE);
  if (rx_uuid != NULL && session != NULL)
    {
      view = pd_rx_view_load (session, kb, rx_uuid, pd_review_lang (), !same, error);
      if (view == NULL)
        return FALSE;
      if (same)
        {
          g_autofree char *before = fingerprint (self->view);
          g_autofree char *after = fingerprint (view);

          if (g_str_equal (before, after))
            {
              pd_rx_view_free (view);
              update_buttons (self);
              return TRUE;
            }
        }
    }
  g_set_object (&self->session, session);
  self->kb = kb;
  g_clear_pointer (&self->view, pd_rx_view_free);
  self->view = view;
  if (!same)
    show_error (self, NULL);
  build (self);
  /* Another prescription opens at its top, findings first, never at the
   * scroll position of the one before. */
  if (!same)
    gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scroller), 0.0);
  return TRUE;
}

void
pd_rx_pane_reload (PdRxPane *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uuid = NULL;

  if (self->view == NULL || self->session == NULL)
    return;
  uuid = g_strdup (self->view->rx_uuid);
  if (!pd_rx_pane_show (self, self->session, self->kb, uuid, &error))
    show_error (self, error->message);
}

const PdRxView *
pd_rx_pane_get_view (PdRxPane *self)
{
  return self->view;
}

GtkButton *
pd_rx_pane_get_button (PdRxPane   *self,
                       const char *name)
{
  if (g_str_equal (name, "claim"))
    return self->claim_button;
  if (g_str_equal (name, "release"))
    return self->release_button;
  if (g_str_equal (name, "approve"))
    return self->approve_button;
  if (g_str_equal (name, "reject"))
    return self->reject_button;
  return NULL;
}

GtkWindow *
pd_rx_pane_get_dialog (PdRxPane *self)
{
  return self->dialog;
}

const char *
pd_rx_pane_get_conflict (PdRxPane *self)
{
  return gtk_revealer_get_reveal_child (self->conflict_revealer) ? gtk_label_get_label (self->conflict_label) : NULL;
}

const char *
pd_rx_pane_get_last_decision (PdRxPane *self)
{
  return self->last_decision;
}

GtkScrolledWindow *
pd_rx_pane_get_scroller (PdRxPane *self)
{
  return self->scroller;
}

const char *
pd_rx_pane_get_subtitle (PdRxPane *self)
{
  return gtk_label_get_label (self->subtitle_label);
}

gboolean
pd_rx_pane_is_busy (PdRxPane *self)
{
  return self->busy;
}
