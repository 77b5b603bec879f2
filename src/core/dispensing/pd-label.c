/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-label"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-dispense.h"

#include <math.h>

#include "pd-dispense-private.h"
#include "pd-review-engine.h"
#include "pd-vault.h"

/* The drug label's words (a dose in words — 每日3次，每次1粒 — a route, a
 * quantity in boxes and units) and the labels of a fill. */

typedef struct {
  const char *unit;       /* as prescriptions write it */
  const char *one;        /* msgctxt "dose unit" */
  const char *many;       /* msgctxt "dose units" */
} UnitWord;

static const UnitWord unit_words[] = {
  { "{tbl}", NC_("dose unit", "tablet"), NC_("dose units", "tablets") },
  { "tablet", NC_("dose unit", "tablet"), NC_("dose units", "tablets") },
  { "tab", NC_("dose unit", "tablet"), NC_("dose units", "tablets") },
  { "片", NC_("dose unit", "tablet"), NC_("dose units", "tablets") },
  { "{cap}", NC_("dose unit", "capsule"), NC_("dose units", "capsules") },
  { "capsule", NC_("dose unit", "capsule"), NC_("dose units", "capsules") },
  { "cap", NC_("dose unit", "capsule"), NC_("dose units", "capsules") },
  { "粒", NC_("dose unit", "capsule"), NC_("dose units", "capsules") },
  { "pill", NC_("dose unit", "pill"), NC_("dose units", "pills") },
  { "丸", NC_("dose unit", "pill"), NC_("dose units", "pills") },
  { "{amp}", NC_("dose unit", "ampoule"), NC_("dose units", "ampoules") },
  { "ampoule", NC_("dose unit", "ampoule"), NC_("dose units", "ampoules") },
  { "支", NC_("dose unit", "ampoule"), NC_("dose units", "ampoules") },
  { "vial", NC_("dose unit", "vial"), NC_("dose units", "vials") },
  { "瓶", NC_("dose unit", "vial"), NC_("dose units", "vials") },
  { "{puff}", NC_("dose unit", "puff"), NC_("dose units", "puffs") },
  { "puff", NC_("dose unit", "puff"), NC_("dose units", "puffs") },
  { "{actuat}", NC_("dose unit", "puff"), NC_("dose units", "puffs") },
  { "揿", NC_("dose unit", "puff"), NC_("dose units", "puffs") },
  { "sachet", NC_("dose unit", "sachet"), NC_("dose units", "sachets") },
  { "袋", NC_("dose unit", "sachet"), NC_("dose units", "sachets") },
};

static const UnitWord pack_words[] = {
  { "盒", NC_("pack", "box"), NC_("packs", "boxes") },
  { "瓶", NC_("pack", "bottle"), NC_("packs", "bottles") },
  { "支", NC_("pack", "tube"), NC_("packs", "tubes") },
  { "袋", NC_("pack", "bag"), NC_("packs", "bags") },
};

static const char *
word_for (const UnitWord *words,
          guint           n_words,
          const char     *unit,
          gboolean        one,
          const char     *context_one,
          const char     *context_many)
{
  for (guint i = 0; unit != NULL && i < n_words; i++)
    if (g_str_equal (words[i].unit, unit))
      return one ? g_dpgettext2 (GETTEXT_PACKAGE, context_one, words[i].one)
                 : g_dpgettext2 (GETTEXT_PACKAGE, context_many, words[i].many);
  return unit;
}

const char *
pd_dispense_unit_word (const char *unit,
                       gboolean    one)
{
  return word_for (unit_words, G_N_ELEMENTS (unit_words), unit, one, "dose unit", "dose units");
}

static char *
number (double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%g", value));
}

char *
pd_dose_words (int         per_day,
               double      dose_value,
               const char *dose_unit)
{
  g_autofree char *value = NULL;
  const char *word;

  if (per_day <= 0 || isnan (dose_value) || dose_value <= 0 || dose_unit == NULL)
    return NULL;
  value = number (dose_value);
  word = pd_dispense_unit_word (dose_unit, dose_value == 1.0);
  if (per_day == 1)
    /* TRANSLATORS: the dose on a drug label, taken once a day: the amount
     * and its unit each time (每日1次，每次1粒). */
    return g_strdup_printf (_("once a day, %s %s each time"), value, word);
  /* TRANSLATORS: the dose on a drug label: times a day, then the amount and
   * its unit each time (每日3次，每次1粒). */
  return g_strdup_printf (_("%d times a day, %s %s each time"), per_day, value, word);
}

/* A dose in mg becomes product units where the knowledge base says how many
 * mg one holds and the result is a whole or half unit; the unit's word is
 * the quantity's when that names a product unit. */
char *
pd_dispense_dose_words (const PdRxLine *line)
{
  const char *unit = line->dose_unit;
  double value = line->dose_value;

  if (!line->has_dose || !line->has_frequency)
    return NULL;
  if (unit != NULL && g_str_equal (unit, "mg") && line->drug != NULL && !isnan (line->drug->unit_dose_mg)
      && line->drug->unit_dose_mg > 0 && pd_is_product_unit (line->quantity_unit))
    {
      double units = value / line->drug->unit_dose_mg;

      if (fabs (units * 2 - round (units * 2)) < 1e-9)
        {
          value = units;
          unit = line->quantity_unit;
        }
    }
  return pd_dose_words (line->per_day, value, unit);
}

char *
pd_dispense_route_words (const PdRxLine *line)
{
  static const struct { const char *token, *words; } routes[] = {
    { "oral", NC_("route", "oral") }, { "iv", NC_("route", "intravenous") }, { "im", NC_("route", "intramuscular") },
    { "sc", NC_("route", "subcutaneous") }, { "topical", NC_("route", "topical") }, { "inhaled", NC_("route", "inhaled") },
    { "rectal", NC_("route", "rectal") }, { "sublingual", NC_("route", "sublingual") },
    { "ophthalmic", NC_("route", "eye drops") }, { "nasal", NC_("route", "nasal") },
    { "transdermal", NC_("route", "transdermal patch") },
  };

  for (guint i = 0; line->route != NULL && i < G_N_ELEMENTS (routes); i++)
    if (g_str_equal (routes[i].token, line->route))
      return g_strdup (g_dpgettext2 (GETTEXT_PACKAGE, "route", routes[i].words));
  return g_strdup (line->route_text);
}

/* "2 boxes (48 tablets)" / 2盒（48片）. */
char *
pd_dispense_quantity_words (const PdKbDrug *drug,
                            int             boxes,
                            int             units,
                            const char     *unit)
{
  const char *pack = word_for (pack_words, G_N_ELEMENTS (pack_words), drug != NULL ? drug->pack_unit : NULL,
                               boxes == 1, "pack", "packs");

  /* TRANSLATORS: boxes with the pack's word, then the units in them: 2盒（48片） */
  return g_strdup_printf (_("%d %s (%d %s)"), boxes, pack != NULL ? pack : "", units,
                          pd_dispense_unit_word (unit, units == 1) != NULL ? pd_dispense_unit_word (unit, units == 1) : "");
}

/* --- the labels of a fill ------------------------------------------------------------------ */

void
pd_label_free (PdLabel *label)
{
  if (label == NULL)
    return;
  g_free (label->patient);
  g_free (label->drug);
  g_free (label->dose_words);
  g_free (label->route);
  g_free (label->quantity);
  g_free (label->warning);
  g_free (label->pharmacy);
  g_free (label->date);
  g_free (label->rx_number);
  g_free (label->lot);
  g_free (label);
}

static const PdRxLine *
rx_line (const PdFillSheet *sheet,
         const char        *id)
{
  for (guint i = 0; i < sheet->rx->lines->len; i++)
    {
      const PdRxLine *l = sheet->rx->lines->pdata[i];

      if (g_strcmp0 (l->id, id) == 0)
        return l;
    }
  return NULL;
}

GPtrArray *
pd_dispense_labels (PdSession  *session,
                    PdKb       *kb,
                    const char *dispense_uuid,
                    const char *pharmacy_name,
                    GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_label_free);
  g_autoptr(PdFillSheet) sheet = NULL;
  g_autofree char *rx_uuid = NULL;
  g_autofree char *prepared = NULL;
  sqlite3_stmt *stmt;
  int rc;

  stmt = pd_store_prepare (store, "SELECT p.uuid, f.prepared_at FROM dispense f JOIN prescription p ON p.id = f.prescription_id"
                                  " WHERE f.uuid = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, dispense_uuid, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      rx_uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      prepared = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
    }
  sqlite3_reset (stmt);
  if (rx_uuid == NULL)
    {
      g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED, _("No fill “%s” in this pharmacy"), dispense_uuid);
      return NULL;
    }
  sheet = pd_fill_sheet_load (session, kb, rx_uuid, error);
  if (sheet == NULL)
    return NULL;
  stmt = pd_store_prepare (store,
    "SELECT l.resource_id, i.boxes, i.units, b.lot FROM dispense_item i JOIN dispense f ON f.id = i.dispense_id"
    " JOIN prescription_line l ON l.id = i.line_id JOIN stock_batch b ON b.id = i.batch_id"
    " WHERE f.uuid = ? ORDER BY i.n", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, dispense_uuid, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const PdRxLine *l = rx_line (sheet, (const char *) sqlite3_column_text (stmt, 0));
      PdLabel *label = g_new0 (PdLabel, 1);

      label->patient = g_strdup (sheet->patient_name);
      label->drug = g_strdup (l != NULL && l->drug != NULL ? l->drug->name : l != NULL ? l->drug_text : NULL);
      label->dose_words = l != NULL ? pd_dispense_dose_words (l) : NULL;
      label->route = l != NULL ? pd_dispense_route_words (l) : NULL;
      label->quantity = pd_dispense_quantity_words (l != NULL ? l->drug : NULL, sqlite3_column_int (stmt, 1),
                                                    sqlite3_column_int (stmt, 2), l != NULL ? l->quantity_unit : NULL);
      label->warning = g_strdup (l != NULL && l->drug != NULL ? l->drug->label_warning : NULL);
      label->pharmacy = g_strdup (pharmacy_name);
      label->date = g_strndup (prepared, 10);
      label->rx_number = g_strdup (sheet->rx_number);
      label->lot = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      g_ptr_array_add (labels, label);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      pd_store_set_error (pd_store_get_db (store), rc, "dispense_item", error);
      return NULL;
    }
  return g_steal_pointer (&labels);
}

typedef struct {
  PdSession  *session;
  const char *dispense_uuid;
  guint       n;
} PrintedJob;

static gboolean
write_printed (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  PrintedJob *job = user_data;
  g_autofree char *detail = g_strdup_printf ("%u labels", job->n);
  PdAuditEntry e = { pd_session_get_account (job->session)->id, "dispense.labels", "dispense", job->dispense_uuid, "ok", detail };
  sqlite3_stmt *stmt = pd_store_prepare (store, "UPDATE dispense SET labels_printed = labels_printed + 1 WHERE uuid = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->dispense_uuid, -1, SQLITE_STATIC);
  return pd_store_step_done (store, stmt, error)
         && pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error);
}

gboolean
pd_dispense_labels_printed (PdSession  *session,
                            const char *dispense_uuid,
                            guint       n_labels,
                            GError    **error)
{
  PrintedJob job = { session, dispense_uuid, n_labels };

  return pd_session_require (session, PD_ACTION_DISPENSE, "dispense", dispense_uuid, error)
         && pd_store_write (pd_session_get_store (session), write_printed, &job, error);
}
