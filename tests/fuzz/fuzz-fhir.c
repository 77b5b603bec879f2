/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: any bytes into the FHIR reading and the engine. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "pd-fhir-reader.h"
#include "pd-review-engine.h"

static PdKb *kb;

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  GPtrArray *rxs;

  if (kb == NULL)
    {
      /* A GLib critical is a bug the fuzzer must report. */
      g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
      const char *dir = getenv ("PHARMDESK_FUZZ_KB");

      kb = pd_kb_load_dir (dir != NULL ? dir : "../shared/spec/sample-kb", NULL);
      if (kb == NULL)
        abort ();
    }
  rxs = pd_fhir_read_prescriptions ((const char *) data, size, kb, NULL);
  for (guint i = 0; rxs != NULL && i < rxs->len; i++)
    {
      PdReview *review = pd_review_run (kb, rxs->pdata[i], G_GINT64_CONSTANT (1795140000) * G_USEC_PER_SEC, NULL, NULL);

      for (guint f = 0; f < review->findings->len; f++)
        g_free (pd_finding_message (review->findings->pdata[f], "zh_CN"));
      pd_review_free (review);
    }
  if (rxs != NULL)
    g_ptr_array_unref (rxs);
  return 0;
}
