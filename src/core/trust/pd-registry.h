/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "pd-session.h"

G_BEGIN_DECLS

/* The pharmacy's key registry: its pharmacists' public keys with their
 * validity, and the pharmacy key that signs the audit trail's head. */

gboolean  pd_registry_sign_audit_head   (PdSession   *session,
                                         GError     **error);
JsonNode *pd_registry_to_json           (PdStore     *store,
                                         GError     **error);
gboolean  pd_registry_verify_signature  (PdStore     *store,
                                         const char  *jws,
                                         const char  *payload,
                                         gsize        len,
                                         const char  *at,
                                         gint64      *account_id,
                                         GError     **error);

G_END_DECLS
