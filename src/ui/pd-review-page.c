/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-review-page"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-kb-store.h"
#include "pd-queue-row.h"
#include "pd-review-page.h"
#include "pd-roles.h"
#include "pd-rx-pane.h"

struct _PdReviewPage
{
  GtkBox              parent_instance;

  GtkRevealer        *kb_revealer;
  GtkLabel           *kb_label;
  GtkSearchEntry     *search_entry;
  GtkDropDown        *status_drop;
  GtkDropDown        *urgency_drop;
  GtkDropDown        *online_drop;
  GtkToggleButton    *block_toggle;
  GtkLabel           *count_label;
  GtkWidget          *tools_box;
  GtkStack           *stack;
  GtkListView        *list_view;
  GtkStack           *detail_stack;
  AdwStatusPage      *detail_page;
  PdRxPane           *rx_pane;
  AdwStatusPage      *error_page;

  PdSession          *session;
  PdKb               *kb;
  PdQueueModel       *model;
  GtkSingleSelection *selection;
  guint               refresh_timer;
  gboolean            refreshing;
  const char         *state;
};

G_DEFINE_FINAL_TYPE (PdReviewPage, pd_review_page, GTK_TYPE_BOX)

/* A sync writes on its own connection; the queue looks for its changes
 * this often (a PRAGMA data_version when nothing changed). */
#define REFRESH_S 5

/* The status list's rows, in PdQueueStatus bits (0: every status). */
static const guint status_masks[] = {
  PD_QUEUE_STATUS_ALL, PD_QUEUE_STATUS_REQUESTED, PD_QUEUE_STATUS_CLAIMED, PD_QUEUE_STATUS_APPROVED,
  PD_QUEUE_STATUS_REJECTED, PD_QUEUE_STATUS_CANCELLED, PD_QUEUE_STATUS_DISPENSED, PD_QUEUE_STATUS_CONFLICT,
};

/* The queue opens patients for review: a pharmacist's work
 * (PD_ACTION_REVIEW). Other roles are told so, and read nothing. */
static gboolean
may_review (PdSession *session)
{
  return (pd_session_get_account (session)->roles & pd_action_get_roles (PD_ACTION_REVIEW)) != 0;
}

static void
update_state (PdReviewPage *self)
{
  guint n = self->model != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->model)) : 0;
  g_autofree char *count = NULL;
  const char *state;

  if (self->model == NULL && self->session != NULL && !may_review (self->session))
    state = "not-permitted";
  else if (self->model == NULL)
    state = "signed-out";
  else if (pd_queue_model_get_error (self->model) != NULL)
    {
      state = "error";
      adw_status_page_set_description (self->error_page, pd_queue_model_get_error (self->model)->message);
    }
  else if (n > 0)
    state = "list";
  else if (pd_queue_model_get_cached_total (self->model) == 0)
    state = "empty";
  else
    state = "no-match";
  if (g_str_equal (state, "signed-out"))
    gtk_stack_set_visible_child_name (self->stack, "empty");
  else
    gtk_stack_set_visible_child_name (self->stack, state);
  self->state = state;
  /* Nothing to search or filter before the first prescription. */
  gtk_widget_set_visible (self->tools_box, !g_str_equal (state, "empty") && !g_str_equal (state, "signed-out")
                                           && !g_str_equal (state, "not-permitted"));

  if (self->model != NULL && pd_queue_model_is_filtered (self->model))
    count = g_strdup_printf (ngettext ("%u of %u prescription", "%u of %u prescriptions",
                                       pd_queue_model_get_cached_total (self->model)),
                             n, pd_queue_model_get_cached_total (self->model));
  else
    count = g_strdup_printf (ngettext ("%u prescription", "%u prescriptions", n), n);
  gtk_label_set_label (self->count_label, count);
}

static void
update_kb (PdReviewPage *self)
{
  g_autofree char *version = NULL;
  gboolean demo = FALSE;

  if (self->model != NULL && pd_queue_model_get_kb (self->model, &version, &demo) && demo)
    {
      g_autofree char *text = g_strdup_printf (_("The knowledge base in use (%s) is a demonstration: its findings are examples and must not be relied on for real patients."),
                                               version);

      gtk_label_set_label (self->kb_label, text);
      gtk_revealer_set_reveal_child (self->kb_revealer, TRUE);
    }
  else
    gtk_revealer_set_reveal_child (self->kb_revealer, FALSE);
}

static void
items_changed_cb (PdReviewPage *self)
{
  update_state (self);
}

static void
search_changed_cb (PdReviewPage *self)
{
  if (self->model != NULL)
    pd_queue_model_set_search (self->model, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
  update_state (self);
}

static void
filters_changed_cb (PdReviewPage *self)
{
  guint status = gtk_drop_down_get_selected (self->status_drop);

  if (self->model == NULL)
    return;
  pd_queue_model_set_status_filter (self->model, status_masks[MIN (status, G_N_ELEMENTS (status_masks) - 1)]);
  pd_queue_model_set_urgency_filter (self->model, MIN (gtk_drop_down_get_selected (self->urgency_drop), 2));
  pd_queue_model_set_online_filter (self->model, MIN (gtk_drop_down_get_selected (self->online_drop), 2));
  pd_queue_model_set_blocking_only (self->model, gtk_toggle_button_get_active (self->block_toggle));
  update_state (self);
}

/* The knowledge base the pane reviews with: read once per session. */
static PdKb *
kb_of (PdReviewPage  *self,
       GError       **error)
{
  if (self->kb == NULL && self->session != NULL)
    self->kb = pd_kb_load_active (pd_session_get_store (self->session), error);
  return self->kb;
}

static void
show_detail_message (PdReviewPage *self,
                     const char   *title,
                     const char   *description)
{
  pd_rx_pane_show (self->rx_pane, NULL, NULL, NULL, NULL);
  adw_status_page_set_title (self->detail_page, title);
  adw_status_page_set_description (self->detail_page, description);
  gtk_stack_set_visible_child_name (self->detail_stack, "none");
}

static void
selection_changed_cb (PdReviewPage *self)
{
  PdQueueItem *item = gtk_single_selection_get_selected_item (self->selection);
  g_autoptr(GError) error = NULL;
  PdKb *kb;

  /* A re-read moves rows (a claim goes to "mine"): the pane keeps its
   * prescription, and the list finds it again afterwards. */
  if (self->refreshing)
    return;
  if (item == NULL || self->session == NULL)
    {
      show_detail_message (self, _("Choose a prescription"),
                           _("Its patient, lines, findings and history open here, with the claim and the decision."));
      return;
    }
  kb = kb_of (self, &error);
  if (kb == NULL)
    {
      show_detail_message (self, _("No knowledge base"),
                           error != NULL ? error->message
                                         : _("An administrator imports the knowledge base before prescriptions can be reviewed."));
      return;
    }
  if (!pd_rx_pane_show (self->rx_pane, self->session, kb, pd_queue_item_get_uuid (item), &error))
    {
      show_detail_message (self, _("This prescription cannot be opened"), error->message);
      return;
    }
  gtk_stack_set_visible_child_name (self->detail_stack, "rx");
}

static void
pane_changed_cb (PdReviewPage *self)
{
  pd_review_page_refresh (self);
}

static void
clear_activated (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  PdReviewPage *self = PD_REVIEW_PAGE (widget);

  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  gtk_drop_down_set_selected (self->status_drop, 0);
  gtk_drop_down_set_selected (self->urgency_drop, 0);
  gtk_drop_down_set_selected (self->online_drop, 0);
  gtk_toggle_button_set_active (self->block_toggle, FALSE);
  search_changed_cb (self);
}

static void
setup_row_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item)
{
  gtk_list_item_set_child (list_item, pd_queue_row_new ());
}

static void
bind_row_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item)
{
  pd_queue_row_set_item (PD_QUEUE_ROW (gtk_list_item_get_child (list_item)),
                         gtk_list_item_get_item (list_item));
}

static gboolean
refresh_cb (gpointer user_data)
{
  pd_review_page_refresh (user_data);
  return G_SOURCE_CONTINUE;
}

static void
pd_review_page_dispose (GObject *object)
{
  PdReviewPage *self = PD_REVIEW_PAGE (object);

  pd_review_page_set_session (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (object), PD_TYPE_REVIEW_PAGE);
  G_OBJECT_CLASS (pd_review_page_parent_class)->dispose (object);
}

static void
pd_review_page_class_init (PdReviewPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = pd_review_page_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-review-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, kb_revealer);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, kb_label);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, status_drop);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, urgency_drop);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, online_drop);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, block_toggle);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, count_label);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, tools_box);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, stack);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, list_view);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, detail_stack);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, detail_page);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, rx_pane);
  gtk_widget_class_bind_template_child (widget_class, PdReviewPage, error_page);
  gtk_widget_class_install_action (widget_class, "review.clear", NULL, clear_activated);
}

static void
pd_review_page_init (PdReviewPage *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  g_type_ensure (PD_TYPE_QUEUE_ROW);
  g_type_ensure (PD_TYPE_RX_PANE);
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->rx_pane, "changed", G_CALLBACK (pane_changed_cb), self);
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), NULL);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);

  self->selection = gtk_single_selection_new (NULL);
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));
  g_object_unref (self->selection);
  g_signal_connect_swapped (self->selection, "notify::selected", G_CALLBACK (selection_changed_cb), self);

  g_signal_connect_swapped (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);
  g_signal_connect_swapped (self->status_drop, "notify::selected", G_CALLBACK (filters_changed_cb), self);
  g_signal_connect_swapped (self->urgency_drop, "notify::selected", G_CALLBACK (filters_changed_cb), self);
  g_signal_connect_swapped (self->online_drop, "notify::selected", G_CALLBACK (filters_changed_cb), self);
  g_signal_connect_swapped (self->block_toggle, "toggled", G_CALLBACK (filters_changed_cb), self);
  update_state (self);
}

void
pd_review_page_set_session (PdReviewPage *self,
                            PdSession    *session)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (PD_IS_REVIEW_PAGE (self));
  if (session == self->session && (session == NULL || self->model != NULL))
    return;
  g_clear_handle_id (&self->refresh_timer, g_source_remove);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  if (self->selection != NULL)
    gtk_single_selection_set_model (self->selection, NULL);
  g_clear_object (&self->model);
  pd_rx_pane_show (self->rx_pane, NULL, NULL, NULL, NULL);
  gtk_stack_set_visible_child_name (self->detail_stack, "none");
  g_clear_pointer (&self->kb, pd_kb_free);
  g_set_object (&self->session, session);
  if (session != NULL && may_review (session))
    {
      self->model = pd_queue_model_new (session, &error);
      if (self->model == NULL)
        {
          g_warning ("queue: %s", error->message);
          gtk_stack_set_visible_child_name (self->stack, "error");
          adw_status_page_set_description (self->error_page, error->message);
          return;
        }
      g_signal_connect_swapped (self->model, "items-changed", G_CALLBACK (items_changed_cb), self);
      gtk_single_selection_set_model (self->selection, G_LIST_MODEL (self->model));
      filters_changed_cb (self);
      search_changed_cb (self);
      self->refresh_timer = g_timeout_add_seconds (REFRESH_S, refresh_cb, self);
    }
  update_kb (self);
  update_state (self);
}

/* The position of a prescription among count rows from start, or
 * G_MAXUINT: a bounded look, the list being lazy. */
static guint
find_uuid (PdReviewPage *self,
           const char   *rx_uuid,
           guint         start,
           guint         count)
{
  GListModel *model = G_LIST_MODEL (self->model);
  guint n = g_list_model_get_n_items (model);

  for (guint i = start; i < n && i - start < count; i++)
    {
      g_autoptr(PdQueueItem) item = g_list_model_get_item (model, i);

      if (g_strcmp0 (pd_queue_item_get_uuid (item), rx_uuid) == 0)
        return i;
    }
  return G_MAXUINT;
}

void
pd_review_page_refresh (PdReviewPage *self)
{
  g_autoptr(GError) error = NULL;
  guint anchor = gtk_single_selection_get_selected (self->selection);
  const PdRxView *view = pd_rx_pane_get_view (self->rx_pane);
  g_autofree char *shown = view != NULL ? g_strdup (view->rx_uuid) : NULL;
  PdQueueItem *item;

  if (self->model == NULL)
    return;
  self->refreshing = TRUE;
  if (!pd_queue_model_refresh (self->model, anchor, &error))
    g_warning ("queue: %s", error->message);
  item = gtk_single_selection_get_selected_item (self->selection);
  if (shown != NULL && (item == NULL || g_strcmp0 (pd_queue_item_get_uuid (item), shown) != 0))
    {
      /* Where it went: near where it was, else among mine or the urgent ones. */
      guint at = find_uuid (self, shown, anchor != GTK_INVALID_LIST_POSITION && anchor > PD_QUEUE_PAGE_SIZE ? anchor - PD_QUEUE_PAGE_SIZE : 0,
                            2 * PD_QUEUE_PAGE_SIZE);

      if (at == G_MAXUINT)
        at = find_uuid (self, shown, pd_queue_model_get_segment_start (self->model, PD_QUEUE_SEGMENT_URGENT),
                        4 * PD_QUEUE_PAGE_SIZE);
      if (at == G_MAXUINT)
        at = find_uuid (self, shown, pd_queue_model_get_segment_start (self->model, PD_QUEUE_SEGMENT_MINE),
                        4 * PD_QUEUE_PAGE_SIZE);
      gtk_single_selection_set_selected (self->selection, at != G_MAXUINT ? at : GTK_INVALID_LIST_POSITION);
    }
  self->refreshing = FALSE;
  update_kb (self);
  update_state (self);
}

void
pd_review_page_reload_prescription (PdReviewPage *self)
{
  /* A sync may have brought a new knowledge base's verdicts or the
   * hospital's answer to a claim: the pane follows, quietly. */
  pd_rx_pane_reload (self->rx_pane);
}

gboolean
pd_review_page_select (PdReviewPage *self,
                       const char   *rx_uuid)
{
  guint at = self->model != NULL ? find_uuid (self, rx_uuid, 0, G_MAXUINT) : G_MAXUINT;

  if (at == G_MAXUINT)
    return FALSE;
  if (gtk_single_selection_get_selected (self->selection) == at)
    selection_changed_cb (self);
  else
    gtk_single_selection_set_selected (self->selection, at);
  return TRUE;
}

PdRxPane *
pd_review_page_get_rx_pane (PdReviewPage *self)
{
  return self->rx_pane;
}

PdQueueModel *
pd_review_page_get_model (PdReviewPage *self)
{
  return self->model;
}

const char *
pd_review_page_get_state (PdReviewPage *self)
{
  return self->state;
}

const char *
pd_review_page_get_count_text (PdReviewPage *self)
{
  return gtk_label_get_label (self->count_label);
}

const char *
pd_review_page_get_kb_warning (PdReviewPage *self)
{
  return gtk_revealer_get_reveal_child (self->kb_revealer) ? gtk_label_get_label (self->kb_label) : NULL;
}

GtkSearchEntry *
pd_review_page_get_search_entry (PdReviewPage *self)
{
  return self->search_entry;
}

GtkDropDown *
pd_review_page_get_status_drop (PdReviewPage *self)
{
  return self->status_drop;
}

GtkListView *
pd_review_page_get_list_view (PdReviewPage *self)
{
  return self->list_view;
}
