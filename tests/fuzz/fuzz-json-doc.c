/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: any bytes into pd_json_doc_parse and json-glib's
 * parser; they must agree on what is JSON and, where both accept, on the
 * tree. Where json-glib is knowingly laxer than RFC 8259, see lax_only(). */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd-json-doc.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* How often each lax_only() rule let an input pass, printed at exit. */
enum {
  LAX_EMPTY, LAX_COMMENT, LAX_SQUOTE, LAX_VAR, LAX_CONTROL, LAX_ESCAPE, LAX_DEPTH, LAX_NUMBER,
  LAX_BIG_INT, LAX_NUL_KEY, LAX_MORE, LAX_SURROGATE, N_LAX
};
static const char *lax_names[N_LAX] = {
  "empty or blank text", "/* comments */ and //", "'single-quoted strings'", "var name = value;",
  "raw control characters in strings", "unknown escapes (\\x, \\u00G1)", "nesting beyond 512",
  "numbers RFC 8259 forbids (01, 1., .5, 0x1F, $1F)", "integers beyond gint64 (json-glib wraps them)",
  "names with U+0000 (json-glib cuts them)",
  "more documents after the first ({}[], 1{}; json-glib keeps the first)",
  "lone surrogates (json-glib writes invalid UTF-8 for some)",
};
static guint64 lax_count[N_LAX];
static gboolean input_has_nul_escape;

static void
print_lax_counts (void)
{
  for (int i = 0; i < N_LAX; i++)
    fprintf (stderr, "lax_only: %-48s %" G_GUINT64_FORMAT "\n", lax_names[i], lax_count[i]);
}

static gboolean
lax (int rule)
{
  lax_count[rule]++;
  return TRUE;
}

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static gboolean
is_number_char (char c)
{
  return g_ascii_isalnum (c) || c == '.' || c == '+' || c == '-';
}

static void check (const char *text,
                   gsize       len);

/* Where json-glib (1.6) accepts what RFC 8259 does not, found by this
 * harness. Each rule looks at what pd_json_doc rejected: the byte its error
 * names must be the start of the lax construct, so that a bug of ours
 * elsewhere still aborts. */
static gboolean
lax_only (const char   *text,
          gsize         len,
          const GError *error)
{
  const char *msg = error->message;
  const char *at_text = g_strrstr (msg, "at byte ");
  gsize at, i;

  if (at_text == NULL)
    return FALSE;
  at = g_ascii_strtoull (at_text + strlen ("at byte "), NULL, 10);
  if (at > len)
    return FALSE;

  /* where the first value starts, after a BOM and space */
  i = len >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
  while (i < len && is_blank (text[i]))
    i++;
  /* json-glib: an empty document, with a NULL root */
  if (strstr (msg, "expected a value") != NULL && at == len && i == len)
    return lax (LAX_EMPTY);
  /* GScanner skips C comments wherever space may be, and "//" too */
  if (at < len && text[at] == '/')
    return lax (LAX_COMMENT);
  /* GScanner reads 'strings' too */
  if (at < len && text[at] == '\'')
    return lax (LAX_SQUOTE);
  /* json-glib reads a JavaScript assignment to one variable */
  if (strstr (msg, "expected a value") != NULL && at == i && at + 3 < len
      && memcmp (text + at, "var", 3) == 0 && is_blank (text[at + 3]))
    return lax (LAX_VAR);
  /* GScanner copies tabs, newlines and other controls in strings */
  if (strstr (msg, "control character") != NULL)
    return lax (LAX_CONTROL);
  /* GScanner reads \x as x, and a \u without four hex digits as the end
   * of the string */
  if (strstr (msg, "invalid escape") != NULL && at + 1 < len && text[at] == '\\')
    {
      guint cp = 0;

      if (text[at + 1] != 'u')
        return lax (LAX_ESCAPE);
      for (i = 0; i < 4 && at + 2 + i < len && g_ascii_isxdigit (text[at + 2 + i]); i++)
        cp = cp << 4 | g_ascii_xdigit_value (text[at + 2 + i]);
      if (i < 4)
        return lax (LAX_ESCAPE);
      /* json-glib takes some lone surrogates, writing invalid UTF-8 and
       * eating the byte after: a low one, a high one without a low one */
      if (cp >= 0xdc00 && cp <= 0xdfff)
        return lax (LAX_SURROGATE);
      if (cp >= 0xd800 && cp <= 0xdbff)
        {
          guint lo = 0;

          if (at + 12 > len || text[at + 6] != '\\' || text[at + 7] != 'u')
            return lax (LAX_SURROGATE);
          for (i = 0; i < 4 && g_ascii_isxdigit (text[at + 8 + i]); i++)
            lo = lo << 4 | g_ascii_xdigit_value (text[at + 8 + i]);
          if (i < 4 || lo < 0xdc00 || lo > 0xdfff)
            return lax (LAX_SURROGATE);
        }
    }
  /* json-glib reads statement after statement, each a container or an
   * assignment, and keeps the first; the rest must pass on its own */
  if (strstr (msg, "text after the value") != NULL && at < len
      && (text[at] == '{' || text[at] == '['
          || (at + 3 < len && memcmp (text + at, "var", 3) == 0 && is_blank (text[at + 3]))))
    {
      check (text + at, len - at);
      return lax (LAX_MORE);
    }
  /* json-glib has no depth limit (within the fuzzer's input sizes) */
  if (strstr (msg, "nested more than") != NULL)
    return lax (LAX_DEPTH);
  /* GScanner's hex numbers in Pascal's way: $1F, and $ alone for 0 */
  if (strstr (msg, "expected a value") != NULL && at < len && text[at] == '$')
    return lax (LAX_NUMBER);
  /* GScanner's numbers: octal, hex, leading zeros, 1., .5 -- allowed
   * only where the token around the error is not an RFC 8259 number */
  if (strstr (msg, "malformed number") != NULL)
    {
      gsize start = at, end = at;
      g_autofree char *token = NULL;

      while (start > 0 && is_number_char (text[start - 1]))
        start--;
      while (end < len && is_number_char (text[end]))
        end++;
      token = g_strndup (text + start, end - start);
      if (!g_regex_match_simple ("^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$", token, 0, 0))
        return lax (LAX_NUMBER);
    }
  return FALSE;
}

/* FALSE where the trees differ. */
static gboolean
same_tree (JsonNode   *j,
           const PdJv *v)
{
  switch (json_node_get_node_type (j))
    {
    case JSON_NODE_NULL:
      return v != NULL && pd_jv_type (v) == PD_JV_NULL;

    case JSON_NODE_VALUE:
      {
        GType t = json_node_get_value_type (j);

        if (t == G_TYPE_STRING)
          return g_strcmp0 (json_node_get_string (j), pd_jv_string (v)) == 0;
        if (t == G_TYPE_INT64)
          {
            gint64 i;
            gsize len;
            const char *raw = pd_jv_text (v, &len);

            if (pd_jv_int (v, &i))
              return i == json_node_get_int (j);
            /* json-glib wraps an integer beyond gint64 around */
            if (pd_jv_type (v) == PD_JV_NUMBER && len > 18
                && strspn (raw + (raw[0] == '-'), "0123456789") == len - (raw[0] == '-'))
              return lax (LAX_BIG_INT);
            return FALSE;
          }
        if (t == G_TYPE_DOUBLE)
          {
            double d, jd = json_node_get_double (j);

            return pd_jv_double (v, &d) && !pd_jv_int (v, NULL)
                   && (d == jd || (isnan (d) && isnan (jd)));
          }
        if (t == G_TYPE_BOOLEAN)
          return pd_jv_type (v) == PD_JV_BOOL && pd_jv_is_true (v) == json_node_get_boolean (j);
        return FALSE;
      }

    case JSON_NODE_ARRAY:
      {
        JsonArray *a = json_node_get_array (j);
        const PdJv *e;
        guint i = 0;

        if (pd_jv_type (v) != PD_JV_ARRAY || pd_jv_len (v) != json_array_get_length (a))
          return FALSE;
        for (e = pd_jv_first (v); e != NULL; e = pd_jv_next (v, e), i++)
          if (pd_jv_at (v, i) != e || !same_tree (json_array_get_element (a, i), e))
            return FALSE;
        return i == json_array_get_length (a);
      }

    case JSON_NODE_OBJECT:
      {
        JsonObject *o = json_node_get_object (j);
        GList *names = json_object_get_members (o);
        gboolean same = pd_jv_type (v) == PD_JV_OBJECT;
        guint distinct = 0, n = 0;

        /* json-glib keeps the last member of a name; so does pd_jv_member.
         * json-glib cuts a name at U+0000, where pd_jv_member matches no
         * such name: the value compared is the last one whose name reads
         * the same as a C string. */
        for (GList *l = names; same && l != NULL; l = l->next)
          {
            const PdJv *last = NULL;
            const PdJv *member = pd_jv_member (v, l->data);

            for (const PdJv *e = pd_jv_first (v); e != NULL; e = pd_jv_next (v, e))
              if (g_strcmp0 (pd_jv_key (v, e), l->data) == 0)
                last = e;
            if (member != last)
              {
                if (!input_has_nul_escape)
                  same = FALSE;
                else
                  lax (LAX_NUL_KEY);
              }
            same = same && last != NULL && same_tree (json_object_get_member (o, l->data), last);
          }
        g_list_free (names);
        if (!same)
          return FALSE;
        for (const PdJv *e = pd_jv_first (v); e != NULL; e = pd_jv_next (v, e), n++)
          {
            const char *key = pd_jv_key (v, e);
            const PdJv *later;

            if (key == NULL)
              return FALSE;
            for (later = pd_jv_next (v, e); later != NULL; later = pd_jv_next (v, later))
              if (strcmp (pd_jv_key (v, later), key) == 0)
                break;
            if (later == NULL)
              distinct++;
          }
        return n == pd_jv_len (v) && distinct == json_object_get_size (o);
      }

    default:
      return FALSE;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static gboolean init;

  if (!init)
    {
      /* A GLib critical is a bug the fuzzer must report. */
      g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
      atexit (print_lax_counts);
      init = TRUE;
    }
  check ((const char *) data, size);
  return 0;
}

/* Every value: its text inside its container's, its accessors sane; a
 * container's text (near the root: deep ones would cost depth times the
 * input) parses again to the same shape. */
static void
walk (const PdJv *v,
      const char *outer,
      gsize       outer_len,
      guint       depth)
{
  gsize len;
  const char *t = pd_jv_text (v, &len);
  guint n = 0;

  if (t == NULL || t < outer || t + len > outer + outer_len || len == 0)
    abort ();
  switch (pd_jv_type (v))
    {
    case PD_JV_STRING:
      if (t[0] != '"' || t[len - 1] != '"' || pd_jv_string (v) == NULL
          || pd_jv_string_len (v) > len - 2 || strlen (pd_jv_string (v)) > pd_jv_string_len (v))
        abort ();
      break;
    case PD_JV_NUMBER:
      if (!pd_jv_double (v, NULL))
        abort ();
      break;
    case PD_JV_BOOL:
      if (pd_jv_is_true (v) != (t[0] == 't'))
        abort ();
      break;
    case PD_JV_NULL:
      if (len != 4)
        abort ();
      break;
    case PD_JV_ARRAY:
    case PD_JV_OBJECT:
      {
        g_autoptr(PdJsonDoc) again = depth < 4 ? pd_json_doc_parse (t, len, NULL) : NULL;

        if (depth < 4
            && (again == NULL || pd_jv_type (pd_json_doc_root (again)) != pd_jv_type (v)
                || pd_jv_len (pd_json_doc_root (again)) != pd_jv_len (v)))
          abort ();
        for (const PdJv *e = pd_jv_first (v); e != NULL; e = pd_jv_next (v, e), n++)
          {
            if ((pd_jv_type (v) == PD_JV_OBJECT) != (pd_jv_key (v, e) != NULL))
              abort ();
            walk (e, t, len, depth + 1);
          }
        if (n != pd_jv_len (v))
          abort ();
        break;
      }
    default:
      abort ();
    }
}

static void
check (const char *text,
       gsize       size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) jerror = NULL;
  g_autoptr(PdJsonDoc) doc = NULL;
  g_autoptr(JsonParser) parser = NULL;
  gboolean valid_utf8, jok;

  doc = pd_json_doc_parse (text, size, &error);
  if ((doc == NULL) == (error == NULL))
    abort ();
  if (doc != NULL)
    {
      gsize len;
      const char *t = pd_jv_text (pd_json_doc_root (doc), &len);

      if (t == NULL || len > size)
        abort ();
      walk (pd_json_doc_root (doc), t, len, 0);
    }

  valid_utf8 = g_utf8_validate_len (text, size, NULL);
  if (!valid_utf8)
    {
      if (doc != NULL)
        abort ();
      return;
    }

  input_has_nul_escape = g_strstr_len (text, size, "\\u0000") != NULL;
  parser = json_parser_new ();
  jok = json_parser_load_from_data (parser, text, size, &jerror);
  if (jok && doc == NULL)
    {
      if (lax_only (text, size, error))
        return;
      fprintf (stderr, "json-glib accepts, pd_json_doc: %s\n", error->message);
      abort ();
    }
  if (!jok && doc != NULL)
    {
      fprintf (stderr, "pd_json_doc accepts, json-glib: %s\n", jerror->message);
      abort ();
    }
  if (jok && (json_parser_get_root (parser) == NULL
              || !same_tree (json_parser_get_root (parser), pd_json_doc_root (doc))))
    {
      fprintf (stderr, "the trees differ\n");
      abort ();
    }
}
