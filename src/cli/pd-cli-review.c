/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-review"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "pd-cli.h"
#include "pd-kb-store.h"
#include "pd-rx-cache.h"
#include "pd-fhir-reader.h"
#include "pd-json-doc.h"
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

/* A Bundle's entry is an array of objects, each resource an object: the
 * reader skips what it cannot use, which would make an "entry" that is a
 * string or a number review as an empty Bundle and exit 0. */
static gboolean
check_entries (const PdJv *root,
               GError    **error)
{
  const PdJv *entries = pd_jv_member (root, "entry");
  guint i = 0;

  if (entries == NULL || pd_jv_type (root) != PD_JV_OBJECT)
    return TRUE;
  if (pd_jv_type (entries) != PD_JV_ARRAY)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s",
                   _("The Bundle’s “entry” is not an array of entries"));
      return FALSE;
    }
  for (const PdJv *e = pd_jv_first (entries); e != NULL; e = pd_jv_next (entries, e), i++)
    {
      const PdJv *resource = pd_jv_type (e) == PD_JV_OBJECT ? pd_jv_member (e, "resource") : NULL;

      if (pd_jv_type (e) != PD_JV_OBJECT)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("The Bundle’s entry %u is not an object"), i);
          return FALSE;
        }
      if (resource != NULL && pd_jv_type (resource) != PD_JV_OBJECT)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("The resource of the Bundle’s entry %u is not an object"), i);
          return FALSE;
        }
    }
  return TRUE;
}

static void
print_table (PdKb      *kb,
             GPtrArray *prescriptions,
             GPtrArray *reviews,
             const char *lang)
{
  pd_cli_print (_("Knowledge base: %s\n"), pd_kb_get_version (kb));
  for (guint i = 0; i < prescriptions->len; i++)
    {
      const PdRx *rx = prescriptions->pdata[i];
      PdReview *review = reviews->pdata[i];

      pd_cli_print ("\n%s  %s\n", rx->id, review->verdict);
      for (guint f = 0; f < review->findings->len; f++)
        {
          const PdFinding *finding = review->findings->pdata[f];
          g_autofree char *message = pd_finding_message (finding, lang);
          g_autoptr(GString) lines = g_string_new (NULL);
          g_autofree char *severity = pd_cli_pad (pd_severity_to_string (finding->severity), 9);
          g_autofree char *code = pd_cli_pad (finding->code, 28);

          for (guint l = 0; l < finding->lines->len; l++)
            g_string_append_printf (lines, "%s%s", l > 0 ? "," : "", ((const PdRxLine *) finding->lines->pdata[l])->id);
          pd_cli_print ("  %s %s %s  %s\n", severity, code, lines->str, message);
        }
    }
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
  g_autoptr(GPtrArray) reviews = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_review_free);
  g_autoptr(PdJsonDoc) doc = NULL;
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
      store = pd_cli_open_existing_store (cli, &error);
      if (store == NULL)
        return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
    }
  if (!read_input (argv[1], &data, &len, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  doc = pd_json_doc_parse (data, len, &error);
  if (doc == NULL || !check_entries (pd_json_doc_root (doc), &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  prescriptions = pd_fhir_read_bundle (pd_json_doc_root (doc), kb, &error);
  if (prescriptions == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);

  now = pd_clock_now_us (pd_clock_get_default ());
  for (guint i = 0; i < prescriptions->len; i++)
    g_ptr_array_add (reviews, pd_review_run (kb, prescriptions->pdata[i], now,
                                             store != NULL ? pd_rx_cache_dispensed : NULL, store));
  /* review.md: always JSON, also on a terminal; a table only when asked. */
  if (cli->table && !cli->json)
    {
      print_table (kb, prescriptions, reviews, lang);
      if (store != NULL)
        pd_store_close (store);
      return PD_EXIT_OK;
    }
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
      PdReview *review = reviews->pdata[i];

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

/* What `kb check` and `kb import` print: {"version", "drugs", "demonstration"}. */
static void
print_kb_json (PdKb *kb)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, pd_kb_get_version (kb));
  json_builder_set_member_name (b, "drugs");
  json_builder_add_int_value (b, pd_kb_get_n_drugs (kb));
  json_builder_set_member_name (b, "demonstration");
  json_builder_add_boolean_value (b, pd_kb_is_demonstration (kb));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  pd_cli_print_json (root);
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
        print_kb_json (kb);
      else
        pd_cli_print (_("The knowledge base %s is well formed (%u drugs).\n"), pd_kb_get_version (kb), pd_kb_get_n_drugs (kb));
      return PD_EXIT_OK;
    }

  /* Import: an administrator's act, in one transaction, audited. */
  {
    g_autoptr(PdStore) store = pd_cli_open_store (cli, &error);
    g_autoptr(PdSession) session = NULL;

    if (store == NULL)
      return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
    session = pd_cli_sign_in (cli, store, &error);
    if (session == NULL || !pd_kb_import (session, argv[2], NULL, &error))
      return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
    if (pd_cli_want_json (cli))
      print_kb_json (kb);
    else
      pd_cli_print (_("Imported the knowledge base %s.\n"), pd_kb_get_version (kb));
    pd_store_close (store);
  }
  return PD_EXIT_OK;
}
