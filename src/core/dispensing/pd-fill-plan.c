/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-fill-plan"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-dispense.h"
