/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-shift"

#include "config.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "shift.h"

/* The shared fixture of the dispensing tests: what a pharmacy has when a
 * shift begins, made through pharmdesk-cli as a person would. */

static const struct {
  const char *name;
  const char *roles;
  const char *display;
  const char *extra[4];
} accounts[] = {
  { "wang", "pharmacist", "王药师", { "--licence", "YS-110105-0001", "--practitioner", "Practitioner/ph-1" } },
  { "qian", "pharmacist", "钱药师", { "--licence", "YS-110105-0002", "--practitioner", "Practitioner/ph-2" } },
  { "zhao", "checker", "赵核对", { NULL } },
  { "sun", "delivery", "孙配送", { NULL } },
  { "li", "clerk", "李会计", { "--operator", "clerk01", NULL } },
};

static void
remove_state_root (void)
{
  harness_done ();
}

int
shift_cli_valist (Shift       *s,
                  const char  *input,
                  const char  *user,
                  char       **out,
                  char       **err,
                  va_list      ap)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *o = NULL;
  g_autofree char *e = NULL;
  const char *arg;

  g_ptr_array_add (argv, (char *) g_getenv ("PHARMDESK_CLI"));
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  g_ptr_array_add (argv, "--db");
  g_ptr_array_add (argv, s->db);
  if (g_file_test (s->ini, G_FILE_TEST_EXISTS))
    {
      g_ptr_array_add (argv, "--config");
      g_ptr_array_add (argv, s->ini);
    }
  if (user != NULL)
    {
      g_ptr_array_add (argv, "--user");
      g_ptr_array_add (argv, (char *) user);
      g_ptr_array_add (argv, "--password-file");
      g_ptr_array_add (argv, (char *) shift_password_file (s, user));
    }
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const char * const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, input != NULL ? input : "", NULL, &o, &e, &error));
  g_assert_no_error (error);
  {
    g_autofree char *line = g_strjoinv (" ", (char **) argv->pdata + 1);

    g_test_message ("pharmdesk-cli %s → %d %s", line,
                    g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1, e != NULL ? e : "");
  }
  if (out != NULL)
    *out = o != NULL ? g_steal_pointer (&o) : g_strdup ("");
  if (err != NULL)
    *err = e != NULL ? g_steal_pointer (&e) : g_strdup ("");
  return g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
}

int
shift_cli (Shift       *s,
           const char  *user,
           char       **out,
           char       **err,
           ...)
{
  va_list ap;
  int status;

  va_start (ap, err);
  status = shift_cli_valist (s, NULL, user, out, err, ap);
  va_end (ap);
  return status;
}

int
shift_cli_input (Shift       *s,
                 const char  *input,
                 const char  *user,
                 char       **out,
                 char       **err,
                 ...)
{
  va_list ap;
  int status;

  va_start (ap, err);
  status = shift_cli_valist (s, input, user, out, err, ap);
  va_end (ap);
  return status;
}

const char *
shift_password_file (Shift      *s,
                     const char *user)
{
  /* Kept with the shift so the pointer stays valid until shift_stop. */
  g_autofree char *name = g_strconcat (user, ".pw", NULL);
  g_autofree char *path = g_build_filename (s->dir, name, NULL);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *pw = g_strconcat (user, "-password-2026\n", NULL);

      g_assert_true (g_file_set_contents (path, pw, -1, NULL));
    }
  return g_intern_string (path);
}

void
shift_start (Shift      *s,
             const char *name)
{
  g_autofree char *kb = g_build_filename (g_getenv ("PHARMDESK_DATADIR"), "kb", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (state_root == NULL)
    {
      harness_init ();
      atexit (remove_state_root);
    }
  memset (s, 0, sizeof *s);
  s->dir = new_state (name);
  g_assert_cmpint (g_mkdir_with_parents (s->dir, 0700), ==, 0);
  s->state = g_build_filename (s->dir, "sandbox", NULL);
  s->db = g_build_filename (s->dir, "pharmdesk.db", NULL);
  s->ini = g_build_filename (s->state, "client.ini", NULL);
  sandbox_start (&s->sb, s->state, "--seed", "1", "--control", NULL);

  g_assert_cmpint (shift_cli (s, NULL, NULL, &err, "init", "--admin", "admin", "--settable-clock",
                              "--password-file", shift_password_file (s, "admin"), NULL), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (accounts); i++)
    {
      const char * const *x = accounts[i].extra;

      g_clear_pointer (&err, g_free);
      g_assert_cmpint (shift_cli (s, "admin", NULL, &err, "account", "add", accounts[i].name, "--roles", accounts[i].roles,
                                  "--display-name", accounts[i].display,
                                  "--new-password-file", shift_password_file (s, accounts[i].name),
                                  x[0], x[1], x[2], x[3], NULL), ==, 0);
    }
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (shift_cli (s, "admin", NULL, &err, "kb", "import", kb, NULL), ==, 0);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (shift_cli (s, "wang", &out, &err, "sync", NULL), ==, 0);
}

void
shift_hospital_down (Shift *s)
{
  g_assert_nonnull (s->sb.proc);
  sandbox_stop (&s->sb, SIGTERM);
}

void
shift_hospital_up (Shift *s)
{
  g_assert_null (s->sb.proc);
  sandbox_start (&s->sb, s->state, "--seed", "1", "--control", NULL);
}

void
shift_stop (Shift *s)
{
  g_autofree char *cmd = NULL;

  if (s->sb.proc != NULL)
    sandbox_stop (&s->sb, SIGTERM);
  if (s->dir != NULL)
    {
      cmd = g_strdup_printf ("rm -rf '%s'", s->dir);
      if (system (cmd) != 0)
        g_warning ("could not remove %s", s->dir);
    }
  g_clear_pointer (&s->dir, g_free);
  g_clear_pointer (&s->state, g_free);
  g_clear_pointer (&s->db, g_free);
  g_clear_pointer (&s->ini, g_free);
}

JsonNode *
shift_json (const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (p, text, -1, &error);
  g_assert_no_error (error);
  return json_node_ref (json_parser_get_root (p));
}

JsonArray *
shift_queue (Shift *s)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) root = NULL;

  g_assert_cmpint (shift_cli (s, "wang", &out, NULL, "queue", "list", NULL), ==, 0);
  root = shift_json (out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  return json_array_ref (json_node_get_array (root));
}

JsonObject *
shift_queue_row (JsonArray  *queue,
                 const char *rx)
{
  for (guint i = 0; i < json_array_get_length (queue); i++)
    {
      JsonObject *row = json_array_get_object_element (queue, i);

      if (g_strcmp0 (json_object_get_string_member (row, "rx"), rx) == 0)
        return row;
    }
  return NULL;
}

char *
shift_approve_one (Shift *s)
{
  g_autoptr(JsonArray) queue = shift_queue (s);

  for (guint i = 0; i < json_array_get_length (queue); i++)
    {
      JsonObject *row = json_array_get_object_element (queue, i);
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      const char *rx = json_object_get_string_member (row, "rx");

      if (g_strcmp0 (json_object_get_string_member_with_default (row, "verdict", ""), "pass") != 0
          || g_strcmp0 (json_object_get_string_member (row, "state"), "to-review") != 0)
        continue;
      g_assert_cmpint (shift_cli (s, "wang", &out, &err, "decide", rx, "approve", NULL), ==, 0);
      return g_strdup (rx);
    }
  g_assert_not_reached ();
  return NULL;
}

static sqlite3 *
open_db (Shift *s)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (s->db, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  return db;
}

static void
append_value (GString      *line,
              sqlite3_stmt *stmt,
              int           column)
{
  switch (sqlite3_column_type (stmt, column))
    {
    case SQLITE_NULL:
      g_string_append (line, "NULL");
      break;
    case SQLITE_BLOB:
      {
        const guint8 *data = sqlite3_column_blob (stmt, column);
        int n = sqlite3_column_bytes (stmt, column);

        g_string_append (line, "x'");
        for (int i = 0; i < n; i++)
          g_string_append_printf (line, "%02x", data[i]);
        g_string_append_c (line, '\'');
      }
      break;
    default:
      g_string_append_printf (line, "'%s'", (const char *) sqlite3_column_text (stmt, column));
      break;
    }
}

static int
compare_lines (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

char *
shift_dump (Shift *s)
{
  sqlite3 *db = open_db (s);
  sqlite3_stmt *tables = NULL;
  GString *dump = g_string_new (NULL);

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                                           "AND name NOT IN ('audit_event', 'audit_head', 'audit_pending') ORDER BY name",
                                       -1, &tables, NULL), ==, SQLITE_OK);
  while (sqlite3_step (tables) == SQLITE_ROW)
    {
      const char *table = (const char *) sqlite3_column_text (tables, 0);
      g_autofree char *info_sql = g_strdup_printf ("PRAGMA table_info(\"%s\")", table);
      g_autoptr(GString) select = g_string_new ("SELECT ");
      g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
      sqlite3_stmt *info = NULL;
      sqlite3_stmt *stmt = NULL;
      guint columns = 0;

      g_assert_cmpint (sqlite3_prepare_v2 (db, info_sql, -1, &info, NULL), ==, SQLITE_OK);
      while (sqlite3_step (info) == SQLITE_ROW)
        {
          const char *column = (const char *) sqlite3_column_text (info, 1);

          /* A sign-in's bookkeeping, not the data compared. */
          if (g_str_equal (table, "account") && (g_str_equal (column, "failed_logins") || g_str_equal (column, "locked_at")))
            continue;
          g_string_append_printf (select, "%s\"%s\"", columns++ > 0 ? ", " : "", column);
        }
      sqlite3_finalize (info);
      g_string_append_printf (select, " FROM \"%s\"", table);
      g_string_append_printf (dump, "== %s\n", table);
      g_assert_cmpint (sqlite3_prepare_v2 (db, select->str, -1, &stmt, NULL), ==, SQLITE_OK);
      while (sqlite3_step (stmt) == SQLITE_ROW)
        {
          GString *line = g_string_new (NULL);

          for (int c = 0; c < sqlite3_column_count (stmt); c++)
            {
              if (c > 0)
                g_string_append (line, " | ");
              append_value (line, stmt, c);
            }
          g_ptr_array_add (rows, g_string_free (line, FALSE));
        }
      sqlite3_finalize (stmt);
      g_ptr_array_sort (rows, compare_lines);
      for (guint i = 0; i < rows->len; i++)
        g_string_append_printf (dump, "%s\n", (const char *) rows->pdata[i]);
    }
  sqlite3_finalize (tables);
  sqlite3_close (db);
  return g_string_free (dump, FALSE);
}

char *
shift_db_text (Shift      *s,
               const char *sql)
{
  sqlite3 *db = open_db (s);
  sqlite3_stmt *stmt = NULL;
  char *text = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return text;
}

gint64
shift_db_int (Shift      *s,
              const char *sql)
{
  sqlite3 *db = open_db (s);
  sqlite3_stmt *stmt = NULL;
  gint64 n = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}
