/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-kb"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pd-csv.h"
#include "pd-kb.h"
#include "pd-money.h"

struct _PdKb
{
  char       *version;
  char       *status;
  char       *reviewed_by;
  GPtrArray  *drugs;            /* PdKbDrug*, file order */
  GHashTable *by_code;          /* code → drug */
  GHashTable *by_atc;           /* atc → first drug in file order */
  GPtrArray  *interactions;     /* PdKbInteraction*, file order */
  GHashTable *interactions_by_key; /* key → GPtrArray of PdKbInteraction* */
  GHashTable *allergen_terms;   /* lower-case allergen or alias → allergen */
  GHashTable *allergen_lines;   /* lower-case term → first line (as pointer) */
  GHashTable *class_members;    /* allergen → GPtrArray of member keys (char*), with lines */
  GHashTable *ingredients;      /* every ingredient key → itself */
};

G_DEFINE_QUARK (pd-kb-error-quark, pd_kb_error)

static GPtrArray *interaction_candidates (PdKb           *kb,
                                          const PdKbDrug *drug);

static const char *route_tokens[] = {
  "oral", "iv", "im", "sc", "topical", "inhaled", "rectal", "sublingual", "ophthalmic", "nasal", "transdermal", NULL
};
static const char *special_classes[] = {
  "none", "narcotic", "psychotropic-1", "psychotropic-2", "toxic", "radioactive", "precursor", "vaccine", "blood-product", NULL
};

static void
drug_free (gpointer data)
{
  PdKbDrug *d = data;

  g_free (d->code);
  g_free (d->nhsa_code);
  g_free (d->name);
  g_free (d->pinyin);
  g_strfreev (d->ingredients);
  g_free (d->atc);
  g_strfreev (d->routes);
  g_free (d->special_class);
  g_strfreev (d->indications);
  g_free (d->insurance_class);
  g_free (d->pack_unit);
  g_free (d->trace_prefix);
  g_free (d->label_warning);
  g_clear_pointer (&d->interactions, g_ptr_array_unref);
  g_free (d);
}

static void
interaction_free (gpointer data)
{
  PdKbInteraction *i = data;

  g_free (i->a);
  g_free (i->b);
  g_free (i->effect);
  g_free (i->advice);
  g_free (i->effect_en);
  g_free (i->advice_en);
  g_free (i);
}

void
pd_kb_free (PdKb *kb)
{
  if (kb == NULL)
    return;
  g_free (kb->version);
  g_free (kb->status);
  g_free (kb->reviewed_by);
  g_clear_pointer (&kb->by_code, g_hash_table_unref);
  g_clear_pointer (&kb->by_atc, g_hash_table_unref);
  g_clear_pointer (&kb->interactions_by_key, g_hash_table_unref);
  g_clear_pointer (&kb->allergen_terms, g_hash_table_unref);
  g_clear_pointer (&kb->allergen_lines, g_hash_table_unref);
  g_clear_pointer (&kb->class_members, g_hash_table_unref);
  g_clear_pointer (&kb->ingredients, g_hash_table_unref);
  g_clear_pointer (&kb->drugs, g_ptr_array_unref);
  g_clear_pointer (&kb->interactions, g_ptr_array_unref);
  g_free (kb);
}

/* --- validation ------------------------------------------------------------- */

static gboolean G_GNUC_PRINTF (5, 6)
bad (GError    **error,
     PdCsv      *csv,
     PdCsvField *field,
     const char *column,
     const char *format,
     ...)
{
  va_list ap;

  va_start (ap, format);
  pd_csv_set_error_valist (error, PD_KB_ERROR, PD_KB_ERROR_MALFORMED, csv, field, column, format, ap);
  va_end (ap);
  return FALSE;
}

/* Each pattern compiled once per process: a knowledge base has hundreds of
 * thousands of fields to check. */
#define matches(pattern, text)                                                          \
  ({                                                                                   \
    static GRegex *re_;                                                                \
    if (g_once_init_enter (&re_))                                                      \
      g_once_init_leave (&re_, g_regex_new (pattern, G_REGEX_OPTIMIZE, 0, NULL));       \
    g_regex_match (re_, (text), 0, NULL);                                              \
  })

static gboolean
is_ingredient_key (const char *s)
{
  return matches ("^[a-z0-9-]+$", s);
}

static gboolean
is_atc_prefix (const char *s)
{
  return matches ("^[A-Z][0-9A-Z]*$", s);
}

/* A number ≥ 0 with "." decimals; "" is NAN (not known). */
static gboolean
parse_number (PdCsv      *csv,
              PdCsvRow   *row,
              int         col,
              const char *name,
              double     *out,
              GError    **error)
{
  const char *t = pd_csv_get (row, col);

  *out = NAN;
  if (col < 0 || *t == '\0')
    return TRUE;
  if (!matches ("^[0-9]+(\\.[0-9]+)?$", t))
    return bad (error, csv, pd_csv_get_field (row, col), name, _("“%s” is not a number ≥ 0 with “.” decimals"), t);
  *out = g_ascii_strtod (t, NULL);
  return TRUE;
}

static gboolean
parse_enum (PdCsv       *csv,
            PdCsvRow    *row,
            int          col,
            const char  *name,
            const char **allowed,
            gboolean     required,
            int         *out,
            GError     **error)
{
  const char *t = pd_csv_get (row, col);
  g_autofree char *list = NULL;

  *out = -1;
  if (col < 0 || *t == '\0')
    {
      if (required)
        return bad (error, csv, pd_csv_get_field (row, col), name, "%s", _("is required"));
      return TRUE;
    }
  for (int i = 0; allowed[i] != NULL; i++)
    if (g_str_equal (t, allowed[i]))
      {
        *out = i;
        return TRUE;
      }
  list = g_strjoinv (", ", (char **) allowed);
  return bad (error, csv, pd_csv_get_field (row, col), name, _("“%s” is not one of %s"), t, list);
}

static gboolean
require_columns (PdCsv       *csv,
                 const char **names,
                 GError     **error)
{
  for (int i = 0; names[i] != NULL; i++)
    if (pd_csv_column (csv, names[i]) < 0)
      {
        g_set_error (error, PD_KB_ERROR, PD_KB_ERROR_MALFORMED, _("%s:1:1: the header has no column “%s”"),
                     csv->name, names[i]);
        return FALSE;
      }
  return TRUE;
}

static char *
dup_or_null (const char *s)
{
  return s != NULL && *s != '\0' ? g_strdup (s) : NULL;
}

static char **
split_nonempty (const char *s,
                const char *sep)
{
  if (s == NULL || *s == '\0')
    return g_new0 (char *, 1);
  return g_strsplit (s, sep, -1);
}

/* --- drugs.csv --------------------------------------------------------------- */

static gboolean
load_drugs (PdKb   *kb,
            PdCsv  *csv,
            GError **error)
{
  static const char *required[] = { "code", "name", "ingredient", "special_class", NULL };
  static const char *flags[] = { "ok", "caution", "contraindicated", NULL };
  static const char *tiers[] = { "0", "1", "2", "3", NULL };
  static const char *bits[] = { "0", "1", NULL };
  static const char *classes[] = { "A", "B", "C", NULL };
  int c_code, c_nhsa, c_name, c_pinyin, c_ing, c_atc, c_route, c_unit, c_single, c_daily, c_child, c_age;
  int c_preg, c_lact, c_eld, c_special, c_tier, c_skin, c_ind, c_class, c_price, c_pack, c_unit_word, c_cold;
  int c_prefix, c_weight, c_warning;
  g_autoptr(GHashTable) nhsa_seen = g_hash_table_new (g_str_hash, g_str_equal);

  if (!require_columns (csv, required, error))
    return FALSE;
  c_code = pd_csv_column (csv, "code");
  c_nhsa = pd_csv_column (csv, "nhsa_code");
  c_name = pd_csv_column (csv, "name");
  c_pinyin = pd_csv_column (csv, "pinyin");
  c_ing = pd_csv_column (csv, "ingredient");
  c_atc = pd_csv_column (csv, "atc");
  c_route = pd_csv_column (csv, "route");
  c_unit = pd_csv_column (csv, "unit_dose_mg");
  c_single = pd_csv_column (csv, "max_single_mg");
  c_daily = pd_csv_column (csv, "max_daily_mg");
  c_child = pd_csv_column (csv, "child_max_daily_mg_per_kg");
  c_age = pd_csv_column (csv, "min_age_years");
  c_preg = pd_csv_column (csv, "pregnancy");
  c_lact = pd_csv_column (csv, "lactation");
  c_eld = pd_csv_column (csv, "elderly");
  c_special = pd_csv_column (csv, "special_class");
  c_tier = pd_csv_column (csv, "antimicrobial_tier");
  c_skin = pd_csv_column (csv, "skin_test");
  c_ind = pd_csv_column (csv, "indications");
  c_class = pd_csv_column (csv, "insurance_class");
  c_price = pd_csv_column (csv, "price");
  c_pack = pd_csv_column (csv, "pack_size");
  c_unit_word = pd_csv_column (csv, "pack_unit");
  c_cold = pd_csv_column (csv, "cold_chain");
  c_prefix = pd_csv_column (csv, "trace_prefix");
  c_weight = pd_csv_column (csv, "weight_g");
  c_warning = pd_csv_column (csv, "label_warning");

  for (guint r = 0; r < csv->rows->len; r++)
    {
      PdCsvRow *row = csv->rows->pdata[r];
      PdKbDrug *d = g_new0 (PdKbDrug, 1);
      int v;
      const char *t;

      g_ptr_array_add (kb->drugs, d);
      d->line = row->line;
      t = pd_csv_get (row, c_code);
      if (*t == '\0')
        return bad (error, csv, pd_csv_get_field (row, c_code), "code", "%s", _("is required"));
      if (g_hash_table_contains (kb->by_code, t))
        return bad (error, csv, pd_csv_get_field (row, c_code), "code", _("“%s” appears twice"), t);
      d->code = g_strdup (t);
      g_hash_table_insert (kb->by_code, d->code, d);

      t = pd_csv_get (row, c_nhsa);
      if (*t != '\0')
        {
          if (g_hash_table_contains (nhsa_seen, t))
            return bad (error, csv, pd_csv_get_field (row, c_nhsa), "nhsa_code", _("“%s” appears twice"), t);
          d->nhsa_code = g_strdup (t);
          g_hash_table_add (nhsa_seen, d->nhsa_code);
        }
      t = pd_csv_get (row, c_name);
      if (*t == '\0')
        return bad (error, csv, pd_csv_get_field (row, c_name), "name", "%s", _("is required"));
      d->name = g_strdup (t);
      t = pd_csv_get (row, c_pinyin);
      if (*t != '\0' && !matches ("^[A-Z0-9]+$", t))
        return bad (error, csv, pd_csv_get_field (row, c_pinyin), "pinyin", _("“%s” is not upper-case pinyin initials"), t);
      d->pinyin = dup_or_null (t);

      t = pd_csv_get (row, c_ing);
      if (!matches ("^[a-z0-9-]+(\\+[a-z0-9-]+)*$", t))
        return bad (error, csv, pd_csv_get_field (row, c_ing), "ingredient",
                    _("“%s” is not ingredient keys [a-z0-9-]+ joined by +"), t);
      d->ingredients = g_strsplit (t, "+", -1);
      for (int i = 0; d->ingredients[i] != NULL; i++)
        g_hash_table_add (kb->ingredients, d->ingredients[i]);

      t = pd_csv_get (row, c_atc);
      if (*t != '\0' && !is_atc_prefix (t))
        return bad (error, csv, pd_csv_get_field (row, c_atc), "atc", _("“%s” is not an ATC code"), t);
      d->atc = dup_or_null (t);
      if (d->atc != NULL && !g_hash_table_contains (kb->by_atc, d->atc))
        g_hash_table_insert (kb->by_atc, d->atc, d);

      t = pd_csv_get (row, c_route);
      d->routes = split_nonempty (t, "|");
      for (int i = 0; d->routes[i] != NULL; i++)
        if (!g_strv_contains (route_tokens, d->routes[i]))
          return bad (error, csv, pd_csv_get_field (row, c_route), "route",
                      _("“%s” is not a route (oral, iv, im, sc, topical, inhaled, rectal, sublingual, ophthalmic, nasal, transdermal)"),
                      d->routes[i]);

      if (!parse_number (csv, row, c_unit, "unit_dose_mg", &d->unit_dose_mg, error)
          || !parse_number (csv, row, c_single, "max_single_mg", &d->max_single_mg, error)
          || !parse_number (csv, row, c_daily, "max_daily_mg", &d->max_daily_mg, error)
          || !parse_number (csv, row, c_child, "child_max_daily_mg_per_kg", &d->child_max_daily_mg_per_kg, error)
          || !parse_number (csv, row, c_age, "min_age_years", &d->min_age_years, error))
        return FALSE;

      if (!parse_enum (csv, row, c_preg, "pregnancy", flags, FALSE, &v, error))
        return FALSE;
      d->pregnancy = v + 1;
      if (!parse_enum (csv, row, c_lact, "lactation", flags, FALSE, &v, error))
        return FALSE;
      d->lactation = v + 1;
      if (!parse_enum (csv, row, c_eld, "elderly", flags, FALSE, &v, error))
        return FALSE;
      d->elderly = v + 1;
      if (!parse_enum (csv, row, c_special, "special_class", special_classes, TRUE, &v, error))
        return FALSE;
      d->special_class = g_strdup (special_classes[v]);
      if (!parse_enum (csv, row, c_tier, "antimicrobial_tier", tiers, FALSE, &v, error))
        return FALSE;
      d->antimicrobial_tier = v;
      if (!parse_enum (csv, row, c_skin, "skin_test", bits, FALSE, &v, error))
        return FALSE;
      d->skin_test = v == 1;

      t = pd_csv_get (row, c_ind);
      d->indications = split_nonempty (t, "|");
      for (int i = 0; d->indications[i] != NULL; i++)
        if (!matches ("^[A-Z][0-9A-Z.]*$", d->indications[i]))
          return bad (error, csv, pd_csv_get_field (row, c_ind), "indications",
                      _("“%s” is not an ICD-10 code prefix"), d->indications[i]);

      if (!parse_enum (csv, row, c_class, "insurance_class", classes, FALSE, &v, error))
        return FALSE;
      d->insurance_class = v >= 0 ? g_strdup (classes[v]) : NULL;

      t = pd_csv_get (row, c_price);
      d->price_e4 = -1;
      if (*t != '\0')
        {
          g_autoptr(GError) money_error = NULL;

          if (!pd_money_parse_price_e4 (t, &d->price_e4, &money_error) || d->price_e4 < 0)
            return bad (error, csv, pd_csv_get_field (row, c_price), "price",
                        _("“%s” is not a price in yuan with at most 4 decimals"), t);
        }
      t = pd_csv_get (row, c_pack);
      if (*t != '\0')
        {
          if (!matches ("^[1-9][0-9]{0,5}$", t))
            return bad (error, csv, pd_csv_get_field (row, c_pack), "pack_size", _("“%s” is not a whole number of units"), t);
          d->pack_size = atoi (t);
        }
      d->pack_unit = dup_or_null (pd_csv_get (row, c_unit_word));
      if (!parse_enum (csv, row, c_cold, "cold_chain", bits, FALSE, &v, error))
        return FALSE;
      d->cold_chain = v == 1;

      t = pd_csv_get (row, c_prefix);
      if (*t != '\0' && !matches ("^[0-9]{7}$", t))
        return bad (error, csv, pd_csv_get_field (row, c_prefix), "trace_prefix",
                    _("“%s” is not a drug identification code of 7 digits"), t);
      d->trace_prefix = dup_or_null (t);
      t = pd_csv_get (row, c_weight);
      d->weight_g = 100;
      if (*t != '\0')
        {
          if (!matches ("^[1-9][0-9]{0,5}$", t))
            return bad (error, csv, pd_csv_get_field (row, c_weight), "weight_g", _("“%s” is not a whole number of grams"), t);
          d->weight_g = atoi (t);
        }
      d->label_warning = dup_or_null (pd_csv_get (row, c_warning));
    }
  return TRUE;
}

/* --- interactions.csv -------------------------------------------------------- */

static void
index_interaction (PdKb            *kb,
                   const char      *key,
                   PdKbInteraction *row)
{
  GPtrArray *list = g_hash_table_lookup (kb->interactions_by_key, key);

  if (list == NULL)
    {
      list = g_ptr_array_new ();
      g_hash_table_insert (kb->interactions_by_key, g_strdup (key), list);
    }
  if (list->len == 0 || list->pdata[list->len - 1] != row)
    g_ptr_array_add (list, row);
}

static gboolean
load_interactions (PdKb   *kb,
                   PdCsv  *csv,
                   GError **error)
{
  static const char *required[] = { "a", "b", "severity", NULL };
  static const char *severities[] = { "minor", "moderate", "major", "contraindicated", NULL };
  int c_a, c_b, c_sev, c_eff, c_adv, c_eff_en, c_adv_en;

  if (!require_columns (csv, required, error))
    return FALSE;
  c_a = pd_csv_column (csv, "a");
  c_b = pd_csv_column (csv, "b");
  c_sev = pd_csv_column (csv, "severity");
  c_eff = pd_csv_column (csv, "effect");
  c_adv = pd_csv_column (csv, "advice");
  c_eff_en = pd_csv_column (csv, "effect_en");
  c_adv_en = pd_csv_column (csv, "advice_en");

  for (guint r = 0; r < csv->rows->len; r++)
    {
      PdCsvRow *row = csv->rows->pdata[r];
      PdKbInteraction *i = g_new0 (PdKbInteraction, 1);
      int cols[2] = { c_a, c_b };
      int v;

      g_ptr_array_add (kb->interactions, i);
      i->line = row->line;
      for (int s = 0; s < 2; s++)
        {
          const char *t = pd_csv_get (row, cols[s]);

          if (*t == '\0')
            return bad (error, csv, pd_csv_get_field (row, cols[s]), s == 0 ? "a" : "b", "%s", _("is required"));
          if (!is_ingredient_key (t) && !is_atc_prefix (t))
            return bad (error, csv, pd_csv_get_field (row, cols[s]), s == 0 ? "a" : "b",
                        _("“%s” is neither an ingredient key nor an ATC prefix"), t);
        }
      i->a = g_strdup (pd_csv_get (row, c_a));
      i->b = g_strdup (pd_csv_get (row, c_b));
      if (!parse_enum (csv, row, c_sev, "severity", severities, TRUE, &v, error))
        return FALSE;
      i->severity = (PdSeverity) v;   /* minor → info … contraindicated → block */
      i->effect = dup_or_null (pd_csv_get (row, c_eff));
      i->advice = dup_or_null (pd_csv_get (row, c_adv));
      i->effect_en = dup_or_null (pd_csv_get (row, c_eff_en));
      i->advice_en = dup_or_null (pd_csv_get (row, c_adv_en));
      index_interaction (kb, i->a, i);
      index_interaction (kb, i->b, i);
    }
  return TRUE;
}

/* --- allergy_classes.csv ------------------------------------------------------- */

typedef struct {
  char  *key;
  guint  line;
} Member;

static void
member_free (gpointer data)
{
  Member *m = data;

  g_free (m->key);
  g_free (m);
}

static void
add_term (PdKb       *kb,
          const char *term,
          const char *allergen,
          guint       line)
{
  g_autofree char *lower = g_utf8_strdown (term, -1);

  if (!g_hash_table_contains (kb->allergen_terms, lower))
    {
      g_hash_table_insert (kb->allergen_terms, g_strdup (lower), g_strdup (allergen));
      g_hash_table_insert (kb->allergen_lines, g_strdup (lower), GUINT_TO_POINTER (line));
    }
}

static gboolean
load_allergy_classes (PdKb   *kb,
                      PdCsv  *csv,
                      GError **error)
{
  static const char *required[] = { "allergen", NULL };
  int c_allergen, c_member, c_alias;

  if (!require_columns (csv, required, error))
    return FALSE;
  c_allergen = pd_csv_column (csv, "allergen");
  c_member = pd_csv_column (csv, "member");
  c_alias = pd_csv_column (csv, "alias");

  for (guint r = 0; r < csv->rows->len; r++)
    {
      PdCsvRow *row = csv->rows->pdata[r];
      const char *allergen = pd_csv_get (row, c_allergen);
      const char *member = pd_csv_get (row, c_member);
      const char *alias = pd_csv_get (row, c_alias);

      if (*allergen == '\0')
        return bad (error, csv, pd_csv_get_field (row, c_allergen), "allergen", "%s", _("is required"));
      if (*member == '\0' && *alias == '\0')
        return bad (error, csv, pd_csv_get_field (row, c_allergen), "allergen",
                    _("the row for “%s” has neither a member nor an alias"), allergen);
      add_term (kb, allergen, allergen, row->line);
      if (*member != '\0')
        {
          GPtrArray *members;
          Member *m;

          if (!is_ingredient_key (member) && !is_atc_prefix (member))
            return bad (error, csv, pd_csv_get_field (row, c_member), "member",
                        _("“%s” is neither an ingredient key nor an ATC prefix"), member);
          members = g_hash_table_lookup (kb->class_members, allergen);
          if (members == NULL)
            {
              members = g_ptr_array_new_with_free_func (member_free);
              g_hash_table_insert (kb->class_members, g_strdup (allergen), members);
            }
          m = g_new0 (Member, 1);
          m->key = g_strdup (member);
          m->line = row->line;
          g_ptr_array_add (members, m);
        }
      if (*alias != '\0')
        add_term (kb, alias, allergen, row->line);
    }
  return TRUE;
}

/* --- kb.csv ------------------------------------------------------------------- */

static gboolean
load_meta (PdKb   *kb,
           PdCsv  *csv,
           GError **error)
{
  static const char *required[] = { "key", "value", NULL };
  int c_key, c_value;

  if (!require_columns (csv, required, error))
    return FALSE;
  c_key = pd_csv_column (csv, "key");
  c_value = pd_csv_column (csv, "value");
  for (guint r = 0; r < csv->rows->len; r++)
    {
      PdCsvRow *row = csv->rows->pdata[r];
      const char *key = pd_csv_get (row, c_key);
      const char *value = pd_csv_get (row, c_value);

      if (g_str_equal (key, "version"))
        {
          if (*value == '\0')
            return bad (error, csv, pd_csv_get_field (row, c_value), "value", "%s", _("the version may not be empty"));
          g_free (kb->version);
          kb->version = g_strdup (value);
        }
      else if (g_str_equal (key, "status"))
        {
          g_free (kb->status);
          kb->status = g_strdup (value);
        }
      else if (g_str_equal (key, "reviewed_by"))
        {
          g_free (kb->reviewed_by);
          kb->reviewed_by = dup_or_null (value);
        }
    }
  if (kb->status != NULL && g_str_has_prefix (kb->status, "reviewed") && kb->reviewed_by == NULL)
    {
      g_set_error (error, PD_KB_ERROR, PD_KB_ERROR_MALFORMED,
                   _("%s:1:1: status: a reviewed knowledge base names the pharmacist who signed it off (reviewed_by)"),
                   csv->name);
      return FALSE;
    }
  return TRUE;
}

/* --- loading --------------------------------------------------------------------- */

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

PdKb *
pd_kb_load_files (GHashTable *files,
                  GError    **error)
{
  static const struct {
    const char *name;
    gboolean    required;
    gboolean  (*load) (PdKb *, PdCsv *, GError **);
  } parts[] = {
    { "drugs.csv", TRUE, load_drugs },
    { "interactions.csv", FALSE, load_interactions },
    { "allergy_classes.csv", FALSE, load_allergy_classes },
    { "kb.csv", FALSE, load_meta },
  };
  g_autoptr(PdKb) kb = g_new0 (PdKb, 1);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  GHashTableIter it;
  gpointer key, value;

  kb->drugs = g_ptr_array_new_with_free_func (drug_free);
  kb->by_code = g_hash_table_new (g_str_hash, g_str_equal);
  kb->by_atc = g_hash_table_new (g_str_hash, g_str_equal);
  kb->interactions = g_ptr_array_new_with_free_func (interaction_free);
  kb->interactions_by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  kb->allergen_terms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  kb->allergen_lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  kb->class_members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  kb->ingredients = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint p = 0; p < G_N_ELEMENTS (parts); p++)
    {
      GBytes *bytes = g_hash_table_lookup (files, parts[p].name);
      g_autoptr(PdCsv) csv = NULL;

      if (bytes == NULL)
        {
          if (parts[p].required)
            {
              g_set_error (error, PD_KB_ERROR, PD_KB_ERROR_UNREADABLE, _("the knowledge base has no %s"), parts[p].name);
              return NULL;
            }
          continue;
        }
      csv = pd_csv_parse (parts[p].name, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), error);
      if (csv == NULL)
        {
          if (error != NULL && *error != NULL)
            (*error)->domain = PD_KB_ERROR, (*error)->code = PD_KB_ERROR_MALFORMED;
          return NULL;
        }
      if (!parts[p].load (kb, csv, error))
        return NULL;
    }

  /* The engine's hot path looks each drug's rows up once per pair. */
  for (guint i = 0; i < kb->drugs->len; i++)
    {
      PdKbDrug *d = kb->drugs->pdata[i];

      d->interactions = interaction_candidates (kb, d);
    }

  /* Without kb.csv's version: sha256 over the files in ASCII order of
   * their names, each its name, a NUL and its bytes. */
  if (kb->version == NULL)
    {
      g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

      g_hash_table_iter_init (&it, files);
      while (g_hash_table_iter_next (&it, &key, &value))
        g_ptr_array_add (names, key);
      g_ptr_array_sort (names, compare_names);
      for (guint i = 0; i < names->len; i++)
        {
          GBytes *bytes = g_hash_table_lookup (files, names->pdata[i]);

          g_checksum_update (sum, (const guchar *) names->pdata[i], strlen (names->pdata[i]) + 1);
          g_checksum_update (sum, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
        }
      kb->version = g_strconcat ("sha256:", g_checksum_get_string (sum), NULL);
    }
  return g_steal_pointer (&kb);
}

/* The folder's CSV files (other files, a README, are not the knowledge base). */
/* The folder's *.csv files, name → GBytes, exactly as they will be
 * validated and stored. */
GHashTable *
pd_kb_read_dir (const char *dir,
                GError    **error)
{
  g_autoptr(GHashTable) files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *name;

  d = g_dir_open (dir, 0, &local_error);
  if (d == NULL)
    {
      g_set_error (error, PD_KB_ERROR, PD_KB_ERROR_UNREADABLE, _("Cannot read the knowledge base “%s”: %s"),
                   dir, local_error->message);
      return NULL;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;
      char *data = NULL;
      gsize len = 0;

      if (!g_str_has_suffix (name, ".csv"))
        continue;
      path = g_build_filename (dir, name, NULL);
      if (!g_file_get_contents (path, &data, &len, &local_error))
        {
          g_set_error (error, PD_KB_ERROR, PD_KB_ERROR_UNREADABLE, _("Cannot read %s: %s"), path, local_error->message);
          return NULL;
        }
      g_hash_table_insert (files, g_strdup (name), g_bytes_new_take (data, len));
    }
  return g_steal_pointer (&files);
}

PdKb *
pd_kb_load_dir (const char *dir,
                GError    **error)
{
  g_autoptr(GHashTable) files = pd_kb_read_dir (dir, error);

  return files != NULL ? pd_kb_load_files (files, error) : NULL;
}

const char *
pd_kb_get_version (PdKb *kb)
{
  return kb->version;
}

gboolean
pd_kb_is_demonstration (PdKb *kb)
{
  return kb->status == NULL || !g_str_has_prefix (kb->status, "reviewed");
}

const char *
pd_kb_get_reviewed_by (PdKb *kb)
{
  return kb->reviewed_by;
}

guint
pd_kb_get_n_drugs (PdKb *kb)
{
  return kb->drugs->len;
}

const PdKbDrug *
pd_kb_find_drug (PdKb       *kb,
                 const char *code)
{
  return code != NULL ? g_hash_table_lookup (kb->by_code, code) : NULL;
}

const PdKbDrug *
pd_kb_find_drug_by_atc (PdKb       *kb,
                        const char *atc)
{
  return atc != NULL ? g_hash_table_lookup (kb->by_atc, atc) : NULL;
}

/* An ingredient key matches any of the drug's ingredients; an ATC prefix
 * the start of its ATC code. */
gboolean
pd_kb_key_matches (const char     *key,
                   const PdKbDrug *drug)
{
  if (g_ascii_isupper (key[0]))
    return drug->atc != NULL && g_str_has_prefix (drug->atc, key);
  return g_strv_contains ((const char * const *) drug->ingredients, key);
}

static int
compare_rows (gconstpointer a,
              gconstpointer b)
{
  const PdKbInteraction *x = *(const PdKbInteraction * const *) a;
  const PdKbInteraction *y = *(const PdKbInteraction * const *) b;

  return (int) x->line - (int) y->line;
}

/* Every row one of whose keys matches the drug, in file order, once. */
static GPtrArray *
interaction_candidates (PdKb           *kb,
                        const PdKbDrug *drug)
{
  GPtrArray *out = g_ptr_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  char prefix[16];

  for (int i = 0; drug->ingredients[i] != NULL; i++)
    {
      GPtrArray *list = g_hash_table_lookup (kb->interactions_by_key, drug->ingredients[i]);

      for (guint k = 0; list != NULL && k < list->len; k++)
        if (g_hash_table_add (seen, list->pdata[k]))
          g_ptr_array_add (out, list->pdata[k]);
    }
  if (drug->atc != NULL)
    {
      gsize n = MIN (strlen (drug->atc), sizeof prefix - 1);

      for (gsize len = 1; len <= n; len++)
        {
          GPtrArray *list;

          memcpy (prefix, drug->atc, len);
          prefix[len] = '\0';
          list = g_hash_table_lookup (kb->interactions_by_key, prefix);
          for (guint k = 0; list != NULL && k < list->len; k++)
            if (g_hash_table_add (seen, list->pdata[k]))
              g_ptr_array_add (out, list->pdata[k]);
        }
    }
  g_ptr_array_sort (out, compare_rows);
  return out;
}

GPtrArray *
pd_kb_interaction_candidates (PdKb           *kb,
                              const PdKbDrug *drug)
{
  return drug->interactions;
}

const char *
pd_kb_allergen_for_term (PdKb       *kb,
                         const char *term,
                         gboolean   *is_ingredient)
{
  g_autofree char *lower = g_utf8_strdown (term, -1);

  *is_ingredient = g_hash_table_contains (kb->ingredients, lower);
  return g_hash_table_lookup (kb->allergen_terms, lower);
}

guint
pd_kb_allergen_line (PdKb       *kb,
                     const char *term)
{
  g_autofree char *lower = g_utf8_strdown (term, -1);

  return GPOINTER_TO_UINT (g_hash_table_lookup (kb->allergen_lines, lower));
}

gboolean
pd_kb_class_holds (PdKb           *kb,
                   const char     *allergen,
                   const PdKbDrug *drug,
                   guint          *line)
{
  GPtrArray *members = g_hash_table_lookup (kb->class_members, allergen);

  for (guint i = 0; members != NULL && i < members->len; i++)
    {
      Member *m = members->pdata[i];

      if (pd_kb_key_matches (m->key, drug))
        {
          if (line != NULL)
            *line = m->line;
          return TRUE;
        }
    }
  return FALSE;
}
