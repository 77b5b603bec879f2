/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-session.h"

G_BEGIN_DECLS

/* Accounts: the first administrator (with the pharmacy's data key, its
 * recovery key and the pharmacy signing key), adding, listing, locking,
 * password changes (re-wrapping the keys) and recovery. */

typedef struct {
  const char *username;
  const char *display_name;
  PdRoles     roles;
  const char *pharmacist_licence;   /* pharmacists: 执业药师注册证 number */
  const char *practitioner_ref;     /* pharmacists: Practitioner/{id} on the hospital server */
  const char *insurance_operator;   /* clerks: operator number at the insurance centre */
} PdAccountSpec;

gboolean   pd_accounts_exist            (PdStore             *store);
/* The display name of the account whose practitioner_ref is the SQL
 * expression REF (an enabled one first), as an SQL expression: no ORDER
 * BY, so that a query over a million prescriptions needs no sort. */
#define PD_ACCOUNT_NAME_OF_PRACTITIONER_SQL(ref) \
  " coalesce ((SELECT display_name FROM account WHERE " ref " IS NOT NULL AND practitioner_ref = " ref \
  "   AND disabled_at IS NULL LIMIT 1)," \
  "  (SELECT display_name FROM account WHERE " ref " IS NOT NULL AND practitioner_ref = " ref " LIMIT 1))"

char      *pd_practitioner_display_name (const char         *practitioner_ref,
                                         const char         *account_name);
gboolean   pd_accounts_ensure_pharmacy_key (PdStore            *store,
                                            const guint8       *data_key,
                                            GError            **error);
gboolean   pd_accounts_init             (PdStore             *store,
                                         const PdAccountSpec *admin,
                                         const char          *password,
                                         char               **recovery_key,
                                         GError             **error);
gboolean   pd_accounts_add              (PdSession           *admin,
                                         const PdAccountSpec *spec,
                                         const char          *password,
                                         GError             **error);
GPtrArray *pd_accounts_list             (PdSession           *session,
                                         GError             **error);
gboolean   pd_accounts_set_locked       (PdSession           *admin,
                                         const char          *username,
                                         gboolean             locked,
                                         GError             **error);
gboolean   pd_accounts_change_password  (PdStore             *store,
                                         const char          *username,
                                         const char          *old_password,
                                         const char          *new_password,
                                         GError             **error);
gboolean   pd_accounts_recover          (PdStore             *store,
                                         const char          *recovery_key,
                                         const char          *username,
                                         const char          *new_password,
                                         GError             **error);
gboolean   pd_accounts_check_password   (const char          *password,
                                         GError             **error);

/* The pharmacist's Ed25519 key, unwrapped with the session's password key. */
gboolean   pd_accounts_pharmacist_key   (PdSession           *session,
                                         guint8               priv[32],
                                         char               **key_uuid,
                                         GError             **error);

G_END_DECLS
