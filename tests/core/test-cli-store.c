/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-store"

#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How every command but `init` finds, opens and refuses the database
 * (pd_cli_open_store): a missing or empty file is said as such and never
 * created, credentials given are checked, a read-only file reads, and a
 * damaged one is named with what to do and no SQL text. */

static char *dir;

/* Runs the CLI; as_nobody drops root, which ignores file permissions. */
static int
run (gboolean     as_nobody,
     char       **err,
     const char  *first,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  va_list ap;
  int status = 0;

  if (as_nobody)
    {
      g_ptr_array_add (argv, "setpriv");
      g_ptr_array_add (argv, "--reuid=nobody");
      g_ptr_array_add (argv, "--regid=nogroup");
      g_ptr_array_add (argv, "--clear-groups");
    }
  g_ptr_array_add (argv, (char *) g_getenv ("PHARMDESK_CLI"));
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, "--json");
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (dir, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, err, &status, NULL));
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
assert_plain (const char *err,
              const char *path)
{
  g_assert_nonnull (strstr (err, path));
  g_assert_null (strstr (err, "SELECT"));
  g_assert_null (strstr (err, "INSERT"));
  g_assert_null (strstr (err, "PRAGMA"));
  g_assert_true (g_str_has_suffix (err, "\n"));
  g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
}

static char *
make_db (const char *name)
{
  g_autofree char *pw = g_build_filename (dir, "admin.pw", NULL);
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *err = NULL;

  g_assert_true (g_file_set_contents (pw, "admin-password\n", -1, NULL));
  g_chmod (pw, 0644);
  g_assert_cmpint (run (FALSE, &err, "init", "--db", path, "--admin", "admin", "--password-file", pw, NULL), ==, 0);
  g_chmod (path, 0644);
  return path;
}

static void
test_missing_and_empty (void)
{
  g_autofree char *missing = g_build_filename (dir, "mistyped.db", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.db", NULL);
  g_autofree char *pw = g_build_filename (dir, "admin.pw", NULL);
  g_autofree char *err = NULL;

  g_assert_true (g_file_set_contents (pw, "admin-password\n", -1, NULL));
  /* Not "Wrong user name or password" on a database made on the spot. */
  g_assert_cmpint (run (FALSE, &err, "account", "list", "--db", missing, "--user", "admin", "--password-file", pw, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "No database at"));
  assert_plain (err, missing);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run (FALSE, &err, "outbox", "list", "--db", missing, NULL), ==, 2);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  g_clear_pointer (&err, g_free);

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_cmpint (run (FALSE, &err, "outbox", "list", "--db", empty, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "is empty"));
  assert_plain (err, empty);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (FALSE, &err, "db", "check", "--db", empty, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "is empty"));
  g_clear_pointer (&err, g_free);
  {
    GStatBuf st;

    g_assert_cmpint (g_stat (empty, &st), ==, 0);
    g_assert_cmpint (st.st_size, ==, 0);
  }
}

static void
test_credentials_checked (void)
{
  g_autofree char *db = make_db ("creds.db");
  g_autofree char *pw = g_build_filename (dir, "admin.pw", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.pw", NULL);
  g_autofree char *err = NULL;

  g_assert_true (g_file_set_contents (bad, "not-the-password\n", -1, NULL));
  g_assert_cmpint (run (FALSE, &err, "outbox", "list", "--db", db, "--user", "admin", "--password-file", bad, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "Wrong user name or password"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (FALSE, &err, "outbox", "list", "--db", db, "--user", "admin", "--password-file", pw, NULL), ==, 0);
  g_clear_pointer (&err, g_free);
  /* Without credentials it needs none. */
  g_assert_cmpint (run (FALSE, &err, "outbox", "list", "--db", db, NULL), ==, 0);
}

/* Root ignores file permissions: the read-only cases run as nobody. */
static gboolean
can_drop_root (void)
{
  g_autofree char *setpriv = g_find_program_in_path ("setpriv");

  if (getuid () != 0 || setpriv == NULL)
    {
      g_test_skip ("needs root and setpriv to run the CLI as a user the file is read-only for");
      return FALSE;
    }
  return TRUE;
}

static void
test_read_only (void)
{
  g_autofree char *ro_dir = g_build_filename (dir, "ro", NULL);
  g_autofree char *db = NULL;
  g_autofree char *shm = NULL;
  g_autofree char *pw = g_build_filename (dir, "admin.pw", NULL);
  g_autofree char *err = NULL;

  if (!can_drop_root ())
    return;
  g_assert_cmpint (g_mkdir (ro_dir, 0777), ==, 0);
  g_chmod (ro_dir, 0777);
  {
    g_autofree char *made = make_db ("ro-src.db");
    g_autofree char *data = NULL;
    gsize len;

    db = g_build_filename (ro_dir, "p.db", NULL);
    g_assert_true (g_file_get_contents (made, &data, &len, NULL));
    g_assert_true (g_file_set_contents (db, data, len, NULL));
  }
  shm = g_strconcat (db, "-shm", NULL);

  /* A file of 0444 in a folder the user may write. */
  g_chmod (db, 0444);
  g_assert_cmpint (run (TRUE, &err, "outbox", "list", "--db", db, NULL), ==, 0);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (TRUE, &err, "db", "check", "--db", db, NULL), ==, 0);
  g_clear_pointer (&err, g_free);
  /* Reading leaves nothing behind (no -shm owned by the reader). */
  g_assert_false (g_file_test (shm, G_FILE_TEST_EXISTS));
  /* Signing in writes the audit trail: said plainly. */
  g_assert_cmpint (run (TRUE, &err, "account", "list", "--db", db, "--user", "admin", "--password-file", pw, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "is read-only"));
  assert_plain (err, db);
  g_clear_pointer (&err, g_free);

  /* The same in a folder of 0555: not "damaged". */
  g_chmod (ro_dir, 0555);
  g_assert_cmpint (run (TRUE, &err, "db", "check", "--db", db, NULL), ==, 0);
  g_assert_null (strstr (err, "damaged"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (TRUE, &err, "outbox", "list", "--db", db, NULL), ==, 0);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (TRUE, &err, "verify-review", "--db", db, "no-such-decision", NULL), ==, 2);
  g_assert_null (strstr (err, "read-only"));
  g_clear_pointer (&err, g_free);

  g_chmod (ro_dir, 0777);
  g_chmod (db, 0644);
}

static void
test_garbage_pages (void)
{
  g_autofree char *db = make_db ("garbage.db");
  g_autofree char *err = NULL;
  sqlite3 *sdb = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 root = 0, page_size = 0;
  FILE *f;
  char junk[512];

  /* The page of store_meta turned to noise; page 1 and the header intact. */
  g_assert_cmpint (sqlite3_open_v2 (db, &sdb, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (sdb, "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_schema WHERE name = 'store_meta'", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  root = sqlite3_column_int64 (stmt, 0);
  page_size = sqlite3_column_int64 (stmt, 1);
  sqlite3_finalize (stmt);
  sqlite3_close (sdb);
  g_assert_cmpint (root, >, 1);
  memset (junk, 0xA5, sizeof junk);
  f = fopen (db, "r+b");
  g_assert_nonnull (f);
  fseek (f, (root - 1) * page_size, SEEK_SET);
  for (gint64 i = 0; i < page_size / (gint64) sizeof junk; i++)
    fwrite (junk, 1, sizeof junk, f);
  fclose (f);

  g_assert_cmpint (run (FALSE, &err, "outbox", "list", "--db", db, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "damaged"));
  g_assert_nonnull (strstr (err, "backup"));
  assert_plain (err, db);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (FALSE, &err, "db", "check", "--db", db, NULL), ==, 1);
}

static void
test_cut_off_and_foreign_wal (void)
{
  g_autofree char *db = make_db ("cut.db");
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);
  g_autofree char *other = g_build_filename (dir, "other.db", NULL);
  g_autofree char *other_wal = g_strconcat (other, "-wal", NULL);
  g_autofree char *err = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  sqlite3 *sdb = NULL;

  g_assert_cmpint (truncate (db, 8192), ==, 0);
  g_assert_cmpint (run (FALSE, &err, "db", "check", "--db", db, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "cut off"));
  assert_plain (err, db);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (FALSE, &err, "outbox", "list", "--db", db, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "cut off"));
  g_clear_pointer (&err, g_free);

  /* Another program's WAL, holding its whole database, beside ours. */
  g_assert_cmpint (sqlite3_open (other, &sdb), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (sdb, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
                                      "CREATE TABLE t (x); INSERT INTO t VALUES (zeroblob(400000)); VACUUM",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_true (g_file_get_contents (other_wal, &data, &len, NULL));
  g_assert_true (g_file_set_contents (wal, data, len, NULL));
  sqlite3_close (sdb);

  g_assert_cmpint (run (FALSE, &err, "db", "check", "--db", db, NULL), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (FALSE, &err, "outbox", "list", "--db", db, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "-wal"));
  assert_plain (err, db);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("pd-cli-store-XXXXXX", NULL);
  g_chmod (dir, 0755);
  g_test_add_func ("/cli-store/missing-and-empty", test_missing_and_empty);
  g_test_add_func ("/cli-store/credentials-checked", test_credentials_checked);
  g_test_add_func ("/cli-store/read-only", test_read_only);
  g_test_add_func ("/cli-store/garbage-pages", test_garbage_pages);
  g_test_add_func ("/cli-store/cut-off-and-foreign-wal", test_cut_off_and_foreign_wal);
  status = g_test_run ();
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);

    if (system (cmd) != 0)
      g_warning ("could not remove %s", dir);
  }
  return status;
}
