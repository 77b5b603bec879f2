/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-json.h"
#include "pd-sandbox.h"

G_BEGIN_DECLS

#define PD_FHIR_JSON "application/fhir+json"
/* groupIdentifier.system of the sandbox hospital's prescriptions */
#define PD_SANDBOX_RX_SYSTEM "urn:hospital:rx"

/* The resource store (pd-sandbox-hospital.c). */
gboolean  pd_sandbox_fhir_put           (PdSandbox   *sandbox,
                                         JsonObject  *resource,
                                         gint64       planted_ms,
                                         GError     **error);
char     *pd_sandbox_fhir_stored        (PdSandbox   *sandbox,
                                         const char  *type,
                                         const char  *id,
                                         gint64       version,
                                         gint64      *version_out);
JsonObject *pd_sandbox_fhir_load        (PdSandbox   *sandbox,
                                         const char  *type,
                                         const char  *id,
                                         gint64      *version_out);
JsonNode *pd_sandbox_fhir_patient       (PdSandbox   *sandbox,
                                         const char  *id);
JsonNode *pd_sandbox_fhir_outcome       (const char  *code,
                                         const char  *text);
void      pd_sandbox_fhir_reply_outcome (SoupServerMessage *msg,
                                         guint        status,
                                         const char  *code,
                                         const char  *text);
char     *pd_sandbox_fhir_format_ms     (gint64       ms);
/* A searchset's Bundle.timestamp: it holds every write stamped up to then. */
char     *pd_sandbox_fhir_now           (PdSandbox   *sandbox);
gint64    pd_sandbox_counter_next       (PdSandbox   *sandbox,
                                         const char  *name,
                                         GError     **error);
char     *pd_sandbox_fhir_to_string     (JsonObject  *resource);
/* The ids a search parameter's value points at, in id order. */
GPtrArray *pd_sandbox_fhir_lookup       (PdSandbox   *sandbox,
                                         const char  *type,
                                         const char  *param,
                                         const char  *value);

/* Searches (pd-sandbox-fhir-search.c). */
void      pd_sandbox_fhir_search        (PdSandbox         *sandbox,
                                         SoupServerMessage *msg,
                                         const char        *type);

/* Writes (pd-sandbox-fhir-write.c): PUT Type/id, POST Type, POST / */
void      pd_sandbox_fhir_write         (PdSandbox         *sandbox,
                                         SoupServerMessage *msg,
                                         char             **parts);

/* Prescriptions (pd-sandbox-prescriptions.c). */
gboolean  pd_sandbox_rx_seed_demo       (PdSandbox   *sandbox,
                                         GError     **error);
gboolean  pd_sandbox_rx_bulk_load       (PdSandbox   *sandbox,
                                         guint        count,
                                         GError     **error);
void      pd_sandbox_rx_arrivals        (PdSandbox   *sandbox);
/* 200 and the Task id, or 404 / 409 with a reason. */
guint     pd_sandbox_rx_cancel          (PdSandbox   *sandbox,
                                         const char  *prescription,
                                         char       **task_id,
                                         char       **problem);

G_END_DECLS
