/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-hospital"

#include "config.h"

#include <string.h>

#include "pd-sandbox.h"
#include "pd-sandbox-hospital.h"

/* The hospital's side of hospital.md's Dispense and Handover: what a new
 * MedicationDispense must carry, the rule that a prescription is filled by
 * one group at a time (an in-progress or completed dispense of another
 * dispense-group refuses a fill; a stopped one does not), and the
 * handover or stop of a dispense by PUT. Everything here runs inside the
 * caller's write transaction. */

#define GROUP_SYSTEM "urn:pharmdesk:dispense-group"
#define DISPENSE_SYSTEM "urn:pharmdesk:dispense"
#define TRACE_SYSTEM "urn:pharmdesk:trace-code"
#define PRODUCT_SYSTEM "urn:pharmdesk:product-code"

/* What a PUT may change: the handover or the stop, nothing of the fill. */
static const char * const dispense_mutable[] = {
  "status", "whenHandedOver", "statusReasonCodeableConcept", "meta", "id", "text", NULL
};

static gboolean refuse (PdSandboxRefusal *r,
                        guint             status,
                        const char       *code,
                        const char       *expression,
                        const char       *format,
                        ...) G_GNUC_PRINTF (5, 6);

static gboolean
refuse (PdSandboxRefusal *r,
        guint             status,
        const char       *code,
        const char       *expression,
        const char       *format,
        ...)
{
  va_list ap;

  pd_sandbox_refusal_clear (r);
  va_start (ap, format);
  r->problem = g_strdup_vprintf (format, ap);
  va_end (ap);
  r->status = status;
  r->code = code;
  r->expression = g_strdup (expression);
  return FALSE;
}

static gboolean
all_digits (const char *s,
            gsize       n)
{
  if (s == NULL || strlen (s) != n)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* The value of the one identifier of `system`; NULL with *count 0 when
 * there is none. */
static const char *
identifier_of (JsonObject *resource,
               const char *system,
               guint      *count)
{
  JsonArray *ids = pd_json_arr (resource, "identifier");
  const char *value = NULL;

  *count = 0;
  for (guint i = 0; ids != NULL && i < json_array_get_length (ids); i++)
    {
      JsonObject *id = pd_json_arr_obj (ids, i);

      if (g_strcmp0 (pd_json_str (id, "system"), system) == 0)
        {
          (*count)++;
          value = pd_json_str (id, "value");
        }
    }
  return value;
}

/* The dispense-group and dispense identifiers ({uuid}:{n}, the same uuid),
 * and every traceability code 20 digits. */
static gboolean
check_identifiers (JsonObject       *dispense,
                   const char      **group_out,
                   const char      **own_out,
                   PdSandboxRefusal *r)
{
  JsonArray *ids = pd_json_arr (dispense, "identifier");
  guint n_groups, n_own;
  const char *group = identifier_of (dispense, GROUP_SYSTEM, &n_groups);
  const char *own = identifier_of (dispense, DISPENSE_SYSTEM, &n_own);
  const char *colon = own != NULL ? strrchr (own, ':') : NULL;

  if (n_groups == 0 || group == NULL)
    return refuse (r, 422, "required", "MedicationDispense.identifier",
                   "MedicationDispense.identifier holds the fill's " GROUP_SYSTEM " (a UUID)");
  if (n_groups > 1)
    return refuse (r, 422, "invalid", "MedicationDispense.identifier",
                   "MedicationDispense.identifier holds one " GROUP_SYSTEM ", not %u", n_groups);
  if (!g_uuid_string_is_valid (group))
    return refuse (r, 422, "invalid", "MedicationDispense.identifier", "the dispense-group “%s” is not a UUID", group);
  if (n_own != 1 || own == NULL)
    return refuse (r, 422, n_own == 0 ? "required" : "invalid", "MedicationDispense.identifier",
                   "MedicationDispense.identifier holds one " DISPENSE_SYSTEM " ({uuid}:{n})");
  if (colon == NULL || (gsize) (colon - own) != strlen (group) || strncmp (own, group, colon - own) != 0
      || colon[1] < '1' || colon[1] > '9' || strspn (colon + 1, "0123456789") != strlen (colon + 1))
    return refuse (r, 422, "invalid", "MedicationDispense.identifier",
                   "the " DISPENSE_SYSTEM " identifier “%s” is not {uuid}:{n} of its dispense-group %s, n counting from 1",
                   own, group);
  for (guint i = 0; ids != NULL && i < json_array_get_length (ids); i++)
    {
      JsonObject *id = pd_json_arr_obj (ids, i);

      if (g_strcmp0 (pd_json_str (id, "system"), TRACE_SYSTEM) == 0 && !all_digits (pd_json_str (id, "value"), 20))
        return refuse (r, 422, "invalid", "MedicationDispense.identifier",
                       "the traceability code “%s” is not 20 digits", pd_json_str (id, "value") ? pd_json_str (id, "value") : "");
    }
  *group_out = group;
  *own_out = own;
  return TRUE;
}

/* If-None-Exist: identifier=urn:pharmdesk:dispense|{its own value}, so
 * that a retry after a lost answer finds what the first one made. */
static gboolean
check_if_none_exist (const char       *if_none_exist,
                     const char       *own,
                     PdSandboxRefusal *r)
{
  g_autofree char *want = g_strconcat ("identifier=" DISPENSE_SYSTEM "|", own, NULL);
  g_autofree char *given = NULL;

  if (if_none_exist == NULL)
    return refuse (r, 428, "required", NULL,
                   "a MedicationDispense is created with If-None-Exist: identifier=" DISPENSE_SYSTEM "|%s", own);
  given = g_uri_unescape_string (if_none_exist[0] == '?' ? if_none_exist + 1 : if_none_exist, NULL);
  if (g_strcmp0 (given, want) != 0)
    return refuse (r, 422, "invalid", NULL, "If-None-Exist “%s” is not the dispense's own identifier (%s)", if_none_exist, want);
  return TRUE;
}

/* medicationReference → #id, a contained Medication with its batch's lot
 * and expiry (not expired when prepared), of the drug prescribed when it
 * names one. */
static gboolean
check_medication (JsonObject       *dispense,
                  gint64            prepared_us,
                  const char       *prescribed,
                  PdSandboxRefusal *r)
{
  const char *ref = pd_json_str (pd_json_obj (dispense, "medicationReference"), "reference");
  JsonArray *contained = pd_json_arr (dispense, "contained");
  JsonObject *medication = NULL;
  JsonObject *batch;
  JsonArray *codings;
  const char *lot, *expiry;
  gint64 expiry_us = 0;
  guint at = 0;

  if (ref == NULL || ref[0] != '#')
    return refuse (r, 422, "required", "MedicationDispense.medicationReference",
                   "MedicationDispense.medicationReference refers to a contained Medication (#id) with its batch");
  for (guint i = 0; contained != NULL && i < json_array_get_length (contained); i++)
    {
      JsonObject *c = pd_json_arr_obj (contained, i);

      if (g_strcmp0 (pd_json_str (c, "id"), ref + 1) == 0)
        {
          medication = c;
          at = i;
        }
    }
  if (medication == NULL || g_strcmp0 (pd_json_str (medication, "resourceType"), "Medication") != 0)
    return refuse (r, 422, "invalid", "MedicationDispense.contained",
                   "MedicationDispense.medicationReference %s is not a contained Medication", ref);
  batch = pd_json_obj (medication, "batch");
  lot = pd_json_str (batch, "lotNumber");
  expiry = pd_json_str (batch, "expirationDate");
  if (lot == NULL || *lot == '\0')
    {
      g_autofree char *where = g_strdup_printf ("MedicationDispense.contained[%u].batch.lotNumber", at);

      return refuse (r, 422, "required", where, "the contained Medication has no batch.lotNumber");
    }
  if (expiry == NULL || !pd_time_parse_fhir (expiry, TRUE, &expiry_us))
    {
      g_autofree char *where = g_strdup_printf ("MedicationDispense.contained[%u].batch.expirationDate", at);

      return refuse (r, 422, expiry == NULL ? "required" : "invalid", where,
                     "the contained Medication's batch.expirationDate is a date (YYYY-MM-DD)");
    }
  if (expiry_us < prepared_us)
    {
      g_autofree char *where = g_strdup_printf ("MedicationDispense.contained[%u].batch.expirationDate", at);

      return refuse (r, 422, "business-rule", where, "lot %s expired on %s, before the fill was prepared", lot, expiry);
    }
  codings = pd_json_arr (pd_json_obj (medication, "code"), "coding");
  for (guint i = 0; prescribed != NULL && codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonObject *c = pd_json_arr_obj (codings, i);

      if (g_strcmp0 (pd_json_str (c, "system"), PRODUCT_SYSTEM) == 0 && g_strcmp0 (pd_json_str (c, "code"), prescribed) != 0)
        {
          g_autofree char *where = g_strdup_printf ("MedicationDispense.contained[%u].code", at);

          return refuse (r, 422, "business-rule", where, "the contained Medication is %s, but the line prescribes %s",
                         pd_json_str (c, "code"), prescribed);
        }
    }
  return TRUE;
}

/* The dispenser and the checker: two performers, two people, each named
 * by a reference or, for someone the hospital does not know (a checker
 * without a Practitioner), by an identifier. */
static gboolean
check_performers (JsonObject       *dispense,
                  PdSandboxRefusal *r)
{
  JsonArray *performers = pd_json_arr (dispense, "performer");
  g_autoptr(GHashTable) actors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; performers != NULL && i < json_array_get_length (performers); i++)
    {
      JsonObject *actor = pd_json_obj (pd_json_arr_obj (performers, i), "actor");
      JsonObject *id = pd_json_obj (actor, "identifier");
      const char *ref = pd_json_str (actor, "reference");

      if (ref == NULL && (pd_json_str (id, "system") == NULL || pd_json_str (id, "value") == NULL))
        {
          g_autofree char *where = g_strdup_printf ("MedicationDispense.performer[%u].actor", i);

          return refuse (r, 422, "required", where, "every performer names its actor (a reference or an identifier)");
        }
      g_hash_table_add (actors, ref != NULL ? g_strdup (ref) : g_strconcat (pd_json_str (id, "system"), "|", pd_json_str (id, "value"), NULL));
    }
  if (g_hash_table_size (actors) < 2)
    return refuse (r, 422, "required", "MedicationDispense.performer",
                   "MedicationDispense.performer names the dispenser and the checker, two different people");
  return TRUE;
}

static const char *
product_code (JsonObject *line)
{
  JsonArray *codings = pd_json_arr (pd_json_obj (line, "medicationCodeableConcept"), "coding");

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    if (g_strcmp0 (pd_json_str (pd_json_arr_obj (codings, i), "system"), PRODUCT_SYSTEM) == 0)
      return pd_json_str (pd_json_arr_obj (codings, i), "code");
  return NULL;
}

/* authorizingPrescription: lines of one prescription, each active (a
 * cancelled one refused with 409) and still valid when the fill was
 * prepared, of a Task neither rejected nor cancelled. Gives the
 * prescription's groupIdentifier value and the product code when the
 * dispense fills one line. */
static gboolean
check_lines (PdSandbox        *sandbox,
             JsonObject       *dispense,
             gint64            prepared_us,
             char            **prescription,
             char            **prescribed,
             PdSandboxRefusal *r)
{
  JsonArray *refs = pd_json_arr (dispense, "authorizingPrescription");
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(JsonObject) task = NULL;
  const char *task_status;

  if (refs == NULL || json_array_get_length (refs) == 0)
    return refuse (r, 422, "required", "MedicationDispense.authorizingPrescription",
                   "a MedicationDispense names its line in authorizingPrescription");
  for (guint i = 0; i < json_array_get_length (refs); i++)
    {
      const char *ref = pd_json_str (pd_json_arr_obj (refs, i), "reference");
      g_autofree char *where = g_strdup_printf ("MedicationDispense.authorizingPrescription[%u]", i);
      g_autoptr(JsonObject) line = NULL;
      const char *group, *status, *valid_until;
      gint64 valid_us = 0;

      if (ref == NULL || !g_str_has_prefix (ref, "MedicationRequest/"))
        return refuse (r, 422, "invalid", where, "authorizingPrescription[%u] is not MedicationRequest/id", i);
      line = pd_sandbox_fhir_load (sandbox, "MedicationRequest", ref + strlen ("MedicationRequest/"), NULL);
      if (line == NULL)
        return refuse (r, 422, "not-found", where, "no %s", ref);
      group = pd_json_str (pd_json_obj (line, "groupIdentifier"), "value");
      status = pd_json_str (line, "status");
      if (group == NULL)
        return refuse (r, 422, "invalid", where, "%s belongs to no prescription (no groupIdentifier)", ref);
      if (*prescription != NULL && !g_str_equal (*prescription, group))
        return refuse (r, 422, "invalid", where, "%s is of prescription %s, not %s: one dispense fills lines of one prescription",
                       ref, group, *prescription);
      if (g_strcmp0 (status, "cancelled") == 0)
        return refuse (r, 409, "conflict", where, "prescription %s was cancelled by the prescriber (%s is cancelled)", group, ref);
      if (g_strcmp0 (status, "active") != 0)
        return refuse (r, 409, "conflict", where, "%s is %s, not active", ref, status != NULL ? status : "without a status");
      valid_until = pd_json_str (pd_json_obj (pd_json_obj (line, "dispenseRequest"), "validityPeriod"), "end");
      if (valid_until != NULL && pd_time_parse_fhir (valid_until, TRUE, &valid_us) && valid_us < prepared_us)
        return refuse (r, 422, "business-rule", "MedicationDispense.whenPrepared",
                       "prescription %s was valid until %s, before the fill was prepared", group, valid_until);
      if (*prescription == NULL)
        *prescription = g_strdup (group);
      if (json_array_get_length (refs) == 1)
        *prescribed = g_strdup (product_code (line));
    }
  tasks = pd_sandbox_fhir_lookup (sandbox, "Task", "group", *prescription);
  task = tasks->len > 0 ? pd_sandbox_fhir_load (sandbox, "Task", tasks->pdata[0], NULL) : NULL;
  task_status = pd_json_str (task, "status");
  if (g_strcmp0 (task_status, "rejected") == 0 || g_strcmp0 (task_status, "cancelled") == 0)
    return refuse (r, 409, "conflict", "MedicationDispense.authorizingPrescription",
                   "prescription %s is %s (Task/%s)", *prescription, task_status, (char *) tasks->pdata[0]);
  return TRUE;
}

gboolean
pd_sandbox_dispense_check_new (PdSandbox        *sandbox,
                               JsonObject       *dispense,
                               const char       *if_none_exist,
                               PdSandboxRefusal *r)
{
  const char *status = pd_json_str (dispense, "status");
  const char *prepared = pd_json_str (dispense, "whenPrepared");
  JsonObject *quantity = pd_json_obj (dispense, "quantity");
  JsonNode *value = quantity != NULL ? json_object_get_member (quantity, "value") : NULL;
  g_autofree char *prescription = NULL;
  g_autofree char *prescribed = NULL;
  g_autofree char *live = NULL;
  const char *group = NULL, *own = NULL;
  gint64 prepared_us = 0;

  if (g_strcmp0 (status, "in-progress") != 0)
    return refuse (r, 422, status == NULL ? "required" : "business-rule", "MedicationDispense.status",
                   "a fill's MedicationDispense is created in-progress, not %s", status != NULL ? status : "without a status");
  if (!check_identifiers (dispense, &group, &own, r) || !check_if_none_exist (if_none_exist, own, r))
    return FALSE;
  {
    /* If-None-Exist found none before the transaction's first write: only
     * an earlier entry of the same Bundle can hold this identifier now. */
    g_autofree char *token = g_strconcat (DISPENSE_SYSTEM "|", own, NULL);
    g_autoptr(GPtrArray) same = pd_sandbox_fhir_lookup (sandbox, "MedicationDispense", "identifier", token);

    if (same->len > 0)
      return refuse (r, 422, "duplicate", "MedicationDispense.identifier",
                     "MedicationDispense/%s already has the identifier %s", (char *) same->pdata[0], token);
  }
  if (prepared == NULL || !pd_time_parse_iso (prepared, &prepared_us, NULL))
    return refuse (r, 422, prepared == NULL ? "required" : "invalid", "MedicationDispense.whenPrepared",
                   "MedicationDispense.whenPrepared is a time with an offset");
  if (!check_lines (sandbox, dispense, prepared_us, &prescription, &prescribed, r))
    return FALSE;
  if (json_object_has_member (dispense, "whenHandedOver"))
    return refuse (r, 422, "business-rule", "MedicationDispense.whenHandedOver",
                   "a fill is handed over later, by a PUT that completes it: no whenHandedOver when created");
  if (value == NULL || !JSON_NODE_HOLDS_VALUE (value)
      || (json_node_get_value_type (value) != G_TYPE_INT64 && json_node_get_value_type (value) != G_TYPE_DOUBLE)
      || json_node_get_double (value) <= 0)
    return refuse (r, 422, value == NULL ? "required" : "invalid", "MedicationDispense.quantity",
                   "MedicationDispense.quantity has a value above 0");
  if (!check_medication (dispense, prepared_us, prescribed, r) || !check_performers (dispense, r))
    return FALSE;
  live = pd_sandbox_rx_live_dispense (sandbox, prescription, group);
  if (live != NULL)
    return refuse (r, 409, "conflict", "MedicationDispense.authorizingPrescription",
                   "prescription %s is already being filled or was filled by another dispense-group (%s); "
                   "a new fill may follow only once that one is stopped", prescription, live);
  return TRUE;
}

gboolean
pd_sandbox_dispense_check_update (PdSandbox        *sandbox,
                                  JsonObject       *current,
                                  JsonObject       *next,
                                  PdSandboxRefusal *r)
{
  const char *id = pd_json_str (current, "id");
  const char *now = pd_json_str (current, "status");
  const char *status = pd_json_str (next, "status");
  const char *handed = pd_json_str (next, "whenHandedOver");
  const char *reason = pd_json_str (pd_json_obj (next, "statusReasonCodeableConcept"), "text");
  const char *changed;
  gint64 us = 0;

  if (g_strcmp0 (now, "in-progress") != 0)
    return refuse (r, 409, "conflict", "MedicationDispense.status", "MedicationDispense/%s is already %s", id, now);
  if (g_strcmp0 (status, "completed") == 0)
    {
      if (handed == NULL || !pd_time_parse_iso (handed, &us, NULL))
        return refuse (r, 422, handed == NULL ? "required" : "invalid", "MedicationDispense.whenHandedOver",
                       "a completed MedicationDispense says whenHandedOver, a time with an offset");
    }
  else if (g_strcmp0 (status, "stopped") == 0)
    {
      if (reason == NULL || *reason == '\0')
        return refuse (r, 422, "required", "MedicationDispense.statusReasonCodeableConcept",
                       "a stopped MedicationDispense says why in statusReasonCodeableConcept.text");
      if (json_object_has_member (next, "whenHandedOver"))
        return refuse (r, 422, "business-rule", "MedicationDispense.whenHandedOver",
                       "a stopped MedicationDispense was not handed over: no whenHandedOver");
    }
  else
    return refuse (r, 422, "business-rule", "MedicationDispense.status",
                   "a pharmacy sets a MedicationDispense to completed (handed over) or stopped, not %s",
                   status != NULL ? status : "nothing");
  changed = pd_sandbox_fhir_changed_member (current, next, dispense_mutable);
  if (changed != NULL)
    {
      g_autofree char *where = g_strconcat ("MedicationDispense.", changed, NULL);

      return refuse (r, 422, "business-rule", where, "MedicationDispense.%s is the fill's and may not change", changed);
    }
  return TRUE;
}

char *
pd_sandbox_rx_live_dispense (PdSandbox  *sandbox,
                             const char *prescription,
                             const char *except_group)
{
  g_autoptr(GPtrArray) lines = pd_sandbox_fhir_lookup (sandbox, "MedicationRequest", "group", prescription);

  for (guint i = 0; i < lines->len; i++)
    {
      g_autofree char *ref = g_strconcat ("MedicationRequest/", (char *) lines->pdata[i], NULL);
      g_autoptr(GPtrArray) dispenses = pd_sandbox_fhir_lookup (sandbox, "MedicationDispense", "prescription", ref);

      for (guint k = 0; k < dispenses->len; k++)
        {
          g_autoptr(JsonObject) d = pd_sandbox_fhir_load (sandbox, "MedicationDispense", dispenses->pdata[k], NULL);
          const char *status = pd_json_str (d, "status");
          guint n = 0;
          const char *group = d != NULL ? identifier_of (d, GROUP_SYSTEM, &n) : NULL;

          if ((g_strcmp0 (status, "in-progress") == 0 || g_strcmp0 (status, "completed") == 0)
              && (except_group == NULL || g_strcmp0 (group, except_group) != 0))
            return g_strdup_printf ("MedicationDispense/%s, %s, dispense-group %s", (char *) dispenses->pdata[k], status,
                                    group != NULL ? group : "none");
        }
    }
  return NULL;
}
