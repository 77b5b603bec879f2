/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <sqlite3.h>

#include "pd-queue-model.h"

G_BEGIN_DECLS

/* What a read of the queue depends on, shared by the model and its
 * queries (pd-queue-query.c). */
typedef struct {
  guint           status_mask;
  PdQueueUrgency  urgency;
  PdQueueOnline   online;
  gboolean        blocking_only;
  const char     *me;            /* the signed-in pharmacist's Practitioner reference, or NULL */
} PdQueueFilter;

/* One statement per shape, prepared once on the reader connection. */
typedef struct {
  sqlite3    *db;
  GHashTable *statements;        /* SQL text -> sqlite3_stmt* */
} PdQueueDb;

typedef enum {
  PD_QUEUE_READ_PAGE,            /* rows after (or before) a key, LIMIT and OFFSET */
  PD_QUEUE_READ_COUNT_BEFORE,    /* how many rows precede a key */
} PdQueueRead;

typedef struct {
  gboolean    have_key;
  int         rank;
  const char *time;
  gint64      id;
} PdQueueKey;

sqlite3_stmt *pd_queue_db_prepare        (PdQueueDb            *qdb,
                                          const char           *sql,
                                          GError              **error);
void          pd_queue_db_clear          (PdQueueDb            *qdb);

sqlite3_stmt *pd_queue_segment_statement (PdQueueDb            *qdb,
                                          const PdQueueFilter  *filter,
                                          PdQueueSegment        segment,
                                          PdQueueRead           read,
                                          gboolean              backwards,
                                          const PdQueueKey     *key,
                                          GError              **error);
sqlite3_stmt *pd_queue_point_statement   (PdQueueDb            *qdb,
                                          GError              **error);
PdQueueItem  *pd_queue_item_from_row     (sqlite3_stmt         *stmt,
                                          PdSession            *session,
                                          const char           *me);

gboolean      pd_queue_tally             (PdQueueDb            *qdb,
                                          const PdQueueFilter  *filter,
                                          guint                 counts[PD_QUEUE_N_SEGMENTS],
                                          guint                *total,
                                          GError              **error);

/* The ids that match a search, in queue order, with the count of each
 * segment. Patient names go through the keyed indexes. */
GArray       *pd_queue_search            (PdQueueDb            *qdb,
                                          const guint8         *data_key,
                                          const PdQueueFilter  *filter,
                                          const char           *text,
                                          guint                 counts[PD_QUEUE_N_SEGMENTS],
                                          GError              **error);

G_END_DECLS
