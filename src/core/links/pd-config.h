/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The links' addresses and credentials from a `--config` file
 * (cli.md's client.ini). Every field is NULL when its key is absent. */

#define PD_CONFIG_ERROR (pd_config_error_quark ())
GQuark pd_config_error_quark (void);

typedef enum {
  PD_CONFIG_ERROR_INVALID,
} PdConfigError;

typedef struct {
  char *fixmedins_code;
  char *fixmedins_name;
  char *mdtrtarea_admvs;

  char *hospital_url;
  char *hospital_token_url;
  char *hospital_client_id;
  char *hospital_client_secret;
  char *hospital_ca_file;

  char *insurance_url;
  char *insurance_paasid;
  char *insurance_token;
  int   insurance_terminal;
  char *insurance_operator;
  char *insurance_operator_name;

  char *courier_url;
  char *courier_app_key;
  char *courier_app_secret;
  char *courier_source_id;
  char *courier_shop_no;
} PdConfig;

PdConfig *pd_config_load              (const char  *path,
                                       GError     **error);
PdConfig *pd_config_load_data         (const char  *data,
                                       gsize        length,
                                       const char  *name,
                                       GError     **error);
void      pd_config_free              (PdConfig    *config);
gboolean  pd_config_check_url         (const char  *url,
                                       const char  *key,
                                       GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdConfig, pd_config_free)

G_END_DECLS
