/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-csv"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-csv.h"

G_DEFINE_QUARK (pd-csv-error-quark, pd_csv_error)

static void
field_free (gpointer data)
{
  PdCsvField *f = data;

  g_free (f->text);
  g_free (f);
}

static void
row_free (gpointer data)
{
  PdCsvRow *r = data;

  g_ptr_array_unref (r->fields);
  g_free (r);
}

void
pd_csv_free (PdCsv *csv)
{
  if (csv == NULL)
    return;
  g_free (csv->name);
  g_clear_pointer (&csv->header, g_ptr_array_unref);
  g_clear_pointer (&csv->rows, g_ptr_array_unref);
  g_free (csv);
}

/* RFC 4180: every row has the header's number of fields. A short row
 * would otherwise read as empty cells ("not known"), a long one hide a
 * shifted column: both are a malformed file, said where the row is. */
static gboolean
check_width (PdCsv    *csv,
             PdCsvRow *row,
             GError  **error)
{
  guint n = row->fields->len, want = csv->header->len;
  PdCsvField *at;

  if (n == want)
    return TRUE;
  /* The first field too many, or the last one there is. */
  at = row->fields->pdata[n > want ? want : n - 1];
  g_set_error (error, PD_CSV_ERROR, PD_CSV_ERROR_INVALID,
               n > want ? _("%s:%u:%u: too many fields (this row has %u, the header %u)")
                        : _("%s:%u:%u: too few fields (this row has %u, the header %u)"),
               csv->name, at->line, at->column, n, want);
  return FALSE;
}

PdCsv *
pd_csv_parse (const char *name,
              const char *data,
              gsize       len,
              GError    **error)
{
  g_autoptr(PdCsv) csv = g_new0 (PdCsv, 1);
  const char *p = data, *end = data + len;
  guint line = 1;
  const char *line_start;
  PdCsvRow *row = NULL;
  gboolean header_done = FALSE;

  csv->name = g_strdup (name);
  csv->header = g_ptr_array_new_with_free_func (g_free);
  csv->rows = g_ptr_array_new_with_free_func (row_free);

  if (!g_utf8_validate (data, (gssize) len, NULL))
    {
      g_set_error (error, PD_CSV_ERROR, PD_CSV_ERROR_SYNTAX, _("%s: the file is not UTF-8"), name);
      return NULL;
    }
  if (len >= 3 && memcmp (p, "\xEF\xBB\xBF", 3) == 0)
    p += 3;
  line_start = p;

  while (p < end)
    {
      GString *text = g_string_new (NULL);
      PdCsvField *field = g_new0 (PdCsvField, 1);
      gboolean at_row_end = FALSE;

      field->line = line;
      field->column = (guint) g_utf8_strlen (line_start, p - line_start) + 1;
      if (row == NULL)
        {
          row = g_new0 (PdCsvRow, 1);
          row->fields = g_ptr_array_new_with_free_func (field_free);
          row->line = line;
        }

      if (*p == '"')
        {
          guint open_line = line, open_col = field->column;

          p++;
          for (;;)
            {
              if (p >= end)
                {
                  g_string_free (text, TRUE);
                  field_free (field);
                  row_free (row);
                  g_set_error (error, PD_CSV_ERROR, PD_CSV_ERROR_SYNTAX,
                               _("%s:%u:%u: a quoted field is never closed"), name, open_line, open_col);
                  return NULL;
                }
              if (*p == '"')
                {
                  if (p + 1 < end && p[1] == '"')
                    {
                      g_string_append_c (text, '"');
                      p += 2;
                      continue;
                    }
                  p++;
                  break;
                }
              if (*p == '\n')
                {
                  line++;
                  line_start = p + 1;
                }
              g_string_append_c (text, *p++);
            }
          if (p < end && *p != ',' && *p != '\n' && *p != '\r')
            {
              guint col = (guint) g_utf8_strlen (line_start, p - line_start) + 1;

              g_string_free (text, TRUE);
              field_free (field);
              row_free (row);
              g_set_error (error, PD_CSV_ERROR, PD_CSV_ERROR_SYNTAX,
                           _("%s:%u:%u: text after a closing quote"), name, line, col);
              return NULL;
            }
        }
      else
        {
          while (p < end && *p != ',' && *p != '\n' && *p != '\r')
            {
              if (*p == '"')
                {
                  guint col = (guint) g_utf8_strlen (line_start, p - line_start) + 1;

                  g_string_free (text, TRUE);
                  field_free (field);
                  row_free (row);
                  g_set_error (error, PD_CSV_ERROR, PD_CSV_ERROR_SYNTAX,
                               _("%s:%u:%u: a quote inside an unquoted field (quote the whole field)"), name, line, col);
                  return NULL;
                }
              g_string_append_c (text, *p++);
            }
        }

      field->text = g_string_free (text, FALSE);
      g_ptr_array_add (row->fields, field);

      if (p < end && *p == ',')
        {
          p++;
          if (p != end)
            continue;
          /* "a,b," at the very end still has an empty third field. */
          field = g_new0 (PdCsvField, 1);
          field->line = line;
          field->column = (guint) g_utf8_strlen (line_start, p - line_start) + 1;
          field->text = g_strdup ("");
          g_ptr_array_add (row->fields, field);
          at_row_end = TRUE;
        }
      else
        {
          if (p < end && *p == '\r')
            p++;
          if (p < end && *p == '\n')
            p++;
          at_row_end = TRUE;
        }
      if (at_row_end)
        {
          /* A line with one empty field is a blank line: skipped. */
          if (row->fields->len == 1 && ((PdCsvField *) row->fields->pdata[0])->text[0] == '\0')
            row_free (row);
          else if (!header_done)
            {
              for (guint i = 0; i < row->fields->len; i++)
                g_ptr_array_add (csv->header, g_strdup (g_strstrip (((PdCsvField *) row->fields->pdata[i])->text)));
              row_free (row);
              header_done = TRUE;
            }
          else if (!check_width (csv, row, error))
            {
              row_free (row);
              return NULL;
            }
          else
            g_ptr_array_add (csv->rows, row);
          row = NULL;
          line++;
          line_start = p;
        }
    }
  if (row != NULL)
    {
      if (!header_done)
        {
          for (guint i = 0; i < row->fields->len; i++)
            g_ptr_array_add (csv->header, g_strdup (((PdCsvField *) row->fields->pdata[i])->text));
          row_free (row);
          header_done = TRUE;
        }
      else if (!check_width (csv, row, error))
        {
          row_free (row);
          return NULL;
        }
      else
        g_ptr_array_add (csv->rows, row);
    }
  if (!header_done)
    {
      g_set_error (error, PD_CSV_ERROR, PD_CSV_ERROR_SYNTAX, _("%s:1:1: the header row is missing"), name);
      return NULL;
    }
  return g_steal_pointer (&csv);
}

int
pd_csv_column (PdCsv      *csv,
               const char *name)
{
  for (guint i = 0; i < csv->header->len; i++)
    if (g_str_equal (csv->header->pdata[i], name))
      return (int) i;
  return -1;
}

PdCsvField *
pd_csv_get_field (PdCsvRow *row,
                  int       column)
{
  if (column < 0 || (guint) column >= row->fields->len)
    return NULL;
  return row->fields->pdata[column];
}

/* The field's text, "" when the row is short or the column absent. */
const char *
pd_csv_get (PdCsvRow *row,
            int       column)
{
  PdCsvField *f = pd_csv_get_field (row, column);

  return f != NULL ? f->text : "";
}

gboolean
pd_csv_set_error_valist (GError     **error,
                         GQuark       domain,
                         int          code,
                         PdCsv       *csv,
                         PdCsvField  *field,
                         const char  *column,
                         const char  *format,
                         va_list      ap)
{
  g_autofree char *text = g_strdup_vprintf (format, ap);

  g_set_error (error, domain, code, "%s:%u:%u: %s: %s",
               csv->name, field != NULL ? field->line : 1, field != NULL ? field->column : 1, column, text);
  return FALSE;
}

gboolean
pd_csv_set_error (GError     **error,
                  GQuark       domain,
                  int          code,
                  PdCsv       *csv,
                  PdCsvField  *field,
                  const char  *column,
                  const char  *format,
                  ...)
{
  va_list ap;

  va_start (ap, format);
  pd_csv_set_error_valist (error, domain, code, csv, field, column, format, ap);
  va_end (ap);
  return FALSE;
}
