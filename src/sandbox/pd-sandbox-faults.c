/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-faults"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pd-sandbox.h"

/* --faults SPEC: comma-separated KIND=P (a probability 0…1) and delay=MS.
 * One fault at most per request, drawn from a GRand seeded by --seed, so
 * the same seed and the same requests give the same faults. */

typedef enum {
  FAULT_NONE,
  FAULT_DROP_REQUEST,    /* closed before handling: nothing committed */
  FAULT_DROP_RESPONSE,   /* handled and committed, then closed without an answer */
  FAULT_HTTP_500,        /* refused before handling: nothing committed */
  FAULT_GARBAGE,         /* handled and committed, the answer garbled */
  FAULT_DUPLICATE,       /* handled twice; the first answer goes back */
  N_FAULTS
} Fault;

static const char *fault_names[N_FAULTS] = {
  NULL, "drop-request", "drop-response", "http-500", "garbage", "duplicate",
};

/* What a test can ask (GET /sandbox/control/faults): the faults drawn,
 * in order, the last LOG_MAX of them. */
#define LOG_MAX 1000

typedef struct {
  guint64  request;        /* 1 for the first service request since the start */
  Fault    fault;
  char    *method;
  char    *path;
  guint    status;         /* the answer's status; 0 when none left */
  guint    copy_status;    /* duplicate: how the copy was answered */
  char    *copy_body;
} LogEntry;

/* A fault a test asked for (POST /sandbox/control/faults): after `after`
 * requests to `path` (of `method`, when not NULL) have passed, the next
 * `times` meet it. */
typedef struct {
  Fault  fault;
  char  *method;
  char  *path;
  guint  after;
  guint  times;
} Armed;

struct _PdSandboxFaults
{
  double   p[N_FAULTS];
  guint    delay_ms;
  GRand   *rand;
  GMutex   lock;
  guint64  requests;
  GQueue   log;            /* of LogEntry */
  GQueue   armed;          /* of Armed, the oldest first */
};

static void
armed_free (gpointer data)
{
  Armed *a = data;

  g_free (a->method);
  g_free (a->path);
  g_free (a);
}

static void
log_entry_free (gpointer data)
{
  LogEntry *e = data;

  g_free (e->method);
  g_free (e->path);
  g_free (e->copy_body);
  g_free (e);
}

PdSandboxFaults *
pd_sandbox_faults_new (const char *spec,
                       guint64     seed,
                       GError    **error)
{
  PdSandboxFaults *f = g_new0 (PdSandboxFaults, 1);
  g_auto(GStrv) items = g_strsplit (spec != NULL ? spec : "", ",", -1);
  double total = 0;

  g_mutex_init (&f->lock);
  f->rand = g_rand_new_with_seed ((guint32) (seed ^ (seed >> 32)));
  for (guint i = 0; items[i] != NULL; i++)
    {
      char *item = g_strstrip (items[i]);
      char *eq = strchr (item, '=');
      char *end = NULL;
      gboolean known = FALSE;

      if (*item == '\0')
        continue;
      if (eq == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--faults: “%s” needs a value, such as %s=0.1"), item, item);
          pd_sandbox_faults_free (f);
          return NULL;
        }
      *eq = '\0';
      if (g_str_equal (item, "delay"))
        {
          guint64 ms = g_ascii_strtoull (eq + 1, &end, 10);

          if (end == eq + 1 || *end != '\0' || ms > 600000)
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--faults: delay=%s is not a number of milliseconds (0–600000)"), eq + 1);
              pd_sandbox_faults_free (f);
              return NULL;
            }
          f->delay_ms = (guint) ms;
          continue;
        }
      for (guint k = 1; k < N_FAULTS; k++)
        if (g_str_equal (item, fault_names[k]))
          {
            double v = g_ascii_strtod (eq + 1, &end);

            if (end == eq + 1 || *end != '\0' || v < 0 || v > 1)
              {
                g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                             _("--faults: %s=%s is not a probability between 0 and 1"), item, eq + 1);
                pd_sandbox_faults_free (f);
                return NULL;
              }
            f->p[k] = v;
            total += v;
            known = TRUE;
          }
      if (!known)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--faults: unknown fault “%s” (drop-request, drop-response, http-500, garbage, duplicate, delay)"), item);
          pd_sandbox_faults_free (f);
          return NULL;
        }
    }
  if (total > 1.0 + 1e-9)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s",
                   _("--faults: the probabilities add up to more than 1"));
      pd_sandbox_faults_free (f);
      return NULL;
    }
  return f;
}

void
pd_sandbox_faults_free (PdSandboxFaults *faults)
{
  if (faults == NULL)
    return;
  g_rand_free (faults->rand);
  g_queue_clear_full (&faults->log, log_entry_free);
  g_queue_clear_full (&faults->armed, armed_free);
  g_mutex_clear (&faults->lock);
  g_free (faults);
}

gboolean
pd_sandbox_faults_arm (PdSandboxFaults *faults,
                       const char      *fault,
                       const char      *method,
                       const char      *path,
                       guint            after,
                       guint            times,
                       GError         **error)
{
  Armed *a;

  for (Fault k = 1; k < N_FAULTS; k++)
    if (g_str_equal (fault, fault_names[k]))
      {
        a = g_new0 (Armed, 1);
        a->fault = k;
        a->method = g_strdup (method);
        /* /fhir and /fhir/ are one path */
        a->path = g_str_has_suffix (path, "/") && strlen (path) > 1 ? g_strndup (path, strlen (path) - 1) : g_strdup (path);
        a->after = after;
        a->times = times;
        g_mutex_lock (&faults->lock);
        g_queue_push_tail (&faults->armed, a);
        g_mutex_unlock (&faults->lock);
        return TRUE;
      }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "unknown fault “%s” (drop-request, drop-response, http-500, garbage, duplicate)", fault);
  return FALSE;
}

/* The first armed fault this request meets, used once; FAULT_NONE when
 * none. Called with the lock held. */
static Fault
take_armed (PdSandboxFaults   *f,
            SoupServerMessage *msg,
            const char        *path)
{
  gsize len = strlen (path);

  if (len > 1 && path[len - 1] == '/')
    len--;
  for (GList *l = f->armed.head; l != NULL; l = l->next)
    {
      Armed *a = l->data;
      Fault fault = a->fault;

      if ((a->method != NULL && !g_str_equal (a->method, soup_server_message_get_method (msg)))
          || strlen (a->path) != len || strncmp (a->path, path, len) != 0)
        continue;
      if (a->after > 0)
        {
          a->after--;
          continue;
        }
      if (--a->times == 0)
        {
          g_queue_delete_link (&f->armed, l);
          armed_free (a);
        }
      return fault;
    }
  return FAULT_NONE;
}

static Fault
draw (PdSandboxFaults   *f,
      SoupServerMessage *msg,
      const char        *path)
{
  double r, acc = 0;
  Fault chosen = FAULT_NONE;

  if (f == NULL)
    return FAULT_NONE;
  g_mutex_lock (&f->lock);
  f->requests++;
  chosen = take_armed (f, msg, path);
  if (chosen != FAULT_NONE)
    {
      g_mutex_unlock (&f->lock);
      return chosen;
    }
  r = g_rand_double (f->rand);
  for (Fault k = 1; k < N_FAULTS; k++)
    {
      acc += f->p[k];
      if (r < acc)
        {
          chosen = k;
          break;
        }
    }
  g_mutex_unlock (&f->lock);
  return chosen;
}

/* --- answering ------------------------------------------------------------ */

void
pd_sandbox_reply_text (SoupServerMessage *msg,
                       guint              status,
                       const char        *content_type,
                       const char        *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, text, strlen (text));
}

void
pd_sandbox_reply_json (SoupServerMessage *msg,
                       guint              status,
                       const char        *content_type,
                       JsonNode          *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  pd_sandbox_reply_text (msg, status, content_type != NULL ? content_type : "application/json", text);
}

JsonNode *
pd_sandbox_read_json (SoupServerMessage *msg,
                      char             **error_text)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error))
    {
      *error_text = g_strdup_printf ("the body is not JSON: %s", error->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL)
    {
      *error_text = g_strdup ("the body is empty");
      return NULL;
    }
  return json_node_ref (json_parser_get_root (parser));
}

/* --- the wrapper ------------------------------------------------------------ */

typedef struct {
  PdSandbox        *sandbox;
  PdSandboxHandler  handler;
} Service;

typedef struct {
  SoupServerMessage *msg;
  Fault              fault;
} Delayed;

static void
close_without_answer (SoupServerMessage *msg)
{
  GIOStream *stream = soup_server_message_steal_connection (msg);

  if (stream != NULL)
    {
      g_io_stream_close (stream, NULL, NULL);
      g_object_unref (stream);
    }
}

static void
garble (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  gsize len = g_bytes_get_size (bytes);
  g_autofree char *cut = g_strndup (g_bytes_get_data (bytes, NULL), len / 2);
  g_autofree char *text = g_strconcat (cut, "\x01\xff<html>502 bad gateway", NULL);

  soup_message_body_truncate (body);
  soup_message_body_append (body, SOUP_MEMORY_COPY, text, strlen (text));
}

static LogEntry *
log_fault (PdSandboxFaults   *f,
           SoupServerMessage *msg,
           const char        *path,
           Fault              fault)
{
  LogEntry *e = g_new0 (LogEntry, 1);

  g_mutex_lock (&f->lock);
  e->request = f->requests;
  e->fault = fault;
  e->method = g_strdup (soup_server_message_get_method (msg));
  e->path = g_strdup (path);
  g_queue_push_tail (&f->log, e);
  while (f->log.length > LOG_MAX)
    log_entry_free (g_queue_pop_head (&f->log));
  g_mutex_unlock (&f->lock);
  return e;
}

gboolean
pd_sandbox_is_duplicate_copy (SoupServerMessage *msg)
{
  return g_object_get_data (G_OBJECT (msg), "pd-sandbox-duplicate-copy") != NULL;
}

static void
run_with_fault (Service           *service,
                SoupServerMessage *msg,
                const char        *path,
                Fault              fault)
{
  LogEntry *e = fault != FAULT_NONE ? log_fault (service->sandbox->faults, msg, path, fault) : NULL;

  switch (fault)
    {
    case FAULT_DROP_REQUEST:
      g_debug ("fault: drop-request %s", path);
      close_without_answer (msg);
      return;
    case FAULT_HTTP_500:
      g_debug ("fault: http-500 %s", path);
      pd_sandbox_reply_text (msg, 500, "text/plain", "Internal Server Error (sandbox fault)");
      e->status = 500;
      return;
    case FAULT_DROP_RESPONSE:
      g_debug ("fault: drop-response %s", path);
      service->handler (service->sandbox, msg, path);
      close_without_answer (msg);
      return;
    case FAULT_GARBAGE:
      g_debug ("fault: garbage %s", path);
      service->handler (service->sandbox, msg, path);
      garble (msg);
      e->status = soup_server_message_get_status (msg);
      return;
    case FAULT_DUPLICATE:
      {
        guint status;
        g_autofree char *type = NULL;
        g_autoptr(GBytes) first = NULL;

        g_debug ("fault: duplicate %s", path);
        service->handler (service->sandbox, msg, path);
        status = soup_server_message_get_status (msg);
        type = g_strdup (soup_message_headers_get_content_type (soup_server_message_get_response_headers (msg), NULL));
        first = soup_message_body_flatten (soup_server_message_get_response_body (msg));
        soup_message_body_truncate (soup_server_message_get_response_body (msg));
        /* The copy arrives too; its idempotency key refuses it. */
        g_object_set_data (G_OBJECT (msg), "pd-sandbox-duplicate-copy", GINT_TO_POINTER (1));
        service->handler (service->sandbox, msg, path);
        g_object_set_data (G_OBJECT (msg), "pd-sandbox-duplicate-copy", NULL);
        {
          g_autoptr(GBytes) copy = soup_message_body_flatten (soup_server_message_get_response_body (msg));

          e->copy_status = soup_server_message_get_status (msg);
          e->copy_body = g_strndup (g_bytes_get_data (copy, NULL), g_bytes_get_size (copy));
        }
        e->status = status;
        soup_message_body_truncate (soup_server_message_get_response_body (msg));
        soup_server_message_set_status (msg, status, NULL);
        soup_server_message_set_response (msg, type != NULL ? type : "application/json", SOUP_MEMORY_COPY,
                                          g_bytes_get_data (first, NULL), g_bytes_get_size (first));
        return;
      }
    default:
      service->handler (service->sandbox, msg, path);
    }
}

static gboolean
delayed_cb (gpointer user_data)
{
  Delayed *d = user_data;

  soup_server_message_unpause (d->msg);
  g_object_unref (d->msg);
  g_free (d);
  return G_SOURCE_REMOVE;
}

static void
service_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  Service *service = user_data;
  PdSandboxFaults *faults = service->sandbox->faults;

  run_with_fault (service, msg, path, draw (faults, msg, path));
  if (faults != NULL && faults->delay_ms > 0 && soup_server_message_get_status (msg) != 0)
    {
      Delayed *d = g_new0 (Delayed, 1);

      d->msg = g_object_ref (msg);
      soup_server_message_pause (msg);
      g_timeout_add (faults->delay_ms, delayed_cb, d);
    }
}

/* {"requests": N, "faults": [{"request", "fault", "method", "path",
 * "status", "copy_status", "copy_body"}]} */
JsonNode *
pd_sandbox_faults_report (PdSandboxFaults *faults)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "requests");
  json_builder_add_int_value (b, faults != NULL ? (gint64) faults->requests : 0);
  json_builder_set_member_name (b, "faults");
  json_builder_begin_array (b);
  if (faults != NULL)
    {
      g_mutex_lock (&faults->lock);
      for (GList *l = faults->log.head; l != NULL; l = l->next)
        {
          LogEntry *e = l->data;

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "request");
          json_builder_add_int_value (b, (gint64) e->request);
          json_builder_set_member_name (b, "fault");
          json_builder_add_string_value (b, fault_names[e->fault]);
          json_builder_set_member_name (b, "method");
          json_builder_add_string_value (b, e->method);
          json_builder_set_member_name (b, "path");
          json_builder_add_string_value (b, e->path);
          json_builder_set_member_name (b, "status");
          json_builder_add_int_value (b, e->status);
          if (e->fault == FAULT_DUPLICATE)
            {
              json_builder_set_member_name (b, "copy_status");
              json_builder_add_int_value (b, e->copy_status);
              json_builder_set_member_name (b, "copy_body");
              json_builder_add_string_value (b, e->copy_body);
            }
          json_builder_end_object (b);
        }
      g_mutex_unlock (&faults->lock);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
pd_sandbox_add_service (PdSandbox        *sandbox,
                        const char       *prefix,
                        PdSandboxHandler  handler)
{
  Service *service = g_new0 (Service, 1);

  service->sandbox = sandbox;
  service->handler = handler;
  soup_server_add_handler (sandbox->server, prefix, service_cb, service, g_free);
}
