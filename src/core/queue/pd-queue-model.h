/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-queue-item.h"
#include "pd-session.h"

G_BEGIN_DECLS

/* The review queue over the prescription cache: a GListModel of
 * PdQueueItem read lazily, page by page, on a read-only connection
 * (keyset paging on the queue indexes of schema version 4, a window of
 * pages kept, counts from the queue_tally table). Patient names are
 * opened only for rows that are materialised; searching goes through
 * the keyed indexes, never through decrypted rows. */

typedef enum {
  PD_QUEUE_STATUS_REQUESTED = 1 << 0,
  PD_QUEUE_STATUS_CLAIMED   = 1 << 1,
  PD_QUEUE_STATUS_APPROVED  = 1 << 2,
  PD_QUEUE_STATUS_REJECTED  = 1 << 3,
  PD_QUEUE_STATUS_CANCELLED = 1 << 4,
  PD_QUEUE_STATUS_DISPENSED = 1 << 5,
  PD_QUEUE_STATUS_CONFLICT  = 1 << 6,
  PD_QUEUE_STATUS_ALL       = 0x7f,
} PdQueueStatus;

typedef enum {
  PD_QUEUE_URGENCY_ANY,
  PD_QUEUE_URGENCY_URGENT,    /* stat, asap, urgent */
  PD_QUEUE_URGENCY_ROUTINE,
} PdQueueUrgency;

typedef enum {
  PD_QUEUE_ONLINE_ANY,
  PD_QUEUE_ONLINE_ONLY,
  PD_QUEUE_OFFLINE_ONLY,
} PdQueueOnline;

#define PD_QUEUE_PAGE_SIZE 64

#define PD_TYPE_QUEUE_MODEL (pd_queue_model_get_type ())
G_DECLARE_FINAL_TYPE (PdQueueModel, pd_queue_model, PD, QUEUE_MODEL, GObject)

PdQueueModel *pd_queue_model_new                (PdSession      *session,
                                                 GError        **error);

/* Filters and search; each change re-reads and emits items-changed. */
void          pd_queue_model_set_status_filter  (PdQueueModel   *self,
                                                 guint           status_mask);
void          pd_queue_model_set_urgency_filter (PdQueueModel   *self,
                                                 PdQueueUrgency  urgency);
void          pd_queue_model_set_online_filter  (PdQueueModel   *self,
                                                 PdQueueOnline   online);
void          pd_queue_model_set_blocking_only  (PdQueueModel   *self,
                                                 gboolean        blocking_only);
void          pd_queue_model_set_search         (PdQueueModel   *self,
                                                 const char     *text);
const char   *pd_queue_model_get_search         (PdQueueModel   *self);

/* Re-reads after a sync. The item at anchor (G_MAXUINT: the one last
 * asked for) keeps its place for the view: items-changed replaces what
 * lies before it and what lies from it on, in two signals. Does
 * nothing when no other connection wrote since the last read. */
gboolean      pd_queue_model_refresh            (PdQueueModel   *self,
                                                 guint           anchor,
                                                 GError        **error);

guint         pd_queue_model_get_segment_count  (PdQueueModel   *self,
                                                 PdQueueSegment  segment);
guint         pd_queue_model_get_segment_start  (PdQueueModel   *self,
                                                 PdQueueSegment  segment);
/* Every cached prescription, whatever the filters: tells "no
 * prescriptions yet" from "nothing matches". */
guint         pd_queue_model_get_cached_total   (PdQueueModel   *self);
gboolean      pd_queue_model_is_filtered        (PdQueueModel   *self);
const GError *pd_queue_model_get_error          (PdQueueModel   *self);

/* The knowledge base in force (else the latest imported): its version
 * and whether it is the demonstration one. FALSE when none. */
gboolean      pd_queue_model_get_kb             (PdQueueModel   *self,
                                                 char          **version,
                                                 gboolean       *demonstration);

/* The prescriptions the signed-in pharmacist holds a claim on, by uuid
 * (empty for an account without a practitioner_ref): what signing out
 * or locking would leave held. An indexed read. */
GStrv         pd_queue_get_my_claims            (PdSession      *session,
                                                 GError        **error);

/* For tests and the bench: the SQLite virtual-machine steps of the last
 * page read, and the query plans of the page statements in use. */
guint64       pd_queue_model_get_last_page_steps (PdQueueModel  *self);
char         *pd_queue_model_explain             (PdQueueModel  *self);

G_END_DECLS
