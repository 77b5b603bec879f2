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
#include "sandbox-harness.h"

/* The sandbox as a real process on loopback, spoken to over HTTP. This
 * test code speaks the protocols itself, from the specs. */

static guint msg_counter;

/* --- the insurance gateway and envelope, written from insurance.md -------- */

typedef struct {
  gint64      ts_offset;
  const char *nonce;
  gboolean    bad_signature;
  const char *paasid;
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
  const char *headers[] = { "x-tif-paasid", tif != NULL && tif->paasid != NULL ? tif->paasid : sb->config->insurance_paasid, "x-tif-timestamp", ts,
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

/* --- tests ------------------------------------------------------------------ */

static void
test_start_and_client_ini (void)
{
  g_autofree char *state = new_state ("start");
  Sandbox sb = { 0 };
  g_autofree char *reply = NULL;

  sandbox_start (&sb, state, NULL);
  g_assert_true (g_str_has_prefix (sb.config->hospital_url, sb.base));
  g_assert_true (g_str_has_prefix (sb.config->insurance_url, sb.base));
  g_assert_true (g_str_has_prefix (sb.config->courier_url, sb.base));
  g_assert_true (g_str_has_prefix (sb.config->hospital_token_url, sb.base));
  {
    /* Another sandbox issues other credentials. */
    g_autofree char *other_state = new_state ("start-other");
    Sandbox other = { 0 };

    sandbox_start (&other, other_state, NULL);
    g_assert_cmpstr (other.config->hospital_client_id, !=, sb.config->hospital_client_id);
    g_assert_cmpstr (other.config->hospital_client_secret, !=, sb.config->hospital_client_secret);
    g_assert_cmpstr (other.config->insurance_paasid, !=, sb.config->insurance_paasid);
    g_assert_cmpstr (other.config->insurance_token, !=, sb.config->insurance_token);
    g_assert_cmpstr (other.config->courier_app_key, !=, sb.config->courier_app_key);
    g_assert_cmpstr (other.config->courier_app_secret, !=, sb.config->courier_app_secret);
    sandbox_stop (&other, SIGTERM);
  }
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
  {
    Tif stranger = { 0, NULL, FALSE, "someone-else" };
    g_autofree char *msgid3 = msgid_new ();

    g_assert_cmpuint (nhsa (&sb, "9001", msgid3, NULL, input, &stranger, &o), ==, 401);
    g_assert_nonnull (strstr (json_object_get_string_member (o, "err_msg"), "paasid"));
    g_clear_pointer (&o, json_object_unref);
  }
  sign_no = sign_in (&sb);
  g_assert_cmpuint (strlen (sign_no), >, 10);
  /* An interface the sandbox does not have yet says so in words. */
  {
    g_autofree char *msgid4 = msgid_new ();

    g_assert_cmpuint (nhsa (&sb, "3201", msgid4, sign_no, "{\"data\":{}}", NULL, &o), ==, 200);
    g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, -1);
    g_assert_nonnull (strstr (json_object_get_string_member (o, "err_msg"), "not implemented in this sandbox yet"));
    g_clear_pointer (&o, json_object_unref);
  }
  /* 9002 closes the sign-in: nothing more is served under it. */
  {
    g_autofree char *msgid5 = msgid_new ();
    g_autofree char *msgid6 = msgid_new ();
    g_autofree char *out = g_strdup_printf ("{\"signOut\":{\"sign_no\":\"%s\",\"opter_no\":\"clerk01\"}}", sign_no);

    g_assert_cmpuint (nhsa (&sb, "9002", msgid5, sign_no, out, NULL, &o), ==, 200);
    g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, 0);
    g_assert_true (json_object_has_member (json_object_get_object_member (json_object_get_object_member (o, "output"), "signoutoutb"), "sign_time"));
    g_clear_pointer (&o, json_object_unref);
    g_assert_cmpuint (nhsa (&sb, "1101", msgid6, sign_no, "{\"data\":{}}", NULL, &o), ==, 200);
    g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, -1);
    g_clear_pointer (&o, json_object_unref);
  }
  sandbox_stop (&sb, SIGTERM);
}

static char *
certno_of (const char *state,
           const char *patient_id)
{
  g_autofree char *sql = g_strdup_printf ("SELECT certno FROM person WHERE patient_id = '%s'", patient_id);

  return query_text (state, sql);
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
  sandbox_start (&sb, state, "--faults", spec, "--control", NULL);
  status = nhsa (&sb, "9001", msgid, NULL, input, NULL, &o);
  g_assert_cmpuint (status, ==, want_status);
  g_assert_cmpint (o != NULL, ==, want_readable);
  {
    g_autofree char *url = g_strconcat (sb.base, "/sandbox/control/faults", NULL);
    g_autofree char *text = NULL;
    g_autoptr(JsonObject) report = NULL;
    JsonObject *drawn;

    /* The control endpoint itself is never faulted. */
    g_assert_cmpuint (request ("GET", url, NULL, NULL, NULL, &text), ==, 200);
    report = parse_object (text);
    g_assert_cmpint (json_object_get_int_member (report, "requests"), ==, 1);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (report, "faults")), ==, 1);
    drawn = json_array_get_object_element (json_object_get_array_member (report, "faults"), 0);
    g_assert_cmpstr (json_object_get_string_member (drawn, "fault"), ==, fault);
    g_assert_cmpstr (json_object_get_string_member (drawn, "path"), ==, "/nhsa/fsi/api/rsfComIfsService/callService");
    if (o != NULL && g_str_equal (fault, "duplicate"))
      {
        /* The first answer comes back; the copy was refused by its msgid. */
        g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, 0);
        g_assert_cmpint (json_object_get_int_member (drawn, "copy_status"), ==, 200);
        g_assert_nonnull (strstr (json_object_get_string_member (drawn, "copy_body"), "\"infcode\":-1"));
        g_assert_nonnull (strstr (json_object_get_string_member (drawn, "copy_body"), msgid));
      }
  }
  g_clear_pointer (&o, json_object_unref);
  sandbox_stop (&sb, SIGTERM);

  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM nhsa_sign_in"), ==, want_committed ? 1 : 0);
  /* What was committed also keeps the answer the centre gave. */
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM nhsa_message WHERE response LIKE '{\"infcode\":0,%'"), ==, want_committed ? 1 : 0);
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

/* 40 requests under every kind of fault: what the client saw and the
 * faults the sandbox reports drawing. */
static char *
fault_pattern (const char *seed,
               char      **drawn)
{
  g_autofree char *name = g_strdup_printf ("pattern-%s-%u", seed, g_random_int ());
  g_autofree char *state = new_state (name);
  Sandbox sb = { 0 };
  GString *pattern = g_string_new (NULL);
  GString *kinds = g_string_new (NULL);
  g_autofree char *url = NULL;
  g_autofree char *report_url = NULL;
  g_autofree char *text = NULL;
  g_autoptr(JsonObject) report = NULL;
  JsonArray *faults;

  sandbox_start (&sb, state, "--seed", seed, "--control", "--faults",
                 "drop-request=0.15,drop-response=0.15,http-500=0.15,garbage=0.15,duplicate=0.15", NULL);
  url = g_strconcat (sb.config->hospital_url, "/metadata", NULL);
  for (int i = 0; i < 40; i++)
    {
      g_autofree char *reply = NULL;
      g_autoptr(JsonObject) o = NULL;
      guint status = request ("GET", url, NULL, NULL, NULL, &reply);

      o = parse_object (reply);
      g_string_append_c (pattern, status == 0 ? 'x' : status == 500 ? '5' : o == NULL ? 'g' : 'o');
    }
  report_url = g_strconcat (sb.base, "/sandbox/control/faults", NULL);
  g_assert_cmpuint (request ("GET", report_url, NULL, NULL, NULL, &text), ==, 200);
  report = parse_object (text);
  /* libsoup re-sends a GET whose kept-alive connection closed unanswered,
   * so the sandbox sees more requests than the loop made. */
  g_assert_cmpint (json_object_get_int_member (report, "requests"), >=, 40);
  faults = json_object_get_array_member (report, "faults");
  for (guint i = 0; i < json_array_get_length (faults); i++)
    {
      JsonObject *f = json_array_get_object_element (faults, i);

      g_string_append_printf (kinds, "%" G_GINT64_FORMAT ":%s ", json_object_get_int_member (f, "request"),
                              json_object_get_string_member (f, "fault"));
    }
  sandbox_stop (&sb, SIGTERM);
  *drawn = g_string_free (kinds, FALSE);
  return g_string_free (pattern, FALSE);
}

static void
test_faults_reproducible (void)
{
  g_autofree char *drawn_a = NULL, *drawn_b = NULL, *drawn_c = NULL;
  g_autofree char *a = fault_pattern ("7", &drawn_a);
  g_autofree char *b = fault_pattern ("7", &drawn_b);
  g_autofree char *c = fault_pattern ("8", &drawn_c);
  const char *kinds[] = { "drop-request", "drop-response", "http-500", "garbage", "duplicate" };

  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (drawn_a, ==, drawn_b);
  g_assert_cmpstr (drawn_a, !=, drawn_c);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *k = g_strdup_printf (":%s ", kinds[i]);
      g_assert_nonnull (strstr (drawn_a, k));
    }
  /* What the client sees: closed, 500, garbled, and clean answers. */
  g_assert_nonnull (strchr (a, 'x'));
  g_assert_nonnull (strchr (a, '5'));
  g_assert_nonnull (strchr (a, 'g'));
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

  sandbox_start (&sb, state, "--no-demo", "--arrival-every", "0", NULL);
  clock_url = g_strconcat (sb.base, "/sandbox/control/clock", NULL);
  g_assert_cmpuint (request ("GET", clock_url, NULL, NULL, NULL, NULL), ==, 404);
  sandbox_stop (&sb, SIGTERM);

  /* An empty work queue (--no-demo on the first start): only the planted Tasks below. */
  sandbox_start (&sb, state, "--control", "--arrival-every", "0", NULL);
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
    /* Every version stays readable; a read carries its version as ETag. */
    {
      g_autofree char *t1 = g_strconcat (sb.config->hospital_url, "/Task/t1", NULL);
      g_autofree char *t1v1 = g_strconcat (sb.config->hospital_url, "/Task/t1/_history/1", NULL);
      g_autofree char *t1v3 = g_strconcat (sb.config->hospital_url, "/Task/t1/_history/3", NULL);
      g_autofree char *text = NULL;
      g_autoptr(SoupMessage) m = soup_message_new ("GET", t1);

      soup_message_headers_replace (soup_message_get_request_headers (m), "Authorization", auth2);
      g_bytes_unref (soup_session_send_and_read (session, m, NULL, NULL));
      g_assert_cmpuint (soup_message_get_status (m), ==, 200);
      g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (m), "ETag"), ==, "W/\"2\"");
      g_assert_cmpuint (request ("GET", t1v1, NULL, NULL, h, &text), ==, 200);
      g_assert_nonnull (strstr (text, "\"versionId\":\"1\""));
      g_assert_nonnull (strstr (text, "09:30:00.000+08:00"));
      g_assert_cmpuint (request ("GET", t1v3, NULL, NULL, h, NULL), ==, 404);
    }
    g_assert_cmpuint (request ("POST", plant, "application/json", "{\"resources\":[{\"id\":\"x\"}]}", NULL, NULL), ==, 400);

    /* Enough people that made-up ID numbers would collide by chance. */
    g_assert_cmpuint (request ("POST", bulk, "application/json", "{\"people\":20000}", NULL, NULL), ==, 200);
  }
  sandbox_stop (&sb, SIGTERM);
  /* 24 demo people, the insurance centre's 6 fixed persons, 20,000 more */
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person"), ==, 20030);
  g_assert_cmpint (count_rows (state, "SELECT count(DISTINCT certno) FROM person"), ==, 20030);
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
  g_autofree char *paasid_token = NULL;
  g_autofree char *app_secret = NULL;
  g_autofree char *client_id = NULL;
  g_autofree char *paasid = NULL;
  g_autofree char *app_key = NULL;
  g_autofree char *sign_no = NULL;
  g_autofree char *certno = NULL;
  g_autofree char *certno_after = NULL;
  gint64 people;

  sandbox_start (&sb, state, NULL);
  secret = g_strdup (sb.config->hospital_client_secret);
  client_id = g_strdup (sb.config->hospital_client_id);
  paasid = g_strdup (sb.config->insurance_paasid);
  app_key = g_strdup (sb.config->courier_app_key);
  paasid_token = g_strdup (sb.config->insurance_token);
  app_secret = g_strdup (sb.config->courier_app_secret);
  g_assert_cmpuint (nhsa (&sb, "9001", msgid, NULL, input, NULL, &o), ==, 200);
  sign_no = g_strdup (json_object_get_string_member (json_object_get_object_member (json_object_get_object_member (o, "output"), "signinoutb"), "sign_no"));
  g_clear_pointer (&o, json_object_unref);
  people = count_rows (state, "SELECT count(*) FROM person");
  certno = certno_of (state, "pat-0001");
  /* Killed: no clean shutdown, no checkpoint. */
  sandbox_stop (&sb, SIGKILL);

  sandbox_start (&sb, state, NULL);
  g_assert_cmpstr (sb.config->hospital_client_secret, ==, secret);
  g_assert_cmpstr (sb.config->insurance_token, ==, paasid_token);
  g_assert_cmpstr (sb.config->courier_app_secret, ==, app_secret);
  g_assert_cmpstr (sb.config->hospital_client_id, ==, client_id);
  g_assert_cmpstr (sb.config->insurance_paasid, ==, paasid);
  g_assert_cmpstr (sb.config->courier_app_key, ==, app_key);
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
  g_clear_pointer (&o, json_object_unref);
  {
    g_autofree char *token = token_for (&sb, secret);
    g_assert_nonnull (token);
  }
  /* The sign-in made before the kill still serves. */
  {
    g_autofree char *msgid2 = msgid_new ();
    g_autofree char *query = g_strdup_printf ("{\"data\":{\"mdtrt_cert_type\":\"02\",\"mdtrt_cert_no\":\"%s\",\"card_sn\":\"\","
                                              "\"begntime\":\"\",\"psn_cert_type\":\"01\",\"certno\":\"%s\",\"psn_name\":\"\"}}", certno, certno);

    g_assert_cmpuint (nhsa (&sb, "1101", msgid2, sign_no, query, NULL, &o), ==, 200);
    g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, 0);
  }
  sandbox_stop (&sb, SIGTERM);
  /* The same people, not a second seeding. */
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person"), ==, people);
  certno_after = certno_of (state, "pat-0001");
  g_assert_cmpstr (certno_after, ==, certno);
}

/* GB 11643: the 18th character checks the first 17. */
static gboolean
resident_id_valid (const char *id)
{
  static const int weights[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
  int sum = 0;

  if (strlen (id) != 18)
    return FALSE;
  for (int i = 0; i < 17; i++)
    sum += (id[i] - '0') * weights[i];
  return id[17] == "10X98765432"[sum % 11];
}

static char *
people_of (const char *seed)
{
  g_autofree char *name = g_strdup_printf ("people-%s-%u", seed, g_random_int ());
  g_autofree char *state = new_state (name);
  Sandbox sb = { 0 };

  sandbox_start (&sb, state, "--seed", seed, NULL);
  sandbox_stop (&sb, SIGTERM);
  return query_text (state, "SELECT group_concat (name || certno || insutype, ';') FROM (SELECT * FROM person ORDER BY id)");
}

static void
test_demo_people (void)
{
  g_autofree char *state = new_state ("people");
  Sandbox sb = { 0 };
  g_autofree char *a = people_of ("3");
  g_autofree char *b = people_of ("3");
  g_autofree char *c = people_of ("4");
  g_auto(GStrv) rows = NULL;
  const char *age = "(strftime ('%Y', 'now') - strftime ('%Y', birth_date)"
                    " - (strftime ('%m-%d', 'now') < strftime ('%m-%d', birth_date)))";
  g_autofree char *infants = g_strdup_printf ("SELECT count(*) FROM person WHERE %s < 1", age);
  g_autofree char *children = g_strdup_printf ("SELECT count(*) FROM person WHERE %s BETWEEN 1 AND 13", age);
  g_autofree char *elderly = g_strdup_printf ("SELECT count(*) FROM person WHERE %s >= 65", age);
  g_autofree char *pregnant = g_strdup_printf ("SELECT count(*) FROM person WHERE pregnant AND gender = 'female' AND %s BETWEEN 18 AND 45", age);

  /* Deterministic from --seed. */
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, !=, c);

  sandbox_start (&sb, state, NULL);
  sandbox_stop (&sb, SIGTERM);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person"), >=, 20);
  g_assert_cmpint (count_rows (state, infants), >=, 1);
  g_assert_cmpint (count_rows (state, children), >=, 2);
  g_assert_cmpint (count_rows (state, elderly), >=, 2);
  g_assert_cmpint (count_rows (state, pregnant), >=, 1);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person WHERE lactating AND gender = 'female'"), >=, 1);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person WHERE insutype = '310' AND balance_fen > 0"), >=, 1);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person WHERE insutype = '310' AND balance_fen = 0"), >=, 1);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person WHERE insutype = '390'"), >=, 1);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person WHERE insutype = '390' AND balance_fen <> 0"), ==, 0);
  /* Chinese names, real-looking ID numbers whose sex digit agrees. */
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person WHERE unicode (name) < 0x4e00"), ==, 0);
  {
    g_autofree char *all = query_text (state, "SELECT group_concat (certno || gender, ';') FROM person");

    rows = g_strsplit (all, ";", -1);
  }
  for (guint i = 0; rows[i] != NULL; i++)
    {
      g_autofree char *id = g_strndup (rows[i], 18);
      gboolean male = g_str_equal (rows[i] + 18, "male");

      g_assert_true (resident_id_valid (id));
      g_assert_cmpint ((id[16] - '0') % 2, ==, male ? 1 : 0);
    }
}

static void
test_clock (void)
{
  g_autofree char *state = new_state ("clock");
  Sandbox sb = { 0 };
  g_autofree char *url = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autoptr(JsonObject) a = NULL;
  g_autoptr(JsonObject) b = NULL;

  /* --now starts the clock there; --time-scale runs it 1000 times faster. */
  sandbox_start (&sb, state, "--control", "--now", "2026-11-20T10:00:00+08:00", "--time-scale", "1000", NULL);
  url = g_strconcat (sb.base, "/sandbox/control/clock", NULL);
  g_assert_cmpuint (request ("GET", url, NULL, NULL, NULL, &first), ==, 200);
  g_usleep (100000);
  g_assert_cmpuint (request ("GET", url, NULL, NULL, NULL, &second), ==, 200);
  a = parse_object (first);
  b = parse_object (second);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (a, "now"), "2026-11-20T10:0"));
  g_assert_cmpint (json_object_get_int_member (b, "now_ms") - json_object_get_int_member (a, "now_ms"), >=, 90000);
  /* The insurance gateway judges staleness by the real clock
   * (insurance.md), so a sandbox years off still answers. */
  {
    g_autofree char *msgid = msgid_new ();
    g_autoptr(JsonObject) o = NULL;

    g_assert_cmpuint (request ("POST", url, "application/json", "{\"now\":\"2030-01-01T00:00:00+08:00\",\"scale\":1}", NULL, NULL), ==, 200);
    g_assert_cmpuint (nhsa (&sb, "9001", msgid, NULL, "{\"signIn\":{\"opter_no\":\"clerk01\"}}", NULL, &o), ==, 200);
    g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, 0);
  }
  g_assert_cmpuint (request ("POST", url, "application/json", "{\"now\":\"2026-11-20T10:00:00\"}", NULL, NULL), ==, 400);
  sandbox_stop (&sb, SIGTERM);
}

/* Dada style: upper-case MD5 of secret + sorted key+value + secret. */
static guint
courier (Sandbox    *sb,
         const char *op,
         const char *body,
         gboolean    bad_signature,
         JsonObject **out)
{
  g_autofree char *ts = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC);
  const char *keys[] = { "app_key", "body", "format", "source_id", "timestamp", "v" };
  const char *values[] = { sb->config->courier_app_key, body, "json", sb->config->courier_source_id, ts, "1.0" };
  GString *input = g_string_new (sb->config->courier_app_secret);
  g_autofree char *md5 = NULL;
  g_autofree char *signature = NULL;
  g_autoptr(JsonBuilder) jb = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autofree char *url = g_strdup_printf ("%s/api/order/%s", sb->config->courier_url, op);
  g_autofree char *reply = NULL;
  guint status;

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_string_append_printf (input, "%s%s", keys[i], values[i]);
  g_string_append (input, bad_signature ? "not-the-secret" : sb->config->courier_app_secret);
  md5 = g_compute_checksum_for_string (G_CHECKSUM_MD5, input->str, input->len);
  signature = g_ascii_strup (md5, -1);
  g_string_free (input, TRUE);
  json_builder_begin_object (jb);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      json_builder_set_member_name (jb, keys[i]);
      json_builder_add_string_value (jb, values[i]);
    }
  json_builder_set_member_name (jb, "signature");
  json_builder_add_string_value (jb, signature);
  json_builder_end_object (jb);
  root = json_builder_get_root (jb);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  status = request ("POST", url, "application/json", text, NULL, &reply);
  *out = parse_object (reply);
  return status;
}

static void
test_courier (void)
{
  g_autofree char *state = new_state ("courier");
  Sandbox sb = { 0 };
  g_autoptr(JsonObject) o = NULL;

  sandbox_start (&sb, state, NULL);
  g_assert_cmpuint (courier (&sb, "status/query", "{\"order_id\":\"RX-1-D1\"}", TRUE, &o), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "fail");
  g_assert_cmpint (json_object_get_int_member (o, "code"), !=, 0);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "msg"), "signature"));
  g_clear_pointer (&o, json_object_unref);
  /* Signed right: an order the courier never saw is a clear error. */
  g_assert_cmpuint (courier (&sb, "status/query", "{\"order_id\":\"RX-1-D1\"}", FALSE, &o), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "fail");
  g_assert_cmpint (json_object_get_int_member (o, "code"), !=, 0);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "msg"), "RX-1-D1"));
  g_assert_nonnull (strstr (json_object_get_string_member (o, "msg"), "not found"));
  g_clear_pointer (&o, json_object_unref);
  g_assert_cmpuint (courier (&sb, "addOrder", "{\"origin_id\":\"RX-1-D1\"}", FALSE, &o), ==, 200);
  g_assert_cmpint (json_object_get_int_member (o, "code"), !=, 0);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "msg"), "not implemented"));
  sandbox_stop (&sb, SIGTERM);
}

static void
test_help (void)
{
  const char *argv[] = { g_getenv ("PHARMDESK_SANDBOX"), "--help", NULL };
  const char *kinds[] = { "drop-request=P", "drop-response=P", "http-500=P", "garbage=P", "duplicate=P", "delay=MS", "--seed" };
  g_autofree char *out = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, NULL));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    g_assert_nonnull (strstr (out, kinds[i]));
}

typedef struct {
  Sandbox    *sb;
  const char *msgid;
  guint       status;
} Pending;

static gpointer
sign_in_thread (gpointer data)
{
  Pending *p = data;

  p->status = nhsa (p->sb, "9001", p->msgid, NULL, "{\"signIn\":{\"opter_no\":\"clerk01\",\"mac\":\"\",\"ip\":\"\"}}", NULL, NULL);
  g_clear_object (&session);
  return NULL;
}

/* Killed while an answer is on its way (held by delay=): what was
 * committed survives, and the retry of that msgid is refused. */
static void
test_sigkill_mid_request (void)
{
  g_autofree char *state = new_state ("sigkill-mid");
  Sandbox sb = { 0 };
  g_autofree char *msgid = msgid_new ();
  g_autoptr(JsonObject) o = NULL;
  Pending pending = { &sb, msgid, 1 };
  GThread *thread;
  int waited = 0;

  sandbox_start (&sb, state, NULL);
  sandbox_stop (&sb, SIGTERM);
  sandbox_start (&sb, state, "--faults", "delay=20000", NULL);
  thread = g_thread_new ("sign-in", sign_in_thread, &pending);
  while (count_rows (state, "SELECT count(*) FROM nhsa_sign_in") == 0 && waited++ < 500)
    g_usleep (10000);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM nhsa_sign_in"), ==, 1);
  sandbox_stop (&sb, SIGKILL);
  g_thread_join (thread);
  g_assert_cmpuint (pending.status, ==, 0);   /* the client never got its answer */

  sandbox_start (&sb, state, NULL);
  g_assert_cmpuint (nhsa (&sb, "9001", msgid, NULL, "{\"signIn\":{\"opter_no\":\"clerk01\",\"mac\":\"\",\"ip\":\"\"}}", NULL, &o), ==, 200);
  g_assert_cmpint (json_object_get_int_member (o, "infcode"), ==, -1);
  sandbox_stop (&sb, SIGTERM);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM nhsa_sign_in"), ==, 1);
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
  harness_init ();
  g_test_add_func ("/sandbox/start-and-client-ini", test_start_and_client_ini);
  g_test_add_func ("/sandbox/oauth-and-people", test_oauth_and_people);
  g_test_add_func ("/sandbox/gateway", test_gateway);
  g_test_add_func ("/sandbox/faults", test_faults);
  g_test_add_func ("/sandbox/faults-reproducible", test_faults_reproducible);
  g_test_add_func ("/sandbox/delay", test_delay);
  g_test_add_func ("/sandbox/control", test_control);
  g_test_add_func ("/sandbox/sigkill-keeps-state", test_sigkill_keeps_state);
  g_test_add_func ("/sandbox/bad-options", test_bad_options);
  g_test_add_func ("/sandbox/demo-people", test_demo_people);
  g_test_add_func ("/sandbox/clock", test_clock);
  g_test_add_func ("/sandbox/courier", test_courier);
  g_test_add_func ("/sandbox/help", test_help);
  g_test_add_func ("/sandbox/sigkill-mid-request", test_sigkill_mid_request);
  status = g_test_run ();
  harness_done ();
  return status;
}
