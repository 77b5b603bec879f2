/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-crypto.h"
#include "pd-signing.h"
#include "pd-store.h"

G_BEGIN_DECLS

/* The append-only audit trail: each row's HMAC covers the previous row's,
 * and audit_head (last sequence, last MAC) moves in the same transaction,
 * signed there by the pharmacy's key, so an edit, a swap, a removal or a
 * cut-off tail all show; a rollback to an older copy shows against the
 * anchor the hospital keeps (pd-audit-anchor.h). Rows name ids, never
 * people. `at` is the machine's clock; on a database with a settable
 * clock, `clock_at` keeps the clock's time too (and marks the row). */

typedef struct {
  gint64      actor_id;       /* account id, 0 for none */
  const char *action;         /* "sign-in", "review.approve", … */
  const char *object_type;    /* "prescription", "account", … or NULL */
  const char *object_uuid;
  const char *outcome;        /* "ok", "refused", "failed"; NULL is "ok" */
  const char *detail;         /* short, no personal data */
  const char *at;             /* NULL: now, by the machine's clock */
  const char *clock_at;       /* with at: the settable clock's time then */
} PdAuditEntry;

/* What appending needs: the chain's MAC key (from the data key) and the
 * pharmacy's Ed25519 key that signs the head. */
typedef struct {
  guint8 mac_key[PD_KEY_SIZE];
  guint8 head_key[PD_ED25519_PRIVATE_SIZE];
  gint64 head_key_id;         /* signing_key.id; 0 until the pharmacy has one */
} PdAuditKeys;

typedef struct {
  gint64  seq;
  guint8  mac[PD_KEY_SIZE];
  char   *signed_at;
  char   *signature;          /* detached JWS over pd_audit_head_payload () */
  gint64  key_id;
} PdAuditHead;

typedef struct {
  gboolean ok;
  gint64   rows;
  gint64   first_bad_seq;     /* 0 when ok or when no row is to blame */
  char    *problem;           /* in words, NULL when ok */
  gboolean head_signed;
  gboolean pending_checked;   /* the waiting rows were held against the keyring */
  char    *pending_note;      /* why they were not, or NULL */
} PdAuditReport;

void     pd_audit_key_from_data_key (const guint8        *data_key,
                                     guint8               audit_key[PD_KEY_SIZE]);
gboolean pd_audit_keys_load         (PdStore             *store,
                                     const guint8        *data_key,
                                     PdAuditKeys         *keys,
                                     GError             **error);
void     pd_audit_keys_wipe         (PdAuditKeys         *keys);

gboolean pd_audit_append            (PdStore             *store,
                                     const PdAuditKeys   *keys,
                                     const PdAuditEntry  *entry,
                                     GError             **error);
gboolean pd_audit_verify            (PdStore             *store,
                                     const guint8        *audit_key,
                                     PdAuditReport       *report,
                                     GError             **error);
void     pd_audit_report_clear      (PdAuditReport       *report);

gboolean pd_audit_head_read         (PdStore             *store,
                                     PdAuditHead         *head,
                                     GError             **error);
char    *pd_audit_head_payload      (gint64               seq,
                                     const guint8        *mac,
                                     gsize                mac_len,
                                     const char          *signed_at,
                                     GError             **error);
gboolean pd_audit_head_verify       (PdStore             *store,
                                     const PdAuditHead   *head,
                                     GError             **error);
void     pd_audit_head_clear        (PdAuditHead         *head);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PdAuditHead, pd_audit_head_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PdAuditReport, pd_audit_report_clear)

G_END_DECLS
