/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-insurance"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pd-sandbox.h"

/* The insurance centre: the TIF gateway check, the envelope of the
 * national interfaces, a msgid seen once only, and 9001, 9002 and 1101.
 * Settlement (2101…2601, 3505/3506) and reconciliation arrive with their
 * issues. */

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
  gint64 ts, now = pd_clock_now_s (sandbox->clock);
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
      gateway_refuse (msg, "gateway: stale timestamp (more than 300 s from the centre's clock)");
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

typedef struct {
  PdSandbox  *sandbox;
  JsonObject *request;
  const char *infno;
  const char *msgid;
  JsonNode   *output;      /* owned */
  char       *err_msg;     /* owned; a business refusal */
  char       *response;    /* owned; the envelope sent back */
} Call;

static gboolean answer (PdStore *store, gpointer user_data, GError **error);

static char *
china_time (PdSandbox  *sandbox,
            const char *format)
{
  return pd_time_format_china (pd_clock_now_us (sandbox->clock), format);
}

static JsonObject *
input_member (Call       *call,
              const char *name)
{
  JsonObject *input = json_object_get_object_member (call->request, "input");

  return input != NULL && json_object_has_member (input, name)
         ? json_object_get_object_member (input, name) : NULL;
}

static const char *
str (JsonObject *o,
     const char *member)
{
  if (o == NULL || !json_object_has_member (o, member))
    return NULL;
  return json_object_get_string_member_with_default (o, member, NULL);
}

static gboolean
sign_in_valid (Call *call)
{
  const char *sign_no = str (call->request, "sign_no");
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
do_9001 (Call    *call,
         GError **error)
{
  JsonObject *in = input_member (call, "signIn");
  const char *opter = str (in, "opter_no");
  g_autofree char *sign_no = NULL;
  g_autofree char *when = china_time (call->sandbox, "%Y-%m-%d %H:%M:%S");
  g_autoptr(JsonBuilder) b = json_builder_new ();
  sqlite3_stmt *stmt;

  if (opter == NULL || *opter == '\0')
    {
      call->err_msg = g_strdup ("签到失败：signIn.opter_no 不能为空 (operator number required)");
      return TRUE;
    }
  sign_no = g_strdup_printf ("%s%06u", china_time (call->sandbox, "%Y%m%d%H%M%S"),
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
do_9002 (Call    *call,
         GError **error)
{
  JsonObject *in = input_member (call, "signOut");
  g_autofree char *when = china_time (call->sandbox, "%Y-%m-%d %H:%M:%S");
  g_autoptr(JsonBuilder) b = json_builder_new ();
  sqlite3_stmt *stmt = pd_store_prepare (call->sandbox->store,
    "UPDATE nhsa_sign_in SET signed_out_at = ? WHERE sign_no = ? AND opter_no = ? AND signed_out_at IS NULL", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, when, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, str (in, "sign_no"), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, str (in, "opter_no"), -1, SQLITE_TRANSIENT);
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
  g_autofree char *today = china_time (sandbox, "%Y-%m-%d");
  int by, bm, bd, ty, tm, td;

  if (sscanf (birth, "%d-%d-%d", &by, &bm, &bd) != 3 || sscanf (today, "%d-%d-%d", &ty, &tm, &td) != 3)
    return 0;
  return ty - by - ((tm < bm || (tm == bm && td < bd)) ? 1 : 0);
}

static gboolean
do_1101 (Call    *call,
         GError **error)
{
  JsonObject *in = input_member (call, "data");
  const char *cert_type = str (in, "mdtrt_cert_type");
  const char *cert_no = str (in, "mdtrt_cert_no");
  const char *certno = str (in, "certno");
  const char *name = str (in, "psn_name");
  sqlite3_stmt *stmt;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *balance = NULL;

  if (cert_type == NULL || (!g_str_equal (cert_type, "01") && !g_str_equal (cert_type, "02") && !g_str_equal (cert_type, "03")))
    {
      call->err_msg = g_strdup ("就诊凭证类型错误：mdtrt_cert_type 应为 01、02 或 03");
      return TRUE;
    }
  stmt = pd_store_prepare (call->sandbox->store,
    "SELECT psn_no, certno, name, gender, birth_date, insutype, insuplc_admdvs, emp_name, balance_fen"
    " FROM person WHERE certno = ? OR psn_no = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, certno != NULL && *certno != '\0' ? certno : cert_no, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, cert_no, -1, SQLITE_TRANSIENT);
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
  balance = g_strdup_printf ("%" G_GINT64_FORMAT ".%02d", (gint64) sqlite3_column_int64 (stmt, 8) / 100,
                             (int) (sqlite3_column_int64 (stmt, 8) % 100));
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
  json_builder_set_member_name (b, "balc");
  json_builder_add_string_value (b, balance);
  json_builder_set_member_name (b, "insutype");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 5));
  json_builder_set_member_name (b, "psn_type");
  json_builder_add_string_value (b, g_str_equal ((const char *) sqlite3_column_text (stmt, 5), "310") ? "11" : "14");
  json_builder_set_member_name (b, "psn_insu_stas");
  json_builder_add_string_value (b, "1");
  json_builder_set_member_name (b, "psn_insu_date");
  json_builder_add_string_value (b, "2015-01-01");
  json_builder_set_member_name (b, "paus_insu_date");
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

/* One transaction: the msgid is taken, the effect committed and the
 * answer recorded together, so a msgid the centre has seen always has
 * the answer it gave (2601 and the tests read it back). */
static gboolean
run_call (PdStore  *store,
          gpointer  user_data,
          GError  **error)
{
  Call *call = user_data;
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
  if (!g_str_equal (call->infno, "9001") && !sign_in_valid (call))
    call->err_msg = g_strdup ("未签到或签到编号无效：请先调用 9001 签到 (sign in with 9001 first)");
  else if (g_str_equal (call->infno, "9001"))
    ok = do_9001 (call, error);
  else if (g_str_equal (call->infno, "9002"))
    ok = do_9002 (call, error);
  else if (g_str_equal (call->infno, "1101"))
    ok = do_1101 (call, error);
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
  Call *call = user_data;
  PdSandbox *sandbox = call->sandbox;
  sqlite3_stmt *stmt = pd_store_prepare (store, "UPDATE nhsa_serial SET last = last + 1 WHERE id = 1 RETURNING last", error);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *when = china_time (sandbox, "%Y%m%d%H%M%S");
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
  call->response = json_generator_to_data (gen, NULL);
  return TRUE;
}

static void
reply_envelope (SoupServerMessage *msg,
                Call              *call)
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
call_clear (Call *call)
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
  Call call = { sandbox };
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
  call.infno = str (call.request, "infno");
  call.msgid = str (call.request, "msgid");
  fixmedins = str (call.request, "fixmedins_code");
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
