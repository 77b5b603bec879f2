/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 4180 CSV, UTF-8: a leading byte-order mark is skipped, lines end in
 * LF or CRLF, quoted fields may hold commas, quotes ("") and line ends.
 * Every field remembers where it starts, for error messages that name
 * the file, line and column. */

typedef struct {
  char *text;
  guint line;     /* physical line, 1-based */
  guint column;   /* character column, 1-based */
} PdCsvField;

typedef struct {
  GPtrArray *fields;   /* of PdCsvField* */
  guint      line;
} PdCsvRow;

typedef struct {
  char      *name;     /* the file's name, for messages */
  GPtrArray *header;   /* of char*, the header row's names */
  GPtrArray *rows;     /* of PdCsvRow*, after the header */
} PdCsv;

#define PD_CSV_ERROR (pd_csv_error_quark ())
GQuark pd_csv_error_quark (void);

typedef enum {
  PD_CSV_ERROR_SYNTAX,
  PD_CSV_ERROR_INVALID,
} PdCsvError;

PdCsv      *pd_csv_parse          (const char  *name,
                                   const char  *data,
                                   gsize        len,
                                   GError     **error);
void        pd_csv_free           (PdCsv       *csv);
int         pd_csv_column         (PdCsv       *csv,
                                   const char  *name);
const char *pd_csv_get            (PdCsvRow    *row,
                                   int          column);
PdCsvField *pd_csv_get_field      (PdCsvRow    *row,
                                   int          column);
/* "name:line:column: column-name: text", at field (NULL: the file's
 * first line), in the caller's error domain. Returns FALSE. */
gboolean    pd_csv_set_error      (GError     **error,
                                   GQuark       domain,
                                   int          code,
                                   PdCsv       *csv,
                                   PdCsvField  *field,
                                   const char  *column,
                                   const char  *format,
                                   ...) G_GNUC_PRINTF (7, 8);
gboolean    pd_csv_set_error_valist (GError  **error,
                                   GQuark       domain,
                                   int          code,
                                   PdCsv       *csv,
                                   PdCsvField  *field,
                                   const char  *column,
                                   const char  *format,
                                   va_list      ap) G_GNUC_PRINTF (7, 0);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdCsv, pd_csv_free)

G_END_DECLS
