/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-fhir-reader"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-fhir-reader.h"
#include "pd-json-doc.h"

G_DEFINE_QUARK (pd-fhir-error-quark, pd_fhir_error)

#define SNOMED "http://snomed.info/sct"
#define LOINC "http://loinc.org"
#define UCUM "http://unitsofmeasure.org"
#define DAY_US (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)

typedef struct {
  const PdJv *bundle;
  GHashTable *by_full_url;   /* fullUrl → const PdJv */
  GHashTable *by_type_id;    /* "Type/id" → const PdJv */
  GPtrArray  *resources;     /* const PdJv*, Bundle order */
  PdKb       *kb;
} Reader;

void
pd_rx_free (PdRx *rx)
{
  if (rx == NULL)
    return;
  g_free (rx->id);
  g_free (rx->system);
  g_clear_pointer (&rx->lines, g_ptr_array_unref);
  g_clear_pointer (&rx->qualifications, g_ptr_array_unref);
  g_clear_pointer (&rx->allergies, g_ptr_array_unref);
  g_free (rx->weight_reading.at);
  g_free (rx->pregnancy_reading.at);
  g_free (rx->lactation_reading.at);
  g_free (rx);
}

static void
skin_test_free (gpointer data)
{
  PdRxSkinTest *t = data;

  g_free (t->result);
  g_free (t->at);
  g_free (t);
}

static void
line_free (gpointer data)
{
  PdRxLine *l = data;

  g_free (l->id);
  g_free (l->version);
  g_free (l->status);
  g_free (l->drug_text);
  g_free (l->dose_unit);
  g_free (l->route);
  g_free (l->route_text);
  g_free (l->quantity_unit);
  g_clear_pointer (&l->icd10, g_ptr_array_unref);
  g_clear_pointer (&l->skin_tests, g_ptr_array_unref);
  g_free (l);
}

static void
qualification_free (gpointer data)
{
  PdQualification *q = data;

  g_free (q->code);
  g_free (q);
}

static void
allergy_free (gpointer data)
{
  PdRxAllergy *a = data;

  g_strfreev (a->terms);
  g_free (a->text);
  g_free (a->recorded_at);
  g_free (a);
}

/* --- JSON helpers ----------------------------------------------------------- */

#define obj(o, m) pd_jv_obj (o, m)
#define arr(o, m) pd_jv_arr (o, m)
#define str(o, m) pd_jv_str (o, m)
#define arr_obj(a, i) pd_jv_at_obj (a, i)

static gboolean
num (const PdJv *o,
     const char *member,
     double     *out)
{
  return pd_jv_double (pd_jv_member (o, member), out);
}

/* A CodeableConcept with that code (in that system; NULL: any). */
gboolean
pd_fhir_codeable_has (const PdJv *cc,
                      const char *system,
                      const char *code)
{
  const PdJv *codings = arr (cc, "coding");

  for (guint i = 0; codings != NULL && i < pd_jv_len (codings); i++)
    {
      const PdJv *c = arr_obj (codings, i);

      if ((system == NULL || g_strcmp0 (str (c, "system"), system) == 0) && g_strcmp0 (str (c, "code"), code) == 0)
        return TRUE;
    }
  return FALSE;
}

static const char *
resource_label (const PdJv *r)
{
  static __thread char buf[128];   /* the preparing thread of a pull and the UI read at once */

  g_snprintf (buf, sizeof buf, "%s %s", str (r, "resourceType") != NULL ? str (r, "resourceType") : "resource",
              str (r, "id") != NULL ? str (r, "id") : "(no id)");
  return buf;
}

/* A resource of a collection Bundle by type and id (id NULL: the first). */
const PdJv *
pd_fhir_bundle_resource (const PdJv *bundle,
                         const char *type,
                         const char *id)
{
  const PdJv *entries = arr (bundle, "entry");

  for (const PdJv *entry = pd_jv_first (entries); entry != NULL; entry = pd_jv_next (entries, entry))
    {
      const PdJv *r = obj (entry, "resource");

      if (g_strcmp0 (str (r, "resourceType"), type) == 0 && (id == NULL || g_strcmp0 (str (r, "id"), id) == 0))
        return r;
    }
  return NULL;
}

/* name[0].text, else family then given (Chinese order); NULL when none. */
char *
pd_fhir_human_name (const PdJv *resource)
{
  const PdJv *name = arr_obj (arr (resource, "name"), 0);
  const PdJv *given = arr (name, "given");
  GString *s;

  if (name == NULL)
    return NULL;
  if (str (name, "text") != NULL)
    return g_strdup (str (name, "text"));
  s = g_string_new (str (name, "family"));
  for (const PdJv *g = pd_jv_first (given); g != NULL; g = pd_jv_next (given, g))
    if (pd_jv_string (g) != NULL)
      g_string_append (s, pd_jv_string (g));
  return g_string_free (s, s->len == 0);
}

/* --- references ----------------------------------------------------------------- */

/* Type/id (a /_history/n suffix dropped), a fullUrl, or #id in contained. */
static const PdJv *
resolve (Reader     *r,
         const PdJv *from,
         const char *reference)
{
  g_autofree char *ref = NULL;
  char *hist;
  const PdJv *found;

  if (reference == NULL)
    return NULL;
  if (reference[0] == '#')
    {
      const PdJv *contained = arr (from, "contained");

      for (const PdJv *c = pd_jv_first (contained); c != NULL; c = pd_jv_next (contained, c))
        if (g_strcmp0 (str (c, "id"), reference + 1) == 0)
          return c;
      return NULL;
    }
  found = g_hash_table_lookup (r->by_full_url, reference);
  if (found != NULL)
    return found;
  ref = g_strdup (reference);
  hist = strstr (ref, "/_history/");
  if (hist != NULL)
    *hist = '\0';
  found = g_hash_table_lookup (r->by_full_url, ref);
  if (found != NULL)
    return found;
  found = g_hash_table_lookup (r->by_type_id, ref);
  if (found != NULL)
    return found;
  /* An absolute URL ending in Type/id. */
  {
    char *slash = strrchr (ref, '/');

    if (slash != NULL && slash != ref)
      {
        char *type = slash - 1;

        while (type > ref && type[-1] != '/')
          type--;
        return g_hash_table_lookup (r->by_type_id, type);
      }
  }
  return NULL;
}

/* A reference the engine follows: a dangling one is bad input. */
static gboolean
follow (Reader      *r,
        const PdJv  *from,
        const char  *member,
        const char  *want_type,
        const PdJv **out,
        GError     **error)
{
  const PdJv *ref = obj (from, member);
  const char *reference = str (ref, "reference");
  const PdJv *target;

  *out = NULL;
  if (reference == NULL)
    return TRUE;
  target = resolve (r, from, reference);
  if (target == NULL || (want_type != NULL && g_strcmp0 (str (target, "resourceType"), want_type) != 0
                         && !(g_str_equal (want_type, "Practitioner")
                              && g_strcmp0 (str (target, "resourceType"), "PractitionerRole") == 0)))
    {
      g_set_error (error, PD_FHIR_ERROR, PD_FHIR_ERROR_INVALID,
                   _("%s: its %s “%s” does not resolve to a %s in the Bundle"),
                   resource_label (from), member, reference, want_type != NULL ? want_type : "resource");
      return FALSE;
    }
  *out = target;
  return TRUE;
}

/* --- times --------------------------------------------------------------------- */

/* A dateTime: with an offset as written; a date alone is that day in China
 * time; end-of-day when asked. */
static gboolean
parse_time (const char *s,
            gboolean    end_of_day,
            gint64     *out)
{
  return s != NULL && pd_time_parse_fhir (s, end_of_day, out);
}

static gboolean
leap (int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Completed years at (ty, tm, td); a 29 February birthday counts from
 * 1 March in other years. */
static int
age_at (int by,
        int bm,
        int bd,
        int ty,
        int tm,
        int td)
{
  if (bm == 2 && bd == 29 && !leap (ty))
    {
      bm = 3;
      bd = 1;
    }
  return ty - by - ((tm < bm || (tm == bm && td < bd)) ? 1 : 0);
}

/* A FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) that names a real day; n is
 * the number of parts given. */
static gboolean
read_birth_date (const char *birth,
                 int        *y,
                 int        *m,
                 int        *d,
                 int        *n)
{
  char tail = '\0';
  size_t len = birth != NULL ? strlen (birth) : 0;

  if (len != 4 && len != 7 && len != 10)
    return FALSE;
  for (size_t i = 0; i < len; i++)
    if ((i == 4 || i == 7) ? birth[i] != '-' : !g_ascii_isdigit (birth[i]))
      return FALSE;
  *n = sscanf (birth, "%4d-%2d-%2d%c", y, m, d, &tail);
  if (*y < 1800 || (*n >= 2 && (*m < 1 || *m > 12)) || (*n == 3 && (*d < 1 || *d > g_date_get_days_in_month (*m, *y))))
    return FALSE;
  return TRUE;
}

/* FALSE when the birth date cannot be read: review.md's missing birthDate. */
static gboolean
read_age (PdRx       *rx,
          const char *birth)
{
  int y = 0, m = 0, d = 0, n = 0, ty, tm, td;

  rx->age_for_child = rx->age_for_elderly = -1;
  if (!read_birth_date (birth, &y, &m, &d, &n))
    return FALSE;
  if (!rx->has_authored)
    return TRUE;
  pd_china_date (rx->authored_us, &ty, &tm, &td);
  if (n == 1)
    {
      rx->age_for_child = age_at (y, 12, 31, ty, tm, td);
      rx->age_for_elderly = age_at (y, 1, 1, ty, tm, td);
    }
  else if (n == 2)
    {
      rx->age_for_child = age_at (y, m, g_date_get_days_in_month (m, y), ty, tm, td);
      rx->age_for_elderly = age_at (y, m, 1, ty, tm, td);
    }
  else
    rx->age_for_child = rx->age_for_elderly = age_at (y, m, d, ty, tm, td);
  return TRUE;
}

/* --- units and codes --------------------------------------------------------------- */

static const struct { const char *snomed; const char *token; } snomed_routes[] = {
  { "26643006", "oral" }, { "47625008", "iv" }, { "78421000", "im" }, { "34206005", "sc" },
  { "6064005", "topical" }, { "447694001", "inhaled" }, { "37161004", "rectal" }, { "37839007", "sublingual" },
  { "54485002", "ophthalmic" }, { "46713006", "nasal" }, { "45890007", "transdermal" },
};

static const struct { const char *word; const char *token; } chinese_routes[] = {
  { "口服", "oral" }, { "静脉滴注", "iv" }, { "静脉注射", "iv" }, { "肌内注射", "im" }, { "皮下注射", "sc" },
  { "外用", "topical" }, { "吸入", "inhaled" }, { "直肠给药", "rectal" }, { "舌下含服", "sublingual" },
  { "滴眼", "ophthalmic" }, { "滴鼻", "nasal" }, { "透皮贴", "transdermal" },
};

static const struct { const char *code; int per_day; } timing_codes[] = {
  { "QD", 1 }, { "QOD", 1 }, { "AM", 1 }, { "PM", 1 }, { "BED", 1 }, { "WK", 1 }, { "MO", 1 },
  { "BID", 2 }, { "TID", 3 }, { "QID", 4 }, { "Q8H", 3 }, { "Q6H", 4 }, { "Q4H", 6 }, { "Q3H", 8 },
  { "Q2H", 12 }, { "Q1H", 24 }, { "Q12H", 2 },
};

static const char *
route_token (const PdJv *route)
{
  const PdJv *codings = arr (route, "coding");
  const char *text = str (route, "text");
  static const char *tokens[] = { "oral", "iv", "im", "sc", "topical", "inhaled", "rectal", "sublingual",
                                  "ophthalmic", "nasal", "transdermal" };

  for (guint i = 0; codings != NULL && i < pd_jv_len (codings); i++)
    {
      const PdJv *c = arr_obj (codings, i);

      if (g_strcmp0 (str (c, "system"), SNOMED) != 0)
        continue;
      for (guint k = 0; k < G_N_ELEMENTS (snomed_routes); k++)
        if (g_strcmp0 (str (c, "code"), snomed_routes[k].snomed) == 0)
          return snomed_routes[k].token;
    }
  if (text != NULL)
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (text));

      for (guint k = 0; k < G_N_ELEMENTS (tokens); k++)
        if (g_ascii_strcasecmp (trimmed, tokens[k]) == 0)
          return tokens[k];
      for (guint k = 0; k < G_N_ELEMENTS (chinese_routes); k++)
        if (g_str_equal (trimmed, chinese_routes[k].word))
          return chinese_routes[k].token;
    }
  return NULL;
}

/* The most doses that can fall in one day; 0 when not understood. */
static int
per_day (const PdJv *timing,
         gboolean   *present)
{
  const PdJv *repeat = obj (timing, "repeat");
  const PdJv *code = obj (timing, "code");

  *present = FALSE;
  if (repeat != NULL && ((pd_jv_member (repeat, "frequency") != NULL) || (pd_jv_member (repeat, "frequencyMax") != NULL)
                         || (pd_jv_member (repeat, "period") != NULL)))
    {
      double f = 1, p = 0;
      const char *unit = str (repeat, "periodUnit");

      *present = TRUE;
      if (!num (repeat, "frequencyMax", &f) && !num (repeat, "frequency", &f))
        f = 1;
      if (!num (repeat, "period", &p) || p <= 0 || f <= 0 || unit == NULL)
        return 0;
      if (g_str_equal (unit, "h"))
        return (int) ceil (f * 24.0 / p - 1e-9);
      if (g_str_equal (unit, "d"))
        return (int) ceil (f / p - 1e-9);
      if (g_str_equal (unit, "wk"))
        return (int) ceil (f / (p * 7) - 1e-9);
      if (g_str_equal (unit, "mo"))
        return (int) ceil (f / (p * 30) - 1e-9);
      return 0;
    }
  if (code != NULL)
    {
      const PdJv *codings = arr (code, "coding");
      const char *text = str (code, "text");

      *present = TRUE;
      for (guint i = 0; codings != NULL && i < pd_jv_len (codings); i++)
        for (guint k = 0; k < G_N_ELEMENTS (timing_codes); k++)
          if (g_strcmp0 (str (arr_obj (codings, i), "code"), timing_codes[k].code) == 0)
            return timing_codes[k].per_day;
      for (guint k = 0; text != NULL && k < G_N_ELEMENTS (timing_codes); k++)
        if (g_ascii_strcasecmp (text, timing_codes[k].code) == 0)
          return timing_codes[k].per_day;
      return 0;
    }
  return 0;
}

static char *
quantity_unit (const PdJv *q)
{
  const char *code = str (q, "code");
  const char *unit = str (q, "unit");

  if (code != NULL && g_strcmp0 (str (q, "system"), UCUM) == 0)
    return g_strdup (code);
  if (unit != NULL)
    return g_strdup (unit);
  return g_strdup (code);
}

static double
duration_days (const PdJv *d)
{
  double v;
  g_autofree char *unit = quantity_unit (d);

  if (!num (d, "value", &v) || unit == NULL)
    return NAN;
  if (g_str_equal (unit, "h"))
    return v / 24.0;
  if (g_str_equal (unit, "d"))
    return v;
  if (g_str_equal (unit, "wk"))
    return v * 7;
  if (g_str_equal (unit, "mo"))
    return v * 30;
  if (g_str_equal (unit, "a"))
    return v * 365;
  return NAN;
}

static gboolean
is_icd10_system (const char *system)
{
  return system != NULL && (g_str_equal (system, "http://hl7.org/fhir/sid/icd-10") || strstr (system, "icd-10") != NULL);
}

static void
read_diagnosis_codes (PdRxLine   *line,
                      const PdJv *cc)
{
  const PdJv *codings = arr (cc, "coding");

  if (str (cc, "text") != NULL && *str (cc, "text") != '\0')
    line->has_diagnosis = TRUE;
  for (guint i = 0; codings != NULL && i < pd_jv_len (codings); i++)
    {
      const PdJv *c = arr_obj (codings, i);

      if (str (c, "code") == NULL)
        continue;
      line->has_diagnosis = TRUE;
      if (is_icd10_system (str (c, "system")))
        g_ptr_array_add (line->icd10, g_ascii_strup (str (c, "code"), -1));
    }
}

/* The first coding equal to a drugs.csv code; failing that the first ATC
 * coding equal to an atc. */
static const PdKbDrug *
match_drug (Reader     *r,
            const PdJv *cc,
            char      **text)
{
  const PdJv *codings = arr (cc, "coding");

  for (guint i = 0; codings != NULL && i < pd_jv_len (codings); i++)
    {
      const PdJv *c = arr_obj (codings, i);

      if (*text == NULL)
        *text = g_strdup (str (c, "display") != NULL ? str (c, "display") : str (c, "code"));
    }
  if (*text == NULL && str (cc, "text") != NULL)
    *text = g_strdup (str (cc, "text"));
  for (guint i = 0; codings != NULL && i < pd_jv_len (codings); i++)
    {
      const PdKbDrug *d = pd_kb_find_drug (r->kb, str (arr_obj (codings, i), "code"));

      if (d != NULL)
        return d;
    }
  for (guint i = 0; codings != NULL && i < pd_jv_len (codings); i++)
    {
      const PdJv *c = arr_obj (codings, i);

      if (g_strcmp0 (str (c, "system"), "http://www.whocc.no/atc") == 0)
        {
          const PdKbDrug *d = pd_kb_find_drug_by_atc (r->kb, str (c, "code"));

          if (d != NULL)
            return d;
        }
    }
  return NULL;
}

/* --- lines -------------------------------------------------------------------------- */

static gboolean
read_line (Reader      *r,
           const PdJv  *mr,
           guint        position,
           PdRxLine   **out,
           GError     **error)
{
  PdRxLine *line = g_new0 (PdRxLine, 1);
  const PdJv *dosage = arr_obj (arr (mr, "dosageInstruction"), 0);
  const PdJv *dose_rate = arr_obj (arr (dosage, "doseAndRate"), 0);
  const PdJv *dose = obj (dose_rate, "doseQuantity");
  const PdJv *dispense = obj (mr, "dispenseRequest");
  const PdJv *quantity = obj (dispense, "quantity");
  const PdJv *duration = obj (dispense, "expectedSupplyDuration");
  const PdJv *course = obj (mr, "courseOfTherapyType");
  const PdJv *medication = NULL;
  const PdJv *reasons;

  *out = line;
  line->id = g_strdup (str (mr, "id") != NULL ? str (mr, "id") : "");
  line->version = g_strdup (str (obj (mr, "meta"), "versionId"));
  line->position = position;
  line->status = g_strdup (str (mr, "status") != NULL ? str (mr, "status") : "unknown");
  line->reviewed = g_str_equal (line->status, "active") || g_str_equal (line->status, "draft");
  line->icd10 = g_ptr_array_new_with_free_func (g_free);
  line->skin_tests = g_ptr_array_new_with_free_func (skin_test_free);
  line->supply_days = NAN;

  if (obj (mr, "medicationCodeableConcept") != NULL)
    line->drug = match_drug (r, obj (mr, "medicationCodeableConcept"), &line->drug_text);
  else if (obj (mr, "medicationReference") != NULL)
    {
      if (!follow (r, mr, "medicationReference", "Medication", &medication, error))
        return FALSE;
      line->drug = match_drug (r, obj (medication, "code"), &line->drug_text);
    }

  if (dose == NULL)
    dose = obj (obj (dose_rate, "doseRange"), "high");
  if (dose != NULL && num (dose, "value", &line->dose_value))
    {
      line->has_dose = TRUE;
      line->dose_unit = quantity_unit (dose);
    }
  if (obj (dosage, "timing") != NULL)
    {
      line->per_day = per_day (obj (dosage, "timing"), &line->has_frequency);
    }
  if (obj (dosage, "route") != NULL)
    {
      const char *token = route_token (obj (dosage, "route"));

      line->has_route = TRUE;
      line->route = g_strdup (token);
      line->route_text = g_strdup (str (obj (dosage, "route"), "text"));
    }
  if (quantity != NULL && num (quantity, "value", &line->quantity_value))
    {
      line->has_quantity = TRUE;
      line->quantity_unit = quantity_unit (quantity);
    }
  if (duration != NULL)
    {
      line->supply_days = duration_days (duration);
      line->has_supply_duration = !isnan (line->supply_days);
    }
  line->continuous = pd_fhir_codeable_has (course, NULL, "continuous");

  reasons = arr (mr, "reasonCode");
  for (guint i = 0; reasons != NULL && i < pd_jv_len (reasons); i++)
    read_diagnosis_codes (line, arr_obj (reasons, i));
  reasons = arr (mr, "reasonReference");
  for (guint i = 0; reasons != NULL && i < pd_jv_len (reasons); i++)
    {
      const PdJv *condition = resolve (r, mr, str (arr_obj (reasons, i), "reference"));

      /* An unresolved reasonReference is simply no diagnosis. */
      if (condition != NULL)
        read_diagnosis_codes (line, obj (condition, "code"));
    }
  return TRUE;
}

/* --- the patient's observations and allergies -------------------------------------------- */

/* effective[x], else issued: when an Observation counts from. */
gint64
pd_fhir_observation_time (const PdJv *o)
{
  gint64 t = G_MININT64;
  const char *s = pd_fhir_observation_when (o);

  if (s != NULL && !parse_time (s, FALSE, &t))
    t = G_MININT64;
  return t;
}

/* The time an Observation counts from, as written: effective[x], else issued. */
const char *
pd_fhir_observation_when (const PdJv *o)
{
  const char *s = str (o, "effectiveDateTime");

  if (s == NULL)
    s = str (o, "effectiveInstant");
  if (s == NULL)
    s = str (obj (o, "effectivePeriod"), "start");
  if (s == NULL)
    s = str (o, "issued");
  return s;
}

/* code.text, else the first coding's display, else its code. */
const char *
pd_fhir_concept_text (const PdJv *concept)
{
  const PdJv *coding = arr_obj (arr (concept, "coding"), 0);

  if (str (concept, "text") != NULL)
    return str (concept, "text");
  if (str (coding, "display") != NULL)
    return str (coding, "display");
  return str (coding, "code");
}

static void
take_reading (PdRxReading *reading,
              const PdJv  *o)
{
  reading->taken = TRUE;
  g_free (reading->at);
  reading->at = g_strdup (pd_fhir_observation_when (o));
}

/* final, amended or corrected: an Observation that is a result. */
gboolean
pd_fhir_observation_counts (const PdJv *o)
{
  const char *status = str (o, "status");

  return g_strcmp0 (status, "final") == 0 || g_strcmp0 (status, "amended") == 0 || g_strcmp0 (status, "corrected") == 0;
}

static void
read_observations (Reader     *r,
                   PdRx       *rx,
                   const PdJv *patient)
{
  gint64 weight_t = G_MININT64, preg_t = G_MININT64, lact_t = G_MININT64;
  gboolean weight_seen = FALSE, preg_seen = FALSE, lact_seen = FALSE;

  for (guint i = 0; i < r->resources->len; i++)
    {
      const PdJv *o = r->resources->pdata[i];
      const PdJv *code = obj (o, "code");
      gint64 t;

      if (g_strcmp0 (str (o, "resourceType"), "Observation") != 0)
        continue;
      if (resolve (r, o, str (obj (o, "subject"), "reference")) != patient)
        continue;
      t = pd_fhir_observation_time (o);

      if (pd_fhir_codeable_has (code, "urn:pharmdesk:observation", "skin-test"))
        {
          const PdJv *focus = arr (o, "focus");
          const PdJv *value = obj (o, "valueCodeableConcept");
          gboolean negative = pd_fhir_codeable_has (value, NULL, "negative");
          gboolean positive = pd_fhir_codeable_has (value, NULL, "positive");

          if (!pd_fhir_observation_counts (o))
            continue;
          for (guint f = 0; focus != NULL && f < pd_jv_len (focus); f++)
            {
              const PdJv *target = resolve (r, o, str (arr_obj (focus, f), "reference"));

              for (guint l = 0; target != NULL && l < rx->lines->len; l++)
                {
                  PdRxLine *line = rx->lines->pdata[l];

                  if (g_strcmp0 (str (target, "id"), line->id) == 0
                      && g_strcmp0 (str (target, "resourceType"), "MedicationRequest") == 0)
                    {
                      PdRxSkinTest *test = g_new0 (PdRxSkinTest, 1);

                      line->skin_negative |= negative;
                      line->skin_positive |= positive;
                      test->result = g_strdup (negative ? "negative" : positive ? "positive" : pd_fhir_concept_text (value));
                      test->at = g_strdup (pd_fhir_observation_when (o));
                      g_ptr_array_add (line->skin_tests, test);
                    }
                }
            }
          continue;
        }
      if (!pd_fhir_observation_counts (o))
        continue;
      if (pd_fhir_codeable_has (code, LOINC, "29463-7") && (!weight_seen || t >= weight_t))
        {
          const PdJv *q = obj (o, "valueQuantity");
          g_autofree char *unit = quantity_unit (q);
          double v;

          weight_seen = TRUE;
          weight_t = t;
          take_reading (&rx->weight_reading, o);
          rx->weight_known = FALSE;
          if (q != NULL && num (q, "value", &v) && unit != NULL)
            {
              if (g_str_equal (unit, "kg"))
                rx->weight_known = TRUE, rx->weight_kg = v;
              else if (g_str_equal (unit, "g"))
                rx->weight_known = TRUE, rx->weight_kg = v / 1000.0;
            }
        }
      else if (pd_fhir_codeable_has (code, LOINC, "82810-3") && (!preg_seen || t >= preg_t))
        {
          const PdJv *v = obj (o, "valueCodeableConcept");

          preg_seen = TRUE;
          preg_t = t;
          take_reading (&rx->pregnancy_reading, o);
          rx->pregnant = pd_fhir_codeable_has (v, SNOMED, "77386006") || pd_fhir_codeable_has (v, LOINC, "LA15173-0");
        }
      else if (pd_fhir_codeable_has (code, LOINC, "63895-7") && (!lact_seen || t >= lact_t))
        {
          const PdJv *b = pd_jv_member (o, "valueBoolean");

          lact_seen = TRUE;
          lact_t = t;
          take_reading (&rx->lactation_reading, o);
          rx->lactating = pd_jv_is_true (b)
                          || pd_fhir_codeable_has (obj (o, "valueCodeableConcept"), LOINC, "LA29252-6");
        }
    }
}

static void
read_allergies (Reader     *r,
                PdRx       *rx,
                const PdJv *patient)
{
  for (guint i = 0; i < r->resources->len; i++)
    {
      const PdJv *a = r->resources->pdata[i];
      const PdJv *clinical = obj (a, "clinicalStatus");
      const PdJv *verification = obj (a, "verificationStatus");
      const PdJv *categories = arr (a, "category");
      const PdJv *code = obj (a, "code");
      const PdJv *codings = arr (code, "coding");
      g_autoptr(GPtrArray) terms = g_ptr_array_new ();
      PdRxAllergy *allergy;

      if (g_strcmp0 (str (a, "resourceType"), "AllergyIntolerance") != 0)
        continue;
      if (resolve (r, a, str (obj (a, "patient"), "reference")) != patient)
        continue;
      if (clinical != NULL && !pd_fhir_codeable_has (clinical, NULL, "active"))
        continue;
      if (pd_fhir_codeable_has (verification, NULL, "refuted") || pd_fhir_codeable_has (verification, NULL, "entered-in-error"))
        continue;
      for (guint c = 0; codings != NULL && c < pd_jv_len (codings); c++)
        if (str (arr_obj (codings, c), "code") != NULL)
          g_ptr_array_add (terms, g_strdup (str (arr_obj (codings, c), "code")));
      if (str (code, "text") != NULL)
        g_ptr_array_add (terms, g_strdup (str (code, "text")));
      g_ptr_array_add (terms, NULL);
      allergy = g_new0 (PdRxAllergy, 1);
      allergy->terms = (char **) g_ptr_array_free (g_steal_pointer (&terms), FALSE);
      allergy->medication = categories == NULL || pd_jv_len (categories) == 0;
      allergy->text = g_strdup (pd_fhir_concept_text (code));
      allergy->confirmed = pd_fhir_codeable_has (verification, NULL, "confirmed");
      allergy->recorded_at = g_strdup (str (a, "recordedDate"));
      for (guint c = 0; categories != NULL && c < pd_jv_len (categories); c++)
        {
          const PdJv *n = pd_jv_at (categories, c);

          if (g_strcmp0 (pd_jv_string (n), "medication") == 0)
            allergy->medication = TRUE;
        }
      g_ptr_array_add (rx->allergies, allergy);
    }
}

static void
read_qualifications (PdRx       *rx,
                     const PdJv *practitioner)
{
  const PdJv *quals = arr (practitioner, "qualification");

  for (guint i = 0; quals != NULL && i < pd_jv_len (quals); i++)
    {
      const PdJv *q = arr_obj (quals, i);
      const PdJv *codings = arr (obj (q, "code"), "coding");
      const PdJv *period = obj (q, "period");

      for (guint c = 0; codings != NULL && c < pd_jv_len (codings); c++)
        {
          const PdJv *coding = arr_obj (codings, c);
          PdQualification *pq;

          if (g_strcmp0 (str (coding, "system"), "urn:pharmdesk:qualification") != 0 || str (coding, "code") == NULL)
            continue;
          pq = g_new0 (PdQualification, 1);
          pq->code = g_strdup (str (coding, "code"));
          if (!parse_time (str (period, "start"), FALSE, &pq->start_us))
            pq->start_us = G_MININT64;
          /* A date-only end is inclusive. */
          if (!parse_time (str (period, "end"), TRUE, &pq->end_us))
            pq->end_us = G_MAXINT64;
          g_ptr_array_add (rx->qualifications, pq);
        }
    }
}

static void
read_signatures (Reader *r,
                 PdRx   *rx)
{
  for (guint i = 0; i < r->resources->len; i++)
    {
      const PdJv *p = r->resources->pdata[i];
      const PdJv *sigs = arr (p, "signature");
      const PdJv *targets = arr (p, "target");
      gboolean has_data = FALSE;

      if (g_strcmp0 (str (p, "resourceType"), "Provenance") != 0)
        continue;
      for (guint s = 0; sigs != NULL && s < pd_jv_len (sigs); s++)
        {
          const char *data = str (arr_obj (sigs, s), "data");

          if (data != NULL && *data != '\0')
            has_data = TRUE;
        }
      if (!has_data)
        continue;
      for (guint t = 0; targets != NULL && t < pd_jv_len (targets); t++)
        {
          const PdJv *target = resolve (r, p, str (arr_obj (targets, t), "reference"));

          for (guint l = 0; target != NULL && l < rx->lines->len; l++)
            {
              PdRxLine *line = rx->lines->pdata[l];

              if (g_strcmp0 (str (target, "resourceType"), "MedicationRequest") == 0
                  && g_strcmp0 (str (target, "id"), line->id) == 0)
                line->signed_ = TRUE;
            }
        }
    }
}

/* --- prescriptions ------------------------------------------------------------------------ */

static gboolean
read_context (Reader     *r,
              PdRx       *rx,
              GPtrArray  *mrs,
              GError    **error)
{
  const PdJv *first = mrs->pdata[0];
  const PdJv *patient = NULL, *requester = NULL, *encounter = NULL;
  const PdJv *validity = obj (obj (first, "dispenseRequest"), "validityPeriod");
  const char *authored = str (first, "authoredOn");

  /* Every line's followed references must resolve. */
  for (guint i = 0; i < mrs->len; i++)
    {
      const PdJv *p, *q, *e;

      if (!follow (r, mrs->pdata[i], "subject", "Patient", &p, error)
          || !follow (r, mrs->pdata[i], "requester", "Practitioner", &q, error)
          || !follow (r, mrs->pdata[i], "encounter", "Encounter", &e, error))
        return FALSE;
      if (i == 0)
        patient = p, requester = q, encounter = e;
    }

  rx->has_patient = patient != NULL;
  rx->has_gender = str (patient, "gender") != NULL;

  if (requester != NULL && g_strcmp0 (str (requester, "resourceType"), "PractitionerRole") == 0)
    {
      const PdJv *practitioner = NULL;

      if (!follow (r, requester, "practitioner", "Practitioner", &practitioner, error))
        return FALSE;
      requester = practitioner;
    }
  rx->has_requester = requester != NULL;
  if (requester != NULL)
    read_qualifications (rx, requester);

  rx->has_authored = authored != NULL && parse_time (authored, FALSE, &rx->authored_us);
  if (rx->has_authored)
    {
      int y, m, d;
      gint64 cap, v;

      pd_china_date (rx->authored_us, &y, &m, &d);
      cap = pd_china_day_end (y, m, d, 2);
      v = pd_china_day_end (y, m, d, 0);
      if (str (validity, "end") != NULL && !parse_time (str (validity, "end"), TRUE, &v))
        v = pd_china_day_end (y, m, d, 0);
      rx->valid_until_us = MIN (v, cap);
    }
  rx->has_birth_date = read_age (rx, str (patient, "birthDate"));

  rx->has_encounter = encounter != NULL;
  if (encounter != NULL)
    {
      const PdJv *klass = obj (encounter, "class");
      const PdJv *types = arr (encounter, "type");

      rx->online = g_strcmp0 (str (klass, "code"), "VR") == 0;
      rx->emergency = g_strcmp0 (str (klass, "code"), "EMER") == 0;
      for (guint i = 0; types != NULL && i < pd_jv_len (types); i++)
        if (pd_fhir_codeable_has (arr_obj (types, i), SNOMED, "185389009"))
          rx->follow_up = TRUE;
    }
  if (patient != NULL)
    {
      read_observations (r, rx, patient);
      read_allergies (r, rx, patient);
    }
  read_signatures (r, rx);
  return TRUE;
}

static void
index_resource (Reader     *r,
                const PdJv *resource,
                const char *full_url)
{
  const char *type = str (resource, "resourceType");
  const char *id = str (resource, "id");

  g_ptr_array_add (r->resources, (gpointer) resource);
  if (full_url != NULL)
    g_hash_table_insert (r->by_full_url, g_strdup (full_url), (gpointer) resource);
  if (type != NULL && id != NULL)
    {
      char *key = g_strdup_printf ("%s/%s", type, id);

      if (!g_hash_table_contains (r->by_type_id, key))
        g_hash_table_insert (r->by_type_id, key, (gpointer) resource);
      else
        g_free (key);
    }
}

GPtrArray *
pd_fhir_read_prescriptions (const char *data,
                            gsize       len,
                            PdKb       *kb,
                            GError    **error)
{
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(PdJsonDoc) doc = pd_json_doc_parse (data, len, &parse_error);

  if (doc == NULL)
    {
      /* "Not JSON: … at byte N" says it all. */
      g_set_error_literal (error, PD_FHIR_ERROR, PD_FHIR_ERROR_INVALID, parse_error->message);
      return NULL;
    }
  return pd_fhir_read_bundle (pd_json_doc_root (doc), kb, error);
}

/* The same, from a Bundle already parsed (the cache assembles them). */
GPtrArray *
pd_fhir_read_bundle (const PdJv *root,
                     PdKb       *kb,
                     GError    **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_rx_free);
  g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GHashTable) group_by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Reader r = { 0 };
  const PdJv *entries;
  guint position = 0;

  if (g_strcmp0 (str (root, "resourceType"), "Bundle") != 0)
    {
      g_set_error (error, PD_FHIR_ERROR, PD_FHIR_ERROR_INVALID, "%s", _("The input is not a FHIR Bundle (resourceType must be “Bundle”)"));
      return NULL;
    }
  r.bundle = root;
  r.kb = kb;
  r.by_full_url = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r.by_type_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r.resources = g_ptr_array_new ();

  entries = arr (r.bundle, "entry");
  for (const PdJv *entry = pd_jv_first (entries); entry != NULL; entry = pd_jv_next (entries, entry))
    {
      const PdJv *resource = obj (entry, "resource");

      if (resource != NULL)
        index_resource (&r, resource, str (entry, "fullUrl"));
    }

  /* Lines that share groupIdentifier (system and value) form one prescription. */
  for (guint i = 0; i < r.resources->len; i++)
    {
      const PdJv *res = r.resources->pdata[i];
      const PdJv *group = obj (res, "groupIdentifier");
      g_autofree char *key = NULL;
      GPtrArray *mrs;

      if (g_strcmp0 (str (res, "resourceType"), "MedicationRequest") != 0)
        continue;
      if (str (group, "value") != NULL)
        key = g_strdup_printf ("g\x1f%s\x1f%s", str (group, "system") != NULL ? str (group, "system") : "", str (group, "value"));
      else
        key = g_strdup_printf ("l\x1f%u", i);
      mrs = g_hash_table_lookup (group_by_key, key);
      if (mrs == NULL)
        {
          mrs = g_ptr_array_new ();
          g_ptr_array_add (groups, mrs);
          g_hash_table_insert (group_by_key, g_steal_pointer (&key), mrs);
        }
      g_ptr_array_add (mrs, (gpointer) res);
    }

  for (guint g = 0; g < groups->len; g++)
    {
      GPtrArray *mrs = groups->pdata[g];
      const PdJv *first = mrs->pdata[0];
      const PdJv *group = obj (first, "groupIdentifier");
      PdRx *rx = g_new0 (PdRx, 1);

      g_ptr_array_add (out, rx);
      rx->id = g_strdup (str (group, "value") != NULL ? str (group, "value") : (str (first, "id") != NULL ? str (first, "id") : ""));
      rx->system = g_strdup (str (group, "system"));
      rx->lines = g_ptr_array_new_with_free_func (line_free);
      rx->qualifications = g_ptr_array_new_with_free_func (qualification_free);
      rx->allergies = g_ptr_array_new_with_free_func (allergy_free);
      rx->age_for_child = rx->age_for_elderly = -1;
      for (guint i = 0; i < mrs->len; i++)
        {
          PdRxLine *line = NULL;
          gboolean ok = read_line (&r, mrs->pdata[i], position++, &line, error);

          g_ptr_array_add (rx->lines, line);
          if (!ok)
            goto fail;
        }
      if (!read_context (&r, rx, mrs, error))
        goto fail;
    }
  g_hash_table_unref (r.by_full_url);
  g_hash_table_unref (r.by_type_id);
  g_ptr_array_unref (r.resources);
  return g_steal_pointer (&out);

fail:
  g_hash_table_unref (r.by_full_url);
  g_hash_table_unref (r.by_type_id);
  g_ptr_array_unref (r.resources);
  return NULL;
}
