/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pharmdesk-bench"

#include "config.h"

#include <string.h>

#include "pd-bench.h"
#include "pd-json-doc.h"

/* Parsing a hospital searchset page and freeing it: pd-json-doc next to
 * json-glib. The page is the spec's example Bundles' entries over and over
 * until it is about 512 KB, written compactly as the hospital (and the
 * sandbox) write it. Floors: for pd-json-doc the least any parser does
 * (validate the UTF-8 and copy the text); for json-glib, pd-json-doc. */

#define PAGE_BYTES (512 * 1024)
#define PASS_BYTES (64 * 1024 * 1024)   /* parsed per measurement */

static char *page;
static gsize page_len;

static void
add_entries_of (JsonArray  *entries,
                const char *path)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonArray *entry;

  if (!json_parser_load_from_file (parser, path, NULL))
    return;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root)
      || !json_object_has_member (json_node_get_object (root), "entry"))
    return;
  entry = json_object_get_array_member (json_node_get_object (root), "entry");
  for (guint i = 0; entry != NULL && i < json_array_get_length (entry); i++)
    json_array_add_element (entries, json_node_copy (json_array_get_element (entry, i)));
}

/* Where the spec's examples are missing: one FHIR-like entry. */
static void
add_synthetic_entry (JsonArray *entries)
{
  static const char entry[] =
    "{\"fullUrl\":\"urn:uuid:7d1c3f0e-0b7a-4c55-9a8e-5f3e1c2b9a10\",\"resource\":{"
    "\"resourceType\":\"MedicationRequest\",\"id\":\"rx-1\",\"status\":\"active\",\"intent\":\"order\","
    "\"identifier\":[{\"system\":\"urn:oid:1.2.156.112606.1.2.1\",\"value\":\"RX-20261120-0001\"}],"
    "\"medicationCodeableConcept\":{\"coding\":[{\"system\":\"http://www.whocc.no/atc\",\"code\":\"C09AA02\","
    "\"display\":\"\\u4f9d\\u90a3\\u666e\\u5229\"}],\"text\":\"\xe4\xbe\x9d\xe9\x82\xa3\xe6\x99\xae\xe5\x88\xa9\xe7\x89\x87 10mg\"},"
    "\"subject\":{\"reference\":\"Patient/p-1\"},\"authoredOn\":\"2026-11-20T08:00:00+08:00\","
    "\"dosageInstruction\":[{\"text\":\"10 mg qd\",\"timing\":{\"repeat\":{\"frequency\":1,\"period\":1,"
    "\"periodUnit\":\"d\"}},\"doseAndRate\":[{\"doseQuantity\":{\"value\":10,\"unit\":\"mg\"}}]}],"
    "\"dispenseRequest\":{\"quantity\":{\"value\":28.0,\"unit\":\"tablet\"}}}}";
  g_autoptr(JsonNode) node = json_from_string (entry, NULL);

  json_array_add_element (entries, g_steal_pointer (&node));
}

static void
build_page (void)
{
  const char *shared = g_getenv ("PHARMDESK_SHARED");
  g_autofree char *dir_path = g_build_filename (shared != NULL && *shared != '\0' ? shared : PD_SOURCE_SHAREDDIR,
                                                "spec", "examples", NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr(JsonArray) examples = json_array_new ();
  g_autoptr(GString) out = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"searchset\","
                                         "\"timestamp\":\"2026-11-20T10:00:00+08:00\",\"entry\":[");
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".json") && !g_str_has_suffix (name, ".expected.json"))
      {
        g_autofree char *path = g_build_filename (dir_path, name, NULL);

        add_entries_of (examples, path);
      }
  if (json_array_get_length (examples) == 0)
    add_synthetic_entry (examples);

  while (out->len < PAGE_BYTES)
    {
      JsonNode *e = json_array_get_element (examples, n % json_array_get_length (examples));
      g_autofree char *text = json_to_string (e, FALSE);

      if (n++ > 0)
        g_string_append_c (out, ',');
      g_string_append (out, text);
    }
  g_string_append (out, "]}");
  page_len = out->len;
  page = g_string_free (g_steal_pointer (&out), FALSE);
}

static double
mb_per_s (gsize   bytes,
          gint64  t0)
{
  return bytes / 1e6 / ((g_get_monotonic_time () - t0) / (double) G_USEC_PER_SEC);
}

/* MB/s of once () over the page, repeated until budget bytes are done. */
static double
passes (void  (*once) (void),
        gsize   budget)
{
  gsize done = 0;
  gint64 t0;

  if (page == NULL)
    build_page ();
  t0 = g_get_monotonic_time ();
  for (; done < budget; done += page_len)
    once ();
  return mb_per_s (done, t0);
}

static void
doc_once (void)
{
  PdJsonDoc *doc = pd_json_doc_parse (page, page_len, NULL);

  g_assert (doc != NULL);
  pd_json_doc_unref (doc);
}

static void
copy_once (void)
{
  char *copy;

  g_assert (g_utf8_validate_len (page, page_len, NULL));
  copy = g_malloc (page_len + 1);
  memcpy (copy, page, page_len);
  copy[page_len] = '\0';
  g_free (copy);
}

static void
glib_once (void)
{
  JsonParser *parser = json_parser_new ();

  g_assert (json_parser_load_from_data (parser, page, page_len, NULL));
  g_object_unref (parser);
}

static double
doc_run (int iteration)
{
  return passes (doc_once, PASS_BYTES);
}

static double
copy_floor (int iteration)
{
  return passes (copy_once, PASS_BYTES);
}

static double
glib_run (int iteration)
{
  return passes (glib_once, PASS_BYTES / 4);
}

const PdBench pd_bench_json[] = {
  { "json.doc", "MB/s", "parse and free a 512 KB FHIR searchset page with pd_json_doc_parse",
    doc_run, "validate its UTF-8 and copy it", copy_floor },
  { "json.glib", "MB/s", "parse and free the same page with json_parser_load_from_data",
    glib_run, "pd_json_doc_parse", doc_run },
};
const guint pd_bench_json_n = G_N_ELEMENTS (pd_bench_json);
