/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-kb"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pd-kb.h"

/* A malformed knowledge base is refused with its file, line and column. */

static const char *header =
  "code,nhsa_code,name,pinyin,ingredient,atc,route,unit_dose_mg,max_single_mg,max_daily_mg,child_max_daily_mg_per_kg,"
  "min_age_years,pregnancy,lactation,elderly,special_class,antimicrobial_tier,skin_test,indications,insurance_class,price,cold_chain,pack_size,pack_unit\n";
static const char *good_row = "YP1,X1,药,YP,warfarin,B01AA03,oral,2.5,15,15,,,contraindicated,caution,caution,none,0,0,I48,A,0.45,0,24,盒\n";

static PdKb *
load (const char *drugs,
      const char *interactions,
      const char *allergies,
      GError    **error)
{
  g_autoptr(GHashTable) files = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_bytes_unref);

  g_hash_table_insert (files, "drugs.csv", g_bytes_new (drugs, strlen (drugs)));
  if (interactions != NULL)
    g_hash_table_insert (files, "interactions.csv", g_bytes_new (interactions, strlen (interactions)));
  if (allergies != NULL)
    g_hash_table_insert (files, "allergy_classes.csv", g_bytes_new (allergies, strlen (allergies)));
  return pd_kb_load_files (files, error);
}

static void
expect (const char *drugs,
        const char *interactions,
        const char *allergies,
        const char *where)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdKb) kb = load (drugs, interactions, allergies, &error);

  g_assert_null (kb);
  g_assert_error (error, PD_KB_ERROR, PD_KB_ERROR_MALFORMED);
  if (!g_str_has_prefix (error->message, where))
    g_error ("“%s” does not start with “%s”", error->message, where);
}

static void
test_good (void)
{
  g_autofree char *drugs = g_strconcat ("\xEF\xBB\xBF", header, good_row, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PdKb) kb = load (drugs, "a,b,severity\r\nwarfarin,M01A,major\r\n", "allergen,member,alias\npenicillin,J01C,\npenicillin,,\"青霉素, 类\"\n", &error);

  g_assert_no_error (error);
  g_assert_cmpuint (pd_kb_get_n_drugs (kb), ==, 1);
  /* Without kb.csv, the version is the files' sha256. */
  g_assert_true (g_str_has_prefix (pd_kb_get_version (kb), "sha256:"));
  g_assert_cmpuint (strlen (pd_kb_get_version (kb)), ==, 7 + 64);
  g_assert_true (pd_kb_is_demonstration (kb));
}

static void
test_malformed (void)
{
  g_autofree char *bad_number = g_strconcat (header, good_row, "YP2,X2,药,YP,warfarin,B01AA03,oral,2,5,15,15,,,ok,ok,ok,none,0,0,I48,A,0.45,0,24,盒\n", NULL);
  g_autofree char *comma_decimal = g_strconcat (header, "YP2,X2,药,YP,warfarin,B01AA03,oral,\"2,5\",15,15,,,ok,ok,ok,none,0,0,I48,A,0.45,0,24,盒\n", NULL);
  g_autofree char *dup = g_strconcat (header, good_row, good_row, NULL);
  g_autofree char *bad_enum = g_strconcat (header, "YP2,X2,药,YP,warfarin,B01AA03,oral,2.5,15,15,,,maybe,ok,ok,none,0,0,I48,A,0.45,0,24,盒\n", NULL);
  g_autofree char *bad_key = g_strconcat (header, "YP2,X2,药,YP,Warfarin,B01AA03,oral,2.5,15,15,,,ok,ok,ok,none,0,0,I48,A,0.45,0,24,盒\n", NULL);
  g_autofree char *bad_price = g_strconcat (header, "YP2,X2,药,YP,warfarin,B01AA03,oral,2.5,15,15,,,ok,ok,ok,none,0,0,I48,A,0.45001,0,24,盒\n", NULL);
  g_autofree char *unclosed = g_strconcat (header, "YP2,\"X2,药\n", NULL);
  g_autofree char *no_special = g_strdup ("code,name,ingredient\nYP1,药,warfarin\n");

  expect (bad_number, NULL, NULL, "drugs.csv:3:");
  expect (comma_decimal, NULL, NULL, "drugs.csv:2:");
  expect (dup, NULL, NULL, "drugs.csv:3:1: code");
  expect (bad_enum, NULL, NULL, "drugs.csv:2:");
  expect (bad_key, NULL, NULL, "drugs.csv:2:");
  expect (bad_price, NULL, NULL, "drugs.csv:2:");
  expect (unclosed, NULL, NULL, "drugs.csv:2:5");
  expect (no_special, NULL, NULL, "drugs.csv:1:1");
  {
    g_autofree char *drugs = g_strconcat (header, good_row, NULL);

    expect (drugs, "a,b,severity\nwarfarin,M01A,deadly\n", NULL, "interactions.csv:2:");
    expect (drugs, "a,b,severity\nwarfarin,m01a!,major\n", NULL, "interactions.csv:2:");
    expect (drugs, NULL, "allergen,member,alias\npenicillin,,\n", "allergy_classes.csv:2:1");
  }
}

/* A row with fewer or more fields than the header is malformed where it
 * is, not "1:1" (short cells read as "not known") nor accepted. */
static void
test_row_width (void)
{
  g_autofree char *short_row = g_strconcat (header, good_row, "\n\n\n\n", "YP2,X2\n", NULL);
  g_autofree char *long_row = g_strconcat (header, "YP2,X2,药,YP,warfarin,B01AA03,oral,2.5,15,15,,,ok,ok,ok,none,0,0,I48,A,0.45,0,24,盒,extra\n", NULL);
  g_autofree char *drugs = g_strconcat (header, good_row, NULL);

  expect (short_row, NULL, NULL, "drugs.csv:7:5: too few fields");
  expect (long_row, NULL, NULL, "drugs.csv:2:83: too many fields");
  expect (drugs, "a,b,severity\nwarfarin,M01A\n", NULL, "interactions.csv:2:10: too few fields");
  /* A trailing comma at the very end is one more (empty) field. */
  expect (drugs, "a,b,severity\nwarfarin,M01A,major,", NULL, "interactions.csv:2:");
}

static void
test_sample_kb (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("PHARMDESK_SHARED"), "spec", "sample-kb", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PdKb) kb = pd_kb_load_dir (dir, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (pd_kb_get_version (kb), ==, "sample-2026.11");
  g_assert_true (pd_kb_is_demonstration (kb));
  g_assert_cmpuint (pd_kb_get_n_drugs (kb), ==, 30);
}

/* trace_prefix, weight_g and label_warning are optional: absent, the
 * prefix and the warning are NULL and a box weighs 100 g; a prefix is
 * exactly 7 digits and a weight a positive whole number of grams. */
static void
test_trace_columns (void)
{
  static const char *head =
    "code,name,ingredient,special_class,trace_prefix,weight_g,label_warning\n";
  g_autofree char *good = g_strconcat (head,
                                        "YP1,药甲,warfarin,none,6901001,60,\"饭后服用；服药期间禁酒\"\n"
                                        "YP2,药乙,aspirin,none,,,\n", NULL);
  g_autofree char *none = g_strdup ("code,name,ingredient,special_class\nYP1,药,warfarin,none\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(PdKb) kb = load (good, NULL, NULL, &error);
  g_autoptr(PdKb) old = NULL;
  const PdKbDrug *d;
  static const struct {
    const char *row;
    const char *where;
  } bad[] = {
    { "YP1,药,warfarin,none,690100,,\n", "drugs.csv:2:21: trace_prefix" },    /* 6 digits */
    { "YP1,药,warfarin,none,69010011,,\n", "drugs.csv:2:21: trace_prefix" },  /* 8 digits */
    { "YP1,药,warfarin,none,69O1001,,\n", "drugs.csv:2:21: trace_prefix" },   /* a letter O */
    { "YP1,药,warfarin,none, 6901001,,\n", "drugs.csv:2:21: trace_prefix" },  /* a space */
    { "YP1,药,warfarin,none,６９０１００１,,\n", "drugs.csv:2:21: trace_prefix" }, /* full-width digits */
    { "YP1,药,warfarin,none,,0,\n", "drugs.csv:2:22: weight_g" },
    { "YP1,药,warfarin,none,,12.5,\n", "drugs.csv:2:22: weight_g" },
    { "YP1,药,warfarin,none,,-3,\n", "drugs.csv:2:22: weight_g" },
    { "YP1,药,warfarin,none,,060,\n", "drugs.csv:2:22: weight_g" },
    { "YP1,药,warfarin,none,,100g,\n", "drugs.csv:2:22: weight_g" },
  };

  g_assert_no_error (error);
  d = pd_kb_find_drug (kb, "YP1");
  g_assert_cmpstr (d->trace_prefix, ==, "6901001");
  g_assert_cmpint (d->weight_g, ==, 60);
  g_assert_cmpstr (d->label_warning, ==, "饭后服用；服药期间禁酒");
  d = pd_kb_find_drug (kb, "YP2");
  g_assert_null (d->trace_prefix);
  g_assert_cmpint (d->weight_g, ==, 100);
  g_assert_null (d->label_warning);

  old = load (none, NULL, NULL, &error);
  g_assert_no_error (error);
  d = pd_kb_find_drug (old, "YP1");
  g_assert_null (d->trace_prefix);
  g_assert_cmpint (d->weight_g, ==, 100);
  g_assert_null (d->label_warning);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *drugs = g_strconcat (head, bad[i].row, NULL);

      expect (drugs, NULL, NULL, bad[i].where);
    }
}

/* The strongest row of interactions.csv naming the two drugs, -1 if none. */
static int
pair_severity (PdKb       *kb,
               const char *code_a,
               const char *code_b)
{
  const PdKbDrug *a = pd_kb_find_drug (kb, code_a), *b = pd_kb_find_drug (kb, code_b);
  GPtrArray *rows;
  int worst = -1;

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  rows = pd_kb_interaction_candidates (kb, a);
  for (guint i = 0; i < rows->len; i++)
    {
      const PdKbInteraction *row = rows->pdata[i];

      if ((pd_kb_key_matches (row->a, a) && pd_kb_key_matches (row->b, b))
          || (pd_kb_key_matches (row->b, a) && pd_kb_key_matches (row->a, b)))
        worst = MAX (worst, (int) row->severity);
    }
  return worst;
}

/* The knowledge base we ship: valid, large enough, marked as demonstration
 * content until a pharmacist signs it off, covering each chronic area, and
 * holding the classic pairs and allergy classes. */
static void
test_default_kb (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("PHARMDESK_DATADIR"), "kb", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PdKb) kb = pd_kb_load_dir (dir, &error);
  /* One drug per area of the issue: hypertension, diabetes, lipids,
   * coronary disease, COPD/asthma, gout, thyroid, depression, infection,
   * pain, GI. */
  static const char *areas[][2] = {
    { "YP1001", "amlodipine" }, { "YP1029", "metformin" }, { "YP1053", "atorvastatin" },
    { "YP1064", "clopidogrel" }, { "YP1083", "tiotropium" }, { "YP1094", "allopurinol" },
    { "YP1098", "levothyroxine" }, { "YP1101", "sertraline" }, { "YP1133", "amoxicillin" },
    { "YP1162", "ibuprofen" }, { "YP1171", "omeprazole" },
  };
  gboolean is_ingredient = FALSE;

  g_assert_no_error (error);
  g_assert_cmpuint (pd_kb_get_n_drugs (kb), >=, 100);
  g_assert_true (pd_kb_is_demonstration (kb));
  g_assert_cmpstr (pd_kb_get_reviewed_by (kb), ==, NULL);
  g_assert_true (g_str_has_prefix (pd_kb_get_version (kb), "pharmdesk-default-"));
  for (guint i = 0; i < G_N_ELEMENTS (areas); i++)
    {
      const PdKbDrug *d = pd_kb_find_drug (kb, areas[i][0]);

      g_assert_nonnull (d);
      g_assert_true (g_strv_contains ((const char * const *) d->ingredients, areas[i][1]));
    }
  g_assert_cmpint (pair_severity (kb, "YP1055", "YP1142"), ==, PD_SEVERITY_BLOCK);  /* simvastatin + clarithromycin */
  g_assert_cmpint (pair_severity (kb, "YP1074", "YP1066"), ==, PD_SEVERITY_BLOCK);  /* sildenafil + a nitrate */
  g_assert_cmpint (pair_severity (kb, "YP1076", "YP1063"), ==, PD_SEVERITY_MAJOR);  /* warfarin + aspirin */
  g_assert_cmpint (pair_severity (kb, "YP1001", "YP1029"), ==, -1);                 /* amlodipine + metformin */
  /* Demonstration prefixes (69 and the product number) on the sandbox's
   * drugs only; label warnings from the inserts; no weights. */
  g_assert_cmpstr (pd_kb_find_drug (kb, "YP1001")->trace_prefix, ==, "6901001");
  g_assert_cmpstr (pd_kb_find_drug (kb, "YP1133")->trace_prefix, ==, "6901133");
  g_assert_null (pd_kb_find_drug (kb, "YP1162")->trace_prefix);
  g_assert_cmpstr (pd_kb_find_drug (kb, "YP1133")->label_warning, ==, "用药前须皮试阴性");
  g_assert_cmpstr (pd_kb_find_drug (kb, "YP1149")->label_warning, ==, "服药期间及停药后3天内禁酒");
  g_assert_null (pd_kb_find_drug (kb, "YP1001")->label_warning);
  for (guint i = 0; i < pd_kb_get_n_drugs (kb); i++)
    {
      g_autofree char *code = g_strdup_printf ("YP%04u", 1001 + i);
      const PdKbDrug *d = pd_kb_find_drug (kb, code);

      g_assert_nonnull (d);
      g_assert_cmpint (d->weight_g, ==, 100);
      if (d->trace_prefix != NULL)
        {
          g_assert_true (g_str_has_prefix (d->trace_prefix, "69"));
          g_assert_cmpint (atoi (d->trace_prefix + 2), ==, atoi (code + 2));
        }
    }
  g_assert_cmpstr (pd_kb_allergen_for_term (kb, "青霉素", &is_ingredient), ==, "penicillin");
  g_assert_true (pd_kb_class_holds (kb, "penicillin", pd_kb_find_drug (kb, "YP1133"), NULL));
  g_assert_false (pd_kb_class_holds (kb, "penicillin", pd_kb_find_drug (kb, "YP1142"), NULL));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kb/good", test_good);
  g_test_add_func ("/kb/malformed", test_malformed);
  g_test_add_func ("/kb/row-width", test_row_width);
  g_test_add_func ("/kb/trace-columns", test_trace_columns);
  g_test_add_func ("/kb/sample", test_sample_kb);
  g_test_add_func ("/kb/default", test_default_kb);
  return g_test_run ();
}
