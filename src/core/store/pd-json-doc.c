/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-json-doc"

#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-json-doc.h"

/* The document is three blocks: this struct with the text copy and the
 * string arena after it, and the node array. Values are laid out in
 * document order: a container, then its children's subtrees; an object's
 * member is its key (a string node flagged PD_JV_KEY) followed by the
 * value's subtree. v + v->skip is the node after v's subtree. */

#define PD_JSON_DOC_MAX_DEPTH 512
/* Node indexes, counts and spans are 32-bit. */
#define PD_JSON_DOC_MAX_LEN   ((gsize) G_MAXUINT32 - 1)
/* Spare bytes after the text and after the arena, for reading and
 * writing strings eight bytes at a time. */
#define PAD 8

enum {
  PD_JV_INT = 1 << 0,   /* a number without fraction or exponent */
  PD_JV_KEY = 1 << 1,   /* an object member's name */
};

struct _PdJv
{
  const char *raw;      /* the value's text in doc->text */
  const char *str;      /* strings: unescaped, NUL-terminated, in the arena */
  guint32     raw_len;
  guint32     skip;     /* nodes in the subtree, this one included */
  guint32     n;        /* containers: elements or members; strings: length */
  guint8      type;
  guint8      flags;
  guint16     depth;    /* the root is 0; a key has its value's depth */
};

G_STATIC_ASSERT (sizeof (struct _PdJv) <= 32);

struct _PdJsonDoc
{
  gatomicrefcount  ref_count;
  PdJv            *nodes;
  gsize            len;
  char            *text;    /* len + 1 + PAD bytes, after the struct */
  char            *arena;   /* len + 1 + PAD bytes, after the text */
};

typedef enum {
  ERR_VALUE,
  ERR_PUNCT,
  ERR_NUMBER,
  ERR_ESCAPE,
  ERR_CONTROL,
  ERR_DEPTH,
  ERR_TRAILING,
} ParseErr;

typedef struct
{
  const guchar *text;
  PdJv         *nodes;
  guint32       n_nodes;
  guint32       n_alloc;
  guchar       *arena;      /* the next free byte */
  /* The first error */
  ParseErr      err;
  const char   *err_what;   /* ERR_PUNCT: the punctuation expected */
  const guchar *err_at;
} Parser;

#define ONES G_GUINT64_CONSTANT (0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT (0x8080808080808080)

/* The bytes of w (little-endian) that end a run of plain string
 * characters: '"', '\\' and control characters, NUL among them (validation
 * left only the terminating NUL in the text). Only the lowest flag is
 * exact, which is the one used. */
static inline guint64
stop_mask (guint64 w)
{
  guint64 q = w ^ (ONES * '"');
  guint64 b = w ^ (ONES * '\\');

  return ((q - ONES) & ~q & HIGHS) | ((b - ONES) & ~b & HIGHS) | ((w - ONES * 0x20) & ~w & HIGHS);
}

static gboolean
fail (Parser       *ps,
      ParseErr      err,
      const char   *what,
      const guchar *at)
{
  ps->err = err;
  ps->err_what = what;
  ps->err_at = at;
  return FALSE;
}

static inline const guchar *
skip_space (const guchar *p)
{
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
    p++;
  return p;
}

static inline gboolean
is_digit (guchar c)
{
  return c >= '0' && c <= '9';
}

static inline guint32
add_node (Parser *ps)
{
  if (G_UNLIKELY (ps->n_nodes == ps->n_alloc))
    {
      ps->n_alloc *= 2;
      ps->nodes = g_renew (PdJv, ps->nodes, ps->n_alloc);
    }
  return ps->n_nodes++;
}

/* Four hex digits, or -1. Stops at the first non-hex byte, so never reads
 * past the terminating NUL. */
static gint32
hex4 (const guchar *p)
{
  gint32 cp = 0;

  for (int i = 0; i < 4; i++)
    {
      guchar c = p[i];
      gint32 d;

      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        return -1;
      cp = cp << 4 | d;
    }
  return cp;
}

static guchar *
put_utf8 (guchar  *out,
          guint32  cp)
{
  if (cp < 0x80)
    *out++ = cp;
  else if (cp < 0x800)
    {
      *out++ = 0xc0 | cp >> 6;
      *out++ = 0x80 | (cp & 0x3f);
    }
  else if (cp < 0x10000)
    {
      *out++ = 0xe0 | cp >> 12;
      *out++ = 0x80 | (cp >> 6 & 0x3f);
      *out++ = 0x80 | (cp & 0x3f);
    }
  else
    {
      *out++ = 0xf0 | cp >> 18;
      *out++ = 0x80 | (cp >> 12 & 0x3f);
      *out++ = 0x80 | (cp >> 6 & 0x3f);
      *out++ = 0x80 | (cp & 0x3f);
    }
  return out;
}

/* p is at the opening quote; fills node i and returns the byte after the
 * closing quote, or NULL. An unescaped string plus its NUL is never longer
 * than its quoted text, so the arena (as long as the text) always has room. */
static const guchar *
parse_string (Parser       *ps,
              const guchar *p,
              guint32       i,
              guint8        flags,
              guint16       depth)
{
  const guchar *start = p;
  guchar *out = ps->arena;
  PdJv *v;

  p++;
  for (;;)
    {
      /* Eight bytes at a time: copied whole, then cut at the first
       * stop byte. Both the text and the arena have PAD bytes spare. */
      for (;;)
        {
          guint64 w, m;

          memcpy (&w, p, 8);
          memcpy (out, &w, 8);
          m = stop_mask (GUINT64_FROM_LE (w));
          if (m != 0)
            {
              guint k = (guint) __builtin_ctzll (m) / 8;

              p += k;
              out += k;
              break;
            }
          p += 8;
          out += 8;
        }
      if (G_LIKELY (*p == '"'))
        break;
      if (*p == '\\')
        {
          const guchar *esc = p;
          gint32 cp;

          switch (p[1])
            {
            case '"': *out++ = '"'; p += 2; break;
            case '\\': *out++ = '\\'; p += 2; break;
            case '/': *out++ = '/'; p += 2; break;
            case 'b': *out++ = '\b'; p += 2; break;
            case 'f': *out++ = '\f'; p += 2; break;
            case 'n': *out++ = '\n'; p += 2; break;
            case 'r': *out++ = '\r'; p += 2; break;
            case 't': *out++ = '\t'; p += 2; break;
            case 'u':
              cp = hex4 (p + 2);
              if (cp < 0)
                return fail (ps, ERR_ESCAPE, NULL, esc), NULL;
              p += 6;
              if (cp >= 0xdc00 && cp <= 0xdfff)
                return fail (ps, ERR_ESCAPE, NULL, esc), NULL;
              if (cp >= 0xd800 && cp <= 0xdbff)
                {
                  gint32 lo;

                  /* A high surrogate needs a low one right after it. */
                  if (p[0] != '\\' || p[1] != 'u')
                    return fail (ps, ERR_ESCAPE, NULL, esc), NULL;
                  lo = hex4 (p + 2);
                  if (lo < 0xdc00 || lo > 0xdfff)
                    return fail (ps, ERR_ESCAPE, NULL, esc), NULL;
                  cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                  p += 6;
                }
              out = put_utf8 (out, cp);
              break;
            default:
              return fail (ps, ERR_ESCAPE, NULL, esc), NULL;
            }
          continue;
        }
      if (*p == '\0')
        return fail (ps, ERR_PUNCT, "'\"'", p), NULL;
      return fail (ps, ERR_CONTROL, NULL, p), NULL;
    }
  p++;

  v = &ps->nodes[i];
  v->raw = (const char *) start;
  v->raw_len = p - start;
  v->str = (const char *) ps->arena;
  v->n = out - ps->arena;
  v->skip = 1;
  v->type = PD_JV_STRING;
  v->flags = flags;
  v->depth = depth;
  *out++ = '\0';
  ps->arena = out;
  return p;
}

static const guchar *parse_value (Parser       *ps,
                                  const guchar *p,
                                  guint16       depth);

/* An array or an object (at *p), whose node is i: its elements or its
 * members, each a key, ':' and a value. */
static const guchar *
parse_container (Parser       *ps,
                 const guchar *p,
                 guint32       i,
                 guint16       depth)
{
  gboolean object = *p == '{';
  guchar close = object ? '}' : ']';
  guint32 count = 0;
  PdJv *v;

  p = skip_space (p + 1);
  if (*p != close)
    for (;;)
      {
        if (object)
          {
            if (*p != '"')
              return fail (ps, ERR_PUNCT, "'\"'", p), NULL;
            p = parse_string (ps, p, add_node (ps), PD_JV_KEY, depth + 1);
            if (p == NULL)
              return NULL;
            p = skip_space (p);
            if (*p != ':')
              return fail (ps, ERR_PUNCT, "':'", p), NULL;
            p = skip_space (p + 1);
          }
        p = parse_value (ps, p, depth + 1);
        if (p == NULL)
          return NULL;
        count++;
        p = skip_space (p);
        if (*p == ',')
          {
            p = skip_space (p + 1);
            continue;
          }
        if (*p == close)
          break;
        return fail (ps, ERR_PUNCT, object ? N_("',' or '}'") : N_("',' or ']'"), p), NULL;
      }
  p++;
  v = &ps->nodes[i];
  v->type = object ? PD_JV_OBJECT : PD_JV_ARRAY;
  v->n = count;
  v->skip = ps->n_nodes - i;
  v->raw_len = (const char *) p - v->raw;
  return p;
}

/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static const guchar *
parse_number (Parser       *ps,
              const guchar *p,
              PdJv         *v)
{
  guint8 flags = PD_JV_INT;

  if (*p == '-')
    p++;
  if (*p == '0')
    {
      p++;
      if (is_digit (*p))
        return fail (ps, ERR_NUMBER, NULL, p), NULL;
    }
  else if (is_digit (*p))
    {
      while (is_digit (*p))
        p++;
    }
  else
    return fail (ps, ERR_NUMBER, NULL, p), NULL;
  if (*p == '.')
    {
      p++;
      flags = 0;
      if (!is_digit (*p))
        return fail (ps, ERR_NUMBER, NULL, p), NULL;
      while (is_digit (*p))
        p++;
    }
  if (*p == 'e' || *p == 'E')
    {
      p++;
      flags = 0;
      if (*p == '+' || *p == '-')
        p++;
      if (!is_digit (*p))
        return fail (ps, ERR_NUMBER, NULL, p), NULL;
      while (is_digit (*p))
        p++;
    }
  /* "0x1F", "1.5.2", "2e5e5": the number's error, not the next token's */
  if (g_ascii_isalnum (*p) || *p == '.' || *p == '+' || *p == '-')
    return fail (ps, ERR_NUMBER, NULL, p), NULL;
  v->type = PD_JV_NUMBER;
  v->flags = flags;
  v->raw_len = (const char *) p - v->raw;
  return p;
}

static inline const guchar *
parse_literal (Parser       *ps,
               const guchar *p,
               const char   *word,
               PdJv         *v,
               PdJvType      type)
{
  const guchar *start = p;

  /* Compares byte by byte, so stops at the terminating NUL. */
  for (; *word != '\0'; word++, p++)
    if (*p != (guchar) *word)
      return fail (ps, ERR_VALUE, NULL, start), NULL;
  v->type = type;
  v->raw_len = p - start;
  return p;
}

/* p is at the value's first byte (after any space). */
static const guchar *
parse_value (Parser       *ps,
             const guchar *p,
             guint16       depth)
{
  guint32 i = add_node (ps);
  PdJv *v = &ps->nodes[i];

  v->raw = (const char *) p;
  v->str = NULL;
  v->n = 0;
  v->skip = 1;
  v->flags = 0;
  v->depth = depth;
  switch (*p)
    {
    case '"':
      return parse_string (ps, p, i, 0, depth);
    case '{':
    case '[':
      if (depth >= PD_JSON_DOC_MAX_DEPTH)
        return fail (ps, ERR_DEPTH, NULL, p), NULL;
      /* v moves when the node array grows */
      return parse_container (ps, p, i, depth);
    case 't':
      return parse_literal (ps, p, "true", v, PD_JV_BOOL);
    case 'f':
      return parse_literal (ps, p, "false", v, PD_JV_BOOL);
    case 'n':
      return parse_literal (ps, p, "null", v, PD_JV_NULL);
    case '.':   /* ".5" */
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      return parse_number (ps, p, v);
    default:
      return fail (ps, ERR_VALUE, NULL, p), NULL;
    }
}

/* The whole text is valid UTF-8 and holds no NUL. ASCII is checked a word
 * at a time; each other sequence is handed to g_utf8_validate_len() on its
 * own, so GLib stays the judge of what UTF-8 is. */
static gboolean
validate_utf8 (const guchar  *p,
               gsize          len,
               const guchar **bad)
{
  const guchar *end = p + len;

  while (p < end)
    {
      while (end - p >= 8)
        {
          guint64 w;

          memcpy (&w, p, 8);
          /* any byte >= 0x80, or any byte == 0 */
          if (((w | ((w - G_GUINT64_CONSTANT (0x0101010101010101)) & ~w))
               & G_GUINT64_CONSTANT (0x8080808080808080)) != 0)
            break;
          p += 8;
        }
      while (p < end && *p != 0 && *p < 0x80)
        p++;
      if (p == end)
        break;
      if (*p < 0x80 && *p != 0)
        continue;
      {
        gsize n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
        const char *stop;

        if (n > (gsize) (end - p))
          n = end - p;
        if (!g_utf8_validate_len ((const char *) p, n, &stop))
          {
            *bad = (const guchar *) stop;
            return FALSE;
          }
        p += n;
      }
    }
  return TRUE;
}

/**
 * pd_json_doc_parse:
 * @text: the JSON text; need not be NUL-terminated
 * @len: its length in bytes
 *
 * Returns: (transfer full) (nullable): the document, or %NULL and @error
 */
PdJsonDoc *
pd_json_doc_parse (const char  *text,
                   gsize        len,
                   GError     **error)
{
  PdJsonDoc *doc;
  Parser ps;
  const guchar *p;
  const guchar *bad = NULL;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len > PD_JSON_DOC_MAX_LEN)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Not JSON: the text is longer than %u bytes"), (guint) PD_JSON_DOC_MAX_LEN);
      return NULL;
    }
  if (!validate_utf8 ((const guchar *) text, len, &bad))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Not JSON: invalid UTF-8 at byte %u"), (guint) (bad - (const guchar *) text));
      return NULL;
    }

  doc = g_malloc (sizeof (PdJsonDoc) + 2 * (len + 1 + PAD));
  g_atomic_ref_count_init (&doc->ref_count);
  doc->len = len;
  doc->text = (char *) (doc + 1);
  doc->arena = doc->text + len + 1 + PAD;
  if (len > 0)
    memcpy (doc->text, text, len);
  memset (doc->text + len, 0, 1 + PAD);

  ps.text = (const guchar *) doc->text;
  /* Compact FHIR runs near 10 bytes a value, pretty-printed near 20:
   * enough for most without a copy; the unused tail is given back below
   * and, never touched, costs no memory meanwhile. */
  ps.n_alloc = MAX (16, len / 8);
  ps.n_nodes = 0;
  ps.nodes = g_new (PdJv, ps.n_alloc);
  ps.arena = (guchar *) doc->arena;

  p = ps.text;
  if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
    p += 3;
  p = parse_value (&ps, skip_space (p), 0);
  if (p != NULL)
    {
      p = skip_space (p);
      if (*p != '\0')
        {
          fail (&ps, ERR_TRAILING, NULL, p);
          p = NULL;
        }
    }
  if (p == NULL)
    {
      guint at = ps.err_at - ps.text;   /* the text is under 4 GiB */

      g_free (ps.nodes);
      g_free (doc);
      switch (ps.err)
        {
        case ERR_PUNCT:
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       /* Translators: %s is JSON punctuation, such as ',' or '}' */
                       _("Not JSON: expected %s at byte %u"), _(ps.err_what), at);
          break;
        case ERR_DEPTH:
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Not JSON: nested more than %d deep at byte %u"), PD_JSON_DOC_MAX_DEPTH, at);
          break;
        case ERR_VALUE:
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Not JSON: expected a value at byte %u"), at);
          break;
        case ERR_NUMBER:
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Not JSON: malformed number at byte %u"), at);
          break;
        case ERR_ESCAPE:
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Not JSON: invalid escape in a string at byte %u"), at);
          break;
        case ERR_CONTROL:
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Not JSON: control character in a string at byte %u"), at);
          break;
        case ERR_TRAILING:
        default:
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Not JSON: text after the value at byte %u"), at);
          break;
        }
      return NULL;
    }

  /* Give back a large unused tail; realloc shrinks in place. Not a small
   * one: a block that keeps its size is one malloc reuses for the next
   * page, where a shrunk one makes it map (and fault in) a fresh one. */
  if (ps.n_nodes < ps.n_alloc / 2)
    ps.nodes = g_renew (PdJv, ps.nodes, ps.n_nodes);
  doc->nodes = ps.nodes;
  return doc;
}

PdJsonDoc *
pd_json_doc_ref (PdJsonDoc *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);

  g_atomic_ref_count_inc (&doc->ref_count);
  return doc;
}

void
pd_json_doc_unref (PdJsonDoc *doc)
{
  if (doc == NULL)
    return;
  if (g_atomic_ref_count_dec (&doc->ref_count))
    {
      g_free (doc->nodes);
      g_free (doc);
    }
}

const PdJv *
pd_json_doc_root (PdJsonDoc *doc)
{
  return doc != NULL ? doc->nodes : NULL;
}

PdJvType
pd_jv_type (const PdJv *v)
{
  return v != NULL ? (PdJvType) v->type : PD_JV_NULL;
}

/* Whether e is a direct child value of container c (not a key). */
static inline gboolean
is_child (const PdJv *c,
          const PdJv *e)
{
  return e > c && e < c + c->skip && e->depth == c->depth + 1
         && (e->flags & PD_JV_KEY) == 0;
}

const PdJv *
pd_jv_member (const PdJv *object,
              const char *name)
{
  const PdJv *found = NULL;
  const PdJv *k, *end;
  gsize name_len;

  if (object == NULL || object->type != PD_JV_OBJECT || name == NULL)
    return NULL;
  name_len = strlen (name);
  end = object + object->skip;
  /* Every member is compared: the last one of a name counts. */
  for (k = object + 1; k < end; k = k + 1 + k[1].skip)
    if (k->n == name_len && memcmp (k->str, name, name_len) == 0)
      found = k + 1;
  return found;
}

const PdJv *
pd_jv_obj (const PdJv *object,
           const char *name)
{
  const PdJv *v = pd_jv_member (object, name);

  return v != NULL && v->type == PD_JV_OBJECT ? v : NULL;
}

const PdJv *
pd_jv_arr (const PdJv *object,
           const char *name)
{
  const PdJv *v = pd_jv_member (object, name);

  return v != NULL && v->type == PD_JV_ARRAY ? v : NULL;
}

const char *
pd_jv_str (const PdJv *object,
           const char *name)
{
  return pd_jv_string (pd_jv_member (object, name));
}

guint
pd_jv_len (const PdJv *container)
{
  if (container == NULL
      || (container->type != PD_JV_ARRAY && container->type != PD_JV_OBJECT))
    return 0;
  return container->n;
}

/* For an object, the first member's value. */
const PdJv *
pd_jv_first (const PdJv *container)
{
  if (container == NULL || container->n == 0)
    return NULL;
  if (container->type == PD_JV_ARRAY)
    return container + 1;
  if (container->type == PD_JV_OBJECT)
    return container + 2;
  return NULL;
}

/* NULL after the last, or when element is not one of container's. */
const PdJv *
pd_jv_next (const PdJv *container,
            const PdJv *element)
{
  const PdJv *next;

  if (container == NULL || element == NULL
      || (container->type != PD_JV_ARRAY && container->type != PD_JV_OBJECT)
      || !is_child (container, element))
    return NULL;
  next = element + element->skip;
  if (next >= container + container->skip)
    return NULL;
  return container->type == PD_JV_OBJECT ? next + 1 : next;
}

/* Also takes an object: its i-th member's value. */
const PdJv *
pd_jv_at (const PdJv *array,
          guint       i)
{
  const PdJv *e;

  if (array == NULL || (array->type != PD_JV_ARRAY && array->type != PD_JV_OBJECT)
      || i >= array->n)
    return NULL;
  e = pd_jv_first (array);
  while (i-- > 0)
    e = pd_jv_next (array, e);
  return e;
}

const PdJv *
pd_jv_at_obj (const PdJv *array,
              guint       i)
{
  const PdJv *v = pd_jv_at (array, i);

  return v != NULL && v->type == PD_JV_OBJECT ? v : NULL;
}

/* member must be a value of object's own members; O(1). */
const char *
pd_jv_key (const PdJv *object,
           const PdJv *member)
{
  if (object == NULL || member == NULL || object->type != PD_JV_OBJECT
      || !is_child (object, member))
    return NULL;
  return member[-1].str;
}

const char *
pd_jv_string (const PdJv *v)
{
  return v != NULL && v->type == PD_JV_STRING ? v->str : NULL;
}

gsize
pd_jv_string_len (const PdJv *v)
{
  return v != NULL && v->type == PD_JV_STRING ? v->n : 0;
}

/* A number too large for a double gives ±infinity, like json-glib. */
gboolean
pd_jv_double (const PdJv *v,
              double     *out)
{
  double d;

  if (v == NULL || v->type != PD_JV_NUMBER)
    return FALSE;
  /* The text copy is NUL-terminated and a number is followed by space,
   * punctuation or that NUL, so strtod stops at its end. */
  d = g_ascii_strtod (v->raw, NULL);
  if (out != NULL)
    *out = d;
  return TRUE;
}

gboolean
pd_jv_int (const PdJv *v,
           gint64     *out)
{
  gint64 i;

  if (v == NULL || v->type != PD_JV_NUMBER || (v->flags & PD_JV_INT) == 0)
    return FALSE;
  errno = 0;
  i = g_ascii_strtoll (v->raw, NULL, 10);
  if (errno != 0)
    return FALSE;
  if (out != NULL)
    *out = i;
  return TRUE;
}

gboolean
pd_jv_is_true (const PdJv *v)
{
  return v != NULL && v->type == PD_JV_BOOL && v->raw[0] == 't';
}

const char *
pd_jv_text (const PdJv *v,
            gsize      *len)
{
  if (v == NULL)
    {
      if (len != NULL)
        *len = 0;
      return NULL;
    }
  if (len != NULL)
    *len = v->raw_len;
  return v->raw;
}

void
pd_json_append_string (GString    *out,
                       const char *s)
{
  g_return_if_fail (out != NULL);

  if (s == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append_c (out, '"');
  for (const char *run = s;; )
    {
      const char *p = run;
      guchar c;

      while ((c = *p) >= 0x20 && c != '"' && c != '\\')
        p++;
      g_string_append_len (out, run, p - run);
      if (c == '\0')
        break;
      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        default: g_string_append_printf (out, "\\u%04x", c); break;
        }
      run = p + 1;
    }
  g_string_append_c (out, '"');
}
