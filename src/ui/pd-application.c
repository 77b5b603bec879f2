/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-application"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "pd-application.h"
#include "pd-link-settings.h"
#include "pd-clock.h"
#include "pd-preferences-window.h"
#include "pd-window.h"

struct _PdApplication
{
  AdwApplication  parent_instance;

  char           *config_path;
  char           *db_path;
  PdConfig       *config;
  PdStore        *store;
  GError         *store_error;
  PdLinkMonitor  *links;
  GSettings      *settings;
};

G_DEFINE_FINAL_TYPE (PdApplication, pd_application, ADW_TYPE_APPLICATION)

static const GOptionEntry options[] = {
  { "config", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Links and credentials (client.ini)"), N_("FILE") },
  { "db", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("The pharmacy’s database"), N_("FILE") },
  { "now", 0, 0, G_OPTION_ARG_STRING, NULL, N_("The clock’s time, ISO 8601 with an offset"), N_("TIME") },
  { NULL }
};

static void
apply_color_scheme (PdApplication *self)
{
  static const AdwColorScheme schemes[] = { ADW_COLOR_SCHEME_DEFAULT, ADW_COLOR_SCHEME_FORCE_LIGHT, ADW_COLOR_SCHEME_FORCE_DARK };
  guint i = (guint) g_settings_get_enum (self->settings, "color-scheme");

  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), schemes[MIN (i, 2)]);
}

static void
color_scheme_changed_cb (GSettings     *settings,
                         const char    *key,
                         PdApplication *self)
{
  apply_color_scheme (self);
}

/* The desk's database: opened once; a refusal is shown in the window, in words. */
static void
open_store (PdApplication *self)
{
  g_autofree char *path = self->db_path != NULL
                          ? g_strdup (self->db_path)
                          : g_build_filename (g_get_user_data_dir (), "pharmdesk", "pharmdesk.db", NULL);
  g_autofree char *dir = g_path_get_dirname (path);

  g_mkdir_with_parents (dir, 0700);
  self->store = pd_store_open (path, &self->store_error);
  if (self->store != NULL && !pd_store_check_clock (self->store, &self->store_error))
    g_clear_object (&self->store);
}

static int
pd_application_handle_local_options (GApplication *app,
                                     GVariantDict *dict)
{
  PdApplication *self = PD_APPLICATION (app);
  const char *now = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_dict_lookup (dict, "config", "^ay", &self->config_path);
  g_variant_dict_lookup (dict, "db", "^ay", &self->db_path);
  if (g_variant_dict_lookup (dict, "now", "&s", &now)
      && !pd_clock_set_now_from_iso (pd_clock_get_default (), now, &error))
    {
      g_printerr ("pharmdesk: --now: %s\n", error->message);
      return 2;
    }
  if (self->config_path == NULL && g_strcmp0 (g_getenv ("PHARMDESK_CONFIG"), "") > 0)
    self->config_path = g_strdup (g_getenv ("PHARMDESK_CONFIG"));
  if (self->config_path != NULL)
    {
      self->config = pd_config_load (self->config_path, &error);
      if (self->config == NULL)
        {
          g_printerr ("pharmdesk: %s\n", error->message);
          return 2;
        }
    }
  return -1;
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  PdApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWindow *prefs = GTK_WINDOW (pd_preferences_window_new (self));

  gtk_window_set_transient_for (prefs, parent);
  gtk_window_set_application (prefs, GTK_APPLICATION (self));
  gtk_window_present (prefs);
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  PdApplication *self = user_data;
  static const char *developers[] = { "PharmDesk developers", NULL };
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *about = adw_about_window_new ();

  g_object_set (about,
                "application-name", _("PharmDesk"),
                "application-icon", APP_ID,
                "version", PACKAGE_VERSION,
                "developer-name", _("PharmDesk developers"),
                "developers", developers,
                "comments", _("Review online prescriptions, hand them to couriers and settle them with medical insurance, with a trail a regulator can follow."),
                "license-type", GTK_LICENSE_GPL_3_0,
                "copyright", "© 2026 PharmDesk developers",
                /* Translators: your name(s), one per line */
                "translator-credits", _("translator-credits"),
                "transient-for", parent,
                "application", self,
                NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry app_actions[] = {
  { "quit", quit_activated },
  { "preferences", preferences_activated },
  { "about", about_activated },
};

/* Run from the build folder, the app's icon is not installed in any
 * theme: the source tree's icons stand in (the About window shows it). */
static void
find_icon_uninstalled (void)
{
  GtkIconTheme *theme = gtk_icon_theme_get_for_display (gdk_display_get_default ());
  g_autofree char *icons = g_build_filename (SOURCE_DATADIR, "icons", NULL);

  if (!gtk_icon_theme_has_icon (theme, APP_ID) && g_file_test (icons, G_FILE_TEST_IS_DIR))
    gtk_icon_theme_add_search_path (theme, icons);
}

static void
pd_application_startup (GApplication *app)
{
  PdApplication *self = PD_APPLICATION (app);

  G_APPLICATION_CLASS (pd_application_parent_class)->startup (app);
  find_icon_uninstalled ();

  self->settings = g_settings_new (APP_ID);
  g_signal_connect (self->settings, "changed::color-scheme", G_CALLBACK (color_scheme_changed_cb), self);
  apply_color_scheme (self);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", (const char *[]) { "<Control>q", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences", (const char *[]) { "<Control>comma", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.show-help-overlay", (const char *[]) { "<Control>question", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.check-links", (const char *[]) { "F5", NULL });
  for (int i = 1; i <= 5; i++)
    {
      g_autofree char *accel = g_strdup_printf ("<Alt>%d", i);
      g_autofree char *action = g_strdup_printf ("win.area(%d)", i - 1);

      gtk_application_set_accels_for_action (GTK_APPLICATION (self), action, (const char *[]) { accel, NULL });
    }

  open_store (self);
  /* Without --config: the links an administrator kept, secrets from the
   * keyring. None yet is normal (the indicators say "not configured"). */
  if (self->config == NULL && self->store != NULL)
    {
      g_autoptr(GError) error = NULL;

      self->config = pd_link_settings_load (self->store, &error);
      if (self->config == NULL && !g_error_matches (error, PD_LINK_SETTINGS_ERROR, PD_LINK_SETTINGS_ERROR_NONE))
        g_warning ("%s", error->message);
    }
  self->links = pd_link_monitor_new (self->config);
}

static void
pd_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (pd_window_new (PD_APPLICATION (app)));
  gtk_window_present (window);
}

static void
pd_application_shutdown (GApplication *app)
{
  PdApplication *self = PD_APPLICATION (app);

  if (self->links != NULL)
    pd_link_monitor_stop (self->links);
  if (self->store != NULL)
    pd_store_close (self->store);
  G_APPLICATION_CLASS (pd_application_parent_class)->shutdown (app);
}

static void
pd_application_finalize (GObject *object)
{
  PdApplication *self = (PdApplication *) object;

  g_clear_object (&self->links);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);
  g_clear_error (&self->store_error);
  g_clear_pointer (&self->config, pd_config_free);
  g_free (self->config_path);
  g_free (self->db_path);
  G_OBJECT_CLASS (pd_application_parent_class)->finalize (object);
}

static void
pd_application_class_init (PdApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = pd_application_finalize;
  app_class->handle_local_options = pd_application_handle_local_options;
  app_class->startup = pd_application_startup;
  app_class->activate = pd_application_activate;
  app_class->shutdown = pd_application_shutdown;
}

static void
pd_application_init (PdApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), options);
}

PdApplication *
pd_application_new (void)
{
  /* NON_UNIQUE: a second desk on the same machine (and each test) is its own process. */
  return g_object_new (PD_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/io/github/pharmdesk/PharmDesk",
                       NULL);
}

PdStore *
pd_application_get_store (PdApplication *self)
{
  return self->store;
}

const GError *
pd_application_get_store_error (PdApplication *self)
{
  return self->store_error;
}

PdConfig *
pd_application_get_config (PdApplication *self)
{
  return self->config;
}

PdLinkMonitor *
pd_application_get_link_monitor (PdApplication *self)
{
  return self->links;
}

GSettings *
pd_application_get_settings (PdApplication *self)
{
  return self->settings;
}
