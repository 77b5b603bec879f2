/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-roles"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pd-crypto.h"
#include "pd-roles.h"

static const struct {
  PdRoles     role;
  const char *id;
  const char *title;
} roles[] = {
  { PD_ROLE_PHARMACIST, "pharmacist", N_("Pharmacist") },
  { PD_ROLE_CHECKER, "checker", N_("Dispensing checker") },
  { PD_ROLE_DELIVERY, "delivery", N_("Delivery desk") },
  { PD_ROLE_CLERK, "clerk", N_("Insurance clerk") },
  { PD_ROLE_ADMIN, "admin", N_("Administrator") },
};

/* The role × action matrix. Patient data is for the people who serve the
 * patient; an administrator manages the desk, not the patients. */
static const struct {
  const char *id;
  PdRoles     roles;
  const char *refusal;        /* said to someone whose roles do not allow it */
} actions[PD_N_ACTIONS] = {
  [PD_ACTION_OPEN_PATIENT] = { "open-patient", PD_ROLE_PHARMACIST | PD_ROLE_CHECKER | PD_ROLE_DELIVERY | PD_ROLE_CLERK,
                               N_("Patients’ records are open to pharmacists, checkers, the delivery desk and insurance clerks, not to administrators.") },
  [PD_ACTION_REVIEW] = { "review", PD_ROLE_PHARMACIST, N_("Only a pharmacist may review prescriptions.") },
  [PD_ACTION_DISPENSE] = { "dispense", PD_ROLE_PHARMACIST | PD_ROLE_CHECKER,
                           N_("Only a pharmacist or a dispensing checker may fill prescriptions and receive stock.") },
  [PD_ACTION_CHECK_DISPENSE] = { "check-dispense", PD_ROLE_PHARMACIST | PD_ROLE_CHECKER,
                                 N_("Only a pharmacist or a dispensing checker may check a dispensing.") },
  [PD_ACTION_DELIVER] = { "deliver", PD_ROLE_DELIVERY, N_("Only the delivery desk may hand orders to couriers.") },
  [PD_ACTION_SETTLE] = { "settle", PD_ROLE_CLERK, N_("Only an insurance clerk may settle with the insurance centre.") },
  [PD_ACTION_RECONCILE] = { "reconcile", PD_ROLE_CLERK, N_("Only an insurance clerk may reconcile with the insurance centre.") },
  [PD_ACTION_MANAGE_ACCOUNTS] = { "manage-accounts", PD_ROLE_ADMIN, N_("Only an administrator may manage accounts.") },
  [PD_ACTION_MANAGE_LINKS] = { "manage-links", PD_ROLE_ADMIN, N_("Only an administrator may change the links.") },
  [PD_ACTION_MANAGE_POLICY] = { "manage-policy", PD_ROLE_ADMIN, N_("Only an administrator may change the sign-in policy.") },
  [PD_ACTION_IMPORT_KB] = { "import-kb", PD_ROLE_ADMIN, N_("Only an administrator may import a knowledge base.") },
  [PD_ACTION_VERIFY_AUDIT] = { "verify-audit", PD_ROLE_ADMIN, N_("Only an administrator may verify the audit trail.") },
  [PD_ACTION_EXPORT_AUDIT] = { "export-audit", PD_ROLE_ADMIN, N_("Only an administrator may export the audit trail.") },
};

/* "pharmacist,clerk" → flags; an unknown word is refused by name. */
gboolean
pd_roles_parse (const char  *text,
                PdRoles     *out,
                GError     **error)
{
  g_auto(GStrv) words = g_strsplit (text != NULL ? text : "", ",", -1);
  PdRoles result = 0;

  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *w = g_strstrip (words[i]);
      gboolean found = FALSE;

      if (*w == '\0')
        continue;
      for (guint r = 0; r < G_N_ELEMENTS (roles); r++)
        if (g_str_equal (w, roles[r].id))
          {
            result |= roles[r].role;
            found = TRUE;
          }
      if (!found)
        {
          g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT,
                       _("“%s” is not a role (pharmacist, checker, delivery, clerk, admin)"), w);
          return FALSE;
        }
    }
  if (result == 0)
    {
      g_set_error (error, PD_CRYPTO_ERROR, PD_CRYPTO_ERROR_FORMAT, "%s",
                   _("An account needs at least one role (pharmacist, checker, delivery, clerk, admin)"));
      return FALSE;
    }
  *out = result;
  return TRUE;
}

char *
pd_roles_to_string (PdRoles r)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (roles); i++)
    if (r & roles[i].role)
      {
        if (s->len > 0)
          g_string_append_c (s, ',');
        g_string_append (s, roles[i].id);
      }
  return g_string_free (s, FALSE);
}

PdRoles
pd_action_get_roles (PdAction action)
{
  g_return_val_if_fail (action < PD_N_ACTIONS, 0);
  return actions[action].roles;
}

const char *
pd_action_get_id (PdAction action)
{
  g_return_val_if_fail (action < PD_N_ACTIONS, NULL);
  return actions[action].id;
}

/* A whole sentence, translated: never the action's id. */
const char *
pd_action_get_refusal (PdAction action)
{
  g_return_val_if_fail (action < PD_N_ACTIONS, NULL);
  return g_dgettext (GETTEXT_PACKAGE, actions[action].refusal);
}

const char *
pd_role_get_title (PdRoles role)
{
  for (guint i = 0; i < G_N_ELEMENTS (roles); i++)
    if (roles[i].role == role)
      return g_dgettext (GETTEXT_PACKAGE, roles[i].title);
  return "";
}
