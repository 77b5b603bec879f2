/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "pd-session.h"

G_BEGIN_DECLS

/* The regulator export: a FHIR R4 collection Bundle of the period's
 * AuditEvents (with each row's sequence and seal), the review decisions as
 * Provenance with the pharmacist's signature, the freshly signed chain
 * head and the registry of public keys. Signs the head first. */
JsonNode *pd_audit_export (PdSession   *session,
                           const char  *from_day,
                           const char  *to_day,
                           GError     **error);

G_END_DECLS
