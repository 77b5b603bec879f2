/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "pd-config.h"

G_BEGIN_DECLS

typedef struct {
  GSubprocess *proc;
  char        *base;
  PdConfig    *config;
} Sandbox;

extern char *state_root;
extern __thread SoupSession *session;

void        harness_init   (void);
void        harness_done   (void);
/* Starts PHARMDESK_SANDBOX on 127.0.0.1:0 with --state and the
 * NULL-terminated extra arguments. */
void        sandbox_start  (Sandbox     *sb,
                            const char  *state,
                            ...) G_GNUC_NULL_TERMINATED;
void        sandbox_stop   (Sandbox     *sb,
                            int          sig);
/* The sandbox child dies with the test, whatever the exit (an assertion's
 * abort, a signal, exit ()) until sandbox_stop () stops it: for a test
 * that starts one sandbox for its whole run (the display tests). */
void        sandbox_kill_on_exit (Sandbox *sb);
char       *new_state      (const char  *name);
/* The status (0 when the connection died); headers are name, value… NULL. */
guint       request        (const char  *method,
                            const char  *url,
                            const char  *content_type,
                            const char  *body,
                            const char **headers,
                            char       **reply);
/* POST body (JSON) to /sandbox/control/what; the status, and the answer
 * parsed into *out when out is not NULL. */
guint       sandbox_control (Sandbox    *sb,
                            const char  *what,
                            const char  *body,
                            JsonObject **out);
JsonObject *parse_object   (const char  *text);
char       *token_for      (Sandbox     *sb,
                            const char  *secret);
gint64      count_rows     (const char  *state,
                            const char  *sql);
char       *query_text     (const char  *state,
                            const char  *sql);
char       *next_link      (JsonObject  *bundle);

G_END_DECLS
