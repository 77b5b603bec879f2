/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-accounts-window"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-accounts.h"
#include "pd-accounts-window.h"

struct _PdAccountsWindow
{
  AdwWindow             parent_instance;

  AdwPreferencesGroup  *group;
  AdwStatusPage        *error_page;
  GtkStack             *stack;
  guint                 count;
};

G_DEFINE_FINAL_TYPE (PdAccountsWindow, pd_accounts_window, ADW_TYPE_WINDOW)

static char *
roles_in_words (PdRoles roles)
{
  GString *s = g_string_new (NULL);
  static const PdRoles each[] = { PD_ROLE_PHARMACIST, PD_ROLE_CHECKER, PD_ROLE_DELIVERY, PD_ROLE_CLERK, PD_ROLE_ADMIN };

  for (guint i = 0; i < G_N_ELEMENTS (each); i++)
    if (roles & each[i])
      {
        if (s->len > 0)
          g_string_append (s, _(", "));
        g_string_append (s, pd_role_get_title (each[i]));
      }
  return g_string_free (s, FALSE);
}

static void
fill (PdAccountsWindow *self,
      PdSession        *session)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = pd_accounts_list (session, &error);

  if (list == NULL)
    {
      adw_status_page_set_description (self->error_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "error");
      return;
    }
  for (guint i = 0; i < list->len; i++)
    {
      const PdAccount *a = list->pdata[i];
      g_autofree char *roles = roles_in_words (a->roles);
      g_autofree char *title = g_strdup_printf ("%s (%s)", a->display_name, a->username);
      g_autofree char *subtitle = a->pharmacist_licence != NULL
                                  ? g_strdup_printf (_("%s · licence %s"), roles, a->pharmacist_licence)
                                  : g_strdup (roles);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("avatar-default-symbolic"));
      if (a->locked || a->locked_until != NULL)
        {
          GtkWidget *label = gtk_label_new (a->locked ? _("Locked") : _("Locked out"));

          gtk_widget_add_css_class (label, "error");
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
        }
      adw_preferences_group_add (self->group, row);
      self->count++;
    }
}

static void
pd_accounts_window_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), PD_TYPE_ACCOUNTS_WINDOW);
  G_OBJECT_CLASS (pd_accounts_window_parent_class)->dispose (object);
}

static void
pd_accounts_window_class_init (PdAccountsWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = pd_accounts_window_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-accounts-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PdAccountsWindow, group);
  gtk_widget_class_bind_template_child (widget_class, PdAccountsWindow, error_page);
  gtk_widget_class_bind_template_child (widget_class, PdAccountsWindow, stack);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
pd_accounts_window_init (PdAccountsWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

PdAccountsWindow *
pd_accounts_window_new (PdSession *session)
{
  PdAccountsWindow *self = g_object_new (PD_TYPE_ACCOUNTS_WINDOW, NULL);

  fill (self, session);
  return self;
}

guint
pd_accounts_window_get_count (PdAccountsWindow *self)
{
  return self->count;
}
