/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-preferences-window"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-preferences-window.h"

/* The desk's own preferences (GSettings), and the link addresses shown
 * read-only: those belong to the administrator and the database, or to
 * the --config file, never to a desk's settings. */
struct _PdPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  AdwComboRow          *color_scheme_row;
  GtkSwitch            *notifications_switch;
  AdwActionRow         *hospital_row;
  AdwActionRow         *insurance_row;
  AdwActionRow         *courier_row;
  AdwActionRow         *pharmacy_row;
};

G_DEFINE_FINAL_TYPE (PdPreferencesWindow, pd_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static void
color_scheme_selected_cb (PdPreferencesWindow *self,
                          GParamSpec          *pspec,
                          AdwComboRow         *row)
{
  PdApplication *app = PD_APPLICATION (g_application_get_default ());

  g_settings_set_enum (pd_application_get_settings (app), "color-scheme",
                       (int) adw_combo_row_get_selected (row));
}

static void
show_address (AdwActionRow *row,
              const char   *url)
{
  adw_action_row_set_subtitle (row, url != NULL ? url : _("Not configured"));
}

static void
pd_preferences_window_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), PD_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (pd_preferences_window_parent_class)->dispose (object);
}

static void
pd_preferences_window_class_init (PdPreferencesWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = pd_preferences_window_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PdPreferencesWindow, color_scheme_row);
  gtk_widget_class_bind_template_child (widget_class, PdPreferencesWindow, notifications_switch);
  gtk_widget_class_bind_template_child (widget_class, PdPreferencesWindow, hospital_row);
  gtk_widget_class_bind_template_child (widget_class, PdPreferencesWindow, insurance_row);
  gtk_widget_class_bind_template_child (widget_class, PdPreferencesWindow, courier_row);
  gtk_widget_class_bind_template_child (widget_class, PdPreferencesWindow, pharmacy_row);
}

static void
pd_preferences_window_init (PdPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

PdPreferencesWindow *
pd_preferences_window_new (PdApplication *application)
{
  PdPreferencesWindow *self = g_object_new (PD_TYPE_PREFERENCES_WINDOW, NULL);
  GSettings *settings = pd_application_get_settings (application);
  PdConfig *config = pd_application_get_config (application);

  adw_combo_row_set_selected (self->color_scheme_row, (guint) g_settings_get_enum (settings, "color-scheme"));
  g_signal_connect_swapped (self->color_scheme_row, "notify::selected", G_CALLBACK (color_scheme_selected_cb), self);
  g_settings_bind (settings, "notifications", self->notifications_switch, "active", G_SETTINGS_BIND_DEFAULT);

  show_address (self->hospital_row, config != NULL ? config->hospital_url : NULL);
  show_address (self->insurance_row, config != NULL ? config->insurance_url : NULL);
  show_address (self->courier_row, config != NULL ? config->courier_url : NULL);
  if (config != NULL && config->fixmedins_code != NULL)
    {
      g_autofree char *text = g_strdup_printf ("%s · %s", config->fixmedins_name != NULL ? config->fixmedins_name : "",
                                               config->fixmedins_code);
      adw_action_row_set_subtitle (self->pharmacy_row, text);
    }
  else
    adw_action_row_set_subtitle (self->pharmacy_row, _("Not configured"));
  return self;
}
