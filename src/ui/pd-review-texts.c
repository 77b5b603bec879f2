/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-review-texts"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-review-texts.h"

typedef struct {
  const char *code;
  const char *text;
} Text;

static const char *
lookup (const Text *texts,
        guint       n,
        const char *code)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (code, texts[i].code) == 0)
      return _(texts[i].text);
  return code != NULL ? code : "";
}

const char *
pd_review_lang (void)
{
  const char * const *names = g_get_language_names ();

  /* What gettext would pick: the first language the catalogue knows. */
  for (guint i = 0; names[i] != NULL; i++)
    {
      if (g_str_has_prefix (names[i], "zh"))
        return "zh_CN";
      if (g_str_has_prefix (names[i], "en") || g_str_equal (names[i], "C"))
        return "en";
    }
  return "en";
}

const char *
pd_finding_code_text (const char *code)
{
  static const Text texts[] = {
    { "prescriber-unqualified", N_("Prescriber not qualified") },
    { "first-visit-online", N_("First visit online") },
    { "prescription-expired", N_("Prescription expired") },
    { "too-many-drugs", N_("Too many drugs") },
    { "prescription-reused", N_("Prescription already dispensed") },
    { "missing-element", N_("Missing element") },
    { "signature-missing", N_("Prescriber signature missing") },
    { "prescriber-no-authority", N_("Prescriber lacks the authority") },
    { "special-drug-online", N_("Special drug online") },
    { "supply-too-long", N_("Supply too long") },
    { "dose-exceeds-max", N_("Dose above the maximum") },
    { "dose-unverifiable", N_("Dose cannot be checked") },
    { "route-mismatch", N_("Route does not fit the drug") },
    { "allergy", N_("Allergy") },
    { "allergy-unverifiable", N_("Allergy cannot be checked") },
    { "population-contraindication", N_("Not for this patient group") },
    { "indication-mismatch", N_("Diagnosis does not fit the drug") },
    { "skin-test-required", N_("Skin test required") },
    { "unknown-drug", N_("Drug unknown to the knowledge base") },
    { "duplicate-therapy", N_("Duplicate therapy") },
    { "drug-interaction", N_("Drug interaction") },
  };

  return lookup (texts, G_N_ELEMENTS (texts), code);
}

const char *
pd_severity_text (PdSeverity severity)
{
  switch (severity)
    {
    case PD_SEVERITY_BLOCK:
      return C_("severity", "Block");
    case PD_SEVERITY_MAJOR:
      return C_("severity", "Major");
    case PD_SEVERITY_MODERATE:
      return C_("severity", "Moderate");
    case PD_SEVERITY_INFO:
    default:
      return C_("severity", "Info");
    }
}

const char *
pd_severity_css (PdSeverity severity)
{
  switch (severity)
    {
    case PD_SEVERITY_BLOCK:
      return "block";
    case PD_SEVERITY_MAJOR:
      return "major";
    case PD_SEVERITY_MODERATE:
      return "moderate";
    case PD_SEVERITY_INFO:
    default:
      return "info";
    }
}

const char *
pd_override_reason_text (const char *reason)
{
  static const Text texts[] = {
    { "benefit-outweighs-risk", N_("The benefit outweighs the risk") },
    { "prescriber-confirmed", N_("The prescriber was contacted and confirmed") },
    { "dose-adjusted-for-patient", N_("Weight, renal function or indication justify it") },
    { "long-term-stable-therapy", N_("Long-term stable therapy") },
    { "monitoring-in-place", N_("Monitoring is in place") },
    { "other", N_("Other reason") },
  };

  return lookup (texts, G_N_ELEMENTS (texts), reason);
}

const char *
pd_outbox_state_text (const char *state)
{
  static const Text texts[] = {
    { "queued", N_("waiting to be sent") },
    { "sending", N_("being sent") },
    { "unknown", N_("outcome unknown") },
    { "done", N_("sent") },
    { "refused", N_("refused by the hospital") },
    { "conflict", N_("conflict") },
    { "resolved", N_("resolved") },
    { "cancelled", N_("cancelled") },
  };

  return lookup (texts, G_N_ELEMENTS (texts), state);
}

const char *
pd_outbox_operation_text (const char *operation)
{
  static const Text texts[] = {
    { "claim", N_("Claim") },
    { "release", N_("Release") },
    { "decide", N_("Decision") },
  };

  return lookup (texts, G_N_ELEMENTS (texts), operation);
}

const char *
pd_qualification_text (const char *code)
{
  static const Text texts[] = {
    { "practice-license", N_("practising licence") },
    { "narcotic", N_("narcotics") },
    { "antimicrobial-1", N_("antimicrobials tier 1") },
    { "antimicrobial-2", N_("antimicrobials tier 2") },
    { "antimicrobial-3", N_("antimicrobials tier 3") },
  };

  return lookup (texts, G_N_ELEMENTS (texts), code);
}
