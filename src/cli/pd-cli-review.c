/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-cli-review"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"

/* Placeholder until the review engine lands (issue: review engine). */
int
pd_cli_review (PdCli  *cli,
               int     argc,
               char  **argv)
{
  return pd_cli_fail (PD_EXIT_USAGE, "%s", _("review: the review engine has not landed yet"));
}

int
pd_cli_kb (PdCli  *cli,
           int     argc,
           char  **argv)
{
  return pd_cli_fail (PD_EXIT_USAGE, "%s", _("kb: the knowledge base has not landed yet"));
}
