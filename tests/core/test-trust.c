/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-trust"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-clock.h"
#include "pd-registry.h"
#include "pd-signing.h"

typedef struct {
  char    *dir;
  PdStore *store;
  char    *recovery;
} Fixture;

static const PdAccountSpec people[] = {
  { "wang", "王药师", PD_ROLE_PHARMACIST, "YS-110105-0001", "Practitioner/ph-1", NULL },
  { "zhao", "赵核对", PD_ROLE_CHECKER, NULL, NULL, NULL },
  { "sun", "孙配送", PD_ROLE_DELIVERY, NULL, NULL, NULL },
  { "li", "李会计", PD_ROLE_CLERK, NULL, NULL, "clerk01" },
};

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PdSession) admin = NULL;
  PdAccountSpec boss = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };

  pd_clock_set_now_from_iso (pd_clock_get_default (), "2026-11-20T09:00:00+08:00", NULL);
  pd_clock_set_scale (pd_clock_get_default (), 0.0);
  f->dir = g_dir_make_tmp ("pd-trust-XXXXXX", NULL);
  path = g_build_filename (f->dir, "p.db", NULL);
  f->store = pd_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_false (pd_accounts_exist (f->store));
  g_assert_true (pd_accounts_init (f->store, &boss, "admin-password", &f->recovery, &error));
  g_assert_no_error (error);
  g_assert_true (pd_accounts_exist (f->store));
  admin = pd_session_sign_in (f->store, "admin", "admin-password", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (people); i++)
    {
      g_assert_true (pd_accounts_add (admin, &people[i], "password-1234", &error));
      g_assert_no_error (error);
    }
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *path = g_strdup (pd_store_get_path (f->store));

  pd_clock_shift_real_for_testing (0);

  g_clear_object (&f->store);
  g_remove (path);
  {
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (path, "-shm", NULL);
    g_remove (wal);
    g_remove (shm);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->recovery);
}

static gint64
count (Fixture    *f,
       const char *sql)
{
  sqlite3_stmt *stmt = pd_store_prepare (f->store, sql, NULL);
  gint64 n;

  g_assert_nonnull (stmt);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

static void
assert_trail_intact (Fixture *f)
{
  g_autoptr(PdSession) admin = pd_session_sign_in (f->store, "admin", "admin-password", NULL);
  PdAuditReport report;

  g_assert_nonnull (admin);
  g_assert_true (pd_audit_verify (f->store, pd_session_get_audit_key (admin), &report, NULL));
  if (!report.ok)
    g_error ("%s", report.problem);
  pd_audit_report_clear (&report);
}

static void
test_role_action_matrix (Fixture       *f,
                         gconstpointer  data)
{
  const char *users[] = { "admin", "wang", "zhao", "sun", "li" };
  const PdRoles roles[] = { PD_ROLE_ADMIN, PD_ROLE_PHARMACIST, PD_ROLE_CHECKER, PD_ROLE_DELIVERY, PD_ROLE_CLERK };
  int refusals = 0;

  for (guint u = 0; u < G_N_ELEMENTS (users); u++)
    {
      g_autoptr(PdSession) s = pd_session_sign_in (f->store, users[u],
                                                    u == 0 ? "admin-password" : "password-1234", NULL);

      g_assert_nonnull (s);
      for (PdAction a = 0; a < PD_N_ACTIONS; a++)
        {
          g_autoptr(GError) error = NULL;
          gboolean allowed = (pd_action_get_roles (a) & roles[u]) != 0;
          gint64 before = count (f, "SELECT count(*) FROM audit_event WHERE outcome = 'refused'");

          g_assert_cmpint (pd_session_require (s, a, "prescription", "rx-1", &error), ==, allowed);
          if (!allowed)
            {
              g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_FORBIDDEN);
              g_assert_cmpint (count (f, "SELECT count(*) FROM audit_event WHERE outcome = 'refused'"), ==, before + 1);
              refusals++;
            }
        }
    }
  /* The matrix as the issue reads: the administrator does not open patients,
   * the clerk does not review, the pharmacist does not settle... */
  g_assert_false (pd_action_get_roles (PD_ACTION_OPEN_PATIENT) & PD_ROLE_ADMIN);
  g_assert_false (pd_action_get_roles (PD_ACTION_REVIEW) & PD_ROLE_CLERK);
  g_assert_false (pd_action_get_roles (PD_ACTION_SETTLE) & PD_ROLE_PHARMACIST);
  /* cli.md "Who may do what": stock receive and a fill, pharmacist or checker. */
  g_assert_cmpint (pd_action_get_roles (PD_ACTION_DISPENSE), ==, PD_ROLE_PHARMACIST | PD_ROLE_CHECKER);
  g_assert_cmpint (refusals, >, 40);

  /* Core refuses account management to a non-administrator. */
  {
    g_autoptr(PdSession) s = pd_session_sign_in (f->store, "wang", "password-1234", NULL);
    g_autoptr(GError) error = NULL;
    PdAccountSpec x = { "eve", "Eve", PD_ROLE_ADMIN, NULL, NULL, NULL };

    g_assert_false (pd_accounts_add (s, &x, "password-1234", &error));
    g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_FORBIDDEN);
    g_clear_error (&error);
    g_assert_false (pd_session_set_policy (s, PD_POLICY_IDLE_LOCK_MINUTES, 60, &error));
    g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_FORBIDDEN);
  }
  assert_trail_intact (f);
}

static void
test_lockout (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdSession) s = NULL;

  for (int i = 0; i < 5; i++)
    {
      g_assert_null (pd_session_sign_in (f->store, "wang", "wrong-password", &error));
      g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_WRONG_PASSWORD);
      g_clear_error (&error);
    }
  /* Locked now, even with the right password. */
  g_assert_null (pd_session_sign_in (f->store, "wang", "password-1234", &error));
  g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_LOCKED_OUT);
  g_clear_error (&error);
  g_assert_cmpint (count (f, "SELECT count(*) FROM audit_pending WHERE outcome = 'refused'"), ==, 6);

  /* Moving the clock (--now) does not end a lockout: issue #12. */
  pd_clock_set_now_from_iso (pd_clock_get_default (), "2026-11-21T09:15:01+08:00", NULL);
  g_assert_null (pd_session_sign_in (f->store, "wang", "password-1234", &error));
  g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_LOCKED_OUT);
  g_clear_error (&error);

  /* Fifteen minutes later by the machine's clock (the policy's default) it opens again. */
  pd_clock_shift_real_for_testing (15 * 60 * G_USEC_PER_SEC + G_USEC_PER_SEC);
  s = pd_session_sign_in (f->store, "wang", "password-1234", &error);
  g_assert_no_error (error);
  /* The refusals were chained into the trail by that sign-in. */
  g_assert_cmpint (count (f, "SELECT count(*) FROM audit_pending"), ==, 0);
  g_assert_cmpint (count (f, "SELECT count(*) FROM audit_event WHERE action = 'sign-in' AND outcome = 'refused'"), ==, 7);
  assert_trail_intact (f);

  /* An administrator's lock holds until unlocked. */
  {
    g_autoptr(PdSession) admin = pd_session_sign_in (f->store, "admin", "admin-password", NULL);
    g_autoptr(PdSession) again = NULL;

    g_assert_true (pd_accounts_set_locked (admin, "li", TRUE, NULL));
    g_assert_null (pd_session_sign_in (f->store, "li", "password-1234", &error));
    g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_LOCKED_OUT);
    g_clear_error (&error);
    g_assert_true (pd_accounts_set_locked (admin, "li", FALSE, NULL));
    again = pd_session_sign_in (f->store, "li", "password-1234", &error);
    g_assert_no_error (error);
  }
}

static void
test_idle_lock (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdSession) s = pd_session_sign_in (f->store, "li", "password-1234", &error);

  g_assert_true (pd_session_require (s, PD_ACTION_SETTLE, NULL, NULL, NULL));
  pd_clock_set_now_from_iso (pd_clock_get_default (), "2026-11-20T09:10:30+08:00", NULL);
  g_assert_true (pd_session_is_locked (s));
  g_assert_false (pd_session_require (s, PD_ACTION_SETTLE, NULL, NULL, &error));
  g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_IDLE_LOCKED);
  g_clear_error (&error);
  g_assert_false (pd_session_unlock (s, "wrong-password", &error));
  g_clear_error (&error);
  g_assert_true (pd_session_is_locked (s));
  g_assert_true (pd_session_unlock (s, "password-1234", &error));
  g_assert_true (pd_session_require (s, PD_ACTION_SETTLE, NULL, NULL, NULL));

  /* The idle time is the database's policy, set by an administrator only. */
  {
    g_autoptr(PdSession) admin = pd_session_sign_in (f->store, "admin", "admin-password", NULL);

    g_assert_true (pd_session_set_policy (admin, PD_POLICY_IDLE_LOCK_MINUTES, 30, &error));
    g_assert_false (pd_session_set_policy (admin, PD_POLICY_IDLE_LOCK_MINUTES, 0, &error));
    g_clear_error (&error);
  }
  pd_clock_set_now_from_iso (pd_clock_get_default (), "2026-11-20T09:30:30+08:00", NULL);
  g_assert_false (pd_session_is_locked (s));
  assert_trail_intact (f);
}

static void
test_password_change_rewraps (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint8 before[32], after[32];
  g_autofree char *uuid_before = NULL, *uuid_after = NULL;

  {
    g_autoptr(PdSession) s = pd_session_sign_in (f->store, "wang", "password-1234", NULL);
    g_assert_true (pd_accounts_pharmacist_key (s, before, &uuid_before, &error));
  }
  g_assert_false (pd_accounts_change_password (f->store, "wang", "not-it-at-all", "new-password-5678", &error));
  g_clear_error (&error);
  g_assert_true (pd_accounts_change_password (f->store, "wang", "password-1234", "new-password-5678", &error));
  g_assert_no_error (error);
  g_assert_null (pd_session_sign_in (f->store, "wang", "password-1234", &error));
  g_clear_error (&error);
  {
    g_autoptr(PdSession) s = pd_session_sign_in (f->store, "wang", "new-password-5678", &error);

    g_assert_no_error (error);
    /* The same signing key, now under the new password. */
    g_assert_true (pd_accounts_pharmacist_key (s, after, &uuid_after, &error));
    g_assert_cmpstr (uuid_before, ==, uuid_after);
    g_assert_cmpmem (before, 32, after, 32);
  }
  assert_trail_intact (f);
}

static void
test_recovery_key (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *lower = g_ascii_strdown (f->recovery, -1);

  g_assert_cmpuint (strlen (f->recovery), ==, 52 + 12);
  g_assert_false (pd_accounts_recover (f->store, "AAAA-BBBB", "admin", "brand-new-password", &error));
  g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID);
  g_clear_error (&error);
  {
    g_autofree char *wrong = g_strdup (f->recovery);
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    g_assert_false (pd_accounts_recover (f->store, wrong, "admin", "brand-new-password", &error));
    g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_WRONG_PASSWORD);
    g_clear_error (&error);
  }
  /* Every administrator forgot: the recovery key (typed in lower case) restores access. */
  g_assert_true (pd_accounts_recover (f->store, lower, "admin", "brand-new-password", &error));
  g_assert_no_error (error);
  {
    g_autoptr(PdSession) s = pd_session_sign_in (f->store, "admin", "brand-new-password", &error);
    g_autoptr(GPtrArray) list = NULL;

    g_assert_no_error (error);
    list = pd_accounts_list (s, &error);
    g_assert_cmpuint (list->len, ==, 5);
  }
  /* A pharmacist recovered gets a new signing key; the old one is retired, not deleted. */
  g_assert_true (pd_accounts_recover (f->store, f->recovery, "wang", "brand-new-password", &error));
  g_assert_cmpint (count (f, "SELECT count(*) FROM signing_key WHERE account_id = (SELECT id FROM account WHERE username = 'wang')"), ==, 2);
  g_assert_cmpint (count (f, "SELECT count(*) FROM signing_key WHERE valid_to IS NOT NULL"), ==, 1);
}

static void
test_wrong_password_decrypts_nothing (Fixture       *f,
                                      gconstpointer  data)
{
  sqlite3_stmt *stmt = pd_store_prepare (f->store, "SELECT uuid, wrapped_data_key, password_hash FROM account WHERE username = 'wang'", NULL);
  guint8 kek[32];
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) dk = NULL;

  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  /* A wrong password yields no key at all... */
  g_assert_false (pd_password_verify ((const char *) sqlite3_column_text (stmt, 2), "password-1235", kek, &error));
  /* ...and a key derived from it anyway would not open the data key. */
  dk = pd_crypto_open (kek, "account", "wrapped_data_key", (const char *) sqlite3_column_text (stmt, 0),
                       sqlite3_column_blob (stmt, 1), sqlite3_column_bytes (stmt, 1), &error);
  g_assert_null (dk);
  g_assert_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_DECRYPT);
  sqlite3_reset (stmt);
}

static void
test_bad_accounts_refused (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(PdSession) admin = pd_session_sign_in (f->store, "admin", "admin-password", NULL);
  g_autoptr(GError) error = NULL;
  PdAccountSpec no_licence = { "qian", "钱药师", PD_ROLE_PHARMACIST, NULL, NULL, NULL };
  PdAccountSpec bad_name = { "a b", "x", PD_ROLE_CLERK, NULL, NULL, NULL };
  PdAccountSpec twice = { "wang", "x", PD_ROLE_CLERK, NULL, NULL, NULL };
  gint64 before = count (f, "SELECT count(*) FROM account");

  g_assert_false (pd_accounts_add (admin, &no_licence, "password-1234", &error));
  g_assert_nonnull (strstr (error->message, "practising-certificate"));
  g_clear_error (&error);
  g_assert_false (pd_accounts_add (admin, &bad_name, "password-1234", &error));
  g_clear_error (&error);
  g_assert_false (pd_accounts_add (admin, &twice, "password-1234", &error));
  g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (pd_accounts_add (admin, &bad_name, "short", &error));
  g_clear_error (&error);
  g_assert_cmpint (count (f, "SELECT count(*) FROM account"), ==, before);
  {
    PdAccountSpec again = { "boss2", "x", PD_ROLE_ADMIN, NULL, NULL, NULL };
    g_assert_false (pd_accounts_init (f->store, &again, "password-1234", NULL, &error));
    g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_EXISTS);
  }
}

static void
test_signed_head (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(PdSession) admin = pd_session_sign_in (f->store, "admin", "admin-password", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(PdAuditHead) head = { 0 };
  g_auto(PdAuditReport) report = { 0 };

  /* Every append signs the head, under the registry's pharmacy key. */
  g_assert_true (pd_session_audit (admin, "prescription.open", "prescription", "rx-9", "ok", NULL, NULL));
  g_assert_true (pd_audit_head_read (f->store, &head, &error));
  g_assert_cmpint (head.seq, ==, count (f, "SELECT max(seq) FROM audit_event"));
  g_assert_true (pd_audit_head_verify (f->store, &head, &error));
  g_assert_no_error (error);
  g_assert_true (pd_registry_sign_audit_head (admin, &error));
  g_assert_no_error (error);
  g_assert_true (pd_audit_verify (f->store, pd_session_get_audit_key (admin), &report, NULL));
  g_assert_true (report.ok);
  g_assert_true (report.head_signed);
  pd_audit_report_clear (&report);

  /* A forged head time breaks it. */
  g_assert_true (pd_store_exec (f->store, "UPDATE audit_head SET signed_at = '2026-11-20T09:00:01+08:00'", NULL));
  g_assert_true (pd_audit_verify (f->store, pd_session_get_audit_key (admin), &report, NULL));
  g_assert_false (report.ok);
  g_assert_nonnull (strstr (report.problem, "signed head"));
}

/* A database from before the key registry has no pharmacy key: the first
 * sign-in after the upgrade makes one, so that the head can be signed
 * (without it every audited act, sign-in first, would fail). */
static void
test_pharmacy_key_made_when_missing (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdSession) s = NULL;

  g_assert_true (pd_store_exec (f->store, "PRAGMA foreign_keys = OFF;"
                                          "UPDATE audit_head SET signing_key_id = NULL;"
                                          "DELETE FROM signing_key WHERE owner = 'pharmacy'", NULL));
  s = pd_session_sign_in (f->store, "wang", "password-1234", &error);
  g_assert_no_error (error);
  g_assert_cmpint (count (f, "SELECT count(*) FROM signing_key WHERE owner = 'pharmacy' AND valid_to IS NULL"), ==, 1);
  assert_trail_intact (f);
}

static void
test_review_signature_against_registry (Fixture       *f,
                                        gconstpointer  data)
{
  g_autoptr(PdSession) wang = pd_session_sign_in (f->store, "wang", "password-1234", NULL);
  g_autoptr(GError) error = NULL;
  const char *record = "{\"decision\":\"approve\",\"pharmacist\":{\"id\":\"ph-1\",\"licence\":\"YS-110105-0001\"},\"time\":\"2026-11-20T09:30:00+08:00\"}";
  g_autofree char *jws = NULL;
  guint8 priv[32];
  gint64 who = 0;

  g_assert_true (pd_accounts_pharmacist_key (wang, priv, NULL, &error));
  jws = pd_jws_sign_detached (priv, record, strlen (record), &error);
  g_assert_no_error (error);
  g_assert_true (pd_registry_verify_signature (f->store, jws, record, strlen (record), "2026-11-20T09:30:00+08:00", &who, &error));
  g_assert_no_error (error);
  g_assert_cmpint (who, ==, pd_session_get_account (wang)->id);

  for (gsize i = 0; i < strlen (record); i++)
    {
      g_autofree char *copy = g_strdup (record);

      copy[i] ^= 0x20;
      g_assert_false (pd_registry_verify_signature (f->store, jws, copy, strlen (copy), "2026-11-20T09:30:00+08:00", NULL, &error));
      g_clear_error (&error);
    }
  /* Before the key existed, the same signature proves nothing. */
  g_assert_false (pd_registry_verify_signature (f->store, jws, record, strlen (record), "2026-11-19T09:30:00+08:00", NULL, &error));
  g_assert_nonnull (strstr (error->message, "registered"));
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add (name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/trust/role-action-matrix", test_role_action_matrix);
  ADD ("/trust/lockout", test_lockout);
  ADD ("/trust/idle-lock", test_idle_lock);
  ADD ("/trust/password-change-rewraps", test_password_change_rewraps);
  ADD ("/trust/recovery-key", test_recovery_key);
  ADD ("/trust/wrong-password-decrypts-nothing", test_wrong_password_decrypts_nothing);
  ADD ("/trust/bad-accounts-refused", test_bad_accounts_refused);
  ADD ("/trust/signed-head", test_signed_head);
  ADD ("/trust/pharmacy-key-made-when-missing", test_pharmacy_key_made_when_missing);
  ADD ("/trust/review-signature-against-registry", test_review_signature_against_registry);
#undef ADD
  return g_test_run ();
}
