/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What the display tests share: the mode and language (PD_TEST_MODE),
 * running the real application with the tests once its window is up,
 * running the main loop for a while or until a condition holds, reading
 * back what the window shows and the desk's database, and screenshots
 * (PD_SCREENSHOT_DIR) named after the step and the mode.
 * Header-only: one test file each. */

#include <adwaita.h>
#include <string.h>

#include "pd-application.h"
#include "pd-ui.h"
#include "pd-window.h"

static const char *mode;
static gboolean zh;
static PdApplication *app;
static PdWindow *window;

static inline void
spin (guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
}

#define WAIT_FOR(cond) G_STMT_START { \
    gint64 _until = g_get_monotonic_time () + 15 * G_USEC_PER_SEC; \
    while (!(cond) && g_get_monotonic_time () < _until) \
      g_main_context_iteration (NULL, FALSE); \
    g_assert_true (cond); \
  } G_STMT_END

/* Every visible label's text under a widget, one a line. */
static inline void
collect_visible_labels (GtkWidget *widget,
                        GString   *out)
{
  if (!gtk_widget_get_visible (widget))
    return;
  if (GTK_IS_LABEL (widget) && *gtk_label_get_label (GTK_LABEL (widget)) != '\0')
    g_string_append_printf (out, "%s\n", gtk_label_get_label (GTK_LABEL (widget)));
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    collect_visible_labels (c, out);
}

static inline char *
texts_of (GtkWidget *widget)
{
  GString *s = g_string_new (NULL);

  collect_visible_labels (widget, s);
  return g_string_free (s, FALSE);
}

static inline void
assert_shows (const char *texts,
              const char *text)
{
  if (strstr (texts, text) == NULL)
    g_error ("“%s” not shown in:\n%s", text, texts);
}

static inline void
assert_hides (const char *texts,
              const char *text)
{
  if (strstr (texts, text) != NULL)
    g_error ("“%s” shown in:\n%s", text, texts);
}

/* A count from the desk's database (one optional text parameter). */
static inline gint64
local_count (const char *sql,
             const char *arg)
{
  sqlite3_stmt *stmt = pd_store_prepare (pd_application_get_store (app), sql, NULL);
  gint64 n;

  g_assert_nonnull (stmt);
  if (arg != NULL)
    sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

static inline void
click (GtkButton *button)
{
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (button)));
  g_signal_emit_by_name (button, "clicked");
}

/* With PD_SCREENSHOT_DIR set, each step leaves a PNG of what a person
 * would see (docs/screenshots/). */
static inline void
shoot (GtkWidget  *widget,
       const char *name)
{
  const char *dir = g_getenv ("PD_SCREENSHOT_DIR");
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;
  int w, h;

  if (dir == NULL)
    return;
  spin (400);
  w = gtk_widget_get_width (widget);
  h = gtk_widget_get_height (widget);
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  file = g_strdup_printf ("%s-%s.png", name, mode);
  path = g_build_filename (dir, file, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

/* Before anything else: the mode ("en" unless PD_TEST_MODE says), the
 * interface language it implies, fast key derivation, g_test_init (). */
static inline void
pd_test_ui_init (int    *argc,
                 char ***argv)
{
  mode = g_getenv ("PD_TEST_MODE") != NULL ? g_getenv ("PD_TEST_MODE") : "en";
  zh = g_str_equal (mode, "zh_CN");
  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  if (zh)
    g_setenv ("LANGUAGE", "zh_CN", TRUE);
  pd_ui_init_i18n ();
  g_test_init (argc, argv, NULL);
}

typedef struct {
  int   width, height;            /* of the window; 0: its own */
  void (*window_up) (void);       /* before the tests, on the window; or NULL */
  int   status;
} PdTestUiRun;

static gboolean
pd_test_ui_tests_cb (gpointer user_data)
{
  PdTestUiRun *run = user_data;

  window = PD_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  if (run->width > 0)
    gtk_window_set_default_size (GTK_WINDOW (window), run->width, run->height);
  if (run->window_up != NULL)
    run->window_up ();
  spin (300);
  run->status = g_test_run ();
  g_application_quit (G_APPLICATION (app));
  return G_SOURCE_REMOVE;
}

static void
pd_test_ui_activate_cb (GApplication *application,
                        PdTestUiRun  *run)
{
  g_idle_add (pd_test_ui_tests_cb, run);
}

/* The application on app_argv (NULL-terminated), the added tests once its
 * window is up; g_test_run ()'s status. */
static inline int
pd_test_ui_run (char         **app_argv,
                int            width,
                int            height,
                void         (*window_up) (void))
{
  PdTestUiRun run = { width, height, window_up, 1 };

  app = pd_application_new ();
  g_signal_connect_after (app, "activate", G_CALLBACK (pd_test_ui_activate_cb), &run);
  g_application_run (G_APPLICATION (app), (int) g_strv_length (app_argv), app_argv);
  g_clear_object (&app);
  return run.status;
}
