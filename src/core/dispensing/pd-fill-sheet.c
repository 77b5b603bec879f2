/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-dispense"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "pd-accounts.h"
#include "pd-clock.h"
#include "pd-dispense-private.h"
#include "pd-fhir-reader.h"
#include "pd-review-engine.h"
#include "pd-rx-cache.h"
#include "pd-vault.h"

/* What a prescription asks to be filled, read from the cached Bundle by
 * the same reader and the same quantity rules as the review engine; and
 * the Dispensing area's list. */

static void
fill_line_free (PdFillLine *line)
{
  g_free (line->line);
  g_free (line->drug_name);
  g_free (line->unit);
  g_free (line->unit_word);
  g_free (line->course_end);
  g_free (line->dose_words);
  g_free (line->route_text);
  g_clear_pointer (&line->batches, g_ptr_array_unref);
  g_free (line);
}

void
pd_fill_sheet_free (PdFillSheet *sheet)
{
  if (sheet == NULL)
    return;
  g_free (sheet->rx_uuid);
  g_free (sheet->rx_number);
  g_free (sheet->task_id);
  g_free (sheet->patient_ref);
  g_free (sheet->patient_name);
  g_free (sheet->state);
  g_free (sheet->decided_by);
  g_free (sheet->dispense_uuid);
  g_free (sheet->dispensed_by);
  g_free (sheet->checked_by);
  g_free (sheet->dispensed_at);
  g_clear_pointer (&sheet->lines, g_ptr_array_unref);
  g_clear_pointer (&sheet->rx, pd_rx_free);
  g_clear_pointer (&sheet->doc, pd_json_doc_unref);
  g_free (sheet);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdFillLine, fill_line_free)

const PdFillLine *
pd_fill_sheet_find_line (PdFillSheet *sheet,
                         const char  *line)
{
  for (guint i = 0; i < sheet->lines->len; i++)
    {
      const PdFillLine *l = sheet->lines->pdata[i];

      if (g_strcmp0 (l->line, line) == 0)
        return l;
    }
  return NULL;
}

char *
pd_dispense_today (void)
{
  return pd_time_format_china (pd_clock_now_us (pd_clock_get_default ()), "%Y-%m-%d");
}

/* The last day the drug is taken: a course of N days that starts today
 * ends on day N - 1 after it. Without a supply, today. */
static char *
course_end (const PdRxLine *rx_line)
{
  double days = pd_rx_line_supply_days (rx_line);
  gint64 now = pd_clock_now_us (pd_clock_get_default ());
  int n = isnan (days) || days < 1 ? 1 : (int) ceil (days - 1e-9);

  return pd_time_format_china (now + (gint64) (n - 1) * 24 * 3600 * G_USEC_PER_SEC, "%Y-%m-%d");
}

static PdFillLine *
fill_line_new (PdStore        *store,
               const PdRxLine *rx_line,
               const char     *today,
               GError        **error)
{
  g_autoptr(PdFillLine) line = g_new0 (PdFillLine, 1);
  const PdKbDrug *drug = rx_line->drug;
  double units = pd_rx_line_quantity_units (rx_line);

  line->line = g_strdup (rx_line->id);
  line->position = rx_line->position;
  line->drug = drug;
  line->drug_name = g_strdup (drug != NULL ? drug->name : rx_line->drug_text);
  if (!isnan (units) && units > 0 && fabs (units - round (units)) < 1e-6)
    line->units = (int) round (units);
  if (drug != NULL && drug->pack_size > 0 && line->units > 0)
    {
      line->boxes = (line->units + drug->pack_size - 1) / drug->pack_size;
      line->split = line->units % drug->pack_size != 0;
    }
  line->unit = g_strdup (pd_is_product_unit (rx_line->quantity_unit) ? rx_line->quantity_unit
                         : pd_is_product_unit (rx_line->dose_unit) ? rx_line->dose_unit : NULL);
  line->unit_word = g_strdup (pd_dispense_unit_word (line->unit, FALSE));
  line->course_end = course_end (rx_line);
  line->dose_words = pd_dispense_dose_words (rx_line);
  line->route_text = pd_dispense_route_words (rx_line);
  if (drug != NULL)
    {
      line->batches = pd_stock_suggest (store, drug->code, today, line->course_end, error);
      if (line->batches == NULL)
        return NULL;
    }
  else
    line->batches = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_stock_batch_free);
  return g_steal_pointer (&line);
}

static char *
open_name (PdSession    *session,
           const char   *rx_uuid,
           sqlite3_stmt *stmt,
           int           column)
{
  const void *sealed = sqlite3_column_blob (stmt, column);

  if (sealed == NULL)
    return NULL;
  return pd_vault_open (session, "prescription", "patient_name", rx_uuid, sealed,
                        (gsize) sqlite3_column_bytes (stmt, column), NULL);
}

PdFillSheet *
pd_fill_sheet_load (PdSession  *session,
                    PdKb       *kb,
                    const char *rx,
                    GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autoptr(PdFillSheet) sheet = g_new0 (PdFillSheet, 1);
  g_autoptr(GPtrArray) rxs = NULL;
  g_autofree char *today = pd_dispense_today ();
  sqlite3_stmt *stmt;

  if (!pd_session_require (session, PD_ACTION_DISPENSE, "prescription", NULL, error))
    return NULL;
  stmt = pd_store_prepare (store,
    "SELECT p.id, p.uuid, p.rx_number, p.task_id, p.status, p.delivery, p.patient_name_sealed, p.patient_ref,"
    " (SELECT a.display_name FROM review_decision d JOIN account a ON a.id = d.pharmacist_id"
    "   WHERE d.prescription_id = p.id AND d.decision = 'approve' ORDER BY d.id DESC LIMIT 1),"
    " f.uuid, (SELECT display_name FROM account WHERE id = f.dispenser_id),"
    " (SELECT display_name FROM account WHERE id = f.checker_id), f.prepared_at"
    " FROM prescription p LEFT JOIN dispense f ON f.prescription_id = p.id AND f.state IN ('dispensed', 'completed')"
    " WHERE p.uuid = ?1 OR p.rx_number = ?1 ORDER BY p.uuid = ?1 DESC LIMIT 1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, rx, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED, _("No prescription “%s” in this pharmacy’s cache"), rx);
      return NULL;
    }
  sheet->rx_id = sqlite3_column_int64 (stmt, 0);
  sheet->rx_uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  sheet->rx_number = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  sheet->task_id = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  sheet->state = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
  sheet->delivery = sqlite3_column_int (stmt, 5) != 0;
  sheet->patient_name = open_name (session, sheet->rx_uuid, stmt, 6);
  sheet->patient_ref = g_strdup ((const char *) sqlite3_column_text (stmt, 7));
  sheet->decided_by = g_strdup ((const char *) sqlite3_column_text (stmt, 8));
  sheet->dispense_uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 9));
  sheet->dispensed_by = g_strdup ((const char *) sqlite3_column_text (stmt, 10));
  sheet->checked_by = g_strdup ((const char *) sqlite3_column_text (stmt, 11));
  sheet->dispensed_at = g_strdup ((const char *) sqlite3_column_text (stmt, 12));
  sqlite3_reset (stmt);

  sheet->doc = pd_rx_cache_load_doc (session, PD_RX_BUNDLE, sheet->task_id, error);
  if (sheet->doc == NULL)
    return NULL;
  rxs = pd_fhir_read_bundle (pd_json_doc_root (sheet->doc), kb, error);
  if (rxs == NULL)
    return NULL;
  if (rxs->len == 0)
    {
      g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED, _("The cached prescription “%s” has no lines"), rx);
      return NULL;
    }
  sheet->rx = g_ptr_array_steal_index (rxs, 0);
  g_ptr_array_set_free_func (rxs, (GDestroyNotify) pd_rx_free);
  sheet->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) fill_line_free);
  for (guint i = 0; i < sheet->rx->lines->len; i++)
    {
      const PdRxLine *rx_line = sheet->rx->lines->pdata[i];
      PdFillLine *line;

      if (g_strcmp0 (rx_line->status, "active") != 0)
        continue;
      line = fill_line_new (store, rx_line, today, error);
      if (line == NULL)
        return NULL;
      g_ptr_array_add (sheet->lines, line);
    }
  return g_steal_pointer (&sheet);
}

/* --- the Dispensing area's list ------------------------------------------------------------ */

void
pd_dispensing_item_free (PdDispensingItem *item)
{
  if (item == NULL)
    return;
  g_free (item->rx_uuid);
  g_free (item->rx_number);
  g_free (item->patient_name);
  g_free (item->state);
  g_free (item->decided_at);
  g_free (item->dispense_uuid);
  g_free (item);
}

GPtrArray *
pd_dispensing_list (PdSession  *session,
                    GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_dispensing_item_free);
  sqlite3_stmt *stmt;
  int rc;

  if (!pd_session_require (session, PD_ACTION_DISPENSE, NULL, NULL, error))
    return NULL;
  /* Approved (to fill), then filled and not handed over, then fills in
   * conflict; the oldest decision first. */
  stmt = pd_store_prepare (store,
    "SELECT p.uuid, p.rx_number, p.patient_name_sealed, p.status, d.decided_at,"
    "  (SELECT count(*) FROM prescription_line l WHERE l.prescription_id = p.id AND l.status = 'active'),"
    "  p.delivery, f.uuid,"
    "  CASE WHEN f.state = 'conflict' THEN 2 WHEN f.uuid IS NOT NULL THEN 1 ELSE 0 END AS stage"
    " FROM prescription p"
    " JOIN review_decision d ON d.id = (SELECT max (id) FROM review_decision WHERE prescription_id = p.id AND decision = 'approve')"
    " LEFT JOIN dispense f ON f.id = (SELECT max (id) FROM dispense WHERE prescription_id = p.id)"
    " WHERE p.status = 'approved'"
    "    OR (p.status = 'dispensed' AND f.state = 'dispensed')"
    "    OR (f.state = 'conflict' AND p.status <> 'dispensed')"
    " ORDER BY stage, d.decided_at, p.id", error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PdDispensingItem *item = g_new0 (PdDispensingItem, 1);
      int stage = sqlite3_column_int (stmt, 8);

      item->rx_uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      item->rx_number = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      item->patient_name = open_name (session, item->rx_uuid, stmt, 2);
      item->state = g_strdup (stage == 2 ? "conflict" : stage == 1 ? "dispensed" : "approved");
      item->decided_at = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      item->n_lines = (guint) sqlite3_column_int (stmt, 5);
      item->delivery = sqlite3_column_int (stmt, 6) != 0;
      item->dispense_uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 7));
      g_ptr_array_add (items, item);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      pd_store_set_error (pd_store_get_db (store), rc, "dispense", error);
      return NULL;
    }
  return g_steal_pointer (&items);
}
