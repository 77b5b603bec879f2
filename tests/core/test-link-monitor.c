/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-link-monitor"

#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "pd-link-monitor.h"

/* A loopback hospital: a token endpoint and metadata behind the bearer. */
typedef struct {
  SoupServer *server;
  char       *base;
  int         metadata_status;
  guint       token_requests;
} Hospital;

static void
token_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  Hospital *h = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autofree char *form_text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_autoptr(GHashTable) form = soup_form_decode (form_text);
  const char *reply = "{\"access_token\":\"tok-1\",\"expires_in\":3600,\"token_type\":\"Bearer\"}";

  h->token_requests++;
  if (g_strcmp0 (g_hash_table_lookup (form, "client_secret"), "right") != 0
      || g_strcmp0 (g_hash_table_lookup (form, "grant_type"), "client_credentials") != 0)
    {
      soup_server_message_set_status (msg, 401, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, "{\"error\":\"invalid_client\"}", 26);
      return;
    }
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, reply, strlen (reply));
}

static void
metadata_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Hospital *h = user_data;
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");

  if (g_strcmp0 (auth, "Bearer tok-1") != 0)
    {
      soup_server_message_set_status (msg, 401, NULL);
      return;
    }
  soup_server_message_set_status (msg, h->metadata_status, NULL);
  soup_server_message_set_response (msg, "application/fhir+json", SOUP_MEMORY_STATIC,
                                    "{\"resourceType\":\"CapabilityStatement\"}", 38);
}

static void
hospital_start (Hospital *h)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;

  h->server = soup_server_new (NULL, NULL);
  h->metadata_status = 200;
  soup_server_add_handler (h->server, "/oauth/token", token_cb, h, NULL);
  soup_server_add_handler (h->server, "/fhir/metadata", metadata_cb, h, NULL);
  g_assert_true (soup_server_listen_local (h->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (h->server);
  h->base = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
}

static void
hospital_stop (Hospital *h)
{
  g_clear_object (&h->server);
  g_free (h->base);
}

static void
changed_cb (PdLinkMonitor *monitor,
            int            link,
            gpointer       user_data)
{
  *(guint *) user_data += 1;
}

static PdLinkState
wait_settled (PdLinkMonitor *monitor,
              PdLink         link)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (pd_link_monitor_get_state (monitor, link) == PD_LINK_STATE_CHECKING
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  return pd_link_monitor_get_state (monitor, link);
}

static PdConfig *
config_for (const char *base,
            const char *secret)
{
  PdConfig *c = g_new0 (PdConfig, 1);

  c->hospital_url = g_strdup_printf ("%s/fhir", base);
  c->hospital_token_url = g_strdup_printf ("%s/oauth/token", base);
  c->hospital_client_id = g_strdup ("pharmacy-1");
  c->hospital_client_secret = g_strdup (secret);
  c->courier_url = g_strdup_printf ("%s/courier", base);
  return c;
}

static void
test_unconfigured (void)
{
  g_autoptr(PdLinkMonitor) m = pd_link_monitor_new (NULL);

  for (PdLink l = 0; l < PD_N_LINKS; l++)
    g_assert_cmpint (pd_link_monitor_get_state (m, l), ==, PD_LINK_STATE_UNCONFIGURED);
  pd_link_monitor_stop (m);
}

static void
test_online_then_syncing (void)
{
  Hospital h = { 0 };
  g_autoptr(PdConfig) c = NULL;
  g_autoptr(PdLinkMonitor) m = NULL;
  guint changes = 0;

  hospital_start (&h);
  c = config_for (h.base, "right");
  m = pd_link_monitor_new (c);
  g_signal_connect (m, "changed", G_CALLBACK (changed_cb), &changes);
  g_assert_cmpint (pd_link_monitor_get_state (m, PD_LINK_HOSPITAL), ==, PD_LINK_STATE_CHECKING);
  g_assert_cmpint (pd_link_monitor_get_state (m, PD_LINK_INSURANCE), ==, PD_LINK_STATE_UNCONFIGURED);
  pd_link_monitor_check_now (m);
  g_assert_cmpint (wait_settled (m, PD_LINK_HOSPITAL), ==, PD_LINK_STATE_ONLINE);
  /* The courier path answers 404 here: reachable is online. */
  g_assert_cmpint (wait_settled (m, PD_LINK_COURIER), ==, PD_LINK_STATE_ONLINE);
  g_assert_cmpuint (changes, >=, 2);
  g_assert_null (pd_link_monitor_get_message (m, PD_LINK_HOSPITAL));

  pd_link_monitor_report_sync (m, PD_LINK_HOSPITAL, TRUE, 0.25);
  g_assert_cmpint (pd_link_monitor_get_state (m, PD_LINK_HOSPITAL), ==, PD_LINK_STATE_SYNCING);
  g_assert_cmpfloat (pd_link_monitor_get_progress (m, PD_LINK_HOSPITAL), ==, 0.25);
  pd_link_monitor_report_sync (m, PD_LINK_HOSPITAL, FALSE, 0.0);
  g_assert_cmpint (pd_link_monitor_get_state (m, PD_LINK_HOSPITAL), ==, PD_LINK_STATE_ONLINE);

  /* The token is reused, not fetched per probe. */
  pd_link_monitor_check_now (m);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (h.token_requests, ==, 1);

  /* The hospital falls ill. */
  h.metadata_status = 503;
  pd_link_monitor_check_now (m);
  while (pd_link_monitor_get_state (m, PD_LINK_HOSPITAL) == PD_LINK_STATE_ONLINE)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (pd_link_monitor_get_state (m, PD_LINK_HOSPITAL), ==, PD_LINK_STATE_ERROR);
  g_assert_nonnull (strstr (pd_link_monitor_get_message (m, PD_LINK_HOSPITAL), "503"));

  pd_link_monitor_stop (m);
  g_clear_object (&m);
  hospital_stop (&h);
}

static void
test_bad_credentials (void)
{
  Hospital h = { 0 };
  g_autoptr(PdConfig) c = NULL;
  g_autoptr(PdLinkMonitor) m = NULL;

  hospital_start (&h);
  c = config_for (h.base, "wrong");
  m = pd_link_monitor_new (c);
  pd_link_monitor_check_now (m);
  g_assert_cmpint (wait_settled (m, PD_LINK_HOSPITAL), ==, PD_LINK_STATE_ERROR);
  g_assert_nonnull (strstr (pd_link_monitor_get_message (m, PD_LINK_HOSPITAL), "credentials"));
  pd_link_monitor_stop (m);
  g_clear_object (&m);
  hospital_stop (&h);
}

static void
test_offline (void)
{
  Hospital h = { 0 };
  g_autofree char *base = NULL;
  g_autoptr(PdConfig) c = NULL;
  g_autoptr(PdLinkMonitor) m = NULL;

  /* A port that just closed: nobody listens there. */
  hospital_start (&h);
  base = g_strdup (h.base);
  hospital_stop (&h);
  c = config_for (base, "right");
  m = pd_link_monitor_new (c);
  pd_link_monitor_check_now (m);
  g_assert_cmpint (wait_settled (m, PD_LINK_HOSPITAL), ==, PD_LINK_STATE_OFFLINE);
  g_assert_cmpint (wait_settled (m, PD_LINK_COURIER), ==, PD_LINK_STATE_OFFLINE);
  g_assert_nonnull (pd_link_monitor_get_message (m, PD_LINK_COURIER));
  pd_link_monitor_stop (m);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (g_steal_pointer (&m));
}

/* Seconds until a link that was online shows something else. */
static double
seconds_until_not_online (PdLinkMonitor *m,
                          PdLink         link,
                          double         limit)
{
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) (limit * G_USEC_PER_SEC);

  while (pd_link_monitor_get_state (m, link) == PD_LINK_STATE_ONLINE && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

/* The server dies (the sandbox killed) between two probes: the
 * indicators say offline within seconds, without waiting for the next
 * probe or sync (30 s), and without anybody pressing F5. */
static void
test_dead_link_noticed (void)
{
  Hospital h = { 0 };
  g_autoptr(PdConfig) c = NULL;
  g_autoptr(PdLinkMonitor) m = NULL;
  double waited;

  hospital_start (&h);
  c = config_for (h.base, "right");
  m = pd_link_monitor_new (c);
  pd_link_monitor_check_now (m);
  g_assert_cmpint (wait_settled (m, PD_LINK_HOSPITAL), ==, PD_LINK_STATE_ONLINE);
  g_assert_cmpint (wait_settled (m, PD_LINK_COURIER), ==, PD_LINK_STATE_ONLINE);
  hospital_stop (&h);
  waited = seconds_until_not_online (m, PD_LINK_HOSPITAL, 15);
  g_test_message ("hospital: %.2f s", waited);
  g_assert_cmpint (pd_link_monitor_get_state (m, PD_LINK_HOSPITAL), ==, PD_LINK_STATE_OFFLINE);
  g_assert_cmpfloat (waited, <, 5.0);
  g_assert_nonnull (pd_link_monitor_get_message (m, PD_LINK_HOSPITAL));
  waited = seconds_until_not_online (m, PD_LINK_COURIER, 15);
  g_test_message ("courier: %.2f s", waited);
  g_assert_cmpfloat (waited, <, 5.0);
  pd_link_monitor_stop (m);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/link-monitor/unconfigured", test_unconfigured);
  g_test_add_func ("/link-monitor/online-then-syncing", test_online_then_syncing);
  g_test_add_func ("/link-monitor/bad-credentials", test_bad_credentials);
  g_test_add_func ("/link-monitor/offline", test_offline);
  g_test_add_func ("/link-monitor/dead-link-noticed", test_dead_link_noticed);
  return g_test_run ();
}
