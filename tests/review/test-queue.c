/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-queue"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-clock.h"
#include "pd-queue-model.h"
#include "queue-rows.h"

/* The review queue over a real SQLite cache: order and segments, each
 * filter, each kind of search, keyset pages that do not scan, and a
 * refresh that keeps its place. */

typedef struct {
  char      *dir;
  PdStore   *store;
  PdSession *session;
} Fixture;

#define ME "Practitioner/ph-1"
#define OTHER "Practitioner/ph-2"

static const QueueRow rows[] = {
  { "RX-1001", "routine", "requested", "pass", FALSE, TRUE, "2026-11-20T08:00:00+08:00", NULL, "张三", "110101199001011234",
    { { "阿莫西林胶囊", "AMXLJN" }, { "布洛芬缓释胶囊", "BLFHSJN" } } },
  { "RX-1002", "stat", "requested", "review", FALSE, TRUE, "2026-11-20T09:30:00+08:00", NULL, "李四", "11010119850202002X",
    { { "硝酸甘油片", "XSGYP" } } },
  { "RX-1003", "urgent", "requested", "review", TRUE, TRUE, "2026-11-20T08:30:00+08:00", NULL, "王五", "110101197003035678",
    { { "华法林钠片", "HFLNP" }, { "阿司匹林肠溶片", "ASPLCRP" } } },
  { "RX-1004", "asap", "claimed", "review", FALSE, TRUE, "2026-11-20T08:10:00+08:00", OTHER, "赵六", "110101196004040011",
    { { "头孢克肟胶囊", "TBKWJN" } } },
  { "RX-1005", "routine", "claimed", "pass", FALSE, TRUE, "2026-11-20T09:00:00+08:00", ME, "张伟", "110101199505050022",
    { { "二甲双胍片", "EJSGP" } } },
  { "RX-1006", "routine", "claimed", "review", FALSE, FALSE, "2026-11-20T07:00:00+08:00", ME, "欧阳娜娜", "110101200006060033",
    { { "氯雷他定片", "LLTDP" } } },
  { "RX-1007", "stat", "approved", "pass", FALSE, TRUE, "2026-11-20T07:30:00+08:00", ME, "孙七", "110101198007070044",
    { { "硝酸甘油片", "XSGYP" } } },
  { "RX-1008", "routine", "approved", "reject", TRUE, FALSE, "2026-11-20T08:45:00+08:00", NULL, "周八", "110101197508080055",
    { { "阿莫西林胶囊", "AMXLJN" } } },
  { "RX-1009", "routine", "conflict", "review", FALSE, TRUE, "2026-11-20T06:00:00+08:00", NULL, "John Smith", "E12345678",
    { { "奥美拉唑肠溶胶囊", "AMLZCRJN" } } },
  { "RX-1010", "routine", "requested", "pass", FALSE, TRUE, "2026-11-20T10:00:00+08:00", NULL, "张三丰", "110101195009091234",
    { { "布洛芬缓释胶囊", "BLFHSJN" } } },
  { "RX-1011", "routine", "claimed", "pass", FALSE, TRUE, "2026-11-20T05:00:00+08:00", OTHER, "吴九", "110101196510100066",
    { { "氨氯地平片", "ALDPP" } } },
  { "RX-1012", "routine", "dispensed", "pass", FALSE, TRUE, "2026-11-20T04:00:00+08:00", ME, "郑十", "110101199911110077",
    { { "阿托伐他汀钙片", "ATFTTGP" } } },
};

/* Stat first, then urgent and asap, oldest first; my claims; the rest,
 * oldest first (a dispensed prescription I once held is not "mine"). */
static const char *expected_order[] = {
  "RX-1007", "RX-1002", "RX-1004", "RX-1003",
  "RX-1006", "RX-1005",
  "RX-1012", "RX-1011", "RX-1009", "RX-1001", "RX-1008", "RX-1010",
};

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PdSession) admin = NULL;
  PdAccountSpec boss = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec wang = { "wang", "王药师", PD_ROLE_PHARMACIST, "YS-110105-0001", ME, NULL };
  g_autofree char *recovery = NULL;

  pd_clock_set_now_from_iso (pd_clock_get_default (), "2026-11-20T11:00:00+08:00", NULL);
  pd_clock_set_scale (pd_clock_get_default (), 0.0);
  f->dir = g_dir_make_tmp ("pd-queue-XXXXXX", NULL);
  path = g_build_filename (f->dir, "p.db", NULL);
  f->store = pd_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_init (f->store, &boss, "admin-password", &recovery, &error));
  admin = pd_session_sign_in (f->store, "admin", "admin-password", &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_add (admin, &wang, "password-1234", &error));
  f->session = pd_session_sign_in (f->store, "wang", "password-1234", &error);
  g_assert_no_error (error);
  if (data != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
      queue_row_insert (f->session, &rows[i]);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *path = g_strdup (pd_store_get_path (f->store));
  const char *suffixes[] = { "", "-wal", "-shm" };

  g_clear_object (&f->session);
  g_clear_object (&f->store);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = g_strconcat (path, suffixes[i], NULL);
      g_remove (p);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static PdQueueModel *
new_model (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  PdQueueModel *model = pd_queue_model_new (f->session, &error);

  g_assert_no_error (error);
  g_assert_nonnull (model);
  return model;
}

static PdQueueItem *
item_at (PdQueueModel *model,
         guint         i)
{
  PdQueueItem *item = g_list_model_get_item (G_LIST_MODEL (model), i);

  g_assert_nonnull (item);
  g_object_unref (item);   /* the model keeps it in its page */
  return item;
}

/* The numbers the model lists, in order, as one string. */
static char *
numbers (PdQueueModel *model)
{
  GString *s = g_string_new (NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (model));

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%s%s", i > 0 ? " " : "", pd_queue_item_get_number (item_at (model, i)));
  return g_string_free (s, FALSE);
}

static gint64
store_int (PdStore    *store,
           const char *sql)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, sql, NULL);
  gint64 v;

  g_assert_nonnull (stmt);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  v = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return v;
}

static void
test_order (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(PdQueueModel) model = new_model (f);
  g_autofree char *want = g_strjoinv (" ", (char **) expected_order);
  g_autofree char *got = numbers (model);
  PdQueueItem *item;

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, G_N_ELEMENTS (rows));
  g_assert_cmpuint (pd_queue_model_get_cached_total (model), ==, G_N_ELEMENTS (rows));
  g_assert_false (pd_queue_model_is_filtered (model));
  g_assert_cmpstr (got, ==, want);

  g_assert_cmpuint (pd_queue_model_get_segment_count (model, PD_QUEUE_SEGMENT_URGENT), ==, 4);
  g_assert_cmpuint (pd_queue_model_get_segment_count (model, PD_QUEUE_SEGMENT_MINE), ==, 2);
  g_assert_cmpuint (pd_queue_model_get_segment_count (model, PD_QUEUE_SEGMENT_REST), ==, 6);
  g_assert_cmpuint (pd_queue_model_get_segment_start (model, PD_QUEUE_SEGMENT_MINE), ==, 4);
  g_assert_cmpuint (pd_queue_model_get_segment_start (model, PD_QUEUE_SEGMENT_REST), ==, 6);

  /* What a row shows: the name opened from its sealed column, drugs in line order. */
  item = item_at (model, 3);
  g_assert_cmpstr (pd_queue_item_get_number (item), ==, "RX-1003");
  g_assert_cmpstr (pd_queue_item_get_patient_name (item), ==, "王五");
  g_assert_cmpstr (pd_queue_item_get_drugs (item), ==, "华法林钠片、阿司匹林肠溶片");
  g_assert_true (pd_queue_item_has_block (item));
  g_assert_true (pd_queue_item_is_urgent (item));
  g_assert_cmpstr (pd_queue_item_get_verdict (item), ==, "review");
  g_assert_cmpint (pd_queue_item_get_segment (item), ==, PD_QUEUE_SEGMENT_URGENT);
  item = item_at (model, 2);
  g_assert_cmpstr (pd_queue_item_get_claimed_by (item), ==, OTHER);
  g_assert_false (pd_queue_item_is_mine (item));
  item = item_at (model, 4);
  g_assert_true (pd_queue_item_is_mine (item));
  g_assert_false (pd_queue_item_is_online (item));
  g_assert_cmpint (pd_queue_item_get_segment (item), ==, PD_QUEUE_SEGMENT_MINE);
  item = item_at (model, 8);
  g_assert_cmpstr (pd_queue_item_get_patient_name (item), ==, "John Smith");
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (model), G_N_ELEMENTS (rows)));
}

/* Without a practitioner reference (an administrator) nothing is "mine". */
static void
test_no_mine_segment (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(PdSession) admin = pd_session_sign_in (f->store, "admin", "admin-password", NULL);
  g_autoptr(PdQueueModel) model = pd_queue_model_new (admin, NULL);
  g_autofree char *got = NULL;

  g_assert_nonnull (model);
  got = numbers (model);
  g_assert_cmpuint (pd_queue_model_get_segment_count (model, PD_QUEUE_SEGMENT_MINE), ==, 0);
  g_assert_cmpuint (pd_queue_model_get_segment_count (model, PD_QUEUE_SEGMENT_REST), ==, 8);
  g_assert_cmpstr (got, ==, "RX-1007 RX-1002 RX-1004 RX-1003 RX-1012 RX-1011 RX-1009 RX-1006 RX-1001 RX-1008 RX-1005 RX-1010");
}

static guint
status_bit (const char *status)
{
  const char *names[] = { "requested", "claimed", "approved", "rejected", "cancelled", "dispensed", "conflict" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (names[i], status))
      return 1u << i;
  g_assert_not_reached ();
}

typedef struct {
  const char *what;
  guint       mask;
  int         urgency, online, block;
  const char *where;      /* the same filter, in plain SQL, to count against */
} FilterCase;

static void
test_filters (Fixture       *f,
              gconstpointer  data)
{
  static const FilterCase cases[] = {
    { "requested", PD_QUEUE_STATUS_REQUESTED, 0, 0, 0, "status = 'requested'" },
    { "claimed", PD_QUEUE_STATUS_CLAIMED, 0, 0, 0, "status = 'claimed'" },
    { "approved", PD_QUEUE_STATUS_APPROVED, 0, 0, 0, "status = 'approved'" },
    { "conflict", PD_QUEUE_STATUS_CONFLICT, 0, 0, 0, "status = 'conflict'" },
    { "open", PD_QUEUE_STATUS_REQUESTED | PD_QUEUE_STATUS_CLAIMED | PD_QUEUE_STATUS_CONFLICT, 0, 0, 0,
      "status IN ('requested', 'claimed', 'conflict')" },
    { "urgent", PD_QUEUE_STATUS_ALL, PD_QUEUE_URGENCY_URGENT, 0, 0, "priority <> 'routine'" },
    { "routine", PD_QUEUE_STATUS_ALL, PD_QUEUE_URGENCY_ROUTINE, 0, 0, "priority = 'routine'" },
    { "online", PD_QUEUE_STATUS_ALL, 0, PD_QUEUE_ONLINE_ONLY, 0, "online = 1" },
    { "offline", PD_QUEUE_STATUS_ALL, 0, PD_QUEUE_OFFLINE_ONLY, 0, "online = 0" },
    { "blocking", PD_QUEUE_STATUS_ALL, 0, 0, 1, "has_block = 1" },
    { "claimed urgent", PD_QUEUE_STATUS_CLAIMED, PD_QUEUE_URGENCY_URGENT, 0, 0, "status = 'claimed' AND priority <> 'routine'" },
    { "requested blocking online", PD_QUEUE_STATUS_REQUESTED, 0, PD_QUEUE_ONLINE_ONLY, 1,
      "status = 'requested' AND has_block = 1 AND online = 1" },
  };
  g_autoptr(PdQueueModel) model = new_model (f);
  g_autofree char *all = numbers (model);

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      const FilterCase *fc = &cases[c];
      g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM prescription WHERE %s", fc->where);
      g_autofree char *got = NULL;
      g_auto(GStrv) listed = NULL;
      guint n;
      int last = -1;

      g_test_message ("filter %s", fc->what);
      pd_queue_model_set_status_filter (model, fc->mask);
      pd_queue_model_set_urgency_filter (model, fc->urgency);
      pd_queue_model_set_online_filter (model, fc->online);
      pd_queue_model_set_blocking_only (model, fc->block);
      n = g_list_model_get_n_items (G_LIST_MODEL (model));
      g_assert_cmpuint (n, ==, store_int (f->store, sql));
      g_assert_cmpuint (n, >, 0);
      g_assert_true (pd_queue_model_is_filtered (model));
      for (guint i = 0; i < n; i++)
        {
          PdQueueItem *item = item_at (model, i);
          const char *status = pd_queue_item_get_status (item);
          int pos = -1;

          g_assert_true (fc->mask & status_bit (status));
          if (fc->urgency == PD_QUEUE_URGENCY_URGENT)
            g_assert_true (pd_queue_item_is_urgent (item));
          if (fc->urgency == PD_QUEUE_URGENCY_ROUTINE)
            g_assert_false (pd_queue_item_is_urgent (item));
          if (fc->online == PD_QUEUE_ONLINE_ONLY)
            g_assert_true (pd_queue_item_is_online (item));
          if (fc->online == PD_QUEUE_OFFLINE_ONLY)
            g_assert_false (pd_queue_item_is_online (item));
          if (fc->block)
            g_assert_true (pd_queue_item_has_block (item));
          /* Filtering keeps the queue's order. */
          for (guint k = 0; k < G_N_ELEMENTS (expected_order); k++)
            if (g_str_equal (expected_order[k], pd_queue_item_get_number (item)))
              pos = k;
          g_assert_cmpint (pos, >, last);
          last = pos;
        }
      got = numbers (model);
      listed = g_strsplit (got, " ", -1);
      g_assert_cmpuint (g_strv_length (listed), ==, n);
    }

  /* Back to everything. */
  pd_queue_model_set_status_filter (model, PD_QUEUE_STATUS_ALL);
  pd_queue_model_set_urgency_filter (model, PD_QUEUE_URGENCY_ANY);
  pd_queue_model_set_online_filter (model, PD_QUEUE_ONLINE_ANY);
  pd_queue_model_set_blocking_only (model, FALSE);
  g_assert_false (pd_queue_model_is_filtered (model));
  {
    g_autofree char *again = numbers (model);
    g_assert_cmpstr (again, ==, all);
  }
}

typedef struct {
  const char *text;
  const char *want;       /* numbers in queue order */
} SearchCase;

static void
test_search (Fixture       *f,
             gconstpointer  data)
{
  static const SearchCase cases[] = {
    { "张三", "RX-1001" },                          /* full name: not 张三丰 */
    { "张 三", "RX-1001" },                         /* spaces do not count */
    { "张三丰", "RX-1010" },
    { "张", "RX-1005 RX-1001 RX-1010" },            /* a surname alone: every 张 */
    { "欧阳", "RX-1006" },                          /* a two-character surname */
    { "Smith", "RX-1009" },
    { "john smith", "RX-1009" },
    { "1234", "RX-1001 RX-1010" },                  /* the ID number's last four */
    { "002x", "RX-1002" },                          /* … with its check letter, any case */
    { "阿莫西林", "RX-1001 RX-1008" },              /* drug name, a part of it */
    { "肠溶", "RX-1003 RX-1009" },
    { "AMXL", "RX-1001 RX-1008" },                  /* pinyin initials, a prefix */
    { "blf", "RX-1001 RX-1010" },
    { "XSG", "RX-1007 RX-1002" },
    { "RX-1011", "RX-1011" },                       /* the prescription number */
    { "RX-100", "RX-1007 RX-1002 RX-1004 RX-1003 RX-1006 RX-1005 RX-1009 RX-1001 RX-1008" },
    { "无此人", "" },
    { "9999", "" },
  };
  g_autoptr(PdQueueModel) model = new_model (f);

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *got = NULL;

      pd_queue_model_set_search (model, cases[c].text);
      g_assert_cmpstr (pd_queue_model_get_search (model), ==, cases[c].text);
      got = numbers (model);
      g_test_message ("search “%s”: %s", cases[c].text, got);
      g_assert_cmpstr (got, ==, cases[c].want);
      g_assert_true (pd_queue_model_is_filtered (model));
    }

  /* A search and a filter together; segments still hold. */
  pd_queue_model_set_search (model, "张");
  pd_queue_model_set_status_filter (model, PD_QUEUE_STATUS_CLAIMED);
  {
    g_autofree char *got = numbers (model);
    g_assert_cmpstr (got, ==, "RX-1005");
  }
  g_assert_cmpuint (pd_queue_model_get_segment_count (model, PD_QUEUE_SEGMENT_MINE), ==, 1);
  g_assert_true (pd_queue_item_is_mine (item_at (model, 0)));
  pd_queue_model_set_status_filter (model, PD_QUEUE_STATUS_ALL);
  pd_queue_model_set_search (model, "  ");
  g_assert_null (pd_queue_model_get_search (model));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, G_N_ELEMENTS (rows));
}

/* Another key cannot read the names, nor find them. */
static void
test_search_needs_the_key (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(PdQueueModel) model = new_model (f);
  guint8 other_key[32] = { 1 };
  guint8 index[PD_INDEX_SIZE];

  pd_vault_index_name (other_key, "张三", index);
  {
    sqlite3_stmt *stmt = pd_store_prepare (f->store, "SELECT count (*) FROM prescription WHERE patient_name_index = ?", NULL);

    sqlite3_bind_blob (stmt, 1, index, sizeof index, SQLITE_STATIC);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 0);
    sqlite3_reset (stmt);
  }
  /* And nothing in clear: the name is only in the sealed column. */
  g_assert_cmpint (store_int (f->store, "SELECT count (*) FROM prescription WHERE instr (CAST (patient_name_sealed AS TEXT), '张') > 0"), ==, 0);
  pd_queue_model_set_search (model, "张三");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 1);
}

typedef struct {
  guint position, removed, added;
} Change;

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  GArray     *changes)
{
  Change c = { position, removed, added };

  g_array_append_val (changes, c);
}

static void
insert_routine (Fixture    *f,
                const char *number,
                const char *at)
{
  QueueRow row = { number, "routine", "requested", "pass", FALSE, TRUE, at, NULL, "钱十一", "110101199001019999",
                   { { "维生素C片", "WSSCP" } } };

  queue_row_insert (f->session, &row);
}

static void
test_refresh (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(PdQueueModel) model = new_model (f);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(GError) error = NULL;
  guint anchor = 9;     /* RX-1001, 08:00, in the rest */
  guint n;
  PdQueueItem *item;

  g_assert_cmpstr (pd_queue_item_get_number (item_at (model, anchor)), ==, "RX-1001");
  g_signal_connect (model, "items-changed", G_CALLBACK (items_changed_cb), changes);

  /* Nothing written: nothing changes. */
  g_assert_true (pd_queue_model_refresh (model, anchor, &error));
  g_assert_cmpuint (changes->len, ==, 0);

  /* The sync brings two older rows and one newer, and claims one for me. */
  insert_routine (f, "RX-2001", "2026-11-20T03:00:00+08:00");
  insert_routine (f, "RX-2002", "2026-11-20T07:59:00+08:00");
  insert_routine (f, "RX-2003", "2026-11-20T12:00:00+08:00");
  g_assert_true (pd_store_exec (f->store, "UPDATE prescription SET status = 'claimed', claimed_by = '" ME "' WHERE rx_number = 'RX-1010'", NULL));

  g_assert_true (pd_queue_model_refresh (model, anchor, &error));
  g_assert_no_error (error);
  n = g_list_model_get_n_items (G_LIST_MODEL (model));
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (rows) + 3);
  g_assert_cmpuint (n, ==, store_int (f->store, "SELECT count (*) FROM prescription"));
  g_assert_cmpuint (pd_queue_model_get_segment_count (model, PD_QUEUE_SEGMENT_MINE), ==, 3);

  /* Two signals: before the anchor, and from it on; they add up. */
  g_assert_cmpuint (changes->len, ==, 2);
  {
    Change *a = &g_array_index (changes, Change, 0), *b = &g_array_index (changes, Change, 1);

    g_assert_cmpuint (a->position, ==, 0);
    g_assert_cmpuint (a->removed, ==, anchor);
    /* One more of mine above, two older rows above it in the rest. */
    g_assert_cmpuint (a->added, ==, anchor + 3);
    g_assert_cmpuint (b->position, ==, a->added);
    g_assert_cmpuint (b->removed, ==, G_N_ELEMENTS (rows) - anchor);
    g_assert_cmpuint (b->added, ==, n - a->added);
    item = item_at (model, a->added);
    g_assert_cmpstr (pd_queue_item_get_number (item), ==, "RX-1001");
  }
  {
    g_autofree char *got = numbers (model);
    g_assert_cmpstr (got, ==, "RX-1007 RX-1002 RX-1004 RX-1003 RX-1006 RX-1005 RX-1010 "
                              "RX-2001 RX-1012 RX-1011 RX-1009 RX-2002 RX-1001 RX-1008 RX-2003");
  }

  /* In a search, too: the anchor is found among the new matches. */
  pd_queue_model_set_search (model, "钱十一");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 3);
  /* The anchor is on screen, as a view's is: read before the sync writes. */
  g_assert_cmpstr (pd_queue_item_get_number (item_at (model, 1)), ==, "RX-2002");
  g_array_set_size (changes, 0);
  insert_routine (f, "RX-2000", "2026-11-20T02:00:00+08:00");
  g_assert_true (pd_queue_model_refresh (model, 1, &error));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 4);
  g_assert_cmpuint (g_array_index (changes, Change, 0).added, ==, 2);
  g_assert_cmpstr (pd_queue_item_get_number (item_at (model, 2)), ==, "RX-2002");
}

/* A list view's own count follows the signals: after each one, the model
 * must answer for exactly that many items, every one of them. */
typedef struct {
  guint expected;
  guint signals;
} Follower;

static void
follow_cb (GListModel *model,
           guint       position,
           guint       removed,
           guint       added,
           Follower   *f)
{
  f->expected = f->expected - removed + added;
  f->signals++;
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, f->expected);
  for (guint i = 0; i < f->expected; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (model, i);

      g_assert_nonnull (item);
    }
}

/* The anchor moves down (three older rows come in above it) while the rows
 * after it go (taken out of the cache): between the two signals the model
 * is as the view then believes it, not already as it ends. GTK's list view
 * aborted on the difference (gtk_list_item_manager_ensure_items: item != NULL). */
static void
test_refresh_consistent (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(PdQueueModel) model = new_model (f);
  g_autoptr(GError) error = NULL;
  guint anchor = 9;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (model));
  Follower follower = { n, 0 };
  g_autofree char *sql = NULL;

  g_assert_cmpuint (n, ==, 12);
  g_assert_cmpstr (pd_queue_item_get_number (item_at (model, anchor)), ==, "RX-1001");
  sql = g_strdup_printf ("DELETE FROM prescription_line WHERE prescription_id IN"
                         " (SELECT id FROM prescription WHERE rx_number IN ('%s', '%s'));"
                         "DELETE FROM prescription WHERE rx_number IN ('%s', '%s');",
                         pd_queue_item_get_number (item_at (model, 10)), pd_queue_item_get_number (item_at (model, 11)),
                         pd_queue_item_get_number (item_at (model, 10)), pd_queue_item_get_number (item_at (model, 11)));
  g_assert_true (pd_store_exec (f->store, sql, NULL));
  insert_routine (f, "RX-2001", "2026-11-20T03:00:00+08:00");
  insert_routine (f, "RX-2002", "2026-11-20T07:58:00+08:00");
  insert_routine (f, "RX-2003", "2026-11-20T07:59:00+08:00");
  g_signal_connect (model, "items-changed", G_CALLBACK (follow_cb), &follower);
  g_assert_true (pd_queue_model_refresh (model, anchor, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (follower.signals, >, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 13);
  g_assert_cmpuint (follower.expected, ==, 13);
  g_assert_cmpstr (pd_queue_item_get_number (item_at (model, 12)), ==, "RX-1001");
}

static void
test_kb_mark (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(PdQueueModel) model = new_model (f);
  g_autofree char *version = NULL;
  gboolean demo = FALSE;

  g_assert_false (pd_queue_model_get_kb (model, NULL, NULL));
  g_assert_true (pd_store_exec (f->store, "INSERT INTO kb_version (version, status, imported_at, active)"
                                          " VALUES ('2026.11-demo', 'demonstration', '2026-11-20T08:00:00+08:00', 1)", NULL));
  g_assert_true (pd_queue_model_get_kb (model, &version, &demo));
  g_assert_cmpstr (version, ==, "2026.11-demo");
  g_assert_true (demo);
  g_clear_pointer (&version, g_free);
  g_assert_true (pd_store_exec (f->store, "UPDATE kb_version SET active = 0;"
                                          "INSERT INTO kb_version (version, status, reviewed_by, imported_at, active)"
                                          " VALUES ('2026.12', 'reviewed', '刘药师', '2026-12-01T08:00:00+08:00', 1)", NULL));
  g_assert_true (pd_queue_model_get_kb (model, &version, &demo));
  g_assert_cmpstr (version, ==, "2026.12");
  g_assert_false (demo);
}

/* A generated cache, written in SQL: rows i = 0..n-1, every seventh
 * urgent (every 21st stat), every 50th claimed by me, one time a minute. */
static void
generate (Fixture *f,
          guint    n)
{
  g_autofree char *sql = g_strdup_printf (
    "WITH RECURSIVE i (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < %u)"
    " INSERT INTO prescription (uuid, rx_system, rx_number, priority, status, claimed_by, online, has_block, authored_at)"
    " SELECT 'u-' || n, 'urn:rx', printf ('RX-%%07d', n),"
    "  CASE WHEN n %% 21 = 0 THEN 'stat' WHEN n %% 7 = 0 THEN 'urgent' ELSE 'routine' END,"
    "  CASE WHEN n %% 50 = 1 THEN 'claimed' WHEN n %% 3 = 0 THEN 'dispensed' ELSE 'requested' END,"
    "  CASE WHEN n %% 50 = 1 THEN '" ME "' END, n %% 10 <> 0, n %% 97 = 0,"
    "  strftime ('%%Y-%%m-%%dT%%H:%%M:%%S+08:00', 1700000000 + (n * 7919 %% %u) * 60, 'unixepoch')"
    " FROM i;", n, n);

  g_assert_true (pd_store_exec (f->store, "BEGIN", NULL));
  g_assert_true (pd_store_exec (f->store, sql, NULL));
  g_assert_true (pd_store_exec (f->store, "COMMIT", NULL));
}

/* The ids of the rows matching where, in queue order by plain SQL. */
static GArray *
queue_order (Fixture    *f,
             const char *where)
{
  g_autofree char *sql = g_strdup_printf (
    "SELECT id FROM prescription WHERE %s ORDER BY"
    " CASE WHEN priority <> 'routine' THEN 0 WHEN status = 'claimed' AND claimed_by = '" ME "' THEN 1 ELSE 2 END,"
    " priority <> 'stat', authored_at, id", where);
  sqlite3_stmt *stmt = pd_store_prepare (f->store, sql, NULL);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
    }
  sqlite3_reset (stmt);
  return ids;
}

/* Every item in order against an independent ORDER BY, read forwards,
 * backwards and by jumps, across more pages than the model keeps. */
static void
test_paging (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(PdQueueModel) model = NULL;
  g_autoptr(GArray) want = NULL;
  guint n;

  generate (f, 5000);
  model = new_model (f);
  want = queue_order (f, "1");
  n = g_list_model_get_n_items (G_LIST_MODEL (model));
  g_assert_cmpuint (n, ==, want->len);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (pd_queue_item_get_id (item_at (model, i)), ==, g_array_index (want, gint64, i));
  for (guint i = n; i-- > 0;)
    g_assert_cmpint (pd_queue_item_get_id (item_at (model, i)), ==, g_array_index (want, gint64, i));
  {
    g_autoptr(PdQueueModel) fresh = new_model (f);
    guint jumps[] = { 4000, 17, 2500, 4999, 0, 1234, 3333, 640, 639, 4998, 2 };

    for (guint j = 0; j < G_N_ELEMENTS (jumps); j++)
      g_assert_cmpint (pd_queue_item_get_id (item_at (fresh, jumps[j])), ==, g_array_index (want, gint64, jumps[j]));
  }
  /* Filters on a bigger cache, against SQL. */
  pd_queue_model_set_online_filter (model, PD_QUEUE_OFFLINE_ONLY);
  pd_queue_model_set_status_filter (model, PD_QUEUE_STATUS_DISPENSED);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==,
                    store_int (f->store, "SELECT count (*) FROM prescription WHERE online = 0 AND status = 'dispensed'"));
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (model)); i++)
    g_assert_cmpstr (pd_queue_item_get_status (item_at (model, i)), ==, "dispensed");
}

/* A million cached prescriptions: a page costs the same number of SQLite
 * steps at the top, in the middle and at the bottom, and no plan sorts
 * or scans the table. */
static void
test_million (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(PdQueueModel) model = NULL;
  g_autofree char *plan = NULL;
  guint n, rest_start;
  guint64 first, next, last, middle;

  generate (f, 1000000);
  model = new_model (f);
  n = g_list_model_get_n_items (G_LIST_MODEL (model));
  g_assert_cmpuint (n, ==, store_int (f->store, "SELECT count (*) FROM prescription"));

  plan = pd_queue_model_explain (model);
  g_test_message ("%s", plan);
  g_assert_null (strstr (plan, "TEMP B-TREE"));
  g_assert_nonnull (strstr (plan, "SEARCH p USING INDEX prescription_queue_all"));
  g_assert_nonnull (strstr (plan, "SEARCH p USING INDEX prescription_queue_status"));
  g_assert_null (strstr (plan, "SCAN p"));
  g_assert_null (strstr (plan, "SCAN prescription"));

  item_at (model, 0);
  first = pd_queue_model_get_last_page_steps (model);
  item_at (model, PD_QUEUE_PAGE_SIZE);
  next = pd_queue_model_get_last_page_steps (model);
  item_at (model, n - 1);
  last = pd_queue_model_get_last_page_steps (model);
  rest_start = pd_queue_model_get_segment_start (model, PD_QUEUE_SEGMENT_REST);
  /* From the page before, in the middle of the rest: a keyset read. */
  item_at (model, rest_start + 100000);
  item_at (model, rest_start + 100000 + PD_QUEUE_PAGE_SIZE);
  middle = pd_queue_model_get_last_page_steps (model);
  g_test_message ("steps: first %" G_GUINT64_FORMAT ", next %" G_GUINT64_FORMAT ", last %" G_GUINT64_FORMAT
                  ", middle %" G_GUINT64_FORMAT, first, next, last, middle);
  /* A scan would step hundreds of thousands of times; a page, a few per row. */
  g_assert_cmpuint (first, <, 400 * PD_QUEUE_PAGE_SIZE);
  g_assert_cmpuint (next, <, 400 * PD_QUEUE_PAGE_SIZE);
  g_assert_cmpuint (last, <, 400 * PD_QUEUE_PAGE_SIZE);
  g_assert_cmpuint (middle, <, 400 * PD_QUEUE_PAGE_SIZE);
  g_assert_cmpuint (middle, <=, 2 * next + 200);

  /* A narrow filter on a single status still walks an index in order. */
  pd_queue_model_set_status_filter (model, PD_QUEUE_STATUS_CLAIMED);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==,
                    store_int (f->store, "SELECT count (*) FROM prescription WHERE status = 'claimed'"));
  item_at (model, 0);
  g_assert_cmpuint (pd_queue_model_get_last_page_steps (model), <, 400 * PD_QUEUE_PAGE_SIZE);
}

/* A prescription found twice (two matching lines) is one match; a line
 * follows its prescription's claim and status into the right segment. */
static void
test_search_follows (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(PdQueueModel) model = new_model (f);

  g_assert_true (pd_store_exec (f->store,
    "INSERT INTO prescription_line (prescription_id, position, resource_id, status, drug_name, drug_pinyin)"
    " SELECT id, 5, 'mr-extra', 'active', '阿莫西林克拉维酸钾片', 'AMXLKLWSJP' FROM prescription WHERE rx_number = 'RX-1001'", NULL));
  pd_queue_model_set_search (model, "阿莫西林");
  {
    g_autofree char *got = numbers (model);
    g_assert_cmpstr (got, ==, "RX-1001 RX-1008");
  }
  g_assert_true (pd_store_exec (f->store, "UPDATE prescription SET status = 'claimed', claimed_by = '" ME "'"
                                          " WHERE rx_number = 'RX-1008'", NULL));
  g_assert_true (pd_queue_model_refresh (model, 0, NULL));
  g_assert_cmpuint (pd_queue_model_get_segment_count (model, PD_QUEUE_SEGMENT_MINE), ==, 1);
  {
    g_autofree char *got = numbers (model);
    g_assert_cmpstr (got, ==, "RX-1008 RX-1001");
  }
  g_assert_true (pd_store_exec (f->store, "UPDATE prescription SET priority = 'stat' WHERE rx_number = 'RX-1001'", NULL));
  g_assert_true (pd_queue_model_refresh (model, 0, NULL));
  g_assert_cmpuint (pd_queue_model_get_segment_count (model, PD_QUEUE_SEGMENT_URGENT), ==, 1);
  pd_queue_model_set_status_filter (model, PD_QUEUE_STATUS_CLAIMED);
  {
    g_autofree char *got = numbers (model);
    g_assert_cmpstr (got, ==, "RX-1008");
  }
  /* Every line agrees with its prescription. */
  g_assert_cmpint (store_int (f->store,
    "SELECT count (*) FROM prescription_line AS l JOIN prescription AS p ON p.id = l.prescription_id"
    " WHERE l.rx_rank IS NOT p.queue_rank OR l.rx_time IS NOT p.queue_time OR l.rx_status IS NOT p.status"
    " OR l.rx_claimed_by IS NOT p.claimed_by OR l.rx_online IS NOT p.online OR l.rx_block IS NOT p.has_block"), ==, 0);
}

/* A broad search on 200,000 rows: the counts and every row of the first
 * pages against plain SQL, pages read from the indexes alone. Two drug
 * names match, so SQLite sorts their index entries after the key: a
 * page's steps grow with the matches (a few tens each), never with the
 * cache. */
static void
test_million_search (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(PdQueueModel) model = NULL;
  g_autoptr(GArray) want = NULL;
  g_autofree char *plan = NULL;
  guint n, rest;
  guint64 steps;

  generate (f, 200000);
  /* One in 40 with amoxicillin, some of them twice. */
  g_assert_true (pd_store_exec (f->store,
    "INSERT INTO prescription_line (prescription_id, position, resource_id, status, drug_name, drug_pinyin)"
    " SELECT id, 0, 'mr-' || id, 'active', '阿莫西林胶囊', 'AMXLJN' FROM prescription WHERE id % 40 = 0;"
    "INSERT INTO prescription_line (prescription_id, position, resource_id, status, drug_name, drug_pinyin)"
    " SELECT id, 1, 'mr2-' || id, 'active', '阿莫西林克拉维酸钾片', 'AMXLKLWSJP' FROM prescription WHERE id % 120 = 0;", NULL));
  model = new_model (f);
  pd_queue_model_set_search (model, "AMXL");
  want = queue_order (f, "id % 40 = 0");
  n = g_list_model_get_n_items (G_LIST_MODEL (model));
  g_assert_cmpuint (n, ==, want->len);
  g_assert_cmpuint (n, ==, 5000);
  rest = pd_queue_model_get_segment_start (model, PD_QUEUE_SEGMENT_REST);
  for (guint i = 0; i < 3 * PD_QUEUE_PAGE_SIZE; i++)
    g_assert_cmpint (pd_queue_item_get_id (item_at (model, i)), ==, g_array_index (want, gint64, i));
  for (guint i = rest; i < rest + 3 * PD_QUEUE_PAGE_SIZE; i++)
    g_assert_cmpint (pd_queue_item_get_id (item_at (model, i)), ==, g_array_index (want, gint64, i));
  steps = pd_queue_model_get_last_page_steps (model);
  g_test_message ("search page steps: %" G_GUINT64_FORMAT, steps);
  g_assert_cmpuint (steps, <, 60 * n);
  /* Jumps and the last row, backwards from the end. */
  g_assert_cmpint (pd_queue_item_get_id (item_at (model, n - 1)), ==, g_array_index (want, gint64, n - 1));
  g_assert_cmpint (pd_queue_item_get_id (item_at (model, n / 2)), ==, g_array_index (want, gint64, n / 2));

  plan = pd_queue_model_explain (model);
  g_test_message ("%s", plan);
  g_assert_nonnull (strstr (plan, "COVERING INDEX prescription_line_queue"));
  g_assert_null (strstr (plan, "SCAN x"));
  g_assert_null (strstr (plan, "SCAN prescription"));
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  g_test_init (&argc, &argv, NULL);

#define ADD(name, fn, rows) g_test_add (name, Fixture, rows, fixture_set_up, fn, fixture_tear_down)
  ADD ("/queue/order", test_order, "rows");
  ADD ("/queue/no-mine-segment", test_no_mine_segment, "rows");
  ADD ("/queue/filters", test_filters, "rows");
  ADD ("/queue/search", test_search, "rows");
  ADD ("/queue/search-needs-the-key", test_search_needs_the_key, "rows");
  ADD ("/queue/refresh", test_refresh, "rows");
  ADD ("/queue/refresh-consistent", test_refresh_consistent, "rows");
  ADD ("/queue/kb-mark", test_kb_mark, NULL);
  ADD ("/queue/paging", test_paging, NULL);
  ADD ("/queue/million", test_million, NULL);
  ADD ("/queue/search-follows", test_search_follows, "rows");
  ADD ("/queue/million-search", test_million_search, NULL);
  return g_test_run ();
}
