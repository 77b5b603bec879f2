/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-insurance-link.h"
#include "pd-kb.h"

G_BEGIN_DECLS

/* One-stop settlement that never charges twice (insurance.md, cli.md
 * "Settlement"). A sale is recorded once; each 2102 goes out from a
 * durable outbox row written with its msgid before the request leaves;
 * an answer that never came leaves the row and the settlement unknown,
 * settled by 2601 with the original msgid before the sale may be tried
 * again under a new one. The database's constraints hold the rest: one
 * live sale per rxno, one 2102 on its way, unknown or settled per sale. */

/* --- the basket of cli.md ----------------------------------------------------------------- */

typedef struct {
  char      *code;          /* drugs.csv product code */
  int        count;         /* product units */
  gint64     price_e4;      /* -1: the knowledge base's */
  char      *lot;           /* NULL: first expiry first */
  GPtrArray *trace_codes;   /* char* */
} PdBasketItem;

typedef struct {
  char      *rxno;
  char      *med_type;      /* "41" when absent */
  GPtrArray *items;         /* PdBasketItem* */
} PdBasket;

PdBasket *pd_basket_from_json (const char *text,
                               gsize       len,
                               GError    **error);
void      pd_basket_free      (PdBasket   *basket);

/* --- settling ------------------------------------------------------------------------------ */

/* One line's sales upload (3505) after a settlement. */
typedef struct {
  char      *code;          /* drugs.csv product code */
  GPtrArray *trace_codes;   /* char* */
  char      *state;         /* uploaded, refused, unknown */
  char      *msg;           /* the centre's words, or NULL */
} PdUpload;

void pd_upload_free (PdUpload *upload);

typedef struct {
  char       *sale_uuid;
  char       *rxno;
  char       *state;        /* settled, refused, unknown, pre-settled */
  JsonObject *setlinfo;     /* the centre's, as it came; NULL when refused or unknown */
  gint64      outbox_id;    /* the 2102's; 0 for a pre-settlement */
  char       *err_msg;      /* the centre's, or NULL */
  GPtrArray  *uploads;      /* PdUpload*, one per line after a settlement */
} PdSettleResult;

void            pd_settle_result_free (PdSettleResult *result);

/* The person by cert_type (01, 02, 03) and cert_no; the basket's lines (a
 * dispensed prescription's, taken from its fill); 1101, 2101, then 2102
 * (unless pre_only). FALSE (and no result) only on bad input or a refusal
 * before anything was sent: an rxno already settled and not cancelled, a
 * prescription not dispensed here, a line the fill does not have. */
PdSettleResult *pd_settle             (PdSession        *session,
                                       PdInsuranceLink  *link,
                                       PdKb             *kb,
                                       const PdBasket   *basket,
                                       const char       *cert_type,
                                       const char       *cert_no,
                                       gboolean          use_account,
                                       gboolean          pre_only,
                                       GCancellable     *cancellable,
                                       GError          **error);

/* Every insurance call whose outcome is not known, settled by 2601 with
 * its msgid (retried with back-off for up to timeout_s seconds): the
 * settlement reversed, the outbox row resolved. Appends one
 * {"outbox_id", "link", "call", "action", "state"} per row to report.
 * FALSE when the centre could not be reached for one of them. */
gboolean        pd_settle_resolve     (PdSession        *session,
                                       PdInsuranceLink  *link,
                                       guint             timeout_s,
                                       JsonArray        *report,
                                       GCancellable     *cancellable,
                                       GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdBasket, pd_basket_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdSettleResult, pd_settle_result_free)

G_END_DECLS
