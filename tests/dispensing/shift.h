/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sandbox-harness.h"

G_BEGIN_DECLS

/* STUB: being written (issue 13). */

G_END_DECLS
