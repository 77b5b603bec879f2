/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <sqlite3.h>

#include "pd-queue-model.h"
#include "pd-vault.h"

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

/* What a search looks for, worked out once from its text: the keyed
 * indexes of a name, a surname and an ID number's last four (when the
 * text can be one), a prescription number or its beginning, a drug name's
 * part or its pinyin initials. */
typedef struct {
  gboolean    have_name;
  gboolean    have_surname;
  gboolean    have_tail;
  guint8      name[PD_INDEX_SIZE];
  guint8      surname[PD_INDEX_SIZE];
  guint8      tail[PD_INDEX_SIZE];
  char       *text;              /* trimmed: the number, the drug name's part */
  char       *prefix_end;        /* a number's beginning, or NULL */
  char       *pinyin;            /* LIKE pattern of pinyin initials, or NULL */
} PdQueueTerms;

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

PdQueueTerms *pd_queue_terms_new         (const guint8         *data_key,
                                          const char           *text);
void          pd_queue_terms_free        (PdQueueTerms         *terms);

/* A page (or what precedes a key) of one segment: of the whole queue when
 * terms is NULL, else of a search's matches, in queue order either way. */
sqlite3_stmt *pd_queue_segment_statement (PdQueueDb            *qdb,
                                          const PdQueueFilter  *filter,
                                          const PdQueueTerms   *terms,
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

/* How many of a search's matches each segment holds, from the indexes
 * alone. */
gboolean      pd_queue_search_counts     (PdQueueDb            *qdb,
                                          const PdQueueFilter  *filter,
                                          const PdQueueTerms   *terms,
                                          guint                 counts[PD_QUEUE_N_SEGMENTS],
                                          GError              **error);

G_END_DECLS
