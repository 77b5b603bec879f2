/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sale"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-clock.h"
#include "pd-json.h"
#include "pd-money.h"
#include "pd-settle-private.h"

/* A sale's lines: a dispensed prescription's, taken from its fill (its
 * lots and codes; nothing leaves the shelf a second time), priced from the
 * basket or the knowledge base. */

static void
line_free (PdSaleLine *l)
{
  g_free (l->feedetl_sn);
  g_free (l->drug_code);
  g_free (l->nhsa_code);
  g_free (l->expected_class);
  g_ptr_array_unref (l->trace_codes);
  g_free (l);
}

void
pd_sale_free (PdSale *sale)
{
  if (sale == NULL)
    return;
  g_free (sale->uuid);
  g_free (sale->rxno);
  g_free (sale->state);
  g_free (sale->med_type);
  g_free (sale->psn_no);
  g_ptr_array_unref (sale->lines);
  g_free (sale);
}

static PdSale *
sale_new (void)
{
  PdSale *sale = g_new0 (PdSale, 1);

  sale->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);
  return sale;
}

static char *
col (sqlite3_stmt *stmt,
     int           i)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, i));
}

static gboolean
load_lines (PdStore *store,
            PdSale  *sale,
            GError **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT feedetl_sn, drug_code, nhsa_code, batch_id, units, unit_price_e4, amount_fen, expected_class, split_pack, trace_codes"
    " FROM sale_line WHERE sale_id = ? ORDER BY id", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, sale->id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PdSaleLine *l = g_new0 (PdSaleLine, 1);
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonNode *root;

      l->feedetl_sn = col (stmt, 0);
      l->drug_code = col (stmt, 1);
      l->nhsa_code = col (stmt, 2);
      l->batch_id = sqlite3_column_int64 (stmt, 3);
      l->units = sqlite3_column_int (stmt, 4);
      l->unit_price_e4 = sqlite3_column_int64 (stmt, 5);
      l->amount_fen = sqlite3_column_int64 (stmt, 6);
      l->expected_class = col (stmt, 7);
      l->split_pack = sqlite3_column_int (stmt, 8) != 0;
      l->trace_codes = g_ptr_array_new_with_free_func (g_free);
      if (json_parser_load_from_data (parser, (const char *) sqlite3_column_text (stmt, 9), -1, NULL)
          && (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_ARRAY (root))
        for (guint k = 0; k < json_array_get_length (json_node_get_array (root)); k++)
          g_ptr_array_add (l->trace_codes, g_strdup (json_array_get_string_element (json_node_get_array (root), k)));
      g_ptr_array_add (sale->lines, l);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pd_store_set_error (pd_store_get_db (store), rc, "sale_line", error);
  return TRUE;
}

static PdSale *
load_live (PdStore    *store,
           const char *rxno,
           GError    **error)
{
  g_autoptr(PdSale) sale = NULL;
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT id, uuid, rxno, coalesce (dispense_id, 0), state, med_type, medfee_sumamt_fen, psn_no FROM sale"
    " WHERE rxno = ? AND state IN ('open', 'settled', 'self-paid')", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, rxno, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      sale = sale_new ();
      sale->id = sqlite3_column_int64 (stmt, 0);
      sale->uuid = col (stmt, 1);
      sale->rxno = col (stmt, 2);
      sale->dispense_id = sqlite3_column_int64 (stmt, 3);
      sale->state = col (stmt, 4);
      sale->med_type = col (stmt, 5);
      sale->medfee_sumamt_fen = sqlite3_column_int64 (stmt, 6);
      sale->psn_no = col (stmt, 7);
    }
  sqlite3_reset (stmt);
  if (sale != NULL && !load_lines (store, sale, error))
    return NULL;
  return g_steal_pointer (&sale);
}

static const PdBasketItem *
basket_item (const PdBasket *basket,
             const char     *code)
{
  for (guint i = 0; i < basket->items->len; i++)
    {
      const PdBasketItem *item = basket->items->pdata[i];

      if (g_strcmp0 (item->code, code) == 0)
        return item;
    }
  return NULL;
}

/* The fill's items, one sale line each. */
static gboolean
lines_from_fill (PdStore        *store,
                 PdKb           *kb,
                 const PdBasket *basket,
                 PdSale         *sale,
                 GError        **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT i.id, i.n, l.drug_code, i.batch_id, i.units FROM dispense_item i"
    " JOIN prescription_line l ON l.id = i.line_id WHERE i.dispense_id = ? ORDER BY i.n", error);
  g_autoptr(GArray) item_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, sale->dispense_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PdSaleLine *l = g_new0 (PdSaleLine, 1);
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (item_ids, id);
      l->feedetl_sn = g_strdup_printf ("%s-%d", sale->rxno, sqlite3_column_int (stmt, 1));
      l->drug_code = col (stmt, 2);
      l->batch_id = sqlite3_column_int64 (stmt, 3);
      l->units = sqlite3_column_int (stmt, 4);
      l->trace_codes = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (sale->lines, l);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pd_store_set_error (pd_store_get_db (store), rc, "dispense_item", error);
  for (guint i = 0; i < sale->lines->len; i++)
    {
      PdSaleLine *l = sale->lines->pdata[i];
      const PdKbDrug *drug = pd_kb_find_drug (kb, l->drug_code);
      const PdBasketItem *item = basket_item (basket, l->drug_code);

      stmt = pd_store_prepare (store, "SELECT code FROM dispense_code WHERE item_id = ? ORDER BY code", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, g_array_index (item_ids, gint64, i));
      while (sqlite3_step (stmt) == SQLITE_ROW)
        g_ptr_array_add (l->trace_codes, col (stmt, 0));
      sqlite3_reset (stmt);
      if (drug == NULL)
        return pd_settle_refuse (error, _("Drug %s of the fill is not in the knowledge base in force: it cannot be priced"), l->drug_code);
      l->unit_price_e4 = item != NULL && item->price_e4 >= 0 ? item->price_e4 : drug->price_e4;
      if (l->unit_price_e4 < 0)
        return pd_settle_refuse (error, _("%s has no price in the knowledge base or the basket"), drug->name);
      l->nhsa_code = g_strdup (drug->nhsa_code);
      l->expected_class = g_strdup (drug->insurance_class);
      l->split_pack = drug->pack_size > 0 && l->units % drug->pack_size != 0;
      if (!pd_money_line_amount_fen (l->unit_price_e4, l->units, &l->amount_fen))
        return pd_settle_refuse (error, "%s", _("A line’s amount is too large"));
      sale->medfee_sumamt_fen += l->amount_fen;
    }
  for (guint i = 0; i < basket->items->len; i++)
    {
      const PdBasketItem *item = basket->items->pdata[i];
      gboolean found = FALSE;

      for (guint k = 0; k < sale->lines->len && !found; k++)
        found = g_str_equal (((PdSaleLine *) sale->lines->pdata[k])->drug_code, item->code);
      if (!found)
        return pd_settle_refuse (error, _("The basket names %s, which the fill of %s did not give"), item->code, basket->rxno);
    }
  return TRUE;
}

PdSale *
pd_sale_load_or_build (PdSession      *session,
                       PdKb           *kb,
                       const PdBasket *basket,
                       GError        **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autoptr(PdSale) sale = load_live (store, basket->rxno, error);
  sqlite3_stmt *stmt;
  gboolean known = FALSE;

  if (sale != NULL)
    return g_steal_pointer (&sale);
  if (error != NULL && *error != NULL)
    return NULL;
  sale = sale_new ();
  sale->rxno = g_strdup (basket->rxno);
  sale->med_type = g_strdup (basket->med_type);
  stmt = pd_store_prepare (store, "SELECT p.id, (SELECT f.id FROM dispense f WHERE f.prescription_id = p.id"
                                  " AND f.state IN ('dispensed', 'completed')) FROM prescription p WHERE p.rx_number = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, basket->rxno, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      known = TRUE;
      sale->dispense_id = sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (known && sale->dispense_id == 0)
    {
      pd_settle_refuse (error, _("Prescription %s is not dispensed here: it is settled once it is filled"), basket->rxno);
      return NULL;
    }
  if (!known)
    {
      pd_settle_refuse (error, "%s", _("A counter sale (a basket whose rxno names no prescription dispensed here) is not in this version yet"));
      return NULL;
    }
  if (!lines_from_fill (store, kb, basket, sale, error))
    return NULL;
  return g_steal_pointer (&sale);
}

gboolean
pd_sale_insert (PdSession *session,
                PdSale    *sale,
                GError   **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  sqlite3_stmt *stmt;

  sale->uuid = pd_uuid_new ();
  stmt = pd_store_prepare (store, "INSERT INTO sale (uuid, rxno, dispense_id, kind, state, med_type, medfee_sumamt_fen, psn_no,"
                                  " operator_id, created_at, updated_at) VALUES (?, ?, nullif (?, 0), 'insurance', 'open', ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, sale->uuid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, sale->rxno, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, sale->dispense_id);
  sqlite3_bind_text (stmt, 4, sale->med_type, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, sale->medfee_sumamt_fen);
  sqlite3_bind_text (stmt, 6, sale->psn_no, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, pd_session_get_account (session)->id);
  sqlite3_bind_text (stmt, 8, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, now, -1, SQLITE_STATIC);
  if (!pd_store_step_done (store, stmt, error))
    {
      if (g_error_matches (*error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT))
        {
          g_clear_error (error);
          return pd_settle_refuse (error, _("Prescription %s has a sale already"), sale->rxno);
        }
      return FALSE;
    }
  sale->id = sqlite3_last_insert_rowid (pd_store_get_db (store));
  g_free (sale->state);
  sale->state = g_strdup ("open");
  for (guint i = 0; i < sale->lines->len; i++)
    {
      PdSaleLine *l = sale->lines->pdata[i];
      g_autoptr(JsonNode) codes = json_node_new (JSON_NODE_ARRAY);
      g_autofree char *codes_text = NULL;
      JsonArray *a = json_array_new ();

      for (guint k = 0; k < l->trace_codes->len; k++)
        json_array_add_string_element (a, l->trace_codes->pdata[k]);
      json_node_take_array (codes, a);
      codes_text = json_to_string (codes, FALSE);
      stmt = pd_store_prepare (store, "INSERT INTO sale_line (sale_id, feedetl_sn, drug_code, nhsa_code, batch_id, units, unit_price_e4,"
                                      " amount_fen, expected_class, split_pack, trace_codes) VALUES (?, ?, ?, ?, nullif (?, 0), ?, ?, ?, ?, ?, ?)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, sale->id);
      sqlite3_bind_text (stmt, 2, l->feedetl_sn, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, l->drug_code, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, l->nhsa_code, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 5, l->batch_id);
      sqlite3_bind_int (stmt, 6, l->units);
      sqlite3_bind_int64 (stmt, 7, l->unit_price_e4);
      sqlite3_bind_int64 (stmt, 8, l->amount_fen);
      sqlite3_bind_text (stmt, 9, l->expected_class, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 10, l->split_pack);
      sqlite3_bind_text (stmt, 11, codes_text, -1, SQLITE_STATIC);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
pd_sale_set_state (PdStore    *store,
                   const char *settlement_uuid,
                   const char *state,
                   GError    **error)
{
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  sqlite3_stmt *stmt = pd_store_prepare (store, "UPDATE sale SET state = ?, updated_at = ?"
                                                " WHERE id = (SELECT sale_id FROM settlement WHERE uuid = ?)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, state, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, settlement_uuid, -1, SQLITE_STATIC);
  return pd_store_step_done (store, stmt, error);
}
