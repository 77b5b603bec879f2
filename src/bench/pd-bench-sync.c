/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pharmdesk-bench"

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <sys/resource.h>
#include <string.h>
#include <unistd.h>

#include "pd-accounts.h"
#include "pd-bench.h"
#include "pd-hospital-link.h"
#include "pd-kb-store.h"
#include "pd-store.h"

/* Issue 5: pulling N prescriptions (default 100,000; PHARMDESK_BENCH_SYNC_N)
 * of N/10 patients from the sandbox into an empty cache, next to downloading the very same
 * pages raw — the URLs the pull asked for, replayed with the same token,
 * read and thrown away: no parsing, no storing. Both in one run. */

static GSubprocess *sandbox;
static char *tmp;
static double pull_rate, raw_rate;
static guint n_rx;

static char *
sibling (const char *rel)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = g_path_get_dirname (self);

  return g_build_filename (dir, rel, NULL);
}

static void
stop_sandbox (void)
{
  if (sandbox != NULL)
    {
      g_subprocess_send_signal (sandbox, SIGTERM);
      g_subprocess_wait (sandbox, NULL, NULL);
      g_clear_object (&sandbox);
    }
}

static PdConfig *
start_sandbox (void)
{
  g_autofree char *exe = g_getenv ("PHARMDESK_SANDBOX") != NULL ? g_strdup (g_getenv ("PHARMDESK_SANDBOX"))
                                                                : sibling ("../sandbox/pharmdesk-sandbox");
  g_autofree char *state = g_build_filename (tmp, "sandbox", NULL);
  g_autofree char *ini = g_build_filename (state, "client.ini", NULL);
  const char *argv[] = { exe, "--listen", "127.0.0.1:0", "--state", state, "--control", "--no-demo",
                         "--arrival-every", "0", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  PdConfig *config;

  sandbox = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sandbox));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_nonnull (line);
  atexit (stop_sandbox);
  config = pd_config_load (ini, &error);
  g_assert_no_error (error);
  {
    g_autofree char *base = g_strdup (line + strlen ("listening "));
    g_autofree char *url = g_strconcat (base, "/sandbox/control/bulk-load", NULL);
    /* About ten prescriptions a patient, as a follow-up clinic sees them. */
    g_autofree char *body = g_strdup_printf ("{\"people\":%u,\"prescriptions\":%u}", MAX (n_rx / 10, 1), n_rx);
    g_autoptr(SoupSession) s = soup_session_new_with_options ("timeout", 3600, NULL);
    g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
    g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
    g_autoptr(GBytes) reply = NULL;

    soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    reply = soup_session_send_and_read (s, msg, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  }
  return config;
}

/* CPU seconds a process ("self", a pid) or a thread ("self/task/tid") has used. */
static double
cpu_seconds (const char *what)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", what);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (after = strrchr (text, ')')) == NULL)
    return 0;
  fields = g_strsplit (after + 2, " ", -1);
  /* utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the name */
  if (g_strv_length (fields) < 13)
    return 0;
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) / sysconf (_SC_CLK_TCK);
}

/* The pull's fetching and preparing threads, by name, sampled after each
 * stored page (they are gone when the pull returns). */
static double fetching_cpu, preparing_cpu;

static void
sample_stages (const PdSyncStats *stats,
               gpointer           user_data)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *comm_path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
      g_autofree char *task = g_strdup_printf ("self/task/%s", tid);
      g_autofree char *comm = NULL;

      if (!g_file_get_contents (comm_path, &comm, NULL, NULL))
        continue;
      if (g_str_has_prefix (comm, "pd-pull-fetch"))
        fetching_cpu = cpu_seconds (task);
      else if (g_str_has_prefix (comm, "pd-pull-prepare"))
        preparing_cpu = cpu_seconds (task);
    }
}

static PdSession *
pharmacy (void)
{
  g_autofree char *path = g_build_filename (tmp, "pharmacy.db", NULL);
  g_autofree char *kb_dir = g_build_filename (PD_SOURCE_DATADIR, "kb", NULL);
  PdAccountSpec admin = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec ph = { "ph", "药师", PD_ROLE_PHARMACIST, "YS-110105-0001", "Practitioner/ph-1", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *recovery = NULL;
  g_autoptr(PdStore) store = pd_store_open (path, &error);
  g_autoptr(PdSession) boss = NULL;

  g_assert_no_error (error);
  g_assert_true (pd_accounts_init (store, &admin, "bench-admin-password", &recovery, &error));
  boss = pd_session_sign_in (store, "admin", "bench-admin-password", &error);
  g_assert_true (pd_accounts_add (boss, &ph, "bench-pharmacist-password", &error));
  g_assert_true (pd_kb_import (boss, kb_dir, NULL, &error));
  g_assert_no_error (error);
  return pd_session_sign_in (store, "ph", "bench-pharmacist-password", &error);
}

static void
measure (void)
{
  g_autoptr(PdConfig) config = NULL;
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdKb) kb = NULL;
  g_autoptr(GPtrArray) urls = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(PdHospitalLink) link = NULL;
  g_autoptr(SoupSession) raw = soup_session_new_with_options ("timeout", 600, NULL);
  g_autofree char *token = NULL;
  g_autofree char *bearer = NULL;
  PdFhirClient *client;
  PdSyncStats stats = { 0 };
  g_autofree char *main_thread = NULL;
  const char *sandbox_pid;
  double own0, main0, sandbox0;
  struct rusage usage;
  gint64 t0;
  guint64 bytes = 0;

  n_rx = g_getenv ("PHARMDESK_BENCH_SYNC_N") != NULL ? (guint) g_ascii_strtoull (g_getenv ("PHARMDESK_BENCH_SYNC_N"), NULL, 10)
                                                     : 100000;
  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  tmp = g_dir_make_tmp ("pd-bench-sync-XXXXXX", NULL);
  config = start_sandbox ();
  session = pharmacy ();
  kb = pd_kb_load_active (pd_session_get_store (session), &error);
  g_assert_no_error (error);
  client = pd_fhir_client_new (config, &error);
  g_assert_no_error (error);
  pd_fhir_client_log_gets (client, urls);
  link = pd_hospital_link_new (session, client, kb);

  /* Where the CPU went: the pull's storing stage runs on this thread. */
  main_thread = g_strdup_printf ("self/task/%d", (int) getpid ());
  sandbox_pid = g_subprocess_get_identifier (sandbox);
  own0 = cpu_seconds ("self");
  main0 = cpu_seconds (main_thread);
  sandbox0 = cpu_seconds (sandbox_pid);
  t0 = g_get_monotonic_time ();
  g_assert_true (pd_hospital_link_pull (link, NULL, sample_stages, NULL, &stats, &error));
  pull_rate = stats.stored / ((g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpuint (stats.stored, ==, n_rx);
  pd_sync_stats_clear (&stats);
  g_printerr ("sync: pull %.1f s; CPU: fetching %.1f s, preparing %.1f s, storing %.1f s (all %.1f s), sandbox %.1f s\n",
              (g_get_monotonic_time () - t0) / 1e6, fetching_cpu, preparing_cpu, cpu_seconds (main_thread) - main0,
              cpu_seconds ("self") - own0, cpu_seconds (sandbox_pid) - sandbox0);
  own0 = cpu_seconds ("self");
  sandbox0 = cpu_seconds (sandbox_pid);

  token = pd_fhir_client_token (client, NULL, &error);
  bearer = g_strconcat ("Bearer ", token, NULL);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < urls->len; i++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", urls->pdata[i]);
      g_autoptr(GBytes) body = NULL;

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
      body = soup_session_send_and_read (raw, msg, NULL, &error);
      g_assert_no_error (error);
      bytes += g_bytes_get_size (body);
    }
  raw_rate = n_rx / ((g_get_monotonic_time () - t0) / 1e6);
  g_printerr ("sync: raw download %.1f s; CPU: ours %.1f s, sandbox %.1f s\n", (g_get_monotonic_time () - t0) / 1e6,
              cpu_seconds ("self") - own0, cpu_seconds (sandbox_pid) - sandbox0);
  getrusage (RUSAGE_SELF, &usage);
  g_printerr ("sync: %u prescriptions, %u requests, %" G_GUINT64_FORMAT " bytes downloaded; peak memory %ld MiB\n",
              n_rx, urls->len, bytes, usage.ru_maxrss / 1024);
  stop_sandbox ();
}

static double
pull_run (int iteration)
{
  if (pull_rate == 0)
    measure ();
  return pull_rate;
}

static double
raw_floor (int iteration)
{
  if (raw_rate == 0)
    measure ();
  return raw_rate;
}

const PdBench pd_bench_sync[] = {
  { "sync.pull", "prescriptions/s", "pull N prescriptions from the sandbox into an empty cache (PHARMDESK_BENCH_SYNC_N, default 100,000)",
    pull_run, "download the same pages raw", raw_floor },
};
const guint pd_bench_sync_n = G_N_ELEMENTS (pd_bench_sync);
