/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-courier"

#include "config.h"

#include <string.h>

#include "pd-sandbox.h"

/* A same-city courier in the Dada style (delivery.md): the signed request
 * and the answer's shape. Orders arrive with the delivery issue. */

static void
reply (SoupServerMessage *msg,
       int                code,
       const char        *text,
       JsonNode          *result)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, code == 0 ? "success" : "fail");
  json_builder_set_member_name (b, "code");
  json_builder_add_int_value (b, code);
  json_builder_set_member_name (b, "msg");
  json_builder_add_string_value (b, text);
  json_builder_set_member_name (b, "result");
  if (result != NULL)
    json_builder_add_value (b, json_node_ref (result));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  pd_sandbox_reply_json (msg, 200, "application/json", root);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Upper-case hex MD5 of secret + sorted key+value of every field but
 * signature + secret. */
static char *
expected_signature (JsonObject *request,
                    const char *secret)
{
  g_autoptr(GList) members = json_object_get_members (request);
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  GString *input = g_string_new (secret);
  char *md5, *upper;

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_str_equal (l->data, "signature"))
      g_ptr_array_add (keys, l->data);
  g_ptr_array_sort (keys, compare_strings);
  for (guint i = 0; i < keys->len; i++)
    {
      JsonNode *v = json_object_get_member (request, keys->pdata[i]);

      g_string_append (input, keys->pdata[i]);
      if (JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
        g_string_append (input, json_node_get_string (v));
      else if (JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_INT64)
        g_string_append_printf (input, "%" G_GINT64_FORMAT, json_node_get_int (v));
    }
  g_string_append (input, secret);
  md5 = g_compute_checksum_for_string (G_CHECKSUM_MD5, input->str, input->len);
  upper = g_ascii_strup (md5, -1);
  g_free (md5);
  g_string_free (input, TRUE);
  return upper;
}

static void
courier_handler (PdSandbox         *sandbox,
                 SoupServerMessage *msg,
                 const char        *path)
{
  const char *op = path + strlen ("/courier/api/order/");
  g_autofree char *parse_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *want = NULL;
  JsonObject *request;
  const char *signature;

  if (!g_str_has_prefix (path, "/courier/api/order/") || !g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      reply (msg, 404, "no such operation: POST /courier/api/order/{op}", NULL);
      return;
    }
  root = pd_sandbox_read_json (msg, &parse_error);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      reply (msg, 2001, parse_error != NULL ? parse_error : "the request is not a JSON object", NULL);
      return;
    }
  request = json_node_get_object (root);
  if (g_strcmp0 (json_object_get_string_member_with_default (request, "app_key", NULL), sandbox->courier_app_key) != 0)
    {
      reply (msg, 2002, "unknown app_key", NULL);
      return;
    }
  signature = json_object_get_string_member_with_default (request, "signature", "");
  want = expected_signature (request, sandbox->courier_app_secret);
  if (!g_str_equal (signature, want))
    {
      reply (msg, 2003, "signature mismatch", NULL);
      return;
    }
  if (g_str_equal (op, "status/query"))
    {
      g_autoptr(JsonParser) p = json_parser_new ();
      const char *body = json_object_get_string_member_with_default (request, "body", "{}");
      const char *order_id = NULL;

      if (json_parser_load_from_data (p, body, -1, NULL) && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
        order_id = json_object_get_string_member_with_default (json_node_get_object (json_parser_get_root (p)), "order_id", NULL);
      if (order_id == NULL)
        reply (msg, 2004, "body.order_id is required", NULL);
      else
        {
          g_autofree char *text = g_strdup_printf ("order %s not found: no order was published with this origin_id", order_id);
          reply (msg, 2004, text, NULL);
        }
      return;
    }
  reply (msg, 2005, "this operation is not implemented in this sandbox yet", NULL);
}

void
pd_sandbox_courier_register (PdSandbox *sandbox)
{
  pd_sandbox_add_service (sandbox, "/courier", courier_handler);
}
