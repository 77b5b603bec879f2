/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-session.h"

G_BEGIN_DECLS

/* What a script's `queue list` gives beside each queue row: the
 * prescription's Task and its lines. One indexed read per row, on a
 * read-only connection of its own; no patient data. */

typedef struct {
  char *id;       /* MedicationRequest id */
  char *code;     /* the product code prescribed, or NULL */
  char *name;     /* the knowledge base's name, else as prescribed, or NULL */
} PdQueueLine;

typedef struct _PdQueueLines PdQueueLines;

PdQueueLines *pd_queue_lines_new  (PdSession     *session,
                                   GError       **error);
void          pd_queue_lines_free (PdQueueLines  *self);
/* rx_id: pd_queue_item_get_id(). The lines (PdQueueLine*) in the
 * prescription's order; *task_id gets its Task's id (NULL if none). */
GPtrArray    *pd_queue_lines_read (PdQueueLines  *self,
                                   gint64         rx_id,
                                   char         **task_id,
                                   GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdQueueLines, pd_queue_lines_free)

G_END_DECLS
