/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-signing"

#include "config.h"

#include <string.h>

#include "pd-crypto.h"
#include "pd-signing.h"

static void
from_hex (const char *hex,
          guint8     *out,
          gsize       len)
{
  g_assert_cmpuint (strlen (hex), ==, 2 * len);
  for (gsize i = 0; i < len; i++)
    out[i] = g_ascii_xdigit_value (hex[2 * i]) * 16 + g_ascii_xdigit_value (hex[2 * i + 1]);
}

/* RFC 8032 §7.1, test 1, and RFC 8037 appendix A.4. */
static void
test_known_vectors (void)
{
  guint8 priv[32], pub[32], want_pub[32], sig[64], want_sig[64];
  g_autofree guint8 *d = NULL;
  g_autofree guint8 *x = NULL;
  g_autofree char *sig_b64 = NULL;
  const char *input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  gsize len = 0;

  from_hex ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", priv, 32);
  from_hex ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", want_pub, 32);
  from_hex ("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b", want_sig, 64);
  g_assert_true (pd_ed25519_public_from_private (priv, pub, NULL));
  g_assert_cmpmem (pub, 32, want_pub, 32);
  g_assert_true (pd_ed25519_sign (priv, (const guint8 *) "", 0, sig, NULL));
  g_assert_cmpmem (sig, 64, want_sig, 64);
  g_assert_true (pd_ed25519_verify (pub, (const guint8 *) "", 0, sig));

  d = pd_base64url_decode ("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", &len);
  g_assert_cmpuint (len, ==, 32);
  x = pd_base64url_decode ("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", &len);
  g_assert_true (pd_ed25519_sign (d, (const guint8 *) input, strlen (input), sig, NULL));
  sig_b64 = pd_base64url_encode (sig, 64);
  g_assert_cmpstr (sig_b64, ==, "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
  g_assert_true (pd_ed25519_verify (x, (const guint8 *) input, strlen (input), sig));
}

static void
test_jcs (void)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;

  /* Keys by UTF-16 code units: "\u20ac" (€) before "\ud83d\ude00" (😀), unlike UTF-8 order of code points above them;
   * whitespace gone; escapes as JSON.stringify writes them. */
  g_assert_true (json_parser_load_from_data (p,
    "{ \"b\": [1, true, null], \"a\": \"x\\ny\\u0001\\\"\", \"\\u20ac\": 1, \"\\ud83d\\ude00\": 2, \"\\uff5e\": 3, \"A\": {\"z\": -5, \"y\": \"中文\"} }", -1, NULL));
  out = pd_jcs_serialize (json_parser_get_root (p), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "{\"A\":{\"y\":\"中文\",\"z\":-5},\"a\":\"x\\ny\\u0001\\\"\",\"b\":[1,true,null],\"€\":1,\"😀\":2,\"～\":3}");

  g_assert_true (json_parser_load_from_data (p, "{\"dose\": 2.5}", -1, NULL));
  g_assert_null (pd_jcs_serialize (json_parser_get_root (p), &error));
  g_assert_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT);
}

static void
test_detached_jws (void)
{
  guint8 pub[32], priv[32], got[32];
  const char *record = "{\"decision\":\"approve\",\"kb_version\":\"sample-2026.11\"}";
  g_autofree char *jws = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = strlen (record);

  g_assert_true (pd_ed25519_generate (pub, priv, &error));
  jws = pd_jws_sign_detached (priv, record, len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (jws, ".."));
  g_assert_true (pd_jws_verify_detached (jws, record, len, got, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (got, 32, pub, 32);

  /* Any changed byte of the record fails. */
  for (gsize i = 0; i < len; i++)
    {
      g_autofree char *copy = g_strdup (record);

      copy[i] ^= 0x01;
      g_assert_false (pd_jws_verify_detached (jws, copy, len, NULL, &error));
      g_assert_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_DECRYPT);
      g_clear_error (&error);
    }
  g_assert_false (pd_jws_verify_detached ("not.a.jws.at.all", record, len, NULL, &error));
  g_assert_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signing/known-vectors", test_known_vectors);
  g_test_add_func ("/signing/jcs", test_jcs);
  g_test_add_func ("/signing/detached-jws", test_detached_jws);
  return g_test_run ();
}
