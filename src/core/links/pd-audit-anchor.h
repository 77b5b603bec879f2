/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-audit.h"
#include "pd-fhir-client.h"

G_BEGIN_DECLS

/* The audit anchor (hospital.md): with each sync the database's signed
 * head goes to the hospital as an AuditEvent it keeps, outside the
 * database, so that a database restored from an older copy (or cut)
 * shows against the latest anchor. The head maps to the event as
 * seq = decimal seq, hash = lowercase hex of the MAC, signature =
 * standard base64 of the JWS text, recorded = the head's signed_at
 * exactly, so the signed payload can be rebuilt from the anchor. */

#define PD_AUDIT_ANCHOR_SYSTEM "urn:pharmdesk:audit"
#define PD_AUDIT_ANCHOR_CODE   "head"

#define PD_AUDIT_ANCHOR_ERROR (pd_audit_anchor_error_quark ())
GQuark pd_audit_anchor_error_quark (void);

typedef enum {
  PD_AUDIT_ANCHOR_ERROR_MALFORMED,     /* the hospital's answer is not an anchor */
  PD_AUDIT_ANCHOR_ERROR_UNSIGNED,      /* the anchor's signature does not verify */
  PD_AUDIT_ANCHOR_ERROR_ROLLED_BACK,   /* the trail ends before the anchored row */
  PD_AUDIT_ANCHOR_ERROR_DIFFERS,       /* the anchored row is not the trail's */
} PdAuditAnchorError;

/* The AuditEvent of a signed head. */
JsonNode *pd_audit_anchor_build (const PdAuditHead *head,
                                 const char        *fixmedins_code,
                                 const char        *pharmacy_name);
/* An AuditEvent read back into a head (key_id 0), strictly: anything
 * missing or malformed is a PD_AUDIT_ANCHOR_ERROR_MALFORMED naming it. */
gboolean  pd_audit_anchor_parse (JsonObject        *event,
                                 const char        *fixmedins_code,
                                 PdAuditHead       *head,
                                 GError           **error);

/* POSTs the database's current signed head; *sent_seq (may be NULL) gets
 * its row, 0 when the trail has no signed head yet (nothing is sent). */
gboolean  pd_audit_anchor_send  (PdFhirClient      *client,
                                 PdStore           *store,
                                 const char        *fixmedins_code,
                                 const char        *pharmacy_name,
                                 gint64            *sent_seq,
                                 GCancellable      *cancellable,
                                 GError           **error);
/* The latest anchor the hospital keeps; *found FALSE when it keeps none. */
gboolean  pd_audit_anchor_fetch (PdFhirClient      *client,
                                 const char        *fixmedins_code,
                                 PdAuditHead       *head,
                                 gboolean          *found,
                                 GCancellable      *cancellable,
                                 GError           **error);
/* The local trail against an anchor: its signature verifies under a
 * pharmacy key of the registry, and the trail holds its row with its
 * MAC. FALSE with a PD_AUDIT_ANCHOR_ERROR in words when not, or another
 * error when the check could not be made. */
gboolean  pd_audit_anchor_check (PdStore           *store,
                                 const PdAuditHead *anchor,
                                 GError           **error);

G_END_DECLS
