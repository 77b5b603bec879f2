/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib.h>

#include "shift.h"

/* STUB: being written (issue 13). */
static void
test_being_written (void)
{
  g_test_skip ("being written");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trace-code/being-written", test_being_written);
  return g_test_run ();
}
