/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Ed25519 (libgcrypt), RFC 8785 JSON canonicalization, and the detached
 * JWS (RFC 7515 appendix F, alg EdDSA of RFC 8037) whose protected header
 * carries the public key as a jwk — hospital.md's pharmacist signature. */

#define PD_ED25519_PUBLIC_SIZE    32
#define PD_ED25519_PRIVATE_SIZE   32
#define PD_ED25519_SIGNATURE_SIZE 64

gboolean pd_ed25519_generate      (guint8        pub[PD_ED25519_PUBLIC_SIZE],
                                   guint8        priv[PD_ED25519_PRIVATE_SIZE],
                                   GError      **error);
gboolean pd_ed25519_public_from_private (const guint8 priv[PD_ED25519_PRIVATE_SIZE],
                                   guint8        pub[PD_ED25519_PUBLIC_SIZE],
                                   GError      **error);
gboolean pd_ed25519_sign          (const guint8  priv[PD_ED25519_PRIVATE_SIZE],
                                   const guint8 *msg,
                                   gsize         len,
                                   guint8        sig[PD_ED25519_SIGNATURE_SIZE],
                                   GError      **error);
gboolean pd_ed25519_verify        (const guint8  pub[PD_ED25519_PUBLIC_SIZE],
                                   const guint8 *msg,
                                   gsize         len,
                                   const guint8  sig[PD_ED25519_SIGNATURE_SIZE]);

char    *pd_jcs_serialize         (JsonNode     *node,
                                   GError      **error);

char    *pd_base64url_encode      (const guint8 *data,
                                   gsize         len);
guint8  *pd_base64url_decode      (const char   *text,
                                   gsize        *len);

char    *pd_jws_sign_detached     (const guint8  priv[PD_ED25519_PRIVATE_SIZE],
                                   const char   *payload,
                                   gsize         len,
                                   GError      **error);
gboolean pd_jws_verify_detached   (const char   *jws,
                                   const char   *payload,
                                   gsize         len,
                                   guint8        pub_out[PD_ED25519_PUBLIC_SIZE],
                                   GError      **error);

G_END_DECLS
