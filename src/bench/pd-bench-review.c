/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pharmdesk-bench"

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "pd-bench.h"
#include "pd-fhir-reader.h"
#include "pd-review-engine.h"

/* The review engine on a generated knowledge base of 20,000 drugs and
 * 200,000 interaction pairs (issue: at least 50,000 five-line
 * prescriptions a second on one core; the CLI path within 1.5× of
 * json-glib merely parsing the same Bundles). */

#define N_DRUGS        20000
#define N_PAIRS        200000
#define N_BUNDLES      2000
#define ENGINE_ROUNDS  20

static PdKb *kb;
static GPtrArray *bundles;      /* char* JSON texts */
static GPtrArray *prescriptions;  /* PdRx*, one per Bundle */
static double kb_load_s;

static void
generate (void)
{
  GString *drugs = g_string_new ("code,name,ingredient,atc,route,unit_dose_mg,max_single_mg,max_daily_mg,pregnancy,lactation,elderly,special_class,antimicrobial_tier,skin_test,indications\n");
  GString *pairs = g_string_new ("a,b,severity,effect,advice\n");
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_bytes_unref);
  GRand *rand = g_rand_new_with_seed (42);
  static const char *sev[] = { "minor", "moderate", "major", "contraindicated" };
  gint64 t0;

  for (int i = 0; i < N_DRUGS; i++)
    g_string_append_printf (drugs, "D%05d,药%05d,ing-%05d,%c%02d%c%c%02d,oral,10,%d,%d,ok,caution,ok,none,0,0,I|E|J\n",
                            i, i, i, 'A' + i % 14, i % 100, 'A' + i % 26, 'A' + (i / 26) % 26, i % 97, 20 + i % 50, 80 + i % 200);
  for (int i = 0; i < N_PAIRS; i++)
    {
      int a = g_rand_int_range (rand, 0, N_DRUGS), b = g_rand_int_range (rand, 0, N_DRUGS);

      g_string_append_printf (pairs, "ing-%05d,ing-%05d,%s,effect %d,advice %d\n", a, b, sev[i % 4], i, i);
    }
  g_hash_table_insert (files, "drugs.csv", g_bytes_new_take (drugs->str, drugs->len));
  g_hash_table_insert (files, "interactions.csv", g_bytes_new_take (pairs->str, pairs->len));
  g_string_free (drugs, FALSE);
  g_string_free (pairs, FALSE);

  t0 = g_get_monotonic_time ();
  kb = pd_kb_load_files (files, NULL);
  kb_load_s = (g_get_monotonic_time () - t0) / 1e6;
  g_assert_nonnull (kb);
  g_hash_table_unref (files);

  bundles = g_ptr_array_new_with_free_func (g_free);
  prescriptions = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_rx_free);
  for (int n = 0; n < N_BUNDLES; n++)
    {
      GString *b = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:p\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p\",\"gender\":\"male\",\"birthDate\":\"1960-02-29\"}},"
        "{\"resource\":{\"resourceType\":\"Practitioner\",\"id\":\"d\",\"qualification\":[{\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:qualification\",\"code\":\"practice-license\"}]}}]}},"
        "{\"resource\":{\"resourceType\":\"Encounter\",\"id\":\"e\",\"class\":{\"code\":\"VR\"},\"type\":[{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"185389009\"}]}]}},"
        "{\"resource\":{\"resourceType\":\"Provenance\",\"id\":\"pv\",\"target\":[{\"reference\":\"MedicationRequest/m0\"},{\"reference\":\"MedicationRequest/m1\"},"
        "{\"reference\":\"MedicationRequest/m2\"},{\"reference\":\"MedicationRequest/m3\"},{\"reference\":\"MedicationRequest/m4\"}],\"signature\":[{\"data\":\"eA\"}]}}");
      g_autoptr(GPtrArray) rxs = NULL;

      for (int l = 0; l < 5; l++)
        g_string_append_printf (b, ",{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"m%d\",\"status\":\"active\","
                                "\"groupIdentifier\":{\"system\":\"urn:rx\",\"value\":\"RX-%d\"},"
                                "\"medicationCodeableConcept\":{\"coding\":[{\"code\":\"D%05d\"}]},"
                                "\"subject\":{\"reference\":\"Patient/p\"},\"requester\":{\"reference\":\"Practitioner/d\"},"
                                "\"encounter\":{\"reference\":\"Encounter/e\"},\"authoredOn\":\"2026-11-20T09:00:00+08:00\","
                                "\"reasonCode\":[{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10\",\"code\":\"I10\"}]}],"
                                "\"dosageInstruction\":[{\"timing\":{\"repeat\":{\"frequency\":2,\"period\":1,\"periodUnit\":\"d\"}},"
                                "\"route\":{\"text\":\"口服\"},\"doseAndRate\":[{\"doseQuantity\":{\"value\":1,\"unit\":\"tablet\"}}]}],"
                                "\"dispenseRequest\":{\"expectedSupplyDuration\":{\"value\":7,\"unit\":\"d\"},\"quantity\":{\"value\":14,\"unit\":\"tablet\"}}}}",
                                l, n, g_rand_int_range (rand, 0, N_DRUGS));
      g_string_append (b, "]}");
      rxs = pd_fhir_read_prescriptions (b->str, b->len, kb, NULL);
      g_assert_nonnull (rxs);
      g_ptr_array_add (prescriptions, g_ptr_array_steal_index (rxs, 0));
      g_ptr_array_add (bundles, g_string_free (b, FALSE));
    }
  g_rand_free (rand);
}

static void
ensure (void)
{
  if (kb == NULL)
    generate ();
}

/* Reported per hour, so that the table's integers keep their digits. */
static double
kb_load_run (int iteration)
{
  ensure ();
  return 3600.0 / kb_load_s;
}

static gint64 now_us = G_GINT64_CONSTANT (1795140000) * G_USEC_PER_SEC;

static double
engine_run (int iteration)
{
  gint64 t0;
  guint n = 0;

  ensure ();
  t0 = g_get_monotonic_time ();
  for (int round = 0; round < ENGINE_ROUNDS; round++)
    for (guint i = 0; i < prescriptions->len; i++, n++)
      pd_review_free (pd_review_run (kb, prescriptions->pdata[i], now_us, NULL, NULL));
  return n / ((g_get_monotonic_time () - t0) / 1e6);
}

/* The floor of the engine: touching each line's drug and each pair once. */
static double
engine_floor (int iteration)
{
  gint64 t0;
  guint n = 0;
  volatile gsize sink = 0;

  ensure ();
  t0 = g_get_monotonic_time ();
  for (int round = 0; round < ENGINE_ROUNDS; round++)
    for (guint i = 0; i < prescriptions->len; i++, n++)
      {
        const PdRx *rx = prescriptions->pdata[i];

        for (guint a = 0; a < rx->lines->len; a++)
          for (guint b = a + 1; b < rx->lines->len; b++)
            sink += (gsize) ((const PdRxLine *) rx->lines->pdata[a])->drug ^ (gsize) ((const PdRxLine *) rx->lines->pdata[b])->drug;
      }
  return n / ((g_get_monotonic_time () - t0) / 1e6);
}

/* The CLI's path: read the Bundle, review it, write the JSON answer. */
static double
cli_path_run (int iteration)
{
  gint64 t0;

  ensure ();
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < bundles->len; i++)
    {
      const char *text = bundles->pdata[i];
      g_autoptr(GPtrArray) rxs = pd_fhir_read_prescriptions (text, strlen (text), kb, NULL);

      for (guint r = 0; r < rxs->len; r++)
        {
          PdReview *review = pd_review_run (kb, rxs->pdata[r], now_us, NULL, NULL);

          for (guint f = 0; f < review->findings->len; f++)
            g_free (pd_finding_message (review->findings->pdata[f], "en"));
          pd_review_free (review);
        }
    }
  return bundles->len / ((g_get_monotonic_time () - t0) / 1e6);
}

static double
parse_floor (int iteration)
{
  gint64 t0;

  ensure ();
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < bundles->len; i++)
    {
      g_autoptr(JsonParser) p = json_parser_new ();

      json_parser_load_from_data (p, bundles->pdata[i], -1, NULL);
    }
  return bundles->len / ((g_get_monotonic_time () - t0) / 1e6);
}

const PdBench pd_bench_review[] = {
  { "review.kb-load", "loads/hour", "load and index a 20,000-drug / 200,000-pair knowledge base",
    kb_load_run, NULL, NULL },
  { "review.engine", "prescriptions/s", "pd_review_run() on 5-line prescriptions in memory, one core",
    engine_run, "visit every line pair once", engine_floor },
  { "review.cli-path", "bundles/s", "FHIR reading + review + messages of each Bundle",
    cli_path_run, "json-glib parsing the same Bundles", parse_floor },
};
const guint pd_bench_review_n = G_N_ELEMENTS (pd_bench_review);
