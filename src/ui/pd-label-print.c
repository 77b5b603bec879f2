/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-label-print"

#include "config.h"

#include <glib/gi18n.h>

#include "pd-label-print.h"

/* 80 × 50 mm: the common size of the thermal labels a pharmacy sticks on
 * a box (a label printer's roll, one label a page), large enough for the
 * dose in words in a size an older patient reads without glasses. */

#define MARGIN_MM 3.0
#define GAP_MM    0.8

typedef enum {
  ITEM_TEXT,
  ITEM_WARNING,   /* black on white inverted: the knowledge base's caution */
} ItemKind;

typedef struct {
  ItemKind    kind;
  char       *text;
  double      size_pt;
  gboolean    bold;
} Item;

typedef struct {
  GPtrArray *labels;
  int        per_page;
  int        cols;
  int        rows;
  double     left;      /* the grid centred on a larger sheet, clear of the printer's edge */
  double     top;
} Job;

static void
item_free (gpointer data)
{
  Item *item = data;

  g_free (item->text);
  g_free (item);
}

static void
add_item (GPtrArray  *items,
          ItemKind    kind,
          double      size_pt,
          gboolean    bold,
          char       *text)
{
  Item *item = g_new0 (Item, 1);

  item->kind = kind;
  item->text = text;
  item->size_pt = size_pt;
  item->bold = bold;
  g_ptr_array_add (items, item);
}

static PangoLayout *
layout_for (PangoContext *pango,
            const char   *text,
            double        size_pt,
            gboolean      bold,
            double        width_mm)
{
  PangoLayout *layout = pango_layout_new (pango);
  g_autoptr(PangoFontDescription) font = pango_font_description_from_string ("Sans");

  pango_font_description_set_size (font, (int) (size_pt * PANGO_SCALE));
  pango_font_description_set_weight (font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_width (layout, (int) (width_mm * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_text (layout, text, -1);
  return layout;
}

static double
layout_height (PangoLayout *layout)
{
  int w, h;

  pango_layout_get_size (layout, &w, &h);
  return (double) h / PANGO_SCALE;
}

/* What the label says, top to bottom, in the interface's language (the
 * language the pharmacy prints in). */
static GPtrArray *
label_items (const PdLabel *label)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (item_free);

  /* Translators: on a drug label, before the patient's name */
  add_item (items, ITEM_TEXT, 11, TRUE, g_strdup_printf (_("Patient: %s"), label->patient != NULL ? label->patient : ""));
  add_item (items, ITEM_TEXT, 9.5, TRUE, g_strdup (label->drug != NULL ? label->drug : ""));
  if (label->dose_words != NULL && *label->dose_words != '\0')
    add_item (items, ITEM_TEXT, 13, TRUE, g_strdup (label->dose_words));
  else
    /* Translators: on a drug label when the dose could not be put in words */
    add_item (items, ITEM_TEXT, 11, TRUE, g_strdup (_("Take as your doctor told you")));
  if (label->route != NULL && *label->route != '\0')
    /* Translators: on a drug label: the route (口服) then the quantity given (2盒（48粒）) */
    add_item (items, ITEM_TEXT, 8, FALSE, g_strdup_printf (_("%s · Quantity: %s"), label->route,
                                                           label->quantity != NULL ? label->quantity : ""));
  else
    add_item (items, ITEM_TEXT, 8, FALSE, g_strdup_printf (_("Quantity: %s"), label->quantity != NULL ? label->quantity : ""));
  if (label->warning != NULL && *label->warning != '\0')
    add_item (items, ITEM_WARNING, 8, TRUE, g_strdup (label->warning));
  return items;
}

void
pd_label_draw (cairo_t       *cr,
               PangoContext  *pango,
               const PdLabel *label)
{
  g_autoptr(GPtrArray) items = label_items (label);
  g_autofree char *footer_text = NULL;
  g_autoptr(PangoLayout) head = NULL;
  g_autoptr(PangoLayout) date = NULL;
  g_autoptr(PangoLayout) footer = NULL;
  double inner_w = PD_LABEL_WIDTH_MM - 2 * MARGIN_MM;
  double top, bottom, y, scale = 1.0;
  GPtrArray *layouts = NULL;

  cairo_save (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);

  /* The pharmacy on the left, the date on the right, a rule under them. */
  date = layout_for (pango, label->date != NULL ? label->date : "", 7, FALSE, inner_w);
  {
    PangoRectangle logical;

    pango_layout_set_width (date, -1);
    pango_layout_get_extents (date, NULL, &logical);
    head = layout_for (pango, label->pharmacy != NULL ? label->pharmacy : "", 7, TRUE,
                       inner_w - (double) logical.width / PANGO_SCALE - 2);
    pango_layout_set_ellipsize (head, PANGO_ELLIPSIZE_END);
    cairo_move_to (cr, PD_LABEL_WIDTH_MM - MARGIN_MM - (double) logical.width / PANGO_SCALE, MARGIN_MM);
    pango_cairo_show_layout (cr, date);
  }
  cairo_move_to (cr, MARGIN_MM, MARGIN_MM);
  pango_cairo_show_layout (cr, head);
  top = MARGIN_MM + MAX (layout_height (head), layout_height (date)) + GAP_MM;
  cairo_set_line_width (cr, 0.25);
  cairo_move_to (cr, MARGIN_MM, top);
  cairo_line_to (cr, PD_LABEL_WIDTH_MM - MARGIN_MM, top);
  cairo_stroke (cr);
  top += GAP_MM;

  /* The prescription and the lot at the bottom, small: for the pharmacy. */
  if (label->lot != NULL && *label->lot != '\0')
    /* Translators: the last line of a drug label: the prescription's number, then the lot */
    footer_text = g_strdup_printf (_("Prescription %s · Lot %s"), label->rx_number != NULL ? label->rx_number : "", label->lot);
  else
    footer_text = g_strdup_printf (_("Prescription %s"), label->rx_number != NULL ? label->rx_number : "");
  footer = layout_for (pango, footer_text, 6.5, FALSE, inner_w);
  pango_layout_set_ellipsize (footer, PANGO_ELLIPSIZE_MIDDLE);
  bottom = PD_LABEL_HEIGHT_MM - MARGIN_MM - layout_height (footer);
  cairo_move_to (cr, MARGIN_MM, bottom);
  pango_cairo_show_layout (cr, footer);
  bottom -= GAP_MM;

  /* The rest in between, made smaller until it fits: a long drug name
   * or warning must not run off the label. */
  for (;;)
    {
      double h = 0;

      g_clear_pointer (&layouts, g_ptr_array_unref);
      layouts = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < items->len; i++)
        {
          Item *item = items->pdata[i];
          double w = item->kind == ITEM_WARNING ? inner_w - 2 : inner_w;
          PangoLayout *l = layout_for (pango, item->text, item->size_pt * scale, item->bold, w);

          g_ptr_array_add (layouts, l);
          h += layout_height (l) + GAP_MM + (item->kind == ITEM_WARNING ? 1.2 : 0);
        }
      if (top + h <= bottom || scale < 0.55)
        break;
      scale -= 0.05;
    }

  y = top;
  for (guint i = 0; i < items->len; i++)
    {
      Item *item = items->pdata[i];
      PangoLayout *l = layouts->pdata[i];
      double h = layout_height (l);

      if (item->kind == ITEM_WARNING)
        {
          cairo_rectangle (cr, MARGIN_MM, y, inner_w, h + 1.2);
          cairo_fill (cr);
          cairo_set_source_rgb (cr, 1, 1, 1);
          cairo_move_to (cr, MARGIN_MM + 1, y + 0.6);
          pango_cairo_show_layout (cr, l);
          cairo_set_source_rgb (cr, 0, 0, 0);
          y += h + 1.2 + GAP_MM;
        }
      else
        {
          cairo_move_to (cr, MARGIN_MM, y);
          pango_cairo_show_layout (cr, l);
          y += h + GAP_MM;
        }
    }
  g_ptr_array_unref (layouts);
  cairo_restore (cr);
}

/* --- the print operation ------------------------------------------------------------------ */

static void
begin_print_cb (GtkPrintOperation *op,
                GtkPrintContext   *context,
                Job               *job)
{
  double w = gtk_print_context_get_width (context);
  double h = gtk_print_context_get_height (context);

  /* As many labels as the page holds (a label printer: one). */
  job->cols = MAX (1, (int) ((w + 0.01) / PD_LABEL_WIDTH_MM));
  job->rows = MAX (1, (int) ((h + 0.01) / PD_LABEL_HEIGHT_MM));
  job->per_page = job->cols * job->rows;
  job->left = (w - job->cols * PD_LABEL_WIDTH_MM) / 2;
  job->top = (h - job->rows * PD_LABEL_HEIGHT_MM) / 2;
  gtk_print_operation_set_n_pages (op, MAX (1, ((int) job->labels->len + job->per_page - 1) / job->per_page));
}

static void
draw_page_cb (GtkPrintOperation *op,
              GtkPrintContext   *context,
              int                page_nr,
              Job               *job)
{
  cairo_t *cr = gtk_print_context_get_cairo_context (context);
  PangoContext *pango = gtk_print_context_create_pango_context (context);
  cairo_font_options_t *options = cairo_font_options_create ();

  /* In millimetres a glyph is a few units wide: hinted metrics and
   * rounded positions would snap each to a whole millimetre. */
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options (pango, options);
  cairo_font_options_destroy (options);
  pango_context_set_round_glyph_positions (pango, FALSE);

  for (int i = 0; i < job->per_page; i++)
    {
      guint n = (guint) (page_nr * job->per_page + i);

      if (n >= job->labels->len)
        break;
      cairo_save (cr);
      cairo_translate (cr, job->left + (i % job->cols) * PD_LABEL_WIDTH_MM, job->top + (i / job->cols) * PD_LABEL_HEIGHT_MM);
      /* Several on a sheet: a thin frame to cut along. */
      if (job->per_page > 1)
        {
          cairo_set_line_width (cr, 0.1);
          cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
          cairo_rectangle (cr, 0, 0, PD_LABEL_WIDTH_MM, PD_LABEL_HEIGHT_MM);
          cairo_stroke (cr);
        }
      pd_label_draw (cr, pango, job->labels->pdata[n]);
      cairo_restore (cr);
    }
  g_object_unref (pango);
}

GtkPrintOperationResult
pd_label_print (GPtrArray    *labels,
                GtkWindow    *parent,
                GtkPageSetup *page_setup,
                const char   *export_pdf,
                GError      **error)
{
  g_autoptr(GtkPrintOperation) op = gtk_print_operation_new ();
  g_autoptr(GtkPageSetup) setup = page_setup != NULL ? gtk_page_setup_copy (page_setup) : gtk_page_setup_new ();
  g_autoptr(GtkPaperSize) paper = gtk_paper_size_new_custom ("pharmdesk-label-80x50", _("Drug label 80 × 50 mm"),
                                                             PD_LABEL_WIDTH_MM, PD_LABEL_HEIGHT_MM, GTK_UNIT_MM);
  Job job = { labels, 1, 1, 1, 0, 0 };
  GtkPrintOperationResult result;

  g_return_val_if_fail (labels != NULL && labels->len > 0, GTK_PRINT_OPERATION_RESULT_ERROR);
  if (page_setup == NULL)
    {
      gtk_page_setup_set_paper_size (setup, paper);
      gtk_page_setup_set_orientation (setup, GTK_PAGE_ORIENTATION_PORTRAIT);
    }
  gtk_page_setup_set_top_margin (setup, 0, GTK_UNIT_MM);
  gtk_page_setup_set_bottom_margin (setup, 0, GTK_UNIT_MM);
  gtk_page_setup_set_left_margin (setup, 0, GTK_UNIT_MM);
  gtk_page_setup_set_right_margin (setup, 0, GTK_UNIT_MM);
  gtk_print_operation_set_default_page_setup (op, setup);
  gtk_print_operation_set_unit (op, GTK_UNIT_MM);
  gtk_print_operation_set_use_full_page (op, TRUE);
  gtk_print_operation_set_embed_page_setup (op, TRUE);
  gtk_print_operation_set_job_name (op, _("Drug labels"));
  g_signal_connect (op, "begin-print", G_CALLBACK (begin_print_cb), &job);
  g_signal_connect (op, "draw-page", G_CALLBACK (draw_page_cb), &job);
  if (export_pdf != NULL)
    gtk_print_operation_set_export_filename (op, export_pdf);
  result = gtk_print_operation_run (op, export_pdf != NULL ? GTK_PRINT_OPERATION_ACTION_EXPORT
                                                           : GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG,
                                    parent, error);
  return result;
}
