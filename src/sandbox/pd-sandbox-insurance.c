/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-insurance"

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pd-json.h"
#include "pd-sandbox-insurance.h"

/* The insurance centre: the TIF gateway check, the envelope of the
 * national interfaces, a msgid seen once only, 9001, 9002 and 1101; the
 * settlements are pd-sandbox-settle.c's, reversals and sales
 * pd-sandbox-ledger.c's. Reconciliation arrives with its issue. */

#define STALE_S 300

static void
gateway_refuse (SoupServerMessage *msg,
                const char        *why)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "error");
  json_builder_set_member_name (b, "infcode");
  json_builder_add_int_value (b, -1);
  json_builder_set_member_name (b, "err_msg");
  json_builder_add_string_value (b, why);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  pd_sandbox_reply_json (msg, 401, "application/json", root);
}

/* x-tif-signature = hex SHA-256 of timestamp + token + nonce + timestamp. */
static gboolean
gateway_check (PdSandbox         *sandbox,
               SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *paasid = soup_message_headers_get_one (h, "x-tif-paasid");
  const char *timestamp = soup_message_headers_get_one (h, "x-tif-timestamp");
  const char *nonce = soup_message_headers_get_one (h, "x-tif-nonce");
  const char *signature = soup_message_headers_get_one (h, "x-tif-signature");
  g_autofree char *input = NULL;
  g_autofree char *want = NULL;
  /* The real clock, not the settable one: a sandbox started with --now
   * still answers a client whose timestamp is the real time. */
  gint64 ts, now = g_get_real_time () / G_USEC_PER_SEC;
  sqlite3_stmt *stmt;
  char *end = NULL;

  if (paasid == NULL || timestamp == NULL || nonce == NULL || signature == NULL)
    {
      gateway_refuse (msg, "gateway: x-tif-paasid, x-tif-timestamp, x-tif-nonce and x-tif-signature are required");
      return FALSE;
    }
  if (!g_str_equal (paasid, sandbox->insurance_paasid))
    {
      gateway_refuse (msg, "gateway: unknown paasid");
      return FALSE;
    }
  ts = g_ascii_strtoll (timestamp, &end, 10);
  if (end == timestamp || *end != '\0' || ts < now - STALE_S || ts > now + STALE_S)
    {
      gateway_refuse (msg, "gateway: stale timestamp (more than 300 s from the real time)");
      return FALSE;
    }
  if (strlen (nonce) != 32)
    {
      gateway_refuse (msg, "gateway: the nonce must be 32 characters");
      return FALSE;
    }
  input = g_strconcat (timestamp, sandbox->insurance_token, nonce, timestamp, NULL);
  want = g_compute_checksum_for_string (G_CHECKSUM_SHA256, input, -1);
  if (!g_str_equal (want, signature))
    {
      gateway_refuse (msg, "gateway: wrong signature");
      return FALSE;
    }
  /* A nonce is good once; remembered past the staleness window. */
  stmt = pd_store_prepare (sandbox->store, "INSERT INTO tif_nonce (nonce, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING", NULL);
  sqlite3_bind_text (stmt, 1, nonce, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, now);
  if (!pd_store_step_done (sandbox->store, stmt, NULL) || sqlite3_changes (pd_store_get_db (sandbox->store)) == 0)
    {
      gateway_refuse (msg, "gateway: nonce already used");
      return FALSE;
    }
  return TRUE;
}


static gboolean answer (PdStore *store, gpointer user_data, GError **error);

char *
pd_nhsa_china_time (PdSandbox  *sandbox,
                    const char *format)
{
  return pd_time_format_china (pd_clock_now_us (sandbox->clock), format);
}

JsonObject *
pd_nhsa_input (PdNhsaCall *call,
               const char *name)
{
  JsonObject *input = json_object_get_object_member (call->request, "input");

  return input != NULL && json_object_has_member (input, name)
         ? json_object_get_object_member (input, name) : NULL;
}

const char *
pd_nhsa_str (JsonObject *o,
             const char *member)
{
  return pd_json_str (o, member);
}

static gboolean
sign_in_valid (PdNhsaCall *call)
{
  const char *sign_no = pd_nhsa_str (call->request, "sign_no");
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;

  if (sign_no == NULL || *sign_no == '\0')
    return FALSE;
  stmt = pd_store_prepare (call->sandbox->store, "SELECT signed_out_at IS NULL FROM nhsa_sign_in WHERE sign_no = ?", NULL);
  sqlite3_bind_text (stmt, 1, sign_no, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    ok = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt);
  return ok;
}

static gboolean
do_9001 (PdNhsaCall    *call,
         GError **error)
{
  JsonObject *in = pd_nhsa_input (call, "signIn");
  const char *opter = pd_nhsa_str (in, "opter_no");
  g_autofree char *sign_no = NULL;
  g_autofree char *when = pd_nhsa_china_time (call->sandbox, "%Y-%m-%d %H:%M:%S");
  g_autoptr(JsonBuilder) b = json_builder_new ();
  sqlite3_stmt *stmt;

  if (opter == NULL || *opter == '\0')
    {
      call->err_msg = g_strdup ("签到失败：signIn.opter_no 不能为空 (operator number required)");
      return TRUE;
    }
  sign_no = g_strdup_printf ("%s%06u", pd_nhsa_china_time (call->sandbox, "%Y%m%d%H%M%S"),
                             g_random_int_range (0, 1000000));
  stmt = pd_store_prepare (call->sandbox->store, "INSERT INTO nhsa_sign_in (sign_no, opter_no, sign_time) VALUES (?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, sign_no, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, opter, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, when, -1, SQLITE_TRANSIENT);
  if (!pd_store_step_done (call->sandbox->store, stmt, error))
    return FALSE;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "signinoutb");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sign_time");
  json_builder_add_string_value (b, when);
  json_builder_set_member_name (b, "sign_no");
  json_builder_add_string_value (b, sign_no);
  json_builder_end_object (b);
  json_builder_end_object (b);
  call->output = json_builder_get_root (b);
  return TRUE;
}

static gboolean
do_9002 (PdNhsaCall    *call,
         GError **error)
{
  JsonObject *in = pd_nhsa_input (call, "signOut");
  g_autofree char *when = pd_nhsa_china_time (call->sandbox, "%Y-%m-%d %H:%M:%S");
  g_autoptr(JsonBuilder) b = json_builder_new ();
  sqlite3_stmt *stmt = pd_store_prepare (call->sandbox->store,
    "UPDATE nhsa_sign_in SET signed_out_at = ? WHERE sign_no = ? AND opter_no = ? AND signed_out_at IS NULL", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, when, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, pd_nhsa_str (in, "sign_no"), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, pd_nhsa_str (in, "opter_no"), -1, SQLITE_TRANSIENT);
  if (!pd_store_step_done (call->sandbox->store, stmt, error))
    return FALSE;
  if (sqlite3_changes (pd_store_get_db (call->sandbox->store)) == 0)
    {
      call->err_msg = g_strdup ("签退失败：签到编号不存在或已签退 (unknown or closed sign_no)");
      return TRUE;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "signoutoutb");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sign_time");
  json_builder_add_string_value (b, when);
  json_builder_end_object (b);
  json_builder_end_object (b);
  call->output = json_builder_get_root (b);
  return TRUE;
}

static int
age_on (const char *birth,
        PdSandbox  *sandbox)
{
  g_autofree char *today = pd_nhsa_china_time (sandbox, "%Y-%m-%d");
  int by, bm, bd, ty, tm, td;

  if (sscanf (birth, "%d-%d-%d", &by, &bm, &bd) != 3 || sscanf (today, "%d-%d-%d", &ty, &tm, &td) != 3)
    return 0;
  return ty - by - ((tm < bm || (tm == bm && td < bd)) ? 1 : 0);
}

/* 01 the e-voucher's QR token, 02 the ID number (data.certno when given),
 * 03 the social-security card number. */
static sqlite3_stmt *
find_person (PdStore    *store,
             JsonObject *in,
             GError    **error)
{
  const char *cert_type = pd_nhsa_str (in, "mdtrt_cert_type");
  const char *cert_no = pd_nhsa_str (in, "mdtrt_cert_no");
  const char *certno = pd_nhsa_str (in, "certno");
  const char *column = g_strcmp0 (cert_type, "01") == 0 ? "qr_token" : g_strcmp0 (cert_type, "03") == 0 ? "card_no" : "certno";
  g_autofree char *sql = g_strdup_printf (
    "SELECT psn_no, certno, name, gender, birth_date, insutype, insuplc_admdvs, emp_name, balance_fen, insu_status"
    " FROM person WHERE %s = ?1 OR (?2 AND psn_no = ?1)", column);
  sqlite3_stmt *stmt = pd_store_prepare (store, sql, error);

  if (stmt == NULL)
    return NULL;
  if (g_str_equal (column, "certno") && certno != NULL && *certno != '\0')
    cert_no = certno;
  sqlite3_bind_text (stmt, 1, cert_no != NULL ? cert_no : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, g_str_equal (column, "certno"));
  return stmt;
}

static gboolean
do_1101 (PdNhsaCall *call,
         GError    **error)
{
  JsonObject *in = pd_nhsa_input (call, "data");
  const char *cert_type = pd_nhsa_str (in, "mdtrt_cert_type");
  const char *name = pd_nhsa_str (in, "psn_name");
  sqlite3_stmt *stmt;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gboolean suspended;

  if (cert_type == NULL || (!g_str_equal (cert_type, "01") && !g_str_equal (cert_type, "02") && !g_str_equal (cert_type, "03")))
    {
      call->err_msg = g_strdup ("就诊凭证类型错误：mdtrt_cert_type 应为 01、02 或 03");
      return TRUE;
    }
  stmt = find_person (call->sandbox->store, in, error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      call->err_msg = g_strdup ("未查询到参保人员信息 (no insured person with this certificate)");
      return TRUE;
    }
  if (name != NULL && *name != '\0' && !g_str_equal (name, (const char *) sqlite3_column_text (stmt, 2)))
    {
      sqlite3_reset (stmt);
      call->err_msg = g_strdup ("人员姓名与证件号码不符 (the name does not match the certificate)");
      return TRUE;
    }
  suspended = g_str_equal ((const char *) sqlite3_column_text (stmt, 9), "2");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "baseinfo");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "psn_no");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 0));
  json_builder_set_member_name (b, "psn_cert_type");
  json_builder_add_string_value (b, "01");
  json_builder_set_member_name (b, "certno");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 1));
  json_builder_set_member_name (b, "psn_name");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 2));
  json_builder_set_member_name (b, "gend");
  json_builder_add_string_value (b, g_str_equal ((const char *) sqlite3_column_text (stmt, 3), "male") ? "1" : "2");
  json_builder_set_member_name (b, "naty");
  json_builder_add_string_value (b, "01");
  json_builder_set_member_name (b, "brdy");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 4));
  json_builder_set_member_name (b, "age");
  json_builder_add_int_value (b, age_on ((const char *) sqlite3_column_text (stmt, 4), call->sandbox));
  json_builder_end_object (b);
  json_builder_set_member_name (b, "insuinfo");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  pd_nhsa_add_money (b, "balc", sqlite3_column_int64 (stmt, 8));
  json_builder_set_member_name (b, "insutype");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 5));
  json_builder_set_member_name (b, "psn_type");
  json_builder_add_string_value (b, g_str_equal ((const char *) sqlite3_column_text (stmt, 5), "310") ? "11" : "14");
  /* 1 normal, 2 suspended (暂停参保) */
  json_builder_set_member_name (b, "psn_insu_stas");
  json_builder_add_string_value (b, suspended ? "2" : "1");
  json_builder_set_member_name (b, "psn_insu_date");
  json_builder_add_string_value (b, "2015-01-01");
  json_builder_set_member_name (b, "paus_insu_date");
  if (suspended)
    json_builder_add_string_value (b, "2026-01-01");
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "cvlserv_flag");
  json_builder_add_string_value (b, "0");
  json_builder_set_member_name (b, "insuplc_admdvs");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 6));
  json_builder_set_member_name (b, "emp_name");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 7));
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "idetinfo");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  sqlite3_reset (stmt);
  call->output = json_builder_get_root (b);
  return TRUE;
}

/* --- money and decimals on the wire -------------------------------------- */

#define MARK "\001#"

gboolean
pd_nhsa_decimal (JsonObject *o,
                 const char *member,
                 int         decimals,
                 gint64     *scaled)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, member) : NULL;
  gint64 scale = 1;

  for (int i = 0; i < decimals; i++)
    scale *= 10;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    {
      gint64 v = json_node_get_int (n);

      if (v > G_MAXINT64 / scale || v < G_MININT64 / scale)
        return FALSE;
      *scaled = v * scale;
      return TRUE;
    }
  if (json_node_get_value_type (n) == G_TYPE_DOUBLE)
    {
      double v = json_node_get_double (n) * (double) scale;
      double r = round (v);

      if (!isfinite (v) || fabs (v) > 1e15 || fabs (v - r) > 1e-6 + fabs (v) * 1e-12)
        return FALSE;
      *scaled = (gint64) r;
      return TRUE;
    }
  if (json_node_get_value_type (n) == G_TYPE_STRING)
    {
      const char *p = json_node_get_string (n);
      gboolean negative = *p == '-';
      gint64 whole = 0, frac = 0;
      int places = 0, digits = 0;

      if (negative)
        p++;
      for (; g_ascii_isdigit (*p); p++, digits++)
        {
          if (whole > (G_GINT64_CONSTANT (1000000000000000) / scale))
            return FALSE;
          whole = whole * 10 + (*p - '0');
        }
      if (*p == '.')
        for (p++; g_ascii_isdigit (*p); p++, places++)
          {
            if (places >= decimals)
              return FALSE;
            frac = frac * 10 + (*p - '0');
          }
      if (digits == 0 || *p != '\0')
        return FALSE;
      for (int i = places; i < decimals; i++)
        frac *= 10;
      *scaled = (negative ? -1 : 1) * (whole * scale + frac);
      return TRUE;
    }
  return FALSE;
}

void
pd_nhsa_add_decimal (JsonBuilder *b,
                     const char  *member,
                     gint64       scaled,
                     int          decimals)
{
  gint64 scale = 1;
  g_autofree char *text = NULL;
  guint64 magnitude = scaled < 0 ? (guint64) -scaled : (guint64) scaled;

  for (int i = 0; i < decimals; i++)
    scale *= 10;
  if (decimals == 0)
    text = g_strdup_printf (MARK "%s%" G_GUINT64_FORMAT, scaled < 0 ? "-" : "", magnitude);
  else
    text = g_strdup_printf (MARK "%s%" G_GUINT64_FORMAT ".%0*" G_GUINT64_FORMAT, scaled < 0 ? "-" : "",
                            magnitude / (guint64) scale, decimals, magnitude % (guint64) scale);
  json_builder_set_member_name (b, member);
  json_builder_add_string_value (b, text);
}

void
pd_nhsa_add_money (JsonBuilder *b,
                   const char  *member,
                   gint64       fen)
{
  pd_nhsa_add_decimal (b, member, fen, 2);
}

/* "\u0001#12.34" → 12.34 in generated JSON text. */
char *
pd_nhsa_unmark (const char *json)
{
  GString *out = g_string_sized_new (strlen (json));
  const char *p = json;
  const char *hit;

  while ((hit = strstr (p, "\"\\u0001#")) != NULL)
    {
      const char *end = strchr (hit + 8, '"');

      g_string_append_len (out, p, hit - p);
      if (end == NULL)
        {
          p = hit;
          break;
        }
      g_string_append_len (out, hit + 8, end - (hit + 8));
      p = end + 1;
    }
  g_string_append (out, p);
  return g_string_free (out, FALSE);
}

gboolean
pd_nhsa_next (PdStore     *store,
              const char  *counter,
              gint64      *value,
              GError     **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "UPDATE nhsa_counter SET value = value + 1 WHERE name = ? RETURNING value", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, counter, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return pd_store_set_error (pd_store_get_db (store), SQLITE_ERROR, counter, error);
    }
  *value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return TRUE;
}

/* One transaction: the msgid is taken, the effect committed and the
 * answer recorded together, so a msgid the centre has seen always has
 * the answer it gave (2601 and the tests read it back). */
static gboolean
run_call (PdStore  *store,
          gpointer  user_data,
          GError  **error)
{
  PdNhsaCall *call = user_data;
  g_autofree char *now = pd_sandbox_now_iso (call->sandbox);
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "INSERT INTO nhsa_message (msgid, infno, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", error);
  gboolean ok = TRUE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, call->msgid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, call->infno, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, now, -1, SQLITE_TRANSIENT);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  if (sqlite3_changes (pd_store_get_db (store)) == 0)
    {
      /* Refused, and not recorded: the first answer stays the msgid's. */
      call->err_msg = g_strdup_printf ("报文ID重复：msgid %s 已使用 (a msgid is never reused, not even for a retry)", call->msgid);
      return answer (store, call, error);
    }
  if (pd_nhsa_tombstoned (store, call->msgid))
    call->err_msg = g_strdup_printf ("原交易已冲正：msgid %s 在到达之前已被 2601 冲正 (reversed before it arrived)", call->msgid);
  else if (!g_str_equal (call->infno, "9001") && !sign_in_valid (call))
    call->err_msg = g_strdup ("未签到或签到编号无效：请先调用 9001 签到 (sign in with 9001 first)");
  else if (g_str_equal (call->infno, "9001"))
    ok = do_9001 (call, error);
  else if (g_str_equal (call->infno, "9002"))
    ok = do_9002 (call, error);
  else if (g_str_equal (call->infno, "1101"))
    ok = do_1101 (call, error);
  else if (g_str_equal (call->infno, "2101") || g_str_equal (call->infno, "2102"))
    ok = pd_nhsa_presettle (call, g_str_equal (call->infno, "2102"), error);
  else if (g_str_equal (call->infno, "2103"))
    ok = pd_nhsa_cancel (call, error);
  else if (g_str_equal (call->infno, "2601"))
    ok = pd_nhsa_reverse (call, error);
  else if (g_str_equal (call->infno, "5203"))
    ok = pd_nhsa_query (call, error);
  else if (g_str_equal (call->infno, "3505") || g_str_equal (call->infno, "3506"))
    ok = pd_nhsa_sales (call, g_str_equal (call->infno, "3506"), error);
  else
    call->err_msg = g_strdup_printf ("交易 %s 在此沙箱中尚未实现 (not implemented in this sandbox yet)", call->infno);
  if (!ok || !answer (store, call, error))
    return FALSE;
  stmt = pd_store_prepare (store, "UPDATE nhsa_message SET response = ? WHERE msgid = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, call->response, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, call->msgid, -1, SQLITE_TRANSIENT);
  return pd_store_step_done (store, stmt, error);
}

/* Builds the response envelope; inf_refmsgid takes the centre's next
 * serial, in the caller's transaction. */
static gboolean
answer (PdStore  *store,
        gpointer  user_data,
        GError  **error)
{
  PdNhsaCall *call = user_data;
  PdSandbox *sandbox = call->sandbox;
  sqlite3_stmt *stmt = pd_store_prepare (store, "UPDATE nhsa_serial SET last = last + 1 WHERE id = 1 RETURNING last", error);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *when = pd_nhsa_china_time (sandbox, "%Y%m%d%H%M%S");
  g_autofree char *ref = NULL;
  g_autofree char *stamp = g_strdup_printf ("%s%03d", when, (int) (pd_clock_now_us (sandbox->clock) / 1000 % 1000));
  gint64 serial;

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return pd_store_set_error (pd_store_get_db (store), SQLITE_ERROR, "nhsa_serial", error);
    }
  serial = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  ref = g_strdup_printf ("110105%s%010" G_GINT64_FORMAT, when, serial % 10000000000);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "infcode");
  json_builder_add_int_value (b, call->err_msg == NULL ? 0 : -1);
  json_builder_set_member_name (b, "inf_refmsgid");
  json_builder_add_string_value (b, ref);
  json_builder_set_member_name (b, "refmsg_time");
  json_builder_add_string_value (b, stamp);
  json_builder_set_member_name (b, "respond_time");
  json_builder_add_string_value (b, stamp);
  json_builder_set_member_name (b, "err_msg");
  json_builder_add_string_value (b, call->err_msg);
  json_builder_set_member_name (b, "warn_msg");
  json_builder_add_null_value (b);
  json_builder_set_member_name (b, "output");
  if (call->output != NULL && call->err_msg == NULL)
    json_builder_add_value (b, json_node_ref (call->output));
  else
    {
      json_builder_begin_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  g_free (call->response);
  {
    g_autofree char *marked = json_generator_to_data (gen, NULL);

    call->response = pd_nhsa_unmark (marked);
  }
  return TRUE;
}

static void
reply_envelope (SoupServerMessage *msg,
                PdNhsaCall        *call)
{
  g_autoptr(GError) error = NULL;

  if (call->response == NULL && !pd_store_write (call->sandbox->store, answer, call, &error))
    {
      pd_sandbox_reply_text (msg, 500, "text/plain", error->message);
      return;
    }
  pd_sandbox_reply_text (msg, 200, "application/json", call->response);
}

static void
call_clear (PdNhsaCall *call)
{
  g_clear_pointer (&call->output, json_node_unref);
  g_clear_pointer (&call->err_msg, g_free);
  g_clear_pointer (&call->response, g_free);
}

static void
nhsa_handler (PdSandbox         *sandbox,
              SoupServerMessage *msg,
              const char        *path)
{
  g_autofree char *parse_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  PdNhsaCall call = { sandbox };
  const char *fixmedins;

  if (!g_str_equal (path, "/nhsa/fsi/api/rsfComIfsService/callService"))
    {
      pd_sandbox_reply_text (msg, 404, "text/plain", "the dispatcher is POST /nhsa/fsi/api/rsfComIfsService/callService");
      return;
    }
  if (!g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      pd_sandbox_reply_text (msg, 405, "text/plain", "POST the envelope here");
      return;
    }
  /* A duplicate delivered behind the gateway (a --faults copy) meets the
   * centre's msgid check, not the gateway's nonce check. */
  if (!pd_sandbox_is_duplicate_copy (msg) && !gateway_check (sandbox, msg))
    return;
  root = pd_sandbox_read_json (msg, &parse_error);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      call.err_msg = g_strdup_printf ("报文格式错误 (%s)", parse_error != NULL ? parse_error : "not an object");
      reply_envelope (msg, &call);
      call_clear (&call);
      return;
    }
  call.request = json_node_get_object (root);
  call.infno = pd_nhsa_str (call.request, "infno");
  call.msgid = pd_nhsa_str (call.request, "msgid");
  fixmedins = pd_nhsa_str (call.request, "fixmedins_code");
  if (call.infno == NULL || strlen (call.infno) != 4 || call.msgid == NULL || strlen (call.msgid) != 30
      || fixmedins == NULL || !g_str_has_prefix (call.msgid, fixmedins))
    {
      call.err_msg = g_strdup ("报文头错误：infno 4 位，msgid 30 位且以定点机构编码开头 (bad envelope header)");
      reply_envelope (msg, &call);
      call_clear (&call);
      return;
    }
  if (!pd_store_write (sandbox->store, run_call, &call, &error))
    {
      /* Rolled back: nothing of it was committed, the msgid is free. */
      call_clear (&call);
      call.err_msg = g_strdup_printf ("中心内部错误 (%s)", error->message);
    }
  reply_envelope (msg, &call);
  call_clear (&call);
}

void
pd_sandbox_insurance_register (PdSandbox *sandbox)
{
  pd_sandbox_add_service (sandbox, "/nhsa", nhsa_handler);
}
