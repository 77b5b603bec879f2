/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-sandbox"

#include "config.h"

#include <signal.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox-harness.h"

/* The sandbox as a real process on loopback, for the sandbox's tests:
 * start and stop it, speak HTTP to it, read its state. */

char *state_root;
/* A libsoup session belongs to the thread that uses it: one each. */
__thread SoupSession *session;

void
harness_init (void)
{
  state_root = g_dir_make_tmp ("pd-sandbox-XXXXXX", NULL);
  session = soup_session_new_with_options ("timeout", 20, NULL);
}

void
harness_done (void)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", state_root);

  g_clear_object (&session);
  if (system (cmd) != 0)
    g_warning ("could not remove %s", state_root);
}

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

void
sandbox_start (Sandbox    *sb,
               const char *state,
               ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *ini = g_build_filename (state, "client.ini", NULL);
  const char *arg;
  va_list ap;

  g_ptr_array_add (argv, (char *) g_getenv ("PHARMDESK_SANDBOX"));
  g_ptr_array_add (argv, "--listen");
  g_ptr_array_add (argv, "127.0.0.1:0");
  g_ptr_array_add (argv, "--state");
  g_ptr_array_add (argv, (char *) state);
  va_start (ap, state);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  {
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

    /* A failed assertion aborts the test: the sandbox must not outlive it
     * (it would hold the test's output open and hang the suite). */
    g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
    sb->proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  }
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sb->proc));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening http://127.0.0.1:"));
  sb->base = g_strdup (line + strlen ("listening "));
  sb->config = pd_config_load (ini, &error);
  g_assert_no_error (error);
}

static pid_t guarded_pid;

static void
kill_guarded (void)
{
  if (guarded_pid > 0)
    kill (guarded_pid, SIGKILL);
  guarded_pid = 0;
}

static void
fatal_signal (int sig)
{
  kill_guarded ();
  signal (sig, SIG_DFL);
  raise (sig);
}

void
sandbox_kill_on_exit (Sandbox *sb)
{
  static gboolean installed;
  const int sigs[] = { SIGABRT, SIGTERM, SIGINT, SIGSEGV, SIGTRAP };

  if (!installed)
    {
      for (guint i = 0; i < G_N_ELEMENTS (sigs); i++)
        signal (sigs[i], fatal_signal);
      atexit (kill_guarded);
      installed = TRUE;
    }
  guarded_pid = (pid_t) g_ascii_strtoll (g_subprocess_get_identifier (sb->proc), NULL, 10);
}

void
sandbox_stop (Sandbox *sb,
              int      sig)
{
  if (guarded_pid > 0 && guarded_pid == (pid_t) g_ascii_strtoll (g_subprocess_get_identifier (sb->proc), NULL, 10))
    guarded_pid = 0;
  g_subprocess_send_signal (sb->proc, sig);
  g_subprocess_wait (sb->proc, NULL, NULL);
  if (sig == SIGTERM)
    g_assert_true (g_subprocess_get_if_exited (sb->proc));
  g_clear_object (&sb->proc);
  g_clear_pointer (&sb->base, g_free);
  g_clear_pointer (&sb->config, pd_config_free);
}

char *
new_state (const char *name)
{
  char *dir = g_build_filename (state_root, name, NULL);

  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  return dir;
}

guint
sandbox_control (Sandbox     *sb,
                 const char  *what,
                 const char  *body,
                 JsonObject **out)
{
  g_autofree char *url = g_strconcat (sb->base, "/sandbox/control/", what, NULL);
  g_autofree char *reply = NULL;
  guint status = request ("POST", url, "application/json", body, NULL, &reply);

  if (out != NULL)
    *out = parse_object (reply);
  return status;
}

/* Sends a request; returns the status (0 when the connection died). */
guint
request (const char  *method,
         const char  *url,
         const char  *content_type,
         const char  *body,
         const char **headers,
         char       **reply)
{
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr(GBytes) b = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, content_type, b);
    }
  for (guint i = 0; headers != NULL && headers[i] != NULL; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg), headers[i], headers[i + 1]);
  if (session == NULL)
    session = soup_session_new_with_options ("timeout", 20, NULL);
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  if (reply != NULL)
    *reply = bytes != NULL ? g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)) : NULL;
  if (bytes == NULL)
    return 0;
  return soup_message_get_status (msg);
}

JsonObject *
parse_object (const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new ();

  if (text == NULL || !json_parser_load_from_data (p, text, -1, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return NULL;
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

char *
token_for (Sandbox    *sb,
           const char *secret)
{
  g_autofree char *form = soup_form_encode ("grant_type", "client_credentials", "client_id", sb->config->hospital_client_id,
                                            "client_secret", secret, NULL);
  g_autofree char *reply = NULL;
  g_autoptr(JsonObject) o = NULL;

  if (request ("POST", sb->config->hospital_token_url, "application/x-www-form-urlencoded", form, NULL, &reply) != 200)
    return NULL;
  o = parse_object (reply);
  return g_strdup (json_object_get_string_member (o, "access_token"));
}


gint64
count_rows (const char *state,
            const char *sql)
{
  g_autofree char *db = g_build_filename (state, "sandbox.db", NULL);
  sqlite3 *h = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n = -1;

  g_assert_cmpint (sqlite3_open_v2 (db, &h, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (h, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (h);
  return n;
}

char *
query_text (const char *state,
            const char *sql)
{
  g_autofree char *db = g_build_filename (state, "sandbox.db", NULL);
  sqlite3 *h = NULL;
  sqlite3_stmt *stmt = NULL;
  char *text = NULL;

  g_assert_cmpint (sqlite3_open_v2 (db, &h, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (h, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (h);
  return text;
}

/* A searchset Bundle's link[relation=next] url, or NULL. */
char *
next_link (JsonObject *bundle)
{
  JsonArray *links = json_object_has_member (bundle, "link") ? json_object_get_array_member (bundle, "link") : NULL;

  for (guint i = 0; links != NULL && i < json_array_get_length (links); i++)
    {
      JsonObject *l = json_array_get_object_element (links, i);

      if (g_str_equal (json_object_get_string_member (l, "relation"), "next"))
        return g_strdup (json_object_get_string_member (l, "url"));
    }
  return NULL;
}
