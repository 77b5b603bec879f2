/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-review"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "pd-cli.h"
#include "pd-fhir-reader.h"
#include "pd-kb.h"
#include "pd-review-engine.h"
#include "pd-session.h"
#include "pd-store.h"

/* `pharmdesk-cli review` and `kb check|import`, as review.md says. */

static gboolean
read_input (const char *path,
            char      **data,
            gsize      *len,
            GError    **error)
{
  if (g_str_equal (path, "-"))
    {
      GString *s = g_string_new (NULL);
      char buf[65536];
      size_t n;

      while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
        g_string_append_len (s, buf, (gssize) n);
      *len = s->len;
      *data = g_string_free (s, FALSE);
      return TRUE;
    }
  return g_file_get_contents (path, data, len, error);
}

static gboolean
dispensed_cb (const char *system,
              const char *value,
              gpointer    user_data)
{
  PdStore *store = user_data;
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT EXISTS (SELECT 1 FROM prescription p WHERE p.rx_system = ? AND p.rx_number = ?"
    " AND (p.status = 'dispensed' OR EXISTS (SELECT 1 FROM dispense d WHERE d.prescription_id = p.id)))", NULL);
  gboolean found = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, system != NULL ? system : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    found = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt);
  return found;
}

static void
add_finding (JsonBuilder     *b,
             const PdFinding *f,
             const char      *lang)
{
  g_autofree char *message = pd_finding_message (f, lang);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, f->code);
  json_builder_set_member_name (b, "severity");
  json_builder_add_string_value (b, pd_severity_to_string (f->severity));
  json_builder_set_member_name (b, "lines");
  json_builder_begin_array (b);
  for (guint i = 0; i < f->lines->len; i++)
    json_builder_add_string_value (b, ((const PdRxLine *) f->lines->pdata[i])->id);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "rule");
  json_builder_add_string_value (b, f->rule);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "population");
  if (f->population != NULL)
    json_builder_add_string_value (b, f->population);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
}

int
pd_cli_review (PdCli  *cli,
               int     argc,
               char  **argv)
{
  g_autofree char *kb_dir = NULL;
  g_autofree char *lang = NULL;
  GOptionEntry entries[] = {
    { "kb", 0, 0, G_OPTION_ARG_FILENAME, &kb_dir, N_("The knowledge base folder"), N_("DIR") },
    { "lang", 0, 0, G_OPTION_ARG_STRING, &lang, N_("Language of the messages: en or zh_CN"), N_("LANG") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PdKb) kb = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(GPtrArray) prescriptions = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  gint64 now;

  if (!pd_cli_parse (cli, &argc, &argv, _("BUNDLE.json|-"), _("Review the prescriptions of a FHIR Bundle."), entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (kb_dir == NULL || argc != 2)
    return pd_cli_fail (PD_EXIT_USAGE, "%s",
                        _("usage: pharmdesk-cli review --kb DIR [--now TIME] [--db FILE] [--lang en|zh_CN] BUNDLE.json|-"));
  if (lang == NULL)
    lang = g_strdup ("en");
  if (!g_str_equal (lang, "en") && !g_str_equal (lang, "zh_CN"))
    return pd_cli_fail (PD_EXIT_USAGE, _("--lang: “%s” is neither en nor zh_CN"), lang);
  kb = pd_kb_load_dir (kb_dir, &error);
  if (kb == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (cli->db_path != NULL)
    {
      if (!g_file_test (cli->db_path, G_FILE_TEST_IS_REGULAR))
        return pd_cli_fail (PD_EXIT_USAGE, _("--db: no database at “%s”"), cli->db_path);
      store = pd_store_open (cli->db_path, &error);
      if (store == NULL)
        return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
    }
  if (!read_input (argv[1], &data, &len, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  prescriptions = pd_fhir_read_prescriptions (data, len, kb, &error);
  if (prescriptions == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);

  now = pd_clock_now_us (pd_clock_get_default ());
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "knowledge_base");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, pd_kb_get_version (kb));
  json_builder_end_object (b);
  json_builder_set_member_name (b, "prescriptions");
  json_builder_begin_array (b);
  for (guint i = 0; i < prescriptions->len; i++)
    {
      const PdRx *rx = prescriptions->pdata[i];
      g_autoptr(PdReview) review = pd_review_run (kb, rx, now, store != NULL ? dispensed_cb : NULL, store);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, rx->id);
      json_builder_set_member_name (b, "verdict");
      json_builder_add_string_value (b, review->verdict);
      json_builder_set_member_name (b, "findings");
      json_builder_begin_array (b);
      for (guint f = 0; f < review->findings->len; f++)
        add_finding (b, review->findings->pdata[f], lang);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  pd_cli_print_json (root);
  if (store != NULL)
    pd_store_close (store);
  return PD_EXIT_OK;
}

/* --- kb ----------------------------------------------------------------------------- */

typedef struct {
  PdSession  *session;
  PdKb       *kb;
  const char *dir;
} ImportJob;

static gboolean
write_import (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  ImportJob *job = user_data;
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  g_autoptr(GDir) d = g_dir_open (job->dir, 0, error);
  sqlite3_stmt *stmt;
  gint64 id;
  const char *name;
  PdAuditEntry e = { pd_session_get_account (job->session)->id, "kb.import", "kb_version", NULL, "ok",
                     pd_kb_get_version (job->kb), NULL };

  if (d == NULL)
    return FALSE;
  if (!pd_store_exec (store, "UPDATE kb_version SET active = 0 WHERE active = 1", error))
    return FALSE;
  stmt = pd_store_prepare (store, "INSERT INTO kb_version (version, status, reviewed_by, imported_at, imported_by, active)"
                                  " VALUES (?, ?, ?, ?, ?, 1)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, pd_kb_get_version (job->kb), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, pd_kb_is_demonstration (job->kb) ? "demonstration" : "reviewed", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, pd_kb_get_reviewed_by (job->kb), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, pd_session_get_account (job->session)->id);
  if (!pd_store_step_done (store, stmt, error))
    {
      if (g_error_matches (*error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT))
        {
          g_clear_error (error);
          g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT,
                       _("The knowledge base version “%s” is already imported; give a new version in kb.csv"),
                       pd_kb_get_version (job->kb));
        }
      return FALSE;
    }
  id = sqlite3_last_insert_rowid (pd_store_get_db (store));
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *content = NULL;
      gsize len = 0;

      if (!g_str_has_suffix (name, ".csv"))
        continue;
      path = g_build_filename (job->dir, name, NULL);
      if (!g_file_get_contents (path, &content, &len, error))
        return FALSE;
      stmt = pd_store_prepare (store, "INSERT INTO kb_file (kb_version_id, name, content) VALUES (?, ?, ?)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_text (stmt, 2, name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_blob (stmt, 3, content, (int) len, SQLITE_TRANSIENT);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
    }
  return pd_audit_append (store, pd_session_get_audit_key (job->session), &e, error);
}

int
pd_cli_kb (PdCli  *cli,
           int     argc,
           char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdKb) kb = NULL;

  if (!pd_cli_parse (cli, &argc, &argv, _("check|import DIR"), _("Check or import a knowledge base."), NULL, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc != 3 || (!g_str_equal (argv[1], "check") && !g_str_equal (argv[1], "import")))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli kb check DIR | kb import DIR --db FILE --user NAME --password-file FILE"));
  kb = pd_kb_load_dir (argv[2], &error);
  if (kb == NULL)
    return pd_cli_fail (g_error_matches (error, PD_KB_ERROR, PD_KB_ERROR_MALFORMED) ? PD_EXIT_NO : PD_EXIT_USAGE,
                        "%s", error->message);
  if (g_str_equal (argv[1], "check"))
    {
      if (pd_cli_want_json (cli))
        {
          g_autofree char *text = g_strdup_printf ("{\"version\":\"%s\",\"drugs\":%u,\"demonstration\":%s}\n",
                                                   pd_kb_get_version (kb), pd_kb_get_n_drugs (kb),
                                                   pd_kb_is_demonstration (kb) ? "true" : "false");
          pd_cli_print ("%s", text);
        }
      else
        pd_cli_print (_("The knowledge base %s is well formed (%u drugs).\n"), pd_kb_get_version (kb), pd_kb_get_n_drugs (kb));
      return PD_EXIT_OK;
    }

  /* Import: an administrator's act, in one transaction, audited. */
  {
    g_autoptr(PdStore) store = pd_store_open (pd_cli_db_path (cli), &error);
    g_autoptr(PdSession) session = NULL;
    ImportJob job;

    if (store == NULL)
      return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
    session = pd_cli_sign_in (cli, store, &error);
    if (session == NULL)
      return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
    if (!pd_session_require (session, PD_ACTION_IMPORT_KB, "kb_version", NULL, &error))
      return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
    job.session = session;
    job.kb = kb;
    job.dir = argv[2];
    if (!pd_store_write (store, write_import, &job, &error))
      return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
    pd_cli_print (_("Imported the knowledge base %s.\n"), pd_kb_get_version (kb));
    pd_store_close (store);
  }
  return PD_EXIT_OK;
}
