/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-config"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-config.h"

G_DEFINE_QUARK (pd-config-error-quark, pd_config_error)

typedef struct {
  const char *group;
  const char *key;
  gsize       offset;
  gboolean    is_url;
} Field;

#define F(g, k, member, url) { g, k, G_STRUCT_OFFSET (PdConfig, member), url }

static const Field fields[] = {
  F ("pharmacy", "fixmedins_code", fixmedins_code, FALSE),
  F ("pharmacy", "fixmedins_name", fixmedins_name, FALSE),
  F ("pharmacy", "mdtrtarea_admvs", mdtrtarea_admvs, FALSE),
  F ("hospital", "url", hospital_url, TRUE),
  F ("hospital", "token_url", hospital_token_url, TRUE),
  F ("hospital", "client_id", hospital_client_id, FALSE),
  F ("hospital", "client_secret", hospital_client_secret, FALSE),
  F ("hospital", "ca_file", hospital_ca_file, FALSE),
  F ("insurance", "url", insurance_url, TRUE),
  F ("insurance", "paasid", insurance_paasid, FALSE),
  F ("insurance", "token", insurance_token, FALSE),
  F ("insurance", "operator", insurance_operator, FALSE),
  F ("insurance", "operator_name", insurance_operator_name, FALSE),
  F ("courier", "url", courier_url, TRUE),
  F ("courier", "app_key", courier_app_key, FALSE),
  F ("courier", "app_secret", courier_app_secret, FALSE),
  F ("courier", "source_id", courier_source_id, FALSE),
  F ("courier", "shop_no", courier_shop_no, FALSE),
};

#undef F

void
pd_config_free (PdConfig *config)
{
  if (config == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_free (G_STRUCT_MEMBER (char *, config, fields[i].offset));
  g_free (config);
}

static gboolean
is_loopback_host (const char *host)
{
  g_autoptr(GInetAddress) addr = NULL;

  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}

/* https anywhere; plain http only to this machine (hospital.md). */
gboolean
pd_config_check_url (const char  *url,
                     const char  *key,
                     GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const char *scheme;

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    {
      g_set_error (error, PD_CONFIG_ERROR, PD_CONFIG_ERROR_INVALID,
                   _("%s: “%s” is not a URL"), key, url);
      return FALSE;
    }
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "https") == 0)
    return TRUE;
  if (g_ascii_strcasecmp (scheme, "http") == 0 && is_loopback_host (g_uri_get_host (uri)))
    return TRUE;
  g_set_error (error, PD_CONFIG_ERROR, PD_CONFIG_ERROR_INVALID,
               _("%s: “%s” must use https (plain http is allowed only for this machine)"), key, url);
  return FALSE;
}

/* cli.md's sample writes "operator=clerk01   ; comment": GKeyFile would keep
 * the comment in the value, so a blank-then-semicolon ends the value. */
static char *
strip_inline_comment (char *value)
{
  for (char *p = value; *p != '\0'; p++)
    if (*p == ';' && p > value && g_ascii_isspace (p[-1]))
      {
        *p = '\0';
        break;
      }
  return g_strstrip (value);
}

PdConfig *
pd_config_load_data (const char  *data,
                     gsize        length,
                     const char  *name,
                     GError     **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(PdConfig) config = g_new0 (PdConfig, 1);
  g_autoptr(GError) local_error = NULL;

  if (!g_key_file_load_from_data (kf, data, length, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, PD_CONFIG_ERROR, PD_CONFIG_ERROR_INVALID,
                   _("%s: %s"), name, local_error->message);
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      char *value = g_key_file_get_string (kf, fields[i].group, fields[i].key, NULL);
      g_autofree char *where = g_strdup_printf ("%s [%s] %s", name, fields[i].group, fields[i].key);

      if (value == NULL)
        continue;
      strip_inline_comment (value);
      if (*value == '\0')
        {
          g_free (value);
          continue;
        }
      if (fields[i].is_url && !pd_config_check_url (value, where, error))
        {
          g_free (value);
          return NULL;
        }
      G_STRUCT_MEMBER (char *, config, fields[i].offset) = value;
    }
  {
    g_autofree char *terminal = g_key_file_get_string (kf, "insurance", "terminal", NULL);

    if (terminal != NULL)
      strip_inline_comment (terminal);
    if (terminal != NULL && *terminal != '\0')
      {
        if (terminal[1] != '\0' || !g_ascii_isdigit (terminal[0]))
          {
            g_set_error (error, PD_CONFIG_ERROR, PD_CONFIG_ERROR_INVALID,
                         _("%s [insurance] terminal: “%s” is not a digit 0–9"), name, terminal);
            return NULL;
          }
        config->insurance_terminal = terminal[0] - '0';
      }
  }
  if (config->fixmedins_code != NULL && strlen (config->fixmedins_code) != 12)
    {
      g_set_error (error, PD_CONFIG_ERROR, PD_CONFIG_ERROR_INVALID,
                   _("%s [pharmacy] fixmedins_code: “%s” must be 12 characters"), name, config->fixmedins_code);
      return NULL;
    }
  return g_steal_pointer (&config);
}

PdConfig *
pd_config_load (const char  *path,
                GError     **error)
{
  g_autofree char *data = NULL;
  gsize length = 0;
  g_autoptr(GError) local_error = NULL;

  if (!g_file_get_contents (path, &data, &length, &local_error))
    {
      g_set_error (error, PD_CONFIG_ERROR, PD_CONFIG_ERROR_INVALID,
                   _("Cannot read the configuration: %s"), local_error->message);
      return NULL;
    }
  return pd_config_load_data (data, length, path, error);
}
