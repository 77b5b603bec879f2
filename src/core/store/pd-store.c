/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-store"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pd-clock.h"
#include "pd-store.h"

/* SQLite keeps these at fixed offsets of the first page (fileformat2.html). */
#define HEADER_SIZE        100
#define HEADER_PAGE_SIZE    16
#define HEADER_CHANGE_COUNTER 24
#define HEADER_N_PAGES      28
#define HEADER_USER_VERSION 60
#define HEADER_APP_ID       68
#define HEADER_VALID_FOR    92
#define BUSY_TIMEOUT_MS   5000

struct _PdStore
{
  GObject         parent_instance;

  char           *path;
  const PdSchema *schema;
  sqlite3        *db;
  GHashTable     *statements;   /* SQL text → sqlite3_stmt*, on the writer connection */
  GRecMutex       write_lock;   /* one writer: held for every write transaction */
  GThreadPool    *write_queue;  /* the serial queue behind pd_store_write_async() */
  guint           schema_version;
  gboolean        unclean;
  char           *read_only;    /* why nothing can be written, or NULL */
  char           *reader_uri;   /* how a reader opens a read-only store */
};

G_DEFINE_FINAL_TYPE (PdStore, pd_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (pd-store-error-quark, pd_store_error)

typedef struct {
  PdStoreWriteFunc func;
  gpointer         user_data;
  GDestroyNotify   user_data_free;
} WriteJob;

static void
write_job_free (gpointer data)
{
  WriteJob *job = data;

  if (job->user_data_free != NULL)
    job->user_data_free (job->user_data);
  g_free (job);
}

/* Callers name what failed, often with the statement's text: that is for
 * the debug log, never for the pharmacy's staff. */
static gboolean
looks_like_sql (const char *what)
{
  return what != NULL && g_ascii_isupper (what[0]) && strchr (what, ' ') != NULL;
}

/* What went wrong with the file, in words a support desk can act on, or
 * NULL for a failure of the statement itself (a constraint, a bug). */
static char *
describe_file_failure (const char *path,
                       int         rc,
                       const char *msg)
{
  switch (rc & 0xff)
    {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return g_strdup_printf (_("The database “%s” is damaged (%s). Restore it from a backup, or run “pharmdesk-cli db check” to see what is wrong."),
                              path, msg);
    case SQLITE_READONLY:
      return g_strdup_printf (_("“%s” is read-only: nothing can be written to it. Make the file and its folder writable for this user, or work on a writable copy."),
                              path);
    case SQLITE_FULL:
      return g_strdup_printf (_("The disk holding “%s” is full: make room and try again."), path);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      return g_strdup_printf (_("Cannot read or write the database “%s” (%s). Check the disk and the file’s permissions."),
                              path, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return g_strdup_printf (_("The database “%s” is busy: another program is writing to it. Try again in a moment."), path);
    default:
      return NULL;
    }
}

static int
error_code_for (int rc)
{
  switch (rc & 0xff)
    {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return PD_STORE_ERROR_CORRUPT;
    case SQLITE_CONSTRAINT:
      return PD_STORE_ERROR_CONSTRAINT;
    case SQLITE_READONLY:
      return PD_STORE_ERROR_READ_ONLY;
    default:
      return PD_STORE_ERROR_FAILED;
    }
}

gboolean
pd_store_set_error (sqlite3    *db,
                    int         rc,
                    const char *what,
                    GError    **error)
{
  const char *msg = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);
  const char *path = db != NULL ? sqlite3_db_filename (db, "main") : NULL;
  g_autofree char *plain = NULL;

  g_debug ("%s: %s (%d)", what, msg, rc);
  if (path != NULL && *path != '\0')
    plain = describe_file_failure (path, rc, msg);
  if (plain != NULL)
    g_set_error_literal (error, PD_STORE_ERROR, error_code_for (rc), plain);
  else if (looks_like_sql (what))
    g_set_error (error, PD_STORE_ERROR, error_code_for (rc), "%s", msg);
  else
    g_set_error (error, PD_STORE_ERROR, error_code_for (rc), "%s: %s", what, msg);
  return FALSE;
}

char *
pd_uuid_new (void)
{
  return g_uuid_string_random ();
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static goffset
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (goffset) st.st_size : -1;
}

static char *
wal_path (const char *path)
{
  return g_strconcat (path, "-wal", NULL);
}

/* A -wal with frames holds changes the main file does not have yet. */
static gboolean
wal_has_changes (const char *path)
{
  g_autofree char *wal = wal_path (path);

  return file_size (wal) > 0;
}

/* Why nothing can be written to the database at path, or NULL when it
 * can: SQLite writes the file, and in WAL mode creates and removes its
 * -wal and -shm beside it. access() also sees a read-only mount and an
 * immutable file, which stop root too. */
static char *
read_only_reason (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  if (access (path, W_OK) != 0 && errno != ENOENT)
    return g_strdup (_("this user may not write the file"));
  if (access (dir, W_OK | X_OK) != 0)
    return g_strdup_printf (_("this user may not write in its folder “%s”"), dir);
  return NULL;
}

/* The URI of a read-only connection that writes nothing beside the file.
 * A WAL database read with mode=ro needs its -shm, which SQLite creates
 * (and leaves behind) where the folder allows and fails on where it does
 * not; when no -wal holds changes, the main file alone is the database and
 * immutable=1 reads it without side files or locks. */
static char *
read_only_uri (const char *path)
{
  g_autofree char *escaped = g_uri_escape_string (path, "/", TRUE);

  return g_strdup_printf ("file:%s?%s", escaped, wal_has_changes (path) ? "mode=ro" : "immutable=1");
}

/* A main file shorter than its header says was cut off (a copy that did
 * not finish, a full disk). A crash during a checkpoint may leave it short
 * while the -wal still holds the missing pages, so only a shortfall the
 * -wal cannot cover is damage: the rule SQLite's checkpoint applies. */
static gboolean
check_length (const char    *path,
              const guint8  *header,
              GError       **error)
{
  g_autofree char *wal = wal_path (path);
  guint32 page_size = ((guint32) header[HEADER_PAGE_SIZE] << 8) | header[HEADER_PAGE_SIZE + 1];
  guint32 n_pages = read_be32 (header + HEADER_N_PAGES);
  goffset size = file_size (path);
  goffset wal_size = MAX (file_size (wal), 0);
  goffset needed;

  if (page_size == 1)
    page_size = 65536;
  /* The page count is valid only when written with the change counter. */
  if (memcmp (header + HEADER_CHANGE_COUNTER, header + HEADER_VALID_FOR, 4) != 0 || n_pages == 0 || size < 0)
    return TRUE;
  needed = (goffset) n_pages * page_size;
  if (size >= needed || size + wal_size >= needed)
    return TRUE;
  g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT,
               _("The database “%s” is damaged: the file was cut off (%lld of %lld bytes). Restore it from a backup."),
               path, (long long) size, (long long) needed);
  return FALSE;
}

/* The cheap checks, on the file's bytes alone so that a foreign file is
 * never handed to SQLite in write mode. Sets *is_new for a missing or
 * empty file. */
static gboolean
check_header (const char     *path,
              const PdSchema *schema,
              gboolean       *is_new,
              GError        **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(GError) local_error = NULL;
  guint8 header[HEADER_SIZE];
  gsize got = 0;
  guint32 app_id;

  *is_new = FALSE;
  in = g_file_read (file, NULL, &local_error);
  if (in == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          *is_new = TRUE;
          return TRUE;
        }
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_FAILED,
                   _("Cannot read the database “%s”: %s"), path, local_error->message);
      return FALSE;
    }
  if (!g_input_stream_read_all (G_INPUT_STREAM (in), header, sizeof header, &got, NULL, &local_error))
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_FAILED,
                   _("Cannot read the database “%s”: %s"), path, local_error->message);
      return FALSE;
    }
  if (got == 0)
    {
      *is_new = TRUE;
      return TRUE;
    }
  if (got < HEADER_SIZE || memcmp (header, "SQLite format 3", 16) != 0)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_PHARMDESK,
                   _("“%s” is not a PharmDesk database: it is not an SQLite file"), path);
      return FALSE;
    }
  app_id = read_be32 (header + HEADER_APP_ID);
  if (app_id != schema->application_id)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_PHARMDESK,
                   _("“%s” is not a PharmDesk database: it belongs to another program (application id 0x%08x)"),
                   path, app_id);
      return FALSE;
    }
  if (read_be32 (header + HEADER_USER_VERSION) > schema->n_migrations)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_TOO_NEW,
                   _("“%s” was made by a newer PharmDesk (schema %u; this program knows up to %u). Update PharmDesk to open it."),
                   path, read_be32 (header + HEADER_USER_VERSION), schema->n_migrations);
      return FALSE;
    }
  return check_length (path, header, error);
}

/* Runs a check pragma; every row but a lone "ok" is a problem. */
static gboolean
collect_check (sqlite3    *db,
               const char *sql,
               GPtrArray  *problems,
               GError    **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    return pd_store_set_error (db, rc, sql, error);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      int n = sqlite3_column_count (stmt);
      GString *line = g_string_new (NULL);

      for (int i = 0; i < n; i++)
        {
          const char *v = (const char *) sqlite3_column_text (stmt, i);
          if (i > 0)
            g_string_append_c (line, ' ');
          g_string_append (line, v != NULL ? v : "NULL");
        }
      if (g_str_equal (line->str, "ok"))
        g_string_free (line, TRUE);
      else
        g_ptr_array_add (problems, g_string_free (line, FALSE));
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return pd_store_set_error (db, rc, sql, error);
  return TRUE;
}

typedef struct {
  gint64   app_id;
  gint64   user_version;
  gint64   n_objects;
  gboolean unclean;
} Probe;

/* A read-only connection to an existing file: the plain path where this
 * user may write beside it, read_only_uri() where not. */
static sqlite3 *
open_reading (const char *path,
              gboolean    read_only,
              GError    **error)
{
  g_autofree char *uri = read_only ? read_only_uri (path) : NULL;
  sqlite3 *db = NULL;
  int rc;

  rc = sqlite3_open_v2 (uri != NULL ? uri : path, &db, SQLITE_OPEN_READONLY | (uri != NULL ? SQLITE_OPEN_URI : 0), NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_FAILED,
                   _("Cannot open the database “%s”: %s"), path, sqlite3_errstr (rc));
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes (db, 1);
  return db;
}

/* The error for a query that failed while a file was being looked at:
 * damage, or a -wal that a read-only file cannot be read with. */
static void
set_unreadable_error (const char *path,
                      sqlite3    *db,
                      int         rc,
                      gboolean    read_only,
                      GError    **error)
{
  if (read_only && ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN))
    g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_READ_ONLY,
                 _("“%s” is read-only and its latest changes are still in “%s-wal”, which cannot be read without writing beside it. "
                   "Let a user who may write there open it once, or copy the database with its -wal file to a writable folder."),
                 path, path);
  else if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
    g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT,
                 _("The database “%s” is damaged and was not opened (%s). Restore it from a backup, or run “pharmdesk-cli db check” to see what is wrong."),
                 path, sqlite3_errmsg (db));
  else
    g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_FAILED,
                 _("Cannot read the database “%s” (%s). Check the disk and the file’s permissions."),
                 path, sqlite3_errmsg (db));
}

static int
query_int_rc (sqlite3    *db,
              const char *sql,
              gint64     *out)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *out = sqlite3_column_int64 (stmt, 0);
      rc = SQLITE_OK;
    }
  else if (rc == SQLITE_OK || rc == SQLITE_DONE)
    rc = SQLITE_ERROR;
  else
    rc = sqlite3_extended_errcode (db);
  sqlite3_finalize (stmt);
  return rc;
}

/* The application id as SQLite sees it (through the -wal) against the
 * one in the main file's header: a -wal of another database beside ours
 * shows another program's id, or none. */
static void
set_foreign_error (const char     *path,
                   const PdSchema *schema,
                   gint64          app_id,
                   GError        **error)
{
  g_autofree char *wal = wal_path (path);

  if (g_file_test (wal, G_FILE_TEST_EXISTS))
    g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT,
                 _("The database “%s” is damaged: “%s” beside it belongs to another database. Restore both from a backup; do not delete the -wal file before a backup of it is made."),
                 path, wal);
  else
    g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_PHARMDESK,
                 _("“%s” is not a PharmDesk database: it belongs to another program (application id 0x%08x)"),
                 path, (guint32) app_id);
}

/* Looks at an existing file through a read-only connection, which can
 * neither write the file nor checkpoint a foreign WAL into it. */
static gboolean
probe_file (const char     *path,
            const PdSchema *schema,
            gboolean        read_only,
            Probe          *probe,
            GError        **error)
{
  sqlite3 *db = NULL;
  g_autoptr(GError) local_error = NULL;
  int rc;

  memset (probe, 0, sizeof *probe);
  db = open_reading (path, read_only, error);
  if (db == NULL)
    return FALSE;

  if ((rc = query_int_rc (db, "PRAGMA application_id", &probe->app_id)) != SQLITE_OK
      || (rc = query_int_rc (db, "PRAGMA user_version", &probe->user_version)) != SQLITE_OK
      || (rc = query_int_rc (db, "SELECT count(*) FROM sqlite_schema", &probe->n_objects)) != SQLITE_OK)
    {
      set_unreadable_error (path, db, rc, read_only, error);
      sqlite3_close (db);
      return FALSE;
    }
  if (probe->app_id != schema->application_id)
    {
      set_foreign_error (path, schema, probe->app_id, error);
      sqlite3_close (db);
      return FALSE;
    }
  if (probe->user_version > schema->n_migrations)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_TOO_NEW,
                   _("“%s” was made by a newer PharmDesk (schema %u; this program knows up to %u). Update PharmDesk to open it."),
                   path, (guint) probe->user_version, schema->n_migrations);
      sqlite3_close (db);
      return FALSE;
    }

  if (probe->user_version > 0)
    {
      sqlite3_stmt *stmt = NULL;

      /* A store_meta that cannot be read is damage, not a clean shutdown. */
      rc = sqlite3_prepare_v2 (db, "SELECT value FROM store_meta WHERE key = 'clean_shutdown'", -1, &stmt, NULL);
      if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        probe->unclean = g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), "1") != 0;
      else if (rc != SQLITE_DONE)
        probe->unclean = TRUE;
      sqlite3_finalize (stmt);
    }

  if (probe->unclean)
    {
      g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);

      g_debug ("%s was not closed cleanly: running quick_check", path);
      if (!collect_check (db, "PRAGMA quick_check", problems, &local_error) || problems->len > 0)
        {
          g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT,
                       _("The database “%s” is damaged and was not opened (%s). Restore it from a backup, or run “pharmdesk-cli db check” to see what is wrong."),
                       path, local_error != NULL ? sqlite3_errmsg (db) : (const char *) problems->pdata[0]);
          sqlite3_close (db);
          return FALSE;
        }
    }
  sqlite3_close (db);
  return TRUE;
}

gboolean
pd_store_exec (PdStore    *store,
               const char *sql,
               GError    **error)
{
  char *errmsg = NULL;
  int rc = sqlite3_exec (store->db, sql, NULL, NULL, &errmsg);

  if (rc != SQLITE_OK)
    {
      g_autofree char *plain = NULL;

      if ((rc & 0xff) == SQLITE_READONLY && store->read_only != NULL)
        plain = g_strdup_printf (_("“%s” is read-only (%s): nothing can be written to it."), store->path, store->read_only);
      else
        plain = describe_file_failure (store->path, rc, errmsg != NULL ? errmsg : sqlite3_errstr (rc));
      g_debug ("%s: %s (%d)", sql, errmsg != NULL ? errmsg : sqlite3_errstr (rc), rc);
      g_set_error (error, PD_STORE_ERROR, error_code_for (rc),
                   "%s", plain != NULL ? plain : errmsg != NULL ? errmsg : sqlite3_errstr (rc));
      sqlite3_free (errmsg);
      return FALSE;
    }
  return TRUE;
}

static gboolean
migrate (PdStore *store,
         guint    target,
         GError **error)
{
  for (guint v = store->schema_version + 1; v <= target; v++)
    {
      const PdMigration *m = &store->schema->migrations[v - 1];
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %u", v);

      if (!pd_store_exec (store, "BEGIN IMMEDIATE", error))
        return FALSE;
      if ((v == 1 && !pd_store_exec (store,
                                     "CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
                                     error))
          || !pd_store_exec (store, m->sql, error)
          || !pd_store_exec (store, bump, error)
          || !pd_store_exec (store, "COMMIT", error))
        {
          g_prefix_error (error, _("Upgrading the database to schema %u (%s) failed: "), v, m->summary);
          sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
      store->schema_version = v;
    }
  return TRUE;
}

static void
write_queue_run (gpointer data,
                 gpointer user_data)
{
  GTask *task = data;
  PdStore *store = g_task_get_source_object (task);
  WriteJob *job = g_task_get_task_data (task);
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (pd_store_write (store, job->func, job->user_data, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

/* A store opened read-only: the file as it is, no migration, no
 * clean-shutdown mark; every write is refused with store->read_only. */
static PdStore *
open_read_only (PdStore  *store,
                guint     target_version,
                GError  **error)
{
  g_autoptr(PdStore) owned = store;

  if (store->schema_version < target_version)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_READ_ONLY,
                   _("“%s” is read-only (%s) and must first be upgraded to this version of PharmDesk (schema %u to %u): make it writable and open it once."),
                   store->path, store->read_only, store->schema_version, target_version);
      return NULL;
    }
  store->db = open_reading (store->path, TRUE, error);
  if (store->db == NULL)
    return NULL;
  store->reader_uri = read_only_uri (store->path);
  if (!pd_store_exec (store, "PRAGMA foreign_keys = ON", error)
      || !pd_store_exec (store, "PRAGMA cache_size = -32768", error))
    return NULL;
  return g_steal_pointer (&owned);
}

PdStore *
pd_store_open_full (const char       *path,
                    const PdSchema   *schema,
                    guint             target_version,
                    PdStoreOpenFlags  flags,
                    GError          **error)
{
  g_autoptr(PdStore) store = NULL;
  g_autofree char *read_only = NULL;
  gboolean is_new = FALSE;
  Probe probe = { 0 };
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (schema != NULL, NULL);

  if (target_version > schema->n_migrations)
    target_version = schema->n_migrations;

  read_only = read_only_reason (path);
  if (read_only == NULL && (flags & PD_STORE_OPEN_READ_ONLY) != 0)
    read_only = g_strdup (_("opened for reading only"));

  if (!check_header (path, schema, &is_new, error))
    return NULL;
  if (is_new && read_only != NULL)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_READ_ONLY,
                   _("Cannot create the database “%s”: %s"), path, read_only);
      return NULL;
    }
  if (!is_new && !probe_file (path, schema, read_only != NULL, &probe, error))
    return NULL;

  store = g_object_new (PD_TYPE_STORE, NULL);
  store->path = g_strdup (path);
  store->schema = schema;
  store->schema_version = (guint) probe.user_version;
  store->unclean = probe.unclean;

  if (read_only != NULL)
    {
      store->read_only = g_steal_pointer (&read_only);
      return open_read_only (g_steal_pointer (&store), target_version, error);
    }

  rc = sqlite3_open_v2 (path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_FAILED,
                   _("Cannot open the database “%s”: %s"), path, sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_busy_timeout (store->db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes (store->db, 1);

  if (!pd_store_exec (store, "PRAGMA journal_mode = WAL", error)
      || !pd_store_exec (store, "PRAGMA synchronous = NORMAL", error)
      || !pd_store_exec (store, "PRAGMA foreign_keys = ON", error)
      /* 32 MiB of page cache: a million-row cache keeps its indexes warm. */
      || !pd_store_exec (store, "PRAGMA cache_size = -32768", error))
    return NULL;

  if (is_new)
    {
      g_autofree char *sql = g_strdup_printf ("PRAGMA application_id = %d", (gint32) schema->application_id);

      if (!pd_store_exec (store, sql, error))
        return NULL;
    }

  if (store->schema_version < target_version)
    {
      if (!migrate (store, target_version, error))
        return NULL;
      /* Put the id and version into the main file's header, where the
       * next open's cheap check reads them. */
      sqlite3_wal_checkpoint_v2 (store->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }

  if (store->schema_version > 0 && !pd_store_set_meta (store, "clean_shutdown", "0", error))
    return NULL;

  return g_steal_pointer (&store);
}

PdStore *
pd_store_open_schema (const char     *path,
                      const PdSchema *schema,
                      guint           target_version,
                      GError        **error)
{
  return pd_store_open_full (path, schema, target_version, PD_STORE_OPEN_DEFAULT, error);
}

PdStore *
pd_store_open (const char *path,
               GError    **error)
{
  return pd_store_open_schema (path, pd_schema_pharmacy (), PD_STORE_LATEST, error);
}

/* Marks the shutdown clean and closes; safe to call twice. */
void
pd_store_close (PdStore *store)
{
  g_return_if_fail (PD_IS_STORE (store));

  if (store->write_queue != NULL)
    {
      g_thread_pool_free (store->write_queue, FALSE, TRUE);
      store->write_queue = NULL;
    }
  if (store->db == NULL)
    return;

  if (store->schema_version > 0 && store->read_only == NULL)
    pd_store_set_meta (store, "clean_shutdown", "1", NULL);
  g_hash_table_remove_all (store->statements);
  sqlite3_close_v2 (store->db);
  store->db = NULL;
}

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static void
pd_store_finalize (GObject *object)
{
  PdStore *self = (PdStore *) object;

  pd_store_close (self);
  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_rec_mutex_clear (&self->write_lock);
  g_free (self->path);
  g_free (self->read_only);
  g_free (self->reader_uri);

  G_OBJECT_CLASS (pd_store_parent_class)->finalize (object);
}

static void
pd_store_class_init (PdStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pd_store_finalize;
}

static void
pd_store_init (PdStore *self)
{
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_statement);
  g_rec_mutex_init (&self->write_lock);
}

const char *
pd_store_get_path (PdStore *store)
{
  return store->path;
}

guint
pd_store_get_schema_version (PdStore *store)
{
  return store->schema_version;
}

/* Opened from a file this user may not write (or with
 * PD_STORE_OPEN_READ_ONLY): reading works, every write is refused. */
gboolean
pd_store_is_read_only (PdStore *store)
{
  return store->read_only != NULL;
}

gboolean
pd_store_was_unclean (PdStore *store)
{
  return store->unclean;
}

sqlite3 *
pd_store_get_db (PdStore *store)
{
  return store->db;
}

/* A cached statement, reset and with no bindings. Owned by the store. */
sqlite3_stmt *
pd_store_prepare (PdStore    *store,
                  const char *sql,
                  GError    **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (store->statements, sql);
  int rc;

  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }
  rc = sqlite3_prepare_v3 (store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      pd_store_set_error (store->db, rc, sql, error);
      return NULL;
    }
  g_hash_table_insert (store->statements, g_strdup (sql), stmt);
  return stmt;
}

/* Steps a statement that returns no rows and resets it. */
gboolean
pd_store_step_done (PdStore      *store,
                    sqlite3_stmt *stmt,
                    GError      **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      pd_store_set_error (store->db, rc, sqlite3_sql (stmt), error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* One write transaction: everything func does commits whole or not at all. */
gboolean
pd_store_write (PdStore          *store,
                PdStoreWriteFunc  func,
                gpointer          user_data,
                GError          **error)
{
  gboolean ok;

  g_return_val_if_fail (store->db != NULL, FALSE);

  if (store->read_only != NULL)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_READ_ONLY,
                   _("“%s” is read-only (%s): nothing can be written to it. Make the file and its folder writable for this user, or work on a writable copy."),
                   store->path, store->read_only);
      return FALSE;
    }
  g_rec_mutex_lock (&store->write_lock);
  ok = pd_store_exec (store, "BEGIN IMMEDIATE", error);
  if (ok)
    {
      ok = func (store, user_data, error);
      if (ok)
        ok = pd_store_exec (store, "COMMIT", error);
      if (!ok)
        sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
    }
  g_rec_mutex_unlock (&store->write_lock);
  return ok;
}

/* pd_store_write () whose commit is synced to disk (synchronous = FULL for
 * that one transaction; the store otherwise runs NORMAL, where a WAL commit
 * may be lost to a power cut). The writer's lock is held from the first
 * PRAGMA to the last, so no other transaction sees either setting. */
gboolean
pd_store_write_synced (PdStore          *store,
                       PdStoreWriteFunc  func,
                       gpointer          user_data,
                       GError          **error)
{
  gboolean ok;

  g_return_val_if_fail (store->db != NULL, FALSE);

  g_rec_mutex_lock (&store->write_lock);
  ok = pd_store_exec (store, "PRAGMA synchronous = FULL", error)
       && pd_store_write (store, func, user_data, error);
  /* Back to NORMAL whatever happened (a failed write leaves no transaction open). */
  if (!pd_store_exec (store, "PRAGMA synchronous = NORMAL", ok ? error : NULL))
    ok = FALSE;
  g_rec_mutex_unlock (&store->write_lock);
  return ok;
}

void
pd_store_write_async (PdStore            *store,
                      PdStoreWriteFunc    func,
                      gpointer            user_data,
                      GDestroyNotify      user_data_free,
                      GCancellable       *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer            callback_data)
{
  GTask *task = g_task_new (store, cancellable, callback, callback_data);
  WriteJob *job = g_new0 (WriteJob, 1);

  job->func = func;
  job->user_data = user_data;
  job->user_data_free = user_data_free;
  g_task_set_source_tag (task, pd_store_write_async);
  g_task_set_task_data (task, job, write_job_free);

  if (store->write_queue == NULL)
    store->write_queue = g_thread_pool_new (write_queue_run, NULL, 1, FALSE, NULL);
  g_thread_pool_push (store->write_queue, task, NULL);
}

gboolean
pd_store_write_finish (PdStore      *store,
                       GAsyncResult *result,
                       GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* A read-only connection for another thread (the UI's point reads). */
sqlite3 *
pd_store_open_reader (PdStore *store,
                      GError **error)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (store->reader_uri != NULL ? store->reader_uri : store->path, &db,
                            SQLITE_OPEN_READONLY | (store->reader_uri != NULL ? SQLITE_OPEN_URI : 0), NULL);

  if (rc != SQLITE_OK)
    {
      pd_store_set_error (db, rc, store->path, error);
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);
  return db;
}

char *
pd_store_get_meta (PdStore    *store,
                   const char *key)
{
  sqlite3_stmt *stmt = pd_store_prepare (store, "SELECT value FROM store_meta WHERE key = ?", NULL);
  char *value = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return value;
}

gboolean
pd_store_set_meta (PdStore    *store,
                   const char *key,
                   const char *value,
                   GError    **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
                                         "INSERT INTO store_meta (key, value) VALUES (?, ?) "
                                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                         error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_STATIC);
  return pd_store_step_done (store, stmt, error);
}

gboolean
pd_store_get_settable_clock (PdStore *store)
{
  g_autofree char *value = pd_store_get_meta (store, "settable_clock");

  return g_strcmp0 (value, "1") == 0;
}

/* Refuses a clock moved by --now / PHARMDESK_NOW on a real pharmacy's
 * database: nobody may change when things happened there. */
gboolean
pd_store_check_clock (PdStore *store,
                      GError **error)
{
  if (!pd_clock_is_set (pd_clock_get_default ()) || pd_store_get_settable_clock (store))
    return TRUE;
  g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CLOCK,
               _("The clock of “%s” cannot be set: only a database made with “init --settable-clock” (training, demos, tests) takes --now or PHARMDESK_NOW"),
               store->path);
  return FALSE;
}

/* The full check of `pharmdesk-cli db check`: never refuses a damaged
 * file (that is what it is for) and never writes to it. */
gboolean
pd_store_check_file (const char         *path,
                     const PdSchema     *schema,
                     PdStoreCheckReport *report,
                     GError            **error)
{
  gboolean is_new = FALSE;
  sqlite3 *db = NULL;
  g_autofree char *read_only = NULL;
  gint64 version = 0, app_id = 0;
  g_autoptr(GError) local_error = NULL;
  int rc;

  memset (report, 0, sizeof *report);
  report->problems = g_ptr_array_new_with_free_func (g_free);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, _("No database at “%s”"), path);
      return FALSE;
    }
  if (!check_header (path, schema, &is_new, error))
    {
      /* A file that is not ours is a usage error; a damaged header is a finding. */
      return FALSE;
    }
  if (is_new)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_PHARMDESK,
                   _("“%s” is empty: it is not a PharmDesk database"), path);
      return FALSE;
    }
  read_only = read_only_reason (path);
  db = open_reading (path, read_only != NULL, error);
  if (db == NULL)
    return FALSE;

  /* What SQLite reads may come from the -wal: it must be ours too. */
  rc = query_int_rc (db, "PRAGMA application_id", &app_id);
  if (rc == SQLITE_OK && app_id != schema->application_id)
    {
      set_foreign_error (path, schema, app_id, &local_error);
      g_ptr_array_add (report->problems, g_strdup (local_error->message));
      g_clear_error (&local_error);
    }
  if (rc == SQLITE_OK)
    rc = query_int_rc (db, "PRAGMA user_version", &version);
  if (rc != SQLITE_OK)
    {
      set_unreadable_error (path, db, rc, read_only != NULL, &local_error);
      if (g_error_matches (local_error, PD_STORE_ERROR, PD_STORE_ERROR_READ_ONLY))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          sqlite3_close (db);
          return FALSE;
        }
      g_ptr_array_add (report->problems, g_strdup (local_error->message));
      g_clear_error (&local_error);
    }
  report->schema_version = (guint) version;
  if (!collect_check (db, "PRAGMA integrity_check", report->problems, &local_error))
    g_ptr_array_add (report->problems, g_strdup_printf (_("the integrity check stopped: %s"), sqlite3_errmsg (db)));
  g_clear_error (&local_error);
  if (!collect_check (db, "PRAGMA foreign_key_check", report->problems, &local_error))
    g_ptr_array_add (report->problems, g_strdup_printf (_("the check of links between rows stopped: %s"), sqlite3_errmsg (db)));
  sqlite3_close (db);
  report->ok = report->problems->len == 0;
  return TRUE;
}

void
pd_store_check_report_clear (PdStoreCheckReport *report)
{
  g_clear_pointer (&report->problems, g_ptr_array_unref);
}
