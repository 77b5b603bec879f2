/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-config.h"
#include "pd-session.h"

G_BEGIN_DECLS

/* The links' addresses and credentials kept by the pharmacy itself, for a
 * desk started without --config: the addresses in the database (an
 * administrator's change, audited), the secrets — the hospital's client
 * secret, the insurance token, the courier's app secret — in the user's
 * keyring through libsecret, never in the database or GSettings. */

#define PD_LINK_SETTINGS_ERROR (pd_link_settings_error_quark ())
GQuark pd_link_settings_error_quark (void);

typedef enum {
  PD_LINK_SETTINGS_ERROR_NONE,        /* nothing set yet */
  PD_LINK_SETTINGS_ERROR_KEYRING,     /* the keyring refused or is missing */
} PdLinkSettingsError;

/* data: client.ini's format (cli.md), validated as a whole first. */
gboolean  pd_link_settings_import (PdSession   *admin,
                                   const char  *data,
                                   gsize        length,
                                   GError     **error);
PdConfig *pd_link_settings_load   (PdStore     *store,
                                   GError     **error);

G_END_DECLS
