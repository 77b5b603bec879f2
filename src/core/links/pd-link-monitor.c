/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-link-monitor"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>

#include "pd-link-monitor.h"
#include "pd-oauth-client.h"

#define DEFAULT_INTERVAL_S 30
#define PROBE_TIMEOUT_S    10
/* Between the full probes, a TCP connect to each configured link this
 * often: a server that died (refused) or vanished (no answer) shows as
 * offline within seconds, not at the next probe or sync half a minute on. */
#define LIVENESS_S         3

typedef struct {
  PdLinkState state;
  double      progress;
  char       *message;
  char       *url;          /* what the probe asks */
  gboolean    probing;
  gboolean    pinging;
  gboolean    syncing;
} LinkStatus;

struct _PdLinkMonitor
{
  GObject        parent_instance;
  SoupSession   *session;
  GSocketClient *pinger;
  PdOAuthClient *oauth;
  GCancellable  *cancellable;
  LinkStatus     links[PD_N_LINKS];
  guint          interval_s;
  guint          timer_id;
  guint          liveness_id;
};

G_DEFINE_FINAL_TYPE (PdLinkMonitor, pd_link_monitor, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void start_probe (PdLinkMonitor *self,
                         PdLink         link);

typedef struct {
  PdLinkMonitor *self;   /* strong: pd_link_monitor_stop() cancels what is in flight */
  PdLink         link;
  SoupMessage   *msg;
} Probe;

static void
probe_free (Probe *probe)
{
  g_clear_object (&probe->msg);
  g_object_unref (probe->self);
  g_free (probe);
}

static void
set_status (PdLinkMonitor *self,
            PdLink         link,
            PdLinkState    state,
            const char    *message)
{
  LinkStatus *st = &self->links[link];

  if (st->syncing && state == PD_LINK_STATE_ONLINE)
    state = PD_LINK_STATE_SYNCING;
  if (st->state == state && g_strcmp0 (st->message, message) == 0)
    return;
  st->state = state;
  g_free (st->message);
  st->message = g_strdup (message);
  g_signal_emit (self, signals[CHANGED], 0, link);
}

static void
probe_done (Probe       *probe,
            PdLinkState  state,
            const char  *message)
{
  probe->self->links[probe->link].probing = FALSE;
  set_status (probe->self, probe->link, state, message);
  probe_free (probe);
}

static PdLinkState
state_for_error (const GError *error)
{
  if (error->domain == PD_LINK_ERROR && error->code == PD_LINK_ERROR_OFFLINE)
    return PD_LINK_STATE_OFFLINE;
  return PD_LINK_STATE_ERROR;
}

/* Any HTTP answer means the server is there; 5xx means it is not well. */
static void
reach_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Probe *probe = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);
  guint status;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      probe->self->links[probe->link].probing = FALSE;
      probe_free (probe);
      return;
    }
  if (body == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("%s is unreachable: %s"),
                                              pd_link_get_title (probe->link), error->message);
      probe_done (probe, PD_LINK_STATE_OFFLINE, msg);
      return;
    }
  status = soup_message_get_status (probe->msg);
  if (status >= 500)
    {
      g_autofree char *msg = g_strdup_printf (_("%s answered HTTP %u"), pd_link_get_title (probe->link), status);
      probe_done (probe, PD_LINK_STATE_ERROR, msg);
      return;
    }
  if (status == SOUP_STATUS_UNAUTHORIZED && probe->link == PD_LINK_HOSPITAL)
    {
      pd_oauth_client_forget (probe->self->oauth);
      probe_done (probe, PD_LINK_STATE_ERROR, _("The hospital refused the pharmacy’s access token"));
      return;
    }
  probe_done (probe, PD_LINK_STATE_ONLINE, NULL);
}

static void
send_probe (Probe      *probe,
            const char *bearer)
{
  PdLinkMonitor *self = probe->self;

  probe->msg = soup_message_new (SOUP_METHOD_GET, self->links[probe->link].url);
  if (probe->msg == NULL)
    {
      probe_done (probe, PD_LINK_STATE_ERROR, _("The configured address is not a valid URL"));
      return;
    }
  if (bearer != NULL)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", bearer);
      soup_message_headers_replace (soup_message_get_request_headers (probe->msg), "Authorization", auth);
    }
  soup_message_headers_replace (soup_message_get_request_headers (probe->msg),
                                "Accept", "application/fhir+json, application/json");
  soup_session_send_and_read_async (self->session, probe->msg, G_PRIORITY_LOW,
                                    self->cancellable, reach_cb, probe);
}

static void
token_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Probe *probe = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = pd_oauth_client_get_token_finish (PD_OAUTH_CLIENT (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      probe->self->links[probe->link].probing = FALSE;
      probe_free (probe);
      return;
    }
  if (token == NULL)
    {
      probe_done (probe, state_for_error (error), error->message);
      return;
    }
  send_probe (probe, token);
}

static void
start_probe (PdLinkMonitor *self,
             PdLink         link)
{
  LinkStatus *st = &self->links[link];
  Probe *probe;

  if (st->url == NULL || st->probing)
    return;
  st->probing = TRUE;
  probe = g_new0 (Probe, 1);
  probe->self = g_object_ref (self);
  probe->link = link;
  if (link == PD_LINK_HOSPITAL && self->oauth != NULL)
    pd_oauth_client_get_token_async (self->oauth, self->cancellable, token_cb, probe);
  else
    send_probe (probe, NULL);
}

/* --- liveness: is anything listening there at all ----------------------------------------- */

typedef struct {
  PdLinkMonitor *self;   /* strong, as a probe's */
  PdLink         link;
} Ping;

static void
ping_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Ping *ping = user_data;
  PdLinkMonitor *self = ping->self;
  LinkStatus *st = &self->links[ping->link];
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (object), result, &error);

  st->pinging = FALSE;
  if (connection != NULL)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      /* Back after being unreachable: the full probe says how it is. */
      if (st->state == PD_LINK_STATE_OFFLINE)
        start_probe (self, ping->link);
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !st->probing
           && (st->state == PD_LINK_STATE_ONLINE || st->state == PD_LINK_STATE_SYNCING || st->state == PD_LINK_STATE_ERROR))
    {
      g_autofree char *msg = g_strdup_printf (_("%s is unreachable: %s"), pd_link_get_title (ping->link), error->message);

      set_status (self, ping->link, PD_LINK_STATE_OFFLINE, msg);
    }
  g_object_unref (ping->self);
  g_free (ping);
}

static gboolean
liveness_cb (gpointer user_data)
{
  PdLinkMonitor *self = user_data;

  for (PdLink link = 0; link < PD_N_LINKS; link++)
    {
      LinkStatus *st = &self->links[link];
      Ping *ping;

      if (st->url == NULL || st->probing || st->pinging || st->state == PD_LINK_STATE_CHECKING)
        continue;
      st->pinging = TRUE;
      ping = g_new0 (Ping, 1);
      ping->self = g_object_ref (self);
      ping->link = link;
      g_socket_client_connect_to_uri_async (self->pinger, st->url, g_str_has_prefix (st->url, "https:") ? 443 : 80,
                                            self->cancellable, ping_cb, ping);
    }
  return G_SOURCE_CONTINUE;
}

void
pd_link_monitor_check_now (PdLinkMonitor *self)
{
  g_return_if_fail (PD_IS_LINK_MONITOR (self));

  for (PdLink link = 0; link < PD_N_LINKS; link++)
    start_probe (self, link);
}

/* Stops the timer and cancels the probes in flight; their callbacks then
 * drop the references they hold. */
void
pd_link_monitor_stop (PdLinkMonitor *self)
{
  g_return_if_fail (PD_IS_LINK_MONITOR (self));

  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_handle_id (&self->liveness_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
}

static gboolean
tick_cb (gpointer user_data)
{
  pd_link_monitor_check_now (user_data);
  return G_SOURCE_CONTINUE;
}

void
pd_link_monitor_set_interval (PdLinkMonitor *self,
                              guint          seconds)
{
  g_return_if_fail (PD_IS_LINK_MONITOR (self));

  g_clear_handle_id (&self->timer_id, g_source_remove);
  self->interval_s = seconds;
  if (seconds > 0)
    self->timer_id = g_timeout_add_seconds (seconds, tick_cb, self);
}

void
pd_link_monitor_report_sync (PdLinkMonitor *self,
                             PdLink         link,
                             gboolean       running,
                             double         progress)
{
  LinkStatus *st = &self->links[link];
  gboolean changed = st->syncing != running || st->progress != progress;

  st->syncing = running;
  st->progress = running ? progress : 0.0;
  if (running && (st->state == PD_LINK_STATE_ONLINE || st->state == PD_LINK_STATE_CHECKING))
    st->state = PD_LINK_STATE_SYNCING;
  else if (!running && st->state == PD_LINK_STATE_SYNCING)
    st->state = PD_LINK_STATE_ONLINE;
  else if (!changed)
    return;
  g_signal_emit (self, signals[CHANGED], 0, link);
}

PdLinkState
pd_link_monitor_get_state (PdLinkMonitor *self,
                           PdLink         link)
{
  g_return_val_if_fail (link < PD_N_LINKS, PD_LINK_STATE_UNCONFIGURED);
  return self->links[link].state;
}

double
pd_link_monitor_get_progress (PdLinkMonitor *self,
                              PdLink         link)
{
  g_return_val_if_fail (link < PD_N_LINKS, 0.0);
  return self->links[link].progress;
}

const char *
pd_link_monitor_get_message (PdLinkMonitor *self,
                             PdLink         link)
{
  g_return_val_if_fail (link < PD_N_LINKS, NULL);
  return self->links[link].message;
}

const char *
pd_link_get_id (PdLink link)
{
  static const char *ids[PD_N_LINKS] = { "hospital", "insurance", "courier" };

  g_return_val_if_fail (link < PD_N_LINKS, NULL);
  return ids[link];
}

const char *
pd_link_get_title (PdLink link)
{
  static const char *titles[PD_N_LINKS] = { N_("Hospital"), N_("Insurance centre"), N_("Courier") };

  g_return_val_if_fail (link < PD_N_LINKS, NULL);
  return g_dgettext (GETTEXT_PACKAGE, titles[link]);
}

const char *
pd_link_state_get_label (PdLinkState state)
{
  switch (state)
    {
    case PD_LINK_STATE_UNCONFIGURED: return _("Not configured");
    case PD_LINK_STATE_CHECKING: return _("Checking…");
    case PD_LINK_STATE_OFFLINE: return _("Offline");
    case PD_LINK_STATE_ONLINE: return _("Online");
    case PD_LINK_STATE_SYNCING: return _("Syncing");
    case PD_LINK_STATE_ERROR: return _("Error");
    default: return "";
    }
}

static void
pd_link_monitor_dispose (GObject *object)
{
  PdLinkMonitor *self = (PdLinkMonitor *) object;

  pd_link_monitor_stop (self);
  G_OBJECT_CLASS (pd_link_monitor_parent_class)->dispose (object);
}

static void
pd_link_monitor_finalize (GObject *object)
{
  PdLinkMonitor *self = (PdLinkMonitor *) object;

  for (PdLink link = 0; link < PD_N_LINKS; link++)
    {
      g_free (self->links[link].message);
      g_free (self->links[link].url);
    }
  g_clear_object (&self->oauth);
  g_clear_object (&self->pinger);
  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (pd_link_monitor_parent_class)->finalize (object);
}

static void
pd_link_monitor_class_init (PdLinkMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pd_link_monitor_dispose;
  object_class->finalize = pd_link_monitor_finalize;

  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void
pd_link_monitor_init (PdLinkMonitor *self)
{
  self->cancellable = g_cancellable_new ();
  self->session = soup_session_new_with_options ("timeout", PROBE_TIMEOUT_S,
                                                 "user-agent", "PharmDesk/" PACKAGE_VERSION " ",
                                                 NULL);
  self->pinger = g_socket_client_new ();
  g_socket_client_set_timeout (self->pinger, LIVENESS_S);
}

static char *
join_url (const char *base,
          const char *path)
{
  if (base == NULL)
    return NULL;
  if (g_str_has_suffix (base, "/"))
    return g_strconcat (base, path, NULL);
  return g_strconcat (base, "/", path, NULL);
}

/* The probes: hospital metadata (FHIR's CapabilityStatement) behind its
 * token; the insurance dispatcher and the courier base answer at all. */
PdLinkMonitor *
pd_link_monitor_new (const PdConfig *config)
{
  PdLinkMonitor *self = g_object_new (PD_TYPE_LINK_MONITOR, NULL);

  if (config != NULL)
    {
      self->links[PD_LINK_HOSPITAL].url = join_url (config->hospital_url, "metadata");
      self->links[PD_LINK_INSURANCE].url = g_strdup (config->insurance_url);
      self->links[PD_LINK_COURIER].url = g_strdup (config->courier_url);
      if (config->hospital_url != NULL && config->hospital_token_url != NULL)
        self->oauth = pd_oauth_client_new (self->session, config->hospital_token_url,
                                           config->hospital_client_id, config->hospital_client_secret);
    }
  for (PdLink link = 0; link < PD_N_LINKS; link++)
    self->links[link].state = self->links[link].url != NULL
                              ? PD_LINK_STATE_CHECKING : PD_LINK_STATE_UNCONFIGURED;
  pd_link_monitor_set_interval (self, DEFAULT_INTERVAL_S);
  if (config != NULL)
    self->liveness_id = g_timeout_add_seconds (LIVENESS_S, liveness_cb, self);
  return self;
}
