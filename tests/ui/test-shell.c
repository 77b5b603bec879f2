/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-shell"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pd-accounts-window.h"
#include "pd-application.h"
#include "pd-first-start-page.h"
#include "pd-sign-in-page.h"
#include "pd-link-indicator.h"
#include "pd-preferences-window.h"
#include "pd-dispensing-page.h"
#include "pd-review-page.h"
#include "pd-ui.h"
#include "pd-window.h"
#include "pd-test-ui.h"

/* The real window, driven as a person would: run under
 * xvfb-run -a dbus-run-session (scripts/check). PD_TEST_MODE picks the
 * set-up: "en" (no links configured), "zh_CN" (the same, in Chinese) or
 * "refused" (a database that is not PharmDesk's). */

static char *db_path;

static GtkWindow *
find_window (GType type)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  for (GList *l = windows; l != NULL; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type))
      return l->data;
  return NULL;
}

static const char *
page_title (const char *name)
{
  AdwViewStack *stack = pd_window_get_stack (window);
  AdwViewStackPage *page = adw_view_stack_get_page (stack, adw_view_stack_get_child_by_name (stack, name));

  return adw_view_stack_page_get_title (page);
}

static void
test_templates (void)
{
  g_autoptr(PdLinkMonitor) monitor = pd_link_monitor_new (NULL);
  GtkWidget *indicator = pd_link_indicator_new (monitor, PD_LINK_COURIER);
  PdPreferencesWindow *prefs = pd_preferences_window_new (app);
  g_autoptr(GtkBuilder) builder = gtk_builder_new ();
  g_autoptr(GError) error = NULL;

  g_object_ref_sink (indicator);
  g_assert_true (PD_IS_LINK_INDICATOR (indicator));
  g_assert_true (gtk_builder_add_from_resource (builder, "/io/github/pharmdesk/PharmDesk/gtk/help-overlay.ui", &error));
  g_assert_no_error (error);
  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "help_overlay")));
  gtk_window_destroy (GTK_WINDOW (prefs));
  g_object_unref (indicator);
}

static void
test_first_start (void)
{
  PdFirstStartPage *page = PD_FIRST_START_PAGE (pd_window_get_first_start_page (window));

  /* A new database: the walk-through, not the sign-in. */
  g_assert_cmpstr (pd_window_get_page (window), ==, "first-start");
  g_assert_cmpstr (pd_first_start_page_get_step (page), ==, "create");
  shoot (GTK_WIDGET (window), "first-start");

  pd_first_start_page_submit (page, "admin", "管理员", "admin-password", "admin-passw0rd");
  g_assert_cmpstr (pd_first_start_page_get_error (page), ==, zh ? "两次输入的密码不同" : "The two passwords differ");
  pd_first_start_page_submit (page, "admin", "管理员", "short", "short");
  g_assert_nonnull (strstr (pd_first_start_page_get_error (page), zh ? "至少" : "at least"));
  pd_first_start_page_submit (page, "admin", "管理员", "admin-password", "admin-password");
  WAIT_FOR (g_str_equal (pd_first_start_page_get_step (page), "recovery"));
  g_assert_cmpuint (strlen (pd_first_start_page_get_recovery_key (page)), ==, 64);
  shoot (GTK_WIDGET (window), "recovery-key");
  pd_first_start_page_confirm_kept (page);
  g_assert_cmpstr (pd_window_get_page (window), ==, "sign-in");
  /* The key is off the screen once confirmed. */
  g_assert_cmpstr (pd_first_start_page_get_recovery_key (page), ==, "");
}

static gint64
refused_sign_ins (void)
{
  PdStore *store = pd_application_get_store (app);
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT (SELECT count(*) FROM audit_event WHERE action = 'sign-in' AND outcome = 'refused')"
                                                " + (SELECT count(*) FROM audit_pending WHERE action = 'sign-in' AND outcome = 'refused')", NULL);
  gint64 n;

  g_assert_nonnull (stmt);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

/* An empty or blank password: core refuses it and records the attempt;
 * the page says so in words and stays usable. */
static void
test_sign_in_empty_password (void)
{
  PdSignInPage *page = PD_SIGN_IN_PAGE (pd_window_get_sign_in_page (window));
  /* Two: each counts towards the lockout like a wrong password. */
  const char *blanks[] = { "", " \t\u3000" };

  for (guint i = 0; i < G_N_ELEMENTS (blanks); i++)
    {
      gint64 before = refused_sign_ins ();

      pd_sign_in_page_reset (page);
      pd_sign_in_page_submit (page, "admin", blanks[i]);
      WAIT_FOR (pd_sign_in_page_get_error (page) != NULL);
      g_test_message ("%s", pd_sign_in_page_get_error (page));
      g_assert_cmpstr (pd_sign_in_page_get_error (page), !=, "");
      g_assert_cmpstr (pd_window_get_page (window), ==, "sign-in");
      g_assert_cmpint (refused_sign_ins (), ==, before + 1);
    }
  if (zh)
    g_assert_nonnull (strstr (pd_sign_in_page_get_error (page), "密码"));
  else
    g_assert_nonnull (strstr (pd_sign_in_page_get_error (page), "password"));
  shoot (GTK_WIDGET (window), "sign-in-empty-password");
  pd_sign_in_page_reset (page);
}

static void
test_sign_in (void)
{
  PdSignInPage *page = PD_SIGN_IN_PAGE (pd_window_get_sign_in_page (window));

  pd_sign_in_page_submit (page, "admin", "not-the-password");
  WAIT_FOR (pd_sign_in_page_get_error (page) != NULL);
  g_assert_cmpstr (pd_sign_in_page_get_error (page), ==, zh ? "用户名或密码错误" : "Wrong user name or password");
  g_assert_cmpstr (pd_window_get_page (window), ==, "sign-in");
  shoot (GTK_WIDGET (window), "sign-in-refused");
  pd_sign_in_page_submit (page, "admin", "admin-password");
  WAIT_FOR (g_str_equal (pd_window_get_page (window), "areas"));
  shoot (GTK_WIDGET (window), "signed-in");
  g_assert_cmpstr (pd_session_get_account (pd_window_get_session (window))->username, ==, "admin");
}

static void
test_accounts (void)
{
  PdAccountsWindow *accounts;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.accounts", NULL));
  spin (200);
  accounts = PD_ACCOUNTS_WINDOW (find_window (PD_TYPE_ACCOUNTS_WINDOW));
  g_assert_nonnull (accounts);
  g_assert_cmpuint (pd_accounts_window_get_count (accounts), ==, 1);
  shoot (GTK_WIDGET (accounts), "accounts");
  gtk_window_destroy (GTK_WINDOW (accounts));
}

static void
test_lock_and_unlock (void)
{
  PdSignInPage *page = PD_SIGN_IN_PAGE (pd_window_get_sign_in_page (window));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lock", NULL));
  g_assert_cmpstr (pd_window_get_page (window), ==, "sign-in");
  g_assert_true (pd_session_is_locked (pd_window_get_session (window)));
  shoot (GTK_WIDGET (window), "locked");
  pd_sign_in_page_submit (page, "admin", "admin-password");
  WAIT_FOR (g_str_equal (pd_window_get_page (window), "areas"));
  g_assert_false (pd_session_is_locked (pd_window_get_session (window)));
}

static void
test_areas (void)
{
  const char *want[2][5] = {
    { "Review", "Dispensing", "Delivery", "Settlement", "Reconciliation" },
    { "处方审核", "调配", "配送", "医保结算", "对账" },
  };
  const char *names[] = { "review", "dispensing", "delivery", "settlement", "reconciliation" };
  AdwViewStack *stack = pd_window_get_stack (window);

  g_assert_false (pd_window_is_refused (window));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GtkWidget *child = adw_view_stack_get_child_by_name (stack, names[i]);

      g_assert_cmpstr (page_title (names[i]), ==, want[zh][i]);
      if (g_str_equal (names[i], "review"))
        {
          /* An administrator does not review: the area says so, and
           * offers no queue, no patient, no claim (issue 12, item 10). */
          g_assert_true (PD_IS_REVIEW_PAGE (child));
          g_assert_cmpstr (pd_review_page_get_state (PD_REVIEW_PAGE (child)), ==, "not-permitted");
          g_assert_null (pd_review_page_get_model (PD_REVIEW_PAGE (child)));
          g_assert_null (pd_review_page_get_kb_warning (PD_REVIEW_PAGE (child)));
          continue;
        }
      if (g_str_equal (names[i], "dispensing"))
        {
          /* Nor does an administrator fill or check: said, nothing read. */
          g_assert_true (PD_IS_DISPENSING_PAGE (child));
          g_assert_cmpstr (pd_dispensing_page_get_state (PD_DISPENSING_PAGE (child)), ==, "not-permitted");
          g_assert_cmpuint (pd_dispensing_page_get_n_items (PD_DISPENSING_PAGE (child)), ==, 0);
          continue;
        }
      /* Nothing pretends to work: each other area says it is not here yet. */
      g_assert_true (ADW_IS_STATUS_PAGE (child));
      g_assert_nonnull (strstr (adw_status_page_get_title (ADW_STATUS_PAGE (child)), zh ? "尚未" : "not in this version"));
    }

  /* Alt+1…5 are the win.area actions. */
  for (int i = 4; i >= 0; i--)
    {
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.area", "i", i));
      g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, names[i]);
    }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.area", "i", 3));
  g_assert_cmpstr (g_settings_get_string (pd_application_get_settings (app), "last-area"), ==, "settlement");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.area", "i", 0));
  shoot (GTK_WIDGET (window), "review-not-permitted");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.area", "i", 1));
  shoot (GTK_WIDGET (window), "dispensing-not-permitted");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.area", "i", 3));
}

static void
test_links_unconfigured (void)
{
  for (PdLink l = 0; l < PD_N_LINKS; l++)
    {
      PdLinkIndicator *ind = PD_LINK_INDICATOR (pd_window_get_link_indicator (window, l));

      g_assert_cmpstr (pd_link_indicator_get_state_text (ind), ==,
                       zh ? "未配置" : "Not configured");
    }
}

static void
test_windows_open (void)
{
  GtkWindow *prefs;

  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  spin (200);
  prefs = find_window (PD_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (prefs);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (prefs)));
  gtk_window_destroy (prefs);

  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  spin (200);
  g_assert_nonnull (find_window (ADW_TYPE_ABOUT_WINDOW));
  /* Run from the build folder, the About window's icon is found too. */
  g_assert_true (gtk_icon_theme_has_icon (gtk_icon_theme_get_for_display (gdk_display_get_default ()), APP_ID));
  shoot (GTK_WIDGET (find_window (ADW_TYPE_ABOUT_WINDOW)), "about");
  gtk_window_destroy (find_window (ADW_TYPE_ABOUT_WINDOW));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
  spin (200);
  {
    GtkShortcutsWindow *overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));

    g_assert_nonnull (overlay);
    g_assert_true (gtk_widget_get_visible (GTK_WIDGET (overlay)));
    gtk_widget_set_visible (GTK_WIDGET (overlay), FALSE);
  }

  /* F5 checks the links: harmless when none is configured. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.check-links", NULL));
}

/* F5 reaches the window before a focused entry can swallow it: a
 * capture-phase shortcut on the window. */
static void
test_f5_from_an_entry (void)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (window));
  g_autoptr(GtkShortcutTrigger) f5 = gtk_keyval_trigger_new (GDK_KEY_F5, 0);
  gboolean found = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers) && !found; i++)
    {
      g_autoptr(GtkEventController) c = g_list_model_get_item (controllers, i);
      g_autoptr(GListModel) shortcuts = NULL;

      if (!GTK_IS_SHORTCUT_CONTROLLER (c) || gtk_event_controller_get_propagation_phase (c) != GTK_PHASE_CAPTURE)
        continue;
      shortcuts = g_object_ref (G_LIST_MODEL (c));
      for (guint j = 0; j < g_list_model_get_n_items (shortcuts); j++)
        {
          g_autoptr(GtkShortcut) sc = g_list_model_get_item (shortcuts, j);
          GtkShortcutAction *action = gtk_shortcut_get_action (sc);

          if (gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (sc), f5) && GTK_IS_NAMED_ACTION (action)
              && g_str_equal (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)), "win.check-links"))
            found = TRUE;
        }
    }
  g_assert_true (found);
}

static void
test_refused_database (void)
{
  g_autofree char *content = NULL;

  g_assert_true (pd_window_is_refused (window));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (pd_window_get_stack (window))) &&
                  gtk_widget_get_mapped (GTK_WIDGET (pd_window_get_stack (window))));
  g_assert_null (pd_application_get_store (app));
  g_assert_nonnull (strstr (pd_application_get_store_error (app)->message, "not a PharmDesk database"));
  g_assert_true (g_file_get_contents (db_path, &content, NULL, NULL));
  g_assert_cmpstr (content, ==, "patients.xlsx is not a database\n");
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *dir = g_dir_make_tmp ("pd-ui-XXXXXX", NULL);
  g_autofree char *db_arg = NULL;
  char *app_argv[3];

  pd_test_ui_init (&argc, &argv);

  db_path = g_build_filename (dir, "pharmdesk.db", NULL);
  if (g_str_equal (mode, "refused"))
    g_assert_true (g_file_set_contents (db_path, "patients.xlsx is not a database\n", -1, NULL));
  db_arg = g_strdup_printf ("--db=%s", db_path);
  app_argv[0] = argv[0];
  app_argv[1] = db_arg;
  app_argv[2] = NULL;

  if (g_str_equal (mode, "refused"))
    g_test_add_func ("/ui/refused-database", test_refused_database);
  else
    {
      g_test_add_func ("/ui/templates", test_templates);
      g_test_add_func ("/ui/first-start", test_first_start);
      g_test_add_func ("/ui/sign-in-empty-password", test_sign_in_empty_password);
      g_test_add_func ("/ui/sign-in", test_sign_in);
      g_test_add_func ("/ui/areas", test_areas);
      g_test_add_func ("/ui/accounts", test_accounts);
      g_test_add_func ("/ui/lock-and-unlock", test_lock_and_unlock);
      g_test_add_func ("/ui/links-unconfigured", test_links_unconfigured);
      g_test_add_func ("/ui/windows-open", test_windows_open);
      g_test_add_func ("/ui/f5-from-an-entry", test_f5_from_an_entry);
    }

  return pd_test_ui_run (app_argv, 0, 0, NULL);
}
