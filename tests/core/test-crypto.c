/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-crypto"

#include "config.h"

#include <string.h>

#include "pd-crypto.h"

static gboolean
contains (const guint8 *hay,
          gsize         len,
          const char   *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (hay + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

static void
test_seal_and_open (void)
{
  guint8 key[PD_KEY_SIZE], other[PD_KEY_SIZE];
  const char *plain = "张三 110105199001011234 13800138000";
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(GBytes) opened = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 *data;
  gsize len;

  pd_crypto_random (key, sizeof key);
  pd_crypto_random (other, sizeof other);
  sealed = pd_crypto_seal (key, "prescription", "patient_name_sealed", "u-1", (const guint8 *) plain, strlen (plain), &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (sealed, &len);
  g_assert_false (contains (data, len, "张三"));

  /* A fresh nonce each time: the same value never seals the same way. */
  again = pd_crypto_seal (key, "prescription", "patient_name_sealed", "u-1", (const guint8 *) plain, strlen (plain), NULL);
  g_assert_false (g_bytes_equal (sealed, again));

  opened = pd_crypto_open (key, "prescription", "patient_name_sealed", "u-1", data, len, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_bytes_get_data (opened, NULL), ==, plain);

  /* Wrong key, or moved to another record, column or table: refused. */
  {
    const char *places[][3] = {
      { "prescription", "patient_name_sealed", "u-2" },
      { "prescription", "other_sealed", "u-1" },
      { "settlement", "patient_name_sealed", "u-1" },
    };
    g_assert_null (pd_crypto_open (other, "prescription", "patient_name_sealed", "u-1", data, len, &error));
    g_assert_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_DECRYPT);
    g_clear_error (&error);
    for (guint i = 0; i < G_N_ELEMENTS (places); i++)
      {
        g_assert_null (pd_crypto_open (key, places[i][0], places[i][1], places[i][2], data, len, &error));
        g_assert_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_DECRYPT);
        g_clear_error (&error);
      }
  }

  /* Any flipped byte is caught. */
  for (gsize i = 0; i < len; i++)
    {
      g_autofree guint8 *copy = g_memdup2 (data, len);
      g_autoptr(GBytes) bad = NULL;

      copy[i] ^= 0x01;
      bad = pd_crypto_open (key, "prescription", "patient_name_sealed", "u-1", copy, len, &error);
      g_assert_null (bad);
      g_assert_nonnull (error);
      g_clear_error (&error);
    }
  g_assert_null (pd_crypto_open (key, "t", "c", "u", data, 10, &error));
  g_assert_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT);
}

static void
test_hmac_index (void)
{
  guint8 key[PD_KEY_SIZE], a[PD_KEY_SIZE], b[PD_KEY_SIZE], c[PD_KEY_SIZE];

  memset (key, 7, sizeof key);
  pd_crypto_hmac (key, "name", (const guint8 *) "张三", strlen ("张三"), a);
  pd_crypto_hmac (key, "name", (const guint8 *) "张三", strlen ("张三"), b);
  pd_crypto_hmac (key, "surname", (const guint8 *) "张三", strlen ("张三"), c);
  g_assert_cmpmem (a, sizeof a, b, sizeof b);
  g_assert_true (memcmp (a, c, sizeof a) != 0);
}

static void
test_password (void)
{
  guint8 kek1[PD_KEY_SIZE], kek2[PD_KEY_SIZE], kek3[PD_KEY_SIZE];
  g_autoptr(GError) error = NULL;
  g_autofree char *phc = pd_password_hash ("correct horse 正确", kek1, &error);
  g_autofree char *phc2 = NULL;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (phc, "$pd-argon2id$v=19$m="));
  g_assert_true (pd_password_verify (phc, "correct horse 正确", kek2, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (kek1, sizeof kek1, kek2, sizeof kek2);

  g_assert_false (pd_password_verify (phc, "correct horse", kek3, &error));
  g_assert_no_error (error);

  /* Another salt: another key for the same password. */
  phc2 = pd_password_hash ("correct horse 正确", kek3, NULL);
  g_assert_cmpstr (phc, !=, phc2);
  g_assert_true (memcmp (kek1, kek3, sizeof kek1) != 0);

  g_assert_false (pd_password_verify ("$argon2id$v=19$m=1,t=1,p=1$xx$yy", "x", NULL, &error));
  g_assert_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT);
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/crypto/seal-and-open", test_seal_and_open);
  g_test_add_func ("/crypto/hmac-index", test_hmac_index);
  g_test_add_func ("/crypto/password", test_password);
  return g_test_run ();
}
