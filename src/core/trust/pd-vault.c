/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-vault"

#include "config.h"

#include <string.h>

#include "pd-vault.h"

/* Two-character surnames that would otherwise index as their first half. */
static const char *compound_surnames[] = {
  "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
  "长孙", "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "申屠",
};

GBytes *
pd_vault_seal (PdSession  *session,
               const char *table,
               const char *column,
               const char *uuid,
               const char *text,
               GError    **error)
{
  return pd_crypto_seal (pd_session_get_data_key (session), table, column, uuid,
                         (const guint8 *) text, strlen (text), error);
}

char *
pd_vault_open (PdSession  *session,
               const char *table,
               const char *column,
               const char *uuid,
               const void *sealed,
               gsize       len,
               GError    **error)
{
  g_autoptr(GBytes) plain = pd_crypto_open (pd_session_get_data_key (session), table, column, uuid,
                                            sealed, len, error);

  if (plain == NULL)
    return NULL;
  return g_strndup (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain));
}

/* NFKC (full-width letters and the ideographic space fold), no spaces at
 * all, Latin letters case-folded: 张 三, 张三 and ＺＨＡＮＧ San find each other. */
char *
pd_vault_normalize_name (const char *name)
{
  g_autofree char *nfkc = g_utf8_normalize (name != NULL ? name : "", -1, G_NORMALIZE_NFKC);
  g_autofree char *folded = NULL;
  GString *out = g_string_new (NULL);

  if (nfkc == NULL)
    return g_string_free (out, FALSE);
  folded = g_utf8_casefold (nfkc, -1);
  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!g_unichar_isspace (c) && c != 0x00B7 && c != 0x30FB)  /* and the middle dots of transliterated names */
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

char *
pd_vault_surname (const char *name)
{
  g_autofree char *nfkc = g_utf8_normalize (name != NULL ? name : "", -1, G_NORMALIZE_NFKC);
  g_autofree char *trimmed = NULL;
  const char *space;

  if (nfkc == NULL)
    return g_strdup ("");
  trimmed = g_strstrip (g_strdup (nfkc));
  /* A Latin-script name: the last word. */
  space = strrchr (trimmed, ' ');
  if (space != NULL && g_ascii_isalpha (trimmed[0]))
    return g_utf8_casefold (space + 1, -1);
  for (guint i = 0; i < G_N_ELEMENTS (compound_surnames); i++)
    if (g_str_has_prefix (trimmed, compound_surnames[i]))
      return g_strdup (compound_surnames[i]);
  if (*trimmed == '\0')
    return g_strdup ("");
  return g_utf8_substring (trimmed, 0, 1);
}

static void
index_key (const guint8 *data_key,
           guint8        key[PD_KEY_SIZE])
{
  pd_crypto_hmac (data_key, "pharmdesk lookup index", NULL, 0, key);
}

static void
index_value (const guint8 *data_key,
             const char   *label,
             const char   *value,
             guint8        out[PD_INDEX_SIZE])
{
  guint8 key[PD_KEY_SIZE];

  index_key (data_key, key);
  pd_crypto_hmac (key, label, (const guint8 *) value, strlen (value), out);
  pd_crypto_wipe (key, sizeof key);
}

void
pd_vault_index_name (const guint8 *data_key,
                     const char   *name,
                     guint8        out[PD_INDEX_SIZE])
{
  g_autofree char *norm = pd_vault_normalize_name (name);

  index_value (data_key, "name", norm, out);
}

void
pd_vault_index_surname (const guint8 *data_key,
                        const char   *name,
                        guint8        out[PD_INDEX_SIZE])
{
  g_autofree char *surname = pd_vault_surname (name);

  index_value (data_key, "surname", surname, out);
}

/* The last four characters of a resident ID (the check digit may be X). */
gboolean
pd_vault_index_id_tail (const guint8 *data_key,
                        const char   *id_number,
                        guint8        out[PD_INDEX_SIZE])
{
  g_autofree char *norm = pd_vault_normalize_name (id_number);
  g_autofree char *upper = g_ascii_strup (norm, -1);
  gsize len = strlen (upper);

  if (len < 4)
    return FALSE;
  index_value (data_key, "id-tail", upper + len - 4, out);
  return TRUE;
}
