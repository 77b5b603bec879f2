/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-audit.h"
#include "pd-roles.h"
#include "pd-store.h"

G_BEGIN_DECLS

/* A signed-in account: who acts, with the pharmacy's data key in memory.
 * Every action asks pd_session_require(); a refusal is audited. A session
 * locks itself after the policy's idle time and is unlocked by the same
 * password. */

#define PD_TRUST_ERROR (pd_trust_error_quark ())
GQuark pd_trust_error_quark (void);

typedef enum {
  PD_TRUST_ERROR_WRONG_PASSWORD,
  PD_TRUST_ERROR_LOCKED_OUT,     /* too many wrong passwords, or locked by an administrator */
  PD_TRUST_ERROR_IDLE_LOCKED,    /* the session is locked: sign in again */
  PD_TRUST_ERROR_FORBIDDEN,      /* the role may not do this */
  PD_TRUST_ERROR_NO_ACCOUNT,     /* no account yet, or none by that name (admin tools) */
  PD_TRUST_ERROR_EXISTS,
  PD_TRUST_ERROR_INVALID,
  PD_TRUST_ERROR_EMPTY_PASSWORD, /* nothing but blanks was typed */
} PdTrustError;

typedef struct {
  gint64   id;
  char    *uuid;
  char    *username;
  char    *display_name;
  PdRoles  roles;
  char    *pharmacist_licence;
  char    *practitioner_ref;
  char    *insurance_operator;
  gboolean locked;               /* by an administrator */
  char    *locked_until;         /* lock-out after wrong passwords */
  int      failed_logins;
  char    *created_at;
} PdAccount;

void      pd_account_free               (PdAccount   *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdAccount, pd_account_free)

#define PD_TYPE_SESSION (pd_session_get_type ())
G_DECLARE_FINAL_TYPE (PdSession, pd_session, PD, SESSION, GObject)

/* Policy keys in the `setting` table (administrator-only, audited). */
#define PD_POLICY_IDLE_LOCK_MINUTES   "policy.idle_lock_minutes"
#define PD_POLICY_LOCKOUT_ATTEMPTS    "policy.lockout_attempts"
#define PD_POLICY_LOCKOUT_MINUTES     "policy.lockout_minutes"

PdSession       *pd_session_sign_in        (PdStore      *store,
                                            const char   *username,
                                            const char   *password,
                                            GError      **error);
gboolean         pd_session_require        (PdSession    *self,
                                            PdAction      action,
                                            const char   *object_type,
                                            const char   *object_uuid,
                                            GError      **error);
gboolean         pd_session_audit          (PdSession    *self,
                                            const char   *action,
                                            const char   *object_type,
                                            const char   *object_uuid,
                                            const char   *outcome,
                                            const char   *detail,
                                            GError      **error);
PdSession       *pd_session_clone          (PdSession    *self,
                                            PdStore      *store,
                                            GError      **error);
gboolean         pd_session_confirm        (PdSession    *self,
                                            const char   *password,
                                            GError      **error);
gboolean         pd_session_is_locked      (PdSession    *self);
void             pd_session_lock           (PdSession    *self);
gboolean         pd_session_unlock         (PdSession    *self,
                                            const char   *password,
                                            GError      **error);
void             pd_session_touch          (PdSession    *self);
PdStore         *pd_session_get_store      (PdSession    *self);
const PdAccount *pd_session_get_account    (PdSession    *self);
const guint8    *pd_session_get_data_key   (PdSession    *self);
const guint8    *pd_session_get_audit_key  (PdSession    *self);
const PdAuditKeys *pd_session_get_audit_keys (PdSession  *self);
const guint8    *pd_session_get_kek        (PdSession    *self);
gboolean         pd_session_set_policy     (PdSession    *self,
                                            const char   *key,
                                            gint64        value,
                                            GError      **error);

char            *pd_setting_get            (PdStore      *store,
                                            const char   *key);
gboolean         pd_setting_put            (PdStore      *store,
                                            const char   *key,
                                            const char   *value,
                                            gint64        account_id,
                                            GError      **error);
gint64           pd_policy_get             (PdStore      *store,
                                            const char   *key);
PdAccount       *pd_account_from_row       (sqlite3_stmt *stmt);
PdAccount       *pd_account_lookup         (PdStore      *store,
                                            const char   *username,
                                            GError      **error);
gboolean         pd_account_is_locked_out  (const PdAccount *account);
gboolean         pd_audit_pending          (PdStore      *store,
                                            const PdAuditEntry *entry,
                                            GError      **error);

G_END_DECLS
