/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "fill.h"
#include "pd-dispense.h"
#include "pd-kb-store.h"
#include "pd-store.h"

void
line_free (Line *l)
{
  g_free (l->line);
  g_free (l->code);
  g_free (l->course_end);
  g_free (l);
}

PdSession *
sign_in_wang (Shift   *s,
              PdStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *password = NULL;
  PdSession *session;

  g_assert_true (g_file_get_contents (shift_password_file (s, "wang"), &password, NULL, NULL));
  session = pd_session_sign_in (store, "wang", g_strchomp (password), &error);
  g_assert_no_error (error);
  return session;
}

/* The sheet of rx as the core reads it (the lines to fill). */
GPtrArray *
lines_of (Shift      *s,
          const char *rx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = pd_store_open (s->db, &error);
  g_autoptr(PdSession) session = NULL;
  g_autoptr(PdKb) kb = NULL;
  g_autoptr(PdFillSheet) sheet = NULL;
  GPtrArray *lines = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);

  g_assert_no_error (error);
  session = sign_in_wang (s, store);
  kb = pd_kb_load_active (store, &error);
  g_assert_no_error (error);
  sheet = pd_fill_sheet_load (session, kb, rx, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < sheet->lines->len; i++)
    {
      const PdFillLine *fl = sheet->lines->pdata[i];
      Line *l = g_new0 (Line, 1);

      g_assert_nonnull (fl->drug);
      l->line = g_strdup (fl->line);
      l->code = g_strdup (fl->drug->code);
      l->units = fl->units;
      l->boxes = fl->boxes;
      l->pack = fl->drug->pack_size;
      l->split = fl->split;
      l->course_end = g_strdup (fl->course_end);
      g_assert_cmpint (l->units, >, 0);
      g_ptr_array_add (lines, l);
    }
  pd_store_close (store);
  return lines;
}

char *
date_in (int days)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("+08:00");
  g_autoptr(GDateTime) now = g_date_time_new_now (tz);
  g_autoptr(GDateTime) then = g_date_time_add_days (now, days);

  return g_date_time_format (then, "%Y-%m-%d");
}

/* Receives lot LOT of each drug of lines, expiring on `expires` (NULL: the
 * course's last day of line 0), `boxes` boxes. */
void
receive_until (Shift      *s,
               GPtrArray  *lines,
               const char *lot,
               const char *expires,
               int         boxes)
{
  g_autoptr(GString) csv = g_string_new ("code,lot,manufactured,expires,boxes\n");
  g_autofree char *made = date_in (-200);
  g_autofree char *path = g_build_filename (s->dir, "receipt.csv", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < lines->len; i++)
    {
      Line *l = lines->pdata[i];

      if (g_hash_table_add (seen, l->code))
        g_string_append_printf (csv, "%s,%s,%s,%s,%d\n", l->code, lot, made, expires, boxes);
    }
  g_assert_true (g_file_set_contents (path, csv->str, -1, NULL));
  g_assert_cmpint (shift_cli (s, "zhao", &out, &err, "stock", "receive", path, NULL), ==, 0);
}

void
receive (Shift      *s,
         GPtrArray  *lines,
         const char *lot,
         int         days,
         int         boxes)
{
  g_autofree char *expires = date_in (days);

  receive_until (s, lines, lot, expires, boxes);
}

/* Valid codes for a drug, from the sandbox (its trace_prefix). */
GPtrArray *
codes_for (Shift      *s,
           const char *drug,
           int         n)
{
  g_autofree char *body = g_strdup_printf ("{\"drug\":\"%s\",\"count\":%d}", drug, n);
  g_autoptr(JsonObject) out = NULL;
  JsonArray *codes;
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);

  g_assert_cmpuint (sandbox_control (&s->sb, "trace-codes", body, &out), ==, 200);
  codes = json_object_get_array_member (out, "codes");
  for (guint i = 0; i < json_array_get_length (codes); i++)
    g_ptr_array_add (list, g_strdup (json_array_get_string_element (codes, i)));
  return list;
}

/* A plan filling every line from lot with fresh codes; codes_out gets
 * every code used. */
char *
plan_for (Shift      *s,
          GPtrArray  *lines,
          const char *lot,
          GPtrArray  *codes_out)
{
  g_autoptr(GString) plan = g_string_new ("{\"lines\":[");

  for (guint i = 0; i < lines->len; i++)
    {
      Line *l = lines->pdata[i];
      g_autoptr(GPtrArray) codes = codes_for (s, l->code, l->boxes);

      g_string_append_printf (plan, "%s{\"line\":\"%s\",\"lot\":\"%s\",\"boxes\":%d,", i > 0 ? "," : "", l->line, lot, l->boxes);
      if (l->split)
        g_string_append_printf (plan, "\"units\":%d,", l->units);
      g_string_append (plan, "\"trace_codes\":[");
      for (guint k = 0; k < codes->len; k++)
        {
          g_string_append_printf (plan, "%s\"%s\"", k > 0 ? "," : "", (char *) codes->pdata[k]);
          if (codes_out != NULL)
            g_ptr_array_add (codes_out, g_strdup (codes->pdata[k]));
        }
      g_string_append (plan, "]}");
    }
  g_string_append (plan, "]}");
  return g_string_free (g_steal_pointer (&plan), FALSE);
}

char *
write_plan (Shift      *s,
            const char *plan)
{
  static int n;
  g_autofree char *name = g_strdup_printf ("plan-%d.json", ++n);
  char *path = g_build_filename (s->dir, name, NULL);

  g_assert_true (g_file_set_contents (path, plan, -1, NULL));
  return path;
}

int
dispense (Shift      *s,
          const char *user,
          const char *rx,
          const char *plan,
          const char *checker,
          char      **out,
          char      **err)
{
  g_autofree char *path = write_plan (s, plan);

  return shift_cli (s, user, out, err, "dispense", rx, "--plan", path, "--checker", checker,
                    "--checker-password-file", shift_password_file (s, checker), NULL);
}


char *
fill_one (Shift *s)
{
  char *rx = shift_approve_one (s);
  g_autoptr(GPtrArray) lines = lines_of (s, rx);
  g_autofree char *plan = NULL;

  receive (s, lines, "LGOOD", 700, 40);
  plan = plan_for (s, lines, "LGOOD", NULL);
  g_assert_cmpint (dispense (s, "wang", rx, plan, "zhao", NULL, NULL), ==, 0);
  return rx;
}
