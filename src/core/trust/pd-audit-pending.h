/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-audit.h"

G_BEGIN_DECLS

/* What happens before anyone has signed in (a wrong password) cannot be
 * sealed with the data key. Such rows wait in audit_pending, chained
 * among themselves by hash, and the chain's count and last hash are kept
 * outside the database too, in the keyring where one is reachable: a row
 * planted there, or one taken away, then shows at the next sign-in (which
 * seals the waiting rows into the trail, with a row saying what it found)
 * and in `audit verify`. */

gboolean pd_audit_pending_add   (PdStore             *store,
                                 const PdAuditEntry  *entry,
                                 PdStoreWriteFunc     also,
                                 gpointer             also_data,
                                 GError             **error);
gboolean pd_audit_pending_seal  (PdStore             *store,
                                 const PdAuditKeys   *keys,
                                 PdStoreWriteFunc     also,
                                 gpointer             also_data,
                                 GError             **error);
void     pd_audit_pending_check (PdStore             *store,
                                 PdAuditReport       *report);

G_END_DECLS
