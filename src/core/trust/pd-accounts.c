/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-accounts"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-clock.h"
#include "pd-crypto.h"
#include "pd-signing.h"

#define MIN_PASSWORD_CHARS 8

/* Crockford base32, no I, L, O, U: read aloud and typed back without doubt. */
static const char recovery_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static char *
now_iso (void)
{
  return pd_time_format_iso (pd_clock_now_us (pd_clock_get_default ()));
}

gboolean
pd_accounts_exist (PdStore *store)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT EXISTS (SELECT 1 FROM account)", NULL);
  gboolean any = FALSE;

  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    any = sqlite3_column_int (stmt, 0);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return any;
}

gboolean
pd_accounts_check_password (const char *password,
                            GError    **error)
{
  if (password == NULL || g_utf8_strlen (password, -1) < MIN_PASSWORD_CHARS)
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID,
                   _("A password needs at least %d characters"), MIN_PASSWORD_CHARS);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_spec (const PdAccountSpec *spec,
            GError             **error)
{
  if (spec->username == NULL || !g_regex_match_simple ("^[A-Za-z0-9._-]{2,32}$", spec->username, 0, 0))
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID,
                   _("“%s” is not a user name: use 2–32 letters, digits, dots, dashes or underscores"),
                   spec->username != NULL ? spec->username : "");
      return FALSE;
    }
  if (spec->roles == 0 || (spec->roles & ~PD_ALL_ROLES) != 0)
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID, "%s", _("An account needs at least one role"));
      return FALSE;
    }
  if ((spec->roles & PD_ROLE_PHARMACIST) && (spec->pharmacist_licence == NULL || *spec->pharmacist_licence == '\0'))
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID,
                   _("The pharmacist “%s” needs a practising-certificate number"), spec->username);
      return FALSE;
    }
  return TRUE;
}

static char *
recovery_key_format (const guint8 *bytes)
{
  GString *s = g_string_new (NULL);
  guint bits = 0, value = 0, n = 0;

  /* 256 bits → 52 symbols, in groups of four. */
  for (gsize i = 0; i < PD_KEY_SIZE; i++)
    {
      value = (value << 8) | bytes[i];
      bits += 8;
      while (bits >= 5)
        {
          if (n > 0 && n % 4 == 0)
            g_string_append_c (s, '-');
          g_string_append_c (s, recovery_alphabet[(value >> (bits - 5)) & 31]);
          bits -= 5;
          n++;
        }
    }
  if (bits > 0)
    {
      if (n % 4 == 0)
        g_string_append_c (s, '-');
      g_string_append_c (s, recovery_alphabet[(value << (5 - bits)) & 31]);
    }
  return g_string_free (s, FALSE);
}

static gboolean
recovery_key_parse (const char *text,
                    guint8      out[PD_KEY_SIZE])
{
  guint bits = 0, value = 0;
  gsize n = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      char c = g_ascii_toupper (*p);
      const char *hit;

      if (c == '-' || c == ' ')
        continue;
      if (c == 'O')
        c = '0';
      else if (c == 'I' || c == 'L')
        c = '1';
      hit = strchr (recovery_alphabet, c);
      if (hit == NULL || c == '\0')
        return FALSE;
      value = (value << 5) | (guint) (hit - recovery_alphabet);
      bits += 5;
      if (bits >= 8)
        {
          if (n == PD_KEY_SIZE)
            return FALSE;
          out[n++] = (value >> (bits - 8)) & 0xff;
          bits -= 8;
        }
    }
  return n == PD_KEY_SIZE;
}

static void
recovery_kek (const guint8 *recovery,
              guint8        kek[PD_KEY_SIZE])
{
  pd_crypto_hmac (recovery, "pharmdesk recovery key-encryption key", NULL, 0, kek);
}

static gboolean
bind_sealed (sqlite3_stmt *stmt,
             int           col,
             GBytes       *sealed)
{
  gsize len = 0;
  const void *data = g_bytes_get_data (sealed, &len);

  return sqlite3_bind_blob (stmt, col, data, (int) len, SQLITE_TRANSIENT) == SQLITE_OK;
}

/* The signing key of a pharmacist (sealed under kek) or of the pharmacy
 * (sealed under the data key). */
static gboolean
add_signing_key (PdStore      *store,
                 gint64        account_id,
                 const guint8 *sealing_key,
                 GError      **error)
{
  g_autofree char *uuid = pd_uuid_new ();
  g_autofree char *now = now_iso ();
  g_autoptr(GBytes) sealed = NULL;
  guint8 pub[32], priv[32];
  sqlite3_stmt *stmt;
  gboolean ok;

  if (!pd_ed25519_generate (pub, priv, error))
    return FALSE;
  sealed = pd_crypto_seal (sealing_key, "signing_key", "private_sealed", uuid, priv, sizeof priv, error);
  pd_crypto_wipe (priv, sizeof priv);
  if (sealed == NULL)
    return FALSE;
  stmt = pd_store_prepare (store, "INSERT INTO signing_key (uuid, owner, account_id, public_key, private_sealed, valid_from, created_at)"
                                  " VALUES (?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, account_id > 0 ? "pharmacist" : "pharmacy", -1, SQLITE_STATIC);
  if (account_id > 0)
    sqlite3_bind_int64 (stmt, 3, account_id);
  sqlite3_bind_blob (stmt, 4, pub, sizeof pub, SQLITE_TRANSIENT);
  bind_sealed (stmt, 5, sealed);
  sqlite3_bind_text (stmt, 6, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 7, now, -1, SQLITE_TRANSIENT);
  ok = pd_store_step_done (store, stmt, error);
  return ok;
}

static gboolean
write_pharmacy_key (PdStore  *store,
                    gpointer  user_data,
                    GError  **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT 1 FROM signing_key WHERE owner = 'pharmacy' AND valid_to IS NULL", error);
  gboolean exists;

  if (stmt == NULL)
    return FALSE;
  exists = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return exists || add_signing_key (store, 0, user_data, error);
}

/* Who holds a claim, for people: the account's name here, else the
 * hospital's id for them (the reference without its type); NULL: no one. */
char *
pd_practitioner_display_name (const char *practitioner_ref,
                              const char *account_name)
{
  const char *slash;

  if (account_name != NULL && *account_name != '\0')
    return g_strdup (account_name);
  if (practitioner_ref == NULL)
    return NULL;
  slash = strrchr (practitioner_ref, '/');
  return g_strdup (slash != NULL ? slash + 1 : practitioner_ref);
}

/* A database made before the key registry has no pharmacy key to sign the
 * audit trail's head: the first sign-in after the upgrade makes one. */
gboolean
pd_accounts_ensure_pharmacy_key (PdStore      *store,
                                 const guint8 *data_key,
                                 GError      **error)
{
  return pd_store_write (store, write_pharmacy_key, (gpointer) data_key, error);
}

typedef struct {
  const PdAccountSpec *spec;
  const char          *password;
  const guint8        *data_key;
  const PdAuditKeys   *audit;
  gint64               actor_id;
  gint64               new_id;
  char                *uuid;
} NewAccount;

static gboolean
insert_account (PdStore    *store,
                NewAccount *job,
                GError    **error)
{
  guint8 kek[PD_KEY_SIZE];
  g_autofree char *phc = pd_password_hash (job->password, kek, error);
  g_autofree char *roles = NULL;
  g_autofree char *now = now_iso ();
  g_autoptr(GBytes) wrapped = NULL;
  sqlite3_stmt *stmt;
  PdAuditEntry e = { 0 };
  gboolean ok;

  if (phc == NULL)
    return FALSE;
  job->uuid = pd_uuid_new ();
  roles = pd_roles_to_string (job->spec->roles);
  wrapped = pd_crypto_seal (kek, "account", "wrapped_data_key", job->uuid, job->data_key, PD_KEY_SIZE, error);
  if (wrapped == NULL)
    return FALSE;
  stmt = pd_store_prepare (store,
    "INSERT INTO account (uuid, username, display_name, roles, password_hash, wrapped_data_key,"
    " pharmacist_licence, practitioner_ref, insurance_operator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->uuid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, job->spec->username, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, job->spec->display_name != NULL ? job->spec->display_name : job->spec->username, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, roles, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, phc, -1, SQLITE_TRANSIENT);
  bind_sealed (stmt, 6, wrapped);
  sqlite3_bind_text (stmt, 7, job->spec->pharmacist_licence, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 8, job->spec->practitioner_ref, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 9, job->spec->insurance_operator, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 10, now, -1, SQLITE_TRANSIENT);
  if (!pd_store_step_done (store, stmt, error))
    {
      if (g_error_matches (*error, PD_STORE_ERROR, PD_STORE_ERROR_CONSTRAINT))
        {
          g_clear_error (error);
          g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_EXISTS,
                       _("There is already an account “%s”"), job->spec->username);
        }
      return FALSE;
    }
  job->new_id = sqlite3_last_insert_rowid (pd_store_get_db (store));
  ok = TRUE;
  if (job->spec->roles & PD_ROLE_PHARMACIST)
    ok = add_signing_key (store, job->new_id, kek, error);
  pd_crypto_wipe (kek, sizeof kek);
  if (!ok)
    return FALSE;
  e.actor_id = job->actor_id > 0 ? job->actor_id : job->new_id;
  e.action = "account.add";
  e.object_type = "account";
  e.object_uuid = job->uuid;
  e.detail = roles;
  return pd_audit_append (store, job->audit, &e, error);
}

typedef struct {
  NewAccount  account;
  char       *recovery_text;
} InitJob;

static gboolean
write_init (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  InitJob *job = user_data;
  guint8 recovery[PD_KEY_SIZE], kek[PD_KEY_SIZE], check[PD_KEY_SIZE];
  g_autofree char *uuid = pd_uuid_new ();
  g_autofree char *now = now_iso ();
  g_autofree char *verifier = NULL;
  g_autoptr(GBytes) wrapped = NULL;
  sqlite3_stmt *stmt;

  if (pd_accounts_exist (store))
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_EXISTS, "%s",
                   _("This database already has accounts: sign in as an administrator to add more"));
      return FALSE;
    }
  PdAuditKeys keys;
  gboolean ok;

  /* The pharmacy's key first: it signs the trail's head from the first row. */
  if (!add_signing_key (store, 0, job->account.data_key, error)
      || !pd_audit_keys_load (store, job->account.data_key, &keys, error))
    return FALSE;
  job->account.audit = &keys;
  ok = insert_account (store, &job->account, error);
  pd_audit_keys_wipe (&keys);
  job->account.audit = NULL;
  if (!ok)
    return FALSE;

  pd_crypto_random (recovery, sizeof recovery);
  recovery_kek (recovery, kek);
  pd_crypto_hmac (recovery, "pharmdesk recovery verifier", NULL, 0, check);
  verifier = g_compute_checksum_for_data (G_CHECKSUM_SHA256, check, sizeof check);
  wrapped = pd_crypto_seal (kek, "recovery_key", "wrapped_data_key", uuid, job->account.data_key, PD_KEY_SIZE, error);
  pd_crypto_wipe (kek, sizeof kek);
  if (wrapped == NULL)
    return FALSE;
  stmt = pd_store_prepare (store, "INSERT INTO recovery_key (id, uuid, verifier, wrapped_data_key, created_at) VALUES (1, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, verifier, -1, SQLITE_TRANSIENT);
  bind_sealed (stmt, 3, wrapped);
  sqlite3_bind_text (stmt, 4, now, -1, SQLITE_TRANSIENT);
  if (!pd_store_step_done (store, stmt, error))
    return FALSE;
  job->recovery_text = recovery_key_format (recovery);
  pd_crypto_wipe (recovery, sizeof recovery);
  return TRUE;
}

gboolean
pd_accounts_init (PdStore             *store,
                  const PdAccountSpec *admin,
                  const char          *password,
                  char               **recovery_key,
                  GError             **error)
{
  guint8 data_key[PD_KEY_SIZE];
  PdAccountSpec spec = *admin;
  InitJob job = { { &spec, password, data_key, NULL, 0, 0, NULL }, NULL };
  gboolean ok;

  spec.roles |= PD_ROLE_ADMIN;
  if (pd_accounts_exist (store))
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_EXISTS, "%s",
                   _("This database already has accounts: sign in as an administrator to add more"));
      return FALSE;
    }
  if (!check_spec (&spec, error) || !pd_accounts_check_password (password, error))
    return FALSE;
  pd_crypto_random (data_key, sizeof data_key);
  ok = pd_store_write (store, write_init, &job, error);
  pd_crypto_wipe (data_key, sizeof data_key);
  g_free (job.account.uuid);
  if (ok && recovery_key != NULL)
    *recovery_key = g_steal_pointer (&job.recovery_text);
  g_free (job.recovery_text);
  return ok;
}

static gboolean
write_add (PdStore  *store,
           gpointer  user_data,
           GError  **error)
{
  return insert_account (store, user_data, error);
}

gboolean
pd_accounts_add (PdSession           *admin,
                 const PdAccountSpec *spec,
                 const char          *password,
                 GError             **error)
{
  NewAccount job = { spec, password, pd_session_get_data_key (admin), pd_session_get_audit_keys (admin),
                     pd_session_get_account (admin)->id, 0, NULL };
  gboolean ok;

  if (!pd_session_require (admin, PD_ACTION_MANAGE_ACCOUNTS, "account", NULL, error)
      || !check_spec (spec, error) || !pd_accounts_check_password (password, error))
    return FALSE;
  ok = pd_store_write (pd_session_get_store (admin), write_add, &job, error);
  g_free (job.uuid);
  return ok;
}

GPtrArray *
pd_accounts_list (PdSession *session,
                  GError   **error)
{
  PdStore *store = pd_session_get_store (session);
  sqlite3_stmt *stmt;
  GPtrArray *list;

  if (!pd_session_require (session, PD_ACTION_MANAGE_ACCOUNTS, "account", NULL, error))
    return NULL;
  stmt = pd_store_prepare (store,
    "SELECT id, uuid, username, display_name, roles, pharmacist_licence, practitioner_ref,"
    " insurance_operator, locked_at IS NOT NULL, locked_until, failed_logins, created_at"
    " FROM account WHERE disabled_at IS NULL ORDER BY username", error);
  if (stmt == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_account_free);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (list, pd_account_from_row (stmt));
  sqlite3_reset (stmt);
  return list;
}

typedef struct {
  PdSession  *admin;
  PdAccount  *target;
  gboolean    locked;
} LockJob;

static gboolean
write_lock (PdStore  *store,
            gpointer  user_data,
            GError  **error)
{
  LockJob *job = user_data;
  g_autofree char *now = now_iso ();
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "UPDATE account SET locked_at = ?, locked_until = NULL, failed_logins = 0 WHERE id = ?", error);
  PdAuditEntry e = { pd_session_get_account (job->admin)->id, job->locked ? "account.lock" : "account.unlock",
                     "account", job->target->uuid, "ok", NULL, NULL };

  if (stmt == NULL)
    return FALSE;
  if (job->locked)
    sqlite3_bind_text (stmt, 1, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, job->target->id);
  return pd_store_step_done (store, stmt, error)
         && pd_audit_append (store, pd_session_get_audit_keys (job->admin), &e, error);
}

gboolean
pd_accounts_set_locked (PdSession  *admin,
                        const char *username,
                        gboolean    locked,
                        GError    **error)
{
  g_autoptr(PdAccount) target = NULL;
  LockJob job = { admin, NULL, locked };

  if (!pd_session_require (admin, PD_ACTION_MANAGE_ACCOUNTS, "account", NULL, error))
    return FALSE;
  target = pd_account_lookup (pd_session_get_store (admin), username, error);
  if (target == NULL)
    return FALSE;
  if (locked && target->id == pd_session_get_account (admin)->id)
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID, "%s", _("You cannot lock your own account"));
      return FALSE;
    }
  job.target = target;
  return pd_store_write (pd_session_get_store (admin), write_lock, &job, error);
}

/* Re-seals the data key (and the pharmacist's signing keys) under the key
 * derived from the new password. */
typedef struct {
  PdAccount    *account;
  const guint8 *data_key;
  const PdAuditKeys *audit;
  const guint8 *old_kek;     /* NULL in recovery: signing keys are retired and replaced */
  const char   *new_password;
  const char   *action;
} RewrapJob;

static gboolean
rewrap_signing_keys (PdStore      *store,
                     RewrapJob    *job,
                     const guint8 *new_kek,
                     GError      **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "SELECT id, uuid, private_sealed FROM signing_key WHERE account_id = ? AND valid_to IS NULL", error);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autofree char *now = now_iso ();

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, job->account->id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      char **r = g_new0 (char *, 4);

      r[0] = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      r[1] = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      r[2] = g_base64_encode (sqlite3_column_blob (stmt, 2), sqlite3_column_bytes (stmt, 2));
      g_ptr_array_add (rows, r);
    }
  sqlite3_reset (stmt);

  for (guint i = 0; i < rows->len; i++)
    {
      char **r = rows->pdata[i];
      gsize len = 0;
      g_autofree guint8 *old = g_base64_decode (r[2], &len);
      g_autoptr(GBytes) priv = NULL;
      g_autoptr(GBytes) resealed = NULL;
      sqlite3_stmt *upd;

      if (job->old_kek == NULL)
        continue;
      priv = pd_crypto_open (job->old_kek, "signing_key", "private_sealed", r[1], old, len, error);
      if (priv == NULL)
        return FALSE;
      resealed = pd_crypto_seal (new_kek, "signing_key", "private_sealed", r[1],
                                 g_bytes_get_data (priv, NULL), g_bytes_get_size (priv), error);
      if (resealed == NULL)
        return FALSE;
      upd = pd_store_prepare (store, "UPDATE signing_key SET private_sealed = ? WHERE id = ?", error);
      if (upd == NULL)
        return FALSE;
      bind_sealed (upd, 1, resealed);
      sqlite3_bind_int64 (upd, 2, g_ascii_strtoll (r[0], NULL, 10));
      if (!pd_store_step_done (store, upd, error))
        return FALSE;
    }

  /* Without the old password the old private key is gone: retire it and
   * give the pharmacist a new one (the registry keeps the old public half). */
  if (job->old_kek == NULL && (job->account->roles & PD_ROLE_PHARMACIST))
    {
      sqlite3_stmt *retire = pd_store_prepare (store,
        "UPDATE signing_key SET valid_to = ? WHERE account_id = ? AND valid_to IS NULL", error);

      if (retire == NULL)
        return FALSE;
      sqlite3_bind_text (retire, 1, now, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (retire, 2, job->account->id);
      if (!pd_store_step_done (store, retire, error) || !add_signing_key (store, job->account->id, new_kek, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
write_rewrap (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  RewrapJob *job = user_data;
  guint8 kek[PD_KEY_SIZE];
  g_autofree char *phc = pd_password_hash (job->new_password, kek, error);
  g_autoptr(GBytes) wrapped = NULL;
  sqlite3_stmt *stmt;
  PdAuditEntry e = { job->account->id, job->action, "account", job->account->uuid, "ok", NULL, NULL };
  gboolean ok;

  if (phc == NULL)
    return FALSE;
  wrapped = pd_crypto_seal (kek, "account", "wrapped_data_key", job->account->uuid, job->data_key, PD_KEY_SIZE, error);
  if (wrapped == NULL)
    return FALSE;
  stmt = pd_store_prepare (store,
    "UPDATE account SET password_hash = ?, wrapped_data_key = ?, failed_logins = 0, locked_until = NULL WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, phc, -1, SQLITE_TRANSIENT);
  bind_sealed (stmt, 2, wrapped);
  sqlite3_bind_int64 (stmt, 3, job->account->id);
  ok = pd_store_step_done (store, stmt, error) && rewrap_signing_keys (store, job, kek, error)
       && pd_audit_append (store, job->audit, &e, error);
  pd_crypto_wipe (kek, sizeof kek);
  return ok;
}

gboolean
pd_accounts_change_password (PdStore    *store,
                             const char *username,
                             const char *old_password,
                             const char *new_password,
                             GError    **error)
{
  g_autoptr(PdSession) session = NULL;
  RewrapJob job = { 0 };

  if (!pd_accounts_check_password (new_password, error))
    return FALSE;
  session = pd_session_sign_in (store, username, old_password, error);
  if (session == NULL)
    return FALSE;
  job.account = (PdAccount *) pd_session_get_account (session);
  job.data_key = pd_session_get_data_key (session);
  job.audit = pd_session_get_audit_keys (session);
  job.old_kek = pd_session_get_kek (session);
  job.new_password = new_password;
  job.action = "account.password";
  return pd_store_write (store, write_rewrap, &job, error);
}

gboolean
pd_accounts_recover (PdStore    *store,
                     const char *recovery_key,
                     const char *username,
                     const char *new_password,
                     GError    **error)
{
  guint8 recovery[PD_KEY_SIZE], kek[PD_KEY_SIZE], data_key[PD_KEY_SIZE];
  PdAuditKeys keys;
  g_autoptr(PdAccount) account = NULL;
  g_autoptr(GBytes) dk = NULL;
  g_autofree char *uuid = NULL;
  sqlite3_stmt *stmt;
  RewrapJob job = { 0 };
  gboolean ok;

  if (!pd_accounts_check_password (new_password, error))
    return FALSE;
  if (!recovery_key_parse (recovery_key, recovery))
    {
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID, "%s",
                   _("That is not a recovery key: it has 52 letters and digits in groups of four"));
      return FALSE;
    }
  account = pd_account_lookup (store, username, error);
  if (account == NULL)
    return FALSE;
  recovery_kek (recovery, kek);
  pd_crypto_wipe (recovery, sizeof recovery);
  stmt = pd_store_prepare (store, "SELECT uuid, wrapped_data_key FROM recovery_key WHERE id = 1", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      dk = pd_crypto_open (kek, "recovery_key", "wrapped_data_key", uuid,
                           sqlite3_column_blob (stmt, 1), sqlite3_column_bytes (stmt, 1), NULL);
    }
  sqlite3_reset (stmt);
  pd_crypto_wipe (kek, sizeof kek);
  if (dk == NULL || g_bytes_get_size (dk) != PD_KEY_SIZE)
    {
      PdAuditEntry e = { account->id, "account.recover", "account", account->uuid, "refused", "wrong recovery key", NULL };

      pd_audit_pending (store, &e, NULL);
      g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_WRONG_PASSWORD, "%s", _("The recovery key does not open this database"));
      return FALSE;
    }
  memcpy (data_key, g_bytes_get_data (dk, NULL), PD_KEY_SIZE);
  if (!pd_audit_keys_load (store, data_key, &keys, error))
    {
      pd_crypto_wipe (data_key, sizeof data_key);
      return FALSE;
    }
  job.account = account;
  job.data_key = data_key;
  job.audit = &keys;
  job.old_kek = NULL;
  job.new_password = new_password;
  job.action = "account.recover";
  ok = pd_store_write (store, write_rewrap, &job, error);
  pd_crypto_wipe (data_key, sizeof data_key);
  pd_audit_keys_wipe (&keys);
  return ok;
}

gboolean
pd_accounts_pharmacist_key (PdSession *session,
                            guint8     priv[32],
                            char     **key_uuid,
                            GError   **error)
{
  PdStore *store = pd_session_get_store (session);
  sqlite3_stmt *stmt;
  g_autoptr(GBytes) plain = NULL;
  g_autofree char *uuid = NULL;

  if (!pd_session_require (session, PD_ACTION_REVIEW, "signing_key", NULL, error))
    return FALSE;
  stmt = pd_store_prepare (store, "SELECT uuid, private_sealed FROM signing_key"
                                  " WHERE account_id = ? AND valid_to IS NULL ORDER BY id DESC LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, pd_session_get_account (session)->id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      plain = pd_crypto_open (pd_session_get_kek (session), "signing_key", "private_sealed", uuid,
                              sqlite3_column_blob (stmt, 1), sqlite3_column_bytes (stmt, 1), error);
    }
  else
    g_set_error (error, PD_TRUST_ERROR, PD_TRUST_ERROR_INVALID, "%s", _("This pharmacist has no signing key"));
  sqlite3_reset (stmt);
  if (plain == NULL || g_bytes_get_size (plain) != 32)
    return FALSE;
  memcpy (priv, g_bytes_get_data (plain, NULL), 32);
  if (key_uuid != NULL)
    *key_uuid = g_steal_pointer (&uuid);
  return TRUE;
}
