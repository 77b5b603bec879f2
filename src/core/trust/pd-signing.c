/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-signing"

#include "config.h"

#include <gcrypt.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-crypto.h"
#include "pd-signing.h"

static gboolean
fail (gcry_error_t err,
      const char  *what,
      GError     **error)
{
  g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FAILED, "%s: %s", what, gcry_strerror (err));
  return FALSE;
}

/* Copies an opaque MPI's bytes; Ed25519 points may carry a 0x40 prefix. */
static gboolean
take_bytes (gcry_sexp_t  sexp,
            const char  *token,
            guint8      *out,
            gsize        want)
{
  gcry_sexp_t item = gcry_sexp_find_token (sexp, token, 0);
  size_t len = 0;
  const char *data;
  gboolean ok = FALSE;

  if (item == NULL)
    return FALSE;
  data = gcry_sexp_nth_data (item, 1, &len);
  if (data != NULL && len == want + 1 && (guint8) data[0] == 0x40)
    {
      data++;
      len--;
    }
  if (data != NULL && len == want)
    {
      memcpy (out, data, want);
      ok = TRUE;
    }
  gcry_sexp_release (item);
  return ok;
}

gboolean
pd_ed25519_generate (guint8   pub[PD_ED25519_PUBLIC_SIZE],
                     guint8   priv[PD_ED25519_PRIVATE_SIZE],
                     GError **error)
{
  gcry_sexp_t params = NULL, key = NULL;
  gcry_error_t err;
  gboolean ok;

  pd_crypto_init (NULL);
  if ((err = gcry_sexp_build (&params, NULL, "(genkey (ecc (curve Ed25519)(flags eddsa)))"))
      || (err = gcry_pk_genkey (&key, params)))
    {
      gcry_sexp_release (params);
      return fail (err, "Ed25519", error);
    }
  gcry_sexp_release (params);
  ok = take_bytes (key, "q", pub, PD_ED25519_PUBLIC_SIZE) && take_bytes (key, "d", priv, PD_ED25519_PRIVATE_SIZE);
  gcry_sexp_release (key);
  if (!ok)
    g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FAILED, "%s", _("Ed25519 key generation gave an unexpected key"));
  return ok;
}

static gboolean
sign_raw (const guint8  priv[PD_ED25519_PRIVATE_SIZE],
          const guint8 *msg,
          gsize         len,
          guint8        sig[PD_ED25519_SIGNATURE_SIZE],
          guint8        pub_out[PD_ED25519_PUBLIC_SIZE],
          GError      **error)
{
  gcry_sexp_t key = NULL, data = NULL, result = NULL;
  gcry_error_t err;
  gboolean ok = TRUE;

  pd_crypto_init (NULL);
  if ((err = gcry_sexp_build (&key, NULL, "(private-key (ecc (curve Ed25519)(flags eddsa)(d %b)))",
                              PD_ED25519_PRIVATE_SIZE, priv))
      || (err = gcry_sexp_build (&data, NULL, "(data (flags eddsa)(hash-algo sha512)(value %b))", (int) len, msg))
      || (err = gcry_pk_sign (&result, data, key)))
    {
      gcry_sexp_release (key);
      gcry_sexp_release (data);
      return fail (err, "Ed25519", error);
    }
  if (sig != NULL)
    ok = take_bytes (result, "r", sig, 32) && take_bytes (result, "s", sig + 32, 32);
  gcry_sexp_release (result);
  gcry_sexp_release (data);
  if (ok && pub_out != NULL)
    {
      /* libgcrypt derives the public point when the key has none. */
      gcry_sexp_t pk = NULL;
      gcry_ctx_t ctx = NULL;

      if (gcry_mpi_ec_new (&ctx, key, NULL) == 0)
        {
          gcry_mpi_t q = gcry_mpi_ec_get_mpi ("q@eddsa", ctx, 1);
          unsigned int nbits = 0;
          const guint8 *raw = q != NULL ? gcry_mpi_get_opaque (q, &nbits) : NULL;

          if (raw != NULL && nbits / 8 == PD_ED25519_PUBLIC_SIZE)
            memcpy (pub_out, raw, PD_ED25519_PUBLIC_SIZE);
          else if (raw != NULL && nbits / 8 == PD_ED25519_PUBLIC_SIZE + 1 && raw[0] == 0x40)
            memcpy (pub_out, raw + 1, PD_ED25519_PUBLIC_SIZE);
          else
            ok = FALSE;
          gcry_mpi_release (q);
          gcry_ctx_release (ctx);
        }
      else
        ok = FALSE;
      gcry_sexp_release (pk);
    }
  gcry_sexp_release (key);
  if (!ok)
    g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FAILED, "%s", _("Ed25519 signing gave an unexpected result"));
  return ok;
}

gboolean
pd_ed25519_sign (const guint8  priv[PD_ED25519_PRIVATE_SIZE],
                 const guint8 *msg,
                 gsize         len,
                 guint8        sig[PD_ED25519_SIGNATURE_SIZE],
                 GError      **error)
{
  return sign_raw (priv, msg, len, sig, NULL, error);
}

gboolean
pd_ed25519_public_from_private (const guint8  priv[PD_ED25519_PRIVATE_SIZE],
                                guint8        pub[PD_ED25519_PUBLIC_SIZE],
                                GError      **error)
{
  return sign_raw (priv, (const guint8 *) "", 0, NULL, pub, error);
}

gboolean
pd_ed25519_verify (const guint8  pub[PD_ED25519_PUBLIC_SIZE],
                   const guint8 *msg,
                   gsize         len,
                   const guint8  sig[PD_ED25519_SIGNATURE_SIZE])
{
  gcry_sexp_t key = NULL, data = NULL, s = NULL;
  gboolean ok;

  pd_crypto_init (NULL);
  if (gcry_sexp_build (&key, NULL, "(public-key (ecc (curve Ed25519)(flags eddsa)(q %b)))",
                       PD_ED25519_PUBLIC_SIZE, pub)
      || gcry_sexp_build (&data, NULL, "(data (flags eddsa)(hash-algo sha512)(value %b))", (int) len, msg)
      || gcry_sexp_build (&s, NULL, "(sig-val (eddsa (r %b)(s %b)))", 32, sig, 32, sig + 32))
    ok = FALSE;
  else
    ok = gcry_pk_verify (s, data, key) == 0;
  gcry_sexp_release (key);
  gcry_sexp_release (data);
  gcry_sexp_release (s);
  return ok;
}

/* --- RFC 8785 ------------------------------------------------------------ */

static void
jcs_string (GString    *out,
            const char *s)
{
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) s; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (*p < 0x20)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
}

/* Keys sort by their UTF-16 code units (RFC 8785 §3.2.3). */
static int
compare_utf16 (gconstpointer a,
               gconstpointer b)
{
  const char *ka = *(const char * const *) a;
  const char *kb = *(const char * const *) b;
  g_autofree gunichar2 *ua = g_utf8_to_utf16 (ka, -1, NULL, NULL, NULL);
  g_autofree gunichar2 *ub = g_utf8_to_utf16 (kb, -1, NULL, NULL, NULL);
  gsize i = 0;

  while (ua[i] != 0 && ua[i] == ub[i])
    i++;
  return (int) ua[i] - (int) ub[i];
}

static gboolean
jcs_node (GString  *out,
          JsonNode *node,
          GError  **error)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      return TRUE;
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_INT64:
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          return TRUE;
        case G_TYPE_BOOLEAN:
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          return TRUE;
        case G_TYPE_STRING:
          if (!g_utf8_validate (json_node_get_string (node), -1, NULL))
            break;
          jcs_string (out, json_node_get_string (node));
          return TRUE;
        default:
          break;
        }
      g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT, "%s",
                   _("A signed record may hold only integers, strings, booleans and null"));
      return FALSE;
    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        g_string_append_c (out, '[');
        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            if (!jcs_node (out, json_array_get_element (array, i), error))
              return FALSE;
          }
        g_string_append_c (out, ']');
        return TRUE;
      }
    case JSON_NODE_OBJECT:
      {
        JsonObject *object = json_node_get_object (node);
        g_autoptr(GList) members = json_object_get_members (object);
        g_autoptr(GPtrArray) keys = g_ptr_array_new ();

        for (GList *l = members; l != NULL; l = l->next)
          g_ptr_array_add (keys, l->data);
        g_ptr_array_sort (keys, compare_utf16);
        g_string_append_c (out, '{');
        for (guint i = 0; i < keys->len; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            jcs_string (out, keys->pdata[i]);
            g_string_append_c (out, ':');
            if (!jcs_node (out, json_object_get_member (object, keys->pdata[i]), error))
              return FALSE;
          }
        g_string_append_c (out, '}');
        return TRUE;
      }
    default:
      return FALSE;
    }
}

char *
pd_jcs_serialize (JsonNode *node,
                  GError  **error)
{
  GString *out = g_string_new (NULL);

  if (!jcs_node (out, node, error))
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/* --- JWS ----------------------------------------------------------------- */

char *
pd_base64url_encode (const guint8 *data,
                     gsize         len)
{
  char *s = g_base64_encode (data, len);
  char *w = s;

  for (char *p = s; *p != '\0'; p++)
    {
      if (*p == '=')
        continue;
      *w++ = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    }
  *w = '\0';
  return s;
}

guint8 *
pd_base64url_decode (const char *text,
                     gsize      *len)
{
  gsize n = strlen (text);
  g_autofree char *s = g_malloc (n + 4);
  gsize i;

  for (i = 0; i < n; i++)
    {
      char c = text[i];

      if (!(g_ascii_isalnum (c) || c == '-' || c == '_'))
        return NULL;
      s[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
  if (n % 4 == 1)
    return NULL;
  while (i % 4 != 0)
    s[i++] = '=';
  s[i] = '\0';
  return g_base64_decode (s, len);
}

static char *
protected_header (const guint8 pub[PD_ED25519_PUBLIC_SIZE])
{
  g_autofree char *x = pd_base64url_encode (pub, PD_ED25519_PUBLIC_SIZE);
  g_autofree char *json = g_strdup_printf ("{\"alg\":\"EdDSA\",\"jwk\":{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}}", x);

  return pd_base64url_encode ((const guint8 *) json, strlen (json));
}

/* header..signature: the payload travels beside it (RFC 7515 appendix F). */
char *
pd_jws_sign_detached (const guint8  priv[PD_ED25519_PRIVATE_SIZE],
                      const char   *payload,
                      gsize         len,
                      GError      **error)
{
  guint8 pub[PD_ED25519_PUBLIC_SIZE];
  guint8 sig[PD_ED25519_SIGNATURE_SIZE];
  g_autofree char *header = NULL;
  g_autofree char *body = NULL;
  g_autofree char *input = NULL;
  g_autofree char *sig_b64 = NULL;

  if (!pd_ed25519_public_from_private (priv, pub, error))
    return NULL;
  header = protected_header (pub);
  body = pd_base64url_encode ((const guint8 *) payload, len);
  input = g_strconcat (header, ".", body, NULL);
  if (!pd_ed25519_sign (priv, (const guint8 *) input, strlen (input), sig, error))
    return NULL;
  sig_b64 = pd_base64url_encode (sig, sizeof sig);
  return g_strconcat (header, "..", sig_b64, NULL);
}

gboolean
pd_jws_verify_detached (const char  *jws,
                        const char  *payload,
                        gsize        len,
                        guint8       pub_out[PD_ED25519_PUBLIC_SIZE],
                        GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (jws != NULL ? jws : "", ".", -1);
  g_autofree guint8 *header_json = NULL;
  g_autofree guint8 *sig = NULL;
  g_autofree guint8 *pub = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *body = NULL;
  g_autofree char *input = NULL;
  gsize header_len = 0, sig_len = 0, pub_len = 0;
  JsonObject *hdr, *jwk;

  if (g_strv_length (parts) != 3 || parts[1][0] != '\0'
      || (header_json = pd_base64url_decode (parts[0], &header_len)) == NULL
      || (sig = pd_base64url_decode (parts[2], &sig_len)) == NULL || sig_len != PD_ED25519_SIGNATURE_SIZE
      || !json_parser_load_from_data (parser, (const char *) header_json, header_len, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT, "%s", _("The signature is not a detached JWS"));
      return FALSE;
    }
  hdr = json_node_get_object (json_parser_get_root (parser));
  jwk = json_object_get_object_member (hdr, "jwk");
  if (g_strcmp0 (json_object_get_string_member_with_default (hdr, "alg", ""), "EdDSA") != 0
      || jwk == NULL
      || g_strcmp0 (json_object_get_string_member_with_default (jwk, "crv", ""), "Ed25519") != 0
      || (pub = pd_base64url_decode (json_object_get_string_member_with_default (jwk, "x", ""), &pub_len)) == NULL
      || pub_len != PD_ED25519_PUBLIC_SIZE)
    {
      g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT, "%s",
                   _("The signature is not an EdDSA JWS carrying an Ed25519 key"));
      return FALSE;
    }
  body = pd_base64url_encode ((const guint8 *) payload, len);
  input = g_strconcat (parts[0], ".", body, NULL);
  if (!pd_ed25519_verify (pub, (const guint8 *) input, strlen (input), sig))
    {
      g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_DECRYPT, "%s",
                   _("The signature does not match the record: the record or the signature was changed"));
      return FALSE;
    }
  if (pub_out != NULL)
    memcpy (pub_out, pub, PD_ED25519_PUBLIC_SIZE);
  return TRUE;
}
