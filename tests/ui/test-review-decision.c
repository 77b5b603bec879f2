/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-review-decision"

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-application.h"
#include "pd-decision-dialog.h"
#include "pd-kb-store.h"
#include "pd-queue-row.h"
#include "pd-review-page.h"
#include "pd-review-texts.h"
#include "pd-sign-in-page.h"
#include "pd-ui.h"
#include "pd-window.h"
#include "pd-test-ui.h"
#include "sandbox-harness.h"

/* The Review area's prescription and decision through the real window,
 * against the real sandbox hospital: sign in as the pharmacist, let the
 * app sync, open a prescription with a major finding, claim it, override
 * the finding with a reason, approve with the password; the sandbox then
 * holds the completed Task, the signed Provenance and the DetectedIssues,
 * and the stored decision verifies until one byte of its record changes.
 * PD_TEST_MODE is "en" or "zh_CN". */

#define PASSWORD "pharmacist-password"

static Sandbox sb;
static char *state;
static char *rx_uuid;
static char *task_id;
static guint urgent_seen;

static void
urgent_cb (PdSyncService *sync,
           const char    *uuid,
           const char    *number,
           const char    *priority)
{
  g_assert_true (g_str_equal (priority, "stat") || g_str_equal (priority, "urgent") || g_str_equal (priority, "asap"));
  urgent_seen++;
}

/* --- helpers ------------------------------------------------------------------------------ */

static PdReviewPage *
review_page (void)
{
  return PD_REVIEW_PAGE (adw_view_stack_get_child_by_name (pd_window_get_stack (window), "review"));
}

static PdRxPane *
pane (void)
{
  return pd_review_page_get_rx_pane (review_page ());
}

static PdStore *
store (void)
{
  return pd_application_get_store (app);
}

/* The texts of the queue's row that shows TEXT (a prescription number). */
static char *
queue_row_texts (GtkWidget  *widget,
                 const char *text)
{
  if (PD_IS_QUEUE_ROW (widget))
    {
      g_autofree char *texts = texts_of (widget);

      return strstr (texts, text) != NULL ? g_steal_pointer (&texts) : NULL;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      char *found = queue_row_texts (c, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* A visible label of the content cut short with "…" (the header's title
 * may be: the window's title says it whole). */
static GtkLabel *
find_ellipsized (GtkWidget *widget)
{
  if (!gtk_widget_get_mapped (widget) || ADW_IS_HEADER_BAR (widget))
    return NULL;
  if (GTK_IS_LABEL (widget) && *gtk_label_get_label (GTK_LABEL (widget)) != '\0'
      && pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (widget))))
    return GTK_LABEL (widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkLabel *found = find_ellipsized (c);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static char *
local_text (const char *sql,
            const char *arg)
{
  sqlite3_stmt *stmt = pd_store_prepare (store (), sql, NULL);
  char *text = NULL;

  g_assert_nonnull (stmt);
  if (arg != NULL)
    sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return text;
}

static char *
server_task_status (void)
{
  g_autofree char *sql = g_strdup_printf ("SELECT json_extract (body, '$.status') FROM fhir_resource"
                                          " WHERE resource_type = 'Task' AND id = '%s'", task_id);

  return query_text (state, sql);
}

/* Waits (running the main loop) for the sandbox's Task to reach a status. */
static gboolean
wait_server_status (const char *status,
                    guint       seconds)
{
  gint64 until = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < until)
    {
      g_autofree char *now = server_task_status ();

      if (g_strcmp0 (now, status) == 0)
        return TRUE;
      spin (200);
    }
  return FALSE;
}

/* --- tests -------------------------------------------------------------------------------- */

static void
test_sign_in_and_sync (void)
{
  PdSignInPage *page = PD_SIGN_IN_PAGE (pd_window_get_sign_in_page (window));
  PdSyncService *sync;

  pd_sign_in_page_submit (page, "ph", PASSWORD);
  WAIT_FOR (g_str_equal (pd_window_get_page (window), "areas"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.area", "i", 0));
  sync = pd_window_get_sync_service (window);
  g_assert_nonnull (sync);
  g_signal_connect (sync, "urgent-arrived", G_CALLBACK (urgent_cb), NULL);
  WAIT_FOR (pd_sync_service_get_runs (sync) >= 1);
  /* Each urgent or stat prescription the sync brought in was announced. */
  g_assert_cmpint (urgent_seen, ==, local_count ("SELECT count(*) FROM prescription WHERE status = 'requested'"
                                                 " AND priority IN ('stat', 'urgent', 'asap')", NULL));
  g_assert_cmpuint (urgent_seen, >, 0);
  g_assert_null (pd_sync_service_get_error (sync));
  pd_review_page_refresh (review_page ());
  WAIT_FOR (g_strcmp0 (pd_review_page_get_state (review_page ()), "list") == 0);
  g_assert_cmpint (local_count ("SELECT count(*) FROM prescription", NULL), >,10);
  g_assert_cmpint (g_list_model_get_n_items (G_LIST_MODEL (pd_review_page_get_model (review_page ()))), ==,
                   local_count ("SELECT count(*) FROM prescription", NULL));
}

/* A waiting prescription whose findings include a major one and no block. */
static void
pick_prescription (void)
{
  g_autoptr(PdKb) kb = pd_kb_load_active (store (), NULL);
  sqlite3_stmt *stmt = pd_store_prepare (store (), "SELECT uuid, task_id FROM prescription WHERE status = 'requested'"
                                                   " AND verdict = 'review' AND has_block = 0 ORDER BY id", NULL);

  g_assert_nonnull (kb);
  while (rx_uuid == NULL && sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *uuid = (const char *) sqlite3_column_text (stmt, 0);
      g_autoptr(GError) error = NULL;
      g_autoptr(PdRxView) view = pd_rx_view_load (pd_window_get_session (window), kb, uuid, "en", FALSE, &error);

      g_assert_no_error (error);
      if (pd_rx_view_count (view, PD_SEVERITY_MAJOR) > 0 && !view->has_block)
        {
          rx_uuid = g_strdup (uuid);
          task_id = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
        }
    }
  sqlite3_reset (stmt);
  g_assert_nonnull (rx_uuid);
}

static void
test_pane (void)
{
  const PdRxView *view;
  g_autofree char *texts = NULL;
  g_autofree char *major = NULL;
  gint64 opened;

  pick_prescription ();
  opened = local_count ("SELECT count(*) FROM audit_event WHERE action = 'prescription.open' AND object_uuid = ?", rx_uuid);
  g_assert_cmpint (opened, ==, 0);
  g_assert_true (pd_review_page_select (review_page (), rx_uuid));
  view = pd_rx_pane_get_view (pane ());
  g_assert_nonnull (view);
  g_assert_cmpstr (view->rx_uuid, ==, rx_uuid);
  /* Opening is audited, once: a quiet reload is not an opening. */
  g_assert_cmpint (local_count ("SELECT count(*) FROM audit_event WHERE action = 'prescription.open' AND object_uuid = ?",
                                rx_uuid), ==, 1);
  pd_rx_pane_reload (pane ());
  g_assert_cmpint (local_count ("SELECT count(*) FROM audit_event WHERE action = 'prescription.open' AND object_uuid = ?",
                                rx_uuid), ==, 1);
  g_assert_nonnull (view->patient_name);
  g_assert_nonnull (view->prescriber);
  g_assert_cmpuint (view->lines->len, >, 0);

  spin (300);
  texts = texts_of (GTK_WIDGET (pane ()));
  g_test_message ("%s", texts);
  major = g_strdup_printf (zh ? "严重问题 (%u)" : "Major findings (%u)", pd_rx_view_count (view, PD_SEVERITY_MAJOR));
  assert_shows (texts, major);
  assert_shows (texts, view->patient_name);
  assert_shows (texts, view->prescriber);
  assert_shows (texts, ((PdRxViewLine *) view->lines->pdata[0])->drug);
  assert_shows (texts, ((PdRxViewFinding *) view->findings->pdata[0])->message);
  if (zh)
    {
      assert_shows (texts, "处方 ");
      assert_shows (texts, "患者");
      assert_shows (texts, "开方医生与就诊");
      assert_shows (texts, "药品明细");
      assert_shows (texts, "记录");
      assert_shows (texts, "待审核");
      assert_shows (texts, "认领");
      assert_shows (texts, "通过(_A)…");
      assert_shows (texts, "驳回(_R)…");
    }
  else
    {
      assert_shows (texts, "Prescription ");
      assert_shows (texts, "Patient");
      assert_shows (texts, "Prescriber and visit");
      assert_shows (texts, "Lines");
      assert_shows (texts, "History");
      assert_shows (texts, "Waiting");
      assert_shows (texts, "Claim");
      assert_shows (texts, "Approve…");
      assert_shows (texts, "Reject…");
    }
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (pd_rx_pane_get_button (pane (), "approve"))));
  shoot (GTK_WIDGET (window), "review-prescription");
}

/* Each prescription opens at its top, findings first, whatever the
 * scroll position of the one before (issue 12, item 7). */
static void
test_opens_at_top (void)
{
  g_autofree char *other = local_text ("SELECT uuid FROM prescription WHERE uuid <> ? ORDER BY id", rx_uuid);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (pd_rx_pane_get_scroller (pane ()));

  g_assert_true (pd_review_page_select (review_page (), rx_uuid));
  spin (300);
  g_assert_cmpfloat (gtk_adjustment_get_upper (adj), >, gtk_adjustment_get_page_size (adj));
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  spin (100);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), >, 0.0);
  g_assert_true (pd_review_page_select (review_page (), other));
  spin (300);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, 0.0);
  g_assert_true (pd_review_page_select (review_page (), rx_uuid));
  spin (100);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, 0.0);
}

/* What the engine relied on is in the pane: a skin-tested antibiotic
 * shows its negative skin test with the time, and the weight reads as a
 * person writes it (issue 12, items 8 and 12). */
static void
test_evidence (void)
{
  sqlite3_stmt *stmt = pd_store_prepare (store (), "SELECT uuid FROM prescription ORDER BY id", NULL);
  g_autoptr(PdKb) kb = pd_kb_load_active (store (), NULL);
  g_autofree char *skin_uuid = NULL;
  g_autofree char *weight_uuid = NULL;
  g_autofree char *skin_title = NULL;
  g_autofree char *skin_text = NULL;
  g_autofree char *weight_text = NULL;

  while (sqlite3_step (stmt) == SQLITE_ROW && (skin_uuid == NULL || weight_uuid == NULL))
    {
      const char *uuid = (const char *) sqlite3_column_text (stmt, 0);
      g_autoptr(PdRxView) view = pd_rx_view_load (pd_window_get_session (window), kb, uuid, "en", FALSE, NULL);

      for (guint i = 0; view != NULL && i < view->evidence->len; i++)
        {
          const PdRxViewEvidence *e = view->evidence->pdata[i];

          if (e->kind == PD_RX_EVIDENCE_SKIN_TEST && e->yes && skin_uuid == NULL && e->when != NULL)
            {
              skin_uuid = g_strdup (uuid);
              skin_title = g_strdup_printf (zh ? "皮试：%s" : "Skin test: %s", e->about);
              skin_text = g_strdup_printf (zh ? "阴性 · %.10s %.5s" : "Negative · %.10s %.5s", e->when, e->when + 11);
            }
          if (e->kind == PD_RX_EVIDENCE_WEIGHT && weight_uuid == NULL && e->kg >= 10
              && ((gint64) (e->kg * 1000 + 0.5)) % 100 != 0)
            {
              g_autofree char *kg = pd_rx_view_format_kg (e->kg);

              weight_uuid = g_strdup (uuid);
              weight_text = g_strdup_printf (zh ? "%s 千克 · " : "%s kg · ", kg);
              /* One decimal for an adult: 71.912 reads 71.9. */
              g_assert_true (strlen (strchr (kg, '.') != NULL ? strchr (kg, '.') : ".") <= 2);
            }
        }
    }
  sqlite3_reset (stmt);
  g_assert_nonnull (skin_uuid);
  g_assert_nonnull (weight_uuid);

  g_assert_true (pd_review_page_select (review_page (), skin_uuid));
  spin (300);
  {
    g_autofree char *texts = texts_of (GTK_WIDGET (pane ()));

    g_test_message ("%s", texts);
    assert_shows (texts, skin_title);
    assert_shows (texts, skin_text);
    /* Pregnancy and breastfeeding unrecorded are not worth a line for a
     * man or a young child; for anyone else they are. */
    if (g_strcmp0 (pd_rx_pane_get_view (pane ())->gender, "male") == 0)
      {
        assert_hides (texts, zh ? "妊娠" : "Pregnancy");
        assert_hides (texts, zh ? "哺乳" : "Breastfeeding");
      }
    else if (pd_rx_pane_get_view (pane ())->age >= 12 && pd_rx_pane_get_view (pane ())->age <= 55)
      {
        assert_shows (texts, zh ? "妊娠" : "Pregnancy");
        assert_shows (texts, zh ? "哺乳" : "Breastfeeding");
      }
    assert_shows (texts, zh ? "诊断：" : "Condition: ");
  }
  shoot (GTK_WIDGET (window), "review-evidence");
  g_assert_true (pd_review_page_select (review_page (), weight_uuid));
  spin (300);
  {
    g_autofree char *texts = texts_of (GTK_WIDGET (pane ()));

    g_test_message ("%s", texts);
    assert_shows (texts, weight_text);
    g_assert_false (g_regex_match_simple ("\\d\\.\\d\\d\\d (kg|千克)", texts, 0, 0));
  }
  g_assert_true (pd_review_page_select (review_page (), rx_uuid));
}

/* A blocked prescription cannot be approved from the pane. */
static void
test_block_disables_approve (void)
{
  g_autofree char *blocked = local_text ("SELECT uuid FROM prescription WHERE has_block = 1 AND status = 'requested' ORDER BY id", NULL);

  g_assert_nonnull (blocked);
  g_assert_true (pd_review_page_select (review_page (), blocked));
  g_assert_true (pd_rx_pane_get_view (pane ())->has_block);
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (pd_rx_pane_get_button (pane (), "approve"))));
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (pd_rx_pane_get_button (pane (), "reject"))));
  {
    g_autofree char *texts = texts_of (GTK_WIDGET (pane ()));

    assert_shows (texts, zh ? "禁止性问题 (" : "Blocking findings (");
  }
  shoot (GTK_WIDGET (window), "review-blocked");
  g_assert_true (pd_review_page_select (review_page (), rx_uuid));
}

static void
test_claim (void)
{
  PdRxPane *p = pane ();

  click (pd_rx_pane_get_button (p, "claim"));
  WAIT_FOR (!pd_rx_pane_is_busy (p));
  g_assert_cmpint (local_count ("SELECT count(*) FROM outbox WHERE operation = 'claim' AND subject_uuid = ?", rx_uuid), ==, 1);
  /* The claim asked for a sync; the hospital's answer comes back into the pane. */
  g_assert_true (wait_server_status ("received", 30));
  WAIT_FOR (pd_rx_pane_get_view (p) != NULL && pd_rx_pane_get_view (p)->mine);
  /* The claim moved the row to "mine"; the list still selects it. */
  g_assert_cmpstr (pd_queue_item_get_uuid (gtk_single_selection_get_selected_item (GTK_SINGLE_SELECTION (
                     gtk_list_view_get_model (pd_review_page_get_list_view (review_page ()))))), ==, rx_uuid);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (pd_rx_pane_get_button (p, "release"))));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (pd_rx_pane_get_button (p, "claim"))));
}

static void
test_approve (void)
{
  PdRxPane *p = pane ();
  const PdRxView *view = pd_rx_pane_get_view (p);
  guint majors = pd_rx_view_count (view, PD_SEVERITY_MAJOR);
  guint moderates = pd_rx_view_count (view, PD_SEVERITY_MODERATE);
  PdDecisionDialog *dialog;
  GtkButton *confirm;
  g_autofree char *texts = NULL;

  click (pd_rx_pane_get_button (p, "approve"));
  dialog = PD_DECISION_DIALOG (pd_rx_pane_get_dialog (p));
  g_assert_nonnull (dialog);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (dialog)));
  g_assert_cmpuint (pd_decision_dialog_get_n_major (dialog), ==, majors);
  g_assert_cmpuint (pd_decision_dialog_get_n_moderate (dialog), ==, moderates);
  confirm = pd_decision_dialog_get_confirm (dialog);
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (confirm)));

  for (guint i = 0; i < majors; i++)
    {
      /* 2: the second reason of review.md's list (row 0 asks to choose). */
      adw_combo_row_set_selected (pd_decision_dialog_get_reason_row (dialog, i), 2);
      g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (confirm)));
      gtk_editable_set_text (GTK_EDITABLE (pd_decision_dialog_get_words_row (dialog, i)),
                             zh ? "已电话联系开方医生确认" : "Confirmed with the prescriber by phone");
    }
  for (guint i = 0; i < moderates; i++)
    gtk_check_button_set_active (pd_decision_dialog_get_ack_check (dialog, i), TRUE);
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (confirm)));
  spin (300);
  texts = texts_of (GTK_WIDGET (dialog));
  g_test_message ("%s", texts);
  if (zh)
    {
      assert_shows (texts, "通过");
      assert_shows (texts, "已联系开方医生并确认");
      assert_shows (texts, "您的签名");
      assert_shows (texts, "签名并通过");
      assert_shows (texts, "用自己的话说明");
    }
  else
    {
      assert_shows (texts, "Approve");
      assert_shows (texts, "The prescriber was contacted and confirmed");
      assert_shows (texts, "Your signature");
      assert_shows (texts, "Sign and Approve");
      assert_shows (texts, "In your words");
    }
  /* Nothing is cut short, even narrow: the reasons and the findings' titles wrap. */
  for (guint i = 0; i < majors; i++)
    adw_combo_row_set_selected (pd_decision_dialog_get_reason_row (dialog, i), 1);
  gtk_window_set_default_size (GTK_WINDOW (dialog), 400, 700);
  spin (400);
  {
    GtkLabel *cut = find_ellipsized (GTK_WIDGET (dialog));

    if (cut != NULL)
      g_error ("cut short: “%s”", gtk_label_get_label (cut));
  }
  shoot (GTK_WIDGET (dialog), "review-decision-dialog-narrow");
  gtk_window_set_default_size (GTK_WINDOW (dialog), 640, 700);
  for (guint i = 0; i < majors; i++)
    adw_combo_row_set_selected (pd_decision_dialog_get_reason_row (dialog, i), 2);
  gtk_editable_set_text (pd_decision_dialog_get_password (dialog), "not-the-password");
  shoot (GTK_WIDGET (dialog), "review-decision-dialog");

  /* A wrong password is said in words, and nothing is decided. */
  click (confirm);
  WAIT_FOR (!pd_decision_dialog_is_busy (dialog));
  g_assert_nonnull (pd_decision_dialog_get_error (dialog));
  g_test_message ("%s", pd_decision_dialog_get_error (dialog));
  /* It asks only for a password: core's message, not the sign-in's. */
  g_assert_cmpstr (pd_decision_dialog_get_error (dialog), ==, zh ? "密码错误" : "Wrong password");
  shoot (GTK_WIDGET (dialog), "review-decision-wrong-password");
  g_assert_cmpint (local_count ("SELECT count(*) FROM review_decision d JOIN prescription p ON p.id = d.prescription_id"
                                " WHERE p.uuid = ?", rx_uuid), ==, 0);

  gtk_editable_set_text (pd_decision_dialog_get_password (dialog), PASSWORD);
  click (confirm);
  WAIT_FOR (pd_rx_pane_get_dialog (p) == NULL);
  g_assert_nonnull (pd_rx_pane_get_last_decision (p));
  g_assert_cmpstr (pd_rx_pane_get_view (p)->status, ==, "approved");
  /* The decision is its state now: no claim to release, no engine verdict
   * from before, the pharmacist by name (issue 12, item 9). */
  {
    g_autofree char *texts = texts_of (GTK_WIDGET (p));
    const char *by = zh ? "由 王药师 通过" : "Approved by 王药师";

    g_test_message ("%s", pd_rx_pane_get_subtitle (p));
    g_assert_nonnull (strstr (pd_rx_pane_get_subtitle (p), by));
    g_assert_null (strstr (pd_rx_pane_get_subtitle (p), zh ? "引擎" : "Engine"));
    assert_shows (texts, by);
    assert_hides (texts, zh ? "由您认领" : "Claimed by you");
    g_assert_false (gtk_widget_get_visible (GTK_WIDGET (pd_rx_pane_get_button (p, "release"))));
    g_assert_false (gtk_widget_get_visible (GTK_WIDGET (pd_rx_pane_get_button (p, "claim"))));
    g_assert_false (gtk_widget_get_visible (GTK_WIDGET (pd_rx_pane_get_button (p, "approve"))));
    spin (300);
    {
      /* In the queue too: "Approved", without the engine's verdict. */
      g_autofree char *row = queue_row_texts (GTK_WIDGET (window), pd_rx_pane_get_view (p)->number);

      g_assert_nonnull (row);
      g_test_message ("%s", row);
      assert_shows (row, zh ? "已通过" : "Approved");
      assert_hides (row, zh ? "引擎" : "Engine");
    }
    shoot (GTK_WIDGET (window), "review-approved");
  }
  g_assert_cmpint (local_count ("SELECT count(*) FROM review_finding f JOIN review_decision d ON d.id = f.decision_id"
                                " WHERE d.uuid = ? AND f.override_action = 'override'"
                                " AND f.override_reason LIKE 'prescriber-confirmed: %'", pd_rx_pane_get_last_decision (p)),
                   ==, majors);
}

static void
test_hospital_holds_decision (void)
{
  g_autofree char *sql = NULL;
  g_autofree char *jws = local_text ("SELECT jws FROM review_decision WHERE uuid = ?", pd_rx_pane_get_last_decision (pane ()));
  g_autofree char *outputs = NULL;
  g_autofree char *provenance = NULL;
  g_autofree char *signature = NULL;
  guint findings = pd_rx_pane_get_view (pane ())->findings->len;

  /* The decision asked for a sync; the Task completes on the server. */
  g_assert_true (wait_server_status ("completed", 30));
  sql = g_strdup_printf ("SELECT count(*) FROM fhir_resource t, json_each (json_extract (t.body, '$.output')) o"
                         " JOIN fhir_resource r ON r.resource_type = 'DetectedIssue'"
                         " AND 'DetectedIssue/' || r.id = json_extract (o.value, '$.valueReference.reference')"
                         " WHERE t.resource_type = 'Task' AND t.id = '%s'", task_id);
  g_assert_cmpint (count_rows (state, sql), ==, findings);
  g_free (sql);
  sql = g_strdup_printf ("SELECT r.id FROM fhir_resource t, json_each (json_extract (t.body, '$.output')) o"
                         " JOIN fhir_resource r ON r.resource_type = 'Provenance'"
                         " AND 'Provenance/' || r.id = json_extract (o.value, '$.valueReference.reference')"
                         " WHERE t.resource_type = 'Task' AND t.id = '%s'", task_id);
  provenance = query_text (state, sql);
  g_assert_nonnull (provenance);
  g_free (sql);
  sql = g_strdup_printf ("SELECT json_extract (body, '$.signature[0].data') FROM fhir_resource"
                         " WHERE resource_type = 'Provenance' AND id = '%s'", provenance);
  signature = query_text (state, sql);
  g_assert_nonnull (signature);
  g_assert_nonnull (jws);
  /* The Provenance carries the pharmacist's JWS (as stored, or base64 of it). */
  if (g_strcmp0 (signature, jws) != 0)
    {
      gsize len = 0;
      g_autofree guchar *raw = g_base64_decode (signature, &len);
      g_autofree char *decoded = g_strndup ((const char *) raw, len);

      g_assert_cmpstr (decoded, ==, jws);
    }
  (void) outputs;

  /* The pane shows the decision as sent. */
  WAIT_FOR ((pd_rx_pane_reload (pane ()), pd_rx_pane_get_view (pane ())->decisions->len == 1
            && g_strcmp0 (((PdRxViewDecision *) pd_rx_pane_get_view (pane ())->decisions->pdata[0])->outbox_state, "done") == 0));
}

static void
test_verify (void)
{
  const char *uuid = pd_rx_pane_get_last_decision (pane ());
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;

  g_assert_true (pd_review_verify (store (), uuid, &error));
  g_assert_no_error (error);
  /* One byte of the record: "approve" becomes "approvf". */
  sql = g_strdup_printf ("UPDATE review_decision SET record = replace (record, '\"approve\"', '\"approvf\"') WHERE uuid = '%s'", uuid);
  g_assert_true (pd_store_exec (store (), sql, NULL));
  g_assert_cmpint (local_count ("SELECT count(*) FROM review_decision WHERE uuid = ? AND record LIKE '%\"approvf\"%'", uuid), ==, 1);
  g_assert_false (pd_review_verify (store (), uuid, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
}

/* --- set-up ------------------------------------------------------------------------------- */

static void
prepare_database (const char *path)
{
  PdAccountSpec admin = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec pharmacist = { "ph", "王药师", PD_ROLE_PHARMACIST, "YS-110105-0001", "Practitioner/ph-1", NULL };
  g_autofree char *kb_dir = g_build_filename (g_getenv ("PHARMDESK_DATADIR"), "kb", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *recovery = NULL;
  g_autoptr(PdStore) db = pd_store_open (path, &error);
  g_autoptr(PdSession) boss = NULL;

  g_assert_no_error (error);
  g_assert_true (pd_accounts_init (db, &admin, "admin-password", &recovery, &error));
  boss = pd_session_sign_in (db, "admin", "admin-password", &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_add (boss, &pharmacist, PASSWORD, &error));
  g_assert_true (pd_kb_import (boss, kb_dir, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&boss);
  pd_store_close (db);
}

/* The prescriber cancels a prescription the pharmacist has claimed, and
 * the pharmacist approves it on the cache before the cancellation shows:
 * the decision comes back as a conflict, said above the prescription. */
static void
test_conflict_banner (void)
{
  PdRxPane *p = pane ();
  g_autofree char *other = local_text ("SELECT uuid FROM prescription WHERE status = 'requested' AND verdict = 'pass'"
                                       " AND has_block = 0 ORDER BY id", NULL);
  g_autofree char *number = NULL;
  g_autofree char *body = NULL;
  PdDecisionDialog *dialog;
  const char *banner;

  g_assert_nonnull (other);
  g_assert_true (pd_review_page_select (review_page (), other));
  g_assert_null (pd_rx_pane_get_conflict (p));
  click (pd_rx_pane_get_button (p, "claim"));
  WAIT_FOR (!pd_rx_pane_is_busy (p));
  WAIT_FOR (local_count ("SELECT count(*) FROM outbox WHERE operation = 'claim' AND state = 'done' AND subject_uuid = ?",
                         other) == 1);

  number = local_text ("SELECT rx_number FROM prescription WHERE uuid = ?", other);
  body = g_strdup_printf ("{\"prescription\":\"%s\"}", number);
  g_assert_cmpuint (sandbox_control (&sb, "cancel", body, NULL), ==, 200);

  pd_rx_pane_reload (p);
  click (pd_rx_pane_get_button (p, "approve"));
  dialog = PD_DECISION_DIALOG (pd_rx_pane_get_dialog (p));
  g_assert_nonnull (dialog);
  for (guint i = 0; i < pd_decision_dialog_get_n_moderate (dialog); i++)
    gtk_check_button_set_active (pd_decision_dialog_get_ack_check (dialog, i), TRUE);
  g_assert_cmpuint (pd_decision_dialog_get_n_major (dialog), ==, 0);
  gtk_editable_set_text (pd_decision_dialog_get_password (dialog), PASSWORD);
  click (pd_decision_dialog_get_confirm (dialog));
  WAIT_FOR (pd_rx_pane_get_dialog (p) == NULL);

  /* The decision's sync meets the cancelled Task. */
  WAIT_FOR ((pd_rx_pane_reload (p), g_strcmp0 (pd_rx_pane_get_view (p)->status, "conflict") == 0));
  banner = pd_rx_pane_get_conflict (p);
  g_assert_nonnull (banner);
  g_test_message ("%s", banner);
  g_assert_true (g_str_has_prefix (banner, zh ? "冲突：" : "Conflict: "));
  g_assert_cmpint (local_count ("SELECT count(*) FROM outbox WHERE operation = 'decide' AND state = 'conflict'"
                                " AND subject_uuid = ?", other), ==, 1);
  shoot (GTK_WIDGET (window), "review-conflict");
}

/* Locking or signing out with a claim held asks first; cancel keeps
 * everything, "release" queues the release and signs out (item 12). */
static void
test_leave_with_claim (void)
{
  PdRxPane *p = pane ();
  g_autofree char *uuid = local_text ("SELECT uuid FROM prescription WHERE status = 'requested' AND has_block = 0 ORDER BY id DESC", NULL);
  GtkWindow *ask;
  g_autofree char *texts = NULL;

  g_assert_nonnull (uuid);
  g_assert_true (pd_review_page_select (review_page (), uuid));
  click (pd_rx_pane_get_button (p, "claim"));
  WAIT_FOR (!pd_rx_pane_is_busy (p));
  /* The hospital's answer makes it ours. */
  WAIT_FOR ((pd_rx_pane_reload (p), pd_rx_pane_get_view (p)->mine));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lock", NULL));
  ask = pd_window_get_leave_dialog (window);
  g_assert_nonnull (ask);
  g_assert_true (ADW_IS_MESSAGE_DIALOG (ask));
  spin (300);
  texts = texts_of (GTK_WIDGET (ask));
  g_test_message ("%s", texts);
  assert_shows (texts, zh ? "锁定前释放您的认领吗？" : "Release your claims before locking?");
  shoot (GTK_WIDGET (ask), "review-leave-with-claim");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "cancel");
  spin (100);
  g_assert_null (pd_window_get_leave_dialog (window));
  g_assert_cmpstr (pd_window_get_page (window), ==, "areas");
  g_assert_false (pd_session_is_locked (pd_window_get_session (window)));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.sign-out", NULL));
  ask = pd_window_get_leave_dialog (window);
  g_assert_nonnull (ask);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "release");
  WAIT_FOR (g_str_equal (pd_window_get_page (window), "sign-in"));
  g_assert_null (pd_window_get_session (window));
  g_assert_cmpint (local_count ("SELECT count(*) FROM outbox WHERE operation = 'release' AND subject_uuid = ?", uuid), ==, 1);
}

/* No notification daemon under Xvfb: the test counts the sync service's
 * announcements instead of desktop notifications. */
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
  prepare_database (db_path);

  g_test_add_func ("/decision/sign-in-and-sync", test_sign_in_and_sync);
  g_test_add_func ("/decision/pane", test_pane);
  g_test_add_func ("/decision/opens-at-top", test_opens_at_top);
  g_test_add_func ("/decision/evidence", test_evidence);
  g_test_add_func ("/decision/block-disables-approve", test_block_disables_approve);
  g_test_add_func ("/decision/claim", test_claim);
  g_test_add_func ("/decision/approve", test_approve);
  g_test_add_func ("/decision/hospital-holds-decision", test_hospital_holds_decision);
  g_test_add_func ("/decision/verify", test_verify);
  g_test_add_func ("/decision/conflict-banner", test_conflict_banner);
  g_test_add_func ("/decision/leave-with-claim", test_leave_with_claim);

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
  g_free (task_id);
  return status;
}
