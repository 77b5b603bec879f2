/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-db"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"
#include "pd-store.h"

/* `pharmdesk-cli db check`: the full integrity check. Needs no account
 * (cli.md) and never writes to the file. Exit 0 sound, 1 damaged, 2 when
 * the file cannot be checked at all. */
static int
db_check (PdCli *cli)
{
  const char *path = pd_cli_db_path (cli);
  PdStoreCheckReport report;
  g_autoptr(GError) error = NULL;
  int status;

  if (!pd_store_check_file (path, pd_schema_pharmacy (), &report, &error))
    {
      pd_store_check_report_clear (&report);
      return pd_cli_fail (g_error_matches (error, PD_STORE_ERROR, PD_STORE_ERROR_CORRUPT)
                          ? PD_EXIT_NO : PD_EXIT_USAGE,
                          "%s", error->message);
    }

  if (pd_cli_want_json (cli))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "database");
      json_builder_add_string_value (b, path);
      json_builder_set_member_name (b, "schema_version");
      json_builder_add_int_value (b, report.schema_version);
      json_builder_set_member_name (b, "ok");
      json_builder_add_boolean_value (b, report.ok);
      json_builder_set_member_name (b, "problems");
      json_builder_begin_array (b);
      for (guint i = 0; i < report.problems->len; i++)
        json_builder_add_string_value (b, report.problems->pdata[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      pd_cli_print_json (root);
    }
  else
    {
      pd_cli_print (_("Database: %s\nSchema version: %u\n"), path, report.schema_version);
      if (report.ok)
        pd_cli_print ("%s\n", _("Integrity check passed."));
      for (guint i = 0; i < report.problems->len; i++)
        pd_cli_print ("%s %s\n", _("Problem:"), (const char *) report.problems->pdata[i]);
    }
  status = report.ok ? PD_EXIT_OK : PD_EXIT_NO;
  pd_store_check_report_clear (&report);
  return status;
}

int
pd_cli_db (PdCli  *cli,
           int     argc,
           char  **argv)
{
  g_autoptr(GError) error = NULL;

  if (!pd_cli_parse (cli, &argc, &argv, "check", _("Check the pharmacy’s database."), NULL, &error))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", error->message);
  if (argc != 2 || !g_str_equal (argv[1], "check"))
    return pd_cli_fail (PD_EXIT_USAGE, "%s", _("usage: pharmdesk-cli db check [--db FILE]"));
  return db_check (cli);
}
