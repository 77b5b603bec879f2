/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-link-indicator"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-link-indicator.h"

/* One link's connection state: icon, name, state in words (the reason
 * as tooltip), and a progress bar while it syncs. */
struct _PdLinkIndicator
{
  GtkBox          parent_instance;

  PdLinkMonitor  *monitor;
  PdLink          link;
  gulong          changed_id;

  GtkImage       *icon;
  GtkLabel       *title_label;
  GtkLabel       *state_label;
  GtkProgressBar *progress;
};

G_DEFINE_FINAL_TYPE (PdLinkIndicator, pd_link_indicator, GTK_TYPE_BOX)

static const char *
icon_for (PdLinkState state)
{
  switch (state)
    {
    case PD_LINK_STATE_ONLINE: return "network-transmit-receive-symbolic";
    case PD_LINK_STATE_SYNCING: return "emblem-synchronizing-symbolic";
    case PD_LINK_STATE_OFFLINE: return "network-offline-symbolic";
    case PD_LINK_STATE_ERROR: return "network-error-symbolic";
    case PD_LINK_STATE_CHECKING: return "network-idle-symbolic";
    case PD_LINK_STATE_UNCONFIGURED:
    default: return "network-wired-disconnected-symbolic";
    }
}

static void
update (PdLinkIndicator *self)
{
  PdLinkState state = pd_link_monitor_get_state (self->monitor, self->link);
  const char *message = pd_link_monitor_get_message (self->monitor, self->link);
  double progress = pd_link_monitor_get_progress (self->monitor, self->link);
  static const char *css[] = { "success", "warning", "error" };

  gtk_image_set_from_icon_name (self->icon, icon_for (state));
  gtk_label_set_label (self->state_label, pd_link_state_get_label (state));
  for (guint i = 0; i < G_N_ELEMENTS (css); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->icon), css[i]);
  if (state == PD_LINK_STATE_ONLINE || state == PD_LINK_STATE_SYNCING)
    gtk_widget_add_css_class (GTK_WIDGET (self->icon), "success");
  else if (state == PD_LINK_STATE_OFFLINE)
    gtk_widget_add_css_class (GTK_WIDGET (self->icon), "warning");
  else if (state == PD_LINK_STATE_ERROR)
    gtk_widget_add_css_class (GTK_WIDGET (self->icon), "error");

  gtk_widget_set_visible (GTK_WIDGET (self->progress), state == PD_LINK_STATE_SYNCING);
  if (state == PD_LINK_STATE_SYNCING)
    {
      if (progress >= 0)
        gtk_progress_bar_set_fraction (self->progress, progress);
      else
        gtk_progress_bar_pulse (self->progress);
    }
  if (message != NULL)
    gtk_widget_set_tooltip_text (GTK_WIDGET (self), message);
  else if (state == PD_LINK_STATE_UNCONFIGURED)
    gtk_widget_set_tooltip_text (GTK_WIDGET (self), _("No address is configured for this link"));
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
}

static void
changed_cb (PdLinkMonitor   *monitor,
            int              link,
            PdLinkIndicator *self)
{
  if ((PdLink) link == self->link)
    update (self);
}

static void
pd_link_indicator_dispose (GObject *object)
{
  PdLinkIndicator *self = (PdLinkIndicator *) object;

  if (self->monitor != NULL)
    g_clear_signal_handler (&self->changed_id, self->monitor);
  g_clear_object (&self->monitor);
  gtk_widget_dispose_template (GTK_WIDGET (self), PD_TYPE_LINK_INDICATOR);
  G_OBJECT_CLASS (pd_link_indicator_parent_class)->dispose (object);
}

static void
pd_link_indicator_class_init (PdLinkIndicatorClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = pd_link_indicator_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-link-indicator.ui");
  gtk_widget_class_bind_template_child (widget_class, PdLinkIndicator, icon);
  gtk_widget_class_bind_template_child (widget_class, PdLinkIndicator, title_label);
  gtk_widget_class_bind_template_child (widget_class, PdLinkIndicator, state_label);
  gtk_widget_class_bind_template_child (widget_class, PdLinkIndicator, progress);
}

static void
pd_link_indicator_init (PdLinkIndicator *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
pd_link_indicator_new (PdLinkMonitor *monitor,
                       PdLink         link)
{
  PdLinkIndicator *self = g_object_new (PD_TYPE_LINK_INDICATOR, NULL);

  self->monitor = g_object_ref (monitor);
  self->link = link;
  gtk_label_set_label (self->title_label, pd_link_get_title (link));
  self->changed_id = g_signal_connect (monitor, "changed", G_CALLBACK (changed_cb), self);
  update (self);
  return GTK_WIDGET (self);
}

const char *
pd_link_indicator_get_state_text (PdLinkIndicator *self)
{
  return gtk_label_get_label (self->state_label);
}
