/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "test-link-settings"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-audit.h"
#include "pd-link-settings.h"

/* The links a desk keeps without --config: addresses in the database,
 * secrets in a real Secret Service (a private gnome-keyring, started by
 * tests/core/keyring-run), never in the database file. */

static const char *ini =
  "[pharmacy]\nfixmedins_code=P11010500123\nfixmedins_name=示例大药房\nmdtrtarea_admvs=110105\n"
  "[hospital]\nurl=http://127.0.0.1:8080/fhir\ntoken_url=http://127.0.0.1:8080/oauth/token\n"
  "client_id=pharmacy-1\nclient_secret=hospital-secret-7f3a9c\n"
  "[insurance]\nurl=http://127.0.0.1:8080/nhsa\npaasid=pharmacy-1\ntoken=insurance-token-51d2e8\nterminal=1\n"
  "operator=clerk01   ; a night job's default\n"
  "[courier]\nurl=http://127.0.0.1:8080/courier\napp_key=k\napp_secret=courier-secret-0b44aa\nsource_id=73753\nshop_no=shop-1\n";

static void
test_keep_and_load (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pd-links-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "pharmacy.db", NULL);
  PdAccountSpec admin = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec ph = { "ph", "药师", PD_ROLE_PHARMACIST, "YS-1", "Practitioner/ph-1", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *recovery = NULL;
  g_autoptr(PdStore) store = pd_store_open (path, &error);
  g_autoptr(PdSession) boss = NULL;
  g_autoptr(PdSession) pharmacist = NULL;
  g_autoptr(PdConfig) config = NULL;
  g_autofree char *raw = NULL;
  gsize raw_len = 0;
  const char *secrets[] = { "hospital-secret-7f3a9c", "insurance-token-51d2e8", "courier-secret-0b44aa" };

  g_assert_no_error (error);
  g_assert_true (pd_accounts_init (store, &admin, "admin-password", &recovery, &error));
  boss = pd_session_sign_in (store, "admin", "admin-password", &error);
  g_assert_true (pd_accounts_add (boss, &ph, "pharmacist-password", &error));
  pharmacist = pd_session_sign_in (store, "ph", "pharmacist-password", &error);
  g_assert_no_error (error);

  /* Nothing kept yet. */
  g_assert_null (pd_link_settings_load (store, &error));
  g_assert_error (error, PD_LINK_SETTINGS_ERROR, PD_LINK_SETTINGS_ERROR_NONE);
  g_clear_error (&error);

  /* Only an administrator; the refusal is audited. */
  g_assert_false (pd_link_settings_import (pharmacist, ini, strlen (ini), &error));
  g_assert_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_FORBIDDEN);
  g_clear_error (&error);

  /* A bad file changes nothing. */
  {
    const char *bad = "[hospital]\nurl=http://example.com/fhir\ntoken_url=http://127.0.0.1:1/t\n";

    g_assert_false (pd_link_settings_import (boss, bad, strlen (bad), &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
    g_assert_null (pd_link_settings_load (store, &error));
    g_clear_error (&error);
  }

  g_assert_true (pd_link_settings_import (boss, ini, strlen (ini), &error));
  g_assert_no_error (error);
  config = pd_link_settings_load (store, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (config->hospital_url, ==, "http://127.0.0.1:8080/fhir");
  g_assert_cmpstr (config->hospital_client_secret, ==, secrets[0]);
  g_assert_cmpstr (config->insurance_token, ==, secrets[1]);
  g_assert_cmpstr (config->courier_app_secret, ==, secrets[2]);
  g_assert_cmpstr (config->insurance_operator, ==, "clerk01");
  g_assert_cmpint (config->insurance_terminal, ==, 1);
  g_assert_cmpstr (config->fixmedins_name, ==, "示例大药房");

  /* The audit trail names the change and the refusal; the file, read raw,
   * holds no secret. */
  {
    sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT count(*) FROM audit_event WHERE action = 'links.change'", NULL);

    g_assert_nonnull (stmt);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 1);
    sqlite3_reset (stmt);
  }
  pd_store_close (store);
  g_assert_true (g_file_get_contents (path, &raw, &raw_len, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    g_assert_null (memmem (raw, raw_len, secrets[i], strlen (secrets[i])));
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/link-settings/keep-and-load", test_keep_and_load);
  return g_test_run ();
}
