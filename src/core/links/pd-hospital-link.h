/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-fhir-client.h"
#include "pd-kb.h"
#include "pd-session.h"

G_BEGIN_DECLS

/* The hospital link (hospital.md): pulls the Task queue into the cache
 * with the `ge` cursor, and sends the outbox — claims, releases and
 * decisions — in order, each guarded by If-Match, turning a 412 or a
 * cancellation into a conflict for the pharmacist. Synchronous: run it on
 * a worker thread or from the command line. */

typedef struct _PdHospitalLink PdHospitalLink;

typedef struct {
  guint    pages;
  guint    tasks_seen;
  guint    stored;          /* prescriptions new or changed */
  guint    cancelled;       /* of them, cancelled by the prescriber */
  guint    sent;            /* outbox items done */
  guint    conflicts;
  guint    refused;
  gboolean offline;         /* stopped because the hospital could not be reached */
  char    *cursor;
  gint64   anchored_seq;    /* the audit head's row the hospital now holds, 0 if none was sent */
  char    *anchor_warning;  /* why the anchor was not sent (retried with the next sync), or NULL */
} PdSyncStats;

typedef void (*PdSyncProgressFunc) (const PdSyncStats *stats,
                                    gpointer           user_data);

PdHospitalLink *pd_hospital_link_new    (PdSession          *session,
                                         PdFhirClient       *client,     /* taken */
                                         PdKb               *kb);        /* may be NULL; not taken */
void            pd_hospital_link_free   (PdHospitalLink     *link);
/* The pharmacy ([pharmacy] fixmedins_code and fixmedins_name) that a
 * sync's audit anchor names (pd-audit-anchor.h); without it a sync sends
 * no anchor and says so in PdSyncStats.anchor_warning. */
void            pd_hospital_link_set_pharmacy (PdHospitalLink *link,
                                               const char     *fixmedins_code,
                                               const char     *pharmacy_name);
PdFhirClient   *pd_hospital_link_get_client (PdHospitalLink *link);

gboolean        pd_hospital_link_pull   (PdHospitalLink     *link,
                                         GCancellable       *cancellable,
                                         PdSyncProgressFunc  progress,
                                         gpointer            user_data,
                                         PdSyncStats        *stats,
                                         GError            **error);
gboolean        pd_hospital_link_push   (PdHospitalLink     *link,
                                         GCancellable       *cancellable,
                                         PdSyncStats        *stats,
                                         GError            **error);
/* Push, then pull, then anchor the audit trail's signed head with the
 * hospital. A failed anchor does not fail the sync: it is logged, put in
 * stats->anchor_warning, and sent again with the next sync. */
gboolean        pd_hospital_link_sync   (PdHospitalLink     *link,
                                         GCancellable       *cancellable,
                                         PdSyncProgressFunc  progress,
                                         gpointer            user_data,
                                         PdSyncStats        *stats,
                                         GError            **error);
void            pd_sync_stats_clear     (PdSyncStats        *stats);
/* Before a fill (cli.md "Dispensing"): the prescription's Task as the
 * hospital has it now, stored; a cancellation found is applied (and the
 * fill then refused). FALSE with the error when the hospital cannot be
 * asked (a fill may go on offline). */
gboolean        pd_hospital_link_refresh_task (PdHospitalLink *link,
                                         const char         *rx_uuid,
                                         GCancellable       *cancellable,
                                         GError            **error);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PdSyncStats, pd_sync_stats_clear)

/* Queue a claim (or a release) of a cached prescription for the signed-in
 * pharmacist; it goes out with the next push. Works offline. Returns the
 * outbox id. */
gint64          pd_hospital_queue_claim   (PdSession     *session,
                                           const char    *rx_uuid,
                                           GError       **error);
gint64          pd_hospital_queue_release (PdSession     *session,
                                           const char    *rx_uuid,
                                           GError       **error);

/* The same inside a pd_store_write() transaction. */
gint64          pd_hospital_queue_claim_in_txn (PdSession  *session,
                                                const char *rx_uuid,
                                                GError    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdHospitalLink, pd_hospital_link_free)

G_END_DECLS
