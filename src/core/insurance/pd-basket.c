/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-basket"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-json.h"
#include "pd-money.h"
#include "pd-settle.h"

/* cli.md's basket: {"rxno", "med_type", "items": [{"code", "count",
 * "price", "lot", "trace_codes"}]}, read strictly: what is wrong is named. */

static void
item_free (PdBasketItem *item)
{
  g_free (item->code);
  g_free (item->lot);
  g_ptr_array_unref (item->trace_codes);
  g_free (item);
}

void
pd_basket_free (PdBasket *basket)
{
  if (basket == NULL)
    return;
  g_free (basket->rxno);
  g_free (basket->med_type);
  g_ptr_array_unref (basket->items);
  g_free (basket);
}

static gboolean
invalid (GError    **error,
         guint       i,
         const char *what)
{
  g_set_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_MALFORMED, _("The basket’s item %u: %s"), i + 1, what);
  return FALSE;
}

static gboolean
read_item (PdBasket   *basket,
           JsonObject *o,
           guint       i,
           GError    **error)
{
  g_autoptr(GError) money_error = NULL;
  PdBasketItem *item;
  JsonNode *count = o != NULL ? json_object_get_member (o, "count") : NULL;
  JsonNode *price = o != NULL ? json_object_get_member (o, "price") : NULL;
  JsonArray *codes = pd_json_arr (o, "trace_codes");

  if (o == NULL)
    return invalid (error, i, _("each item is an object with “code”, “count”, “price” and “trace_codes”"));
  if (pd_json_str (o, "code") == NULL || *pd_json_str (o, "code") == '\0')
    return invalid (error, i, _("“code” (the product code of drugs.csv) is missing"));
  if (count == NULL || !JSON_NODE_HOLDS_VALUE (count) || json_node_get_value_type (count) != G_TYPE_INT64
      || json_node_get_int (count) <= 0 || json_node_get_int (count) > 100000)
    return invalid (error, i, _("“count” must be a whole number of product units, at least 1"));
  item = g_new0 (PdBasketItem, 1);
  item->code = g_strdup (pd_json_str (o, "code"));
  item->count = (int) json_node_get_int (count);
  item->price_e4 = -1;
  item->lot = g_strdup (pd_json_str (o, "lot"));
  item->trace_codes = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (basket->items, item);
  if (price != NULL && !JSON_NODE_HOLDS_NULL (price))
    {
      if (!JSON_NODE_HOLDS_VALUE (price) || json_node_get_value_type (price) != G_TYPE_STRING
          || !pd_money_parse_price_e4 (json_node_get_string (price), &item->price_e4, &money_error))
        return invalid (error, i, _("“price” is the price per unit in yuan as a string, at most 4 decimals (\"0.3500\")"));
    }
  for (guint k = 0; codes != NULL && k < json_array_get_length (codes); k++)
    {
      JsonNode *n = json_array_get_element (codes, k);

      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        return invalid (error, i, _("each traceability code is a string of 20 digits"));
      g_ptr_array_add (item->trace_codes, g_strdup (json_node_get_string (n)));
    }
  return TRUE;
}

PdBasket *
pd_basket_from_json (const char *text,
                     gsize       len,
                     GError    **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(PdBasket) basket = g_new0 (PdBasket, 1);
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  JsonObject *o;
  JsonArray *items;

  basket->items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  if (!json_parser_load_from_data (parser, text, (gssize) len, &local_error))
    {
      g_set_error (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_MALFORMED, _("The basket is not JSON: %s"), local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  o = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  items = pd_json_arr (o, "items");
  if (o == NULL || items == NULL || json_array_get_length (items) == 0)
    {
      g_set_error_literal (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_MALFORMED,
                           _("The basket is an object whose “items” list what is sold"));
      return NULL;
    }
  if (pd_json_str (o, "rxno") == NULL || *pd_json_str (o, "rxno") == '\0')
    {
      g_set_error_literal (error, PD_INSURANCE_ERROR, PD_INSURANCE_ERROR_MALFORMED,
                           _("The basket names no “rxno” (the prescription’s number, or the counter sale’s)"));
      return NULL;
    }
  basket->rxno = g_strdup (pd_json_str (o, "rxno"));
  basket->med_type = g_strdup (pd_json_str (o, "med_type") != NULL ? pd_json_str (o, "med_type") : "41");
  for (guint i = 0; i < json_array_get_length (items); i++)
    if (!read_item (basket, pd_json_arr_obj (items, i), i, error))
      return NULL;
  return g_steal_pointer (&basket);
}
