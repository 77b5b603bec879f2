/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-sandbox"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "pd-config.h"

/* The sandbox as a real process on loopback, spoken to over HTTP. This
 * test code speaks the protocols itself, from the specs. */

typedef struct {
  GSubprocess *proc;
  char        *base;
  PdConfig    *config;
} Sandbox;

static char *state_root;
static SoupSession *session;
static guint msg_counter;

static void
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
  sb->proc = g_subprocess_newv ((const char * const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
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

static void
sandbox_stop (Sandbox *sb,
              int      sig)
{
  g_subprocess_send_signal (sb->proc, sig);
  g_subprocess_wait (sb->proc, NULL, NULL);
  if (sig == SIGTERM)
    g_assert_true (g_subprocess_get_if_exited (sb->proc));
  g_clear_object (&sb->proc);
  g_clear_pointer (&sb->base, g_free);
  g_clear_pointer (&sb->config, pd_config_free);
}

static char *
new_state (const char *name)
{
  char *dir = g_build_filename (state_root, name, NULL);

  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  return dir;
}

/* Sends a request; returns the status (0 when the connection died). */
static guint
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
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  if (reply != NULL)
    *reply = bytes != NULL ? g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)) : NULL;
  if (bytes == NULL)
    return 0;
  return soup_message_get_status (msg);
}

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new ();

  if (text == NULL || !json_parser_load_from_data (p, text, -1, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return NULL;
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

static char *
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

/* --- the insurance gateway and envelope, written from insurance.md -------- */

typedef struct {
  gint64      ts_offset;
  const char *nonce;
  gboolean    bad_signature;
} Tif;

static char *
msgid_new (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now (g_time_zone_new_offset (8 * 3600));
  g_autofree char *when = g_date_time_format (now, "%Y%m%d%H%M%S");

  return g_strdup_printf ("P11010500123%s1%03u", when, ++msg_counter % 1000);
}

static guint
nhsa (Sandbox    *sb,
      const char *infno,
      const char *msgid,
      const char *sign_no,
      const char *input,
      const Tif  *tif,
      JsonObject **out)
{
  g_autofree char *ts = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC + (tif ? tif->ts_offset : 0));
  g_autofree char *random_nonce = g_strdup_printf ("%016" G_GINT64_MODIFIER "x%016x", g_get_monotonic_time (), g_random_int ());
  const char *nonce = tif != NULL && tif->nonce != NULL ? tif->nonce : random_nonce;
  g_autofree char *sig_input = g_strconcat (ts, sb->config->insurance_token, nonce, ts, NULL);
  g_autofree char *sig = g_compute_checksum_for_string (G_CHECKSUM_SHA256, sig_input, -1);
  g_autofree char *body = g_strdup_printf (
    "{\"infno\":\"%s\",\"msgid\":\"%s\",\"mdtrtarea_admvs\":\"110105\",\"insuplc_admdvs\":\"\",\"recer_sys_code\":\"PD\","
    "\"dev_no\":\"\",\"dev_safe_info\":\"\",\"cainfo\":\"\",\"signtype\":\"\",\"infver\":\"V1.0\",\"opter_type\":\"1\","
    "\"opter\":\"clerk01\",\"opter_name\":\"李会计\",\"inf_time\":\"2026-11-20 10:00:00\",\"fixmedins_code\":\"P11010500123\","
    "\"fixmedins_name\":\"示例大药房\",\"sign_no\":\"%s\",\"input\":%s}",
    infno, msgid, sign_no != NULL ? sign_no : "", input);
  const char *headers[] = { "x-tif-paasid", sb->config->insurance_paasid, "x-tif-timestamp", ts,
                            "x-tif-nonce", nonce, "x-tif-signature", tif != NULL && tif->bad_signature ? "00" : sig, NULL };
  g_autofree char *reply = NULL;
  guint status;

  g_assert_cmpuint (strlen (nonce), ==, 32);
  status = request ("POST", sb->config->insurance_url, "application/json", body, headers, &reply);
  if (out != NULL)
    *out = parse_object (reply);
  return status;
}

static char *
sign_in (Sandbox *sb)
{
  g_autofree char *msgid = msgid_new ();
  g_autoptr(JsonObject) o = NULL;

  g_assert_cmpuint (nhsa (sb, "9001", msgid, NULL, "{\"signIn\":{\"opter_no\":\"clerk01\",\"mac\":\"\",\"ip\":\"127.0.0.1\"}}", NULL, &o), ==, 200);
  g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, 0);
  return g_strdup (json_object_get_string_member (json_object_get_object_member (json_object_get_object_member (o, "output"), "signinoutb"), "sign_no"));
}

/* "id1,id2," of a searchset Bundle's entries. */
static char *
ids_of (JsonObject *bundle)
{
  JsonArray *entries = json_object_get_array_member (bundle, "entry");
  GString *ids = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *resource = json_object_get_object_member (json_array_get_object_element (entries, i), "resource");

      g_string_append_printf (ids, "%s,", json_object_get_string_member (resource, "id"));
    }
  return g_string_free (ids, FALSE);
}

static char *
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

/* --- tests ------------------------------------------------------------------ */

static void
test_start_and_client_ini (void)
{
  g_autofree char *state = new_state ("start");
  Sandbox sb = { 0 };
  g_autofree char *reply = NULL;

  sandbox_start (&sb, state, NULL);
  g_assert_true (g_str_has_prefix (sb.config->hospital_url, sb.base));
  g_assert_cmpstr (sb.config->fixmedins_code, ==, "P11010500123");
  g_assert_cmpuint (strlen (sb.config->hospital_client_secret), >=, 32);
  g_assert_cmpuint (request ("GET", sb.config->hospital_url, NULL, NULL, NULL, &reply), ==, 401);
  g_clear_pointer (&reply, g_free);
  {
    g_autofree char *url = g_strconcat (sb.config->hospital_url, "/metadata", NULL);
    g_assert_cmpuint (request ("GET", url, NULL, NULL, NULL, &reply), ==, 200);
    g_assert_nonnull (strstr (reply, "CapabilityStatement"));
  }
  sandbox_stop (&sb, SIGTERM);
}

static void
test_oauth_and_people (void)
{
  g_autofree char *state = new_state ("oauth");
  Sandbox sb = { 0 };
  g_autofree char *token = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *url = NULL;
  g_autoptr(JsonObject) patient = NULL;
  g_autoptr(JsonObject) person = NULL;
  g_autofree char *msgid = NULL;
  g_autofree char *sign_no = NULL;
  g_autofree char *input = NULL;
  const char *certno, *name;

  sandbox_start (&sb, state, NULL);
  g_assert_null (token_for (&sb, "not-the-secret"));
  token = token_for (&sb, sb.config->hospital_client_secret);
  g_assert_nonnull (token);
  auth = g_strdup_printf ("Bearer %s", token);
  {
    const char *h[] = { "Authorization", auth, NULL };
    const char *bad[] = { "Authorization", "Bearer nonsense", NULL };

    url = g_strconcat (sb.config->hospital_url, "/Patient/pat-0001", NULL);
    g_assert_cmpuint (request ("GET", url, NULL, NULL, bad, NULL), ==, 401);
    g_assert_cmpuint (request ("GET", url, NULL, NULL, h, &reply), ==, 200);
    patient = parse_object (reply);
    g_clear_pointer (&url, g_free);
    g_clear_pointer (&reply, g_free);
    url = g_strconcat (sb.config->hospital_url, "/Practitioner/ph-1", NULL);
    g_assert_cmpuint (request ("GET", url, NULL, NULL, h, &reply), ==, 200);
    g_assert_nonnull (strstr (reply, "urn:pharmdesk:identifier:pharmacist-licence"));
    g_assert_nonnull (strstr (reply, "\"versionId\""));
  }
  certno = json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (patient, "identifier"), 0), "value");
  name = json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (patient, "name"), 0), "text");
  g_assert_cmpuint (strlen (certno), ==, 18);

  /* The same person at the insurance centre. */
  sign_no = sign_in (&sb);
  msgid = msgid_new ();
  input = g_strdup_printf ("{\"data\":{\"mdtrt_cert_type\":\"02\",\"mdtrt_cert_no\":\"%s\",\"card_sn\":\"\",\"begntime\":\"\","
                           "\"psn_cert_type\":\"01\",\"certno\":\"%s\",\"psn_name\":\"%s\"}}", certno, certno, name);
  g_assert_cmpuint (nhsa (&sb, "1101", msgid, sign_no, input, NULL, &person), ==, 200);
  g_assert_cmpint (json_object_get_int_member (person, "infcode"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (json_object_get_object_member (person, "output"), "baseinfo"), "psn_name"), ==, name);
  sandbox_stop (&sb, SIGTERM);
}

static void
test_gateway (void)
{
  g_autofree char *state = new_state ("gateway");
  Sandbox sb = { 0 };
  g_autofree char *sign_no = NULL;
  g_autofree char *msgid = NULL;
  g_autofree char *msgid2 = NULL;
  g_autoptr(JsonObject) o = NULL;
  const char *input = "{\"signIn\":{\"opter_no\":\"clerk01\",\"mac\":\"\",\"ip\":\"\"}}";
  Tif stale = { -301, NULL, FALSE };
  Tif bad = { 0, NULL, TRUE };
  Tif fixed = { 0, "0123456789abcdef0123456789abcdef", FALSE };

  sandbox_start (&sb, state, NULL);
  msgid = msgid_new ();
  g_assert_cmpuint (nhsa (&sb, "9001", msgid, NULL, input, &stale, &o), ==, 401);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "err_msg"), "stale"));
  g_clear_pointer (&o, json_object_unref);
  g_assert_cmpuint (nhsa (&sb, "9001", msgid, NULL, input, &bad, &o), ==, 401);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "err_msg"), "signature"));
  g_clear_pointer (&o, json_object_unref);
  g_assert_cmpuint (nhsa (&sb, "9001", msgid, NULL, input, &fixed, &o), ==, 200);
  g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, 0);
  g_clear_pointer (&o, json_object_unref);
  /* The same nonce again, even with a fresh msgid. */
  msgid2 = msgid_new ();
  g_assert_cmpuint (nhsa (&sb, "9001", msgid2, NULL, input, &fixed, &o), ==, 401);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "err_msg"), "nonce"));
  g_clear_pointer (&o, json_object_unref);
  /* The same msgid again: the centre refuses it (its idempotency key). */
  g_assert_cmpuint (nhsa (&sb, "9001", msgid, NULL, input, NULL, &o), ==, 200);
  g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, -1);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "err_msg"), msgid));
  g_clear_pointer (&o, json_object_unref);
  /* Without a sign-in nothing else is served. */
  g_assert_cmpuint (nhsa (&sb, "1101", msgid2, NULL, "{\"data\":{}}", NULL, &o), ==, 200);
  g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, -1);
  g_clear_pointer (&o, json_object_unref);
  sign_no = sign_in (&sb);
  g_assert_cmpuint (strlen (sign_no), >, 10);
  sandbox_stop (&sb, SIGTERM);
}

static gint64
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

/* Each fault at probability 1, then the same msgid on a clean restart
 * tells whether the first attempt was committed. */
static void
check_fault (const char *fault,
             guint       want_status,
             gboolean    want_readable,
             gboolean    want_committed)
{
  g_autofree char *name = g_strdup_printf ("fault-%s", fault);
  g_autofree char *state = new_state (name);
  g_autofree char *spec = g_strdup_printf ("%s=1", fault);
  Sandbox sb = { 0 };
  g_autofree char *msgid = msgid_new ();
  g_autoptr(JsonObject) o = NULL;
  const char *input = "{\"signIn\":{\"opter_no\":\"clerk01\",\"mac\":\"\",\"ip\":\"\"}}";
  guint status;

  /* Make the state first, so that the faulty start only sees the one call. */
  sandbox_start (&sb, state, NULL);
  sandbox_stop (&sb, SIGTERM);
  sandbox_start (&sb, state, "--faults", spec, NULL);
  status = nhsa (&sb, "9001", msgid, NULL, input, NULL, &o);
  g_assert_cmpuint (status, ==, want_status);
  g_assert_cmpint (o != NULL, ==, want_readable);
  if (o != NULL && g_str_equal (fault, "duplicate"))
    /* The first answer comes back; the copy was refused by its msgid. */
    g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, 0);
  g_clear_pointer (&o, json_object_unref);
  sandbox_stop (&sb, SIGTERM);

  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM nhsa_sign_in"), ==, want_committed ? 1 : 0);
  sandbox_start (&sb, state, NULL);
  g_assert_cmpuint (nhsa (&sb, "9001", msgid, NULL, input, NULL, &o), ==, 200);
  g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, want_committed ? -1 : 0);
  sandbox_stop (&sb, SIGTERM);
}

static void
test_faults (void)
{
  check_fault ("drop-request", 0, FALSE, FALSE);
  check_fault ("http-500", 500, FALSE, FALSE);
  check_fault ("drop-response", 0, FALSE, TRUE);
  check_fault ("garbage", 200, FALSE, TRUE);
  check_fault ("duplicate", 200, TRUE, TRUE);
}

static char *
fault_pattern (const char *seed)
{
  g_autofree char *name = g_strdup_printf ("pattern-%s-%u", seed, g_random_int ());
  g_autofree char *state = new_state (name);
  Sandbox sb = { 0 };
  GString *pattern = g_string_new (NULL);
  g_autofree char *url = NULL;

  sandbox_start (&sb, state, "--seed", seed, "--faults", "drop-request=0.3,http-500=0.3", NULL);
  url = g_strconcat (sb.config->hospital_url, "/metadata", NULL);
  for (int i = 0; i < 30; i++)
    {
      guint status = request ("GET", url, NULL, NULL, NULL, NULL);

      g_string_append_c (pattern, status == 0 ? 'x' : status == 500 ? '5' : 'o');
    }
  sandbox_stop (&sb, SIGTERM);
  return g_string_free (pattern, FALSE);
}

static void
test_faults_reproducible (void)
{
  g_autofree char *a = fault_pattern ("7");
  g_autofree char *b = fault_pattern ("7");
  g_autofree char *c = fault_pattern ("8");

  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, !=, c);
  g_assert_nonnull (strchr (a, 'x'));
  g_assert_nonnull (strchr (a, '5'));
  g_assert_nonnull (strchr (a, 'o'));
}

static void
test_delay (void)
{
  g_autofree char *state = new_state ("delay");
  Sandbox sb = { 0 };
  g_autofree char *url = NULL;
  gint64 t0;

  sandbox_start (&sb, state, "--faults", "delay=300", NULL);
  url = g_strconcat (sb.config->hospital_url, "/metadata", NULL);
  t0 = g_get_monotonic_time ();
  g_assert_cmpuint (request ("GET", url, NULL, NULL, NULL, NULL), ==, 200);
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 290000);
  sandbox_stop (&sb, SIGTERM);
}

static void
test_control (void)
{
  g_autofree char *state = new_state ("control");
  Sandbox sb = { 0 };
  g_autofree char *clock_url = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *token = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *url = NULL;

  sandbox_start (&sb, state, NULL);
  clock_url = g_strconcat (sb.base, "/sandbox/control/clock", NULL);
  g_assert_cmpuint (request ("GET", clock_url, NULL, NULL, NULL, NULL), ==, 404);
  sandbox_stop (&sb, SIGTERM);

  sandbox_start (&sb, state, "--control", NULL);
  g_clear_pointer (&clock_url, g_free);
  clock_url = g_strconcat (sb.base, "/sandbox/control/clock", NULL);
  g_assert_cmpuint (request ("POST", clock_url, "application/json", "{\"now\":\"2026-11-20T10:00:00+08:00\",\"scale\":0}", NULL, &reply), ==, 200);
  g_assert_nonnull (strstr (reply, "2026-11-20T10:00:00+08:00"));
  g_clear_pointer (&reply, g_free);

  /* A token lives an hour by the sandbox's clock: move it, not the test. */
  token = token_for (&sb, sb.config->hospital_client_secret);
  auth = g_strdup_printf ("Bearer %s", token);
  url = g_strconcat (sb.config->hospital_url, "/Practitioner/dr-1", NULL);
  {
    const char *h[] = { "Authorization", auth, NULL };

    g_assert_cmpuint (request ("GET", url, NULL, NULL, h, NULL), ==, 200);
    g_assert_cmpuint (request ("POST", clock_url, "application/json", "{\"now\":\"2026-11-20T11:00:01+08:00\"}", NULL, NULL), ==, 200);
    g_assert_cmpuint (request ("GET", url, NULL, NULL, h, NULL), ==, 401);
  }

  /* Planted resources keep the lastUpdated they are given, equal ones too. */
  {
    g_autofree char *plant = g_strconcat (sb.base, "/sandbox/control/plant", NULL);
    g_autofree char *bulk = g_strconcat (sb.base, "/sandbox/control/bulk-load", NULL);
    g_autofree char *token2 = token_for (&sb, sb.config->hospital_client_secret);
    g_autofree char *auth2 = g_strdup_printf ("Bearer %s", token2);
    g_autofree char *search = g_strconcat (sb.config->hospital_url, "/Task?code=urn:pharmdesk:task%7Crx-review"
                                           "&_lastUpdated=ge2026-11-20T09:00:00%2B08:00&_sort=_lastUpdated&_count=2", NULL);
    const char *h[] = { "Authorization", auth2, NULL };
    g_autoptr(JsonObject) page = NULL;
    g_autofree char *seen = NULL;
    g_autoptr(GString) seen_all = g_string_new (NULL);
    char *next;

#define TASK(id, when) "{\"resourceType\":\"Task\",\"id\":\"" id "\",\"status\":\"requested\"," \
      "\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:task\",\"code\":\"rx-review\"}]}," \
      "\"meta\":{\"lastUpdated\":\"" when "\"}}"
    g_assert_cmpuint (request ("POST", plant, "application/json",
      "{\"resources\":[" TASK ("t1", "2026-11-20T09:30:00.000+08:00") "," TASK ("t2", "2026-11-20T09:30:00.000+08:00") ","
      TASK ("t3", "2026-11-20T09:30:00.000+08:00") ","
      "{\"resourceType\":\"Task\",\"id\":\"other\",\"status\":\"requested\",\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:task\",\"code\":\"something-else\"}]}}]}",
      NULL, NULL), ==, 200);
    g_assert_cmpuint (request ("GET", search, NULL, NULL, h, &reply), ==, 200);
    page = parse_object (reply);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (page, "entry")), ==, 2);
    g_assert_nonnull (strstr (reply, "\"relation\":\"next\""));
    g_assert_nonnull (strstr (reply, "2026-11-20T09:30:00.000+08:00"));
    seen = ids_of (page);
    /* t1 changes between the pages and moves to the end: the next page
     * must still hold t3, then t1 again at its new version. */
    g_assert_cmpuint (request ("POST", plant, "application/json", "{\"resources\":[" TASK ("t1", "2026-11-20T09:45:00.000+08:00") "]}",
                               NULL, NULL), ==, 200);
    while ((next = next_link (page)) != NULL)
      {
        g_autofree char *more = NULL;
        g_autofree char *ids = NULL;

        g_clear_pointer (&page, json_object_unref);
        g_assert_cmpuint (request ("GET", next, NULL, NULL, h, &more), ==, 200);
        g_free (next);
        page = parse_object (more);
        ids = ids_of (page);
        g_string_append (seen_all, ids);
      }
    g_assert_cmpstr (seen, ==, "t1,t2,");
    g_assert_cmpstr (seen_all->str, ==, "t3,t1,");
#undef TASK
    g_assert_cmpuint (request ("POST", plant, "application/json", "{\"resources\":[{\"id\":\"x\"}]}", NULL, NULL), ==, 400);

    /* Enough people that made-up ID numbers would collide by chance. */
    g_assert_cmpuint (request ("POST", bulk, "application/json", "{\"people\":20000}", NULL, NULL), ==, 200);
  }
  sandbox_stop (&sb, SIGTERM);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person"), ==, 20024);
  g_assert_cmpint (count_rows (state, "SELECT count(DISTINCT certno) FROM person"), ==, 20024);
}

static void
test_sigkill_keeps_state (void)
{
  g_autofree char *state = new_state ("sigkill");
  Sandbox sb = { 0 };
  g_autofree char *secret = NULL;
  g_autofree char *msgid = msgid_new ();
  g_autoptr(JsonObject) o = NULL;
  const char *input = "{\"signIn\":{\"opter_no\":\"clerk01\",\"mac\":\"\",\"ip\":\"\"}}";

  sandbox_start (&sb, state, NULL);
  secret = g_strdup (sb.config->hospital_client_secret);
  g_assert_cmpuint (nhsa (&sb, "9001", msgid, NULL, input, NULL, &o), ==, 200);
  g_clear_pointer (&o, json_object_unref);
  sandbox_stop (&sb, SIGKILL);

  sandbox_start (&sb, state, NULL);
  g_assert_cmpstr (sb.config->hospital_client_secret, ==, secret);
  /* client.ini lets the CLI reach every link after the restart. */
  {
    g_autofree char *ini = g_build_filename (state, "client.ini", NULL);
    const char *argv[] = { g_getenv ("PHARMDESK_CLI"), "links", "--json", "--config", ini, NULL };
    g_autofree char *out = NULL;
    int status = 0;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, NULL));
    g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    g_assert_nonnull (strstr (out, "\"online\""));
    g_assert_null (strstr (out, "\"offline\""));
  }
  /* The msgid was kept: a retry is refused. */
  g_assert_cmpuint (nhsa (&sb, "9001", msgid, NULL, input, NULL, &o), ==, 200);
  g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, -1);
  {
    g_autofree char *token = token_for (&sb, secret);
    g_assert_nonnull (token);
  }
  sandbox_stop (&sb, SIGTERM);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person"), ==, 24);
}

static void
test_bad_options (void)
{
  const char *cases[][4] = {
    { "--listen", "127.0.0.1:0", "--faults", "explode=1" },
    { "--listen", "127.0.0.1:0", "--faults", "drop-request=2" },
    { "--listen", "10.1.2.3:0", "--faults", "delay=1" },
    { "--listen", "nonsense", "--faults", "delay=1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *state = g_build_filename (state_root, "bad", NULL);
      const char *argv[] = { g_getenv ("PHARMDESK_SANDBOX"), cases[i][0], cases[i][1], "--state", state,
                             cases[i][2], cases[i][3], NULL };
      g_autofree char *err = NULL;
      int status = 0;

      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &status, NULL));
      g_assert_cmpint (WEXITSTATUS (status), ==, 2);
      g_assert_true (g_str_has_prefix (err, "pharmdesk-sandbox: "));
    }
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  state_root = g_dir_make_tmp ("pd-sandbox-XXXXXX", NULL);
  session = soup_session_new_with_options ("timeout", 20, NULL);
  g_test_add_func ("/sandbox/start-and-client-ini", test_start_and_client_ini);
  g_test_add_func ("/sandbox/oauth-and-people", test_oauth_and_people);
  g_test_add_func ("/sandbox/gateway", test_gateway);
  g_test_add_func ("/sandbox/faults", test_faults);
  g_test_add_func ("/sandbox/faults-reproducible", test_faults_reproducible);
  g_test_add_func ("/sandbox/delay", test_delay);
  g_test_add_func ("/sandbox/control", test_control);
  g_test_add_func ("/sandbox/sigkill-keeps-state", test_sigkill_keeps_state);
  g_test_add_func ("/sandbox/bad-options", test_bad_options);
  status = g_test_run ();
  g_object_unref (session);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", state_root);
    if (system (cmd) != 0)
      g_warning ("could not remove %s", state_root);
  }
  return status;
}
