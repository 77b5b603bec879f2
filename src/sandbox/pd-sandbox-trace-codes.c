/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-trace-codes"

#include "config.h"

#include <string.h>

#include "pd-sandbox.h"
#include "pd-sandbox-hospital.h"

/* Drug traceability codes (药品追溯码) for demos and tests, as a
 * manufacturer prints them on boxes: 20 digits, the drug's 7-digit
 * identification code (`trace_prefix` in the knowledge base's drugs.csv,
 * review.md), a 9-digit serial and 4 check digits. The serial comes from a
 * counter in the sandbox's state, so no code is issued twice, across calls
 * and restarts. The knowledge base is read here with a CSV reader of the
 * sandbox's own: the sandbox shares only the store and the clock with core. */

/* For a drug the knowledge base knows without a prefix. */
#define DEMO_PREFIX "6900000"
#define SERIALS G_GINT64_CONSTANT (1000000000)

/* $PHARMDESK_DATADIR/kb, else the installed knowledge base, else the
 * source tree's (a sandbox run from the build folder). */
static char *
kb_drugs_path (void)
{
  const char *datadir = g_getenv ("PHARMDESK_DATADIR");
  g_autofree char *installed = g_build_filename (PKGDATADIR, "kb", "drugs.csv", NULL);

  if (datadir != NULL && *datadir != '\0')
    return g_build_filename (datadir, "kb", "drugs.csv", NULL);
  if (g_file_test (installed, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&installed);
  return g_build_filename (SOURCE_DATADIR, "kb", "drugs.csv", NULL);
}

/* The next RFC 4180 record from *p: fields may be quoted ("" a quote,
 * commas and line ends inside); NULL at the end of the text. */
static GPtrArray *
next_record (const char **p)
{
  GPtrArray *fields;
  GString *field;
  const char *s = *p;

  if (*s == '\0')
    return NULL;
  fields = g_ptr_array_new_with_free_func (g_free);
  field = g_string_new (NULL);
  for (;;)
    {
      if (*s == '"')
        {
          for (s++; *s != '\0'; s++)
            {
              if (*s == '"' && s[1] == '"')
                g_string_append_c (field, *s++);
              else if (*s == '"')
                break;
              else
                g_string_append_c (field, *s);
            }
          if (*s == '"')
            s++;
        }
      while (*s != '\0' && *s != ',' && *s != '\n' && *s != '\r')
        g_string_append_c (field, *s++);
      g_ptr_array_add (fields, g_string_free (field, FALSE));
      if (*s != ',')
        break;
      s++;
      field = g_string_new (NULL);
    }
  if (*s == '\r')
    s++;
  if (*s == '\n')
    s++;
  *p = s;
  return fields;
}

static int
column (GPtrArray  *header,
        const char *name)
{
  for (guint i = 0; i < header->len; i++)
    if (g_str_equal (header->pdata[i], name))
      return (int) i;
  return -1;
}

/* 200 and the drug's prefix (DEMO_PREFIX when the knowledge base has
 * none), 404 for a drug it does not know, 500 when it cannot be read. */
static guint
drug_prefix (const char  *drug,
             char       **prefix,
             char       **problem)
{
  g_autofree char *path = kb_drugs_path ();
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) header = NULL;
  g_autoptr(GError) error = NULL;
  const char *p;
  int c_code, c_prefix;

  if (!g_file_get_contents (path, &text, NULL, &error))
    {
      *problem = g_strdup_printf ("the knowledge base cannot be read: %s", error->message);
      return 500;
    }
  p = g_str_has_prefix (text, "\xef\xbb\xbf") ? text + 3 : text;
  header = next_record (&p);
  c_code = header != NULL ? column (header, "code") : -1;
  /* trace_prefix is optional (review.md): found by name, when there. */
  c_prefix = header != NULL ? column (header, "trace_prefix") : -1;
  if (c_code < 0)
    {
      *problem = g_strdup_printf ("%s has no column “code”", path);
      return 500;
    }
  for (GPtrArray *row; (row = next_record (&p)) != NULL; g_ptr_array_unref (row))
    {
      const char *value = c_prefix >= 0 && (guint) c_prefix < row->len ? row->pdata[c_prefix] : "";

      if ((guint) c_code >= row->len || !g_str_equal (row->pdata[c_code], drug))
        continue;
      if (*value != '\0' && (strlen (value) != 7 || strspn (value, "0123456789") != 7))
        {
          *problem = g_strdup_printf ("drugs.csv gives %s the trace_prefix “%s”, not 7 digits", drug, value);
          g_ptr_array_unref (row);
          return 500;
        }
      *prefix = g_strdup (*value != '\0' ? value : DEMO_PREFIX);
      g_ptr_array_unref (row);
      return 200;
    }
  *problem = g_strdup_printf ("no drug %s in the knowledge base (%s)", drug, path);
  return 404;
}

typedef struct {
  PdSandbox *sandbox;
  guint      count;
  gint64     last;
} Take;

static gboolean
take_serials (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  Take *t = user_data;

  t->last = pd_sandbox_counter_take (t->sandbox, "trace", t->count, error);
  if (t->last < 0)
    return FALSE;
  if (t->last >= SERIALS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "all %" G_GINT64_FORMAT " serials are issued", SERIALS);
      return FALSE;
    }
  return TRUE;
}

/* prefix + serial + 4 check digits. The serial is the counter spread over
 * nine digits (n × 3¹⁸ mod 10⁹ is one to one, 3¹⁸ being prime to 10⁹), so
 * that the boxes of a pack do not read as a count. */
static char *
code_for (const char *prefix,
          gint64      n)
{
  gint64 serial = n * G_GINT64_CONSTANT (387420489) % SERIALS;
  g_autofree char *body = g_strdup_printf ("%s%09" G_GINT64_FORMAT, prefix, serial);
  g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, body, -1);
  guint64 check = g_ascii_strtoull (digest + 56, NULL, 16) % 10000;

  return g_strdup_printf ("%s%04u", body, (guint) check);
}

guint
pd_sandbox_trace_codes_issue (PdSandbox   *sandbox,
                              const char  *drug,
                              guint        count,
                              GPtrArray  **codes,
                              char       **problem)
{
  g_autofree char *prefix = NULL;
  g_autoptr(GError) error = NULL;
  Take take = { sandbox, count, 0 };
  guint status = drug_prefix (drug, &prefix, problem);

  if (status != 200)
    return status;
  if (!pd_store_write (sandbox->store, take_serials, &take, &error))
    {
      *problem = g_strdup_printf ("the sandbox's store failed: %s", error->message);
      return 500;
    }
  *codes = g_ptr_array_new_with_free_func (g_free);
  for (gint64 n = take.last - count + 1; n <= take.last; n++)
    g_ptr_array_add (*codes, code_for (prefix, n));
  return 200;
}
