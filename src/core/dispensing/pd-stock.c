/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-stock"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "pd-clock.h"
#include "pd-csv.h"
#include "pd-stock.h"

/* Stock (cli.md "Dispensing"): batches of `stock_batch`, received from a
 * purchase receipt, listed and suggested first expiry first, and moved by
 * fills, sales, returns and destruction; every change a `stock_move` row
 * and an audit row in the same transaction. */

G_DEFINE_QUARK (pd-dispensing-error-quark, pd_dispensing_error)

/* Largest count one receipt row may name: well past any real delivery,
 * far from overflowing boxes_on_hand. */
#define MAX_BOXES_PER_ROW 1000000

typedef struct {
  const PdKbDrug *drug;
  char           *lot;
  char           *manufactured;
  char           *expires;
  int             boxes;
  PdCsvRow       *row;
} ReceiptRow;

typedef struct {
  PdSession *session;
  PdCsv     *csv;
  GArray    *rows;          /* ReceiptRow */
  int        c_lot;
  guint      batches;
  guint      boxes;
} ReceiveJob;

static void
receipt_row_clear (ReceiptRow *r)
{
  g_free (r->lot);
  g_free (r->manufactured);
  g_free (r->expires);
}

static void
opened_box_free (PdOpenedBox *box)
{
  g_free (box->trace_code);
  g_free (box);
}

void
pd_stock_batch_free (PdStockBatch *batch)
{
  if (batch == NULL)
    return;
  g_free (batch->uuid);
  g_free (batch->drug_code);
  g_free (batch->lot);
  g_free (batch->manufactured_on);
  g_free (batch->expires_on);
  g_clear_pointer (&batch->opened, g_ptr_array_unref);
  g_free (batch);
}

/* --- the receipt ------------------------------------------------------------- */

/* A bad row: name:line:column, the column's name, what is wrong. */
#define bad(error, csv, field, column, ...) \
  pd_csv_set_error ((error), PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID, (csv), (field), (column), __VA_ARGS__)

/* A real day written YYYY-MM-DD. */
static gboolean
is_date (const char *s)
{
  guint y, m, d;

  if (strlen (s) != 10 || s[4] != '-' || s[7] != '-')
    return FALSE;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (s[i]))
      return FALSE;
  y = (guint) g_ascii_strtoull (s, NULL, 10);
  m = (guint) g_ascii_strtoull (s + 5, NULL, 10);
  d = (guint) g_ascii_strtoull (s + 8, NULL, 10);
  return y >= 1 && g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y);
}

static char *
field_text (PdCsvRow *row,
            int       column)
{
  return g_strstrip (g_strdup (pd_csv_get (row, column)));
}

/* Everything a row can be checked for without the database. */
static gboolean
read_receipt (PdKb    *kb,
              PdCsv   *csv,
              GArray  *rows,
              GError **error)
{
  static const char *columns[] = { "code", "lot", "manufactured", "expires", "boxes" };
  int c[G_N_ELEMENTS (columns)];

  for (guint i = 0; i < G_N_ELEMENTS (columns); i++)
    {
      c[i] = pd_csv_column (csv, columns[i]);
      if (c[i] < 0)
        {
          g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID,
                       _("%s:1:1: the header has no column “%s” (it must be code,lot,manufactured,expires,boxes)"),
                       csv->name, columns[i]);
          return FALSE;
        }
    }
  if (csv->rows->len == 0)
    {
      g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID,
                   _("%s:2:1: the receipt lists no batch"), csv->name);
      return FALSE;
    }
  for (guint i = 0; i < csv->rows->len; i++)
    {
      PdCsvRow *row = csv->rows->pdata[i];
      g_autofree char *code = field_text (row, c[0]);
      g_autofree char *boxes = field_text (row, c[4]);
      ReceiptRow r = { 0 };
      guint64 n = 0;

      r.row = row;
      if (*code == '\0')
        return bad (error, csv, pd_csv_get_field (row, c[0]), "code", "%s", _("is required"));
      r.drug = pd_kb_find_drug (kb, code);
      if (r.drug == NULL)
        return bad (error, csv, pd_csv_get_field (row, c[0]), "code",
                    _("“%s” is not a drug of the knowledge base in force (%s)"), code, pd_kb_get_version (kb));
      r.lot = field_text (row, c[1]);
      r.manufactured = field_text (row, c[2]);
      r.expires = field_text (row, c[3]);
      g_array_append_val (rows, r);   /* owned by rows from here */
      if (*r.lot == '\0')
        return bad (error, csv, pd_csv_get_field (row, c[1]), "lot", "%s", _("is required"));
      if (!is_date (r.manufactured))
        return bad (error, csv, pd_csv_get_field (row, c[2]), "manufactured",
                    _("“%s” is not a date YYYY-MM-DD"), r.manufactured);
      if (!is_date (r.expires))
        return bad (error, csv, pd_csv_get_field (row, c[3]), "expires",
                    _("“%s” is not a date YYYY-MM-DD"), r.expires);
      if (strcmp (r.expires, r.manufactured) <= 0)
        return bad (error, csv, pd_csv_get_field (row, c[3]), "expires",
                    _("%s is not after the date of manufacture %s"), r.expires, r.manufactured);
      if (*boxes == '\0' || strspn (boxes, "0123456789") != strlen (boxes) || strlen (boxes) > 9
          || (n = g_ascii_strtoull (boxes, NULL, 10)) == 0 || n > MAX_BOXES_PER_ROW)
        return bad (error, csv, pd_csv_get_field (row, c[4]), "boxes",
                    _("“%s” is not a whole number of boxes from 1 to %d"), boxes, MAX_BOXES_PER_ROW);
      g_array_index (rows, ReceiptRow, rows->len - 1).boxes = (int) n;
    }
  return TRUE;
}

static gboolean
add_move (PdSession  *session,
          gint64      batch_id,
          const char *batch_uuid,
          const char *detail_head,
          int         boxes,
          const char *reason,
          gint64      dispense_id,
          GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  const PdAccount *me = pd_session_get_account (session);
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  g_autofree char *action = g_strconcat ("stock.", reason, NULL);
  g_autofree char *detail = NULL;
  PdAuditEntry e = { me->id, action, "stock_batch", batch_uuid, "ok", NULL, NULL, NULL };
  sqlite3_stmt *stmt;

  stmt = pd_store_prepare (store, "INSERT INTO stock_move (batch_id, boxes, reason, dispense_id, actor_id, at)"
                                  " VALUES (?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, batch_id);
  sqlite3_bind_int (stmt, 2, boxes);
  sqlite3_bind_text (stmt, 3, reason, -1, SQLITE_STATIC);
  if (dispense_id > 0)
    sqlite3_bind_int64 (stmt, 4, dispense_id);
  sqlite3_bind_int64 (stmt, 5, me->id);
  sqlite3_bind_text (stmt, 6, now, -1, SQLITE_STATIC);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  /* Codes and counts, never people. */
  if (dispense_id > 0)
    detail = g_strdup_printf ("%s %+d boxes, dispense %" G_GINT64_FORMAT, detail_head, boxes, dispense_id);
  else
    detail = g_strdup_printf ("%s %+d boxes", detail_head, boxes);
  e.detail = detail;
  return pd_audit_append (store, pd_session_get_audit_keys (session), &e, error);
}

/* The lot as it stands: its id (0 when new), uuid and dates. */
static gboolean
find_lot (PdStore     *store,
          const char  *drug_code,
          const char  *lot,
          gint64      *id,
          char       **uuid,
          char       **manufactured,
          char       **expires,
          GError     **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT id, uuid, manufactured_on, expires_on FROM stock_batch"
                                                " WHERE drug_code = ? AND lot = ?", error);
  int rc;

  *id = 0;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, drug_code, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, lot, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *id = sqlite3_column_int64 (stmt, 0);
      *uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      *manufactured = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      *expires = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
    }
  else if (rc != SQLITE_DONE)
    {
      pd_store_set_error (pd_store_get_db (store), rc, "stock_batch", error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
write_receipt (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  ReceiveJob *job = user_data;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  g_autofree gint64 *ids = g_new0 (gint64, job->rows->len);

  for (guint i = 0; i < job->rows->len; i++)
    {
      ReceiptRow *r = &g_array_index (job->rows, ReceiptRow, i);
      g_autofree char *uuid = NULL;
      g_autofree char *manufactured = NULL;
      g_autofree char *expires = NULL;
      g_autofree char *head = NULL;
      sqlite3_stmt *stmt;
      gint64 id;

      if (!find_lot (store, r->drug->code, r->lot, &id, &uuid, &manufactured, &expires, error))
        return FALSE;
      if (id != 0 && (strcmp (manufactured, r->manufactured) != 0 || strcmp (expires, r->expires) != 0))
        return bad (error, job->csv, pd_csv_get_field (r->row, job->c_lot), "lot",
                    g_hash_table_contains (seen, &id)
                      ? _("lot “%s” of %s is made %s, expiring %s, on an earlier row of this receipt: this row says made %s, expiring %s")
                      : _("lot “%s” of %s is in stock made %s, expiring %s: this row says made %s, expiring %s"),
                    r->lot, r->drug->code, manufactured, expires, r->manufactured, r->expires);
      if (id != 0)
        {
          stmt = pd_store_prepare (store, "UPDATE stock_batch SET boxes_on_hand = boxes_on_hand + ? WHERE id = ?", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_int (stmt, 1, r->boxes);
          sqlite3_bind_int64 (stmt, 2, id);
        }
      else
        {
          uuid = pd_uuid_new ();
          stmt = pd_store_prepare (store, "INSERT INTO stock_batch (uuid, drug_code, lot, manufactured_on, expires_on,"
                                          " boxes_on_hand, unit_price_e4, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 2, r->drug->code, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 3, r->lot, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 4, r->manufactured, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 5, r->expires, -1, SQLITE_STATIC);
          sqlite3_bind_int (stmt, 6, r->boxes);
          /* The knowledge base's retail price per product unit, where known. */
          sqlite3_bind_int64 (stmt, 7, MAX (r->drug->price_e4, 0));
          sqlite3_bind_text (stmt, 8, now, -1, SQLITE_STATIC);
        }
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
      if (id == 0)
        id = sqlite3_last_insert_rowid (pd_store_get_db (store));
      ids[i] = id;
      if (!g_hash_table_contains (seen, &ids[i]))
        {
          g_hash_table_add (seen, &ids[i]);
          job->batches++;
        }
      job->boxes += (guint) r->boxes;
      head = g_strdup_printf ("%s lot %s", r->drug->code, r->lot);
      if (!add_move (job->session, id, uuid, head, r->boxes, "receive", 0, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
pd_stock_receive (PdSession   *session,
                  PdKb        *kb,
                  const char  *name,
                  const char  *csv,
                  gsize        len,
                  guint       *out_batches,
                  guint       *out_boxes,
                  GError     **error)
{
  g_autoptr(PdCsv) receipt = NULL;
  g_autoptr(GArray) rows = g_array_new (FALSE, TRUE, sizeof (ReceiptRow));
  g_autoptr(GError) local = NULL;
  ReceiveJob job = { 0 };

  g_return_val_if_fail (PD_IS_SESSION (session), FALSE);
  g_return_val_if_fail (kb != NULL, FALSE);
  g_array_set_clear_func (rows, (GDestroyNotify) receipt_row_clear);
  if (!pd_session_require (session, PD_ACTION_DISPENSE, "stock_batch", NULL, error))
    return FALSE;
  if (name == NULL)
    name = "receipt";
  receipt = pd_csv_parse (name, csv, len, &local);
  if (receipt == NULL)
    {
      /* The file's own syntax, said as the reader says it. */
      g_set_error_literal (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID, local->message);
      return FALSE;
    }
  if (!read_receipt (kb, receipt, rows, error))
    return FALSE;
  job.session = session;
  job.csv = receipt;
  job.rows = rows;
  job.c_lot = pd_csv_column (receipt, "lot");
  if (!pd_store_write (pd_session_get_store (session), write_receipt, &job, error))
    return FALSE;
  if (out_batches != NULL)
    *out_batches = job.batches;
  if (out_boxes != NULL)
    *out_boxes = job.boxes;
  return TRUE;
}

/* --- reading ----------------------------------------------------------------- */

#define BATCH_COLUMNS "id, uuid, drug_code, lot, manufactured_on, expires_on, boxes_on_hand"
/* Batches with an opened box that still has units, by the partial index of
 * opened boxes (a handful of rows, whatever the size of the trail); the
 * arms that use it say `+drug_code` so that SQLite looks those few batches
 * up by id instead of walking every emptied batch of the drug. */
#define OPENED_BATCHES "(SELECT batch_id FROM trace_code WHERE state = 'opened' AND units_left > 0)"

static gboolean
read_batches (PdStore     *store,
              const char  *sql,
              const char **params,
              guint        n_params,
              GPtrArray   *out,
              GError     **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < n_params; i++)
    sqlite3_bind_text (stmt, (int) i + 1, params[i], -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PdStockBatch *b = g_new0 (PdStockBatch, 1);

      b->id = sqlite3_column_int64 (stmt, 0);
      b->uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      b->drug_code = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      b->lot = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      b->manufactured_on = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      b->expires_on = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      b->boxes = sqlite3_column_int (stmt, 6);
      b->opened = g_ptr_array_new_with_free_func ((GDestroyNotify) opened_box_free);
      g_ptr_array_add (out, b);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pd_store_set_error (pd_store_get_db (store), rc, "stock_batch", error);
  /* Each batch's opened boxes: one indexed look-up per batch, in code order
   * by the index itself, rather than a sorted subquery per row. */
  stmt = pd_store_prepare (store, "SELECT code, units_left FROM trace_code"
                                  " WHERE batch_id = ? AND state = 'opened' AND units_left > 0 ORDER BY code", error);
  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < out->len; i++)
    {
      PdStockBatch *b = out->pdata[i];

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, b->id);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          PdOpenedBox *box = g_new0 (PdOpenedBox, 1);

          box->trace_code = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
          box->units_left = sqlite3_column_int (stmt, 1);
          g_ptr_array_add (b->opened, box);
        }
      if (rc != SQLITE_DONE)
        {
          sqlite3_reset (stmt);
          return pd_store_set_error (pd_store_get_db (store), rc, "trace_code", error);
        }
    }
  sqlite3_reset (stmt);
  return TRUE;
}

GPtrArray *
pd_stock_list (PdStore     *store,
               const char  *drug_code,
               GError     **error)
{
  /* Two arms, each on its index: batches with boxes on hand (stock_batch_fefo,
   * already in the order asked), and the few whose only stock is an opened
   * box. */
  static const char *all =
    "SELECT " BATCH_COLUMNS " FROM stock_batch WHERE boxes_on_hand > 0"
    " UNION ALL"
    " SELECT " BATCH_COLUMNS " FROM stock_batch WHERE boxes_on_hand = 0 AND id IN " OPENED_BATCHES
    " ORDER BY drug_code, expires_on, id";
  static const char *one =
    "SELECT " BATCH_COLUMNS " FROM stock_batch WHERE drug_code = ?1 AND boxes_on_hand > 0"
    " UNION ALL"
    " SELECT " BATCH_COLUMNS " FROM stock_batch WHERE +drug_code = ?1 AND boxes_on_hand = 0 AND id IN " OPENED_BATCHES
    " ORDER BY expires_on, id";
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_stock_batch_free);
  const char *params[] = { drug_code };

  if (!read_batches (store, drug_code != NULL ? one : all, params, drug_code != NULL ? 1 : 0, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

GPtrArray *
pd_stock_suggest (PdStore     *store,
                  const char  *drug_code,
                  const char  *today,
                  const char  *course_end,
                  GError     **error)
{
  static const char *sql =
    "SELECT " BATCH_COLUMNS " FROM stock_batch"
    " WHERE drug_code = ?1 AND boxes_on_hand > 0 AND expires_on > ?2 AND expires_on > ?3"
    " UNION ALL"
    " SELECT " BATCH_COLUMNS " FROM stock_batch"
    " WHERE +drug_code = ?1 AND boxes_on_hand = 0 AND expires_on > ?2 AND expires_on > ?3 AND id IN " OPENED_BATCHES
    " ORDER BY expires_on, id";
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_stock_batch_free);
  g_autofree char *now = NULL;
  const char *params[3];

  g_return_val_if_fail (drug_code != NULL, NULL);
  if (today == NULL)
    {
      int y, m, d;

      pd_china_date (pd_clock_now_us (pd_clock_get_default ()), &y, &m, &d);
      today = now = g_strdup_printf ("%04d-%02d-%02d", y, m, d);
    }
  params[0] = drug_code;
  params[1] = today;
  params[2] = course_end != NULL ? course_end : today;
  if (!read_batches (store, sql, params, 3, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

/* --- moves ------------------------------------------------------------------- */

gboolean
pd_stock_move (PdSession   *session,
               gint64       batch_id,
               int          boxes,
               const char  *reason,
               gint64       dispense_id,
               GError     **error)
{
  static const char *leaving[] = { "dispense", "sale", "destroy", NULL };
  static const char *coming[] = { "return", "conflict", NULL };
  PdStore *store;
  sqlite3_stmt *stmt;
  g_autofree char *uuid = NULL;
  g_autofree char *code = NULL;
  g_autofree char *lot = NULL;
  g_autofree char *head = NULL;
  int on_hand, rc;
  gboolean leaves;

  g_return_val_if_fail (PD_IS_SESSION (session), FALSE);
  g_return_val_if_fail (reason != NULL, FALSE);
  store = pd_session_get_store (session);
  g_return_val_if_fail (!sqlite3_get_autocommit (pd_store_get_db (store)), FALSE);

  leaves = g_strv_contains (leaving, reason);
  if (!leaves && !g_strv_contains (coming, reason))
    {
      g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID,
                   _("“%s” is not a stock move (dispense, sale, destroy, return, conflict)"), reason);
      return FALSE;
    }
  if (boxes == 0)
    return TRUE;
  if (leaves != (boxes < 0))
    {
      g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID,
                   leaves ? _("A %s takes boxes from stock: %d is not a number below 0")
                          : _("A %s brings boxes back to stock: %d is not a number above 0"),
                   reason, boxes);
      return FALSE;
    }

  stmt = pd_store_prepare (store, "SELECT uuid, drug_code, lot, boxes_on_hand FROM stock_batch WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, batch_id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      if (rc == SQLITE_DONE)
        g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID,
                     _("No batch %lld in stock"), (long long) batch_id);
      else
        pd_store_set_error (pd_store_get_db (store), rc, "stock_batch", error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  code = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  lot = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  on_hand = sqlite3_column_int (stmt, 3);
  sqlite3_reset (stmt);
  if (on_hand + boxes < 0)
    {
      g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED,
                   g_dngettext (GETTEXT_PACKAGE, "Lot %s of %s has %d box on hand: %d cannot be taken",
                                "Lot %s of %s has %d boxes on hand: %d cannot be taken", on_hand),
                   lot, code, on_hand, -boxes);
      return FALSE;
    }
  stmt = pd_store_prepare (store, "UPDATE stock_batch SET boxes_on_hand = boxes_on_hand + ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, boxes);
  sqlite3_bind_int64 (stmt, 2, batch_id);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  head = g_strdup_printf ("%s lot %s", code, lot);
  return add_move (session, batch_id, uuid, head, boxes, reason, dispense_id, error);
}
