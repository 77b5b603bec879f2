/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-json-doc"

#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "pd-json-doc.h"

static PdJsonDoc *
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  PdJsonDoc *doc = pd_json_doc_parse (text, strlen (text), &error);

  g_assert_no_error (error);
  g_assert_nonnull (doc);
  return doc;
}

/* Asserts the parse fails at byte `at` with a message containing `what`. */
static void
assert_invalid (const char *text,
                gsize       len,
                gsize       at,
                const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdJsonDoc) doc = pd_json_doc_parse (text, len, &error);
  g_autofree char *where = g_strdup_printf ("at byte %" G_GSIZE_FORMAT, at);

  if (doc != NULL || error == NULL || strstr (error->message, what) == NULL
      || !g_str_has_suffix (error->message, where))
    g_error ("parsing %s: expected \"%s\" %s, got %s", text, what, where,
             error != NULL ? error->message : "no error");
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

/* --- json-glib as the reference ------------------------------------------ */

/* NULL when the trees are the same, else where and how they differ. */
static char *
compare_trees (JsonNode   *j,
               const PdJv *v,
               const char *path)
{
  switch (json_node_get_node_type (j))
    {
    case JSON_NODE_NULL:
      if (pd_jv_type (v) != PD_JV_NULL || v == NULL)
        return g_strdup_printf ("%s: not null", path);
      return NULL;

    case JSON_NODE_VALUE:
      {
        GType t = json_node_get_value_type (j);

        if (t == G_TYPE_STRING)
          {
            if (g_strcmp0 (json_node_get_string (j), pd_jv_string (v)) != 0)
              return g_strdup_printf ("%s: string \"%s\" vs \"%s\"", path,
                                      json_node_get_string (j), pd_jv_string (v));
          }
        else if (t == G_TYPE_INT64)
          {
            gint64 i;

            if (!pd_jv_int (v, &i) || i != json_node_get_int (j))
              return g_strdup_printf ("%s: int %" G_GINT64_FORMAT, path, json_node_get_int (j));
          }
        else if (t == G_TYPE_DOUBLE)
          {
            double d, jd = json_node_get_double (j);

            if (!pd_jv_double (v, &d) || pd_jv_int (v, NULL)
                || (d != jd && !(isnan (d) && isnan (jd))))
              return g_strdup_printf ("%s: double %.17g", path, jd);
          }
        else if (t == G_TYPE_BOOLEAN)
          {
            if (pd_jv_type (v) != PD_JV_BOOL || pd_jv_is_true (v) != json_node_get_boolean (j))
              return g_strdup_printf ("%s: boolean", path);
          }
        else
          return g_strdup_printf ("%s: json-glib type %s", path, g_type_name (t));
        return NULL;
      }

    case JSON_NODE_ARRAY:
      {
        JsonArray *a = json_node_get_array (j);
        const PdJv *e;
        guint i = 0;

        if (pd_jv_type (v) != PD_JV_ARRAY || pd_jv_len (v) != json_array_get_length (a))
          return g_strdup_printf ("%s: not an array of %u", path, json_array_get_length (a));
        for (e = pd_jv_first (v); e != NULL; e = pd_jv_next (v, e), i++)
          {
            g_autofree char *sub = g_strdup_printf ("%s[%u]", path, i);
            char *diff;

            if (pd_jv_at (v, i) != e)
              return g_strdup_printf ("%s: pd_jv_at", sub);
            diff = compare_trees (json_array_get_element (a, i), e, sub);
            if (diff != NULL)
              return diff;
          }
        if (i != json_array_get_length (a))
          return g_strdup_printf ("%s: walked %u elements", path, i);
        return NULL;
      }

    case JSON_NODE_OBJECT:
      {
        JsonObject *o = json_node_get_object (j);
        g_autoptr(GList) names = json_object_get_members (o);
        guint distinct = 0;

        if (pd_jv_type (v) != PD_JV_OBJECT)
          return g_strdup_printf ("%s: not an object", path);
        for (GList *l = names; l != NULL; l = l->next)
          {
            g_autofree char *sub = g_strdup_printf ("%s.%s", path, (const char *) l->data);
            char *diff = compare_trees (json_object_get_member (o, l->data),
                                        pd_jv_member (v, l->data), sub);

            if (diff != NULL)
              return diff;
          }
        /* The same names: each member whose value is the one that counts
         * is one distinct name. */
        for (const PdJv *e = pd_jv_first (v); e != NULL; e = pd_jv_next (v, e))
          if (pd_jv_member (v, pd_jv_key (v, e)) == e)
            distinct++;
        if (distinct != json_object_get_size (o))
          return g_strdup_printf ("%s: %u names vs %u", path, distinct, json_object_get_size (o));
        return NULL;
      }

    default:
      return g_strdup_printf ("%s: json-glib node type", path);
    }
}

static void
assert_same_as_json_glib (const char *text,
                          gsize       len,
                          const char *name)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PdJsonDoc) doc = NULL;
  g_autofree char *diff = NULL;

  g_assert_true (json_parser_load_from_data (parser, text, len, &error));
  g_assert_no_error (error);
  doc = pd_json_doc_parse (text, len, &error);
  g_assert_no_error (error);
  diff = compare_trees (json_parser_get_root (parser), pd_json_doc_root (doc), "$");
  if (diff != NULL)
    g_error ("%s differs from json-glib: %s", name, diff);
}

/* --- tests --------------------------------------------------------------- */

static void
test_scalars (void)
{
  g_autoptr(PdJsonDoc) n = parse_ok ("null");
  g_autoptr(PdJsonDoc) t = parse_ok (" true ");
  g_autoptr(PdJsonDoc) f = parse_ok ("false");
  g_autoptr(PdJsonDoc) i = parse_ok ("-42");
  g_autoptr(PdJsonDoc) d = parse_ok ("2.5e-1");
  g_autoptr(PdJsonDoc) s = parse_ok ("\"h\\u00e9\"");
  g_autoptr(PdJsonDoc) e = parse_ok ("\"\"");
  gint64 iv = 0;
  double dv = 0;

  g_assert_cmpint (pd_jv_type (pd_json_doc_root (n)), ==, PD_JV_NULL);
  g_assert_nonnull (pd_json_doc_root (n));
  g_assert_cmpint (pd_jv_type (pd_json_doc_root (t)), ==, PD_JV_BOOL);
  g_assert_true (pd_jv_is_true (pd_json_doc_root (t)));
  g_assert_cmpint (pd_jv_type (pd_json_doc_root (f)), ==, PD_JV_BOOL);
  g_assert_false (pd_jv_is_true (pd_json_doc_root (f)));
  g_assert_cmpint (pd_jv_type (pd_json_doc_root (i)), ==, PD_JV_NUMBER);
  g_assert_true (pd_jv_int (pd_json_doc_root (i), &iv));
  g_assert_cmpint (iv, ==, -42);
  g_assert_true (pd_jv_double (pd_json_doc_root (i), &dv));
  g_assert_cmpfloat (dv, ==, -42.0);
  g_assert_false (pd_jv_int (pd_json_doc_root (d), &iv));
  g_assert_true (pd_jv_double (pd_json_doc_root (d), &dv));
  g_assert_cmpfloat (dv, ==, 0.25);
  g_assert_cmpint (pd_jv_type (pd_json_doc_root (s)), ==, PD_JV_STRING);
  g_assert_cmpstr (pd_jv_string (pd_json_doc_root (s)), ==, "h\xc3\xa9");
  g_assert_cmpuint (pd_jv_string_len (pd_json_doc_root (s)), ==, 3);
  g_assert_cmpstr (pd_jv_string (pd_json_doc_root (e)), ==, "");
  g_assert_cmpuint (pd_jv_string_len (pd_json_doc_root (e)), ==, 0);
  /* Scalars are not containers. */
  g_assert_cmpuint (pd_jv_len (pd_json_doc_root (s)), ==, 0);
  g_assert_null (pd_jv_first (pd_json_doc_root (s)));
  g_assert_null (pd_jv_member (pd_json_doc_root (s), "h"));
}

static const char bundle[] =
  "{\n"
  "  \"resourceType\": \"Bundle\",\n"
  "  \"total\": 2,\n"
  "  \"entry\": [\n"
  "    {\"resource\": {\"resourceType\": \"Patient\", \"id\": \"p1\",\n"
  "                  \"name\": [{\"family\": \"\\u738b\", \"given\": [\"\\u5c0f\\u660e\"]}],\n"
  "                  \"active\": true}},\n"
  "    {\"resource\": {\"resourceType\": \"Observation\", \"id\": \"o1\",\n"
  "                  \"valueQuantity\": {\"value\": 4.8, \"unit\": \"mmol/L\"}}},\n"
  "    \"not an object\"\n"
  "  ],\n"
  "  \"meta\": null\n"
  "}\n";

static void
test_nested (void)
{
  g_autoptr(PdJsonDoc) doc = parse_ok (bundle);
  const PdJv *root = pd_json_doc_root (doc);
  const PdJv *entry, *patient, *obs;
  double value = 0;
  gint64 total = 0;

  g_assert_cmpint (pd_jv_type (root), ==, PD_JV_OBJECT);
  g_assert_cmpuint (pd_jv_len (root), ==, 4);
  g_assert_cmpstr (pd_jv_str (root, "resourceType"), ==, "Bundle");
  g_assert_true (pd_jv_int (pd_jv_member (root, "total"), &total));
  g_assert_cmpint (total, ==, 2);
  g_assert_nonnull (pd_jv_member (root, "meta"));
  g_assert_cmpint (pd_jv_type (pd_jv_member (root, "meta")), ==, PD_JV_NULL);
  g_assert_null (pd_jv_member (root, "missing"));

  entry = pd_jv_arr (root, "entry");
  g_assert_nonnull (entry);
  g_assert_cmpuint (pd_jv_len (entry), ==, 3);
  /* The wrong type answers NULL. */
  g_assert_null (pd_jv_obj (root, "entry"));
  g_assert_null (pd_jv_str (root, "entry"));
  g_assert_null (pd_jv_arr (root, "total"));
  g_assert_null (pd_jv_str (root, "total"));

  patient = pd_jv_obj (pd_jv_at_obj (entry, 0), "resource");
  g_assert_cmpstr (pd_jv_str (patient, "id"), ==, "p1");
  g_assert_cmpstr (pd_jv_str (pd_jv_at (pd_jv_arr (patient, "name"), 0), "family"), ==, "\xe7\x8e\x8b");
  g_assert_cmpstr (pd_jv_string (pd_jv_at (pd_jv_arr (pd_jv_at (pd_jv_arr (patient, "name"), 0), "given"), 0)),
                   ==, "\xe5\xb0\x8f\xe6\x98\x8e");
  g_assert_true (pd_jv_is_true (pd_jv_member (patient, "active")));

  obs = pd_jv_obj (pd_jv_at_obj (entry, 1), "resource");
  g_assert_true (pd_jv_double (pd_jv_member (pd_jv_obj (obs, "valueQuantity"), "value"), &value));
  g_assert_cmpfloat (value, ==, 4.8);
  g_assert_false (pd_jv_int (pd_jv_member (pd_jv_obj (obs, "valueQuantity"), "value"), NULL));
  g_assert_cmpstr (pd_jv_str (pd_jv_obj (obs, "valueQuantity"), "unit"), ==, "mmol/L");

  /* pd_jv_at_obj only answers objects; out of range is NULL. */
  g_assert_null (pd_jv_at_obj (entry, 2));
  g_assert_cmpstr (pd_jv_string (pd_jv_at (entry, 2)), ==, "not an object");
  g_assert_null (pd_jv_at (entry, 3));
  g_assert_null (pd_jv_at (entry, G_MAXUINT));

  assert_same_as_json_glib (bundle, strlen (bundle), "bundle");
}

static void
assert_text (const PdJv *v,
             const char *expected)
{
  gsize len = 0;
  const char *text = pd_jv_text (v, &len);

  g_assert_nonnull (text);
  g_assert_cmpmem (text, len, expected, strlen (expected));
}

static void
test_text_spans (void)
{
  static const char json[] =
    " \t\r\n{ \"a\" : [ 1 , -2.5e+3 , \"x\\n\\u00e9\" ] ,\n \"b\" :{ } , \"c\":[],\"d\" : true ,\"e\":null } \n";
  g_autoptr(PdJsonDoc) doc = parse_ok (json);
  const PdJv *root = pd_json_doc_root (doc);
  const PdJv *a = pd_jv_arr (root, "a");
  gsize len = 99;

  g_assert_cmpmem (pd_jv_text (root, &len), len, json + 4, strlen (json) - 4 - 2);
  assert_text (a, "[ 1 , -2.5e+3 , \"x\\n\\u00e9\" ]");
  assert_text (pd_jv_at (a, 0), "1");
  assert_text (pd_jv_at (a, 1), "-2.5e+3");
  assert_text (pd_jv_at (a, 2), "\"x\\n\\u00e9\"");
  assert_text (pd_jv_member (root, "b"), "{ }");
  assert_text (pd_jv_member (root, "c"), "[]");
  assert_text (pd_jv_member (root, "d"), "true");
  assert_text (pd_jv_member (root, "e"), "null");
  /* The key's own text is not a value's: the value starts after ':'. */
  g_assert_true (pd_jv_text (pd_jv_member (root, "a"), NULL) == pd_jv_text (a, NULL));

  g_assert_null (pd_jv_text (NULL, &len));
  g_assert_cmpuint (len, ==, 0);
}

static void
test_escapes (void)
{
  static const char json[] =
    "[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\", \"\\u0041\\u00e9\\u4E2D\", \"\\ud83d\\ude00\", "
    "\"\\uD834\\uDD1E!\", \"a\\u0000b\", \"/\", \"\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80\"]";
  g_autoptr(PdJsonDoc) doc = parse_ok (json);
  const PdJv *a = pd_json_doc_root (doc);

  g_assert_cmpstr (pd_jv_string (pd_jv_at (a, 0)), ==, "\" \\ / \b \f \n \r \t");
  g_assert_cmpstr (pd_jv_string (pd_jv_at (a, 1)), ==, "A\xc3\xa9\xe4\xb8\xad");
  g_assert_cmpstr (pd_jv_string (pd_jv_at (a, 2)), ==, "\xf0\x9f\x98\x80");
  g_assert_cmpstr (pd_jv_string (pd_jv_at (a, 3)), ==, "\xf0\x9d\x84\x9e!");
  /* U+0000 ends the C string; the length is the whole. */
  g_assert_cmpstr (pd_jv_string (pd_jv_at (a, 4)), ==, "a");
  g_assert_cmpuint (pd_jv_string_len (pd_jv_at (a, 4)), ==, 3);
  g_assert_cmpmem (pd_jv_string (pd_jv_at (a, 4)), 3, "a\0b", 3);
  g_assert_cmpstr (pd_jv_string (pd_jv_at (a, 5)), ==, "/");
  g_assert_cmpstr (pd_jv_string (pd_jv_at (a, 6)), ==, "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80");
}

static void
test_duplicates (void)
{
  static const char dup[] = "{\"a\": 1, \"b\": {\"x\": 1}, \"a\": [2], \"a\": \"last\"}";
  g_autoptr(PdJsonDoc) doc = parse_ok (dup);
  const PdJv *root = pd_json_doc_root (doc);
  g_autoptr(PdJsonDoc) nul = parse_ok ("{\"a\\u0000b\": 1, \"a\": 2}");

  g_assert_cmpstr (pd_jv_str (root, "a"), ==, "last");
  g_assert_null (pd_jv_arr (root, "a"));
  /* pd_jv_len counts members as written. */
  g_assert_cmpuint (pd_jv_len (root), ==, 4);
  assert_same_as_json_glib (dup, strlen (dup), "duplicates");

  /* A name with U+0000 in it matches no C string. */
  g_assert_true (pd_jv_member (pd_json_doc_root (nul), "a") == pd_jv_at (pd_json_doc_root (nul), 1));
  {
    g_autoptr(PdJsonDoc) only = parse_ok ("{\"a\\u0000b\": 1}");

    g_assert_null (pd_jv_member (pd_json_doc_root (only), "a"));
    g_assert_cmpstr (pd_jv_key (pd_json_doc_root (only), pd_jv_first (pd_json_doc_root (only))), ==, "a");
  }
}

static void
test_iterate (void)
{
  g_autoptr(PdJsonDoc) doc = parse_ok ("{\"k1\": [1, [2, 3], {\"z\": 4}, 5], \"k2\": {}, \"k3\": \"s\", \"k4\": {\"in\": [\"x\", \"y\"]}}");
  const PdJv *root = pd_json_doc_root (doc);
  const PdJv *arr = pd_jv_arr (root, "k1");
  const PdJv *in = pd_jv_arr (pd_jv_obj (root, "k4"), "in");
  static const char *keys[] = { "k1", "k2", "k3", "k4" };
  static const char *texts[] = { "1", "[2, 3]", "{\"z\": 4}", "5" };
  const PdJv *e;
  guint i = 0;

  for (e = pd_jv_first (root); e != NULL; e = pd_jv_next (root, e), i++)
    {
      g_assert_cmpuint (i, <, G_N_ELEMENTS (keys));
      g_assert_cmpstr (pd_jv_key (root, e), ==, keys[i]);
      g_assert_true (pd_jv_member (root, keys[i]) == e);
      g_assert_true (pd_jv_at (root, i) == e);
    }
  g_assert_cmpuint (i, ==, 4);

  i = 0;
  for (e = pd_jv_first (arr); e != NULL; e = pd_jv_next (arr, e), i++)
    {
      g_assert_cmpuint (i, <, G_N_ELEMENTS (texts));
      assert_text (e, texts[i]);
      g_assert_true (pd_jv_at (arr, i) == e);
      /* An array element has no key. */
      g_assert_null (pd_jv_key (arr, e));
    }
  g_assert_cmpuint (i, ==, 4);

  /* Empty containers. */
  g_assert_null (pd_jv_first (pd_jv_obj (root, "k2")));
  g_assert_cmpuint (pd_jv_len (pd_jv_obj (root, "k2")), ==, 0);

  /* pd_jv_key only names the object's own members: not a nested value,
   * not an element of a nested array (whose node precedes another
   * string), not the key itself. */
  g_assert_null (pd_jv_key (root, pd_jv_at (in, 1)));
  g_assert_null (pd_jv_key (root, pd_jv_member (pd_jv_at (arr, 2), "z")));
  g_assert_cmpstr (pd_jv_key (pd_jv_at (arr, 2), pd_jv_member (pd_jv_at (arr, 2), "z")), ==, "z");
  g_assert_null (pd_jv_key (root, root));
  g_assert_null (pd_jv_key (root, NULL));
  g_assert_null (pd_jv_key (arr, pd_jv_at (arr, 0)));
  /* pd_jv_next with an element of another container ends the walk. */
  g_assert_null (pd_jv_next (root, pd_jv_at (arr, 0)));
  g_assert_null (pd_jv_next (arr, pd_jv_at (in, 0)));
  g_assert_null (pd_jv_next (arr, arr));
  g_assert_null (pd_jv_next (arr, NULL));
}

static void
test_numbers (void)
{
  static const struct { const char *text; gboolean is_int; gint64 i; double d; } cases[] = {
    { "0", TRUE, 0, 0 },
    { "-0", TRUE, 0, -0.0 },
    { "17", TRUE, 17, 17 },
    { "1.0", FALSE, 0, 1.0 },
    { "1e2", FALSE, 0, 100 },
    { "1E+2", FALSE, 0, 100 },
    { "-1.5e-2", FALSE, 0, -0.015 },
    { "9223372036854775807", TRUE, G_MAXINT64, 9223372036854775807.0 },
    { "-9223372036854775808", TRUE, G_MININT64, -9223372036854775808.0 },
    { "9223372036854775808", FALSE, 0, 9223372036854775808.0 },
    { "-9223372036854775809", FALSE, 0, -9223372036854775809.0 },
    { "123456789012345678901234567890", FALSE, 0, 123456789012345678901234567890.0 },
    { "0.1", FALSE, 0, 0.1 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(PdJsonDoc) doc = parse_ok (cases[c].text);
      const PdJv *v = pd_json_doc_root (doc);
      gint64 i = 12345;
      double d = 0;

      g_assert_cmpint (pd_jv_type (v), ==, PD_JV_NUMBER);
      g_assert_cmpint (pd_jv_int (v, &i), ==, cases[c].is_int);
      if (cases[c].is_int)
        g_assert_cmpint (i, ==, cases[c].i);
      else
        g_assert_cmpint (i, ==, 12345);
      g_assert_true (pd_jv_double (v, &d));
      g_assert_cmpfloat (d, ==, cases[c].d);
      assert_text (v, cases[c].text);
    }

  {
    g_autoptr(PdJsonDoc) doc = parse_ok ("[1e999, -1e999]");
    double d = 0;

    g_assert_true (pd_jv_double (pd_jv_at (pd_json_doc_root (doc), 0), &d));
    g_assert_true (isinf (d) && d > 0);
    g_assert_true (pd_jv_double (pd_jv_at (pd_json_doc_root (doc), 1), &d));
    g_assert_true (isinf (d) && d < 0);
  }
}

static void
test_invalid (void)
{
  static const struct { const char *text; gsize at; const char *what; } cases[] = {
    /* empty and truncated */
    { "", 0, "expected a value" },
    { " \n\t ", 4, "expected a value" },
    { "\xef\xbb\xbf", 3, "expected a value" },
    { "[", 1, "expected a value" },
    { "[1,2", 4, "expected ',' or ']'" },
    { "{", 1, "expected '\"'" },
    { "{\"a\"", 4, "expected ':'" },
    { "{\"a\":", 5, "expected a value" },
    { "{\"a\":1", 6, "expected ',' or '}'" },
    { "\"abc", 4, "expected '\"'" },
    { "\"ab\\", 3, "invalid escape" },
    { "\"\\u12", 1, "invalid escape" },
    { "tru", 0, "expected a value" },
    { "[nul]", 1, "expected a value" },
    /* trailing commas, missing commas and colons */
    { "[1,]", 3, "expected a value" },
    { "[,1]", 1, "expected a value" },
    { "{\"a\":1,}", 7, "expected '\"'" },
    { "{,}", 1, "expected '\"'" },
    { "{\"a\" 1}", 5, "expected ':'" },
    { "[1 2]", 3, "expected ',' or ']'" },
    { "{\"a\":1 \"b\":2}", 7, "expected ',' or '}'" },
    { "[1}", 2, "expected ',' or ']'" },
    { "{\"a\":1]", 6, "expected ',' or '}'" },
    /* not JSON's syntax */
    { "{'a':1}", 1, "expected '\"'" },
    { "{a:1}", 1, "expected '\"'" },
    { "[1 /* c */]", 3, "expected ',' or ']'" },
    { "// c\n1", 0, "expected a value" },
    { "[True]", 1, "expected a value" },
    { "'a'", 0, "expected a value" },
    /* strings */
    { "\"ab\\x\"", 3, "invalid escape" },
    { "\"\\U0041\"", 1, "invalid escape" },
    { "\"\\u00G1\"", 1, "invalid escape" },
    { "\"\\ud800\"", 1, "invalid escape" },
    { "\"x\\ud800x\"", 2, "invalid escape" },
    { "\"\\udc00\\ud800\"", 1, "invalid escape" },
    { "\"\\ud800\\u0041\"", 1, "invalid escape" },
    { "\"\\ud800\\ud800\"", 1, "invalid escape" },
    { "\"\\ud800\\n\"", 1, "invalid escape" },
    { "\"a\tb\"", 2, "control character" },
    { "\"a\nb\"", 2, "control character" },
    { "[\"\x1f\"]", 2, "control character" },
    { "\"\x7f\"\x01", 3, "text after the value" },
    /* UTF-8 */
    { "\"a\xff\"", 2, "invalid UTF-8" },
    { "\"\xc3\"", 1, "invalid UTF-8" },
    { "\"\xc0\xaf\"", 1, "invalid UTF-8" },
    { "\"\xed\xa0\x80\"", 1, "invalid UTF-8" },
    { "\"\xf4\x90\x80\x80\"", 1, "invalid UTF-8" },
    { "[1, 2, 3, 4, 5, 6, 7, 8, \"\xe4\xb8\"]", 26, "invalid UTF-8" },
    { "\xe4\xb8\xad", 0, "expected a value" },
    /* numbers */
    { "01", 1, "malformed number" },
    { "-01", 2, "malformed number" },
    { "00", 1, "malformed number" },
    { "-", 1, "malformed number" },
    { "-a", 1, "malformed number" },
    { "-.5", 1, "malformed number" },
    { "010", 1, "malformed number" },
    { "1.", 2, "malformed number" },
    { "1.e5", 2, "malformed number" },
    { "1e", 2, "malformed number" },
    { "1e+", 3, "malformed number" },
    { "[1E-x]", 4, "malformed number" },
    { ".5", 0, "malformed number" },
    { "+1", 0, "expected a value" },
    { "NaN", 0, "expected a value" },
    { "-Infinity", 1, "malformed number" },
    { "0x10", 1, "malformed number" },
    { "[1.5.2]", 4, "malformed number" },
    { "1e5e5", 3, "malformed number" },
    { "1-2", 1, "malformed number" },
    { "[1true]", 2, "malformed number" },
    /* after the root */
    { "1 2", 2, "text after the value" },
    { "{} x", 3, "text after the value" },
    { "[]]", 2, "text after the value" },
    { "\"a\"\"b\"", 3, "text after the value" },
    { "null\xef\xbb\xbf", 4, "text after the value" },
    { "\xef\xbb\xbf\xef\xbb\xbf", 3, "expected a value" },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    assert_invalid (cases[c].text, strlen (cases[c].text), cases[c].at, cases[c].what);

  /* NUL bytes are not JSON (and not text g_utf8_validate accepts). */
  assert_invalid ("[1]\0", 4, 3, "invalid UTF-8");
  assert_invalid ("[\"a\0\"]", 6, 3, "invalid UTF-8");
  /* Only the given length is read. */
  assert_invalid ("[1, 2]", 5, 5, "expected ',' or ']'");
}

static char *
nest (guint depth)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < depth; i++)
    g_string_append (s, i % 2 ? "{\"k\":" : "[");
  g_string_append (s, "0");
  for (guint i = depth; i-- > 0;)
    g_string_append (s, i % 2 ? "}" : "]");
  return g_string_free (s, FALSE);
}

static void
test_depth (void)
{
  g_autofree char *ok = nest (512);
  g_autofree char *deep = nest (513);
  g_autofree char *very_deep = nest (100000);
  g_autoptr(PdJsonDoc) doc = parse_ok (ok);
  const PdJv *v = pd_json_doc_root (doc);
  gsize at = 0;
  gint64 zero = -1;

  for (guint i = 0; i < 512; i++)
    v = i % 2 ? pd_jv_member (v, "k") : pd_jv_at (v, 0);
  g_assert_true (pd_jv_int (v, &zero));
  g_assert_cmpint (zero, ==, 0);

  /* The 513th container opens at byte (256 '[' + 256 '{"k":'). */
  at = 256 * 1 + 256 * 5;
  assert_invalid (deep, strlen (deep), at, "nested more than 512 deep");
  assert_invalid (very_deep, strlen (very_deep), at, "nested more than 512 deep");
}

static void
test_bom (void)
{
  g_autoptr(PdJsonDoc) doc = parse_ok ("\xef\xbb\xbf {\"a\": \"b\"}");

  g_assert_cmpstr (pd_jv_str (pd_json_doc_root (doc), "a"), ==, "b");
  assert_text (pd_json_doc_root (doc), "{\"a\": \"b\"}");
}

static void
test_null_safety (void)
{
  g_autoptr(PdJsonDoc) doc = parse_ok ("{\"s\": \"x\", \"n\": 1, \"b\": true, \"z\": null}");
  const PdJv *root = pd_json_doc_root (doc);
  const PdJv *s = pd_jv_member (root, "s");
  const PdJv *n = pd_jv_member (root, "n");
  const PdJv *b = pd_jv_member (root, "b");
  const PdJv *z = pd_jv_member (root, "z");
  const PdJv *nothing = NULL;
  double d = 7;
  gint64 i = 7;

  g_assert_null (pd_json_doc_root (NULL));
  pd_json_doc_unref (NULL);
  g_assert_cmpint (pd_jv_type (NULL), ==, PD_JV_NULL);
  for (guint k = 0; k < 2; k++)
    {
      const PdJv *v = k == 0 ? nothing : s;

      g_assert_null (pd_jv_member (v, "s"));
      g_assert_null (pd_jv_obj (v, "s"));
      g_assert_null (pd_jv_arr (v, "s"));
      g_assert_null (pd_jv_str (v, "s"));
      g_assert_cmpuint (pd_jv_len (v), ==, 0);
      g_assert_null (pd_jv_first (v));
      g_assert_null (pd_jv_next (v, s));
      g_assert_null (pd_jv_at (v, 0));
      g_assert_null (pd_jv_at_obj (v, 0));
      g_assert_null (pd_jv_key (v, s));
    }
  g_assert_null (pd_jv_member (root, NULL));
  g_assert_null (pd_jv_string (NULL));
  g_assert_null (pd_jv_string (n));
  g_assert_cmpuint (pd_jv_string_len (NULL), ==, 0);
  g_assert_cmpuint (pd_jv_string_len (n), ==, 0);
  g_assert_false (pd_jv_double (NULL, &d));
  g_assert_false (pd_jv_double (s, &d));
  g_assert_false (pd_jv_double (z, &d));
  g_assert_cmpfloat (d, ==, 7);
  g_assert_false (pd_jv_int (NULL, &i));
  g_assert_false (pd_jv_int (b, &i));
  g_assert_cmpint (i, ==, 7);
  g_assert_true (pd_jv_int (n, NULL));
  g_assert_false (pd_jv_is_true (NULL));
  g_assert_false (pd_jv_is_true (s));
  g_assert_false (pd_jv_is_true (n));
  g_assert_false (pd_jv_is_true (z));
  g_assert_true (pd_jv_is_true (b));
  g_assert_null (pd_jv_text (NULL, NULL));
}

static gpointer
read_doc_thread (gpointer data)
{
  PdJsonDoc *doc = data;
  guint found = 0;

  for (guint round = 0; round < 2000; round++)
    {
      const PdJv *entry = pd_jv_arr (pd_json_doc_root (doc), "entry");

      for (const PdJv *e = pd_jv_first (entry); e != NULL; e = pd_jv_next (entry, e))
        if (pd_jv_str (pd_jv_obj (e, "resource"), "id") != NULL)
          found++;
    }
  pd_json_doc_unref (doc);
  return GUINT_TO_POINTER (found);
}

static void
test_threads (void)
{
  PdJsonDoc *doc = parse_ok (bundle);
  const PdJv *root = pd_json_doc_root (doc);
  GThread *threads[4];

  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    threads[t] = g_thread_new ("reader", read_doc_thread, pd_json_doc_ref (doc));
  /* Main reads too while the readers hold and drop their references. */
  for (guint round = 0; round < 2000; round++)
    g_assert_cmpstr (pd_jv_str (root, "resourceType"), ==, "Bundle");
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (threads[t])), ==, 2 * 2000);
  /* Still ours. */
  g_assert_cmpstr (pd_jv_str (root, "resourceType"), ==, "Bundle");
  pd_json_doc_unref (doc);

  /* The last reference can be dropped in the other thread. */
  doc = parse_ok (bundle);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (g_thread_new ("last", read_doc_thread, doc))), ==, 2 * 2000);
}

static void
test_append_string (void)
{
  static const char *strings[] = {
    "", "plain", "q\"uote", "back\\slash", "nl\ncr\rtab\tbs\bff\f", "\x01\x1f\x7f",
    "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", "/slash",
  };
  g_autoptr(GString) out = g_string_new (NULL);

  pd_json_append_string (out, NULL);
  g_assert_cmpstr (out->str, ==, "null");
  g_string_truncate (out, 0);
  pd_json_append_string (out, "a\"b\\c\nd\x01");
  g_assert_cmpstr (out->str, ==, "\"a\\\"b\\\\c\\nd\\u0001\"");

  g_string_assign (out, "[");
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      pd_json_append_string (out, strings[i]);
    }
  g_string_append_c (out, ']');
  {
    g_autoptr(PdJsonDoc) doc = parse_ok (out->str);

    for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
      g_assert_cmpstr (pd_jv_string (pd_jv_at (pd_json_doc_root (doc), i)), ==, strings[i]);
    assert_same_as_json_glib (out->str, out->len, "appended strings");
  }
}

static void
test_like_json_glib (void)
{
  static const char *docs[] = {
    "{}", "[]", "[[[]]]", "0", "-0", "1.5", "\"s\"", "true", "null",
    "[1, 2.0, -3e2, 4E-1, 123456789012, -9223372036854775808, 0.000001]",
    "{\"a\": {\"b\": {\"c\": [true, false, null, {\"d\": \"\\u00e9\\ud83d\\ude00\"}]}}}",
    "{\"a\": 1, \"a\": {\"x\": [1]}, \"b\": []}",
    "  [ \"\\\"\\\\\\/\\b\\f\\n\\r\\t\" ]  ",
  };

  for (guint i = 0; i < G_N_ELEMENTS (docs); i++)
    assert_same_as_json_glib (docs[i], strlen (docs[i]), docs[i]);
}

/* Every example in the spec, and a searchset made of them all. */
static void
test_examples_like_json_glib (void)
{
  const char *shared = g_getenv ("PHARMDESK_SHARED");
  g_autofree char *dir_path = g_build_filename (shared != NULL ? shared : "../shared",
                                                "spec", "examples", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, &error);
  g_autoptr(GString) all = g_string_new ("[");
  const char *name;
  guint n = 0;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autofree char *text = NULL;
      gsize len = 0;

      if (!g_str_has_suffix (name, ".json"))
        continue;
      g_assert_true (g_file_get_contents (path, &text, &len, &error));
      g_assert_no_error (error);
      assert_same_as_json_glib (text, len, name);
      if (n++ > 0)
        g_string_append_c (all, ',');
      g_string_append_len (all, text, len);
    }
  g_string_append_c (all, ']');
  g_assert_cmpuint (n, >=, 10);
  assert_same_as_json_glib (all->str, all->len, "all examples");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-doc/scalars", test_scalars);
  g_test_add_func ("/json-doc/nested", test_nested);
  g_test_add_func ("/json-doc/text-spans", test_text_spans);
  g_test_add_func ("/json-doc/escapes", test_escapes);
  g_test_add_func ("/json-doc/duplicates", test_duplicates);
  g_test_add_func ("/json-doc/iterate", test_iterate);
  g_test_add_func ("/json-doc/numbers", test_numbers);
  g_test_add_func ("/json-doc/invalid", test_invalid);
  g_test_add_func ("/json-doc/depth", test_depth);
  g_test_add_func ("/json-doc/bom", test_bom);
  g_test_add_func ("/json-doc/null-safety", test_null_safety);
  g_test_add_func ("/json-doc/threads", test_threads);
  g_test_add_func ("/json-doc/append-string", test_append_string);
  g_test_add_func ("/json-doc/like-json-glib", test_like_json_glib);
  g_test_add_func ("/json-doc/examples-like-json-glib", test_examples_like_json_glib);
  return g_test_run ();
}
