/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-review-messages"

#include "config.h"

#include <string.h>

#include "pd-review-engine.h"

/* Each finding's message in English and Simplified Chinese. These are the
 * engine's own words (review.md leaves them to us); they are chosen by the
 * --lang argument, not the locale, so a review record reads the same on
 * every desk. */
static const struct {
  const char *code;
  const char *en;
  const char *zh;
} texts[] = {
  { "prescriber-unqualified", "The prescriber has no practising licence valid when the prescription was written.", "开方医生在开方时没有有效的执业资格。" },
  { "first-visit-online", "An online prescription must be for a follow-up visit; this encounter is not one.", "在线处方仅限复诊；本次就诊不是复诊。" },
  { "prescription-expired", "The prescription is past its validity (the day issued, at most 3 days).", "处方已超过有效期（当日有效，最长不超过3天）。" },
  { "too-many-drugs", "More than 5 drugs on one prescription.", "一张处方超过5种药品。" },
  { "prescription-reused", "This prescription has already been dispensed by the pharmacy.", "本处方已在本药房调配过，不得重复使用。" },
  { "missing-element", "Required information is missing", "处方要素缺失" },
  { "signature-missing", "The prescriber's electronic signature is missing for this line.", "该药品缺少开方医生的电子签名。" },
  { "prescriber-no-authority", "The prescriber lacks the authority this drug needs", "开方医生不具备该药品所需的处方权" },
  { "special-drug-online", "This drug may not be prescribed online", "该药品不得在线开具" },
  { "supply-too-long", "The supply is longer than allowed.", "用药天数超过规定。" },
  { "dose-exceeds-max", "The dose exceeds the maximum", "剂量超过最大限量" },
  { "dose-unverifiable", "The dose cannot be checked against the limits: its unit cannot be turned into mg", "无法核对剂量限量：剂量单位无法换算为毫克" },
  { "route-mismatch", "The route does not fit this drug", "给药途径与该药品不符" },
  { "allergy", "The patient is allergic", "患者过敏" },
  { "allergy-unverifiable", "An allergy cannot be checked: the knowledge base does not know it", "无法核对过敏史：知识库中没有该过敏原" },
  { "population-contraindication", "Caution or contraindication for this patient group", "特殊人群慎用或禁用" },
  { "indication-mismatch", "The diagnosis is not among the drug's indications", "诊断不在该药品的适应症范围内" },
  { "skin-test-required", "A skin test is required and no negative result is recorded.", "该药品需要皮试，但没有阴性皮试结果。" },
  { "unknown-drug", "The drug is not in the knowledge base: review it by hand", "知识库中没有该药品，请人工审核" },
  { "duplicate-therapy", "Duplicate therapy", "重复用药" },
  { "drug-interaction", "Drug interaction", "药物相互作用" },
};

static const struct { const char *word; const char *zh; } words[] = {
  { "pregnancy", "妊娠期" }, { "lactation", "哺乳期" }, { "elderly", "老年人" }, { "child", "儿童" },
  { "subject", "患者" }, { "birthDate", "出生日期" }, { "gender", "性别" }, { "requester", "开方医生" },
  { "authoredOn", "开方时间" }, { "encounter", "就诊信息" }, { "diagnosis", "诊断" }, { "dose", "剂量" },
  { "frequency", "频次" }, { "frequency not understood", "频次无法识别" }, { "route", "给药途径" },
  { "quantity", "数量" }, { "quantity not understood", "数量无法识别" }, { "weight", "儿童体重" },
  { "narcotic", "麻醉药品/第一类精神药品处方权" }, { "antimicrobial", "抗菌药物分级处方权" },
  { "not recognised", "无法识别" }, { "ingredient", "相同成分" }, { "ATC group", "同类药物（ATC 4级）" },
  { "positive skin test", "皮试阳性" },
};

static const char *
word (const char *w,
      gboolean    zh)
{
  if (!zh)
    return w;
  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    if (g_str_equal (words[i].word, w))
      return words[i].zh;
  return w;
}

char *
pd_finding_message (const PdFinding *finding,
                    const char      *lang)
{
  gboolean zh = lang != NULL && g_str_has_prefix (lang, "zh");
  GString *s = g_string_new (NULL);
  const char *base = finding->code;

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    if (g_str_equal (texts[i].code, finding->code))
      base = zh ? texts[i].zh : texts[i].en;
  g_string_append (s, base);

  if (finding->population != NULL)
    g_string_append_printf (s, zh ? "（%s）" : " (%s)", word (finding->population, zh));
  if (finding->defects->len > 0)
    {
      g_string_append (s, zh ? "：" : ": ");
      for (guint i = 0; i < finding->defects->len; i++)
        {
          if (i > 0)
            g_string_append (s, zh ? "、" : ", ");
          g_string_append (s, word (finding->defects->pdata[i], zh));
        }
      g_string_append (s, zh ? "。" : ".");
    }
  else if (!g_str_has_suffix (s->str, ".") && !g_str_has_suffix (s->str, "。"))
    g_string_append (s, zh ? "。" : ".");

  if (finding->interaction != NULL)
    {
      const PdKbInteraction *row = finding->interaction;
      const char *effect = !zh && row->effect_en != NULL ? row->effect_en : row->effect;
      const char *advice = !zh && row->advice_en != NULL ? row->advice_en : row->advice;

      if (effect != NULL)
        g_string_append_printf (s, zh ? " 后果：%s。" : " Effect: %s.", effect);
      if (advice != NULL)
        g_string_append_printf (s, zh ? " 建议：%s。" : " Advice: %s.", advice);
    }
  return g_string_free (s, FALSE);
}
