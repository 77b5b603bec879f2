/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-dispense.h"

G_BEGIN_DECLS

/* Today in China time, by the clock (a training database's may be set). */
char    *pd_dispense_today        (void);
/* The label's words for a line's dose and route, in the current language. */
char    *pd_dispense_dose_words   (const PdRxLine *line);
char    *pd_dispense_route_words  (const PdRxLine *line);
/* A product unit's word (片 / "tablet", "tablets"); the unit itself when unknown. */
const char *pd_dispense_unit_word (const char *unit,
                                   gboolean    one);
char    *pd_dispense_quantity_words (const PdKbDrug *drug,
                                     int             boxes,
                                     int             units,
                                     const char     *unit);

G_END_DECLS
