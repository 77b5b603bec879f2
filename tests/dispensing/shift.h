/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sandbox-harness.h"

G_BEGIN_DECLS

/* A pharmacy's shift for the dispensing tests: a sandbox hospital, a
 * training database with one account per role, the default knowledge
 * base, and the hospital's queue pulled once.
 *
 * Accounts (password file: shift_password_file):
 *   admin  administrator
 *   wang   pharmacist, Practitioner/ph-1 (王药师 at the sandbox)
 *   qian   pharmacist, Practitioner/ph-2 (陈药师 at the sandbox)
 *   zhao   checker
 *   sun    delivery
 *   li     clerk, operator clerk01 */
typedef struct {
  Sandbox  sb;
  char    *dir;     /* the shift's folder (removed by shift_stop) */
  char    *state;   /* the sandbox's --state folder */
  char    *db;      /* the pharmacy's database */
  char    *ini;     /* the sandbox's client.ini (rewritten on each start) */
} Shift;

/* harness_init() is called on the first start; name makes the folder. */
void        shift_start         (Shift       *s,
                                 const char  *name);
void        shift_stop          (Shift       *s);

/* Stops the sandbox (the hospital unreachable: client.ini still names
 * its old port) and starts it again on the same state. */
void        shift_hospital_down (Shift       *s);
void        shift_hospital_up   (Shift       *s);

/* Runs $PHARMDESK_CLI ARGS… --db DB --config INI [--user USER
 * --password-file FILE] (no --user when user is NULL; stdout is a pipe,
 * so JSON unless ARGS say --table); out and err may be NULL. Returns the
 * exit status (-1 when it did not exit). */
int         shift_cli           (Shift       *s,
                                 const char  *user,
                                 char       **out,
                                 char       **err,
                                 ...) G_GNUC_NULL_TERMINATED;
/* The same with input on standard input. */
int         shift_cli_input     (Shift       *s,
                                 const char  *input,
                                 const char  *user,
                                 char       **out,
                                 char       **err,
                                 ...) G_GNUC_NULL_TERMINATED;
/* The same with the arguments as a va_list (NULL-terminated). */
int         shift_cli_valist    (Shift       *s,
                                 const char  *input,
                                 const char  *user,
                                 char       **out,
                                 char       **err,
                                 va_list      args);
const char *shift_password_file (Shift       *s,
                                 const char  *user);

/* A command's JSON answer, parsed (asserts that it parses). */
JsonNode   *shift_json          (const char  *text);

/* `queue list` as wang, parsed (the array). */
JsonArray  *shift_queue         (Shift       *s);
/* The queue row of rx, or NULL (a reference into queue). */
JsonObject *shift_queue_row     (JsonArray   *queue,
                                 const char  *rx);

/* Approves, by `decide` as wang, the first prescription of the queue
 * whose verdict is pass and that waits for review; returns its rx. */
char       *shift_approve_one   (Shift       *s);

/* Every table's rows as text, except audit_event, audit_head,
 * audit_pending and the account table's sign-in bookkeeping
 * (failed_logins, locked_at): to compare a database before and after a
 * refusal. */
char       *shift_dump          (Shift       *s);

/* One value of the pharmacy's database (read-only), as text or NULL;
 * as a number, -1 when there is no row. */
char       *shift_db_text       (Shift       *s,
                                 const char  *sql);
gint64      shift_db_int        (Shift       *s,
                                 const char  *sql);

G_END_DECLS
