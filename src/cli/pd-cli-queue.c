/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "pd-cli.h"

/* STUB: being written (issue 13). */
int
pd_cli_queue (PdCli *cli, int argc, char **argv)
{
  return pd_cli_fail (PD_EXIT_USAGE, "%s", "not yet");
}

int
pd_cli_decide (PdCli *cli, int argc, char **argv)
{
  return pd_cli_fail (PD_EXIT_USAGE, "%s", "not yet");
}

