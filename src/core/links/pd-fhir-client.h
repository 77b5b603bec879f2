/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "pd-config.h"
#include "pd-json-doc.h"
#include "pd-oauth-client.h"

G_BEGIN_DECLS

/* FHIR R4 over HTTP, synchronously (a worker thread or the CLI): bearer
 * token by client credentials, renewed once on a 401; 429/503 honour
 * Retry-After and other transient failures back off with jitter, for
 * requests that are safe to repeat; every wait and request cancellable. */

typedef struct _PdFhirClient PdFhirClient;

typedef struct {
  guint     status;
  char     *etag;        /* W/"3" as given */
  char     *location;
  JsonNode  *body;       /* NULL when the answer had none or was not JSON */
  PdJsonDoc *doc;        /* the same, from pd_fhir_client_read () */
  GBytes    *raw;        /* the body as it came */
} PdFhirAnswer;

PdFhirClient *pd_fhir_client_new      (const PdConfig  *config,
                                       GError         **error);
void          pd_fhir_client_free     (PdFhirClient    *client);
const char   *pd_fhir_client_get_base (PdFhirClient    *client);
/* Tests: the longest wait between attempts, and how many attempts. */
void          pd_fhir_client_set_retry (PdFhirClient   *client,
                                       guint            attempts,
                                       guint            max_wait_ms);

/* Benchmarks: every GET's URL is appended to urls (char*), to replay. */
void          pd_fhir_client_log_gets (PdFhirClient    *client,
                                       GPtrArray       *urls);
/* The bearer token (fetched if needed), for a raw replay. */
char         *pd_fhir_client_token    (PdFhirClient    *client,
                                       GCancellable    *cancellable,
                                       GError         **error);
char         *pd_fhir_client_url      (PdFhirClient    *client,
                                       const char      *path);

/* path: relative to the base ("Task?…", "Task/1") or an absolute URL the
 * server gave (a next link). repeatable: the request may be sent again
 * after a transport failure or a 5xx (a GET, or a write guarded by
 * If-Match / If-None-Exist). Returns FALSE only when no answer could be
 * read: offline, cancelled, refused credentials, or an unreadable body
 * (PD_LINK_ERROR_SERVER: for a write its outcome is then unknown). */
gboolean      pd_fhir_client_call     (PdFhirClient    *client,
                                       const char      *method,
                                       const char      *path,
                                       const char      *if_match,
                                       JsonNode        *body,
                                       gboolean         repeatable,
                                       PdFhirAnswer    *answer,
                                       GCancellable    *cancellable,
                                       GError         **error);
/* A GET (a search, a read) whose answer is read as a PdJsonDoc, for the
 * bulk of a pull: answer->doc, not answer->body. */
gboolean      pd_fhir_client_read     (PdFhirClient    *client,
                                       const char      *path,
                                       PdFhirAnswer    *answer,
                                       GCancellable    *cancellable,
                                       GError         **error);
void          pd_fhir_answer_clear    (PdFhirAnswer    *answer);
/* An OperationOutcome's diagnostics in words, or the HTTP status. */
char         *pd_fhir_answer_describe (const PdFhirAnswer *answer);
/* "3" out of W/"3". */
char         *pd_fhir_etag_version    (const char      *etag);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdFhirClient, pd_fhir_client_free)

G_END_DECLS
