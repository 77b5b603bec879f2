/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-crypto"

#include "config.h"

#include <gcrypt.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <string.h>

#include "pd-crypto.h"

#define SEAL_VERSION 1
#define NONCE_SIZE   12
#define TAG_SIZE     16
#define SALT_SIZE    16

G_DEFINE_QUARK (pd-crypto-error-quark, pd_crypto_error)

gboolean
pd_crypto_init (GError **error)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
      if (gcry_check_version ("1.10.0") == NULL)
        {
          g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FAILED,
                       _("libgcrypt 1.10 or newer is needed, found %s"), gcry_check_version (NULL));
          return FALSE;
        }
      gcry_control (GCRYCTL_DISABLE_SECMEM, 0);
      gcry_control (GCRYCTL_INITIALIZATION_FINISHED, 0);
      g_once_init_leave (&done, 1);
    }
  return TRUE;
}

void
pd_crypto_random (guint8 *buf,
                  gsize   len)
{
  pd_crypto_init (NULL);
  gcry_randomize (buf, len, GCRY_STRONG_RANDOM);
}

void
pd_crypto_wipe (gpointer buf,
                gsize    len)
{
  if (buf != NULL)
    {
      volatile guint8 *p = buf;
      while (len--)
        *p++ = 0;
    }
}

static char *
associated_data (const char *table,
                 const char *column,
                 const char *uuid)
{
  return g_strdup_printf ("%s|%s|%s", table, column, uuid);
}

static gboolean
gcry_failed (gcry_error_t err,
             const char  *what,
             GError     **error)
{
  g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FAILED, "%s: %s", what, gcry_strerror (err));
  return FALSE;
}

/* version (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16). */
GBytes *
pd_crypto_seal (const guint8 *key,
                const char   *table,
                const char   *column,
                const char   *uuid,
                const guint8 *plain,
                gsize         len,
                GError      **error)
{
  gcry_cipher_hd_t hd = NULL;
  g_autofree char *ad = associated_data (table, column, uuid);
  gsize total = 1 + NONCE_SIZE + len + TAG_SIZE;
  guint8 *out = g_malloc (total);
  gcry_error_t err;

  pd_crypto_init (NULL);
  out[0] = SEAL_VERSION;
  gcry_create_nonce (out + 1, NONCE_SIZE);
  if ((err = gcry_cipher_open (&hd, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 0))
      || (err = gcry_cipher_setkey (hd, key, PD_KEY_SIZE))
      || (err = gcry_cipher_setiv (hd, out + 1, NONCE_SIZE))
      || (err = gcry_cipher_authenticate (hd, ad, strlen (ad)))
      || (err = gcry_cipher_encrypt (hd, out + 1 + NONCE_SIZE, len, plain, len))
      || (err = gcry_cipher_gettag (hd, out + 1 + NONCE_SIZE + len, TAG_SIZE)))
    {
      gcry_cipher_close (hd);
      g_free (out);
      gcry_failed (err, "AES-256-GCM", error);
      return NULL;
    }
  gcry_cipher_close (hd);
  return g_bytes_new_take (out, total);
}

GBytes *
pd_crypto_open (const guint8 *key,
                const char   *table,
                const char   *column,
                const char   *uuid,
                const guint8 *sealed,
                gsize         len,
                GError      **error)
{
  gcry_cipher_hd_t hd = NULL;
  g_autofree char *ad = associated_data (table, column, uuid);
  gsize plain_len;
  guint8 *out;
  gcry_error_t err;

  pd_crypto_init (NULL);
  if (len < 1 + NONCE_SIZE + TAG_SIZE || sealed[0] != SEAL_VERSION)
    {
      g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT,
                   _("%s.%s of record %s is not a sealed value"), table, column, uuid);
      return NULL;
    }
  plain_len = len - 1 - NONCE_SIZE - TAG_SIZE;
  out = g_malloc (plain_len + 1);
  if ((err = gcry_cipher_open (&hd, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 0))
      || (err = gcry_cipher_setkey (hd, key, PD_KEY_SIZE))
      || (err = gcry_cipher_setiv (hd, sealed + 1, NONCE_SIZE))
      || (err = gcry_cipher_authenticate (hd, ad, strlen (ad)))
      || (err = gcry_cipher_decrypt (hd, out, plain_len, sealed + 1 + NONCE_SIZE, plain_len)))
    {
      gcry_cipher_close (hd);
      g_free (out);
      gcry_failed (err, "AES-256-GCM", error);
      return NULL;
    }
  err = gcry_cipher_checktag (hd, sealed + 1 + NONCE_SIZE + plain_len, TAG_SIZE);
  gcry_cipher_close (hd);
  if (err)
    {
      pd_crypto_wipe (out, plain_len);
      g_free (out);
      g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_DECRYPT,
                   _("%s.%s of record %s does not open with this key: the key is wrong or the data was altered"),
                   table, column, uuid);
      return NULL;
    }
  out[plain_len] = '\0';  /* so text can be read in place */
  return g_bytes_new_take (out, plain_len);
}

/* HMAC-SHA-256 over label ‖ 0 ‖ data: one key serves several indexes
 * without one index's values matching another's. */
void
pd_crypto_hmac (const guint8 *key,
                const char   *label,
                const guint8 *data,
                gsize         len,
                guint8        out[PD_KEY_SIZE])
{
  gcry_mac_hd_t hd = NULL;
  size_t out_len = PD_KEY_SIZE;

  pd_crypto_init (NULL);
  if (gcry_mac_open (&hd, GCRY_MAC_HMAC_SHA256, 0, NULL) != 0)
    g_error ("HMAC-SHA-256 is not available");
  gcry_mac_setkey (hd, key, PD_KEY_SIZE);
  gcry_mac_write (hd, label, strlen (label) + 1);
  gcry_mac_write (hd, data, len);
  gcry_mac_read (hd, out, &out_len);
  gcry_mac_close (hd);
}

/* OWASP's first Argon2id choice is m=19 MiB, t=2; we take more memory,
 * since a desk signs in a few times a day. Tests may lower it through
 * PHARMDESK_KDF=fast-insecure; the parameters travel with each hash. */
const PdKdfParams *
pd_kdf_default_params (void)
{
  static const PdKdfParams normal = { 65536, 3, 1 };
  static const PdKdfParams fast = { 256, 1, 1 };

  if (g_strcmp0 (g_getenv ("PHARMDESK_KDF"), "fast-insecure") == 0)
    return &fast;
  return &normal;
}

gboolean
pd_kdf_derive (const char        *password,
               const guint8      *salt,
               gsize              salt_len,
               const PdKdfParams *params,
               guint8             out[PD_KEY_SIZE],
               GError           **error)
{
  gcry_kdf_hd_t hd = NULL;
  unsigned long p[4] = { PD_KEY_SIZE, params->t_cost, params->m_cost_kib, params->parallelism };
  gcry_error_t err;

  pd_crypto_init (NULL);
  /* libgcrypt refuses an empty passphrase, and its handle is then NULL. */
  if (password == NULL || *password == '\0')
    {
      g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT, "%s", _("An empty password cannot be used"));
      return FALSE;
    }
  if ((err = gcry_kdf_open (&hd, GCRY_KDF_ARGON2, GCRY_KDF_ARGON2ID, p, 4,
                            password, strlen (password), salt, salt_len, NULL, 0, NULL, 0))
      || (err = gcry_kdf_compute (hd, NULL))
      || (err = gcry_kdf_final (hd, PD_KEY_SIZE, out)))
    {
      if (hd != NULL)
        gcry_kdf_close (hd);
      return gcry_failed (err, "Argon2id", error);
    }
  gcry_kdf_close (hd);
  return TRUE;
}

static char *
b64_nopad (const guint8 *data,
           gsize         len)
{
  char *s = g_base64_encode (data, len);
  char *eq = strchr (s, '=');

  if (eq != NULL)
    *eq = '\0';
  return s;
}

static guint8 *
b64_nopad_decode (const char *text,
                  gsize      *len)
{
  g_autofree char *padded = g_strnfill ((4 - strlen (text) % 4) % 4, '=');
  g_autofree char *full = g_strconcat (text, padded, NULL);

  return g_base64_decode (full, len);
}

/* One Argon2id run gives a master secret; the stored verifier and the key
 * that wraps the data key are HMACs of it under different labels, so the
 * verifier in the database reveals nothing about the wrapping key.
 * Form: $pd-argon2id$v=19$m=65536,t=3,p=1$<salt>$<verifier>. */
static void
split_master (const guint8 *master,
              guint8        verifier[PD_KEY_SIZE],
              guint8        kek[PD_KEY_SIZE])
{
  pd_crypto_hmac (master, "pharmdesk password verifier", NULL, 0, verifier);
  if (kek != NULL)
    pd_crypto_hmac (master, "pharmdesk key-encryption key", NULL, 0, kek);
}

char *
pd_password_hash (const char  *password,
                  guint8       kek[PD_KEY_SIZE],
                  GError     **error)
{
  const PdKdfParams *params = pd_kdf_default_params ();
  guint8 salt[SALT_SIZE];
  guint8 master[PD_KEY_SIZE];
  guint8 verifier[PD_KEY_SIZE];
  g_autofree char *salt_b64 = NULL;
  g_autofree char *verifier_b64 = NULL;

  pd_crypto_random (salt, sizeof salt);
  if (!pd_kdf_derive (password, salt, sizeof salt, params, master, error))
    return NULL;
  split_master (master, verifier, kek);
  pd_crypto_wipe (master, sizeof master);
  salt_b64 = b64_nopad (salt, sizeof salt);
  verifier_b64 = b64_nopad (verifier, sizeof verifier);
  return g_strdup_printf ("$pd-argon2id$v=19$m=%u,t=%u,p=%u$%s$%s",
                          params->m_cost_kib, params->t_cost, params->parallelism, salt_b64, verifier_b64);
}

/* TRUE and the wrapping key when the password is right; FALSE without an
 * error when it is wrong; FALSE with an error when the hash is unreadable. */
gboolean
pd_password_verify (const char  *phc,
                    const char  *password,
                    guint8       kek[PD_KEY_SIZE],
                    GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (phc != NULL ? phc : "", "$", -1);
  PdKdfParams params = { 0 };
  g_autofree guint8 *salt = NULL;
  g_autofree guint8 *want = NULL;
  gsize salt_len = 0, want_len = 0;
  guint8 master[PD_KEY_SIZE];
  guint8 got[PD_KEY_SIZE];
  guint8 diff = 0;

  if (g_strv_length (parts) != 6 || !g_str_equal (parts[1], "pd-argon2id") || !g_str_equal (parts[2], "v=19")
      || sscanf (parts[3], "m=%u,t=%u,p=%u", &params.m_cost_kib, &params.t_cost, &params.parallelism) != 3
      || params.m_cost_kib < 8 || params.t_cost < 1 || params.parallelism < 1)
    {
      g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT, "%s", _("The stored password hash is not in a known form"));
      return FALSE;
    }
  salt = b64_nopad_decode (parts[4], &salt_len);
  want = b64_nopad_decode (parts[5], &want_len);
  if (want_len != PD_KEY_SIZE || salt_len < 8)
    {
      g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT, "%s", _("The stored password hash is not in a known form"));
      return FALSE;
    }
  if (!pd_kdf_derive (password, salt, salt_len, &params, master, error))
    return FALSE;
  split_master (master, got, kek);
  pd_crypto_wipe (master, sizeof master);
  for (gsize i = 0; i < PD_KEY_SIZE; i++)
    diff |= got[i] ^ want[i];
  pd_crypto_wipe (got, sizeof got);
  if (diff != 0 && kek != NULL)
    pd_crypto_wipe (kek, PD_KEY_SIZE);
  return diff == 0;
}
