/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-json-doc.h"

#include "pd-kb.h"
#include "pd-prescription.h"

G_BEGIN_DECLS

#define PD_FHIR_ERROR (pd_fhir_error_quark ())
GQuark pd_fhir_error_quark (void);

typedef enum {
  PD_FHIR_ERROR_INVALID,    /* not JSON, not a Bundle, a broken reference: one sentence */
} PdFhirError;

/* A FHIR R4 Bundle into prescriptions (PdRx*), in the order of their first
 * line, read as review.md says. */
GPtrArray *pd_fhir_read_prescriptions (const char  *data,
                                       gsize        len,
                                       PdKb        *kb,
                                       GError     **error);

GPtrArray *pd_fhir_read_bundle        (const PdJv  *bundle,
                                       PdKb        *kb,
                                       GError     **error);

/* The reading's rules for pieces of a Bundle, shared with what decides
 * which of a patient's resources a cached Bundle keeps. */
gboolean   pd_fhir_codeable_has       (const PdJv  *concept,
                                       const char  *system,
                                       const char  *code);
const char *pd_fhir_observation_when  (const PdJv  *observation);
gint64     pd_fhir_observation_time   (const PdJv  *observation);
const char *pd_fhir_concept_text      (const PdJv  *concept);
gboolean   pd_fhir_observation_counts (const PdJv  *observation);

/* What the cache and the review view read of a Bundle too: a resource by
 * type and id (id NULL: the first of that type), and a person's name
 * (name[0].text, else family then given; NULL when none). */
const PdJv *pd_fhir_bundle_resource   (const PdJv  *bundle,
                                       const char  *type,
                                       const char  *id);
char      *pd_fhir_human_name         (const PdJv  *resource);

G_END_DECLS
