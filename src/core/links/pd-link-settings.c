/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-link-settings"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "pd-audit.h"
#include "pd-link-settings.h"

G_DEFINE_QUARK (pd-link-settings-error-quark, pd_link_settings_error)

#define SETTING_KEY "links.ini"

static const SecretSchema schema = {
  "io.github.pharmdesk.PharmDesk.Link", SECRET_SCHEMA_NONE,
  {
    { "database", SECRET_SCHEMA_ATTRIBUTE_STRING },   /* the database file, absolute */
    { "group", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "key", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  },
};

static const char *secrets[][2] = {
  { "hospital", "client_secret" }, { "insurance", "token" }, { "courier", "app_secret" },
};

static char *
database_id (PdStore *store)
{
  g_autoptr(GFile) file = g_file_new_for_path (pd_store_get_path (store));

  return g_file_get_path (file);
}

static gboolean
keyring_error (GError    **error,
               GError     *cause)
{
  g_set_error (error, PD_LINK_SETTINGS_ERROR, PD_LINK_SETTINGS_ERROR_KEYRING,
               _("The keyring cannot keep the links’ secrets: %s"), cause != NULL ? cause->message : _("no keyring answers"));
  return FALSE;
}

typedef struct {
  PdSession  *session;
  const char *text;
  const char *detail;
} ImportJob;

static gboolean
write_settings (PdStore  *store,
                gpointer  user_data,
                GError  **error)
{
  ImportJob *job = user_data;
  const PdAccount *me = pd_session_get_account (job->session);
  PdAuditEntry e = { me->id, "links.change", "setting", NULL, "ok", job->detail, NULL };

  return pd_setting_put (store, SETTING_KEY, job->text, me->id, error)
         && pd_audit_append (store, pd_session_get_audit_keys (job->session), &e, error);
}

gboolean
pd_link_settings_import (PdSession  *admin,
                         const char *data,
                         gsize       length,
                         GError    **error)
{
  PdStore *store = pd_session_get_store (admin);
  g_autoptr(PdConfig) check = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *db = database_id (store);
  g_autofree char *text = NULL;
  GString *detail = g_string_new (NULL);
  ImportJob job;
  gboolean ok;

  if (!pd_session_require (admin, PD_ACTION_MANAGE_LINKS, "setting", NULL, error))
    return FALSE;
  check = pd_config_load_data (data, length, "links", error);
  if (check == NULL || !g_key_file_load_from_data (kf, data, length, G_KEY_FILE_NONE, error))
    return FALSE;
  /* Secrets to the keyring first; the database keeps the rest. */
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      g_autofree char *secret = g_key_file_get_string (kf, secrets[i][0], secrets[i][1], NULL);
      g_autofree char *label = g_strdup_printf ("PharmDesk %s %s", secrets[i][0], secrets[i][1]);
      g_autoptr(GError) local_error = NULL;

      if (secret == NULL)
        continue;
      g_strstrip (secret);
      if (!secret_password_store_sync (&schema, SECRET_COLLECTION_DEFAULT, label, secret, NULL, &local_error,
                                       "database", db, "group", secrets[i][0], "key", secrets[i][1], NULL))
        {
          g_string_free (detail, TRUE);
          return keyring_error (error, local_error);
        }
      g_key_file_remove_key (kf, secrets[i][0], secrets[i][1], NULL);
      g_string_append_printf (detail, "%s%s.%s", detail->len > 0 ? " " : "secrets ", secrets[i][0], secrets[i][1]);
    }
  text = g_key_file_to_data (kf, NULL, NULL);
  job.session = admin;
  job.text = text;
  job.detail = detail->str;
  ok = pd_store_write (store, write_settings, &job, error);
  g_string_free (detail, TRUE);
  return ok;
}

PdConfig *
pd_link_settings_load (PdStore *store,
                       GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *db = database_id (store);
  g_autofree char *text = pd_setting_get (store, SETTING_KEY);
  g_autofree char *data = NULL;
  gsize length = 0;

  if (text == NULL)
    {
      g_set_error (error, PD_LINK_SETTINGS_ERROR, PD_LINK_SETTINGS_ERROR_NONE, "%s",
                   _("No links are set: give --config FILE, or an administrator sets them with “pharmdesk-cli links set FILE”"));
      return NULL;
    }
  if (!g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_NONE, error))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *secret = NULL;

      if (!g_key_file_has_group (kf, secrets[i][0]))
        continue;
      secret = secret_password_lookup_sync (&schema, NULL, &local_error, "database", db, "group", secrets[i][0],
                                            "key", secrets[i][1], NULL);
      if (local_error != NULL)
        {
          keyring_error (error, local_error);
          return NULL;
        }
      if (secret != NULL)
        g_key_file_set_string (kf, secrets[i][0], secrets[i][1], secret);
    }
  data = g_key_file_to_data (kf, &length, NULL);
  return pd_config_load_data (data, length, "links", error);
}
