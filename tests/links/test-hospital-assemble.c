/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Bundle a pull assembles for one Task out of its page's searches:
 * what goes in, once each, and every resource's text exactly as the
 * hospital sent it (numbers, escapes and member order untouched). */
#include "config.h"

#include <string.h>

#include "pd-fhir-reader.h"
#include "pd-hospital-private.h"
#include "pd-patient-record.h"

/* Written as json-glib would never write them: 2.50, an escaped name, a
 * space after a colon. */
#define MR1 "{\"resourceType\":\"MedicationRequest\",\"id\":\"mr1\",\"status\":\"active\"," \
            "\"subject\":{\"reference\":\"Patient/p1\"},\"requester\":{\"reference\":\"PractitionerRole/r1\"}," \
            "\"encounter\":{\"reference\":\"Encounter/e1\"},\"reasonReference\":[{\"reference\":\"Condition/c1\"}]," \
            "\"dosageInstruction\":[{\"doseAndRate\":[{\"doseQuantity\":{\"value\":2.50,\"unit\":\"mg\"}}]}]}"
#define MR2 "{\"resourceType\":\"MedicationRequest\",\"id\":\"mr2\",\"subject\":{\"reference\":\"Patient/p1\"}," \
            "\"requester\":{\"reference\":\"PractitionerRole/r1\"}}"
#define MR_OTHER "{\"resourceType\":\"MedicationRequest\",\"id\":\"mr9\",\"subject\":{\"reference\":\"Patient/p2\"}}"
#define PATIENT "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"name\":[{\"text\":\"\\u5f20\\u4e09 \\\"\\u5c0f\\u5f20\\\"\"}]}"
#define ROLE "{\"resourceType\":\"PractitionerRole\",\"id\":\"r1\",\"practitioner\":{\"reference\":\"Practitioner/d1\"}}"
#define DOCTOR "{\"resourceType\":\"Practitioner\",\"id\":\"d1\", \"name\": [{\"family\":\"李\"}]}"
#define ENCOUNTER "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"class\":{\"code\":\"VR\"}}"
#define SIGNATURE "{\"resourceType\":\"Provenance\",\"id\":\"s1\",\"target\":[{\"reference\":\"MedicationRequest/mr1\"}," \
                  "{\"reference\":\"MedicationRequest/mr2\"}]}"
#define OTHER_SIGNATURE "{\"resourceType\":\"Provenance\",\"id\":\"s9\",\"target\":[{\"reference\":\"MedicationRequest/mr9\"}]}"
#define CONDITION "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"subject\":{\"reference\":\"Patient/p1\"},\"code\":{\"text\":\"高血压\"}}"
#define OLD_CONDITION "{\"resourceType\":\"Condition\",\"id\":\"c2\",\"subject\":{\"reference\":\"Patient/p1\"}}"
#define ALLERGY "{\"resourceType\":\"AllergyIntolerance\",\"id\":\"a1\",\"patient\":{\"reference\":\"Patient/p1\"}," \
                "\"code\":{\"text\":\"青霉素\"}}"
#define TASK "{\"resourceType\":\"Task\",\"id\":\"t1\",\"for\":{\"reference\":\"Patient/p1\"}," \
             "\"input\":[{\"valueReference\":{\"reference\":\"MedicationRequest/mr1\"}}," \
             "{\"valueReference\":{\"reference\":\"MedicationRequest/mr2\"}}]}"

static PdJsonDoc *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  PdJsonDoc *doc = pd_json_doc_parse (text, strlen (text), &error);

  g_assert_no_error (error);
  return doc;
}

static PdJsonDoc *
searchset (const char *first,
           ...)
{
  GString *s = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[");
  va_list ap;

  va_start (ap, first);
  for (const char *r = first; r != NULL; r = va_arg (ap, const char *))
    g_string_append_printf (s, "%s{\"resource\":%s}", r != first ? "," : "", r);
  va_end (ap);
  g_string_append (s, "]}");
  {
    g_autofree char *text = g_string_free (s, FALSE);

    return parse (text);
  }
}

/* The text of the entry for ref in bundle, or NULL. */
static char *
entry_text (const PdJv *bundle,
            const char *ref)
{
  const PdJv *entries = pd_jv_arr (bundle, "entry");
  char *found = NULL;

  for (const PdJv *e = pd_jv_first (entries); e != NULL; e = pd_jv_next (entries, e))
    if (g_strcmp0 (pd_jv_str (e, "fullUrl"), ref) == 0)
      {
        gsize len;
        const char *text = pd_jv_text (pd_jv_obj (e, "resource"), &len);

        g_assert_null (found);   /* once */
        found = g_strndup (text, len);
      }
  return found;
}

static void
assert_entry (const PdJv *bundle,
              const char *ref,
              const char *text)
{
  g_autofree char *got = entry_text (bundle, ref);

  g_assert_cmpstr (got, ==, text);
}

static void
test_assemble (void)
{
  g_auto(PdHospitalFound) found = { 0 };
  g_autoptr(PdJsonDoc) task_doc = parse (TASK);
  g_autoptr(PdJsonDoc) records_doc = searchset (CONDITION, OLD_CONDITION, ALLERGY, NULL);
  g_autoptr(GPtrArray) resources = g_ptr_array_new ();
  g_autoptr(PdPatientRecord) record = NULL;
  g_autoptr(GHashTable) page_records = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(PdJsonDoc) assembled = NULL;
  g_autofree char *text = NULL;
  const PdJv *bundle, *entries;

  pd_hospital_found_init (&found);
  pd_hospital_found_take (&found, searchset (MR1, MR2, MR_OTHER, PATIENT, ROLE, DOCTOR, ENCOUNTER, NULL));
  /* The next search brings the patient again, and the signatures. */
  pd_hospital_found_take (&found, searchset (PATIENT, SIGNATURE, OTHER_SIGNATURE, SIGNATURE, NULL));
  entries = pd_jv_arr (pd_json_doc_root (records_doc), "entry");
  for (const PdJv *e = pd_jv_first (entries); e != NULL; e = pd_jv_next (entries, e))
    g_ptr_array_add (resources, (gpointer) pd_jv_obj (e, "resource"));
  record = pd_patient_record_new (resources, G_MAXINT64);
  g_clear_pointer (&records_doc, pd_json_doc_unref);   /* the record keeps its own texts */
  g_hash_table_insert (page_records, "Patient/p1", record);

  text = pd_hospital_assemble (pd_json_doc_root (task_doc), &found, page_records);
  assembled = parse (text);
  bundle = pd_json_doc_root (assembled);
  g_assert_cmpstr (pd_jv_str (bundle, "resourceType"), ==, "Bundle");
  g_assert_cmpstr (pd_jv_str (bundle, "type"), ==, "collection");
  assert_entry (bundle, "MedicationRequest/mr1", MR1);
  assert_entry (bundle, "MedicationRequest/mr2", MR2);
  assert_entry (bundle, "Patient/p1", PATIENT);
  assert_entry (bundle, "PractitionerRole/r1", ROLE);
  assert_entry (bundle, "Practitioner/d1", DOCTOR);
  assert_entry (bundle, "Encounter/e1", ENCOUNTER);
  assert_entry (bundle, "Provenance/s1", SIGNATURE);
  assert_entry (bundle, "Condition/c1", CONDITION);
  assert_entry (bundle, "AllergyIntolerance/a1", ALLERGY);
  /* Another patient's line and signature, and a condition no line cites, stay out. */
  assert_entry (bundle, "MedicationRequest/mr9", NULL);
  assert_entry (bundle, "Provenance/s9", NULL);
  assert_entry (bundle, "Condition/c2", NULL);
  g_assert_cmpuint (pd_jv_len (pd_jv_arr (bundle, "entry")), ==, 9);
  /* The escaped name reads back as written. */
  g_assert_cmpstr (pd_jv_str (pd_jv_at_obj (pd_jv_arr (pd_fhir_bundle_resource (bundle, "Patient", "p1"), "name"), 0), "text"),
                   ==, "张三 \"小张\"");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hospital/assemble", test_assemble);
  return g_test_run ();
}
