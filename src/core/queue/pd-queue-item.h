/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Where a prescription stands in the queue: urgent (stat first), then
 * claimed by the signed-in pharmacist, then the rest; oldest first in each. */
typedef enum {
  PD_QUEUE_SEGMENT_URGENT,
  PD_QUEUE_SEGMENT_MINE,
  PD_QUEUE_SEGMENT_REST,
  PD_QUEUE_N_SEGMENTS,
} PdQueueSegment;

#define PD_TYPE_QUEUE_ITEM (pd_queue_item_get_type ())
G_DECLARE_FINAL_TYPE (PdQueueItem, pd_queue_item, PD, QUEUE_ITEM, GObject)

/* One row of the queue as the list shows it; immutable. */
typedef struct {
  gint64          id;
  const char     *uuid;
  const char     *number;
  const char     *priority;       /* routine | urgent | asap | stat */
  const char     *status;
  const char     *verdict;        /* pass | review | reject | cancelled, or NULL */
  gboolean        has_block;
  gboolean        online;
  const char     *authored_at;
  const char     *claimed_by;     /* Practitioner/{id} or NULL */
  const char     *claim_until;
  const char     *claimed_by_name; /* the claimer's display name when an account here holds that ref */
  const char     *patient_name;   /* opened from the sealed column, or NULL */
  const char     *drugs;          /* drug names in line order, joined by 、 */
  int             rank;           /* queue_rank: 0 stat, 1 urgent/asap, 2 routine */
  PdQueueSegment  segment;
  gboolean        mine;
} PdQueueItemFields;

PdQueueItem    *pd_queue_item_new              (const PdQueueItemFields *fields);

gint64          pd_queue_item_get_id           (PdQueueItem *self);
const char     *pd_queue_item_get_uuid         (PdQueueItem *self);
const char     *pd_queue_item_get_number       (PdQueueItem *self);
const char     *pd_queue_item_get_priority     (PdQueueItem *self);
gboolean        pd_queue_item_is_urgent        (PdQueueItem *self);
const char     *pd_queue_item_get_status       (PdQueueItem *self);
const char     *pd_queue_item_get_verdict      (PdQueueItem *self);
gboolean        pd_queue_item_has_block        (PdQueueItem *self);
gboolean        pd_queue_item_is_online        (PdQueueItem *self);
const char     *pd_queue_item_get_authored_at  (PdQueueItem *self);
const char     *pd_queue_item_get_claimed_by   (PdQueueItem *self);
const char     *pd_queue_item_get_claim_until  (PdQueueItem *self);
/* Who holds the claim, in words: an account's display name, else the
 * hospital's id (ph-2); NULL when nobody does. */
const char     *pd_queue_item_get_claimer_name (PdQueueItem *self);
gboolean        pd_queue_item_is_mine          (PdQueueItem *self);
const char     *pd_queue_item_get_patient_name (PdQueueItem *self);
const char     *pd_queue_item_get_drugs        (PdQueueItem *self);
int             pd_queue_item_get_rank         (PdQueueItem *self);
PdQueueSegment  pd_queue_item_get_segment      (PdQueueItem *self);

G_END_DECLS
