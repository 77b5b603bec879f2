/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-session"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-audit-pending.h"
#include "pd-clock.h"
#include "pd-crypto.h"
#include "pd-session.h"

struct _PdSession
{
  GObject    parent_instance;
  PdStore   *store;
  PdAccount *account;
  guint8     data_key[PD_KEY_SIZE];
  PdAuditKeys audit_keys;
  guint8     kek[PD_KEY_SIZE];
  gint64     last_activity_us;
  gboolean   locked;
};

G_DEFINE_FINAL_TYPE (PdSession, pd_session, G_TYPE_OBJECT)

G_DEFINE_QUARK (pd-trust-error-quark, pd_trust_error)

static const struct {
  const char *key;
  gint64      fallback;
  gint64      min;
  gint64      max;
} policies[] = {
  { PD_POLICY_IDLE_LOCK_MINUTES, 10, 1, 240 },
  { PD_POLICY_LOCKOUT_ATTEMPTS, 5, 3, 20 },
  { PD_POLICY_LOCKOUT_MINUTES, 15, 1, 1440 },
};

void
pd_account_free (PdAccount *account)
{
  if (account == NULL)
    return;
  g_free (account->uuid);
  g_free (account->username);
  g_free (account->display_name);
  g_free (account->pharmacist_licence);
  g_free (account->practitioner_ref);
  g_free (account->insurance_operator);
  g_free (account->locked_until);
  g_free (account->created_at);
  g_free (account);
}

static char *
column_dup (sqlite3_stmt *stmt,
            int           col)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, col));
}

#define ACCOUNT_COLUMNS "id, uuid, username, display_name, roles, pharmacist_licence, practitioner_ref," \
                        " insurance_operator, locked_at IS NOT NULL, locked_until, failed_logins, created_at"

PdAccount *
pd_account_from_row (sqlite3_stmt *stmt)
{
  PdAccount *a = g_new0 (PdAccount, 1);

  a->id = sqlite3_column_int64 (stmt, 0);
  a->uuid = column_dup (stmt, 1);
  a->username = column_dup (stmt, 2);
  a->display_name = column_dup (stmt, 3);
  if (!pd_roles_parse ((const char *) sqlite3_column_text (stmt, 4), &a->roles, NULL))
    a->roles = 0;
  a->pharmacist_licence = column_dup (stmt, 5);
  a->practitioner_ref = column_dup (stmt, 6);
  a->insurance_operator = column_dup (stmt, 7);
  a->locked = sqlite3_column_int (stmt, 8);
  a->locked_until = column_dup (stmt, 9);
  a->failed_logins = sqlite3_column_int (stmt, 10);
  a->created_at = column_dup (stmt, 11);
  return a;
}

PdAccount *
pd_account_lookup (PdStore    *store,
                   const char *username,
                   GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT " ACCOUNT_COLUMNS " FROM account"
                                                " WHERE username = ? AND disabled_at IS NULL", error);
  PdAccount *a = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, username, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    a = pd_account_from_row (stmt);
  else
    g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_NO_ACCOUNT, _("There is no account “%s”"), username);
  sqlite3_reset (stmt);
  return a;
}

/* A row of the administrator's settings (link addresses, policy), or NULL. */
char *
pd_setting_get (PdStore    *store,
                const char *key)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT value FROM setting WHERE key = ?", NULL);
  char *value = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return value;
}

/* Inside a transaction; the caller audits the change. */
gboolean
pd_setting_put (PdStore    *store,
                const char *key,
                const char *value,
                gint64      account_id,
                GError    **error)
{
  g_autofree char *now = pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "INSERT INTO setting (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 4, account_id);
  return pd_store_step_done (store, stmt, error);
}

gint64
pd_policy_get (PdStore    *store,
               const char *key)
{
  g_autofree char *text = pd_setting_get (store, key);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (policies); i++)
    if (g_str_equal (policies[i].key, key))
      break;
  g_return_val_if_fail (i < G_N_ELEMENTS (policies), 0);
  if (text == NULL)
    return policies[i].fallback;
  return CLAMP (g_ascii_strtoll (text, NULL, 10), policies[i].min, policies[i].max);
}

/* Outside a transaction: a row that waits for the next sign-in. */
gboolean
pd_audit_pending (PdStore            *store,
                  const PdAuditEntry *e,
                  GError            **error)
{
  return pd_audit_pending_add (store, e, NULL, NULL, error);
}

typedef struct {
  PdSession  *session;
  const char *password;
  gboolean    ok;
} SignIn;

static gboolean
unwrap_data_key (PdSession *self,
                 GError   **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (self->store, "SELECT wrapped_data_key FROM account WHERE id = ?", error);
  g_autoptr(GBytes) dk = NULL;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, self->account->id);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_bytes (stmt, 0) > 0)
    dk = pd_crypto_open (self->kek, "account", "wrapped_data_key", self->account->uuid,
                         sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0), error);
  else
    g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID, "%s", _("This account holds no data key"));
  sqlite3_reset (stmt);
  if (dk == NULL || g_bytes_get_size (dk) != PD_KEY_SIZE)
    return FALSE;
  memcpy (self->data_key, g_bytes_get_data (dk, NULL), PD_KEY_SIZE);
  if (!pd_audit_keys_load (self->store, self->data_key, &self->audit_keys, error))
    return FALSE;
  if (self->audit_keys.head_key_id == 0)
    return pd_accounts_ensure_pharmacy_key (self->store, self->data_key, error)
           && pd_audit_keys_load (self->store, self->data_key, &self->audit_keys, error);
  return TRUE;
}

static gboolean
record_sign_in (PdStore  *store,
                gpointer  user_data,
                GError  **error)
{
  PdSession *self = user_data;
  sqlite3_stmt *stmt = pd_store_prepare (store, "UPDATE account SET failed_logins = 0, locked_until = NULL WHERE id = ?", error);
  PdAuditEntry e = { self->account->id, "sign-in", "account", self->account->uuid, "ok", NULL, NULL };

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, self->account->id);
  return pd_store_step_done (store, stmt, error)
         && pd_audit_append (store, &self->audit_keys, &e, error);
}

static gboolean
count_failure (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  PdAccount *a = user_data;
  gint64 attempts = pd_policy_get (store, PD_POLICY_LOCKOUT_ATTEMPTS);
  g_autofree char *until = pd_time_format_iso (pd_clock_real_now_us ()
                                               + pd_policy_get (store, PD_POLICY_LOCKOUT_MINUTES) * 60 * G_USEC_PER_SEC);
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "UPDATE account SET failed_logins = failed_logins + 1,"
    " locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, attempts);
  sqlite3_bind_text (stmt, 2, until, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, a->id);
  return pd_store_step_done (store, stmt, error);
}

/* A refused attempt waits, audited, for the next sign-in; one with a
 * known account counts toward its lockout, in the same transaction.
 * Lockouts follow the machine's clock, whatever --now says. */
static void
refuse_sign_in (PdStore    *store,
                PdAccount  *account,
                const char *reason,
                gboolean    counts)
{
  gint64 attempts = pd_policy_get (store, PD_POLICY_LOCKOUT_ATTEMPTS);
  g_autofree char *detail = g_strdup_printf ("%s%s", reason,
                                             counts && account->failed_logins + 1 >= attempts ? "; locked out" : "");
  PdAuditEntry e = { account != NULL ? account->id : 0, "sign-in", "account",
                     account != NULL ? account->uuid : NULL, "refused", detail, NULL, NULL };

  pd_audit_pending_add (store, &e, counts ? count_failure : NULL, account, NULL);
}

/* Locked by an administrator, or after too many wrong passwords until a
 * time the machine's clock has not reached. */
gboolean
pd_account_is_locked_out (const PdAccount *a)
{
  gint64 until = 0;

  return a->locked
         || (a->locked_until != NULL && pd_time_parse_iso (a->locked_until, &until, NULL)
             && pd_clock_real_now_us () < until);
}

static gboolean
locked_out (PdAccount *a,
            GError   **error)
{
  gint64 until = 0;

  if (a->locked)
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_LOCKED_OUT,
                   _("The account “%s” is locked by an administrator"), a->username);
      return TRUE;
    }
  if (pd_account_is_locked_out (a) && pd_time_parse_iso (a->locked_until, &until, NULL))
    {
      g_autofree char *when = pd_time_format_china (until, "%H:%M");

      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_LOCKED_OUT,
                   _("Too many wrong passwords: the account “%s” is locked until %s"), a->username, when);
      return TRUE;
    }
  return FALSE;
}

static gboolean
blank_password (const char *password)
{
  for (const char *p = password != NULL ? password : ""; *p != '\0'; p = g_utf8_next_char (p))
    if (!g_unichar_isspace (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

PdSession *
pd_session_sign_in (PdStore    *store,
                    const char *username,
                    const char *password,
                    GError    **error)
{
  g_autoptr(PdSession) self = NULL;
  g_autoptr(PdAccount) account = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *phc = NULL;
  sqlite3_stmt *stmt;

  account = pd_account_lookup (store, username, NULL);
  if (account == NULL)
    {
      refuse_sign_in (store, NULL, blank_password (password) ? "unknown user name; empty password" : "unknown user name", FALSE);
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_WRONG_PASSWORD, "%s", _("Wrong user name or password"));
      return NULL;
    }
  if (locked_out (account, error))
    {
      refuse_sign_in (store, account, "account locked", FALSE);
      return NULL;
    }
  /* Never a key derivation of nothing: refused, and counted like any
   * wrong password. */
  if (blank_password (password))
    {
      refuse_sign_in (store, account, "empty password", TRUE);
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_EMPTY_PASSWORD, "%s",
                   _("Enter the password: an empty one is never accepted"));
      return NULL;
    }

  stmt = pd_store_prepare (store, "SELECT password_hash FROM account WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, account->id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    phc = column_dup (stmt, 0);
  sqlite3_reset (stmt);

  self = g_object_new (PD_TYPE_SESSION, NULL);
  self->store = g_object_ref (store);
  if (!pd_password_verify (phc, password, self->kek, &local_error))
    {
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      refuse_sign_in (store, account, "wrong password", TRUE);
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_WRONG_PASSWORD, "%s", _("Wrong user name or password"));
      return NULL;
    }
  self->account = g_steal_pointer (&account);
  if (!unwrap_data_key (self, error)
      || !pd_audit_pending_seal (store, &self->audit_keys, record_sign_in, self, error))
    return NULL;
  self->last_activity_us = pd_clock_now_us (pd_clock_get_default ());
  return g_steal_pointer (&self);
}

/* The same signed-in account on another connection to the same database
 * (a worker thread's), so that two threads never share one connection's
 * statements. The account is read again from that connection. */
PdSession *
pd_session_clone (PdSession *self,
                  PdStore   *store,
                  GError   **error)
{
  PdSession *copy;
  PdAccount *account = pd_account_lookup (store, self->account->username, error);

  if (account == NULL)
    return NULL;
  copy = g_object_new (PD_TYPE_SESSION, NULL);
  copy->store = g_object_ref (store);
  copy->account = account;
  memcpy (copy->data_key, self->data_key, sizeof copy->data_key);
  copy->audit_keys = self->audit_keys;
  memcpy (copy->kek, self->kek, sizeof copy->kek);
  copy->last_activity_us = self->last_activity_us;
  copy->locked = self->locked;
  return copy;
}

/* The signed-in pharmacist types the password again before signing a
 * decision: the same key derivation and lock-out as a sign-in. */
gboolean
pd_session_confirm (PdSession  *self,
                    const char *password,
                    GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(PdSession) again = pd_session_sign_in (self->store, self->account->username, password, &local_error);

  /* Only the password was asked for: say so, not "user name or password". */
  if (g_error_matches (local_error, PD_TRUST_ERROR, PD_TRUST_ERROR_WRONG_PASSWORD))
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_WRONG_PASSWORD, "%s", _("Wrong password"));
      return FALSE;
    }
  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return again != NULL;
}

gboolean
pd_session_is_locked (PdSession *self)
{
  gint64 idle_us = pd_policy_get (self->store, PD_POLICY_IDLE_LOCK_MINUTES) * 60 * G_USEC_PER_SEC;

  if (!self->locked && pd_clock_now_us (pd_clock_get_default ()) - self->last_activity_us > idle_us)
    {
      self->locked = TRUE;
      pd_session_audit (self, "session.idle-lock", "account", self->account->uuid, "ok", NULL, NULL);
    }
  return self->locked;
}

void
pd_session_lock (PdSession *self)
{
  if (!self->locked)
    {
      self->locked = TRUE;
      pd_session_audit (self, "session.lock", "account", self->account->uuid, "ok", NULL, NULL);
    }
}

gboolean
pd_session_unlock (PdSession  *self,
                   const char *password,
                   GError    **error)
{
  if (!pd_session_confirm (self, password, error))
    return FALSE;
  self->locked = FALSE;
  self->last_activity_us = pd_clock_now_us (pd_clock_get_default ());
  return TRUE;
}

void
pd_session_touch (PdSession *self)
{
  if (!pd_session_is_locked (self))
    self->last_activity_us = pd_clock_now_us (pd_clock_get_default ());
}

typedef struct {
  PdSession   *session;
  PdAuditEntry entry;
} AuditJob;

static gboolean
write_audit (PdStore  *store,
             gpointer  user_data,
             GError  **error)
{
  AuditJob *job = user_data;

  return pd_audit_append (store, &job->session->audit_keys, &job->entry, error);
}

/* One audited event in its own transaction. Inside a write of your own,
 * call pd_audit_append() with pd_session_get_audit_keys() instead. */
gboolean
pd_session_audit (PdSession  *self,
                  const char *action,
                  const char *object_type,
                  const char *object_uuid,
                  const char *outcome,
                  const char *detail,
                  GError    **error)
{
  AuditJob job = { self, { self->account->id, action, object_type, object_uuid, outcome, detail, NULL } };

  return pd_store_write (self->store, write_audit, &job, error);
}

gboolean
pd_session_require (PdSession  *self,
                    PdAction    action,
                    const char *object_type,
                    const char *object_uuid,
                    GError    **error)
{
  if (pd_session_is_locked (self))
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_IDLE_LOCKED, "%s",
                   _("The desk is locked after a period without use: enter your password to go on"));
      return FALSE;
    }
  if ((self->account->roles & pd_action_get_roles (action)) == 0)
    {
      g_autofree char *detail = g_strdup_printf ("action=%s", pd_action_get_id (action));

      pd_session_audit (self, "refused", object_type, object_uuid, "refused", detail, NULL);
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_FORBIDDEN,
                   _("The account “%s” may not do this. %s"), self->account->username, pd_action_get_refusal (action));
      return FALSE;
    }
  self->last_activity_us = pd_clock_now_us (pd_clock_get_default ());
  return TRUE;
}

typedef struct {
  PdSession  *session;
  const char *key;
  gint64      value;
} PolicyJob;

static gboolean
write_policy (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  PolicyJob *job = user_data;
  g_autofree char *value = g_strdup_printf ("%" G_GINT64_FORMAT, job->value);
  g_autofree char *detail = g_strdup_printf ("%s=%s", job->key, value);
  PdAuditEntry e = { job->session->account->id, "policy.change", "setting", NULL, "ok", detail, NULL };

  return pd_setting_put (store, job->key, value, job->session->account->id, error)
         && pd_audit_append (store, &job->session->audit_keys, &e, error);
}

gboolean
pd_session_set_policy (PdSession  *self,
                       const char *key,
                       gint64      value,
                       GError    **error)
{
  PolicyJob job = { self, key, value };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (policies); i++)
    if (g_str_equal (policies[i].key, key))
      break;
  if (i == G_N_ELEMENTS (policies))
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID, _("“%s” is not a policy"), key);
      return FALSE;
    }
  if (value < policies[i].min || value > policies[i].max)
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID,
                   _("%s must be between %lld and %lld"), key, (long long) policies[i].min, (long long) policies[i].max);
      return FALSE;
    }
  if (!pd_session_require (self, PD_ACTION_MANAGE_POLICY, "setting", NULL, error))
    return FALSE;
  return pd_store_write (self->store, write_policy, &job, error);
}

PdStore *
pd_session_get_store (PdSession *self)
{
  return self->store;
}

const PdAccount *
pd_session_get_account (PdSession *self)
{
  return self->account;
}

const guint8 *
pd_session_get_data_key (PdSession *self)
{
  return self->data_key;
}

const guint8 *
pd_session_get_audit_key (PdSession *self)
{
  return self->audit_keys.mac_key;
}

const PdAuditKeys *
pd_session_get_audit_keys (PdSession *self)
{
  return &self->audit_keys;
}

const guint8 *
pd_session_get_kek (PdSession *self)
{
  return self->kek;
}

static void
pd_session_finalize (GObject *object)
{
  PdSession *self = (PdSession *) object;

  pd_crypto_wipe (self->data_key, sizeof self->data_key);
  pd_audit_keys_wipe (&self->audit_keys);
  pd_crypto_wipe (self->kek, sizeof self->kek);
  g_clear_pointer (&self->account, pd_account_free);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (pd_session_parent_class)->finalize (object);
}

static void
pd_session_class_init (PdSessionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pd_session_finalize;
}

static void
pd_session_init (PdSession *self)
{
}
