/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One field of what a seal or a hash covers, length-prefixed, so that no
 * two different rows encode alike (the trail's rows and the waiting ones). */
void pd_audit_put_field (GByteArray *buf,
                         const char *value);

G_END_DECLS
