/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-queue"

#include "config.h"

#include <string.h>

#include "pd-accounts.h"
#include "pd-queue-private.h"
#include "pd-store.h"
#include "pd-vault.h"

/* The queue's SQL. Every page read walks one of the two queue indexes of
 * schema version 4 from a key (keyset paging): the one that begins with
 * the status when a single status is asked for or the segment is "mine",
 * else the one in queue order for every status. The filters are columns
 * of both indexes, so a filter never reads the table; only the rows of
 * the page do. A search does the same on the indexes of schema version 5
 * that begin with what it looks for (a patient's keyed index, a number, a
 * drug name) and carry the queue's columns after it: each is a range in
 * queue order, merged with the others by SQLite (a compound SELECT with
 * ORDER BY and LIMIT), so the first page reads a page's worth of each and
 * the counts read the matches' index entries, never the table. */

#define ROW_COLUMNS \
  "p.id, p.uuid, p.rx_number, p.priority, p.status, p.verdict, p.has_block, p.online," \
  " p.authored_at, p.claimed_by, p.claim_until, p.patient_name_sealed, p.queue_rank," \
  " (SELECT group_concat (drug_name, '、') FROM (SELECT drug_name FROM prescription_line" \
  "   WHERE prescription_id = p.id ORDER BY position))," \
  PD_ACCOUNT_NAME_OF_PRACTITIONER_SQL ("p.claimed_by")

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

static void
bind_key (sqlite3_stmt     *stmt,
          const PdQueueKey *key)
{
  if (!key->have_key)
    return;
  bind_int (stmt, ":r", key->rank);
  bind_text (stmt, ":t", key->time);
  bind_int (stmt, ":i", key->id);
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

static sqlite3_stmt *search_statement (PdQueueDb           *qdb,
                                       const PdQueueFilter *filter,
                                       const PdQueueTerms  *terms,
                                       PdQueueSegment       segment,
                                       PdQueueRead          read,
                                       gboolean             backwards,
                                       const PdQueueKey    *key,
                                       GError             **error);

sqlite3_stmt *
pd_queue_segment_statement (PdQueueDb           *qdb,
                            const PdQueueFilter *filter,
                            const PdQueueTerms  *terms,
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

  if (terms != NULL)
    return search_statement (qdb, filter, terms, segment, read, backwards, key, error);
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
  bind_key (stmt, key);
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
  f.claimed_by_name = column_text (stmt, 14);
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

PdQueueTerms *
pd_queue_terms_new (const guint8 *data_key,
                    const char   *text)
{
  PdQueueTerms *terms = g_new0 (PdQueueTerms, 1);
  g_autofree char *norm = NULL;
  g_autofree char *surname = NULL;
  g_autofree char *upper = NULL;

  terms->text = g_strstrip (g_strdup (text));
  norm = pd_vault_normalize_name (terms->text);
  surname = pd_vault_surname (terms->text);
  upper = g_ascii_strup (terms->text, -1);
  if (data_key != NULL && *norm != '\0')
    {
      pd_vault_index_name (data_key, terms->text, terms->name);
      terms->have_name = TRUE;
      /* A surname alone finds everyone of that name; a full name only its
       * bearer. A single Latin word is a surname as the last word of a name. */
      if (g_strcmp0 (norm, surname) == 0 || is_latin_word (terms->text))
        {
          g_autofree char *as_name = is_latin_word (terms->text) ? g_strconcat ("a ", terms->text, NULL)
                                                                 : g_strdup (terms->text);

          pd_vault_index_surname (data_key, as_name, terms->surname);
          terms->have_surname = TRUE;
        }
    }
  if (data_key != NULL && looks_like_id_tail (terms->text))
    terms->have_tail = pd_vault_index_id_tail (data_key, terms->text, terms->tail);
  /* A number's beginning, once it says more than the hospital's prefix. */
  if (g_utf8_strlen (terms->text, -1) >= 6)
    terms->prefix_end = prefix_end (terms->text);
  terms->pinyin = pinyin_pattern (upper);
  return terms;
}

void
pd_queue_terms_free (PdQueueTerms *terms)
{
  if (terms == NULL)
    return;
  g_free (terms->text);
  g_free (terms->prefix_end);
  g_free (terms->pinyin);
  g_free (terms);
}

/* One way a prescription matches: an index range and the names of the
 * queue's columns in it (all in the index after the range's key). */
typedef struct {
  const char *from;
  const char *match;
  const char *rank, *time, *id, *status, *online, *block, *claimed;
} Arm;

/* The prescription's own columns, in each of its search indexes. */
#define RX_COLUMNS \
  "x.queue_rank", "x.queue_time", "x.id", "x.status", "x.online", "x.has_block", "x.claimed_by"

static const Arm arm_name = {
  "prescription AS x INDEXED BY prescription_name", "x.patient_name_index = :name", RX_COLUMNS,
};
static const Arm arm_surname = {
  "prescription AS x INDEXED BY prescription_surname", "x.patient_surname_index = :surname", RX_COLUMNS,
};
static const Arm arm_tail = {
  "prescription AS x INDEXED BY prescription_id_tail", "x.patient_id_tail_index = :tail", RX_COLUMNS,
};
static const Arm arm_number = {
  "prescription AS x INDEXED BY prescription_number", "x.rx_number = :number", RX_COLUMNS,
};
static const Arm arm_prefix = {
  "prescription AS x INDEXED BY prescription_number", "x.rx_number >= :number AND x.rx_number < :prefix_end",
  RX_COLUMNS,
};
/* The drug names come from the short vocabulary, then each name's range. */
static const Arm arm_drug = {
  "prescription_line AS x INDEXED BY prescription_line_queue",
  "x.drug_name IN (SELECT name FROM queue_drug WHERE instr (name, :number) > 0 OR pinyin LIKE :pinyin)",
  "x.rx_rank", "x.rx_time", "x.prescription_id", "x.rx_status", "x.rx_online", "x.rx_block", "x.rx_claimed_by",
};

static guint
active_arms (const PdQueueTerms *terms,
             const Arm          *arms[6])
{
  guint n = 0;

  if (terms->have_name)
    arms[n++] = &arm_name;
  if (terms->have_surname)
    arms[n++] = &arm_surname;
  if (terms->have_tail)
    arms[n++] = &arm_tail;
  if (terms->prefix_end != NULL)
    arms[n++] = &arm_prefix;
  else
    arms[n++] = &arm_number;
  arms[n++] = &arm_drug;
  return n;
}

/* The filters of FILTERS and the urgency, on an arm's columns. */
static void
append_arm_filters (GString   *sql,
                    const Arm *a)
{
  g_string_append_printf (sql,
    " AND (:mask & (CASE %s WHEN 'requested' THEN 1 WHEN 'claimed' THEN 2 WHEN 'approved' THEN 4"
    " WHEN 'rejected' THEN 8 WHEN 'cancelled' THEN 16 WHEN 'dispensed' THEN 32 ELSE 64 END)) <> 0"
    " AND (:online < 0 OR %s = :online) AND (:block = 0 OR %s = 1)"
    " AND (:urgency = 0 OR (:urgency = 1) = (%s < 2))",
    a->status, a->online, a->block, a->rank);
}

static void
append_arm_segment (GString        *sql,
                    const Arm      *a,
                    PdQueueSegment  segment)
{
  if (segment == PD_QUEUE_SEGMENT_URGENT)
    g_string_append_printf (sql, " AND %s < 2", a->rank);
  else if (segment == PD_QUEUE_SEGMENT_MINE)
    g_string_append_printf (sql, " AND %s = 2 AND %s = 'claimed' AND %s = :me", a->rank, a->status, a->claimed);
  else
    g_string_append_printf (sql, " AND %s = 2 AND NOT (%s = 'claimed' AND coalesce (%s = :me, 0))",
                            a->rank, a->status, a->claimed);
}

static void
bind_terms (sqlite3_stmt        *stmt,
            const PdQueueFilter *filter,
            const PdQueueTerms  *terms)
{
  bind_filter (stmt, filter);
  bind_int (stmt, ":urgency", filter->urgency);
  if (terms->have_name)
    sqlite3_bind_blob (stmt, sqlite3_bind_parameter_index (stmt, ":name"), terms->name, PD_INDEX_SIZE, SQLITE_TRANSIENT);
  if (terms->have_surname)
    sqlite3_bind_blob (stmt, sqlite3_bind_parameter_index (stmt, ":surname"), terms->surname, PD_INDEX_SIZE, SQLITE_TRANSIENT);
  if (terms->have_tail)
    sqlite3_bind_blob (stmt, sqlite3_bind_parameter_index (stmt, ":tail"), terms->tail, PD_INDEX_SIZE, SQLITE_TRANSIENT);
  bind_text (stmt, ":number", terms->text);
  bind_text (stmt, ":prefix_end", terms->prefix_end);
  bind_text (stmt, ":pinyin", terms->pinyin);
}

static sqlite3_stmt *
search_statement (PdQueueDb           *qdb,
                  const PdQueueFilter *filter,
                  const PdQueueTerms  *terms,
                  PdQueueSegment       segment,
                  PdQueueRead          read,
                  gboolean             backwards,
                  const PdQueueKey    *key,
                  GError             **error)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  const char *cmp = (backwards || read == PD_QUEUE_READ_COUNT_BEFORE) ? "<" : ">";
  const char *dir = backwards ? " DESC" : "";
  const Arm *arms[6];
  guint n = active_arms (terms, arms);
  sqlite3_stmt *stmt;

  if (read == PD_QUEUE_READ_COUNT_BEFORE)
    g_string_append (sql, "SELECT count (*) FROM (");
  else
    g_string_append (sql, "SELECT " ROW_COLUMNS " FROM (");
  for (guint k = 0; k < n; k++)
    {
      const Arm *a = arms[k];

      g_string_append_printf (sql, "%sSELECT %s AS r, %s AS t, %s AS i FROM %s WHERE %s",
                              k > 0 ? " UNION " : "", a->rank, a->time, a->id, a->from, a->match);
      append_arm_segment (sql, a, segment);
      if (key->have_key && segment == PD_QUEUE_SEGMENT_URGENT)
        g_string_append_printf (sql, " AND (%s, %s, %s) %s (:r, :t, :i)", a->rank, a->time, a->id, cmp);
      else if (key->have_key)
        g_string_append_printf (sql, " AND (%s, %s) %s (:t, :i)", a->time, a->id, cmp);
      append_arm_filters (sql, a);
    }
  if (read == PD_QUEUE_READ_COUNT_BEFORE)
    g_string_append (sql, ")");
  else
    /* The merge stops once the page is full; the page's rows are then
     * read by id. */
    g_string_append_printf (sql, " ORDER BY 1%s, 2%s, 3%s LIMIT :lim OFFSET :off) AS m"
                                 " CROSS JOIN prescription AS p ON p.id = m.i ORDER BY m.r%s, m.t%s, m.i%s",
                            dir, dir, dir, dir, dir, dir);

  stmt = pd_queue_db_prepare (qdb, sql->str, error);
  if (stmt == NULL)
    return NULL;
  bind_terms (stmt, filter, terms);
  bind_key (stmt, key);
  return stmt;
}

gboolean
pd_queue_search_counts (PdQueueDb           *qdb,
                        const PdQueueFilter *filter,
                        const PdQueueTerms  *terms,
                        guint                counts[PD_QUEUE_N_SEGMENTS],
                        GError             **error)
{
  g_autoptr(GString) sql = g_string_new ("SELECT g, count (*) FROM (");
  const Arm *arms[6];
  guint n = active_arms (terms, arms);
  sqlite3_stmt *stmt;
  int rc;

  /* A prescription found two ways (two lines of one drug, a name and a
   * number) is one match: UNION keeps one (id, segment) pair. */
  for (guint k = 0; k < n; k++)
    {
      const Arm *a = arms[k];

      g_string_append_printf (sql, "%sSELECT %s AS i, CASE WHEN %s < 2 THEN 0"
                                   " WHEN %s = 'claimed' AND %s = :me THEN 1 ELSE 2 END AS g FROM %s WHERE %s",
                              k > 0 ? " UNION " : "", a->id, a->rank, a->status, a->claimed, a->from, a->match);
      append_arm_filters (sql, a);
    }
  g_string_append (sql, ") GROUP BY g");
  stmt = pd_queue_db_prepare (qdb, sql->str, error);
  if (stmt == NULL)
    return FALSE;
  bind_terms (stmt, filter, terms);
  memset (counts, 0, sizeof (guint) * PD_QUEUE_N_SEGMENTS);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    counts[CLAMP (sqlite3_column_int (stmt, 0), 0, 2)] = (guint) sqlite3_column_int64 (stmt, 1);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pd_store_set_error (qdb->db, rc, "queue search", error);
  return TRUE;
}
