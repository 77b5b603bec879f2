/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-settle"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pd-sandbox-insurance.h"

/* The centre's settlement engine (insurance.md's last section): 2101
 * pre-settles, 2102 settles, 2103 cancels with a refund settlement of
 * its own, 5203 answers what the centre holds. Money in fen, unit prices
 * in 1/1,000,000 yuan (the wire's pric allows 6 decimals), counts in
 * 1/10,000 unit, ratios in basis points. */

typedef struct {
  char     insutype[4];
  gint64   b_ratio_bp;       /* class B's self-pay-first share */
  gint64   deductible_fen;   /* per calendar year */
  gint64   pool_ratio_bp;
  gint64   cap_fen;          /* the pooled fund's yearly cap */
  gboolean account;          /* the personal account may pay */
} Policy;

struct _PdSandboxCentre
{
  Policy      policies[2];   /* 310 employees, 390 residents */
  GHashTable *classes;       /* nhsa_code → "A", "B" or "C" */
};

/* --- the policy file and the catalogue ------------------------------------ */

/* $PHARMDESK_DATADIR/NAME, else the installed one, else the source tree's. */
static char *
data_path (const char *dir,
           const char *name)
{
  const char *datadir = g_getenv ("PHARMDESK_DATADIR");
  g_autofree char *installed = g_build_filename (PKGDATADIR, dir, name, NULL);

  if (datadir != NULL && *datadir != '\0')
    return g_build_filename (datadir, dir, name, NULL);
  if (g_file_test (installed, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&installed);
  return g_build_filename (SOURCE_DATADIR, dir, name, NULL);
}

static gboolean
policy_money (GKeyFile    *kf,
              const char  *group,
              const char  *key,
              gint64      *fen,
              GError     **error)
{
  g_autofree char *text = g_key_file_get_string (kf, group, key, NULL);
  g_autoptr(JsonObject) o = json_object_new ();

  if (text == NULL)
    return TRUE;
  json_object_set_string_member (o, "v", g_strstrip (text));
  if (!pd_nhsa_decimal (o, "v", 2, fen) || *fen < 0)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] %s: “%s” is not an amount in yuan with at most two decimals", group, key, text);
      return FALSE;
    }
  return TRUE;
}

static gboolean
policy_bp (GKeyFile    *kf,
           const char  *group,
           const char  *key,
           gint64      *bp,
           GError     **error)
{
  g_autoptr(GError) local = NULL;
  gint64 v;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  v = g_key_file_get_int64 (kf, group, key, &local);
  if (local != NULL || v < 0 || v > 10000)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] %s: basis points from 0 to 10000", group, key);
      return FALSE;
    }
  *bp = v;
  return TRUE;
}

static gboolean
load_policy (PdSandboxCentre  *centre,
             const char       *path,
             gboolean          required,
             GError          **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;

  /* insurance.md's defaults, when the file leaves something out */
  centre->policies[0] = (Policy) { "310", 1000, 20000, 6000, 300000, TRUE };
  centre->policies[1] = (Policy) { "390", 1000, 10000, 5000, 50000, FALSE };
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      if (!required && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, local->domain, local->code, "%s: %s", path, local->message);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (centre->policies); i++)
    {
      Policy *p = &centre->policies[i];
      g_autoptr(GError) e = NULL;

      if (!g_key_file_has_group (kf, p->insutype))
        continue;
      if (!policy_bp (kf, p->insutype, "b_selfpay_first_bp", &p->b_ratio_bp, &e)
          || !policy_money (kf, p->insutype, "deductible", &p->deductible_fen, &e)
          || !policy_bp (kf, p->insutype, "pool_ratio_bp", &p->pool_ratio_bp, &e)
          || !policy_money (kf, p->insutype, "pool_cap", &p->cap_fen, &e))
        {
          g_set_error (error, e->domain, e->code, "%s: %s", path, e->message);
          return FALSE;
        }
      if (g_key_file_has_key (kf, p->insutype, "account", NULL))
        {
          p->account = g_key_file_get_boolean (kf, p->insutype, "account", &e);
          if (e != NULL)
            {
              g_set_error (error, e->domain, e->code, "%s: [%s] account: true or false", path, p->insutype);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* The fields of one CSV record (RFC 4180: quoted fields, "" a quote);
 * *p moves past it. */
static GStrv
csv_record (const char **p)
{
  GPtrArray *fields = g_ptr_array_new ();
  GString *cell = g_string_new (NULL);
  gboolean quoted = FALSE;
  const char *s;

  for (s = *p; *s != '\0'; s++)
    {
      if (quoted)
        {
          if (*s == '"' && s[1] == '"')
            g_string_append_c (cell, *s++);
          else if (*s == '"')
            quoted = FALSE;
          else
            g_string_append_c (cell, *s);
          continue;
        }
      if (*s == '"')
        quoted = TRUE;
      else if (*s == ',')
        g_ptr_array_add (fields, g_string_free (g_steal_pointer (&cell), FALSE)), cell = g_string_new (NULL);
      else if (*s == '\n')
        {
          s++;
          break;
        }
      else if (*s != '\r')
        g_string_append_c (cell, *s);
    }
  g_ptr_array_add (fields, g_string_free (cell, FALSE));
  g_ptr_array_add (fields, NULL);
  *p = s;
  return (GStrv) g_ptr_array_free (fields, FALSE);
}

static gboolean
load_catalogue (PdSandboxCentre  *centre,
                GError          **error)
{
  g_autofree char *path = data_path ("kb", "drugs.csv");
  g_autofree char *text = NULL;
  g_auto(GStrv) header = NULL;
  const char *p;
  int c_code = -1, c_class = -1;

  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  p = g_str_has_prefix (text, "\xef\xbb\xbf") ? text + 3 : text;
  header = csv_record (&p);
  for (int i = 0; header[i] != NULL; i++)
    {
      if (g_str_equal (header[i], "nhsa_code"))
        c_code = i;
      else if (g_str_equal (header[i], "insurance_class"))
        c_class = i;
    }
  if (c_code < 0 || c_class < 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s has no columns nhsa_code and insurance_class", path);
      return FALSE;
    }
  while (*p != '\0')
    {
      g_auto(GStrv) row = csv_record (&p);
      guint n = g_strv_length (row);

      if ((guint) MAX (c_code, c_class) >= n || *row[c_code] == '\0')
        continue;
      if (g_str_equal (row[c_class], "A") || g_str_equal (row[c_class], "B") || g_str_equal (row[c_class], "C"))
        g_hash_table_replace (centre->classes, g_strdup (row[c_code]), g_strdup (row[c_class]));
    }
  return TRUE;
}

void
pd_sandbox_centre_free (PdSandboxCentre *centre)
{
  if (centre == NULL)
    return;
  g_clear_pointer (&centre->classes, g_hash_table_unref);
  g_free (centre);
}

gboolean
pd_sandbox_centre_load (PdSandbox  *sandbox,
                        const char *policy_path,
                        GError    **error)
{
  PdSandboxCentre *centre = g_new0 (PdSandboxCentre, 1);
  g_autofree char *path = policy_path != NULL ? g_strdup (policy_path) : data_path ("sandbox", "insurance-policy.ini");
  g_autoptr(GError) local = NULL;

  centre->classes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!load_policy (centre, path, policy_path != NULL, error))
    {
      pd_sandbox_centre_free (centre);
      return FALSE;
    }
  /* A knowledge base without the catalogue's columns (a test's own) still
   * serves: the centre then knows no code, and every line is self-paid. */
  if (!load_catalogue (centre, &local))
    g_printerr ("pharmdesk-sandbox: the insurance centre's catalogue: %s; every line will be wholly self-paid\n", local->message);
  sandbox->centre = centre;
  return TRUE;
}

static const Policy *
policy_for (PdSandbox  *sandbox,
            const char *insutype)
{
  for (guint i = 0; i < G_N_ELEMENTS (sandbox->centre->policies); i++)
    if (g_str_equal (sandbox->centre->policies[i].insutype, insutype))
      return &sandbox->centre->policies[i];
  return NULL;
}

/* --- the person and the year ----------------------------------------------- */

typedef struct {
  char   *psn_no;
  char   *certno;
  char   *name;
  char   *insutype;
  char   *area;
  char   *status;
  gint64  balance_fen;
} Person;

static void
person_clear (Person *p)
{
  g_free (p->psn_no);
  g_free (p->certno);
  g_free (p->name);
  g_free (p->insutype);
  g_free (p->area);
  g_free (p->status);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Person, person_clear)

/* FALSE with *found FALSE when there is no such person. */
static gboolean
person_load (PdStore    *store,
             const char *psn_no,
             Person     *p,
             gboolean   *found,
             GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT psn_no, certno, name, insutype, insuplc_admdvs, insu_status, balance_fen FROM person WHERE psn_no = ?", error);

  *found = FALSE;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, psn_no != NULL ? psn_no : "", -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      *found = TRUE;
      p->psn_no = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      p->certno = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      p->name = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      p->insutype = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      p->area = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      p->status = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      p->balance_fen = sqlite3_column_int64 (stmt, 6);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* The envelope's insuplc_admdvs is required with a psn_no (insurance.md)
 * and must be the person's area. */
static gboolean
area_ok (PdNhsaCall   *call,
         const Person *person)
{
  const char *area = pd_nhsa_str (call->request, "insuplc_admdvs");

  if (area == NULL || *area == '\0')
    {
      call->err_msg = g_strdup ("参保地医保区划 insuplc_admdvs 不能为空 (required with psn_no, from 1101)");
      return FALSE;
    }
  if (!g_str_equal (area, person->area))
    {
      call->err_msg = g_strdup_printf ("参保地医保区划 %s 与参保人员不符 (the person's area is %s)", area, person->area);
      return FALSE;
    }
  return TRUE;
}

static int
year_now (PdSandbox *sandbox)
{
  g_autofree char *year = pd_nhsa_china_time (sandbox, "%Y");

  return atoi (year);
}

static gboolean
year_used (PdStore    *store,
           const char *psn_no,
           int         year,
           gint64     *deductible_fen,
           gint64     *pool_fen,
           GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT deductible_fen, pool_fen FROM nhsa_year WHERE psn_no = ? AND year = ?", error);

  *deductible_fen = *pool_fen = 0;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, psn_no, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, year);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      *deductible_fen = sqlite3_column_int64 (stmt, 0);
      *pool_fen = sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* Adds (sign 1) or gives back (sign -1) what a settlement used of the
 * year and of the account. */
static gboolean
ledger_apply (PdStore    *store,
              const char *psn_no,
              int         year,
              gint64      dedc_fen,
              gint64      hifp_fen,
              gint64      acct_fen,
              int         sign,
              GError    **error)
{
  /* The row exists before anything is given back (CHECK would refuse an
   * insert of a negative amount before the upsert's update). */
  sqlite3_stmt *stmt = pd_store_prepare (store, sign > 0
    ? "INSERT INTO nhsa_year (psn_no, year, deductible_fen, pool_fen) VALUES (?1, ?2, ?3, ?4)"
      " ON CONFLICT (psn_no, year) DO UPDATE SET deductible_fen = deductible_fen + ?3, pool_fen = pool_fen + ?4"
    : "UPDATE nhsa_year SET deductible_fen = deductible_fen + ?3, pool_fen = pool_fen + ?4 WHERE psn_no = ?1 AND year = ?2", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, psn_no, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, year);
  sqlite3_bind_int64 (stmt, 3, sign * dedc_fen);
  sqlite3_bind_int64 (stmt, 4, sign * hifp_fen);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  stmt = pd_store_prepare (store, "UPDATE person SET balance_fen = balance_fen - ? WHERE psn_no = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, sign * acct_fen);
  sqlite3_bind_text (stmt, 2, psn_no, -1, SQLITE_TRANSIENT);
  return pd_store_step_done (store, stmt, error);
}

/* --- the engine ------------------------------------------------------------- */

typedef struct {
  char   *sn;
  char   *code;
  gint64  cnt_e4;
  gint64  pric_e6;
  gint64  fee;
  char    lv;          /* 'A', 'B', 'C'; 0 when the catalogue does not know the code */
  gint64  ful, pre, scope;
  gint64  selfpay_bp;
} Line;

static void
line_free (gpointer data)
{
  Line *l = data;

  g_free (l->sn);
  g_free (l->code);
  g_free (l);
}

typedef struct {
  gint64 total, ful, pre, scope, dedc, hifp, pool_prop, psn_part, acct, cash, balc;
} Amounts;

static gint64
round_div (__int128 num,
           __int128 den)
{
  /* half-up, for num >= 0 */
  return (gint64) ((num + den / 2) / den);
}

/* The request's lines, or NULL with call->err_msg. */
static GPtrArray *
read_lines (PdNhsaCall *call,
            JsonArray  *detail)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (line_free);
  g_autoptr(GHashTable) sns = g_hash_table_new (g_str_hash, g_str_equal);

  if (detail == NULL || json_array_get_length (detail) == 0)
    {
      call->err_msg = g_strdup ("费用明细 drugdetail 不能为空 (no lines)");
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (detail); i++)
    {
      JsonNode *n = json_array_get_element (detail, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      Line *l = g_new0 (Line, 1);
      gint64 sn_number;

      g_ptr_array_add (lines, l);
      l->code = g_strdup (pd_nhsa_str (o, "med_list_codg"));
      if (pd_nhsa_str (o, "feedetl_sn") != NULL)
        l->sn = g_strdup (pd_nhsa_str (o, "feedetl_sn"));
      else if (pd_nhsa_decimal (o, "feedetl_sn", 0, &sn_number))
        l->sn = g_strdup_printf ("%" G_GINT64_FORMAT, sn_number);
      if (l->sn == NULL || *l->sn == '\0' || l->code == NULL || *l->code == '\0')
        {
          call->err_msg = g_strdup_printf ("第 %u 条明细缺少 feedetl_sn 或 med_list_codg (line %u)", i + 1, i + 1);
          return NULL;
        }
      if (!g_hash_table_add (sns, l->sn))
        {
          call->err_msg = g_strdup_printf ("费用明细流水号重复：%s (feedetl_sn used twice)", l->sn);
          return NULL;
        }
      if (!pd_nhsa_decimal (o, "cnt", 4, &l->cnt_e4) || l->cnt_e4 <= 0 || l->cnt_e4 > G_GINT64_CONSTANT (100000000000))
        {
          call->err_msg = g_strdup_printf ("明细 %s 的数量 cnt 无效 (a positive number, at most 4 decimals)", l->sn);
          return NULL;
        }
      if (!pd_nhsa_decimal (o, "pric", 6, &l->pric_e6) || l->pric_e6 < 0 || l->pric_e6 > G_GINT64_CONSTANT (100000000000000))
        {
          call->err_msg = g_strdup_printf ("明细 %s 的单价 pric 无效 (yuan, at most 6 decimals)", l->sn);
          return NULL;
        }
    }
  return g_steal_pointer (&lines);
}

/* insurance.md: each line rounded half-up, the year's deductible and cap,
 * the account only when allowed and asked. */
static void
compute (const Policy *policy,
         GHashTable   *classes,
         GPtrArray    *lines,
         gint64        deductible_used,
         gint64        pool_used,
         gint64        balance,
         gboolean      use_account,
         Amounts      *a)
{
  memset (a, 0, sizeof *a);
  for (guint i = 0; i < lines->len; i++)
    {
      Line *l = lines->pdata[i];
      const char *cls = g_hash_table_lookup (classes, l->code);

      l->lv = cls != NULL ? cls[0] : 0;
      l->fee = round_div ((__int128) l->pric_e6 * l->cnt_e4, (__int128) 100000000);
      l->ful = l->lv == 'A' || l->lv == 'B' ? 0 : l->fee;
      l->pre = l->lv == 'B' ? round_div ((__int128) l->fee * policy->b_ratio_bp, 10000) : 0;
      l->scope = l->fee - l->ful - l->pre;
      l->selfpay_bp = l->lv == 'A' ? 0 : l->lv == 'B' ? policy->b_ratio_bp : 10000;
      a->total += l->fee;
      a->ful += l->ful;
      a->pre += l->pre;
    }
  a->scope = a->total - a->ful - a->pre;
  a->dedc = MIN (a->scope, MAX (0, policy->deductible_fen - deductible_used));
  a->hifp = MIN (round_div ((__int128) (a->scope - a->dedc) * policy->pool_ratio_bp, 10000),
                 MAX (0, policy->cap_fen - pool_used));
  a->pool_prop = a->scope - a->dedc - a->hifp;
  a->psn_part = a->total - a->hifp;
  a->acct = policy->account && use_account ? MIN (a->psn_part, balance) : 0;
  a->cash = a->psn_part - a->acct;
  a->balc = balance - a->acct;
}

static const char *
chrgitm_lv (char lv)
{
  return lv == 'A' ? "01" : lv == 'B' ? "02" : "03";
}

static void
add_string (JsonBuilder *b,
            const char  *member,
            const char  *value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_string_value (b, value);
}

static void
build_setlinfo (JsonBuilder  *b,
                const Person *person,
                const char   *setl_id,
                const char   *mdtrt_id,
                const char   *setl_time,
                const char   *msgid,
                const Amounts *a,
                int           refd_setl_flag)
{
  static const char *zero[] = { "overlmt_selfpay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay",
                                "acct_mulaid_pay" };

  json_builder_begin_object (b);
  if (setl_id != NULL)
    {
      add_string (b, "setl_id", setl_id);
      add_string (b, "mdtrt_id", mdtrt_id);
    }
  add_string (b, "psn_no", person->psn_no);
  add_string (b, "psn_name", person->name);
  add_string (b, "psn_cert_type", "01");
  add_string (b, "certno", person->certno);
  add_string (b, "insutype", person->insutype);
  add_string (b, "psn_type", g_str_equal (person->insutype, "310") ? "11" : "14");
  add_string (b, "med_type", "41");
  add_string (b, "setl_time", setl_time);
  pd_nhsa_add_money (b, "medfee_sumamt", a->total);
  pd_nhsa_add_money (b, "fulamt_ownpay_amt", a->ful);
  pd_nhsa_add_money (b, "preselfpay_amt", a->pre);
  pd_nhsa_add_money (b, "inscp_scp_amt", a->scope);
  pd_nhsa_add_money (b, "act_pay_dedc", a->dedc);
  pd_nhsa_add_money (b, "hifp_pay", a->hifp);
  pd_nhsa_add_money (b, "pool_prop_selfpay", a->pool_prop);
  for (guint i = 0; i < G_N_ELEMENTS (zero); i++)
    pd_nhsa_add_money (b, zero[i], 0);
  pd_nhsa_add_money (b, "fund_pay_sumamt", a->hifp);
  pd_nhsa_add_money (b, "psn_part_amt", a->psn_part);
  pd_nhsa_add_money (b, "acct_pay", a->acct);
  pd_nhsa_add_money (b, "psn_cash_pay", a->cash);
  pd_nhsa_add_money (b, "balc", a->balc);
  add_string (b, "medins_setl_id", msgid);
  add_string (b, "clr_optins", person->area);
  add_string (b, "clr_way", "1");
  add_string (b, "clr_type", "41");
  json_builder_set_member_name (b, "refd_setl_flag");
  json_builder_add_int_value (b, refd_setl_flag);
  json_builder_end_object (b);
}

static char *
node_text (JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

static gboolean
store_settlement (PdStore      *store,
                  const char   *setl_id,
                  const char   *mdtrt_id,
                  const char   *msgid,
                  const Person *person,
                  int           year,
                  const char   *setl_time,
                  const char   *cancels,
                  const Amounts *a,
                  const char   *setlinfo,
                  GError      **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "INSERT INTO nhsa_settlement (setl_id, mdtrt_id, msgid, psn_no, insutype, year, setl_time, refd_setl_flag, cancels,"
    " state, medfee_fen, dedc_fen, hifp_fen, acct_fen, cash_fen, setlinfo)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, setl_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, mdtrt_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, msgid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, person->psn_no, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, person->insutype, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 6, year);
  sqlite3_bind_text (stmt, 7, setl_time, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 8, cancels != NULL ? 1 : 0);
  sqlite3_bind_text (stmt, 9, cancels, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 10, a->total);
  sqlite3_bind_int64 (stmt, 11, a->dedc);
  sqlite3_bind_int64 (stmt, 12, a->hifp);
  sqlite3_bind_int64 (stmt, 13, a->acct);
  sqlite3_bind_int64 (stmt, 14, a->cash);
  sqlite3_bind_text (stmt, 15, setlinfo, -1, SQLITE_TRANSIENT);
  return pd_store_step_done (store, stmt, error);
}

static gboolean
store_lines (PdStore    *store,
             const char *setl_id,
             GPtrArray  *lines,
             GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "INSERT INTO nhsa_settlement_line (setl_id, feedetl_sn, med_list_codg, cnt_e4, pric_e6, fee_fen, chrgitm_lv,"
    " fulamt_fen, preselfpay_fen, inscp_fen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < lines->len; i++)
    {
      Line *l = lines->pdata[i];

      sqlite3_bind_text (stmt, 1, setl_id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, l->sn, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, l->code, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 4, l->cnt_e4);
      sqlite3_bind_int64 (stmt, 5, l->pric_e6);
      sqlite3_bind_int64 (stmt, 6, l->fee);
      sqlite3_bind_text (stmt, 7, chrgitm_lv (l->lv), -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 8, l->ful);
      sqlite3_bind_int64 (stmt, 9, l->pre);
      sqlite3_bind_int64 (stmt, 10, l->scope);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  return TRUE;
}

/* A new id: the centre's area, 1 (settlement) or 2 (visit), the second
 * and a serial, 30 characters. */
static char *
new_id (PdNhsaCall *call,
        const char *counter,
        GError    **error)
{
  g_autofree char *when = pd_nhsa_china_time (call->sandbox, "%Y%m%d%H%M%S");
  gint64 n;

  if (!pd_nhsa_next (call->sandbox->store, counter, &n, error))
    return NULL;
  return g_strdup_printf ("110105%c%s%09" G_GINT64_FORMAT, g_str_equal (counter, "setl") ? '1' : '2', when, n % 1000000000);
}

/* 2101 (commit FALSE) and 2102. */
gboolean
pd_nhsa_presettle (PdNhsaCall *call,
                   gboolean    commit,
                   GError    **error)
{
  PdStore *store = call->sandbox->store;
  JsonObject *input = json_object_get_object_member (call->request, "input");
  JsonObject *info = pd_nhsa_input (call, "druginfo");
  JsonArray *detail = input != NULL && json_object_has_member (input, "drugdetail")
                      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (input, "drugdetail"))
                      ? json_object_get_array_member (input, "drugdetail") : NULL;
  g_auto(Person) person = { 0 };
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) setlinfo = NULL;
  g_autofree char *setl_id = NULL;
  g_autofree char *mdtrt_id = NULL;
  g_autofree char *setl_time = pd_nhsa_china_time (call->sandbox, "%Y-%m-%d %H:%M:%S");
  const char *insutype = pd_nhsa_str (info, "insutype");
  const char *acct_flag = pd_nhsa_str (info, "acct_used_flag");
  const Policy *policy;
  gboolean found;
  gint64 asked, acct_number = 0, deductible_used, pool_used;
  int year = year_now (call->sandbox);
  Amounts a;

  if (info == NULL)
    {
      call->err_msg = g_strdup ("输入 druginfo 不能为空 (druginfo required)");
      return TRUE;
    }
  if (!person_load (store, pd_nhsa_str (info, "psn_no"), &person, &found, error))
    return FALSE;
  if (!found)
    {
      call->err_msg = g_strdup ("未查询到参保人员信息：psn_no 不存在 (no such person)");
      return TRUE;
    }
  if (!area_ok (call, &person))
    return TRUE;
  if (g_str_equal (person.status, "2"))
    {
      call->err_msg = g_strdup ("参保人员已暂停参保，不能享受医保结算 (the person's insurance is suspended)");
      return TRUE;
    }
  if (insutype == NULL || !g_str_equal (insutype, person.insutype))
    {
      call->err_msg = g_strdup_printf ("险种类型 %s 与参保人员不符 (the person's insurance type is %s)",
                                       insutype != NULL ? insutype : "(空)", person.insutype);
      return TRUE;
    }
  if (g_strcmp0 (pd_nhsa_str (info, "med_type"), "41") != 0)
    {
      call->err_msg = g_strdup ("医疗类别 med_type 应为 41 定点药店购药 (pharmacy purchase)");
      return TRUE;
    }
  if (!pd_nhsa_decimal (info, "medfee_sumamt", 2, &asked))
    {
      call->err_msg = g_strdup ("医疗费总额 medfee_sumamt 无效 (yuan, at most two decimals)");
      return TRUE;
    }
  lines = read_lines (call, detail);
  if (lines == NULL)
    return TRUE;
  policy = policy_for (call->sandbox, person.insutype);
  if (!year_used (store, person.psn_no, year, &deductible_used, &pool_used, error))
    return FALSE;
  if (acct_flag == NULL)
    pd_nhsa_decimal (info, "acct_used_flag", 0, &acct_number);
  compute (policy, call->sandbox->centre->classes, lines, deductible_used, pool_used, person.balance_fen,
           acct_flag != NULL ? g_str_equal (acct_flag, "1") : acct_number == 1, &a);
  if (a.total != asked)
    {
      call->err_msg = g_strdup_printf ("医疗费总额不符：申报 %" G_GINT64_FORMAT ".%02d 元，明细合计 %" G_GINT64_FORMAT ".%02d 元"
                                       " (medfee_sumamt must equal the sum of the lines)",
                                       asked / 100, (int) ABS (asked % 100), a.total / 100, (int) (a.total % 100));
      return TRUE;
    }
  if (commit)
    {
      setl_id = new_id (call, "setl", error);
      mdtrt_id = setl_id != NULL ? new_id (call, "mdtrt", error) : NULL;
      if (mdtrt_id == NULL)
        return FALSE;
    }
  build_setlinfo (b, &person, setl_id, mdtrt_id, setl_time, call->msgid, &a, 0);
  setlinfo = json_builder_get_root (b);
  if (commit)
    {
      g_autofree char *text = node_text (setlinfo);

      if (!store_settlement (store, setl_id, mdtrt_id, call->msgid, &person, year, setl_time, NULL, &a, text, error)
          || !store_lines (store, setl_id, lines, error)
          || !ledger_apply (store, person.psn_no, year, a.dedc, a.hifp, a.acct, 1, error))
        return FALSE;
    }
  json_builder_reset (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "setlinfo");
  json_builder_add_value (b, json_node_ref (setlinfo));
  /* The pooled fund's share; the other funds pay nothing here. */
  json_builder_set_member_name (b, "setldetail");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_string (b, "fund_pay_type", g_str_equal (person.insutype, "310") ? "310100" : "390100");
  pd_nhsa_add_money (b, "inscp_scp_amt", a.scope);
  pd_nhsa_add_money (b, "crt_payb_lmt_amt", MAX (0, policy->cap_fen - pool_used));
  pd_nhsa_add_money (b, "fund_payamt", a.hifp);
  add_string (b, "fund_pay_type_name", g_str_equal (person.insutype, "310") ? "职工基本医疗保险统筹基金" : "城乡居民基本医疗保险基金");
  add_string (b, "setl_proc_info", "");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "detlcutinfo");
  json_builder_begin_array (b);
  for (guint i = 0; i < lines->len; i++)
    {
      Line *l = lines->pdata[i];

      json_builder_begin_object (b);
      add_string (b, "feedetl_sn", l->sn);
      pd_nhsa_add_money (b, "det_item_fee_sumamt", l->fee);
      /* a whole count as a whole number; a price in 4 decimals unless it has 6 */
      if (l->cnt_e4 % 10000 == 0)
        pd_nhsa_add_decimal (b, "cnt", l->cnt_e4 / 10000, 0);
      else
        pd_nhsa_add_decimal (b, "cnt", l->cnt_e4, 4);
      if (l->pric_e6 % 100 == 0)
        pd_nhsa_add_decimal (b, "pric", l->pric_e6 / 100, 4);
      else
        pd_nhsa_add_decimal (b, "pric", l->pric_e6, 6);
      pd_nhsa_add_decimal (b, "selfpay_prop", l->selfpay_bp, 4);
      pd_nhsa_add_money (b, "fulamt_ownpay_amt", l->ful);
      pd_nhsa_add_money (b, "preselfpay_amt", l->pre);
      pd_nhsa_add_money (b, "inscp_scp_amt", l->scope);
      add_string (b, "chrgitm_lv", chrgitm_lv (l->lv));
      add_string (b, "med_list_codg", l->code);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  call->output = json_builder_get_root (b);
  return TRUE;
}

/* --- 2103 and 5203 ------------------------------------------------------- */

typedef struct {
  char   *setl_id, *mdtrt_id, *msgid, *psn_no, *cancels, *setlinfo;
  int     year, state, refd;
  gint64  medfee, dedc, hifp, acct, cash;
} Settlement;

static void
settlement_clear (Settlement *s)
{
  g_free (s->setl_id);
  g_free (s->mdtrt_id);
  g_free (s->msgid);
  g_free (s->psn_no);
  g_free (s->cancels);
  g_free (s->setlinfo);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Settlement, settlement_clear)

/* By setl_id (column "setl_id") or by the request that made it ("msgid"). */
static gboolean
settlement_load (PdStore    *store,
                 const char *column,
                 const char *key,
                 Settlement *s,
                 gboolean   *found,
                 GError    **error)
{
  g_autofree char *sql = g_strdup_printf (
    "SELECT setl_id, mdtrt_id, msgid, psn_no, cancels, setlinfo, year, state, refd_setl_flag, medfee_fen, dedc_fen,"
    " hifp_fen, acct_fen, cash_fen FROM nhsa_settlement WHERE %s = ?", column);
  sqlite3_stmt *stmt = pd_store_prepare (store, sql, error);

  *found = FALSE;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key != NULL ? key : "", -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      *found = TRUE;
      s->setl_id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      s->mdtrt_id = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      s->msgid = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      s->psn_no = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      s->cancels = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      s->setlinfo = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      s->year = sqlite3_column_int (stmt, 6);
      s->state = sqlite3_column_int (stmt, 7);
      s->refd = sqlite3_column_int (stmt, 8);
      s->medfee = sqlite3_column_int64 (stmt, 9);
      s->dedc = sqlite3_column_int64 (stmt, 10);
      s->hifp = sqlite3_column_int64 (stmt, 11);
      s->acct = sqlite3_column_int64 (stmt, 12);
      s->cash = sqlite3_column_int64 (stmt, 13);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
set_state (PdStore    *store,
           const char *setl_id,
           int         state,
           GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "UPDATE nhsa_settlement SET state = ? WHERE setl_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, state);
  sqlite3_bind_text (stmt, 2, setl_id, -1, SQLITE_TRANSIENT);
  return pd_store_step_done (store, stmt, error);
}

static JsonNode *
parse_text (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();

  if (!json_parser_load_from_data (parser, text, -1, NULL))
    return NULL;
  return json_node_ref (json_parser_get_root (parser));
}

static void
set_money (JsonObject *o,
           const char *member,
           gint64      fen)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  json_builder_begin_object (b);
  pd_nhsa_add_money (b, member, fen);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  json_object_set_string_member (o, member, json_object_get_string_member (json_node_get_object (node), member));
}

gboolean
pd_nhsa_cancel (PdNhsaCall *call,
                GError    **error)
{
  PdStore *store = call->sandbox->store;
  JsonObject *data = pd_nhsa_input (call, "data");
  const char *mdtrt_id = pd_nhsa_str (data, "mdtrt_id");
  g_auto(Settlement) s = { 0 };
  g_auto(Person) person = { 0 };
  g_autoptr(JsonNode) setlinfo = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *refund_id = NULL;
  g_autofree char *setl_time = pd_nhsa_china_time (call->sandbox, "%Y-%m-%d %H:%M:%S");
  g_autofree char *text = NULL;
  gboolean found;
  JsonObject *o;
  Amounts a = { 0 };

  if (!settlement_load (store, "setl_id", pd_nhsa_str (data, "setl_id"), &s, &found, error))
    return FALSE;
  if (!found || (mdtrt_id != NULL && *mdtrt_id != '\0' && !g_str_equal (mdtrt_id, s.mdtrt_id))
      || g_strcmp0 (pd_nhsa_str (data, "psn_no"), s.psn_no) != 0)
    {
      call->err_msg = g_strdup ("结算信息不存在：setl_id、mdtrt_id 与 psn_no 不符 (no such settlement)");
      return TRUE;
    }
  if (!person_load (store, s.psn_no, &person, &found, error))
    return FALSE;
  if (!area_ok (call, &person))
    return TRUE;
  if (s.refd)
    {
      call->err_msg = g_strdup ("退费结算不能撤销 (a refund cannot be cancelled)");
      return TRUE;
    }
  if (s.state != 1)
    {
      call->err_msg = g_strdup (s.state == 2 ? "该结算已撤销，不能重复撤销 (already cancelled)"
                                             : "该结算已冲正，不能撤销 (reversed by 2601)");
      return TRUE;
    }
  refund_id = new_id (call, "setl", error);
  if (refund_id == NULL)
    return FALSE;
  /* The refund is the original's amounts, positive, under its own id. */
  setlinfo = parse_text (s.setlinfo);
  o = json_node_get_object (setlinfo);
  json_object_set_string_member (o, "setl_id", refund_id);
  json_object_set_string_member (o, "setl_time", setl_time);
  json_object_set_string_member (o, "medins_setl_id", call->msgid);
  json_object_set_int_member (o, "refd_setl_flag", 1);
  set_money (o, "balc", person.balance_fen + s.acct);
  text = node_text (setlinfo);
  a.total = s.medfee;
  a.dedc = s.dedc;
  a.hifp = s.hifp;
  a.acct = s.acct;
  a.cash = s.cash;
  if (!store_settlement (store, refund_id, s.mdtrt_id, call->msgid, &person, s.year, setl_time, s.setl_id, &a, text, error)
      || !set_state (store, s.setl_id, 2, error)
      || !ledger_apply (store, s.psn_no, s.year, s.dedc, s.hifp, s.acct, -1, error))
    return FALSE;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "setlinfo");
  json_builder_add_value (b, g_steal_pointer (&setlinfo));
  json_builder_end_object (b);
  call->output = json_builder_get_root (b);
  return TRUE;
}

gboolean
pd_nhsa_query (PdNhsaCall *call,
               GError    **error)
{
  JsonObject *data = pd_nhsa_input (call, "data");
  const char *psn_no = pd_nhsa_str (data, "psn_no");
  const char *mdtrt_id = pd_nhsa_str (data, "mdtrt_id");
  g_auto(Settlement) s = { 0 };
  g_autoptr(JsonNode) setlinfo = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gboolean found;

  if (!settlement_load (call->sandbox->store, "setl_id", pd_nhsa_str (data, "setl_id"), &s, &found, error))
    return FALSE;
  if (!found || (psn_no != NULL && *psn_no != '\0' && !g_str_equal (psn_no, s.psn_no))
      || (mdtrt_id != NULL && *mdtrt_id != '\0' && !g_str_equal (mdtrt_id, s.mdtrt_id)))
    {
      call->err_msg = g_strdup ("no such settlement (结算信息不存在)");
      return TRUE;
    }
  setlinfo = parse_text (s.setlinfo);
  /* 1 settled, 2 cancelled, 3 reversed */
  json_object_set_string_member (json_node_get_object (setlinfo), "setl_state", s.state == 1 ? "1" : s.state == 2 ? "2" : "3");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "setlinfo");
  json_builder_add_value (b, g_steal_pointer (&setlinfo));
  json_builder_end_object (b);
  call->output = json_builder_get_root (b);
  return TRUE;
}

/* --- 2601 of a settlement or a refund (pd-sandbox-ledger.c asks) ---------- */

gboolean
pd_nhsa_reverse_settlement (PdNhsaCall *call,
                            const char *omsgid,
                            gboolean   *undone,
                            GError    **error)
{
  PdStore *store = call->sandbox->store;
  g_auto(Settlement) s = { 0 };
  g_auto(Person) person = { 0 };
  gboolean found;

  *undone = FALSE;
  if (!settlement_load (store, "msgid", omsgid, &s, &found, error))
    return FALSE;
  if (!found)
    return TRUE;
  if (!s.refd)
    {
      if (s.state == 2)
        {
          call->err_msg = g_strdup ("该结算已撤销，不能冲正 (cancelled by 2103 since: reverse nothing)");
          return TRUE;
        }
      if (s.state == 3)
        return TRUE;
      *undone = TRUE;
      return set_state (store, s.setl_id, 3, error)
             && ledger_apply (store, s.psn_no, s.year, s.dedc, s.hifp, s.acct, -1, error);
    }
  if (s.state == 3)
    return TRUE;
  /* A refund undone: the original is settled again and takes back what
   * the refund gave. */
  if (!person_load (store, s.psn_no, &person, &found, error))
    return FALSE;
  if (person.balance_fen < s.acct)
    {
      call->err_msg = g_strdup ("个人账户余额不足，不能冲正退费 (the account no longer holds what the refund gave back)");
      return TRUE;
    }
  *undone = TRUE;
  return set_state (store, s.setl_id, 3, error)
         && set_state (store, s.cancels, 1, error)
         && ledger_apply (store, s.psn_no, s.year, s.dedc, s.hifp, s.acct, 1, error);
}
