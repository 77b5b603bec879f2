/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-dispensing-page"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pd-dispensing-page.h"
#include "pd-kb-store.h"
#include "pd-roles.h"

struct _PdDispensingPage
{
  GtkBox         parent_instance;

  GtkStack      *stack;
  GtkLabel      *count_label;
  GtkListBox    *list_box;
  GtkWidget     *list_empty_label;
  GtkStack      *detail_stack;
  AdwStatusPage *detail_page;
  PdFillPane    *fill_pane;
  AdwStatusPage *error_page;

  PdSession     *session;
  PdKb          *kb;
  GPtrArray     *items;        /* PdDispensingItem*, as listed */
  char          *signature;    /* what the list showed last: rebuilt only when it changes */
  char          *pharmacy;
  guint          refresh_timer;
  gboolean       refreshing;
  const char    *state;
};

G_DEFINE_FINAL_TYPE (PdDispensingPage, pd_dispensing_page, GTK_TYPE_BOX)

/* A sync writes on its own connection; the list looks for its changes
 * this often. The list is short (what waits at the counter today). */
#define REFRESH_S 5

/* Filling and checking (PD_ACTION_DISPENSE, PD_ACTION_CHECK_DISPENSE):
 * other roles are told so, and read nothing. */
static gboolean
may_dispense (PdSession *session)
{
  PdRoles roles = pd_action_get_roles (PD_ACTION_DISPENSE) | pd_action_get_roles (PD_ACTION_CHECK_DISPENSE);

  return (pd_session_get_account (session)->roles & roles) != 0;
}

static const char *
group_title (const char *state)
{
  if (g_strcmp0 (state, "approved") == 0)
    return _("To fill");
  if (g_strcmp0 (state, "dispensed") == 0)
    return _("Filled, waiting for the patient or the courier");
  return _("Conflicts: refused by the hospital, or cancelled");
}

static char *
short_time (const char *iso)
{
  /* 2026-11-20T09:30:00+08:00 → 2026-11-20 09:30 */
  if (iso == NULL || strlen (iso) < 16)
    return g_strdup (iso != NULL ? iso : "");
  return g_strdup_printf ("%.10s %.5s", iso, iso + 11);
}

static GtkWidget *
row_new (const PdDispensingItem *item)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *title, *subtitle, *badge;
  g_autofree char *when = short_time (item->decided_at);
  g_autofree char *lines = g_strdup_printf (ngettext ("%u line", "%u lines", item->n_lines), item->n_lines);
  g_autofree char *sub = NULL;

  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  title = gtk_label_new (item->patient_name);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (title, TRUE);
  gtk_widget_add_css_class (title, "heading");
  gtk_box_append (GTK_BOX (top), title);
  badge = gtk_label_new (item->delivery ? _("Delivery") : _("Collection"));
  gtk_widget_add_css_class (badge, "queue-badge");
  gtk_widget_add_css_class (badge, item->delivery ? "delivery" : "routine");
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (top), badge);
  gtk_box_append (GTK_BOX (box), top);

  /* Translators: a row of the Dispensing list: prescription number · lines · when it was approved */
  sub = g_strdup_printf (_("%s · %s · approved %s"), item->rx_number, lines, when);
  subtitle = gtk_label_new (sub);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_box_append (GTK_BOX (box), subtitle);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  if (g_strcmp0 (item->state, "conflict") == 0)
    gtk_widget_add_css_class (row, "conflict");
  return row;
}

/* gtk_list_box_remove_all is GTK 4.12. */
static void
remove_rows (PdDispensingPage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list_box))) != NULL)
    gtk_list_box_remove (self->list_box, child);
}

static void
header_func (GtkListBoxRow *row,
             GtkListBoxRow *before,
             gpointer       user_data)
{
  PdDispensingPage *self = user_data;
  int i = gtk_list_box_row_get_index (row);
  int b = before != NULL ? gtk_list_box_row_get_index (before) : -1;
  const PdDispensingItem *item, *prev;
  GtkWidget *header;

  if (self->items == NULL || i < 0 || (guint) i >= self->items->len)
    return;
  item = self->items->pdata[i];
  prev = b >= 0 && (guint) b < self->items->len ? self->items->pdata[b] : NULL;
  if (prev != NULL && g_strcmp0 (prev->state, item->state) == 0)
    {
      gtk_list_box_row_set_header (row, NULL);
      return;
    }
  header = gtk_label_new (group_title (item->state));
  gtk_label_set_xalign (GTK_LABEL (header), 0);
  gtk_widget_set_margin_start (header, 12);
  gtk_widget_set_margin_top (header, prev != NULL ? 12 : 6);
  gtk_widget_set_margin_bottom (header, 4);
  gtk_widget_add_css_class (header, "heading");
  gtk_widget_add_css_class (header, "dim-label");
  gtk_list_box_row_set_header (row, header);
}

static void
set_state (PdDispensingPage *self,
           const char       *state)
{
  self->state = state;
  gtk_stack_set_visible_child_name (self->stack, g_str_equal (state, "signed-out") ? "empty" : state);
}

/* The knowledge base the fill reads pack sizes and words from: once a session. */
static PdKb *
kb_of (PdDispensingPage  *self,
       GError           **error)
{
  if (self->kb == NULL && self->session != NULL)
    self->kb = pd_kb_load_active (pd_session_get_store (self->session), error);
  return self->kb;
}

static void
show_detail_message (PdDispensingPage *self,
                     const char       *title,
                     const char       *description)
{
  pd_fill_pane_show (self->fill_pane, NULL, NULL, NULL, NULL);
  adw_status_page_set_title (self->detail_page, title);
  adw_status_page_set_description (self->detail_page, description);
  gtk_stack_set_visible_child_name (self->detail_stack, "none");
}

static void
row_selected_cb (PdDispensingPage *self,
                 GtkListBoxRow    *row)
{
  g_autoptr(GError) error = NULL;
  const PdDispensingItem *item;
  PdKb *kb;
  int i;

  if (self->refreshing)
    return;
  i = row != NULL ? gtk_list_box_row_get_index (row) : -1;
  if (i < 0 || self->items == NULL || (guint) i >= self->items->len || self->session == NULL)
    {
      show_detail_message (self, _("Choose a prescription"),
                           _("Its lines open here: the boxes to give, the batch to take them from and a scan for each box, then the check by a second person."));
      return;
    }
  item = self->items->pdata[i];
  kb = kb_of (self, &error);
  if (kb == NULL)
    {
      show_detail_message (self, _("No knowledge base"),
                           error != NULL ? error->message
                                         : _("An administrator imports the knowledge base before prescriptions can be filled."));
      return;
    }
  if (!pd_fill_pane_show (self->fill_pane, self->session, kb, item->rx_uuid, &error))
    {
      show_detail_message (self, _("This prescription cannot be opened"), error->message);
      return;
    }
  pd_fill_pane_set_conflict (self->fill_pane, g_strcmp0 (item->state, "conflict") == 0);
  gtk_stack_set_visible_child_name (self->detail_stack, "fill");
}

static char *
signature_of (GPtrArray *items)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < items->len; i++)
    {
      const PdDispensingItem *item = items->pdata[i];

      g_string_append_printf (s, "%s|%s|%s|%s|%u\n", item->rx_uuid, item->state,
                              item->dispense_uuid != NULL ? item->dispense_uuid : "",
                              item->patient_name != NULL ? item->patient_name : "", item->n_lines);
    }
  return g_string_free (s, FALSE);
}

static const char *
selected_uuid (PdDispensingPage *self)
{
  const PdFillSheet *sheet = pd_fill_pane_get_sheet (self->fill_pane);

  return sheet != NULL ? sheet->rx_uuid : NULL;
}

static void
fill_changed_cb (PdDispensingPage *self)
{
  pd_dispensing_page_refresh (self);
}

static gboolean
refresh_cb (gpointer user_data)
{
  pd_dispensing_page_refresh (user_data);
  return G_SOURCE_CONTINUE;
}

static void
pd_dispensing_page_dispose (GObject *object)
{
  PdDispensingPage *self = PD_DISPENSING_PAGE (object);

  pd_dispensing_page_set_session (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (object), PD_TYPE_DISPENSING_PAGE);
  G_OBJECT_CLASS (pd_dispensing_page_parent_class)->dispose (object);
}

static void
pd_dispensing_page_finalize (GObject *object)
{
  PdDispensingPage *self = PD_DISPENSING_PAGE (object);

  g_free (self->pharmacy);
  G_OBJECT_CLASS (pd_dispensing_page_parent_class)->finalize (object);
}

static void
pd_dispensing_page_class_init (PdDispensingPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pd_dispensing_page_dispose;
  object_class->finalize = pd_dispensing_page_finalize;
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-dispensing-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PdDispensingPage, stack);
  gtk_widget_class_bind_template_child (widget_class, PdDispensingPage, count_label);
  gtk_widget_class_bind_template_child (widget_class, PdDispensingPage, list_box);
  gtk_widget_class_bind_template_child (widget_class, PdDispensingPage, list_empty_label);
  gtk_widget_class_bind_template_child (widget_class, PdDispensingPage, detail_stack);
  gtk_widget_class_bind_template_child (widget_class, PdDispensingPage, detail_page);
  gtk_widget_class_bind_template_child (widget_class, PdDispensingPage, fill_pane);
  gtk_widget_class_bind_template_child (widget_class, PdDispensingPage, error_page);
}

static void
pd_dispensing_page_init (PdDispensingPage *self)
{
  g_type_ensure (PD_TYPE_FILL_PANE);
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_list_box_set_header_func (self->list_box, header_func, self, NULL);

  g_signal_connect_swapped (self->list_box, "row-selected", G_CALLBACK (row_selected_cb), self);
  g_signal_connect_swapped (self->fill_pane, "changed", G_CALLBACK (fill_changed_cb), self);
  set_state (self, "signed-out");
}

void
pd_dispensing_page_set_session (PdDispensingPage *self,
                                PdSession        *session)
{
  g_return_if_fail (PD_IS_DISPENSING_PAGE (self));
  if (session == self->session && session != NULL)
    return;
  g_clear_handle_id (&self->refresh_timer, g_source_remove);
  self->refreshing = TRUE;
  remove_rows (self);
  self->refreshing = FALSE;
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->signature, g_free);
  pd_fill_pane_show (self->fill_pane, NULL, NULL, NULL, NULL);
  gtk_stack_set_visible_child_name (self->detail_stack, "none");
  g_clear_pointer (&self->kb, pd_kb_free);
  g_set_object (&self->session, session);
  if (session == NULL)
    set_state (self, "signed-out");
  else if (!may_dispense (session))
    set_state (self, "not-permitted");
  else
    {
      pd_dispensing_page_refresh (self);
      self->refresh_timer = g_timeout_add_seconds (REFRESH_S, refresh_cb, self);
    }
}

void
pd_dispensing_page_set_pharmacy (PdDispensingPage *self,
                                 const char       *name)
{
  g_free (self->pharmacy);
  self->pharmacy = g_strdup (name);
  pd_fill_pane_set_pharmacy (self->fill_pane, name);
}

void
pd_dispensing_page_refresh (PdDispensingPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *count = NULL;
  g_autofree char *keep = NULL;
  guint to_fill = 0;

  if (self->session == NULL || !may_dispense (self->session))
    return;
  items = pd_dispensing_list (self->session, &error);
  if (items == NULL)
    {
      g_warning ("dispensing: %s", error->message);
      adw_status_page_set_description (self->error_page, error->message);
      set_state (self, "error");
      return;
    }
  for (guint i = 0; i < items->len; i++)
    to_fill += g_strcmp0 (((PdDispensingItem *) items->pdata[i])->state, "approved") == 0;
  count = g_strdup_printf (ngettext ("%u to fill, %u in all", "%u to fill, %u in all", to_fill), to_fill, items->len);
  gtk_label_set_label (self->count_label, count);
  /* A prescription just handed over stays in view, its pane saying so,
   * beside a list that may now be empty. */
  set_state (self, items->len > 0 || selected_uuid (self) != NULL ? "list" : "empty");
  gtk_widget_set_visible (self->list_empty_label, items->len == 0);

  /* Rebuilt only when something changed: a scan under way keeps its
   * entry and its focus. */
  signature = signature_of (items);
  if (g_strcmp0 (signature, self->signature) == 0)
    return;
  g_free (self->signature);
  self->signature = g_steal_pointer (&signature);
  keep = g_strdup (selected_uuid (self));
  self->refreshing = TRUE;
  remove_rows (self);
  g_clear_pointer (&self->items, g_ptr_array_unref);
  self->items = g_steal_pointer (&items);
  for (guint i = 0; i < self->items->len; i++)
    {
      GtkWidget *row = row_new (self->items->pdata[i]);

      gtk_list_box_append (self->list_box, row);
      if (keep != NULL && g_strcmp0 (((PdDispensingItem *) self->items->pdata[i])->rx_uuid, keep) == 0)
        gtk_list_box_select_row (self->list_box, GTK_LIST_BOX_ROW (row));
    }
  self->refreshing = FALSE;
  /* The prescription shown stays shown, even when it left the list
   * (handed over): its pane says so. When a sync changed its state (the
   * hospital refused the fill, a colleague filled it), the pane reads it
   * again, keeping any scans. */
  for (guint i = 0; keep != NULL && i < self->items->len; i++)
    {
      const PdDispensingItem *item = self->items->pdata[i];
      const PdFillSheet *sheet = pd_fill_pane_get_sheet (self->fill_pane);
      gboolean conflict = g_strcmp0 (item->state, "conflict") == 0;

      if (g_strcmp0 (item->rx_uuid, keep) != 0 || sheet == NULL)
        continue;
      if (conflict ? g_strcmp0 (sheet->dispense_uuid, NULL) != 0 || !pd_fill_pane_get_conflict (self->fill_pane)
                   : g_strcmp0 (item->state, sheet->state) != 0 || g_strcmp0 (item->dispense_uuid, sheet->dispense_uuid) != 0)
        {
          pd_fill_pane_reload (self->fill_pane);
          pd_fill_pane_set_conflict (self->fill_pane, conflict);
        }
    }
}

const char *
pd_dispensing_page_get_state (PdDispensingPage *self)
{
  return self->state;
}

guint
pd_dispensing_page_get_n_items (PdDispensingPage *self)
{
  return self->items != NULL ? self->items->len : 0;
}

gboolean
pd_dispensing_page_select (PdDispensingPage *self,
                           const char       *rx_uuid)
{
  for (guint i = 0; self->items != NULL && i < self->items->len; i++)
    if (g_strcmp0 (((PdDispensingItem *) self->items->pdata[i])->rx_uuid, rx_uuid) == 0)
      {
        GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->list_box, (int) i);

        if (gtk_list_box_get_selected_row (self->list_box) == row)
          row_selected_cb (self, row);
        else
          gtk_list_box_select_row (self->list_box, row);
        return TRUE;
      }
  return FALSE;
}

PdFillPane *
pd_dispensing_page_get_fill_pane (PdDispensingPage *self)
{
  return self->fill_pane;
}
