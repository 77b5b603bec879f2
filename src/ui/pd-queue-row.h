/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pd-queue-item.h"

G_BEGIN_DECLS

#define PD_TYPE_QUEUE_ROW (pd_queue_row_get_type ())
G_DECLARE_FINAL_TYPE (PdQueueRow, pd_queue_row, PD, QUEUE_ROW, GtkBox)

GtkWidget  *pd_queue_row_new            (void);
void        pd_queue_row_set_item       (PdQueueRow  *self,
                                         PdQueueItem *item);

/* Words the list shows for the queue's codes (also the display test's). */
const char *pd_queue_priority_text      (const char  *priority);
const char *pd_queue_status_text        (const char  *status);
const char *pd_queue_verdict_text       (const char  *verdict);

G_END_DECLS
