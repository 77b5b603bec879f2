/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-trace-code"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-trace-code.h"

/* The one query of a scan. The comment is part of the text SQLite keeps,
 * so the statement is told apart from anyone else's lookup of the table. */
#define LOOKUP_SQL \
  "SELECT state, drug_code, batch_id, units_left FROM trace_code WHERE code = ?1 /* pd_trace_code_check */"

#define TRACE_CODE_LENGTH 20

/* One prepared statement per connection, kept for the connection's life:
 * a scan is a point read, and preparing it again each time would cost
 * more than the read. The connection's close is what ends it: SQLite
 * calls the SQLITE_TRACE_CLOSE hook before it refuses to close a
 * connection that still has statements, so the statement is finalized
 * there and a later connection at the same address never finds it.
 * SQLite 3.40 has no sqlite3_set_clientdata (3.44), hence the table.
 * Lock order: the connection's mutex, then `lock`. */
typedef struct {
  sqlite3      *db;
  sqlite3_stmt *stmt;
} Cached;

static GMutex      lock;
static GHashTable *statements;   /* sqlite3* → Cached* */

static int
connection_closing_cb (unsigned  what,
                       void     *context,
                       void     *p,
                       void     *x)
{
  Cached *cached = context;

  if (what != SQLITE_TRACE_CLOSE)
    return 0;
  /* The close may still fail (another's statement left open): the hook
   * must not come back with this context, freed below. */
  sqlite3_trace_v2 (cached->db, 0, NULL, NULL);
  g_mutex_lock (&lock);
  if (statements != NULL && g_hash_table_lookup (statements, cached->db) == cached)
    g_hash_table_remove (statements, cached->db);
  g_mutex_unlock (&lock);
  sqlite3_finalize (cached->stmt);
  g_free (cached);
  return 0;
}

/* Called with the connection's mutex held (when it has one). */
static sqlite3_stmt *
lookup_statement (sqlite3  *db,
                  GError  **error)
{
  Cached *cached;
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_mutex_lock (&lock);
  if (statements == NULL)
    statements = g_hash_table_new (NULL, NULL);
  cached = g_hash_table_lookup (statements, db);
  g_mutex_unlock (&lock);
  if (cached != NULL)
    return cached->stmt;

  rc = sqlite3_prepare_v3 (db, LOOKUP_SQL, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      pd_store_set_error (db, rc, LOOKUP_SQL, error);
      sqlite3_finalize (stmt);
      return NULL;
    }
  cached = g_new0 (Cached, 1);
  cached->db = db;
  cached->stmt = stmt;
  /* This takes the connection's trace hook: nothing else in PharmDesk sets one. */
  rc = sqlite3_trace_v2 (db, SQLITE_TRACE_CLOSE, connection_closing_cb, cached);
  if (rc != SQLITE_OK)
    {
      pd_store_set_error (db, rc, "sqlite3_trace_v2", error);
      sqlite3_finalize (stmt);
      g_free (cached);
      return NULL;
    }
  g_mutex_lock (&lock);
  g_hash_table_insert (statements, db, cached);
  g_mutex_unlock (&lock);
  return stmt;
}

static gboolean
is_twenty_digits (const char *code)
{
  if (code == NULL)
    return FALSE;
  for (int i = 0; i < TRACE_CODE_LENGTH; i++)
    if (!g_ascii_isdigit (code[i]))
      return FALSE;
  return code[TRACE_CODE_LENGTH] == '\0';
}

/* The code exactly as the entry holds it: a keyboard-wedge scanner's Enter
 * ends the entry and is never part of it, and nothing else is stripped
 * (a space or a full-width digit is a bad scan, said as one). The checks
 * go from the cheapest to the database, so a code refused on its form
 * costs no read. A failed read sets error and refuses the code (USED):
 * never OK on a doubt. */
PdScanResult
pd_trace_code_check (sqlite3            *db,
                     const PdKbDrug     *drug,
                     const char         *code,
                     const char * const *already,
                     guint               room,
                     int                *units_left,
                     gint64             *batch_id,
                     GError            **error)
{
  sqlite3_mutex *mutex;
  sqlite3_stmt *stmt;
  PdScanResult result = PD_SCAN_OK;
  int rc;

  if (units_left != NULL)
    *units_left = 0;
  if (batch_id != NULL)
    *batch_id = 0;

  if (!is_twenty_digits (code))
    return PD_SCAN_NOT_20_DIGITS;
  if (drug != NULL && drug->trace_prefix != NULL && !g_str_has_prefix (code, drug->trace_prefix))
    return PD_SCAN_WRONG_PREFIX;
  if (already != NULL && g_strv_contains (already, code))
    return PD_SCAN_REPEATED;
  if (room == 0)
    return PD_SCAN_TOO_MANY;

  g_return_val_if_fail (db != NULL, PD_SCAN_USED);

  /* Bind, step and reset as one, should two threads share the connection
   * (NULL, a no-op, for a connection opened without a mutex). */
  mutex = sqlite3_db_mutex (db);
  sqlite3_mutex_enter (mutex);
  stmt = lookup_statement (db, error);
  if (stmt == NULL)
    {
      sqlite3_mutex_leave (mutex);
      return PD_SCAN_USED;
    }
  sqlite3_bind_text (stmt, 1, code, TRACE_CODE_LENGTH, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      const char *state = (const char *) sqlite3_column_text (stmt, 0);
      const char *drug_code = (const char *) sqlite3_column_text (stmt, 1);
      gboolean same_drug = drug != NULL && g_strcmp0 (drug_code, drug->code) == 0;
      gboolean opened = g_strcmp0 (state, "opened") == 0;
      gboolean in_stock = g_strcmp0 (state, "in_stock") == 0;
      int left = sqlite3_column_int (stmt, 3);

      /* Without the drug (not in the knowledge base) an opened or returned
       * box cannot be shown to be the same drug's: refused as another's. */
      if (same_drug && opened && left > 0)
        result = PD_SCAN_OPENED;
      else if (same_drug && in_stock)
        result = PD_SCAN_RETURNED;
      else if (!same_drug && (opened || in_stock))
        result = PD_SCAN_OTHER_DRUG;
      else
        result = PD_SCAN_USED;
      if (result == PD_SCAN_OPENED && units_left != NULL)
        *units_left = left;
      if ((result == PD_SCAN_OPENED || result == PD_SCAN_RETURNED) && batch_id != NULL)
        *batch_id = sqlite3_column_int64 (stmt, 2);
    }
  else if (rc != SQLITE_DONE)
    {
      pd_store_set_error (db, rc, LOOKUP_SQL, error);
      result = PD_SCAN_USED;
    }
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  sqlite3_mutex_leave (mutex);
  return result;
}

gboolean
pd_scan_result_is_ok (PdScanResult result)
{
  return result == PD_SCAN_OK || result == PD_SCAN_OPENED || result == PD_SCAN_RETURNED;
}

/* What was scanned, fit to show: at most 24 characters, control
 * characters (a stray Tab or newline) as U+FFFD. */
static char *
shown_code (const char *code,
            glong      *n_chars)
{
  g_autofree char *valid = g_utf8_make_valid (code != NULL ? code : "", -1);
  GString *out = g_string_new (NULL);
  const char *p = valid;
  glong n = 0;

  for (; *p != '\0'; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      if (n == 24)
        g_string_append (out, "…");
      if (n >= 24)
        continue;
      g_string_append_unichar (out, g_unichar_iscntrl (c) ? 0xFFFD : c);
    }
  *n_chars = n;
  return g_string_free (out, FALSE);
}

char *
pd_scan_result_describe (PdScanResult    result,
                         const char     *code,
                         const PdKbDrug *drug)
{
  glong n = 0;
  g_autofree char *shown = shown_code (code, &n);
  const char *name = drug != NULL ? drug->name : "";

  switch (result)
    {
    case PD_SCAN_OK:
      /* Translators: %s is a box's 20-digit traceability code. */
      return g_strdup_printf (_("%s: a new box."), shown);
    case PD_SCAN_OPENED:
      /* Translators: %s is a box's 20-digit traceability code. */
      return g_strdup_printf (_("%s: an opened box of this drug, with units left."), shown);
    case PD_SCAN_RETURNED:
      /* Translators: %s is a box's 20-digit traceability code. */
      return g_strdup_printf (_("%s: a box of this drug that came back to stock."), shown);
    case PD_SCAN_NOT_20_DIGITS:
      if (n == 0)
        return g_strdup (_("Nothing was scanned: a traceability code is 20 digits."));
      if (n == TRACE_CODE_LENGTH)
        /* Translators: %s is what was scanned. */
        return g_strdup_printf (_("%s is not a traceability code: it holds characters other than the digits 0–9."), shown);
      /* Translators: %s is what was scanned, %ld how many characters it has. */
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%s is not 20 digits (%ld character scanned).",
                                           "%s is not 20 digits (%ld characters scanned).", n),
                              shown, n);
    case PD_SCAN_WRONG_PREFIX:
      /* Translators: the first %s is the scanned code, the second the
       * 7-digit drug identification code it should begin with, the third
       * the drug's name. */
      return g_strdup_printf (_("%s does not begin with %s, the identification code of %s: this box is another product."),
                              shown, drug != NULL && drug->trace_prefix != NULL ? drug->trace_prefix : "", name);
    case PD_SCAN_USED:
      /* Translators: %s is a box's 20-digit traceability code. */
      return g_strdup_printf (_("%s was already used in this pharmacy: a box is dispensed or sold only once."), shown);
    case PD_SCAN_OTHER_DRUG:
      /* Translators: %s is a box's 20-digit traceability code. */
      return g_strdup_printf (_("%s belongs to a box of another drug."), shown);
    case PD_SCAN_REPEATED:
      /* Translators: %s is a box's 20-digit traceability code. */
      return g_strdup_printf (_("%s was already scanned for this prescription."), shown);
    case PD_SCAN_TOO_MANY:
      /* Translators: %s is a box's 20-digit traceability code. */
      return g_strdup_printf (_("%s is one code too many: every box of this line has its code."), shown);
    }
  g_return_val_if_reached (NULL);
}
