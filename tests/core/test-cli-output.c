/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-output"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

/* What the CLI prints as cli.md promises: --help that lists a command's
 * verbs and the global options, JSON from account add, and tables aligned
 * by display width (Chinese takes two columns). */

static char *dir;

static int
cli (char **out,
     char **err,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  va_list ap;
  const char *arg;
  int status = 0;

  g_ptr_array_add (argv, (char *) g_getenv ("PHARMDESK_CLI"));
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (dir, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status, NULL));
  return WEXITSTATUS (status);
}

static void
test_account_help (void)
{
  g_autofree char *out = NULL, *err = NULL;

  g_assert_cmpint (cli (&out, &err, "account", "--help", NULL), ==, 0);
  for (const char *want[] = { "add NAME", "list", "lock NAME", "unlock NAME", "passwd", "--roles", "--display-name",
                              "--licence", "--db", "--user", "--password-file", "--json", "--table", NULL }, **w = want; *w != NULL; w++)
    if (strstr (out, *w) == NULL)
      g_error ("account --help lacks “%s”:\n%s", *w, out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The global options in every command's --help, not behind --help-global. */
  g_assert_cmpint (cli (&out, &err, "outbox", "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "--db"));
  g_assert_nonnull (strstr (out, "--password-file"));
}

static void
test_account_json_and_table (void)
{
  g_autofree char *db = g_build_filename (dir, "p.db", NULL);
  g_autofree char *pw = g_build_filename (dir, "admin.pw", NULL);
  g_autofree char *pw2 = g_build_filename (dir, "wang.pw", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  JsonObject *o;
  long roles_at = -1;

  g_assert_true (g_file_set_contents (pw, "admin-password\n", -1, NULL));
  g_assert_true (g_file_set_contents (pw2, "wang-password\n", -1, NULL));
  g_assert_cmpint (cli (&out, &err, "init", "--db", db, "--admin", "admin", "--display-name", "Admin", "--password-file", pw, "--json", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (&out, &err, "account", "add", "wang", "--roles", "pharmacist", "--licence", "YS-1", "--display-name", "王药师",
                        "--new-password-file", pw2, "--db", db, "--user", "admin", "--password-file", pw, "--json", NULL), ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "username"), ==, "wang");
  g_assert_cmpstr (json_object_get_string_member (o, "display_name"), ==, "王药师");
  g_assert_cmpstr (json_object_get_string_member (o, "roles"), ==, "pharmacist");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The roles column starts at the same display column on every row. */
  g_assert_cmpint (cli (&out, &err, "account", "list", "--db", db, "--user", "admin", "--password-file", pw, "--table", NULL), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >=, 2);
  for (guint i = 0; lines[i] != NULL && *lines[i] != '\0'; i++)
    {
      const char *role = strstr (lines[i], "admin") != lines[i] ? strstr (lines[i], "pharmacist") : strstr (lines[i] + 5, "admin");
      g_autofree char *before = NULL;
      long width = 0;

      g_assert_nonnull (role);
      before = g_strndup (lines[i], role - lines[i]);
      for (const char *p = before; *p != '\0'; p = g_utf8_next_char (p))
        width += g_unichar_iswide (g_utf8_get_char (p)) ? 2 : 1;
      if (roles_at < 0)
        roles_at = width;
      g_assert_cmpint (width, ==, roles_at);
    }
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("pd-cli-output-XXXXXX", NULL);
  g_test_add_func ("/cli-output/account-help", test_account_help);
  g_test_add_func ("/cli-output/account-json-and-table", test_account_json_and_table);
  status = g_test_run ();
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);

    if (system (cmd) != 0)
      g_warning ("could not remove %s", dir);
  }
  return status;
}
