/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-db"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "pd-store.h"

static int
run_cli (const char  *db,
         char       **out,
         char       **err)
{
  const char *argv[] = { g_getenv ("PHARMDESK_CLI"), "db", "check", "--json", "--db", db, NULL };
  int status = 0;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (argv[0]);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_db_check (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pd-cli-db-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "p.db", NULL);
  g_autofree char *foreign = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *missing = g_build_filename (dir, "none.db", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *o;
  PdStore *store;

  store = pd_store_open (path, NULL);
  g_assert_nonnull (store);
  g_assert_true (pd_store_exec (store, "INSERT INTO prescription (uuid, rx_system, rx_number) VALUES ('u', 's', 'RX-1')", NULL));
  pd_store_close (store);
  g_object_unref (store);

  g_assert_cmpint (run_cli (path, &out, &err), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_get_boolean_member (o, "ok"));
  g_assert_cmpint (json_object_get_int_member (o, "schema_version"), ==, pd_schema_pharmacy ()->n_migrations);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A prescription pointing at a missing account's decision: foreign_key_check finds it. */
  {
    sqlite3 *db = NULL;
    g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db, "INSERT INTO review_decision (uuid, prescription_id, pharmacist_id, decision, kb_version, record, jws, decided_at)"
                                      " VALUES ('d', 1, 42, 'approve', 'v', '{}', 'x', 'now')", NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close (db);
  }
  g_assert_cmpint (run_cli (path, &out, &err), ==, 1);
  g_assert_nonnull (strstr (out, "account"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_true (g_file_set_contents (foreign, "hello", -1, NULL));
  g_assert_cmpint (run_cli (foreign, &out, &err), ==, 2);
  g_assert_nonnull (strstr (err, "not a PharmDesk database"));
  g_assert_null (strchr (err, '\n') == err + strlen (err) - 1 ? NULL : "more than one line");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (missing, &out, &err), ==, 2);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));

  g_remove (path);
  g_remove (foreign);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/db-check", test_db_check);
  return g_test_run ();
}
