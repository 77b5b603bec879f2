/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-settle"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-clock.h"
#include "pd-json.h"
#include "pd-money.h"
#include "pd-outbox.h"
#include "pd-settle-private.h"

/* The sales upload (3505, insurance.md): after a settlement, one call per
 * line with each box's traceability code, each from a durable outbox row
 * with its msgid like the 2102 (an unknown one is settled by 2601 through
 * pd_settle_resolve). A code the centre refuses is said against its line. */

void
pd_upload_free (PdUpload *upload)
{
  if (upload == NULL)
    return;
  g_free (upload->code);
  g_ptr_array_unref (upload->trace_codes);
  g_free (upload->state);
  g_free (upload->msg);
  g_free (upload);
}

typedef struct {
  PdSession       *session;
  PdInsuranceLink *link;
  gint64           sale_line_id;
  JsonObject      *input;
  const char      *settlement_uuid;
  const char      *psn_no;
  /* out */
  char            *msgid;
  gint64           outbox_id;
  gint64           upload_id;
} UploadJob;

static gboolean
write_upload (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  UploadJob *job = user_data;
  g_autoptr(JsonNode) request = pd_json_node_take (json_object_new ());
  JsonObject *r = json_node_get_object (request);
  sqlite3_stmt *stmt;

  job->msgid = pd_insurance_msgid_take (store, pd_insurance_link_get_fixmedins_code (job->link),
                                        pd_insurance_link_get_terminal (job->link), error);
  if (job->msgid == NULL)
    return FALSE;
  json_object_set_string_member (r, "infno", "3505");
  json_object_set_string_member (r, "msgid", job->msgid);
  json_object_set_object_member (r, "input", json_object_ref (job->input));
  if (!pd_outbox_enqueue (job->session, "insurance", "3505", job->msgid, 0, request, "settlement", job->settlement_uuid,
                          &job->outbox_id, error))
    return FALSE;
  stmt = pd_store_prepare (store, "INSERT INTO sales_upload (sale_line_id, kind, msgid, state, outbox_id) VALUES (?, 'sale', ?, 'sending', ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, job->sale_line_id);
  sqlite3_bind_text (stmt, 2, job->msgid, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, job->outbox_id);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  job->upload_id = sqlite3_last_insert_rowid (pd_store_get_db (store));
  return pd_insurance_audit_call (job->link, "3505", job->msgid, "sent", NULL, error);
}

typedef struct {
  PdSession  *session;
  gint64      upload_id;
  gint64      outbox_id;
  const char *state;        /* uploaded, refused, unknown */
  const char *msg;
} UploadAnswer;

static gboolean
write_upload_answer (PdStore  *store,
                     gpointer  user_data,
                     GError  **error)
{
  UploadAnswer *a = user_data;
  sqlite3_stmt *stmt = pd_store_prepare (store, "UPDATE sales_upload SET state = ?, msg = ? WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, a->state, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, a->msg, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, a->upload_id);
  return pd_store_step_done (store, stmt, error)
         && pd_outbox_set_state (a->session, a->outbox_id, g_str_equal (a->state, "uploaded") ? "done" : a->state,
                                 200, NULL, a->msg, error);
}

/* The lot's dates and the fill's pharmacist, as 3505 names them. */
typedef struct {
  gint64 line_id;
  char  *lot;
  char  *manufactured;
  char  *expires;
  char  *pharmacist;
  char  *licence;
} LineFacts;

static void
line_facts_clear (LineFacts *f)
{
  g_free (f->lot);
  g_free (f->manufactured);
  g_free (f->expires);
  g_free (f->pharmacist);
  g_free (f->licence);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LineFacts, line_facts_clear)

static gboolean
read_facts (PdStore          *store,
            const PdSale     *sale,
            const PdSaleLine *line,
            LineFacts        *f,
            GError          **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT l.id, b.lot, b.manufactured_on, b.expires_on, a.display_name, a.pharmacist_licence"
    " FROM sale_line l LEFT JOIN stock_batch b ON b.id = l.batch_id"
    " LEFT JOIN dispense d ON d.id = ?2 LEFT JOIN account a ON a.id = d.dispenser_id"
    " WHERE l.sale_id = ?1 AND l.feedetl_sn = ?3", error);
  gboolean found;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, sale->id);
  sqlite3_bind_int64 (stmt, 2, sale->dispense_id);
  sqlite3_bind_text (stmt, 3, line->feedetl_sn, -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  if (found)
    {
      f->line_id = sqlite3_column_int64 (stmt, 0);
      f->lot = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      f->manufactured = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      f->expires = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      f->pharmacist = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      f->licence = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
    }
  sqlite3_reset (stmt);
  if (!found)
    g_set_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_MALFORMED, _("Sale line %s is not recorded"), line->feedetl_sn);
  return found;
}

static void
set (JsonObject *o,
     const char *member,
     const char *value)
{
  json_object_set_string_member (o, member, value != NULL ? value : "");
}

static JsonObject *
selinfo (const PdSale         *sale,
         const PdSaleLine     *line,
         const LineFacts      *f,
         const PdKbDrug       *drug,
         const PdSettlePerson *person,
         JsonObject           *setlinfo,
         const char           *now)
{
  JsonObject *input = json_object_new ();
  JsonObject *sel = json_object_new ();
  JsonArray *codes = json_array_new ();
  g_autofree char *price = pd_money_format_price_e4 (line->unit_price_e4);

  set (sel, "med_list_codg", line->nhsa_code);
  set (sel, "fixmedins_hilist_id", line->drug_code);
  set (sel, "fixmedins_hilist_name", drug != NULL ? drug->name : line->drug_code);
  set (sel, "fixmedins_bchno", f->lot);
  set (sel, "prsc_dr_name", "");
  set (sel, "phar_name", f->pharmacist);
  set (sel, "phar_prac_cert_no", f->licence);
  set (sel, "hi_feesetl_type", "1");
  set (sel, "setl_id", pd_json_str (setlinfo, "setl_id"));
  set (sel, "mdtrt_sn", pd_json_str (setlinfo, "mdtrt_id"));
  set (sel, "psn_no", person->psn_no);
  set (sel, "psn_cert_type", person->psn_cert_type);
  set (sel, "certno", person->certno);
  set (sel, "psn_name", person->name);
  set (sel, "manu_lotnum", f->lot);
  set (sel, "manu_date", f->manufactured);
  set (sel, "expy_end", f->expires);
  set (sel, "rx_flag", sale->dispense_id > 0 ? "1" : "0");
  set (sel, "trdn_flag", line->split_pack ? "1" : "0");
  set (sel, "finl_trns_pric", price);
  set (sel, "rxno", sale->rxno);
  set (sel, "rx_circ_flag", sale->dispense_id > 0 ? "1" : "0");
  set (sel, "rtal_docno", sale->uuid);
  json_object_set_int_member (sel, "sel_retn_cnt", line->units);
  set (sel, "sel_retn_time", now);
  set (sel, "sel_retn_opter_name", "");
  set (sel, "mdtrt_setl_type", "1");
  for (guint k = 0; k < line->trace_codes->len; k++)
    {
      JsonObject *c = json_object_new ();

      json_object_set_string_member (c, "drug_trac_codg", line->trace_codes->pdata[k]);
      json_array_add_object_element (codes, c);
    }
  json_object_set_array_member (sel, "drugtracinfo", codes);
  json_object_set_object_member (input, "selinfo", sel);
  return input;
}

static PdUpload *
upload_line (PdSession            *session,
             PdInsuranceLink      *link,
             PdKb                 *kb,
             const PdSale         *sale,
             const PdSaleLine     *line,
             const PdSettlePerson *person,
             JsonObject           *setlinfo,
             const char           *settlement_uuid,
             GCancellable         *cancellable,
             GError              **error)
{
  PdStore *store = pd_session_get_store (session);
  g_auto(LineFacts) f = { 0 };
  g_autofree char *now = pd_time_format_china (pd_clock_now_us (pd_clock_get_default ()), "%Y-%m-%d %H:%M:%S");
  g_autoptr(JsonObject) input = NULL;
  g_autoptr(JsonObject) output = NULL;
  g_autoptr(GError) call_error = NULL;
  UploadJob job = { session, link };
  UploadAnswer answer = { session };
  PdUpload *upload;

  if (!read_facts (store, sale, line, &f, error))
    return NULL;
  input = selinfo (sale, line, &f, pd_kb_find_drug (kb, line->drug_code), person, setlinfo, now);
  job.sale_line_id = f.line_id;
  job.input = input;
  job.settlement_uuid = settlement_uuid;
  if (!pd_insurance_commit_durably (store, write_upload, &job, error))
    {
      g_free (job.msgid);
      return NULL;
    }
  output = pd_insurance_call (link, "3505", job.msgid, person->insuplc_admdvs, input, NULL, cancellable, &call_error);
  g_free (job.msgid);
  answer.upload_id = job.upload_id;
  answer.outbox_id = job.outbox_id;
  if (output != NULL)
    answer.state = g_strcmp0 (pd_json_str (output, "retRslt"), "1") == 0 || json_object_get_int_member_with_default (output, "retRslt", 0) == 1
                   ? "uploaded" : "refused";
  else
    answer.state = g_error_matches (call_error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_REFUSED) ? "refused" : "unknown";
  answer.msg = output != NULL ? pd_json_str (output, "msgRslt") : call_error->message;
  if (!pd_store_write (store, write_upload_answer, &answer, error))
    return NULL;
  upload = g_new0 (PdUpload, 1);
  upload->code = g_strdup (line->drug_code);
  upload->trace_codes = g_ptr_array_new_with_free_func (g_free);
  for (guint k = 0; k < line->trace_codes->len; k++)
    g_ptr_array_add (upload->trace_codes, g_strdup (line->trace_codes->pdata[k]));
  upload->state = g_strdup (answer.state);
  upload->msg = g_strdup (g_str_equal (answer.state, "uploaded") ? NULL : answer.msg);
  return upload;
}

gboolean
pd_settle_upload (PdSession            *session,
                  PdInsuranceLink      *link,
                  PdKb                 *kb,
                  const PdSale         *sale,
                  const PdSettlePerson *person,
                  JsonObject           *setlinfo,
                  const char           *settlement_uuid,
                  GPtrArray            *uploads,
                  GCancellable         *cancellable,
                  GError              **error)
{
  for (guint i = 0; i < sale->lines->len; i++)
    {
      PdUpload *upload = upload_line (session, link, kb, sale, sale->lines->pdata[i], person, setlinfo, settlement_uuid,
                                      cancellable, error);

      if (upload == NULL)
        return FALSE;
      g_ptr_array_add (uploads, upload);
    }
  return TRUE;
}
