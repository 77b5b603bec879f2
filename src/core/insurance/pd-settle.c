/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-settle"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-json.h"
#include "pd-money.h"
#include "pd-outbox.h"
#include "pd-settle-private.h"

/* The sale and its 2102 (insurance.md, cli.md "Settlement"). What is
 * sent is written first, durably: the sale, the settlement with its
 * msgid and the outbox row that carries the request. The answer then
 * settles them in a transaction of its own; without one they stay
 * unknown until 2601 with that msgid says the centre holds nothing of it,
 * and only then does the sale go out again, under a new msgid. */

void
pd_settle_result_free (PdSettleResult *result)
{
  if (result == NULL)
    return;
  g_free (result->sale_uuid);
  g_free (result->rxno);
  g_free (result->state);
  g_clear_pointer (&result->setlinfo, json_object_unref);
  g_free (result->err_msg);
  g_clear_pointer (&result->uploads, g_ptr_array_unref);
  g_free (result);
}

/* --- the person ----------------------------------------------------------------------------- */

typedef PdSettlePerson Person;

void
pd_settle_person_clear (PdSettlePerson *p)
{
  g_free (p->psn_no);
  g_free (p->insutype);
  g_free (p->insuplc_admdvs);
  g_free (p->cert_type);
  g_free (p->cert_no);
  g_free (p->psn_cert_type);
  g_free (p->certno);
  g_free (p->name);
}

/* 1101's output: the person, and the insurance in force (status 1). */
static gboolean
read_person (JsonObject *output,
             Person     *p,
             GError    **error)
{
  JsonArray *insu = pd_json_arr (output, "insuinfo");
  JsonObject *chosen = NULL;

  p->psn_no = g_strdup (pd_json_str (pd_json_obj (output, "baseinfo"), "psn_no"));
  p->psn_cert_type = g_strdup (pd_json_str (pd_json_obj (output, "baseinfo"), "psn_cert_type"));
  p->certno = g_strdup (pd_json_str (pd_json_obj (output, "baseinfo"), "certno"));
  p->name = g_strdup (pd_json_str (pd_json_obj (output, "baseinfo"), "psn_name"));
  for (guint i = 0; insu != NULL && i < json_array_get_length (insu); i++)
    {
      JsonObject *o = pd_json_arr_obj (insu, i);

      /* the first insurance in force (status 1), else the first */
      if (chosen == NULL
          || (g_strcmp0 (pd_json_str (chosen, "psn_insu_stas"), "1") != 0 && g_strcmp0 (pd_json_str (o, "psn_insu_stas"), "1") == 0))
        chosen = o;
    }
  if (p->psn_no == NULL || chosen == NULL || pd_json_str (chosen, "insutype") == NULL)
    {
      g_set_error_literal (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_MALFORMED,
                           _("The centre’s person information names no person number or insurance"));
      return FALSE;
    }
  p->insutype = g_strdup (pd_json_str (chosen, "insutype"));
  p->insuplc_admdvs = g_strdup (pd_json_str (chosen, "insuplc_admdvs"));
  return TRUE;
}

/* --- requests ------------------------------------------------------------------------------- */

/* Money goes as a string holding yuan (insurance.md allows it): a JSON
 * number would be written by json-glib with 17 significant digits. */
static void
set_yuan (JsonObject *o,
          const char *member,
          gint64      fen)
{
  g_autofree char *text = pd_money_format_fen (fen);

  json_object_set_string_member (o, member, text);
}

static JsonObject *
settle_input (const PdSale *sale,
              const Person *p,
              gboolean      use_account,
              const char   *now)
{
  JsonObject *input = json_object_new ();
  JsonObject *info = json_object_new ();
  JsonArray *detail = json_array_new ();

  json_object_set_string_member (info, "psn_no", p->psn_no);
  json_object_set_string_member (info, "mdtrt_cert_type", p->cert_type);
  json_object_set_string_member (info, "mdtrt_cert_no", p->cert_no);
  json_object_set_string_member (info, "begntime", now);
  set_yuan (info, "medfee_sumamt", sale->medfee_sumamt_fen);
  json_object_set_string_member (info, "insutype", p->insutype);
  json_object_set_string_member (info, "dise_codg", "");
  json_object_set_string_member (info, "dise_name", "");
  json_object_set_string_member (info, "acct_used_flag", use_account ? "1" : "0");
  json_object_set_string_member (info, "med_type", sale->med_type);
  for (guint i = 0; i < sale->lines->len; i++)
    {
      const PdSaleLine *l = sale->lines->pdata[i];
      JsonObject *d = json_object_new ();
      g_autofree char *price = pd_money_format_price_e4 (l->unit_price_e4);

      json_object_set_string_member (d, "feedetl_sn", l->feedetl_sn);
      json_object_set_string_member (d, "rxno", sale->rxno);
      json_object_set_string_member (d, "rx_circ_flag", sale->dispense_id > 0 ? "1" : "0");
      json_object_set_string_member (d, "fee_ocur_time", now);
      json_object_set_string_member (d, "med_list_codg", l->nhsa_code != NULL ? l->nhsa_code : "");
      json_object_set_string_member (d, "medins_list_codg", l->drug_code);
      set_yuan (d, "det_item_fee_sumamt", l->amount_fen);
      json_object_set_int_member (d, "cnt", l->units);
      json_object_set_string_member (d, "pric", price);
      json_array_add_object_element (detail, d);
    }
  json_object_set_object_member (input, "druginfo", info);
  json_object_set_array_member (input, "drugdetail", detail);
  return input;
}

/* --- the durable steps ------------------------------------------------------------------------ */

typedef struct {
  PdSession       *session;
  PdInsuranceLink *link;
  PdSale          *sale;
  const Person    *person;
  JsonObject      *input;
  const char      *fixmedins_code;
  int              terminal;
  /* out */
  char            *msgid;
  char            *settlement_uuid;
  gint64           outbox_id;
} SendJob;

static void
send_job_clear (SendJob *job)
{
  g_free (job->msgid);
  g_free (job->settlement_uuid);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SendJob, send_job_clear)

/* The sale (when new), the settlement with its msgid, the outbox row with
 * the request: one transaction, committed durably before anything leaves. */
static gboolean
write_sending (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  SendJob *job = user_data;
  const PdAccount *me = pd_session_get_account (job->session);
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  g_autoptr(JsonNode) request = pd_json_node_take (json_object_new ());
  JsonObject *r = json_node_get_object (request);
  PdAuditEntry e = { me->id, "settlement.2102", "settlement", NULL, "sent", NULL };
  sqlite3_stmt *stmt;

  if (job->sale->id == 0 && !pd_sale_insert (job->session, job->sale, error))
    return FALSE;
  job->msgid = pd_insurance_msgid_take (store, job->fixmedins_code, job->terminal, error);
  if (job->msgid == NULL)
    return FALSE;
  job->settlement_uuid = pd_uuid_new ();
  json_object_set_string_member (r, "infno", "2102");
  json_object_set_string_member (r, "msgid", job->msgid);
  json_object_set_string_member (r, "insuplc_admdvs", job->person->insuplc_admdvs);
  json_object_set_object_member (r, "input", json_object_ref (job->input));
  if (!pd_outbox_enqueue (job->session, "insurance", "2102", job->msgid, 0, request, "settlement", job->settlement_uuid,
                          &job->outbox_id, error))
    return FALSE;
  stmt = pd_store_prepare (store,
    "INSERT INTO settlement (uuid, kind, msgid, sale_id, prescription_id, state, psn_no, insutype, insuplc_admdvs,"
    " medfee_sumamt_fen, operator_id, outbox_id, created_at, updated_at)"
    " VALUES (?1, 'settle', ?2, ?3, (SELECT p.id FROM prescription p JOIN dispense d ON d.prescription_id = p.id WHERE d.id = ?4),"
    " 'sending', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->settlement_uuid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, job->msgid, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, job->sale->id);
  sqlite3_bind_int64 (stmt, 4, job->sale->dispense_id);
  sqlite3_bind_text (stmt, 5, job->person->psn_no, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, job->person->insutype, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, job->person->insuplc_admdvs, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 8, job->sale->medfee_sumamt_fen);
  sqlite3_bind_int64 (stmt, 9, me->id);
  sqlite3_bind_int64 (stmt, 10, job->outbox_id);
  sqlite3_bind_text (stmt, 11, now, -1, SQLITE_STATIC);
  if (!pd_store_step_done (store, stmt, error))
    {
      /* the database's own rule: one 2102 on its way, unknown or settled per sale */
      if (g_error_matches (*error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT))
        {
          g_clear_error (error);
          return pd_settle_refuse (error, _("Sale %s already has a settlement on its way or settled: it is not sent twice"), job->sale->rxno);
        }
      return FALSE;
    }
  e.object_uuid = job->settlement_uuid;
  e.detail = job->msgid;
  return pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error)
         && pd_insurance_audit_call (job->link, "2102", job->msgid, "sent", NULL, error);
}

typedef struct {
  PdSession  *session;
  const char *settlement_uuid;
  gint64      outbox_id;
  const char *state;        /* settled, refused, unknown */
  JsonObject *setlinfo;
  const char *message;
} AnswerJob;

static gboolean
write_answer (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  AnswerJob *job = user_data;
  const PdAccount *me = pd_session_get_account (job->session);
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  const char *outbox_state = g_str_equal (job->state, "settled") ? "done" : job->state;
  g_autoptr(JsonNode) response = job->setlinfo != NULL ? json_node_init_object (json_node_alloc (), job->setlinfo) : NULL;
  PdAuditEntry e = { me->id, "settlement.2102", "settlement", job->settlement_uuid,
                     g_str_equal (job->state, "settled") ? "ok" : job->state, job->message };
  gint64 fen[4] = { 0 };
  const char *money[] = { "medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay" };
  sqlite3_stmt *stmt;

  if (!pd_outbox_set_state (job->session, job->outbox_id, outbox_state, 200, response, job->message, error))
    return FALSE;
  for (guint i = 0; job->setlinfo != NULL && i < G_N_ELEMENTS (money); i++)
    pd_insurance_read_fen (job->setlinfo, money[i], &fen[i]);
  stmt = pd_store_prepare (store,
    "UPDATE settlement SET state = ?2, setl_id = ?3, mdtrt_id = ?4, clr_optins = ?5, medfee_sumamt_fen = coalesce (?6, medfee_sumamt_fen),"
    " fund_pay_sumamt_fen = ?7, acct_pay_fen = ?8, psn_cash_pay_fen = ?9, setl_time = ?10, updated_at = ?11 WHERE uuid = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->settlement_uuid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, job->state, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, pd_json_str (job->setlinfo, "setl_id"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, pd_json_str (job->setlinfo, "mdtrt_id"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, pd_json_str (job->setlinfo, "clr_optins"), -1, SQLITE_STATIC);
  if (job->setlinfo != NULL)
    {
      sqlite3_bind_int64 (stmt, 6, fen[0]);
      sqlite3_bind_int64 (stmt, 7, fen[1]);
      sqlite3_bind_int64 (stmt, 8, fen[2]);
      sqlite3_bind_int64 (stmt, 9, fen[3]);
    }
  sqlite3_bind_text (stmt, 10, pd_json_str (job->setlinfo, "setl_time"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 11, now, -1, SQLITE_STATIC);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  if (!g_str_equal (job->state, "unknown")
      && !pd_sale_set_state (store, job->settlement_uuid, g_str_equal (job->state, "settled") ? "settled" : "refused", error))
    return FALSE;
  return pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error);
}

/* --- settle --------------------------------------------------------------------------------- */

static JsonObject *
call_logged (PdInsuranceLink *link,
             PdSession       *session,
             const char      *infno,
             const char      *insuplc_admdvs,
             JsonObject      *input,
             GCancellable    *cancellable,
             GError         **error)
{
  g_autofree char *msgid = pd_insurance_link_take_msgid (link, infno, error);

  if (msgid == NULL)
    return NULL;
  return pd_insurance_call (link, infno, msgid, insuplc_admdvs, input, NULL, cancellable, error);
}

/* One 2102 of the sale, durably recorded first; its outcome recorded. */
static char *
settle_once (PdSession        *session,
             PdInsuranceLink  *link,
             PdSale           *sale,
             const Person     *person,
             JsonObject       *input,
             JsonObject      **setlinfo,
             char            **err_msg,
             gint64           *outbox_id,
             char            **settlement_uuid,
             GCancellable     *cancellable,
             GError          **error)
{
  PdStore *store = pd_session_get_store (session);
  g_auto(SendJob) job = { session, link, sale, person, input };
  g_autoptr(GError) call_error = NULL;
  g_autoptr(JsonObject) output = NULL;
  AnswerJob answer = { session };

  job.fixmedins_code = pd_insurance_link_get_fixmedins_code (link);
  job.terminal = pd_insurance_link_get_terminal (link);
  if (!pd_insurance_commit_durably (store, write_sending, &job, error))
    return NULL;
  *outbox_id = job.outbox_id;
  output = pd_insurance_call (link, "2102", job.msgid, person->insuplc_admdvs, input, NULL, cancellable, &call_error);
  answer.settlement_uuid = job.settlement_uuid;
  answer.outbox_id = job.outbox_id;
  if (output != NULL)
    {
      answer.state = "settled";
      answer.setlinfo = pd_json_obj (output, "setlinfo");
    }
  else if (g_error_matches (call_error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_REFUSED))
    {
      answer.state = "refused";
      answer.message = call_error->message;
      *err_msg = g_strdup (call_error->message);
    }
  else
    {
      answer.state = "unknown";
      answer.message = call_error->message;
    }
  if (!pd_store_write (store, write_answer, &answer, error))
    return NULL;
  if (answer.setlinfo != NULL)
    *setlinfo = json_object_ref (answer.setlinfo);
  g_free (*settlement_uuid);
  *settlement_uuid = g_strdup (job.settlement_uuid);
  return g_strdup (answer.state);
}

PdSettleResult *
pd_settle (PdSession        *session,
           PdInsuranceLink  *link,
           PdKb             *kb,
           const PdBasket   *basket,
           const char       *cert_type,
           const char       *cert_no,
           gboolean          use_account,
           gboolean          pre_only,
           GCancellable     *cancellable,
           GError          **error)
{
  g_autoptr(PdSale) sale = NULL;
  g_autoptr(PdSettleResult) result = g_new0 (PdSettleResult, 1);
  g_autofree char *settlement_uuid = NULL;
  g_autoptr(JsonObject) person_output = NULL;
  g_autoptr(JsonObject) input = NULL;
  g_autoptr(JsonObject) pre = NULL;
  g_autoptr(GError) call_error = NULL;
  g_autofree char *now = pd_time_format_china (pd_clock_now_us (pd_clock_get_default ()), "%Y-%m-%d %H:%M:%S");
  g_auto(PdSettlePerson) person = { 0 };
  gint64 deadline;

  if (!pd_session_require (session, PD_ACTION_SETTLE, "sale", NULL, error))
    return NULL;
  sale = pd_sale_load_or_build (session, kb, basket, error);
  if (sale == NULL)
    return NULL;
  if (g_strcmp0 (sale->state, "settled") == 0)
    {
      pd_settle_refuse (error, _("Prescription %s is settled already and not cancelled: it is not settled twice"), basket->rxno);
      return NULL;
    }
  /* A 2102 of this sale whose outcome is not known goes first: 2601. */
  if (sale->id != 0 && !pd_settle_resolve_sale (session, link, sale->id, 60, NULL, cancellable, error))
    return NULL;
  person_output = pd_insurance_person (link, cert_type, cert_no, NULL, cancellable, error);
  if (person_output == NULL || !read_person (person_output, &person, error))
    return NULL;
  person.cert_type = g_strdup (cert_type);
  person.cert_no = g_strdup (cert_no);
  g_free (sale->psn_no);
  sale->psn_no = g_strdup (person.psn_no);
  input = settle_input (sale, &person, use_account, now);
  result->rxno = g_strdup (basket->rxno);
  result->uploads = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_upload_free);
  pre = call_logged (link, session, "2101", person.insuplc_admdvs, input, cancellable, &call_error);
  if (pre == NULL)
    {
      if (!g_error_matches (call_error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_REFUSED))
        {
          g_propagate_error (error, g_steal_pointer (&call_error));
          return NULL;
        }
      result->state = g_strdup ("refused");
      result->err_msg = g_strdup (call_error->message);
      return g_steal_pointer (&result);
    }
  if (pre_only)
    {
      result->state = g_strdup ("pre-settled");
      result->setlinfo = json_object_ref (pd_json_obj (pre, "setlinfo"));
      return g_steal_pointer (&result);
    }
  /* 2102; an unknown outcome is settled by 2601 (retried with back-off)
   * before the sale goes out again under a new msgid. */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autofree char *state = NULL;

      g_clear_pointer (&result->err_msg, g_free);
      state = settle_once (session, link, sale, &person, input, &result->setlinfo, &result->err_msg,
                           &result->outbox_id, &settlement_uuid, cancellable, error);
      if (state == NULL)
        return NULL;
      result->sale_uuid = g_strdup (sale->uuid);
      if (!g_str_equal (state, "unknown") || g_get_monotonic_time () > deadline)
        {
          result->state = g_steal_pointer (&state);
          break;
        }
      if (!pd_settle_resolve_sale (session, link, sale->id, (guint) MAX (1, (deadline - g_get_monotonic_time ()) / G_USEC_PER_SEC),
                                   NULL, cancellable, NULL))
        {
          result->state = g_strdup ("unknown");
          break;
        }
      g_free (result->sale_uuid);
    }
  if (g_str_equal (result->state, "settled")
      && !pd_settle_upload (session, link, kb, sale, &person, result->setlinfo, settlement_uuid, result->uploads,
                            cancellable, error))
    return NULL;
  return g_steal_pointer (&result);
}
