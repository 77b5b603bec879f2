/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-hospital-link.h"
#include "pd-json.h"
#include "pd-json-doc.h"
#include "pd-outbox.h"

G_BEGIN_DECLS

struct _PdHospitalLink
{
  PdSession    *session;
  PdFhirClient *client;
  PdKb         *kb;
  char         *fixmedins_code;   /* the pharmacy the audit anchor names; NULL: no anchor */
  char         *pharmacy_name;
};

const char *pd_fhir_next_link      (const PdJv  *bundle);

/* --- pd-hospital-push.c: what sending one outbox item came to ------------------------------ */

typedef enum {
  SENT_DONE,
  SENT_CONFLICT,
  SENT_REFUSED,
  SENT_UNKNOWN,       /* no answer we could read: stop, try again later */
} Outcome;

typedef struct _Result Result;
struct _Result {
  Outcome     outcome;
  guint       http;
  char       *message;
  JsonNode   *response;
  JsonObject *task;          /* the Task as the server now has it */
  const char *local_status;  /* the prescription's, when the task is stored */
  /* run in the transaction that records the outcome */
  gboolean  (*after)        (PdSession *session, PdOutboxItem *item, Result *r, GError **error);
  gpointer    data;
  GDestroyNotify data_free;
};

void      pd_hospital_result_clear      (Result        *r);
/* The Task as it stands on the server; NULL when unreachable or refused. */
JsonObject *pd_hospital_fetch_task      (PdHospitalLink *link,
                                         const char    *task_id,
                                         GCancellable  *cancellable,
                                         GError       **error);
char     *pd_hospital_if_match          (const char    *version);
/* No answer, or not one we can read: unknown; a cancellation or a renewed
 * 401 also stops the push (error). */
void      pd_hospital_transport_failure (GError       **local_error,
                                         Result        *r,
                                         GError       **error);

/* --- pd-hospital-dispense.c: the MedicationDispenses of a fill ----------------------------- */

void      pd_hospital_send_dispense        (PdHospitalLink *link,
                                            PdOutboxItem   *item,
                                            GCancellable   *cancellable,
                                            Result         *r,
                                            GError        **error);
void      pd_hospital_send_dispense_status (PdHospitalLink *link,
                                            PdOutboxItem   *item,
                                            GCancellable   *cancellable,
                                            Result         *r,
                                            GError        **error);
/* Inside a transaction: the cursor, when there is one. */
gboolean    pd_hospital_set_cursor (PdStore     *store,
                                    const char  *cursor,
                                    GError     **error);
/* Inside a transaction: the prescriber cancelled Task task_id; whatever
 * of ours was still on its way for it becomes a conflict. */
gboolean    pd_hospital_cancelled  (PdSession   *session,
                                    const char  *task_id,
                                    GError     **error);

/* --- pd-hospital-related.c: what a page of Tasks needs ------------------------------------ */

/* The resources a page's searches found. */
typedef struct {
  GHashTable *by_ref;      /* "Type/id" → const PdJv* (in docs) */
  GPtrArray  *docs;        /* PdJsonDoc*: the searches' answers */
  GHashTable *by_target;   /* "MedicationRequest/id" → GPtrArray of Provenance */
  gint64      as_of_us;    /* the earliest Bundle.timestamp of the searches; G_MININT64 when one had none */
} PdHospitalFound;

/* The patient records of one pull (pd-patient-record.h): the latest of
 * each patient, and every one made, which pages may still read until the
 * pull ends. The fetching thread's alone. */
typedef struct {
  GHashTable *latest;      /* "Patient/id" → PdPatientRecord* */
  GPtrArray  *made;        /* PdPatientRecord*, owned */
} PdHospitalRecords;

void      pd_hospital_found_init    (PdHospitalFound   *found);
void      pd_hospital_found_clear   (PdHospitalFound   *found);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PdHospitalFound, pd_hospital_found_clear)
/* Every resource of a searchset answer (taken) into found. */
void      pd_hospital_found_take    (PdHospitalFound   *found,
                                     PdJsonDoc         *searchset);
/* The lines, signatures and patient records of tasks (const PdJv*), in
 * batched searches, into found; page_records ("Patient/id" → the pull's
 * PdPatientRecord*) gets the record of each patient of tasks. */
gboolean  pd_hospital_fetch_related (PdHospitalLink    *link,
                                     GPtrArray         *tasks,
                                     PdHospitalFound   *found,
                                     PdHospitalRecords *records,
                                     GHashTable        *page_records,
                                     GCancellable      *cancellable,
                                     GError           **error);
/* A collection Bundle of everything the review reads for one Task, as
 * JSON text: the resources' texts as the hospital gave them. */
char     *pd_hospital_assemble      (const PdJv        *task,
                                     PdHospitalFound   *found,
                                     GHashTable        *page_records);

G_END_DECLS
