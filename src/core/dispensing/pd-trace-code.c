/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-trace-code"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-trace-code.h"

/* STUB: being written (issue 13). */
PdScanResult
pd_trace_code_check (sqlite3 *db, const PdKbDrug *drug, const char *code, const char * const *already,
                     guint room, int *units_left, gint64 *batch_id, GError **error)
{
  return PD_SCAN_NOT_20_DIGITS;
}

gboolean
pd_scan_result_is_ok (PdScanResult result)
{
  return result == PD_SCAN_OK || result == PD_SCAN_OPENED || result == PD_SCAN_RETURNED;
}

char *
pd_scan_result_describe (PdScanResult result, const char *code, const PdKbDrug *drug)
{
  return g_strdup ("not yet");
}
