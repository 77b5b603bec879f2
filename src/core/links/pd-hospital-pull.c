/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-hospital-pull"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-fhir-reader.h"
#include "pd-hospital-private.h"
#include "pd-rx-cache.h"

/* The pull of hospital.md's "Work queue": Task pages from the cursor
 * (`ge`, so equal timestamps across a page boundary are never lost),
 * skipping what the cache holds at the same (id, versionId); then, per
 * page, what the new Tasks need, in a few batched searches; then one
 * transaction per page with the cursor. */

#define TASK_CODE "urn%3Apharmdesk%3Atask%7Crx-review"
#define OBSERVATION_CODES "29463-7,82810-3,63895-7,urn%3Apharmdesk%3Aobservation%7Cskin-test"
#define BATCH 40     /* ids per search */

typedef struct {
  GHashTable *by_ref;      /* "Type/id" → JsonObject* (owned by nodes) */
  GPtrArray  *nodes;       /* JsonNode*, keeping the objects alive */
  GHashTable *by_patient;  /* "Patient/id" → GPtrArray of Condition, Observation, AllergyIntolerance */
  GHashTable *by_target;   /* "MedicationRequest/id" → GPtrArray of Provenance */
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

/* Who each fetched resource belongs to, once per page. */
static void
index_found (Found *found)
{
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, found->by_ref);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      JsonObject *r = value;
      const char *type = pd_json_str (r, "resourceType");

      if (g_strcmp0 (type, "Provenance") == 0)
        {
          JsonArray *targets = pd_json_arr (r, "target");

          for (guint i = 0; targets != NULL && i < json_array_get_length (targets); i++)
            {
              g_autofree char *id = pd_fhir_ref_id (pd_json_str (pd_json_arr_obj (targets, i), "reference"), "MedicationRequest");

              if (id != NULL)
                index_under (found->by_target, g_strconcat ("MedicationRequest/", id, NULL), r);
            }
        }
      else if (g_strcmp0 (type, "Condition") == 0 || g_strcmp0 (type, "Observation") == 0
               || g_strcmp0 (type, "AllergyIntolerance") == 0)
        {
          const char *member = g_str_equal (type, "AllergyIntolerance") ? "patient" : "subject";
          g_autofree char *id = pd_fhir_ref_id (pd_json_str (pd_json_obj (r, member), "reference"), "Patient");

          if (id != NULL)
            index_under (found->by_patient, g_strconcat ("Patient/", id, NULL), r);
        }
    }
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

/* Everything the new Tasks need, in batched standard searches. */
static gboolean
fetch_related (PdHospitalLink *link,
               GPtrArray      *tasks,
               Found          *found,
               GCancellable   *cancellable,
               GError        **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) lines = g_ptr_array_new ();
  g_autoptr(GPtrArray) targets = g_ptr_array_new ();
  g_autoptr(GPtrArray) patients = g_ptr_array_new ();

  for (guint t = 0; t < tasks->len; t++)
    {
      JsonArray *inputs = pd_json_arr (tasks->pdata[t], "input");
      char *patient = pd_fhir_ref_id (pd_json_str (pd_json_obj (tasks->pdata[t], "for"), "reference"), "Patient");

      for (guint i = 0; inputs != NULL && i < json_array_get_length (inputs); i++)
        {
          JsonObject *input = pd_json_arr_obj (inputs, i);
          char *id = pd_fhir_ref_id (pd_json_str (pd_json_obj (input, "valueReference"), "reference"), "MedicationRequest");

          if (id == NULL)
            continue;
          add_unique (targets, seen, g_strconcat ("MedicationRequest%2F", id, NULL));
          add_unique (lines, seen, id);
        }
      add_unique (patients, seen, patient != NULL ? g_strconcat ("Patient%2F", patient, NULL) : NULL);
      g_free (patient);
    }
  return search_batched (link, "MedicationRequest?_id=",
                         "&_include=MedicationRequest%3Asubject&_include=MedicationRequest%3Arequester"
                         "&_include=MedicationRequest%3Aencounter&_include=MedicationRequest%3Amedication",
                         lines, found, cancellable, error)
         && search_batched (link, "Provenance?target=", "", targets, found, cancellable, error)
         && search_batched (link, "Condition?patient=", "", patients, found, cancellable, error)
         && search_batched (link, "AllergyIntolerance?patient=", "", patients, found, cancellable, error)
         && search_batched (link, "Observation?patient=", "&code=" OBSERVATION_CODES "", patients, found,
                            cancellable, error);
}

static void
bundle_add (JsonArray  *entries,
            GHashTable *added,
            const char *base,
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

/* The patient observations review.md reads: weight, pregnancy, lactation
 * (the latest countable one of each decides), and skin tests (by line). */
static const char *patient_codes[] = { "29463-7", "82810-3", "63895-7" };

static int
patient_code (JsonObject *r)
{
  if (g_strcmp0 (pd_json_str (r, "resourceType"), "Observation") != 0)
    return -1;
  for (guint c = 0; c < G_N_ELEMENTS (patient_codes); c++)
    if (pd_fhir_codeable_has (pd_json_obj (r, "code"), NULL, patient_codes[c]))
      return (int) c;
  return -1;
}

static gboolean
is_skin_test (JsonObject *r)
{
  return g_strcmp0 (pd_json_str (r, "resourceType"), "Observation") == 0
         && pd_fhir_codeable_has (pd_json_obj (r, "code"), "urn:pharmdesk:observation", "skin-test");
}

static gboolean
focuses_on (JsonObject *r,
            GHashTable *line_refs)
{
  JsonArray *focus = pd_json_arr (r, "focus");

  for (guint i = 0; focus != NULL && i < json_array_get_length (focus); i++)
    {
      g_autofree char *id = pd_fhir_ref_id (pd_json_str (pd_json_arr_obj (focus, i), "reference"), "MedicationRequest");
      g_autofree char *ref = id != NULL ? g_strconcat ("MedicationRequest/", id, NULL) : NULL;

      if (ref != NULL && g_hash_table_contains (line_refs, ref))
        return TRUE;
    }
  return FALSE;
}

static void
add_reason_refs (GHashTable *reasons,
                 JsonObject *mr)
{
  JsonArray *refs = pd_json_arr (mr, "reasonReference");

  for (guint i = 0; refs != NULL && i < json_array_get_length (refs); i++)
    {
      g_autofree char *id = pd_fhir_ref_id (pd_json_str (pd_json_arr_obj (refs, i), "reference"), "Condition");

      if (id != NULL)
        g_hash_table_add (reasons, g_strconcat ("Condition/", id, NULL));
    }
}

/* A collection Bundle of everything the review reads for one Task. */
static JsonNode *
assemble (PdHospitalLink *link,
          JsonObject     *task,
          Found          *found)
{
  JsonObject *bundle = json_object_new ();
  JsonArray *entries = json_array_new ();
  g_autoptr(GHashTable) added = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) line_refs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonArray *inputs = pd_json_arr (task, "input");
  const char *patient_ref = pd_json_str (pd_json_obj (task, "for"), "reference");
  GHashTableIter it;
  gpointer key, value;
  const char *base = pd_fhir_client_get_base (link->client);

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
      bundle_add (entries, added, base, mr);
      bundle_add (entries, added, base, lookup_ref (found, pd_json_str (pd_json_obj (mr, "subject"), "reference")));
      requester = lookup_ref (found, pd_json_str (pd_json_obj (mr, "requester"), "reference"));
      bundle_add (entries, added, base, requester);
      if (requester != NULL)
        bundle_add (entries, added, base, lookup_ref (found, pd_json_str (pd_json_obj (requester, "practitioner"), "reference")));
      bundle_add (entries, added, base, lookup_ref (found, pd_json_str (pd_json_obj (mr, "encounter"), "reference")));
      bundle_add (entries, added, base, lookup_ref (found, pd_json_str (pd_json_obj (mr, "medicationReference"), "reference")));
    }
  bundle_add (entries, added, base, lookup_ref (found, patient_ref));
  g_hash_table_iter_init (&it, line_refs);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      GPtrArray *provenances = g_hash_table_lookup (found->by_target, key);

      for (guint i = 0; provenances != NULL && i < provenances->len; i++)
        bundle_add (entries, added, base, provenances->pdata[i]);
    }
  if (patient_ref != NULL)
    {
      g_autofree char *id = pd_fhir_ref_id (patient_ref, "Patient");
      g_autofree char *key_ref = id != NULL ? g_strconcat ("Patient/", id, NULL) : NULL;
      GPtrArray *own = key_ref != NULL ? g_hash_table_lookup (found->by_patient, key_ref) : NULL;
      g_autoptr(GHashTable) reasons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      gint64 latest[G_N_ELEMENTS (patient_codes)];

      for (guint i = 0; inputs != NULL && i < json_array_get_length (inputs); i++)
        add_reason_refs (reasons, lookup_ref (found, pd_json_str (pd_json_obj (pd_json_arr_obj (inputs, i), "valueReference"),
                                                                  "reference")));
      /* What review.md reads of the patient's record, not all of it: a
       * chronic patient's history would otherwise grow every Bundle. */
      for (guint c = 0; c < G_N_ELEMENTS (patient_codes); c++)
        latest[c] = G_MININT64;
      for (guint i = 0; own != NULL && i < own->len; i++)
        {
          int c = patient_code (own->pdata[i]);

          if (c >= 0 && pd_fhir_observation_counts (own->pdata[i]))
            latest[c] = MAX (latest[c], pd_fhir_observation_time (own->pdata[i]));
        }
      for (guint i = 0; own != NULL && i < own->len; i++)
        {
          JsonObject *r = own->pdata[i];
          const char *type = pd_json_str (r, "resourceType");
          int c;

          if (g_strcmp0 (type, "AllergyIntolerance") == 0)
            bundle_add (entries, added, base, r);
          else if (g_strcmp0 (type, "Condition") == 0)
            {
              g_autofree char *ref = g_strconcat ("Condition/", pd_json_str (r, "id"), NULL);

              if (g_hash_table_contains (reasons, ref))
                bundle_add (entries, added, base, r);
            }
          else if (is_skin_test (r))
            {
              if (focuses_on (r, line_refs))
                bundle_add (entries, added, base, r);
            }
          else if ((c = patient_code (r)) >= 0 && pd_fhir_observation_counts (r) && pd_fhir_observation_time (r) == latest[c])
            bundle_add (entries, added, base, r);
        }
    }
  return pd_json_node_take (bundle);
}

/* One page of the queue, fetched with everything its Tasks need. */
typedef struct {
  JsonNode   *body;          /* the searchset; keeps the Tasks alive */
  GPtrArray  *tasks;         /* JsonObject* */
  GHashTable *by_ref;
  GPtrArray  *nodes;
  GHashTable *by_patient;
  GHashTable *by_target;
  Found       found;
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
  p->by_ref = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  p->by_patient = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  p->by_target = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  p->found = (Found) { p->by_ref, p->nodes, p->by_patient, p->by_target };
  p->prepared = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) pd_rx_prepared_free);
  return p;
}

static void
page_free (Page *p)
{
  g_hash_table_unref (p->prepared);
  g_clear_pointer (&p->body, json_node_unref);
  g_ptr_array_unref (p->tasks);
  g_hash_table_unref (p->by_patient);
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

/* The fetching half of the pull, on its own thread: pages and what their
 * Tasks need, two pages ahead of the storing half at most, so that the
 * hospital's answers and our storing overlap. */
typedef struct {
  PdHospitalLink *link;
  GCancellable   *cancellable;
  char           *first;
  char           *cursor;
  gint64          cursor_us;
  GAsyncQueue    *pages;
  GMutex          lock;
  GCond           cond;
  guint           ahead;
} Fetcher;

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
      if (updated != NULL && pd_time_parse_fhir (updated, FALSE, &us) && us > f->cursor_us)
        {
          f->cursor_us = us;
          g_free (f->cursor);
          f->cursor = g_strdup (updated);
        }
    }
  p->cursor = g_strdup (f->cursor);
  p->next = g_strdup (pd_fhir_next_link (json_node_get_object (p->body)));
  if (p->tasks->len > 0 && fetch_related (f->link, p->tasks, &p->found, f->cancellable, &p->error))
    index_found (&p->found);
  return p;
}

/* Assembling, sealing and the engine: on the storing thread, but outside
 * the transaction, while the fetching thread waits for the next page. */
static gboolean
prepare_page (PdHospitalLink *link,
              Page           *p,
              GError        **error)
{
  for (guint i = 0; i < p->tasks->len; i++)
    {
      g_autoptr(JsonNode) bundle = assemble (link, p->tasks->pdata[i], &p->found);
      PdRxPrepared *prepared = pd_rx_cache_prepare (link->session, link->kb, p->tasks->pdata[i], bundle, error);

      if (prepared == NULL)
        return FALSE;
      g_hash_table_insert (p->prepared, p->tasks->pdata[i], prepared);
    }
  return TRUE;
}

static gpointer
fetcher_main (gpointer data)
{
  Fetcher *f = data;
  g_autofree char *url = g_strdup (f->first);

  while (url != NULL)
    {
      Page *p;

      g_mutex_lock (&f->lock);
      while (f->ahead >= 2 && !g_cancellable_is_cancelled (f->cancellable))
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
  GThread *thread;
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
  g_mutex_init (&f.lock);
  g_cond_init (&f.cond);
  thread = g_thread_new ("pd-hospital-fetch", fetcher_main, &f);

  for (;;)
    {
      g_autoptr(Page) p = g_async_queue_pop (f.pages);
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
        }
      if (ok)
        {
          stats->pages++;
          stats->tasks_seen += p->tasks->len;
          if (!prepare_page (link, p, error) || !pd_store_write (store, write_page, &job, error))
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
  /* Pages fetched after a failure of ours. */
  {
    Page *rest;

    while ((rest = g_async_queue_try_pop (f.pages)) != NULL)
      page_free (rest);
  }
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  g_async_queue_unref (f.pages);
  g_mutex_clear (&f.lock);
  g_cond_clear (&f.cond);
  g_free (f.first);
  g_free (f.cursor);
  return ok;
}
