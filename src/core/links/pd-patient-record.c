/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-patient-record"

#include "config.h"

#include "pd-fhir-reader.h"
#include "pd-json-doc.h"
#include "pd-patient-record.h"
#include "pd-rx-cache.h"

/* A record older than this is fetched again, however fresh the hospital
 * says it is: a long pull must not review with a stale allergy list. */
#define MAX_AGE_US (10 * 60 * G_USEC_PER_SEC)

typedef struct {
  PdRecordEntry entry;
  GStrv         focus;    /* "MedicationRequest/id" */
} SkinTest;

struct _PdPatientRecord
{
  gint64      as_of_us;
  gint64      fetched_us;
  GArray     *always;         /* PdRecordEntry: allergies, latest observation of each kind */
  GArray     *skin_tests;     /* SkinTest */
  GHashTable *conditions;     /* "Condition/id" → PdRecordEntry* */
};

/* The patient observations review.md reads: weight, pregnancy, lactation
 * (the latest countable one of each decides), and skin tests (by line). */
static const char *patient_codes[] = { "29463-7", "82810-3", "63895-7" };

static int
patient_code (const PdJv *r)
{
  for (guint c = 0; c < G_N_ELEMENTS (patient_codes); c++)
    if (pd_fhir_codeable_has (pd_jv_obj (r, "code"), NULL, patient_codes[c]))
      return (int) c;
  return -1;
}

static gboolean
is_observation (const PdJv *r)
{
  return g_strcmp0 (pd_jv_str (r, "resourceType"), "Observation") == 0;
}

static PdRecordEntry
entry_of (const PdJv *r)
{
  gsize len;
  const char *text = pd_jv_text (r, &len);

  return (PdRecordEntry) { g_strconcat (pd_jv_str (r, "resourceType"), "/", pd_jv_str (r, "id"), NULL), g_strndup (text, len) };
}

static void
entry_clear (PdRecordEntry *e)
{
  g_free (e->ref);
  g_free (e->text);
}

static void
entry_free (PdRecordEntry *e)
{
  entry_clear (e);
  g_free (e);
}

static GStrv
focus_refs (const PdJv *r)
{
  const PdJv *focus = pd_jv_arr (r, "focus");
  g_autoptr(GStrvBuilder) refs = g_strv_builder_new ();

  for (const PdJv *f = pd_jv_first (focus); f != NULL; f = pd_jv_next (focus, f))
    {
      g_autofree char *id = pd_fhir_ref_id (pd_jv_str (f, "reference"), "MedicationRequest");
      g_autofree char *ref = id != NULL ? g_strconcat ("MedicationRequest/", id, NULL) : NULL;

      if (ref != NULL)
        g_strv_builder_add (refs, ref);
    }
  return g_strv_builder_end (refs);
}

static void
skin_test_clear (SkinTest *s)
{
  entry_clear (&s->entry);
  g_strfreev (s->focus);
}

PdPatientRecord *
pd_patient_record_new (GPtrArray *resources,
                       gint64     as_of_us)
{
  PdPatientRecord *record = g_new0 (PdPatientRecord, 1);
  gint64 latest[G_N_ELEMENTS (patient_codes)];

  record->as_of_us = as_of_us;
  record->fetched_us = g_get_monotonic_time ();
  record->always = g_array_new (FALSE, FALSE, sizeof (PdRecordEntry));
  g_array_set_clear_func (record->always, (GDestroyNotify) entry_clear);
  record->skin_tests = g_array_new (FALSE, FALSE, sizeof (SkinTest));
  g_array_set_clear_func (record->skin_tests, (GDestroyNotify) skin_test_clear);
  record->conditions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) entry_free);
  for (guint c = 0; c < G_N_ELEMENTS (patient_codes); c++)
    latest[c] = G_MININT64;
  for (guint i = 0; resources != NULL && i < resources->len; i++)
    {
      const PdJv *r = resources->pdata[i];
      int c = is_observation (r) ? patient_code (r) : -1;

      if (c >= 0 && pd_fhir_observation_counts (r))
        latest[c] = MAX (latest[c], pd_fhir_observation_time (r));
    }
  for (guint i = 0; resources != NULL && i < resources->len; i++)
    {
      const PdJv *r = resources->pdata[i];
      const char *type = pd_jv_str (r, "resourceType");
      PdRecordEntry e;
      int c;

      if (pd_jv_str (r, "id") == NULL)
        continue;
      if (g_strcmp0 (type, "AllergyIntolerance") == 0)
        {
          e = entry_of (r);
          g_array_append_val (record->always, e);
        }
      else if (g_strcmp0 (type, "Condition") == 0)
        {
          PdRecordEntry *condition = g_new (PdRecordEntry, 1);

          *condition = entry_of (r);
          g_hash_table_replace (record->conditions, condition->ref, condition);
        }
      else if (!is_observation (r))
        continue;
      else if (pd_fhir_codeable_has (pd_jv_obj (r, "code"), "urn:pharmdesk:observation", "skin-test"))
        {
          SkinTest s = { entry_of (r), focus_refs (r) };

          g_array_append_val (record->skin_tests, s);
        }
      /* Every one at the latest time: the review decides between equals. */
      else if ((c = patient_code (r)) >= 0 && pd_fhir_observation_counts (r) && pd_fhir_observation_time (r) == latest[c])
        {
          e = entry_of (r);
          g_array_append_val (record->always, e);
        }
    }
  return record;
}

void
pd_patient_record_free (PdPatientRecord *record)
{
  if (record == NULL)
    return;
  g_array_unref (record->always);
  g_array_unref (record->skin_tests);
  g_hash_table_unref (record->conditions);
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
    if (!g_hash_table_contains (record->conditions, key))
      return FALSE;
  return TRUE;
}

GPtrArray *
pd_patient_record_pick (const PdPatientRecord *record,
                        GHashTable            *line_refs,
                        GHashTable            *reasons)
{
  GPtrArray *out = g_ptr_array_new ();
  GHashTableIter it;
  gpointer key;

  for (guint i = 0; i < record->always->len; i++)
    g_ptr_array_add (out, &g_array_index (record->always, PdRecordEntry, i));
  for (guint i = 0; i < record->skin_tests->len; i++)
    {
      SkinTest *s = &g_array_index (record->skin_tests, SkinTest, i);

      for (guint f = 0; s->focus[f] != NULL; f++)
        if (g_hash_table_contains (line_refs, s->focus[f]))
          {
            g_ptr_array_add (out, &s->entry);
            break;
          }
    }
  g_hash_table_iter_init (&it, reasons);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      PdRecordEntry *condition = g_hash_table_lookup (record->conditions, key);

      if (condition != NULL)
        g_ptr_array_add (out, condition);
    }
  return out;
}
