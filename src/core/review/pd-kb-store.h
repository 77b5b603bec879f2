/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-kb.h"
#include "pd-session.h"

G_BEGIN_DECLS

/* The knowledge base kept in the pharmacy's database: imported by an
 * administrator in one audited transaction, versioned, one active. */

gboolean  pd_kb_import       (PdSession   *session,
                              const char  *dir,
                              PdKb       **out_kb,
                              GError     **error);
PdKb     *pd_kb_load_active  (PdStore     *store,
                              GError     **error);

G_END_DECLS
