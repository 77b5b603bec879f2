/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-sandbox-insurance"

#include "config.h"

#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "pd-config.h"
#include "sandbox-harness.h"

/* The sandbox's insurance centre over HTTP, spoken from insurance.md by
 * this test itself: the gateway, the settlement engine checked against a
 * calculation of the test's own on generated baskets, refunds, reversals
 * with tombstones, 5203, the sales uploads and a settlement whose answer
 * is lost. */

#define FIXMEDINS "P11010500123"

typedef struct {
  Sandbox  sb;
  char    *state;
  char    *sign_no;
  guint    counter;
} Centre;

/* --- the envelope --------------------------------------------------------- */

static char *
next_msgid (Centre *c)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) china = g_date_time_add_hours (now, 8);
  g_autofree char *second = g_date_time_format (china, "%Y%m%d%H%M%S");
  guint n = c->counter++;

  /* terminal digit and counter: 10,000 a second, never repeated in a run */
  return g_strdup_printf ("%s%s%u%03u", FIXMEDINS, second, (n / 1000) % 10, n % 1000);
}

/* POSTs the envelope with fresh TIF headers; the HTTP status, the answer
 * parsed into *out and its text into *text when asked. */
static guint
post (Centre      *c,
      const char  *infno,
      const char  *msgid,
      const char  *area,
      const char  *input,
      JsonObject **out,
      char       **text)
{
  g_autofree char *ts = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC);
  g_autofree char *nonce = g_strdup_printf ("%08x%08x%08x%08x", g_random_int (), g_random_int (), g_random_int (), g_random_int ());
  g_autofree char *plain = g_strconcat (ts, c->sb.config->insurance_token, nonce, ts, NULL);
  g_autofree char *signature = g_compute_checksum_for_string (G_CHECKSUM_SHA256, plain, -1);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *inf_time = g_date_time_format (now, "%Y-%m-%d %H:%M:%S");
  g_autofree char *body = g_strdup_printf (
    "{\"infno\":\"%s\",\"msgid\":\"%s\",\"mdtrtarea_admvs\":\"110105\",\"insuplc_admdvs\":\"%s\",\"recer_sys_code\":\"PD\","
    "\"dev_no\":\"\",\"dev_safe_info\":\"\",\"cainfo\":\"\",\"signtype\":\"\",\"infver\":\"V1.0\",\"opter_type\":\"1\","
    "\"opter\":\"clerk01\",\"opter_name\":\"clerk\",\"inf_time\":\"%s\",\"fixmedins_code\":\"" FIXMEDINS "\","
    "\"fixmedins_name\":\"pharmacy\",\"sign_no\":\"%s\",\"input\":%s}",
    infno, msgid, area != NULL ? area : "", inf_time, c->sign_no != NULL ? c->sign_no : "", input);
  const char *headers[] = { "x-tif-paasid", c->sb.config->insurance_paasid, "x-tif-timestamp", ts,
                            "x-tif-nonce", nonce, "x-tif-signature", signature, NULL };
  g_autofree char *reply = NULL;
  guint status = request ("POST", c->sb.config->insurance_url, "application/json", body, headers, &reply);

  if (out != NULL)
    *out = parse_object (reply);
  if (text != NULL)
    *text = g_steal_pointer (&reply);
  return status;
}

/* A call that must be answered: its envelope (infcode checked by the
 * caller). */
static JsonObject *
call_as (Centre     *c,
         const char *infno,
         const char *msgid,
         const char *area,
         const char *input)
{
  JsonObject *o = NULL;

  g_assert_cmpuint (post (c, infno, msgid, area, input, &o, NULL), ==, 200);
  g_assert_nonnull (o);
  return o;
}

static JsonObject *
call (Centre     *c,
      const char *infno,
      const char *area,
      const char *input)
{
  g_autofree char *msgid = next_msgid (c);

  return call_as (c, infno, msgid, area, input);
}

static gint64
infcode (JsonObject *o)
{
  JsonNode *n = json_object_get_member (o, "infcode");

  if (json_node_get_value_type (n) == G_TYPE_STRING)
    return g_ascii_strtoll (json_node_get_string (n), NULL, 10);
  return json_node_get_int (n);
}

static const char *
err_msg (JsonObject *o)
{
  return json_object_get_string_member_with_default (o, "err_msg", "");
}

static JsonObject *
output (JsonObject *o)
{
  return json_object_get_object_member (o, "output");
}

/* yuan on the wire (a number, or a string holding one) → fen */
static gint64
fen (JsonObject *o,
     const char *member)
{
  JsonNode *n = json_object_get_member (o, member);

  g_assert_nonnull (n);
  if (json_node_get_value_type (n) == G_TYPE_STRING)
    return llround (g_ascii_strtod (json_node_get_string (n), NULL) * 100);
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    return json_node_get_int (n) * 100;
  return llround (json_node_get_double (n) * 100);
}

static void
centre_start (Centre     *c,
              const char *name,
              ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(JsonObject) o = NULL;
  const char *arg;
  va_list ap;

  memset (c, 0, sizeof *c);
  c->state = new_state (name);
  va_start (ap, name);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_assert_cmpuint (args->len, <=, 6);
  g_ptr_array_add (args, NULL);
  for (guint i = args->len; i < 7; i++)
    g_ptr_array_add (args, NULL);
  sandbox_start (&c->sb, c->state, "--control", args->pdata[0], args->pdata[1], args->pdata[2], args->pdata[3],
                 args->pdata[4], args->pdata[5], NULL);
  o = call (c, "9001", NULL, "{\"signIn\":{\"opter_no\":\"clerk01\",\"mac\":\"\",\"ip\":\"127.0.0.1\"}}");
  g_assert_cmpint (infcode (o), ==, 0);
  c->sign_no = g_strdup (json_object_get_string_member (json_object_get_object_member (output (o), "signinoutb"), "sign_no"));
}

static void
centre_stop (Centre *c)
{
  sandbox_stop (&c->sb, SIGTERM);
  g_clear_pointer (&c->state, g_free);
  g_clear_pointer (&c->sign_no, g_free);
}

/* --- the fixed demo persons (the sandbox's README) ------------------------ */

typedef struct {
  const char *psn_no, *qr, *card, *name, *insutype;
  gint64      balance;
} Insured;

static const Insured employee = { "1100000020000001", "QR11010199000001", "K90000001", "张建华", "310", 120000 };
static const Insured suspended = { "1100000020000006", "QR11010199000006", "K90000006", "赵敏", "310", 80000 };

static JsonObject *
person (Centre     *c,
        const char *cert_type,
        const char *cert_no)
{
  g_autofree char *input = g_strdup_printf ("{\"data\":{\"mdtrt_cert_type\":\"%s\",\"mdtrt_cert_no\":\"%s\",\"card_sn\":\"\","
                                            "\"begntime\":\"\",\"psn_cert_type\":\"\",\"certno\":\"\",\"psn_name\":\"\"}}",
                                            cert_type, cert_no);

  return call (c, "1101", NULL, input);
}

static gint64
balance_of (Centre     *c,
            const char *qr)
{
  g_autoptr(JsonObject) o = person (c, "01", qr);

  g_assert_cmpint (infcode (o), ==, 0);
  return fen (json_array_get_object_element (json_object_get_array_member (output (o), "insuinfo"), 0), "balc");
}

/* --- baskets --------------------------------------------------------------- */

typedef struct {
  char   code[32];
  gint64 pric_e4;      /* 1/10,000 yuan */
  gint64 cnt_e2;       /* 1/100 unit */
  char   cls;          /* A, B, C; 0 unknown to the centre */
} Item;

typedef struct {
  Item   items[8];
  guint  n;
} Basket;

static char *
basket_json (const Insured *p,
             const Basket  *b,
             gint64         medfee_fen,
             gboolean       account,
             gboolean       as_strings,
             const char    *extra)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "{\"druginfo\":{\"psn_no\":\"%s\",\"mdtrt_cert_type\":\"01\",\"mdtrt_cert_no\":\"%s\","
                          "\"begntime\":\"\",\"medfee_sumamt\":%s%" G_GINT64_FORMAT ".%02d%s,\"insutype\":\"%s\","
                          "\"dise_codg\":\"\",\"dise_name\":\"\",\"acct_used_flag\":\"%d\",\"med_type\":\"41\"%s},\"drugdetail\":[",
                          p->psn_no, p->qr, as_strings ? "\"" : "", medfee_fen / 100, (int) (medfee_fen % 100),
                          as_strings ? "\"" : "", p->insutype, account ? 1 : 0, extra != NULL ? extra : "");
  for (guint i = 0; i < b->n; i++)
    {
      const Item *it = &b->items[i];
      const char *q = as_strings ? "\"" : "";

      g_string_append_printf (s, "%s{\"feedetl_sn\":\"%u\",\"rxno\":\"RX-T\",\"rx_circ_flag\":\"0\",\"fee_ocur_time\":\"\","
                              "\"med_list_codg\":\"%s\",\"medins_list_codg\":\"YP\",\"det_item_fee_sumamt\":0,"
                              "\"cnt\":%s%" G_GINT64_FORMAT ".%02d%s,\"pric\":%s%" G_GINT64_FORMAT ".%04d%s,"
                              "\"sin_dos_dscr\":\"\",\"used_frqu_dscr\":\"\",\"prd_days\":1,\"medc_way_dscr\":\"\","
                              "\"bilg_dr_codg\":\"\",\"bilg_dr_name\":\"\"}",
                              i > 0 ? "," : "", i + 1, it->code, q, it->cnt_e2 / 100, (int) (it->cnt_e2 % 100), q,
                              q, it->pric_e4 / 10000, (int) (it->pric_e4 % 10000), q);
    }
  g_string_append (s, "]}");
  return g_string_free (s, FALSE);
}

/* The test's own reading of insurance.md's engine. */
typedef struct {
  gint64 b_bp, deductible, pool_bp, cap;
  gboolean account;
} Rule;

static const Rule rule_310 = { 1000, 20000, 6000, 300000, TRUE };
static const Rule rule_390 = { 1000, 10000, 5000, 50000, FALSE };

typedef struct {
  gint64 total, ful, pre, scope, dedc, hifp, pool_prop, part, acct, cash, balc;
} Expect;

static gint64
half_up (gint64 num,
         gint64 den)
{
  return (num + den / 2) / den;
}

static void
expect (const Rule   *r,
        const Basket *b,
        gint64        ded_used,
        gint64        pool_used,
        gint64        balance,
        gboolean      account,
        Expect       *e)
{
  memset (e, 0, sizeof *e);
  for (guint i = 0; i < b->n; i++)
    {
      const Item *it = &b->items[i];
      gint64 line = half_up (it->pric_e4 * it->cnt_e2, 10000);

      e->total += line;
      if (it->cls == 'B')
        e->pre += half_up (line * r->b_bp, 10000);
      else if (it->cls != 'A')
        e->ful += line;
    }
  e->scope = e->total - e->ful - e->pre;
  e->dedc = e->scope < r->deductible - ded_used ? e->scope : r->deductible - ded_used;
  e->hifp = half_up ((e->scope - e->dedc) * r->pool_bp, 10000);
  if (e->hifp > r->cap - pool_used)
    e->hifp = r->cap - pool_used;
  e->pool_prop = e->scope - e->dedc - e->hifp;
  e->part = e->total - e->hifp;
  e->acct = r->account && account ? MIN (e->part, balance) : 0;
  e->cash = e->part - e->acct;
  e->balc = balance - e->acct;
}

static void
assert_setlinfo (JsonObject   *s,
                 const Expect *e)
{
  g_assert_cmpint (fen (s, "medfee_sumamt"), ==, e->total);
  g_assert_cmpint (fen (s, "fulamt_ownpay_amt"), ==, e->ful);
  g_assert_cmpint (fen (s, "preselfpay_amt"), ==, e->pre);
  g_assert_cmpint (fen (s, "inscp_scp_amt"), ==, e->scope);
  g_assert_cmpint (fen (s, "act_pay_dedc"), ==, e->dedc);
  g_assert_cmpint (fen (s, "hifp_pay"), ==, e->hifp);
  g_assert_cmpint (fen (s, "pool_prop_selfpay"), ==, e->pool_prop);
  g_assert_cmpint (fen (s, "fund_pay_sumamt"), ==, e->hifp);
  g_assert_cmpint (fen (s, "psn_part_amt"), ==, e->part);
  g_assert_cmpint (fen (s, "acct_pay"), ==, e->acct);
  g_assert_cmpint (fen (s, "psn_cash_pay"), ==, e->cash);
  g_assert_cmpint (fen (s, "balc"), ==, e->balc);
  g_assert_cmpint (fen (s, "overlmt_selfpay"), ==, 0);
  g_assert_cmpint (fen (s, "hifmi_pay"), ==, 0);
}

/* The knowledge base's catalogue, read here: nhsa_code, insurance_class
 * and price of each drug. */
typedef struct {
  char   code[32];
  char   cls;
  gint64 price_e4;
} Drug;

static GArray *
catalogue (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("PHARMDESK_DATADIR"), "kb", "drugs.csv", NULL);
  g_autofree char *text = NULL;
  GArray *drugs = g_array_new (FALSE, TRUE, sizeof (Drug));
  g_auto(GStrv) rows = NULL;
  int c_code = -1, c_class = -1, c_price = -1;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  rows = g_strsplit (text, "\n", -1);
  for (guint r = 0; rows[r] != NULL; r++)
    {
      /* quoted fields may hold commas: split outside quotes only */
      g_autoptr(GPtrArray) f = g_ptr_array_new_with_free_func (g_free);
      const char *start = rows[r];
      gboolean in_quotes = FALSE;

      for (const char *p = rows[r];; p++)
        {
          if (*p == '"')
            in_quotes = !in_quotes;
          if ((*p == ',' && !in_quotes) || *p == '\0' || *p == '\r')
            {
              g_ptr_array_add (f, g_strndup (start, p - start));
              if (*p != ',')
                break;
              start = p + 1;
            }
        }
      if (r == 0)
        {
          for (guint i = 0; i < f->len; i++)
            {
              c_code = g_str_equal (f->pdata[i], "nhsa_code") ? (int) i : c_code;
              c_class = g_str_equal (f->pdata[i], "insurance_class") ? (int) i : c_class;
              c_price = g_str_equal (f->pdata[i], "price") ? (int) i : c_price;
            }
          g_assert_cmpint (MIN (c_code, MIN (c_class, c_price)), >=, 0);
          continue;
        }
      if ((int) f->len <= MAX (c_code, MAX (c_class, c_price)) || strlen (f->pdata[c_code]) == 0)
        continue;
      {
        Drug d = { { 0 } };

        g_strlcpy (d.code, f->pdata[c_code], sizeof d.code);
        d.cls = ((char *) f->pdata[c_class])[0];
        d.price_e4 = llround (g_ascii_strtod (f->pdata[c_price], NULL) * 10000);
        g_array_append_val (drugs, d);
      }
    }
  g_assert_cmpuint (drugs->len, >, 100);
  return drugs;
}

static void
random_basket (GRand  *rand,
               GArray *drugs,
               Basket *b,
               gboolean expensive)
{
  memset (b, 0, sizeof *b);
  b->n = g_rand_int_range (rand, 1, 7);
  for (guint i = 0; i < b->n; i++)
    {
      Item *it = &b->items[i];
      int kind = g_rand_int_range (rand, 0, 20);

      if (kind == 0)
        {
          /* a code the centre's catalogue does not know */
          g_snprintf (it->code, sizeof it->code, "XZ9999999999999999%05d", g_rand_int_range (rand, 0, 100000));
          it->cls = 0;
        }
      else
        {
          const Drug *d = &g_array_index (drugs, Drug, g_rand_int_range (rand, 0, drugs->len));

          g_strlcpy (it->code, d->code, sizeof it->code);
          it->cls = d->cls;
        }
      /* 4-decimal prices: the catalogue's, or any, some of them dear */
      it->pric_e4 = kind < 8 && kind > 0 ? g_array_index (drugs, Drug, 0).price_e4 + g_rand_int_range (rand, 0, 10000)
                  : expensive ? g_rand_int_range (rand, 1, 1500000) : g_rand_int_range (rand, 1, 60000);
      /* whole boxes, or a split pack's units, now and then half a unit */
      it->cnt_e2 = g_rand_int_range (rand, 1, 61) * 100 + (g_rand_int_range (rand, 0, 8) == 0 ? 50 : 0);
    }
}

/* --- tests ----------------------------------------------------------------- */

static void
test_persons (void)
{
  Centre c;
  g_autoptr(JsonObject) qr = NULL;
  g_autoptr(JsonObject) card = NULL;
  g_autoptr(JsonObject) id = NULL;
  g_autoptr(JsonObject) sus = NULL;
  g_autoptr(JsonObject) pre = NULL;
  g_autoptr(JsonObject) settle = NULL;
  g_autofree char *certno = NULL;
  Basket b = { { { "XC08CA00000000000001001", 1500, 2800, 'A' } }, 1 };
  g_autofree char *input = basket_json (&suspended, &b, 420, TRUE, FALSE, NULL);
  JsonObject *info;

  centre_start (&c, "persons", NULL);
  qr = person (&c, "01", employee.qr);
  g_assert_cmpint (infcode (qr), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (output (qr), "baseinfo"), "psn_name"), ==, employee.name);
  certno = g_strdup (json_object_get_string_member (json_object_get_object_member (output (qr), "baseinfo"), "certno"));
  g_assert_cmpstr (certno, ==, "110101197803150010");
  card = person (&c, "03", employee.card);
  g_assert_cmpint (infcode (card), ==, 0);
  id = person (&c, "02", certno);
  g_assert_cmpint (infcode (id), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (output (id), "baseinfo"), "psn_no"), ==, employee.psn_no);
  info = json_array_get_object_element (json_object_get_array_member (output (card), "insuinfo"), 0);
  g_assert_cmpstr (json_object_get_string_member (info, "insutype"), ==, "310");
  g_assert_cmpint (fen (info, "balc"), ==, employee.balance);
  g_assert_cmpstr (json_object_get_string_member (info, "psn_insu_stas"), ==, "1");
  {
    g_autoptr(JsonObject) wrong = person (&c, "03", employee.qr);

    g_assert_cmpint (infcode (wrong), ==, -1);
  }
  /* The suspended person: 1101 says so, 2101 and 2102 refuse in words. */
  sus = person (&c, "01", suspended.qr);
  g_assert_cmpint (infcode (sus), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (output (sus), "insuinfo"), 0),
                                                  "psn_insu_stas"), ==, "2");
  pre = call (&c, "2101", "110101", input);
  g_assert_cmpint (infcode (pre), ==, -1);
  g_assert_nonnull (strstr (err_msg (pre), "暂停参保"));
  settle = call (&c, "2102", "110101", input);
  g_assert_cmpint (infcode (settle), ==, -1);
  g_assert_nonnull (strstr (err_msg (settle), "暂停参保"));
  g_assert_cmpint (count_rows (c.state, "SELECT count(*) FROM nhsa_settlement"), ==, 0);
  centre_stop (&c);
}

typedef struct {
  const Insured *who;
  char           qr[32];
  char           psn_no[32];
  const Rule    *rule;
  gint64         ded_used, pool_used, balance;
  GPtrArray     *settled;      /* setl_id, mdtrt_id of uncancelled settlements (and their amounts) */
} Model;

typedef struct {
  char   setl_id[40];
  char   mdtrt_id[40];
  int    year;
  gint64 dedc, hifp, acct;
} Held;

/* A few hundred baskets against a model of each person's year. */
static void
test_arithmetic (void)
{
  Centre c;
  g_autoptr(GArray) drugs = catalogue ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261120);
  /* the fixed persons but the suspended one, and the first 14 seeded */
  static const char *qrs[] = { "QR11010199000001", "QR11010199000002", "QR11010199000003", "QR11010199000004",
                               "QR11010199000005", "QR11010500000001", "QR11010500000002", "QR11010500000003",
                               "QR11010500000004", "QR11010500000005", "QR11010500000006", "QR11010500000007",
                               "QR11010500000008", "QR11010500000009", "QR11010500000010", "QR11010500000011",
                               "QR11010500000012", "QR11010500000013", "QR11010500000014" };
  Model models[G_N_ELEMENTS (qrs)];
  guint settled = 0, refused = 0, cancelled = 0, presettled = 0, cap_hits = 0, cap_crossings = 0, ded_crossings = 0;
  guint acct_used = 0, acct_emptied = 0;
  int year = 0;

  centre_start (&c, "arithmetic", "--now", "2026-11-20T10:00:00+08:00", NULL);
  year = 2026;
  for (guint i = 0; i < G_N_ELEMENTS (qrs); i++)
    {
      g_autoptr(JsonObject) o = person (&c, "01", qrs[i]);
      JsonObject *info = json_array_get_object_element (json_object_get_array_member (output (o), "insuinfo"), 0);

      g_assert_cmpint (infcode (o), ==, 0);
      memset (&models[i], 0, sizeof models[i]);
      g_strlcpy (models[i].qr, qrs[i], sizeof models[i].qr);
      g_strlcpy (models[i].psn_no, json_object_get_string_member (json_object_get_object_member (output (o), "baseinfo"), "psn_no"),
                 sizeof models[i].psn_no);
      models[i].rule = g_str_equal (json_object_get_string_member (info, "insutype"), "310") ? &rule_310 : &rule_390;
      models[i].balance = fen (info, "balc");
      models[i].settled = g_ptr_array_new_with_free_func (g_free);
    }
  for (guint n = 0; n < 400; n++)
    {
      Model *m = &models[g_rand_int_range (rand, 0, G_N_ELEMENTS (qrs))];
      Insured who = { m->psn_no, m->qr, NULL, NULL, m->rule == &rule_310 ? "310" : "390", 0 };
      const char *area = g_str_has_prefix (m->qr, "QR110101") ? "110101" : "110105";
      gboolean account = g_rand_boolean (rand);
      gboolean commit = g_rand_int_range (rand, 0, 4) != 0;
      gboolean wrong_total = g_rand_int_range (rand, 0, 25) == 0;
      Basket b;
      Expect e;
      g_autofree char *input = NULL;
      g_autoptr(JsonObject) o = NULL;

      if (n == 250)
        {
          /* A new calendar year (China time) starts the deductible and cap afresh. */
          g_assert_cmpuint (sandbox_control (&c.sb, "clock", "{\"now\":\"2027-01-01T00:00:05+08:00\"}", NULL), ==, 200);
          year = 2027;
          for (guint i = 0; i < G_N_ELEMENTS (qrs); i++)
            models[i].ded_used = models[i].pool_used = 0;
        }
      /* now and then a cancellation of an earlier settlement this year */
      if (m->settled->len > 0 && g_rand_int_range (rand, 0, 8) == 0)
        {
          guint k = g_rand_int_range (rand, 0, m->settled->len);
          Held *h = m->settled->pdata[k];
          g_autofree char *cancel = g_strdup_printf ("{\"data\":{\"setl_id\":\"%s\",\"mdtrt_id\":\"%s\",\"psn_no\":\"%s\"}}",
                                                     h->setl_id, h->mdtrt_id, m->psn_no);
          g_autoptr(JsonObject) r = call (&c, "2103", area, cancel);

          g_assert_cmpint (infcode (r), ==, 0);
          if (h->year == year)
            {
              m->ded_used -= h->dedc;
              m->pool_used -= h->hifp;
            }
          m->balance += h->acct;
          g_assert_cmpint (fen (json_object_get_object_member (output (r), "setlinfo"), "balc"), ==, m->balance);
          g_ptr_array_remove_index (m->settled, k);
          cancelled++;
        }
      random_basket (rand, drugs, &b, g_rand_int_range (rand, 0, 6) == 0);
      expect (m->rule, &b, m->ded_used, m->pool_used, m->balance, account, &e);
      input = basket_json (&who, &b, e.total + (wrong_total ? 1 : 0), account, g_rand_boolean (rand), NULL);
      o = call (&c, commit ? "2102" : "2101", area, input);
      if (wrong_total)
        {
          g_assert_cmpint (infcode (o), ==, -1);
          g_assert_nonnull (strstr (err_msg (o), "medfee_sumamt"));
          refused++;
          continue;
        }
      g_assert_cmpint (infcode (o), ==, 0);
      assert_setlinfo (json_object_get_object_member (output (o), "setlinfo"), &e);
      {
        JsonArray *cut = json_object_get_array_member (output (o), "detlcutinfo");

        g_assert_cmpuint (json_array_get_length (cut), ==, b.n);
        for (guint i = 0; i < b.n; i++)
          {
            JsonObject *l = json_array_get_object_element (cut, i);
            char cls = b.items[i].cls;

            g_assert_cmpstr (json_object_get_string_member (l, "chrgitm_lv"), ==, cls == 'A' ? "01" : cls == 'B' ? "02" : "03");
            g_assert_cmpint (fen (l, "det_item_fee_sumamt"), ==, half_up (b.items[i].pric_e4 * b.items[i].cnt_e2, 10000));
          }
      }
      if (e.dedc > 0 && e.dedc < e.scope)
        ded_crossings++;
      if (e.hifp < half_up ((e.scope - e.dedc) * m->rule->pool_bp, 10000))
        {
          cap_hits++;
          cap_crossings += e.hifp > 0;
        }
      if (e.acct > 0)
        acct_used++;
      if (e.acct > 0 && e.acct < e.part)
        acct_emptied++;
      if (!commit)
        {
          presettled++;
          continue;
        }
      {
        JsonObject *s = json_object_get_object_member (output (o), "setlinfo");
        Held *h = g_new0 (Held, 1);
        g_autofree char *msgid_sql = NULL;

        g_strlcpy (h->setl_id, json_object_get_string_member (s, "setl_id"), sizeof h->setl_id);
        g_strlcpy (h->mdtrt_id, json_object_get_string_member (s, "mdtrt_id"), sizeof h->mdtrt_id);
        g_assert_cmpuint (strlen (json_object_get_string_member (s, "medins_setl_id")), ==, 30);
        g_assert_cmpstr (json_object_get_string_member (s, "clr_optins"), ==, area);
        h->year = year;
        h->dedc = e.dedc;
        h->hifp = e.hifp;
        h->acct = e.acct;
        g_ptr_array_add (m->settled, h);
        m->ded_used += e.dedc;
        m->pool_used += e.hifp;
        m->balance -= e.acct;
        settled++;
      }
    }
  g_test_message ("baskets: %u settled, %u pre-settled, %u refused (total), %u cancelled; %u crossed the deductible,"
                  " %u met the cap (%u crossing it), %u paid from the account (%u emptying it)",
                  settled, presettled, refused, cancelled, ded_crossings, cap_hits, cap_crossings, acct_used, acct_emptied);
  g_assert_cmpuint (ded_crossings, >, 5);
  g_assert_cmpuint (cap_crossings, >, 5);
  g_assert_cmpuint (settled + presettled - cap_hits, >, 100);   /* most under the cap */
  g_assert_cmpuint (acct_emptied, >, 2);
  g_assert_cmpuint (acct_used, >, 5);
  g_assert_cmpuint (cancelled, >, 5);
  /* the model's balances are the centre's */
  for (guint i = 0; i < G_N_ELEMENTS (qrs); i++)
    {
      g_assert_cmpint (balance_of (&c, models[i].qr), ==, models[i].balance);
      g_ptr_array_unref (models[i].settled);
    }
  centre_stop (&c);
}

/* Another policy file: its numbers, not the defaults. */
static void
test_policy_file (void)
{
  Centre c;
  g_autofree char *policy = g_build_filename (state_root, "policy.ini", NULL);
  Basket b = { { { "XC08CA00000000000001004", 100000, 300, 'B' } }, 1 };   /* class B, 3 × 10.00 */
  g_autofree char *input = basket_json (&employee, &b, 3000, FALSE, FALSE, NULL);
  g_autoptr(JsonObject) o = NULL;
  JsonObject *s;

  g_assert_true (g_file_set_contents (policy, "[310]\nb_selfpay_first_bp=2000\ndeductible=5.00\npool_ratio_bp=9000\npool_cap=10.00\n", -1, NULL));
  centre_start (&c, "policy", "--insurance-policy", policy, NULL);
  o = call (&c, "2101", "110101", input);
  g_assert_cmpint (infcode (o), ==, 0);
  s = json_object_get_object_member (output (o), "setlinfo");
  g_assert_cmpint (fen (s, "preselfpay_amt"), ==, 600);
  g_assert_cmpint (fen (s, "inscp_scp_amt"), ==, 2400);
  g_assert_cmpint (fen (s, "act_pay_dedc"), ==, 500);
  g_assert_cmpint (fen (s, "hifp_pay"), ==, 1000);   /* 90% of 19.00 is 17.10, capped at 10.00 */
  centre_stop (&c);
}

static JsonObject *
query (Centre     *c,
       const char *setl_id,
       const char *psn_no)
{
  g_autofree char *input = g_strdup_printf ("{\"data\":{\"psn_no\":\"%s\",\"setl_id\":\"%s\",\"mdtrt_id\":\"\"}}", psn_no, setl_id);

  return call (c, "5203", "110101", input);
}

static const char *
setl_state (JsonObject *o)
{
  g_assert_cmpint (infcode (o), ==, 0);
  return json_object_get_string_member (json_object_get_object_member (output (o), "setlinfo"), "setl_state");
}

static char *
settle_one (Centre        *c,
            const Insured *p,
            const char    *msgid,
            char         **mdtrt_id)
{
  Basket b = { { { "XC08CA00000000000001001", 1500, 2800, 'A' }, { "XC09AA00000000000001006", 26000, 3000, 'B' } }, 2 };
  g_autofree char *input = basket_json (p, &b, 420 + 7800, TRUE, FALSE, NULL);
  g_autoptr(JsonObject) o = call_as (c, "2102", msgid, "110101", input);
  JsonObject *s;

  g_assert_cmpint (infcode (o), ==, 0);
  s = json_object_get_object_member (output (o), "setlinfo");
  g_assert_cmpstr (json_object_get_string_member (s, "medins_setl_id"), ==, msgid);
  if (mdtrt_id != NULL)
    *mdtrt_id = g_strdup (json_object_get_string_member (s, "mdtrt_id"));
  return g_strdup (json_object_get_string_member (s, "setl_id"));
}

static JsonObject *
cancel (Centre     *c,
        const char *msgid,
        const char *setl_id,
        const char *mdtrt_id)
{
  g_autofree char *input = g_strdup_printf ("{\"data\":{\"setl_id\":\"%s\",\"mdtrt_id\":\"%s\",\"psn_no\":\"%s\"}}",
                                            setl_id, mdtrt_id, employee.psn_no);

  return call_as (c, "2103", msgid, "110101", input);
}

static JsonObject *
reverse (Centre     *c,
         const char *omsgid,
         const char *oinfno)
{
  g_autofree char *input = g_strdup_printf ("{\"data\":{\"psn_no\":\"%s\",\"omsgid\":\"%s\",\"oinfno\":\"%s\"}}",
                                            employee.psn_no, omsgid, oinfno);

  return call (c, "2601", "110101", input);
}

static gboolean
reversed (JsonObject *o)
{
  g_assert_cmpint (infcode (o), ==, 0);
  return json_object_get_boolean_member (output (o), "reversed");
}

static void
test_refund (void)
{
  Centre c;
  g_autofree char *msgid = NULL;
  g_autofree char *mdtrt_id = NULL;
  g_autofree char *setl_id = NULL;
  g_autofree char *cancel_msgid = NULL;
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonObject) again = NULL;
  g_autoptr(JsonObject) of_refund = NULL;
  g_autoptr(JsonObject) q1 = NULL;
  g_autoptr(JsonObject) q2 = NULL;
  g_autoptr(JsonObject) none = NULL;
  JsonObject *s;
  gint64 before;

  centre_start (&c, "refund", NULL);
  before = balance_of (&c, employee.qr);
  msgid = next_msgid (&c);
  setl_id = settle_one (&c, &employee, msgid, &mdtrt_id);
  g_assert_cmpint (balance_of (&c, employee.qr), <, before);
  cancel_msgid = next_msgid (&c);
  r = cancel (&c, cancel_msgid, setl_id, mdtrt_id);
  g_assert_cmpint (infcode (r), ==, 0);
  s = json_object_get_object_member (output (r), "setlinfo");
  /* a refund settlement of its own, positive amounts */
  g_assert_cmpstr (json_object_get_string_member (s, "setl_id"), !=, setl_id);
  g_assert_cmpint (json_object_get_int_member (s, "refd_setl_flag"), ==, 1);
  g_assert_cmpint (fen (s, "medfee_sumamt"), ==, 8220);
  g_assert_cmpint (fen (s, "acct_pay"), >, 0);
  g_assert_cmpstr (json_object_get_string_member (s, "medins_setl_id"), ==, cancel_msgid);
  /* the balance, the deductible and the cap given back */
  g_assert_cmpint (balance_of (&c, employee.qr), ==, before);
  g_assert_cmpint (count_rows (c.state, "SELECT deductible_fen + pool_fen FROM nhsa_year WHERE psn_no = '1100000020000001'"), ==, 0);
  q1 = query (&c, setl_id, employee.psn_no);
  g_assert_cmpstr (setl_state (q1), ==, "2");
  q2 = query (&c, json_object_get_string_member (s, "setl_id"), employee.psn_no);
  g_assert_cmpstr (setl_state (q2), ==, "1");
  {
    g_autofree char *m2 = next_msgid (&c);
    g_autofree char *m3 = next_msgid (&c);

    again = cancel (&c, m2, setl_id, mdtrt_id);
    g_assert_cmpint (infcode (again), ==, -1);
    g_assert_nonnull (strstr (err_msg (again), "已撤销"));
    of_refund = cancel (&c, m3, json_object_get_string_member (s, "setl_id"), mdtrt_id);
    g_assert_cmpint (infcode (of_refund), ==, -1);
    g_assert_nonnull (strstr (err_msg (of_refund), "退费"));
  }
  none = query (&c, "110105199999999999999999999999", employee.psn_no);
  g_assert_cmpint (infcode (none), ==, -1);
  g_assert_nonnull (strstr (err_msg (none), "no such settlement"));
  centre_stop (&c);
}

static void
test_reversal (void)
{
  Centre c;
  g_autofree char *msgid = NULL;
  g_autofree char *setl_id = NULL;
  g_autofree char *mdtrt_id = NULL;
  g_autofree char *late = NULL;
  g_autofree char *m2 = NULL;
  g_autofree char *s2 = NULL;
  g_autofree char *md2 = NULL;
  g_autofree char *cm = NULL;
  g_autofree char *m3 = NULL;
  g_autofree char *s3 = NULL;
  g_autofree char *md3 = NULL;
  g_autofree char *cm3 = NULL;
  gint64 before;

  centre_start (&c, "reversal", NULL);
  before = balance_of (&c, employee.qr);
  /* a committed 2102: undone, the ledger back */
  msgid = next_msgid (&c);
  setl_id = settle_one (&c, &employee, msgid, &mdtrt_id);
  {
    g_autoptr(JsonObject) r = reverse (&c, msgid, "2102");
    g_autoptr(JsonObject) r2 = reverse (&c, msgid, "2102");
    g_autoptr(JsonObject) q = query (&c, setl_id, employee.psn_no);
    g_autoptr(JsonObject) wrong = reverse (&c, msgid, "3505");

    g_assert_true (reversed (r));
    g_assert_false (reversed (r2));          /* already reversed: harmless */
    g_assert_cmpstr (setl_state (q), ==, "3");
    g_assert_cmpint (balance_of (&c, employee.qr), ==, before);
    g_assert_cmpint (count_rows (c.state, "SELECT deductible_fen + pool_fen FROM nhsa_year WHERE psn_no = '1100000020000001'"), ==, 0);
    g_assert_false (reversed (wrong));       /* reversed already, whatever it names */
  }
  /* never seen: a tombstone, and the original refused when it comes */
  late = next_msgid (&c);
  {
    g_autoptr(JsonObject) r = reverse (&c, late, "2102");
    Basket b = { { { "XC08CA00000000000001001", 1500, 2800, 'A' } }, 1 };
    g_autofree char *input = basket_json (&employee, &b, 420, TRUE, FALSE, NULL);
    g_autoptr(JsonObject) o = call_as (&c, "2102", late, "110101", input);

    g_assert_false (reversed (r));
    g_assert_cmpint (infcode (o), ==, -1);
    g_assert_nonnull (strstr (err_msg (o), "冲正"));
    g_assert_cmpint (count_rows (c.state, "SELECT count(*) FROM nhsa_settlement WHERE state = 1"), ==, 0);
  }
  /* a 2102 the centre refused: nothing to undo, harmless */
  {
    g_autofree char *refused = next_msgid (&c);
    Basket b = { { { "XC08CA00000000000001001", 1500, 2800, 'A' } }, 1 };
    g_autofree char *input = basket_json (&employee, &b, 421, TRUE, FALSE, NULL);
    g_autoptr(JsonObject) o = call_as (&c, "2102", refused, "110101", input);
    g_autoptr(JsonObject) r = NULL;

    g_assert_cmpint (infcode (o), ==, -1);
    r = reverse (&c, refused, "2102");
    g_assert_false (reversed (r));
  }
  /* a settlement cancelled since: refused */
  m2 = next_msgid (&c);
  s2 = settle_one (&c, &employee, m2, &md2);
  cm = next_msgid (&c);
  {
    g_autoptr(JsonObject) cancelled = cancel (&c, cm, s2, md2);
    g_autoptr(JsonObject) r = reverse (&c, m2, "2102");

    g_assert_cmpint (infcode (cancelled), ==, 0);
    g_assert_cmpint (infcode (r), ==, -1);
    g_assert_nonnull (strstr (err_msg (r), "已撤销"));
  }
  /* a 2103 reversed: the original settled again, its use taken again */
  m3 = next_msgid (&c);
  s3 = settle_one (&c, &employee, m3, &md3);
  {
    gint64 after_settle = balance_of (&c, employee.qr);
    g_autoptr(JsonObject) cancelled = NULL;
    g_autoptr(JsonObject) r = NULL;
    g_autoptr(JsonObject) q = NULL;

    cm3 = next_msgid (&c);
    cancelled = cancel (&c, cm3, s3, md3);
    g_assert_cmpint (infcode (cancelled), ==, 0);
    r = reverse (&c, cm3, "2103");
    g_assert_true (reversed (r));
    q = query (&c, s3, employee.psn_no);
    g_assert_cmpstr (setl_state (q), ==, "1");
    g_assert_cmpint (balance_of (&c, employee.qr), ==, after_settle);
  }
  centre_stop (&c);
}

static JsonObject *
sale (Centre     *c,
      const char *infno,
      const char *msgid,
      const char *setl_id,
      const char *drug,
      int         setl_type,
      int         trdn,
      const char *docno,
      const char *codes)
{
  g_autofree char *input = g_strdup_printf (
    "{\"selinfo\":{\"med_list_codg\":\"%s\",\"fixmedins_hilist_id\":\"YP1001\",\"fixmedins_hilist_name\":\"x\","
    "\"fixmedins_bchno\":\"L1\",\"prsc_dr_name\":\"\",\"phar_name\":\"\",\"phar_prac_cert_no\":\"\",\"hi_feesetl_type\":\"1\","
    "\"setl_id\":\"%s\",\"mdtrt_sn\":\"\",\"psn_no\":\"%s\",\"psn_cert_type\":\"01\",\"certno\":\"\",\"psn_name\":\"\","
    "\"manu_lotnum\":\"L1\",\"manu_date\":\"2026-01-01\",\"expy_end\":\"2028-01-01\",\"rx_flag\":\"1\",\"trdn_flag\":\"%d\","
    "\"finl_trns_pric\":0.15,\"rxno\":\"RX-T\",\"rx_circ_flag\":\"0\",\"rtal_docno\":\"%s\",\"sel_retn_cnt\":28,"
    "\"sel_retn_time\":\"2026-11-20 10:00:00\",\"sel_retn_opter_name\":\"clerk\",\"mdtrt_setl_type\":\"%d\","
    "\"drugtracinfo\":[%s]}}",
    drug, setl_id != NULL ? setl_id : "", setl_type == 1 ? employee.psn_no : "", trdn, docno != NULL ? docno : "", setl_type, codes);

  return call_as (c, infno, msgid, setl_type == 1 ? "110101" : NULL, input);
}

#define CODE(n) "{\"drug_trac_codg\":\"690100100000000" n "\"}"

static void
test_sales (void)
{
  Centre c;
  g_autofree char *m1 = NULL;
  g_autofree char *m2 = NULL;
  g_autofree char *s1 = NULL;
  g_autofree char *s2 = NULL;
  const char *drug = "XC08CA00000000000001001";
  g_autofree char *sold = NULL;

  centre_start (&c, "sales", NULL);
  m1 = next_msgid (&c);
  s1 = settle_one (&c, &employee, m1, NULL);
  m2 = next_msgid (&c);
  s2 = settle_one (&c, &employee, m2, NULL);
  {
    g_autofree char *a = next_msgid (&c);
    g_autofree char *b = next_msgid (&c);
    g_autofree char *d = next_msgid (&c);
    g_autofree char *e = next_msgid (&c);
    g_autoptr(JsonObject) first = sale (&c, "3505", a, s1, drug, 1, 0, NULL, CODE ("00001") "," CODE ("00002"));
    g_autoptr(JsonObject) same = sale (&c, "3505", b, s1, drug, 1, 0, NULL, CODE ("00001"));
    g_autoptr(JsonObject) other = sale (&c, "3505", d, s2, drug, 1, 0, NULL, CODE ("00002"));
    g_autoptr(JsonObject) not_in = sale (&c, "3505", e, s2, "XC09AA00000000000009999", 1, 0, NULL, CODE ("00009"));

    g_assert_cmpint (infcode (first), ==, 0);
    g_assert_cmpint (json_object_get_int_member (output (first), "retRslt"), ==, 1);
    g_assert_cmpint (infcode (same), ==, 0);             /* the same (setl_id, code) again */
    g_assert_cmpint (infcode (other), ==, -1);           /* sold under another sale */
    g_assert_nonnull (strstr (err_msg (other), "69010010000000000002"));
    g_assert_cmpint (infcode (not_in), ==, -1);          /* a drug the settlement does not hold */
  }
  /* split packs: one box's code under several split-pack sales; not whole */
  {
    g_autofree char *a = next_msgid (&c);
    g_autofree char *b = next_msgid (&c);
    g_autofree char *d = next_msgid (&c);
    g_autoptr(JsonObject) x = sale (&c, "3505", a, s1, drug, 1, 1, NULL, CODE ("00003"));
    g_autoptr(JsonObject) y = sale (&c, "3505", b, s2, drug, 1, 1, NULL, CODE ("00003"));
    g_autoptr(JsonObject) z = sale (&c, "3505", d, NULL, drug, 2, 0, "D-1", CODE ("00003"));

    g_assert_cmpint (infcode (x), ==, 0);
    g_assert_cmpint (infcode (y), ==, 0);
    g_assert_cmpint (infcode (z), ==, -1);
  }
  /* self-paid, no setl_id; then returned (3506) and sold again */
  {
    g_autofree char *a = next_msgid (&c);
    g_autofree char *b = next_msgid (&c);
    g_autofree char *d = next_msgid (&c);
    g_autofree char *e = next_msgid (&c);
    g_autofree char *f = next_msgid (&c);
    g_autoptr(JsonObject) self = sale (&c, "3505", a, NULL, drug, 2, 0, "D-2", CODE ("00004"));
    g_autoptr(JsonObject) taken = sale (&c, "3505", b, s2, drug, 1, 0, NULL, CODE ("00004"));
    g_autoptr(JsonObject) back = sale (&c, "3506", d, NULL, drug, 2, 0, "D-2", CODE ("00004"));
    g_autoptr(JsonObject) again = sale (&c, "3505", e, s2, drug, 1, 0, NULL, CODE ("00004"));
    g_autoptr(JsonObject) twice = sale (&c, "3506", f, NULL, drug, 2, 0, "D-2", CODE ("00004"));

    g_assert_cmpint (infcode (self), ==, 0);
    g_assert_cmpint (infcode (taken), ==, -1);
    g_assert_cmpint (infcode (back), ==, 0);
    g_assert_cmpint (infcode (again), ==, 0);
    g_assert_cmpint (infcode (twice), ==, -1);          /* not sold under D-2 any more */
    /* the return reversed: refused, the code is sold again elsewhere */
    {
      g_autoptr(JsonObject) r = reverse (&c, d, "3506");

      g_assert_cmpint (infcode (r), ==, -1);
    }
  }
  /* a sale reversed frees its codes */
  {
    g_autofree char *a = next_msgid (&c);
    g_autofree char *b = next_msgid (&c);
    g_autoptr(JsonObject) x = sale (&c, "3505", a, s1, drug, 1, 0, NULL, CODE ("00005"));
    g_autoptr(JsonObject) r = reverse (&c, a, "3505");
    g_autoptr(JsonObject) y = sale (&c, "3505", b, s2, drug, 1, 0, NULL, CODE ("00005"));

    g_assert_cmpint (infcode (x), ==, 0);
    g_assert_true (reversed (r));
    g_assert_cmpint (infcode (y), ==, 0);
  }
  sold = query_text (c.state, "SELECT group_concat (code, ',') FROM nhsa_sold_code WHERE returned_by IS NULL");
  g_assert_nonnull (sold);
  centre_stop (&c);
}

/* A sandbox a year off still answers the real-time gateway; a stale
 * timestamp is still refused. */
static void
test_gateway_real_clock (void)
{
  Centre c;
  g_autoptr(JsonObject) o = NULL;

  centre_start (&c, "gateway-now", "--now", "2027-12-01T09:00:00+08:00", NULL);
  o = person (&c, "01", employee.qr);
  g_assert_cmpint (infcode (o), ==, 0);
  {
    g_autofree char *ts = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC - 301);
    g_autofree char *plain = g_strconcat (ts, c.sb.config->insurance_token, "0123456789abcdef0123456789abcdef", ts, NULL);
    g_autofree char *sig = g_compute_checksum_for_string (G_CHECKSUM_SHA256, plain, -1);
    const char *headers[] = { "x-tif-paasid", c.sb.config->insurance_paasid, "x-tif-timestamp", ts,
                              "x-tif-nonce", "0123456789abcdef0123456789abcdef", "x-tif-signature", sig, NULL };

    g_assert_cmpuint (request ("POST", c.sb.config->insurance_url, "application/json", "{}", headers, NULL), ==, 401);
  }
  centre_stop (&c);
}

/* drop-response: the 2102 commits, its answer is lost; 5203 and 2601
 * find it. */
static void
test_lost_answer (void)
{
  Centre c;
  g_autofree char *msgid = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *setl_id = NULL;
  Basket b = { { { "XC08CA00000000000001001", 1500, 2800, 'A' } }, 1 };
  g_autofree char *input = basket_json (&employee, &b, 420, TRUE, FALSE, NULL);
  g_autofree char *arm = NULL;
  JsonObject *o = NULL;

  centre_start (&c, "lost-answer", NULL);
  arm = g_strdup_printf ("{\"fault\":\"drop-response\",\"path\":\"/nhsa/fsi/api/rsfComIfsService/callService\",\"times\":1}");
  g_assert_cmpuint (sandbox_control (&c.sb, "faults", arm, NULL), ==, 200);
  msgid = next_msgid (&c);
  g_assert_cmpuint (post (&c, "2102", msgid, "110101", input, &o, NULL), ==, 0);
  g_assert_null (o);
  sql = g_strdup_printf ("SELECT setl_id FROM nhsa_settlement WHERE msgid = '%s'", msgid);
  setl_id = query_text (c.state, sql);
  g_assert_nonnull (setl_id);
  {
    g_autoptr(JsonObject) q = query (&c, setl_id, employee.psn_no);
    g_autoptr(JsonObject) r = reverse (&c, msgid, "2102");
    g_autoptr(JsonObject) q2 = query (&c, setl_id, employee.psn_no);

    g_assert_cmpstr (setl_state (q), ==, "1");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (output (q), "setlinfo"), "medins_setl_id"), ==, msgid);
    g_assert_true (reversed (r));
    g_assert_cmpstr (setl_state (q2), ==, "3");
  }
  /* the same msgid again: refused, never a second settlement */
  {
    g_autoptr(JsonObject) again = call_as (&c, "2102", msgid, "110101", input);

    g_assert_cmpint (infcode (again), ==, -1);
    g_assert_cmpint (count_rows (c.state, "SELECT count(*) FROM nhsa_settlement"), ==, 1);
  }
  centre_stop (&c);
}

/* Money goes out as JSON numbers with two decimals, never 12.339999. */
static void
test_money_on_the_wire (void)
{
  Centre c;
  Basket b = { { { "XC09AA00000000000001006", 12345, 333, 'B' } }, 1 };
  g_autofree char *input = basket_json (&employee, &b, half_up (12345 * 333, 10000), TRUE, TRUE, NULL);
  g_autofree char *msgid = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GRegex) money = g_regex_new ("\"(medfee_sumamt|hifp_pay|psn_cash_pay|balc|acct_pay)\":(-?[0-9]+\\.[0-9]{2})[,}]", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  guint n = 0;

  centre_start (&c, "money", NULL);
  msgid = next_msgid (&c);
  g_assert_cmpuint (post (&c, "2101", msgid, "110101", input, NULL, &text), ==, 200);
  g_assert_nonnull (strstr (text, "\"infcode\":0"));
  for (g_regex_match (money, text, 0, &match); g_match_info_matches (match); g_match_info_next (match, NULL))
    n++;
  g_assert_cmpuint (n, ==, 5);
  g_assert_null (strstr (text, "99999"));
  centre_stop (&c);
}

/* A state made before the ledger (schema 4) is upgraded: its people get
 * QR tokens and card numbers, the fixed persons join them. */
static void
test_upgrade (void)
{
  g_autofree char *state = new_state ("upgrade");
  g_autofree char *db = g_build_filename (state, "sandbox.db", NULL);
  Sandbox sb = { 0 };
  Centre c;
  sqlite3 *h = NULL;
  const char *back_to_4 =
    "DROP TABLE nhsa_year; DROP TABLE nhsa_settlement_line; DROP TABLE nhsa_settlement; DROP TABLE nhsa_reversal;"
    "DROP TABLE nhsa_sold_code; DROP TABLE nhsa_upload; DROP TABLE nhsa_counter; DROP TRIGGER person_certificates;"
    "DELETE FROM person WHERE patient_id LIKE 'pat-insured-%';"
    "DROP INDEX person_qr_token; DROP INDEX person_card_no;"
    "ALTER TABLE person DROP COLUMN qr_token; ALTER TABLE person DROP COLUMN card_no; ALTER TABLE person DROP COLUMN insu_status;"
    "PRAGMA user_version = 4;";

  sandbox_start (&sb, state, NULL);
  sandbox_stop (&sb, SIGTERM);
  g_assert_cmpint (sqlite3_open (db, &h), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (h, back_to_4, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (h);
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM person"), ==, 24);

  memset (&c, 0, sizeof c);
  c.state = g_steal_pointer (&state);
  sandbox_start (&c.sb, c.state, NULL);
  {
    g_autoptr(JsonObject) o = call (&c, "9001", NULL, "{\"signIn\":{\"opter_no\":\"clerk01\"}}");

    c.sign_no = g_strdup (json_object_get_string_member (json_object_get_object_member (output (o), "signinoutb"), "sign_no"));
  }
  {
    g_autoptr(JsonObject) seeded = person (&c, "03", "K10000003");
    g_autoptr(JsonObject) fixed = person (&c, "01", employee.qr);

    g_assert_cmpint (infcode (seeded), ==, 0);
    g_assert_cmpint (infcode (fixed), ==, 0);
  }
  centre_stop (&c);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  harness_init ();
  g_test_add_func ("/sandbox-insurance/persons", test_persons);
  g_test_add_func ("/sandbox-insurance/arithmetic", test_arithmetic);
  g_test_add_func ("/sandbox-insurance/policy-file", test_policy_file);
  g_test_add_func ("/sandbox-insurance/refund", test_refund);
  g_test_add_func ("/sandbox-insurance/reversal", test_reversal);
  g_test_add_func ("/sandbox-insurance/sales", test_sales);
  g_test_add_func ("/sandbox-insurance/gateway-real-clock", test_gateway_real_clock);
  g_test_add_func ("/sandbox-insurance/lost-answer", test_lost_answer);
  g_test_add_func ("/sandbox-insurance/money-on-the-wire", test_money_on_the_wire);
  g_test_add_func ("/sandbox-insurance/upgrade", test_upgrade);
  status = g_test_run ();
  harness_done ();
  return status;
}
