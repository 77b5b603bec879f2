/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-fhir-client"

#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "pd-fhir-client.h"

/* The FHIR client against a scripted server on loopback: Retry-After,
 * a token renewed once on 401, OperationOutcome in words, a garbled
 * answer, cancellation. */

typedef struct {
  SoupServer *server;
  GThread    *thread;
  GMainContext *context;
  GMainLoop  *loop;
  char       *base;
  GQueue      script;        /* guint statuses for /fhir requests, popped in order */
  GMutex      lock;
  guint       fhir_requests;
  guint       tokens;
  gint64      last_at[8];
} Fake;

static void
token_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           data)
{
  Fake *f = data;
  g_autofree char *body = NULL;

  g_mutex_lock (&f->lock);
  body = g_strdup_printf ("{\"access_token\":\"t%u\",\"expires_in\":3600,\"token_type\":\"Bearer\"}", ++f->tokens);
  g_mutex_unlock (&f->lock);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body, strlen (body));
}

static void
fhir_cb (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           data)
{
  Fake *f = data;
  guint status;
  guint n;
  const char *body = "{\"resourceType\":\"Task\",\"id\":\"1\"}";

  g_mutex_lock (&f->lock);
  status = GPOINTER_TO_UINT (g_queue_pop_head (&f->script));
  n = f->fhir_requests++;
  if (n < G_N_ELEMENTS (f->last_at))
    f->last_at[n] = g_get_monotonic_time ();
  g_mutex_unlock (&f->lock);
  if (status == 0)
    status = 200;
  if (status == 999)
    {
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/fhir+json", SOUP_MEMORY_STATIC, "{\"resourceType\":", 16);
      return;
    }
  if (status == 429 || status == 503)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "1");
  if (status == 401 && strcmp (soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization"), "Bearer t1") != 0)
    status = 200;
  if (status == 409)
    body = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"conflict\","
           "\"diagnostics\":\"Task/1 is cancelled\"}]}";
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/fhir+json", SOUP_MEMORY_STATIC, body, strlen (body));
}

static gpointer
serve (gpointer data)
{
  Fake *f = data;

  g_main_context_push_thread_default (f->context);
  g_main_loop_run (f->loop);
  g_main_context_pop_thread_default (f->context);
  return NULL;
}

static PdFhirClient *
fake_start (Fake *f)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;
  g_autofree char *ini = NULL;
  g_autoptr(PdConfig) config = NULL;
  PdFhirClient *client;

  memset (f, 0, sizeof *f);
  g_mutex_init (&f->lock);
  g_queue_init (&f->script);
  f->context = g_main_context_new ();
  f->loop = g_main_loop_new (f->context, FALSE);
  g_main_context_push_thread_default (f->context);
  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, "/oauth/token", token_cb, f, NULL);
  soup_server_add_handler (f->server, "/fhir", fhir_cb, f, NULL);
  g_assert_true (soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_main_context_pop_thread_default (f->context);
  uris = soup_server_get_uris (f->server);
  f->base = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  f->thread = g_thread_new ("fake", serve, f);
  ini = g_strdup_printf ("[hospital]\nurl=%sfhir\ntoken_url=%soauth/token\nclient_id=c\nclient_secret=s\n", f->base, f->base);
  config = pd_config_load_data (ini, -1, "fake.ini", &error);
  g_assert_no_error (error);
  client = pd_fhir_client_new (config, &error);
  g_assert_no_error (error);
  return client;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
fake_stop (Fake *f)
{
  g_main_context_invoke (f->context, quit_cb, f->loop);
  g_thread_join (f->thread);
  g_main_context_push_thread_default (f->context);
  g_clear_object (&f->server);
  g_main_context_pop_thread_default (f->context);
  g_main_loop_unref (f->loop);
  g_main_context_unref (f->context);
  g_queue_clear (&f->script);
  g_free (f->base);
}

static void
script (Fake  *f,
        guint  status)
{
  g_mutex_lock (&f->lock);
  g_queue_push_tail (&f->script, GUINT_TO_POINTER (status));
  g_mutex_unlock (&f->lock);
}

/* 429 and 503 wait as long as Retry-After says, then the answer comes. */
static void
test_retry_after (void)
{
  Fake f;
  g_autoptr(PdFhirClient) client = fake_start (&f);
  g_autoptr(GError) error = NULL;
  PdFhirAnswer answer;

  script (&f, 429);
  script (&f, 503);
  pd_fhir_client_set_retry (client, 5, 5000);
  g_assert_true (pd_fhir_client_call (client, "GET", "Task/1", NULL, NULL, TRUE, &answer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (answer.status, ==, 200);
  g_assert_cmpuint (f.fhir_requests, ==, 3);
  g_assert_cmpint (f.last_at[1] - f.last_at[0], >=, 950 * 1000);
  g_assert_cmpint (f.last_at[2] - f.last_at[1], >=, 950 * 1000);
  pd_fhir_answer_clear (&answer);
  fake_stop (&f);
}

/* A 401 renews the token once; the request is then answered. */
static void
test_unauthorized_renews_once (void)
{
  Fake f;
  g_autoptr(PdFhirClient) client = fake_start (&f);
  g_autoptr(GError) error = NULL;
  PdFhirAnswer answer;

  script (&f, 401);
  g_assert_true (pd_fhir_client_call (client, "GET", "Task/1", NULL, NULL, TRUE, &answer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (answer.status, ==, 200);
  g_assert_cmpuint (f.tokens, ==, 2);
  pd_fhir_answer_clear (&answer);
  fake_stop (&f);
}

/* A refusal comes back with the server's words; a garbled answer to a
 * write is an unknown outcome, never a success. */
static void
test_outcome_and_garbage (void)
{
  Fake f;
  g_autoptr(PdFhirClient) client = fake_start (&f);
  g_autoptr(GError) error = NULL;
  g_autofree char *why = NULL;
  PdFhirAnswer answer;
  g_autoptr(JsonNode) body = json_from_string ("{\"resourceType\":\"Task\"}", NULL);

  script (&f, 409);
  g_assert_true (pd_fhir_client_call (client, "PUT", "Task/1", "W/\"1\"", body, TRUE, &answer, NULL, &error));
  g_assert_cmpuint (answer.status, ==, 409);
  why = pd_fhir_answer_describe (&answer);
  g_assert_cmpstr (why, ==, "Task/1 is cancelled");
  pd_fhir_answer_clear (&answer);

  script (&f, 999);
  g_assert_false (pd_fhir_client_call (client, "PUT", "Task/1", "W/\"1\"", body, TRUE, &answer, NULL, &error));
  g_assert_error (error, PD_LINK_ERROR, PD_LINK_ERROR_SERVER);
  g_clear_error (&error);

  /* A read: a garbled answer is asked again; garbled every time, the
   * error says where it broke. */
  pd_fhir_client_set_retry (client, 2, 10);
  script (&f, 999);
  script (&f, 0);
  g_assert_true (pd_fhir_client_read (client, "Task/1", &answer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pd_jv_str (pd_json_doc_root (answer.doc), "resourceType"), ==, "Task");
  g_assert_null (answer.body);
  pd_fhir_answer_clear (&answer);
  script (&f, 999);
  script (&f, 999);
  g_assert_false (pd_fhir_client_read (client, "Task/1", &answer, NULL, &error));
  g_assert_error (error, PD_LINK_ERROR, PD_LINK_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "could not be read: Not JSON: expected a value at byte 16"));
  fake_stop (&f);
}

static gboolean
cancel_soon (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_thread (gpointer data)
{
  g_usleep (200 * 1000);
  cancel_soon (data);
  return NULL;
}

/* A wait for Retry-After ends at once when cancelled. */
static void
test_cancel_during_wait (void)
{
  Fake f;
  g_autoptr(PdFhirClient) client = fake_start (&f);
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  PdFhirAnswer answer;
  GThread *t;
  gint64 t0;

  for (guint i = 0; i < 5; i++)
    script (&f, 503);
  pd_fhir_client_set_retry (client, 5, 30000);
  t = g_thread_new ("cancel", cancel_thread, cancellable);
  t0 = g_get_monotonic_time ();
  g_assert_false (pd_fhir_client_call (client, "GET", "Task/1", NULL, NULL, TRUE, &answer, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 900 * 1000);
  g_thread_join (t);
  fake_stop (&f);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fhir-client/retry-after", test_retry_after);
  g_test_add_func ("/fhir-client/unauthorized-renews-once", test_unauthorized_renews_once);
  g_test_add_func ("/fhir-client/outcome-and-garbage", test_outcome_and_garbage);
  g_test_add_func ("/fhir-client/cancel-during-wait", test_cancel_during_wait);
  return g_test_run ();
}
