/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The knowledge base of review.md: a folder of CSV files, validated field
 * by field (a malformed file is refused with its file, line and column)
 * and indexed for the engine. */

#define PD_KB_ERROR (pd_kb_error_quark ())
GQuark pd_kb_error_quark (void);

typedef enum {
  PD_KB_ERROR_MALFORMED,   /* a file breaks the format: file:line:column in the message */
  PD_KB_ERROR_UNREADABLE,  /* the folder or a file cannot be read */
  PD_KB_ERROR_NONE,        /* no knowledge base has been imported */
} PdKbError;

typedef enum {
  PD_FLAG_UNKNOWN,
  PD_FLAG_OK,
  PD_FLAG_CAUTION,
  PD_FLAG_CONTRAINDICATED,
} PdKbFlag;

typedef enum {
  PD_SEVERITY_INFO,
  PD_SEVERITY_MODERATE,
  PD_SEVERITY_MAJOR,
  PD_SEVERITY_BLOCK,
} PdSeverity;

/* A number not given is NAN (IEEE): a rule on it does not fire. */
typedef struct {
  char     *code;
  char     *nhsa_code;
  char     *name;
  char     *pinyin;
  char    **ingredients;       /* NULL-terminated */
  char     *atc;
  char    **routes;            /* NULL-terminated, may be empty */
  double    unit_dose_mg;
  double    max_single_mg;
  double    max_daily_mg;
  double    child_max_daily_mg_per_kg;
  double    min_age_years;
  PdKbFlag  pregnancy;
  PdKbFlag  lactation;
  PdKbFlag  elderly;
  char     *special_class;
  int       antimicrobial_tier;  /* -1 unknown */
  gboolean  skin_test;
  char    **indications;       /* NULL-terminated */
  char     *insurance_class;
  gint64    price_e4;          /* -1 unknown */
  int       pack_size;         /* 0 unknown */
  char     *pack_unit;
  gboolean  cold_chain;
  char     *trace_prefix;      /* 7 digits (药品标识码), NULL when not known */
  int       weight_g;          /* one box, for the courier: 100 when not given */
  char     *label_warning;     /* printed on the label as written, NULL when none */
  guint     line;
  GPtrArray *interactions;     /* PdKbInteraction* one of whose sides matches, file order */
} PdKbDrug;

typedef struct {
  char       *a;
  char       *b;
  PdSeverity  severity;
  char       *effect;
  char       *advice;
  char       *effect_en;
  char       *advice_en;
  guint       line;
} PdKbInteraction;

typedef struct _PdKb PdKb;

PdKb            *pd_kb_load_dir          (const char   *dir,
                                          GError      **error);
GHashTable      *pd_kb_read_dir          (const char   *dir,
                                          GError      **error);
/* files: name → GBytes (as stored in the database) */
PdKb            *pd_kb_load_files        (GHashTable   *files,
                                          GError      **error);
void             pd_kb_free              (PdKb         *kb);
const char      *pd_kb_get_version       (PdKb         *kb);
gboolean         pd_kb_is_demonstration  (PdKb         *kb);
const char      *pd_kb_get_reviewed_by   (PdKb         *kb);
guint            pd_kb_get_n_drugs       (PdKb         *kb);

const PdKbDrug  *pd_kb_find_drug         (PdKb         *kb,
                                          const char   *code);
const PdKbDrug  *pd_kb_find_drug_by_atc  (PdKb         *kb,
                                          const char   *atc);
/* Rows of interactions.csv one of whose sides matches the drug, in file
 * order (computed once, when the knowledge base is loaded). */
GPtrArray       *pd_kb_interaction_candidates (PdKb           *kb,
                                               const PdKbDrug *drug);
gboolean         pd_kb_key_matches       (const char     *key,
                                          const PdKbDrug *drug);
/* The allergen (class name) that term names, or NULL; TRUE in
 * *is_ingredient when the term is an ingredient key itself. */
const char      *pd_kb_allergen_for_term (PdKb         *kb,
                                          const char   *term,
                                          gboolean     *is_ingredient);
gboolean         pd_kb_class_holds       (PdKb           *kb,
                                          const char     *allergen,
                                          const PdKbDrug *drug,
                                          guint          *line);
guint            pd_kb_allergen_line     (PdKb         *kb,
                                          const char   *term);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdKb, pd_kb_free)

G_END_DECLS
