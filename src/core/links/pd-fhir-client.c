/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-fhir-client"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pd-fhir-client.h"
#include "pd-json-doc.h"

#define FHIR_JSON "application/fhir+json"

struct _PdFhirClient
{
  SoupSession   *session;
  PdOAuthClient *oauth;
  char          *base;         /* no trailing slash */
  guint          attempts;
  guint          max_wait_ms;
  GPtrArray     *get_log;
};

PdFhirClient *
pd_fhir_client_new (const PdConfig *config,
                    GError        **error)
{
  PdFhirClient *client;

  if (config == NULL || config->hospital_url == NULL || config->hospital_token_url == NULL)
    {
      g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_REFUSED, "%s",
                   _("The hospital link is not configured: [hospital] url and token_url are needed"));
      return NULL;
    }
  if (!pd_config_check_url (config->hospital_url, "hospital.url", error)
      || !pd_config_check_url (config->hospital_token_url, "hospital.token_url", error))
    return NULL;
  client = g_new0 (PdFhirClient, 1);
  client->session = soup_session_new_with_options ("timeout", 60, "idle-timeout", 60, NULL);
  if (config->hospital_ca_file != NULL)
    {
      g_autoptr(GTlsDatabase) db = g_tls_file_database_new (config->hospital_ca_file, error);

      if (db == NULL)
        {
          pd_fhir_client_free (client);
          return NULL;
        }
      soup_session_set_tls_database (client->session, db);
    }
  client->oauth = pd_oauth_client_new (client->session, config->hospital_token_url, config->hospital_client_id,
                                       config->hospital_client_secret);
  client->base = g_strdup (config->hospital_url);
  while (g_str_has_suffix (client->base, "/"))
    client->base[strlen (client->base) - 1] = '\0';
  client->attempts = 5;
  client->max_wait_ms = 30000;
  return client;
}

void
pd_fhir_client_free (PdFhirClient *client)
{
  if (client == NULL)
    return;
  g_clear_pointer (&client->get_log, g_ptr_array_unref);
  g_clear_object (&client->oauth);
  g_clear_object (&client->session);
  g_free (client->base);
  g_free (client);
}

const char *
pd_fhir_client_get_base (PdFhirClient *client)
{
  return client->base;
}

void
pd_fhir_client_set_retry (PdFhirClient *client,
                          guint         attempts,
                          guint         max_wait_ms)
{
  client->attempts = MAX (attempts, 1);
  client->max_wait_ms = max_wait_ms;
}

void
pd_fhir_client_log_gets (PdFhirClient *client,
                         GPtrArray    *urls)
{
  g_clear_pointer (&client->get_log, g_ptr_array_unref);
  client->get_log = urls != NULL ? g_ptr_array_ref (urls) : NULL;
}

char *
pd_fhir_client_token (PdFhirClient *client,
                      GCancellable *cancellable,
                      GError      **error)
{
  return pd_oauth_client_get_token (client->oauth, cancellable, error);
}

void
pd_fhir_answer_clear (PdFhirAnswer *answer)
{
  g_clear_pointer (&answer->etag, g_free);
  g_clear_pointer (&answer->location, g_free);
  g_clear_pointer (&answer->body, json_node_unref);
  g_clear_pointer (&answer->doc, pd_json_doc_unref);
  g_clear_pointer (&answer->raw, g_bytes_unref);
  answer->status = 0;
}

char *
pd_fhir_etag_version (const char *etag)
{
  const char *p = etag;
  gsize len;

  if (p == NULL)
    return NULL;
  if (g_str_has_prefix (p, "W/"))
    p += 2;
  if (*p == '"')
    p++;
  len = strcspn (p, "\"");
  return len > 0 ? g_strndup (p, len) : NULL;
}

char *
pd_fhir_answer_describe (const PdFhirAnswer *answer)
{
  GString *out = g_string_new (NULL);
  g_autoptr(PdJsonDoc) doc = answer->raw != NULL ? pd_json_doc_parse (g_bytes_get_data (answer->raw, NULL),
                                                                      g_bytes_get_size (answer->raw), NULL) : NULL;
  const PdJv *o = doc != NULL ? pd_json_doc_root (doc) : NULL;

  if (g_strcmp0 (pd_jv_str (o, "resourceType"), "OperationOutcome") == 0)
    {
      const PdJv *issues = pd_jv_arr (o, "issue");

      for (const PdJv *issue = pd_jv_first (issues); issue != NULL; issue = pd_jv_next (issues, issue))
        {
          const char *text = pd_jv_str (issue, "diagnostics");

          if (text == NULL)
            text = pd_jv_str (pd_jv_obj (issue, "details"), "text");
          if (text != NULL)
            g_string_append_printf (out, "%s%s", out->len > 0 ? "; " : "", text);
        }
    }
  if (out->len == 0)
    g_string_append_printf (out, _("the hospital answered HTTP %u"), answer->status);
  return g_string_free (out, FALSE);
}

/* Sleeps up to ms, waking early when cancelled. */
static gboolean
wait_ms (guint         ms,
         GCancellable *cancellable,
         GError      **error)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < until)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      g_usleep (MIN (20000, until - g_get_monotonic_time ()));
    }
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* Retry-After in seconds (an HTTP date is read as "soon"). */
static guint
retry_after_ms (SoupMessage *msg)
{
  const char *h = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Retry-After");
  char *end = NULL;
  guint64 s;

  if (h == NULL)
    return 0;
  s = g_ascii_strtoull (h, &end, 10);
  if (end == h)
    return 1000;
  return (guint) MIN (s * 1000, G_MAXUINT);
}

/* Exponential, with full jitter: 100 ms × 2^attempt at most. */
static guint
backoff_ms (PdFhirClient *client,
            guint         attempt)
{
  guint cap = MIN ((guint64) 100 << MIN (attempt, 12), client->max_wait_ms);

  return cap > 0 ? (guint) g_random_int_range (cap / 2, cap + 1) : 0;
}

char *
pd_fhir_client_url (PdFhirClient *client,
                    const char   *path)
{
  if (g_str_has_prefix (path, "http://") || g_str_has_prefix (path, "https://"))
    return g_strdup (path);
  if (*path == '\0')
    return g_strdup (client->base);
  return g_strconcat (client->base, "/", path, NULL);
}

static void
reset_body (SoupMessage *msg,
            gpointer     user_data)
{
  GBytes *bytes = g_object_get_data (G_OBJECT (msg), "pd-body");

  if (bytes != NULL)
    soup_message_set_request_body_from_bytes (msg, FHIR_JSON, bytes);
}

static SoupMessage *
build_message (PdFhirClient *client,
               const char   *method,
               const char   *path,
               const char   *token,
               const char   *if_match,
               const char   *body,
               GError      **error)
{
  g_autofree char *url = pd_fhir_client_url (client, path);
  g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);
  SoupMessage *msg = soup_message_new (method, url);
  SoupMessageHeaders *h;

  if (msg == NULL)
    {
      g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_REFUSED, _("“%s” is not a valid address"), url);
      return NULL;
    }
  h = soup_message_get_request_headers (msg);
  soup_message_headers_replace (h, "Authorization", bearer);
  soup_message_headers_replace (h, "Accept", FHIR_JSON);
  if (if_match != NULL)
    soup_message_headers_replace (h, "If-Match", if_match);
  if (body != NULL)
    {
      GBytes *bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, FHIR_JSON, bytes);
      /* libsoup resends a request whose kept-alive connection closed
       * under it, but not its consumed body: give it the body again. */
      g_object_set_data_full (G_OBJECT (msg), "pd-body", bytes, (GDestroyNotify) g_bytes_unref);
      g_signal_connect (msg, "restarted", G_CALLBACK (reset_body), NULL);
    }
  return msg;
}

/* The body as a json-glib tree, or with as_doc as a PdJsonDoc; why it
 * could not be read into why. */
static gboolean
read_body (PdFhirAnswer *answer,
           GBytes       *bytes,
           gboolean      as_doc,
           GError      **why)
{
  g_autoptr(JsonParser) parser = NULL;

  if (g_bytes_get_size (bytes) == 0)
    return FALSE;
  if (as_doc)
    return (answer->doc = pd_json_doc_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), why)) != NULL;
  parser = json_parser_new ();
  if (json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), why)
      && json_parser_get_root (parser) != NULL)
    answer->body = json_node_ref (json_parser_get_root (parser));
  return answer->body != NULL;
}

static gboolean
call (PdFhirClient *client,
      const char   *method,
      const char   *path,
      const char   *if_match,
      const char   *text,
      gboolean      repeatable,
      gboolean      as_doc,
      PdFhirAnswer *answer,
      GCancellable *cancellable,
      GError      **error)
{
  gboolean renewed = FALSE;

  memset (answer, 0, sizeof *answer);
  if (client->get_log != NULL && strcmp (method, "GET") == 0)
    g_ptr_array_add (client->get_log, pd_fhir_client_url (client, path));
  for (guint attempt = 0;; attempt++)
    {
      g_autofree char *token = pd_oauth_client_get_token (client->oauth, cancellable, error);
      g_autoptr(SoupMessage) msg = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GError) unreadable = NULL;
      gboolean last = attempt + 1 >= client->attempts;
      guint status, wait;

      if (token == NULL)
        return FALSE;
      msg = build_message (client, method, path, token, if_match, text, error);
      if (msg == NULL)
        return FALSE;
      bytes = soup_session_send_and_read (client->session, msg, cancellable, &local_error);
      if (bytes == NULL)
        {
          if (!repeatable || last || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return pd_link_error_from_transport (error, local_error, _("the hospital"));
          if (!wait_ms (backoff_ms (client, attempt), cancellable, error))
            return FALSE;
          continue;
        }
      status = soup_message_get_status (msg);
      if (status == SOUP_STATUS_UNAUTHORIZED && !renewed)
        {
          /* The token died early (a server restart): renew once. */
          renewed = TRUE;
          pd_oauth_client_forget (client->oauth);
          attempt--;
          continue;
        }
      if (status == SOUP_STATUS_UNAUTHORIZED)
        {
          g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_UNAUTHORIZED, "%s",
                       _("The hospital refused the pharmacy’s token twice; check the client credentials"));
          return FALSE;
        }
      if ((status == 429 || status == SOUP_STATUS_SERVICE_UNAVAILABLE || (status >= 500 && repeatable)) && !last)
        {
          wait = retry_after_ms (msg);
          if (wait == 0)
            wait = backoff_ms (client, attempt);
          if (!wait_ms (MIN (wait, client->max_wait_ms), cancellable, error))
            return FALSE;
          continue;
        }
      answer->status = status;
      answer->etag = g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (msg), "ETag"));
      answer->location = g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location"));
      answer->raw = g_bytes_ref (bytes);
      if (!read_body (answer, bytes, as_doc, &unreadable) && status >= 200 && status < 300 && g_bytes_get_size (bytes) > 0)
        {
          /* Committed, perhaps, but unreadable: a write's outcome is unknown. */
          if (repeatable && !last && strcmp (method, "GET") == 0)
            {
              pd_fhir_answer_clear (answer);
              if (!wait_ms (backoff_ms (client, attempt), cancellable, error))
                return FALSE;
              continue;
            }
          g_set_error (error, PD_LINK_ERROR, PD_LINK_ERROR_SERVER, _("The hospital’s answer to %s %s could not be read: %s"),
                       method, path, unreadable != NULL ? unreadable->message : "?");
          pd_fhir_answer_clear (answer);
          return FALSE;
        }
      return TRUE;
    }
}

gboolean
pd_fhir_client_call (PdFhirClient *client,
                     const char   *method,
                     const char   *path,
                     const char   *if_match,
                     JsonNode     *body,
                     gboolean      repeatable,
                     PdFhirAnswer *answer,
                     GCancellable *cancellable,
                     GError      **error)
{
  g_autofree char *text = body != NULL ? json_to_string (body, FALSE) : NULL;

  return call (client, method, path, if_match, text, repeatable, FALSE, answer, cancellable, error);
}

gboolean
pd_fhir_client_read (PdFhirClient *client,
                     const char   *path,
                     PdFhirAnswer *answer,
                     GCancellable *cancellable,
                     GError      **error)
{
  return call (client, "GET", path, NULL, NULL, TRUE, TRUE, answer, cancellable, error);
}
