/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define PD_STORE_ERROR (pd_store_error_quark ())
GQuark pd_store_error_quark (void);

typedef enum {
  PD_STORE_ERROR_NOT_PHARMDESK,   /* not SQLite, or another program's database */
  PD_STORE_ERROR_TOO_NEW,         /* made by a newer PharmDesk */
  PD_STORE_ERROR_CORRUPT,         /* fails the header or quick_check */
  PD_STORE_ERROR_FAILED,          /* any other SQLite failure */
  PD_STORE_ERROR_CONSTRAINT,      /* a row broke a constraint */
  PD_STORE_ERROR_NOT_FOUND,       /* no such row */
  PD_STORE_ERROR_CLOCK,           /* --now on a database whose clock may not be set */
  PD_STORE_ERROR_READ_ONLY,       /* the file (or its folder) cannot be written */
} PdStoreError;

typedef enum {
  PD_STORE_OPEN_DEFAULT   = 0,
  PD_STORE_OPEN_READ_ONLY = 1 << 0,   /* write nothing, even where the file could be written */
} PdStoreOpenFlags;

/* One numbered migration: its SQL runs in one transaction with the
 * user_version bump, so a database is always at exactly one version. */
typedef struct {
  const char *summary;
  const char *sql;
} PdMigration;

typedef struct {
  const char        *name;
  guint32            application_id;
  const PdMigration *migrations;
  guint              n_migrations;
} PdSchema;

/* The pharmacy's database (PharmDesk itself); the sandbox has its own. */
const PdSchema *pd_schema_pharmacy (void);

#define PD_STORE_LATEST G_MAXUINT

#define PD_TYPE_STORE (pd_store_get_type ())
G_DECLARE_FINAL_TYPE (PdStore, pd_store, PD, STORE, GObject)

typedef gboolean (*PdStoreWriteFunc) (PdStore   *store,
                                      gpointer   user_data,
                                      GError   **error);

typedef struct {
  guint      schema_version;
  gboolean   ok;
  GPtrArray *problems;      /* of char*, each a line of integrity_check or foreign_key_check */
} PdStoreCheckReport;

PdStore      *pd_store_open                (const char        *path,
                                            GError           **error);
PdStore      *pd_store_open_schema         (const char        *path,
                                            const PdSchema    *schema,
                                            guint              target_version,
                                            GError           **error);
PdStore      *pd_store_open_full           (const char        *path,
                                            const PdSchema    *schema,
                                            guint              target_version,
                                            PdStoreOpenFlags   flags,
                                            GError           **error);
void          pd_store_close               (PdStore           *store);
gboolean      pd_store_is_read_only        (PdStore           *store);
const char   *pd_store_get_path            (PdStore           *store);
guint         pd_store_get_schema_version  (PdStore           *store);
gboolean      pd_store_was_unclean         (PdStore           *store);
sqlite3      *pd_store_get_db              (PdStore           *store);

sqlite3_stmt *pd_store_prepare             (PdStore           *store,
                                            const char        *sql,
                                            GError           **error);
gboolean      pd_store_exec                (PdStore           *store,
                                            const char        *sql,
                                            GError           **error);
gboolean      pd_store_step_done           (PdStore           *store,
                                            sqlite3_stmt      *stmt,
                                            GError           **error);

gboolean      pd_store_write               (PdStore           *store,
                                            PdStoreWriteFunc   func,
                                            gpointer           user_data,
                                            GError           **error);
gboolean      pd_store_write_synced        (PdStore           *store,
                                            PdStoreWriteFunc   func,
                                            gpointer           user_data,
                                            GError           **error);
void          pd_store_write_async         (PdStore           *store,
                                            PdStoreWriteFunc   func,
                                            gpointer           user_data,
                                            GDestroyNotify     user_data_free,
                                            GCancellable      *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer           callback_data);
gboolean      pd_store_write_finish        (PdStore           *store,
                                            GAsyncResult      *result,
                                            GError           **error);

sqlite3      *pd_store_open_reader         (PdStore           *store,
                                            GError           **error);

char         *pd_store_get_meta            (PdStore           *store,
                                            const char        *key);
gboolean      pd_store_set_meta            (PdStore           *store,
                                            const char        *key,
                                            const char        *value,
                                            GError           **error);

/* A training, demo or test database (`init --settable-clock`): only there
 * may --now or PHARMDESK_NOW move the clock (cli.md). */
gboolean      pd_store_get_settable_clock  (PdStore           *store);
gboolean      pd_store_check_clock         (PdStore           *store,
                                            GError           **error);

gboolean      pd_store_check_file          (const char        *path,
                                            const PdSchema    *schema,
                                            PdStoreCheckReport *report,
                                            GError           **error);
void          pd_store_check_report_clear  (PdStoreCheckReport *report);

gboolean      pd_store_set_error           (sqlite3           *db,
                                            int                rc,
                                            const char        *what,
                                            GError           **error);

char         *pd_uuid_new                  (void);

G_END_DECLS
