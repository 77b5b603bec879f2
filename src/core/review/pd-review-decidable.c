/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-review-decidable"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-clock.h"
#include "pd-review-decidable.h"

gboolean
pd_review_check_decidable (const PdRxView  *view,
                           GError         **error)
{
  const char *holder = view->claimer_name != NULL ? view->claimer_name : view->claimed_by;
  gint64 until = 0;
  g_autofree char *when = NULL;

  if (g_strcmp0 (view->status, "requested") != 0 && g_strcmp0 (view->status, "claimed") != 0)
    {
      g_set_error (error, PD_REVIEW_ERROR, PD_REVIEW_ERROR_NOT_REVIEWABLE,
                   _("This prescription is %s: it cannot be decided again"), view->status);
      return FALSE;
    }
  if (g_strcmp0 (view->status, "claimed") != 0 || view->mine || view->claimed_by == NULL)
    return TRUE;
  /* A lease that cannot be read holds: the hospital would say so anyway. */
  if (view->claim_until != NULL && pd_time_parse_iso (view->claim_until, &until, NULL)
      && until <= pd_clock_now_us (pd_clock_get_default ()))
    return TRUE;
  if (until == 0)
    {
      g_set_error (error, PD_REVIEW_ERROR, PD_REVIEW_ERROR_CLAIMED,
                   _("%s holds this prescription: decide it after they release it"), holder);
      return FALSE;
    }
  when = pd_time_format_china (until, "%Y-%m-%d %H:%M");
  g_set_error (error, PD_REVIEW_ERROR, PD_REVIEW_ERROR_CLAIMED,
               _("%s holds this prescription until %s: decide it after they release it or their claim runs out"), holder, when);
  return FALSE;
}
