/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-stock"

#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "pd-session.h"
#include "pd-stock.h"
#include "shift.h"

/* Stock (cli.md "Dispensing"): `stock receive` all or nothing, naming the
 * line of a bad row; `stock list`; first expiry first and the lots a
 * course may not take; moves that never take more than is on hand; each
 * change audited. One shift for the file: each test uses its own drugs. */

static Shift shift;

static char *
receipt (const char *name,
         const char *text)
{
  char *path = g_build_filename (shift.dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static JsonNode *
parse (const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (p, text, -1, &error);
  g_assert_no_error (error);
  return json_node_ref (json_parser_get_root (p));
}

/* `stock receive` as user: the exit status; the answer parsed when 0. */
static int
receive (const char  *user,
         const char  *name,
         const char  *text,
         JsonNode   **answer,
         char       **err)
{
  g_autofree char *path = receipt (name, text);
  g_autofree char *out = NULL;
  g_autofree char *e = NULL;
  int status = shift_cli (&shift, user, &out, &e, "stock", "receive", path, NULL);

  if (status == 0 && answer != NULL)
    *answer = parse (out);
  if (err != NULL)
    *err = g_steal_pointer (&e);
  return status;
}

static void
receive_ok (const char *text)
{
  g_autofree char *err = NULL;

  g_assert_cmpint (receive ("zhao", "setup.csv", text, NULL, &err), ==, 0);
}

static JsonArray *
list (const char *code)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) root = NULL;

  if (code != NULL)
    g_assert_cmpint (shift_cli (&shift, "zhao", &out, &err, "stock", "list", "--code", code, NULL), ==, 0);
  else
    g_assert_cmpint (shift_cli (&shift, "zhao", &out, &err, "stock", "list", NULL), ==, 0);
  root = parse (out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  return json_array_ref (json_node_get_array (root));
}

static gint64
db_int (const char *format,
        ...) G_GNUC_PRINTF (1, 2);

static gint64
db_int (const char *format,
        ...)
{
  va_list ap;
  g_autofree char *sql = NULL;

  va_start (ap, format);
  sql = g_strdup_vprintf (format, ap);
  va_end (ap);
  return shift_db_int (&shift, sql);
}

/* Test set-up only: what a fill would leave (an emptied batch, an opened
 * box) written straight into the database. */
static void
db_exec (const char *sql)
{
  sqlite3 *db = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open (shift.db, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
  sqlite3_close (db);
}

static gint64
stock_audit_rows (void)
{
  return shift_db_int (&shift, "SELECT count(*) FROM audit_event WHERE action LIKE 'stock.%'");
}

static void
assert_audit_verifies (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (shift_cli (&shift, "admin", &out, &err, "audit", "verify", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"ok\" : true"));
}

/* --- receive ------------------------------------------------------------------ */

static void
test_receive (void)
{
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(JsonNode) again = NULL;
  g_autofree char *err = NULL;
  gint64 audit_before = stock_audit_rows ();
  gint64 zhao = shift_db_int (&shift, "SELECT id FROM account WHERE username = 'zhao'");

  /* By the checker (cli.md: pharmacist or checker). */
  g_assert_cmpint (receive ("zhao", "receipt-1.csv",
                            "code,lot,manufactured,expires,boxes\n"
                            "YP1029,RA1,2025-03-01,2027-03-01,4\n"
                            "YP1029,RA2,2025-05-01,2027-06-01,2\n"
                            "YP1053,RB1,2025-01-01,2026-12-31,3\n",
                            &answer, &err), ==, 0);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (answer), "batches"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (answer), "boxes"), ==, 9);
  g_assert_cmpint (json_object_get_size (json_node_get_object (answer)), ==, 2);
  g_assert_cmpint (db_int ("SELECT boxes_on_hand FROM stock_batch WHERE drug_code = 'YP1029' AND lot = 'RA1'"), ==, 4);
  /* The knowledge base's price per product unit (0.06 yuan). */
  g_assert_cmpint (db_int ("SELECT unit_price_e4 FROM stock_batch WHERE lot = 'RA1'"), ==, 600);
  g_assert_cmpint (db_int ("SELECT count(*) FROM stock_move m JOIN stock_batch b ON b.id = m.batch_id"
                           " WHERE b.lot IN ('RA1', 'RA2', 'RB1') AND m.reason = 'receive' AND m.boxes > 0"
                           " AND m.actor_id = %" G_GINT64_FORMAT " AND m.dispense_id IS NULL", zhao), ==, 3);
  g_assert_cmpint (db_int ("SELECT count(*) FROM audit_event a JOIN stock_batch b ON b.uuid = a.object_uuid"
                           " WHERE a.action = 'stock.receive' AND a.object_type = 'stock_batch' AND a.outcome = 'ok'"
                           " AND a.actor_id = %" G_GINT64_FORMAT " AND b.lot IN ('RA1', 'RA2', 'RB1')", zhao), ==, 3);
  g_assert_cmpint (stock_audit_rows (), ==, audit_before + 3);

  /* The same lot with the same dates takes the boxes, twice in one file
   * too; by a pharmacist. One batch, two moves. */
  g_assert_cmpint (receive ("wang", "receipt-2.csv",
                            "code,lot,manufactured,expires,boxes\n"
                            "YP1029,RA1,2025-03-01,2027-03-01,6\n"
                            "YP1029,RA1,2025-03-01,2027-03-01,1\n",
                            &again, NULL), ==, 0);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (again), "batches"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (again), "boxes"), ==, 7);
  g_assert_cmpint (db_int ("SELECT count(*) FROM stock_batch WHERE drug_code = 'YP1029' AND lot = 'RA1'"), ==, 1);
  g_assert_cmpint (db_int ("SELECT boxes_on_hand FROM stock_batch WHERE lot = 'RA1'"), ==, 11);
  g_assert_cmpint (db_int ("SELECT sum(m.boxes) FROM stock_move m JOIN stock_batch b ON b.id = m.batch_id WHERE b.lot = 'RA1'"), ==, 11);
  g_assert_cmpint (stock_audit_rows (), ==, audit_before + 5);
  assert_audit_verifies ();
}

/* Each bad receipt: exit 2, its file, line and column named, nothing added
 * (every table but the audit trail's compared, and no stock audit row). */
static void
test_refusals (void)
{
  static const struct {
    const char *what;
    const char *text;
    const char *where;     /* name:line:column */
    const char *says;
  } cases[] = {
    { "unknown code", "YP1063,RC1,2025-01-01,2027-01-01,2\nYP0000,RC2,2025-01-01,2027-01-01,1\n", ":3:1:", "YP0000" },
    { "expiry before manufacture", "YP1063,RC1,2025-06-01,2025-01-01,2\n", ":2:23:", "not after" },
    { "expiry on the day of manufacture", "YP1063,RC1,2025-06-01,2025-06-01,2\n", ":2:23:", "not after" },
    { "zero boxes", "YP1063,RC1,2025-01-01,2027-01-01,2\nYP1063,RC2,2025-01-01,2027-01-01,0\n", ":3:34:", "“0”" },
    { "negative boxes", "YP1063,RC1,2025-01-01,2027-01-01,-2\n", ":2:34:", "“-2”" },
    { "boxes not whole", "YP1063,RC1,2025-01-01,2027-01-01,2.5\n", ":2:34:", "“2.5”" },
    { "boxes missing", "YP1063,RC1,2025-01-01,2027-01-01,\n", ":2:34:", "boxes" },
    { "not a day", "YP1063,RC1,2025-02-30,2027-01-01,2\n", ":2:12:", "2025-02-30" },
    { "not a date", "YP1063,RC1,01/02/2025,2027-01-01,2\n", ":2:12:", "01/02/2025" },
    { "no lot", "YP1063,,2025-01-01,2027-01-01,2\n", ":2:8:", "lot" },
    { "a lot in stock with other dates", "YP1063,RC1,2025-01-01,2027-01-01,2\nYP1029,RA1,2025-03-01,2027-04-01,1\n",
      ":3:8:", "2027-03-01" },
    { "a lot twice with other dates", "YP1063,RC1,2025-01-01,2027-01-01,2\nYP1063,RC1,2025-01-02,2027-01-01,1\n",
      ":3:8:", "earlier row" },
    { "a short row", "YP1063,RC1,2025-01-01,2027-01-01\n", ":2:", "too few fields" },
    { "nothing to receive", "", ":2:1:", "no batch" },
  };
  static const struct {
    const char *what;
    const char *text;
  } headers[] = {
    { "no boxes column", "code,lot,manufactured,expires\nYP1063,RC1,2025-01-01,2027-01-01\n" },
    { "a misnamed column", "code,lot,manufactured,expiry,boxes\nYP1063,RC1,2025-01-01,2027-01-01,2\n" },
    { "no header", "YP1063,RC1,2025-01-01,2027-01-01,2\n" },
  };
  g_autofree char *before = NULL;
  gint64 audit_before;

  /* RA1 of YP1029 in stock, with its dates. */
  receive_ok ("code,lot,manufactured,expires,boxes\nYP1029,RA1,2025-03-01,2027-03-01,1\n");
  before = shift_dump (&shift);
  audit_before = stock_audit_rows ();
  for (guint i = 0; i < G_N_ELEMENTS (cases) + G_N_ELEMENTS (headers); i++)
    {
      gboolean header = i >= G_N_ELEMENTS (cases);
      const char *what = header ? headers[i - G_N_ELEMENTS (cases)].what : cases[i].what;
      g_autofree char *text = header ? g_strdup (headers[i - G_N_ELEMENTS (cases)].text)
                                     : g_strconcat ("code,lot,manufactured,expires,boxes\n", cases[i].text, NULL);
      g_autofree char *where = g_strconcat ("bad.csv", header ? ":1:1:" : cases[i].where, NULL);
      g_autofree char *err = NULL;
      g_autofree char *after = NULL;

      g_test_message ("%s", what);
      g_assert_cmpint (receive ("zhao", "bad.csv", text, NULL, &err), ==, 2);
      g_assert_nonnull (strstr (err, where));
      if (!header)
        g_assert_nonnull (strstr (err, cases[i].says));
      after = shift_dump (&shift);
      g_assert_cmpstr (after, ==, before);
      g_assert_cmpint (stock_audit_rows (), ==, audit_before);
    }
  /* A file that is not there is bad input too. */
  {
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    g_assert_cmpint (shift_cli (&shift, "zhao", &out, &err, "stock", "receive", "/nonexistent/receipt.csv", NULL), ==, 2);
  }
}

/* Only a pharmacist or a checker receives stock: the others are refused
 * (exit 1), nothing changes but the refusal's audit row. */
static void
test_roles (void)
{
  const char *users[] = { "li", "sun", "admin" };
  const char *text = "code,lot,manufactured,expires,boxes\nYP1063,RD1,2025-01-01,2027-01-01,2\n";
  g_autofree char *before = shift_dump (&shift);
  gint64 stock_before = stock_audit_rows ();

  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree char *err = NULL;
      g_autofree char *after = NULL;
      gint64 refused = shift_db_int (&shift, "SELECT count(*) FROM audit_event WHERE outcome = 'refused' AND detail = 'action=dispense'");

      g_assert_cmpint (receive (users[i], "roles.csv", text, NULL, &err), ==, 1);
      g_assert_nonnull (strstr (err, "may not"));
      after = shift_dump (&shift);
      g_assert_cmpstr (after, ==, before);
      g_assert_cmpint (stock_audit_rows (), ==, stock_before);
      g_assert_cmpint (shift_db_int (&shift, "SELECT count(*) FROM audit_event WHERE outcome = 'refused' AND detail = 'action=dispense'"),
                       ==, refused + 1);
    }
  /* A wrong password is no account at all. */
  {
    g_autofree char *path = receipt ("roles.csv", text);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    g_assert_cmpint (shift_cli (&shift, NULL, &out, &err, "stock", "receive", path, "--user", "zhao",
                                "--password-file", shift_password_file (&shift, "li"), NULL), ==, 1);
  }
}

/* --- list ----------------------------------------------------------------------- */

static void
assert_batch (JsonObject *o,
              const char *code,
              const char *lot,
              const char *manufactured,
              const char *expires,
              gint64      boxes,
              guint       n_opened)
{
  g_autoptr(GList) members = json_object_get_members (o);

  /* cli.md's members, and no others. */
  g_assert_cmpuint (g_list_length (members), ==, 6);
  g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, code);
  g_assert_cmpstr (json_object_get_string_member (o, "lot"), ==, lot);
  g_assert_cmpstr (json_object_get_string_member (o, "manufactured"), ==, manufactured);
  g_assert_cmpstr (json_object_get_string_member (o, "expires"), ==, expires);
  g_assert_cmpint (json_object_get_int_member (o, "boxes"), ==, boxes);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "opened")));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "opened")), ==, n_opened);
}

static void
test_list (void)
{
  g_autoptr(JsonArray) cetirizine = NULL;
  g_autoptr(JsonArray) loratadine = NULL;
  g_autoptr(JsonArray) all = NULL;
  g_autofree char *table = NULL;
  g_autofree char *err = NULL;
  JsonObject *box;

  receive_ok ("code,lot,manufactured,expires,boxes\n"
              "YP1092,E1,2025-02-01,2027-02-01,3\n"
              "YP1092,E2,2025-01-01,2026-12-30,2\n"
              "YP1093,F1,2025-01-01,2027-01-01,1\n"
              "YP1093,F2,2025-01-01,2027-02-01,4\n");
  /* As fills would leave them: E1 has an opened box and a dispensed one;
   * F1's last box is opened (no box on hand, still listed); F2 is empty. */
  db_exec ("INSERT INTO trace_code (code, drug_code, batch_id, state, units_left, updated_at) VALUES"
           " ('69109200000000000002', 'YP1092', (SELECT id FROM stock_batch WHERE lot = 'E1'), 'opened', 5, '2026-12-01T10:00:00+08:00'),"
           " ('69109200000000000001', 'YP1092', (SELECT id FROM stock_batch WHERE lot = 'E1'), 'dispensed', 0, '2026-12-01T10:00:00+08:00'),"
           " ('69109200000000000003', 'YP1092', (SELECT id FROM stock_batch WHERE lot = 'E1'), 'opened', 0, '2026-12-01T10:00:00+08:00'),"
           " ('69109300000000000001', 'YP1093', (SELECT id FROM stock_batch WHERE lot = 'F1'), 'opened', 3, '2026-12-01T10:00:00+08:00');"
           "UPDATE stock_batch SET boxes_on_hand = 0 WHERE lot IN ('F1', 'F2');");

  /* First expiry first, the opened boxes with units left beside. */
  cetirizine = list ("YP1092");
  g_assert_cmpuint (json_array_get_length (cetirizine), ==, 2);
  assert_batch (json_array_get_object_element (cetirizine, 0), "YP1092", "E2", "2025-01-01", "2026-12-30", 2, 0);
  assert_batch (json_array_get_object_element (cetirizine, 1), "YP1092", "E1", "2025-02-01", "2027-02-01", 3, 1);
  box = json_array_get_object_element (json_object_get_array_member (json_array_get_object_element (cetirizine, 1), "opened"), 0);
  g_assert_cmpuint (json_object_get_size (box), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (box, "trace_code"), ==, "69109200000000000002");
  g_assert_cmpint (json_object_get_int_member (box, "units_left"), ==, 5);

  loratadine = list ("YP1093");
  g_assert_cmpuint (json_array_get_length (loratadine), ==, 1);
  assert_batch (json_array_get_object_element (loratadine, 0), "YP1093", "F1", "2025-01-01", "2027-01-01", 0, 1);

  /* All drugs: by code, then first expiry. */
  all = list (NULL);
  g_assert_cmpuint (json_array_get_length (all), >=, 3);
  for (guint i = 1; i < json_array_get_length (all); i++)
    {
      JsonObject *a = json_array_get_object_element (all, i - 1);
      JsonObject *b = json_array_get_object_element (all, i);
      int by_code = strcmp (json_object_get_string_member (a, "code"), json_object_get_string_member (b, "code"));

      g_assert_cmpint (by_code, <=, 0);
      if (by_code == 0)
        g_assert_cmpint (strcmp (json_object_get_string_member (a, "expires"), json_object_get_string_member (b, "expires")), <=, 0);
      g_assert_cmpstr (json_object_get_string_member (b, "lot"), !=, "F2");
    }
  g_assert_cmpint (json_array_get_length (all), ==,
                   shift_db_int (&shift, "SELECT count(*) FROM stock_batch WHERE boxes_on_hand > 0"
                                         " OR id IN (SELECT batch_id FROM trace_code WHERE state = 'opened' AND units_left > 0)"));

  /* A person's table: the drug's name, the opened box. */
  g_assert_cmpint (shift_cli (&shift, "zhao", &table, &err, "stock", "list", "--code", "YP1092", "--table", NULL), ==, 0);
  g_assert_nonnull (strstr (table, "盐酸西替利嗪片"));
  g_assert_nonnull (strstr (table, "69109200000000000002 (5)"));
  g_assert_null (strstr (table, "69109200000000000001"));
  g_assert_null (strstr (table, "{"));

  /* An unknown code lists nothing. */
  {
    g_autoptr(JsonArray) none = list ("YP0000");

    g_assert_cmpuint (json_array_get_length (none), ==, 0);
  }
}

/* --- in core: suggest and move ------------------------------------------------- */

static PdStore *
open_store (void)
{
  g_autoptr(GError) error = NULL;
  PdStore *store = pd_store_open (shift.db, &error);

  g_assert_no_error (error);
  return store;
}

static void
close_store (PdStore *store)
{
  pd_store_close (store);
  g_object_unref (store);
}

static void
assert_lots (GPtrArray  *batches,
             const char *lots)
{
  g_autoptr(GString) got = g_string_new (NULL);

  g_assert_nonnull (batches);
  for (guint i = 0; i < batches->len; i++)
    g_string_append_printf (got, "%s%s", i > 0 ? " " : "", ((PdStockBatch *) batches->pdata[i])->lot);
  g_assert_cmpstr (got->str, ==, lots);
}

static void
test_suggest (void)
{
  PdStore *store;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) course = NULL;
  g_autoptr(GPtrArray) today_only = NULL;
  g_autoptr(GPtrArray) later = NULL;
  g_autoptr(GPtrArray) other = NULL;
  PdStockBatch *x5;

  /* Received in an order that is not the expiry's. */
  receive_ok ("code,lot,manufactured,expires,boxes\n"
              "YP1094,X3,2025-01-01,2027-05-01,5\n"
              "YP1094,X0,2024-01-01,2026-12-10,2\n"
              "YP1094,X2,2025-01-01,2027-01-07,1\n"
              "YP1094,X1,2025-01-01,2027-01-06,2\n"
              "YP1094,X4,2025-01-01,2027-03-01,2\n"
              "YP1094,X5,2025-01-01,2027-04-01,1\n"
              "YP1094,X6,2025-01-01,2027-01-07,3\n"
              "YP1005,Y1,2025-01-01,2027-01-20,3\n");
  /* X4 emptied; X5's last box opened. */
  db_exec ("UPDATE stock_batch SET boxes_on_hand = 0 WHERE lot IN ('X4', 'X5');"
           "INSERT INTO trace_code (code, drug_code, batch_id, state, units_left, updated_at) VALUES"
           " ('69109400000000000001', 'YP1094', (SELECT id FROM stock_batch WHERE lot = 'X5'), 'opened', 40, '2026-12-01T10:00:00+08:00');");

  store = open_store ();
  /* Today 2026-12-10, a course to 2027-01-06: X0 expires today, X1 on the
   * course's last day (both refused); X4 has nothing; then first expiry
   * first, the order received between equals. */
  course = pd_stock_suggest (store, "YP1094", "2026-12-10", "2027-01-06", &error);
  g_assert_no_error (error);
  assert_lots (course, "X2 X6 X5 X3");
  x5 = course->pdata[2];
  g_assert_cmpint (x5->boxes, ==, 0);
  g_assert_cmpuint (x5->opened->len, ==, 1);
  g_assert_cmpstr (((PdOpenedBox *) x5->opened->pdata[0])->trace_code, ==, "69109400000000000001");
  g_assert_cmpint (((PdOpenedBox *) x5->opened->pdata[0])->units_left, ==, 40);
  g_assert_cmpstr (((PdStockBatch *) course->pdata[0])->expires_on, ==, "2027-01-07");
  g_assert_cmpstr (((PdStockBatch *) course->pdata[0])->manufactured_on, ==, "2025-01-01");
  g_assert_cmpstr (((PdStockBatch *) course->pdata[0])->drug_code, ==, "YP1094");
  g_assert_nonnull (((PdStockBatch *) course->pdata[0])->uuid);

  /* A course of one day: only the lot expired on today is out. */
  today_only = pd_stock_suggest (store, "YP1094", "2026-12-10", NULL, &error);
  g_assert_no_error (error);
  assert_lots (today_only, "X1 X2 X6 X5 X3");
  later = pd_stock_suggest (store, "YP1094", "2027-04-01", "2027-04-05", &error);
  g_assert_no_error (error);
  assert_lots (later, "X3");
  other = pd_stock_suggest (store, "YP1005", "2026-12-10", "2027-01-06", &error);
  g_assert_no_error (error);
  assert_lots (other, "Y1");
  close_store (store);
}

typedef struct {
  PdSession  *session;
  gint64      batch;
  int         boxes;
  const char *reason;
  gint64      dispense_id;
} MoveJob;

static gboolean
move_in_txn (PdStore  *store,
             gpointer  user_data,
             GError  **error)
{
  MoveJob *job = user_data;

  return pd_stock_move (job->session, job->batch, job->boxes, job->reason, job->dispense_id, error);
}

static gboolean
move (PdSession   *session,
      gint64       batch,
      int          boxes,
      const char  *reason,
      GError     **error)
{
  MoveJob job = { session, batch, boxes, reason, 0 };

  return pd_store_write (pd_session_get_store (session), move_in_txn, &job, error);
}

static void
test_move (void)
{
  PdStore *store;
  g_autoptr(PdSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *password = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gint64 batch, moves, audit;

  receive_ok ("code,lot,manufactured,expires,boxes\nYP1171,M1,2025-01-01,2027-01-01,3\n");
  batch = shift_db_int (&shift, "SELECT id FROM stock_batch WHERE drug_code = 'YP1171' AND lot = 'M1'");
  g_assert_true (g_file_get_contents (shift_password_file (&shift, "zhao"), &password, NULL, NULL));
  g_strchomp (password);

  store = open_store ();
  session = pd_session_sign_in (store, "zhao", password, &error);
  g_assert_no_error (error);
  moves = db_int ("SELECT count(*) FROM stock_move WHERE batch_id = %" G_GINT64_FORMAT, batch);
  audit = stock_audit_rows ();

  /* Two of three leave with a fill. */
  g_assert_true (move (session, batch, -2, "dispense", &error));
  g_assert_no_error (error);
  g_assert_cmpint (db_int ("SELECT boxes_on_hand FROM stock_batch WHERE id = %" G_GINT64_FORMAT, batch), ==, 1);
  g_assert_cmpint (db_int ("SELECT boxes FROM stock_move WHERE batch_id = %" G_GINT64_FORMAT " AND reason = 'dispense'", batch), ==, -2);
  g_assert_cmpint (db_int ("SELECT count(*) FROM audit_event a JOIN stock_batch b ON b.uuid = a.object_uuid"
                           " WHERE a.action = 'stock.dispense' AND b.id = %" G_GINT64_FORMAT, batch), ==, 1);

  /* More than is on hand: refused, and nothing of it stays. */
  before = shift_dump (&shift);
  g_assert_false (move (session, batch, -2, "sale", &error));
  g_assert_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "M1"));
  g_clear_error (&error);
  /* A sign the reason does not allow, or a reason that is no move. */
  g_assert_false (move (session, batch, 1, "dispense", &error));
  g_assert_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (move (session, batch, -1, "return", &error));
  g_assert_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (move (session, batch, 1, "receive", &error));
  g_assert_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (move (session, 999999, -1, "destroy", &error));
  g_assert_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID);
  g_clear_error (&error);
  /* Nothing moves, nothing is written. */
  g_assert_true (move (session, batch, 0, "dispense", &error));
  g_assert_no_error (error);
  after = shift_dump (&shift);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (stock_audit_rows (), ==, audit + 1);

  /* The last box leaves; one comes back from a return, one from a conflict. */
  g_assert_true (move (session, batch, -1, "destroy", &error));
  g_assert_no_error (error);
  g_assert_cmpint (db_int ("SELECT boxes_on_hand FROM stock_batch WHERE id = %" G_GINT64_FORMAT, batch), ==, 0);
  g_assert_false (move (session, batch, -1, "sale", &error));
  g_assert_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED);
  g_clear_error (&error);
  g_assert_true (move (session, batch, 1, "return", &error));
  g_assert_true (move (session, batch, 1, "conflict", &error));
  g_assert_no_error (error);
  g_assert_cmpint (db_int ("SELECT boxes_on_hand FROM stock_batch WHERE id = %" G_GINT64_FORMAT, batch), ==, 2);
  /* The moves add up to what is on hand, each with its audit row. */
  g_assert_cmpint (db_int ("SELECT count(*) FROM stock_move WHERE batch_id = %" G_GINT64_FORMAT, batch), ==, moves + 4);
  g_assert_cmpint (db_int ("SELECT sum(boxes) FROM stock_move WHERE batch_id = %" G_GINT64_FORMAT, batch), ==, 2);
  g_assert_cmpint (stock_audit_rows (), ==, audit + 4);
  g_assert_cmpint (db_int ("SELECT count(*) FROM audit_event a JOIN stock_batch b ON b.uuid = a.object_uuid"
                           " WHERE b.id = %" G_GINT64_FORMAT " AND a.action IN ('stock.receive', 'stock.dispense', 'stock.destroy',"
                           " 'stock.return', 'stock.conflict')", batch), ==, 5);
  g_clear_object (&session);
  close_store (store);
  assert_audit_verifies ();
}

/* --- the demonstration stock ---------------------------------------------------- */

static void
assert_suggested (PdStore    *store,
                  const char *code,
                  const char *today,
                  int         days,
                  const char *lots)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) batches = NULL;
  g_autoptr(GDateTime) t = NULL;
  g_autoptr(GDateTime) end = NULL;
  g_autofree char *course_end = NULL;
  int y, m, d;

  g_assert_cmpint (sscanf (today, "%d-%d-%d", &y, &m, &d), ==, 3);
  t = g_date_time_new_utc (y, m, d, 12, 0, 0);
  end = g_date_time_add_days (t, days - 1);
  course_end = g_date_time_format (end, "%Y-%m-%d");
  batches = pd_stock_suggest (store, code, today, course_end, &error);
  g_assert_no_error (error);
  g_test_message ("%s, %d days from %s: %s", code, days, today, lots);
  assert_lots (batches, lots);
}

/* scripts/demo's receipt (scripts/demo-receipt) shows every case: first
 * expiry first, a lot refused for a long course but offered to a short
 * one, an expired lot, a course that takes two lots, a drug out of stock;
 * and every other drug of it fills a 28-day course. */
static void
test_demo_receipt (void)
{
  const char *today = "2027-03-10";
  g_autofree char *script = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "..", "scripts", "demo-receipt", NULL);
  const char *argv[] = { script, today, NULL };
  g_autofree char *text = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(JsonArray) none = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer code;
  int status = -1;
  PdStore *store;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &text, &err, &status, NULL));
  g_assert_cmpint (status, ==, 0);
  g_assert_true (g_str_has_prefix (text, "code,lot,manufactured,expires,boxes\n"));
  g_assert_cmpint (receive ("zhao", "demo-receipt.csv", text, &answer, NULL), ==, 0);
  lines = g_strsplit (g_strstrip (text), "\n", -1);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (answer), "batches"), ==, g_strv_length (lines) - 1);
  for (guint i = 1; lines[i] != NULL; i++)
    g_hash_table_add (codes, g_strndup (lines[i], strcspn (lines[i], ",")));

  /* The demo prescription of 左甲状腺素钠片 finds no stock. */
  g_assert_false (g_hash_table_contains (codes, "YP1098"));
  none = list ("YP1098");
  g_assert_cmpuint (json_array_get_length (none), ==, 0);

  store = open_store ();
  /* 28 days: the near lot refused; 3 days: offered first. */
  assert_suggested (store, "YP1001", today, 28, "AML-2");
  assert_suggested (store, "YP1001", today, 7, "AML-1 AML-2");
  assert_suggested (store, "YP1161", today, 3, "PCM-1 PCM-2");
  assert_suggested (store, "YP1133", today, 5, "AMX-1 AMX-2");
  /* A week is too long for 奥美拉唑's near lot; 氯雷他定's first lot expired. */
  assert_suggested (store, "YP1171", today, 7, "OME-2");
  assert_suggested (store, "YP1093", today, 1, "LOR-2");
  /* 舍曲林: one box in the first lot, the rest in the next. */
  assert_suggested (store, "YP1101", today, 28, "SER-1 SER-2");
  g_assert_cmpint (db_int ("SELECT boxes_on_hand FROM stock_batch WHERE drug_code = 'YP1101' AND lot = 'SER-1'"), ==, 1);
  /* Every drug received fills a 28-day course from some lot. */
  g_hash_table_iter_init (&iter, codes);
  while (g_hash_table_iter_next (&iter, &code, NULL))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) batches = pd_stock_suggest (store, code, today, "2027-04-06", &error);

      g_assert_no_error (error);
      g_assert_cmpuint (batches->len, >, 0);
    }
  close_store (store);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stock/receive", test_receive);
  g_test_add_func ("/stock/refusals", test_refusals);
  g_test_add_func ("/stock/roles", test_roles);
  g_test_add_func ("/stock/list", test_list);
  g_test_add_func ("/stock/suggest", test_suggest);
  g_test_add_func ("/stock/move", test_move);
  g_test_add_func ("/stock/demo-receipt", test_demo_receipt);
  shift_start (&shift, "stock");
  status = g_test_run ();
  shift_stop (&shift);
  return status;
}
