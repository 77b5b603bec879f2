/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pharmdesk-bench-window"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pd-application.h"
#include "pd-review-page.h"
#include "pd-sign-in-page.h"
#include "pd-ui.h"
#include "pd-window.h"

/* pharmdesk-bench-window --db=PATH: the real application on PATH, driven
 * the way tests/ui/test-review-queue.c drives it (no hook in the app):
 * signs in as the bench's pharmacist, opens the Review area and, at the
 * first frame painted with the queue listed (its empty state on an empty
 * cache), prints on stdout
 *   window_ms=… queue_ms=… rss_kb=… items=…
 * (the window's first frame and the queue's first frame since main (),
 * VmRSS then) and quits. Spawned by pharmdesk-bench's queue.window under
 * the current DISPLAY (xvfb-run -a). */

static gint64 t_start, t_window;
static PdApplication *app;
static PdWindow *window;
static guint timeout_id;

static guint64
rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");
  return line != NULL ? g_ascii_strtoull (line + 6, NULL, 10) : 0;
}

static PdReviewPage *
review_page (void)
{
  return PD_REVIEW_PAGE (adw_view_stack_get_child_by_name (pd_window_get_stack (window), "review"));
}

static void
queue_painted_cb (GdkFrameClock *clock,
                  gpointer       user_data)
{
  PdReviewPage *page = review_page ();
  gint64 now = g_get_monotonic_time ();

  /* The queue listed, or on an empty cache its empty state. */
  if (g_strcmp0 (pd_review_page_get_state (page), "list") != 0
      && g_strcmp0 (pd_review_page_get_state (page), "empty") != 0)
    return;
  g_signal_handlers_disconnect_by_func (clock, queue_painted_cb, user_data);
  printf ("window_ms=%.1f queue_ms=%.1f rss_kb=%" G_GUINT64_FORMAT " items=%u\n",
          (t_window - t_start) / 1000.0, (now - t_start) / 1000.0, rss_kb (),
          g_list_model_get_n_items (G_LIST_MODEL (pd_review_page_get_model (page))));
  fflush (stdout);
  g_application_quit (G_APPLICATION (app));
}

static gboolean
signed_in_cb (gpointer user_data)
{
  if (!g_str_equal (pd_window_get_page (window), "areas"))
    return G_SOURCE_CONTINUE;
  gtk_widget_activate_action (GTK_WIDGET (window), "win.area", "i", 0);
  g_signal_connect (gtk_widget_get_frame_clock (GTK_WIDGET (window)), "after-paint",
                    G_CALLBACK (queue_painted_cb), NULL);
  gtk_widget_queue_draw (GTK_WIDGET (window));
  return G_SOURCE_REMOVE;
}

static void
window_painted_cb (GdkFrameClock *clock,
                   gpointer       user_data)
{
  g_signal_handlers_disconnect_by_func (clock, window_painted_cb, user_data);
  t_window = g_get_monotonic_time ();
  pd_sign_in_page_submit (PD_SIGN_IN_PAGE (pd_window_get_sign_in_page (window)), "wang", "password-1234");
  g_timeout_add (5, signed_in_cb, NULL);
}

static gboolean
find_window_cb (gpointer user_data)
{
  GtkWindow *active = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (active == NULL || !gtk_widget_get_realized (GTK_WIDGET (active)))
    return G_SOURCE_CONTINUE;
  window = PD_WINDOW (active);
  g_signal_connect (gtk_widget_get_frame_clock (GTK_WIDGET (window)), "after-paint",
                    G_CALLBACK (window_painted_cb), NULL);
  gtk_widget_queue_draw (GTK_WIDGET (window));
  return G_SOURCE_REMOVE;
}

static gboolean
give_up_cb (gpointer user_data)
{
  fprintf (stderr, "pharmdesk-bench-window: no queue frame within 60 s\n");
  timeout_id = 0;
  g_application_quit (G_APPLICATION (app));
  return G_SOURCE_REMOVE;
}

static void
activate_cb (GApplication *application)
{
  g_idle_add (find_window_cb, NULL);
}

int
main (int    argc,
      char **argv)
{
  int status;

  t_start = g_get_monotonic_time ();
  pd_ui_init_i18n ();
  app = pd_application_new ();
  g_signal_connect_after (app, "activate", G_CALLBACK (activate_cb), NULL);
  timeout_id = g_timeout_add_seconds (60, give_up_cb, NULL);
  status = g_application_run (G_APPLICATION (app), argc, argv);
  g_clear_handle_id (&timeout_id, g_source_remove);
  g_clear_object (&app);
  return window != NULL && t_window > 0 ? status : 1;
}
