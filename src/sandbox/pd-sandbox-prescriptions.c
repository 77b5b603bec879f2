/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-hospital"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pd-sandbox.h"
#include "pd-sandbox-hospital.h"

/* The internet hospital's prescriptions: follow-up visits for chronic
 * and common disease, written as hospital.md's work queue wants them (a
 * Task per prescription, its MedicationRequests, Encounter, signature
 * Provenance) with what review.md reads beside them (Conditions,
 * AllergyIntolerances, Observations). One generator makes the demo set,
 * the steady arrivals and the bulk load, from the case table below,
 * which holds at least one case for every finding code of review.md that
 * a hospital alone can produce. */

#define ICD10 "http://hl7.org/fhir/sid/icd-10"
#define SNOMED "http://snomed.info/sct"
#define LOINC "http://loinc.org"
#define DEMO_PEOPLE_WITHOUT_WEIGHT 18   /* a small child: per-kg limits unverifiable */

typedef struct {
  const char *code, *name;        /* drugs.csv product code */
  double      dose;
  const char *unit;               /* mg, ug, mL, puff, 片 */
  int         per_day;
  const char *route, *route_text; /* SNOMED CT, Chinese text */
  int         days;               /* expectedSupplyDuration */
  int         quantity;
  const char *quantity_unit;
  const char *icd, *diagnosis;    /* NULL: no diagnosis written */
  gboolean    continuous;
  const char *skin_test;          /* negative, positive or NULL */
} Line;

typedef struct {
  const char *finding;            /* what it shows; NULL for a clean pass */
  guint       person;             /* demo person (pd-sandbox-state.c's kinds) */
  const char *priority;
  gboolean    first_visit;
  const char *requester;
  int         hours_ago;
  int         signed_lines;       /* -1 all, 0 no Provenance */
  Line        lines[6];
} Case;

#define ORAL "26643006", "口服"
#define INHALED "447694001", "吸入"
#define ALL -1

/* Demo people (state.c): 0 infant, 1 small child, 2 school child,
 * 3 pregnant, 4 breastfeeding, 5 and 6 elderly, 7 and 8 employees,
 * 9 adolescent, 10 adult resident, 11 employee, then 12… by age band
 * (12/18 1–5, 13/19 6–13, 14/15/20/21 22–44, 16/22 45–64, 17/23 65+).
 * Patient facts: 7 is allergic to 青霉素, 16 to an unknown 中药注射液,
 * 10 to 芒果 (food), 18 has no recorded weight. */
static const Case cases[] = {
  /* clean passes */
  { NULL, 5, "routine", FALSE, "dr-1", 2, ALL, {
    { "YP1001", "苯磺酸氨氯地平片 5mg", 5, "mg", 1, ORAL, 28, 28, "片", "I10", "原发性高血压", TRUE } } },
  { NULL, 7, "routine", FALSE, "dr-1", 3, ALL, {
    { "YP1029", "盐酸二甲双胍片 0.5g", 500, "mg", 3, ORAL, 28, 84, "片", "E11.9", "2型糖尿病", TRUE },
    { "YP1053", "阿托伐他汀钙片 20mg", 20, "mg", 1, ORAL, 28, 28, "片", "E78.5", "高脂血症", TRUE } } },
  { NULL, 3, "routine", FALSE, "dr-1", 4, ALL, {
    { "YP1098", "左甲状腺素钠片 50μg", 50, "ug", 1, ORAL, 28, 28, "片", "E03.9", "甲状腺功能减退症", TRUE } } },
  { NULL, 4, "urgent", FALSE, "dr-1", 1, ALL, {
    { "YP1161", "对乙酰氨基酚片 0.5g", 500, "mg", 3, ORAL, 3, 9, "片", "R50.9", "发热", FALSE } } },
  { NULL, 2, "urgent", FALSE, "dr-1", 1, ALL, {
    { "YP1133", "阿莫西林胶囊 0.25g", 250, "mg", 3, ORAL, 5, 15, "粒", "J02.9", "急性咽炎", FALSE, "negative" } } },
  { NULL, 0, "stat", FALSE, "dr-1", 1, ALL, {
    { "YP1161", "对乙酰氨基酚片 0.5g", 60, "mg", 4, ORAL, 3, 1, "盒", "R50.9", "发热", FALSE } } },
  { NULL, 10, "routine", FALSE, "dr-1", 5, ALL, {
    { "YP1171", "奥美拉唑肠溶胶囊 20mg", 20, "mg", 2, ORAL, 7, 14, "粒", "K21.9", "胃食管反流病", FALSE } } },
  { NULL, 8, "routine", FALSE, "dr-1", 6, ALL, {
    { "YP1092", "盐酸西替利嗪片 10mg", 10, "mg", 1, ORAL, 7, 7, "片", "J30.4", "变应性鼻炎", FALSE } } },
  { NULL, 9, "routine", FALSE, "dr-1", 2, ALL, {
    { "YP1093", "氯雷他定片 10mg", 10, "mg", 1, ORAL, 7, 7, "片", "L50.9", "荨麻疹", FALSE } } },
  { NULL, 6, "routine", FALSE, "dr-1", 7, ALL, {
    { "YP1063", "阿司匹林肠溶片 100mg", 100, "mg", 1, ORAL, 28, 28, "片", "I63.9", "脑梗死恢复期", TRUE },
    { "YP1053", "阿托伐他汀钙片 20mg", 20, "mg", 1, ORAL, 28, 28, "片", "I63.9", "脑梗死恢复期", TRUE },
    { "YP1001", "苯磺酸氨氯地平片 5mg", 5, "mg", 1, ORAL, 28, 28, "片", "I10", "原发性高血压", TRUE } } },
  { NULL, 11, "routine", FALSE, "dr-1", 8, ALL, {
    { "YP1094", "别嘌醇片 0.1g", 100, "mg", 2, ORAL, 28, 56, "片", "M10.9", "痛风", TRUE } } },
  { NULL, 14, "routine", FALSE, "dr-1", 3, ALL, {
    { "YP1081", "布地奈德福莫特罗吸入粉雾剂(Ⅱ)", 1, "puff", 2, INHALED, 30, 1, "支", "J45.9", "支气管哮喘", TRUE } } },
  { NULL, 20, "routine", FALSE, "dr-1", 9, ALL, {
    { "YP1101", "盐酸舍曲林片 50mg", 50, "mg", 1, ORAL, 28, 28, "片", "F32.9", "抑郁发作", TRUE } } },
  { NULL, 22, "routine", FALSE, "dr-1", 4, ALL, {
    { "YP1029", "盐酸二甲双胍片 0.5g", 500, "mg", 2, ORAL, 28, 56, "片", "E11.9", "2型糖尿病", TRUE },
    { "YP1009", "缬沙坦胶囊 80mg", 80, "mg", 1, ORAL, 28, 28, "粒", "I10", "原发性高血压", TRUE } } },

  /* one or more cases for each finding code */
  { "prescriber-unqualified", 15, "routine", FALSE, "dr-2", 3, ALL, {
    { "YP1001", "苯磺酸氨氯地平片 5mg", 5, "mg", 1, ORAL, 28, 28, "片", "I10", "原发性高血压", TRUE } } },
  { "first-visit-online", 21, "routine", TRUE, "dr-1", 2, ALL, {
    { "YP1092", "盐酸西替利嗪片 10mg", 10, "mg", 1, ORAL, 7, 7, "片", "J30.4", "变应性鼻炎", FALSE } } },
  { "prescription-expired", 10, "routine", FALSE, "dr-1", 24 * 5, ALL, {
    { "YP1171", "奥美拉唑肠溶胶囊 20mg", 20, "mg", 1, ORAL, 7, 7, "粒", "K21.9", "胃食管反流病", FALSE } } },
  { "too-many-drugs", 5, "routine", FALSE, "dr-1", 5, ALL, {
    { "YP1001", "苯磺酸氨氯地平片 5mg", 5, "mg", 1, ORAL, 28, 28, "片", "I10", "原发性高血压", TRUE },
    { "YP1029", "盐酸二甲双胍片 0.5g", 500, "mg", 2, ORAL, 28, 56, "片", "E11.9", "2型糖尿病", TRUE },
    { "YP1053", "阿托伐他汀钙片 20mg", 20, "mg", 1, ORAL, 28, 28, "片", "E78.5", "高脂血症", TRUE },
    { "YP1063", "阿司匹林肠溶片 100mg", 100, "mg", 1, ORAL, 28, 28, "片", "I25.1", "冠状动脉粥样硬化性心脏病", TRUE },
    { "YP1171", "奥美拉唑肠溶胶囊 20mg", 20, "mg", 1, ORAL, 28, 28, "粒", "K21.9", "胃食管反流病", TRUE },
    { "YP1094", "别嘌醇片 0.1g", 100, "mg", 1, ORAL, 28, 28, "片", "M10.9", "痛风", TRUE } } },
  { "missing-element", 20, "routine", FALSE, "dr-1", 2, ALL, {
    { "YP1093", "氯雷他定片 10mg", 10, "mg", 1, ORAL, 7, 7, "片", NULL, NULL, FALSE } } },
  { "missing-element", DEMO_PEOPLE_WITHOUT_WEIGHT, "urgent", FALSE, "dr-1", 1, ALL, {
    { "YP1161", "对乙酰氨基酚片 0.5g", 120, "mg", 3, ORAL, 3, 1, "盒", "R50.9", "发热", FALSE } } },
  { "signature-missing", 22, "routine", FALSE, "dr-1", 3, 1, {
    { "YP1029", "盐酸二甲双胍片 0.5g", 500, "mg", 2, ORAL, 28, 56, "片", "E11.9", "2型糖尿病", TRUE },
    { "YP1009", "缬沙坦胶囊 80mg", 80, "mg", 1, ORAL, 28, 28, "粒", "I10", "原发性高血压", TRUE } } },
  { "signature-missing", 8, "routine", FALSE, "dr-1", 2, 0, {
    { "YP1093", "氯雷他定片 10mg", 10, "mg", 1, ORAL, 7, 7, "片", "J30.4", "变应性鼻炎", FALSE } } },
  { "prescriber-no-authority", 14, "routine", FALSE, "dr-1", 4, ALL, {
    { "YP1155", "伏立康唑片 200mg", 200, "mg", 2, ORAL, 7, 14, "片", "B37.9", "念珠菌病", FALSE } } },
  { "special-drug-online", 11, "routine", FALSE, "dr-1", 6, ALL, {
    { "YP1113", "阿普唑仑片 0.4mg", 0.4, "mg", 1, ORAL, 7, 7, "片", "F41.9", "焦虑障碍", FALSE } } },
  { "supply-too-long", 8, "routine", FALSE, "dr-1", 2, ALL, {
    { "YP1136", "头孢呋辛酯片 0.25g", 250, "mg", 2, ORAL, 14, 28, "片", "J01.9", "急性鼻窦炎", FALSE } } },
  { "supply-too-long", 17, "routine", FALSE, "dr-1", 3, ALL, {
    { "YP1001", "苯磺酸氨氯地平片 5mg", 5, "mg", 1, ORAL, 90, 90, "片", "I10", "原发性高血压", TRUE } } },
  { "dose-exceeds-max", 0, "urgent", FALSE, "dr-1", 1, ALL, {
    { "YP1161", "对乙酰氨基酚片 0.5g", 250, "mg", 4, ORAL, 3, 1, "盒", "R50.9", "发热", FALSE } } },
  { "dose-exceeds-max", 10, "routine", FALSE, "dr-1", 3, ALL, {
    { "YP1001", "苯磺酸氨氯地平片 5mg", 20, "mg", 1, ORAL, 28, 28, "片", "I10", "原发性高血压", TRUE } } },
  { "dose-unverifiable", 21, "routine", FALSE, "dr-1", 2, ALL, {
    { "YP1088", "盐酸氨溴索片 30mg", 10, "mL", 3, ORAL, 5, 1, "盒", "J20.9", "急性支气管炎", FALSE } } },
  { "route-mismatch", 15, "routine", FALSE, "dr-1", 2, ALL, {
    { "YP1171", "奥美拉唑肠溶胶囊 20mg", 20, "mg", 1, NULL, "静脉滴注", 7, 7, "粒", "K21.9", "胃食管反流病", FALSE } } },
  { "allergy", 7, "urgent", FALSE, "dr-1", 1, ALL, {
    { "YP1133", "阿莫西林胶囊 0.25g", 500, "mg", 3, ORAL, 5, 30, "粒", "J02.9", "急性咽炎", FALSE, "negative" } } },
  { "allergy-unverifiable", 16, "routine", FALSE, "dr-1", 4, ALL, {
    { "YP1092", "盐酸西替利嗪片 10mg", 10, "mg", 1, ORAL, 7, 7, "片", "L50.9", "荨麻疹", FALSE } } },
  { "population-contraindication", 3, "urgent", FALSE, "dr-1", 2, ALL, {
    { "YP1005", "马来酸依那普利片 10mg", 10, "mg", 1, ORAL, 28, 28, "片", "I10", "妊娠合并高血压", TRUE } } },
  { "population-contraindication", 4, "routine", FALSE, "dr-1", 5, ALL, {
    { "YP1011", "替米沙坦片 40mg", 40, "mg", 1, ORAL, 28, 28, "片", "I10", "原发性高血压", TRUE } } },
  { "population-contraindication", 2, "routine", FALSE, "dr-1", 3, ALL, {
    { "YP1144", "左氧氟沙星片 0.5g", 500, "mg", 1, ORAL, 5, 5, "片", "J18.9", "肺炎", FALSE } } },
  { "indication-mismatch", 20, "routine", FALSE, "dr-1", 6, ALL, {
    { "YP1053", "阿托伐他汀钙片 20mg", 20, "mg", 1, ORAL, 28, 28, "片", "I10", "原发性高血压", TRUE } } },
  { "skin-test-required", 19, "urgent", FALSE, "dr-1", 1, ALL, {
    { "YP1133", "阿莫西林胶囊 0.25g", 250, "mg", 3, ORAL, 5, 15, "粒", "J02.9", "急性咽炎", FALSE } } },
  { "unknown-drug", 21, "routine", FALSE, "dr-1", 7, ALL, {
    { "YP9901", "院内制剂 止咳合剂", 10, "mL", 3, ORAL, 5, 1, "瓶", "R05", "咳嗽", FALSE } } },
  { "duplicate-therapy", 22, "routine", FALSE, "dr-1", 8, ALL, {
    { "YP1001", "苯磺酸氨氯地平片 5mg", 5, "mg", 1, ORAL, 28, 28, "片", "I10", "原发性高血压", TRUE },
    { "YP1015", "缬沙坦氨氯地平片(Ⅰ) 80mg/5mg", 1, "片", 1, ORAL, 28, 28, "片", "I10", "原发性高血压", TRUE } } },
  { "drug-interaction", 17, "stat", FALSE, "dr-1", 1, ALL, {
    { "YP1076", "华法林钠片 2.5mg", 2.5, "mg", 1, ORAL, 28, 28, "片", "I48.9", "心房颤动", TRUE },
    { "YP1063", "阿司匹林肠溶片 100mg", 100, "mg", 1, ORAL, 28, 28, "片", "I25.1", "冠状动脉粥样硬化性心脏病", TRUE } } },
};

typedef struct {
  const char *text;
  const char *category;
} Allergy;

static const Allergy *
allergy_of (guint person)
{
  static const Allergy penicillin = { "青霉素", "medication" };
  static const Allergy unknown = { "某中药注射液", "medication" };
  static const Allergy mango = { "芒果", "food" };

  return person == 7 ? &penicillin : person == 16 ? &unknown : person == 10 ? &mango : NULL;
}

typedef struct {
  PdSandbox *sandbox;
  GString   *json;            /* scratch */
} Gen;

static gboolean
put_text (Gen        *g,
          const char *text,
          GError    **error)
{
  g_autoptr(JsonParser) p = json_parser_new ();

  if (!json_parser_load_from_data (p, text, -1, error))
    return FALSE;
  return pd_sandbox_fhir_put (g->sandbox, json_node_get_object (json_parser_get_root (p)), 0, error);
}

static char *
number (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.10g", v));
}

static const char *
timing_code (int per_day)
{
  static const char *codes[] = { "QD", "QD", "BID", "TID", "QID" };

  return per_day >= 0 && per_day < (int) G_N_ELEMENTS (codes) ? codes[per_day] : "QD";
}

/* UCUM when the unit is one, else a plain unit (a product unit). */
static char *
dose_quantity (const Line *l)
{
  g_autofree char *v = number (l->dose);
  gboolean ucum = g_str_equal (l->unit, "mg") || g_str_equal (l->unit, "ug") || g_str_equal (l->unit, "g")
                  || g_str_equal (l->unit, "mL");

  if (ucum)
    return g_strdup_printf ("{\"value\":%s,\"unit\":\"%s\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"%s\"}",
                            v, l->unit, l->unit);
  return g_strdup_printf ("{\"value\":%s,\"unit\":\"%s\"}", v, l->unit);
}

static gboolean
person_facts (Gen        *g,
              guint       person,
              char      **patient_id,
              int        *weight_g,
              gboolean   *pregnant,
              gboolean   *lactating)
{
  sqlite3_stmt *stmt = pd_store_prepare (g->sandbox->store,
    "SELECT patient_id, weight_g, pregnant, lactating FROM person WHERE id = ?", NULL);
  gboolean ok = FALSE;

  if (stmt == NULL)
    return FALSE;
  /* person.id is the row number from 1 */
  sqlite3_bind_int64 (stmt, 1, person + 1);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      *patient_id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      *weight_g = sqlite3_column_int (stmt, 1);
      *pregnant = sqlite3_column_int (stmt, 2);
      *lactating = sqlite3_column_int (stmt, 3);
      ok = TRUE;
    }
  sqlite3_reset (stmt);
  return ok;
}

/* A final LOINC Observation of the patient; `value` is its value[x] member. */
static gboolean
put_observation (Gen        *g,
                 const char *id,
                 const char *patient,
                 const char *when,
                 const char *loinc,
                 const char *text,
                 const char *value,
                 GError    **error)
{
  g_autofree char *json = g_strdup_printf ("{\"resourceType\":\"Observation\",\"id\":\"%s\",\"status\":\"final\","
    "\"code\":{\"coding\":[{\"system\":\"" LOINC "\",\"code\":\"%s\"}],\"text\":\"%s\"},"
    "\"subject\":{\"reference\":\"Patient/%s\"},\"effectiveDateTime\":\"%s\",%s}", id, loinc, text, patient, when, value);

  return put_text (g, json, error);
}

/* Weight, pregnancy, lactation and allergies, once per patient. */
static gboolean
write_patient_facts (Gen        *g,
                     guint       person,
                     const char *patient,
                     int         weight_g,
                     gboolean    pregnant,
                     gboolean    lactating,
                     const char *when,
                     GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (g->sandbox->store, "INSERT OR IGNORE INTO rx_patient_facts VALUES (?)", error);
  const Allergy *allergy = allergy_of (person);
  g_autofree char *text = NULL;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, patient, -1, SQLITE_TRANSIENT);
  if (!pd_store_step_done (g->sandbox->store, stmt, error))
    return FALSE;
  if (sqlite3_changes (pd_store_get_db (g->sandbox->store)) == 0)
    return TRUE;
  if (person != DEMO_PEOPLE_WITHOUT_WEIGHT)
    {
      g_autofree char *kg = number (weight_g / 1000.0);
      g_autofree char *id = g_strconcat ("wt-", patient, NULL);
      g_autofree char *value = g_strdup_printf ("\"valueQuantity\":{\"value\":%s,\"unit\":\"kg\","
                                                "\"system\":\"http://unitsofmeasure.org\",\"code\":\"kg\"}", kg);

      if (!put_observation (g, id, patient, when, "29463-7", "体重", value, error))
        return FALSE;
    }
  if (pregnant)
    {
      g_autofree char *id = g_strconcat ("preg-", patient, NULL);

      if (!put_observation (g, id, patient, when, "82810-3", "妊娠状态",
                            "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"" SNOMED "\",\"code\":\"77386006\"}],\"text\":\"妊娠\"}",
                            error))
        return FALSE;
    }
  if (lactating)
    {
      g_autofree char *id = g_strconcat ("lact-", patient, NULL);

      if (!put_observation (g, id, patient, when, "63895-7", "哺乳状态",
                            "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"" LOINC "\",\"code\":\"LA29252-6\"}],\"text\":\"哺乳期\"}",
                            error))
        return FALSE;
    }
  if (allergy != NULL)
    {
      text = g_strdup_printf ("{\"resourceType\":\"AllergyIntolerance\",\"id\":\"alg-%s\","
        "\"clinicalStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical\",\"code\":\"active\"}]},"
        "\"verificationStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/allergyintolerance-verification\",\"code\":\"confirmed\"}]},"
        "\"category\":[\"%s\"],\"code\":{\"text\":\"%s\"},\"patient\":{\"reference\":\"Patient/%s\"},\"recordedDate\":\"%s\"}",
        patient, allergy->category, allergy->text, patient, when);
      if (!put_text (g, text, error))
        return FALSE;
    }
  return TRUE;
}

/* The patient's problem list: one Condition per diagnosis. */
static gboolean
write_condition (Gen        *g,
                 const char *patient,
                 const Line *l,
                 const char *when,
                 GError    **error)
{
  g_autofree char *id = g_strdup_printf ("cond-%s-%s", patient, l->icd);
  g_autofree char *exists = pd_sandbox_fhir_stored (g->sandbox, "Condition", id, 0, NULL);
  g_autofree char *text = NULL;

  if (exists != NULL)
    return TRUE;
  text = g_strdup_printf ("{\"resourceType\":\"Condition\",\"id\":\"%s\","
    "\"clinicalStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/condition-clinical\",\"code\":\"active\"}]},"
    "\"verificationStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/condition-ver-status\",\"code\":\"confirmed\"}]},"
    "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/condition-category\",\"code\":\"problem-list-item\"}]}],"
    "\"code\":{\"coding\":[{\"system\":\"" ICD10 "\",\"code\":\"%s\",\"display\":\"%s\"}],\"text\":\"%s\"},"
    "\"subject\":{\"reference\":\"Patient/%s\"},\"recordedDate\":\"%s\"}",
    id, l->icd, l->diagnosis, l->diagnosis, patient, when);
  return put_text (g, text, error);
}

static char *
line_json (const Line *l,
           const char *serial,
           guint       n,
           const char *rx,
           const char *patient,
           const Case *c,
           const char *authored,
           const char *valid_end)
{
  g_autofree char *dose = dose_quantity (l);
  g_autofree char *route = l->route != NULL
    ? g_strdup_printf ("{\"coding\":[{\"system\":\"" SNOMED "\",\"code\":\"%s\"}],\"text\":\"%s\"}", l->route, l->route_text)
    : g_strdup_printf ("{\"text\":\"%s\"}", l->route_text);
  g_autofree char *reason = l->icd != NULL
    ? g_strdup_printf (",\"reasonCode\":[{\"coding\":[{\"system\":\"" ICD10 "\",\"code\":\"%s\",\"display\":\"%s\"}],\"text\":\"%s\"}]",
                       l->icd, l->diagnosis, l->diagnosis)
    : g_strdup ("");

  return g_strdup_printf ("{\"resourceType\":\"MedicationRequest\",\"id\":\"mr-%s-%u\",\"status\":\"active\",\"intent\":\"order\","
    "\"priority\":\"%s\",\"groupIdentifier\":{\"system\":\"" PD_SANDBOX_RX_SYSTEM "\",\"value\":\"%s\"},"
    "\"medicationCodeableConcept\":{\"coding\":[{\"system\":\"urn:pharmdesk:product-code\",\"code\":\"%s\",\"display\":\"%s\"}],\"text\":\"%s\"},"
    "\"subject\":{\"reference\":\"Patient/%s\"},\"encounter\":{\"reference\":\"Encounter/enc-%s\"},"
    "\"requester\":{\"reference\":\"Practitioner/%s\"},\"authoredOn\":\"%s\","
    "\"courseOfTherapyType\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy\",\"code\":\"%s\"}]},"
    "\"dosageInstruction\":[{\"text\":\"%s\",\"timing\":{\"repeat\":{\"frequency\":%d,\"period\":1,\"periodUnit\":\"d\"},"
    "\"code\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation\",\"code\":\"%s\"}]}},"
    "\"route\":%s,\"doseAndRate\":[{\"doseQuantity\":%s}]}],"
    "\"dispenseRequest\":{\"validityPeriod\":{\"start\":\"%s\",\"end\":\"%s\"},"
    "\"quantity\":{\"value\":%d,\"unit\":\"%s\"},"
    "\"expectedSupplyDuration\":{\"value\":%d,\"unit\":\"d\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"d\"}}%s}",
    serial, n, c->priority, rx, l->code, l->name, l->name, patient, serial, c->requester, authored,
    l->continuous ? "continuous" : "acute", l->route_text, l->per_day, timing_code (l->per_day), route, dose,
    authored, valid_end, l->quantity, l->quantity_unit, l->days, reason);
}

/* --- how the patient receives the drugs --------------------------------------------- */

typedef struct {
  const char *district, *postal_code, *line;
  const char *latitude, *longitude;     /* NULL: not known */
} Address;

/* Homes in Beijing, one per patient (by person); where the coordinates
 * are known the courier gets them too. Each is a multiple of 1/1024
 * degree (about 100 m): exact in binary, so json-glib, which writes
 * doubles as %.17g, stores them as written here. */
static const Address addresses[] = {
  { "朝阳区", "100102", "望京西园三区312号楼4单元602室", "39.99609375", "116.470703125" },
  { "海淀区", "100085", "上地东里二区5号楼2单元301室", "40.0341796875", "116.3125" },
  { "东城区", "100010", "东四十条甲22号南新仓商务大厦B座1105室", "39.9326171875", "116.431640625" },
  { "西城区", "100032", "太平桥大街18号丰融园小区3号楼1502室", "39.9150390625", "116.357421875" },
  { "丰台区", "100070", "科学城海鹰路6号院9号楼703室", "39.8271484375", "116.2880859375" },
  { "石景山区", "100043", "古城南街8号院2号楼1单元404室", NULL, NULL },
  { "通州区", "101100", "新华北街133号院5号楼2单元902室", "39.91015625", "116.6552734375" },
  { "昌平区", "102208", "回龙观龙泽苑东区12号楼3单元201室", NULL, NULL },
  { "大兴区", "102600", "兴政街15号院6号楼1单元1101室", "39.7265625", "116.33984375" },
  { "顺义区", "101300", "府前中街9号院1号楼801室", NULL, NULL },
};

/* Family members who take the parcel for a child or for someone away. */
static const char *receivers[] = { "刘建华", "陈晓梅", "赵立新", "孙丽娟", "周海涛", "吴桂芳" };

static gboolean
is_child (Gen        *g,
          guint       person,
          GDateTime  *on)
{
  sqlite3_stmt *stmt = pd_store_prepare (g->sandbox->store, "SELECT birth_date FROM person WHERE id = ?", NULL);
  int year = 0, month = 0, day = 0, age = 99;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person + 1);
  if (sqlite3_step (stmt) == SQLITE_ROW
      && sscanf ((const char *) sqlite3_column_text (stmt, 0), "%d-%d-%d", &year, &month, &day) == 3)
    age = g_date_time_get_year (on) - year
          - (g_date_time_get_month (on) * 100 + g_date_time_get_day_of_month (on) < month * 100 + day ? 1 : 0);
  sqlite3_reset (stmt);
  return age < 14;
}

/* hospital.md's delivery input, or nothing (collection at the pharmacy).
 * From the prescription's number and --seed, two in five are collected,
 * the others delivered: to the patient (with or without coordinates) or
 * to someone else, who is named with a phone — always for a child. */
static void
append_delivery (Gen        *g,
                 gint64      number,
                 guint       person,
                 GDateTime  *on,
                 GString    *inputs)
{
  guint mode = (guint) (((guint64) number + g->sandbox->seed) % 5);
  const Address *a = &addresses[person % G_N_ELEMENTS (addresses)];
  gboolean other;
  gboolean geo = mode != 3 && a->latitude != NULL;
  g_autoptr(GString) extensions = NULL;

  if (mode < 2)
    return;
  other = mode == 4 || is_child (g, person, on);
  extensions = g_string_new (NULL);
  if (other)
    g_string_append_printf (extensions, "{\"url\":\"urn:pharmdesk:receiver-name\",\"valueString\":\"%s\"},"
                            "{\"url\":\"urn:pharmdesk:receiver-phone\",\"valueString\":\"139%08u\"}",
                            receivers[number % G_N_ELEMENTS (receivers)], (guint) ((number * 7919 + 1234567) % 100000000));
  if (geo)
    g_string_append_printf (extensions, "%s{\"url\":\"http://hl7.org/fhir/StructureDefinition/geolocation\",\"extension\":["
                            "{\"url\":\"latitude\",\"valueDecimal\":%s},{\"url\":\"longitude\",\"valueDecimal\":%s}]}",
                            extensions->len > 0 ? "," : "", a->latitude, a->longitude);
  g_string_append_printf (inputs, ",{\"type\":{\"text\":\"delivery\"},\"valueAddress\":{%s%s%s"
                          "\"use\":\"home\",\"type\":\"physical\",\"text\":\"北京市%s%s\",\"line\":[\"%s\"],"
                          "\"city\":\"北京市\",\"district\":\"%s\",\"state\":\"北京市\",\"postalCode\":\"%s\",\"country\":\"CN\"}}",
                          extensions->len > 0 ? "\"extension\":[" : "", extensions->str, extensions->len > 0 ? "]," : "",
                          a->district, a->line, a->line, a->district, a->postal_code);
}

/* One prescription of case `c` for `person`, issued at `authored_us`. */
static gboolean
write_prescription (Gen        *g,
                    const Case *c,
                    guint       person,
                    const char *priority,
                    gint64      authored_us,
                    GError    **error)
{
  gint64 number_ = pd_sandbox_counter_next (g->sandbox, "rx", error);
  g_autofree char *serial = g_strdup_printf ("%08" G_GINT64_FORMAT, number_);
  g_autofree char *rx = g_strdup_printf ("RX%s", serial);
  g_autofree char *authored = pd_time_format_iso (authored_us);
  g_autofree char *visit = pd_time_format_iso (authored_us - 10 * 60 * G_USEC_PER_SEC);
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (authored_us / G_USEC_PER_SEC);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, pd_china_time_zone ());
  g_autoptr(GDateTime) last_day = g_date_time_add_days (local, 2);
  g_autofree char *valid_end = g_date_time_format (last_day, "%Y-%m-%d");
  g_autofree char *patient = NULL;
  g_autoptr(GString) inputs = g_string_new (NULL);
  g_autoptr(GString) targets = g_string_new (NULL);
  g_autofree char *text = NULL;
  Case with_priority = *c;
  int weight_g = 0;
  gboolean pregnant = FALSE, lactating = FALSE;
  guint n_lines = 0;

  if (number_ < 0)
    return FALSE;
  if (!person_facts (g, person, &patient, &weight_g, &pregnant, &lactating))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no demo person %u", person);
      return FALSE;
    }
  with_priority.priority = priority;
  if (!write_patient_facts (g, person, patient, weight_g, pregnant, lactating, visit, error))
    return FALSE;
  text = g_strdup_printf ("{\"resourceType\":\"Encounter\",\"id\":\"enc-%s\",\"status\":\"finished\","
    "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"VR\",\"display\":\"virtual\"},"
    "\"type\":[{\"coding\":[{\"system\":\"" SNOMED "\",\"code\":\"%s\",\"display\":\"%s\"}],\"text\":\"%s\"}],"
    "\"serviceType\":{\"text\":\"互联网医院\"},\"subject\":{\"reference\":\"Patient/%s\"},"
    "\"participant\":[{\"individual\":{\"reference\":\"Practitioner/%s\"}}],\"period\":{\"start\":\"%s\",\"end\":\"%s\"}}",
    serial, c->first_visit ? "185349003" : "185389009", c->first_visit ? "Encounter for check up" : "Follow-up visit",
    c->first_visit ? "初诊" : "复诊", patient, c->requester, visit, authored);
  if (!put_text (g, text, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (c->lines) && c->lines[i].code != NULL; i++, n_lines++)
    {
      const Line *l = &c->lines[i];
      g_autofree char *mr = line_json (l, serial, i + 1, rx, patient, &with_priority, authored, valid_end);

      if (!put_text (g, mr, error))
        return FALSE;
      if (l->icd != NULL && !write_condition (g, patient, l, visit, error))
        return FALSE;
      if (l->skin_test != NULL)
        {
          g_autofree char *skin = g_strdup_printf ("{\"resourceType\":\"Observation\",\"id\":\"skin-%s-%u\",\"status\":\"final\","
            "\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:observation\",\"code\":\"skin-test\"}],\"text\":\"青霉素皮试\"},"
            "\"subject\":{\"reference\":\"Patient/%s\"},\"focus\":[{\"reference\":\"MedicationRequest/mr-%s-%u\"}],"
            "\"effectiveDateTime\":\"%s\",\"valueCodeableConcept\":{\"coding\":[{\"system\":\"urn:pharmdesk:observation\","
            "\"code\":\"%s\"}],\"text\":\"%s\"}}",
            serial, i + 1, patient, serial, i + 1, visit, l->skin_test, g_str_equal (l->skin_test, "negative") ? "阴性" : "阳性");

          if (!put_text (g, skin, error))
            return FALSE;
        }
      g_string_append_printf (inputs, "%s{\"type\":{\"text\":\"line\"},\"valueReference\":{\"reference\":\"MedicationRequest/mr-%s-%u\"}}",
                              i > 0 ? "," : "", serial, i + 1);
      if (c->signed_lines < 0 || (int) i < c->signed_lines)
        g_string_append_printf (targets, "%s{\"reference\":\"MedicationRequest/mr-%s-%u\"}", i > 0 ? "," : "", serial, i + 1);
    }
  if (targets->len > 0)
    {
      g_autofree char *sig = g_base64_encode ((const guchar *) serial, strlen (serial));

      g_free (text);
      text = g_strdup_printf ("{\"resourceType\":\"Provenance\",\"id\":\"prov-%s\",\"target\":[%s],\"recorded\":\"%s\","
        "\"activity\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-DataOperation\",\"code\":\"CREATE\"}]},"
        "\"agent\":[{\"type\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/provenance-participant-type\",\"code\":\"author\"}]},"
        "\"who\":{\"reference\":\"Practitioner/%s\"}}],"
        "\"signature\":[{\"type\":[{\"system\":\"urn:iso-astm:E1762-95:2013\",\"code\":\"1.2.840.10065.1.12.1.1\"}],"
        "\"when\":\"%s\",\"who\":{\"reference\":\"Practitioner/%s\"},\"sigFormat\":\"application/jose\","
        "\"data\":\"ZXlKaGJHY2lPaUpGWkVSVFFTSjkuLi4%s\"}]}",
        serial, targets->str, authored, c->requester, authored, c->requester, sig);
      if (!put_text (g, text, error))
        return FALSE;
    }
  append_delivery (g, number_, person, local, inputs);
  g_free (text);
  text = g_strdup_printf ("{\"resourceType\":\"Task\",\"id\":\"task-%s\",\"status\":\"requested\",\"intent\":\"order\","
    "\"priority\":\"%s\",\"code\":{\"coding\":[{\"system\":\"urn:pharmdesk:task\",\"code\":\"rx-review\"}],\"text\":\"处方审核\"},"
    "\"description\":\"处方 %s（%u 个药品）\",\"focus\":{\"reference\":\"MedicationRequest/mr-%s-1\"},"
    "\"groupIdentifier\":{\"system\":\"" PD_SANDBOX_RX_SYSTEM "\",\"value\":\"%s\"},"
    "\"for\":{\"reference\":\"Patient/%s\"},\"encounter\":{\"reference\":\"Encounter/enc-%s\"},"
    "\"authoredOn\":\"%s\",\"requester\":{\"reference\":\"Practitioner/%s\"},\"input\":[%s]}",
    serial, priority, rx, n_lines, serial, rx, patient, serial, authored, c->requester, inputs->str);
  return put_text (g, text, error);
}

/* --- demo, arrivals, bulk -------------------------------------------------------------- */

static gboolean
write_demo (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  Gen g = { user_data, NULL };
  PdSandbox *sandbox = g.sandbox;
  gint64 now_us = pd_clock_now_us (sandbox->clock);
  gint64 done = pd_sandbox_counter_next (sandbox, "demo", error);
  sqlite3_stmt *stmt;

  if (done != 1)
    return done > 1;   /* seeded (or refused) before */
  for (guint i = 0; !sandbox->no_demo && i < G_N_ELEMENTS (cases); i++)
    if (!write_prescription (&g, &cases[i], cases[i].person, cases[i].priority,
                             now_us - (gint64) cases[i].hours_ago * 3600 * G_USEC_PER_SEC, error))
      return FALSE;
  stmt = pd_store_prepare (store, "UPDATE hospital_counter SET value = ? WHERE name = 'next_arrival_ms'", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now_us / 1000 + sandbox->arrival_every_s * 1000);
  return pd_store_step_done (store, stmt, error);
}

gboolean
pd_sandbox_rx_seed_demo (PdSandbox *sandbox,
                         GError   **error)
{
  return pd_store_write (sandbox->store, write_demo, sandbox, error);
}

/* The n-th arrival's case and priority, from --seed alone. */
static const Case *
arrival_case (PdSandbox  *sandbox,
              gint64      n,
              const char **priority)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed ((guint32) (sandbox->seed * 2246822519u + (guint64) n * 3266489917u));
  const Case *c = &cases[g_rand_int_range (rand, 0, G_N_ELEMENTS (cases))];
  int roll = g_rand_int_range (rand, 0, 100);

  *priority = roll < 5 ? "stat" : roll < 20 ? "urgent" : c->priority;
  return c;
}

#define MAX_CATCH_UP 100

static gboolean
write_arrivals (PdStore  *store,
                gpointer  user_data,
                GError  **error)
{
  Gen g = { user_data, NULL };
  PdSandbox *sandbox = g.sandbox;
  gint64 now_ms = pd_clock_now_us (sandbox->clock) / 1000, next_ms, every_ms = sandbox->arrival_every_s * 1000;
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT value FROM hospital_counter WHERE name = 'next_arrival_ms'", error);
  guint made = 0;

  if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
    return stmt != NULL && (sqlite3_reset (stmt), FALSE);
  next_ms = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (next_ms <= 0)
    next_ms = now_ms + every_ms;
  for (; next_ms <= now_ms && made < MAX_CATCH_UP; next_ms += every_ms, made++)
    {
      const char *priority;
      const Case *c;
      /* The case follows from the seed and the prescription's number. */
      sqlite3_stmt *peek = pd_store_prepare (store, "SELECT value + 1 FROM hospital_counter WHERE name = 'rx'", error);

      if (peek == NULL || sqlite3_step (peek) != SQLITE_ROW)
        return FALSE;
      c = arrival_case (sandbox, sqlite3_column_int64 (peek, 0), &priority);
      sqlite3_reset (peek);
      if (!write_prescription (&g, c, c->person, priority, next_ms * 1000, error))
        return FALSE;
    }
  /* A clock moved far ahead makes MAX_CATCH_UP arrivals, not thousands. */
  if (next_ms <= now_ms)
    next_ms = now_ms + every_ms;
  stmt = pd_store_prepare (store, "UPDATE hospital_counter SET value = ? WHERE name = 'next_arrival_ms'", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, next_ms);
  return pd_store_step_done (store, stmt, error);
}

void
pd_sandbox_rx_arrivals (PdSandbox *sandbox)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt;
  gint64 next_ms = G_MAXINT64;

  if (sandbox->arrival_every_s <= 0)
    return;
  stmt = pd_store_prepare (sandbox->store, "SELECT value FROM hospital_counter WHERE name = 'next_arrival_ms'", NULL);
  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    next_ms = sqlite3_column_int64 (stmt, 0);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  if (next_ms > pd_clock_now_us (sandbox->clock) / 1000)
    return;
  if (!pd_store_write (sandbox->store, write_arrivals, sandbox, &error))
    g_warning ("new prescriptions: %s", error->message);
}

typedef struct {
  PdSandbox *sandbox;
  guint      first, count;
  gint64     people;
} Bulk;

static gboolean
write_bulk (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  Bulk *b = user_data;
  Gen g = { b->sandbox, NULL };
  gint64 now_us = pd_clock_now_us (b->sandbox->clock);

  for (guint i = b->first; i < b->first + b->count; i++)
    {
      const Case *c = &cases[i % G_N_ELEMENTS (cases)];
      /* The demo people first, so that every case meets its kind, then
       * everyone else. */
      guint person = i < G_N_ELEMENTS (cases) ? c->person : (guint) (i % b->people);

      if (!write_prescription (&g, c, person, c->priority, now_us - (gint64) (c->hours_ago % 24) * 3600 * G_USEC_PER_SEC, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
pd_sandbox_rx_bulk_load (PdSandbox *sandbox,
                         guint      count,
                         GError   **error)
{
  Bulk b = { sandbox, 0, 0, 0 };
  sqlite3_stmt *stmt = pd_store_prepare (sandbox->store, "SELECT count(*) FROM person", error);

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    b.people = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (b.people < PD_SANDBOX_DEMO_PEOPLE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the demo people are missing");
      return FALSE;
    }
  /* Batches of 5,000: one transaction each keeps the WAL small. */
  for (b.first = 0; b.first < count; b.first += b.count)
    {
      b.count = MIN (5000, count - b.first);
      if (!pd_store_write (sandbox->store, write_bulk, &b, error))
        return FALSE;
    }
  return TRUE;
}

/* --- cancellation by the prescriber -------------------------------------------------- */

typedef struct {
  PdSandbox  *sandbox;
  const char *key;
  guint       status;
  char       *task_id;
  char       *problem;
} Cancel;

static gboolean
set_status (PdSandbox  *sandbox,
            const char *type,
            const char *id,
            GError    **error)
{
  g_autoptr(JsonObject) r = pd_sandbox_fhir_load (sandbox, type, id, NULL);

  if (r == NULL)
    return TRUE;
  json_object_set_string_member (r, "status", "cancelled");
  if (g_str_equal (type, "Task"))
    {
      json_object_set_object_member (r, "statusReason", json_object_new ());
      json_object_set_string_member (json_object_get_object_member (r, "statusReason"), "text", "处方已被开方医生撤销");
    }
  return pd_sandbox_fhir_put (sandbox, r, 0, error);
}

static gboolean
write_cancel (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  Cancel *c = user_data;
  g_autoptr(GPtrArray) tasks = pd_sandbox_fhir_lookup (c->sandbox, "Task", "group", c->key);
  g_autoptr(JsonObject) task = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *live = NULL;
  const char *status, *value;
  JsonObject *group;

  c->task_id = g_strdup (tasks->len > 0 ? tasks->pdata[0] : c->key);
  task = pd_sandbox_fhir_load (c->sandbox, "Task", c->task_id, NULL);
  group = task != NULL && json_object_has_member (task, "groupIdentifier") ? json_object_get_object_member (task, "groupIdentifier") : NULL;
  if (group == NULL)
    {
      c->status = 404;
      c->problem = g_strdup_printf ("no prescription or Task %s", c->key);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, c->problem);
      return FALSE;
    }
  /* hospital.md: until the prescription has an in-progress or completed
   * dispense, whatever the Task's state (approved included). */
  status = json_object_get_string_member_with_default (task, "status", "");
  value = json_object_get_string_member_with_default (group, "value", "");
  live = pd_sandbox_rx_live_dispense (c->sandbox, value, NULL);
  if (g_str_equal (status, "cancelled") || live != NULL)
    {
      c->status = 409;
      c->problem = live != NULL ? g_strdup_printf ("prescription %s is dispensed (%s): it can no longer be cancelled", value, live)
                                : g_strdup_printf ("Task %s is cancelled already", c->task_id);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, c->problem);
      return FALSE;
    }
  lines = pd_sandbox_fhir_lookup (c->sandbox, "MedicationRequest", "group", value);
  for (guint i = 0; i < lines->len; i++)
    if (!set_status (c->sandbox, "MedicationRequest", lines->pdata[i], error))
      return FALSE;
  c->status = 200;
  return set_status (c->sandbox, "Task", c->task_id, error);
}

guint
pd_sandbox_rx_cancel (PdSandbox  *sandbox,
                      const char *prescription,
                      char      **task_id,
                      char      **problem)
{
  Cancel c = { sandbox, prescription, 500, NULL, NULL };
  g_autoptr(GError) error = NULL;

  if (!pd_store_write (sandbox->store, write_cancel, &c, &error) && c.problem == NULL)
    c.problem = g_strdup (error->message);
  *task_id = c.task_id;
  *problem = c.problem;
  return c.status;
}
