/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-audit"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pd-audit.h"

#define ROWS 40

typedef struct {
  char    *dir;
  PdStore *store;
  guint8   key[PD_KEY_SIZE];
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
      PdAuditEntry e = { 1 + i % 3, i % 2 ? "prescription.open" : "review.approve", "prescription", uuid,
                         i % 7 == 0 ? "refused" : NULL, i % 5 == 0 ? "reason=other" : NULL };

      if (!pd_audit_append (store, f->key, &e, error))
        return FALSE;
    }
  return TRUE;
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
  pd_crypto_random (f->key, sizeof f->key);
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

  g_assert_true (pd_audit_verify (f->store, f->key, &report, &error));
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

  g_assert_true (pd_audit_verify (f->store, f->key, &report, NULL));
  g_assert_true (report.ok);
  g_assert_cmpint (report.rows, ==, ROWS);
  pd_audit_report_clear (&report);
}

static void
test_wrong_key (Fixture       *f,
                gconstpointer  data)
{
  f->key[0] ^= 1;
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
  exec (f, "UPDATE audit_head SET signed_seq = 40");
  exec (f, "DROP TRIGGER audit_event_no_delete");
  /* Tail cut and head rewound to the previous row: only the signed head knows. */
  exec (f, "DELETE FROM audit_event WHERE seq = 40;"
           "UPDATE audit_head SET last_seq = 39, last_mac = (SELECT mac FROM audit_event WHERE seq = 39)");
  assert_verdict (f, FALSE, 40);
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
#undef ADD
  return g_test_run ();
}
