/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-insurance-link"

#include "config.h"

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

/* `--now` a year ahead on the training database: the gateway still takes
 * the request, its x-tif-timestamp being the machine's. */
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
  /* TODO (sandbox, issue 14): with the sandbox itself started with --now a
   * year off, its gateway check must also follow the real clock; this
   * case only shows that our timestamp is real (a sandbox on the real
   * clock takes it although our clock is a year ahead). */
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
  shift_start (&shift, "insurance-link");
  status = g_test_run ();
  shift_stop (&shift);
  return status;
}
