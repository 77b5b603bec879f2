/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "pd-session.h"

G_BEGIN_DECLS

/* The durable outbox: a request is stored, sealed, with its idempotency
 * key before it leaves; its outcome — or its being unknown — after. Items
 * of one link go out in id order; an item names the one it must follow. */

typedef struct {
  gint64    id;
  char     *uuid;
  char     *link;
  char     *operation;
  char     *idempotency_key;
  gint64    after_id;        /* 0: none */
  char     *state;           /* queued sending unknown done refused conflict resolved cancelled */
  int       attempts;
  int       http_status;
  char     *error;
  char     *subject_type;
  char     *subject_uuid;
  char     *created_at;
  char     *updated_at;
  JsonNode *request;         /* opened; NULL when listed without opening */
} PdOutboxItem;

void       pd_outbox_item_free  (PdOutboxItem  *item);

/* Inside a pd_store_write() transaction. */
gboolean   pd_outbox_enqueue    (PdSession     *session,
                                 const char    *link,
                                 const char    *operation,
                                 const char    *idempotency_key,
                                 gint64         after_id,
                                 JsonNode      *request,
                                 const char    *subject_type,
                                 const char    *subject_uuid,
                                 gint64        *out_id,
                                 GError       **error);
gboolean   pd_outbox_set_state  (PdSession     *session,
                                 gint64         id,
                                 const char    *state,
                                 int            http_status,
                                 JsonNode      *response,
                                 const char    *error_text,
                                 GError       **error);
/* The state of an item, NULL if there is none. */
char      *pd_outbox_get_state  (PdStore       *store,
                                 gint64         id);

/* Items still to send (queued, sending, unknown) of a link, in order,
 * opened. */
GPtrArray *pd_outbox_open_items (PdSession     *session,
                                 const char    *link,
                                 GError       **error);
/* Every item, newest first, not opened (for lists). all: also finished ones. */
GPtrArray *pd_outbox_list       (PdStore       *store,
                                 gboolean       all,
                                 GError       **error);
/* An administrator's or the sender's decision about an item whose outcome
 * is unknown or in conflict: resolved (it happened) or cancelled. Audited. */
gboolean   pd_outbox_resolve    (PdSession     *session,
                                 gint64         id,
                                 const char    *state,
                                 GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdOutboxItem, pd_outbox_item_free)

G_END_DECLS
