/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "pd-session.h"

G_BEGIN_DECLS

/* A write (or a key derivation) off the UI thread: func runs on a worker
 * with its own connection to the desk's database and a clone of the
 * session, never the UI thread's connection. It returns a string (for
 * instance a uuid; "" for nothing) or NULL with error set. */
typedef char *(*PdDeskJobFunc) (PdSession *session,
                                gpointer   data,
                                GError   **error);

void  pd_desk_job_run    (PdSession           *session,
                          PdDeskJobFunc        func,
                          gpointer             data,
                          GDestroyNotify       data_free,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data);
char *pd_desk_job_finish (GAsyncResult        *result,
                          GError             **error);

G_END_DECLS
