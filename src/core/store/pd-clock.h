/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The one clock of PharmDesk. Everything that asks "what time is it"
 * asks here, so that tests and replays can move time instead of sleeping.
 * Times are Unix microseconds; the pharmacy's own time zone is China
 * Standard Time (UTC+08:00), whatever the machine's zone. */

typedef struct _PdClock PdClock;

#define PD_CLOCK_ERROR (pd_clock_error_quark ())
GQuark pd_clock_error_quark (void);

typedef enum {
  PD_CLOCK_ERROR_INVALID,
} PdClockError;

PdClock    *pd_clock_get_default        (void);
PdClock    *pd_clock_new                (void);
void        pd_clock_free               (PdClock     *clock);
gint64      pd_clock_now_us             (PdClock     *clock);
gint64      pd_clock_real_now_us        (void);
void        pd_clock_shift_real_for_testing (gint64   offset_us);
gint64      pd_clock_now_s              (PdClock     *clock);
void        pd_clock_set_now_us         (PdClock     *clock,
                                         gint64       now_us);
gboolean    pd_clock_set_now_from_iso   (PdClock     *clock,
                                         const char  *iso,
                                         GError     **error);
void        pd_clock_set_scale          (PdClock     *clock,
                                         double       scale);
double      pd_clock_get_scale          (PdClock     *clock);
gboolean    pd_clock_is_set             (PdClock     *clock);
gboolean    pd_clock_init_from_env      (PdClock     *clock,
                                         GError     **error);

GTimeZone  *pd_china_time_zone          (void);
gboolean    pd_time_parse_iso           (const char  *iso,
                                         gint64      *out_us,
                                         GError     **error);
gboolean    pd_time_parse_fhir          (const char  *s,
                                         gboolean     end_of_day,
                                         gint64      *out_us);
void        pd_china_date               (gint64       us,
                                         int         *year,
                                         int         *month,
                                         int         *day);
gint64      pd_china_day_end            (int          year,
                                         int          month,
                                         int          day,
                                         int          plus_days);
char       *pd_time_format_iso          (gint64       us);
char       *pd_time_format_china        (gint64       us,
                                         const char  *format);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdClock, pd_clock_free)

G_END_DECLS
