/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What the display tests share: running the main loop for a while or
 * until a condition holds, and screenshots (PD_SCREENSHOT_DIR) named
 * after the step and the test's mode. Header-only: one test file each. */

#include <adwaita.h>

static const char *mode;

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
