/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-audit"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pd-audit.h"
#include "pd-clock.h"

#define ROWS 40

typedef struct {
  char    *dir;
  PdStore *store;
  PdAuditKeys keys;
} Fixture;

static gboolean
append_rows (PdStore  *store,
             gpointer  user_data,
             GError  **error)
{
  Fixture *f = user_data;

  for (int i = 0; i < ROWS; i++)
    {
      g_autofree char *uuid = g_strdup_printf ("rx-%d", i);
      /* Every fourth row has no actor (a refused sign-in of an unknown name). */
      PdAuditEntry e = { i % 4 == 3 ? 0 : 1 + i % 3, i % 2 ? "prescription.open" : "review.approve", "prescription", uuid,
                         i % 7 == 0 ? "refused" : NULL, i % 5 == 0 ? "reason=other" : NULL };

      if (!pd_audit_append (store, &f->keys, &e, error))
        return FALSE;
    }
  return TRUE;
}

/* The registry's pharmacy key, whose private half signs the head. */
static void
add_pharmacy_key (Fixture *f)
{
  guint8 pub[PD_ED25519_PUBLIC_SIZE];
  sqlite3_stmt *stmt;

  g_assert_true (pd_ed25519_generate (pub, f->keys.head_key, NULL));
  stmt = pd_store_prepare (f->store, "INSERT INTO signing_key (uuid, owner, public_key, private_sealed, valid_from, created_at)"
                                     " VALUES ('k1', 'pharmacy', ?, x'00', 't', 't')", NULL);
  sqlite3_bind_blob (stmt, 1, pub, sizeof pub, SQLITE_TRANSIENT);
  g_assert_true (pd_store_step_done (f->store, stmt, NULL));
  f->keys.head_key_id = sqlite3_last_insert_rowid (pd_store_get_db (f->store));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("pd-audit-XXXXXX", NULL);
  path = g_build_filename (f->dir, "p.db", NULL);
  f->store = pd_store_open (path, &error);
  g_assert_no_error (error);
  pd_crypto_random (f->keys.mac_key, sizeof f->keys.mac_key);
  add_pharmacy_key (f);
  g_assert_true (pd_store_exec (f->store, "INSERT INTO account (id, uuid, username, display_name, created_at) VALUES"
                                          " (1, 'a1', 'a', 'A', 't'), (2, 'a2', 'b', 'B', 't'), (3, 'a3', 'c', 'C', 't')", NULL));
  g_assert_true (pd_store_write (f->store, append_rows, f, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *path = g_strdup (pd_store_get_path (f->store));

  g_clear_object (&f->store);
  g_remove (path);
  g_rmdir (f->dir);
  g_free (f->dir);
}

static void
assert_verdict (Fixture  *f,
                gboolean  ok,
                gint64    first_bad)
{
  PdAuditReport report;
  g_autoptr(GError) error = NULL;

  g_assert_true (pd_audit_verify (f->store, f->keys.mac_key, &report, &error));
  g_assert_no_error (error);
  if (report.ok != ok)
    g_error ("expected %s, got %s (%s)", ok ? "intact" : "tampered", report.ok ? "intact" : "tampered",
             report.problem != NULL ? report.problem : "");
  if (!ok && first_bad > 0)
    g_assert_cmpint (report.first_bad_seq, ==, first_bad);
  pd_audit_report_clear (&report);
}

static void
test_intact (Fixture       *f,
             gconstpointer  data)
{
  PdAuditReport report;

  g_assert_true (pd_audit_verify (f->store, f->keys.mac_key, &report, NULL));
  g_assert_true (report.ok);
  g_assert_true (report.head_signed);
  g_assert_cmpint (report.rows, ==, ROWS);
  pd_audit_report_clear (&report);
}

static void
test_wrong_key (Fixture       *f,
                gconstpointer  data)
{
  f->keys.mac_key[0] ^= 1;
  assert_verdict (f, FALSE, 1);
}

static void
exec (Fixture    *f,
      const char *sql)
{
  g_autoptr(GError) error = NULL;

  if (!pd_store_exec (f->store, sql, &error))
    g_error ("%s: %s", sql, error->message);
}

/* What an intruder with the file could do: drop the guards, then edit. */
static void
tamper (Fixture *f,
        GRand   *rand,
        gint64  *first_bad)
{
  static const char *columns[] = { "at", "actor_id", "action", "object_type", "object_uuid", "outcome", "detail", "mac" };
  int kind = g_rand_int_range (rand, 0, 5);
  gint64 a = g_rand_int_range (rand, 1, ROWS + 1);
  gint64 b = g_rand_int_range (rand, 1, ROWS + 1);
  g_autofree char *sql = NULL;

  *first_bad = 0;
  switch (kind)
    {
    case 0: /* a byte edit in one column of one row */
      {
        const char *col = columns[g_rand_int_range (rand, 0, G_N_ELEMENTS (columns))];
        int pos = g_rand_int_range (rand, 1, 4);

        if (g_str_equal (col, "actor_id"))
          sql = g_strdup_printf ("UPDATE audit_event SET actor_id = coalesce (actor_id, 0) + %d WHERE seq = %" G_GINT64_FORMAT,
                                 g_rand_int_range (rand, 1, 9), a);
        else if (g_str_equal (col, "mac"))
          {
            /* A byte that differs from the one it replaces. */
            int byte = g_rand_int_range (rand, 0, 256);

            sql = g_strdup_printf ("UPDATE audit_event SET mac = substr (mac, 1, %d)"
                                   " || CASE WHEN substr (mac, %d, 1) = x'%02x' THEN x'%02x' ELSE x'%02x' END"
                                   " || substr (mac, %d) WHERE seq = %" G_GINT64_FORMAT,
                                   pos - 1, pos, byte, byte ^ 0x01, byte, pos + 1, a);
          }
        else
          {
            /* Bump one character, at a place that exists in the value. */
            g_autofree char *p = g_strdup_printf ("(1 + %d %% length (%s))", pos, col);

            sql = g_strdup_printf ("UPDATE audit_event SET %s = CASE WHEN %s IS NULL OR %s = '' THEN 'x'"
                                   " ELSE substr (%s, 1, %s - 1) || char (unicode (substr (%s, %s, 1)) + 1) || substr (%s, %s + 1) END"
                                   " WHERE seq = %" G_GINT64_FORMAT,
                                   col, col, col, col, p, col, p, col, p, a);
          }
        *first_bad = a;
        break;
      }
    case 1: /* delete a row anywhere */
      sql = g_strdup_printf ("DELETE FROM audit_event WHERE seq = %" G_GINT64_FORMAT, a);
      *first_bad = a;
      break;
    case 2: /* cut off the tail */
      sql = g_strdup_printf ("DELETE FROM audit_event WHERE seq >= %" G_GINT64_FORMAT, a);
      *first_bad = a;
      break;
    case 3: /* swap two rows' contents */
      if (a == b)
        b = a % ROWS + 1;
      sql = g_strdup_printf ("CREATE TEMP TABLE s AS SELECT * FROM audit_event WHERE seq IN (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ");"
                             "UPDATE audit_event SET (at, actor_id, action, object_type, object_uuid, outcome, detail, mac) ="
                             " (SELECT at, actor_id, action, object_type, object_uuid, outcome, detail, mac FROM s"
                             "  WHERE s.seq = CASE audit_event.seq WHEN %" G_GINT64_FORMAT " THEN %" G_GINT64_FORMAT " ELSE %" G_GINT64_FORMAT " END)"
                             " WHERE seq IN (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ");"
                             "DROP TABLE s;",
                             a, b, a, b, a, a, b);
      *first_bad = MIN (a, b);
      break;
    default: /* renumber a row to hide a deletion */
      sql = g_strdup_printf ("DELETE FROM audit_event WHERE seq = %" G_GINT64_FORMAT ";"
                             "UPDATE audit_event SET seq = seq - 1 WHERE seq > %" G_GINT64_FORMAT,
                             a, a);
      *first_bad = a;
      break;
    }
  g_test_message ("tamper: %s", sql);
  exec (f, sql);
}

static void
test_random_tampering_detected (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261122);

  exec (f, "PRAGMA foreign_keys = OFF; DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete; DROP TRIGGER audit_event_in_sequence");
  for (int i = 0; i < 1000; i++)
    {
      gint64 first_bad = 0;

      exec (f, "BEGIN");
      tamper (f, rand, &first_bad);
      assert_verdict (f, FALSE, first_bad);
      exec (f, "ROLLBACK");
    }
  assert_verdict (f, TRUE, 0);
}

static void
test_head_must_match (Fixture       *f,
                      gconstpointer  data)
{
  exec (f, "DROP TRIGGER audit_event_no_delete");
  /* The last row removed and the head left alone: the head gives it away. */
  exec (f, "DELETE FROM audit_event WHERE seq = 40");
  assert_verdict (f, FALSE, 40);
}

static void
test_signed_head_catches_rewound_head (Fixture       *f,
                                       gconstpointer  data)
{
  exec (f, "DROP TRIGGER audit_event_no_delete");
  /* Tail cut and head rewound to the previous row: only the signed head knows. */
  exec (f, "DELETE FROM audit_event WHERE seq = 40;"
           "UPDATE audit_head SET last_seq = 39, last_mac = (SELECT mac FROM audit_event WHERE seq = 39)");
  assert_verdict (f, FALSE, 40);
}

/* Issue #12: the signature columns set to NULL passed `verify`. */
static void
test_unsigned_head_fails (Fixture       *f,
                          gconstpointer  data)
{
  exec (f, "UPDATE audit_head SET signed_seq = NULL, signed_at = NULL, signature = NULL, signing_key_id = NULL");
  assert_verdict (f, FALSE, 0);
}

/* The tail cut, the head rewound and its signature taken away. */
static void
test_cut_tail_unsigned_head_fails (Fixture       *f,
                                   gconstpointer  data)
{
  exec (f, "DROP TRIGGER audit_event_no_delete");
  exec (f, "DELETE FROM audit_event WHERE seq >= 38;"
           "UPDATE audit_head SET last_seq = 37, last_mac = (SELECT mac FROM audit_event WHERE seq = 37),"
           " signed_seq = NULL, signed_at = NULL, signature = NULL");
  assert_verdict (f, FALSE, 0);
}

typedef struct {
  Fixture *f;
  guint8  *other;
} ForgeJob;

/* Re-signs the head with a key that is not the pharmacy's. */
static gboolean
forge_head (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  ForgeJob *job = user_data;
  PdAuditKeys forged = job->f->keys;
  PdAuditEntry e = { 1, "audit.forged", NULL, NULL, NULL, NULL, NULL, NULL };

  memcpy (forged.head_key, job->other, PD_ED25519_PRIVATE_SIZE);
  return pd_audit_append (store, &forged, &e, error);
}

static void
test_head_signed_by_other_key_fails (Fixture       *f,
                                     gconstpointer  data)
{
  guint8 pub[PD_ED25519_PUBLIC_SIZE], other[PD_ED25519_PRIVATE_SIZE];
  ForgeJob job = { f, other };

  g_assert_true (pd_ed25519_generate (pub, other, NULL));
  g_assert_true (pd_store_write (f->store, forge_head, &job, NULL));
  assert_verdict (f, FALSE, 0);
}

/* Issue #12: a row with no actor changed to 0, -1 or 'x' passed `verify`
 * (the seal read any actor <= 0 as none). */
static void
test_actor_sealed_as_stored (Fixture       *f,
                             gconstpointer  data)
{
  static const char *values[] = { "0", "-1", "'x'", "''", "0.0" };

  exec (f, "PRAGMA foreign_keys = OFF; DROP TRIGGER audit_event_no_update");
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *sql = g_strdup_printf ("UPDATE audit_event SET actor_id = %s WHERE seq = 4", values[i]);

      exec (f, "BEGIN");
      exec (f, sql);
      assert_verdict (f, FALSE, 4);
      exec (f, "ROLLBACK");
    }
  /* And a real actor taken away. */
  exec (f, "BEGIN");
  exec (f, "UPDATE audit_event SET actor_id = NULL WHERE seq = 5");
  assert_verdict (f, FALSE, 5);
  exec (f, "ROLLBACK");
  assert_verdict (f, TRUE, 0);
}

static gboolean
append_one (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  Fixture *f = user_data;
  PdAuditEntry e = { 1, "training.step", NULL, NULL, NULL, NULL, NULL, NULL };

  return pd_audit_append (store, &f->keys, &e, error);
}

/* On a training database the row keeps both clocks: `at` the machine's,
 * `clock_at` the one --now set; both sealed. On a real one, no clock_at. */
static void
test_settable_clock_marks_rows (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt;
  gint64 at_us = 0, before = pd_clock_real_now_us ();

  pd_clock_set_now_from_iso (pd_clock_get_default (), "2020-01-01T09:00:00+08:00", &error);
  g_assert_no_error (error);
  g_assert_true (pd_store_write (f->store, append_one, f, &error));
  g_assert_true (pd_store_set_meta (f->store, "settable_clock", "1", NULL));
  g_assert_true (pd_store_write (f->store, append_one, f, &error));
  g_assert_no_error (error);

  stmt = pd_store_prepare (f->store, "SELECT at, clock_at FROM audit_event WHERE seq > 40 ORDER BY seq", NULL);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_null (sqlite3_column_text (stmt, 1));
  g_assert_true (pd_time_parse_iso ((const char *) sqlite3_column_text (stmt, 0), &at_us, NULL));
  g_assert_cmpint (at_us, >=, before - G_USEC_PER_SEC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_true (pd_time_parse_iso ((const char *) sqlite3_column_text (stmt, 0), &at_us, NULL));
  g_assert_cmpint (at_us, >=, before - G_USEC_PER_SEC);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 1), ==, "2020-01-01T09:00:00+08:00");
  sqlite3_reset (stmt);
  assert_verdict (f, TRUE, 0);

  exec (f, "DROP TRIGGER audit_event_no_update");
  exec (f, "UPDATE audit_event SET clock_at = NULL WHERE seq = 42");
  assert_verdict (f, FALSE, 42);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add (name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/audit/intact", test_intact);
  ADD ("/audit/wrong-key", test_wrong_key);
  ADD ("/audit/random-tampering-detected", test_random_tampering_detected);
  ADD ("/audit/head-must-match", test_head_must_match);
  ADD ("/audit/signed-head", test_signed_head_catches_rewound_head);
  ADD ("/audit/unsigned-head-fails", test_unsigned_head_fails);
  ADD ("/audit/cut-tail-unsigned-head-fails", test_cut_tail_unsigned_head_fails);
  ADD ("/audit/head-signed-by-other-key-fails", test_head_signed_by_other_key_fails);
  ADD ("/audit/actor-sealed-as-stored", test_actor_sealed_as_stored);
  ADD ("/audit/settable-clock-marks-rows", test_settable_clock_marks_rows);
#undef ADD
  return g_test_run ();
}
