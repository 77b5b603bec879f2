/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-hospital-link.h"
#include "pd-json.h"

G_BEGIN_DECLS

struct _PdHospitalLink
{
  PdSession    *session;
  PdFhirClient *client;
  PdKb         *kb;
};

const char *pd_fhir_next_link      (JsonObject  *bundle);
/* Inside a transaction: the cursor, when there is one. */
gboolean    pd_hospital_set_cursor (PdStore     *store,
                                    const char  *cursor,
                                    GError     **error);
/* Inside a transaction: the prescriber cancelled Task task_id; whatever
 * of ours was still on its way for it becomes a conflict. */
gboolean    pd_hospital_cancelled  (PdSession   *session,
                                    const char  *task_id,
                                    GError     **error);

G_END_DECLS
