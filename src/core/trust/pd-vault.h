/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-session.h"

G_BEGIN_DECLS

/* Patient data at rest: sealed under the pharmacy's data key (AES-256-GCM,
 * bound to table|column|record uuid), found again through keyed indexes
 * (HMAC-SHA-256) of the normalised full name, the surname and the last
 * four characters of the ID number. */

#define PD_INDEX_SIZE 32

GBytes  *pd_vault_seal            (PdSession    *session,
                                   const char   *table,
                                   const char   *column,
                                   const char   *uuid,
                                   const char   *text,
                                   GError      **error);
char    *pd_vault_open            (PdSession    *session,
                                   const char   *table,
                                   const char   *column,
                                   const char   *uuid,
                                   const void   *sealed,
                                   gsize         len,
                                   GError      **error);

char    *pd_vault_normalize_name  (const char   *name);
char    *pd_vault_surname         (const char   *name);
void     pd_vault_index_name      (const guint8 *data_key,
                                   const char   *name,
                                   guint8        out[PD_INDEX_SIZE]);
void     pd_vault_index_surname   (const guint8 *data_key,
                                   const char   *name,
                                   guint8        out[PD_INDEX_SIZE]);
gboolean pd_vault_index_id_tail   (const guint8 *data_key,
                                   const char   *id_number,
                                   guint8        out[PD_INDEX_SIZE]);

G_END_DECLS
