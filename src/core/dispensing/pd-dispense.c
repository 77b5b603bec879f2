/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-dispense"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-dispense.h"

#include "pd-clock.h"
#include "pd-dispense-private.h"
#include "pd-json.h"
#include "pd-outbox.h"
#include "pd-rx-cache.h"

/* The fill (cli.md "Dispensing"): every check first, on what the pharmacy
 * knows, without writing anything; then the checker signs in; then one
 * transaction records the dispense, an item per line and lot, the codes,
 * the boxes taken, the audit rows and the outbox row that carries the
 * MedicationDispenses (hospital.md "Dispense"). */

#define GROUP_SYSTEM    "urn:pharmdesk:dispense-group"
#define DISPENSE_SYSTEM "urn:pharmdesk:dispense"
#define TRACE_SYSTEM    "urn:pharmdesk:trace-code"
#define PERFORMER_FUNCTION "http://terminology.hl7.org/CodeSystem/medicationdispense-performer-function"

/* A box of an item: its code, what the scan said, what the fill takes. */
typedef struct {
  const char  *code;
  PdScanResult kind;        /* OK (new), RETURNED (back from a return) or OPENED */
  int          capacity;    /* units in the box before this fill */
  int          taken;
} Box;

typedef struct {
  const PdFillEntry *entry;
  const PdFillLine  *line;
  gint64             line_row;     /* prescription_line.id */
  gint64             batch_id;
  char              *expires_on;
  int                units;
  int                from_stock;   /* boxes that leave the shelf */
  GArray            *boxes;        /* Box */
} Item;

static void
item_free (Item *item)
{
  g_free (item->expires_on);
  g_array_unref (item->boxes);
  g_free (item);
}

static gboolean
refuse (GError    **error,
        const char *format,
        ...) G_GNUC_PRINTF (2, 3);

static gboolean
refuse (GError    **error,
        const char *format,
        ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED, message);
  return FALSE;
}

static gboolean
check_state (const PdFillSheet *sheet,
             GError           **error)
{
  if (sheet->dispense_uuid != NULL || g_strcmp0 (sheet->state, "dispensed") == 0)
    return refuse (error, _("Prescription %s is already dispensed: it cannot be filled twice"), sheet->rx_number);
  if (g_strcmp0 (sheet->state, "cancelled") == 0)
    return refuse (error, _("Prescription %s was cancelled by the prescriber: it cannot be filled"), sheet->rx_number);
  if (g_strcmp0 (sheet->state, "approved") != 0)
    return refuse (error, _("Prescription %s is not approved: only an approved prescription is filled"), sheet->rx_number);
  return TRUE;
}

static gint64
line_row (PdStore    *store,
          gint64      rx_id,
          const char *line,
          GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT id FROM prescription_line WHERE prescription_id = ? AND resource_id = ?", error);
  gint64 id = 0;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, rx_id);
  sqlite3_bind_text (stmt, 2, line, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return id;
}

/* The lot of the entry on the shelf, usable on today for the line's course. */
static gboolean
check_lot (PdStore          *store,
           Item             *item,
           const char       *today,
           int              *on_hand,
           GError          **error)
{
  const PdKbDrug *drug = item->line->drug;
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT id, expires_on, boxes_on_hand FROM stock_batch WHERE drug_code = ? AND lot = ?", error);
  gboolean found;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, drug->code, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, item->entry->lot, -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  if (found)
    {
      item->batch_id = sqlite3_column_int64 (stmt, 0);
      item->expires_on = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      *on_hand = sqlite3_column_int (stmt, 2);
    }
  sqlite3_reset (stmt);
  if (!found)
    return refuse (error, _("Lot %s of %s is not in stock"), item->entry->lot, drug->name);
  if (g_strcmp0 (item->expires_on, today) <= 0)
    return refuse (error, _("Lot %s of %s expired on %s"), item->entry->lot, drug->name, item->expires_on);
  if (g_strcmp0 (item->expires_on, item->line->course_end) <= 0)
    return refuse (error, _("Lot %s of %s expires on %s, before the course ends on %s"),
                   item->entry->lot, drug->name, item->expires_on, item->line->course_end);
  return TRUE;
}

/* Each code of the entry, as a scan would be checked, and what each box holds. */
static gboolean
check_codes (PdStore   *store,
             Item      *item,
             GPtrArray *taken_codes,
             GError   **error)
{
  const PdFillEntry *entry = item->entry;
  const PdKbDrug *drug = item->line->drug;
  int capacity = 0, left;

  if ((int) entry->trace_codes->len != entry->boxes)
    return refuse (error, g_dngettext (GETTEXT_PACKAGE, "Line %s, lot %s: %u traceability code for %d boxes; one code per box",
                                       "Line %s, lot %s: %u traceability codes for %d boxes; one code per box", entry->trace_codes->len),
                   entry->line, entry->lot, entry->trace_codes->len, entry->boxes);
  for (guint k = 0; k < entry->trace_codes->len; k++)
    {
      const char *code = entry->trace_codes->pdata[k];
      Box box = { code, PD_SCAN_OK, drug->pack_size, 0 };
      int units_left = 0;
      gint64 batch = 0;
      g_autoptr(GError) local_error = NULL;

      box.kind = pd_trace_code_check (pd_store_get_db (store), drug, code, (const char * const *) taken_codes->pdata, 1,
                                      &units_left, &batch, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (!pd_scan_result_is_ok (box.kind))
        {
          g_autofree char *why = pd_scan_result_describe (box.kind, code, drug);

          return refuse (error, _("Line %s: %s"), entry->line, why);
        }
      if (box.kind != PD_SCAN_OK && batch != item->batch_id)
        return refuse (error, _("Line %s: the box %s belongs to another lot than %s"), entry->line, code, entry->lot);
      if (box.kind == PD_SCAN_OPENED)
        box.capacity = units_left;
      else
        item->from_stock++;
      capacity += box.capacity;
      g_array_append_val (item->boxes, box);
      g_ptr_array_add (taken_codes, (gpointer) code);
    }
  item->units = entry->units > 0 ? entry->units : entry->boxes * drug->pack_size;
  if (capacity < item->units)
    return refuse (error, _("Line %s, lot %s: the boxes scanned hold %d units, not the %d the line is given"),
                   entry->line, entry->lot, capacity, item->units);
  if (capacity - g_array_index (item->boxes, Box, item->boxes->len - 1).capacity >= item->units)
    return refuse (error, _("Line %s, lot %s: %d units fit in fewer boxes than the %d scanned"),
                   entry->line, entry->lot, item->units, entry->boxes);
  /* Whole boxes first; the last is opened when the units do not fill it. */
  left = item->units;
  for (guint k = 0; k < item->boxes->len; k++)
    {
      Box *box = &g_array_index (item->boxes, Box, k);

      box->taken = MIN (left, box->capacity);
      left -= box->taken;
    }
  return TRUE;
}

/* Every check of cli.md, in the order a pharmacist fixes them. */
static GPtrArray *
check_plan (PdStore           *store,
            const PdFillSheet *sheet,
            const PdFillPlan  *plan,
            GError           **error)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  g_autoptr(GPtrArray) taken_codes = g_ptr_array_new_null_terminated (8, NULL, TRUE);
  g_autoptr(GHashTable) on_hand = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autofree char *today = pd_dispense_today ();

  if (!check_state (sheet, error))
    return NULL;
  for (guint i = 0; i < plan->entries->len; i++)
    {
      const PdFillEntry *entry = plan->entries->pdata[i];
      const PdFillLine *line = pd_fill_sheet_find_line ((PdFillSheet *) sheet, entry->line);
      Item *item;
      int hand = 0;
      gpointer stock;

      if (line == NULL)
        {
          refuse (error, _("Line %s is not an active line of prescription %s"), entry->line, sheet->rx_number);
          return NULL;
        }
      if (line->drug == NULL || line->drug->pack_size <= 0)
        {
          refuse (error, _("Line %s (%s): the knowledge base does not say how many units a box holds"), line->line, line->drug_name);
          return NULL;
        }
      item = g_new0 (Item, 1);
      item->entry = entry;
      item->line = line;
      item->boxes = g_array_new (FALSE, TRUE, sizeof (Box));
      g_ptr_array_add (items, item);
      item->line_row = line_row (store, sheet->rx_id, line->line, error);
      if (item->line_row <= 0)
        {
          if (item->line_row == 0)
            refuse (error, _("Line %s is not an active line of prescription %s"), entry->line, sheet->rx_number);
          return NULL;
        }
      if (!check_lot (store, item, today, &hand, error) || !check_codes (store, item, taken_codes, error))
        return NULL;
      if (!g_hash_table_lookup_extended (on_hand, &item->batch_id, NULL, &stock))
        {
          stock = GINT_TO_POINTER (hand);
          g_hash_table_insert (on_hand, g_memdup2 (&item->batch_id, sizeof item->batch_id), stock);
        }
      if (GPOINTER_TO_INT (stock) < item->from_stock)
        {
          refuse (error, _("Too few boxes of lot %s of %s on hand: %d, and the plan takes %d"),
                  entry->lot, line->drug_name, GPOINTER_TO_INT (stock), item->from_stock);
          return NULL;
        }
      g_hash_table_replace (on_hand, g_memdup2 (&item->batch_id, sizeof item->batch_id),
                            GINT_TO_POINTER (GPOINTER_TO_INT (stock) - item->from_stock));
    }
  for (guint i = 0; i < sheet->lines->len; i++)
    {
      const PdFillLine *line = sheet->lines->pdata[i];
      int given = 0;
      gboolean named = FALSE;

      for (guint k = 0; k < items->len; k++)
        {
          Item *item = items->pdata[k];

          if (item->line == line)
            {
              given += item->units;
              named = TRUE;
            }
        }
      if (!named)
        {
          refuse (error, _("Line %s (%s) is missing from the plan: every active line is filled"), line->line, line->drug_name);
          return NULL;
        }
      if (line->units <= 0)
        {
          refuse (error, _("Line %s (%s): the prescribed quantity is not understood, so it cannot be filled"), line->line, line->drug_name);
          return NULL;
        }
      if (given != line->units)
        {
          if (line->split)
            refuse (error, _("Line %s (%s) asks for %d units, a split pack (the last box opened; say “units”): the plan gives %d"),
                    line->line, line->drug_name, line->units, given);
          else
            refuse (error, _("Line %s (%s) asks for %d units: the plan gives %d"), line->line, line->drug_name, line->units, given);
          return NULL;
        }
    }
  return g_steal_pointer (&items);
}

/* --- the record -------------------------------------------------------------------------- */

typedef struct {
  PdSession         *session;
  PdSession         *checker;
  const PdFillSheet *sheet;
  GPtrArray         *items;
  char              *uuid;
  char              *now;
  gint64             dispense_id;
} FillJob;

static JsonObject *
performer (const char *function,
           const PdAccount *account)
{
  JsonObject *p = json_object_new ();
  JsonObject *fn = json_object_new ();
  JsonArray *codings = json_array_new ();
  JsonObject *coding = json_object_new ();
  JsonObject *actor = json_object_new ();

  json_object_set_string_member (coding, "system", PERFORMER_FUNCTION);
  json_object_set_string_member (coding, "code", function);
  json_array_add_object_element (codings, coding);
  json_object_set_array_member (fn, "coding", codings);
  json_object_set_object_member (p, "function", fn);
  if (account->practitioner_ref != NULL)
    json_object_set_string_member (actor, "reference", account->practitioner_ref);
  else
    {
      JsonObject *id = json_object_new ();

      json_object_set_string_member (id, "system", "urn:pharmdesk:account");
      json_object_set_string_member (id, "value", account->uuid);
      json_object_set_object_member (actor, "identifier", id);
    }
  json_object_set_string_member (actor, "display", account->display_name);
  json_object_set_object_member (p, "actor", actor);
  return p;
}

static void
add_identifier (JsonArray  *ids,
                const char *system,
                const char *value)
{
  JsonObject *id = json_object_new ();

  json_object_set_string_member (id, "system", system);
  json_object_set_string_member (id, "value", value);
  json_array_add_object_element (ids, id);
}

static JsonObject *
reference (const char *ref)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "reference", ref);
  return o;
}

/* hospital.md "Dispense": one MedicationDispense per item. */
static JsonObject *
medication_dispense (FillJob *job,
                     Item    *item,
                     guint    n)
{
  const PdKbDrug *drug = item->line->drug;
  JsonObject *md = json_object_new ();
  JsonArray *ids = json_array_new ();
  JsonArray *contained = json_array_new ();
  JsonObject *med = json_object_new ();
  JsonObject *code = json_object_new ();
  JsonArray *codings = json_array_new ();
  JsonObject *coding = json_object_new ();
  JsonObject *batch = json_object_new ();
  JsonArray *auth = json_array_new ();
  JsonObject *quantity = json_object_new ();
  JsonArray *performers = json_array_new ();
  g_autofree char *key = g_strdup_printf ("%s:%u", job->uuid, n);
  g_autofree char *mr = g_strconcat ("MedicationRequest/", item->line->line, NULL);

  json_object_set_string_member (md, "resourceType", "MedicationDispense");
  add_identifier (ids, GROUP_SYSTEM, job->uuid);
  add_identifier (ids, DISPENSE_SYSTEM, key);
  for (guint k = 0; k < item->boxes->len; k++)
    add_identifier (ids, TRACE_SYSTEM, g_array_index (item->boxes, Box, k).code);
  json_object_set_array_member (md, "identifier", ids);
  json_object_set_string_member (md, "status", "in-progress");
  json_object_set_string_member (med, "resourceType", "Medication");
  json_object_set_string_member (med, "id", "med");
  json_object_set_string_member (coding, "system", "urn:pharmdesk:product-code");
  json_object_set_string_member (coding, "code", drug->code);
  json_object_set_string_member (coding, "display", drug->name);
  json_array_add_object_element (codings, coding);
  json_object_set_array_member (code, "coding", codings);
  json_object_set_string_member (code, "text", drug->name);
  json_object_set_object_member (med, "code", code);
  json_object_set_string_member (batch, "lotNumber", item->entry->lot);
  json_object_set_string_member (batch, "expirationDate", item->expires_on);
  json_object_set_object_member (med, "batch", batch);
  json_array_add_object_element (contained, med);
  json_object_set_array_member (md, "contained", contained);
  json_object_set_object_member (md, "medicationReference", reference ("#med"));
  if (job->sheet->patient_ref != NULL)
    json_object_set_object_member (md, "subject", reference (job->sheet->patient_ref));
  json_array_add_object_element (auth, reference (mr));
  json_object_set_array_member (md, "authorizingPrescription", auth);
  json_object_set_int_member (quantity, "value", item->units);
  json_object_set_string_member (quantity, "unit", item->line->unit != NULL ? item->line->unit : "{unit}");
  json_object_set_object_member (md, "quantity", quantity);
  json_object_set_string_member (md, "whenPrepared", job->now);
  json_array_add_object_element (performers, performer ("packager", pd_session_get_account (job->session)));
  json_array_add_object_element (performers, performer ("checker", pd_session_get_account (job->checker)));
  json_object_set_array_member (md, "performer", performers);
  return md;
}

/* The transaction Bundle, each entry a conditional create on its own
 * identifier: sent again after a lost answer, it creates nothing new. */
static JsonNode *
dispense_bundle (FillJob *job)
{
  JsonObject *bundle = json_object_new ();
  JsonArray *entries = json_array_new ();

  json_object_set_string_member (bundle, "resourceType", "Bundle");
  json_object_set_string_member (bundle, "type", "transaction");
  for (guint i = 0; i < job->items->len; i++)
    {
      JsonObject *entry = json_object_new ();
      JsonObject *request = json_object_new ();
      g_autofree char *full = pd_uuid_new ();
      g_autofree char *full_url = g_strconcat ("urn:uuid:", full, NULL);
      g_autofree char *condition = g_strdup_printf ("identifier=" DISPENSE_SYSTEM "|%s:%u", job->uuid, i + 1);

      json_object_set_string_member (entry, "fullUrl", full_url);
      json_object_set_object_member (entry, "resource", medication_dispense (job, job->items->pdata[i], i + 1));
      json_object_set_string_member (request, "method", "POST");
      json_object_set_string_member (request, "url", "MedicationDispense");
      json_object_set_string_member (request, "ifNoneExist", condition);
      json_object_set_object_member (entry, "request", request);
      json_array_add_object_element (entries, entry);
    }
  json_object_set_array_member (bundle, "entry", entries);
  return pd_json_node_take (bundle);
}

static gboolean
insert_item (PdStore *store,
             FillJob *job,
             Item    *item,
             guint    n,
             GError **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "INSERT INTO dispense_item (dispense_id, n, line_id, batch_id, boxes, units, boxes_from_stock) VALUES (?, ?, ?, ?, ?, ?, ?)", error);
  gint64 item_id;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, job->dispense_id);
  sqlite3_bind_int (stmt, 2, (int) n);
  sqlite3_bind_int64 (stmt, 3, item->line_row);
  sqlite3_bind_int64 (stmt, 4, item->batch_id);
  sqlite3_bind_int (stmt, 5, item->entry->boxes);
  sqlite3_bind_int (stmt, 6, item->units);
  sqlite3_bind_int (stmt, 7, item->from_stock);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  item_id = sqlite3_last_insert_rowid (pd_store_get_db (store));
  for (guint k = 0; k < item->boxes->len; k++)
    {
      const Box *box = &g_array_index (item->boxes, Box, k);
      int left = box->capacity - box->taken;
      const char *state = left > 0 ? "opened" : "dispensed";

      if (box->kind == PD_SCAN_OK)
        stmt = pd_store_prepare (store, "INSERT INTO trace_code (code, drug_code, batch_id, state, units_left, updated_at)"
                                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error);
      else
        stmt = pd_store_prepare (store, "UPDATE trace_code SET state = ?4, units_left = ?5, updated_at = ?6"
                                        " WHERE code = ?1 AND drug_code = ?2 AND batch_id = ?3", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, box->code, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, item->line->drug->code, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, item->batch_id);
      sqlite3_bind_text (stmt, 4, state, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 5, left);
      sqlite3_bind_text (stmt, 6, job->now, -1, SQLITE_STATIC);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
      stmt = pd_store_prepare (store, "INSERT INTO dispense_code (item_id, code, units, opened_before) VALUES (?, ?, ?, ?)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, item_id);
      sqlite3_bind_text (stmt, 2, box->code, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 3, box->taken);
      sqlite3_bind_int (stmt, 4, box->kind == PD_SCAN_OPENED);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  return item->from_stock == 0
         || pd_stock_move (job->session, item->batch_id, -item->from_stock, "dispense", job->dispense_id, error);
}

static gint64
approving_decision (PdStore *store,
                    gint64   rx_id)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT max (id) FROM review_decision WHERE prescription_id = ? AND decision = 'approve'", NULL);
  gint64 id = 0;

  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, rx_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return id;
}

static gboolean
write_fill (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  FillJob *job = user_data;
  const PdAccount *me = pd_session_get_account (job->session);
  const PdAccount *checker = pd_session_get_account (job->checker);
  g_autoptr(JsonNode) bundle = NULL;
  g_autofree char *key = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *status = NULL;
  gint64 decision_id = approving_decision (store, job->sheet->rx_id), outbox_id = 0;
  sqlite3_stmt *stmt;
  PdAuditEntry e = { me->id, "dispense.fill", "dispense", NULL, "ok", NULL };

  /* What the checks read may have moved since: read it again here. */
  stmt = pd_store_prepare (store, "SELECT status, EXISTS (SELECT 1 FROM dispense WHERE prescription_id = ?1"
                                  " AND state IN ('dispensed', 'completed')) FROM prescription WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, job->sheet->rx_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    status = sqlite3_column_int (stmt, 1) ? g_strdup ("dispensed") : g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  if (g_strcmp0 (status, "approved") != 0 || decision_id <= 0)
    {
      PdFillSheet now = *job->sheet;

      now.state = status;
      now.dispense_uuid = NULL;
      return check_state (&now, error) && refuse (error, _("Prescription %s is not approved"), job->sheet->rx_number);
    }
  stmt = pd_store_prepare (store, "INSERT INTO dispense (uuid, prescription_id, decision_id, dispenser_id, checker_id, prepared_at)"
                                  " VALUES (?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->uuid, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, job->sheet->rx_id);
  sqlite3_bind_int64 (stmt, 3, decision_id);
  sqlite3_bind_int64 (stmt, 4, me->id);
  sqlite3_bind_int64 (stmt, 5, checker->id);
  sqlite3_bind_text (stmt, 6, job->now, -1, SQLITE_STATIC);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  job->dispense_id = sqlite3_last_insert_rowid (pd_store_get_db (store));
  for (guint i = 0; i < job->items->len; i++)
    if (!insert_item (store, job, job->items->pdata[i], i + 1, error))
      return FALSE;
  bundle = dispense_bundle (job);
  key = g_strconcat ("dispense:", job->uuid, NULL);
  if (!pd_outbox_enqueue (job->session, "hospital", "dispense", key, 0, bundle, "dispense", job->uuid, &outbox_id, error))
    return FALSE;
  stmt = pd_store_prepare (store, "UPDATE dispense SET outbox_id = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, outbox_id);
  sqlite3_bind_int64 (stmt, 2, job->dispense_id);
  if (!pd_store_step_done (store, stmt, error)
      || !pd_rx_cache_set_status (store, job->sheet->rx_uuid, "dispensed", error))
    return FALSE;
  detail = g_strdup_printf ("prescription %s, %u items, checker %s", job->sheet->rx_number, job->items->len, checker->username);
  e.object_uuid = job->uuid;
  e.detail = detail;
  if (!pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error))
    return FALSE;
  e.actor_id = checker->id;
  e.action = "dispense.check";
  e.detail = NULL;
  return pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error);
}

/* The checker: another account, a checker or a pharmacist, who signs in. */
static PdSession *
checker_sign_in (PdSession  *session,
                 const char *username,
                 const char *password,
                 GError    **error)
{
  const PdAccount *me = pd_session_get_account (session);
  g_autoptr(PdSession) checker = NULL;

  if (username == NULL || *username == '\0')
    {
      refuse (error, _("A second person checks the fill: name the checker"));
      return NULL;
    }
  if (g_ascii_strcasecmp (username, me->username) == 0)
    {
      refuse (error, _("The one who fills cannot also check: another checker or pharmacist confirms"));
      return NULL;
    }
  checker = pd_session_sign_in (pd_session_get_store (session), username, password, error);
  if (checker == NULL)
    return NULL;
  if (pd_session_get_account (checker)->id == me->id)
    {
      refuse (error, _("The one who fills cannot also check: another checker or pharmacist confirms"));
      return NULL;
    }
  if (!pd_session_require (checker, PD_ACTION_CHECK_DISPENSE, "prescription", NULL, error))
    return NULL;
  return g_steal_pointer (&checker);
}

char *
pd_dispense_fill (PdSession        *session,
                  PdKb             *kb,
                  const char       *rx,
                  const PdFillPlan *plan,
                  const char       *checker_username,
                  const char       *checker_password,
                  GError          **error)
{
  g_autoptr(PdFillSheet) sheet = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(PdSession) checker = NULL;
  FillJob job = { session };

  if (!pd_session_require (session, PD_ACTION_DISPENSE, "prescription", NULL, error))
    return NULL;
  sheet = pd_fill_sheet_load (session, kb, rx, error);
  if (sheet == NULL)
    return NULL;
  items = check_plan (pd_session_get_store (session), sheet, plan, error);
  if (items == NULL)
    return NULL;
  checker = checker_sign_in (session, checker_username, checker_password, error);
  if (checker == NULL)
    return NULL;
  job.checker = checker;
  job.sheet = sheet;
  job.items = items;
  job.uuid = pd_uuid_new ();
  job.now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  if (!pd_store_write (pd_session_get_store (session), write_fill, &job, error))
    {
      g_free (job.uuid);
      g_free (job.now);
      return NULL;
    }
  g_free (job.now);
  return job.uuid;
}
