/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The cryptography of PharmDesk, all libgcrypt:
 * - AES-256-GCM sealing with a fresh random nonce per record and the
 *   associated data `table|column|record-uuid`, so a sealed value moved to
 *   another row or column no longer opens;
 * - HMAC-SHA-256 keyed indexes for lookups on sealed values;
 * - Argon2id password hashing and key derivation, parameters kept with
 *   each hash (PHC string form). */

#define PD_CRYPTO_ERROR (pd_crypto_error_quark ())
GQuark pd_crypto_error_quark (void);

typedef enum {
  PD_CRYPTO_ERROR_FAILED,
  PD_CRYPTO_ERROR_DECRYPT,      /* wrong key, wrong place, or tampered */
  PD_CRYPTO_ERROR_FORMAT,
} PdCryptoError;

#define PD_KEY_SIZE 32

typedef struct {
  guint32 m_cost_kib;
  guint32 t_cost;
  guint32 parallelism;
} PdKdfParams;

gboolean     pd_crypto_init            (GError       **error);
void         pd_crypto_random          (guint8        *buf,
                                        gsize          len);
void         pd_crypto_wipe            (gpointer       buf,
                                        gsize          len);

GBytes      *pd_crypto_seal            (const guint8  *key,
                                        const char    *table,
                                        const char    *column,
                                        const char    *uuid,
                                        const guint8  *plain,
                                        gsize          len,
                                        GError       **error);
GBytes      *pd_crypto_open            (const guint8  *key,
                                        const char    *table,
                                        const char    *column,
                                        const char    *uuid,
                                        const guint8  *sealed,
                                        gsize          len,
                                        GError       **error);

void         pd_crypto_hmac            (const guint8  *key,
                                        const char    *label,
                                        const guint8  *data,
                                        gsize          len,
                                        guint8         out[PD_KEY_SIZE]);

const PdKdfParams *pd_kdf_default_params (void);
gboolean     pd_kdf_derive             (const char        *password,
                                        const guint8      *salt,
                                        gsize              salt_len,
                                        const PdKdfParams *params,
                                        guint8             out[PD_KEY_SIZE],
                                        GError           **error);
char        *pd_password_hash          (const char        *password,
                                        guint8             kek[PD_KEY_SIZE],
                                        GError           **error);
gboolean     pd_password_verify        (const char        *phc,
                                        const char        *password,
                                        guint8             kek[PD_KEY_SIZE],
                                        GError           **error);

G_END_DECLS
