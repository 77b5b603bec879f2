/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-crypto.h"
#include "pd-store.h"

G_BEGIN_DECLS

/* The append-only audit trail: each row's HMAC covers the previous row's,
 * and audit_head (last sequence, last MAC) moves in the same transaction,
 * so an edit, a swap, a removal or a cut-off tail all show. Rows name
 * ids, never people. */

typedef struct {
  gint64      actor_id;       /* account id, 0 for none */
  const char *action;         /* "sign-in", "review.approve", … */
  const char *object_type;    /* "prescription", "account", … or NULL */
  const char *object_uuid;
  const char *outcome;        /* "ok", "refused", "failed"; NULL is "ok" */
  const char *detail;         /* short, no personal data */
  const char *at;             /* NULL: now, by PdClock */
} PdAuditEntry;

typedef struct {
  gboolean ok;
  gint64   rows;
  gint64   first_bad_seq;     /* 0 when ok */
  char    *problem;           /* in words, NULL when ok */
} PdAuditReport;

void     pd_audit_key_from_data_key (const guint8        *data_key,
                                     guint8               audit_key[PD_KEY_SIZE]);
gboolean pd_audit_append            (PdStore             *store,
                                     const guint8        *audit_key,
                                     const PdAuditEntry  *entry,
                                     GError             **error);
gboolean pd_audit_verify            (PdStore             *store,
                                     const guint8        *audit_key,
                                     PdAuditReport       *report,
                                     GError             **error);
void     pd_audit_report_clear      (PdAuditReport       *report);

G_END_DECLS
