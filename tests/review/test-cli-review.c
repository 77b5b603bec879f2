/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-review"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "pd-store.h"

/* pharmdesk-cli review and kb check as review.md says: exit codes, one
 * line on stderr for bad input, --lang, and the reuse check with --db. */

static char *dir;
static char *sample_kb;
static char *examples;

static int
cli (const char *input,
     char      **out,
     char      **err,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GBytes) in = g_bytes_new (input != NULL ? input : "", input != NULL ? strlen (input) : 0);
  g_autoptr(GBytes) o = NULL;
  g_autoptr(GBytes) e = NULL;
  g_autoptr(GError) error = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (argv, (char *) g_getenv ("PHARMDESK_CLI"));
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const char * const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate (proc, in, NULL, &o, &e, &error));
  *out = o != NULL ? g_strndup (g_bytes_get_data (o, NULL), g_bytes_get_size (o)) : g_strdup ("");
  *err = e != NULL ? g_strndup (g_bytes_get_data (e, NULL), g_bytes_get_size (e)) : g_strdup ("");
  if (*out == NULL)
    *out = g_strdup ("");
  if (*err == NULL)
    *err = g_strdup ("");
  return g_subprocess_get_exit_status (proc);
}

static void
assert_one_line (const char *err)
{
  g_assert_true (g_str_has_prefix (err, "pharmdesk-cli: "));
  g_assert_true (g_str_has_suffix (err, "\n"));
  g_assert_null (strchr (err, '\n') == err + strlen (err) - 1 ? NULL : "more than one line");
}

static void
test_bad_input (void)
{
  g_autofree char *bundle = g_build_filename (examples, "warfarin-ibuprofen.json", NULL);
  struct { const char *input; const char *now; const char *words; } cases[] = {
    { "not json", "2026-11-20T10:00:00+08:00", "pharmdesk-cli: Not JSON: expected a value at byte 0\n" },
    /* json-glib let comments through; JSON has none. */
    { "{\"resourceType\":\"Bundle\", // c\n\"entry\":[]}", "2026-11-20T10:00:00+08:00", "Not JSON: expected '\"' at byte 26" },
    { "{\"resourceType\":\"Patient\"}", "2026-11-20T10:00:00+08:00", "Bundle" },
    { "{\"resourceType\":\"Bundle\"}", "2026-11-20T10:00:00", "offset" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = NULL, *err = NULL;

      g_assert_cmpint (cli (cases[i].input, &out, &err, "review", "--kb", sample_kb, "--now", cases[i].now, "-", NULL), ==, 2);
      assert_one_line (err);
      g_assert_nonnull (strstr (err, cases[i].words));
      g_assert_cmpstr (out, ==, "");
    }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (cli (NULL, &out, &err, "review", "--kb", "/nonexistent", bundle, NULL), ==, 2);
    assert_one_line (err);
  }
}

static void
test_lang_and_rule (void)
{
  g_autofree char *bundle = g_build_filename (examples, "warfarin-ibuprofen.json", NULL);
  g_autofree char *out = NULL, *err = NULL;

  g_assert_cmpint (cli (NULL, &out, &err, "review", "--kb", sample_kb, "--now", "2026-11-20T10:00:00+08:00",
                        "--lang", "zh_CN", bundle, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"rule\" : \"interactions.csv:2\""));
  g_assert_nonnull (strstr (out, "出血风险增加"));
  g_assert_nonnull (strstr (out, "\"population\" : null"));
}

static void
test_reuse_with_db (void)
{
  g_autofree char *bundle = g_build_filename (examples, "pass-hypertension-follow-up.json", NULL);
  g_autofree char *db = g_build_filename (dir, "p.db", NULL);
  g_autofree char *out = NULL, *err = NULL;
  PdStore *store = pd_store_open (db, NULL);

  g_assert_nonnull (store);
  g_assert_true (pd_store_exec (store, "INSERT INTO prescription (uuid, rx_system, rx_number, status) VALUES ('u', 'urn:hospital:rx', 'RX', 'dispensed')", NULL));
  pd_store_close (store);
  g_object_unref (store);

  g_assert_cmpint (cli (NULL, &out, &err, "review", "--kb", sample_kb, "--now", "2026-11-20T10:00:00+08:00", bundle, NULL), ==, 0);
  g_assert_null (strstr (out, "prescription-reused"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (NULL, &out, &err, "review", "--kb", sample_kb, "--now", "2026-11-20T10:00:00+08:00", "--db", db, bundle, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "prescription-reused"));
  g_assert_nonnull (strstr (out, "\"verdict\" : \"reject\""));
}

static void
test_kb_check (void)
{
  g_autofree char *bad = g_build_filename (dir, "bad-kb", NULL);
  g_autofree char *drugs = g_build_filename (bad, "drugs.csv", NULL);
  g_autofree char *out = NULL, *err = NULL;

  g_assert_cmpint (cli (NULL, &out, &err, "kb", "check", sample_kb, "--json", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "sample-2026.11"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_mkdir_with_parents (bad, 0700);
  g_assert_true (g_file_set_contents (drugs, "code,name,ingredient,special_class\nYP1,药,warfarin,unknown-class\n", -1, NULL));
  g_assert_cmpint (cli (NULL, &out, &err, "kb", "check", bad, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "drugs.csv:2:"));
  assert_one_line (err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (NULL, &out, &err, "kb", "check", "/nonexistent-kb", NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (NULL, &out, &err, "kb", NULL), ==, 2);
}

/* An "entry" that is not an array of objects is bad input, not an empty
 * Bundle; review --table prints a table; kb check and import print
 * JSON that parses whatever the version holds. */
static void
test_shapes_and_output (void)
{
  g_autofree char *bundle = g_build_filename (examples, "pass-hypertension-follow-up.json", NULL);
  g_autofree char *kb = g_build_filename (dir, "quote-kb", NULL);
  g_autofree char *drugs = g_build_filename (kb, "drugs.csv", NULL);
  g_autofree char *meta = g_build_filename (kb, "kb.csv", NULL);
  g_autofree char *db = g_build_filename (dir, "import.db", NULL);
  g_autofree char *pw = g_build_filename (dir, "admin.pw", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  const char *bad[] = { "{\"resourceType\": \"Bundle\", \"entry\": \"x\"}",
                        "{\"resourceType\": \"Bundle\", \"entry\": 5}",
                        "{\"resourceType\": \"Bundle\", \"entry\": [5]}",
                        "{\"resourceType\": \"Bundle\", \"entry\": [{\"resource\": \"x\"}]}" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_cmpint (cli (bad[i], &out, &err, "review", "--kb", sample_kb, "--now", "2026-11-20T10:00:00+08:00", "-", NULL), ==, 2);
      g_assert_nonnull (strstr (err, "entry"));
      assert_one_line (err);
      g_clear_pointer (&out, g_free);
      g_clear_pointer (&err, g_free);
    }

  g_assert_cmpint (cli (NULL, &out, &err, "review", "--kb", sample_kb, "--now", "2026-11-20T10:00:00+08:00", "--table", bundle, NULL), ==, 0);
  g_assert_false (g_str_has_prefix (out, "{"));
  g_assert_nonnull (strstr (out, "pass"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_mkdir_with_parents (kb, 0700);
  g_assert_true (g_file_set_contents (drugs, "code,name,ingredient,special_class\nYP1,药,warfarin,none\n", -1, NULL));
  g_assert_true (g_file_set_contents (meta, "key,value\nversion,\"2026 \"\"final\"\"\"\n", -1, NULL));
  g_assert_cmpint (cli (NULL, &out, &err, "kb", "check", kb, "--json", NULL), ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "version"), ==, "2026 \"final\"");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_true (g_file_set_contents (pw, "admin-password\n", -1, NULL));
  g_assert_cmpint (cli (NULL, &out, &err, "init", "--db", db, "--admin", "admin", "--password-file", pw, "--json", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (NULL, &out, &err, "kb", "import", kb, "--db", db, "--user", "admin", "--password-file", pw, "--json", NULL), ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (json_parser_get_root (parser)), "drugs"), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("pd-cli-review-XXXXXX", NULL);
  sample_kb = g_build_filename (g_getenv ("PHARMDESK_SHARED"), "spec", "sample-kb", NULL);
  examples = g_build_filename (g_getenv ("PHARMDESK_SHARED"), "spec", "examples", NULL);
  g_test_add_func ("/cli-review/bad-input", test_bad_input);
  g_test_add_func ("/cli-review/lang-and-rule", test_lang_and_rule);
  g_test_add_func ("/cli-review/reuse-with-db", test_reuse_with_db);
  g_test_add_func ("/cli-review/kb-check", test_kb_check);
  g_test_add_func ("/cli-review/shapes-and-output", test_shapes_and_output);
  return g_test_run ();
}
