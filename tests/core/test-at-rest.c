/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-at-rest"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-vault.h"

/* Patient data written the way core writes it (sealed columns, keyed
 * indexes, ids in the audit trail) never appears in the file's bytes, and
 * is still found by name, surname and ID tail. */

static const char *patient_name = "欧阳秀英";
static const char *patient_id = "11010519580301234X";
static const char *patient_phone = "13812345678";

typedef struct {
  PdSession *session;
} Job;

static gboolean
bind_sealed (PdSession    *session,
             sqlite3_stmt *stmt,
             int           col,
             const char   *table,
             const char   *column,
             const char   *uuid,
             const char   *text)
{
  g_autoptr(GBytes) sealed = pd_vault_seal (session, table, column, uuid, text, NULL);
  gsize len = 0;
  const void *data = g_bytes_get_data (sealed, &len);

  return sqlite3_bind_blob (stmt, col, data, (int) len, SQLITE_TRANSIENT) == SQLITE_OK;
}

static gboolean
write_patient_data (PdStore  *store,
                    gpointer  user_data,
                    GError  **error)
{
  Job *job = user_data;
  const guint8 *dk = pd_session_get_data_key (job->session);
  guint8 name_ix[PD_INDEX_SIZE], surname_ix[PD_INDEX_SIZE], id_ix[PD_INDEX_SIZE];
  g_autofree char *fhir = g_strdup_printf ("{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"%s\"}],"
                                           "\"identifier\":[{\"value\":\"%s\"}],\"telecom\":[{\"value\":\"%s\"}]}",
                                           patient_name, patient_id, patient_phone);
  sqlite3_stmt *stmt;
  PdAuditEntry e = { pd_session_get_account (job->session)->id, "prescription.open", "prescription", "rx-uuid-1", "ok", NULL, NULL };

  pd_vault_index_name (dk, patient_name, name_ix);
  pd_vault_index_surname (dk, patient_name, surname_ix);
  pd_vault_index_id_tail (dk, patient_id, id_ix);

  stmt = pd_store_prepare (store, "INSERT INTO prescription (uuid, rx_system, rx_number, patient_name_sealed,"
                                  " patient_name_index, patient_surname_index, patient_id_tail_index)"
                                  " VALUES ('rx-uuid-1', 'urn:rx', 'RX-20261120-0001', ?, ?, ?, ?)", error);
  bind_sealed (job->session, stmt, 1, "prescription", "patient_name_sealed", "rx-uuid-1", patient_name);
  sqlite3_bind_blob (stmt, 2, name_ix, sizeof name_ix, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 3, surname_ix, sizeof surname_ix, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 4, id_ix, sizeof id_ix, SQLITE_TRANSIENT);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;

  stmt = pd_store_prepare (store, "INSERT INTO cached_object (uuid, link, resource_type, resource_id, version_id, body_sealed, fetched_at)"
                                  " VALUES ('co-1', 'hospital', 'Patient', 'pat-1', '1', ?, 'now')", error);
  bind_sealed (job->session, stmt, 1, "cached_object", "body_sealed", "co-1", fhir);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;

  stmt = pd_store_prepare (store, "INSERT INTO outbox (uuid, link, operation, idempotency_key, request_sealed, created_at, updated_at)"
                                  " VALUES ('ob-1', 'insurance', '1101', 'P11010500123202611201000001001', ?, 'now', 'now')", error);
  bind_sealed (job->session, stmt, 1, "outbox", "request_sealed", "ob-1", fhir);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  return pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error);
}

static gboolean
contains (const char *hay,
          gsize       len,
          const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (hay + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

static void
assert_file_clean (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  const char *needles[] = { patient_name, "欧阳", patient_id, "1958030", patient_phone, "12345678" };

  if (!g_file_get_contents (path, &data, &len, NULL))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (needles); i++)
    if (contains (data, len, needles[i]))
      g_error ("%s holds “%s” in clear", path, needles[i]);
}

static void
test_no_patient_data_in_the_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pd-at-rest-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "p.db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = pd_store_open (path, &error);
  PdAccountSpec admin = { "admin", "Admin", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec ph = { "wang", "王药师", PD_ROLE_PHARMACIST, "YS-1", NULL, NULL };
  g_autoptr(PdSession) boss = NULL;
  g_autoptr(PdSession) s = NULL;
  Job job;
  sqlite3_stmt *stmt;
  guint8 ix[PD_INDEX_SIZE];

  g_assert_true (pd_accounts_init (store, &admin, "admin-password", NULL, &error));
  boss = pd_session_sign_in (store, "admin", "admin-password", &error);
  g_assert_true (pd_accounts_add (boss, &ph, "password-1234", &error));
  s = pd_session_sign_in (store, "wang", "password-1234", &error);
  g_assert_no_error (error);
  job.session = s;
  g_assert_true (pd_store_write (store, write_patient_data, &job, &error));
  g_assert_no_error (error);

  /* Found again by the keyed indexes, spelled differently. */
  pd_vault_index_name (pd_session_get_data_key (s), "欧阳 秀英", ix);
  stmt = pd_store_prepare (store, "SELECT uuid, patient_name_sealed FROM prescription WHERE patient_name_index = ?", NULL);
  sqlite3_bind_blob (stmt, 1, ix, sizeof ix, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  {
    g_autofree char *name = pd_vault_open (s, "prescription", "patient_name_sealed",
                                           (const char *) sqlite3_column_text (stmt, 0),
                                           sqlite3_column_blob (stmt, 1), sqlite3_column_bytes (stmt, 1), &error);
    g_assert_cmpstr (name, ==, patient_name);
  }
  sqlite3_reset (stmt);
  pd_vault_index_id_tail (pd_session_get_data_key (s), "234x", ix);
  stmt = pd_store_prepare (store, "SELECT count(*) FROM prescription WHERE patient_id_tail_index = ?", NULL);
  sqlite3_bind_blob (stmt, 1, ix, sizeof ix, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 1);
  sqlite3_reset (stmt);

  /* The file as it stands (with its WAL), then checkpointed and closed. */
  assert_file_clean (path);
  assert_file_clean (wal);
  pd_store_close (store);
  assert_file_clean (path);
  assert_file_clean (wal);
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/at-rest/no-patient-data-in-the-file", test_no_patient_data_in_the_file);
  return g_test_run ();
}
