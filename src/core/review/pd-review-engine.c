/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-review-engine"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pd-review-engine.h"

typedef struct {
  PdKb       *kb;
  const PdRx *rx;
  gint64      now_us;
  GPtrArray  *reviewed;   /* const PdRxLine* */
  GPtrArray  *findings;
} Run;

static const char *population_order[] = { "pregnancy", "lactation", "elderly", "child" };

const char *
pd_severity_to_string (PdSeverity severity)
{
  static const char *names[] = { "info", "moderate", "major", "block" };

  return names[severity];
}

static void
finding_free (gpointer data)
{
  PdFinding *f = data;

  g_ptr_array_unref (f->lines);
  g_ptr_array_unref (f->defects);
  g_free (f->rule);
  g_free (f);
}

void
pd_review_free (PdReview *review)
{
  if (review == NULL)
    return;
  g_ptr_array_unref (review->findings);
  g_free (review);
}

static gboolean
same_lines (GPtrArray *a,
            GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (a->pdata[i] != b->pdata[i])
      return FALSE;
  return TRUE;
}

/* One finding per (code, lines, population): the most severe stands, the
 * first in file order on a tie; every defect joins the message. */
static PdFinding *
add (Run             *run,
     const char      *code,
     PdSeverity       severity,
     GPtrArray       *lines,          /* taken */
     const char      *population,
     char            *rule,           /* taken; NULL: review.md#CODE */
     const char      *defect)
{
  PdFinding *f;

  for (guint i = 0; i < run->findings->len; i++)
    {
      f = run->findings->pdata[i];
      if (f->code == code && f->population == population && same_lines (f->lines, lines))
        {
          if (defect != NULL && !g_ptr_array_find_with_equal_func (f->defects, defect, g_str_equal, NULL))
            g_ptr_array_add (f->defects, g_strdup (defect));
          if (severity > f->severity)
            {
              f->severity = severity;
              g_free (f->rule);
              f->rule = rule != NULL ? rule : g_strdup_printf ("review.md#%s", code);
            }
          else
            g_free (rule);
          g_ptr_array_unref (lines);
          return f;
        }
    }
  f = g_new0 (PdFinding, 1);
  f->code = code;
  f->severity = severity;
  f->lines = lines;
  f->population = population;
  f->rule = rule != NULL ? rule : g_strdup_printf ("review.md#%s", code);
  f->defects = g_ptr_array_new_with_free_func (g_free);
  if (defect != NULL)
    g_ptr_array_add (f->defects, g_strdup (defect));
  g_ptr_array_add (run->findings, f);
  return f;
}

static GPtrArray *
one_line (const PdRxLine *line)
{
  GPtrArray *a = g_ptr_array_sized_new (1);

  g_ptr_array_add (a, (gpointer) line);
  return a;
}

static GPtrArray *
all_lines (Run *run)
{
  GPtrArray *a = g_ptr_array_sized_new (run->reviewed->len);

  for (guint i = 0; i < run->reviewed->len; i++)
    g_ptr_array_add (a, run->reviewed->pdata[i]);
  return a;
}

static GPtrArray *
pair (const PdRxLine *a,
      const PdRxLine *b)
{
  GPtrArray *p = g_ptr_array_sized_new (2);

  g_ptr_array_add (p, (gpointer) (a->position < b->position ? a : b));
  g_ptr_array_add (p, (gpointer) (a->position < b->position ? b : a));
  return p;
}

static void
prescription_finding (Run        *run,
                      const char *code,
                      PdSeverity  severity,
                      const char *defect)
{
  add (run, code, severity, all_lines (run), NULL, NULL, defect);
}

static gboolean
has_qualification (const PdRx *rx,
                   const char *code)
{
  for (guint i = 0; i < rx->qualifications->len; i++)
    {
      const PdQualification *q = rx->qualifications->pdata[i];

      if (g_str_equal (q->code, code) && q->start_us <= rx->authored_us && rx->authored_us <= q->end_us)
        return TRUE;
    }
  return FALSE;
}

/* --- doses in mg ------------------------------------------------------------- */

static const char *mass_units[] = { "mg", "g", "ug", "mcg", "µg", "μg", NULL };
static const char *product_units[] = { "tablet", "tab", "{tbl}", "片", "capsule", "cap", "{cap}", "粒", "pill", "丸",
                                       "ampoule", "{amp}", "支", "vial", "瓶", "puff", "{puff}", "{actuat}", "揿",
                                       "sachet", "袋", NULL };

static gboolean
is_product_unit (const char *unit)
{
  return unit != NULL && g_strv_contains (product_units, unit);
}

/* The dose in mg, or NAN when it cannot be turned into mg. */
static double
dose_mg (const PdRxLine *line)
{
  const char *u = line->dose_unit;

  if (!line->has_dose || u == NULL)
    return NAN;
  if (g_str_equal (u, "mg"))
    return line->dose_value;
  if (g_str_equal (u, "g"))
    return line->dose_value * 1000.0;
  if (g_strv_contains (mass_units, u))
    return line->dose_value / 1000.0;
  if (is_product_unit (u) && line->drug != NULL && !isnan (line->drug->unit_dose_mg))
    return line->dose_value * line->drug->unit_dose_mg;
  return NAN;
}

/* Product units a day, or NAN. */
static double
daily_units (const PdRxLine *line)
{
  double mg;

  if (!line->has_dose || line->per_day <= 0)
    return NAN;
  if (is_product_unit (line->dose_unit))
    return line->dose_value * line->per_day;
  mg = dose_mg (line);
  if (!isnan (mg) && line->drug != NULL && !isnan (line->drug->unit_dose_mg) && line->drug->unit_dose_mg > 0)
    return mg / line->drug->unit_dose_mg * line->per_day;
  return NAN;
}

/* The prescribed quantity in product units, or NAN when it is not
 * understood (review.md "Supply"). */
double
pd_rx_line_quantity_units (const PdRxLine *line)
{
  const char *u = line->quantity_unit;

  if (!line->has_quantity || u == NULL)
    return NAN;
  if (is_product_unit (u))
    return line->quantity_value;
  if (line->drug != NULL && line->drug->pack_unit != NULL && g_str_equal (u, line->drug->pack_unit)
      && line->drug->pack_size > 0)
    return line->quantity_value * line->drug->pack_size;
  if (g_str_equal (u, "mg") && line->drug != NULL && !isnan (line->drug->unit_dose_mg) && line->drug->unit_dose_mg > 0)
    return line->quantity_value / line->drug->unit_dose_mg;
  return NAN;
}

/* Product units a day, or NAN. */
double
pd_rx_line_daily_units (const PdRxLine *line)
{
  return daily_units (line);
}

gboolean
pd_is_product_unit (const char *unit)
{
  return is_product_unit (unit);
}

/* Supply in days as written, else from the quantity; NAN when neither. */
double
pd_rx_line_supply_days (const PdRxLine *line)
{
  double units, per_day;

  if (line->has_supply_duration)
    return line->supply_days;
  units = pd_rx_line_quantity_units (line);
  per_day = daily_units (line);
  if (isnan (units) || isnan (per_day) || per_day <= 0)
    return NAN;
  return units / per_day;
}

static char *
fmt (const char *format,
     double      a,
     double      b)
{
  char x[32], y[32];

  g_ascii_formatd (x, sizeof x, "%g", a);
  g_ascii_formatd (y, sizeof y, "%g", b);
  return g_strdup_printf (format, x, y);
}

/* --- the rules ------------------------------------------------------------------ */

static void
check_prescription (Run             *run,
                    PdDispensedFunc  dispensed,
                    gpointer         data)
{
  const PdRx *rx = run->rx;

  if (!rx->has_patient)
    prescription_finding (run, "missing-element", PD_SEVERITY_BLOCK, "subject");
  else
    {
      if (!rx->has_birth_date)
        prescription_finding (run, "missing-element", PD_SEVERITY_BLOCK, "birthDate");
      if (!rx->has_gender)
        prescription_finding (run, "missing-element", PD_SEVERITY_BLOCK, "gender");
    }
  if (!rx->has_requester)
    prescription_finding (run, "missing-element", PD_SEVERITY_BLOCK, "requester");
  if (!rx->has_authored)
    prescription_finding (run, "missing-element", PD_SEVERITY_BLOCK, "authoredOn");
  if (!rx->has_encounter)
    prescription_finding (run, "missing-element", PD_SEVERITY_BLOCK, "encounter");

  if (rx->has_requester && rx->has_authored && !has_qualification (rx, "practice-license"))
    prescription_finding (run, "prescriber-unqualified", PD_SEVERITY_BLOCK, NULL);
  if (rx->has_encounter && rx->online && !rx->follow_up)
    prescription_finding (run, "first-visit-online", PD_SEVERITY_BLOCK, NULL);
  if (rx->has_authored && run->now_us > rx->valid_until_us)
    prescription_finding (run, "prescription-expired", PD_SEVERITY_BLOCK, NULL);
  if (run->reviewed->len > 5)
    prescription_finding (run, "too-many-drugs", PD_SEVERITY_BLOCK, NULL);
  if (dispensed != NULL && dispensed (rx->system, rx->id, data))
    prescription_finding (run, "prescription-reused", PD_SEVERITY_BLOCK, NULL);

  /* An allergy the knowledge base cannot place cannot be checked. */
  for (guint i = 0; i < rx->allergies->len; i++)
    {
      const PdRxAllergy *a = rx->allergies->pdata[i];
      gboolean known = FALSE;

      if (!a->medication)
        continue;
      for (guint t = 0; a->terms[t] != NULL && !known; t++)
        {
          gboolean ingredient = FALSE;

          known = pd_kb_allergen_for_term (run->kb, a->terms[t], &ingredient) != NULL || ingredient;
        }
      if (!known)
        prescription_finding (run, "allergy-unverifiable", PD_SEVERITY_MODERATE, a->terms[0]);
    }
}

static void
check_missing (Run            *run,
               const PdRxLine *line)
{
  const PdKbDrug *d = line->drug;
  const char *missing[6];
  guint n = 0;

  if (!line->has_diagnosis)
    missing[n++] = "diagnosis";
  if (!line->has_dose)
    missing[n++] = "dose";
  if (!line->has_frequency || line->per_day <= 0)
    missing[n++] = line->has_frequency ? "frequency not understood" : "frequency";
  if (!line->has_route)
    missing[n++] = "route";
  if (!line->has_quantity)
    missing[n++] = "quantity";
  else if (!line->has_supply_duration && isnan (pd_rx_line_supply_days (line)) && line->has_dose && line->per_day > 0)
    missing[n++] = "quantity not understood";
  for (guint i = 0; i < n; i++)
    add (run, "missing-element", PD_SEVERITY_BLOCK, one_line (line), NULL, NULL, missing[i]);

  /* A child's weight, for a drug with a per-kg limit. */
  if (d != NULL && !isnan (d->child_max_daily_mg_per_kg) && run->rx->age_for_child >= 0
      && run->rx->age_for_child < 14 && !run->rx->weight_known)
    add (run, "missing-element", n > 0 ? PD_SEVERITY_BLOCK : PD_SEVERITY_MAJOR, one_line (line), NULL, NULL, "weight");
}

static void
check_line (Run            *run,
            const PdRxLine *line)
{
  const PdRx *rx = run->rx;
  const PdKbDrug *d = line->drug;
  double days;

  check_missing (run, line);

  if (!line->signed_)
    add (run, "signature-missing", PD_SEVERITY_BLOCK, one_line (line), NULL, NULL, NULL);

  if (line->has_route && line->route == NULL)
    add (run, "route-mismatch", PD_SEVERITY_MAJOR, one_line (line), NULL, NULL, "not recognised");

  days = pd_rx_line_supply_days (line);
  if (!isnan (days))
    {
      if (days > 84)
        add (run, "supply-too-long", PD_SEVERITY_BLOCK, one_line (line), NULL, NULL, NULL);
      else if (days > (rx->emergency ? 3 : 7) && !line->continuous)
        add (run, "supply-too-long", PD_SEVERITY_MAJOR, one_line (line), NULL, NULL, NULL);
    }

  if (d == NULL)
    {
      add (run, "unknown-drug", PD_SEVERITY_MAJOR, one_line (line), NULL, NULL, line->drug_text);
      return;
    }

  if (rx->has_requester && rx->has_authored)
    {
      if ((g_str_equal (d->special_class, "narcotic") || g_str_equal (d->special_class, "psychotropic-1"))
          && !has_qualification (rx, "narcotic"))
        add (run, "prescriber-no-authority", PD_SEVERITY_BLOCK, one_line (line), NULL,
             g_strdup_printf ("drugs.csv:%u", d->line), "narcotic");
      if (d->antimicrobial_tier > 0)
        {
          gboolean ok = FALSE;

          for (int t = d->antimicrobial_tier; t <= 3 && !ok; t++)
            {
              char code[32];

              g_snprintf (code, sizeof code, "antimicrobial-%d", t);
              ok = has_qualification (rx, code);
            }
          if (!ok)
            add (run, "prescriber-no-authority", PD_SEVERITY_BLOCK, one_line (line), NULL,
                 g_strdup_printf ("drugs.csv:%u", d->line), "antimicrobial");
        }
    }

  if (rx->has_encounter && rx->online && !g_str_equal (d->special_class, "none"))
    add (run, "special-drug-online", PD_SEVERITY_BLOCK, one_line (line), NULL,
         g_strdup_printf ("drugs.csv:%u", d->line), d->special_class);

  if (line->has_route && line->route != NULL && d->routes[0] != NULL
      && !g_strv_contains ((const char * const *) d->routes, line->route))
    add (run, "route-mismatch", PD_SEVERITY_MAJOR, one_line (line), NULL, g_strdup_printf ("drugs.csv:%u", d->line), line->route);

  /* Doses. */
  if (line->has_dose)
    {
      double mg = dose_mg (line);
      gboolean has_limit = !isnan (d->max_single_mg) || !isnan (d->max_daily_mg) || !isnan (d->child_max_daily_mg_per_kg);

      if (isnan (mg))
        {
          if (has_limit)
            add (run, "dose-unverifiable", PD_SEVERITY_MODERATE, one_line (line), NULL,
                 g_strdup_printf ("drugs.csv:%u", d->line), line->dose_unit);
        }
      else
        {
          if (!isnan (d->max_single_mg) && mg > d->max_single_mg + 1e-9)
            {
              g_autofree char *text = fmt ("single %s mg > %s mg", mg, d->max_single_mg);
              add (run, "dose-exceeds-max", PD_SEVERITY_BLOCK, one_line (line), NULL, g_strdup_printf ("drugs.csv:%u", d->line), text);
            }
          if (line->per_day > 0)
            {
              double daily = mg * line->per_day;

              if (!isnan (d->max_daily_mg) && daily > d->max_daily_mg + 1e-9)
                {
                  g_autofree char *text = fmt ("daily %s mg > %s mg", daily, d->max_daily_mg);
                  add (run, "dose-exceeds-max", PD_SEVERITY_BLOCK, one_line (line), NULL, g_strdup_printf ("drugs.csv:%u", d->line), text);
                }
              if (!isnan (d->child_max_daily_mg_per_kg) && rx->age_for_child >= 0 && rx->age_for_child < 14
                  && rx->weight_known && daily > d->child_max_daily_mg_per_kg * rx->weight_kg + 1e-9)
                {
                  g_autofree char *text = fmt ("child daily %s mg > %s mg", daily, d->child_max_daily_mg_per_kg * rx->weight_kg);
                  add (run, "dose-exceeds-max", PD_SEVERITY_BLOCK, one_line (line), NULL, g_strdup_printf ("drugs.csv:%u", d->line), text);
                }
            }
        }
    }

  /* Allergies: the class of a named allergen holds the drug, or the
   * allergy names the drug's own ingredient; a positive skin test. */
  for (guint i = 0; i < rx->allergies->len; i++)
    {
      const PdRxAllergy *a = rx->allergies->pdata[i];

      for (guint t = 0; a->terms[t] != NULL; t++)
        {
          gboolean ingredient = FALSE;
          const char *allergen = pd_kb_allergen_for_term (run->kb, a->terms[t], &ingredient);
          guint row = 0;
          g_autofree char *lower = g_utf8_strdown (a->terms[t], -1);

          if (allergen != NULL && pd_kb_class_holds (run->kb, allergen, d, &row))
            add (run, "allergy", PD_SEVERITY_BLOCK, one_line (line), NULL,
                 g_strdup_printf ("allergy_classes.csv:%u", row), a->terms[t]);
          else if (ingredient && g_strv_contains ((const char * const *) d->ingredients, lower))
            add (run, "allergy", PD_SEVERITY_BLOCK, one_line (line), NULL, NULL, a->terms[t]);
        }
    }
  if (line->skin_positive)
    add (run, "allergy", PD_SEVERITY_BLOCK, one_line (line), NULL, NULL, "positive skin test");

  /* Special populations. */
  {
    const struct { const char *population; gboolean applies; PdKbFlag flag; } pops[] = {
      { "pregnancy", rx->pregnant, d->pregnancy },
      { "lactation", rx->lactating, d->lactation },
      { "elderly", rx->age_for_elderly >= 65, d->elderly },
    };

    for (guint i = 0; i < G_N_ELEMENTS (pops); i++)
      {
        if (!pops[i].applies)
          continue;
        if (pops[i].flag == PD_FLAG_CONTRAINDICATED)
          add (run, "population-contraindication", PD_SEVERITY_BLOCK, one_line (line), pops[i].population,
               g_strdup_printf ("drugs.csv:%u", d->line), NULL);
        else if (pops[i].flag == PD_FLAG_CAUTION)
          add (run, "population-contraindication", PD_SEVERITY_MODERATE, one_line (line), pops[i].population,
               g_strdup_printf ("drugs.csv:%u", d->line), NULL);
      }
    if (!isnan (d->min_age_years) && rx->age_for_child >= 0 && rx->age_for_child < d->min_age_years)
      add (run, "population-contraindication", PD_SEVERITY_BLOCK, one_line (line), "child",
           g_strdup_printf ("drugs.csv:%u", d->line), NULL);
  }

  /* Indications: at least one ICD-10 diagnosis under one of them. */
  if (d->indications[0] != NULL && line->icd10->len > 0)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < line->icd10->len && !found; i++)
        for (int k = 0; d->indications[k] != NULL && !found; k++)
          found = g_str_has_prefix (line->icd10->pdata[i], d->indications[k]);
      if (!found)
        add (run, "indication-mismatch", PD_SEVERITY_MODERATE, one_line (line), NULL,
             g_strdup_printf ("drugs.csv:%u", d->line), line->icd10->pdata[0]);
    }

  if (d->skin_test && !line->skin_negative)
    add (run, "skin-test-required", PD_SEVERITY_MAJOR, one_line (line), NULL, g_strdup_printf ("drugs.csv:%u", d->line), NULL);
}

static gboolean
shares_ingredient (const PdKbDrug *a,
                   const PdKbDrug *b)
{
  for (int i = 0; a->ingredients[i] != NULL; i++)
    if (g_strv_contains ((const char * const *) b->ingredients, a->ingredients[i]))
      return TRUE;
  return FALSE;
}

static void
check_pairs (Run *run)
{
  for (guint i = 0; i < run->reviewed->len; i++)
    {
      const PdRxLine *x = run->reviewed->pdata[i];
      GPtrArray *candidates;

      if (x->drug == NULL)
        continue;
      candidates = pd_kb_interaction_candidates (run->kb, x->drug);

      for (guint j = i + 1; j < run->reviewed->len; j++)
        {
          const PdRxLine *y = run->reviewed->pdata[j];
          GPtrArray *others;

          if (y->drug == NULL)
            continue;
          if (shares_ingredient (x->drug, y->drug))
            add (run, "duplicate-therapy", PD_SEVERITY_MAJOR, pair (x, y), NULL,
                 g_strdup_printf ("drugs.csv:%u", y->drug->line), "ingredient");
          else if (x->drug->atc != NULL && y->drug->atc != NULL && strlen (x->drug->atc) >= 5
                   && strlen (y->drug->atc) >= 5 && strncmp (x->drug->atc, y->drug->atc, 5) == 0)
            add (run, "duplicate-therapy", PD_SEVERITY_MODERATE, pair (x, y), NULL,
                 g_strdup_printf ("drugs.csv:%u", y->drug->line), "ATC group");

          /* Both candidate lists are in file order: only rows on both
           * can name the pair, and a merge finds them without a string
           * comparison. */
          others = pd_kb_interaction_candidates (run->kb, y->drug);
          for (guint k = 0, m = 0; k < candidates->len && m < others->len;)
            {
              const PdKbInteraction *row = candidates->pdata[k];
              const PdKbInteraction *other = others->pdata[m];
              gboolean hit;
              PdFinding *f;
              PdSeverity before;

              if (row->line != other->line)
                {
                  if (row->line < other->line)
                    k++;
                  else
                    m++;
                  continue;
                }
              k++, m++;
              hit = (pd_kb_key_matches (row->a, x->drug) && pd_kb_key_matches (row->b, y->drug))
                    || (pd_kb_key_matches (row->b, x->drug) && pd_kb_key_matches (row->a, y->drug));
              if (!hit)
                continue;
              f = NULL;
              for (guint n = 0; n < run->findings->len && f == NULL; n++)
                {
                  PdFinding *e = run->findings->pdata[n];
                  g_autoptr(GPtrArray) p = pair (x, y);

                  if (g_str_equal (e->code, "drug-interaction") && same_lines (e->lines, p))
                    f = e;
                }
              before = f != NULL ? f->severity : PD_SEVERITY_INFO;
              f = add (run, "drug-interaction", row->severity, pair (x, y), NULL,
                       g_strdup_printf ("interactions.csv:%u", row->line), NULL);
              if (f->interaction == NULL || row->severity > before)
                f->interaction = row;
            }
        }
    }
}

static int
population_rank (const char *p)
{
  if (p == NULL)
    return -1;
  for (guint i = 0; i < G_N_ELEMENTS (population_order); i++)
    if (g_str_equal (p, population_order[i]))
      return (int) i;
  return 99;
}

/* Severity (block first), code, the lines' Bundle positions, population. */
static int
compare_findings (gconstpointer a,
                  gconstpointer b)
{
  const PdFinding *x = *(const PdFinding * const *) a;
  const PdFinding *y = *(const PdFinding * const *) b;
  int c;

  if (x->severity != y->severity)
    return (int) y->severity - (int) x->severity;
  c = strcmp (x->code, y->code);
  if (c != 0)
    return c;
  for (guint i = 0; i < MIN (x->lines->len, y->lines->len); i++)
    {
      guint px = ((const PdRxLine *) x->lines->pdata[i])->position;
      guint py = ((const PdRxLine *) y->lines->pdata[i])->position;

      if (px != py)
        return px < py ? -1 : 1;
    }
  if (x->lines->len != y->lines->len)
    return x->lines->len < y->lines->len ? -1 : 1;
  return population_rank (x->population) - population_rank (y->population);
}

PdReview *
pd_review_run (PdKb            *kb,
               const PdRx      *rx,
               gint64           now_us,
               PdDispensedFunc  dispensed,
               gpointer         user_data)
{
  PdReview *review = g_new0 (PdReview, 1);
  Run run = { kb, rx, now_us, g_ptr_array_new (), g_ptr_array_new_with_free_func (finding_free) };
  gboolean any_block = FALSE, any_review = FALSE;

  review->rx = rx;
  for (guint i = 0; i < rx->lines->len; i++)
    if (((PdRxLine *) rx->lines->pdata[i])->reviewed)
      g_ptr_array_add (run.reviewed, rx->lines->pdata[i]);

  if (run.reviewed->len == 0)
    {
      /* Nothing left to dispense. */
      review->verdict = "cancelled";
      review->findings = run.findings;
      g_ptr_array_unref (run.reviewed);
      return review;
    }

  check_prescription (&run, dispensed, user_data);
  for (guint i = 0; i < run.reviewed->len; i++)
    check_line (&run, run.reviewed->pdata[i]);
  check_pairs (&run);

  g_ptr_array_sort (run.findings, compare_findings);
  for (guint i = 0; i < run.findings->len; i++)
    {
      const PdFinding *f = run.findings->pdata[i];

      any_block |= f->severity == PD_SEVERITY_BLOCK;
      any_review |= f->severity == PD_SEVERITY_MAJOR || f->severity == PD_SEVERITY_MODERATE;
    }
  review->verdict = any_block ? "reject" : any_review ? "review" : "pass";
  review->findings = run.findings;
  g_ptr_array_unref (run.reviewed);
  return review;
}
