/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pd-cli.h"
#include "pd-link-settings.h"
#include "pd-session.h"

char *
pd_cli_default_db_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "pharmdesk", "pharmdesk.db", NULL);
}

const char *
pd_cli_db_path (PdCli *cli)
{
  if (cli->db_path == NULL)
    cli->db_path = pd_cli_default_db_path ();
  return cli->db_path;
}

/* Parses the subcommand's own options together with the global ones,
 * then applies --now and --config. */
static gboolean
parse_options (PdCli        *cli,
               int          *argc,
               char       ***argv,
               const char   *parameter_string,
               const char   *summary,
               const char   *description,
               GOptionEntry *entries,
               gboolean      ignore_unknown,
               GError      **error)
{
  GOptionEntry global[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &cli->db_path, N_("The pharmacy’s database"), N_("FILE") },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &cli->config_path, N_("Links and credentials (client.ini)"), N_("FILE") },
    { "user", 0, 0, G_OPTION_ARG_STRING, &cli->user, N_("Sign in as this account"), N_("NAME") },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &cli->password_file, N_("Read the password from this file"), N_("FILE") },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &cli->password_stdin, N_("Read the password from standard input"), NULL },
    { "new-password-file", 0, 0, G_OPTION_ARG_FILENAME, &cli->new_password_file, N_("Read a new password from this file"), N_("FILE") },
    { "now", 0, 0, G_OPTION_ARG_STRING, &cli->now, N_("The clock’s time, ISO 8601 with an offset"), N_("TIME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &cli->json, N_("Print JSON (the default when not on a terminal)"), NULL },
    { "table", 0, 0, G_OPTION_ARG_NONE, &cli->table, N_("Print a readable table"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (parameter_string);

  /* One list in --help: the global options are half of what a command
   * takes, so they are not hidden behind --help-global. */
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, global, GETTEXT_PACKAGE);
  if (summary != NULL)
    g_option_context_set_summary (context, summary);
  if (description != NULL)
    g_option_context_set_description (context, description);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_ignore_unknown_options (context, ignore_unknown);

  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (cli->now == NULL)
    cli->now = g_strdup (g_getenv ("PHARMDESK_NOW"));
  if (cli->now != NULL && *cli->now != '\0'
      && !pd_clock_set_now_from_iso (pd_clock_get_default (), cli->now, error))
    {
      g_prefix_error (error, "--now: ");
      return FALSE;
    }
  if (cli->config_path == NULL && g_strcmp0 (g_getenv ("PHARMDESK_CONFIG"), "") > 0)
    cli->config_path = g_strdup (g_getenv ("PHARMDESK_CONFIG"));
  if (cli->config_path != NULL)
    {
      cli->config = pd_config_load (cli->config_path, error);
      if (cli->config == NULL)
        return FALSE;
    }
  return TRUE;
}

gboolean
pd_cli_parse (PdCli        *cli,
              int          *argc,
              char       ***argv,
              const char   *parameter_string,
              const char   *summary,
              GOptionEntry *entries,
              GError      **error)
{
  return parse_options (cli, argc, argv, parameter_string, summary, NULL, entries, FALSE, error);
}

/* For subcommands with verbs of their own options: takes the global ones
 * and leaves the rest in argv. */
gboolean
pd_cli_parse_global_only (PdCli       *cli,
                          int          *argc,
                          char       ***argv,
                          GError      **error)
{
  return parse_options (cli, argc, argv, NULL, NULL, NULL, NULL, TRUE, error);
}

/* A subcommand with verbs: description lists them in --help, entries are
 * every verb's options (each verb says which of them it takes). */
gboolean
pd_cli_parse_verbs (PdCli        *cli,
                    int          *argc,
                    char       ***argv,
                    const char   *parameter_string,
                    const char   *summary,
                    const char   *description,
                    GOptionEntry *entries,
                    GError      **error)
{
  return parse_options (cli, argc, argv, parameter_string, summary, description, entries, FALSE, error);
}

/* The first line of a file, without its line end. */
char *
pd_cli_read_secret_file (const char *path,
                         GError    **error)
{
  g_autofree char *data = NULL;
  char *nl;

  if (!g_file_get_contents (path, &data, NULL, error))
    return NULL;
  nl = strpbrk (data, "\r\n");
  if (nl != NULL)
    *nl = '\0';
  return g_steal_pointer (&data);
}

char *
pd_cli_read_password (PdCli   *cli,
                      GError **error)
{
  if (cli->password_file != NULL)
    return pd_cli_read_secret_file (cli->password_file, error);
  if (cli->password_stdin)
    {
      /* The whole first line, however long: a password cut short would
       * silently be another one. */
      char *line = NULL;
      size_t cap = 0;
      ssize_t len = getline (&line, &cap, stdin);
      char *password;

      if (len < 0)
        {
          free (line);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", _("No password on standard input"));
          return NULL;
        }
      line[strcspn (line, "\r\n")] = '\0';
      password = g_strdup (line);
      explicit_bzero (line, cap);
      free (line);
      return password;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s",
               _("Give the password with --password-file FILE or --password-stdin (never on the command line)"));
  return NULL;
}

PdSession *
pd_cli_sign_in (PdCli    *cli,
                PdStore  *store,
                GError  **error)
{
  g_autofree char *password = NULL;

  if (cli->user == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s",
                   _("This command acts for an account: give --user NAME with --password-file FILE or --password-stdin"));
      return NULL;
    }
  password = pd_cli_read_password (cli, error);
  if (password == NULL)
    return NULL;
  return pd_session_sign_in (store, cli->user, password, error);
}

/* Only `init` creates a database: a missing or mistyped --db, or an empty
 * file, is said as such rather than silently made into a new one. A file
 * this user may not write opens read-only (pd-store.c): reading commands
 * work, and the first write says the file is read-only. */
PdStore *
pd_cli_open_existing_store (PdCli   *cli,
                            GError **error)
{
  const char *path = pd_cli_db_path (cli);
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      if (saved == ENOENT)
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                     _("No database at “%s”: check --db, or create one with “pharmdesk-cli init”"), path);
      else
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                     _("Cannot read the database “%s”: %s"), path, g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, _("“%s” is not a database file"), path);
      return NULL;
    }
  if (st.st_size == 0)
    {
      g_set_error (error, PD_STORE_ERROR, PD_STORE_ERROR_NOT_PHARMDESK,
                   _("“%s” is empty: it is not a PharmDesk database (only “pharmdesk-cli init” creates one)"), path);
      return NULL;
    }
  return pd_store_open (path, error);
}

/* The pharmacy's database for every subcommand but `init` and `review`:
 * refuses --now unless the database was made with a settable clock. */
PdStore *
pd_cli_open_store (PdCli   *cli,
                   GError **error)
{
  g_autoptr(PdStore) store = pd_cli_open_existing_store (cli, error);

  if (store == NULL || !pd_store_check_clock (store, error))
    return NULL;
  return g_steal_pointer (&store);
}

/* Credentials given are credentials checked, also by a command that needs
 * no account: a wrong password never passes unnoticed. */
gboolean
pd_cli_check_credentials (PdCli    *cli,
                          PdStore  *store,
                          GError  **error)
{
  g_autoptr(PdSession) session = NULL;

  if (cli->user == NULL && cli->password_file == NULL && !cli->password_stdin)
    return TRUE;
  session = pd_cli_sign_in (cli, store, error);
  return session != NULL;
}

gboolean
pd_cli_config_from_store (PdCli   *cli,
                          GError **error)
{
  g_autoptr(PdStore) store = pd_cli_open_store (cli, error);

  if (store == NULL)
    return FALSE;
  cli->config = pd_link_settings_load (store, error);
  pd_store_close (store);
  return cli->config != NULL;
}

/* How many terminal columns text takes: a CJK character two, a combining
 * mark none. printf's %-16s counts bytes and misaligns Chinese. */
guint
pd_cli_display_width (const char *text)
{
  guint width = 0;

  for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iszerowidth (c))
        continue;
      width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

/* text padded with spaces to width terminal columns (never cut). */
char *
pd_cli_pad (const char *text,
            guint       width)
{
  GString *s = g_string_new (text);
  guint w = pd_cli_display_width (text);

  while (w++ < width)
    g_string_append_c (s, ' ');
  return g_string_free (s, FALSE);
}

gboolean
pd_cli_want_json (PdCli *cli)
{
  if (cli->json)
    return TRUE;
  if (cli->table)
    return FALSE;
  return !isatty (STDOUT_FILENO);
}

/* Writes bytes straight to stdout: g_print would re-encode Chinese to the
 * locale's charset, and output is UTF-8 whatever the locale (cli.md). */
static void
write_stdout (const char *text)
{
  fputs (text, stdout);
  fflush (stdout);
}

void
pd_cli_print_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  write_stdout (text);
  write_stdout ("\n");
}

void
pd_cli_print (const char *format,
              ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  write_stdout (text);
}

/* One line on stderr, then the exit status to return. */
int
pd_cli_fail (int         status,
             const char *format,
             ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  for (char *p = text; *p != '\0'; p++)
    if (*p == '\n')
      *p = ' ';
  fprintf (stderr, "pharmdesk-cli: %s\n", text);
  return status;
}

void
pd_cli_clear (PdCli *cli)
{
  g_clear_pointer (&cli->db_path, g_free);
  g_clear_pointer (&cli->config_path, g_free);
  g_clear_pointer (&cli->user, g_free);
  g_clear_pointer (&cli->password_file, g_free);
  g_clear_pointer (&cli->new_password_file, g_free);
  g_clear_pointer (&cli->now, g_free);
  g_clear_pointer (&cli->config, pd_config_free);
}
