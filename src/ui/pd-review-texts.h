/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pd-kb.h"

G_BEGIN_DECLS

/* The Review area's words for the codes of review.md and hospital.md,
 * translated; shared by the prescription pane and the decision dialog. */

/* "zh_CN" when the interface speaks Chinese, else "en": the language of
 * the engine's finding messages. */
const char *pd_review_lang             (void);
const char *pd_finding_code_text       (const char *code);
const char *pd_severity_text           (PdSeverity  severity);
/* "block", "major", "moderate", "info": the CSS class of a severity. */
const char *pd_severity_css            (PdSeverity  severity);
const char *pd_override_reason_text    (const char *reason);
const char *pd_outbox_state_text       (const char *state);
const char *pd_outbox_operation_text   (const char *operation);
const char *pd_qualification_text      (const char *code);

G_END_DECLS
