/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-patient-record"

#include "config.h"

#include "pd-fhir-reader.h"
#include "pd-json.h"
#include "pd-patient-record.h"
#include "pd-rx-cache.h"

/* A record older than this is fetched again, however fresh the hospital
 * says it is: a long pull must not review with a stale allergy list. */
#define MAX_AGE_US (10 * 60 * G_USEC_PER_SEC)

typedef struct {
  char  *text;
  GStrv  focus;    /* "MedicationRequest/id" */
} SkinTest;

struct _PdPatientRecord
{
  /* The fetching thread's, set once: what serves () reads. */
  gint64      as_of_us;
  gint64      fetched_us;
  GHashTable *condition_ids;  /* "Condition/id" */
  /* The preparing thread's: the searches' objects until the first pick
   * makes the texts from them. */
  GPtrArray  *searched;       /* JsonObject*, or NULL once the texts are made */
  GPtrArray  *always;         /* char*: allergies, latest observation of each kind */
  GArray     *skin_tests;     /* SkinTest */
  GHashTable *conditions;     /* "Condition/id" → char* */
};

/* The patient observations review.md reads: weight, pregnancy, lactation
 * (the latest countable one of each decides), and skin tests (by line). */
static const char *patient_codes[] = { "29463-7", "82810-3", "63895-7" };

static int
patient_code (JsonObject *r)
{
  for (guint c = 0; c < G_N_ELEMENTS (patient_codes); c++)
    if (pd_fhir_codeable_has (pd_json_obj (r, "code"), NULL, patient_codes[c]))
      return (int) c;
  return -1;
}

static gboolean
is_observation (JsonObject *r)
{
  return g_strcmp0 (pd_json_str (r, "resourceType"), "Observation") == 0;
}

static char *
text_of (JsonObject *r)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), r);

  return json_to_string (node, FALSE);
}

static GStrv
focus_refs (JsonObject *r)
{
  JsonArray *focus = pd_json_arr (r, "focus");
  g_autoptr(GStrvBuilder) refs = g_strv_builder_new ();

  for (guint i = 0; focus != NULL && i < json_array_get_length (focus); i++)
    {
      g_autofree char *id = pd_fhir_ref_id (pd_json_str (pd_json_arr_obj (focus, i), "reference"), "MedicationRequest");
      g_autofree char *ref = id != NULL ? g_strconcat ("MedicationRequest/", id, NULL) : NULL;

      if (ref != NULL)
        g_strv_builder_add (refs, ref);
    }
  return g_strv_builder_end (refs);
}

static void
skin_test_clear (SkinTest *s)
{
  g_free (s->text);
  g_strfreev (s->focus);
}

PdPatientRecord *
pd_patient_record_new (GPtrArray *resources,
                       gint64     as_of_us)
{
  PdPatientRecord *record = g_new0 (PdPatientRecord, 1);

  record->as_of_us = as_of_us;
  record->fetched_us = g_get_monotonic_time ();
  record->condition_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  record->searched = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  for (guint i = 0; resources != NULL && i < resources->len; i++)
    {
      JsonObject *r = resources->pdata[i];

      if (g_strcmp0 (pd_json_str (r, "resourceType"), "Condition") == 0 && pd_json_str (r, "id") != NULL)
        g_hash_table_add (record->condition_ids, g_strconcat ("Condition/", pd_json_str (r, "id"), NULL));
      g_ptr_array_add (record->searched, json_object_ref (r));
    }
  return record;
}

/* The texts, from the searches' objects, which then go. */
static void
make_texts (PdPatientRecord *record)
{
  GPtrArray *resources = record->searched;
  gint64 latest[G_N_ELEMENTS (patient_codes)];

  record->always = g_ptr_array_new_with_free_func (g_free);
  record->skin_tests = g_array_new (FALSE, FALSE, sizeof (SkinTest));
  g_array_set_clear_func (record->skin_tests, (GDestroyNotify) skin_test_clear);
  record->conditions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint c = 0; c < G_N_ELEMENTS (patient_codes); c++)
    latest[c] = G_MININT64;
  for (guint i = 0; i < resources->len; i++)
    {
      JsonObject *r = resources->pdata[i];
      int c = is_observation (r) ? patient_code (r) : -1;

      if (c >= 0 && pd_fhir_observation_counts (r))
        latest[c] = MAX (latest[c], pd_fhir_observation_time (r));
    }
  for (guint i = 0; i < resources->len; i++)
    {
      JsonObject *r = resources->pdata[i];
      const char *type = pd_json_str (r, "resourceType");
      int c;

      if (g_strcmp0 (type, "AllergyIntolerance") == 0)
        g_ptr_array_add (record->always, text_of (r));
      else if (g_strcmp0 (type, "Condition") == 0 && pd_json_str (r, "id") != NULL)
        g_hash_table_replace (record->conditions, g_strconcat ("Condition/", pd_json_str (r, "id"), NULL), text_of (r));
      else if (!is_observation (r))
        continue;
      else if (pd_fhir_codeable_has (pd_json_obj (r, "code"), "urn:pharmdesk:observation", "skin-test"))
        {
          SkinTest s = { text_of (r), focus_refs (r) };

          g_array_append_val (record->skin_tests, s);
        }
      /* Every one at the latest time: the review decides between equals. */
      else if ((c = patient_code (r)) >= 0 && pd_fhir_observation_counts (r) && pd_fhir_observation_time (r) == latest[c])
        g_ptr_array_add (record->always, text_of (r));
    }
  g_clear_pointer (&record->searched, g_ptr_array_unref);
}

void
pd_patient_record_free (PdPatientRecord *record)
{
  if (record == NULL)
    return;
  g_hash_table_unref (record->condition_ids);
  g_clear_pointer (&record->searched, g_ptr_array_unref);
  g_clear_pointer (&record->always, g_ptr_array_unref);
  g_clear_pointer (&record->skin_tests, g_array_unref);
  g_clear_pointer (&record->conditions, g_hash_table_unref);
  g_free (record);
}

gboolean
pd_patient_record_serves (const PdPatientRecord *record,
                          gint64                 task_updated_us,
                          GHashTable            *reasons)
{
  GHashTableIter it;
  gpointer key;

  if (record->as_of_us < task_updated_us || g_get_monotonic_time () - record->fetched_us > MAX_AGE_US)
    return FALSE;
  g_hash_table_iter_init (&it, reasons);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!g_hash_table_contains (record->condition_ids, key))
      return FALSE;
  return TRUE;
}

static void
take_parsed (GPtrArray  *out,
             const char *text)
{
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  /* Our own json_to_string () output: it parses. */
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    g_ptr_array_add (out, json_object_ref (json_node_get_object (node)));
}

GPtrArray *
pd_patient_record_pick (PdPatientRecord *record,
                        GHashTable      *line_refs,
                        GHashTable      *reasons)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  GHashTableIter it;
  gpointer key;

  if (record->searched != NULL)
    make_texts (record);
  for (guint i = 0; i < record->always->len; i++)
    take_parsed (out, record->always->pdata[i]);
  for (guint i = 0; i < record->skin_tests->len; i++)
    {
      SkinTest *s = &g_array_index (record->skin_tests, SkinTest, i);

      for (guint f = 0; s->focus[f] != NULL; f++)
        if (g_hash_table_contains (line_refs, s->focus[f]))
          {
            take_parsed (out, s->text);
            break;
          }
    }
  g_hash_table_iter_init (&it, reasons);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      const char *text = g_hash_table_lookup (record->conditions, key);

      if (text != NULL)
        take_parsed (out, text);
    }
  return out;
}
