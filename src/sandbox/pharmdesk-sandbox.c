/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pharmdesk-sandbox"

#include "config.h"

#include <gcrypt.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "pd-sandbox.h"

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
sandbox_clear (PdSandbox *sandbox)
{
  if (sandbox->server != NULL)
    soup_server_disconnect (sandbox->server);
  g_clear_object (&sandbox->server);
  if (sandbox->store != NULL)
    pd_store_close (sandbox->store);
  g_clear_object (&sandbox->store);
  g_clear_pointer (&sandbox->faults, pd_sandbox_faults_free);
  g_clear_pointer (&sandbox->centre, pd_sandbox_centre_free);
  g_clear_pointer (&sandbox->clock, pd_clock_free);
  g_clear_pointer (&sandbox->state_dir, g_free);
  g_clear_pointer (&sandbox->base_url, g_free);
  g_clear_pointer (&sandbox->hospital_client_id, g_free);
  g_clear_pointer (&sandbox->hospital_client_secret, g_free);
  g_clear_pointer (&sandbox->insurance_paasid, g_free);
  g_clear_pointer (&sandbox->insurance_token, g_free);
  g_clear_pointer (&sandbox->courier_app_key, g_free);
  g_clear_pointer (&sandbox->courier_app_secret, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PdSandbox, sandbox_clear)

static int
fail (const char *format,
      ...)
{
  va_list ap;
  g_autofree char *text = NULL;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "pharmdesk-sandbox: %s\n", text);
  return 2;
}

static gboolean
listen_on (PdSandbox  *sandbox,
           const char *listen,
           GError    **error)
{
  g_autofree char *host = NULL;
  const char *colon = strrchr (listen, ':');
  g_autoptr(GInetAddress) addr = NULL;
  g_autoptr(GSocketAddress) sockaddr = NULL;
  GSList *uris;
  char *end = NULL;
  guint64 port;

  if (colon == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("--listen: “%s” is not HOST:PORT"), listen);
      return FALSE;
    }
  host = g_strndup (listen, colon - listen);
  port = g_ascii_strtoull (colon + 1, &end, 10);
  addr = g_inet_address_new_from_string (host);
  if (addr == NULL || end == colon + 1 || *end != '\0' || port > 65535)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("--listen: “%s” is not HOST:PORT"), listen);
      return FALSE;
    }
  if (!g_inet_address_get_is_loopback (addr))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--listen: the sandbox serves loopback only (plain http), not %s"), host);
      return FALSE;
    }
  sockaddr = g_inet_socket_address_new (addr, (guint16) port);
  if (!soup_server_listen (sandbox->server, sockaddr, 0, error))
    return FALSE;
  uris = soup_server_get_uris (sandbox->server);
  sandbox->base_url = g_strdup_printf ("http://%s:%d", host, g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *listen = NULL;
  g_autofree char *state = NULL;
  g_autofree char *faults = NULL;
  g_autofree char *now = NULL;
  g_autofree char *policy = NULL;
  gint64 seed = 1;
  double time_scale = 1.0;
  gboolean control = FALSE;
  gboolean no_demo = FALSE;
  gint64 arrival_every = 300;
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, N_("Loopback address and port; port 0 picks a free one"), N_("HOST:PORT") },
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &state, N_("Folder for the sandbox’s state and client.ini"), N_("DIR") },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, N_("Seed for demo data and faults (reproducible runs)"), N_("N") },
    { "faults", 0, 0, G_OPTION_ARG_STRING, &faults,
      N_("Fault injection, e.g. drop-request=0.1,drop-response=0.1,http-500=0.05,garbage=0.05,duplicate=0.1,delay=200"), N_("SPEC") },
    { "time-scale", 0, 0, G_OPTION_ARG_DOUBLE, &time_scale, N_("Run the sandbox clock this many times real speed"), N_("X") },
    { "now", 0, 0, G_OPTION_ARG_STRING, &now, N_("Start the sandbox clock at this time (ISO 8601 with offset)"), N_("TIME") },
    { "control", 0, 0, G_OPTION_ARG_NONE, &control, N_("Serve /sandbox/control/{clock,plant,bulk-load,faults,cancel} for tests"), NULL },
    { "arrival-every", 0, 0, G_OPTION_ARG_INT64, &arrival_every,
      N_("A new prescription every SECONDS of the sandbox clock (default 300; 0 = none)"), N_("SECONDS") },
    { "no-demo", 0, 0, G_OPTION_ARG_NONE, &no_demo, N_("A fresh state gets no demo prescriptions"), NULL },
    { "insurance-policy", 0, 0, G_OPTION_ARG_FILENAME, &policy,
      N_("The insurance centre’s settlement policy (default: the installed insurance-policy.ini)"), N_("FILE") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_auto(PdSandbox) sandbox = { 0 };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  gcry_check_version (NULL);

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _("The hospital (FHIR), the insurance centre and a courier on loopback, for demos, training and tests."));
  g_option_context_set_description (context, _(
    "Faults (--faults SPEC): a comma-separated list of KIND=P, P a probability from 0 to 1,\n"
    "and delay=MS. The probabilities add up to 1 at most; each request to a service meets\n"
    "at most one fault, drawn in order from a generator seeded by --seed, so the same seed\n"
    "and the same requests give the same faults. /sandbox/control is never faulted.\n"
    "  drop-request=P   the connection closes before the request is handled: nothing committed\n"
    "  drop-response=P  the request is handled and committed, then the connection closes unanswered\n"
    "  http-500=P       HTTP 500 before the request is handled: nothing committed\n"
    "  garbage=P        handled and committed, the answer's body cut short and garbled\n"
    "  duplicate=P      handled twice; the copy is refused by its idempotency key (the msgid\n"
    "                   at the insurance centre), and the first answer goes back\n"
    "  delay=MS         every answer waits MS milliseconds (0 to 600000)\n"
    "Example: --faults drop-request=0.2,drop-response=0.1,http-500=0.05,garbage=0.05,duplicate=0.1,delay=200\n"
    "\n"
    "On start the sandbox writes DIR/client.ini (cli.md's format; credentials are made once and\n"
    "kept in DIR/sandbox.db) and prints “listening http://127.0.0.1:PORT” when ready."));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return fail ("%s", error->message);
  if (listen == NULL || state == NULL)
    return fail ("%s", _("usage: pharmdesk-sandbox --listen 127.0.0.1:0 --state DIR [--seed N] [--faults SPEC] [--time-scale X] [--control] [--now ISO] [--arrival-every SECONDS] [--no-demo] [--insurance-policy FILE]"));
  if (time_scale < 0)
    return fail ("%s", _("--time-scale must be 0 or more"));
  if (arrival_every < 0 || arrival_every > 86400 * 365)
    return fail ("%s", _("--arrival-every must be 0 to 31536000 seconds"));

  sandbox.clock = pd_clock_new ();
  if (now == NULL && g_getenv ("PHARMDESK_NOW") != NULL && *g_getenv ("PHARMDESK_NOW") != '\0')
    now = g_strdup (g_getenv ("PHARMDESK_NOW"));
  if (now != NULL && !pd_clock_set_now_from_iso (sandbox.clock, now, &error))
    return fail ("--now: %s", error->message);
  if (time_scale != 1.0)
    pd_clock_set_scale (sandbox.clock, time_scale);
  sandbox.seed = (guint64) seed;
  sandbox.control = control;
  sandbox.no_demo = no_demo;
  sandbox.arrival_every_s = arrival_every;
  sandbox.state_dir = g_strdup (state);
  if (faults != NULL)
    {
      sandbox.faults = pd_sandbox_faults_new (faults, (guint64) seed, &error);
      if (sandbox.faults == NULL)
        return fail ("%s", error->message);
    }
  if (!pd_sandbox_centre_load (&sandbox, policy, &error))
    return fail ("--insurance-policy: %s", error->message);
  if (!pd_sandbox_state_open (&sandbox, &error))
    return fail ("%s", error->message);

  sandbox.server = soup_server_new ("server-header", "pharmdesk-sandbox/" PACKAGE_VERSION " ", NULL);
  if (!listen_on (&sandbox, listen, &error))
    return fail ("%s", error->message);
  pd_sandbox_hospital_register (&sandbox);
  pd_sandbox_insurance_register (&sandbox);
  pd_sandbox_courier_register (&sandbox);
  if (control)
    pd_sandbox_control_register (&sandbox);
  if (!pd_sandbox_write_client_ini (&sandbox, &error))
    return fail ("%s", error->message);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  printf ("listening %s\n", sandbox.base_url);
  fflush (stdout);
  g_main_loop_run (loop);

  return 0;
}
