/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "pd-clock.h"
#include "pd-store.h"

G_BEGIN_DECLS

/* pharmdesk-sandbox: the hospital, the insurance centre and a courier on
 * loopback, over one state database. It shares the store and the clock
 * with core and nothing else: each service writes its own side of its
 * protocol from the spec, so a misreading on one side shows on the other. */

typedef struct _PdSandboxFaults PdSandboxFaults;
typedef struct _PdSandboxCentre PdSandboxCentre;

/* Demo people made on the first start (pd-sandbox-state.c). */
#define PD_SANDBOX_DEMO_PEOPLE 24

typedef struct {
  PdStore         *store;
  PdClock         *clock;
  SoupServer      *server;
  PdSandboxFaults *faults;
  char            *state_dir;
  char            *base_url;         /* http://127.0.0.1:PORT */
  guint64          seed;
  gboolean         control;
  gboolean         no_demo;          /* --no-demo: a fresh state gets no prescriptions */
  gint64           arrival_every_s;  /* --arrival-every: 0 = no new prescriptions */
  /* credentials, generated once and kept in the state */
  char            *hospital_client_id;
  char            *hospital_client_secret;
  char            *insurance_paasid;
  char            *insurance_token;
  char            *courier_app_key;
  char            *courier_app_secret;
  /* the insurance centre's policy and catalogue (pd-sandbox-settle.c) */
  PdSandboxCentre *centre;
} PdSandbox;

/* A service's handler; the faults wrap it (pd-sandbox-faults.c). */
typedef void (*PdSandboxHandler) (PdSandbox         *sandbox,
                                  SoupServerMessage *msg,
                                  const char        *path);

void      pd_sandbox_add_service      (PdSandbox        *sandbox,
                                       const char       *prefix,
                                       PdSandboxHandler  handler);

/* State (pd-sandbox-state.c). */
const PdSchema *pd_sandbox_schema     (void);
gboolean  pd_sandbox_state_open       (PdSandbox        *sandbox,
                                       GError          **error);
gboolean  pd_sandbox_seed_people      (PdSandbox        *sandbox,
                                       guint             count,
                                       GError          **error);
gboolean  pd_sandbox_write_client_ini (PdSandbox        *sandbox,
                                       GError          **error);
char     *pd_sandbox_now_iso          (PdSandbox        *sandbox);

/* The services. */
void      pd_sandbox_hospital_register  (PdSandbox *sandbox);
void      pd_sandbox_insurance_register (PdSandbox *sandbox);
void      pd_sandbox_courier_register   (PdSandbox *sandbox);
void      pd_sandbox_control_register   (PdSandbox *sandbox);

/* The insurance centre's settlement policy (--insurance-policy FILE, else
 * the installed data/sandbox/insurance-policy.ini) and its catalogue (the
 * knowledge base's drugs.csv), loaded once at start. */
gboolean  pd_sandbox_centre_load      (PdSandbox        *sandbox,
                                       const char       *policy_path,
                                       GError          **error);
void      pd_sandbox_centre_free      (PdSandboxCentre  *centre);

/* Faults (pd-sandbox-faults.c). */
PdSandboxFaults *pd_sandbox_faults_new  (const char  *spec,
                                         guint64      seed,
                                         GError     **error);
void             pd_sandbox_faults_free (PdSandboxFaults *faults);
/* The next `times` requests to path (of method, when not NULL) meet the
 * fault named (drop-request, drop-response, http-500, garbage, duplicate). */
gboolean         pd_sandbox_faults_arm  (PdSandboxFaults *faults,
                                         const char      *fault,
                                         const char      *method,
                                         const char      *path,
                                         guint            after,
                                         guint            times,
                                         GError         **error);
JsonNode        *pd_sandbox_faults_report (PdSandboxFaults *faults);
/* TRUE while a service handles the second delivery of a duplicate. */
gboolean         pd_sandbox_is_duplicate_copy (SoupServerMessage *msg);

/* Answers. */
void      pd_sandbox_reply_json       (SoupServerMessage *msg,
                                       guint              status,
                                       const char        *content_type,
                                       JsonNode          *node);
void      pd_sandbox_reply_text       (SoupServerMessage *msg,
                                       guint              status,
                                       const char        *content_type,
                                       const char        *text);
JsonNode *pd_sandbox_read_json        (SoupServerMessage *msg,
                                       char             **error_text);
char     *pd_sandbox_random_hex       (guint              bytes);

G_END_DECLS
