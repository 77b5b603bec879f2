/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-queue"

#include "config.h"

#include <glib.h>
#include <string.h>

#include "shift.h"

/* pharmdesk-cli queue list and decide (cli.md "The queue and the decision
 * from a script"). */

static void
test_shift_starts (void)
{
  Shift s;
  g_autofree char *dump = NULL;

  shift_start (&s, "starts");
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM account"), ==, 6);
  g_assert_cmpint (shift_db_int (&s, "SELECT count(*) FROM prescription"), >, 0);
  dump = shift_dump (&s);
  g_assert_nonnull (strstr (dump, "== prescription\n"));
  g_assert_null (strstr (dump, "== audit_event\n"));
  shift_stop (&s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli-queue/shift-starts", test_shift_starts);
  return g_test_run ();
}
