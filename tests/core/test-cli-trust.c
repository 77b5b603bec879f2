/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-trust"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>

static char *dir;

static int
cli (char **out,
     char **err,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *db = g_build_filename (dir, "p.db", NULL);
  va_list ap;
  const char *arg;
  int status = 0;

  g_ptr_array_add (argv, (char *) g_getenv ("PHARMDESK_CLI"));
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, "--db");
  g_ptr_array_add (argv, db);
  g_ptr_array_add (argv, "--json");
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (dir, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status, NULL));
  return WEXITSTATUS (status);
}

static void
test_init_accounts_audit (void)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *pw = g_build_filename (dir, "admin.pw", NULL);
  g_autofree char *pw2 = g_build_filename (dir, "wang.pw", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.pw", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();

  g_assert_true (g_file_set_contents (pw, "admin-password\n", -1, NULL));
  g_assert_true (g_file_set_contents (pw2, "wang-password\n", -1, NULL));
  g_assert_true (g_file_set_contents (bad, "not-the-password\n", -1, NULL));

  g_assert_cmpint (cli (&out, &err, "init", "--admin", "admin", "--password-file", pw, NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  g_assert_cmpuint (strlen (json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "recovery_key")), ==, 64);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A second init changes nothing and says why. */
  g_assert_cmpint (cli (&out, &err, "init", "--admin", "other", "--password-file", pw, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "already has accounts"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A password on the command line is not an option. */
  g_assert_cmpint (cli (&out, &err, "account", "list", "--user", "admin", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "--password-file"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (&out, &err, "account", "add", "wang", "--roles", "pharmacist", "--licence", "YS-1",
                        "--new-password-file", pw2, "--user", "admin", "--password-file", pw, NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The pharmacist may not list accounts: refused by core, exit 1. */
  g_assert_cmpint (cli (&out, &err, "account", "list", "--user", "wang", "--password-file", pw2, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "may not"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (&out, &err, "account", "list", "--user", "admin", "--password-file", bad, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "Wrong user name or password"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (&out, &err, "account", "list", "--user", "admin", "--password-file", pw, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"wang\""));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (&out, &err, "audit", "export", "--from", "2026-01-01", "--to", "2030-12-31", "--out", "-",
                        "--user", "admin", "--password-file", pw, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"AuditEvent\""));
  g_assert_nonnull (strstr (out, "urn:pharmdesk:audit-head-jws"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (&out, &err, "audit", "verify", "--user", "admin", "--password-file", pw, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"ok\" : true"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* An intruder edits a row: verify names it. */
  {
    g_autofree char *db = g_build_filename (dir, "p.db", NULL);
    sqlite3 *h = NULL;
    g_assert_cmpint (sqlite3_open (db, &h), ==, 0);
    g_assert_cmpint (sqlite3_exec (h, "DROP TRIGGER audit_event_no_update; UPDATE audit_event SET detail = 'x' WHERE seq = 2", NULL, NULL, NULL), ==, 0);
    sqlite3_close (h);
  }
  g_assert_cmpint (cli (&out, &err, "audit", "verify", "--user", "admin", "--password-file", pw, NULL), ==, 1);
  g_assert_nonnull (strstr (out, "\"first_bad_row\" : 2"));
  g_assert_nonnull (strstr (err, "row 2"));
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("pd-cli-trust-XXXXXX", NULL);
  g_test_add_func ("/cli/init-accounts-audit", test_init_accounts_audit);
  status = g_test_run ();
  return status;
}
