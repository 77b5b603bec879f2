/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-hospital-related"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-hospital-private.h"
#include "pd-patient-record.h"
#include "pd-rx-cache.h"

/* What a page of Tasks needs from the hospital besides the Tasks — the
 * lines with their patient, prescriber, encounter and medication, the
 * signature Provenances, the patients' records — in the batched standard
 * searches of hospital.md, and the Bundle of one Task assembled from it. */

#define OBSERVATION_CODES "29463-7,82810-3,63895-7,urn%3Apharmdesk%3Aobservation%7Cskin-test"
#define BATCH 40     /* ids per search */

static void
index_under (GHashTable *index,
             char       *key,          /* taken */
             const PdJv *resource)
{
  GPtrArray *list = g_hash_table_lookup (index, key);

  if (list == NULL)
    {
      list = g_ptr_array_new ();
      g_hash_table_insert (index, key, list);
    }
  else
    g_free (key);
  g_ptr_array_add (list, (gpointer) resource);
}

void
pd_hospital_found_init (PdHospitalFound *found)
{
  found->by_ref = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  found->docs = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_json_doc_unref);
  found->by_target = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  found->as_of_us = G_MAXINT64;
}

void
pd_hospital_found_clear (PdHospitalFound *found)
{
  g_clear_pointer (&found->by_target, g_hash_table_unref);
  g_clear_pointer (&found->by_ref, g_hash_table_unref);
  g_clear_pointer (&found->docs, g_ptr_array_unref);
}

/* When the hospital assembled a searchset: Bundle.timestamp, else its
 * meta.lastUpdated; G_MININT64 when it says neither. */
static gint64
searchset_time (const PdJv *bundle)
{
  const char *when = pd_jv_str (bundle, "timestamp");
  gint64 us;

  if (when == NULL)
    when = pd_jv_str (pd_jv_obj (bundle, "meta"), "lastUpdated");
  return when != NULL && pd_time_parse_fhir (when, FALSE, &us) ? us : G_MININT64;
}

static void
found_add (PdHospitalFound *found,
           const PdJv      *resource)
{
  const char *type = pd_jv_str (resource, "resourceType");
  const char *id = pd_jv_str (resource, "id");
  const PdJv *targets = pd_jv_arr (resource, "target");

  if (type == NULL || id == NULL)
    return;
  /* Which line a signature is for; once, if another search brings it again. */
  if (!g_hash_table_replace (found->by_ref, g_strconcat (type, "/", id, NULL), (gpointer) resource)
      || !g_str_equal (type, "Provenance"))
    return;
  for (const PdJv *target = pd_jv_first (targets); target != NULL; target = pd_jv_next (targets, target))
    {
      g_autofree char *line = pd_fhir_ref_id (pd_jv_str (target, "reference"), "MedicationRequest");

      if (line != NULL)
        index_under (found->by_target, g_strconcat ("MedicationRequest/", line, NULL), resource);
    }
}

void
pd_hospital_found_take (PdHospitalFound *found,
                        PdJsonDoc       *searchset)
{
  const PdJv *bundle = pd_json_doc_root (searchset);
  const PdJv *entries = pd_jv_arr (bundle, "entry");

  for (const PdJv *entry = pd_jv_first (entries); entry != NULL; entry = pd_jv_next (entries, entry))
    {
      const PdJv *resource = pd_jv_obj (entry, "resource");

      if (resource != NULL)
        found_add (found, resource);
    }
  found->as_of_us = MIN (found->as_of_us, searchset_time (bundle));
  g_ptr_array_add (found->docs, searchset);
}

/* GET a searchset and every next page of it; each resource into found. */
static gboolean
search_all (PdHospitalLink  *link,
            const char      *query,
            PdHospitalFound *found,
            GCancellable    *cancellable,
            GError         **error)
{
  g_autofree char *next = g_strdup (query);

  while (next != NULL)
    {
      PdFhirAnswer answer;
      g_autofree char *url = g_steal_pointer (&next);
      const PdJv *bundle;

      if (!pd_fhir_client_read (link->client, url, &answer, cancellable, error))
        return FALSE;
      bundle = answer.doc != NULL ? pd_json_doc_root (answer.doc) : NULL;
      if (answer.status != 200 || pd_jv_type (bundle) != PD_JV_OBJECT)
        {
          g_autofree char *why = pd_fhir_answer_describe (&answer);

          g_set_error (error, PD_LINK_ERROR, answer.status >= 500 ? PD_LINK_ERROR_SERVER : PD_LINK_ERROR_REFUSED,
                       _("The hospital refused a search: %s"), why);
          pd_fhir_answer_clear (&answer);
          return FALSE;
        }
      next = g_strdup (pd_fhir_next_link (bundle));
      pd_hospital_found_take (found, g_steal_pointer (&answer.doc));
      pd_fhir_answer_clear (&answer);
    }
  return TRUE;
}

/* One search per BATCH values of a comma-separated parameter. */
static gboolean
search_batched (PdHospitalLink  *link,
                const char      *prefix,      /* "Condition?patient=" */
                const char      *suffix,      /* "" */
                GPtrArray       *values,      /* escaped already */
                PdHospitalFound *found,
                GCancellable    *cancellable,
                GError         **error)
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

static const PdJv *
lookup_ref (PdHospitalFound *found,
            const char      *reference)
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
patient_key (const PdJv *task)
{
  g_autofree char *id = pd_fhir_ref_id (pd_jv_str (pd_jv_obj (task, "for"), "reference"), "Patient");

  return id != NULL ? g_strconcat ("Patient/", id, NULL) : NULL;
}

/* The conditions ("Condition/id") a Task's lines give as their reasons. */
static GHashTable *
task_reasons (const PdJv      *task,
              PdHospitalFound *found)
{
  GHashTable *reasons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const PdJv *inputs = pd_jv_arr (task, "input");

  for (guint i = 0; inputs != NULL && i < pd_jv_len (inputs); i++)
    {
      const PdJv *mr = lookup_ref (found, pd_jv_str (pd_jv_obj (pd_jv_at_obj (inputs, i), "valueReference"), "reference"));
      const PdJv *refs = pd_jv_arr (mr, "reasonReference");

      for (guint k = 0; refs != NULL && k < pd_jv_len (refs); k++)
        {
          g_autofree char *id = pd_fhir_ref_id (pd_jv_str (pd_jv_at_obj (refs, k), "reference"), "Condition");

          if (id != NULL)
            g_hash_table_add (reasons, g_strconcat ("Condition/", id, NULL));
        }
    }
  return reasons;
}

/* Whether the record of patient serves every Task of the page for them. */
static gboolean
record_serves (const PdPatientRecord *record,
               const char            *patient,
               GPtrArray             *tasks,
               PdHospitalFound       *found)
{
  for (guint t = 0; record != NULL && t < tasks->len; t++)
    {
      g_autofree char *key = patient_key (tasks->pdata[t]);
      const char *updated = pd_jv_str (pd_jv_obj (tasks->pdata[t], "meta"), "lastUpdated");
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
fetch_records (PdHospitalLink    *link,
               GPtrArray         *tasks,
               PdHospitalFound   *found,
               PdHospitalRecords *records,
               GHashTable        *page_records,
               GCancellable      *cancellable,
               GError           **error)
{
  g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func (g_free);    /* "Patient/id" */
  g_autoptr(GPtrArray) escaped = g_ptr_array_new_with_free_func (g_free);  /* "Patient%2Fid" */
  g_autoptr(GHashTable) by_patient = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  g_auto(PdHospitalFound) fresh = { 0 };
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
  pd_hospital_found_init (&fresh);
  if (!search_batched (link, "Condition?patient=", "", escaped, &fresh, cancellable, error)
      || !search_batched (link, "AllergyIntolerance?patient=", "", escaped, &fresh, cancellable, error)
      || !search_batched (link, "Observation?patient=", "&code=" OBSERVATION_CODES "", escaped, &fresh, cancellable, error))
    return FALSE;
  g_hash_table_iter_init (&it, fresh.by_ref);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      const PdJv *r = value;
      const char *member = g_strcmp0 (pd_jv_str (r, "resourceType"), "AllergyIntolerance") == 0 ? "patient" : "subject";
      g_autofree char *id = pd_fhir_ref_id (pd_jv_str (pd_jv_obj (r, member), "reference"), "Patient");

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

gboolean
pd_hospital_fetch_related (PdHospitalLink    *link,
                           GPtrArray         *tasks,
                           PdHospitalFound   *found,
                           PdHospitalRecords *records,
                           GHashTable        *page_records,
                           GCancellable      *cancellable,
                           GError           **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) lines = g_ptr_array_new ();
  g_autoptr(GPtrArray) targets = g_ptr_array_new ();

  for (guint t = 0; t < tasks->len; t++)
    {
      const PdJv *inputs = pd_jv_arr (tasks->pdata[t], "input");

      for (guint i = 0; inputs != NULL && i < pd_jv_len (inputs); i++)
        {
          const PdJv *input = pd_jv_at_obj (inputs, i);
          char *id = pd_fhir_ref_id (pd_jv_str (pd_jv_obj (input, "valueReference"), "reference"), "MedicationRequest");

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

/* The entry of resource (its JSON text as given) unless one for ref is in. */
static void
bundle_add_text (GString    *bundle,
                 GHashTable *added,
                 const char *ref,
                 const char *text,
                 gsize       len)
{
  if (!g_hash_table_add (added, g_strdup (ref)))
    return;
  if (g_hash_table_size (added) > 1)
    g_string_append_c (bundle, ',');
  g_string_append (bundle, "{\"fullUrl\":");
  pd_json_append_string (bundle, ref);
  g_string_append (bundle, ",\"resource\":");
  g_string_append_len (bundle, text, (gssize) len);
  g_string_append_c (bundle, '}');
}

static void
bundle_add (GString    *bundle,
            GHashTable *added,
            const PdJv *resource)
{
  g_autofree char *ref = NULL;
  const char *text;
  gsize len;

  if (resource == NULL)
    return;
  ref = g_strconcat (pd_jv_str (resource, "resourceType"), "/", pd_jv_str (resource, "id"), NULL);
  text = pd_jv_text (resource, &len);
  bundle_add_text (bundle, added, ref, text, len);
}

char *
pd_hospital_assemble (const PdJv      *task,
                      PdHospitalFound *found,
                      GHashTable      *page_records)
{
  GString *bundle = g_string_sized_new (8192);
  g_autoptr(GHashTable) added = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) line_refs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const PdJv *inputs = pd_jv_arr (task, "input");
  g_autofree char *patient = patient_key (task);
  PdPatientRecord *record = patient != NULL ? g_hash_table_lookup (page_records, patient) : NULL;
  GHashTableIter it;
  gpointer key;

  g_string_append (bundle, "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[");
  for (const PdJv *input = pd_jv_first (inputs); input != NULL; input = pd_jv_next (inputs, input))
    {
      const char *ref = pd_jv_str (pd_jv_obj (input, "valueReference"), "reference");
      const PdJv *mr = lookup_ref (found, ref);
      const PdJv *requester;

      if (mr == NULL)
        continue;
      g_hash_table_add (line_refs, g_strconcat ("MedicationRequest/", pd_jv_str (mr, "id"), NULL));
      bundle_add (bundle, added, mr);
      bundle_add (bundle, added, lookup_ref (found, pd_jv_str (pd_jv_obj (mr, "subject"), "reference")));
      requester = lookup_ref (found, pd_jv_str (pd_jv_obj (mr, "requester"), "reference"));
      bundle_add (bundle, added, requester);
      if (requester != NULL)
        bundle_add (bundle, added, lookup_ref (found, pd_jv_str (pd_jv_obj (requester, "practitioner"), "reference")));
      bundle_add (bundle, added, lookup_ref (found, pd_jv_str (pd_jv_obj (mr, "encounter"), "reference")));
      bundle_add (bundle, added, lookup_ref (found, pd_jv_str (pd_jv_obj (mr, "medicationReference"), "reference")));
    }
  bundle_add (bundle, added, lookup_ref (found, pd_jv_str (pd_jv_obj (task, "for"), "reference")));
  g_hash_table_iter_init (&it, line_refs);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      GPtrArray *provenances = g_hash_table_lookup (found->by_target, key);

      for (guint i = 0; provenances != NULL && i < provenances->len; i++)
        bundle_add (bundle, added, provenances->pdata[i]);
    }
  /* What review.md reads of the patient's record, not all of it: a
   * chronic patient's history would otherwise grow every Bundle. */
  if (record != NULL)
    {
      g_autoptr(GHashTable) reasons = task_reasons (task, found);
      g_autoptr(GPtrArray) picked = pd_patient_record_pick (record, line_refs, reasons);

      for (guint i = 0; i < picked->len; i++)
        {
          const PdRecordEntry *e = picked->pdata[i];

          bundle_add_text (bundle, added, e->ref, e->text, strlen (e->text));
        }
    }
  g_string_append (bundle, "]}");
  return g_string_free (bundle, FALSE);
}
