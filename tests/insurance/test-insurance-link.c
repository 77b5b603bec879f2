/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-insurance-link"

#include "config.h"

#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-insurance-link.h"
#include "pd-json.h"
#include "shift.h"

/* The insurance link against the sandbox's centre (insurance.md): the TIF
 * gateway's headers, the msgid (format, unique through a tight loop, a
 * restart and a clock set back), 9001 once per operator and day, and
 * `pharmdesk-cli person`. One shift (a training database, li a clerk with
 * operator clerk01) serves every case, in order. */

static Shift shift;

typedef struct {
  PdStore         *store;
  PdSession       *session;
  PdConfig        *config;
  PdInsuranceLink *link;
} Desk;

/* li signed in on the shift's database, with the sandbox's client.ini. */
static void
desk_open (Desk       *d,
           const char *token)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *password = NULL;

  memset (d, 0, sizeof *d);
  d->store = pd_store_open (shift.db, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (shift_password_file (&shift, "li"), &password, NULL, NULL));
  d->session = pd_session_sign_in (d->store, "li", g_strchomp (password), &error);
  g_assert_no_error (error);
  d->config = pd_config_load (shift.ini, &error);
  g_assert_no_error (error);
  if (token != NULL)
    {
      g_free (d->config->insurance_token);
      d->config->insurance_token = g_strdup (token);
    }
  d->link = pd_insurance_link_new (d->session, d->config, &error);
  g_assert_no_error (error);
}

static void
desk_close (Desk *d)
{
  g_clear_pointer (&d->link, pd_insurance_link_free);
  g_clear_object (&d->session);
  g_clear_pointer (&d->config, pd_config_free);
  if (d->store != NULL)
    pd_store_close (d->store);
  g_clear_object (&d->store);
}

/* The pharmacy's clock back to the machine's. */
static void
clock_real (void)
{
  PdClock *clock = pd_clock_get_default ();

  pd_clock_set_scale (clock, 1.0);
  pd_clock_set_now_us (clock, pd_clock_real_now_us ());
}

typedef struct {
  const char *code;
  int         terminal;
  guint       n;
  GPtrArray  *out;
} TakeJob;

static int
synchronous (PdStore *store)
{
  sqlite3_stmt *stmt = NULL;
  int level = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (pd_store_get_db (store), "PRAGMA synchronous", -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    level = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return level;
}

static gboolean
take_n (PdStore  *store,
        gpointer  user_data,
        GError  **error)
{
  TakeJob *job = user_data;

  /* FULL (2) for this commit: synced to disk before the request leaves. */
  g_assert_cmpint (synchronous (store), ==, 2);

  for (guint i = 0; i < job->n; i++)
    {
      char *msgid = pd_insurance_msgid_take (store, job->code, job->terminal, error);

      if (msgid == NULL)
        return FALSE;
      g_ptr_array_add (job->out, msgid);
    }
  return TRUE;
}

/* One msgid in a durable commit of its own. The msgid tests use desks of
 * their own (terminals 7 and 8): the person tests leave terminal 1's last
 * second a year ahead (`--now`), where it stays until time passes it. */
static char *
take_one (Desk *d,
          int   terminal)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = g_ptr_array_new ();
  TakeJob job = { pd_insurance_link_get_fixmedins_code (d->link), terminal, 1, out };

  g_assert_true (pd_insurance_commit_durably (d->store, take_n, &job, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out->len, ==, 1);
  /* and NORMAL (1) again for every other transaction */
  g_assert_cmpint (synchronous (d->store), ==, 1);
  return out->pdata[0];
}

static void
assert_msgid_shape (const char *msgid,
                    const char *code,
                    int         terminal)
{
  g_assert_cmpuint (strlen (msgid), ==, 30);
  g_assert_true (g_str_has_prefix (msgid, code));
  for (guint i = 12; i < 30; i++)
    g_assert_true (g_ascii_isdigit (msgid[i]));
  g_assert_cmpint (msgid[26] - '0', ==, terminal);
}

/* --- the gateway ---------------------------------------------------------------------------- */

static void
test_gateway (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sign_no = NULL;
  Desk d;

  clock_real ();
  /* A wrong token: the gateway's 401, nothing reaches the centre. */
  desk_open (&d, "not-the-token");
  g_assert_null (pd_insurance_link_sign_in (d.link, NULL, &error));
  g_assert_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_GATEWAY);
  g_test_message ("wrong token: %s", error->message);
  g_clear_error (&error);
  desk_close (&d);
  g_assert_cmpint (count_rows (shift.state, "SELECT count(*) FROM nhsa_sign_in"), ==, 0);

  /* The right one: signed headers accepted, a sign_no for the day. */
  desk_open (&d, NULL);
  sign_no = pd_insurance_link_sign_in (d.link, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sign_no);
  g_assert_cmpstr (pd_insurance_link_get_operator (d.link), ==, "clerk01");
  desk_close (&d);
}

/* x-tif-timestamp is the machine's time: a clock set a year ahead (a
 * training database) still passes the gateway's ±300 s check. */
static void
test_gateway_real_time (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) output = NULL;
  g_autofree char *certno = query_text (shift.state, "SELECT certno FROM person ORDER BY psn_no LIMIT 1");
  Desk d;

  desk_open (&d, NULL);
  pd_clock_set_now_us (pd_clock_get_default (), pd_clock_real_now_us () + (gint64) 365 * 24 * 3600 * G_USEC_PER_SEC);
  output = pd_insurance_person (d.link, "02", certno, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pd_json_obj (output, "baseinfo"));
  desk_close (&d);
  clock_real ();
}

/* --- msgid ------------------------------------------------------------------------------------ */

static void
test_msgid_loop (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  PdClock *clock = pd_clock_get_default ();
  g_autofree char *code = NULL;
  int terminal;
  gint64 start;
  Desk d;

  clock_real ();
  desk_open (&d, NULL);
  code = g_strdup (pd_insurance_link_get_fixmedins_code (d.link));
  terminal = 7;

  /* A tight loop of durable commits, as fast as the disk goes. */
  start = g_get_monotonic_time ();
  for (guint i = 0; i < 2000; i++)
    g_ptr_array_add (out, take_one (&d, terminal));
  g_test_message ("2000 durable msgids in %.2f s", (g_get_monotonic_time () - start) / 1e6);

  /* 2000 in one second (the clock stopped): past 999 the next second. */
  g_assert_true (pd_clock_set_now_from_iso (clock, "2027-03-01T09:00:00+08:00", &error));
  g_assert_no_error (error);
  pd_clock_set_scale (clock, 0.0);
  {
    TakeJob job = { code, terminal, 2000, g_ptr_array_new () };

    g_assert_true (pd_insurance_commit_durably (d.store, take_n, &job, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (job.out->pdata[0] + 12, ==, "202703010900007000");
    g_assert_cmpstr (job.out->pdata[999] + 12, ==, "202703010900007999");
    g_assert_cmpstr (job.out->pdata[1000] + 12, ==, "202703010900017000");
    g_assert_cmpstr (job.out->pdata[1999] + 12, ==, "202703010900017999");
    for (guint i = 0; i < job.out->len; i++)
      g_ptr_array_add (out, job.out->pdata[i]);
    g_ptr_array_unref (job.out);
  }
  /* The clock still says 09:00:00, the last second 09:00:01: kept. */
  g_ptr_array_add (out, take_one (&d, terminal));
  g_assert_cmpstr ((char *) out->pdata[out->len - 1] + 12, ==, "202703010900027000");
  desk_close (&d);

  for (guint i = 0; i < out->len; i++)
    {
      const char *msgid = out->pdata[i];

      assert_msgid_shape (msgid, code, terminal);
      g_assert_false (g_hash_table_contains (seen, msgid));
      g_hash_table_add (seen, (gpointer) msgid);
      if (i > 0)
        g_assert_cmpstr (msgid, >, out->pdata[i - 1]);
    }
  clock_real ();
}

/* Unique across a restart and a clock set back (a training database's
 * clock, as `--now` sets it). */
static void
test_msgid_restart_and_clock_back (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *back = NULL;
  g_autofree char *later = NULL;
  PdClock *clock = pd_clock_get_default ();
  Desk d;

  g_assert_true (pd_clock_set_now_from_iso (clock, "2027-06-01T12:00:00+08:00", &error));
  pd_clock_set_scale (clock, 0.0);
  desk_open (&d, NULL);
  before = take_one (&d, 8);
  desk_close (&d);

  /* A restart: the counter comes from the database. */
  desk_open (&d, NULL);
  after = take_one (&d, 8);
  g_assert_cmpstr (before + 12, ==, "202706011200008000");
  g_assert_cmpstr (after + 12, ==, "202706011200008001");

  /* The clock set back a day: the last second is kept. */
  g_assert_true (pd_clock_set_now_from_iso (clock, "2027-05-31T12:00:00+08:00", &error));
  pd_clock_set_scale (clock, 0.0);
  back = take_one (&d, 8);
  g_assert_cmpstr (back + 12, ==, "202706011200008002");
  g_assert_cmpstr (back, >, after);

  /* Until time passes it. */
  g_assert_true (pd_clock_set_now_from_iso (clock, "2027-06-01T12:00:05+08:00", &error));
  pd_clock_set_scale (clock, 0.0);
  later = take_one (&d, 8);
  g_assert_cmpstr (later + 12, ==, "202706011200058000");
  desk_close (&d);
  clock_real ();
}

/* --- 9001 ------------------------------------------------------------------------------------- */

static void
test_sign_in_once (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *again = NULL;
  g_autofree char *restarted = NULL;
  g_autofree char *tomorrow = NULL;
  gint64 sign_ins;
  Desk d;

  clock_real ();
  sign_ins = count_rows (shift.state, "SELECT count(*) FROM nhsa_sign_in WHERE opter_no = 'clerk01'");
  desk_open (&d, NULL);
  first = pd_insurance_link_sign_in (d.link, NULL, &error);
  g_assert_no_error (error);
  again = pd_insurance_link_sign_in (d.link, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first, ==, again);
  desk_close (&d);

  /* Another run the same day reads it from the database. */
  desk_open (&d, NULL);
  restarted = pd_insurance_link_sign_in (d.link, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first, ==, restarted);
  g_assert_cmpint (count_rows (shift.state, "SELECT count(*) FROM nhsa_sign_in WHERE opter_no = 'clerk01'"), ==, sign_ins);

  /* Another day (China date), another sign-in. */
  pd_clock_set_now_us (pd_clock_get_default (), pd_clock_real_now_us () + (gint64) 24 * 3600 * G_USEC_PER_SEC);
  tomorrow = pd_insurance_link_sign_in (d.link, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tomorrow, !=, first);
  g_assert_cmpint (count_rows (shift.state, "SELECT count(*) FROM nhsa_sign_in WHERE opter_no = 'clerk01'"), ==, sign_ins + 1);

  /* 9002 closes it; the next call of that day signs in again. */
  g_assert_true (pd_insurance_link_sign_out (d.link, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (shift.state, "SELECT count(*) FROM nhsa_sign_in WHERE signed_out_at IS NOT NULL"), ==, 1);
  desk_close (&d);
  g_assert_cmpint (shift_db_int (&shift, "SELECT count(*) FROM insurance_sign_in WHERE signed_out_at IS NOT NULL"), ==, 1);
  clock_real ();
}

/* --- person ----------------------------------------------------------------------------------- */

static JsonObject *
last_answer (const char *infno)
{
  g_autofree char *sql = g_strdup_printf ("SELECT response FROM nhsa_message WHERE infno = '%s' ORDER BY substr (json_extract (response, '$.inf_refmsgid'), -10) DESC LIMIT 1", infno);
  g_autofree char *response = query_text (shift.state, sql);

  g_assert_nonnull (response);
  return parse_object (response);
}

static void
test_person (void)
{
  g_autofree char *certno = query_text (shift.state, "SELECT certno FROM person WHERE insutype = '310' ORDER BY psn_no LIMIT 1");
  g_autofree char *psn_no = query_text (shift.state, "SELECT psn_no FROM person WHERE insutype = '310' ORDER BY psn_no LIMIT 1");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) printed = NULL;
  g_autoptr(JsonObject) answer = NULL;
  gint64 audit_before = shift_db_int (&shift, "SELECT count(*) FROM audit_event WHERE action = 'insurance.1101'");

  g_assert_nonnull (certno);
  g_assert_cmpint (shift_cli (&shift, "li", &out, &err, "person", "--cert-type", "02", "--cert-no", certno, NULL), ==, 0);
  printed = shift_json (out);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (printed));
  g_assert_cmpstr (pd_json_str (pd_json_obj (json_node_get_object (printed), "baseinfo"), "psn_no"), ==, psn_no);
  /* As the centre gave it. */
  answer = last_answer ("1101");
  g_assert_true (json_node_equal (printed, json_object_get_member (answer, "output")));
  /* Sent, then ok: two audit rows naming the msgid. */
  g_assert_cmpint (shift_db_int (&shift, "SELECT count(*) FROM audit_event WHERE action = 'insurance.1101'"), ==, audit_before + 2);
  g_assert_cmpint (shift_db_int (&shift, "SELECT count(*) FROM audit_event WHERE action = 'insurance.1101' AND outcome = 'ok'"
                                         " AND object_uuid IN (SELECT object_uuid FROM audit_event WHERE outcome = 'sent')"), >=, 1);

  /* The same person by the e-voucher's token (01) and the social-security
   * card (03). */
  for (guint i = 0; i < 2; i++)
    {
      const char *type = i == 0 ? "01" : "03";
      g_autofree char *sql = g_strdup_printf ("SELECT %s FROM person WHERE psn_no = '%s'", i == 0 ? "qr_token" : "card_no", psn_no);
      g_autofree char *number = query_text (shift.state, sql);
      g_autoptr(JsonNode) again = NULL;

      g_assert_nonnull (number);
      g_clear_pointer (&out, g_free);
      g_clear_pointer (&err, g_free);
      g_assert_cmpint (shift_cli (&shift, "li", &out, &err, "person", "--cert-type", type, "--cert-no", number, NULL), ==, 0);
      again = shift_json (out);
      g_assert_cmpstr (pd_json_str (pd_json_obj (json_node_get_object (again), "baseinfo"), "psn_no"), ==, psn_no);
    }

  /* A name that does not match: refused, the centre's err_msg said. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (shift_cli (&shift, "li", &out, &err, "person", "--cert-type", "02", "--cert-no", certno,
                              "--name", "不是此人", NULL), ==, 1);
  g_clear_pointer (&answer, json_object_unref);
  answer = last_answer ("1101");
  g_assert_nonnull (strstr (err, pd_json_str (answer, "err_msg")));

  /* Bad input: exit 2, nothing sent. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (shift_cli (&shift, "li", &out, &err, "person", "--cert-type", "04", "--cert-no", certno, NULL), ==, 2);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (shift_cli (&shift, "li", NULL, &err, "person", "--cert-type", "02", NULL), ==, 2);
  /* Not a clerk. */
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (shift_cli (&shift, "wang", NULL, &err, "person", "--cert-type", "02", "--cert-no", certno, NULL), ==, 1);
}

static void
test_person_unknown (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonObject) answer = NULL;

  g_assert_cmpint (shift_cli (&shift, "li", &out, &err, "person", "--cert-type", "02", "--cert-no", "110105190001010000", NULL), ==, 1);
  answer = last_answer ("1101");
  g_assert_cmpint (json_object_get_int_member (answer, "infcode"), ==, -1);
  g_assert_nonnull (pd_json_str (answer, "err_msg"));
  g_assert_nonnull (strstr (err, pd_json_str (answer, "err_msg")));
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpint (shift_db_int (&shift, "SELECT count(*) FROM audit_event WHERE action = 'insurance.1101' AND outcome = 'refused'"), >=, 1);
}

/* `--now` a year ahead on the training database, and a sandbox whose own
 * clock is a year ahead too: the gateway holds x-tif-timestamp against the
 * machine's time on both sides. */
static void
test_person_now (void)
{
  g_autofree char *certno = query_text (shift.state, "SELECT certno FROM person ORDER BY psn_no LIMIT 1");
  g_autofree char *now = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GDateTime) t = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) ahead = g_date_time_add_years (t, 1);

  now = g_date_time_format (ahead, "%Y-%m-%dT%H:%M:%S+00:00");
  g_assert_cmpint (shift_cli (&shift, "li", &out, &err, "person", "--cert-type", "02", "--cert-no", certno,
                              "--now", now, NULL), ==, 0);

  shift_hospital_down (&shift);
  sandbox_start (&shift.sb, shift.state, "--seed", "1", "--control", "--now", now, NULL);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (shift_cli (&shift, "li", &out, &err, "person", "--cert-type", "02", "--cert-no", certno,
                              "--now", now, NULL), ==, 0);
  shift_hospital_down (&shift);
  shift_hospital_up (&shift);
}

static void
test_person_centre_down (void)
{
  g_autofree char *certno = query_text (shift.state, "SELECT certno FROM person ORDER BY psn_no LIMIT 1");
  g_autofree char *err = NULL;

  shift_hospital_down (&shift);
  g_assert_cmpint (shift_cli (&shift, "li", NULL, &err, "person", "--cert-type", "02", "--cert-no", certno, NULL), ==, 3);
  g_assert_cmpstr (err, !=, "");
  shift_hospital_up (&shift);
  g_assert_cmpint (shift_db_int (&shift, "SELECT count(*) FROM audit_event WHERE action = 'insurance.1101' AND outcome = 'unknown'"), >=, 1);
}

/* --- answers of every shape, from a centre of our own ----------------------------------------- */

/* A centre on loopback that answers what the test scripts, one answer per
 * request in order, and keeps what each request carried. */
typedef struct {
  GMainContext *context;
  GMainLoop    *loop;
  GThread      *thread;
  SoupServer   *server;
  char         *url;
  GMutex        lock;
  GQueue        script;     /* of Scripted* */
  GPtrArray    *requests;   /* of Seen* */
} Centre;

typedef struct {
  guint  status;            /* 0: drop the connection */
  char  *body;
} Scripted;

typedef struct {
  char       *timestamp;
  char       *nonce;
  char       *signature;
  char       *paasid;
  JsonObject *envelope;
} Seen;

static void
seen_free (gpointer data)
{
  Seen *seen = data;

  g_free (seen->timestamp);
  g_free (seen->nonce);
  g_free (seen->signature);
  g_free (seen->paasid);
  g_clear_pointer (&seen->envelope, json_object_unref);
  g_free (seen);
}

static void
centre_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Centre *c = user_data;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  Seen *seen = g_new0 (Seen, 1);
  Scripted *answer;

  seen->timestamp = g_strdup (soup_message_headers_get_one (h, "x-tif-timestamp"));
  seen->nonce = g_strdup (soup_message_headers_get_one (h, "x-tif-nonce"));
  seen->signature = g_strdup (soup_message_headers_get_one (h, "x-tif-signature"));
  seen->paasid = g_strdup (soup_message_headers_get_one (h, "x-tif-paasid"));
  seen->envelope = parse_object (g_bytes_get_data (bytes, NULL));
  g_mutex_lock (&c->lock);
  g_ptr_array_add (c->requests, seen);
  answer = g_queue_pop_head (&c->script);
  g_mutex_unlock (&c->lock);
  g_assert_nonnull (answer);
  if (answer->status == 0)
    {
      GIOStream *stream = soup_server_message_steal_connection (msg);

      g_io_stream_close (stream, NULL, NULL);
      g_object_unref (stream);
    }
  else
    {
      soup_server_message_set_status (msg, answer->status, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, answer->body, strlen (answer->body));
    }
  g_free (answer->body);
  g_free (answer);
}

static gpointer
centre_serve (gpointer data)
{
  Centre *c = data;

  g_main_context_push_thread_default (c->context);
  g_main_loop_run (c->loop);
  g_main_context_pop_thread_default (c->context);
  return NULL;
}

static void
centre_start (Centre *c)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;
  g_autofree char *base = NULL;

  memset (c, 0, sizeof *c);
  g_mutex_init (&c->lock);
  g_queue_init (&c->script);
  c->requests = g_ptr_array_new_with_free_func (seen_free);
  c->context = g_main_context_new ();
  c->loop = g_main_loop_new (c->context, FALSE);
  g_main_context_push_thread_default (c->context);
  c->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (c->server, "/fsi", centre_cb, c, NULL);
  g_assert_true (soup_server_listen_local (c->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  g_main_context_pop_thread_default (c->context);
  uris = soup_server_get_uris (c->server);
  base = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  c->url = g_strconcat (base, "fsi/api/rsfComIfsService/callService", NULL);
  c->thread = g_thread_new ("centre", centre_serve, c);
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
centre_stop (Centre *c)
{
  g_main_context_invoke (c->context, quit_cb, c->loop);
  g_thread_join (c->thread);
  g_main_context_push_thread_default (c->context);
  soup_server_disconnect (c->server);
  g_clear_object (&c->server);
  g_main_context_pop_thread_default (c->context);
  g_main_loop_unref (c->loop);
  g_main_context_unref (c->context);
  g_assert_true (g_queue_is_empty (&c->script));
  g_ptr_array_unref (c->requests);
  g_free (c->url);
}

static void
centre_script (Centre     *c,
               guint       status,
               const char *body)
{
  Scripted *answer = g_new0 (Scripted, 1);

  answer->status = status;
  answer->body = g_strdup (body);
  g_mutex_lock (&c->lock);
  g_queue_push_tail (&c->script, answer);
  g_mutex_unlock (&c->lock);
}

/* One call of infno with a fresh msgid; the error's code, -1 when none. */
static int
call (Desk        *d,
      const char  *infno,
      JsonObject **output,
      char       **message)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *msgid = pd_insurance_link_take_msgid (d->link, infno, &error);
  g_autoptr(JsonObject) input = json_object_new ();
  JsonObject *out;

  g_assert_no_error (error);
  out = pd_insurance_call (d->link, infno, msgid, NULL, input, NULL, NULL, &error);
  if (output != NULL)
    *output = out;
  else if (out != NULL)
    json_object_unref (out);
  if (message != NULL)
    *message = error != NULL ? g_strdup (error->message) : NULL;
  if (error == NULL)
    return -1;
  g_assert_true (error->domain == PD_INSURANCE_ERROR);
  return error->code;
}

#define SETL_MONEY "\"medfee_sumamt\": 100.5, \"fulamt_ownpay_amt\": \"0.00\", \"preselfpay_amt\": 0, " \
  "\"inscp_scp_amt\": 100.5, \"act_pay_dedc\": \"100.50\", \"hifp_pay\": 0, \"fund_pay_sumamt\": 0, " \
  "\"psn_part_amt\": 100.5, \"acct_pay\": 0, \"psn_cash_pay\": 100.5"

static void
test_answers (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autoptr(GHashTable) nonces = g_hash_table_new (g_str_hash, g_str_equal);
  JsonObject *output = NULL;
  Centre c;
  Desk d;
  gint64 real_s;

  centre_start (&c);
  desk_open (&d, NULL);
  /* Our own centre instead of the sandbox's. */
  pd_insurance_link_free (d.link);
  g_free (d.config->insurance_url);
  d.config->insurance_url = g_strdup (c.url);
  d.link = pd_insurance_link_new (d.session, d.config, &error);
  g_assert_no_error (error);
  pd_insurance_link_set_timeout (d.link, 5);
  /* Two years ahead: a day with no sign-in yet, and a clock far from the
   * machine's. */
  g_assert_true (pd_clock_set_now_from_iso (pd_clock_get_default (), "2028-12-24T09:30:00+08:00", &error));
  pd_clock_set_scale (pd_clock_get_default (), 0.0);

  /* 9001 first (an answer that names no sign_no is refused), then 1101. */
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"signinoutb\": {\"sign_time\": \"2028-12-24 09:30:00\"}}}");
  g_assert_cmpint (call (&d, "1101", NULL, &message), ==, PD_INSURANCE_ERROR_MALFORMED);
  g_assert_nonnull (strstr (message, "signinoutb.sign_no"));
  g_clear_pointer (&message, g_free);
  centre_script (&c, 200, "{\"infcode\": \"0\", \"output\": {\"signinoutb\": {\"sign_no\": \"SIGN-1\"}}}");
  centre_script (&c, 200, "{\"infcode\": \"0\", \"inf_refmsgid\": \"110105202812240930000000000001\","
                          " \"output\": {\"baseinfo\": {\"psn_no\": \"P1\"}, \"insuinfo\": []}}");
  g_assert_cmpint (call (&d, "1101", &output, NULL), ==, -1);
  g_assert_cmpstr (pd_json_str (pd_json_obj (output, "baseinfo"), "psn_no"), ==, "P1");
  g_clear_pointer (&output, json_object_unref);
  /* Without insuinfo, or psn_no: refused, named. */
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"baseinfo\": {\"psn_no\": \"P1\"}}}");
  g_assert_cmpint (call (&d, "1101", NULL, &message), ==, PD_INSURANCE_ERROR_MALFORMED);
  g_assert_nonnull (strstr (message, "insuinfo"));
  g_clear_pointer (&message, g_free);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"baseinfo\": {}, \"insuinfo\": []}}");
  g_assert_cmpint (call (&d, "1101", NULL, &message), ==, PD_INSURANCE_ERROR_MALFORMED);
  g_assert_nonnull (strstr (message, "baseinfo.psn_no"));
  g_clear_pointer (&message, g_free);

  /* Refusals: -1 as a number or a string, and the gateway's own shape. */
  centre_script (&c, 200, "{\"infcode\": -1, \"err_msg\": \"参保人员已暂停参保\", \"output\": {}}");
  g_assert_cmpint (call (&d, "2101", NULL, &message), ==, PD_INSURANCE_ERROR_REFUSED);
  g_assert_cmpstr (message, ==, "参保人员已暂停参保");
  g_clear_pointer (&message, g_free);
  centre_script (&c, 200, "{\"infcode\": \"-1\", \"err_msg\": \"余额不足\"}");
  g_assert_cmpint (call (&d, "2102", NULL, &message), ==, PD_INSURANCE_ERROR_REFUSED);
  g_assert_cmpstr (message, ==, "余额不足");
  g_clear_pointer (&message, g_free);
  centre_script (&c, 200, "{\"type\": \"error\", \"infcode\": -1, \"err_msg\": \"网关：交易繁忙\"}");
  g_assert_cmpint (call (&d, "2102", NULL, &message), ==, PD_INSURANCE_ERROR_REFUSED);
  g_assert_cmpstr (message, ==, "网关：交易繁忙");
  g_clear_pointer (&message, g_free);
  centre_script (&c, 401, "{\"type\": \"error\", \"infcode\": -1, \"err_msg\": \"gateway: wrong signature\"}");
  g_assert_cmpint (call (&d, "2102", NULL, &message), ==, PD_INSURANCE_ERROR_GATEWAY);
  g_assert_nonnull (strstr (message, "gateway: wrong signature"));
  g_clear_pointer (&message, g_free);

  /* No answer we can read: unknown. */
  centre_script (&c, 500, "{\"infcode\": 0}");
  g_assert_cmpint (call (&d, "2102", NULL, NULL), ==, PD_INSURANCE_ERROR_UNKNOWN);
  centre_script (&c, 502, "<html>bad gateway</html>");
  g_assert_cmpint (call (&d, "2102", NULL, NULL), ==, PD_INSURANCE_ERROR_UNKNOWN);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"setl");
  g_assert_cmpint (call (&d, "2102", NULL, NULL), ==, PD_INSURANCE_ERROR_UNKNOWN);
  centre_script (&c, 200, "{\"output\": {}}");
  g_assert_cmpint (call (&d, "2102", NULL, NULL), ==, PD_INSURANCE_ERROR_UNKNOWN);
  centre_script (&c, 0, NULL);
  g_assert_cmpint (call (&d, "2102", NULL, NULL), ==, PD_INSURANCE_ERROR_UNKNOWN);

  /* 2101/2102: the money there and readable, 2102's ids. */
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"setlinfo\": {" SETL_MONEY "}}}");
  g_assert_cmpint (call (&d, "2101", NULL, NULL), ==, -1);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"setlinfo\": {" SETL_MONEY "}}}");
  g_assert_cmpint (call (&d, "2102", NULL, &message), ==, PD_INSURANCE_ERROR_MALFORMED);
  g_assert_nonnull (strstr (message, "setlinfo.setl_id"));
  g_clear_pointer (&message, g_free);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"setlinfo\": {\"setl_id\": \"S1\", \"mdtrt_id\": \"M1\", " SETL_MONEY "}}}");
  g_assert_cmpint (call (&d, "2102", &output, NULL), ==, -1);
  g_assert_cmpstr (pd_json_str (pd_json_obj (output, "setlinfo"), "setl_id"), ==, "S1");
  g_clear_pointer (&output, json_object_unref);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"setlinfo\": {\"setl_id\": \"S1\", \"mdtrt_id\": \"M1\", "
                          SETL_MONEY ", \"acct_pay\": 0.125}}}");
  g_assert_cmpint (call (&d, "2102", NULL, &message), ==, PD_INSURANCE_ERROR_MALFORMED);
  g_assert_nonnull (strstr (message, "setlinfo.acct_pay"));
  g_clear_pointer (&message, g_free);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"setlinfo\": {\"setl_id\": \"S1\", \"mdtrt_id\": \"M1\", "
                          SETL_MONEY ", \"psn_cash_pay\": null}}}");
  g_assert_cmpint (call (&d, "2102", NULL, &message), ==, PD_INSURANCE_ERROR_MALFORMED);
  g_assert_nonnull (strstr (message, "setlinfo.psn_cash_pay"));
  g_clear_pointer (&message, g_free);

  /* 2103, 5203, 3505/3506, 2601. */
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"setlinfo\": {}}}");
  g_assert_cmpint (call (&d, "2103", NULL, &message), ==, PD_INSURANCE_ERROR_MALFORMED);
  g_assert_nonnull (strstr (message, "setlinfo.setl_id"));
  g_clear_pointer (&message, g_free);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"setlinfo\": {\"setl_id\": \"S2\"}}}");
  g_assert_cmpint (call (&d, "2103", NULL, NULL), ==, -1);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"setlinfo\": {\"setl_id\": \"S2\"}}}");
  g_assert_cmpint (call (&d, "5203", NULL, &message), ==, PD_INSURANCE_ERROR_MALFORMED);
  g_assert_nonnull (strstr (message, "setlinfo.setl_state"));
  g_clear_pointer (&message, g_free);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"setlinfo\": {\"setl_id\": \"S2\", \"setl_state\": \"1\"}}}");
  g_assert_cmpint (call (&d, "5203", NULL, NULL), ==, -1);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"msgRslt\": \"ok\"}}");
  g_assert_cmpint (call (&d, "3505", NULL, &message), ==, PD_INSURANCE_ERROR_MALFORMED);
  g_assert_nonnull (strstr (message, "retRslt"));
  g_clear_pointer (&message, g_free);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": {\"retRslt\": \"1\"}}");
  g_assert_cmpint (call (&d, "3506", NULL, NULL), ==, -1);
  centre_script (&c, 200, "{\"infcode\": 0, \"output\": null}");
  g_assert_cmpint (call (&d, "2601", &output, NULL), ==, -1);
  g_assert_cmpuint (json_object_get_size (output), ==, 0);
  g_clear_pointer (&output, json_object_unref);

  /* What every request carried: the gateway's headers (the machine's
   * time, though the clock is two years ahead; a nonce never seen
   * before) and the envelope (the clock's time, the clerk, sign_no). */
  real_s = pd_clock_real_now_us () / G_USEC_PER_SEC;
  g_assert_cmpuint (c.requests->len, ==, 26);
  for (guint i = 0; i < c.requests->len; i++)
    {
      Seen *seen = c.requests->pdata[i];
      g_autofree char *input = g_strconcat (seen->timestamp, d.config->insurance_token, seen->nonce, seen->timestamp, NULL);
      g_autofree char *want = g_compute_checksum_for_string (G_CHECKSUM_SHA256, input, -1);
      const char *infno = pd_json_str (seen->envelope, "infno");
      const char *msgid = pd_json_str (seen->envelope, "msgid");

      g_assert_cmpstr (seen->paasid, ==, d.config->insurance_paasid);
      g_assert_cmpint (ABS (g_ascii_strtoll (seen->timestamp, NULL, 10) - real_s), <, 60);
      g_assert_cmpuint (strlen (seen->nonce), ==, 32);
      g_assert_false (g_hash_table_contains (nonces, seen->nonce));
      g_hash_table_add (nonces, seen->nonce);
      g_assert_cmpstr (seen->signature, ==, want);

      g_assert_cmpstr (pd_json_str (seen->envelope, "infver"), ==, "V1.0");
      g_assert_cmpstr (pd_json_str (seen->envelope, "opter_type"), ==, "1");
      g_assert_cmpstr (pd_json_str (seen->envelope, "opter"), ==, "clerk01");
      g_assert_cmpstr (pd_json_str (seen->envelope, "opter_name"), ==, "李会计");
      g_assert_cmpstr (pd_json_str (seen->envelope, "inf_time"), ==, "2028-12-24 09:30:00");
      g_assert_cmpstr (pd_json_str (seen->envelope, "fixmedins_code"), ==, d.config->fixmedins_code);
      g_assert_cmpstr (pd_json_str (seen->envelope, "fixmedins_name"), ==, d.config->fixmedins_name);
      g_assert_cmpstr (pd_json_str (seen->envelope, "mdtrtarea_admvs"), ==, d.config->mdtrtarea_admvs);
      g_assert_cmpuint (strlen (msgid), ==, 30);
      g_assert_true (g_str_has_prefix (msgid, d.config->fixmedins_code));
      g_assert_nonnull (pd_json_obj (seen->envelope, "input"));
      for (const char * const *f = (const char * const[]) { "insuplc_admdvs", "recer_sys_code", "dev_no", "dev_safe_info",
                                                              "cainfo", "signtype", NULL }; *f != NULL; f++)
        g_assert_nonnull (pd_json_str (seen->envelope, *f));
      if (g_str_equal (infno, "9001"))
        {
          g_assert_cmpstr (pd_json_str (seen->envelope, "sign_no"), ==, "");
          g_assert_cmpstr (pd_json_str (pd_json_obj (pd_json_obj (seen->envelope, "input"), "signIn"), "opter_no"), ==, "clerk01");
        }
      else
        g_assert_cmpstr (pd_json_str (seen->envelope, "sign_no"), ==, "SIGN-1");
    }
  /* Each call audited twice: sent, then what came of it (an answer
   * without a field it must hold counts as unknown: five, and three). */
  g_assert_cmpint (shift_db_int (&shift, "SELECT count(*) FROM audit_event WHERE action = 'insurance.2102' AND outcome = 'sent'"), ==, 12);
  g_assert_cmpint (shift_db_int (&shift, "SELECT count(*) FROM audit_event WHERE action = 'insurance.2102' AND outcome = 'unknown'"), ==, 8);
  g_assert_cmpint (shift_db_int (&shift, "SELECT count(*) FROM audit_event WHERE action = 'insurance.2102' AND outcome = 'refused'"), ==, 3);
  desk_close (&d);
  centre_stop (&c);
  clock_real ();
  /* and the trail holds with them */
  g_assert_cmpint (shift_cli (&shift, "admin", NULL, NULL, "audit", "verify", NULL), ==, 0);
}

/* --- money ------------------------------------------------------------------------------------ */

static void
test_read_fen (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *o;
  gint64 fen = 0;

  g_assert_true (json_parser_load_from_data (parser,
    "{\"a\": 12.34, \"b\": \"12.34\", \"c\": 12, \"d\": 0.1, \"e\": 12.345, \"f\": \"1.2.3\", \"g\": null,"
    " \"h\": \"-5.5\", \"i\": 1e2, \"j\": true, \"k\": \"12.345\", \"l\": 1234567.89}", -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (pd_insurance_read_fen (o, "a", &fen));
  g_assert_cmpint (fen, ==, 1234);
  g_assert_true (pd_insurance_read_fen (o, "b", &fen));
  g_assert_cmpint (fen, ==, 1234);
  g_assert_true (pd_insurance_read_fen (o, "c", &fen));
  g_assert_cmpint (fen, ==, 1200);
  g_assert_true (pd_insurance_read_fen (o, "d", &fen));
  g_assert_cmpint (fen, ==, 10);
  g_assert_false (pd_insurance_read_fen (o, "e", &fen));
  g_assert_false (pd_insurance_read_fen (o, "f", &fen));
  g_assert_false (pd_insurance_read_fen (o, "g", &fen));
  g_assert_true (pd_insurance_read_fen (o, "h", &fen));
  g_assert_cmpint (fen, ==, -550);
  g_assert_true (pd_insurance_read_fen (o, "i", &fen));
  g_assert_cmpint (fen, ==, 10000);
  g_assert_false (pd_insurance_read_fen (o, "j", &fen));
  g_assert_false (pd_insurance_read_fen (o, "k", &fen));
  g_assert_true (pd_insurance_read_fen (o, "l", &fen));
  g_assert_cmpint (fen, ==, 123456789);
  g_assert_false (pd_insurance_read_fen (o, "missing", &fen));
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/insurance/read-fen", test_read_fen);
  g_test_add_func ("/insurance/gateway", test_gateway);
  g_test_add_func ("/insurance/gateway-real-time", test_gateway_real_time);
  g_test_add_func ("/insurance/msgid/loop", test_msgid_loop);
  g_test_add_func ("/insurance/msgid/restart-and-clock-back", test_msgid_restart_and_clock_back);
  g_test_add_func ("/insurance/sign-in-once", test_sign_in_once);
  g_test_add_func ("/insurance/person", test_person);
  g_test_add_func ("/insurance/person-unknown", test_person_unknown);
  g_test_add_func ("/insurance/person-now", test_person_now);
  g_test_add_func ("/insurance/person-centre-down", test_person_centre_down);
  g_test_add_func ("/insurance/answers", test_answers);
  shift_start (&shift, "insurance-link");
  status = g_test_run ();
  shift_stop (&shift);
  return status;
}
