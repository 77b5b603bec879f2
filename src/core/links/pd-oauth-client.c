/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-oauth"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-oauth-client.h"

/* Renew this long before the server's expiry, so a token never dies in flight. */
#define EXPIRY_MARGIN_US (30 * G_USEC_PER_SEC)

struct _PdOAuthClient
{
  GObject      parent_instance;
  SoupSession *session;
  char        *token_url;
  char        *client_id;
  char        *client_secret;
  char        *token;
  gint64       expires_us;
};

G_DEFINE_FINAL_TYPE (PdOAuthClient, pd_oauth_client, G_TYPE_OBJECT)

G_DEFINE_QUARK (pd-link-error-quark, pd_link_error)

/* Turns a transport failure into "offline" in words, keeping cancellation as is. */
gboolean
pd_link_error_from_transport (GError    **error,
                              GError     *transport_error,
                              const char *what)
{
  if (g_error_matches (transport_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_error_copy (transport_error));
      return FALSE;
    }
  g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_OFFLINE,
               _("Cannot reach %s: %s"), what, transport_error->message);
  return FALSE;
}

/* The token endpoint's answer: the token, kept until shortly before it
 * expires by PdClock. */
static char *
take_answer (PdOAuthClient *self,
             guint          status,
             GBytes        *body,
             GError       **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *obj;
  const char *token;
  gint64 expires_in;

  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_BAD_REQUEST)
    {
      g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_UNAUTHORIZED,
                   _("The hospital refused the pharmacy’s client credentials (HTTP %u)"), status);
      return NULL;
    }
  if (status != SOUP_STATUS_OK)
    {
      g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_SERVER,
                   _("The hospital’s sign-in service answered HTTP %u"), status);
      return NULL;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
      || (obj = json_node_get_object (json_parser_get_root (parser)),
          (token = json_object_get_string_member_with_default (obj, "access_token", NULL)) == NULL))
    {
      g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_SERVER,
                   "%s", _("The hospital’s sign-in service gave an answer without an access token"));
      return NULL;
    }
  expires_in = json_object_get_int_member_with_default (obj, "expires_in", 300);
  g_free (self->token);
  self->token = g_strdup (token);
  self->expires_us = pd_clock_now_us (pd_clock_get_default ()) + expires_in * G_USEC_PER_SEC - EXPIRY_MARGIN_US;
  return g_strdup (token);
}

static void
token_read_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PdOAuthClient *self = g_task_get_source_object (task);
  SoupMessage *msg = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);
  char *token;

  if (body == NULL)
    {
      pd_link_error_from_transport (&error, g_steal_pointer (&error), _("the hospital’s sign-in service"));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  token = take_answer (self, soup_message_get_status (msg), body, &error);
  if (token == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, token, g_free);
}

/* NULL, with the token still valid: no request needed. */
static SoupMessage *
token_request (PdOAuthClient *self,
               GError       **error)
{
  g_autofree char *form = soup_form_encode ("grant_type", "client_credentials",
                                            "client_id", self->client_id,
                                            "client_secret", self->client_secret,
                                            NULL);
  SoupMessage *msg = soup_message_new (SOUP_METHOD_POST, self->token_url);
  g_autoptr(GBytes) bytes = NULL;
  gsize len = strlen (form);

  if (msg == NULL)
    {
      g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_REFUSED, _("“%s” is not a valid token URL"), self->token_url);
      return NULL;
    }
  bytes = g_bytes_new_take (g_steal_pointer (&form), len);
  soup_message_set_request_body_from_bytes (msg, "application/x-www-form-urlencoded", bytes);
  return msg;
}

static gboolean
token_still_valid (PdOAuthClient *self)
{
  return self->token != NULL && pd_clock_now_us (pd_clock_get_default ()) < self->expires_us;
}

/* The same, synchronously, for a worker thread or the command line. */
char *
pd_oauth_client_get_token (PdOAuthClient *self,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) local_error = NULL;

  if (token_still_valid (self))
    return g_strdup (self->token);
  msg = token_request (self, error);
  if (msg == NULL)
    return NULL;
  body = soup_session_send_and_read (self->session, msg, cancellable, &local_error);
  if (body == NULL)
    {
      pd_link_error_from_transport (error, local_error, _("the hospital’s sign-in service"));
      return NULL;
    }
  return take_answer (self, soup_message_get_status (msg), body, error);
}

void
pd_oauth_client_get_token_async (PdOAuthClient      *self,
                                 GCancellable       *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  SoupMessage *msg;

  g_task_set_source_tag (task, pd_oauth_client_get_token_async);
  if (token_still_valid (self))
    {
      g_task_return_pointer (task, g_strdup (self->token), g_free);
      return;
    }
  msg = token_request (self, &error);
  if (msg == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_set_task_data (task, msg, g_object_unref);
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, cancellable,
                                    token_read_cb, g_steal_pointer (&task));
}

char *
pd_oauth_client_get_token_finish (PdOAuthClient *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
pd_oauth_client_forget (PdOAuthClient *self)
{
  g_clear_pointer (&self->token, g_free);
  self->expires_us = 0;
}

static void
pd_oauth_client_finalize (GObject *object)
{
  PdOAuthClient *self = (PdOAuthClient *) object;

  g_clear_object (&self->session);
  g_free (self->token_url);
  g_free (self->client_id);
  g_free (self->client_secret);
  g_free (self->token);
  G_OBJECT_CLASS (pd_oauth_client_parent_class)->finalize (object);
}

static void
pd_oauth_client_class_init (PdOAuthClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pd_oauth_client_finalize;
}

static void
pd_oauth_client_init (PdOAuthClient *self)
{
}

PdOAuthClient *
pd_oauth_client_new (SoupSession *session,
                     const char  *token_url,
                     const char  *client_id,
                     const char  *client_secret)
{
  PdOAuthClient *self = g_object_new (PD_TYPE_OAUTH_CLIENT, NULL);

  self->session = g_object_ref (session);
  self->token_url = g_strdup (token_url);
  self->client_id = g_strdup (client_id != NULL ? client_id : "");
  self->client_secret = g_strdup (client_secret != NULL ? client_secret : "");
  return self;
}
