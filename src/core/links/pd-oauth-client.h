/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* OAuth 2.0 client credentials (hospital.md "Access"): fetches a bearer
 * token, keeps it until shortly before it expires by PdClock, and
 * forgets it on demand (a 401 renews it once). */

#define PD_LINK_ERROR (pd_link_error_quark ())
GQuark pd_link_error_quark (void);

typedef enum {
  PD_LINK_ERROR_OFFLINE,        /* could not reach the server */
  PD_LINK_ERROR_UNAUTHORIZED,   /* the server refused our credentials */
  PD_LINK_ERROR_SERVER,         /* 5xx or an answer we cannot read */
  PD_LINK_ERROR_REFUSED,        /* a 4xx the user must read */
} PdLinkError;

#define PD_TYPE_OAUTH_CLIENT (pd_oauth_client_get_type ())
G_DECLARE_FINAL_TYPE (PdOAuthClient, pd_oauth_client, PD, OAUTH_CLIENT, GObject)

PdOAuthClient *pd_oauth_client_new          (SoupSession         *session,
                                             const char          *token_url,
                                             const char          *client_id,
                                             const char          *client_secret);
void           pd_oauth_client_get_token_async  (PdOAuthClient   *self,
                                                 GCancellable    *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer         user_data);
char          *pd_oauth_client_get_token_finish (PdOAuthClient   *self,
                                                 GAsyncResult    *result,
                                                 GError         **error);
char          *pd_oauth_client_get_token    (PdOAuthClient       *self,
                                             GCancellable        *cancellable,
                                             GError             **error);
void           pd_oauth_client_forget       (PdOAuthClient       *self);

gboolean       pd_link_error_from_transport (GError             **error,
                                             GError              *transport_error,
                                             const char          *what);

G_END_DECLS
