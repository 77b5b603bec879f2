/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-store"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-store.h"

/* SQLite keeps these at fixed offsets of the first page (fileformat2.html). */
#define HEADER_SIZE        100
#define HEADER_USER_VERSION 60
#define HEADER_APP_ID       68
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

gboolean
pd_store_set_error (sqlite3    *db,
                    int         rc,
                    const char *what,
                    GError    **error)
{
  int code = PD_STORE_ERROR_FAILED;
  const char *msg = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);

  switch (rc & 0xff)
    {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      code = PD_STORE_ERROR_CORRUPT;
      break;
    case SQLITE_CONSTRAINT:
      code = PD_STORE_ERROR_CONSTRAINT;
      break;
    default:
      break;
    }
  g_set_error (error, PD_STORE_ERROR, code, "%s: %s", what, msg);
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
  return TRUE;
}

static gboolean
query_int (sqlite3    *db,
           const char *sql,
           gint64     *out,
           GError    **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      pd_store_set_error (db, rc, sql, error);
      sqlite3_finalize (stmt);
      return FALSE;
    }
  *out = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return TRUE;
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

/* Looks at an existing file through a read-only connection, which can
 * neither write the file nor checkpoint a foreign WAL into it. */
static gboolean
probe_file (const char     *path,
            const PdSchema *schema,
            Probe          *probe,
            GError        **error)
{
  sqlite3 *db = NULL;
  g_autoptr(GError) local_error = NULL;
  int rc;

  memset (probe, 0, sizeof *probe);
  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_FAILED,
                   _("Cannot open the database “%s”: %s"), path, sqlite3_errstr (rc));
      sqlite3_close (db);
      return FALSE;
    }
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);

  if (!query_int (db, "PRAGMA application_id", &probe->app_id, &local_error)
      || !query_int (db, "PRAGMA user_version", &probe->user_version, &local_error)
      || !query_int (db, "SELECT count(*) FROM sqlite_schema", &probe->n_objects, &local_error))
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT,
                   _("The database “%s” is damaged and was not opened: %s"), path, local_error->message);
      sqlite3_close (db);
      return FALSE;
    }
  if (probe->app_id != schema->application_id)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_PHARMDESK,
                   _("“%s” is not a PharmDesk database: it belongs to another program (application id 0x%08x)"),
                   path, (guint32) probe->app_id);
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

      rc = sqlite3_prepare_v2 (db, "SELECT value FROM store_meta WHERE key = 'clean_shutdown'", -1, &stmt, NULL);
      if (rc == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
        probe->unclean = g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), "1") != 0;
      sqlite3_finalize (stmt);
    }

  if (probe->unclean)
    {
      g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);

      g_debug ("%s was not closed cleanly: running quick_check", path);
      if (!collect_check (db, "PRAGMA quick_check", problems, &local_error) || problems->len > 0)
        {
          g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT,
                       _("The database “%s” is damaged and was not opened (%s). Restore it from a backup or run “pharmdesk-cli db check”."),
                       path, local_error != NULL ? local_error->message : (const char *) problems->pdata[0]);
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
      g_set_error (error, PD_STORE_ERROR,
                   (rc & 0xff) == SQLITE_CONSTRAINT ? PD_STORE_ERROR_CONSTRAINT : PD_STORE_ERROR_FAILED,
                   "%s", errmsg != NULL ? errmsg : sqlite3_errstr (rc));
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

PdStore *
pd_store_open_schema (const char     *path,
                      const PdSchema *schema,
                      guint           target_version,
                      GError        **error)
{
  g_autoptr(PdStore) store = NULL;
  gboolean is_new = FALSE;
  Probe probe = { 0 };
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (schema != NULL, NULL);

  if (target_version > schema->n_migrations)
    target_version = schema->n_migrations;

  if (!check_header (path, schema, &is_new, error))
    return NULL;
  if (!is_new && !probe_file (path, schema, &probe, error))
    return NULL;

  store = g_object_new (PD_TYPE_STORE, NULL);
  store->path = g_strdup (path);
  store->schema = schema;
  store->schema_version = (guint) probe.user_version;
  store->unclean = probe.unclean;

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

  if (store->schema_version > 0)
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
  int rc = sqlite3_open_v2 (store->path, &db, SQLITE_OPEN_READONLY, NULL);

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
  gint64 version = 0;
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
  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_FAILED,
                   _("Cannot open the database “%s”: %s"), path, sqlite3_errstr (rc));
      sqlite3_close (db);
      return FALSE;
    }
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);
  if (query_int (db, "PRAGMA user_version", &version, &local_error))
    report->schema_version = (guint) version;
  else
    g_ptr_array_add (report->problems, g_strdup (local_error->message));
  g_clear_error (&local_error);
  if (!collect_check (db, "PRAGMA integrity_check", report->problems, &local_error))
    g_ptr_array_add (report->problems, g_strdup (local_error->message));
  g_clear_error (&local_error);
  if (!collect_check (db, "PRAGMA foreign_key_check", report->problems, &local_error))
    g_ptr_array_add (report->problems, g_strdup (local_error->message));
  sqlite3_close (db);
  report->ok = report->problems->len == 0;
  return TRUE;
}

void
pd_store_check_report_clear (PdStoreCheckReport *report)
{
  g_clear_pointer (&report->problems, g_ptr_array_unref);
}
