/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-queue"

#include "config.h"

#include <string.h>

#include "pd-queue-private.h"
#include "pd-store.h"
#include "pd-vault.h"

/* The queue's SQL. Every page read walks one of the two queue indexes of
 * schema version 4 from a key (keyset paging): the one that begins with
 * the status when a single status is asked for or the segment is "mine",
 * else the one in queue order for every status. The filters are columns
 * of both indexes, so a filter never reads the table; only the rows of
 * the page do. */

#define ROW_COLUMNS \
  "p.id, p.uuid, p.rx_number, p.priority, p.status, p.verdict, p.has_block, p.online," \
  " p.authored_at, p.claimed_by, p.claim_until, p.patient_name_sealed, p.queue_rank," \
  " (SELECT group_concat (drug_name, '、') FROM (SELECT drug_name FROM prescription_line" \
  "   WHERE prescription_id = p.id ORDER BY position))"

/* The status's bit in PdQueueStatus. */
#define STATUS_BIT \
  "(CASE p.status WHEN 'requested' THEN 1 WHEN 'claimed' THEN 2 WHEN 'approved' THEN 4" \
  " WHEN 'rejected' THEN 8 WHEN 'cancelled' THEN 16 WHEN 'dispensed' THEN 32 ELSE 64 END)"

#define FILTERS \
  " AND (:mask & " STATUS_BIT ") <> 0" \
  " AND (:online < 0 OR p.online = :online)" \
  " AND (:block = 0 OR p.has_block = 1)"

static const char *status_names[] = {
  "requested", "claimed", "approved", "rejected", "cancelled", "dispensed", "conflict",
};

static void
statement_free (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

sqlite3_stmt *
pd_queue_db_prepare (PdQueueDb   *qdb,
                     const char  *sql,
                     GError     **error)
{
  sqlite3_stmt *stmt;
  int rc;

  if (qdb->statements == NULL)
    qdb->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, statement_free);
  stmt = g_hash_table_lookup (qdb->statements, sql);
  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }
  rc = sqlite3_prepare_v3 (qdb->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      pd_store_set_error (qdb->db, rc, sql, error);
      return NULL;
    }
  g_hash_table_insert (qdb->statements, g_strdup (sql), stmt);
  return stmt;
}

void
pd_queue_db_clear (PdQueueDb *qdb)
{
  g_clear_pointer (&qdb->statements, g_hash_table_unref);
  g_clear_pointer (&qdb->db, sqlite3_close);
}

static void
bind_int (sqlite3_stmt *stmt,
          const char   *name,
          gint64        value)
{
  int i = sqlite3_bind_parameter_index (stmt, name);

  if (i > 0)
    sqlite3_bind_int64 (stmt, i, value);
}

static void
bind_text (sqlite3_stmt *stmt,
           const char   *name,
           const char   *value)
{
  int i = sqlite3_bind_parameter_index (stmt, name);

  if (i > 0)
    sqlite3_bind_text (stmt, i, value, -1, SQLITE_TRANSIENT);
}

static void
bind_filter (sqlite3_stmt        *stmt,
             const PdQueueFilter *filter)
{
  bind_int (stmt, ":mask", filter->status_mask);
  bind_int (stmt, ":online", filter->online == PD_QUEUE_ONLINE_ANY ? -1
                             : filter->online == PD_QUEUE_ONLINE_ONLY ? 1 : 0);
  bind_int (stmt, ":block", filter->blocking_only);
  bind_text (stmt, ":me", filter->me);
}

/* The one status asked for, if only one is. */
static const char *
single_status (guint mask)
{
  for (guint i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (mask == (1u << i))
      return status_names[i];
  return NULL;
}

sqlite3_stmt *
pd_queue_segment_statement (PdQueueDb           *qdb,
                            const PdQueueFilter *filter,
                            PdQueueSegment       segment,
                            PdQueueRead          read,
                            gboolean             backwards,
                            const PdQueueKey    *key,
                            GError             **error)
{
  const char *status = segment == PD_QUEUE_SEGMENT_MINE ? "claimed" : single_status (filter->status_mask);
  gboolean urgent = segment == PD_QUEUE_SEGMENT_URGENT;
  g_autoptr(GString) sql = g_string_new (NULL);
  const char *cmp = (backwards || read == PD_QUEUE_READ_COUNT_BEFORE) ? "<" : ">";
  sqlite3_stmt *stmt;

  if (read == PD_QUEUE_READ_COUNT_BEFORE)
    g_string_append (sql, "SELECT count (*)");
  else
    g_string_append (sql, "SELECT " ROW_COLUMNS);
  g_string_append_printf (sql, " FROM prescription AS p INDEXED BY %s WHERE ",
                          status != NULL ? "prescription_queue_status" : "prescription_queue_all");
  if (status != NULL)
    g_string_append (sql, "p.status = :status AND ");
  g_string_append (sql, urgent ? "p.queue_rank < 2" : "p.queue_rank = 2");
  if (segment == PD_QUEUE_SEGMENT_MINE)
    g_string_append (sql, " AND p.claimed_by = :me");
  else if (segment == PD_QUEUE_SEGMENT_REST)
    g_string_append (sql, " AND NOT (p.status = 'claimed' AND coalesce (p.claimed_by = :me, 0))");
  if (key->have_key)
    g_string_append_printf (sql, urgent ? " AND (p.queue_rank, p.queue_time, p.id) %s (:r, :t, :i)"
                                        : " AND (p.queue_time, p.id) %s (:t, :i)", cmp);
  g_string_append (sql, FILTERS);
  if (read == PD_QUEUE_READ_PAGE)
    {
      const char *dir = backwards ? " DESC" : "";

      g_string_append_printf (sql, " ORDER BY p.queue_rank%s, p.queue_time%s, p.id%s LIMIT :lim OFFSET :off",
                              dir, dir, dir);
    }

  stmt = pd_queue_db_prepare (qdb, sql->str, error);
  if (stmt == NULL)
    return NULL;
  bind_filter (stmt, filter);
  if (status != NULL)
    bind_text (stmt, ":status", status);
  if (key->have_key)
    {
      bind_int (stmt, ":r", key->rank);
      bind_text (stmt, ":t", key->time);
      bind_int (stmt, ":i", key->id);
    }
  return stmt;
}

sqlite3_stmt *
pd_queue_point_statement (PdQueueDb  *qdb,
                          GError    **error)
{
  return pd_queue_db_prepare (qdb, "SELECT " ROW_COLUMNS " FROM prescription AS p WHERE p.id = :i", error);
}

static const char *
column_text (sqlite3_stmt *stmt,
             int           col)
{
  return (const char *) sqlite3_column_text (stmt, col);
}

PdQueueItem *
pd_queue_item_from_row (sqlite3_stmt *stmt,
                        PdSession    *session,
                        const char   *me)
{
  PdQueueItemFields f = { 0 };
  g_autofree char *name = NULL;
  const void *sealed = sqlite3_column_blob (stmt, 11);

  f.id = sqlite3_column_int64 (stmt, 0);
  f.uuid = column_text (stmt, 1);
  f.number = column_text (stmt, 2);
  f.priority = column_text (stmt, 3);
  f.status = column_text (stmt, 4);
  f.verdict = column_text (stmt, 5);
  f.has_block = sqlite3_column_int (stmt, 6) != 0;
  f.online = sqlite3_column_int (stmt, 7) != 0;
  f.authored_at = column_text (stmt, 8);
  f.claimed_by = column_text (stmt, 9);
  f.claim_until = column_text (stmt, 10);
  /* Opened here, for a row on its way to the screen, and nowhere else. */
  if (sealed != NULL && session != NULL && f.uuid != NULL)
    name = pd_vault_open (session, "prescription", "patient_name", f.uuid,
                          sealed, sqlite3_column_bytes (stmt, 11), NULL);
  f.patient_name = name;
  f.rank = sqlite3_column_int (stmt, 12);
  f.drugs = column_text (stmt, 13);
  f.mine = me != NULL && g_strcmp0 (f.status, "claimed") == 0 && g_strcmp0 (f.claimed_by, me) == 0;
  f.segment = f.rank < 2 ? PD_QUEUE_SEGMENT_URGENT : f.mine ? PD_QUEUE_SEGMENT_MINE : PD_QUEUE_SEGMENT_REST;
  return pd_queue_item_new (&f);
}

gboolean
pd_queue_tally (PdQueueDb           *qdb,
                const PdQueueFilter *filter,
                guint                counts[PD_QUEUE_N_SEGMENTS],
                guint               *total,
                GError             **error)
{
  sqlite3_stmt *stmt = pd_queue_db_prepare (qdb,
    "SELECT coalesce (sum (n) FILTER (WHERE p.queue_rank < 2), 0),"
    "  coalesce (sum (n) FILTER (WHERE p.queue_rank = 2 AND p.status = 'claimed' AND p.claimed_by = :me), 0),"
    "  coalesce (sum (n) FILTER (WHERE p.queue_rank = 2 AND NOT (p.status = 'claimed' AND coalesce (p.claimed_by = :me, 0))), 0),"
    "  (SELECT coalesce (sum (n), 0) FROM queue_tally)"
    " FROM queue_tally AS p WHERE 1" FILTERS, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  bind_filter (stmt, filter);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return pd_store_set_error (qdb->db, rc, "queue tally", error);
    }
  for (int s = 0; s < PD_QUEUE_N_SEGMENTS; s++)
    counts[s] = (guint) sqlite3_column_int64 (stmt, s);
  *total = (guint) sqlite3_column_int64 (stmt, 3);
  sqlite3_reset (stmt);
  if (filter->urgency == PD_QUEUE_URGENCY_URGENT)
    counts[PD_QUEUE_SEGMENT_MINE] = counts[PD_QUEUE_SEGMENT_REST] = 0;
  else if (filter->urgency == PD_QUEUE_URGENCY_ROUTINE)
    counts[PD_QUEUE_SEGMENT_URGENT] = 0;
  return TRUE;
}

/* Upper bound of a prefix range: every string that starts with text is
 * below text + U+10FFFF's bytes' successor (0xFF never starts UTF-8). */
static char *
prefix_end (const char *text)
{
  return g_strconcat (text, "\xff", NULL);
}

static gboolean
looks_like_id_tail (const char *text)
{
  if (strlen (text) != 4)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && *p != 'X' && *p != 'x')
      return FALSE;
  return TRUE;
}

static gboolean
is_latin_word (const char *text)
{
  if (*text == '\0')
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalpha (*p))
      return FALSE;
  return TRUE;
}

static char *
pinyin_pattern (const char *text)
{
  gsize n = strlen (text);

  /* Pinyin initials: two letters at least, else it matches half the shelf. */
  if (n < 2)
    return NULL;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalpha (*p))
      return NULL;
  return g_strconcat (text, "%", NULL);
}

#define SEARCH_SQL \
  "SELECT p.id, CASE WHEN p.queue_rank < 2 THEN 0" \
  "  WHEN p.status = 'claimed' AND p.claimed_by = :me THEN 1 ELSE 2 END AS segment" \
  " FROM prescription AS p WHERE p.id IN (" \
  "  SELECT id FROM prescription WHERE patient_name_index = :name" \
  "  UNION SELECT id FROM prescription WHERE patient_surname_index = :surname" \
  "  UNION SELECT id FROM prescription WHERE patient_id_tail_index = :tail" \
  "  UNION SELECT id FROM prescription WHERE rx_number = :number" \
  "  UNION SELECT id FROM prescription WHERE rx_number >= :prefix AND rx_number < :prefix_end" \
  "  UNION SELECT l.prescription_id FROM prescription_line AS l WHERE l.drug_name IN" \
  "    (SELECT name FROM queue_drug WHERE instr (name, :drug) > 0 OR pinyin LIKE :pinyin))" \
  FILTERS \
  " AND (:urgency = 0 OR (:urgency = 1) = (p.queue_rank < 2))" \
  " ORDER BY segment, p.queue_rank, p.queue_time, p.id"

GArray *
pd_queue_search (PdQueueDb           *qdb,
                 const guint8        *data_key,
                 const PdQueueFilter *filter,
                 const char          *text,
                 guint                counts[PD_QUEUE_N_SEGMENTS],
                 GError             **error)
{
  sqlite3_stmt *stmt = pd_queue_db_prepare (qdb, SEARCH_SQL, error);
  g_autofree char *trimmed = g_strstrip (g_strdup (text));
  g_autofree char *norm = pd_vault_normalize_name (trimmed);
  g_autofree char *surname = pd_vault_surname (trimmed);
  g_autofree char *upper = g_ascii_strup (trimmed, -1);
  g_autofree char *pinyin = pinyin_pattern (upper);
  g_autofree char *end = prefix_end (trimmed);
  guint8 index[PD_INDEX_SIZE];
  GArray *ids;
  int rc;

  if (stmt == NULL)
    return NULL;
  bind_filter (stmt, filter);
  bind_int (stmt, ":urgency", filter->urgency);
  if (data_key != NULL && *norm != '\0')
    {
      pd_vault_index_name (data_key, trimmed, index);
      sqlite3_bind_blob (stmt, sqlite3_bind_parameter_index (stmt, ":name"), index, sizeof index, SQLITE_TRANSIENT);
      /* A surname alone finds everyone of that name; a full name only its
       * bearer. A single Latin word is a surname as the last word of a name. */
      if (g_strcmp0 (norm, surname) == 0 || is_latin_word (trimmed))
        {
          g_autofree char *as_name = is_latin_word (trimmed) ? g_strconcat ("a ", trimmed, NULL) : g_strdup (trimmed);

          pd_vault_index_surname (data_key, as_name, index);
          sqlite3_bind_blob (stmt, sqlite3_bind_parameter_index (stmt, ":surname"), index, sizeof index, SQLITE_TRANSIENT);
        }
    }
  if (data_key != NULL && looks_like_id_tail (trimmed) && pd_vault_index_id_tail (data_key, trimmed, index))
    sqlite3_bind_blob (stmt, sqlite3_bind_parameter_index (stmt, ":tail"), index, sizeof index, SQLITE_TRANSIENT);
  bind_text (stmt, ":number", trimmed);
  /* A number's beginning, once it says more than the hospital's prefix. */
  if (g_utf8_strlen (trimmed, -1) >= 6)
    {
      bind_text (stmt, ":prefix", trimmed);
      bind_text (stmt, ":prefix_end", end);
    }
  if (*trimmed != '\0')
    bind_text (stmt, ":drug", trimmed);
  bind_text (stmt, ":pinyin", pinyin);

  memset (counts, 0, sizeof (guint) * PD_QUEUE_N_SEGMENTS);
  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
      counts[CLAMP (sqlite3_column_int (stmt, 1), 0, 2)]++;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      g_array_unref (ids);
      pd_store_set_error (qdb->db, rc, "queue search", error);
      return NULL;
    }
  return ids;
}
