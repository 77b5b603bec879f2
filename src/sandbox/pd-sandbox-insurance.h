/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-sandbox.h"

G_BEGIN_DECLS

/* Shared by the insurance centre's files: one call through the
 * envelope, handled inside the transaction that takes its msgid. */
typedef struct {
  PdSandbox  *sandbox;
  JsonObject *request;
  const char *infno;
  const char *msgid;
  JsonNode   *output;      /* owned */
  char       *err_msg;     /* owned; a business refusal */
  char       *response;    /* owned; the envelope sent back */
} PdNhsaCall;

/* A string member, or NULL (a number is not a string). */
const char *pd_nhsa_str            (JsonObject  *o,
                                    const char  *member);
JsonObject *pd_nhsa_input          (PdNhsaCall  *call,
                                    const char  *name);
char       *pd_nhsa_china_time     (PdSandbox   *sandbox,
                                    const char  *format);
/* A decimal on the wire (a JSON number or a string holding one) with at
 * most `decimals` places, scaled by 10^decimals; FALSE when it is not. */
gboolean    pd_nhsa_decimal        (JsonObject  *o,
                                    const char  *member,
                                    int          decimals,
                                    gint64      *scaled);
/* A JSON number written exactly (json-glib would write 12.34 as
 * 12.339999999999999): a marked string that pd_nhsa_unmark turns into a
 * bare number in the envelope's text. */
void        pd_nhsa_add_decimal    (JsonBuilder *b,
                                    const char  *member,
                                    gint64       scaled,
                                    int          decimals);
void        pd_nhsa_add_money      (JsonBuilder *b,
                                    const char  *member,
                                    gint64       fen);
char       *pd_nhsa_unmark         (const char  *json);
/* The next value of a counter in nhsa_counter. */
gboolean    pd_nhsa_next           (PdStore     *store,
                                    const char  *counter,
                                    gint64      *value,
                                    GError     **error);

/* The interfaces (pd-sandbox-settle.c, pd-sandbox-ledger.c). */
gboolean    pd_nhsa_presettle      (PdNhsaCall  *call,
                                    gboolean     commit,
                                    GError     **error);
gboolean    pd_nhsa_cancel         (PdNhsaCall  *call,
                                    GError     **error);
gboolean    pd_nhsa_query          (PdNhsaCall  *call,
                                    GError     **error);
gboolean    pd_nhsa_reverse        (PdNhsaCall  *call,
                                    GError     **error);
gboolean    pd_nhsa_sales          (PdNhsaCall  *call,
                                    gboolean     is_return,
                                    GError     **error);
/* Undoes what omsgid committed: a 2102's settlement (refused once
 * cancelled) or a 2103's refund (the original settled again); *undone
 * FALSE when it committed nothing (pd-sandbox-settle.c). */
gboolean    pd_nhsa_reverse_settlement (PdNhsaCall *call,
                                        const char *omsgid,
                                        gboolean   *undone,
                                        GError    **error);
/* TRUE when a 2601 came first for this msgid (a tombstone). */
gboolean    pd_nhsa_tombstoned     (PdStore     *store,
                                    const char  *msgid);

G_END_DECLS
