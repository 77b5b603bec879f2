/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pd-config.h"
#include "pd-link-monitor.h"
#include "pd-store.h"

G_BEGIN_DECLS

#define PD_TYPE_APPLICATION (pd_application_get_type ())
G_DECLARE_FINAL_TYPE (PdApplication, pd_application, PD, APPLICATION, AdwApplication)

PdApplication  *pd_application_new              (void);
PdStore        *pd_application_get_store        (PdApplication *self);
const GError   *pd_application_get_store_error  (PdApplication *self);
PdConfig       *pd_application_get_config       (PdApplication *self);
PdLinkMonitor  *pd_application_get_link_monitor (PdApplication *self);
GSettings      *pd_application_get_settings     (PdApplication *self);

G_END_DECLS
