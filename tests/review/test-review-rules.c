/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-review-rules"

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-fhir-reader.h"
#include "pd-review-engine.h"

/* Every finding code of review.md fires, and does not fire, on small
 * Bundles made from one sound base prescription, against the sample
 * knowledge base. Review time: 2026-11-20T10:00:00+08:00. */

static PdKb *kb;

static const char *base =
  "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
  "{\"fullUrl\":\"urn:uuid:p1\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"female\",\"birthDate\":\"1980-06-15\"}},"
  "{\"fullUrl\":\"urn:uuid:dr1\",\"resource\":{\"resourceType\":\"Practitioner\",\"id\":\"dr1\",\"qualification\":["
  "  {\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:qualification\",\"code\":\"practice-license\"}]},\"period\":{\"start\":\"2015-01-01\",\"end\":\"2030-12-31\"}},"
  "  {\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:qualification\",\"code\":\"antimicrobial-1\"}]}}]}},"
  "{\"fullUrl\":\"urn:uuid:e1\",\"resource\":{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":\"finished\","
  "  \"class\":{\"code\":\"VR\"},\"type\":[{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"185389009\"}]}]}},"
  "{\"fullUrl\":\"urn:uuid:prov\",\"resource\":{\"resourceType\":\"Provenance\",\"id\":\"prov\","
  "  \"target\":[{\"reference\":\"MedicationRequest/mr-1\"},{\"reference\":\"MedicationRequest/mr-2\"},{\"reference\":\"MedicationRequest/mr-3\"},"
  "             {\"reference\":\"MedicationRequest/mr-4\"},{\"reference\":\"MedicationRequest/mr-5\"},{\"reference\":\"MedicationRequest/mr-6\"}],"
  "  \"signature\":[{\"data\":\"c2lnbmF0dXJl\"}]}}"
  "]}";

/* A line: drug code, dose and unit, times a day, route, days, ICD-10 code. */
static JsonObject *
line (const char *id,
      const char *code,
      double      dose,
      const char *unit,
      int         per_day,
      const char *route,
      int         days,
      const char *icd)
{
  g_autofree char *text = g_strdup_printf (
    "{\"resourceType\":\"MedicationRequest\",\"id\":\"%s\",\"status\":\"active\",\"intent\":\"order\","
    "\"groupIdentifier\":{\"system\":\"urn:hospital:rx\",\"value\":\"RX\"},"
    "\"medicationCodeableConcept\":{\"coding\":[{\"system\":\"urn:pharmdesk:product-code\",\"code\":\"%s\"}]},"
    "\"subject\":{\"reference\":\"Patient/p1\"},\"encounter\":{\"reference\":\"Encounter/e1\"},"
    "\"requester\":{\"reference\":\"Practitioner/dr1\"},\"authoredOn\":\"2026-11-20T09:00:00+08:00\","
    "\"reasonCode\":[{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10\",\"code\":\"%s\"}]}],"
    "\"dosageInstruction\":[{\"timing\":{\"repeat\":{\"frequency\":%d,\"period\":1,\"periodUnit\":\"d\"}},"
    "\"route\":{\"text\":\"%s\"},\"doseAndRate\":[{\"doseQuantity\":{\"value\":%g,\"unit\":\"%s\"}}]}],"
    "\"dispenseRequest\":{\"expectedSupplyDuration\":{\"value\":%d,\"unit\":\"d\"},\"quantity\":{\"value\":10,\"unit\":\"tablet\"}}}",
    id, code, icd, per_day, route, dose, unit, days);
  g_autoptr(JsonParser) p = json_parser_new ();

  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

typedef struct {
  JsonNode *root;
} Bundle;

static Bundle *
bundle_new (void)
{
  Bundle *b = g_new0 (Bundle, 1);
  g_autoptr(JsonParser) p = json_parser_new ();

  g_assert_true (json_parser_load_from_data (p, base, -1, NULL));
  b->root = json_node_ref (json_parser_get_root (p));
  return b;
}

static void
bundle_free (Bundle *b)
{
  json_node_unref (b->root);
  g_free (b);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Bundle, bundle_free)

static void
add_resource (Bundle     *b,
              JsonObject *resource)
{
  JsonArray *entries = json_object_get_array_member (json_node_get_object (b->root), "entry");
  JsonObject *entry = json_object_new ();

  json_object_set_object_member (entry, "resource", resource);
  json_array_add_object_element (entries, entry);
}

static void
add_json (Bundle     *b,
          const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new ();

  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  add_resource (b, json_object_ref (json_node_get_object (json_parser_get_root (p))));
}

static JsonObject *
find (Bundle     *b,
      const char *type,
      const char *id)
{
  JsonArray *entries = json_object_get_array_member (json_node_get_object (b->root), "entry");

  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *r = json_object_get_object_member (json_array_get_object_element (entries, i), "resource");

      if (g_str_equal (json_object_get_string_member (r, "resourceType"), type)
          && g_str_equal (json_object_get_string_member (r, "id"), id))
        return r;
    }
  g_assert_not_reached ();
}

typedef struct {
  GPtrArray *rxs;
  PdReview  *review;
} Result;

static void
result_free (Result *r)
{
  pd_review_free (r->review);
  g_ptr_array_unref (r->rxs);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Result, result_free)

static gboolean
dispensed_rx (const char *system,
              const char *value,
              gpointer    data)
{
  return g_strcmp0 (value, data) == 0;
}

static Result *
review_at (Bundle     *b,
           const char *now,
           gpointer    dispensed)
{
  Result *r = g_new0 (Result, 1);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now_us = 0;

  json_generator_set_root (gen, b->root);
  text = json_generator_to_data (gen, NULL);
  r->rxs = pd_fhir_read_prescriptions (text, strlen (text), kb, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->rxs->len, ==, 1);
  g_assert_true (pd_time_parse_iso (now, &now_us, NULL));
  r->review = pd_review_run (kb, r->rxs->pdata[0], now_us, dispensed != NULL ? dispensed_rx : NULL, dispensed);
  return r;
}

static Result *
review (Bundle *b)
{
  return review_at (b, "2026-11-20T10:00:00+08:00", NULL);
}

/* The finding of that code on those lines ("mr-1,mr-2"), or NULL. */
static const PdFinding *
finding (Result     *r,
         const char *code,
         const char *lines,
         const char *population)
{
  for (guint i = 0; i < r->review->findings->len; i++)
    {
      const PdFinding *f = r->review->findings->pdata[i];
      GString *ids = g_string_new (NULL);
      gboolean match;

      for (guint l = 0; l < f->lines->len; l++)
        g_string_append_printf (ids, "%s%s", l > 0 ? "," : "", ((const PdRxLine *) f->lines->pdata[l])->id);
      match = g_str_equal (f->code, code) && g_str_equal (ids->str, lines) && g_strcmp0 (f->population, population) == 0;
      g_string_free (ids, TRUE);
      if (match)
        return f;
    }
  return NULL;
}

static void
assert_finding (Result     *r,
                const char *code,
                const char *lines,
                const char *population,
                PdSeverity  severity)
{
  const PdFinding *f = finding (r, code, lines, population);

  if (f == NULL)
    {
      GString *all = g_string_new (NULL);

      for (guint i = 0; i < r->review->findings->len; i++)
        g_string_append_printf (all, " %s", ((const PdFinding *) r->review->findings->pdata[i])->code);
      g_error ("no %s on %s (findings:%s)", code, lines, all->str);
    }
  g_assert_cmpstr (pd_severity_to_string (f->severity), ==, pd_severity_to_string (severity));
}

static void
assert_no (Result     *r,
           const char *code)
{
  for (guint i = 0; i < r->review->findings->len; i++)
    if (g_str_equal (((const PdFinding *) r->review->findings->pdata[i])->code, code))
      g_error ("unexpected %s", code);
}

static Bundle *
with_line (const char *code,
           double      dose,
           const char *unit,
           int         per_day,
           int         days,
           const char *icd)
{
  Bundle *b = bundle_new ();

  add_resource (b, line ("mr-1", code, dose, unit, per_day, "oral", days, icd));
  return b;
}

/* --- the base is sound ---------------------------------------------------------- */

static void
test_pass (void)
{
  g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 7, "I10");
  g_autoptr(Result) r = review (b);

  g_assert_cmpstr (r->review->verdict, ==, "pass");
  g_assert_cmpuint (r->review->findings->len, ==, 0);
}

/* --- prescription scope ------------------------------------------------------------- */

static void
test_prescriber_unqualified (void)
{
  g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 7, "I10");
  g_autoptr(Result) ok = review (b);
  g_autoptr(Result) r = NULL;
  JsonObject *dr = find (b, "Practitioner", "dr1");
  JsonObject *period = json_object_get_object_member (json_array_get_object_element (json_object_get_array_member (dr, "qualification"), 0), "period");

  assert_no (ok, "prescriber-unqualified");
  /* A licence that ended the day before. */
  json_object_set_string_member (period, "end", "2026-11-19");
  r = review (b);
  assert_finding (r, "prescriber-unqualified", "mr-1", NULL, PD_SEVERITY_BLOCK);
  g_clear_pointer (&r, result_free);
  /* A date-only end is inclusive. */
  json_object_set_string_member (period, "end", "2026-11-20");
  r = review (b);
  assert_no (r, "prescriber-unqualified");
}

static void
test_first_visit_online (void)
{
  g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 7, "I10");
  JsonObject *e = find (b, "Encounter", "e1");
  g_autoptr(Result) r = NULL;

  json_object_remove_member (e, "type");
  r = review (b);
  assert_finding (r, "first-visit-online", "mr-1", NULL, PD_SEVERITY_BLOCK);
  g_clear_pointer (&r, result_free);
  /* Not online: a first visit in person is not this rule's business. */
  json_object_set_object_member (e, "class", json_object_new ());
  json_object_set_string_member (json_object_get_object_member (e, "class"), "code", "AMB");
  r = review (b);
  assert_no (r, "first-visit-online");
}

static void
test_validity (void)
{
  g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 7, "I10");
  JsonObject *mr = find (b, "MedicationRequest", "mr-1");
  JsonObject *dispense = json_object_get_object_member (mr, "dispenseRequest");
  JsonObject *validity = json_object_new ();
  g_autoptr(Result) same_day = review_at (b, "2026-11-20T23:59:59+08:00", NULL);
  g_autoptr(Result) next_day = review_at (b, "2026-11-21T00:00:00+08:00", NULL);
  g_autoptr(Result) utc = review_at (b, "2026-11-20T15:59:59Z", NULL);
  g_autoptr(Result) utc_late = review_at (b, "2026-11-20T16:00:01Z", NULL);
  g_autoptr(Result) capped = NULL;
  g_autoptr(Result) in_cap = NULL;

  assert_no (same_day, "prescription-expired");
  assert_finding (next_day, "prescription-expired", "mr-1", NULL, PD_SEVERITY_BLOCK);
  /* China time whatever the offset written. */
  assert_no (utc, "prescription-expired");
  assert_finding (utc_late, "prescription-expired", "mr-1", NULL, PD_SEVERITY_BLOCK);

  /* A validity of a week is capped at the issue date + 2 days. */
  json_object_set_string_member (validity, "end", "2026-11-27");
  json_object_set_object_member (dispense, "validityPeriod", validity);
  in_cap = review_at (b, "2026-11-22T23:59:59+08:00", NULL);
  capped = review_at (b, "2026-11-23T00:00:01+08:00", NULL);
  assert_no (in_cap, "prescription-expired");
  assert_finding (capped, "prescription-expired", "mr-1", NULL, PD_SEVERITY_BLOCK);
}

static void
test_too_many_drugs (void)
{
  g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 7, "I10");
  g_autoptr(Result) five = NULL;
  g_autoptr(Result) six = NULL;
  g_autoptr(Result) one_cancelled = NULL;
  const char *codes[] = { "YP0016", "YP0025", "YP0007", "YP0027", "YP0002" };
  const char *icd[] = { "K21", "J30", "E11", "R50", "I25" };

  for (int i = 0; i < 4; i++)
    {
      g_autofree char *id = g_strdup_printf ("mr-%d", i + 2);
      add_resource (b, line (id, codes[i], 1, "tablet", 1, "oral", 7, icd[i]));
    }
  five = review (b);
  assert_no (five, "too-many-drugs");
  add_resource (b, line ("mr-6", codes[4], 1, "tablet", 1, "oral", 7, icd[4]));
  six = review (b);
  assert_finding (six, "too-many-drugs", "mr-1,mr-2,mr-3,mr-4,mr-5,mr-6", NULL, PD_SEVERITY_BLOCK);
  /* A cancelled line is not a drug to dispense. */
  json_object_set_string_member (find (b, "MedicationRequest", "mr-6"), "status", "cancelled");
  one_cancelled = review (b);
  assert_no (one_cancelled, "too-many-drugs");
}

static void
test_reused (void)
{
  g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 7, "I10");
  g_autoptr(Result) r = review_at (b, "2026-11-20T10:00:00+08:00", "RX");
  g_autoptr(Result) other = review_at (b, "2026-11-20T10:00:00+08:00", "RX-OTHER");

  assert_finding (r, "prescription-reused", "mr-1", NULL, PD_SEVERITY_BLOCK);
  assert_no (other, "prescription-reused");
}

static void
test_missing_elements (void)
{
  g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 7, "I10");
  JsonObject *mr = find (b, "MedicationRequest", "mr-1");
  JsonObject *patient = find (b, "Patient", "p1");
  g_autoptr(Result) r = NULL;
  const PdFinding *f;
  g_autofree char *message = NULL;

  json_object_remove_member (mr, "reasonCode");
  json_object_remove_member (json_object_get_object_member (json_array_get_object_element (
    json_object_get_array_member (mr, "dosageInstruction"), 0), "timing"), "repeat");
  json_object_remove_member (patient, "gender");
  r = review (b);
  /* One line: the prescription's and the line's defects are one finding. */
  f = finding (r, "missing-element", "mr-1", NULL);
  g_assert_nonnull (f);
  g_assert_cmpuint (f->defects->len, ==, 3);
  message = pd_finding_message (f, "zh_CN");
  g_assert_nonnull (strstr (message, "诊断"));
  g_assert_nonnull (strstr (message, "性别"));
  g_assert_cmpstr (r->review->verdict, ==, "reject");
}

/* A birth date that names no real day cannot give an age: it is a missing
 * birthDate (block), never a crash or a guessed age (fuzzing found
 * "1990-13"). A partial date stays readable. */
static void
test_unreadable_birth_date (void)
{
  const char *bad[] = { "1990-13", "1990-02-30", "1990-00-10", "199", "1990-1-01", "1990-01-01T00:00:00", "１９９０", "1700-01-01" };
  const char *good[] = { "1990", "1990-02", "2000-02-29" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 7, "I10");
      g_autoptr(Result) r = NULL;
      const PdFinding *f;

      json_object_set_string_member (find (b, "Patient", "p1"), "birthDate", bad[i]);
      r = review (b);
      f = finding (r, "missing-element", "mr-1", NULL);
      g_assert_nonnull (f);
      g_assert_cmpuint (f->defects->len, ==, 1);
      g_assert_cmpstr (f->defects->pdata[0], ==, "birthDate");
      g_assert_cmpstr (r->review->verdict, ==, "reject");
    }
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 7, "I10");
      g_autoptr(Result) r = NULL;

      json_object_set_string_member (find (b, "Patient", "p1"), "birthDate", good[i]);
      r = review (b);
      assert_no (r, "missing-element");
    }
}

static void
test_missing_weight_is_major (void)
{
  g_autoptr(Bundle) b = with_line ("YP0027", 250, "mg", 4, 3, "R50");
  g_autoptr(Result) r = NULL;
  g_autoptr(Result) weighed = NULL;

  json_object_set_string_member (find (b, "Patient", "p1"), "birthDate", "2020-03-01");
  r = review (b);
  assert_finding (r, "missing-element", "mr-1", NULL, PD_SEVERITY_MAJOR);
  add_json (b, "{\"resourceType\":\"Observation\",\"id\":\"w\",\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p1\"},"
               "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"29463-7\"}]},\"valueQuantity\":{\"value\":20000,\"unit\":\"g\"}}");
  weighed = review (b);
  assert_no (weighed, "missing-element");
  /* 1000 mg a day > 60 mg/kg × 20 kg? No: 1200 allowed. */
  assert_no (weighed, "dose-exceeds-max");
}

static void
test_signature_missing (void)
{
  g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 7, "I10");
  g_autoptr(Result) r = NULL;
  JsonObject *prov = find (b, "Provenance", "prov");

  json_object_set_string_member (json_array_get_object_element (json_object_get_array_member (prov, "signature"), 0), "data", "");
  r = review (b);
  assert_finding (r, "signature-missing", "mr-1", NULL, PD_SEVERITY_BLOCK);
}

static void
test_prescriber_no_authority (void)
{
  g_autoptr(Bundle) b = with_line ("YP0006", 500, "mg", 1, 5, "N30");   /* levofloxacin, tier 2 */
  g_autoptr(Result) r = NULL;
  g_autoptr(Result) ok = NULL;
  g_autoptr(Result) morphine = NULL;
  JsonArray *quals = json_object_get_array_member (find (b, "Practitioner", "dr1"), "qualification");

  json_object_set_object_member (find (b, "Encounter", "e1"), "class", json_object_new ());
  r = review (b);
  assert_finding (r, "prescriber-no-authority", "mr-1", NULL, PD_SEVERITY_BLOCK);
  /* A higher tier covers a lower one. */
  json_object_set_string_member (json_array_get_object_element (json_object_get_array_member (
    json_object_get_object_member (json_array_get_object_element (quals, 1), "code"), "coding"), 0), "code", "antimicrobial-3");
  ok = review (b);
  assert_no (ok, "prescriber-no-authority");

  {
    g_autoptr(Bundle) m = with_line ("YP0019", 30, "mg", 2, 3, "R52");
    json_object_set_object_member (find (m, "Encounter", "e1"), "class", json_object_new ());
    morphine = review (m);
    assert_finding (morphine, "prescriber-no-authority", "mr-1", NULL, PD_SEVERITY_BLOCK);
  }
}

static void
test_special_drug_online (void)
{
  g_autoptr(Bundle) b = with_line ("YP0020", 2.5, "mg", 1, 3, "F41");   /* diazepam, psychotropic-2 */
  g_autoptr(Result) online = review (b);
  g_autoptr(Result) offline = NULL;

  assert_finding (online, "special-drug-online", "mr-1", NULL, PD_SEVERITY_BLOCK);
  json_object_set_object_member (find (b, "Encounter", "e1"), "class", json_object_new ());
  offline = review (b);
  assert_no (offline, "special-drug-online");
}

static void
test_supply (void)
{
  g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 30, "I10");
  g_autoptr(Result) month = review (b);
  g_autoptr(Result) continuous = NULL;
  g_autoptr(Result) too_long = NULL;
  g_autoptr(Result) from_boxes = NULL;
  JsonObject *mr = find (b, "MedicationRequest", "mr-1");
  JsonObject *dispense = json_object_get_object_member (mr, "dispenseRequest");
  g_autoptr(JsonParser) p = json_parser_new ();

  assert_finding (month, "supply-too-long", "mr-1", NULL, PD_SEVERITY_MAJOR);
  json_parser_load_from_data (p, "{\"coding\":[{\"code\":\"continuous\"}]}", -1, NULL);
  json_object_set_member (mr, "courseOfTherapyType", json_node_copy (json_parser_get_root (p)));
  continuous = review (b);
  assert_no (continuous, "supply-too-long");
  /* Over 84 days, whatever the course. */
  json_object_set_int_member (json_object_get_object_member (dispense, "expectedSupplyDuration"), "value", 13);
  json_object_set_string_member (json_object_get_object_member (dispense, "expectedSupplyDuration"), "unit", "wk");
  too_long = review (b);
  assert_finding (too_long, "supply-too-long", "mr-1", NULL, PD_SEVERITY_BLOCK);
  /* Without a duration: 4 boxes of 28 at 1 a day is 112 days. */
  json_object_remove_member (dispense, "expectedSupplyDuration");
  json_object_set_int_member (json_object_get_object_member (dispense, "quantity"), "value", 4);
  json_object_set_string_member (json_object_get_object_member (dispense, "quantity"), "unit", "盒");
  from_boxes = review (b);
  assert_finding (from_boxes, "supply-too-long", "mr-1", NULL, PD_SEVERITY_BLOCK);
}

static void
test_doses (void)
{
  g_autoptr(Bundle) grams = with_line ("YP0010", 0.02, "g", 1, 7, "I10");          /* 20 mg > 10 */
  g_autoptr(Bundle) tablets = with_line ("YP0010", 2, "tablet", 1, 7, "I10");      /* 10 mg: fine */
  g_autoptr(Bundle) many = with_line ("YP0010", 1, "片", 3, 7, "I10");             /* 15 mg a day > 10 */
  g_autoptr(Bundle) drops = with_line ("YP0010", 3, "drop", 1, 7, "I10");
  g_autoptr(Result) r1 = review (grams);
  g_autoptr(Result) r2 = review (tablets);
  g_autoptr(Result) r3 = review (many);
  g_autoptr(Result) r4 = review (drops);

  assert_finding (r1, "dose-exceeds-max", "mr-1", NULL, PD_SEVERITY_BLOCK);
  assert_no (r2, "dose-exceeds-max");
  assert_finding (r3, "dose-exceeds-max", "mr-1", NULL, PD_SEVERITY_BLOCK);
  assert_finding (r4, "dose-unverifiable", "mr-1", NULL, PD_SEVERITY_MODERATE);
  assert_no (r4, "dose-exceeds-max");
}

static void
test_frequency_codes (void)
{
  g_autoptr(Bundle) b = with_line ("YP0027", 500, "mg", 1, 3, "R50");
  JsonObject *dosage = json_array_get_object_element (json_object_get_array_member (find (b, "MedicationRequest", "mr-1"), "dosageInstruction"), 0);
  JsonObject *timing = json_object_get_object_member (dosage, "timing");
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(Result) q6h = NULL;
  g_autoptr(Result) q4h = NULL;
  g_autoptr(Result) minutes = NULL;

  /* Q6H: 4 × 500 = 2000 mg a day, the limit exactly. */
  json_object_remove_member (timing, "repeat");
  json_parser_load_from_data (p, "{\"coding\":[{\"code\":\"Q6H\"}]}", -1, NULL);
  json_object_set_member (timing, "code", json_node_copy (json_parser_get_root (p)));
  q6h = review (b);
  assert_no (q6h, "dose-exceeds-max");
  /* repeat wins over code: every 4 h is 6 a day. */
  json_parser_load_from_data (p, "{\"frequency\":1,\"period\":4,\"periodUnit\":\"h\"}", -1, NULL);
  json_object_set_member (timing, "repeat", json_node_copy (json_parser_get_root (p)));
  q4h = review (b);
  assert_finding (q4h, "dose-exceeds-max", "mr-1", NULL, PD_SEVERITY_BLOCK);
  /* Minutes are not understood: the frequency is a missing element. */
  json_parser_load_from_data (p, "{\"frequency\":1,\"period\":30,\"periodUnit\":\"min\"}", -1, NULL);
  json_object_set_member (timing, "repeat", json_node_copy (json_parser_get_root (p)));
  minutes = review (b);
  assert_finding (minutes, "missing-element", "mr-1", NULL, PD_SEVERITY_BLOCK);
}

static void
test_route (void)
{
  g_autoptr(Bundle) iv = bundle_new ();
  g_autoptr(Bundle) words = bundle_new ();
  g_autoptr(Bundle) chinese = bundle_new ();
  g_autoptr(Result) r1 = NULL;
  g_autoptr(Result) r2 = NULL;
  g_autoptr(Result) r3 = NULL;

  add_resource (iv, line ("mr-1", "YP0010", 5, "mg", 1, "iv", 7, "I10"));
  add_resource (words, line ("mr-1", "YP0010", 5, "mg", 1, "by mouth please", 7, "I10"));
  add_resource (chinese, line ("mr-1", "YP0010", 5, "mg", 1, "口服", 7, "I10"));
  r1 = review (iv);
  r2 = review (words);
  r3 = review (chinese);
  assert_finding (r1, "route-mismatch", "mr-1", NULL, PD_SEVERITY_MAJOR);
  assert_finding (r2, "route-mismatch", "mr-1", NULL, PD_SEVERITY_MAJOR);
  assert_no (r3, "route-mismatch");
}

static void
test_allergy (void)
{
  g_autoptr(Bundle) b = with_line ("YP0005", 250, "mg", 2, 5, "J02");   /* cefuroxime */
  g_autoptr(Result) alias = NULL;
  g_autoptr(Result) refuted = NULL;
  g_autoptr(Result) unknown = NULL;
  g_autoptr(Result) other_patient = NULL;

  add_json (b, "{\"resourceType\":\"AllergyIntolerance\",\"id\":\"a1\",\"code\":{\"text\":\"头孢菌素\"},\"patient\":{\"reference\":\"Patient/p1\"}}");
  alias = review (b);
  assert_finding (alias, "allergy", "mr-1", NULL, PD_SEVERITY_BLOCK);

  g_autoptr(JsonParser) p = json_parser_new ();
  json_parser_load_from_data (p, "{\"coding\":[{\"code\":\"refuted\"}]}", -1, NULL);
  json_object_set_member (find (b, "AllergyIntolerance", "a1"), "verificationStatus", json_node_copy (json_parser_get_root (p)));
  refuted = review (b);
  assert_no (refuted, "allergy");

  json_object_remove_member (find (b, "AllergyIntolerance", "a1"), "verificationStatus");
  json_object_set_object_member (find (b, "AllergyIntolerance", "a1"), "code", json_object_new ());
  json_object_set_string_member (json_object_get_object_member (find (b, "AllergyIntolerance", "a1"), "code"), "text", "花粉药");
  unknown = review (b);
  assert_no (unknown, "allergy");
  assert_finding (unknown, "allergy-unverifiable", "mr-1", NULL, PD_SEVERITY_MODERATE);

  json_object_set_object_member (find (b, "AllergyIntolerance", "a1"), "patient", json_object_new ());
  json_object_set_string_member (json_object_get_object_member (find (b, "AllergyIntolerance", "a1"), "patient"), "reference", "Patient/someone-else");
  other_patient = review (b);
  assert_no (other_patient, "allergy-unverifiable");
}

static void
test_skin_test (void)
{
  g_autoptr(Bundle) b = with_line ("YP0004", 500, "mg", 3, 5, "J02");   /* amoxicillin, skin test */
  g_autoptr(Result) none = review (b);
  g_autoptr(Result) negative = NULL;
  g_autoptr(Result) positive = NULL;
  const char *obs = "{\"resourceType\":\"Observation\",\"id\":\"st\",\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p1\"},"
                    "\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:observation\",\"code\":\"skin-test\"}]},"
                    "\"focus\":[{\"reference\":\"MedicationRequest/mr-1\"}],\"valueCodeableConcept\":{\"coding\":[{\"code\":\"%s\"}]}}";
  g_autofree char *neg = g_strdup_printf (obs, "negative");

  assert_finding (none, "skin-test-required", "mr-1", NULL, PD_SEVERITY_MAJOR);
  add_json (b, neg);
  negative = review (b);
  assert_no (negative, "skin-test-required");
  json_object_set_object_member (find (b, "Observation", "st"), "valueCodeableConcept", json_object_new ());
  {
    g_autoptr(JsonParser) p = json_parser_new ();
    json_parser_load_from_data (p, "[{\"code\":\"positive\"}]", -1, NULL);
    json_object_set_member (json_object_get_object_member (find (b, "Observation", "st"), "valueCodeableConcept"), "coding",
                            json_node_copy (json_parser_get_root (p)));
  }
  positive = review (b);
  assert_finding (positive, "allergy", "mr-1", NULL, PD_SEVERITY_BLOCK);
  assert_finding (positive, "skin-test-required", "mr-1", NULL, PD_SEVERITY_MAJOR);
}

static void
test_populations (void)
{
  g_autoptr(Bundle) elderly = with_line ("YP0011", 30, "mg", 1, 7, "I10");    /* nifedipine: elderly ok */
  g_autoptr(Bundle) old_warfarin = with_line ("YP0001", 2.5, "mg", 1, 7, "I48");
  g_autoptr(Bundle) child = with_line ("YP0006", 500, "mg", 1, 5, "N30");     /* levofloxacin from 18 */
  g_autoptr(Result) r1 = NULL;
  g_autoptr(Result) r2 = NULL;
  g_autoptr(Result) r3 = NULL;

  json_object_set_string_member (find (elderly, "Patient", "p1"), "birthDate", "1950-01-01");
  r1 = review (elderly);
  assert_no (r1, "population-contraindication");
  /* 65 reached on the day counts; a partial birth date is the earliest for elderly. */
  json_object_set_string_member (find (old_warfarin, "Patient", "p1"), "birthDate", "1961");
  r2 = review (old_warfarin);
  assert_finding (r2, "population-contraindication", "mr-1", "elderly", PD_SEVERITY_MODERATE);
  json_object_set_string_member (find (child, "Patient", "p1"), "birthDate", "2009-11-21");
  json_object_set_object_member (find (child, "Encounter", "e1"), "class", json_object_new ());
  r3 = review (child);
  assert_finding (r3, "population-contraindication", "mr-1", "child", PD_SEVERITY_BLOCK);
}

static void
test_indication (void)
{
  g_autoptr(Bundle) b = with_line ("YP0010", 5, "mg", 1, 7, "K29.7");
  g_autoptr(Bundle) ok = with_line ("YP0010", 5, "mg", 1, 7, "i10.x");
  g_autoptr(Result) r = review (b);
  g_autoptr(Result) r2 = review (ok);

  assert_finding (r, "indication-mismatch", "mr-1", NULL, PD_SEVERITY_MODERATE);
  assert_no (r2, "indication-mismatch");
}

static void
test_unknown_drug (void)
{
  g_autoptr(Bundle) b = with_line ("NOPE-1", 5, "mg", 1, 7, "I10");
  g_autoptr(Result) r = review (b);

  assert_finding (r, "unknown-drug", "mr-1", NULL, PD_SEVERITY_MAJOR);
  g_assert_cmpstr (r->review->verdict, ==, "review");
}

static void
test_pairs (void)
{
  g_autoptr(Bundle) b = with_line ("YP0001", 2.5, "mg", 1, 7, "I48");          /* warfarin */
  g_autoptr(Result) r = NULL;
  const PdFinding *f;

  add_resource (b, line ("mr-2", "YP0003", 300, "mg", 2, "oral", 5, "M79"));  /* ibuprofen: M01A row */
  add_resource (b, line ("mr-3", "YP0009", 1, "pill", 3, "oral", 7, "E11"));  /* 消渴丸 (glibenclamide+…) */
  add_resource (b, line ("mr-4", "YP0008", 2.5, "mg", 1, "oral", 7, "E11"));  /* glibenclamide */
  add_resource (b, line ("mr-5", "YP0011", 30, "mg", 1, "oral", 7, "I10"));   /* nifedipine */
  add_resource (b, line ("mr-6", "YP0010", 5, "mg", 1, "oral", 7, "I10"));    /* amlodipine */
  r = review (b);
  assert_finding (r, "drug-interaction", "mr-1,mr-2", NULL, PD_SEVERITY_MAJOR);
  f = finding (r, "drug-interaction", "mr-1,mr-2", NULL);
  g_assert_cmpstr (f->rule, ==, "interactions.csv:2");
  /* A combination product shares its first ingredient. */
  assert_finding (r, "duplicate-therapy", "mr-3,mr-4", NULL, PD_SEVERITY_MAJOR);
  /* Same ATC level 4 (C08CA). */
  assert_finding (r, "duplicate-therapy", "mr-5,mr-6", NULL, PD_SEVERITY_MODERATE);
  g_assert_null (finding (r, "duplicate-therapy", "mr-1,mr-2", NULL));
  /* Order: block first, then code, then positions. */
  for (guint i = 1; i < r->review->findings->len; i++)
    g_assert_cmpint (((const PdFinding *) r->review->findings->pdata[i - 1])->severity, >=,
                     ((const PdFinding *) r->review->findings->pdata[i])->severity);
}

static void
test_cancelled (void)
{
  g_autoptr(Bundle) b = with_line ("NOPE", 5, "mg", 1, 99, "I10");
  g_autoptr(Result) r = NULL;

  json_object_set_string_member (find (b, "MedicationRequest", "mr-1"), "status", "stopped");
  r = review (b);
  g_assert_cmpstr (r->review->verdict, ==, "cancelled");
  g_assert_cmpuint (r->review->findings->len, ==, 0);
}

static void
test_bad_input (void)
{
  const char *cases[] = {
    "not json at all",
    "{\"resourceType\":\"Patient\"}",
    "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"m\","
    "\"subject\":{\"reference\":\"Patient/ghost\"}}}]}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) rxs = pd_fhir_read_prescriptions (cases[i], strlen (cases[i]), kb, &error);

      g_assert_null (rxs);
      g_assert_error (error, PD_FHIR_ERROR, PD_FHIR_ERROR_INVALID);
      g_assert_null (strchr (error->message, '\n'));
    }
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *dir = g_build_filename (g_getenv ("PHARMDESK_SHARED"), "spec", "sample-kb", NULL);
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, NULL);
  kb = pd_kb_load_dir (dir, &error);
  g_assert_no_error (error);

  g_test_add_func ("/review/pass", test_pass);
  g_test_add_func ("/review/prescriber-unqualified", test_prescriber_unqualified);
  g_test_add_func ("/review/first-visit-online", test_first_visit_online);
  g_test_add_func ("/review/validity", test_validity);
  g_test_add_func ("/review/too-many-drugs", test_too_many_drugs);
  g_test_add_func ("/review/prescription-reused", test_reused);
  g_test_add_func ("/review/missing-elements", test_missing_elements);
  g_test_add_func ("/review/missing-weight-is-major", test_missing_weight_is_major);
  g_test_add_func ("/review/unreadable-birth-date", test_unreadable_birth_date);
  g_test_add_func ("/review/signature-missing", test_signature_missing);
  g_test_add_func ("/review/prescriber-no-authority", test_prescriber_no_authority);
  g_test_add_func ("/review/special-drug-online", test_special_drug_online);
  g_test_add_func ("/review/supply", test_supply);
  g_test_add_func ("/review/doses", test_doses);
  g_test_add_func ("/review/frequency-codes", test_frequency_codes);
  g_test_add_func ("/review/route", test_route);
  g_test_add_func ("/review/allergy", test_allergy);
  g_test_add_func ("/review/skin-test", test_skin_test);
  g_test_add_func ("/review/populations", test_populations);
  g_test_add_func ("/review/indication", test_indication);
  g_test_add_func ("/review/unknown-drug", test_unknown_drug);
  g_test_add_func ("/review/pairs", test_pairs);
  g_test_add_func ("/review/cancelled", test_cancelled);
  g_test_add_func ("/review/bad-input", test_bad_input);
  return g_test_run ();
}
