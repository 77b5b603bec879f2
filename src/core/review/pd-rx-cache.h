/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "pd-json-doc.h"
#include "pd-kb.h"
#include "pd-session.h"

G_BEGIN_DECLS

/* Prescriptions as the hospital link brought them: the Task and a
 * collection Bundle of everything the review reads (lines, patient,
 * prescriber, encounter, signature, conditions, allergies, observations),
 * sealed in cached_object; what the queue needs in clear columns of
 * prescription and prescription_line, with the engine's verdict. */

#define PD_RX_BUNDLE "rx-bundle"   /* cached_object.resource_type of the assembled Bundle */

/* A pulled prescription is stored in two halves: the work that needs no
 * database (sealing, indexes, the engine; kb may be NULL: no verdict yet),
 * on any thread; then the SQL, inside a pd_store_write() transaction. A
 * prescription with open outbox entries keeps its local status. */
typedef struct _PdRxPrepared PdRxPrepared;

/* task: a Task in task_doc (which the result holds); bundle_text: the
 * assembled Bundle (taken), sealed as it is. */
PdRxPrepared *pd_rx_cache_prepare  (PdSession    *session,
                                    PdKb         *kb,
                                    PdJsonDoc    *task_doc,
                                    const PdJv   *task,
                                    char         *bundle_text,
                                    GError      **error);
gboolean  pd_rx_cache_write        (PdSession    *session,
                                    PdRxPrepared *prepared,
                                    GError      **error);
void      pd_rx_prepared_free      (PdRxPrepared *prepared);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdRxPrepared, pd_rx_prepared_free)

/* Inside a transaction: the Task as the server now has it (after a claim,
 * a release or a decision), with the prescription's status columns. */
gboolean  pd_rx_cache_put_task     (PdSession    *session,
                                    JsonObject   *task,
                                    const char   *local_status,
                                    GError      **error);
/* The cached version of Task ?1, on any connection (a reader's too). */
#define PD_RX_CACHE_TASK_VERSION_SQL \
  "SELECT version_id FROM cached_object WHERE link = 'hospital' AND resource_type = 'Task' AND resource_id = ?1"
/* The cached version of a Task, NULL when it is not cached. */
char     *pd_rx_cache_task_version (PdStore      *store,
                                    const char   *task_id);
JsonNode *pd_rx_cache_load         (PdSession    *session,
                                    const char   *resource_type,
                                    const char   *resource_id,
                                    char        **version,
                                    GError      **error);
/* The same, to read only (the review's Bundle). */
PdJsonDoc *pd_rx_cache_load_doc    (PdSession    *session,
                                    const char   *resource_type,
                                    const char   *resource_id,
                                    GError      **error);
/* The prescription's uuid and Task id by its uuid or number. */
gboolean  pd_rx_cache_find         (PdStore      *store,
                                    const char   *uuid_or_number,
                                    char        **uuid,
                                    char        **task_id,
                                    GError      **error);
gboolean  pd_rx_cache_set_status   (PdStore      *store,
                                    const char   *rx_uuid,
                                    const char   *status,
                                    GError      **error);
/* PdDispensedFunc over the store: has (system, number) been dispensed? */
gboolean  pd_rx_cache_dispensed    (const char   *system,
                                    const char   *value,
                                    gpointer      store);
char     *pd_fhir_ref_id           (const char   *reference,
                                    const char   *type);

G_END_DECLS
