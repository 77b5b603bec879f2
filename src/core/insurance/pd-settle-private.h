/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-settle.h"

G_BEGIN_DECLS

/* A sale: what the counter sells once (the sale tables of the schema). */
typedef struct {
  char      *feedetl_sn;
  char      *drug_code;
  char      *nhsa_code;
  gint64     batch_id;
  int        units;
  gint64     unit_price_e4;
  gint64     amount_fen;
  char      *expected_class;   /* A, B, C or NULL */
  gboolean   split_pack;
  GPtrArray *trace_codes;      /* char* */
} PdSaleLine;

typedef struct {
  gint64     id;               /* 0 until recorded */
  char      *uuid;
  char      *rxno;
  gint64     dispense_id;      /* 0: a counter sale */
  char      *state;            /* NULL while not recorded; open, settled, self-paid, refused, cancelled */
  char      *med_type;
  gint64     medfee_sumamt_fen;
  char      *psn_no;
  GPtrArray *lines;            /* PdSaleLine* */
} PdSale;

/* The business answer "no" before anything was sent (exit 1): FALSE. */
gboolean pd_settle_refuse       (GError     **error,
                                 const char  *format,
                                 ...) G_GNUC_PRINTF (2, 3);

void     pd_sale_free           (PdSale      *sale);
/* The live sale of the basket's rxno (recorded, with its lines), else a
 * new one from the prescription's fill (not recorded yet). */
PdSale  *pd_sale_load_or_build  (PdSession   *session,
                                 PdKb        *kb,
                                 const PdBasket *basket,
                                 GError     **error);
/* Inside a transaction. */
gboolean pd_sale_insert         (PdSession   *session,
                                 PdSale      *sale,
                                 GError     **error);
gboolean pd_sale_set_state      (PdStore     *store,
                                 const char  *settlement_uuid,
                                 const char  *state,
                                 GError     **error);

/* What 3505 tells of the person (from 1101). */
typedef struct {
  char *psn_no;
  char *insutype;
  char *insuplc_admdvs;
  char *cert_type;
  char *cert_no;
  char *psn_cert_type;
  char *certno;
  char *name;
} PdSettlePerson;

void     pd_settle_person_clear (PdSettlePerson *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PdSettlePerson, pd_settle_person_clear)

/* 3505 for each line of a settled sale, each from a durable outbox row
 * with its msgid; one PdUpload per line into uploads. */
gboolean pd_settle_upload       (PdSession            *session,
                                 PdInsuranceLink      *link,
                                 PdKb                 *kb,
                                 const PdSale         *sale,
                                 const PdSettlePerson *person,
                                 JsonObject           *setlinfo,
                                 const char           *settlement_uuid,
                                 GPtrArray            *uploads,
                                 GCancellable         *cancellable,
                                 GError              **error);

/* The 2102s of a sale whose outcome is not known, settled by 2601. */
gboolean pd_settle_resolve_sale (PdSession       *session,
                                 PdInsuranceLink *link,
                                 gint64           sale_id,
                                 guint            timeout_s,
                                 JsonArray       *report,
                                 GCancellable    *cancellable,
                                 GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdSale, pd_sale_free)

G_END_DECLS
