/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Who may do what. An account holds one or more roles; core checks the
 * role on every action (the UI only hides what a role cannot do). */
typedef enum {
  PD_ROLE_PHARMACIST = 1 << 0,  /* review, dispense */
  PD_ROLE_CHECKER    = 1 << 1,  /* checks a dispensing */
  PD_ROLE_DELIVERY   = 1 << 2,  /* the delivery desk */
  PD_ROLE_CLERK      = 1 << 3,  /* insurance: settle, reconcile */
  PD_ROLE_ADMIN      = 1 << 4,  /* accounts, links, policy, knowledge base, audit */
} PdRoles;

#define PD_ALL_ROLES (PD_ROLE_PHARMACIST | PD_ROLE_CHECKER | PD_ROLE_DELIVERY | PD_ROLE_CLERK | PD_ROLE_ADMIN)

typedef enum {
  PD_ACTION_OPEN_PATIENT,
  PD_ACTION_REVIEW,
  PD_ACTION_DISPENSE,
  PD_ACTION_CHECK_DISPENSE,
  PD_ACTION_DELIVER,
  PD_ACTION_SETTLE,
  PD_ACTION_RECONCILE,
  PD_ACTION_MANAGE_ACCOUNTS,
  PD_ACTION_MANAGE_LINKS,
  PD_ACTION_MANAGE_POLICY,
  PD_ACTION_IMPORT_KB,
  PD_ACTION_VERIFY_AUDIT,
  PD_ACTION_EXPORT_AUDIT,
  PD_N_ACTIONS
} PdAction;

gboolean    pd_roles_parse          (const char  *text,
                                     PdRoles     *out,
                                     GError     **error);
char       *pd_roles_to_string      (PdRoles      roles);
PdRoles     pd_action_get_roles     (PdAction     action);
const char *pd_action_get_id        (PdAction     action);
const char *pd_action_get_refusal   (PdAction     action);
const char *pd_role_get_title       (PdRoles      role);

G_END_DECLS
