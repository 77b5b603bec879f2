/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-sandbox.h"

G_BEGIN_DECLS

gboolean pd_sandbox_fhir_put (PdSandbox  *sandbox,
                              JsonObject *resource,
                              gint64      planted_ms,
                              GError    **error);

G_END_DECLS
