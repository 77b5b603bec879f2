/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-queue"

#include "config.h"

#include <string.h>

#include "pd-accounts.h"
#include "pd-queue-item.h"

struct _PdQueueItem
{
  GObject         parent_instance;
  gint64          id;
  char           *uuid;
  char           *number;
  char           *priority;
  char           *status;
  char           *verdict;
  gboolean        has_block;
  gboolean        online;
  char           *authored_at;
  char           *claimed_by;
  char           *claim_until;
  char           *claimer_name;
  char           *patient_name;
  char           *drugs;
  int             rank;
  PdQueueSegment  segment;
  gboolean        mine;
};

G_DEFINE_FINAL_TYPE (PdQueueItem, pd_queue_item, G_TYPE_OBJECT)

static void
pd_queue_item_finalize (GObject *object)
{
  PdQueueItem *self = PD_QUEUE_ITEM (object);

  g_free (self->uuid);
  g_free (self->number);
  g_free (self->priority);
  g_free (self->status);
  g_free (self->verdict);
  g_free (self->authored_at);
  g_free (self->claimed_by);
  g_free (self->claim_until);
  g_free (self->claimer_name);
  g_free (self->patient_name);
  g_free (self->drugs);
  G_OBJECT_CLASS (pd_queue_item_parent_class)->finalize (object);
}

static void
pd_queue_item_class_init (PdQueueItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pd_queue_item_finalize;
}

static void
pd_queue_item_init (PdQueueItem *self)
{
}

PdQueueItem *
pd_queue_item_new (const PdQueueItemFields *f)
{
  PdQueueItem *self = g_object_new (PD_TYPE_QUEUE_ITEM, NULL);

  self->id = f->id;
  self->uuid = g_strdup (f->uuid);
  self->number = g_strdup (f->number);
  self->priority = g_strdup (f->priority != NULL ? f->priority : "routine");
  self->status = g_strdup (f->status);
  self->verdict = g_strdup (f->verdict);
  self->has_block = f->has_block;
  self->online = f->online;
  self->authored_at = g_strdup (f->authored_at);
  self->claimed_by = g_strdup (f->claimed_by);
  self->claim_until = g_strdup (f->claim_until);
  self->claimer_name = pd_practitioner_display_name (f->claimed_by, f->claimed_by_name);
  self->patient_name = g_strdup (f->patient_name);
  self->drugs = g_strdup (f->drugs);
  self->rank = f->rank;
  self->segment = f->segment;
  self->mine = f->mine;
  return self;
}

gint64 pd_queue_item_get_id (PdQueueItem *self) { return self->id; }
const char *pd_queue_item_get_uuid (PdQueueItem *self) { return self->uuid; }
const char *pd_queue_item_get_number (PdQueueItem *self) { return self->number; }
const char *pd_queue_item_get_priority (PdQueueItem *self) { return self->priority; }
gboolean pd_queue_item_is_urgent (PdQueueItem *self) { return self->rank < 2; }
const char *pd_queue_item_get_status (PdQueueItem *self) { return self->status; }
const char *pd_queue_item_get_verdict (PdQueueItem *self) { return self->verdict; }
gboolean pd_queue_item_has_block (PdQueueItem *self) { return self->has_block; }
gboolean pd_queue_item_is_online (PdQueueItem *self) { return self->online; }
const char *pd_queue_item_get_authored_at (PdQueueItem *self) { return self->authored_at; }
const char *pd_queue_item_get_claimed_by (PdQueueItem *self) { return self->claimed_by; }
const char *pd_queue_item_get_claim_until (PdQueueItem *self) { return self->claim_until; }
const char *pd_queue_item_get_claimer_name (PdQueueItem *self) { return self->claimer_name; }
gboolean pd_queue_item_is_mine (PdQueueItem *self) { return self->mine; }
const char *pd_queue_item_get_patient_name (PdQueueItem *self) { return self->patient_name; }
const char *pd_queue_item_get_drugs (PdQueueItem *self) { return self->drugs; }
int pd_queue_item_get_rank (PdQueueItem *self) { return self->rank; }
PdQueueSegment pd_queue_item_get_segment (PdQueueItem *self) { return self->segment; }
