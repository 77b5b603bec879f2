/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-config.h"
#include "pd-link-monitor.h"
#include "pd-session.h"

G_BEGIN_DECLS

/* The hospital sync of a signed-in desk: pd_hospital_link_sync() on a
 * worker thread with its own connection to the database and a clone of
 * the session — now, every few seconds, and on demand (after a claim or a
 * decision, "Sync now"). One run at a time: a request during a run makes
 * one more run after it. Progress goes to the link monitor; a failure
 * only sets the indicator (offline is normal). Signals, on the main
 * context: "finished" (gboolean ok) after each run, "urgent-arrived"
 * (uuid, number, priority) for each urgent or stat prescription that a
 * run brought in and that is waiting. */

#define PD_TYPE_SYNC_SERVICE (pd_sync_service_get_type ())
G_DECLARE_FINAL_TYPE (PdSyncService, pd_sync_service, PD, SYNC_SERVICE, GObject)

/* NULL when the hospital link is not configured. config and monitor must
 * outlive the service. */
PdSyncService *pd_sync_service_new       (PdSession      *session,
                                          const PdConfig *config,
                                          PdLinkMonitor  *monitor);
/* Runs now, then every interval_s seconds (0: only on demand). */
void           pd_sync_service_start     (PdSyncService  *self,
                                          guint           interval_s);
void           pd_sync_service_sync_now  (PdSyncService  *self);
/* Cancels a run under way and the timer. */
void           pd_sync_service_stop      (PdSyncService  *self);
gboolean       pd_sync_service_is_running (PdSyncService *self);
/* Runs finished since creation, and the last run's problem (NULL: it went well). */
guint          pd_sync_service_get_runs  (PdSyncService  *self);
const char    *pd_sync_service_get_error (PdSyncService  *self);

G_END_DECLS
