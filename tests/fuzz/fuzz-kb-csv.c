/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: any bytes as each knowledge-base file in turn. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "pd-kb.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static const char *names[] = { "drugs.csv", "interactions.csv", "allergy_classes.csv", "kb.csv" };
  static const char *minimal_drugs = "code,name,ingredient,special_class\nYP1,x,warfarin,none\n";

  /* A GLib critical is a bug the fuzzer must report. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_bytes_unref);
      PdKb *kb;

      if (i != 0)
        g_hash_table_insert (files, (char *) "drugs.csv", g_bytes_new_static (minimal_drugs, strlen (minimal_drugs)));
      g_hash_table_insert (files, (char *) names[i], g_bytes_new (data, size));
      kb = pd_kb_load_files (files, NULL);
      pd_kb_free (kb);
      g_hash_table_unref (files);
    }
  return 0;
}
