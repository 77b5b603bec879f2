/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-queue-row"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pd-queue-row.h"

/* One prescription in the review queue: urgency, patient, number, time,
 * drugs, status, the engine's verdict, a blocking mark and who holds
 * the claim. */
struct _PdQueueRow
{
  GtkBox    parent_instance;

  GtkLabel *priority_label;
  GtkLabel *patient_label;
  GtkLabel *number_label;
  GtkLabel *time_label;
  GtkLabel *drugs_label;
  GtkLabel *status_label;
  GtkLabel *verdict_label;
  GtkLabel *block_label;
  GtkLabel *claim_label;
};

G_DEFINE_FINAL_TYPE (PdQueueRow, pd_queue_row, GTK_TYPE_BOX)

static const char *priority_classes[] = { "stat", "urgent", "routine" };
static const char *verdict_classes[] = { "pass", "review", "reject" };

const char *
pd_queue_priority_text (const char *priority)
{
  if (g_strcmp0 (priority, "stat") == 0)
    /* Translators: FHIR priority "stat", the most urgent; a short badge */
    return C_("priority", "Stat");
  if (g_strcmp0 (priority, "asap") == 0)
    return C_("priority", "ASAP");
  if (g_strcmp0 (priority, "urgent") == 0)
    return C_("priority", "Urgent");
  return C_("priority", "Routine");
}

const char *
pd_queue_status_text (const char *status)
{
  static const struct { const char *code; const char *text; } texts[] = {
    { "requested", NC_("status", "Waiting") },
    { "claimed", NC_("status", "Claimed") },
    { "approved", NC_("status", "Approved") },
    { "rejected", NC_("status", "Rejected") },
    { "cancelled", NC_("status", "Cancelled") },
    { "dispensed", NC_("status", "Dispensed") },
    { "conflict", NC_("status", "Conflict") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    if (g_strcmp0 (status, texts[i].code) == 0)
      return g_dpgettext2 (NULL, "status", texts[i].text);
  return "";
}

const char *
pd_queue_verdict_text (const char *verdict)
{
  if (g_strcmp0 (verdict, "pass") == 0)
    return C_("verdict", "Engine: pass");
  if (g_strcmp0 (verdict, "review") == 0)
    return C_("verdict", "Engine: needs review");
  if (g_strcmp0 (verdict, "reject") == 0)
    return C_("verdict", "Engine: reject");
  if (g_strcmp0 (verdict, "cancelled") == 0)
    return C_("verdict", "Engine: cancelled");
  return C_("verdict", "Engine: not run");
}

static void
set_class (GtkWidget   *widget,
           const char **classes,
           guint        n,
           const char  *which)
{
  for (guint i = 0; i < n; i++)
    gtk_widget_remove_css_class (widget, classes[i]);
  if (which != NULL)
    gtk_widget_add_css_class (widget, which);
}

/* "2026-11-20T08:05:00+08:00" -> "11-20 08:05": the pharmacy's own time. */
static char *
short_time (const char *iso)
{
  if (iso == NULL || strlen (iso) < 16)
    return g_strdup ("");
  return g_strdup_printf ("%.5s %.5s", iso + 5, iso + 11);
}

static gboolean
decided (const char *status)
{
  return g_strcmp0 (status, "approved") == 0 || g_strcmp0 (status, "rejected") == 0;
}

static char *
claim_text (PdQueueItem *item)
{
  const char *by = pd_queue_item_get_claimed_by (item);
  const char *status = pd_queue_item_get_status (item);

  if (by == NULL || g_strcmp0 (status, "claimed") != 0)
    return g_strdup ("");
  if (pd_queue_item_is_mine (item))
    return g_strdup (_("Claimed by you"));
  /* Translators: %s is the pharmacist's name (or, without an account here, the hospital's id for them) */
  return g_strdup_printf (_("Claimed by %s"), pd_queue_item_get_claimer_name (item));
}

void
pd_queue_row_set_item (PdQueueRow  *self,
                       PdQueueItem *item)
{
  const char *priority = pd_queue_item_get_priority (item);
  const char *verdict = pd_queue_item_get_verdict (item);
  const char *name = pd_queue_item_get_patient_name (item);
  const char *drugs = pd_queue_item_get_drugs (item);
  g_autofree char *time = short_time (pd_queue_item_get_authored_at (item));
  g_autofree char *claim = claim_text (item);
  int rank = pd_queue_item_get_rank (item);

  gtk_label_set_label (self->priority_label, pd_queue_priority_text (priority));
  set_class (GTK_WIDGET (self->priority_label), priority_classes, G_N_ELEMENTS (priority_classes),
             priority_classes[CLAMP (rank, 0, 2)]);
  /* A name the key cannot open is said so, never guessed. */
  gtk_label_set_label (self->patient_label, name != NULL ? name : _("Patient name unavailable"));
  gtk_label_set_label (self->number_label, pd_queue_item_get_number (item) != NULL ? pd_queue_item_get_number (item) : "");
  gtk_label_set_label (self->time_label, time);
  gtk_label_set_label (self->drugs_label, drugs != NULL ? drugs : _("No drug lines"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->drugs_label), drugs);
  gtk_label_set_label (self->status_label, pd_queue_status_text (pd_queue_item_get_status (item)));
  gtk_label_set_label (self->verdict_label, pd_queue_verdict_text (verdict));
  /* Once a pharmacist has decided, the decision is the state: the engine's
   * earlier verdict beside it would read as a second opinion. */
  gtk_widget_set_visible (GTK_WIDGET (self->verdict_label), !decided (pd_queue_item_get_status (item)));
  set_class (GTK_WIDGET (self->verdict_label), verdict_classes, G_N_ELEMENTS (verdict_classes),
             g_strv_contains (verdict_classes, verdict != NULL ? verdict : "") ? verdict : NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->block_label), pd_queue_item_has_block (item));
  gtk_label_set_label (self->claim_label, claim);
  set_class (GTK_WIDGET (self->claim_label), (const char *[]) { "accent" }, 1,
             pd_queue_item_is_mine (item) ? "accent" : NULL);
}

static void
pd_queue_row_class_init (PdQueueRowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-queue-row.ui");
  gtk_widget_class_bind_template_child (widget_class, PdQueueRow, priority_label);
  gtk_widget_class_bind_template_child (widget_class, PdQueueRow, patient_label);
  gtk_widget_class_bind_template_child (widget_class, PdQueueRow, number_label);
  gtk_widget_class_bind_template_child (widget_class, PdQueueRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, PdQueueRow, drugs_label);
  gtk_widget_class_bind_template_child (widget_class, PdQueueRow, status_label);
  gtk_widget_class_bind_template_child (widget_class, PdQueueRow, verdict_label);
  gtk_widget_class_bind_template_child (widget_class, PdQueueRow, block_label);
  gtk_widget_class_bind_template_child (widget_class, PdQueueRow, claim_label);
}

static void
pd_queue_row_init (PdQueueRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
pd_queue_row_new (void)
{
  return g_object_new (PD_TYPE_QUEUE_ROW, NULL);
}
