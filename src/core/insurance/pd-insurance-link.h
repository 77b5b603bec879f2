/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "pd-config.h"
#include "pd-session.h"

G_BEGIN_DECLS

/* The insurance link (insurance.md): the national interfaces' envelope
 * through the TIF gateway, behind one adapter so that a province's
 * differences stay here. Every call carries a msgid taken from the
 * database durably before it leaves (pd_insurance_msgid_take); the
 * centre's answer is checked for the fields each interface must return,
 * and a failure's err_msg reaches the clerk in words. */

#define PD_INSURANCE_ERROR (pd_insurance_error_quark ())
GQuark pd_insurance_error_quark (void);

typedef enum {
  PD_INSURANCE_ERROR_REFUSED,      /* infcode -1: the centre said no; the message is its err_msg */
  PD_INSURANCE_ERROR_UNKNOWN,      /* no answer we can read (timeout, dropped, garbage, 5xx): outcome unknown */
  PD_INSURANCE_ERROR_GATEWAY,      /* the gateway refused us (401): credentials or clock */
  PD_INSURANCE_ERROR_MALFORMED,    /* an answer without a field the interface must return: named */
  PD_INSURANCE_ERROR_NOT_CONFIGURED,
} PdInsuranceError;

typedef struct _PdInsuranceLink PdInsuranceLink;

/* session: the signed-in clerk (their operator number, else the config's
 * `operator`, opens the day with 9001). */
PdInsuranceLink *pd_insurance_link_new       (PdSession        *session,
                                              const PdConfig   *config,
                                              GError          **error);
void             pd_insurance_link_free      (PdInsuranceLink  *link);
const char      *pd_insurance_link_get_operator (PdInsuranceLink *link);
/* What a msgid is made of for this desk: [pharmacy] fixmedins_code and
 * [insurance] terminal. */
const char      *pd_insurance_link_get_fixmedins_code (PdInsuranceLink *link);
int              pd_insurance_link_get_terminal (PdInsuranceLink *link);
/* How long an answer is waited for before the outcome is unknown (30 s). */
void             pd_insurance_link_set_timeout (PdInsuranceLink *link,
                                              guint            seconds);

/* --- msgid ------------------------------------------------------------------------------ */

/* Inside a pd_store_write() transaction: the next msgid of this desk
 * (fixmedins_code, yyyyMMddHHmmss, terminal, 3-digit counter), never
 * reused across restarts, a clock that goes back, or 1000 calls in one
 * second. The caller's transaction is committed durably (the store runs
 * with synchronous = FULL for it: see pd_insurance_commit_durably). */
char            *pd_insurance_msgid_take     (PdStore          *store,
                                              const char       *fixmedins_code,
                                              int               terminal,
                                              GError          **error);
/* pd_store_write () with synchronous = FULL for that one commit. */
gboolean         pd_insurance_commit_durably (PdStore          *store,
                                              PdStoreWriteFunc  func,
                                              gpointer          user_data,
                                              GError          **error);

/* The audit row of one call to the centre: action insurance.<infno>,
 * object the msgid, outcome "sent" (inside the transaction that took the
 * msgid), then "ok", "refused", "unknown" ("failed": never sent).
 * pd_insurance_call () appends the outcome row itself. */
gboolean         pd_insurance_audit_call     (PdInsuranceLink  *link,
                                              const char       *infno,
                                              const char       *msgid,
                                              const char       *outcome,
                                              const char       *detail,
                                              GError          **error);
/* A msgid taken and its "sent" audit row written in one durable commit,
 * for a call that stores nothing else first (9001, 9002, 1101, 2101, 5203). */
char            *pd_insurance_link_take_msgid (PdInsuranceLink *link,
                                              const char       *infno,
                                              GError          **error);

/* --- the day's sign-in ---------------------------------------------------------------------- */

/* The operator's sign_no for today (China time), from insurance_sign_in, or
 * 9001 first (its msgid taken durably like any). */
char            *pd_insurance_link_sign_in   (PdInsuranceLink  *link,
                                              GCancellable     *cancellable,
                                              GError          **error);
gboolean         pd_insurance_link_sign_out  (PdInsuranceLink  *link,
                                              GCancellable     *cancellable,
                                              GError          **error);

/* --- one call ------------------------------------------------------------------------------- */

/* POSTs the envelope of infno with msgid (already stored durably by the
 * caller) and input; insuplc_admdvs where the input names a psn_no (NULL
 * otherwise); signs in first when the operator has no sign_no today.
 * Returns the answer's `output` (a new reference), checked for the fields
 * infno must return; NULL with REFUSED (err_msg), UNKNOWN, GATEWAY or
 * MALFORMED. inf_refmsgid is returned in *refmsgid when not NULL. */
JsonObject      *pd_insurance_call           (PdInsuranceLink  *link,
                                              const char       *infno,
                                              const char       *msgid,
                                              const char       *insuplc_admdvs,
                                              JsonObject       *input,
                                              char            **refmsgid,
                                              GCancellable     *cancellable,
                                              GError          **error);

/* 1101 for a person identified by an e-voucher (01), an ID card (02) or a
 * social-security card (03): the centre's output as it came. */
JsonObject      *pd_insurance_person         (PdInsuranceLink  *link,
                                              const char       *cert_type,
                                              const char       *cert_no,
                                              const char       *name,
                                              GCancellable     *cancellable,
                                              GError          **error);

/* Money on the wire: yuan as a JSON number or a string holding one, at
 * most two decimals → fen; FALSE when it is not such a value. */
gboolean         pd_insurance_read_fen       (JsonObject       *object,
                                              const char       *member,
                                              gint64           *fen);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdInsuranceLink, pd_insurance_link_free)

G_END_DECLS
