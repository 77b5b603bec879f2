/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-rx-cache"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-json.h"
#include "pd-json-doc.h"
#include "pd-fhir-reader.h"
#include "pd-review-engine.h"
#include "pd-rx-cache.h"
#include "pd-vault.h"

#define RESIDENT_ID "urn:pharmdesk:identifier:resident-id"

/* The pull's Tasks and Bundles are read as PdJsonDoc values. */
#define str(o, m) pd_jv_str (o, m)
#define obj(o, m) pd_jv_obj (o, m)
#define arr(o, m) pd_jv_arr (o, m)
#define arr_obj(a, i) pd_jv_at_obj (a, i)

/* "Patient/p1", ".../Patient/p1/_history/2" → "p1" when of that type. */
char *
pd_fhir_ref_id (const char *reference,
                const char *type)
{
  g_auto(GStrv) parts = NULL;
  guint n;

  if (reference == NULL)
    return NULL;
  parts = g_strsplit (reference, "/", -1);
  n = g_strv_length (parts);
  if (n >= 4 && g_str_equal (parts[n - 2], "_history"))
    n -= 2;
  if (n >= 2 && (type == NULL || g_str_equal (parts[n - 2], type)) && *parts[n - 1] != '\0')
    return g_strdup (parts[n - 1]);
  return NULL;
}

static const char *
resident_id (const PdJv *patient)
{
  const PdJv *ids = arr (patient, "identifier");

  for (guint i = 0; ids != NULL && i < pd_jv_len (ids); i++)
    if (g_strcmp0 (str (arr_obj (ids, i), "system"), RESIDENT_ID) == 0)
      return str (arr_obj (ids, i), "value");
  return NULL;
}

/* A server object's body, sealed under a fresh uuid: each version of an
 * object is sealed anew, so this can run outside the transaction. */
typedef struct {
  char   *uuid;
  GBytes *sealed;
} Sealed;

static gboolean
seal_object (PdSession  *session,
             const char *text,
             Sealed     *out,
             GError    **error)
{
  out->uuid = pd_uuid_new ();
  out->sealed = pd_vault_seal (session, "cached_object", "body_sealed", out->uuid, text, error);
  return out->sealed != NULL;
}

static void
sealed_clear (Sealed *s)
{
  g_clear_pointer (&s->uuid, g_free);
  g_clear_pointer (&s->sealed, g_bytes_unref);
}

static gboolean
put_object (PdStore    *store,
            const char *type,
            const char *id,
            const char *version,
            const char *last_updated,
            Sealed     *sealed,
            GError    **error)
{
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "INSERT INTO cached_object (uuid, link, resource_type, resource_id, version_id, last_updated, offline_state,"
    " body_sealed, fetched_at) VALUES (?1, 'hospital', ?2, ?3, ?4, ?5, 0, ?6, ?7)"
    " ON CONFLICT (link, resource_type, resource_id) DO UPDATE SET uuid = ?1, version_id = ?4, last_updated = ?5,"
    " offline_state = 0, body_sealed = ?6, fetched_at = ?7", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, sealed->uuid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, type, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, version, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, last_updated, -1, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 6, g_bytes_get_data (sealed->sealed, NULL), (int) g_bytes_get_size (sealed->sealed), SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, now, -1, SQLITE_STATIC);
  return pd_store_step_done (store, stmt, error);
}

static gboolean
store_object (PdSession  *session,
              const char *type,
              const char *id,
              const char *version,
              const char *last_updated,
              JsonNode   *body,
              GError    **error)
{
  g_autofree char *text = json_to_string (body, FALSE);
  Sealed sealed = { 0 };
  gboolean ok = seal_object (session, text, &sealed, error)
                && put_object (pd_session_get_store (session), type, id, version, last_updated, &sealed, error);

  sealed_clear (&sealed);
  return ok;
}

static char *
load_text (PdSession  *session,
           const char *resource_type,
           const char *resource_id,
           char      **version,
           GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT uuid, version_id, body_sealed FROM cached_object"
                                                " WHERE link = 'hospital' AND resource_type = ? AND resource_id = ?", error);
  char *text;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, resource_type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, resource_id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_FOUND, _("%s/%s is not in the cache"), resource_type, resource_id);
      return NULL;
    }
  text = pd_vault_open (session, "cached_object", "body_sealed", (const char *) sqlite3_column_text (stmt, 0),
                        sqlite3_column_blob (stmt, 2), (gsize) sqlite3_column_bytes (stmt, 2), error);
  if (version != NULL && text != NULL)
    *version = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  sqlite3_reset (stmt);
  return text;
}

JsonNode *
pd_rx_cache_load (PdSession  *session,
                  const char *resource_type,
                  const char *resource_id,
                  char      **version,
                  GError    **error)
{
  g_autofree char *text = load_text (session, resource_type, resource_id, version, error);
  g_autoptr(JsonParser) parser = NULL;

  if (text == NULL)
    return NULL;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, -1, error))
    return NULL;
  return json_node_ref (json_parser_get_root (parser));
}

PdJsonDoc *
pd_rx_cache_load_doc (PdSession  *session,
                      const char *resource_type,
                      const char *resource_id,
                      GError    **error)
{
  g_autofree char *text = load_text (session, resource_type, resource_id, NULL, error);

  return text != NULL ? pd_json_doc_parse (text, strlen (text), error) : NULL;
}

char *
pd_rx_cache_task_version (PdStore    *store,
                          const char *task_id)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, PD_RX_CACHE_TASK_VERSION_SQL, NULL);
  char *version = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, task_id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return version;
}

/* The Task's status as the queue names it. */
static const char *
queue_status (const char *task_status)
{
  static const char *map[][2] = {
    { "requested", "requested" }, { "received", "claimed" }, { "accepted", "claimed" }, { "in-progress", "claimed" },
    { "completed", "approved" }, { "rejected", "rejected" }, { "cancelled", "cancelled" }, { "failed", "rejected" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_strcmp0 (task_status, map[i][0]) == 0)
      return map[i][1];
  return "requested";
}

static gboolean
has_open_outbox (PdStore    *store,
                 const char *rx_uuid)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT EXISTS (SELECT 1 FROM outbox WHERE subject_type = 'prescription'"
                                                " AND subject_uuid = ? AND state IN ('queued', 'sending', 'unknown'))", NULL);
  gboolean open = FALSE;

  if (stmt == NULL || rx_uuid == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, rx_uuid, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    open = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt);
  return open;
}

static gboolean
has_live_fill (PdStore    *store,
               const char *rx_uuid)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT EXISTS (SELECT 1 FROM dispense f JOIN prescription p ON p.id = f.prescription_id"
                                                " WHERE p.uuid = ? AND f.state IN ('dispensed', 'completed', 'conflict'))", NULL);
  gboolean live = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, rx_uuid, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    live = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt);
  return live;
}

static char *
existing_uuid (PdStore    *store,
               const char *system,
               const char *number)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT uuid FROM prescription WHERE rx_system = ? AND rx_number = ?", NULL);
  char *uuid = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, system, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, number, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return uuid;
}

static char *
normal_time (const char *fhir_time)
{
  gint64 us;

  return fhir_time != NULL && pd_time_parse_fhir (fhir_time, FALSE, &us) ? pd_time_format_iso (us) : NULL;
}

static void
bind_blob_or_null (sqlite3_stmt *stmt,
                   int           col,
                   GBytes       *bytes)
{
  if (bytes == NULL)
    sqlite3_bind_null (stmt, col);
  else
    sqlite3_bind_blob (stmt, col, g_bytes_get_data (bytes, NULL), (int) g_bytes_get_size (bytes), SQLITE_TRANSIENT);
}

static GBytes *
index_of (void (*fn) (const guint8 *, const char *, guint8 *),
          PdSession  *session,
          const char *text)
{
  guint8 out[PD_INDEX_SIZE];

  if (text == NULL)
    return NULL;
  fn (pd_session_get_data_key (session), text, out);
  return g_bytes_new (out, sizeof out);
}

static GBytes *
id_tail_index (PdSession  *session,
               const char *id_number)
{
  guint8 out[PD_INDEX_SIZE];

  if (id_number == NULL || !pd_vault_index_id_tail (pd_session_get_data_key (session), id_number, out))
    return NULL;
  return g_bytes_new (out, sizeof out);
}

static gboolean
store_lines (PdStore    *store,
             PdKb       *kb,
             gint64      rx_id,
             const PdJv *bundle,
             const PdJv *task,
             GError    **error)
{
  const PdJv *inputs = arr (task, "input");
  guint n = 0;
  sqlite3_stmt *stmt;

  for (guint i = 0; inputs != NULL && i < pd_jv_len (inputs); i++)
    {
      const PdJv *input = arr_obj (inputs, i);
      g_autofree char *line_id = pd_fhir_ref_id (str (obj (input, "valueReference"), "reference"), "MedicationRequest");
      const PdJv *mr = line_id != NULL ? pd_fhir_bundle_resource (bundle, "MedicationRequest", line_id) : NULL;
      const PdJv *med = obj (mr, "medicationCodeableConcept");
      const PdJv *codings = arr (med, "coding");
      const char *code = codings != NULL && pd_jv_len (codings) > 0 ? str (arr_obj (codings, 0), "code") : NULL;
      const PdKbDrug *drug = kb != NULL && code != NULL ? pd_kb_find_drug (kb, code) : NULL;
      const char *name = drug != NULL ? drug->name : str (med, "text");

      if (line_id == NULL)
        continue;
      if (name == NULL && codings != NULL && pd_jv_len (codings) > 0)
        name = str (arr_obj (codings, 0), "display");
      stmt = pd_store_prepare (store,
        "INSERT INTO prescription_line (prescription_id, position, resource_id, version_id, status, drug_code, drug_name,"
        " drug_pinyin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (prescription_id, position) DO UPDATE SET"
        " resource_id = ?3, version_id = ?4, status = ?5, drug_code = ?6, drug_name = ?7, drug_pinyin = ?8", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, rx_id);
      sqlite3_bind_int (stmt, 2, (int) n++);
      sqlite3_bind_text (stmt, 3, line_id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, str (obj (mr, "meta"), "versionId"), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 5, str (mr, "status") != NULL ? str (mr, "status") : "unknown", -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 6, code, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 7, name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 8, drug != NULL ? drug->pinyin : NULL, -1, SQLITE_TRANSIENT);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  stmt = pd_store_prepare (store, "DELETE FROM prescription_line WHERE prescription_id = ? AND position >= ?"
                                  " AND id NOT IN (SELECT line_id FROM dispense_item)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, rx_id);
  sqlite3_bind_int (stmt, 2, (int) n);
  return pd_store_step_done (store, stmt, error);
}

static void
engine_verdict (PdKb        *kb,
                const PdJv  *bundle,
                const char **verdict,
                gboolean    *has_block,
                gboolean    *online)
{
  g_autoptr(GPtrArray) rxs = NULL;
  PdReview *review;

  *verdict = NULL;
  *has_block = FALSE;
  if (kb == NULL || (rxs = pd_fhir_read_bundle (bundle, kb, NULL)) == NULL || rxs->len == 0)
    return;
  /* Reuse is checked against the store when writing. */
  review = pd_review_run (kb, rxs->pdata[0], pd_clock_now_us (pd_clock_get_default ()), NULL, NULL);
  *verdict = review->verdict;
  for (guint i = 0; i < review->findings->len; i++)
    *has_block |= ((PdFinding *) review->findings->pdata[i])->severity == PD_SEVERITY_BLOCK;
  *online = ((PdRx *) rxs->pdata[0])->has_encounter ? ((PdRx *) rxs->pdata[0])->online : TRUE;
  pd_review_free (review);
}

struct _PdRxPrepared
{
  const PdJv *task;         /* in task_doc */
  PdJsonDoc  *task_doc;
  PdJsonDoc  *bundle_doc;
  PdKb       *kb;
  Sealed      task_sealed;
  Sealed      bundle_sealed;
  char       *rx_uuid;          /* the candidate, for a new prescription */
  char       *name;
  GBytes     *name_sealed;      /* under rx_uuid */
  char       *receiver;         /* the Task's delivery input as JSON, or NULL: collection */
  GBytes     *receiver_sealed;  /* under rx_uuid */
  GBytes     *name_index;
  GBytes     *surname_index;
  GBytes     *tail_index;
  char       *authored;
  char       *claim_until;
  const char *verdict;
  gboolean    has_block;
  gboolean    online;
};

void
pd_rx_prepared_free (PdRxPrepared *p)
{
  if (p == NULL)
    return;
  g_clear_pointer (&p->task_doc, pd_json_doc_unref);
  g_clear_pointer (&p->bundle_doc, pd_json_doc_unref);
  sealed_clear (&p->task_sealed);
  sealed_clear (&p->bundle_sealed);
  g_free (p->rx_uuid);
  g_free (p->name);
  g_clear_pointer (&p->name_sealed, g_bytes_unref);
  g_free (p->receiver);
  g_clear_pointer (&p->receiver_sealed, g_bytes_unref);
  g_clear_pointer (&p->name_index, g_bytes_unref);
  g_clear_pointer (&p->surname_index, g_bytes_unref);
  g_clear_pointer (&p->tail_index, g_bytes_unref);
  g_free (p->authored);
  g_free (p->claim_until);
  g_free (p);
}

/* How the patient receives the drugs (hospital.md, the Task's `delivery`
 * input): {"name", "phone", "address": the valueAddress as sent}; NULL for
 * collection at the pharmacy. The receiver is the patient, and the phone
 * the patient's, unless the Address's extensions say otherwise. */
static char *
receiver_of (const PdJv *task,
             const PdJv *patient,
             const char *patient_name)
{
  const PdJv *inputs = arr (task, "input");
  const PdJv *address = NULL;
  const char *name = patient_name, *phone = NULL;
  const PdJv *list;
  g_autoptr(GString) out = NULL;
  const char *raw;
  gsize len;

  for (guint i = 0; address == NULL && i < pd_jv_len (inputs); i++)
    if (g_strcmp0 (str (obj (arr_obj (inputs, i), "type"), "text"), "delivery") == 0)
      address = obj (arr_obj (inputs, i), "valueAddress");
  if (address == NULL)
    return NULL;
  list = arr (patient, "telecom");
  for (guint i = 0; i < pd_jv_len (list); i++)
    if (g_strcmp0 (str (arr_obj (list, i), "system"), "phone") == 0 && phone == NULL)
      phone = str (arr_obj (list, i), "value");
  list = arr (address, "extension");
  for (guint i = 0; i < pd_jv_len (list); i++)
    {
      const char *url = str (arr_obj (list, i), "url");

      if (g_strcmp0 (url, "urn:pharmdesk:receiver-name") == 0)
        name = str (arr_obj (list, i), "valueString");
      else if (g_strcmp0 (url, "urn:pharmdesk:receiver-phone") == 0)
        phone = str (arr_obj (list, i), "valueString");
    }
  out = g_string_new ("{\"name\":");
  if (name != NULL)
    pd_json_append_string (out, name);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"phone\":");
  if (phone != NULL)
    pd_json_append_string (out, phone);
  else
    g_string_append (out, "null");
  raw = pd_jv_text (address, &len);
  g_string_append (out, ",\"address\":");
  g_string_append_len (out, raw, (gssize) len);
  g_string_append_c (out, '}');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Everything that needs no database: sealing, indexes, the engine. Any
 * thread. */
PdRxPrepared *
pd_rx_cache_prepare (PdSession  *session,
                     PdKb       *kb,
                     PdJsonDoc  *task_doc,
                     const PdJv *task,
                     char       *bundle_text,
                     GError    **error)
{
  g_autoptr(PdRxPrepared) p = g_new0 (PdRxPrepared, 1);
  g_autofree char *text = bundle_text;
  const PdJv *group = obj (task, "groupIdentifier");
  g_autofree char *patient_id = pd_fhir_ref_id (str (obj (task, "for"), "reference"), "Patient");
  g_autofree char *task_text = NULL;
  const PdJv *bundle, *patient;
  const char *raw;
  gsize len;

  p->task_doc = pd_json_doc_ref (task_doc);
  p->task = task;
  p->kb = kb;
  if (str (task, "id") == NULL || group == NULL || str (group, "value") == NULL)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT,
                   _("Task/%s has no groupIdentifier: it names no prescription"), str (task, "id") != NULL ? str (task, "id") : "?");
      return NULL;
    }
  p->bundle_doc = pd_json_doc_parse (text, strlen (text), error);
  if (p->bundle_doc == NULL)
    return NULL;
  bundle = pd_json_doc_root (p->bundle_doc);
  patient = patient_id != NULL ? pd_fhir_bundle_resource (bundle, "Patient", patient_id) : NULL;
  raw = pd_jv_text (task, &len);
  task_text = g_strndup (raw, len);
  if (!seal_object (session, task_text, &p->task_sealed, error) || !seal_object (session, text, &p->bundle_sealed, error))
    return NULL;
  p->rx_uuid = pd_uuid_new ();
  p->name = pd_fhir_human_name (patient);
  if (p->name != NULL)
    {
      p->name_sealed = pd_vault_seal (session, "prescription", "patient_name", p->rx_uuid, p->name, error);
      if (p->name_sealed == NULL)
        return NULL;
      p->name_index = index_of (pd_vault_index_name, session, p->name);
      p->surname_index = index_of (pd_vault_index_surname, session, p->name);
    }
  p->tail_index = id_tail_index (session, resident_id (patient));
  p->receiver = receiver_of (task, patient, p->name);
  if (p->receiver != NULL)
    {
      p->receiver_sealed = pd_vault_seal (session, "prescription", "receiver", p->rx_uuid, p->receiver, error);
      if (p->receiver_sealed == NULL)
        return NULL;
    }
  p->authored = normal_time (str (task, "authoredOn"));
  p->claim_until = normal_time (str (obj (obj (task, "restriction"), "period"), "end"));
  p->online = TRUE;
  engine_verdict (kb, bundle, &p->verdict, &p->has_block, &p->online);
  return g_steal_pointer (&p);
}

/* The receiver, sealed under the prescription's own uuid like the name. */
static gboolean
store_receiver (PdSession    *session,
                gint64        rx_id,
                const char   *uuid,
                PdRxPrepared *p,
                GError      **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autoptr(GBytes) sealed = p->receiver_sealed != NULL ? g_bytes_ref (p->receiver_sealed) : NULL;
  sqlite3_stmt *stmt;

  if (p->receiver != NULL && !g_str_equal (uuid, p->rx_uuid))
    {
      g_clear_pointer (&sealed, g_bytes_unref);
      sealed = pd_vault_seal (session, "prescription", "receiver", uuid, p->receiver, error);
      if (sealed == NULL)
        return FALSE;
    }
  stmt = pd_store_prepare (store, "UPDATE prescription SET delivery = ?, receiver_sealed = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, p->receiver != NULL);
  bind_blob_or_null (stmt, 2, sealed);
  sqlite3_bind_int64 (stmt, 3, rx_id);
  return pd_store_step_done (store, stmt, error);
}

/* Inside the transaction: SQL only. */
gboolean
pd_rx_cache_write (PdSession    *session,
                   PdRxPrepared *p,
                   GError      **error)
{
  PdStore *store = pd_session_get_store (session);
  const PdJv *task = p->task;
  const PdJv *group = obj (task, "groupIdentifier");
  const char *system = str (group, "system") != NULL ? str (group, "system") : "";
  const char *task_id = str (task, "id");
  const char *version = str (obj (task, "meta"), "versionId");
  const char *updated = str (obj (task, "meta"), "lastUpdated");
  const PdJv *bundle = pd_json_doc_root (p->bundle_doc);
  const PdJv *first_mr = pd_fhir_bundle_resource (bundle, "MedicationRequest", NULL);
  g_autofree char *uuid = existing_uuid (store, system, str (group, "value"));
  g_autoptr(GBytes) resealed = NULL;
  GBytes *name_sealed = p->name_sealed;
  const char *status = queue_status (str (task, "status"));
  const char *verdict = p->verdict;
  gboolean has_block = p->has_block;
  sqlite3_stmt *stmt;
  gint64 rx_id;

  if (!put_object (store, "Task", task_id, version, updated, &p->task_sealed, error)
      || !put_object (store, PD_RX_BUNDLE, task_id, version, updated, &p->bundle_sealed, error))
    return FALSE;
  if (uuid == NULL)
    uuid = g_strdup (p->rx_uuid);
  else
    {
      if (has_open_outbox (store, uuid))
        status = NULL;   /* the pharmacist's own step is on its way: keep it */
      else if (g_strcmp0 (status, "cancelled") != 0 && has_live_fill (store, uuid))
        status = NULL;   /* dispensed here: the Task says approved, the pharmacy knows more */
      if (p->name != NULL && !g_str_equal (uuid, p->rx_uuid))
        {
          resealed = pd_vault_seal (session, "prescription", "patient_name", uuid, p->name, error);
          if (resealed == NULL)
            return FALSE;
          name_sealed = resealed;
        }
      /* Reuse: this very number dispensed here before (only a known row can be). */
      if (verdict != NULL && pd_rx_cache_dispensed (system, str (group, "value"), store))
        {
          verdict = "reject";
          has_block = TRUE;
        }
    }

  stmt = pd_store_prepare (store,
    "INSERT INTO prescription (uuid, rx_system, rx_number, task_id, task_version, patient_ref, patient_name_sealed,"
    " patient_name_index, patient_surname_index, patient_id_tail_index, prescriber_ref, priority, online, authored_at,"
    " status, verdict, has_block, claimed_by, claim_until, last_updated)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, COALESCE (?15, 'requested'), ?16, ?17, ?18, ?19, ?20)"
    " ON CONFLICT (rx_system, rx_number) DO UPDATE SET task_id = ?4, task_version = ?5, patient_ref = ?6,"
    " patient_name_sealed = ?7, patient_name_index = ?8, patient_surname_index = ?9, patient_id_tail_index = ?10,"
    " prescriber_ref = ?11, priority = ?12, online = ?13, authored_at = ?14, status = COALESCE (?15, status),"
    " verdict = ?16, has_block = ?17, claimed_by = ?18, claim_until = ?19, last_updated = ?20"
    " RETURNING id", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, system, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, str (group, "value"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, task_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, version, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, str (obj (task, "for"), "reference"), -1, SQLITE_STATIC);
  bind_blob_or_null (stmt, 7, name_sealed);
  bind_blob_or_null (stmt, 8, p->name_index);
  bind_blob_or_null (stmt, 9, p->surname_index);
  bind_blob_or_null (stmt, 10, p->tail_index);
  sqlite3_bind_text (stmt, 11, str (obj (first_mr, "requester"), "reference"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 12, g_strv_contains ((const char * const[]) { "routine", "urgent", "asap", "stat", NULL },
                                                str (task, "priority") != NULL ? str (task, "priority") : "")
                                 ? str (task, "priority") : "routine", -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 13, p->online);
  sqlite3_bind_text (stmt, 14, p->authored, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 15, status, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 16, verdict, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 17, has_block);
  sqlite3_bind_text (stmt, 18, str (obj (task, "owner"), "reference"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 19, p->claim_until, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 20, updated, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      pd_store_set_error (pd_store_get_db (store), sqlite3_errcode (pd_store_get_db (store)), "prescription", error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  rx_id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return store_receiver (session, rx_id, uuid, p, error)
         && store_lines (store, p->kb, rx_id, bundle, task, error);
}

gboolean
pd_rx_cache_put_task (PdSession  *session,
                      JsonObject *task,
                      const char *local_status,
                      GError    **error)
{
  PdStore *store = pd_session_get_store (session);
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), task);
  g_autofree char *claim_until = normal_time (pd_json_str (pd_json_obj (pd_json_obj (task, "restriction"), "period"), "end"));
  const char *id = pd_json_str (task, "id");
  sqlite3_stmt *stmt;

  if (!store_object (session, "Task", id, pd_json_str (pd_json_obj (task, "meta"), "versionId"), pd_json_str (pd_json_obj (task, "meta"), "lastUpdated"),
                     node, error))
    return FALSE;
  stmt = pd_store_prepare (store, "UPDATE prescription SET task_version = ?2, status = ?3, claimed_by = ?4, claim_until = ?5,"
                                  " last_updated = ?6 WHERE task_id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, pd_json_str (pd_json_obj (task, "meta"), "versionId"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, local_status != NULL ? local_status : queue_status (pd_json_str (task, "status")), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, pd_json_str (pd_json_obj (task, "owner"), "reference"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, claim_until, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, pd_json_str (pd_json_obj (task, "meta"), "lastUpdated"), -1, SQLITE_STATIC);
  return pd_store_step_done (store, stmt, error);
}

gboolean
pd_rx_cache_find (PdStore    *store,
                  const char *uuid_or_number,
                  char      **uuid,
                  char      **task_id,
                  GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT uuid, task_id FROM prescription WHERE uuid = ?1 OR rx_number = ?1"
                                                " ORDER BY uuid = ?1 DESC LIMIT 1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, uuid_or_number, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_FOUND, _("No cached prescription “%s”"), uuid_or_number);
      return FALSE;
    }
  if (uuid != NULL)
    *uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  if (task_id != NULL)
    *task_id = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
pd_rx_cache_set_status (PdStore    *store,
                        const char *rx_uuid,
                        const char *status,
                        GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "UPDATE prescription SET status = ? WHERE uuid = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, status, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, rx_uuid, -1, SQLITE_TRANSIENT);
  return pd_store_step_done (store, stmt, error);
}

gboolean
pd_rx_cache_dispensed (const char *system,
                       const char *value,
                       gpointer    user_data)
{
  PdStore *store = user_data;
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT EXISTS (SELECT 1 FROM prescription p WHERE p.rx_system = ? AND p.rx_number = ?"
    " AND (p.status = 'dispensed' OR EXISTS (SELECT 1 FROM dispense d WHERE d.prescription_id = p.id"
    "      AND d.state IN ('dispensed', 'completed'))))", NULL);
  gboolean found = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, system != NULL ? system : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    found = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt);
  return found;
}
