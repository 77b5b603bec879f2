/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sandbox-harness.h"

G_BEGIN_DECLS

/* The sandbox clock of the hospital tests. */
#define NOW "2026-11-20T10:00:00+08:00"

typedef struct {
  Sandbox sb;
  char   *state;
  char   *auth;
} Hospital;

/* Starts a sandbox with --control at NOW, its clock stopped, in a fresh
 * state `name`, with the NULL-terminated extra arguments (8 at most), and
 * takes a token. */
void        hospital_start  (Hospital    *h,
                             const char  *name,
                             ...) G_GNUC_NULL_TERMINATED;
void        hospital_stop   (Hospital    *h);
/* GET|PUT|POST {fhir}/{path} (or a full URL) with one extra header. */
guint       fhir            (Hospital    *h,
                             const char  *method,
                             const char  *path,
                             const char  *body,
                             const char  *header,
                             const char  *value,
                             JsonObject **out);
JsonArray  *entries         (JsonObject  *bundle);
JsonObject *entry_resource  (JsonObject  *bundle,
                             guint        i);
guint       n_entries       (JsonObject  *bundle);
/* Every Task of the queue since `since`, page by page, in order. */
GPtrArray  *all_tasks       (Hospital    *h,
                             const char  *since,
                             guint        count);
const char *version_of      (JsonObject  *resource);
char       *etag_of         (JsonObject  *resource);
/* The Task as JSON with status (and owner, for a claim) changed. */
char       *task_with       (JsonObject  *task,
                             const char  *status,
                             const char  *owner);
JsonObject *get_task        (Hospital    *h,
                             const char  *id);
guint       put_task        (Hospital    *h,
                             JsonObject  *task,
                             const char  *if_match,
                             const char  *body,
                             JsonObject **out);
/* The first issue's diagnostics of an OperationOutcome. */
const char *diagnostics     (JsonObject  *outcome);
/* A decision (approve) of a claimed Task at `version`. */
char       *decision_bundle (JsonObject  *task,
                             const char  *version);
JsonObject *claim           (Hospital    *h,
                             const char  *id,
                             const char  *owner);
char       *dispense_json   (const char  *group,
                             guint        n,
                             const char  *line,
                             const char  *drug,
                             const char  *trace);
guint       post_dispense   (Hospital    *h,
                             const char  *body,
                             const char  *group,
                             guint        n,
                             JsonObject **out);
JsonObject *cancel_and_pull (Hospital    *h,
                             JsonObject  *task,
                             const char  *rx);

G_END_DECLS
