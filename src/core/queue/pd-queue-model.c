/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-queue"

#include "config.h"

#include <string.h>

#include "pd-queue-private.h"
#include "pd-store.h"

/* Positions are laid out segment after segment. A page is PAGE_SIZE rows
 * of one segment; a page is read from a neighbouring page's key when one
 * is kept (keyset), else from the nearest kept key or the segment's end
 * with an OFFSET over the index. MAX_PAGES pages are kept. A search pages
 * the same way over the merged ranges of the indexes it goes through, and
 * its counts come from those indexes (pd-queue-query.c): nothing in a
 * search grows with the number of matches but the counting. */

#define PAGE_SIZE PD_QUEUE_PAGE_SIZE
#define MAX_PAGES 24

typedef struct {
  PdQueueSegment segment;
  guint          number;
  GPtrArray     *items;
  guint64        used;
} Page;

struct _PdQueueModel
{
  GObject        parent_instance;

  PdSession     *session;
  PdQueueDb      qdb;
  char          *me;
  PdQueueFilter  filter;
  char          *search;
  PdQueueTerms  *terms;             /* what the search looks for, else NULL */

  guint          counts[PD_QUEUE_N_SEGMENTS];
  guint          starts[PD_QUEUE_N_SEGMENTS];
  guint          n_items;
  guint          cached_total;

  GHashTable    *pages;             /* page key -> Page */
  guint64        tick;
  guint          last_position;
  guint64        last_steps;
  gint64         data_version;
  GError        *error;
};

static void pd_queue_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PdQueueModel, pd_queue_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, pd_queue_model_list_model_init))

static void
page_free (Page *page)
{
  g_ptr_array_unref (page->items);
  g_free (page);
}

static guint
page_key (PdQueueSegment segment,
          guint          number)
{
  return (segment << 28) | number;
}

static Page *
page_lookup (PdQueueModel   *self,
             PdQueueSegment  segment,
             guint           number)
{
  return g_hash_table_lookup (self->pages, GUINT_TO_POINTER (page_key (segment, number)));
}

static gint64
db_data_version (PdQueueModel *self)
{
  sqlite3_stmt *stmt = pd_queue_db_prepare (&self->qdb, "PRAGMA data_version", NULL);
  gint64 v = -1;

  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    v = sqlite3_column_int64 (stmt, 0);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return v;
}

static void
set_error (PdQueueModel *self,
           GError       *error)
{
  if (error != NULL)
    g_warning ("queue: %s", error->message);
  g_clear_error (&self->error);
  self->error = error;
}

/* Counts for the current filters and search. */
static gboolean
read_counts (PdQueueModel  *self,
             GError       **error)
{
  guint counts[PD_QUEUE_N_SEGMENTS] = { 0 };
  guint total = 0;

  if (!pd_queue_tally (&self->qdb, &self->filter, counts, &total, error))
    return FALSE;
  self->cached_total = total;
  if (self->terms != NULL && !pd_queue_search_counts (&self->qdb, &self->filter, self->terms, counts, error))
    return FALSE;
  self->n_items = 0;
  for (int s = 0; s < PD_QUEUE_N_SEGMENTS; s++)
    {
      self->counts[s] = counts[s];
      self->starts[s] = self->n_items;
      self->n_items += counts[s];
    }
  self->data_version = db_data_version (self);
  return TRUE;
}

static void
clear_counts (PdQueueModel *self)
{
  memset (self->counts, 0, sizeof self->counts);
  memset (self->starts, 0, sizeof self->starts);
  self->n_items = 0;
}

static void
evict (PdQueueModel *self)
{
  GHashTableIter iter;
  gpointer key, value;
  gpointer oldest_key = NULL;
  guint64 oldest = G_MAXUINT64;

  if (g_hash_table_size (self->pages) < MAX_PAGES)
    return;
  g_hash_table_iter_init (&iter, self->pages);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (((Page *) value)->used < oldest)
      {
        oldest = ((Page *) value)->used;
        oldest_key = key;
      }
  g_hash_table_remove (self->pages, oldest_key);
}

static gboolean
step_rows (PdQueueModel  *self,
           sqlite3_stmt  *stmt,
           GPtrArray     *items,
           GError       **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (items, pd_queue_item_from_row (stmt, self->session, self->me));
  self->last_steps += sqlite3_stmt_status (stmt, SQLITE_STMTSTATUS_VM_STEP, TRUE);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pd_store_set_error (self->qdb.db, rc, "queue page", error);
  return TRUE;
}

static void
key_of (PdQueueItem *item,
        PdQueueKey  *key)
{
  key->have_key = TRUE;
  key->rank = pd_queue_item_get_rank (item);
  key->time = pd_queue_item_get_authored_at (item) != NULL ? pd_queue_item_get_authored_at (item) : "";
  key->id = pd_queue_item_get_id (item);
}

/* A page of the queue or of a search: from the nearest kept key, or the
 * nearer end. */
static gboolean
read_browse_page (PdQueueModel  *self,
                  Page          *page,
                  GError       **error)
{
  guint count = self->counts[page->segment];
  guint first = page->number * PAGE_SIZE;
  guint len = MIN (PAGE_SIZE, count - first);
  guint best_distance = G_MAXUINT;
  PdQueueKey key = { FALSE };
  gboolean backwards = FALSE;
  guint offset = 0;
  sqlite3_stmt *stmt;
  GHashTableIter iter;
  gpointer value;

  /* From the start or from the end of the segment. */
  if (first <= count - (first + len))
    best_distance = offset = first;
  else
    {
      best_distance = offset = count - (first + len);
      backwards = TRUE;
    }
  g_hash_table_iter_init (&iter, self->pages);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Page *kept = value;
      guint distance;

      if (kept->segment != page->segment || kept->items->len == 0 || kept == page)
        continue;
      if (kept->number < page->number && kept->items->len == PAGE_SIZE)
        {
          distance = (page->number - kept->number - 1) * PAGE_SIZE;
          if (distance < best_distance)
            {
              best_distance = offset = distance;
              backwards = FALSE;
              key_of (g_ptr_array_index (kept->items, kept->items->len - 1), &key);
            }
        }
      else if (kept->number > page->number)
        {
          distance = (kept->number - page->number - 1) * PAGE_SIZE;
          if (distance < best_distance)
            {
              best_distance = offset = distance;
              backwards = TRUE;
              key_of (g_ptr_array_index (kept->items, 0), &key);
            }
        }
    }

  stmt = pd_queue_segment_statement (&self->qdb, &self->filter, self->terms, page->segment, PD_QUEUE_READ_PAGE,
                                     backwards, &key, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, sqlite3_bind_parameter_index (stmt, ":lim"), len);
  sqlite3_bind_int (stmt, sqlite3_bind_parameter_index (stmt, ":off"), offset);
  if (!step_rows (self, stmt, page->items, error))
    return FALSE;
  if (backwards)
    {
      /* Read in reverse: put the page back in queue order. */
      for (guint i = 0, j = page->items->len; i + 1 < j; i++, j--)
        {
          gpointer tmp = page->items->pdata[i];

          page->items->pdata[i] = page->items->pdata[j - 1];
          page->items->pdata[j - 1] = tmp;
        }
    }
  return TRUE;
}

static Page *
fetch_page (PdQueueModel   *self,
            PdQueueSegment  segment,
            guint           number)
{
  Page *page = page_lookup (self, segment, number);
  g_autoptr(GError) error = NULL;

  if (page != NULL)
    {
      page->used = ++self->tick;
      return page;
    }
  evict (self);
  page = g_new0 (Page, 1);
  page->segment = segment;
  page->number = number;
  page->items = g_ptr_array_new_with_free_func (g_object_unref);
  page->used = ++self->tick;
  self->last_steps = 0;
  if (!read_browse_page (self, page, &error))
    set_error (self, g_steal_pointer (&error));
  g_hash_table_insert (self->pages, GUINT_TO_POINTER (page_key (segment, number)), page);
  return page;
}

static PdQueueSegment
segment_at (PdQueueModel *self,
            guint         position)
{
  for (int s = PD_QUEUE_N_SEGMENTS - 1; s > 0; s--)
    if (position >= self->starts[s] && self->counts[s] > 0)
      return s;
  return PD_QUEUE_SEGMENT_URGENT;
}

static PdQueueItem *
peek_item (PdQueueModel *self,
           guint         position)
{
  PdQueueSegment segment;
  guint offset;
  Page *page;

  if (position >= self->n_items)
    return NULL;
  segment = segment_at (self, position);
  offset = position - self->starts[segment];
  /* Past the end between refresh ()'s two signals: no page to read. */
  if (offset >= self->counts[segment])
    return NULL;
  page = fetch_page (self, segment, offset / PAGE_SIZE);
  if (offset % PAGE_SIZE >= page->items->len)
    return NULL;
  return g_ptr_array_index (page->items, offset % PAGE_SIZE);
}

static GType
pd_queue_model_get_item_type (GListModel *model)
{
  return PD_TYPE_QUEUE_ITEM;
}

static guint
pd_queue_model_get_n_items (GListModel *model)
{
  return PD_QUEUE_MODEL (model)->n_items;
}

static gpointer
pd_queue_model_get_item (GListModel *model,
                         guint       position)
{
  PdQueueModel *self = PD_QUEUE_MODEL (model);
  PdQueueItem *item;

  if (position >= self->n_items)
    return NULL;
  self->last_position = position;
  item = peek_item (self, position);
  if (item == NULL)
    {
      /* The cache changed under the counts: a row that vanished until
       * the next refresh, never a hole in the model. */
      PdQueueItemFields gone = { 0, .status = "", .rank = 2, .segment = segment_at (self, position) };

      return pd_queue_item_new (&gone);
    }
  return g_object_ref (item);
}

static void
pd_queue_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = pd_queue_model_get_item_type;
  iface->get_n_items = pd_queue_model_get_n_items;
  iface->get_item = pd_queue_model_get_item;
}

/* Re-reads for new filters: everything is replaced. */
static void
reload (PdQueueModel *self)
{
  guint old = self->n_items;
  g_autoptr(GError) error = NULL;

  g_hash_table_remove_all (self->pages);
  if (!read_counts (self, &error))
    {
      clear_counts (self);
      set_error (self, g_steal_pointer (&error));
    }
  else
    g_clear_error (&self->error);
  if (old != 0 || self->n_items != 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old, self->n_items);
}

static void
pd_queue_model_finalize (GObject *object)
{
  PdQueueModel *self = PD_QUEUE_MODEL (object);

  g_hash_table_unref (self->pages);
  g_clear_pointer (&self->terms, pd_queue_terms_free);
  pd_queue_db_clear (&self->qdb);
  g_clear_object (&self->session);
  g_free (self->me);
  g_free (self->search);
  g_clear_error (&self->error);
  G_OBJECT_CLASS (pd_queue_model_parent_class)->finalize (object);
}

static void
pd_queue_model_class_init (PdQueueModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pd_queue_model_finalize;
}

static void
pd_queue_model_init (PdQueueModel *self)
{
  self->pages = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) page_free);
  self->filter.status_mask = PD_QUEUE_STATUS_ALL;
}

PdQueueModel *
pd_queue_model_new (PdSession  *session,
                    GError    **error)
{
  g_autoptr(PdQueueModel) self = g_object_new (PD_TYPE_QUEUE_MODEL, NULL);
  const PdAccount *account = pd_session_get_account (session);

  self->session = g_object_ref (session);
  self->me = g_strdup (account != NULL ? account->practitioner_ref : NULL);
  self->filter.me = self->me;
  self->qdb.db = pd_store_open_reader (pd_session_get_store (session), error);
  if (self->qdb.db == NULL)
    return NULL;
  if (!read_counts (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
pd_queue_model_set_status_filter (PdQueueModel *self,
                                  guint         status_mask)
{
  g_return_if_fail (PD_IS_QUEUE_MODEL (self));
  status_mask &= PD_QUEUE_STATUS_ALL;
  if (status_mask == 0)
    status_mask = PD_QUEUE_STATUS_ALL;
  if (status_mask == self->filter.status_mask)
    return;
  self->filter.status_mask = status_mask;
  reload (self);
}

void
pd_queue_model_set_urgency_filter (PdQueueModel   *self,
                                   PdQueueUrgency  urgency)
{
  g_return_if_fail (PD_IS_QUEUE_MODEL (self));
  if (urgency == self->filter.urgency)
    return;
  self->filter.urgency = urgency;
  reload (self);
}

void
pd_queue_model_set_online_filter (PdQueueModel  *self,
                                  PdQueueOnline  online)
{
  g_return_if_fail (PD_IS_QUEUE_MODEL (self));
  if (online == self->filter.online)
    return;
  self->filter.online = online;
  reload (self);
}

void
pd_queue_model_set_blocking_only (PdQueueModel *self,
                                  gboolean      blocking_only)
{
  g_return_if_fail (PD_IS_QUEUE_MODEL (self));
  if (!blocking_only == !self->filter.blocking_only)
    return;
  self->filter.blocking_only = !!blocking_only;
  reload (self);
}

void
pd_queue_model_set_search (PdQueueModel *self,
                           const char   *text)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (text != NULL ? text : ""));

  g_return_if_fail (PD_IS_QUEUE_MODEL (self));
  if (*trimmed == '\0')
    g_clear_pointer (&trimmed, g_free);
  if (g_strcmp0 (trimmed, self->search) == 0)
    return;
  g_free (self->search);
  self->search = g_steal_pointer (&trimmed);
  g_clear_pointer (&self->terms, pd_queue_terms_free);
  if (self->search != NULL)
    self->terms = pd_queue_terms_new (pd_session_get_data_key (self->session), self->search);
  reload (self);
}

const char *
pd_queue_model_get_search (PdQueueModel *self)
{
  return self->search;
}

/* Where the row with the anchor's key stands now. */
static guint
anchor_position (PdQueueModel *self,
                 PdQueueItem  *anchor)
{
  PdQueueSegment segment = pd_queue_item_get_segment (anchor);
  PdQueueKey key = { FALSE };
  sqlite3_stmt *stmt;
  guint before = 0;

  if (self->counts[segment] == 0)
    return MIN (self->starts[segment], self->n_items);
  key_of (anchor, &key);
  stmt = pd_queue_segment_statement (&self->qdb, &self->filter, self->terms, segment, PD_QUEUE_READ_COUNT_BEFORE,
                                     TRUE, &key, NULL);
  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    before = (guint) sqlite3_column_int64 (stmt, 0);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return MIN (self->starts[segment] + MIN (before, self->counts[segment]), self->n_items);
}

gboolean
pd_queue_model_refresh (PdQueueModel  *self,
                        guint          anchor,
                        GError       **error)
{
  g_autoptr(PdQueueItem) anchor_item = NULL;
  guint old_n = self->n_items;
  guint old_anchor, new_anchor, final_n;

  g_return_val_if_fail (PD_IS_QUEUE_MODEL (self), FALSE);
  if (db_data_version (self) == self->data_version && self->error == NULL)
    return TRUE;

  if (anchor == G_MAXUINT)
    anchor = self->last_position;
  old_anchor = MIN (anchor, old_n);
  if (old_anchor < old_n)
    {
      PdQueueItem *item = peek_item (self, old_anchor);

      if (item != NULL)
        anchor_item = g_object_ref (item);
    }

  g_hash_table_remove_all (self->pages);
  if (!read_counts (self, error))
    {
      clear_counts (self);
      if (old_n > 0)
        g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, 0);
      return FALSE;
    }
  g_clear_error (&self->error);

  new_anchor = anchor_item != NULL ? anchor_position (self, anchor_item) : MIN (old_anchor, self->n_items);
  /* What lies before the anchor, then the anchor and what follows. After
   * the first signal a view counts new_anchor + (old_n - old_anchor)
   * items, and asks for each: the model answers for that many (rows past
   * its real end as gone rows) until the second signal. */
  final_n = self->n_items;
  self->n_items = new_anchor + (old_n - old_anchor);
  if (old_anchor > 0 || new_anchor > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_anchor, new_anchor);
  self->n_items = final_n;
  if (old_n - old_anchor > 0 || final_n - new_anchor > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), new_anchor, old_n - old_anchor, final_n - new_anchor);
  self->last_position = new_anchor;
  return TRUE;
}

guint
pd_queue_model_get_segment_count (PdQueueModel   *self,
                                  PdQueueSegment  segment)
{
  g_return_val_if_fail (segment < PD_QUEUE_N_SEGMENTS, 0);
  return self->counts[segment];
}

guint
pd_queue_model_get_segment_start (PdQueueModel   *self,
                                  PdQueueSegment  segment)
{
  g_return_val_if_fail (segment < PD_QUEUE_N_SEGMENTS, 0);
  return self->starts[segment];
}

guint
pd_queue_model_get_cached_total (PdQueueModel *self)
{
  return self->cached_total;
}

gboolean
pd_queue_model_is_filtered (PdQueueModel *self)
{
  return self->search != NULL || self->filter.status_mask != PD_QUEUE_STATUS_ALL
         || self->filter.urgency != PD_QUEUE_URGENCY_ANY || self->filter.online != PD_QUEUE_ONLINE_ANY
         || self->filter.blocking_only;
}

const GError *
pd_queue_model_get_error (PdQueueModel *self)
{
  return self->error;
}

gboolean
pd_queue_model_get_kb (PdQueueModel  *self,
                       char         **version,
                       gboolean      *demonstration)
{
  sqlite3_stmt *stmt = pd_queue_db_prepare (&self->qdb,
    "SELECT version, status FROM kb_version ORDER BY active DESC, id DESC LIMIT 1", NULL);
  gboolean found = FALSE;

  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    {
      found = TRUE;
      if (version != NULL)
        *version = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      if (demonstration != NULL)
        *demonstration = g_strcmp0 ((const char *) sqlite3_column_text (stmt, 1), "demonstration") == 0;
    }
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return found;
}

guint64
pd_queue_model_get_last_page_steps (PdQueueModel *self)
{
  return self->last_steps;
}

static void
explain (PdQueueModel *self,
         GString      *out,
         sqlite3_stmt *stmt)
{
  g_autofree char *eqp = NULL;
  sqlite3_stmt *plan = NULL;

  if (stmt == NULL)
    return;
  eqp = g_strconcat ("EXPLAIN QUERY PLAN ", sqlite3_sql (stmt), NULL);
  if (sqlite3_prepare_v2 (self->qdb.db, eqp, -1, &plan, NULL) != SQLITE_OK)
    return;
  while (sqlite3_step (plan) == SQLITE_ROW)
    g_string_append_printf (out, "%s\n", (const char *) sqlite3_column_text (plan, 3));
  sqlite3_finalize (plan);
}

char *
pd_queue_model_explain (PdQueueModel *self)
{
  GString *out = g_string_new (NULL);
  PdQueueKey key = { TRUE, 2, "", 0 };

  for (int s = 0; s < PD_QUEUE_N_SEGMENTS; s++)
    {
      g_string_append_printf (out, "segment %d:\n", s);
      explain (self, out, pd_queue_segment_statement (&self->qdb, &self->filter, self->terms, s, PD_QUEUE_READ_PAGE,
                                                      FALSE, &key, NULL));
    }
  return g_string_free (out, FALSE);
}

GStrv
pd_queue_get_my_claims (PdSession  *session,
                        GError    **error)
{
  const char *me = pd_session_get_account (session)->practitioner_ref;
  g_autoptr(GStrvBuilder) uuids = g_strv_builder_new ();
  sqlite3_stmt *stmt;
  int rc;

  if (me == NULL)
    return g_strv_builder_end (uuids);
  /* status first: a range of the queue's index. */
  stmt = pd_store_prepare (pd_session_get_store (session),
                           "SELECT uuid FROM prescription WHERE status = 'claimed' AND claimed_by = ? ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, me, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_strv_builder_add (uuids, (const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_FAILED, "%s", sqlite3_errmsg (pd_store_get_db (pd_session_get_store (session))));
      return NULL;
    }
  return g_strv_builder_end (uuids);
}
