/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-decision-dialog"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pd-decision-dialog.h"
#include "pd-desk-job.h"
#include "pd-kb-store.h"
#include "pd-review-texts.h"

/* One finding the pharmacist answers: a major one (reason and words) or
 * a moderate one (acknowledgement). */
typedef struct {
  char           *key;
  PdSeverity      severity;
  AdwComboRow    *reason_row;
  AdwEntryRow    *words_row;
  GtkCheckButton *ack_check;
} Answer;

struct _PdDecisionDialog
{
  AdwWindow       parent_instance;

  AdwWindowTitle *window_title;
  GtkButton      *cancel_button;
  GtkButton      *confirm_button;
  GtkSpinner     *spinner;
  GtkLabel       *intro_label;
  GtkBox         *findings_box;
  GtkWidget      *reject_group;
  AdwEntryRow    *reject_row;
  AdwPasswordEntryRow *password_row;
  GtkLabel       *error_label;

  PdSession      *session;
  char           *rx_uuid;
  char           *decision;
  GPtrArray      *majors;      /* Answer* */
  GPtrArray      *moderates;   /* Answer* */
  gboolean        busy;
};

G_DEFINE_FINAL_TYPE (PdDecisionDialog, pd_decision_dialog, ADW_TYPE_WINDOW)

enum {
  DECIDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
answer_free (gpointer data)
{
  Answer *a = data;

  g_free (a->key);
  g_free (a);
}

static gboolean
is_approve (PdDecisionDialog *self)
{
  return g_str_equal (self->decision, "approve");
}

static char *
trimmed (GtkEditable *editable)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (editable)));
}

static gboolean
complete (PdDecisionDialog *self)
{
  g_autofree char *password = NULL;

  if (*gtk_editable_get_text (GTK_EDITABLE (self->password_row)) == '\0')
    return FALSE;
  if (!is_approve (self))
    {
      g_autofree char *reason = trimmed (GTK_EDITABLE (self->reject_row));

      return *reason != '\0';
    }
  for (guint i = 0; i < self->majors->len; i++)
    {
      Answer *a = self->majors->pdata[i];
      g_autofree char *words = trimmed (GTK_EDITABLE (a->words_row));

      /* Row 0 is "Choose a reason". */
      if (adw_combo_row_get_selected (a->reason_row) == 0 || adw_combo_row_get_selected (a->reason_row) == GTK_INVALID_LIST_POSITION
          || *words == '\0')
        return FALSE;
    }
  for (guint i = 0; i < self->moderates->len; i++)
    if (!gtk_check_button_get_active (((Answer *) self->moderates->pdata[i])->ack_check))
      return FALSE;
  return TRUE;
}

static void
update (PdDecisionDialog *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->confirm_button), !self->busy && complete (self));
  gtk_widget_set_sensitive (GTK_WIDGET (self->findings_box), !self->busy);
  gtk_spinner_set_spinning (self->spinner, self->busy);
}

static void
show_error (PdDecisionDialog *self,
            const char       *message)
{
  gtk_label_set_label (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static GtkWidget *
wrapped_label (const char *text,
               const char *css)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_set_hexpand (label, TRUE);
  if (css != NULL)
    gtk_widget_add_css_class (label, css);
  return label;
}

/* A finding's heading, badge and message above the rows that answer it:
 * labels that wrap, since a group's own title is cut short when long. */
static AdwPreferencesGroup *
finding_group (PdDecisionDialog      *self,
               const PdRxViewFinding *f)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *group = adw_preferences_group_new ();
  g_autofree char *title = g_strdup_printf ("%s — %s", pd_finding_code_text (f->code), f->lines);
  GtkWidget *badge = gtk_label_new (pd_severity_text (f->severity));

  gtk_box_append (GTK_BOX (header), wrapped_label (title, "heading"));
  gtk_widget_add_css_class (badge, "finding-badge");
  gtk_widget_add_css_class (badge, pd_severity_css (f->severity));
  gtk_widget_set_valign (badge, GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (header), badge);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), wrapped_label (f->message, "dim-label"));
  gtk_widget_set_margin_top (group, 6);
  gtk_box_append (GTK_BOX (box), group);
  gtk_box_append (self->findings_box, box);
  return ADW_PREFERENCES_GROUP (group);
}

/* The reasons in the list wrap rather than end in "…". */
static void
reason_setup_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item)
{
  GtkWidget *label = wrapped_label (NULL, NULL);

  gtk_label_set_max_width_chars (GTK_LABEL (label), 40);
  gtk_list_item_set_child (item, label);
}

static void
reason_bind_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *item)
{
  gtk_label_set_label (GTK_LABEL (gtk_list_item_get_child (item)),
                       gtk_string_object_get_string (gtk_list_item_get_item (item)));
}

static void
add_major (PdDecisionDialog      *self,
           const PdRxViewFinding *f)
{
  AdwPreferencesGroup *group = finding_group (self, f);
  Answer *a = g_new0 (Answer, 1);
  g_autoptr(GtkStringList) reasons = gtk_string_list_new (NULL);
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  gtk_string_list_append (reasons, _("Choose a reason"));
  for (guint i = 0; pd_override_reasons[i] != NULL; i++)
    gtk_string_list_append (reasons, pd_override_reason_text (pd_override_reasons[i]));
  a->key = g_strdup (f->key);
  a->severity = f->severity;
  a->reason_row = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (a->reason_row), _("Reason"));
  adw_combo_row_set_model (a->reason_row, G_LIST_MODEL (reasons));
  adw_combo_row_set_selected (a->reason_row, 0);
  /* The chosen reason in full under the title, not cut short beside it. */
  adw_combo_row_set_use_subtitle (a->reason_row, TRUE);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (a->reason_row), 0);
  g_signal_connect (factory, "setup", G_CALLBACK (reason_setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (reason_bind_cb), NULL);
  adw_combo_row_set_list_factory (a->reason_row, factory);
  a->words_row = ADW_ENTRY_ROW (adw_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (a->words_row), _("In your words"));
  adw_preferences_group_add (group, GTK_WIDGET (a->reason_row));
  adw_preferences_group_add (group, GTK_WIDGET (a->words_row));
  g_signal_connect_swapped (a->reason_row, "notify::selected", G_CALLBACK (update), self);
  g_signal_connect_swapped (a->words_row, "changed", G_CALLBACK (update), self);
  g_ptr_array_add (self->majors, a);
}

static void
add_moderate (PdDecisionDialog      *self,
              const PdRxViewFinding *f)
{
  AdwPreferencesGroup *group = finding_group (self, f);
  GtkWidget *row = adw_action_row_new ();
  Answer *a = g_new0 (Answer, 1);

  a->key = g_strdup (f->key);
  a->severity = f->severity;
  a->ack_check = GTK_CHECK_BUTTON (gtk_check_button_new ());
  gtk_widget_set_valign (GTK_WIDGET (a->ack_check), GTK_ALIGN_CENTER);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("I have considered this finding"));
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), GTK_WIDGET (a->ack_check));
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), GTK_WIDGET (a->ack_check));
  adw_preferences_group_add (group, row);
  g_signal_connect_swapped (a->ack_check, "toggled", G_CALLBACK (update), self);
  g_ptr_array_add (self->moderates, a);
}

/* --- deciding off the UI thread ------------------------------------------------------------ */

typedef struct {
  char       *rx_uuid;
  char       *decision;
  char       *password;
  char       *reason;
  GHashTable *overrides;
} Decide;

static void
decide_free (gpointer data)
{
  Decide *d = data;

  g_free (d->rx_uuid);
  g_free (d->decision);
  if (d->password != NULL)
    {
      memset (d->password, 0, strlen (d->password));
      g_free (d->password);
    }
  g_free (d->reason);
  g_hash_table_unref (d->overrides);
  g_free (d);
}

/* On the worker: the password (key derivation), then core's decision. */
static char *
decide_job (PdSession *session,
            gpointer   data,
            GError   **error)
{
  Decide *d = data;
  g_autoptr(PdKb) kb = NULL;

  if (!pd_session_confirm (session, d->password, error))
    return NULL;
  kb = pd_kb_load_active (pd_session_get_store (session), error);
  if (kb == NULL)
    return NULL;
  return pd_review_decide (session, kb, d->rx_uuid, d->decision, d->overrides, d->reason, error);
}

static void
decide_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(PdDecisionDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *uuid = pd_desk_job_finish (result, &error);

  self->busy = FALSE;
  if (uuid == NULL)
    {
      show_error (self, error->message);
      gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
      update (self);
      return;
    }
  g_signal_emit (self, signals[DECIDED], 0, uuid);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
confirm_clicked_cb (PdDecisionDialog *self)
{
  Decide *d;

  if (self->busy || !complete (self))
    return;
  d = g_new0 (Decide, 1);
  d->rx_uuid = g_strdup (self->rx_uuid);
  d->decision = g_strdup (self->decision);
  d->password = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->password_row)));
  d->overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (is_approve (self))
    {
      for (guint i = 0; i < self->majors->len; i++)
        {
          Answer *a = self->majors->pdata[i];
          guint r = adw_combo_row_get_selected (a->reason_row);
          g_autofree char *words = trimmed (GTK_EDITABLE (a->words_row));

          g_hash_table_insert (d->overrides, g_strdup (a->key), g_strdup_printf ("%s: %s", pd_override_reasons[r - 1], words));
        }
      for (guint i = 0; i < self->moderates->len; i++)
        g_hash_table_insert (d->overrides, g_strdup (((Answer *) self->moderates->pdata[i])->key), g_strdup ("acknowledge"));
    }
  else
    d->reason = trimmed (GTK_EDITABLE (self->reject_row));
  self->busy = TRUE;
  show_error (self, NULL);
  update (self);
  pd_desk_job_run (self->session, decide_job, d, decide_free, NULL, decide_done_cb, g_object_ref (self));
}

static void
cancel_clicked_cb (PdDecisionDialog *self)
{
  if (!self->busy)
    gtk_window_destroy (GTK_WINDOW (self));
}

/* --- GObject ------------------------------------------------------------------------------ */

static void
pd_decision_dialog_dispose (GObject *object)
{
  PdDecisionDialog *self = PD_DECISION_DIALOG (object);

  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (object), PD_TYPE_DECISION_DIALOG);
  G_OBJECT_CLASS (pd_decision_dialog_parent_class)->dispose (object);
}

static void
pd_decision_dialog_finalize (GObject *object)
{
  PdDecisionDialog *self = PD_DECISION_DIALOG (object);

  g_free (self->rx_uuid);
  g_free (self->decision);
  g_clear_pointer (&self->majors, g_ptr_array_unref);
  g_clear_pointer (&self->moderates, g_ptr_array_unref);
  G_OBJECT_CLASS (pd_decision_dialog_parent_class)->finalize (object);
}

static void
pd_decision_dialog_class_init (PdDecisionDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pd_decision_dialog_dispose;
  object_class->finalize = pd_decision_dialog_finalize;
  signals[DECIDED] = g_signal_new ("decided", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-decision-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, PdDecisionDialog, window_title);
  gtk_widget_class_bind_template_child (widget_class, PdDecisionDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, PdDecisionDialog, confirm_button);
  gtk_widget_class_bind_template_child (widget_class, PdDecisionDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, PdDecisionDialog, intro_label);
  gtk_widget_class_bind_template_child (widget_class, PdDecisionDialog, findings_box);
  gtk_widget_class_bind_template_child (widget_class, PdDecisionDialog, reject_group);
  gtk_widget_class_bind_template_child (widget_class, PdDecisionDialog, reject_row);
  gtk_widget_class_bind_template_child (widget_class, PdDecisionDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, PdDecisionDialog, error_label);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
pd_decision_dialog_init (PdDecisionDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->majors = g_ptr_array_new_with_free_func (answer_free);
  self->moderates = g_ptr_array_new_with_free_func (answer_free);
  g_signal_connect_swapped (self->confirm_button, "clicked", G_CALLBACK (confirm_clicked_cb), self);
  g_signal_connect_swapped (self->cancel_button, "clicked", G_CALLBACK (cancel_clicked_cb), self);
  g_signal_connect_swapped (self->reject_row, "changed", G_CALLBACK (update), self);
  g_signal_connect_swapped (self->password_row, "changed", G_CALLBACK (update), self);
  g_signal_connect_swapped (self->password_row, "entry-activated", G_CALLBACK (confirm_clicked_cb), self);
}

PdDecisionDialog *
pd_decision_dialog_new (PdSession      *session,
                        const PdRxView *view,
                        const char     *decision)
{
  PdDecisionDialog *self = g_object_new (PD_TYPE_DECISION_DIALOG, NULL);
  g_autofree char *title = NULL;
  gboolean approve = g_strcmp0 (decision, "approve") == 0;

  self->session = g_object_ref (session);
  self->rx_uuid = g_strdup (view->rx_uuid);
  self->decision = g_strdup (approve ? "approve" : "reject");
  title = g_strdup_printf (approve ? _("Approve Prescription %s") : _("Reject Prescription %s"), view->number);
  gtk_window_set_title (GTK_WINDOW (self), title);
  adw_window_title_set_title (self->window_title, approve ? _("Approve") : _("Reject"));
  adw_window_title_set_subtitle (self->window_title, view->number);
  gtk_button_set_label (self->confirm_button, approve ? _("_Sign and Approve") : _("_Sign and Reject"));
  gtk_widget_add_css_class (GTK_WIDGET (self->confirm_button), approve ? "suggested-action" : "destructive-action");
  gtk_widget_set_visible (self->reject_group, !approve);
  if (approve)
    {
      for (guint i = 0; i < view->findings->len; i++)
        {
          const PdRxViewFinding *f = view->findings->pdata[i];

          if (f->severity == PD_SEVERITY_MAJOR)
            add_major (self, f);
        }
      for (guint i = 0; i < view->findings->len; i++)
        {
          const PdRxViewFinding *f = view->findings->pdata[i];

          if (f->severity == PD_SEVERITY_MODERATE)
            add_moderate (self, f);
        }
    }
  if (!approve)
    gtk_label_set_label (self->intro_label, _("The prescription goes back to the prescriber with your reason. The engine runs again as you sign."));
  else if (self->majors->len + self->moderates->len > 0)
    gtk_label_set_label (self->intro_label, _("Give a reason for each major finding and acknowledge each moderate one. The engine runs again as you sign: a new blocking finding stops the approval."));
  else
    gtk_label_set_label (self->intro_label, _("No finding needs an answer. The engine runs again as you sign."));
  gtk_widget_set_visible (GTK_WIDGET (self->findings_box), approve && self->majors->len + self->moderates->len > 0);
  update (self);
  return self;
}

guint
pd_decision_dialog_get_n_major (PdDecisionDialog *self)
{
  return self->majors->len;
}

guint
pd_decision_dialog_get_n_moderate (PdDecisionDialog *self)
{
  return self->moderates->len;
}

AdwComboRow *
pd_decision_dialog_get_reason_row (PdDecisionDialog *self,
                                   guint             i)
{
  g_return_val_if_fail (i < self->majors->len, NULL);
  return ((Answer *) self->majors->pdata[i])->reason_row;
}

AdwEntryRow *
pd_decision_dialog_get_words_row (PdDecisionDialog *self,
                                  guint             i)
{
  g_return_val_if_fail (i < self->majors->len, NULL);
  return ((Answer *) self->majors->pdata[i])->words_row;
}

GtkCheckButton *
pd_decision_dialog_get_ack_check (PdDecisionDialog *self,
                                  guint             i)
{
  g_return_val_if_fail (i < self->moderates->len, NULL);
  return ((Answer *) self->moderates->pdata[i])->ack_check;
}

AdwEntryRow *
pd_decision_dialog_get_reject_row (PdDecisionDialog *self)
{
  return self->reject_row;
}

GtkEditable *
pd_decision_dialog_get_password (PdDecisionDialog *self)
{
  return GTK_EDITABLE (self->password_row);
}

GtkButton *
pd_decision_dialog_get_confirm (PdDecisionDialog *self)
{
  return self->confirm_button;
}

const char *
pd_decision_dialog_get_error (PdDecisionDialog *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->error_label)) ? gtk_label_get_label (self->error_label) : NULL;
}

gboolean
pd_decision_dialog_is_busy (PdDecisionDialog *self)
{
  return self->busy;
}
