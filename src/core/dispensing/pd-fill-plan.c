/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-fill-plan"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-dispense.h"

#include <json-glib/json-glib.h>

#include "pd-json.h"

/* The plan of cli.md's `dispense RX --plan FILE`: what the pharmacist gives
 * per line, lot by lot, with one traceability code per box. Read strictly:
 * a member of the wrong type or a count that is not a positive whole number
 * is named, never guessed. */

static void
entry_free (PdFillEntry *entry)
{
  g_free (entry->line);
  g_free (entry->lot);
  g_ptr_array_unref (entry->trace_codes);
  g_free (entry);
}

PdFillPlan *
pd_fill_plan_new (void)
{
  PdFillPlan *plan = g_new0 (PdFillPlan, 1);

  plan->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  return plan;
}

void
pd_fill_plan_free (PdFillPlan *plan)
{
  if (plan == NULL)
    return;
  g_ptr_array_unref (plan->entries);
  g_free (plan);
}

PdFillEntry *
pd_fill_plan_add (PdFillPlan *plan,
                  const char *line,
                  const char *lot,
                  int         boxes,
                  int         units)
{
  PdFillEntry *entry = g_new0 (PdFillEntry, 1);

  entry->line = g_strdup (line);
  entry->lot = g_strdup (lot);
  entry->boxes = boxes;
  entry->units = units;
  entry->trace_codes = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (plan->entries, entry);
  return entry;
}

static gboolean
invalid (GError    **error,
         guint       i,
         const char *what)
{
  g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID,
               _("The plan’s line %u: %s"), i + 1, what);
  return FALSE;
}

/* A positive whole number, or 0 when absent and optional. */
static gboolean
read_count (JsonObject *o,
            const char *member,
            gboolean    required,
            int        *out)
{
  JsonNode *n = json_object_get_member (o, member);
  gint64 v;

  *out = 0;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return !required;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (n);
  if (v <= 0 || v > 100000)
    return FALSE;
  *out = (int) v;
  return TRUE;
}

static gboolean
read_entry (PdFillPlan *plan,
            JsonObject *o,
            guint       i,
            GError    **error)
{
  const char *line = pd_json_str (o, "line");
  const char *lot = pd_json_str (o, "lot");
  JsonArray *codes = pd_json_arr (o, "trace_codes");
  PdFillEntry *entry;
  int boxes, units;

  if (o == NULL)
    return invalid (error, i, _("each entry is an object with “line”, “lot”, “boxes” and “trace_codes”"));
  if (line == NULL || *line == '\0')
    return invalid (error, i, _("“line” (the MedicationRequest’s id) is missing"));
  if (lot == NULL || *lot == '\0')
    return invalid (error, i, _("“lot” is missing"));
  if (!read_count (o, "boxes", TRUE, &boxes))
    return invalid (error, i, _("“boxes” must be a whole number of boxes, at least 1"));
  if (!read_count (o, "units", FALSE, &units))
    return invalid (error, i, _("“units”, where given, must be a whole number of units, at least 1"));
  if (codes == NULL)
    return invalid (error, i, _("“trace_codes” (one per box) is missing"));
  entry = pd_fill_plan_add (plan, line, lot, boxes, units);
  for (guint k = 0; k < json_array_get_length (codes); k++)
    {
      JsonNode *n = json_array_get_element (codes, k);

      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        return invalid (error, i, _("each traceability code is a string of 20 digits"));
      g_ptr_array_add (entry->trace_codes, g_strdup (json_node_get_string (n)));
    }
  return TRUE;
}

PdFillPlan *
pd_fill_plan_from_json (const char *text,
                        gsize       len,
                        GError    **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(PdFillPlan) plan = pd_fill_plan_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  JsonArray *lines;

  if (!json_parser_load_from_data (parser, text, (gssize) len, &local_error))
    {
      g_set_error (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID, _("The plan is not JSON: %s"), local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  lines = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? pd_json_arr (json_node_get_object (root), "lines") : NULL;
  if (lines == NULL || json_array_get_length (lines) == 0)
    {
      g_set_error_literal (error, PD_DISPENSING_ERROR, PD_DISPENSING_ERROR_INVALID,
                           _("The plan is an object whose “lines” list what each line is filled with"));
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (lines); i++)
    if (!read_entry (plan, pd_json_arr_obj (lines, i), i, error))
      return NULL;
  return g_steal_pointer (&plan);
}
