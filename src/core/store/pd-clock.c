/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-clock"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-clock.h"

struct _PdClock
{
  GMutex  lock;
  gboolean set;        /* FALSE: plain wall time */
  gint64  anchor_us;   /* the clock's time at anchor_real_us */
  gint64  anchor_real_us;
  double  scale;       /* 1.0 real speed, 0.0 frozen */
};

G_DEFINE_QUARK (pd-clock-error-quark, pd_clock_error)

PdClock *
pd_clock_new (void)
{
  PdClock *clock = g_new0 (PdClock, 1);

  g_mutex_init (&clock->lock);
  clock->scale = 1.0;
  return clock;
}

void
pd_clock_free (PdClock *clock)
{
  if (clock == NULL)
    return;
  g_mutex_clear (&clock->lock);
  g_free (clock);
}

/* The process-wide clock, set from PHARMDESK_NOW on first use. A bad
 * PHARMDESK_NOW is reported by the programs through pd_clock_init_from_env();
 * here it is ignored so that library code never aborts on it. */
PdClock *
pd_clock_get_default (void)
{
  static PdClock *default_clock;

  if (g_once_init_enter (&default_clock))
    {
      PdClock *clock = pd_clock_new ();

      pd_clock_init_from_env (clock, NULL);
      g_once_init_leave (&default_clock, clock);
    }
  return default_clock;
}

gboolean
pd_clock_init_from_env (PdClock  *clock,
                        GError  **error)
{
  const char *now = g_getenv ("PHARMDESK_NOW");

  if (now == NULL || *now == '\0')
    return TRUE;
  if (!pd_clock_set_now_from_iso (clock, now, error))
    {
      g_prefix_error (error, "PHARMDESK_NOW: ");
      return FALSE;
    }
  return TRUE;
}

gint64
pd_clock_now_us (PdClock *clock)
{
  gint64 now;

  g_mutex_lock (&clock->lock);
  if (!clock->set)
    now = g_get_real_time ();
  else
    now = clock->anchor_us
          + (gint64) ((double) (g_get_monotonic_time () - clock->anchor_real_us) * clock->scale);
  g_mutex_unlock (&clock->lock);
  return now;
}

/* The machine's own clock, whatever --now says: lockouts, the audit trail's
 * order and the insurance gateway's timestamp follow it (cli.md). Only a
 * unit test may shift it, to see a lockout expire without waiting. */
static gint64 real_offset_us;

gint64
pd_clock_real_now_us (void)
{
  return g_get_real_time () + real_offset_us;
}

void
pd_clock_shift_real_for_testing (gint64 offset_us)
{
  real_offset_us = offset_us;
}

gint64
pd_clock_now_s (PdClock *clock)
{
  return pd_clock_now_us (clock) / G_USEC_PER_SEC;
}

void
pd_clock_set_now_us (PdClock *clock,
                     gint64   now_us)
{
  g_mutex_lock (&clock->lock);
  clock->set = TRUE;
  clock->anchor_us = now_us;
  clock->anchor_real_us = g_get_monotonic_time ();
  g_mutex_unlock (&clock->lock);
}

gboolean
pd_clock_set_now_from_iso (PdClock     *clock,
                           const char  *iso,
                           GError     **error)
{
  gint64 us;

  if (!pd_time_parse_iso (iso, &us, error))
    return FALSE;
  pd_clock_set_now_us (clock, us);
  return TRUE;
}

/* Re-anchors first so that the time already elapsed keeps the old speed. */
void
pd_clock_set_scale (PdClock *clock,
                    double   scale)
{
  gint64 now = pd_clock_now_us (clock);

  g_return_if_fail (scale >= 0.0);
  g_mutex_lock (&clock->lock);
  clock->set = TRUE;
  clock->anchor_us = now;
  clock->anchor_real_us = g_get_monotonic_time ();
  clock->scale = scale;
  g_mutex_unlock (&clock->lock);
}

double
pd_clock_get_scale (PdClock *clock)
{
  double scale;

  g_mutex_lock (&clock->lock);
  scale = clock->scale;
  g_mutex_unlock (&clock->lock);
  return scale;
}

gboolean
pd_clock_is_set (PdClock *clock)
{
  gboolean set;

  g_mutex_lock (&clock->lock);
  set = clock->set;
  g_mutex_unlock (&clock->lock);
  return set;
}

GTimeZone *
pd_china_time_zone (void)
{
  static GTimeZone *tz;

  if (g_once_init_enter (&tz))
    g_once_init_leave (&tz, g_time_zone_new_offset (8 * 3600));
  return tz;
}

/* ISO 8601 with an explicit offset or Z; a time without one is refused,
 * because guessing a zone is how prescriptions expire a day early. */
gboolean
pd_time_parse_iso (const char  *iso,
                   gint64      *out_us,
                   GError     **error)
{
  g_autoptr(GDateTime) dt = NULL;
  size_t len;
  gboolean has_offset = FALSE;

  if (iso == NULL || *iso == '\0')
    {
      g_set_error (error, PD_CLOCK_ERROR, PD_CLOCK_ERROR_INVALID,
                   _("Empty time: give an ISO 8601 time with an offset, such as 2026-11-20T10:00:00+08:00"));
      return FALSE;
    }
  len = strlen (iso);
  if (iso[len - 1] == 'Z' || iso[len - 1] == 'z')
    has_offset = TRUE;
  else if (len > 6 && (iso[len - 6] == '+' || iso[len - 6] == '-') && iso[len - 3] == ':')
    has_offset = TRUE;
  else if (len > 5 && (iso[len - 5] == '+' || iso[len - 5] == '-')
           && g_ascii_isdigit (iso[len - 4]) && strchr (iso, 'T') != NULL
           && strchr (iso, 'T') < iso + len - 5)
    has_offset = TRUE;

  if (!has_offset || strchr (iso, 'T') == NULL)
    {
      g_set_error (error, PD_CLOCK_ERROR, PD_CLOCK_ERROR_INVALID,
                   _("“%s” is not a time with an offset, such as 2026-11-20T10:00:00+08:00"), iso);
      return FALSE;
    }
  dt = g_date_time_new_from_iso8601 (iso, NULL);
  if (dt == NULL)
    {
      g_set_error (error, PD_CLOCK_ERROR, PD_CLOCK_ERROR_INVALID,
                   _("“%s” is not a valid ISO 8601 time"), iso);
      return FALSE;
    }
  *out_us = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
  return TRUE;
}

/* Civil dates from day numbers (H. Hinnant's algorithms): China time is a
 * fixed UTC+8, so the hot paths need no time-zone database. */
static gint64
floor_div (gint64 a,
           gint64 b)
{
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static gint64
days_from_civil (int y,
                 int m,
                 int d)
{
  gint64 era;
  unsigned yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned) (y - era * 400);
  doy = (153 * (unsigned) (m > 2 ? m - 3 : m + 9) + 2) / 5 + (unsigned) d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (gint64) doe - 719468;
}

/* The China-time calendar day of an instant. */
void
pd_china_date (gint64  us,
               int    *year,
               int    *month,
               int    *day)
{
  gint64 z = floor_div (floor_div (us, G_USEC_PER_SEC) + 8 * 3600, 86400) + 719468;
  gint64 era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned) (z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned mm = mp < 10 ? mp + 3 : mp - 9;

  *day = (int) (doy - (153 * mp + 2) / 5 + 1);
  *month = (int) mm;
  *year = (int) ((gint64) yoe + era * 400 + (mm <= 2));
}

/* 23:59:59 China time of that day, plus_days later. */
gint64
pd_china_day_end (int year,
                  int month,
                  int day,
                  int plus_days)
{
  gint64 days = days_from_civil (year, month, day) + plus_days;

  return ((days + 1) * 86400 - 1 - 8 * 3600) * G_USEC_PER_SEC;
}

static gboolean
digits (const char *s,
        int         n,
        int        *out)
{
  int v = 0;

  for (int i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      v = v * 10 + (s[i] - '0');
    }
  *out = v;
  return TRUE;
}

/* A FHIR date or dateTime as prescriptions carry them:
 * YYYY-MM-DD[THH:MM:SS[.fff…][Z|±HH:MM]]. A date alone is that day in
 * China time (its first or, with end_of_day, its last second); a time
 * without an offset is China time. No GDateTime: a Bundle holds dozens of
 * times and this is the review CLI's hot path. */
gboolean
pd_time_parse_fhir (const char *s,
                    gboolean    end_of_day,
                    gint64     *out_us)
{
  int y, mo, d, h = 0, mi = 0, se = 0, oh = 8, om = 0, sign = 1;
  gint64 frac_us = 0;
  const char *p;

  if (s == NULL || strlen (s) < 10 || !digits (s, 4, &y) || y < 1 || s[4] != '-' || !digits (s + 5, 2, &mo)
      || s[7] != '-' || !digits (s + 8, 2, &d) || mo < 1 || mo > 12 || d < 1
      || d > g_date_get_days_in_month (mo, y))
    return FALSE;
  p = s + 10;
  if (*p == '\0')
    {
      if (end_of_day)
        h = 23, mi = 59, se = 59;
    }
  else
    {
      if (*p != 'T' || !digits (p + 1, 2, &h) || p[3] != ':' || !digits (p + 4, 2, &mi) || p[6] != ':'
          || !digits (p + 7, 2, &se) || h > 23 || mi > 59 || se > 60)
        return FALSE;
      p += 9;
      if (*p == '.')
        {
          gint64 scale = 100000;

          for (p++; g_ascii_isdigit (*p); p++, scale /= 10)
            frac_us += (*p - '0') * scale;
        }
      if (*p == 'Z')
        oh = 0, p++;
      else if (*p == '+' || *p == '-')
        {
          sign = *p == '-' ? -1 : 1;
          if (!digits (p + 1, 2, &oh) || p[3] != ':' || !digits (p + 4, 2, &om) || oh > 14 || om > 59)
            return FALSE;
          p += 6;
        }
      if (*p != '\0')
        return FALSE;
    }
  *out_us = ((days_from_civil (y, mo, d) * 86400 + h * 3600 + mi * 60 + se) - sign * (oh * 3600 + om * 60))
              * G_USEC_PER_SEC
            + frac_us;
  return TRUE;
}

/* YYYY-MM-DDTHH:MM:SS+08:00, the form every signed or exchanged time takes. */
char *
pd_time_format_iso (gint64 us)
{
  return pd_time_format_china (us, "%Y-%m-%dT%H:%M:%S+08:00");
}

char *
pd_time_format_china (gint64      us,
                      const char *format)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
  g_autoptr(GDateTime) local = NULL;

  if (utc == NULL)
    return g_strdup ("");
  local = g_date_time_to_timezone (utc, pd_china_time_zone ());
  return g_date_time_format (local, format);
}
