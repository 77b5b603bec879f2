/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-review-queue"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-application.h"
#include "pd-review-page.h"
#include "pd-sign-in-page.h"
#include "pd-ui.h"
#include "pd-window.h"
#include "pd-test-ui.h"
#include "queue-rows.h"

/* The Review area's queue through the real window, as a pharmacist sees
 * it: a database with cached prescriptions and the demonstration
 * knowledge base, signed in, searched and filtered. PD_TEST_MODE is "en"
 * or "zh_CN"; PD_SCREENSHOT_DIR collects what the screen showed. */


#define ME "Practitioner/ph-1"

static const QueueRow rows[] = {
  { "RX-20261120-0001", "routine", "requested", "pass", FALSE, TRUE, "2026-11-20T08:00:00+08:00", NULL, "张三", "110101199001011234",
    { { "阿莫西林胶囊", "AMXLJN" }, { "布洛芬缓释胶囊", "BLFHSJN" } } },
  { "RX-20261120-0002", "stat", "requested", "review", FALSE, TRUE, "2026-11-20T09:30:00+08:00", NULL, "李四", "11010119850202002X",
    { { "硝酸甘油片", "XSGYP" } } },
  { "RX-20261120-0003", "urgent", "requested", "reject", TRUE, TRUE, "2026-11-20T08:30:00+08:00", NULL, "王五", "110101197003035678",
    { { "华法林钠片", "HFLNP" }, { "阿司匹林肠溶片", "ASPLCRP" }, { "奥美拉唑肠溶胶囊", "AMLZCRJN" } } },
  { "RX-20261120-0004", "asap", "claimed", "review", FALSE, TRUE, "2026-11-20T08:10:00+08:00", "Practitioner/ph-2", "赵六", "110101196004040011",
    { { "头孢克肟胶囊", "TBKWJN" } } },
  { "RX-20261120-0005", "routine", "claimed", "pass", FALSE, TRUE, "2026-11-20T09:00:00+08:00", ME, "张伟", "110101199505050022",
    { { "二甲双胍片", "EJSGP" } } },
  { "RX-20261120-0006", "routine", "claimed", "review", FALSE, FALSE, "2026-11-20T07:00:00+08:00", ME, "欧阳娜娜", "110101200006060033",
    { { "氯雷他定片", "LLTDP" } } },
  { "RX-20261120-0007", "routine", "approved", "pass", FALSE, TRUE, "2026-11-20T07:30:00+08:00", NULL, "孙七", "110101198007070044",
    { { "苯磺酸氨氯地平片 5mg", "BHSALDPP" } } },
  { "RX-20261120-0008", "routine", "conflict", "review", FALSE, TRUE, "2026-11-20T06:00:00+08:00", NULL, "John Smith", "E12345678",
    { { "奥美拉唑肠溶胶囊", "AMLZCRJN" } } },
  { "RX-20261120-0009", "routine", "requested", "pass", FALSE, TRUE, "2026-11-20T10:00:00+08:00", NULL, "张三丰", "110101195009091234",
    { { "布洛芬缓释胶囊", "BLFHSJN" } } },
  { "RX-20261120-0010", "routine", "dispensed", "pass", FALSE, TRUE, "2026-11-20T05:00:00+08:00", NULL, "吴九", "110101196510100066",
    { { "阿托伐他汀钙片", "ATFTTGP" } } },
};

static PdReviewPage *
review_page (void)
{
  return PD_REVIEW_PAGE (adw_view_stack_get_child_by_name (pd_window_get_stack (window), "review"));
}

static guint
n_items (void)
{
  return g_list_model_get_n_items (G_LIST_MODEL (pd_review_page_get_model (review_page ())));
}

/* The texts of the labels a person sees in a widget, in widget order. */
static void
collect_labels (GtkWidget *widget,
                GPtrArray *out)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_LABEL (widget) && *gtk_label_get_label (GTK_LABEL (widget)) != '\0')
    g_ptr_array_add (out, (gpointer) gtk_label_get_label (GTK_LABEL (widget)));
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    collect_labels (c, out);
}

static gboolean
shows (const char *text)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();

  collect_labels (GTK_WIDGET (pd_review_page_get_list_view (review_page ())), labels);
  for (guint i = 0; i < labels->len; i++)
    if (g_str_equal (labels->pdata[i], text))
      return TRUE;
  return FALSE;
}

/* The row's labels, in order, for the row showing a prescription number. */
static char *
row_text (const char *number)
{
  GtkWidget *list = GTK_WIDGET (pd_review_page_get_list_view (review_page ()));

  for (GtkWidget *c = gtk_widget_get_first_child (list); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      g_autoptr(GPtrArray) labels = g_ptr_array_new ();

      collect_labels (c, labels);
      for (guint i = 0; i < labels->len; i++)
        if (g_str_equal (labels->pdata[i], number))
          {
            g_ptr_array_add (labels, NULL);
            return g_strjoinv (" | ", (char **) labels->pdata);
          }
    }
  return NULL;
}

static void
search (const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (pd_review_page_get_search_entry (review_page ())), text);
  /* The entry waits a moment after typing before it searches. */
  WAIT_FOR (g_strcmp0 (pd_queue_model_get_search (pd_review_page_get_model (review_page ())),
                       *text != '\0' ? text : NULL) == 0);
  spin (100);
}

/* A training database says so in the window's title and its header. */
static void
test_training_title (void)
{
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==,
                   zh ? "药事台 PharmDesk — 培训时钟" : "PharmDesk — training clock");
}

static void
test_sign_in (void)
{
  PdSignInPage *page = PD_SIGN_IN_PAGE (pd_window_get_sign_in_page (window));

  g_assert_cmpstr (pd_review_page_get_state (review_page ()), ==, "signed-out");
  pd_sign_in_page_submit (page, "wang", "password-1234");
  WAIT_FOR (g_str_equal (pd_window_get_page (window), "areas"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.area", "i", 0));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (pd_window_get_stack (window)), ==, "review");
}

static void
test_queue_in_order (void)
{
  PdReviewPage *page = review_page ();
  g_autofree char *first = NULL;
  g_autofree char *mine = NULL;
  g_autofree char *blocked = NULL;

  WAIT_FOR (g_strcmp0 (pd_review_page_get_state (page), "list") == 0);
  g_assert_cmpuint (n_items (), ==, G_N_ELEMENTS (rows));
  spin (300);
  /* Stat first, then urgent and asap, then mine, then the rest. */
  g_assert_cmpstr (pd_queue_item_get_number (g_list_model_get_item (G_LIST_MODEL (pd_review_page_get_model (page)), 0)),
                   ==, "RX-20261120-0002");
  g_object_unref (g_list_model_get_item (G_LIST_MODEL (pd_review_page_get_model (page)), 0));

  first = row_text ("RX-20261120-0002");
  g_assert_nonnull (first);
  g_test_message ("%s", first);
  mine = row_text ("RX-20261120-0006");
  g_test_message ("%s", mine);
  blocked = row_text ("RX-20261120-0003");
  g_test_message ("%s", blocked);
  if (zh)
    {
      g_assert_cmpstr (pd_review_page_get_count_text (page), ==, "10 张处方");
      g_assert_cmpstr (first, ==, "立即 | 李四 | RX-20261120-0002 | 11-20 09:30 | 硝酸甘油片 | 待审核 | 引擎：需人工审核");
      g_assert_cmpstr (mine, ==, "常规 | 欧阳娜娜 | RX-20261120-0006 | 11-20 07:00 | 氯雷他定片 | 已认领 | 引擎：需人工审核 | 由您认领");
      g_assert_nonnull (strstr (blocked, "紧急 | 王五"));
      g_assert_nonnull (strstr (blocked, "引擎：拒绝 | 有禁止性问题"));
    }
  else
    {
      g_assert_cmpstr (pd_review_page_get_count_text (page), ==, "10 prescriptions");
      g_assert_cmpstr (first, ==, "Stat | 李四 | RX-20261120-0002 | 11-20 09:30 | 硝酸甘油片 | Waiting | Engine: needs review");
      g_assert_cmpstr (mine, ==, "Routine | 欧阳娜娜 | RX-20261120-0006 | 11-20 07:00 | 氯雷他定片 | Claimed | Engine: needs review | Claimed by you");
      g_assert_nonnull (strstr (blocked, "Urgent | 王五"));
      g_assert_nonnull (strstr (blocked, "Engine: reject | Blocking finding"));
    }
  {
    g_autofree char *other = row_text ("RX-20261120-0004");
    /* The claimer by name, never the hospital's id (issue 12, item 9). */
    g_test_message ("%s", other);
    g_assert_nonnull (strstr (other, zh ? "由 李药师 认领" : "Claimed by 李药师"));
    g_assert_null (strstr (other, "ph-2"));
    g_assert_nonnull (strstr (other, zh ? "尽快" : "ASAP"));
  }
  shoot (GTK_WIDGET (window), "review-queue");
}

static void
test_demonstration_mark (void)
{
  const char *warning = pd_review_page_get_kb_warning (review_page ());

  g_assert_nonnull (warning);
  g_assert_nonnull (strstr (warning, "2026.11-demo"));
  g_assert_nonnull (strstr (warning, zh ? "演示" : "demonstration"));
}

static void
test_search_narrows (void)
{
  PdReviewPage *page = review_page ();

  search ("张");
  g_assert_cmpuint (n_items (), ==, 3);
  spin (200);
  g_assert_true (shows ("张三"));
  g_assert_true (shows ("张三丰"));
  g_assert_false (shows ("李四"));
  g_assert_cmpstr (pd_review_page_get_count_text (page), ==, zh ? "3 / 10 张处方" : "3 of 10 prescriptions");
  shoot (GTK_WIDGET (window), "review-search");

  search ("amxl");
  g_assert_cmpuint (n_items (), ==, 1);
  search ("1234");
  g_assert_cmpuint (n_items (), ==, 2);
  search ("RX-20261120-0008");
  g_assert_cmpuint (n_items (), ==, 1);
  spin (200);
  g_assert_true (shows ("John Smith"));

  search ("无此人");
  g_assert_cmpuint (n_items (), ==, 0);
  g_assert_cmpstr (pd_review_page_get_state (page), ==, "no-match");
  shoot (GTK_WIDGET (window), "review-no-match");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "review.clear", NULL));
  g_assert_cmpuint (n_items (), ==, G_N_ELEMENTS (rows));
  g_assert_cmpstr (pd_review_page_get_state (page), ==, "list");
}

static void
test_filter (void)
{
  GtkDropDown *status = pd_review_page_get_status_drop (review_page ());

  gtk_drop_down_set_selected (status, 2);     /* claimed */
  g_assert_cmpuint (n_items (), ==, 3);
  gtk_drop_down_set_selected (status, 0);
  g_assert_cmpuint (n_items (), ==, G_N_ELEMENTS (rows));
}

/* The sync writes; the queue follows without losing its selection. */
static void
test_refresh_after_sync (void)
{
  PdSession *session = pd_window_get_session (window);
  QueueRow row = { "RX-20261120-0011", "stat", "requested", "review", FALSE, TRUE, "2026-11-20T10:30:00+08:00", NULL,
                   "钱十一", "110101199001019999", { { "维生素C片", "WSSCP" } } };

  queue_row_insert (session, &row);
  pd_review_page_refresh (review_page ());
  g_assert_cmpuint (n_items (), ==, G_N_ELEMENTS (rows) + 1);
  spin (200);
  g_assert_true (shows ("RX-20261120-0011"));
}

static void
prepare_database (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = pd_store_open (path, &error);
  g_autoptr(PdSession) admin = NULL;
  g_autoptr(PdSession) wang = NULL;
  g_autofree char *recovery = NULL;
  PdAccountSpec boss = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec pharmacist = { "wang", "王药师", PD_ROLE_PHARMACIST, "YS-110105-0001", ME, NULL };
  PdAccountSpec colleague = { "li", "李药师", PD_ROLE_PHARMACIST, "YS-110105-0002", "Practitioner/ph-2", NULL };

  g_assert_no_error (error);
  g_assert_true (pd_accounts_init (store, &boss, "admin-password", &recovery, &error));
  admin = pd_session_sign_in (store, "admin", "admin-password", &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_add (admin, &pharmacist, "password-1234", &error));
  g_assert_true (pd_accounts_add (admin, &colleague, "password-5678", &error));
  /* Made as `init --settable-clock` makes a training database. */
  g_assert_true (pd_store_set_meta (store, "settable_clock", "1", &error));
  wang = pd_session_sign_in (store, "wang", "password-1234", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    queue_row_insert (wang, &rows[i]);
  g_assert_true (pd_store_exec (store, "INSERT INTO kb_version (version, status, imported_at, active)"
                                       " VALUES ('2026.11-demo', 'demonstration', '2026-11-20T08:00:00+08:00', 1)", NULL));
  g_clear_object (&wang);
  g_clear_object (&admin);
  pd_store_close (store);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *dir = g_dir_make_tmp ("pd-ui-queue-XXXXXX", NULL);
  g_autofree char *db_path = g_build_filename (dir, "pharmdesk.db", NULL);
  g_autofree char *db_arg = g_strdup_printf ("--db=%s", db_path);
  char *app_argv[3];

  pd_test_ui_init (&argc, &argv);
  prepare_database (db_path);

  g_test_add_func ("/review/training-title", test_training_title);
  g_test_add_func ("/review/sign-in", test_sign_in);
  g_test_add_func ("/review/queue-in-order", test_queue_in_order);
  g_test_add_func ("/review/demonstration-mark", test_demonstration_mark);
  g_test_add_func ("/review/search-narrows", test_search_narrows);
  g_test_add_func ("/review/filter", test_filter);
  g_test_add_func ("/review/refresh-after-sync", test_refresh_after_sync);

  app_argv[0] = argv[0];
  app_argv[1] = db_arg;
  app_argv[2] = NULL;
  return pd_test_ui_run (app_argv, 1100, 720, NULL);
}
