/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-insurance-link"

#include "config.h"

#include <arpa/inet.h>
#include <gcrypt.h>
#include <glib/gi18n-lib.h>
#include <ifaddrs.h>
#include <libsoup/soup.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-crypto.h"
#include "pd-insurance-link.h"
#include "pd-json.h"
#include "pd-money.h"

/* The TIF gateway and the national envelope (insurance.md). A POST is
 * never repeated here: a retry is a new request with a new msgid, which
 * only the caller may take. */

#define ENVELOPE_JSON "application/json;charset=utf-8"
#define NONCE_CHARS   32

struct _PdInsuranceLink
{
  PdSession   *session;
  PdStore     *store;
  SoupSession *http;
  char        *url;
  char        *paasid;
  char        *token;
  int          terminal;
  char        *fixmedins_code;
  char        *fixmedins_name;
  char        *mdtrtarea_admvs;
  char        *operator;
  char        *operator_name;
  GMutex       lock;           /* guards the cached sign-in */
  char        *sign_date;      /* yyyy-MM-dd (China) of sign_no */
  char        *sign_no;
};

G_DEFINE_QUARK (pd-insurance-error-quark, pd_insurance_error)

/* --- the link ------------------------------------------------------------------------------- */

/* The keys the envelope and the gateway cannot do without; the first
 * missing one, or NULL. */
static const char *
missing_key (const PdConfig *config)
{
  const struct { const char *value; const char *key; } keys[] = {
    { config->insurance_url, "[insurance] url" },
    { config->insurance_paasid, "[insurance] paasid" },
    { config->insurance_token, "[insurance] token" },
    { config->fixmedins_code, "[pharmacy] fixmedins_code" },
    { config->fixmedins_name, "[pharmacy] fixmedins_name" },
    { config->mdtrtarea_admvs, "[pharmacy] mdtrtarea_admvs" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (keys[i].value == NULL)
      return keys[i].key;
  return NULL;
}

PdInsuranceLink *
pd_insurance_link_new (PdSession       *session,
                       const PdConfig  *config,
                       GError         **error)
{
  const PdAccount *me;
  PdInsuranceLink *link;
  g_autoptr(GError) url_error = NULL;
  const char *missing;

  g_return_val_if_fail (PD_IS_SESSION (session), NULL);

  missing = config != NULL ? missing_key (config) : "[insurance]";
  if (missing != NULL)
    {
      g_set_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_NOT_CONFIGURED,
                   _("The insurance link is not configured: %s is missing"), missing);
      return NULL;
    }
  if (!pd_config_check_url (config->insurance_url, "insurance.url", &url_error))
    {
      g_set_error_literal (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_NOT_CONFIGURED, url_error->message);
      return NULL;
    }
  me = pd_session_get_account (session);
  if ((me->insurance_operator == NULL || *me->insurance_operator == '\0') && config->insurance_operator == NULL)
    {
      g_set_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_NOT_CONFIGURED,
                   _("%s has no insurance operator number, and the configuration names none ([insurance] operator)"),
                   me->display_name != NULL ? me->display_name : me->username);
      return NULL;
    }

  link = g_new0 (PdInsuranceLink, 1);
  link->session = g_object_ref (session);
  link->store = pd_session_get_store (session);
  /* A settlement that takes longer than this is unknown: 2601 settles it. */
  link->http = soup_session_new_with_options ("timeout", 30, "idle-timeout", 60, NULL);
  link->url = g_strdup (config->insurance_url);
  link->paasid = g_strdup (config->insurance_paasid);
  link->token = g_strdup (config->insurance_token);
  link->terminal = config->insurance_terminal;
  link->fixmedins_code = g_strdup (config->fixmedins_code);
  link->fixmedins_name = g_strdup (config->fixmedins_name);
  link->mdtrtarea_admvs = g_strdup (config->mdtrtarea_admvs);
  if (me->insurance_operator != NULL && *me->insurance_operator != '\0')
    {
      link->operator = g_strdup (me->insurance_operator);
      link->operator_name = g_strdup (me->display_name != NULL ? me->display_name : me->username);
    }
  else
    {
      link->operator = g_strdup (config->insurance_operator);
      link->operator_name = g_strdup (config->insurance_operator_name != NULL ? config->insurance_operator_name
                                                                              : config->insurance_operator);
    }
  g_mutex_init (&link->lock);
  return link;
}

void
pd_insurance_link_free (PdInsuranceLink *link)
{
  if (link == NULL)
    return;
  g_clear_object (&link->http);
  g_clear_object (&link->session);
  g_free (link->url);
  if (link->token != NULL)
    pd_crypto_wipe (link->token, strlen (link->token));
  g_free (link->token);
  g_free (link->paasid);
  g_free (link->fixmedins_code);
  g_free (link->fixmedins_name);
  g_free (link->mdtrtarea_admvs);
  g_free (link->operator);
  g_free (link->operator_name);
  g_free (link->sign_date);
  g_free (link->sign_no);
  g_mutex_clear (&link->lock);
  g_free (link);
}

const char *
pd_insurance_link_get_operator (PdInsuranceLink *link)
{
  return link->operator;
}

const char *
pd_insurance_link_get_fixmedins_code (PdInsuranceLink *link)
{
  return link->fixmedins_code;
}

int
pd_insurance_link_get_terminal (PdInsuranceLink *link)
{
  return link->terminal;
}

void
pd_insurance_link_set_timeout (PdInsuranceLink *link,
                               guint            seconds)
{
  g_object_set (link->http, "timeout", seconds, NULL);
}

/* --- msgid ------------------------------------------------------------------------------------ */

/* yyyyMMddHHmmss (China) one second after second; NULL when unreadable. */
static char *
next_second (const char *second)
{
  int y, mo, d, h, mi, s;
  g_autoptr(GDateTime) t = NULL;
  g_autoptr(GDateTime) later = NULL;

  if (strlen (second) != 14 || sscanf (second, "%4d%2d%2d%2d%2d%2d", &y, &mo, &d, &h, &mi, &s) != 6)
    return NULL;
  t = g_date_time_new (pd_china_time_zone (), y, mo, d, h, mi, s);
  if (t == NULL)
    return NULL;
  later = g_date_time_add_seconds (t, 1);
  return g_date_time_format (later, "%Y%m%d%H%M%S");
}

char *
pd_insurance_msgid_take (PdStore     *store,
                         const char  *fixmedins_code,
                         int          terminal,
                         GError     **error)
{
  g_autofree char *now = pd_time_format_china (pd_clock_now_us (pd_clock_get_default ()), "%Y%m%d%H%M%S");
  g_autofree char *second = NULL;
  int counter = 0;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (fixmedins_code != NULL && strlen (fixmedins_code) == 12, NULL);
  g_return_val_if_fail (terminal >= 0 && terminal <= 9, NULL);

  stmt = pd_store_prepare (store, "SELECT last_second, counter FROM insurance_msgid WHERE terminal = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, terminal);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *last = (const char *) sqlite3_column_text (stmt, 0);
      int last_counter = sqlite3_column_int (stmt, 1);

      /* Fixed width: the strings order as the seconds do. */
      if (strcmp (now, last) > 0)
        second = g_strdup (now);
      else if (last_counter < 999)
        {
          /* The same second, or a clock that went back: the last second
           * is kept until time passes it. */
          second = g_strdup (last);
          counter = last_counter + 1;
        }
      else
        second = next_second (last);
    }
  else
    second = g_strdup (now);
  sqlite3_reset (stmt);
  if (second == NULL)
    {
      g_set_error_literal (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT,
                           _("The stored last second of the insurance msgid cannot be read"));
      return NULL;
    }
  stmt = pd_store_prepare (store,
    "INSERT INTO insurance_msgid (terminal, last_second, counter) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (terminal) DO UPDATE SET last_second = excluded.last_second, counter = excluded.counter", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, terminal);
  sqlite3_bind_text (stmt, 2, second, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, counter);
  if (!pd_store_step_done (store, stmt, error))
    return NULL;
  return g_strdup_printf ("%s%s%d%03d", fixmedins_code, second, terminal, counter);
}

gboolean
pd_insurance_commit_durably (PdStore          *store,
                             PdStoreWriteFunc  func,
                             gpointer          user_data,
                             GError          **error)
{
  return pd_store_write_synced (store, func, user_data, error);
}

gboolean
pd_insurance_audit_call (PdInsuranceLink *link,
                         const char      *infno,
                         const char      *msgid,
                         const char      *outcome,
                         const char      *detail,
                         GError         **error)
{
  g_autofree char *action = g_strconcat ("insurance.", infno, NULL);
  PdAuditEntry e = { pd_session_get_account (link->session)->id, action, "msgid", msgid, outcome, detail };

  return pd_audit_append (link->store, pd_session_get_audit_keys (link->session), &e, error);
}

typedef struct {
  PdInsuranceLink *link;
  const char      *infno;
  char            *msgid;
} TakeJob;

static gboolean
write_take (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  TakeJob *job = user_data;

  job->msgid = pd_insurance_msgid_take (store, job->link->fixmedins_code, job->link->terminal, error);
  return job->msgid != NULL && pd_insurance_audit_call (job->link, job->infno, job->msgid, "sent", NULL, error);
}

char *
pd_insurance_link_take_msgid (PdInsuranceLink *link,
                              const char      *infno,
                              GError         **error)
{
  TakeJob job = { link, infno, NULL };

  if (!pd_insurance_commit_durably (link->store, write_take, &job, error))
    {
      g_free (job.msgid);
      return NULL;
    }
  return job.msgid;
}

/* --- the gateway ------------------------------------------------------------------------------ */

/* 32 characters of libgcrypt's nonce generator, as lower-case hex. */
static void
make_nonce (char out[NONCE_CHARS + 1])
{
  static const char hex[] = "0123456789abcdef";
  guint8 raw[NONCE_CHARS / 2];

  pd_crypto_init (NULL);
  gcry_create_nonce (raw, sizeof raw);
  for (guint i = 0; i < sizeof raw; i++)
    {
      out[2 * i] = hex[raw[i] >> 4];
      out[2 * i + 1] = hex[raw[i] & 0xf];
    }
  out[NONCE_CHARS] = '\0';
}

static void
sign_headers (PdInsuranceLink    *link,
              SoupMessageHeaders *h)
{
  /* Always the machine's clock: the gateway holds it against its own,
   * whatever --now says (cli.md). */
  g_autofree char *timestamp = g_strdup_printf ("%" G_GINT64_FORMAT, pd_clock_real_now_us () / G_USEC_PER_SEC);
  g_autofree char *input = NULL;
  g_autofree char *signature = NULL;
  char nonce[NONCE_CHARS + 1];

  make_nonce (nonce);
  input = g_strconcat (timestamp, link->token, nonce, timestamp, NULL);
  signature = g_compute_checksum_for_string (G_CHECKSUM_SHA256, input, -1);
  pd_crypto_wipe (input, strlen (input));
  soup_message_headers_replace (h, "x-tif-paasid", link->paasid);
  soup_message_headers_replace (h, "x-tif-timestamp", timestamp);
  soup_message_headers_replace (h, "x-tif-nonce", nonce);
  soup_message_headers_replace (h, "x-tif-signature", signature);
}

static void
add_str (JsonObject *o,
         const char *member,
         const char *value)
{
  json_object_set_string_member (o, member, value != NULL ? value : "");
}

static char *
build_envelope (PdInsuranceLink *link,
                const char      *infno,
                const char      *msgid,
                const char      *insuplc_admdvs,
                const char      *sign_no,
                JsonObject      *input)
{
  g_autoptr(JsonNode) root = pd_json_node_take (json_object_new ());
  JsonObject *o = json_node_get_object (root);
  g_autofree char *inf_time = pd_time_format_china (pd_clock_now_us (pd_clock_get_default ()), "%Y-%m-%d %H:%M:%S");

  add_str (o, "infno", infno);
  add_str (o, "msgid", msgid);
  add_str (o, "mdtrtarea_admvs", link->mdtrtarea_admvs);
  add_str (o, "insuplc_admdvs", insuplc_admdvs);
  add_str (o, "recer_sys_code", "");
  add_str (o, "dev_no", "");
  add_str (o, "dev_safe_info", "");
  add_str (o, "cainfo", "");
  add_str (o, "signtype", "");
  add_str (o, "infver", "V1.0");
  add_str (o, "opter_type", "1");
  add_str (o, "opter", link->operator);
  add_str (o, "opter_name", link->operator_name);
  add_str (o, "inf_time", inf_time);
  add_str (o, "fixmedins_code", link->fixmedins_code);
  add_str (o, "fixmedins_name", link->fixmedins_name);
  add_str (o, "sign_no", sign_no);
  json_object_set_object_member (o, "input", input != NULL ? json_object_ref (input) : json_object_new ());
  return json_to_string (root, FALSE);
}

/* infcode 0 or -1, as a number or a string; FALSE for anything else. */
static gboolean
read_infcode (JsonObject *envelope,
              gint64     *code)
{
  JsonNode *n = json_object_get_member (envelope, "infcode");
  char *end = NULL;
  const char *s;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    *code = json_node_get_int (n);
  else if (json_node_get_value_type (n) == G_TYPE_STRING)
    {
      s = json_node_get_string (n);
      *code = g_ascii_strtoll (s, &end, 10);
      if (end == s || *end != '\0')
        return FALSE;
    }
  else
    return FALSE;
  return *code == 0 || *code == -1;
}

static gboolean
has_text (JsonObject *o,
          const char *member)
{
  const char *s = pd_json_str (o, member);

  return s != NULL && *s != '\0';
}

/* A value that is there: a non-empty string or a number. */
static gboolean
has_value (JsonObject *o,
           const char *member)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, member) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_STRING)
    return *json_node_get_string (n) != '\0';
  return json_node_get_value_type (n) == G_TYPE_INT64 || json_node_get_value_type (n) == G_TYPE_DOUBLE;
}

static gboolean
malformed (GError    **error,
           const char *infno,
           const char *field)
{
  g_set_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_MALFORMED,
               _("The insurance centre’s answer to %s has no %s"), infno, field);
  return FALSE;
}

/* What each interface must return (insurance.md); money must read as yuan. */
static const char * const setl_money[] = {
  "medfee_sumamt", "fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc",
  "hifp_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay", NULL
};

static gboolean
check_output (const char *infno,
              JsonObject *output,
              GError    **error)
{
  JsonObject *part;

  if (g_str_equal (infno, "9001"))
    {
      part = pd_json_obj (output, "signinoutb");
      if (!has_text (part, "sign_no"))
        return malformed (error, infno, "signinoutb.sign_no");
    }
  else if (g_str_equal (infno, "1101"))
    {
      if (!has_text (pd_json_obj (output, "baseinfo"), "psn_no"))
        return malformed (error, infno, "baseinfo.psn_no");
      if (pd_json_arr (output, "insuinfo") == NULL)
        return malformed (error, infno, "insuinfo");
    }
  else if (g_str_equal (infno, "2101") || g_str_equal (infno, "2102"))
    {
      part = pd_json_obj (output, "setlinfo");
      if (part == NULL)
        return malformed (error, infno, "setlinfo");
      if (g_str_equal (infno, "2102"))
        {
          if (!has_value (part, "setl_id"))
            return malformed (error, infno, "setlinfo.setl_id");
          if (!has_value (part, "mdtrt_id"))
            return malformed (error, infno, "setlinfo.mdtrt_id");
        }
      for (guint i = 0; setl_money[i] != NULL; i++)
        {
          gint64 fen;

          if (!pd_insurance_read_fen (part, setl_money[i], &fen))
            {
              g_autofree char *field = g_strconcat ("setlinfo.", setl_money[i], NULL);

              return malformed (error, infno, field);
            }
        }
    }
  else if (g_str_equal (infno, "2103"))
    {
      if (!has_value (pd_json_obj (output, "setlinfo"), "setl_id"))
        return malformed (error, infno, "setlinfo.setl_id");
    }
  else if (g_str_equal (infno, "5203"))
    {
      part = pd_json_obj (output, "setlinfo");
      if (!has_value (part, "setl_id"))
        return malformed (error, infno, "setlinfo.setl_id");
      if (!has_value (part, "setl_state"))
        return malformed (error, infno, "setlinfo.setl_state");
    }
  else if (g_str_equal (infno, "3505") || g_str_equal (infno, "3506"))
    {
      if (!has_value (output, "retRslt"))
        return malformed (error, infno, "retRslt");
    }
  return TRUE;
}

/* What one POST came to. */
typedef struct {
  JsonObject *output;
  char       *refmsgid;
} Answer;

static void
answer_clear (Answer *answer)
{
  g_clear_pointer (&answer->output, json_object_unref);
  g_clear_pointer (&answer->refmsgid, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Answer, answer_clear)

static gboolean
unknown (GError    **error,
         const char *infno,
         const char *msgid,
         const char *why)
{
  g_set_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_UNKNOWN,
               _("The insurance centre’s answer to %s (msgid %s) did not come or cannot be read (%s): its outcome is unknown"),
               infno, msgid, why);
  return FALSE;
}

static gboolean
post (PdInsuranceLink *link,
      const char      *infno,
      const char      *msgid,
      const char      *insuplc_admdvs,
      const char      *sign_no,
      JsonObject      *input,
      Answer          *answer,
      GCancellable    *cancellable,
      GError         **error)
{
  g_autofree char *body = build_envelope (link, infno, msgid, insuplc_admdvs, sign_no, input);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", link->url);
  g_autoptr(GBytes) request = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *envelope;
  JsonNode *root, *output;
  const char *err_msg;
  guint status;
  gint64 code;

  if (msg == NULL)
    {
      g_set_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_NOT_CONFIGURED,
                   _("“%s” is not a valid address"), link->url);
      return FALSE;
    }
  /* A POST is never resent by libsoup (it takes a new connection for a
   * non-idempotent method); no redirect either. */
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  sign_headers (link, soup_message_get_request_headers (msg));
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept", "application/json");
  request = g_bytes_new (body, strlen (body));
  soup_message_set_request_body_from_bytes (msg, ENVELOPE_JSON, request);

  bytes = soup_session_send_and_read (link->http, msg, cancellable, &local_error);
  if (bytes == NULL)
    return unknown (error, infno, msgid, local_error->message);
  status = soup_message_get_status (msg);
  if (status >= 500)
    {
      g_autofree char *why = g_strdup_printf (_("HTTP %u"), status);

      return unknown (error, infno, msgid, why);
    }
  if (json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), NULL)
      && (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root))
    envelope = json_node_get_object (root);
  else
    envelope = NULL;
  err_msg = pd_json_str (envelope, "err_msg");
  if (status >= 300)
    {
      /* The gateway refused it: nothing reached the centre. */
      if (err_msg != NULL && *err_msg != '\0')
        g_set_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_GATEWAY,
                     _("The insurance gateway refused the request (HTTP %u): %s"), status, err_msg);
      else
        g_set_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_GATEWAY,
                     _("The insurance gateway refused the request (HTTP %u)"), status);
      return FALSE;
    }
  if (envelope == NULL)
    return unknown (error, infno, msgid, _("not a JSON object"));
  if (!read_infcode (envelope, &code))
    return unknown (error, infno, msgid, _("no infcode 0 or -1"));
  if (code == -1)
    {
      g_set_error_literal (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_REFUSED,
                           err_msg != NULL && *err_msg != '\0' ? err_msg
                                                               : _("The insurance centre refused the request without saying why"));
      return FALSE;
    }
  output = json_object_get_member (envelope, "output");
  if (output != NULL && JSON_NODE_HOLDS_OBJECT (output))
    answer->output = json_object_ref (json_node_get_object (output));
  else if (output == NULL || JSON_NODE_HOLDS_NULL (output))
    answer->output = json_object_new ();
  else
    return malformed (error, infno, "output");
  answer->refmsgid = g_strdup (pd_json_str (envelope, "inf_refmsgid"));
  if (!check_output (infno, answer->output, error))
    {
      answer_clear (answer);
      return FALSE;
    }
  return TRUE;
}

/* --- the day's sign-in ---------------------------------------------------------------------- */

/* The desk's address for 9001: the first interface up that is not the
 * loopback (its IPv4 address and hardware address), else blanks. */
static void
desk_address (char **ip,
              char **mac)
{
  struct ifaddrs *all = NULL;

  *ip = NULL;
  *mac = NULL;
  if (getifaddrs (&all) != 0)
    return;
  for (struct ifaddrs *a = all; a != NULL && *ip == NULL; a = a->ifa_next)
    {
      char text[INET_ADDRSTRLEN];
      g_autofree char *path = NULL;
      g_autofree char *hw = NULL;

      if (a->ifa_addr == NULL || a->ifa_addr->sa_family != AF_INET || (a->ifa_flags & IFF_LOOPBACK)
          || !(a->ifa_flags & IFF_UP))
        continue;
      if (inet_ntop (AF_INET, &((struct sockaddr_in *) a->ifa_addr)->sin_addr, text, sizeof text) == NULL)
        continue;
      *ip = g_strdup (text);
      path = g_build_filename ("/sys/class/net", a->ifa_name, "address", NULL);
      if (g_file_get_contents (path, &hw, NULL, NULL))
        *mac = g_strdup (g_strstrip (hw));
    }
  freeifaddrs (all);
}

typedef struct {
  PdInsuranceLink *link;
  const char      *date;
  const char      *infno;        /* 9001 or 9002 */
  char            *sign_no;      /* out (read) or in (write) */
  const char      *msgid;
  const char      *outcome;
  const char      *detail;
  const char      *refmsgid;
} SignJob;

static gboolean
read_sign_in (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  SignJob *job = user_data;
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT sign_no FROM insurance_sign_in WHERE sign_date = ? AND operator = ? AND signed_out_at IS NULL", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->date, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, job->link->operator, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    job->sign_no = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return TRUE;
}

/* The outcome of 9001 or 9002 audited; on success the day's sign_no kept,
 * or closed. */
static gboolean
write_sign (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  SignJob *job = user_data;
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  gboolean sign_in = g_str_equal (job->infno, "9001");
  sqlite3_stmt *stmt;

  if (!pd_insurance_audit_call (job->link, job->infno, job->msgid, job->outcome, job->detail, error))
    return FALSE;
  if (!g_str_equal (job->outcome, "ok"))
    return TRUE;
  stmt = pd_store_prepare (store, sign_in
    ? "INSERT INTO insurance_sign_in (sign_date, operator, sign_no, signed_in_at) VALUES (?1, ?2, ?3, ?4)"
      " ON CONFLICT (sign_date, operator) DO UPDATE SET sign_no = excluded.sign_no,"
      " signed_in_at = excluded.signed_in_at, signed_out_at = NULL"
    : "UPDATE insurance_sign_in SET signed_out_at = ?4 WHERE sign_date = ?1 AND operator = ?2 AND sign_no = ?3", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->date, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, job->link->operator, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, job->sign_no, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, now, -1, SQLITE_STATIC);
  return pd_store_step_done (store, stmt, error);
}

static const char *
outcome_of (const GError *error)
{
  if (error == NULL)
    return "ok";
  if (g_error_matches (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_REFUSED)
      || g_error_matches (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_GATEWAY))
    return "refused";
  return "unknown";
}

/* Short and free of personal data: the kind of failure, never err_msg. */
static const char *
detail_of (const GError *error)
{
  if (error == NULL)
    return NULL;
  if (g_error_matches (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_GATEWAY))
    return "gateway";
  if (g_error_matches (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_MALFORMED))
    return "malformed answer";
  if (g_error_matches (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_REFUSED))
    return "infcode -1";
  return "no answer";
}

char *
pd_insurance_link_sign_in (PdInsuranceLink  *link,
                           GCancellable     *cancellable,
                           GError          **error)
{
  g_autofree char *date = pd_time_format_china (pd_clock_now_us (pd_clock_get_default ()), "%Y-%m-%d");
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&link->lock);
  g_autoptr(JsonObject) input = NULL;
  g_autoptr(GError) call_error = NULL;
  g_autofree char *msgid = NULL;
  g_autofree char *ip = NULL;
  g_autofree char *mac = NULL;
  JsonObject *sign_in;
  SignJob job = { link, date, "9001" };
  g_auto(Answer) answer = { NULL, NULL };

  if (link->sign_no != NULL && g_strcmp0 (link->sign_date, date) == 0)
    return g_strdup (link->sign_no);
  if (!pd_store_write (link->store, read_sign_in, &job, error))
    return NULL;
  if (job.sign_no == NULL)
    {
      msgid = pd_insurance_link_take_msgid (link, "9001", error);
      if (msgid == NULL)
        return NULL;
      desk_address (&ip, &mac);
      input = json_object_new ();
      sign_in = json_object_new ();
      add_str (sign_in, "opter_no", link->operator);
      add_str (sign_in, "mac", mac);
      add_str (sign_in, "ip", ip);
      json_object_set_object_member (input, "signIn", sign_in);
      if (post (link, "9001", msgid, NULL, "", input, &answer, cancellable, &call_error))
        job.sign_no = g_strdup (pd_json_str (pd_json_obj (answer.output, "signinoutb"), "sign_no"));
      job.msgid = msgid;
      job.outcome = outcome_of (call_error);
      job.detail = call_error != NULL ? detail_of (call_error) : answer.refmsgid;
      if (!pd_store_write (link->store, write_sign, &job, call_error == NULL ? error : NULL) && call_error == NULL)
        {
          g_free (job.sign_no);
          return NULL;
        }
      if (call_error != NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&call_error), _("Signing in to the insurance centre (9001): "));
          return NULL;
        }
    }
  g_free (link->sign_date);
  g_free (link->sign_no);
  link->sign_date = g_strdup (date);
  link->sign_no = g_strdup (job.sign_no);
  return job.sign_no;
}

/* Signs today's sign-in out (nothing to do when there is none). */
gboolean
pd_insurance_link_sign_out (PdInsuranceLink  *link,
                            GCancellable     *cancellable,
                            GError          **error)
{
  g_autofree char *date = pd_time_format_china (pd_clock_now_us (pd_clock_get_default ()), "%Y-%m-%d");
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&link->lock);
  g_autoptr(JsonObject) input = NULL;
  g_autoptr(GError) call_error = NULL;
  g_autofree char *msgid = NULL;
  g_autofree char *sign_no = NULL;
  JsonObject *sign_out;
  SignJob job = { link, date, "9002" };
  g_auto(Answer) answer = { NULL, NULL };
  gboolean ok;

  if (!pd_store_write (link->store, read_sign_in, &job, error))
    return FALSE;
  sign_no = g_steal_pointer (&job.sign_no);
  if (sign_no == NULL)
    return TRUE;
  msgid = pd_insurance_link_take_msgid (link, "9002", error);
  if (msgid == NULL)
    return FALSE;
  input = json_object_new ();
  sign_out = json_object_new ();
  add_str (sign_out, "sign_no", sign_no);
  add_str (sign_out, "opter_no", link->operator);
  json_object_set_object_member (input, "signOut", sign_out);
  post (link, "9002", msgid, NULL, sign_no, input, &answer, cancellable, &call_error);
  job.sign_no = sign_no;
  job.msgid = msgid;
  job.outcome = outcome_of (call_error);
  job.detail = call_error != NULL ? detail_of (call_error) : answer.refmsgid;
  ok = pd_store_write (link->store, write_sign, &job, call_error == NULL ? error : NULL);
  job.sign_no = NULL;
  if (call_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&call_error), _("Signing out of the insurance centre (9002): "));
      return FALSE;
    }
  if (ok)
    {
      g_clear_pointer (&link->sign_no, g_free);
      g_clear_pointer (&link->sign_date, g_free);
    }
  return ok;
}

/* --- one call ------------------------------------------------------------------------------- */

typedef struct {
  PdInsuranceLink *link;
  const char      *infno;
  const char      *msgid;
  const char      *outcome;
  const char      *detail;
} OutcomeJob;

static gboolean
write_outcome (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  OutcomeJob *job = user_data;

  return pd_insurance_audit_call (job->link, job->infno, job->msgid, job->outcome, job->detail, error);
}

JsonObject *
pd_insurance_call (PdInsuranceLink  *link,
                   const char       *infno,
                   const char       *msgid,
                   const char       *insuplc_admdvs,
                   JsonObject       *input,
                   char            **refmsgid,
                   GCancellable     *cancellable,
                   GError          **error)
{
  g_autofree char *sign_no = NULL;
  g_autoptr(GError) call_error = NULL;
  g_autoptr(GError) audit_error = NULL;
  g_auto(Answer) answer = { NULL, NULL };
  OutcomeJob job = { link, infno, msgid };

  g_return_val_if_fail (infno != NULL && strlen (infno) == 4, NULL);
  g_return_val_if_fail (msgid != NULL && strlen (msgid) == 30, NULL);

  if (g_str_equal (infno, "9001"))
    sign_no = g_strdup ("");
  else
    sign_no = pd_insurance_link_sign_in (link, cancellable, &call_error);
  if (sign_no != NULL)
    post (link, infno, msgid, insuplc_admdvs, sign_no, input, &answer, cancellable, &call_error);
  job.outcome = sign_no != NULL ? outcome_of (call_error) : "failed";
  job.detail = sign_no == NULL ? "not sent: no sign-in" : call_error != NULL ? detail_of (call_error) : answer.refmsgid;
  if (!pd_store_write (link->store, write_outcome, &job, &audit_error))
    g_warning ("insurance.%s %s: the outcome could not be audited: %s", infno, msgid, audit_error->message);
  if (call_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&call_error));
      return NULL;
    }
  if (refmsgid != NULL)
    *refmsgid = g_steal_pointer (&answer.refmsgid);
  return g_steal_pointer (&answer.output);
}

JsonObject *
pd_insurance_person (PdInsuranceLink  *link,
                     const char       *cert_type,
                     const char       *cert_no,
                     const char       *name,
                     GCancellable     *cancellable,
                     GError          **error)
{
  g_autoptr(JsonObject) input = NULL;
  g_autofree char *msgid = NULL;
  g_autofree char *begntime = NULL;
  JsonObject *data;
  gboolean id_card;

  if (cert_type == NULL || (!g_str_equal (cert_type, "01") && !g_str_equal (cert_type, "02") && !g_str_equal (cert_type, "03")))
    {
      g_set_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_MALFORMED,
                   _("“%s” is not a certificate type: 01 (e-voucher), 02 (ID card) or 03 (social-security card)"),
                   cert_type != NULL ? cert_type : "");
      return NULL;
    }
  if (cert_no == NULL || strspn (cert_no, " \t") == strlen (cert_no))
    {
      g_set_error_literal (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_MALFORMED, _("The certificate number is empty"));
      return NULL;
    }
  id_card = g_str_equal (cert_type, "02");
  begntime = pd_time_format_china (pd_clock_now_us (pd_clock_get_default ()), "%Y-%m-%d %H:%M:%S");
  input = json_object_new ();
  data = json_object_new ();
  add_str (data, "mdtrt_cert_type", cert_type);
  add_str (data, "mdtrt_cert_no", cert_no);
  add_str (data, "card_sn", "");
  add_str (data, "begntime", begntime);
  /* An ID card is also the person's certificate (psn_cert_type 01, resident ID). */
  add_str (data, "psn_cert_type", id_card ? "01" : "");
  add_str (data, "certno", id_card ? cert_no : "");
  add_str (data, "psn_name", name);
  json_object_set_object_member (input, "data", data);
  msgid = pd_insurance_link_take_msgid (link, "1101", error);
  if (msgid == NULL)
    return NULL;
  return pd_insurance_call (link, "1101", msgid, NULL, input, NULL, cancellable, error);
}

/* --- money ------------------------------------------------------------------------------------ */

gboolean
pd_insurance_read_fen (JsonObject *object,
                       const char *member,
                       gint64     *fen)
{
  JsonNode *n = object != NULL ? json_object_get_member (object, member) : NULL;
  GType type;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  type = json_node_get_value_type (n);
  if (type == G_TYPE_STRING)
    {
      g_autofree char *text = g_strstrip (g_strdup (json_node_get_string (n)));

      return pd_money_parse_fen (text, fen, NULL);
    }
  if (type == G_TYPE_INT64)
    {
      gint64 yuan = json_node_get_int (n);

      if (yuan > G_MAXINT64 / 100 || yuan < G_MININT64 / 100)
        return FALSE;
      *fen = yuan * 100;
      return TRUE;
    }
  if (type == G_TYPE_DOUBLE)
    {
      /* The parser kept only the double: it held at most two decimals
       * when printing it with two gives back the very same double. */
      double yuan = json_node_get_double (n);
      char text[G_ASCII_DTOSTR_BUF_SIZE];

      if (!isfinite (yuan) || fabs (yuan) >= 1e15)
        return FALSE;
      g_ascii_formatd (text, sizeof text, "%.2f", yuan);
      if (g_ascii_strtod (text, NULL) != yuan)
        return FALSE;
      return pd_money_parse_fen (text, fen, NULL);
    }
  return FALSE;
}
