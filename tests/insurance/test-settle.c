/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-settle"

#include "config.h"

#include <string.h>

#include "fill.h"
#include "pd-money.h"
#include "shift.h"

/* `settle` and `settlement list` (cli.md "Settlement") against the
 * sandbox's insurance centre: a dispensed prescription settled once; a
 * second settlement of it refused before anything is sent; an answer lost
 * on the way back settled by 2601 before the sale goes out again, so the
 * centre holds exactly one settlement of it. */

/* A fixed demo person of the sandbox's centre (张建华, an employee), by
 * the e-voucher's QR token. */
#define PERSON_CERT_TYPE "01"
#define PERSON_CERT_NO   "QR11010199000001"

static char *
basket_for (Shift      *s,
            const char *rx)
{
  g_autoptr(GPtrArray) lines = lines_of (s, rx);
  g_autoptr(GString) basket = g_string_new (NULL);
  g_autofree char *path = NULL;

  g_string_append_printf (basket, "{\"rxno\": \"%s\", \"med_type\": \"41\", \"items\": [", rx);
  for (guint i = 0; i < lines->len; i++)
    {
      Line *l = lines->pdata[i];

      g_string_append_printf (basket, "%s{\"code\": \"%s\", \"count\": %d}", i > 0 ? ", " : "", l->code, l->units);
    }
  g_string_append (basket, "]}");
  path = g_build_filename (s->dir, "basket.json", NULL);
  g_assert_true (g_file_set_contents (path, basket->str, -1, NULL));
  return g_steal_pointer (&path);
}

static int
settle (Shift      *s,
        const char *basket,
        char      **out,
        char      **err)
{
  return shift_cli (s, "li", out, err, "settle", "--cert-type", PERSON_CERT_TYPE, "--cert-no", PERSON_CERT_NO,
                    "--basket", basket, NULL);
}

static JsonObject *
parse_answer (const char *text)
{
  JsonObject *o = parse_object (text);

  g_assert_nonnull (o);
  return o;
}

static void
test_settle_once (void)
{
  Shift s = { 0 };
  g_autofree char *rx = NULL;
  g_autofree char *basket = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(JsonNode) list = NULL;
  JsonObject *setlinfo;
  gint64 sent;

  shift_start (&s, "settle-once");
  rx = fill_one (&s);
  basket = basket_for (&s, rx);
  g_assert_cmpint (settle (&s, basket, &out, &err), ==, 0);
  answer = parse_answer (out);
  g_assert_cmpstr (json_object_get_string_member (answer, "state"), ==, "settled");
  g_assert_cmpstr (json_object_get_string_member (answer, "rxno"), ==, rx);
  setlinfo = json_object_get_object_member (answer, "setlinfo");
  g_assert_nonnull (json_object_get_member (setlinfo, "setl_id"));
  /* 3505 per line, with each box's code: the centre holds them as sold */
  {
    JsonArray *uploads = json_object_get_array_member (answer, "uploads");
    guint codes = 0;

    g_assert_cmpuint (json_array_get_length (uploads), >, 0);
    for (guint i = 0; i < json_array_get_length (uploads); i++)
      {
        JsonObject *u = json_array_get_object_element (uploads, i);

        g_assert_cmpstr (json_object_get_string_member (u, "state"), ==, "uploaded");
        codes += json_array_get_length (json_object_get_array_member (u, "trace_codes"));
      }
    g_assert_cmpuint (codes, >, 0);
    g_assert_cmpint (count_rows (s.state, "SELECT count(*) FROM nhsa_sold_code"), ==, codes);
    g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM sales_upload WHERE state = 'uploaded'"), ==,
                     json_array_get_length (uploads));
  }
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM sale WHERE state = 'settled'"), ==, 1);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM settlement WHERE state = 'settled' AND setl_id IS NOT NULL"), ==, 1);
  g_assert_cmpint (count_rows (s.state, "SELECT count(*) FROM nhsa_settlement WHERE refd_setl_flag = 0 AND state = 1"), ==, 1);

  /* again: refused before anything is sent */
  sent = shift_db_int (&s, "SELECT count(*) FROM outbox WHERE link = 'insurance'");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (settle (&s, basket, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "settled already"));
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM outbox WHERE link = 'insurance'"), ==, sent);

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (shift_cli (&s, "li", &out, NULL, "settlement", "list", NULL), ==, 0);
  list = json_from_string (out, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_node_get_array (list), 0), "rxno"), ==, rx);
  shift_stop (&s);
}

/* The centre commits the 2102 and its answer is lost: the settlement is
 * unknown, 2601 with its msgid undoes it, and the sale goes out again under
 * a new msgid; the centre holds exactly one settlement of it. */
static void
test_answer_lost (void)
{
  Shift s = { 0 };
  g_autofree char *rx = NULL;
  g_autofree char *basket = NULL;
  g_autofree char *out = NULL;
  g_autoptr(JsonObject) answer = NULL;

  shift_start (&s, "answer-lost");
  rx = fill_one (&s);
  basket = basket_for (&s, rx);
  /* the day's sign-in first, so that the next settle sends 1101, 2101, 2102 */
  g_assert_cmpint (shift_cli (&s, "li", &out, NULL, "settle", "--cert-type", PERSON_CERT_TYPE, "--cert-no", PERSON_CERT_NO,
                              "--basket", basket, "--pre-only", NULL), ==, 0);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM sale"), ==, 0);
  g_assert_cmpuint (sandbox_control (&s.sb, "faults", "{\"fault\": \"drop-response\", \"method\": \"POST\","
                                     " \"path\": \"/nhsa/fsi/api/rsfComIfsService/callService\", \"after\": 2, \"times\": 1}", NULL), ==, 200);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (settle (&s, basket, &out, NULL), ==, 0);
  answer = parse_answer (out);
  g_assert_cmpstr (json_object_get_string_member (answer, "state"), ==, "settled");
  /* ours: the first reversed by 2601, the second settled */
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM settlement WHERE state = 'reversed'"), ==, 1);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM settlement WHERE state = 'settled'"), ==, 1);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM outbox WHERE link = 'insurance' AND state = 'resolved'"), ==, 1);
  /* the centre's: one settled, one reversed, never two charged */
  g_assert_cmpint (count_rows (s.state, "SELECT count(*) FROM nhsa_settlement WHERE refd_setl_flag = 0 AND state = 1"), ==, 1);
  g_assert_cmpint (count_rows (s.state, "SELECT count(*) FROM nhsa_settlement WHERE state = 3"), ==, 1);
  shift_stop (&s);
}

/* The desk stopped between writing the 2102 and hearing back (the row
 * left `sending`): `outbox resolve` settles it by 2601, and the next
 * settle of the sale goes through once. */
static void
test_resolve_after_crash (void)
{
  Shift s = { 0 };
  g_autofree char *rx = NULL;
  g_autofree char *basket = NULL;
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) report = NULL;

  shift_start (&s, "crash");
  rx = fill_one (&s);
  basket = basket_for (&s, rx);
  g_assert_cmpint (shift_cli (&s, "li", &out, NULL, "settle", "--cert-type", PERSON_CERT_TYPE, "--cert-no", PERSON_CERT_NO,
                              "--basket", basket, "--pre-only", NULL), ==, 0);
  /* the answer lost on every try, and the centre down while 2601 is tried */
  g_assert_cmpuint (sandbox_control (&s.sb, "faults", "{\"fault\": \"drop-response\", \"method\": \"POST\","
                                     " \"path\": \"/nhsa/fsi/api/rsfComIfsService/callService\", \"after\": 2, \"times\": 1000}", NULL), ==, 200);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (shift_cli (&s, "li", &out, NULL, "settle", "--cert-type", PERSON_CERT_TYPE, "--cert-no", PERSON_CERT_NO,
                              "--basket", basket, NULL), ==, 3);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM settlement WHERE state = 'unknown'"), ==, 1);
  shift_hospital_down (&s);
  shift_hospital_up (&s);     /* a fresh centre process on the same ledger: no fault armed */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (shift_cli (&s, "li", &out, NULL, "outbox", "resolve", NULL), ==, 0);
  report = json_from_string (out, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (report)), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_node_get_array (report), 0), "state"), ==, "reversed");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (settle (&s, basket, &out, NULL), ==, 0);
  g_assert_cmpint (count_rows (s.state, "SELECT count(*) FROM nhsa_settlement WHERE refd_setl_flag = 0 AND state = 1"), ==, 1);
  shift_stop (&s);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/settle/once", test_settle_once);
  g_test_add_func ("/settle/answer-lost", test_answer_lost);
  g_test_add_func ("/settle/resolve-after-crash", test_resolve_after_crash);
  return g_test_run ();
}
