/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-control"

#include "config.h"

#include <string.h>

#include "pd-sandbox.h"
#include "pd-sandbox-hospital.h"

/* /sandbox/control/{clock,plant,bulk-load,faults,cancel,trace-codes}: for
 * tests, demos and benchmarks only (--control), never under fault
 * injection. */

static void
reply_error (SoupServerMessage *msg,
             guint              status,
             const char        *text)
{
  g_autofree char *body = g_strdup_printf ("{\"error\":\"%s\"}", text);

  pd_sandbox_reply_text (msg, status, "application/json", body);
}

static void
reply_clock (PdSandbox         *sandbox,
             SoupServerMessage *msg)
{
  g_autofree char *now = pd_sandbox_now_iso (sandbox);
  g_autofree char *body = g_strdup_printf ("{\"now\":\"%s\",\"now_ms\":%" G_GINT64_FORMAT ",\"scale\":%g}",
                                           now, pd_clock_now_us (sandbox->clock) / 1000, pd_clock_get_scale (sandbox->clock));

  pd_sandbox_reply_text (msg, 200, "application/json", body);
}

static void
clock_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  PdSandbox *sandbox = user_data;
  g_autofree char *parse_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o;

  if (g_str_equal (soup_server_message_get_method (msg), "GET"))
    {
      reply_clock (sandbox, msg);
      return;
    }
  root = pd_sandbox_read_json (msg, &parse_error);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      reply_error (msg, 400, "POST {\\\"now\\\": ISO-8601 with offset} and/or {\\\"scale\\\": number}");
      return;
    }
  o = json_node_get_object (root);
  if (json_object_has_member (o, "now"))
    {
      g_autoptr(GError) error = NULL;

      if (!pd_clock_set_now_from_iso (sandbox->clock, json_object_get_string_member_with_default (o, "now", ""), &error))
        {
          reply_error (msg, 400, "now: not a time with an offset");
          return;
        }
    }
  if (json_object_has_member (o, "scale"))
    {
      double scale = json_object_get_double_member_with_default (o, "scale", -1);

      if (scale < 0)
        {
          reply_error (msg, 400, "scale must be 0 or more");
          return;
        }
      pd_clock_set_scale (sandbox->clock, scale);
    }
  reply_clock (sandbox, msg);
}

typedef struct {
  PdSandbox *sandbox;
  JsonArray *resources;
  char      *problem;
} PlantJob;

/* Stores resources as given; "lastUpdated" in a resource's meta is kept
 * (equal timestamps on purpose), else the next strictly increasing one. */
static gboolean
write_plant (PdStore  *store,
             gpointer  user_data,
             GError  **error)
{
  PlantJob *job = user_data;

  for (guint i = 0; i < json_array_get_length (job->resources); i++)
    {
      JsonNode *n = json_array_get_element (job->resources, i);
      JsonObject *o, *meta;
      gint64 planted_ms = 0;

      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          job->problem = g_strdup_printf ("resources[%u] is not an object", i);
          return FALSE;
        }
      o = json_node_get_object (n);
      meta = json_object_has_member (o, "meta") ? json_object_get_object_member (o, "meta") : NULL;
      if (meta != NULL && json_object_has_member (meta, "lastUpdated"))
        {
          gint64 us = 0;

          if (!pd_time_parse_iso (json_object_get_string_member_with_default (meta, "lastUpdated", ""), &us, NULL))
            {
              job->problem = g_strdup_printf ("resources[%u].meta.lastUpdated is not a time with an offset", i);
              return FALSE;
            }
          planted_ms = us / 1000;
        }
      if (!pd_sandbox_fhir_put (job->sandbox, o, planted_ms, error))
        {
          job->problem = g_strdup_printf ("resources[%u]: %s", i, (*error)->message);
          return FALSE;
        }
    }
  return TRUE;
}

static void
plant_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  PdSandbox *sandbox = user_data;
  g_autofree char *parse_error = NULL;
  g_autoptr(JsonNode) root = pd_sandbox_read_json (msg, &parse_error);
  g_autoptr(GError) error = NULL;
  PlantJob job = { sandbox, NULL, NULL };
  JsonObject *o;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || (o = json_node_get_object (root), !json_object_has_member (o, "resources"))
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "resources")))
    {
      reply_error (msg, 400, "POST {\\\"resources\\\": [FHIR resources]}");
      return;
    }
  job.resources = json_object_get_array_member (o, "resources");
  if (!pd_store_write (sandbox->store, write_plant, &job, &error))
    {
      g_autofree char *text = g_strescape (job.problem != NULL ? job.problem : error->message, NULL);

      reply_error (msg, 400, text);
      g_free (job.problem);
      return;
    }
  {
    g_autofree char *body = g_strdup_printf ("{\"planted\":%u}", json_array_get_length (job.resources));
    pd_sandbox_reply_text (msg, 200, "application/json", body);
  }
}

static void
bulk_cb (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  PdSandbox *sandbox = user_data;
  g_autofree char *parse_error = NULL;
  g_autoptr(JsonNode) root = pd_sandbox_read_json (msg, &parse_error);
  g_autoptr(GError) error = NULL;
  gint64 people, prescriptions, started = g_get_monotonic_time ();

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      reply_error (msg, 400, "POST {\\\"people\\\": N, \\\"prescriptions\\\": N}");
      return;
    }
  people = json_object_get_int_member_with_default (json_node_get_object (root), "people", 0);
  prescriptions = json_object_get_int_member_with_default (json_node_get_object (root), "prescriptions", 0);
  if (people < 0 || people > 1000000 || prescriptions < 0 || prescriptions > 1000000)
    {
      reply_error (msg, 400, "people and prescriptions must be 0 to 1000000");
      return;
    }
  if ((people > 0 && !pd_sandbox_seed_people (sandbox, (guint) people, &error))
      || (prescriptions > 0 && !pd_sandbox_rx_bulk_load (sandbox, (guint) prescriptions, &error)))
    {
      g_autofree char *text = g_strescape (error->message, NULL);
      reply_error (msg, 500, text);
      return;
    }
  {
    g_autofree char *body = g_strdup_printf ("{\"people\":%" G_GINT64_FORMAT ",\"prescriptions\":%" G_GINT64_FORMAT
                                             ",\"seconds\":%.3f}", people, prescriptions,
                                             (g_get_monotonic_time () - started) / 1e6);
    pd_sandbox_reply_text (msg, 200, "application/json", body);
  }
}

/* The prescriber cancels: {"prescription": groupIdentifier value or Task id} */
static void
cancel_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  PdSandbox *sandbox = user_data;
  g_autofree char *parse_error = NULL;
  g_autoptr(JsonNode) root = pd_sandbox_read_json (msg, &parse_error);
  g_autofree char *task_id = NULL;
  g_autofree char *problem = NULL;
  const char *key;
  guint status;

  key = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
        ? json_object_get_string_member_with_default (json_node_get_object (root), "prescription", NULL) : NULL;
  if (key == NULL || !g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      reply_error (msg, 400, "POST {\\\"prescription\\\": groupIdentifier value or Task id}");
      return;
    }
  status = pd_sandbox_rx_cancel (sandbox, key, &task_id, &problem);
  if (status != 200)
    {
      g_autofree char *text = g_strescape (problem != NULL ? problem : "failed", NULL);

      reply_error (msg, status, text);
      return;
    }
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) node = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "cancelled");
    json_builder_add_string_value (b, key);
    json_builder_set_member_name (b, "task");
    json_builder_add_string_value (b, task_id);
    json_builder_end_object (b);
    node = json_builder_get_root (b);
    pd_sandbox_reply_json (msg, 200, "application/json", node);
  }
}

/* GET: the faults drawn so far. POST {"fault": KIND, "method": M, "path":
 * P, "times": N}: the next N requests to path P (and of method M, when
 * given) meet KIND, before any drawn by --faults; answers the report. */
static void
faults_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  PdSandbox *sandbox = user_data;
  g_autoptr(JsonNode) report = NULL;

  if (g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      g_autofree char *parse_error = NULL;
      g_autoptr(JsonNode) root = pd_sandbox_read_json (msg, &parse_error);
      g_autoptr(GError) error = NULL;
      JsonObject *o = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
      gint64 times = o != NULL ? json_object_get_int_member_with_default (o, "times", 1) : 0;
      gint64 after = o != NULL ? json_object_get_int_member_with_default (o, "after", 0) : 0;

      if (o == NULL || pd_json_str (o, "fault") == NULL || pd_json_str (o, "path") == NULL || times < 1 || times > 1000000 || after < 0 || after > 1000000)
        {
          reply_error (msg, 400, "POST {\\\"fault\\\": KIND, \\\"path\\\": PATH, \\\"method\\\": METHOD, \\\"times\\\": 1 to 1000000, \\\"after\\\": 0 to 1000000}");
          return;
        }
      if (sandbox->faults == NULL)
        sandbox->faults = pd_sandbox_faults_new ("", sandbox->seed, NULL);
      if (!pd_sandbox_faults_arm (sandbox->faults, pd_json_str (o, "fault"), pd_json_str (o, "method"),
                                  pd_json_str (o, "path"), (guint) after, (guint) times, &error))
        {
          g_autofree char *text = g_strescape (error->message, NULL);

          reply_error (msg, 400, text);
          return;
        }
    }
  report = pd_sandbox_faults_report (sandbox->faults);
  pd_sandbox_reply_json (msg, 200, "application/json", report);
}

/* {"drug": product code, "count": 1 to 1000 (1 when absent)} →
 * {"codes": [20 digits, …]}; an OperationOutcome when refused. */
static void
trace_codes_cb (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  PdSandbox *sandbox = user_data;
  g_autofree char *parse_error = NULL;
  g_autoptr(JsonNode) root = pd_sandbox_read_json (msg, &parse_error);
  JsonObject *o = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *drug = pd_json_str (o, "drug");
  JsonNode *count = o != NULL ? json_object_get_member (o, "count") : NULL;
  g_autoptr(GPtrArray) codes = NULL;
  g_autofree char *problem = NULL;
  gint64 n = 1;
  guint status;

  if (count != NULL && (!JSON_NODE_HOLDS_VALUE (count) || json_node_get_value_type (count) != G_TYPE_INT64))
    n = 0;
  else if (count != NULL)
    n = json_node_get_int (count);
  if (!g_str_equal (soup_server_message_get_method (msg), "POST") || drug == NULL || n < 1 || n > 1000)
    {
      pd_sandbox_fhir_reply_outcome (msg, 400, "invalid", "POST {\"drug\": a product code of drugs.csv, \"count\": 1 to 1000}");
      return;
    }
  status = pd_sandbox_trace_codes_issue (sandbox, drug, (guint) n, &codes, &problem);
  if (status != 200)
    {
      pd_sandbox_fhir_reply_outcome (msg, status, status == 404 ? "not-found" : "exception", problem);
      return;
    }
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) node = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "codes");
    json_builder_begin_array (b);
    for (guint i = 0; i < codes->len; i++)
      json_builder_add_string_value (b, codes->pdata[i]);
    json_builder_end_array (b);
    json_builder_end_object (b);
    node = json_builder_get_root (b);
    pd_sandbox_reply_json (msg, 200, "application/json", node);
  }
}

void
pd_sandbox_control_register (PdSandbox *sandbox)
{
  soup_server_add_handler (sandbox->server, "/sandbox/control/clock", clock_cb, sandbox, NULL);
  soup_server_add_handler (sandbox->server, "/sandbox/control/plant", plant_cb, sandbox, NULL);
  soup_server_add_handler (sandbox->server, "/sandbox/control/bulk-load", bulk_cb, sandbox, NULL);
  soup_server_add_handler (sandbox->server, "/sandbox/control/faults", faults_cb, sandbox, NULL);
  soup_server_add_handler (sandbox->server, "/sandbox/control/cancel", cancel_cb, sandbox, NULL);
  soup_server_add_handler (sandbox->server, "/sandbox/control/trace-codes", trace_codes_cb, sandbox, NULL);
}
