/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sign-in-page"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pd-sign-in-page.h"

struct _PdSignInPage
{
  GtkBox         parent_instance;

  PdStore       *store;
  PdSession     *locked;        /* the session to unlock, or NULL */
  GCancellable  *cancellable;

  AdwStatusPage *status;
  AdwEntryRow   *username_row;
  AdwEntryRow   *password_row;
  GtkLabel      *error_label;
  GtkButton     *sign_in_button;
  GtkSpinner    *spinner;
  gboolean       busy;
};

G_DEFINE_FINAL_TYPE (PdSignInPage, pd_sign_in_page, GTK_TYPE_BOX)

enum {
  SIGNED_IN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct {
  char *username;
  char *password;
} Credentials;

static void
credentials_free (Credentials *c)
{
  g_free (c->username);
  if (c->password != NULL)
    memset (c->password, 0, strlen (c->password));
  g_free (c->password);
  g_free (c);
}

static void
sign_in_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PdSignInPage *self = source;
  Credentials *c = task_data;
  GError *error = NULL;
  PdSession *session = NULL;

  if (self->locked != NULL)
    {
      if (pd_session_unlock (self->locked, c->password, &error))
        session = g_object_ref (self->locked);
    }
  else
    session = pd_session_sign_in (self->store, c->username, c->password, &error);

  if (session == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, session, g_object_unref);
}

static void
set_busy (PdSignInPage *self,
          gboolean      busy)
{
  /* Only the button: an entry made insensitive while focused loses its
   * focus-out event. A second submit while busy is ignored. */
  self->busy = busy;
  gtk_widget_set_sensitive (GTK_WIDGET (self->sign_in_button), !busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
}

static void
sign_in_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  PdSignInPage *self = PD_SIGN_IN_PAGE (object);
  g_autoptr(GError) error = NULL;
  g_autoptr(PdSession) session = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_busy (self, FALSE);
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  if (session == NULL)
    {
      gtk_label_set_label (self->error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  g_signal_emit (self, signals[SIGNED_IN], 0, session);
}

void
pd_sign_in_page_submit (PdSignInPage *self,
                        const char   *username,
                        const char   *password)
{
  g_autoptr(GTask) task = NULL;
  Credentials *c;

  if (self->busy)
    return;
  /* What is submitted is what the form shows, typed or not. */
  if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->username_row)), username) != 0)
    gtk_editable_set_text (GTK_EDITABLE (self->username_row), username != NULL ? username : "");
  if (username == NULL || *username == '\0')
    {
      gtk_label_set_label (self->error_label, _("Enter your user name"));
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return;
    }
  c = g_new0 (Credentials, 1);
  c->username = g_strdup (username);
  c->password = g_strdup (password != NULL ? password : "");
  set_busy (self, TRUE);
  task = g_task_new (self, self->cancellable, sign_in_done_cb, NULL);
  g_task_set_task_data (task, c, (GDestroyNotify) credentials_free);
  g_task_run_in_thread (task, sign_in_thread);
}

static void
submit_cb (PdSignInPage *self)
{
  pd_sign_in_page_submit (self, gtk_editable_get_text (GTK_EDITABLE (self->username_row)),
                          gtk_editable_get_text (GTK_EDITABLE (self->password_row)));
}

static void
pd_sign_in_page_dispose (GObject *object)
{
  PdSignInPage *self = (PdSignInPage *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->locked);
  g_clear_object (&self->store);
  gtk_widget_dispose_template (GTK_WIDGET (self), PD_TYPE_SIGN_IN_PAGE);
  G_OBJECT_CLASS (pd_sign_in_page_parent_class)->dispose (object);
}

static void
pd_sign_in_page_class_init (PdSignInPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = pd_sign_in_page_dispose;
  signals[SIGNED_IN] = g_signal_new ("signed-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 1, PD_TYPE_SESSION);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-sign-in-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PdSignInPage, status);
  gtk_widget_class_bind_template_child (widget_class, PdSignInPage, username_row);
  gtk_widget_class_bind_template_child (widget_class, PdSignInPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, PdSignInPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, PdSignInPage, sign_in_button);
  gtk_widget_class_bind_template_child (widget_class, PdSignInPage, spinner);
}

static void
pd_sign_in_page_init (PdSignInPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  g_signal_connect_swapped (self->sign_in_button, "clicked", G_CALLBACK (submit_cb), self);
  g_signal_connect_swapped (self->password_row, "entry-activated", G_CALLBACK (submit_cb), self);
  adw_entry_row_set_activates_default (self->username_row, FALSE);
}

GtkWidget *
pd_sign_in_page_new (PdStore *store)
{
  PdSignInPage *self = g_object_new (PD_TYPE_SIGN_IN_PAGE, NULL);

  self->store = g_object_ref (store);
  return GTK_WIDGET (self);
}

void
pd_sign_in_page_set_locked (PdSignInPage *self,
                            PdSession    *session)
{
  g_set_object (&self->locked, session);
  if (session != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Locked after a period without use. %s, enter your password to go on."),
                                               pd_session_get_account (session)->display_name);

      adw_status_page_set_title (self->status, _("The desk is locked"));
      adw_status_page_set_description (self->status, text);
      gtk_editable_set_text (GTK_EDITABLE (self->username_row), pd_session_get_account (session)->username);
      gtk_widget_set_sensitive (GTK_WIDGET (self->username_row), FALSE);
    }
}

void
pd_sign_in_page_reset (PdSignInPage *self)
{
  g_clear_object (&self->locked);
  adw_status_page_set_title (self->status, _("Sign in to PharmDesk"));
  adw_status_page_set_description (self->status,
                                   _("Every review, dispensing and settlement is signed with your account and kept in the audit trail."));
  gtk_editable_set_text (GTK_EDITABLE (self->username_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  gtk_widget_set_sensitive (GTK_WIDGET (self->username_row), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
}

const char *
pd_sign_in_page_get_error (PdSignInPage *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->error_label)) ? gtk_label_get_label (self->error_label) : NULL;
}
