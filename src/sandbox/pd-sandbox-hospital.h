/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-json.h"
#include "pd-sandbox.h"

G_BEGIN_DECLS

#define PD_FHIR_JSON "application/fhir+json"
/* groupIdentifier.system of the sandbox hospital's prescriptions */
#define PD_SANDBOX_RX_SYSTEM "urn:hospital:rx"

/* A write the hospital refuses: the HTTP status and the OperationOutcome's
 * issue (code, diagnostics, and the element it names, where one does). */
typedef struct {
  guint       status;
  const char *code;
  char       *problem;
  char       *expression;
} PdSandboxRefusal;

void      pd_sandbox_refusal_clear      (PdSandboxRefusal *refusal);

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
                                         const char  *text,
                                         const char  *expression);
void      pd_sandbox_fhir_reply_outcome (SoupServerMessage *msg,
                                         guint        status,
                                         const char  *code,
                                         const char  *text);
void      pd_sandbox_fhir_reply_refusal (SoupServerMessage *msg,
                                         const PdSandboxRefusal *refusal);
char     *pd_sandbox_fhir_format_ms     (gint64       ms);
/* A searchset's Bundle.timestamp: it holds every write stamped up to then. */
char     *pd_sandbox_fhir_now           (PdSandbox   *sandbox);
gint64    pd_sandbox_counter_next       (PdSandbox   *sandbox,
                                         const char  *name,
                                         GError     **error);
gint64    pd_sandbox_counter_take       (PdSandbox   *sandbox,
                                         const char  *name,
                                         gint64       n,
                                         GError     **error);
char     *pd_sandbox_fhir_to_string     (JsonObject  *resource);
/* What an update changes outside what may change (NULL-terminated). */
const char *pd_sandbox_fhir_changed_member (JsonObject         *old,
                                            JsonObject         *new,
                                            const char * const *mutable_members);
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

/* Dispenses (pd-sandbox-dispense.c), inside the caller's write
 * transaction. A new MedicationDispense (its id set, created under
 * If-None-Exist), or a PUT of one (current: the stored version): FALSE
 * and the refusal when the hospital refuses it. */
gboolean  pd_sandbox_dispense_check_new    (PdSandbox        *sandbox,
                                            JsonObject       *dispense,
                                            const char       *if_none_exist,
                                            PdSandboxRefusal *refusal);
gboolean  pd_sandbox_dispense_check_update (PdSandbox        *sandbox,
                                            JsonObject       *current,
                                            JsonObject       *next,
                                            PdSandboxRefusal *refusal);
/* "MedicationDispense/ID" of an in-progress or completed dispense of the
 * prescription (groupIdentifier value) whose dispense-group is not
 * except_group (NULL: any), or NULL. */
char     *pd_sandbox_rx_live_dispense      (PdSandbox        *sandbox,
                                            const char       *prescription,
                                            const char       *except_group);

/* Traceability codes for demos and tests (pd-sandbox-trace-codes.c): 200
 * and count new codes of the drug, or 404 / 500 with the problem. */
guint     pd_sandbox_trace_codes_issue     (PdSandbox        *sandbox,
                                            const char       *drug,
                                            guint             count,
                                            GPtrArray       **codes,
                                            char            **problem);

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
