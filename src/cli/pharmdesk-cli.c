/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pharmdesk-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "pd-cli.h"

typedef struct {
  const char  *name;
  PdCliCommand run;
  const char  *summary;
} Command;

static const Command commands[] = {
  { "db", pd_cli_db, N_("Check the database (db check)") },
  { "review", pd_cli_review, N_("Review prescriptions in a FHIR Bundle") },
  { "kb", pd_cli_kb, N_("Check or import a knowledge base") },
  { "init", pd_cli_init, N_("Create a database and its first administrator") },
  { "account", pd_cli_account, N_("Add, list, lock and unlock accounts; change a password") },
  { "links", pd_cli_links, N_("Check that each configured link answers") },
  { "audit", pd_cli_audit, N_("Verify or export the audit trail") },
  { "sync", pd_cli_sync, N_("Send the outbox and pull the hospital's work queue") },
  { "outbox", pd_cli_outbox, N_("List or resolve the requests waiting to go out") },
  { "verify-review", pd_cli_verify_review, N_("Check a decision's signature against the key registry") },
  { "queue", pd_cli_queue, N_("List the Review queue") },
  { "decide", pd_cli_decide, N_("Approve or reject a prescription as the signed-in pharmacist") },
  { "stock", pd_cli_stock, N_("Receive stock from a purchase receipt; list the batches on hand") },
  { "dispense", pd_cli_dispense, N_("Fill an approved prescription with its checker; hand it over") },
  { "person", pd_cli_person, N_("Ask the insurance centre who a person is (1101)") },
  { "settle", pd_cli_settle, N_("Settle a dispensed prescription with the insurance centre") },
  { "settlement", pd_cli_settlement, N_("List the settlements with the insurance centre") },
};

static int
usage (FILE *out)
{
  fprintf (out, "%s\n\n", _("Usage: pharmdesk-cli COMMAND [OPTIONS…]"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-14s %s\n", commands[i].name, _(commands[i].summary));
  fprintf (out, "\n%s\n", _("Run “pharmdesk-cli COMMAND --help” for a command’s options."));
  return out == stdout ? PD_EXIT_OK : PD_EXIT_USAGE;
}

int
main (int    argc,
      char **argv)
{
  PdCli cli = { 0 };
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2)
    return usage (stderr);
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    return usage (stdout);
  if (g_str_equal (argv[1], "--version"))
    {
      printf ("pharmdesk-cli %s\n", PACKAGE_VERSION);
      return PD_EXIT_OK;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        status = commands[i].run (&cli, argc - 1, argv + 1);
        pd_cli_clear (&cli);
        return status;
      }

  pd_cli_fail (PD_EXIT_USAGE, _("unknown command “%s”; run “pharmdesk-cli --help”"), argv[1]);
  return PD_EXIT_USAGE;
}
