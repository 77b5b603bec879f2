/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-audit-pending"

/* Issue #12: rows written before a sign-in (refused attempts) could be
 * planted or deleted unseen. Runs under keyring-run (a private
 * gnome-keyring); "no keyring" is a session bus taken away. */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-audit-pending.h"
#include "pd-session.h"

typedef struct {
  char    *dir;
  PdStore *store;
  char    *bus;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  PdAccountSpec boss = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec wang = { "wang", "王药师", PD_ROLE_PHARMACIST, "YS-1", "Practitioner/ph-1", NULL };
  g_autoptr(PdSession) admin = NULL;

  f->bus = g_strdup (g_getenv ("DBUS_SESSION_BUS_ADDRESS"));
  f->dir = g_dir_make_tmp ("pd-pending-XXXXXX", NULL);
  path = g_build_filename (f->dir, "p.db", NULL);
  f->store = pd_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_init (f->store, &boss, "admin-password", NULL, &error));
  admin = pd_session_sign_in (f->store, "admin", "admin-password", &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_add (admin, &wang, "password-1234", &error));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  if (f->bus != NULL)
    g_setenv ("DBUS_SESSION_BUS_ADDRESS", f->bus, TRUE);
  g_clear_object (&f->store);
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
  g_free (f->dir);
  g_free (f->bus);
}

static void
exec (Fixture    *f,
      const char *sql)
{
  g_autoptr(GError) error = NULL;

  if (!pd_store_exec (f->store, sql, &error))
    g_error ("%s: %s", sql, error->message);
}

static gint64
count (Fixture    *f,
       const char *sql)
{
  sqlite3_stmt *stmt = pd_store_prepare (f->store, sql, NULL);
  gint64 n = -1;

  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

static void
wrong_passwords (Fixture *f,
                 int      n)
{
  for (int i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_null (pd_session_sign_in (f->store, "wang", "not-it", &error));
      g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_WRONG_PASSWORD);
    }
}

/* Signs in (which seals the waiting rows) and verifies the trail. */
static void
sign_in_and_verify (Fixture       *f,
                    PdAuditReport *report)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdSession) s = pd_session_sign_in (f->store, "admin", "admin-password", &error);

  g_assert_no_error (error);
  g_assert_cmpint (count (f, "SELECT count(*) FROM audit_pending"), ==, 0);
  g_assert_true (pd_audit_verify (f->store, pd_session_get_audit_key (s), report, &error));
  g_assert_no_error (error);
}

static void
test_clean (Fixture       *f,
            gconstpointer  data)
{
  g_auto(PdAuditReport) report = { 0 };

  wrong_passwords (f, 3);
  sign_in_and_verify (f, &report);
  g_assert_true (report.ok);
  g_assert_true (report.pending_checked);
  g_assert_null (report.pending_note);
  g_assert_cmpint (count (f, "SELECT count(*) FROM audit_event WHERE action = 'sign-in' AND outcome = 'refused'"), ==, 3);
  g_assert_cmpint (count (f, "SELECT count(*) FROM audit_event WHERE action = 'audit.pending-tampered'"), ==, 0);
}

/* One who has the file but not the keyring adds a row (chained as the
 * desk would, but the keyring never hears of it). */
static void
test_planted (Fixture       *f,
              gconstpointer  data)
{
  g_auto(PdAuditReport) report = { 0 };
  PdAuditEntry forged = { 0, "sign-in", "account", NULL, "ok", "forged", NULL, NULL };

  wrong_passwords (f, 2);
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
  g_assert_true (pd_audit_pending_add (f->store, &forged, NULL, NULL, NULL));
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", f->bus, TRUE);

  sign_in_and_verify (f, &report);
  g_assert_false (report.ok);
  g_assert_nonnull (strstr (report.problem, "planted"));
  g_assert_cmpint (count (f, "SELECT count(*) FROM audit_event WHERE action = 'audit.pending-tampered'"), ==, 1);
}

/* A refused attempt deleted, the chain's head rewound to match. */
static void
test_removed (Fixture       *f,
              gconstpointer  data)
{
  g_auto(PdAuditReport) report = { 0 };

  wrong_passwords (f, 3);
  exec (f, "UPDATE audit_head SET pending_seq = pending_seq - 1,"
           " pending_mac = (SELECT mac FROM audit_pending ORDER BY seq DESC LIMIT 1 OFFSET 1);"
           "DELETE FROM audit_pending WHERE seq = (SELECT max (seq) FROM audit_pending)");
  sign_in_and_verify (f, &report);
  g_assert_false (report.ok);
  g_assert_nonnull (strstr (report.problem, "removed"));
  g_assert_cmpint (count (f, "SELECT count(*) FROM audit_event WHERE action = 'sign-in' AND outcome = 'refused'"), ==, 2);
}

/* Without a keyring the chain still shows an edit, and `verify` says the
 * keyring was not asked. */
static void
test_no_keyring (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdSession) s = NULL;
  g_auto(PdAuditReport) report = { 0 };

  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
  wrong_passwords (f, 2);
  s = pd_session_sign_in (f->store, "admin", "admin-password", &error);
  g_assert_no_error (error);
  wrong_passwords (f, 1);
  g_assert_true (pd_audit_verify (f->store, pd_session_get_audit_key (s), &report, &error));
  g_assert_true (report.ok);
  g_assert_false (report.pending_checked);
  g_assert_nonnull (strstr (report.pending_note, "no keyring"));
  pd_audit_report_clear (&report);

  exec (f, "UPDATE audit_pending SET detail = 'account locked'");
  g_assert_true (pd_audit_verify (f->store, pd_session_get_audit_key (s), &report, &error));
  g_assert_false (report.ok);
  g_assert_nonnull (strstr (report.problem, "altered"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    g_error ("run under tests/core/keyring-run (a private gnome-keyring)");
#define ADD(name, fn) g_test_add (name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/audit-pending/clean", test_clean);
  ADD ("/audit-pending/planted", test_planted);
  ADD ("/audit-pending/removed", test_removed);
  ADD ("/audit-pending/no-keyring", test_no_keyring);
#undef ADD
  return g_test_run ();
}
