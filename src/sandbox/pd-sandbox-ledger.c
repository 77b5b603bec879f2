/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-ledger"

#include "config.h"

#include <string.h>

#include "pd-sandbox-insurance.h"

/* The centre's ledger beyond the settlements: 2601 reversals with their
 * tombstones, and the sold traceability codes of 3505 and 3506. */

gboolean
pd_nhsa_tombstoned (PdStore    *store,
                    const char *msgid)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT 1 FROM nhsa_reversal WHERE omsgid = ? AND outcome = 'tombstone'", NULL);
  gboolean found;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, msgid, -1, SQLITE_TRANSIENT);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return found;
}

/* The infno a msgid came with, NULL when the centre never saw it. */
static char *
seen_as (PdStore    *store,
         const char *msgid)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT infno FROM nhsa_message WHERE msgid = ?", NULL);
  char *infno = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, msgid, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    infno = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return infno;
}

static gboolean
exec_bound (PdStore    *store,
            const char *sql,
            const char *a,
            const char *b,
            GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, a, -1, SQLITE_TRANSIENT);
  if (b != NULL)
    sqlite3_bind_text (stmt, 2, b, -1, SQLITE_TRANSIENT);
  return pd_store_step_done (store, stmt, error);
}

static gint64
count_bound (PdStore    *store,
             const char *sql,
             const char *a,
             const char *b)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, sql, NULL);
  gint64 n = -1;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, a, -1, SQLITE_TRANSIENT);
  if (b != NULL)
    sqlite3_bind_text (stmt, 2, b, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

/* A sales upload or return undone. */
static gboolean
reverse_upload (PdNhsaCall *call,
                const char *omsgid,
                const char *oinfno,
                gboolean   *undone,
                GError    **error)
{
  PdStore *store = call->sandbox->store;

  *undone = FALSE;
  if (count_bound (store, "SELECT count(*) FROM nhsa_upload WHERE msgid = ? AND NOT reversed", omsgid, NULL) <= 0)
    return TRUE;
  if (g_str_equal (oinfno, "3506"))
    {
      /* Codes given back may have been sold again since. */
      if (count_bound (store,
            "SELECT count(*) FROM nhsa_sold_code r JOIN nhsa_sold_code s ON s.code = r.code AND s.sale <> r.sale"
            " AND s.returned_by IS NULL AND NOT (s.trdn_flag = 1 AND r.trdn_flag = 1)"
            " WHERE r.returned_by = ?", omsgid, NULL) > 0)
        {
          call->err_msg = g_strdup ("退货的追溯码已再次销售，不能冲正退货 (a returned code has been sold again)");
          return TRUE;
        }
      if (!exec_bound (store, "UPDATE nhsa_sold_code SET returned_by = NULL WHERE returned_by = ?", omsgid, NULL, error))
        return FALSE;
    }
  else if (!exec_bound (store, "DELETE FROM nhsa_sold_code WHERE msgid = ?", omsgid, NULL, error))
    return FALSE;
  *undone = TRUE;
  return exec_bound (store, "UPDATE nhsa_upload SET reversed = 1 WHERE msgid = ?", omsgid, NULL, error);
}

gboolean
pd_nhsa_reverse (PdNhsaCall *call,
                 GError    **error)
{
  PdStore *store = call->sandbox->store;
  JsonObject *data = pd_nhsa_input (call, "data");
  const char *omsgid = pd_nhsa_str (data, "omsgid");
  const char *oinfno = pd_nhsa_str (data, "oinfno");
  g_autofree char *infno = NULL;
  g_autofree char *now = pd_sandbox_now_iso (call->sandbox);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const char *outcome;
  gboolean undone = FALSE;
  sqlite3_stmt *stmt;

  if (oinfno == NULL || !(g_str_equal (oinfno, "2102") || g_str_equal (oinfno, "2103")
                          || g_str_equal (oinfno, "3505") || g_str_equal (oinfno, "3506")))
    {
      call->err_msg = g_strdup ("原交易编号 oinfno 应为 2102、2103、3505 或 3506 (what 2601 may reverse)");
      return TRUE;
    }
  if (omsgid == NULL || strlen (omsgid) != 30)
    {
      call->err_msg = g_strdup ("原发送方报文ID omsgid 应为 30 位 (the original's msgid)");
      return TRUE;
    }
  if (count_bound (store, "SELECT count(*) FROM nhsa_reversal WHERE omsgid = ?", omsgid, NULL) > 0)
    outcome = NULL;   /* already reversed (or tombstoned): nothing more to do */
  else if ((infno = seen_as (store, omsgid)) == NULL)
    outcome = "tombstone";
  else if (!g_str_equal (infno, oinfno))
    {
      call->err_msg = g_strdup_printf ("原交易编号不符：%s 的交易编号为 %s (oinfno does not match)", omsgid, infno);
      return TRUE;
    }
  else
    {
      gboolean ok = g_str_has_prefix (oinfno, "21") ? pd_nhsa_reverse_settlement (call, omsgid, &undone, error)
                                                      : reverse_upload (call, omsgid, oinfno, &undone, error);

      if (!ok)
        return FALSE;
      if (call->err_msg != NULL)
        return TRUE;
      outcome = undone ? "undone" : "nothing";
    }
  if (outcome != NULL)
    {
      stmt = pd_store_prepare (store, "INSERT INTO nhsa_reversal (omsgid, oinfno, msgid, outcome, at) VALUES (?, ?, ?, ?, ?)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, omsgid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, oinfno, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, call->msgid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, outcome, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, now, -1, SQLITE_TRANSIENT);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  /* The client must not depend on `reversed`: for tests only. */
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reversed");
  json_builder_add_boolean_value (b, undone);
  json_builder_end_object (b);
  call->output = json_builder_get_root (b);
  return TRUE;
}

/* --- 3505 and 3506 ------------------------------------------------------- */

static gboolean
code_valid (const char *code)
{
  if (code == NULL || strlen (code) != 20)
    return FALSE;
  for (const char *p = code; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

static int
flag (JsonObject *o,
      const char *member)
{
  const char *s = pd_nhsa_str (o, member);
  gint64 n = 0;

  if (s != NULL)
    return g_str_equal (s, "1") ? 1 : 0;
  return pd_nhsa_decimal (o, member, 0, &n) && n == 1 ? 1 : 0;
}

/* A settled sale's key is its setl_id; a self-paid one's its rtal_docno,
 * else the upload's own msgid. */
static char *
sale_key (PdNhsaCall *call,
          JsonObject *sel,
          gboolean    self_pay)
{
  const char *docno = pd_nhsa_str (sel, "rtal_docno");

  if (!self_pay)
    return g_strdup (pd_nhsa_str (sel, "setl_id"));
  if (docno != NULL && *docno != '\0')
    return g_strconcat ("docno:", docno, NULL);
  return g_strconcat ("msgid:", call->msgid, NULL);
}

gboolean
pd_nhsa_sales (PdNhsaCall *call,
               gboolean    is_return,
               GError    **error)
{
  PdStore *store = call->sandbox->store;
  JsonObject *sel = pd_nhsa_input (call, "selinfo");
  const char *setl_type = pd_nhsa_str (sel, "mdtrt_setl_type");
  const char *setl_id = pd_nhsa_str (sel, "setl_id");
  const char *code_of_drug = pd_nhsa_str (sel, "med_list_codg");
  JsonArray *trac = sel != NULL && json_object_has_member (sel, "drugtracinfo")
                    && JSON_NODE_HOLDS_ARRAY (json_object_get_member (sel, "drugtracinfo"))
                    ? json_object_get_array_member (sel, "drugtracinfo") : NULL;
  g_autoptr(GPtrArray) codes = g_ptr_array_new ();
  g_autoptr(GString) refused = g_string_new (NULL);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *sale = NULL;
  gboolean self_pay;
  int trdn;
  sqlite3_stmt *stmt;

  if (sel == NULL || code_of_drug == NULL || *code_of_drug == '\0')
    {
      call->err_msg = g_strdup ("输入 selinfo.med_list_codg 不能为空 (the drug's national code)");
      return TRUE;
    }
  if (setl_type == NULL)
    {
      gint64 n = 0;

      setl_type = pd_nhsa_decimal (sel, "mdtrt_setl_type", 0, &n) && n == 2 ? "2" : n == 1 ? "1" : NULL;
    }
  if (setl_type == NULL || (!g_str_equal (setl_type, "1") && !g_str_equal (setl_type, "2")))
    {
      call->err_msg = g_strdup ("结算类型 mdtrt_setl_type 应为 1 医保结算 或 2 自费 (insurance or self-pay)");
      return TRUE;
    }
  self_pay = g_str_equal (setl_type, "2");
  trdn = flag (sel, "trdn_flag");
  if (!self_pay)
    {
      /* A sale names a settlement the centre holds with that drug; a
       * return may name one cancelled since. */
      const char *sql = is_return
        ? "SELECT count(*) FROM nhsa_settlement_line l JOIN nhsa_settlement s USING (setl_id)"
          " WHERE l.setl_id = ? AND l.med_list_codg = ? AND s.refd_setl_flag = 0 AND s.state IN (1, 2)"
        : "SELECT count(*) FROM nhsa_settlement_line l JOIN nhsa_settlement s USING (setl_id)"
          " WHERE l.setl_id = ? AND l.med_list_codg = ? AND s.refd_setl_flag = 0 AND s.state = 1";

      if (setl_id == NULL || *setl_id == '\0' || count_bound (store, sql, setl_id, code_of_drug) <= 0)
        {
          call->err_msg = g_strdup_printf ("结算信息不存在或已撤销，或结算中无此药品 %s (no such settled settlement with this drug)",
                                           code_of_drug);
          return TRUE;
        }
    }
  sale = sale_key (call, sel, self_pay);
  for (guint i = 0; trac != NULL && i < json_array_get_length (trac); i++)
    {
      JsonNode *n = json_array_get_element (trac, i);
      const char *code = JSON_NODE_HOLDS_OBJECT (n) ? pd_nhsa_str (json_node_get_object (n), "drug_trac_codg") : NULL;

      if (!code_valid (code))
        {
          call->err_msg = g_strdup_printf ("追溯码格式错误：%s (20 digits)", code != NULL ? code : "(空)");
          return TRUE;
        }
      g_ptr_array_add (codes, (gpointer) code);
    }
  for (guint i = 0; i < codes->len; i++)
    {
      const char *code = codes->pdata[i];
      gint64 n;

      if (is_return)
        n = count_bound (store, "SELECT count(*) = 0 FROM nhsa_sold_code WHERE code = ? AND sale = ? AND returned_by IS NULL",
                         code, sale);
      else if (trdn)
        /* a split pack: other split-pack sales of the box are fine */
        n = count_bound (store, "SELECT count(*) FROM nhsa_sold_code WHERE code = ? AND sale <> ? AND returned_by IS NULL"
                                " AND trdn_flag = 0", code, sale);
      else
        n = count_bound (store, "SELECT count(*) FROM nhsa_sold_code WHERE code = ? AND sale <> ? AND returned_by IS NULL",
                         code, sale);
      if (n != 0)
        g_string_append_printf (refused, "%s%s", refused->len > 0 ? "、" : "", code);
    }
  if (refused->len > 0)
    {
      call->err_msg = is_return
        ? g_strdup_printf ("追溯码未在该销售中售出或已退货：%s (not sold under this sale)", refused->str)
        : g_strdup_printf ("追溯码已在其他销售中售出：%s (already sold under another sale)", refused->str);
      return TRUE;
    }
  for (guint i = 0; i < codes->len; i++)
    {
      if (is_return)
        {
          stmt = pd_store_prepare (store, "UPDATE nhsa_sold_code SET returned_by = ? WHERE code = ? AND sale = ? AND returned_by IS NULL", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_text (stmt, 1, call->msgid, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (stmt, 2, codes->pdata[i], -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (stmt, 3, sale, -1, SQLITE_TRANSIENT);
        }
      else
        {
          stmt = pd_store_prepare (store, "INSERT INTO nhsa_sold_code (code, msgid, sale, trdn_flag) VALUES (?, ?, ?, ?)"
                                          " ON CONFLICT DO NOTHING", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_text (stmt, 1, codes->pdata[i], -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (stmt, 2, call->msgid, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (stmt, 3, sale, -1, SQLITE_TRANSIENT);
          sqlite3_bind_int (stmt, 4, trdn);
        }
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  stmt = pd_store_prepare (store, "INSERT INTO nhsa_upload (msgid, infno, sale, med_list_codg) VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, call->msgid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, call->infno, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, sale, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, code_of_drug, -1, SQLITE_TRANSIENT);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "retRslt");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "msgRslt");
  json_builder_add_string_value (b, is_return ? "退货成功" : "销售上传成功");
  json_builder_end_object (b);
  call->output = json_builder_get_root (b);
  return TRUE;
}
