/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-first-start-page"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-first-start-page.h"

struct _PdFirstStartPage
{
  GtkBox          parent_instance;

  PdStore        *store;
  GCancellable   *cancellable;

  GtkStack       *steps;
  AdwEntryRow    *username_row;
  AdwEntryRow    *display_name_row;
  AdwEntryRow    *password_row;
  AdwEntryRow    *repeat_row;
  GtkLabel       *error_label;
  GtkButton      *create_button;
  GtkLabel       *recovery_label;
  GtkCheckButton *kept_check;
  GtkButton      *continue_button;
};

G_DEFINE_FINAL_TYPE (PdFirstStartPage, pd_first_start_page, GTK_TYPE_BOX)

enum {
  DONE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct {
  char *username;
  char *display_name;
  char *password;
} NewAdmin;

static void
new_admin_free (NewAdmin *a)
{
  g_free (a->username);
  g_free (a->display_name);
  if (a->password != NULL)
    memset (a->password, 0, strlen (a->password));
  g_free (a->password);
  g_free (a);
}

static void
show_error (PdFirstStartPage *self,
            const char       *text)
{
  gtk_label_set_label (self->error_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
}

static void
init_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  PdFirstStartPage *self = source;
  NewAdmin *a = task_data;
  PdAccountSpec spec = { a->username, a->display_name, PD_ROLE_ADMIN, NULL, NULL, NULL };
  GError *error = NULL;
  char *recovery = NULL;

  if (pd_accounts_init (self->store, &spec, a->password, &recovery, &error))
    g_task_return_pointer (task, recovery, g_free);
  else
    g_task_return_error (task, error);
}

static void
init_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  PdFirstStartPage *self = PD_FIRST_START_PAGE (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *recovery = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  gtk_widget_set_sensitive (GTK_WIDGET (self->create_button), TRUE);
  if (recovery == NULL)
    {
      show_error (self, error->message);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->repeat_row), "");
  gtk_label_set_label (self->recovery_label, recovery);
  gtk_stack_set_visible_child_name (self->steps, "recovery");
}

void
pd_first_start_page_submit (PdFirstStartPage *self,
                            const char       *username,
                            const char       *display_name,
                            const char       *password,
                            const char       *repeat)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  NewAdmin *a;

  /* What is submitted is what the form shows, typed or not. */
  if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->username_row)), username) != 0)
    gtk_editable_set_text (GTK_EDITABLE (self->username_row), username);
  if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->display_name_row)), display_name) != 0)
    gtk_editable_set_text (GTK_EDITABLE (self->display_name_row), display_name != NULL ? display_name : "");
  if (g_strcmp0 (password, repeat) != 0)
    {
      show_error (self, _("The two passwords differ"));
      return;
    }
  if (!pd_accounts_check_password (password, &error))
    {
      show_error (self, error->message);
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->create_button), FALSE);
  a = g_new0 (NewAdmin, 1);
  a->username = g_strdup (username);
  a->display_name = g_strdup (display_name != NULL && *display_name != '\0' ? display_name : username);
  a->password = g_strdup (password);
  task = g_task_new (self, self->cancellable, init_done_cb, NULL);
  g_task_set_task_data (task, a, (GDestroyNotify) new_admin_free);
  g_task_run_in_thread (task, init_thread);
}

static void
create_clicked_cb (PdFirstStartPage *self)
{
  pd_first_start_page_submit (self,
                              gtk_editable_get_text (GTK_EDITABLE (self->username_row)),
                              gtk_editable_get_text (GTK_EDITABLE (self->display_name_row)),
                              gtk_editable_get_text (GTK_EDITABLE (self->password_row)),
                              gtk_editable_get_text (GTK_EDITABLE (self->repeat_row)));
}

static void
continue_clicked_cb (PdFirstStartPage *self)
{
  /* The key leaves the screen for good. */
  gtk_label_set_label (self->recovery_label, "");
  g_signal_emit (self, signals[DONE], 0);
}

void
pd_first_start_page_confirm_kept (PdFirstStartPage *self)
{
  gtk_check_button_set_active (self->kept_check, TRUE);
  if (gtk_widget_get_sensitive (GTK_WIDGET (self->continue_button)))
    g_signal_emit_by_name (self->continue_button, "clicked");
}

const char *
pd_first_start_page_get_step (PdFirstStartPage *self)
{
  return gtk_stack_get_visible_child_name (self->steps);
}

const char *
pd_first_start_page_get_error (PdFirstStartPage *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->error_label)) ? gtk_label_get_label (self->error_label) : NULL;
}

const char *
pd_first_start_page_get_recovery_key (PdFirstStartPage *self)
{
  return gtk_label_get_label (self->recovery_label);
}

static void
pd_first_start_page_dispose (GObject *object)
{
  PdFirstStartPage *self = (PdFirstStartPage *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->store);
  gtk_widget_dispose_template (GTK_WIDGET (self), PD_TYPE_FIRST_START_PAGE);
  G_OBJECT_CLASS (pd_first_start_page_parent_class)->dispose (object);
}

static void
pd_first_start_page_class_init (PdFirstStartPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = pd_first_start_page_dispose;
  signals[DONE] = g_signal_new ("done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-first-start-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PdFirstStartPage, steps);
  gtk_widget_class_bind_template_child (widget_class, PdFirstStartPage, username_row);
  gtk_widget_class_bind_template_child (widget_class, PdFirstStartPage, display_name_row);
  gtk_widget_class_bind_template_child (widget_class, PdFirstStartPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, PdFirstStartPage, repeat_row);
  gtk_widget_class_bind_template_child (widget_class, PdFirstStartPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, PdFirstStartPage, create_button);
  gtk_widget_class_bind_template_child (widget_class, PdFirstStartPage, recovery_label);
  gtk_widget_class_bind_template_child (widget_class, PdFirstStartPage, kept_check);
  gtk_widget_class_bind_template_child (widget_class, PdFirstStartPage, continue_button);
}

static void
pd_first_start_page_init (PdFirstStartPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  g_signal_connect_swapped (self->create_button, "clicked", G_CALLBACK (create_clicked_cb), self);
  g_signal_connect_swapped (self->continue_button, "clicked", G_CALLBACK (continue_clicked_cb), self);
}

GtkWidget *
pd_first_start_page_new (PdStore *store)
{
  PdFirstStartPage *self = g_object_new (PD_TYPE_FIRST_START_PAGE, NULL);

  self->store = g_object_ref (store);
  return GTK_WIDGET (self);
}
