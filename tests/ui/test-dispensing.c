/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-dispensing"

#include "config.h"

#include <gdk/x11/gdkx.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-application.h"
#include "pd-dispense.h"
#include "pd-dispensing-page.h"
#include "pd-fill-pane.h"
#include "pd-label-print.h"
#include "pd-kb-store.h"
#include "pd-review-decision.h"
#include "pd-sign-in-page.h"
#include "pd-stock.h"
#include "pd-ui.h"
#include "pd-window.h"
#include "pd-test-ui.h"
#include "sandbox-harness.h"

/* The Dispensing area through the real window, against the real sandbox
 * hospital: the pharmacist (wang) signs in and syncs; a passing
 * prescription is approved through core; in the Dispensing area the
 * traceability codes the sandbox issues are typed into the scan entry as
 * X key events ending in Enter (xdotool, as a keyboard-wedge scanner
 * types), one 19-digit scan is refused beside its line; the checker
 * (zhao) confirms with their password after two refusals (the filler as
 * checker, a wrong password); the labels print to a PDF; the sandbox
 * then holds one MedicationDispense per line, completed after the
 * handover. PD_TEST_MODE is "en" or "zh_CN". */

#define PASSWORD "pharmacist-password"
#define CHECKER_PASSWORD "checker-password"

static Sandbox sb;
static char *state;
static char *rx_uuid;
static char *other_uuid;    /* a second approved prescription, for delivery where there is one */
static char *pdf_path;
static gboolean typed_as_keys;

/* --- helpers ------------------------------------------------------------------------------ */

static PdDispensingPage *
dispensing_page (void)
{
  return PD_DISPENSING_PAGE (adw_view_stack_get_child_by_name (pd_window_get_stack (window), "dispensing"));
}

static PdFillPane *
pane (void)
{
  return pd_dispensing_page_get_fill_pane (dispensing_page ());
}

static PdStore *
store (void)
{
  return pd_application_get_store (app);
}

static PdSession *
desk_session (void)
{
  return pd_window_get_session (window);
}

/* shoot () of pd-test-ui.h, trying again while the window draws
 * nothing: while a sync re-lays the window out, a widget paintable can
 * come back empty for a frame. */
static void
shoot_drawn (const char *name)
{
  const char *dir = g_getenv ("PD_SCREENSHOT_DIR");
  GtkWidget *widget = GTK_WIDGET (window);

  if (dir == NULL)
    return;
  spin (400);
  for (int i = 0; i < 50; i++)
    {
      int w = gtk_widget_get_width (widget);
      int h = gtk_widget_get_height (widget);
      g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
      g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
      g_autoptr(GskRenderNode) node = NULL;

      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
      if (node != NULL)
        {
          g_autoptr(GdkTexture) texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                                                       &GRAPHENE_RECT_INIT (0, 0, w, h));
          g_autofree char *file = g_strdup_printf ("%s-%s.png", name, mode);
          g_autofree char *path = g_build_filename (dir, file, NULL);

          g_assert_true (gdk_texture_save_to_png (texture, path));
          return;
        }
      spin (100);
    }
  g_error ("the window drew nothing for %s", name);
}

static gboolean
has_focus_within (GtkWidget *widget)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));

  return focus != NULL && (focus == widget || gtk_widget_is_ancestor (focus, widget));
}

static void
subprocess_done_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *done = TRUE;
}

/* Runs a command while the main loop turns (the window must see what it does). */
static int
run_spinning (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
  gboolean done = FALSE;

  g_assert_no_error (error);
  g_subprocess_wait_async (proc, NULL, subprocess_done_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  return g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
}

/* The window's X window has the keyboard (no window manager under Xvfb:
 * xdotool sets the input focus itself). */
static void
focus_x_window (void)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));
  g_autofree char *xid = NULL;

  g_assert_true (GDK_IS_X11_SURFACE (surface));
  xid = g_strdup_printf ("%lu", (gulong) gdk_x11_surface_get_xid (surface));
  g_assert_cmpint (run_spinning ((const char *[]) { "xdotool", "windowfocus", "--sync", xid, NULL }), ==, 0);
  spin (200);
}

/* A keyboard-wedge scanner: the digits, then Enter, as X key events
 * into whatever has the focus. Without xdotool (not a display run), the
 * text and the entry's activation instead — and the test says so. */
static void
scan (GtkEntry   *entry,
      const char *code)
{
  /* NULL: the focus is nowhere in particular. */
  if (entry != NULL && !has_focus_within (GTK_WIDGET (entry)))
    {
      GtkWidget *f = gtk_root_get_focus (GTK_ROOT (window));

      for (GtkWidget *w = f; w != NULL; w = gtk_widget_get_parent (w))
        g_test_message ("focus in %s", G_OBJECT_TYPE_NAME (w));
      g_error ("the scan entry does not have the focus");
    }
  if (typed_as_keys)
    {
      /* Two runs: `type` takes every word after it as text. */
      g_assert_cmpint (run_spinning ((const char *[]) { "xdotool", "type", "--delay", "4", code, NULL }), ==, 0);
      g_assert_cmpint (run_spinning ((const char *[]) { "xdotool", "key", "Return", NULL }), ==, 0);
    }
  else
    {
      gtk_editable_set_text (GTK_EDITABLE (entry), code);
      g_signal_emit_by_name (entry, "activate");
    }
  spin (150);
}

/* A line's valid traceability codes, issued by the sandbox. */
static GPtrArray *
issue_codes (const char *drug,
             int         count)
{
  g_autofree char *body = g_strdup_printf ("{\"drug\": \"%s\", \"count\": %d}", drug, count);
  g_autoptr(JsonObject) out = NULL;
  GPtrArray *codes = g_ptr_array_new_with_free_func (g_free);
  JsonArray *a;

  g_assert_cmpuint (sandbox_control (&sb, "trace-codes", body, &out), ==, 200);
  g_assert_nonnull (out);
  a = json_object_get_array_member (out, "codes");
  for (guint i = 0; i < json_array_get_length (a); i++)
    g_ptr_array_add (codes, g_strdup (json_array_get_string_element (a, i)));
  g_assert_cmpuint (codes->len, ==, (guint) count);
  return codes;
}

/* GET {fhir}/MedicationDispense?prescription=MedicationRequest/{line}: the
 * entries' statuses, one a line of the answer. */
static char *
server_dispenses (const char *line)
{
  g_autofree char *token = token_for (&sb, sb.config->hospital_client_secret);
  g_autofree char *auth = g_strdup_printf ("Bearer %s", token);
  g_autofree char *url = g_strdup_printf ("%s/MedicationDispense?prescription=MedicationRequest/%s", sb.config->hospital_url, line);
  const char *headers[] = { "Authorization", auth, NULL };
  g_autofree char *reply = NULL;
  g_autoptr(JsonObject) bundle = NULL;
  GString *out = g_string_new (NULL);
  JsonArray *entries;

  g_assert_nonnull (token);
  g_assert_cmpuint (request ("GET", url, NULL, NULL, headers, &reply), ==, 200);
  bundle = parse_object (reply);
  g_assert_nonnull (bundle);
  entries = json_object_has_member (bundle, "entry") ? json_object_get_array_member (bundle, "entry") : NULL;
  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    {
      JsonObject *r = json_object_get_object_member (json_array_get_object_element (entries, i), "resource");

      g_string_append_printf (out, "%s\n", json_object_get_string_member (r, "status"));
    }
  return g_string_free (out, FALSE);
}

static gboolean
wait_server_dispenses (const char *status,
                       guint       seconds)
{
  const PdFillSheet *sheet = pd_fill_pane_get_sheet (pane ());
  gint64 until = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < until)
    {
      gboolean all = TRUE;

      for (guint i = 0; i < sheet->lines->len && all; i++)
        {
          g_autofree char *got = server_dispenses (((PdFillLine *) sheet->lines->pdata[i])->line);
          g_autofree char *want = g_strdup_printf ("%s\n", status);

          /* Exactly one per line. */
          all = g_strcmp0 (got, want) == 0;
        }
      if (all)
        return TRUE;
      spin (300);
    }
  /* What there was, to say why. */
  for (guint i = 0; i < sheet->lines->len; i++)
    {
      g_autofree char *got = server_dispenses (((PdFillLine *) sheet->lines->pdata[i])->line);

      g_test_message ("line %s: the sandbox holds [%s]", ((PdFillLine *) sheet->lines->pdata[i])->line, got);
    }
  {
    sqlite3_stmt *stmt = pd_store_prepare (store (), "SELECT operation, state, coalesce (http_status, '') || ' ' || coalesce (error, '') FROM outbox ORDER BY id", NULL);

    while (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
      g_test_message ("outbox: %s %s %s", sqlite3_column_text (stmt, 0), sqlite3_column_text (stmt, 1), sqlite3_column_text (stmt, 2));
    if (stmt != NULL)
      sqlite3_reset (stmt);
  }
  return FALSE;
}

/* --- tests -------------------------------------------------------------------------------- */

static void
test_sign_in_and_sync (void)
{
  PdSignInPage *page = PD_SIGN_IN_PAGE (pd_window_get_sign_in_page (window));
  PdSyncService *sync;

  pd_sign_in_page_submit (page, "wang", PASSWORD);
  WAIT_FOR (g_str_equal (pd_window_get_page (window), "areas"));
  sync = pd_window_get_sync_service (window);
  g_assert_nonnull (sync);
  WAIT_FOR (pd_sync_service_get_runs (sync) >= 1);
  g_assert_null (pd_sync_service_get_error (sync));
  g_assert_cmpint (local_count ("SELECT count(*) FROM prescription", NULL), >, 10);

  /* Nothing approved yet: nothing to fill. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.area", "i", 1));
  pd_dispensing_page_refresh (dispensing_page ());
  g_assert_cmpstr (pd_dispensing_page_get_state (dispensing_page ()), ==, "empty");
  {
    g_autofree char *texts = texts_of (GTK_WIDGET (dispensing_page ()));

    assert_shows (texts, zh ? "没有待调配的处方" : "Nothing to fill");
  }
  shoot_drawn ("dispensing-empty");
}

/* A passing prescription for collection whose every line can be filled
 * from the shelf, a split pack among them if there is one; approved
 * through core, as the Review area would. */
static void
test_approve_one (void)
{
  g_autoptr(PdKb) kb = pd_kb_load_active (store (), NULL);
  sqlite3_stmt *stmt = pd_store_prepare (store (), "SELECT uuid FROM prescription WHERE status = 'requested'"
                                                   " AND verdict = 'pass' AND has_block = 0 ORDER BY id", NULL);
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *fallback = NULL;
  g_autofree char *split_one = NULL;
  g_autofree char *decision = NULL;
  g_autoptr(GHashTable) overrides = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (kb);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (candidates, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_reset (stmt);
  for (guint i = 0; i < candidates->len && rx_uuid == NULL; i++)
    {
      g_autoptr(PdFillSheet) sheet = pd_fill_sheet_load (desk_session (), kb, candidates->pdata[i], NULL);
      gboolean fillable = sheet != NULL && !sheet->delivery && sheet->lines->len > 0 && sheet->lines->len <= 3;
      gboolean split = FALSE;
      int boxes = 0;

      for (guint j = 0; fillable && j < sheet->lines->len; j++)
        {
          const PdFillLine *l = sheet->lines->pdata[j];

          fillable = l->drug != NULL && l->boxes > 0 && l->batches->len > 0;
          boxes += l->boxes;
          split |= l->split;
        }
      if (!fillable || boxes > 8)
        continue;
      /* Best shown: two lines or more, a split pack among them. */
      if (split && sheet->lines->len > 1)
        rx_uuid = g_strdup (candidates->pdata[i]);
      else if (split && split_one == NULL)
        split_one = g_strdup (candidates->pdata[i]);
      else if (fallback == NULL)
        fallback = g_strdup (candidates->pdata[i]);
    }
  if (rx_uuid == NULL)
    rx_uuid = g_steal_pointer (&split_one);
  if (rx_uuid == NULL)
    rx_uuid = g_steal_pointer (&fallback);
  g_assert_nonnull (rx_uuid);

  /* A second one waits in the list: for delivery, where one passes. */
  for (guint i = 0; i < candidates->len && other_uuid == NULL; i++)
    {
      g_autoptr(PdFillSheet) sheet = NULL;

      if (g_str_equal (candidates->pdata[i], rx_uuid))
        continue;
      sheet = pd_fill_sheet_load (desk_session (), kb, candidates->pdata[i], NULL);
      if (sheet != NULL && sheet->delivery)
        other_uuid = g_strdup (candidates->pdata[i]);
    }
  for (guint i = 0; i < candidates->len && other_uuid == NULL; i++)
    if (!g_str_equal (candidates->pdata[i], rx_uuid))
      other_uuid = g_strdup (candidates->pdata[i]);
  g_assert_nonnull (other_uuid);

  overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  decision = pd_review_decide (desk_session (), kb, rx_uuid, "approve", overrides, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (decision);
  g_free (decision);
  decision = pd_review_decide (desk_session (), kb, other_uuid, "approve", overrides, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (decision);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.sync-now", NULL);
  /* The hospital holds the decision before the fill reads its Task. */
  WAIT_FOR (local_count ("SELECT count(*) FROM outbox WHERE subject_uuid = ? AND state <> 'done'", rx_uuid) == 0);
}

static void
test_fill_pane (void)
{
  const PdFillSheet *sheet;
  g_autofree char *texts = NULL;

  pd_dispensing_page_refresh (dispensing_page ());
  g_assert_cmpstr (pd_dispensing_page_get_state (dispensing_page ()), ==, "list");
  g_assert_true (pd_dispensing_page_select (dispensing_page (), rx_uuid));
  sheet = pd_fill_pane_get_sheet (pane ());
  g_assert_nonnull (sheet);
  g_assert_cmpstr (sheet->rx_uuid, ==, rx_uuid);
  g_assert_cmpstr (sheet->state, ==, "approved");
  spin (300);
  texts = texts_of (GTK_WIDGET (dispensing_page ()));
  g_test_message ("%s", texts);
  assert_shows (texts, sheet->rx_number);
  assert_shows (texts, sheet->patient_name);
  for (guint i = 0; i < sheet->lines->len; i++)
    {
      const PdFillLine *l = sheet->lines->pdata[i];
      const PdStockBatch *b = l->batches->pdata[0];
      g_autofree char *lot = g_strdup_printf (zh ? "从批号 %s 取" : "Take from lot %s", b->lot);

      assert_shows (texts, l->drug_name);
      assert_shows (texts, lot);
      if (l->split)
        assert_shows (texts, zh ? "拆零" : "opened");
    }
  /* The lots that expire within the course are named, not suggested. */
  assert_shows (texts, zh ? "不可用于本疗程" : "not for this course");
  assert_shows (texts, zh ? "待调配" : "To fill");
  assert_shows (texts, zh ? "第二人核对" : "Check by a second person");
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (pd_fill_pane_get_button (pane (), "confirm"))));
  /* The scanner's entry has the focus: the first box may be scanned at once. */
  g_assert_true (has_focus_within (GTK_WIDGET (pd_fill_pane_get_scan_entry (pane (), 0))));
  shoot_drawn ("dispensing-fill");
}

/* A code one digit short is refused beside its line, the entry emptied
 * and red, the focus kept: nothing scanned goes unsaid. */
static void
test_bad_scan (void)
{
  GtkEntry *entry = pd_fill_pane_get_scan_entry (pane (), 0);
  g_autoptr(GPtrArray) codes = NULL;
  const char *refusal;

  typed_as_keys = g_find_program_in_path ("xdotool") != NULL && GDK_IS_X11_DISPLAY (gdk_display_get_default ());
  if (typed_as_keys)
    focus_x_window ();
  else
    g_test_message ("no xdotool or no X display: scans go in as text and activate, not as key events");
  scan (entry, "1234567890123456789");
  WAIT_FOR (pd_fill_pane_get_refusal (pane (), 0) != NULL);
  refusal = pd_fill_pane_get_refusal (pane (), 0);
  g_test_message ("%s", refusal);
  codes = pd_fill_pane_get_codes (pane (), 0);
  g_assert_cmpuint (codes->len, ==, 0);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (entry), "error"));
  g_assert_true (has_focus_within (GTK_WIDGET (entry)));
  {
    g_autofree char *texts = texts_of (GTK_WIDGET (pane ()));

    assert_shows (texts, refusal);
  }
  shoot_drawn ("dispensing-refused-scan");
}

static guint
n_codes (guint line)
{
  g_autoptr(GPtrArray) codes = pd_fill_pane_get_codes (pane (), line);

  return codes->len;
}

static void
test_scan_codes (void)
{
  /* Read again at each line: looking at another prescription and back
   * loads the sheet anew. */
  for (guint i = 0; i < pd_fill_pane_get_sheet (pane ())->lines->len; i++)
    {
      const PdFillSheet *sheet = pd_fill_pane_get_sheet (pane ());
      const PdFillLine *l = sheet->lines->pdata[i];
      g_autoptr(GPtrArray) issued = issue_codes (l->drug->code, l->boxes);
      GtkEntry *entry = pd_fill_pane_get_scan_entry (pane (), i);

      for (guint j = 0; j < issued->len; j++)
        {
          g_autoptr(GPtrArray) codes = NULL;

          /* The last line's first box is scanned with the focus taken
           * away (a click on the list, say): the scan still lands on the
           * first line short of codes, said nowhere else. */
          if (typed_as_keys && i == sheet->lines->len - 1 && j == 0)
            {
              gtk_root_set_focus (GTK_ROOT (window), NULL);
              spin (100);
              scan (NULL, issued->pdata[j]);
            }
          else
            scan (entry, issued->pdata[j]);
          WAIT_FOR (n_codes (i) == j + 1);
          codes = pd_fill_pane_get_codes (pane (), i);
          g_assert_cmpstr (codes->pdata[j], ==, issued->pdata[j]);
          /* Another prescription looked at meanwhile: the scans wait. */
          if (i == 0 && j == 0)
            {
              g_assert_true (pd_dispensing_page_select (dispensing_page (), other_uuid));
              g_assert_cmpuint (n_codes (0), ==, 0);
              g_assert_true (pd_dispensing_page_select (dispensing_page (), rx_uuid));
              g_assert_cmpuint (n_codes (0), ==, 1);
              entry = pd_fill_pane_get_scan_entry (pane (), i);
              sheet = pd_fill_pane_get_sheet (pane ());
              spin (100);
            }
          g_assert_null (pd_fill_pane_get_refusal (pane (), i));
          g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (entry), "error"));
        }
      /* The same code again is refused: it is this fill's already. */
      if (i == 0)
        {
          scan (pd_fill_pane_get_scan_entry (pane (), sheet->lines->len > 1 ? 1 : 0), issued->pdata[0]);
          WAIT_FOR (pd_fill_pane_get_refusal (pane (), sheet->lines->len > 1 ? 1 : 0) != NULL);
          g_test_message ("%s", pd_fill_pane_get_refusal (pane (), sheet->lines->len > 1 ? 1 : 0));
        }
    }
  g_assert_true (typed_as_keys || g_find_program_in_path ("xdotool") == NULL);
}

static void
test_checker (void)
{
  GtkButton *confirm = pd_fill_pane_get_button (pane (), "confirm");

  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (confirm)));
  /* The filler cannot check their own fill. */
  gtk_editable_set_text (pd_fill_pane_get_checker (pane ()), "wang");
  gtk_editable_set_text (pd_fill_pane_get_checker_password (pane ()), PASSWORD);
  click (confirm);
  WAIT_FOR (!pd_fill_pane_is_busy (pane ()));
  g_assert_nonnull (pd_fill_pane_get_error (pane ()));
  g_test_message ("%s", pd_fill_pane_get_error (pane ()));
  g_assert_cmpint (local_count ("SELECT count(*) FROM dispense f JOIN prescription p ON p.id = f.prescription_id WHERE p.uuid = ?",
                                rx_uuid), ==, 0);

  /* A wrong password is said in words, nothing recorded. */
  gtk_editable_set_text (pd_fill_pane_get_checker (pane ()), "zhao");
  gtk_editable_set_text (pd_fill_pane_get_checker_password (pane ()), "not-the-password");
  click (confirm);
  WAIT_FOR (!pd_fill_pane_is_busy (pane ()));
  g_assert_nonnull (pd_fill_pane_get_error (pane ()));
  g_test_message ("%s", pd_fill_pane_get_error (pane ()));
  g_assert_cmpstr (gtk_editable_get_text (pd_fill_pane_get_checker_password (pane ())), ==, "");
  g_assert_cmpint (local_count ("SELECT count(*) FROM dispense f JOIN prescription p ON p.id = f.prescription_id WHERE p.uuid = ?",
                                rx_uuid), ==, 0);
  shoot_drawn ("dispensing-checker-refused");

  gtk_editable_set_text (pd_fill_pane_get_checker_password (pane ()), CHECKER_PASSWORD);
  click (confirm);
  WAIT_FOR (!pd_fill_pane_is_busy (pane ()));
  if (pd_fill_pane_get_dispense (pane ()) == NULL)
    g_error ("the fill was refused: %s", pd_fill_pane_get_error (pane ()));
  g_assert_cmpstr (pd_fill_pane_get_sheet (pane ())->state, ==, "dispensed");
  g_assert_cmpstr (pd_fill_pane_get_sheet (pane ())->dispense_uuid, ==, pd_fill_pane_get_dispense (pane ()));
  {
    g_autofree char *texts = texts_of (GTK_WIDGET (pane ()));

    g_test_message ("%s", texts);
    assert_shows (texts, zh ? "赵核对" : "赵核对");
    assert_shows (texts, zh ? "打印标签" : "Print Labels");
  }
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (pd_fill_pane_get_button (pane (), "handover"))));
  shoot_drawn ("dispensing-filled");
}

static char *
without_space (const char *text)
{
  GString *s = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isspace (*p))
      g_string_append_c (s, *p);
  return g_string_free (s, FALSE);
}

static void
assert_in_pdf (const char *pdf_text,
               const char *text)
{
  g_autofree char *hay = without_space (pdf_text);
  g_autofree char *needle = without_space (text);

  if (strstr (hay, needle) == NULL)
    g_error ("“%s” not on the label:\n%s", text, pdf_text);
}

static gboolean dialog_seen;

/* The print dialog, once it shows, is cancelled as a person would. */
static gboolean
cancel_print_dialog_cb (gpointer user_data)
{
  GListModel *toplevels = gtk_window_get_toplevels ();  /* transfer none */
  GType type = g_type_from_name ("GtkPrintUnixDialog");

  for (guint i = 0; type != 0 && i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) w = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (w, type) && gtk_widget_get_mapped (GTK_WIDGET (w)))
        {
          shoot (GTK_WIDGET (w), "dispensing-print-dialog");
          G_GNUC_BEGIN_IGNORE_DEPRECATIONS
          gtk_dialog_response (GTK_DIALOG (w), GTK_RESPONSE_CANCEL);
          G_GNUC_END_IGNORE_DEPRECATIONS
          dialog_seen = TRUE;
          return G_SOURCE_REMOVE;
        }
    }
  return G_SOURCE_CONTINUE;
}

/* Without a file to print to, Print Labels opens the print dialog;
 * cancelled, nothing is printed and nothing audited. */
static void
test_print_dialog (void)
{
  const PdFillSheet *sheet = pd_fill_pane_get_sheet (pane ());
  guint timer = g_timeout_add (200, cancel_print_dialog_cb, NULL);

  pd_fill_pane_set_print_to_file (pane (), NULL);
  click (pd_fill_pane_get_button (pane (), "print"));
  /* The dialog ran its own loop until cancelled. */
  if (!dialog_seen)
    g_source_remove (timer);
  g_assert_true (dialog_seen);
  spin (200);
  g_assert_cmpuint (pd_fill_pane_get_n_printed (pane ()), ==, 0);
  g_assert_null (pd_fill_pane_get_error (pane ()));
  g_assert_cmpint (local_count ("SELECT count(*) FROM audit_event WHERE action = 'dispense.labels' AND object_uuid = ?",
                                sheet->dispense_uuid), ==, 0);
}

static void
test_labels (void)
{
  const PdFillSheet *sheet = pd_fill_pane_get_sheet (pane ());
  g_autofree char *head = NULL;
  gsize len = 0;

  pd_fill_pane_set_print_to_file (pane (), pdf_path);
  click (pd_fill_pane_get_button (pane (), "print"));
  WAIT_FOR (pd_fill_pane_get_n_printed (pane ()) == sheet->lines->len || pd_fill_pane_get_n_printed (pane ()) > 0);
  g_assert_null (pd_fill_pane_get_error (pane ()));
  g_assert_true (g_file_get_contents (pdf_path, &head, &len, NULL));
  g_assert_cmpuint (len, >, 1000);
  g_assert_true (g_str_has_prefix (head, "%PDF-"));
  g_assert_cmpint (local_count ("SELECT count(*) FROM audit_event WHERE action = 'dispense.labels' AND object_uuid = ?",
                                sheet->dispense_uuid), ==, 1);
  if (g_find_program_in_path ("pdftotext") != NULL)
    {
      g_autofree char *out = NULL;
      g_autoptr(GError) error = NULL;
      const char *argv[] = { "pdftotext", "-enc", "UTF-8", pdf_path, "-", NULL };

      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, NULL, &error));
      g_test_message ("%s", out);
      /* pdftotext spaces out small type and breaks lines where the label
       * wraps: compared without white space. */
      assert_in_pdf (out, sheet->rx_number);
      assert_in_pdf (out, sheet->patient_name);
      for (guint i = 0; i < sheet->lines->len; i++)
        {
          const PdFillLine *l = sheet->lines->pdata[i];

          assert_in_pdf (out, l->drug->name);
          if (l->dose_words != NULL)
            assert_in_pdf (out, l->dose_words);
          if (l->drug->label_warning != NULL)
            assert_in_pdf (out, l->drug->label_warning);
        }
    }
  else
    g_test_message ("no pdftotext: the PDF's text is not read back");
  /* One label a page (the label printer's roll): as many pages as labels. */
  if (g_find_program_in_path ("pdfinfo") != NULL)
    {
      g_autofree char *info = NULL;
      g_autofree char *want = g_strdup_printf ("Pages: +%u\\n", pd_fill_pane_get_n_printed (pane ()));
      const char *argv[] = { "pdfinfo", pdf_path, NULL };

      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &info, NULL, NULL, NULL));
      g_test_message ("%s", info);
      g_assert_true (g_regex_match_simple (want, info, 0, 0));
      g_assert_true (g_regex_match_simple ("Page size: +226\\.77\\d* x 141\\.7", info, 0, 0));
    }

  /* On an A4 sheet chosen in the print dialog: ten labels a page, in a
   * grid centred clear of the printer's edge. */
  {
    g_autoptr(GtkPageSetup) a4 = gtk_page_setup_new ();
    g_autoptr(GtkPaperSize) paper = gtk_paper_size_new (GTK_PAPER_NAME_A4);
    g_autoptr(PdKb) kb = pd_kb_load_active (store (), NULL);
    g_autoptr(GPtrArray) labels = pd_dispense_labels (desk_session (), kb, sheet->dispense_uuid, "示例大药房", NULL);
    g_autoptr(GPtrArray) eleven = g_ptr_array_new ();
    g_autoptr(GError) error = NULL;
    g_autofree char *sheet_pdf = g_build_filename (state_root, "desk", "labels-a4.pdf", NULL);

    g_assert_nonnull (labels);
    /* Eleven labels (this fill's, again and again): two pages. */
    for (guint i = 0; i < 11; i++)
      g_ptr_array_add (eleven, labels->pdata[i % labels->len]);
    gtk_page_setup_set_paper_size (a4, paper);
    g_assert_cmpint (pd_label_print (eleven, GTK_WINDOW (window), a4, sheet_pdf, &error), ==, GTK_PRINT_OPERATION_RESULT_APPLY);
    g_assert_no_error (error);
    if (g_find_program_in_path ("pdfinfo") != NULL)
      {
        g_autofree char *info = NULL;
        const char *argv[] = { "pdfinfo", sheet_pdf, NULL };

        g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &info, NULL, NULL, NULL));
        g_assert_true (g_regex_match_simple ("Pages: +2\\n", info, 0, 0));
        g_assert_true (g_regex_match_simple ("Page size: +595\\.2\\d* x 841\\.8", info, 0, 0));
      }
    if (g_getenv ("PD_SCREENSHOT_DIR") != NULL && g_find_program_in_path ("pdftoppm") != NULL)
      {
        g_autofree char *base = g_strdup_printf ("%s/label-sheet-%s", g_getenv ("PD_SCREENSHOT_DIR"), mode);
        const char *argv[] = { "pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", sheet_pdf, base, NULL };

        g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL));
      }
  }

  /* The label as a person sees it (docs/screenshots). */
  if (g_getenv ("PD_SCREENSHOT_DIR") != NULL && g_find_program_in_path ("pdftoppm") != NULL)
    {
      g_autofree char *base = g_strdup_printf ("%s/label-%s", g_getenv ("PD_SCREENSHOT_DIR"), mode);
      const char *argv[] = { "pdftoppm", "-png", "-r", "300", "-f", "1", "-l", "1", "-singlefile", pdf_path, base, NULL };
      int status = 1;

      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, NULL));
      g_assert_cmpint (status, ==, 0);
    }
}

static void
test_hospital_holds_dispenses (void)
{
  gtk_widget_activate_action (GTK_WIDGET (window), "win.sync-now", NULL);
  /* One MedicationDispense per line, in progress until the handover. */
  g_assert_true (wait_server_dispenses ("in-progress", 30));
}

static void
test_handover (void)
{
  click (pd_fill_pane_get_button (pane (), "handover"));
  WAIT_FOR (!pd_fill_pane_is_busy (pane ()));
  g_assert_null (pd_fill_pane_get_error (pane ()));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (pd_fill_pane_get_button (pane (), "handover"))));
  {
    g_autofree char *texts = texts_of (GTK_WIDGET (pane ()));

    assert_shows (texts, zh ? "已交付" : "Handed over");
  }
  shoot_drawn ("dispensing-handed-over");
  g_assert_true (wait_server_dispenses ("completed", 60));
  /* Handed over, it leaves the list. */
  pd_dispensing_page_refresh (dispensing_page ());
  g_assert_false (pd_dispensing_page_select (dispensing_page (), rx_uuid));
}

/* --- set-up ------------------------------------------------------------------------------- */

/* A lot of each drug that lasts two years, and one that expires in two
 * days (every course outlasts it): the pane names it and does not
 * suggest it. */
static char *
receipt (void)
{
  g_autofree char *drugs_path = g_build_filename (g_getenv ("PHARMDESK_DATADIR"), "kb", "drugs.csv", NULL);
  g_autofree char *drugs = NULL;
  g_auto(GStrv) rows = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) made = g_date_time_add_years (now, -1);
  g_autoptr(GDateTime) soon = g_date_time_add_days (now, 2);
  g_autoptr(GDateTime) later = g_date_time_add_years (now, 2);
  g_autofree char *made_on = g_date_time_format (made, "%Y-%m-%d");
  g_autofree char *soon_on = g_date_time_format (soon, "%Y-%m-%d");
  g_autofree char *later_on = g_date_time_format (later, "%Y-%m-%d");
  GString *csv = g_string_new ("code,lot,manufactured,expires,boxes\n");

  g_assert_true (g_file_get_contents (drugs_path, &drugs, NULL, NULL));
  rows = g_strsplit (drugs, "\n", -1);
  for (guint i = 1; rows[i] != NULL; i++)
    {
      g_autofree char *code = g_strndup (rows[i], strcspn (rows[i], ","));

      if (*code == '\0')
        continue;
      g_string_append_printf (csv, "%s,N%s,%s,%s,3\n", code, code + 2, made_on, soon_on);
      g_string_append_printf (csv, "%s,L%s,%s,%s,40\n", code, code + 2, made_on, later_on);
    }
  return g_string_free (csv, FALSE);
}

static void
prepare_database (const char *path)
{
  PdAccountSpec admin = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec pharmacist = { "wang", "王药师", PD_ROLE_PHARMACIST, "YS-110105-0001", "Practitioner/ph-1", NULL };
  PdAccountSpec checker = { "zhao", "赵核对", PD_ROLE_CHECKER, NULL, NULL, NULL };
  g_autofree char *kb_dir = g_build_filename (g_getenv ("PHARMDESK_DATADIR"), "kb", NULL);
  g_autofree char *csv = receipt ();
  g_autoptr(GError) error = NULL;
  g_autofree char *recovery = NULL;
  g_autoptr(PdStore) db = pd_store_open (path, &error);
  g_autoptr(PdSession) boss = NULL;
  g_autoptr(PdSession) wang = NULL;
  g_autoptr(PdKb) kb = NULL;
  guint batches = 0, boxes = 0;

  g_assert_no_error (error);
  g_assert_true (pd_accounts_init (db, &admin, "admin-password", &recovery, &error));
  boss = pd_session_sign_in (db, "admin", "admin-password", &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_add (boss, &pharmacist, PASSWORD, &error));
  g_assert_true (pd_accounts_add (boss, &checker, CHECKER_PASSWORD, &error));
  g_assert_true (pd_kb_import (boss, kb_dir, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&boss);

  wang = pd_session_sign_in (db, "wang", PASSWORD, &error);
  g_assert_no_error (error);
  kb = pd_kb_load_active (db, &error);
  g_assert_no_error (error);
  g_assert_true (pd_stock_receive (wang, kb, "receipt.csv", csv, strlen (csv), &batches, &boxes, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (batches, >, 100);
  g_clear_object (&wang);
  pd_store_close (db);
}

/* No notification daemon under Xvfb. */
static void
without_notifications (void)
{
  g_settings_set_boolean (pd_application_get_settings (app), "notifications", FALSE);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *dir = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *db_arg = NULL;
  g_autofree char *config_arg = NULL;
  char *app_argv[4];
  int status = 1;

  pd_test_ui_init (&argc, &argv);

  harness_init ();
  state = new_state ("hospital");
  sandbox_start (&sb, state, "--control", "--arrival-every", "0", NULL);
  sandbox_kill_on_exit (&sb);
  dir = g_build_filename (state_root, "desk", NULL);
  g_mkdir_with_parents (dir, 0700);
  db_path = g_build_filename (dir, "pharmdesk.db", NULL);
  pdf_path = g_build_filename (dir, "labels.pdf", NULL);
  prepare_database (db_path);

  g_test_add_func ("/dispensing/sign-in-and-sync", test_sign_in_and_sync);
  g_test_add_func ("/dispensing/approve-one", test_approve_one);
  g_test_add_func ("/dispensing/fill-pane", test_fill_pane);
  g_test_add_func ("/dispensing/bad-scan", test_bad_scan);
  g_test_add_func ("/dispensing/scan-codes", test_scan_codes);
  g_test_add_func ("/dispensing/checker", test_checker);
  g_test_add_func ("/dispensing/print-dialog", test_print_dialog);
  g_test_add_func ("/dispensing/labels", test_labels);
  g_test_add_func ("/dispensing/hospital-holds-dispenses", test_hospital_holds_dispenses);
  g_test_add_func ("/dispensing/handover", test_handover);

  db_arg = g_strdup_printf ("--db=%s", db_path);
  config_arg = g_strdup_printf ("--config=%s/client.ini", state);
  app_argv[0] = argv[0];
  app_argv[1] = db_arg;
  app_argv[2] = config_arg;
  app_argv[3] = NULL;
  status = pd_test_ui_run (app_argv, 1280, 800, without_notifications);

  sandbox_stop (&sb, SIGTERM);
  harness_done ();
  g_free (state);
  g_free (rx_uuid);
  g_free (other_uuid);
  g_free (pdf_path);
  return status;
}
