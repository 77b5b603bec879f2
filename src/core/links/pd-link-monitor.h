/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "pd-config.h"

G_BEGIN_DECLS

/* What the app's connection indicators show: one state per link, kept
 * current by probing each configured link on the thread-default main
 * context (hospital: OAuth token then GET metadata; insurance and
 * courier: the endpoint answers at all), and by the sync code reporting
 * its progress. Emits "changed" (PdLink) whenever a link's state,
 * progress or message changes. */

typedef enum {
  PD_LINK_HOSPITAL,
  PD_LINK_INSURANCE,
  PD_LINK_COURIER,
  PD_N_LINKS
} PdLink;

typedef enum {
  PD_LINK_STATE_UNCONFIGURED,  /* no address configured */
  PD_LINK_STATE_CHECKING,      /* first probe under way */
  PD_LINK_STATE_OFFLINE,       /* cannot reach it */
  PD_LINK_STATE_ONLINE,
  PD_LINK_STATE_SYNCING,       /* online and a sync is running (see progress) */
  PD_LINK_STATE_ERROR,         /* reachable but refusing us (credentials, 5xx) */
} PdLinkState;

#define PD_TYPE_LINK_MONITOR (pd_link_monitor_get_type ())
G_DECLARE_FINAL_TYPE (PdLinkMonitor, pd_link_monitor, PD, LINK_MONITOR, GObject)

PdLinkMonitor *pd_link_monitor_new            (const PdConfig *config);
PdLinkState    pd_link_monitor_get_state      (PdLinkMonitor  *self,
                                               PdLink          link);
/* 0.0 … 1.0 while syncing, negative when the amount of work is unknown. */
double         pd_link_monitor_get_progress   (PdLinkMonitor  *self,
                                               PdLink          link);
/* The last problem in words (translated), or NULL. */
const char    *pd_link_monitor_get_message    (PdLinkMonitor  *self,
                                               PdLink          link);
void           pd_link_monitor_check_now      (PdLinkMonitor  *self);
void           pd_link_monitor_stop           (PdLinkMonitor  *self);
void           pd_link_monitor_set_interval   (PdLinkMonitor  *self,
                                               guint           seconds);
void           pd_link_monitor_report_sync    (PdLinkMonitor  *self,
                                               PdLink          link,
                                               gboolean        running,
                                               double          progress);

const char    *pd_link_get_id                 (PdLink          link);  /* "hospital" … */
const char    *pd_link_get_title              (PdLink          link);  /* translated */
const char    *pd_link_state_get_label        (PdLinkState     state); /* translated */

G_END_DECLS
