/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-session.h"
#include "shift.h"

G_BEGIN_DECLS

/* Filling a prescription in a shift, as the dispensing tests and the
 * settlement tests need it: the lines as the core's fill sheet reads them,
 * stock received for them, valid codes from the sandbox, a plan, and
 * `dispense` run as the CLI runs it. */

typedef struct {
  char *line;
  char *code;
  int   units;
  int   boxes;
  int   pack;
  gboolean split;
  char *course_end;
} Line;

void       line_free     (Line       *l);
PdSession *sign_in_wang  (Shift      *s,
                          PdStore    *store);
/* The lines to fill of rx, by the core's fill sheet. */
GPtrArray *lines_of      (Shift      *s,
                          const char *rx);
char      *date_in       (int         days);
/* Receives lot of each drug of lines, expiring on expires, boxes each. */
void       receive_until (Shift      *s,
                          GPtrArray  *lines,
                          const char *lot,
                          const char *expires,
                          int         boxes);
void       receive       (Shift      *s,
                          GPtrArray  *lines,
                          const char *lot,
                          int         days,
                          int         boxes);
/* Valid codes for a drug from the sandbox (its trace_prefix). */
GPtrArray *codes_for     (Shift      *s,
                          const char *drug,
                          int         n);
/* A plan filling every line from lot with fresh codes; codes_out gets
 * every code used. */
char      *plan_for      (Shift      *s,
                          GPtrArray  *lines,
                          const char *lot,
                          GPtrArray  *codes_out);
char      *write_plan    (Shift      *s,
                          const char *plan);
int        dispense      (Shift      *s,
                          const char *user,
                          const char *rx,
                          const char *plan,
                          const char *checker,
                          char      **out,
                          char      **err);
/* Approves a pass prescription, receives stock and fills it (wang, zhao
 * checking); its rx. */
char      *fill_one      (Shift      *s);

G_END_DECLS
