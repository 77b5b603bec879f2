/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-window"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-accounts.h"
#include "pd-accounts-window.h"
#include "pd-desk-job.h"
#include "pd-dispensing-page.h"
#include "pd-hospital-link.h"
#include "pd-queue-model.h"
#include "pd-first-start-page.h"
#include "pd-link-indicator.h"
#include "pd-queue-row.h"
#include "pd-review-page.h"
#include "pd-sign-in-page.h"
#include "pd-sync-service.h"
#include "pd-window.h"

/* The shell: the four work areas, a connection indicator per link, and
 * in place of the areas, in words, why the database would not open. */
struct _PdWindow
{
  AdwApplicationWindow  parent_instance;

  AdwViewStack         *stack;
  AdwViewSwitcherTitle *switcher_title;
  GtkWidget            *switcher_bar;
  GtkStack             *main_stack;
  AdwStatusPage        *refused_page;
  GtkBox               *link_bar;
  GtkMenuButton        *account_button;
  GtkWidget            *training_label;
  AdwMessageDialog     *leave_dialog;
  GtkWidget            *indicators[PD_N_LINKS];
  GtkWidget            *sign_in_page;
  GtkWidget            *first_start_page;
  PdReviewPage         *review_page;
  PdDispensingPage     *dispensing_page;
  PdSession            *session;
  PdSyncService        *sync;
  guint                 idle_timer;
};

#define IDLE_CHECK_S 15
/* The hospital sync's pace while signed in (on demand in between). */
#define SYNC_INTERVAL_S 30

G_DEFINE_FINAL_TYPE (PdWindow, pd_window, ADW_TYPE_APPLICATION_WINDOW)

static const char *areas[] = { "review", "dispensing", "delivery", "settlement", "reconciliation" };

static PdApplication *
app_of (PdWindow *self)
{
  return PD_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
}

static void
area_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  PdWindow *self = PD_WINDOW (widget);
  int i = g_variant_get_int32 (parameter);

  if (i >= 0 && i < (int) G_N_ELEMENTS (areas))
    adw_view_stack_set_visible_child_name (self->stack, areas[i]);
}

static void
check_links_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  pd_link_monitor_check_now (pd_application_get_link_monitor (app_of (PD_WINDOW (widget))));
}

/* Shows one of the main pages; the work areas only to a signed-in desk. */
static void
show_page (PdWindow   *self,
           const char *name)
{
  gboolean areas = g_str_equal (name, "areas");

  gtk_stack_set_visible_child_name (self->main_stack, name);
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, areas);
  gtk_widget_set_visible (self->switcher_bar, areas);
  gtk_widget_set_visible (GTK_WIDGET (self->account_button), areas);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.lock", areas);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.sign-out", areas);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.accounts",
                                 areas && (pd_session_get_account (self->session)->roles & PD_ROLE_ADMIN));
}

static void
show_locked (PdWindow *self)
{
  pd_sign_in_page_set_locked (PD_SIGN_IN_PAGE (self->sign_in_page), self->session);
  show_page (self, "sign-in");
}

static gboolean
idle_check_cb (gpointer user_data)
{
  PdWindow *self = user_data;

  if (self->session != NULL && pd_session_is_locked (self->session)
      && !g_str_equal (gtk_stack_get_visible_child_name (self->main_stack), "sign-in"))
    show_locked (self);
  return G_SOURCE_CONTINUE;
}

static void
sync_finished_cb (PdWindow *self,
                  gboolean  ok)
{
  pd_review_page_refresh (self->review_page);
  pd_review_page_reload_prescription (self->review_page);
  pd_dispensing_page_refresh (self->dispensing_page);
}

/* A desktop notification per new urgent prescription; one id, so a
 * burst shows the latest rather than a pile. */
static void
urgent_arrived_cb (PdWindow   *self,
                   const char *uuid,
                   const char *number,
                   const char *priority)
{
  GApplication *app = G_APPLICATION (app_of (self));
  GSettings *settings = pd_application_get_settings (app_of (self));
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *body = NULL;

  if (app == NULL || (settings != NULL && !g_settings_get_boolean (settings, "notifications")))
    return;
  /* Translators: a desktop notification; %s is the priority (Stat, Urgent), then the prescription number */
  body = g_strdup_printf (_("%s: prescription %s is waiting for review"), pd_queue_priority_text (priority), number);
  notification = g_notification_new (_("Urgent prescription"));
  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);
  g_application_send_notification (app, "urgent-prescription", notification);
}

static void
stop_sync (PdWindow *self)
{
  if (self->sync == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->sync, self);
  pd_sync_service_stop (self->sync);
  g_clear_object (&self->sync);
}

static void
start_sync (PdWindow *self)
{
  PdApplication *app = app_of (self);

  stop_sync (self);
  if (app == NULL || self->session == NULL)
    return;
  self->sync = pd_sync_service_new (self->session, pd_application_get_config (app), pd_application_get_link_monitor (app));
  if (self->sync == NULL)
    return;
  g_signal_connect_swapped (self->sync, "finished", G_CALLBACK (sync_finished_cb), self);
  g_signal_connect_swapped (self->sync, "urgent-arrived", G_CALLBACK (urgent_arrived_cb), self);
  pd_sync_service_start (self->sync, SYNC_INTERVAL_S);
}

static void
sync_now_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PdWindow *self = PD_WINDOW (widget);

  if (self->sync != NULL)
    pd_sync_service_sync_now (self->sync);
  else
    pd_review_page_refresh (self->review_page);
}

static void
signed_in_cb (PdWindow  *self,
              PdSession *session)
{
  const PdAccount *account = pd_session_get_account (session);

  g_set_object (&self->session, session);
  gtk_menu_button_set_label (self->account_button, account->display_name);
  pd_sign_in_page_reset (PD_SIGN_IN_PAGE (self->sign_in_page));
  pd_review_page_set_session (self->review_page, session);
  if (app_of (self) != NULL && pd_application_get_config (app_of (self)) != NULL)
    pd_dispensing_page_set_pharmacy (self->dispensing_page, pd_application_get_config (app_of (self))->fixmedins_name);
  pd_dispensing_page_set_session (self->dispensing_page, session);
  show_page (self, "areas");
  start_sync (self);
}

static void
first_start_done_cb (PdWindow *self)
{
  show_page (self, "sign-in");
}

static void
lock (PdWindow *self)
{
  if (self->session == NULL)
    return;
  pd_session_lock (self->session);
  show_locked (self);
}

static void
sign_out (PdWindow *self)
{
  if (self->session != NULL)
    pd_session_audit (self->session, "sign-out", "account", pd_session_get_account (self->session)->uuid, "ok", NULL, NULL);
  stop_sync (self);
  g_clear_object (&self->session);
  pd_review_page_set_session (self->review_page, NULL);
  pd_dispensing_page_set_session (self->dispensing_page, NULL);
  pd_sign_in_page_reset (PD_SIGN_IN_PAGE (self->sign_in_page));
  show_page (self, "sign-in");
}

/* --- leaving with claims held: ask, release on confirmation --------------------------------- */

typedef struct {
  GStrv uuids;
} Release;

static void
release_free (gpointer data)
{
  Release *r = data;

  g_strfreev (r->uuids);
  g_free (r);
}

/* On the worker: a release per claim, queued in the outbox (the next
 * sync on this desk sends them, whoever is signed in). */
static char *
release_all_job (PdSession *session,
                 gpointer   data,
                 GError   **error)
{
  Release *r = data;

  for (guint i = 0; r->uuids[i] != NULL; i++)
    if (pd_hospital_queue_release (session, r->uuids[i], error) <= 0)
      return NULL;
  return g_strdup ("");
}

static void
released_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(PdWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *done = pd_desk_job_finish (result, &error);
  const char *then = g_object_get_data (G_OBJECT (self), "pd-leave-then");

  if (done == NULL)
    {
      /* Nothing is left silently held: say so and stay signed in. */
      AdwMessageDialog *failed = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("The claims could not be released"),
                                                                             error->message));

      adw_message_dialog_add_response (failed, "close", _("_Close"));
      gtk_window_present (GTK_WINDOW (failed));
      return;
    }
  if (self->sync != NULL)
    pd_sync_service_sync_now (self->sync);
  if (g_strcmp0 (then, "lock") == 0)
    lock (self);
  else
    sign_out (self);
}

static void
leave_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   PdWindow         *self)
{
  const char *then = g_object_get_data (G_OBJECT (dialog), "pd-leave-then");

  self->leave_dialog = NULL;
  if (self->session == NULL || g_str_equal (response, "cancel"))
    return;
  g_object_set_data_full (G_OBJECT (self), "pd-leave-then", g_strdup (then), g_free);
  if (g_str_equal (response, "release"))
    {
      Release *r = g_new0 (Release, 1);

      r->uuids = g_strdupv (g_object_get_data (G_OBJECT (dialog), "pd-claims"));
      pd_desk_job_run (self->session, release_all_job, r, release_free, NULL, released_cb, g_object_ref (self));
    }
  else if (g_strcmp0 (then, "lock") == 0)
    lock (self);
  else
    sign_out (self);
}

/* Signing out or locking while holding claims: the pharmacist chooses to
 * release them (others may then take them) or keep them. FALSE when no
 * claim is held and the caller goes on at once. */
static gboolean
ask_before_leaving (PdWindow   *self,
                    const char *then)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) claims = NULL;
  g_autofree char *body = NULL;
  AdwMessageDialog *dialog;
  guint n;

  if (self->session == NULL || self->leave_dialog != NULL)
    return self->leave_dialog != NULL;
  claims = pd_queue_get_my_claims (self->session, &error);
  if (claims == NULL)
    g_warning ("claims: %s", error->message);
  n = claims != NULL ? g_strv_length (claims) : 0;
  if (n == 0)
    return FALSE;
  body = g_strdup_printf (ngettext ("You hold a claim on %u prescription. Released, it goes back to the queue for another pharmacist; kept, nobody else can review it until the claim runs out.",
                                    "You hold claims on %u prescriptions. Released, they go back to the queue for another pharmacist; kept, nobody else can review them until the claims run out.",
                                    n), n);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                       g_str_equal (then, "lock") ? _("Release your claims before locking?")
                                                                                  : _("Release your claims before signing out?"),
                                                       body));
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "keep", _("_Keep Claims"),
                                    "release", _("_Release Claims"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "release", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "release");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "pd-leave-then", g_strdup (then), g_free);
  g_object_set_data_full (G_OBJECT (dialog), "pd-claims", g_steal_pointer (&claims), (GDestroyNotify) g_strfreev);
  g_signal_connect (dialog, "response", G_CALLBACK (leave_response_cb), self);
  self->leave_dialog = dialog;
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

static void
lock_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  PdWindow *self = PD_WINDOW (widget);

  if (!ask_before_leaving (self, "lock"))
    lock (self);
}

static void
sign_out_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PdWindow *self = PD_WINDOW (widget);

  if (!ask_before_leaving (self, "sign-out"))
    sign_out (self);
}

static void
accounts_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PdWindow *self = PD_WINDOW (widget);
  PdAccountsWindow *accounts;

  if (self->session == NULL)
    return;
  accounts = pd_accounts_window_new (self->session);
  gtk_window_set_transient_for (GTK_WINDOW (accounts), GTK_WINDOW (self));
  gtk_window_set_application (GTK_WINDOW (accounts), gtk_window_get_application (GTK_WINDOW (self)));
  gtk_window_present (GTK_WINDOW (accounts));
}

static void
visible_area_changed_cb (PdWindow *self)
{
  GSettings *settings = pd_application_get_settings (app_of (self));
  const char *name = adw_view_stack_get_visible_child_name (self->stack);

  if (settings != NULL && name != NULL)
    g_settings_set_string (settings, "last-area", name);
}

/* After construction: the application is set only once g_object_new returns. */
static void
setup (PdWindow *self)
{
  PdApplication *app = app_of (self);
  GSettings *settings = pd_application_get_settings (app);
  const GError *refused = pd_application_get_store_error (app);
  g_autofree char *last = NULL;

  for (PdLink l = 0; l < PD_N_LINKS; l++)
    {
      self->indicators[l] = pd_link_indicator_new (pd_application_get_link_monitor (app), l);
      gtk_box_append (self->link_bar, self->indicators[l]);
    }
  pd_link_monitor_check_now (pd_application_get_link_monitor (app));

  if (refused != NULL)
    {
      g_autofree char *text = g_strdup_printf ("%s\n\n%s", refused->message,
                                               _("Nothing was changed in the file. Start PharmDesk with another database (--db FILE), or ask your administrator to restore this one from a backup."));

      adw_status_page_set_description (self->refused_page, text);
      /* No work area can open without the database. */
      show_page (self, "refused");
    }
  else
    {
      PdStore *store = pd_application_get_store (app);

      if (pd_store_get_settable_clock (store))
        {
          /* Training, demo or test: its times are not a pharmacy's record. */
          gtk_window_set_title (GTK_WINDOW (self), _("PharmDesk — training clock"));
          adw_view_switcher_title_set_subtitle (self->switcher_title, _("Training clock"));
          gtk_widget_set_visible (self->training_label, TRUE);
        }
      self->sign_in_page = pd_sign_in_page_new (store);
      self->first_start_page = pd_first_start_page_new (store);
      gtk_stack_add_named (self->main_stack, self->sign_in_page, "sign-in");
      gtk_stack_add_named (self->main_stack, self->first_start_page, "first-start");
      g_signal_connect_swapped (self->sign_in_page, "signed-in", G_CALLBACK (signed_in_cb), self);
      g_signal_connect_swapped (self->first_start_page, "done", G_CALLBACK (first_start_done_cb), self);
      /* The walk-through appears only while no account exists. */
      show_page (self, pd_accounts_exist (store) ? "sign-in" : "first-start");
      self->idle_timer = g_timeout_add_seconds (IDLE_CHECK_S, idle_check_cb, self);
    }

  g_settings_bind (settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
  last = g_settings_get_string (settings, "last-area");
  if (g_strv_contains (areas, last))
    adw_view_stack_set_visible_child_name (self->stack, last);
  g_signal_connect_swapped (self->stack, "notify::visible-child-name", G_CALLBACK (visible_area_changed_cb), self);
}

static void
pd_window_dispose (GObject *object)
{
  PdWindow *self = PD_WINDOW (object);

  g_clear_handle_id (&self->idle_timer, g_source_remove);
  stop_sync (self);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (object), PD_TYPE_WINDOW);
  G_OBJECT_CLASS (pd_window_parent_class)->dispose (object);
}

static void
pd_window_class_init (PdWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pd_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PdWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, PdWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, PdWindow, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, PdWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, PdWindow, refused_page);
  gtk_widget_class_bind_template_child (widget_class, PdWindow, link_bar);
  gtk_widget_class_bind_template_child (widget_class, PdWindow, account_button);
  gtk_widget_class_bind_template_child (widget_class, PdWindow, training_label);
  gtk_widget_class_bind_template_child (widget_class, PdWindow, review_page);
  gtk_widget_class_bind_template_child (widget_class, PdWindow, dispensing_page);
  gtk_widget_class_install_action (widget_class, "win.lock", NULL, lock_activated);
  gtk_widget_class_install_action (widget_class, "win.sign-out", NULL, sign_out_activated);
  gtk_widget_class_install_action (widget_class, "win.accounts", NULL, accounts_activated);
  gtk_widget_class_install_action (widget_class, "win.area", "i", area_activated);
  gtk_widget_class_install_action (widget_class, "win.check-links", NULL, check_links_activated);
  gtk_widget_class_install_action (widget_class, "win.sync-now", NULL, sync_now_activated);
}

static void
pd_window_init (PdWindow *self)
{
  GtkEventController *keys = gtk_shortcut_controller_new ();

  g_type_ensure (PD_TYPE_LINK_INDICATOR);
  g_type_ensure (PD_TYPE_REVIEW_PAGE);
  g_type_ensure (PD_TYPE_DISPENSING_PAGE);
  gtk_widget_init_template (GTK_WIDGET (self));
  /* F5 checks the links wherever the focus is: in the capture phase, so
   * a focused entry (the queue's search) does not swallow it first. */
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (keys),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_F5, 0),
                                                          gtk_named_action_new ("win.check-links")));
  gtk_widget_add_controller (GTK_WIDGET (self), keys);
}

PdWindow *
pd_window_new (PdApplication *application)
{
  PdWindow *self = g_object_new (PD_TYPE_WINDOW, "application", application, NULL);

  setup (self);
  return self;
}

AdwViewStack *
pd_window_get_stack (PdWindow *self)
{
  return self->stack;
}

GtkWidget *
pd_window_get_link_indicator (PdWindow *self,
                              PdLink    link)
{
  g_return_val_if_fail (link < PD_N_LINKS, NULL);
  return self->indicators[link];
}

gboolean
pd_window_is_refused (PdWindow *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "refused") == 0;
}

const char *
pd_window_get_page (PdWindow *self)
{
  return gtk_stack_get_visible_child_name (self->main_stack);
}

GtkWidget *
pd_window_get_sign_in_page (PdWindow *self)
{
  return self->sign_in_page;
}

GtkWidget *
pd_window_get_first_start_page (PdWindow *self)
{
  return self->first_start_page;
}

PdSession *
pd_window_get_session (PdWindow *self)
{
  return self->session;
}

GtkWindow *
pd_window_get_leave_dialog (PdWindow *self)
{
  return self->leave_dialog != NULL ? GTK_WINDOW (self->leave_dialog) : NULL;
}

PdSyncService *
pd_window_get_sync_service (PdWindow *self)
{
  return self->sync;
}
