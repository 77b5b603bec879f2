/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* JSON read in bulk from other systems (the hospital's searchsets, the
 * Bundles the FHIR reader screens): parsed in one pass into a flat array of
 * values held with the text, so reading costs no allocation per value and
 * freeing is one free. A document never changes once parsed, so its values
 * may be read from several threads at once; its reference count is atomic.
 * json-glib stays for the JSON we build and write.
 *
 * A value is a const PdJv *; NULL stands for "missing". Every accessor
 * takes NULL or a value of another type and answers NULL, 0 or FALSE, never
 * a critical, like pd-json.h. Strict RFC 8259 JSON in UTF-8 (a leading BOM
 * is skipped); where an object repeats a member the last one counts. */

typedef struct _PdJsonDoc PdJsonDoc;
typedef struct _PdJv      PdJv;

typedef enum {
  PD_JV_NULL,
  PD_JV_BOOL,
  PD_JV_NUMBER,
  PD_JV_STRING,
  PD_JV_ARRAY,
  PD_JV_OBJECT,
} PdJvType;

/* Copies text. Error (G_IO_ERROR_INVALID_DATA): one sentence naming what
 * was wrong and the byte offset where. len is the exact length (no -1 for
 * NUL-terminated); text is at most 4 GiB - 2 bytes; nesting at most 512. */
PdJsonDoc  *pd_json_doc_parse   (const char  *text,
                                 gsize        len,
                                 GError     **error);
PdJsonDoc  *pd_json_doc_ref     (PdJsonDoc   *doc);
void        pd_json_doc_unref   (PdJsonDoc   *doc);
const PdJv *pd_json_doc_root    (PdJsonDoc   *doc);

PdJvType    pd_jv_type          (const PdJv  *v);      /* PD_JV_NULL for NULL */

/* Objects: the member's value, any type / only an object, array, string. */
const PdJv *pd_jv_member        (const PdJv  *object,
                                 const char  *name);
const PdJv *pd_jv_obj           (const PdJv  *object,
                                 const char  *name);
const PdJv *pd_jv_arr           (const PdJv  *object,
                                 const char  *name);
const char *pd_jv_str           (const PdJv  *object,
                                 const char  *name);

/* Arrays and objects: how many elements (members). Walk them in order:
 *   for (const PdJv *e = pd_jv_first (a); e != NULL; e = pd_jv_next (a, e))
 * (for an object these are the members' values; pd_jv_key names them).
 * pd_jv_at is O(i): loops over long arrays walk instead. For an object,
 * pd_jv_len counts its members as written (a repeated name counts each
 * time) and pd_jv_at answers the i-th member's value; pd_jv_key takes that
 * value (not the object's key) and is O(1). */
guint       pd_jv_len           (const PdJv  *container);
const PdJv *pd_jv_first         (const PdJv  *container);
const PdJv *pd_jv_next          (const PdJv  *container,
                                 const PdJv  *element);
const PdJv *pd_jv_at            (const PdJv  *array,
                                 guint        i);
const PdJv *pd_jv_at_obj        (const PdJv  *array,       /* only an object */
                                 guint        i);
const char *pd_jv_key           (const PdJv  *object,
                                 const PdJv  *member);

/* Scalars. A string is unescaped and NUL-terminated (an embedded U+0000
 * ends it early; pd_jv_string_len gives the whole length). */
const char *pd_jv_string        (const PdJv  *v);
gsize       pd_jv_string_len    (const PdJv  *v);
gboolean    pd_jv_double        (const PdJv  *v,
                                 double      *out);
/* pd_jv_double: a number too large for a double gives ±infinity.
 * pd_jv_int: only a number written without fraction or exponent that fits. */
gboolean    pd_jv_int           (const PdJv  *v,
                                 gint64      *out);
gboolean    pd_jv_is_true       (const PdJv  *v);

/* The value's JSON text exactly as given (no surrounding whitespace). */
const char *pd_jv_text          (const PdJv  *v,
                                 gsize       *len);

/* Appends s as a JSON string (quotes and escapes) to out. */
void        pd_json_append_string (GString    *out,
                                   const char *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdJsonDoc, pd_json_doc_unref)

G_END_DECLS
