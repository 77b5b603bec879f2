/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-account"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "pd-accounts.h"
#include "pd-cli.h"

/* `init`, `account add|list|lock|unlock|passwd` (cli.md, trust issue). */

static PdStore *
open_store (PdCli *cli,
            int   *status)
{
  g_autoptr(GError) error = NULL;
  PdStore *store = pd_cli_open_store (cli, &error);

  if (store == NULL)
    *status = pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  return store;
}

/* `init` alone creates a database; with --settable-clock it is marked a
 * training, demo or test database, whose clock --now may move. */
static PdStore *
create_store (PdCli    *cli,
              gboolean  settable_clock,
              int      *status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (pd_cli_db_path (cli));
  g_autoptr(PdStore) store = NULL;
  gboolean existed;

  if (pd_clock_is_set (pd_clock_get_default ()) && !settable_clock)
    {
      *status = pd_cli_fail (PD_EXIT_USAGE, "%s",
                             _("--now needs “init --settable-clock”: the clock of a real pharmacy’s database cannot be set"));
      return NULL;
    }
  existed = g_file_test (pd_cli_db_path (cli), G_FILE_TEST_EXISTS);
  g_mkdir_with_parents (dir, 0700);
  store = pd_store_open (pd_cli_db_path (cli), &error);
  if (store != NULL && settable_clock && !pd_store_get_settable_clock (store))
    {
      /* A real pharmacy's database never becomes a training one. */
      if (existed)
        g_set_error (&error, PD_STORE_ERROR, PD_STORE_ERROR_CLOCK,
                     _("“%s” already exists: --settable-clock marks only a new database"), pd_cli_db_path (cli));
      if (existed || !pd_store_set_meta (store, "settable_clock", "1", &error))
        g_clear_object (&store);
    }
  if (store == NULL)
    *status = pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  return g_steal_pointer (&store);
}

static void
print_account_json (JsonBuilder     *b,
                    const PdAccount *a)
{
  g_autofree char *roles = pd_roles_to_string (a->roles);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, a->username);
  json_builder_set_member_name (b, "display_name");
  json_builder_add_string_value (b, a->display_name);
  json_builder_set_member_name (b, "roles");
  json_builder_add_string_value (b, roles);
  json_builder_set_member_name (b, "pharmacist_licence");
  json_builder_add_string_value (b, a->pharmacist_licence);
  json_builder_set_member_name (b, "practitioner_ref");
  json_builder_add_string_value (b, a->practitioner_ref);
  json_builder_set_member_name (b, "insurance_operator");
  json_builder_add_string_value (b, a->insurance_operator);
  json_builder_set_member_name (b, "locked");
  json_builder_add_boolean_value (b, pd_account_is_locked_out (a));
  json_builder_set_member_name (b, "locked_until");
  json_builder_add_string_value (b, a->locked_until);
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, a->created_at);
  json_builder_end_object (b);
}

int
pd_cli_init (PdCli  *cli,
             int     argc,
             char  **argv)
{
  g_autofree char *admin = NULL;
  g_autofree char *display = NULL;
  g_autofree char *password = NULL;
  g_autofree char *recovery = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  gboolean settable_clock = FALSE;
  GOptionEntry entries[] = {
    { "admin", 0, 0, G_OPTION_ARG_STRING, &admin, N_("User name of the first administrator"), N_("NAME") },
    { "display-name", 0, 0, G_OPTION_ARG_STRING, &display, N_("The administrator’s full name"), N_("TEXT") },
    { "settable-clock", 0, 0, G_OPTION_ARG_NONE, &settable_clock, N_("A training, demo or test database: --now may set its clock"), NULL },
    { NULL }
  };
  PdAccountSpec spec = { 0 };
  int status = PD_EXIT_OK;

  if (!pd_cli_parse (cli, &argc, &argv, NULL, _("Create a database and its first administrator."), entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (admin == NULL || cli->db_path == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli init --db FILE --admin NAME [--settable-clock] --password-file FILE|--password-stdin"));
  password = pd_cli_read_password (cli, &error);
  if (password == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  store = create_store (cli, settable_clock, &status);
  if (store == NULL)
    return status;
  spec.username = admin;
  spec.display_name = display;
  spec.roles = PD_ROLE_ADMIN;
  if (!pd_accounts_init (store, &spec, password, &recovery, &error))
    return pd_cli_fail (g_error_matches (error, PD_TRUST_ERROR, PD_TRUST_ERROR_EXISTS) ? PD_EXIT_NO : PD_EXIT_USAGE,
                        "%s", error->message);
  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "database");
      json_builder_add_string_value (b, pd_cli_db_path (cli));
      json_builder_set_member_name (b, "admin");
      json_builder_add_string_value (b, admin);
      json_builder_set_member_name (b, "recovery_key");
      json_builder_add_string_value (b, recovery);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      pd_cli_print_json (root);
    }
  else
    pd_cli_print (_("Created %s with the administrator “%s”.\n\nRecovery key — print it and keep it locked away; it opens the database when every administrator has forgotten their password:\n\n    %s\n"),
                  pd_cli_db_path (cli), admin, recovery);
  pd_store_close (store);
  return PD_EXIT_OK;
}

/* The options of `account add`, parsed with the global ones so that
 * `account --help` shows them. */
typedef struct {
  char *roles;
  char *display;
  char *licence;
  char *practitioner;
  char *operator;
} AddOptions;

static void
add_options_clear (AddOptions *o)
{
  g_clear_pointer (&o->roles, g_free);
  g_clear_pointer (&o->display, g_free);
  g_clear_pointer (&o->licence, g_free);
  g_clear_pointer (&o->practitioner, g_free);
  g_clear_pointer (&o->operator, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AddOptions, add_options_clear)

/* A one-line JSON or text answer for the verbs that change one account. */
static void
print_done (PdCli      *cli,
            const char *username,
            const char *state,
            const char *text)
{
  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "username");
      json_builder_add_string_value (b, username);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, state);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      pd_cli_print_json (root);
    }
  else
    pd_cli_print ("%s\n", text);
}

static int
account_add (PdCli      *cli,
             PdSession  *session,
             AddOptions *o,
             int         argc,
             char      **argv)
{
  g_autofree char *password = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PdAccount) account = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) root = NULL;
  PdAccountSpec spec = { 0 };

  if (argc != 2 || o->roles == NULL || cli->new_password_file == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s",
                        _("usage: pharmdesk-cli account add NAME --roles ROLES --new-password-file FILE [--display-name TEXT] [--licence N] [--practitioner REF] [--operator N]"));
  if (!pd_roles_parse (o->roles, &spec.roles, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  password = pd_cli_read_secret_file (cli->new_password_file, &error);
  if (password == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  spec.username = argv[1];
  spec.display_name = o->display;
  spec.pharmacist_licence = o->licence;
  spec.practitioner_ref = o->practitioner;
  spec.insurance_operator = o->operator;
  if (!pd_accounts_add (session, &spec, password, &error))
    return pd_cli_fail (g_error_matches (error, PD_TRUST_ERROR, PD_TRUST_ERROR_FORBIDDEN) ? PD_EXIT_NO : PD_EXIT_USAGE,
                        "%s", error->message);
  if (!pd_cli_want_json (cli))
    {
      pd_cli_print ("%s\n", _("Account added."));
      return PD_EXIT_OK;
    }
  /* The new account as `account list` shows it, read back. */
  account = pd_account_lookup (pd_session_get_store (session), spec.username, &error);
  if (account == NULL)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  b = json_builder_new ();
  print_account_json (b, account);
  root = json_builder_get_root (b);
  pd_cli_print_json (root);
  return PD_EXIT_OK;
}

static int
account_list (PdCli     *cli,
              PdSession *session)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = pd_accounts_list (session, &error);

  if (list == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        print_account_json (b, list->pdata[i]);
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      pd_cli_print_json (root);
    }
  else
    for (guint i = 0; i < list->len; i++)
      {
        const PdAccount *a = list->pdata[i];
        g_autofree char *roles = pd_roles_to_string (a->roles);
        g_autofree char *username = pd_cli_pad (a->username, 16);
        g_autofree char *display = pd_cli_pad (a->display_name != NULL ? a->display_name : "", 24);
        g_autofree char *roles_col = pd_cli_pad (roles, 28);

        pd_cli_print ("%s %s %s %s\n", username, display, roles_col,
                      pd_account_is_locked_out (a) ? _("locked") : "");
      }
  return PD_EXIT_OK;
}

int
pd_cli_account (PdCli  *cli,
                int     argc,
                char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = NULL;
  g_autoptr(PdSession) session = NULL;
  g_auto(AddOptions) add = { 0 };
  GOptionEntry entries[] = {
    { "roles", 0, 0, G_OPTION_ARG_STRING, &add.roles, N_("add: comma-separated pharmacist, checker, delivery, clerk, admin"), N_("ROLES") },
    { "display-name", 0, 0, G_OPTION_ARG_STRING, &add.display, N_("add: full name"), N_("TEXT") },
    { "licence", 0, 0, G_OPTION_ARG_STRING, &add.licence, N_("add: pharmacist’s practising-certificate number"), N_("NUMBER") },
    { "practitioner", 0, 0, G_OPTION_ARG_STRING, &add.practitioner, N_("add: pharmacist’s Practitioner reference at the hospital"), N_("REF") },
    { "operator", 0, 0, G_OPTION_ARG_STRING, &add.operator, N_("add: clerk’s operator number at the insurance centre"), N_("NUMBER") },
    { NULL }
  };
  int status = PD_EXIT_OK;
  const char *verb;

  if (!pd_cli_parse_verbs (cli, &argc, &argv, _("add|list|lock|unlock|passwd [NAME]"),
                           _("Manage the accounts (an administrator’s act; passwd is each user’s own)."),
                           _("Verbs:\n"
                             "  add NAME --roles ROLES --new-password-file FILE [--display-name TEXT] [--licence N] [--practitioner REF] [--operator N]\n"
                             "  list\n"
                             "  lock NAME\n"
                             "  unlock NAME\n"
                             "  passwd --user NAME --password-file OLD --new-password-file NEW\n"
                             "\n"
                             "Every verb but passwd signs in as an administrator with --user and --password-file or --password-stdin."),
                           entries, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc < 2)
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli account add|list|lock|unlock|passwd …"));
  argc--;
  argv++;   /* argv[0] is now the verb */
  verb = argv[0];
  if (!g_str_equal (verb, "add")
      && (add.roles != NULL || add.display != NULL || add.licence != NULL || add.practitioner != NULL || add.operator != NULL))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("--roles, --display-name, --licence, --practitioner and --operator are options of “account add”"));
  store = open_store (cli, &status);
  if (store == NULL)
    return status;

  if (g_str_equal (verb, "passwd"))
    {
      g_autofree char *old_password = NULL;
      g_autofree char *new_password = NULL;

      if (cli->user == NULL || cli->new_password_file == NULL)
        return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli account passwd --user NAME --password-file OLD --new-password-file NEW"));
      old_password = pd_cli_read_password (cli, &error);
      if (old_password == NULL)
        return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
      new_password = pd_cli_read_secret_file (cli->new_password_file, &error);
      if (new_password == NULL)
        return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
      if (!pd_accounts_change_password (store, cli->user, old_password, new_password, &error))
        return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
      print_done (cli, cli->user, "password-changed", _("Password changed."));
      return PD_EXIT_OK;
    }

  session = pd_cli_sign_in (cli, store, &error);
  if (session == NULL)
    return pd_cli_fail (PD_EXIT_NO, "%s", error->message);

  if (g_str_equal (verb, "add"))
    return account_add (cli, session, &add, argc, argv);
  if (g_str_equal (verb, "list"))
    return account_list (cli, session);
  if (g_str_equal (verb, "lock") || g_str_equal (verb, "unlock"))
    {
      if (argc != 2)
        return pd_cli_fail (PD_EXIT_USAGE, _("usage: pharmdesk-cli account %s NAME"), verb);
      if (!pd_accounts_set_locked (session, argv[1], g_str_equal (verb, "lock"), &error))
        return pd_cli_fail (PD_EXIT_NO, "%s", error->message);
      if (g_str_equal (verb, "lock"))
        print_done (cli, argv[1], "locked", _("Account locked."));
      else
        print_done (cli, argv[1], "unlocked", _("Account unlocked."));
      return PD_EXIT_OK;
    }
  return pd_cli_fail (PD_EXIT_USAGE, _("account: unknown verb “%s” (add, list, lock, unlock, passwd)"), verb);
}
