/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "pd-clock.h"
#include "pd-config.h"

G_BEGIN_DECLS

/* Exit statuses of cli.md. */
enum {
  PD_EXIT_OK = 0,
  PD_EXIT_NO = 1,        /* done, but the business answer is "no" */
  PD_EXIT_USAGE = 2,     /* bad input or usage */
  PD_EXIT_UNKNOWN = 3,   /* outcome unknown: left for `outbox resolve` */
};

/* The global options, shared by every subcommand. */
typedef struct {
  char     *db_path;
  char     *config_path;
  char     *user;
  char     *password_file;
  gboolean  password_stdin;
  char     *new_password_file;
  char     *now;
  gboolean  json;
  gboolean  table;
  PdConfig *config;      /* loaded from config_path by pd_cli_parse() */
} PdCli;

typedef int (*PdCliCommand) (PdCli *cli, int argc, char **argv);

gboolean  pd_cli_parse            (PdCli        *cli,
                                   int          *argc,
                                   char       ***argv,
                                   const char   *parameter_string,
                                   const char   *summary,
                                   GOptionEntry *entries,
                                   GError      **error);
gboolean  pd_cli_parse_global_only (PdCli       *cli,
                                   int          *argc,
                                   char       ***argv,
                                   GError      **error);
gboolean  pd_cli_parse_verbs      (PdCli        *cli,
                                   int          *argc,
                                   char       ***argv,
                                   const char   *parameter_string,
                                   const char   *summary,
                                   const char   *description,
                                   GOptionEntry *entries,
                                   GError      **error);
char     *pd_cli_read_secret_file (const char   *path,
                                   GError      **error);
char     *pd_cli_read_password    (PdCli        *cli,
                                   GError      **error);
struct _PdSession;
struct _PdStore;
struct _PdSession *pd_cli_sign_in (PdCli        *cli,
                                   struct _PdStore *store,
                                   GError      **error);
struct _PdStore *pd_cli_open_store (PdCli     *cli,
                                   GError      **error);
struct _PdStore *pd_cli_open_existing_store (PdCli *cli,
                                   GError      **error);
gboolean  pd_cli_check_credentials (PdCli       *cli,
                                   struct _PdStore *store,
                                   GError      **error);
/* Without --config: the links kept in the database and the keyring. */
gboolean  pd_cli_config_from_store (PdCli       *cli,
                                   GError      **error);
char     *pd_cli_default_db_path  (void);
const char *pd_cli_db_path        (PdCli        *cli);
gboolean  pd_cli_want_json        (PdCli        *cli);
guint     pd_cli_display_width    (const char   *text);
char     *pd_cli_pad              (const char   *text,
                                   guint         width);
void      pd_cli_print_json       (JsonNode     *node);
void      pd_cli_print            (const char   *format,
                                   ...) G_GNUC_PRINTF (1, 2);
int       pd_cli_fail             (int           status,
                                   const char   *format,
                                   ...) G_GNUC_PRINTF (2, 3);
void      pd_cli_clear            (PdCli        *cli);

/* One per subcommand group, each in its own pd-cli-*.c. */
int pd_cli_db     (PdCli *cli, int argc, char **argv);
int pd_cli_review (PdCli *cli, int argc, char **argv);
int pd_cli_kb     (PdCli *cli, int argc, char **argv);
int pd_cli_init    (PdCli *cli, int argc, char **argv);
int pd_cli_account (PdCli *cli, int argc, char **argv);
int pd_cli_audit   (PdCli *cli, int argc, char **argv);
int pd_cli_links   (PdCli *cli, int argc, char **argv);
int pd_cli_sync    (PdCli *cli, int argc, char **argv);
int pd_cli_outbox  (PdCli *cli, int argc, char **argv);
int pd_cli_verify_review (PdCli *cli, int argc, char **argv);
int pd_cli_queue    (PdCli *cli, int argc, char **argv);
int pd_cli_decide   (PdCli *cli, int argc, char **argv);
int pd_cli_stock    (PdCli *cli, int argc, char **argv);
int pd_cli_dispense (PdCli *cli, int argc, char **argv);
int pd_cli_settle     (PdCli *cli, int argc, char **argv);
int pd_cli_settlement (PdCli *cli, int argc, char **argv);
/* pd-cli-person.c: the exit status of an insurance link's error (cli.md). */
int      pd_cli_insurance_exit    (const GError *error);
/* pd-cli-settle.c: `outbox resolve`'s insurance part (2601). */
gboolean pd_cli_resolve_insurance (PdCli *cli, struct _PdSession *session, JsonArray *report, GError **error);
int pd_cli_person   (PdCli *cli, int argc, char **argv);

G_END_DECLS
