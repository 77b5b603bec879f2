/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-clock"

/* Issue #12, the CLI's side of sign-in: an empty password, a clock moved
 * by --now, and a long password on standard input. */

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

typedef struct {
  char *dir;
  char *db;
  char *pw;
} Fixture;

typedef struct {
  int    status;
  int    signal;
  char  *out;
  char  *err;
} Run;

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* pharmdesk-cli ARGS… --db DB --json, with INPUT on stdin and NOW (or
 * nothing) as PHARMDESK_NOW. */
static void
cli (Fixture    *f,
     Run        *r,
     const char *input,
     const char *now_env,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                                                       | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                                       | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  va_list ap;
  const char *arg;

  g_ptr_array_add (argv, (char *) g_getenv ("PHARMDESK_CLI"));
  va_start (ap, now_env);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, "--db");
  g_ptr_array_add (argv, f->db);
  g_ptr_array_add (argv, "--json");
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "PHARMDESK_NOW", now_env != NULL ? now_env : "", TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, input != NULL ? input : "", NULL, &r->out, &r->err, &error));
  g_assert_no_error (error);
  r->signal = g_subprocess_get_if_signaled (proc) ? g_subprocess_get_term_sig (proc) : 0;
  r->status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
  g_test_message ("status %d signal %d: %s", r->status, r->signal, r->err);
}

static gint64
db_int (Fixture    *f,
        const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 v = -1;

  g_assert_cmpint (sqlite3_open_v2 (f->db, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return v;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->dir = g_dir_make_tmp ("pd-cli-clock-XXXXXX", NULL);
  f->db = g_build_filename (f->dir, "p.db", NULL);
  f->pw = g_build_filename (f->dir, "admin.pw", NULL);
  g_assert_true (g_file_set_contents (f->pw, "admin-password\n", -1, NULL));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
  g_free (f->dir);
  g_free (f->db);
  g_free (f->pw);
}

static void
init_db (Fixture  *f,
         gboolean  settable,
         const char *now)
{
  g_auto(Run) r = { 0 };

  if (settable)
    cli (f, &r, NULL, now, "init", "--admin", "admin", "--settable-clock", "--password-file", f->pw, NULL);
  else
    cli (f, &r, NULL, now, "init", "--admin", "admin", "--password-file", f->pw, NULL);
  g_assert_cmpint (r.status, ==, 0);
}

/* Issue #12: an empty password crashed sign-in inside libgcrypt. */
static void
test_empty_password (Fixture       *f,
                     gconstpointer  data)
{
  static const char *blanks[] = { "", "\n", "   \n", "\t \n" };
  g_autofree char *empty = g_build_filename (f->dir, "empty.pw", NULL);

  init_db (f, FALSE, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (blanks); i++)
    {
      g_auto(Run) r = { 0 };

      g_assert_true (g_file_set_contents (empty, blanks[i], -1, NULL));
      cli (f, &r, NULL, NULL, "account", "list", "--user", "admin", "--password-file", empty, NULL);
      g_assert_cmpint (r.signal, ==, 0);
      g_assert_cmpint (r.status, ==, 1);
      g_assert_nonnull (strstr (r.err, "empty one is never accepted"));
    }
  {
    g_auto(Run) r = { 0 };

    /* On standard input too. */
    cli (f, &r, "\n", NULL, "account", "list", "--user", "admin", "--password-stdin", NULL);
    g_assert_cmpint (r.signal, ==, 0);
    g_assert_cmpint (r.status, ==, 1);
  }
  /* Each attempt counts toward the lockout and is recorded, like any refusal. */
  g_assert_cmpint (db_int (f, "SELECT failed_logins FROM account WHERE username = 'admin'"), ==, 5);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM audit_pending WHERE detail LIKE 'empty password%'"), ==, 5);
}

/* Issue #12: --now moved the clock of a real pharmacy's database. */
static void
test_now_refused_on_real_database (Fixture       *f,
                                   gconstpointer  data)
{
  g_auto(Run) r = { 0 };
  g_auto(Run) r2 = { 0 };
  g_auto(Run) r3 = { 0 };
  g_auto(Run) r4 = { 0 };

  /* init without --settable-clock refuses --now, and makes no file. */
  cli (f, &r, NULL, "2020-01-01T09:00:00+08:00", "init", "--admin", "admin", "--password-file", f->pw, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--settable-clock"));
  g_assert_false (g_file_test (f->db, G_FILE_TEST_EXISTS));

  init_db (f, FALSE, NULL);
  cli (f, &r2, NULL, NULL, "account", "list", "--user", "admin", "--password-file", f->pw,
       "--now", "2020-01-01T09:00:00+08:00", NULL);
  g_assert_cmpint (r2.status, ==, 2);
  g_assert_nonnull (strstr (r2.err, "settable-clock"));
  cli (f, &r3, NULL, "2020-01-01T09:00:00+08:00", "audit", "verify", "--user", "admin", "--password-file", f->pw, NULL);
  g_assert_cmpint (r3.status, ==, 2);
  /* Nothing was signed in or written at that time. */
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM audit_event WHERE at LIKE '2020%' OR clock_at IS NOT NULL"), ==, 0);
  /* A real database never becomes a training one. */
  cli (f, &r4, NULL, NULL, "init", "--admin", "other", "--settable-clock", "--password-file", f->pw, NULL);
  g_assert_cmpint (r4.status, !=, 0);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM store_meta WHERE key = 'settable_clock'"), ==, 0);
}

/* A training database takes --now; each row keeps the machine's time and
 * the training clock's; lockouts follow the machine's clock. */
static void
test_settable_clock (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *bad = g_build_filename (f->dir, "bad.pw", NULL);
  g_auto(Run) ok = { 0 };
  g_auto(Run) verify = { 0 };
  g_auto(Run) locked = { 0 };

  init_db (f, TRUE, "2020-01-01T09:00:00+08:00");
  cli (f, &ok, NULL, NULL, "account", "list", "--user", "admin", "--password-file", f->pw,
       "--now", "2020-01-01T10:00:00+08:00", NULL);
  g_assert_cmpint (ok.status, ==, 0);
  /* The trail's order follows the machine's clock; every row is marked. */
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM audit_event WHERE at LIKE '2020%'"), ==, 0);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM audit_event WHERE clock_at IS NULL"), ==, 0);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM audit_event WHERE action = 'sign-in' AND clock_at = '2020-01-01T10:00:00+08:00'"), ==, 1);
  cli (f, &verify, NULL, "2020-01-01T10:05:00+08:00", "audit", "verify", "--user", "admin", "--password-file", f->pw, NULL);
  g_assert_cmpint (verify.status, ==, 0);
  g_assert_nonnull (strstr (verify.out, "\"head_signed\" : true"));

  g_assert_true (g_file_set_contents (bad, "wrong-password\n", -1, NULL));
  for (int i = 0; i < 5; i++)
    {
      g_auto(Run) r = { 0 };

      cli (f, &r, NULL, "2020-01-01T10:10:00+08:00", "account", "list", "--user", "admin", "--password-file", bad, NULL);
      g_assert_cmpint (r.status, ==, 1);
    }
  /* A day later by --now, the account is still locked out. */
  cli (f, &locked, NULL, "2020-01-02T10:10:00+08:00", "account", "list", "--user", "admin", "--password-file", f->pw, NULL);
  g_assert_cmpint (locked.status, ==, 1);
  g_assert_nonnull (strstr (locked.err, "locked"));
}

/* Issue #12: --password-stdin kept 1,023 bytes, so a longer password was
 * silently another one. */
static void
test_long_password_on_stdin (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *long_pw = g_strnfill (3000, 'k');
  g_autofree char *line = g_strconcat (long_pw, "\n", NULL);
  g_autofree char *prefix_file = g_build_filename (f->dir, "prefix.pw", NULL);
  g_autofree char *prefix = g_strndup (long_pw, 1023);
  g_auto(Run) init = { 0 };
  g_auto(Run) whole = { 0 };
  g_auto(Run) cut = { 0 };

  cli (f, &init, line, NULL, "init", "--admin", "admin", "--password-stdin", NULL);
  g_assert_cmpint (init.status, ==, 0);
  cli (f, &whole, line, NULL, "account", "list", "--user", "admin", "--password-stdin", NULL);
  g_assert_cmpint (whole.status, ==, 0);
  g_assert_true (g_file_set_contents (prefix_file, prefix, -1, NULL));
  cli (f, &cut, NULL, NULL, "account", "list", "--user", "admin", "--password-file", prefix_file, NULL);
  g_assert_cmpint (cut.status, ==, 1);
}

/* Issue #12: `account list` said "locked": false next to a lockout still
 * running. */
static void
test_account_list_shows_lockout (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *wang = g_build_filename (f->dir, "wang.pw", NULL);
  g_autofree char *bad = g_build_filename (f->dir, "bad.pw", NULL);
  g_auto(Run) add = { 0 };
  g_auto(Run) list = { 0 };

  init_db (f, FALSE, NULL);
  g_assert_true (g_file_set_contents (wang, "wang-password\n", -1, NULL));
  g_assert_true (g_file_set_contents (bad, "wrong-password\n", -1, NULL));
  cli (f, &add, NULL, NULL, "account", "add", "wang", "--roles", "pharmacist", "--licence", "YS-1",
       "--new-password-file", wang, "--user", "admin", "--password-file", f->pw, NULL);
  g_assert_cmpint (add.status, ==, 0);
  for (int i = 0; i < 5; i++)
    {
      g_auto(Run) r = { 0 };

      cli (f, &r, NULL, NULL, "account", "list", "--user", "wang", "--password-file", bad, NULL);
    }
  cli (f, &list, NULL, NULL, "account", "list", "--user", "admin", "--password-file", f->pw, NULL);
  g_assert_cmpint (list.status, ==, 0);
  g_assert_nonnull (strstr (list.out, "\"locked\" : true"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add (name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/cli-clock/empty-password", test_empty_password);
  ADD ("/cli-clock/now-refused-on-real-database", test_now_refused_on_real_database);
  ADD ("/cli-clock/settable-clock", test_settable_clock);
  ADD ("/cli-clock/long-password-on-stdin", test_long_password_on_stdin);
  ADD ("/cli-clock/account-list-shows-lockout", test_account_list_shows_lockout);
#undef ADD
  return g_test_run ();
}
