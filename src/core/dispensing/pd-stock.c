/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-stock"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-stock.h"

G_DEFINE_QUARK (pd-dispensing-error-quark, pd_dispensing_error)

/* STUB: being written (issue 13). */
void
pd_stock_batch_free (PdStockBatch *batch)
{
  if (batch == NULL)
    return;
  g_free (batch->uuid);
  g_free (batch->drug_code);
  g_free (batch->lot);
  g_free (batch->manufactured_on);
  g_free (batch->expires_on);
  g_clear_pointer (&batch->opened, g_ptr_array_unref);
  g_free (batch);
}

gboolean
pd_stock_receive (PdSession *session, PdKb *kb, const char *csv, gsize len, guint *out_batches, guint *out_boxes, GError **error)
{
  g_set_error_literal (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID, "not yet");
  return FALSE;
}

GPtrArray *
pd_stock_list (PdStore *store, const char *drug_code, GError **error)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) pd_stock_batch_free);
}

GPtrArray *
pd_stock_suggest (PdStore *store, const char *drug_code, const char *today, const char *course_end, GError **error)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) pd_stock_batch_free);
}

gboolean
pd_stock_move (PdSession *session, gint64 batch_id, int boxes, const char *reason, gint64 dispense_id, GError **error)
{
  g_set_error_literal (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_REFUSED, "not yet");
  return FALSE;
}
