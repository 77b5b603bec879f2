/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "pd-hospital-pull"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <pthread.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-fhir-reader.h"
#include "pd-hospital-private.h"
#include "pd-patient-record.h"
#include "pd-rx-cache.h"

/* The pull of hospital.md's "Work queue": Task pages from the cursor
 * (`ge`, so equal timestamps across a page boundary are never lost),
 * skipping what the cache holds at the same (id, versionId); then, per
 * page, what the new Tasks need, in a few batched searches; then one
 * transaction per page with the cursor. A patient's record is fetched
 * once a pull while it stays fresh (pd-patient-record.h), not once for
 * each page on which the patient has a prescription. */

#define TASK_CODE "urn%3Apharmdesk%3Atask%7Crx-review"
#define OBSERVATION_CODES "29463-7,82810-3,63895-7,urn%3Apharmdesk%3Aobservation%7Cskin-test"
#define BATCH 40     /* ids per search */

typedef struct {
  GHashTable *by_ref;      /* "Type/id" → JsonObject* (owned by nodes) */
  GPtrArray  *nodes;       /* JsonNode*, keeping the objects alive */
  GHashTable *by_target;   /* "MedicationRequest/id" → GPtrArray of Provenance */
  gint64      as_of_us;    /* the earliest Bundle.timestamp of the searches; G_MININT64 when one had none */
} Found;

static void
index_under (GHashTable *index,
             char       *key,          /* taken */
             JsonObject *resource)
{
  GPtrArray *list = g_hash_table_lookup (index, key);

  if (list == NULL)
    {
      list = g_ptr_array_new ();
      g_hash_table_insert (index, key, list);
    }
  else
    g_free (key);
  g_ptr_array_add (list, resource);
}

/* Which line each fetched signature is for, once per page. */
static void
index_found (Found *found)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, found->by_ref);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      JsonObject *r = value;
      JsonArray *targets = pd_json_arr (r, "target");

      if (g_strcmp0 (pd_json_str (r, "resourceType"), "Provenance") != 0)
        continue;
      for (guint i = 0; targets != NULL && i < json_array_get_length (targets); i++)
        {
          g_autofree char *id = pd_fhir_ref_id (pd_json_str (pd_json_arr_obj (targets, i), "reference"), "MedicationRequest");

          if (id != NULL)
            index_under (found->by_target, g_strconcat ("MedicationRequest/", id, NULL), r);
        }
    }
}

/* When the hospital assembled a searchset: Bundle.timestamp, else its
 * meta.lastUpdated; G_MININT64 when it says neither. */
static gint64
searchset_time (JsonObject *bundle)
{
  const char *when = pd_json_str (bundle, "timestamp");
  gint64 us;

  if (when == NULL)
    when = pd_json_str (pd_json_obj (bundle, "meta"), "lastUpdated");
  return when != NULL && pd_time_parse_fhir (when, FALSE, &us) ? us : G_MININT64;
}

static void
found_add (Found      *found,
           JsonObject *resource)
{
  const char *type = pd_json_str (resource, "resourceType");
  const char *id = pd_json_str (resource, "id");

  if (type == NULL || id == NULL)
    return;
  g_ptr_array_add (found->nodes, json_node_init_object (json_node_alloc (), resource));
  g_hash_table_replace (found->by_ref, g_strconcat (type, "/", id, NULL), resource);
}

/* GET a searchset and every next page of it; each resource into found. */
static gboolean
search_all (PdHospitalLink *link,
            const char     *query,
            Found          *found,
            GCancellable   *cancellable,
            GError        **error)
{
  g_autofree char *next = g_strdup (query);

  while (next != NULL)
    {
      PdFhirAnswer answer;
      JsonArray *entries;
      g_autofree char *url = g_steal_pointer (&next);

      if (!pd_fhir_client_call (link->client, "GET", url, NULL, NULL, TRUE, &answer, cancellable, error))
        return FALSE;
      if (answer.status != 200 || answer.body == NULL || !JSON_NODE_HOLDS_OBJECT (answer.body))
        {
          g_autofree char *why = pd_fhir_answer_describe (&answer);

          g_set_error (error, PD_LINK_ERROR, answer.status >= 500 ? PD_LINK_ERROR_SERVER : PD_LINK_ERROR_REFUSED,
                       _("The hospital refused a search: %s"), why);
          pd_fhir_answer_clear (&answer);
          return FALSE;
        }
      entries = pd_json_arr (json_node_get_object (answer.body), "entry");
      for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
        {
          JsonObject *resource = pd_json_obj (pd_json_arr_obj (entries, i), "resource");

          if (resource != NULL)
            found_add (found, resource);
        }
      found->as_of_us = MIN (found->as_of_us, searchset_time (json_node_get_object (answer.body)));
      next = g_strdup (pd_fhir_next_link (json_node_get_object (answer.body)));
      pd_fhir_answer_clear (&answer);
    }
  return TRUE;
}

/* One search per BATCH values of a comma-separated parameter. */
static gboolean
search_batched (PdHospitalLink *link,
                const char     *prefix,      /* "Condition?patient=" */
                const char     *suffix,      /* "" */
                GPtrArray      *values,      /* escaped already */
                Found          *found,
                GCancellable   *cancellable,
                GError        **error)
{
  for (guint i = 0; i < values->len; i += BATCH)
    {
      GString *q = g_string_new (prefix);
      g_autofree char *query = NULL;

      for (guint k = i; k < values->len && k < i + BATCH; k++)
        g_string_append_printf (q, "%s%s", k > i ? "," : "", (const char *) values->pdata[k]);
      g_string_append (q, suffix);
      query = g_string_free (q, FALSE);
      if (!search_all (link, query, found, cancellable, error))
        return FALSE;
    }
  return TRUE;
}

static void
add_unique (GPtrArray  *array,
            GHashTable *seen,
            char       *value)     /* taken */
{
  if (value == NULL)
    return;
  /* Not g_hash_table_add () alone: for a key already there it frees the
   * one in the table, which the array still holds. */
  if (g_hash_table_contains (seen, value))
    {
      g_free (value);
      return;
    }
  g_hash_table_add (seen, value);
  g_ptr_array_add (array, value);
}

static JsonObject *
lookup_ref (Found      *found,
            const char *reference)
{
  g_autofree char *type = NULL;
  g_autofree char *id = NULL;
  g_autofree char *key = NULL;
  const char *slash;

  if (reference == NULL)
    return NULL;
  id = pd_fhir_ref_id (reference, NULL);
  slash = id != NULL ? g_strrstr (reference, id) : NULL;
  if (slash == NULL || slash == reference)
    return NULL;
  /* The type is the segment before the id. */
  {
    g_autofree char *head = g_strndup (reference, slash - reference - 1);
    const char *t = strrchr (head, '/');

    type = g_strdup (t != NULL ? t + 1 : head);
  }
  key = g_strconcat (type, "/", id, NULL);
  return g_hash_table_lookup (found->by_ref, key);
}

static char *
patient_key (JsonObject *task)
{
  g_autofree char *id = pd_fhir_ref_id (pd_json_str (pd_json_obj (task, "for"), "reference"), "Patient");

  return id != NULL ? g_strconcat ("Patient/", id, NULL) : NULL;
}

/* The conditions ("Condition/id") a Task's lines give as their reasons. */
static GHashTable *
task_reasons (JsonObject *task,
              Found      *found)
{
  GHashTable *reasons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonArray *inputs = pd_json_arr (task, "input");

  for (guint i = 0; inputs != NULL && i < json_array_get_length (inputs); i++)
    {
      JsonObject *mr = lookup_ref (found, pd_json_str (pd_json_obj (pd_json_arr_obj (inputs, i), "valueReference"), "reference"));
      JsonArray *refs = pd_json_arr (mr, "reasonReference");

      for (guint k = 0; refs != NULL && k < json_array_get_length (refs); k++)
        {
          g_autofree char *id = pd_fhir_ref_id (pd_json_str (pd_json_arr_obj (refs, k), "reference"), "Condition");

          if (id != NULL)
            g_hash_table_add (reasons, g_strconcat ("Condition/", id, NULL));
        }
    }
  return reasons;
}

/* The patient records of one pull: the latest of each patient, and every
 * one made, which pages may still read until the pull ends. */
typedef struct {
  GHashTable *latest;      /* "Patient/id" → PdPatientRecord* */
  GPtrArray  *made;        /* PdPatientRecord*, owned */
} Records;

/* Whether the record of patient serves every Task of the page for them. */
static gboolean
record_serves (const PdPatientRecord *record,
               const char            *patient,
               GPtrArray             *tasks,
               Found                 *found)
{
  for (guint t = 0; record != NULL && t < tasks->len; t++)
    {
      g_autofree char *key = patient_key (tasks->pdata[t]);
      const char *updated = pd_json_str (pd_json_obj (tasks->pdata[t], "meta"), "lastUpdated");
      g_autoptr(GHashTable) reasons = NULL;
      gint64 us;

      if (g_strcmp0 (key, patient) != 0)
        continue;
      if (updated == NULL || !pd_time_parse_fhir (updated, FALSE, &us))
        return FALSE;
      reasons = task_reasons (tasks->pdata[t], found);
      if (!pd_patient_record_serves (record, us, reasons))
        return FALSE;
    }
  return record != NULL;
}

/* The records of the page's patients: those of this pull that still serve,
 * the others fetched anew in the three batched searches of hospital.md. */
static gboolean
fetch_records (PdHospitalLink *link,
               GPtrArray      *tasks,
               Found          *found,
               Records        *records,
               GHashTable     *page_records,
               GCancellable   *cancellable,
               GError        **error)
{
  g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func (g_free);    /* "Patient/id" */
  g_autoptr(GPtrArray) escaped = g_ptr_array_new_with_free_func (g_free);  /* "Patient%2Fid" */
  g_autoptr(GHashTable) by_ref = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GHashTable) by_patient = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  Found fresh = { by_ref, nodes, NULL, G_MAXINT64 };
  GHashTableIter it;
  gpointer value;

  for (guint t = 0; t < tasks->len; t++)
    {
      char *patient = patient_key (tasks->pdata[t]);
      PdPatientRecord *record;

      if (patient == NULL || g_hash_table_contains (page_records, patient)
          || g_ptr_array_find_with_equal_func (stale, patient, g_str_equal, NULL))
        {
          g_free (patient);
          continue;
        }
      record = g_hash_table_lookup (records->latest, patient);
      if (record_serves (record, patient, tasks, found))
        g_hash_table_insert (page_records, patient, record);
      else
        {
          g_ptr_array_add (escaped, g_strconcat ("Patient%2F", patient + strlen ("Patient/"), NULL));
          g_ptr_array_add (stale, patient);
        }
    }
  if (stale->len == 0)
    return TRUE;
  if (!search_batched (link, "Condition?patient=", "", escaped, &fresh, cancellable, error)
      || !search_batched (link, "AllergyIntolerance?patient=", "", escaped, &fresh, cancellable, error)
      || !search_batched (link, "Observation?patient=", "&code=" OBSERVATION_CODES "", escaped, &fresh, cancellable, error))
    return FALSE;
  g_hash_table_iter_init (&it, by_ref);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      JsonObject *r = value;
      const char *member = g_strcmp0 (pd_json_str (r, "resourceType"), "AllergyIntolerance") == 0 ? "patient" : "subject";
      g_autofree char *id = pd_fhir_ref_id (pd_json_str (pd_json_obj (r, member), "reference"), "Patient");

      if (id != NULL)
        index_under (by_patient, g_strconcat ("Patient/", id, NULL), r);
    }
  for (guint i = 0; i < stale->len; i++)
    {
      PdPatientRecord *record = pd_patient_record_new (g_hash_table_lookup (by_patient, stale->pdata[i]),
                                                       fresh.as_of_us == G_MAXINT64 ? G_MININT64 : fresh.as_of_us);

      g_ptr_array_add (records->made, record);
      g_hash_table_replace (records->latest, g_strdup (stale->pdata[i]), record);
      g_hash_table_insert (page_records, g_strdup (stale->pdata[i]), record);
    }
  return TRUE;
}

/* Everything the new Tasks need, in batched standard searches. */
static gboolean
fetch_related (PdHospitalLink *link,
               GPtrArray      *tasks,
               Found          *found,
               Records        *records,
               GHashTable     *page_records,
               GCancellable   *cancellable,
               GError        **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) lines = g_ptr_array_new ();
  g_autoptr(GPtrArray) targets = g_ptr_array_new ();

  for (guint t = 0; t < tasks->len; t++)
    {
      JsonArray *inputs = pd_json_arr (tasks->pdata[t], "input");

      for (guint i = 0; inputs != NULL && i < json_array_get_length (inputs); i++)
        {
          JsonObject *input = pd_json_arr_obj (inputs, i);
          char *id = pd_fhir_ref_id (pd_json_str (pd_json_obj (input, "valueReference"), "reference"), "MedicationRequest");

          if (id == NULL)
            continue;
          add_unique (targets, seen, g_strconcat ("MedicationRequest%2F", id, NULL));
          add_unique (lines, seen, id);
        }
    }
  return search_batched (link, "MedicationRequest?_id=",
                         "&_include=MedicationRequest%3Asubject&_include=MedicationRequest%3Arequester"
                         "&_include=MedicationRequest%3Aencounter&_include=MedicationRequest%3Amedication",
                         lines, found, cancellable, error)
         && search_batched (link, "Provenance?target=", "", targets, found, cancellable, error)
         && fetch_records (link, tasks, found, records, page_records, cancellable, error);
}

static void
bundle_add (JsonArray  *entries,
            GHashTable *added,
            JsonObject *resource)
{
  g_autofree char *ref = NULL;
  JsonObject *entry;

  if (resource == NULL)
    return;
  ref = g_strconcat (pd_json_str (resource, "resourceType"), "/", pd_json_str (resource, "id"), NULL);
  if (!g_hash_table_add (added, g_strdup (ref)))
    return;
  entry = json_object_new ();
  json_object_set_string_member (entry, "fullUrl", ref);
  json_object_set_object_member (entry, "resource", json_object_ref (resource));
  json_array_add_object_element (entries, entry);
}

/* A collection Bundle of everything the review reads for one Task. */
static JsonNode *
assemble (JsonObject *task,
          Found      *found,
          GHashTable *page_records)
{
  JsonObject *bundle = json_object_new ();
  JsonArray *entries = json_array_new ();
  g_autoptr(GHashTable) added = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) line_refs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonArray *inputs = pd_json_arr (task, "input");
  g_autofree char *patient = patient_key (task);
  PdPatientRecord *record = patient != NULL ? g_hash_table_lookup (page_records, patient) : NULL;
  GHashTableIter it;
  gpointer key;

  json_object_set_string_member (bundle, "resourceType", "Bundle");
  json_object_set_string_member (bundle, "type", "collection");
  json_object_set_array_member (bundle, "entry", entries);
  for (guint i = 0; inputs != NULL && i < json_array_get_length (inputs); i++)
    {
      const char *ref = pd_json_str (pd_json_obj (pd_json_arr_obj (inputs, i), "valueReference"), "reference");
      JsonObject *mr = lookup_ref (found, ref);
      JsonObject *requester;

      if (mr == NULL)
        continue;
      g_hash_table_add (line_refs, g_strconcat ("MedicationRequest/", pd_json_str (mr, "id"), NULL));
      bundle_add (entries, added, mr);
      bundle_add (entries, added, lookup_ref (found, pd_json_str (pd_json_obj (mr, "subject"), "reference")));
      requester = lookup_ref (found, pd_json_str (pd_json_obj (mr, "requester"), "reference"));
      bundle_add (entries, added, requester);
      if (requester != NULL)
        bundle_add (entries, added, lookup_ref (found, pd_json_str (pd_json_obj (requester, "practitioner"), "reference")));
      bundle_add (entries, added, lookup_ref (found, pd_json_str (pd_json_obj (mr, "encounter"), "reference")));
      bundle_add (entries, added, lookup_ref (found, pd_json_str (pd_json_obj (mr, "medicationReference"), "reference")));
    }
  bundle_add (entries, added, lookup_ref (found, pd_json_str (pd_json_obj (task, "for"), "reference")));
  g_hash_table_iter_init (&it, line_refs);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      GPtrArray *provenances = g_hash_table_lookup (found->by_target, key);

      for (guint i = 0; provenances != NULL && i < provenances->len; i++)
        bundle_add (entries, added, provenances->pdata[i]);
    }
  /* What review.md reads of the patient's record, not all of it: a
   * chronic patient's history would otherwise grow every Bundle. */
  if (record != NULL)
    {
      g_autoptr(GHashTable) reasons = task_reasons (task, found);
      g_autoptr(GPtrArray) picked = pd_patient_record_pick (record, line_refs, reasons);

      for (guint i = 0; i < picked->len; i++)
        bundle_add (entries, added, picked->pdata[i]);
    }
  return pd_json_node_take (bundle);
}

/* One page of the queue, fetched with everything its Tasks need. */
typedef struct {
  JsonNode   *body;          /* the searchset; keeps the Tasks alive */
  GPtrArray  *tasks;         /* JsonObject* */
  GPtrArray  *news;          /* those of tasks the cache did not hold at that version when fetched */
  GHashTable *by_ref;
  GPtrArray  *nodes;
  GHashTable *by_target;
  Found       found;
  GHashTable *records;       /* "Patient/id" → PdPatientRecord* (the pull's) */
  GHashTable *prepared;      /* JsonObject* task → PdRxPrepared* */
  char       *cursor;        /* the largest lastUpdated so far */
  char       *next;
  GError     *error;
} Page;

static Page *
page_new (void)
{
  Page *p = g_new0 (Page, 1);

  p->tasks = g_ptr_array_new ();
  p->news = g_ptr_array_new ();
  p->by_ref = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  p->by_target = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  p->found = (Found) { p->by_ref, p->nodes, p->by_target, G_MAXINT64 };
  p->records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->prepared = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) pd_rx_prepared_free);
  return p;
}

static void
page_free (Page *p)
{
  g_hash_table_unref (p->prepared);
  g_clear_pointer (&p->body, json_node_unref);
  g_ptr_array_unref (p->tasks);
  g_ptr_array_unref (p->news);
  g_hash_table_unref (p->records);
  g_hash_table_unref (p->by_target);
  g_hash_table_unref (p->by_ref);
  g_ptr_array_unref (p->nodes);
  g_free (p->cursor);
  g_free (p->next);
  g_clear_error (&p->error);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Page, page_free)

typedef struct {
  PdHospitalLink *link;
  GPtrArray      *tasks;       /* JsonObject*: the page's Tasks */
  GPtrArray      *fresh;       /* out: those the cache does not hold at that version */
  Found          *found;
  GHashTable     *prepared;
  const char     *cursor;
  PdSyncStats    *stats;
} PageJob;

static gboolean
read_fresh (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  PageJob *job = user_data;

  for (guint i = 0; i < job->tasks->len; i++)
    {
      JsonObject *task = job->tasks->pdata[i];
      g_autofree char *cached = pd_rx_cache_task_version (store, pd_json_str (task, "id"));

      if (g_strcmp0 (cached, pd_json_str (pd_json_obj (task, "meta"), "versionId")) != 0)
        g_ptr_array_add (job->fresh, task);
    }
  return TRUE;
}

static gboolean
write_page (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  PageJob *job = user_data;
  PdSession *session = job->link->session;

  if (!read_fresh (store, job, error))
    return FALSE;
  for (guint i = 0; i < job->fresh->len; i++)
    {
      JsonObject *task = job->fresh->pdata[i];
      PdRxPrepared *prepared = g_hash_table_lookup (job->prepared, task);

      if (prepared == NULL)
        {
          g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_SERVER, _("Task/%s could not be read"),
                       pd_json_str (task, "id") != NULL ? pd_json_str (task, "id") : "?");
          return FALSE;
        }
      if (!pd_rx_cache_write (session, prepared, error))
        return FALSE;
      if (g_strcmp0 (pd_json_str (task, "status"), "cancelled") == 0)
        {
          if (!pd_hospital_cancelled (session, pd_json_str (task, "id"), error))
            return FALSE;
          job->stats->cancelled++;
        }
    }
  return pd_hospital_set_cursor (store, job->cursor, error);
}

static char *
read_cursor (PdStore *store)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT cursor FROM sync_cursor WHERE link = 'hospital'", NULL);
  char *cursor = NULL;

  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    cursor = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return cursor;
}

static gboolean
read_cursor_job (PdStore  *store,
                 gpointer  user_data,
                 GError  **error)
{
  *(char **) user_data = read_cursor (store);
  return TRUE;
}

/* The pull runs in three stages, each on its own thread, so that the
 * hospital's answers, our preparing and our storing overlap: fetching
 * (pages and what their Tasks need, and the pull's patient records),
 * preparing (assembling, sealing, the engine) and storing (one
 * transaction a page, in order). At most AHEAD pages are on their way. */
#define AHEAD 3

typedef struct {
  PdHospitalLink *link;
  GCancellable   *cancellable;
  char           *first;
  char           *cursor;
  gint64          cursor_us;
  GAsyncQueue    *pages;      /* fetched → preparing */
  GAsyncQueue    *prepared;   /* prepared → storing */
  GMutex          lock;
  GCond           cond;
  guint           ahead;
  Records         records;    /* the fetching thread's alone */
  sqlite3        *reader;     /* the fetching thread's read-only connection, or NULL */
  sqlite3_stmt   *held;       /* on it: PD_RX_CACHE_TASK_VERSION_SQL */
} Fetcher;

/* Whether the cache holds the Task at this version already (its lines,
 * signatures and patient record need no fetching then; the storing
 * thread decides again, in its transaction). */
static gboolean
cached_already (Fetcher    *f,
                JsonObject *task)
{
  const char *version = pd_json_str (pd_json_obj (task, "meta"), "versionId");
  gboolean held;

  if (f->held == NULL || version == NULL || pd_json_str (task, "id") == NULL)
    return FALSE;
  sqlite3_bind_text (f->held, 1, pd_json_str (task, "id"), -1, SQLITE_STATIC);
  held = sqlite3_step (f->held) == SQLITE_ROW && g_strcmp0 ((const char *) sqlite3_column_text (f->held, 0), version) == 0;
  sqlite3_reset (f->held);
  sqlite3_clear_bindings (f->held);
  return held;
}

static Page *
fetch_page (Fetcher    *f,
            const char *url)
{
  Page *p = page_new ();
  PdFhirAnswer answer;
  JsonArray *entries;

  if (!pd_fhir_client_call (f->link->client, "GET", url, NULL, NULL, TRUE, &answer, f->cancellable, &p->error))
    return p;
  if (answer.status != 200 || answer.body == NULL || !JSON_NODE_HOLDS_OBJECT (answer.body))
    {
      g_autofree char *why = pd_fhir_answer_describe (&answer);

      g_set_error (&p->error, PD_LINK_ERROR, answer.status >= 500 ? PD_LINK_ERROR_SERVER : PD_LINK_ERROR_REFUSED,
                   _("The hospital refused the work-queue search: %s"), why);
      pd_fhir_answer_clear (&answer);
      return p;
    }
  p->body = g_steal_pointer (&answer.body);
  pd_fhir_answer_clear (&answer);
  entries = pd_json_arr (json_node_get_object (p->body), "entry");
  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    {
      JsonObject *task = pd_json_obj (pd_json_arr_obj (entries, i), "resource");
      const char *updated = pd_json_str (pd_json_obj (task, "meta"), "lastUpdated");
      gint64 us;

      if (g_strcmp0 (pd_json_str (task, "resourceType"), "Task") != 0)
        continue;
      g_ptr_array_add (p->tasks, task);
      if (!cached_already (f, task))
        g_ptr_array_add (p->news, task);
      if (updated != NULL && pd_time_parse_fhir (updated, FALSE, &us) && us > f->cursor_us)
        {
          f->cursor_us = us;
          g_free (f->cursor);
          f->cursor = g_strdup (updated);
        }
    }
  p->cursor = g_strdup (f->cursor);
  p->next = g_strdup (pd_fhir_next_link (json_node_get_object (p->body)));
  if (p->news->len > 0 && fetch_related (f->link, p->news, &p->found, &f->records, p->records, f->cancellable, &p->error))
    index_found (&p->found);
  return p;
}

/* Assembling, sealing and the engine: no database, so outside the
 * storing thread's transaction. */
static gboolean
prepare_page (PdHospitalLink *link,
              Page           *p,
              GError        **error)
{
  for (guint i = 0; i < p->news->len; i++)
    {
      g_autoptr(JsonNode) bundle = assemble (p->news->pdata[i], &p->found, p->records);
      PdRxPrepared *prepared = pd_rx_cache_prepare (link->session, link->kb, p->news->pdata[i], bundle, error);

      if (prepared == NULL)
        return FALSE;
      g_hash_table_insert (p->prepared, p->news->pdata[i], prepared);
    }
  return TRUE;
}

static gpointer
fetcher_main (gpointer data)
{
  Fetcher *f = data;
  g_autofree char *url = g_strdup (f->first);

  /* Named for top, perf and the sync bench (GLib 2.74 does not). */
  pthread_setname_np (pthread_self (), "pd-pull-fetch");
  while (url != NULL)
    {
      Page *p;

      g_mutex_lock (&f->lock);
      while (f->ahead >= AHEAD && !g_cancellable_is_cancelled (f->cancellable))
        g_cond_wait (&f->cond, &f->lock);
      f->ahead++;
      g_mutex_unlock (&f->lock);
      p = fetch_page (f, url);
      g_free (url);
      url = p->error == NULL ? g_strdup (p->next) : NULL;
      g_async_queue_push (f->pages, p);
    }
  return NULL;
}

/* The preparing stage: every page passes through, the last one too. */
static gpointer
preparer_main (gpointer data)
{
  Fetcher *f = data;
  gboolean last = FALSE;

  pthread_setname_np (pthread_self (), "pd-pull-prepare");
  while (!last)
    {
      Page *p = g_async_queue_pop (f->pages);

      last = p->error != NULL || p->next == NULL;
      if (p->error == NULL && !g_cancellable_is_cancelled (f->cancellable))
        prepare_page (f->link, p, &p->error);
      g_async_queue_push (f->prepared, p);
    }
  return NULL;
}

static void
fetcher_took_one (Fetcher *f)
{
  g_mutex_lock (&f->lock);
  f->ahead--;
  g_cond_signal (&f->cond);
  g_mutex_unlock (&f->lock);
}

static void
stop_fetcher (Fetcher *f)
{
  g_mutex_lock (&f->lock);
  g_cancellable_cancel (f->cancellable);
  g_cond_signal (&f->cond);
  g_mutex_unlock (&f->lock);
}

static void
cancel_own (GCancellable *outer,
            gpointer      own)
{
  g_cancellable_cancel (own);
}

gboolean
pd_hospital_link_pull (PdHospitalLink     *link,
                       GCancellable       *cancellable,
                       PdSyncProgressFunc  progress,
                       gpointer            user_data,
                       PdSyncStats        *stats,
                       GError            **error)
{
  PdStore *store = pd_session_get_store (link->session);
  g_autoptr(GCancellable) own = g_cancellable_new ();
  g_autofree char *cursor = NULL;
  Fetcher f = { link, own };
  GThread *thread, *preparer;
  gulong handler = 0;
  gboolean ok = TRUE;

  if (!pd_store_write (store, read_cursor_job, &cursor, error))
    return FALSE;
  f.cursor_us = G_MININT64;
  if (cursor != NULL)
    pd_time_parse_fhir (cursor, FALSE, &f.cursor_us);
  f.cursor = g_strdup (cursor);
  {
    g_autofree char *escaped = g_uri_escape_string (cursor != NULL ? cursor : "1970-01-01T00:00:00Z", NULL, FALSE);

    f.first = g_strconcat ("Task?code=" TASK_CODE "&_lastUpdated=ge", escaped, "&_sort=_lastUpdated&_count=100", NULL);
  }
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (cancel_own), own, NULL);
  f.pages = g_async_queue_new ();
  f.records.latest = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f.records.made = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_patient_record_free);
  g_mutex_init (&f.lock);
  g_cond_init (&f.cond);
  f.prepared = g_async_queue_new ();
  /* Without it every Task is fetched in full: slower, not wrong. */
  f.reader = pd_store_open_reader (store, NULL);
  if (f.reader != NULL
      && sqlite3_prepare_v2 (f.reader, PD_RX_CACHE_TASK_VERSION_SQL, -1, &f.held, NULL) != SQLITE_OK)
    g_clear_pointer (&f.held, sqlite3_finalize);
  thread = g_thread_new ("pd-hospital-fetch", fetcher_main, &f);
  preparer = g_thread_new ("pd-hospital-prep", preparer_main, &f);

  for (;;)
    {
      g_autoptr(Page) p = g_async_queue_pop (f.prepared);
      g_autoptr(GPtrArray) fresh = g_ptr_array_new ();
      PageJob job = { link, p->tasks, fresh, &p->found, p->prepared, p->cursor, stats };
      gboolean last = p->error != NULL || p->next == NULL;

      fetcher_took_one (&f);
      /* Cancelled: nothing more is stored, whatever was fetched ahead. */
      if (ok && g_cancellable_set_error_if_cancelled (own, error))
        {
          ok = FALSE;
          stop_fetcher (&f);
        }
      if (ok && p->error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&p->error));
          ok = FALSE;
          stop_fetcher (&f);
        }
      if (ok)
        {
          stats->pages++;
          stats->tasks_seen += p->tasks->len;
          if (!pd_store_write (store, write_page, &job, error))
            {
              ok = FALSE;
              stop_fetcher (&f);
            }
          else
            {
              stats->stored += fresh->len;
              g_free (stats->cursor);
              stats->cursor = g_strdup (p->cursor);
              if (progress != NULL)
                progress (stats, user_data);
            }
        }
      if (last)
        break;
    }
  g_thread_join (thread);
  g_thread_join (preparer);
  /* Pages fetched after a failure of ours. */
  {
    Page *rest;

    while ((rest = g_async_queue_try_pop (f.pages)) != NULL)
      page_free (rest);
    while ((rest = g_async_queue_try_pop (f.prepared)) != NULL)
      page_free (rest);
  }
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  g_async_queue_unref (f.pages);
  g_clear_pointer (&f.held, sqlite3_finalize);
  sqlite3_close (f.reader);
  g_async_queue_unref (f.prepared);
  /* Only now: the pages read them until the last one is stored. */
  g_hash_table_unref (f.records.latest);
  g_ptr_array_unref (f.records.made);
  g_mutex_clear (&f.lock);
  g_cond_clear (&f.cond);
  g_free (f.first);
  g_free (f.cursor);
  return ok;
}
