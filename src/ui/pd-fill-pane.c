/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-fill-pane"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pd-clock.h"
#include "pd-desk-job.h"
#include "pd-fill-pane.h"
#include "pd-kb-store.h"
#include "pd-label-print.h"
#include "pd-stock.h"
#include "pd-trace-code.h"
#include "pd-ui.h"

/* One scanned code of a line, as the check at the scan found it. */
typedef struct {
  char         *code;
  PdScanResult  result;
  int           units_left;   /* an opened box's */
  gint64        batch_id;     /* an opened or returned box's batch; 0: a new box */
} Scan;

typedef struct _Line Line;

struct _PdFillPane
{
  GtkBox               parent_instance;

  GtkLabel            *title_label;
  GtkLabel            *state_label;
  GtkLabel            *subtitle_label;
  GtkLabel            *error_label;
  GtkRevealer         *conflict_revealer;
  GtkScrolledWindow   *scroller;
  GtkBox              *lines_box;
  GtkWidget           *check_box;
  AdwEntryRow         *checker_row;
  AdwPasswordEntryRow *checker_password_row;
  GtkLabel            *missing_label;
  GtkSpinner          *spinner;
  GtkButton           *confirm_button;
  GtkLabel            *check_error_label;
  GtkWidget           *done_box;
  GtkLabel            *done_label;
  GtkButton           *print_button;
  GtkButton           *handover_button;

  PdSession           *session;
  PdKb                *kb;
  PdFillSheet         *sheet;
  GPtrArray           *lines;        /* Line* */
  char                *pharmacy;
  char                *print_to;
  char                *last_dispense;
  guint                n_printed;
  gboolean             handed_over;
  gboolean             conflict;     /* the list says the last fill is in conflict */
  gboolean             busy;
  sqlite3             *reader;       /* the scans' check reads here, never behind a sync's write */
  GHashTable          *stash;        /* rx uuid → (line id → Scan* array): scans of prescriptions left unfinished */
  GtkWidget           *keys_root;    /* where the scanner's catch is, while mapped */
  GtkEventController  *keys;
};

struct _Line {
  PdFillPane          *pane;         /* unowned */
  const PdFillLine    *line;         /* in pane->sheet */
  GPtrArray           *scans;        /* Scan* */
  AdwPreferencesGroup *group;
  GPtrArray           *code_rows;    /* GtkWidget*, in group */
  GtkEntry            *entry;
  GtkLabel            *count_label;
  GtkLabel            *refusal_label;
  char                *refusal;
};

G_DEFINE_FINAL_TYPE (PdFillPane, pd_fill_pane, GTK_TYPE_BOX)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void update (PdFillPane *self);

/* --- helpers ------------------------------------------------------------------------------ */

static void
scan_free (gpointer data)
{
  Scan *scan = data;

  g_free (scan->code);
  g_free (scan);
}

static void
line_free (gpointer data)
{
  Line *l = data;

  g_ptr_array_unref (l->scans);
  g_ptr_array_unref (l->code_rows);
  g_free (l->refusal);
  g_free (l);
}

static gboolean
is_to_fill (PdFillPane *self)
{
  return self->sheet != NULL && g_strcmp0 (self->sheet->state, "approved") == 0 && self->sheet->dispense_uuid == NULL;
}

static gboolean
is_filled (PdFillPane *self)
{
  return self->sheet != NULL && g_strcmp0 (self->sheet->state, "dispensed") == 0;
}

/* "3 boxes", "1 bottle": the knowledge base's pack word (盒, 瓶, 支) in
 * the interface's language. */
static char *
packs_text (const char *pack_unit,
            int         n)
{
  if (g_strcmp0 (pack_unit, "瓶") == 0)
    return g_strdup_printf (ngettext ("%d bottle", "%d bottles", n), n);
  if (g_strcmp0 (pack_unit, "支") == 0)
    /* Translators: a pack counted as 支 (an insulin pen, an inhaler, a syringe) */
    return g_strdup_printf (ngettext ("%d pen or tube", "%d pens or tubes", n), n);
  if (pack_unit == NULL || *pack_unit == '\0' || g_strcmp0 (pack_unit, "盒") == 0)
    return g_strdup_printf (ngettext ("%d box", "%d boxes", n), n);
  /* Translators: a count of packs whose word the knowledge base gives, e.g. "2 × 袋" */
  return g_strdup_printf (_("%d × %s"), n, pack_unit);
}

/* What to give, said plainly: "3 boxes (84 tablets)", or for a split
 * pack "2 boxes: 1 whole, 1 opened — 20 of its 24 tablets". */
static char *
quantity_text (const PdFillLine *line)
{
  const char *unit = line->drug != NULL ? line->drug->pack_unit : NULL;
  int pack = line->drug != NULL ? line->drug->pack_size : 0;
  g_autofree char *packs = packs_text (unit, line->boxes);
  const char *word = line->unit_word != NULL ? line->unit_word : C_("units of a drug", "units");

  if (line->units <= 0 || line->boxes <= 0)
    return g_strdup (_("The quantity prescribed is not understood: ask the prescriber before filling."));
  if (!line->split || pack <= 0)
    /* Translators: what to give, e.g. "3 boxes (84 tablets)"; the second %s is the unit's word */
    return g_strdup_printf (_("%s (%d %s)"), packs, line->units, word);
  if (line->boxes == 1)
    /* Translators: a split pack of one box, e.g. "1 box, opened — 20 of its 24 tablets" */
    return g_strdup_printf (_("%s, opened — %d of its %d %s"), packs, line->units % pack, pack, word);
  /* Translators: a split pack, e.g. "2 boxes: 1 whole, 1 opened — 20 of its 24 tablets" */
  return g_strdup_printf (ngettext ("%s: %d whole, 1 opened — %d of its %d %s",
                                    "%s: %d whole, 1 opened — %d of its %d %s", line->boxes - 1),
                          packs, line->boxes - 1, line->units % pack, pack, word);
}

/* Boxes on hand in the batches the sheet suggests (first expiry first). */
static int
boxes_on_hand (const PdFillLine *line)
{
  int n = 0;

  for (guint i = 0; line->batches != NULL && i < line->batches->len; i++)
    n += ((PdStockBatch *) line->batches->pdata[i])->boxes;
  return n;
}

static void
add_row_icon (GtkWidget  *row,
              const char *icon,
              const char *css)
{
  GtkWidget *image = gtk_image_new_from_icon_name (icon);

  gtk_widget_add_css_class (image, css);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), image);
}

static char **
all_codes (PdFillPane *self)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; i < self->lines->len; i++)
    {
      Line *l = self->lines->pdata[i];

      for (guint j = 0; j < l->scans->len; j++)
        g_strv_builder_add (b, ((Scan *) l->scans->pdata[j])->code);
    }
  return g_strv_builder_end (b);
}

static gboolean
line_complete (Line *l)
{
  return l->line->drug != NULL && l->line->boxes > 0 && l->scans->len == (guint) l->line->boxes;
}

/* GTK 4.8 keeps a focused GtkText's cursor blinking when it turns
 * insensitive, and warns that it "did not receive a focus-out event":
 * the focus leaves first. */
static void
set_sensitive (GtkWidget *widget,
               gboolean   sensitive)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  if (!sensitive && focus != NULL && (focus == widget || gtk_widget_is_ancestor (focus, widget)))
    gtk_root_set_focus (root, NULL);
  gtk_widget_set_sensitive (widget, sensitive);
}

static void
show_error (PdFillPane *self,
            GtkLabel   *label,
            const char *message)
{
  gtk_label_set_label (label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (label), message != NULL);
}

static void
ask_sync (PdFillPane *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.sync-now", NULL);
}

/* --- a line: its scans -------------------------------------------------------------------- */

static void remove_clicked_cb (GtkButton *button, Line *l);

static void
rebuild_codes (Line *l)
{
  for (guint i = 0; i < l->code_rows->len; i++)
    adw_preferences_group_remove (l->group, l->code_rows->pdata[i]);
  g_ptr_array_set_size (l->code_rows, 0);

  for (guint i = 0; i < l->scans->len; i++)
    {
      Scan *scan = l->scans->pdata[i];
      g_autofree char *title = NULL;
      g_autofree char *what = NULL;
      GtkWidget *row, *button;

      /* Translators: a box's traceability code as scanned, e.g. "Box 1: 81234560000000000001" */
      title = g_strdup_printf (_("Box %u: %s"), i + 1, scan->code);
      if (scan->result == PD_SCAN_OPENED)
        /* Translators: an opened box scanned, e.g. "An opened box: 10 tablets left in it" */
        what = g_strdup_printf (_("An opened box: %d %s left in it"), scan->units_left,
                                l->line->unit_word != NULL ? l->line->unit_word : C_("units of a drug", "units"));
      else if (scan->result == PD_SCAN_RETURNED)
        what = g_strdup (_("A box that came back to stock"));
      else
        what = g_strdup (_("A new box"));
      row = pd_ui_add_row (l->group, title, what);
      add_row_icon (row, "object-select-symbolic", "success");
      button = gtk_button_new_from_icon_name ("edit-delete-symbolic");
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, _("Remove this code (a box put back on the shelf)"));
      gtk_widget_set_sensitive (button, is_to_fill (l->pane) && !l->pane->busy);
      g_object_set_data (G_OBJECT (button), "pd-index", GUINT_TO_POINTER (i));
      g_signal_connect (button, "clicked", G_CALLBACK (remove_clicked_cb), l);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      g_ptr_array_add (l->code_rows, row);
    }
}

static void
update_line (Line *l)
{
  int boxes = MAX (l->line->boxes, 0);
  g_autofree char *count = NULL;
  g_autofree char *placeholder = NULL;

  count = g_strdup_printf (ngettext ("%u of %d box scanned", "%u of %d boxes scanned", boxes), l->scans->len, boxes);
  gtk_label_set_label (l->count_label, count);
  if (line_complete (l))
    {
      gtk_widget_remove_css_class (GTK_WIDGET (l->count_label), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (l->count_label), "success");
      placeholder = g_strdup (_("Every box has its code"));
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (l->count_label), "success");
      gtk_widget_add_css_class (GTK_WIDGET (l->count_label), "dim-label");
      placeholder = g_strdup_printf (_("Scan box %u of %d"), l->scans->len + 1, boxes);
    }
  gtk_entry_set_placeholder_text (l->entry, placeholder);
  gtk_label_set_label (l->refusal_label, l->refusal != NULL ? l->refusal : "");
  gtk_widget_set_visible (GTK_WIDGET (l->refusal_label), l->refusal != NULL);
  if (l->refusal != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (l->entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (l->entry), "error");
  set_sensitive (GTK_WIDGET (l->entry), is_to_fill (l->pane) && l->line->drug != NULL && !l->pane->busy);
}

/* The next line still short of codes after l (wrapping), or NULL. */
static Line *
next_incomplete (PdFillPane *self,
                 Line       *l)
{
  guint at = 0;

  g_ptr_array_find (self->lines, l, &at);
  for (guint k = 1; k <= self->lines->len; k++)
    {
      Line *o = self->lines->pdata[(at + k) % self->lines->len];

      if (!line_complete (o) && o->line->drug != NULL && o->line->boxes > 0)
        return o;
    }
  return NULL;
}

/* Enter from the scanner: the code is checked at once; a good one joins
 * the line, a bad one is said beside it. Either way the entry is emptied
 * for the next scan and keeps the focus: nothing scanned goes unsaid. */
static void
scan_activated_cb (GtkEntry *entry,
                   Line     *l)
{
  PdFillPane *self = l->pane;
  g_autofree char *code = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
  g_auto(GStrv) already = NULL;
  g_autoptr(GError) error = NULL;
  guint room;
  int units_left = 0;
  gint64 batch_id = 0;
  PdScanResult result;

  if (*code == '\0' || !is_to_fill (self) || l->line->drug == NULL)
    return;
  already = all_codes (self);
  room = l->line->boxes > (int) l->scans->len ? (guint) (l->line->boxes - (int) l->scans->len) : 0;
  if (self->reader == NULL)
    self->reader = pd_store_open_reader (pd_session_get_store (self->session), &error);
  if (self->reader != NULL)
    result = pd_trace_code_check (self->reader, l->line->drug, code, (const char * const *) already, room,
                                  &units_left, &batch_id, &error);
  else
    result = PD_SCAN_USED;
  g_clear_pointer (&l->refusal, g_free);
  if (error != NULL)
    /* Translators: a scan that could not be checked; %s is why */
    l->refusal = g_strdup_printf (_("This scan could not be checked: %s"), error->message);
  else if (!pd_scan_result_is_ok (result))
    l->refusal = pd_scan_result_describe (result, code, l->line->drug);
  else
    {
      Scan *scan = g_new0 (Scan, 1);

      scan->code = g_steal_pointer (&code);
      scan->result = result;
      scan->units_left = units_left;
      scan->batch_id = batch_id;
      g_ptr_array_add (l->scans, scan);
      rebuild_codes (l);
    }
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  update (self);
  /* A full line hands the scanner on to the next one short of codes. */
  if (l->refusal == NULL && line_complete (l) && next_incomplete (self, l) != NULL)
    gtk_widget_grab_focus (GTK_WIDGET (next_incomplete (self, l)->entry));
  else
    gtk_widget_grab_focus (GTK_WIDGET (entry));
}

static void
remove_scan (Line  *l,
             guint  i)
{
  if (i >= l->scans->len || !is_to_fill (l->pane) || l->pane->busy)
    return;
  g_ptr_array_remove_index (l->scans, i);
  g_clear_pointer (&l->refusal, g_free);
  rebuild_codes (l);
  update (l->pane);
  gtk_widget_grab_focus (GTK_WIDGET (l->entry));
}

static void
remove_clicked_cb (GtkButton *button,
                   Line      *l)
{
  remove_scan (l, GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "pd-index")));
}

/* The lots of the drug on the shelf that this course cannot take: said,
 * so nobody reaches for the box that expires first. */
static void
add_unusable_lots (PdFillPane       *self,
                   Line             *l,
                   const char       *today)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = pd_stock_list (pd_session_get_store (self->session), l->line->drug->code, &error);

  for (guint i = 0; all != NULL && i < all->len; i++)
    {
      PdStockBatch *b = all->pdata[i];
      g_autofree char *title = NULL;
      g_autofree char *why = NULL;
      gboolean usable = FALSE;
      GtkWidget *row;

      for (guint j = 0; l->line->batches != NULL && j < l->line->batches->len; j++)
        usable |= ((PdStockBatch *) l->line->batches->pdata[j])->id == b->id;
      if (usable || b->boxes <= 0)
        continue;
      /* Translators: a lot that must not be used, e.g. "Lot L2405C — not for this course" */
      title = g_strdup_printf (_("Lot %s — not for this course"), b->lot);
      if (g_strcmp0 (b->expires_on, today) <= 0)
        why = g_strdup_printf (_("Expired on %s"), b->expires_on);
      else
        /* Translators: a lot's expiry, then the last day of the course */
        why = g_strdup_printf (_("Expires on %s, before the course is over (last day %s)"), b->expires_on, l->line->course_end);
      row = pd_ui_add_row (l->group, title, why);
      add_row_icon (row, "dialog-warning-symbolic", "warning");
    }
  if (all == NULL)
    g_warning ("stock: %s", error->message);
}

/* Which lots to take the boxes from: first expiry first, as many from
 * each as it has. */
static void
add_batch_rows (PdFillPane *self,
                Line       *l,
                const char *today)
{
  const PdFillLine *line = l->line;
  int left = line->boxes;
  GtkWidget *row;

  for (guint i = 0; line->batches != NULL && i < line->batches->len && left > 0; i++)
    {
      PdStockBatch *b = line->batches->pdata[i];
      int take = MIN (left, b->boxes);
      g_autofree char *packs = packs_text (line->drug->pack_unit, take);
      g_autofree char *title = NULL;
      g_autofree char *subtitle = NULL;

      if (take <= 0)
        continue;
      /* Translators: the suggested batch: lot, then how many boxes to take from it */
      title = g_strdup_printf (_("Take from lot %s: %s"), b->lot, packs);
      /* Translators: a lot's expiry date and the boxes on the shelf */
      subtitle = g_strdup_printf (ngettext ("Expires on %s · %d box on hand", "Expires on %s · %d boxes on hand", b->boxes),
                                  b->expires_on, b->boxes);
      row = pd_ui_add_row (l->group, title, subtitle);
      add_row_icon (row, "emblem-default-symbolic", "success");
      left -= take;
    }
  /* A split line may take its units from a box opened before. */
  for (guint i = 0; line->split && line->batches != NULL && i < line->batches->len; i++)
    {
      PdStockBatch *b = line->batches->pdata[i];

      for (guint j = 0; b->opened != NULL && j < b->opened->len; j++)
        {
          PdOpenedBox *o = b->opened->pdata[j];
          /* Translators: an opened box on the shelf, e.g. "Opened box of lot L2406A: 10 tablets left" */
          g_autofree char *title = g_strdup_printf (_("Opened box of lot %s: %d %s left"), b->lot, o->units_left,
                                                    line->unit_word != NULL ? line->unit_word : C_("units of a drug", "units"));
          g_autofree char *subtitle = g_strdup_printf (_("Scan its code %s to take the units from it"), o->trace_code);

          row = pd_ui_add_row (l->group, title, subtitle);
          add_row_icon (row, "package-x-generic-symbolic", "dim-label");
        }
    }
  if (left > 0 && boxes_on_hand (line) == 0)
    {
      row = pd_ui_add_row (l->group, _("Out of stock"),
                     _("No lot on hand lasts until the end of this course. Receive stock before filling this line."));
      add_row_icon (row, "dialog-error-symbolic", "error");
    }
  else if (left > 0)
    {
      g_autofree char *text = g_strdup_printf (ngettext ("%d more box is needed than the shelf holds. Receive stock before filling this line.",
                                                         "%d more boxes are needed than the shelf holds. Receive stock before filling this line.",
                                                         left), left);

      row = pd_ui_add_row (l->group, _("Not enough stock"), text);
      add_row_icon (row, "dialog-error-symbolic", "error");
    }
  add_unusable_lots (self, l, today);
}

static Line *
build_line (PdFillPane       *self,
            const PdFillLine *line,
            GPtrArray        *labels,
            const char       *today)
{
  Line *l = g_new0 (Line, 1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scan_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  g_autofree char *quantity = NULL;

  l->pane = self;
  l->line = line;
  l->scans = g_ptr_array_new_with_free_func (scan_free);
  l->code_rows = g_ptr_array_new ();
  l->group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (l->group, line->drug_name != NULL ? line->drug_name : line->line);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (l->group));
  gtk_box_append (self->lines_box, box);

  if (line->drug == NULL)
    {
      adw_preferences_group_set_description (l->group, _("This drug is not in the knowledge base, so it cannot be filled here. Ask an administrator to import a knowledge base that has it."));
    }
  else
    {
      g_autofree char *dose = NULL;
      g_autofree char *until = NULL;

      quantity = quantity_text (line);
      /* Translators: what to give for a line, e.g. "Give 2 boxes: 1 whole, 1 opened — 20 of its 24 units" */
      {
        g_autofree char *give = g_strdup_printf (_("Give %s"), quantity);

        adw_preferences_group_set_description (l->group, give);
      }
      if (line->dose_words != NULL && line->route_text != NULL)
        /* Translators: the dose in words, then the route, e.g. "每日3次，每次1粒 · 口服" */
        dose = g_strdup_printf (_("%s · %s"), line->dose_words, line->route_text);
      else
        dose = g_strdup (line->dose_words != NULL ? line->dose_words
                                                  : line->route_text != NULL ? line->route_text : _("Dose not understood"));
      if (line->course_end != NULL)
        until = g_strdup_printf (_("Course until %s"), line->course_end);
      pd_ui_add_row (l->group, dose, until);
      if (is_to_fill (self) && line->boxes > 0)
        add_batch_rows (self, l, today);
      /* Filled: what was given, from which lot, as the labels say it. */
      for (guint i = 0; !is_to_fill (self) && labels != NULL && i < labels->len; i++)
        {
          PdLabel *label = labels->pdata[i];
          g_autofree char *title = NULL;
          GtkWidget *row;

          if (g_strcmp0 (label->drug, line->drug_name) != 0)
            continue;
          /* Translators: what a filled line gave, e.g. "Given: 1 box (9 tablets)", then its lot */
          title = g_strdup_printf (_("Given: %s"), label->quantity);
          {
            g_autofree char *lot = g_strdup_printf (_("Lot %s"), label->lot != NULL ? label->lot : "");

            row = pd_ui_add_row (l->group, title, lot);
          }
          add_row_icon (row, "object-select-symbolic", "success");
        }
    }

  l->entry = GTK_ENTRY (gtk_entry_new ());
  gtk_widget_set_hexpand (GTK_WIDGET (l->entry), TRUE);
  gtk_entry_set_input_purpose (l->entry, GTK_INPUT_PURPOSE_DIGITS);
  gtk_entry_set_input_hints (l->entry, GTK_INPUT_HINT_NO_SPELLCHECK | GTK_INPUT_HINT_NO_EMOJI);
  gtk_entry_set_icon_from_icon_name (l->entry, GTK_ENTRY_ICON_PRIMARY, "scanner-symbolic");
  gtk_widget_add_css_class (GTK_WIDGET (l->entry), "scan-entry");
  gtk_accessible_update_property (GTK_ACCESSIBLE (l->entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Traceability code of the next box"), -1);
  g_signal_connect (l->entry, "activate", G_CALLBACK (scan_activated_cb), l);
  l->count_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_box_append (GTK_BOX (scan_box), GTK_WIDGET (l->entry));
  gtk_box_append (GTK_BOX (scan_box), GTK_WIDGET (l->count_label));
  gtk_box_append (GTK_BOX (box), scan_box);
  gtk_widget_set_visible (scan_box, is_to_fill (self));

  l->refusal_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (l->refusal_label, 0);
  gtk_label_set_wrap (l->refusal_label, TRUE);
  gtk_label_set_wrap_mode (l->refusal_label, PANGO_WRAP_WORD_CHAR);
  gtk_widget_add_css_class (GTK_WIDGET (l->refusal_label), "scan-refusal");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (l->refusal_label));
  return l;
}

/* --- the whole pane ----------------------------------------------------------------------- */

static char *
missing_text (PdFillPane *self)
{
  int boxes = 0;

  for (guint i = 0; i < self->lines->len; i++)
    {
      Line *l = self->lines->pdata[i];

      if (l->line->drug == NULL || l->line->boxes <= 0)
        return g_strdup (_("A line cannot be filled here: see above."));
      boxes += MAX (0, l->line->boxes - (int) l->scans->len);
    }
  if (boxes > 0)
    return g_strdup_printf (ngettext ("Scan %d more box first.", "Scan %d more boxes first.", boxes), boxes);
  if (*gtk_editable_get_text (GTK_EDITABLE (self->checker_row)) == '\0'
      || *gtk_editable_get_text (GTK_EDITABLE (self->checker_password_row)) == '\0')
    return g_strdup (_("Every box is scanned. The checker now types their username and password."));
  return g_strdup (_("Ready: the checker confirms."));
}

static gboolean
ready (PdFillPane *self)
{
  if (!is_to_fill (self) || self->busy || self->lines->len == 0)
    return FALSE;
  for (guint i = 0; i < self->lines->len; i++)
    if (!line_complete (self->lines->pdata[i]))
      return FALSE;
  return *gtk_editable_get_text (GTK_EDITABLE (self->checker_row)) != '\0'
         && *gtk_editable_get_text (GTK_EDITABLE (self->checker_password_row)) != '\0';
}

static void
update (PdFillPane *self)
{
  g_autofree char *missing = NULL;

  for (guint i = 0; self->lines != NULL && i < self->lines->len; i++)
    update_line (self->lines->pdata[i]);
  gtk_widget_set_visible (self->check_box, is_to_fill (self));
  gtk_widget_set_visible (self->done_box, is_filled (self));
  gtk_revealer_set_reveal_child (self->conflict_revealer,
                                 self->sheet != NULL && (self->conflict || g_strcmp0 (self->sheet->state, "conflict") == 0));
  gtk_widget_set_visible (GTK_WIDGET (self->conflict_revealer), gtk_revealer_get_reveal_child (self->conflict_revealer));
  if (self->sheet == NULL)
    return;
  missing = missing_text (self);
  gtk_label_set_label (self->missing_label, missing);
  gtk_widget_set_sensitive (GTK_WIDGET (self->confirm_button), ready (self));
  set_sensitive (GTK_WIDGET (self->checker_row), !self->busy);
  set_sensitive (GTK_WIDGET (self->checker_password_row), !self->busy);
  gtk_spinner_set_spinning (self->spinner, self->busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), self->busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->print_button), !self->busy && self->sheet->dispense_uuid != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->handover_button), !self->sheet->delivery && !self->handed_over);
  gtk_widget_set_sensitive (GTK_WIDGET (self->handover_button), !self->busy);
  {
    g_autofree char *who = NULL;
    g_autofree char *text = NULL;
    const char *next;

    if (self->sheet->dispensed_by != NULL && self->sheet->checked_by != NULL)
      {
        g_autofree char *when = pd_ui_short_time (self->sheet->dispensed_at);

        /* Translators: who filled, who checked, when, e.g. "Filled by 王药师 and checked by 赵核对 on 2026-11-20 10:42." */
        who = g_strdup_printf (_("Filled by %s and checked by %s on %s."), self->sheet->dispensed_by, self->sheet->checked_by, when);
      }
    else
      who = g_strdup (_("Filled and checked."));
    if (self->handed_over)
      next = _("The drugs were handed over to the patient.");
    else if (self->sheet->delivery)
      next = _("Print the labels. The patient asked for delivery: the Delivery area hands the parcel to a courier.");
    else
      next = _("Print the labels, then hand the drugs over when the patient collects them.");
    text = g_strdup_printf ("%s %s", who, next);
    gtk_label_set_label (self->done_label, text);
  }
}

static const char *
state_text (const PdFillSheet *sheet,
            gboolean           handed_over)
{
  if (handed_over)
    return C_("dispensing", "Handed over");
  if (g_strcmp0 (sheet->state, "approved") == 0)
    return C_("dispensing", "To fill");
  if (g_strcmp0 (sheet->state, "dispensed") == 0)
    return sheet->delivery ? C_("dispensing", "Filled: for delivery") : C_("dispensing", "Filled: to hand over");
  if (g_strcmp0 (sheet->state, "conflict") == 0)
    return C_("dispensing", "Conflict");
  return sheet->state;
}

/* The scans of the lines shown, by line id (the arrays shared, not copied). */
static GHashTable *
scans_by_line (PdFillPane *self)
{
  GHashTable *scans = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);

  for (guint i = 0; self->lines != NULL && i < self->lines->len; i++)
    {
      Line *l = self->lines->pdata[i];

      if (l->scans->len > 0)
        g_hash_table_insert (scans, g_strdup (l->line->line), g_ptr_array_ref (l->scans));
    }
  return scans;
}

static void
build (PdFillPane *self,
       GHashTable *kept)
{
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *today = pd_time_format_china (pd_clock_now_us (pd_clock_get_default ()), "%Y-%m-%d");
  g_autoptr(GPtrArray) labels = NULL;
  GtkWidget *child;
  Line *first = NULL;

  /* The focus leaves a scan entry before it goes. */
  set_sensitive (GTK_WIDGET (self->lines_box), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->lines_box), TRUE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->lines_box))) != NULL)
    gtk_box_remove (self->lines_box, child);
  g_clear_pointer (&self->lines, g_ptr_array_unref);
  self->lines = g_ptr_array_new_with_free_func (line_free);
  if (self->sheet == NULL)
    return;

  /* Translators: the fill pane's title; %s is the prescription number */
  title = g_strdup_printf (_("Prescription %s"), self->sheet->rx_number);
  gtk_label_set_label (self->title_label, title);
  gtk_label_set_label (self->state_label, state_text (self->sheet, self->handed_over));
  if (self->sheet->decided_by != NULL)
    /* Translators: under the fill pane's title: patient, who approved it, collection or delivery */
    subtitle = g_strdup_printf (_("%s · approved by %s · %s"), self->sheet->patient_name, self->sheet->decided_by,
                                self->sheet->delivery ? _("for delivery") : _("collected at the counter"));
  else
    subtitle = g_strdup_printf (_("%s · %s"), self->sheet->patient_name,
                                self->sheet->delivery ? _("for delivery") : _("collected at the counter"));
  gtk_label_set_label (self->subtitle_label, subtitle);

  if (self->sheet->dispense_uuid != NULL)
    {
      g_autoptr(GError) error = NULL;

      labels = pd_dispense_labels (self->session, self->kb, self->sheet->dispense_uuid,
                                   self->pharmacy != NULL ? self->pharmacy : "", &error);
      if (labels == NULL)
        g_warning ("labels: %s", error->message);
    }
  for (guint i = 0; i < self->sheet->lines->len; i++)
    {
      Line *l = build_line (self, self->sheet->lines->pdata[i], labels, today);

      g_ptr_array_add (self->lines, l);
      /* The scans made before (a quiet re-read, another prescription
       * looked at meanwhile) stay while there is a fill to make. */
      if (kept != NULL && is_to_fill (self) && g_hash_table_lookup (kept, l->line->line) != NULL)
        g_ptr_array_extend_and_steal (l->scans, g_ptr_array_ref (g_hash_table_lookup (kept, l->line->line)));
      rebuild_codes (l);
      if (first == NULL && !line_complete (l) && l->line->drug != NULL)
        first = l;
    }
  update (self);
  if (first != NULL && is_to_fill (self))
    gtk_widget_grab_focus (GTK_WIDGET (first->entry));
}

/* --- a scan that arrives while the focus is elsewhere ------------------------------------- */

/* A keyboard-wedge scanner types wherever the focus is. A digit typed
 * while the focus is not in a text field (the list, a button, the header)
 * goes to the first line still short of codes, rather than being lost. */
static gboolean
root_key_pressed_cb (GtkEventControllerKey *controller,
                     guint                  keyval,
                     guint                  keycode,
                     GdkModifierType        state,
                     PdFillPane            *self)
{
  gunichar c = gdk_keyval_to_unicode (keyval);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self->keys_root));
  Line *target = NULL;

  if (!is_to_fill (self) || self->busy || c < '0' || c > '9'
      || (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK)) != 0
      || (focus != NULL && GTK_IS_EDITABLE (focus)))
    return GDK_EVENT_PROPAGATE;
  for (guint i = 0; i < self->lines->len && target == NULL; i++)
    {
      Line *l = self->lines->pdata[i];

      if (!line_complete (l) && l->line->drug != NULL && l->line->boxes > 0)
        target = l;
    }
  if (target == NULL || !gtk_widget_is_sensitive (GTK_WIDGET (target->entry))
      || !gtk_widget_get_mapped (GTK_WIDGET (target->entry)))
    return GDK_EVENT_PROPAGATE;
  gtk_widget_grab_focus (GTK_WIDGET (target->entry));
  return gtk_event_controller_key_forward (GTK_EVENT_CONTROLLER_KEY (controller),
                                           GTK_WIDGET (gtk_editable_get_delegate (GTK_EDITABLE (target->entry))));
}

static void
unwatch_keys (PdFillPane *self)
{
  if (self->keys != NULL && self->keys_root != NULL)
    gtk_widget_remove_controller (self->keys_root, self->keys);
  self->keys = NULL;
  g_clear_weak_pointer (&self->keys_root);
}

static void
mapped_cb (PdFillPane *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  unwatch_keys (self);
  if (root == NULL)
    return;
  self->keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (self->keys, GTK_PHASE_CAPTURE);
  g_signal_connect (self->keys, "key-pressed", G_CALLBACK (root_key_pressed_cb), self);
  g_set_weak_pointer (&self->keys_root, GTK_WIDGET (root));
  gtk_widget_add_controller (self->keys_root, self->keys);
}

static void
unmapped_cb (PdFillPane *self)
{
  unwatch_keys (self);
}

/* --- the plan from the scans -------------------------------------------------------------- */

static const char *
lot_of_batch (PdFillPane       *self,
              const PdFillLine *line,
              gint64            batch_id,
              GPtrArray        *lookup)
{
  for (guint i = 0; line->batches != NULL && i < line->batches->len; i++)
    if (((PdStockBatch *) line->batches->pdata[i])->id == batch_id)
      return ((PdStockBatch *) line->batches->pdata[i])->lot;
  for (guint i = 0; lookup != NULL && i < lookup->len; i++)
    if (((PdStockBatch *) lookup->pdata[i])->id == batch_id)
      return ((PdStockBatch *) lookup->pdata[i])->lot;
  return NULL;
}

static PdFillEntry *
entry_for (PdFillPlan *plan,
           const char *line,
           const char *lot)
{
  for (guint i = 0; i < plan->entries->len; i++)
    {
      PdFillEntry *e = plan->entries->pdata[i];

      if (g_str_equal (e->line, line) && g_strcmp0 (e->lot, lot) == 0)
        return e;
    }
  return pd_fill_plan_add (plan, line, lot, 0, 0);
}

/* Each scanned box goes to a lot: an opened or returned box to its own
 * batch (a returned one takes a place among that batch's boxes on hand),
 * then each new box to the suggested lots first expiry first, as many as
 * each holds. A split line's units sit on the entry with the opened box. */
static PdFillPlan *
plan_from_scans (PdFillPane *self)
{
  PdFillPlan *plan = pd_fill_plan_new ();

  for (guint i = 0; i < self->lines->len; i++)
    {
      Line *l = self->lines->pdata[i];
      const PdFillLine *line = l->line;
      guint n_batches = line->batches != NULL ? line->batches->len : 0;
      g_autoptr(GPtrArray) lookup = NULL;
      g_autofree int *taken = g_new0 (int, n_batches + 1);
      PdFillEntry *opened = NULL;
      PdFillEntry *last = NULL;
      int pack = line->drug->pack_size;

      /* Two passes: the boxes whose batch is known, then the new ones. */
      for (int pass = 0; pass < 2; pass++)
        for (guint j = 0; j < l->scans->len; j++)
          {
            Scan *scan = l->scans->pdata[j];
            const char *lot = NULL;
            PdFillEntry *e;

            if ((pass == 0) != (scan->batch_id > 0))
              continue;
            if (scan->batch_id > 0)
              {
                for (guint k = 0; k < n_batches; k++)
                  if (((PdStockBatch *) line->batches->pdata[k])->id == scan->batch_id && scan->result == PD_SCAN_RETURNED)
                    taken[k]++;
                lot = lot_of_batch (self, line, scan->batch_id, lookup);
                if (lot == NULL && lookup == NULL)
                  {
                    lookup = pd_stock_list (pd_session_get_store (self->session), line->drug->code, NULL);
                    lot = lot_of_batch (self, line, scan->batch_id, lookup);
                  }
              }
            for (guint k = 0; lot == NULL && k < n_batches; k++)
              {
                PdStockBatch *b = line->batches->pdata[k];

                if (taken[k] < b->boxes)
                  {
                    taken[k]++;
                    lot = b->lot;
                  }
              }
            if (lot == NULL && n_batches > 0)
              /* More boxes than the shelf: the fill says so in words. */
              lot = ((PdStockBatch *) line->batches->pdata[n_batches - 1])->lot;
            e = entry_for (plan, line->line, lot);
            e->boxes++;
            g_ptr_array_add (e->trace_codes, g_strdup (scan->code));
            if (scan->result == PD_SCAN_OPENED && opened == NULL)
              opened = e;
            last = e;
          }
      if (line->split && pack > 0)
        {
          PdFillEntry *e = opened != NULL ? opened : last;

          if (e != NULL)
            e->units = (e->boxes - 1) * pack + line->units % pack;
        }
    }
  return plan;
}

/* --- the check and the fill --------------------------------------------------------------- */

typedef struct {
  char       *rx_uuid;
  PdFillPlan *plan;
  char       *checker;
  char       *password;
} Fill;

static void
fill_free (gpointer data)
{
  Fill *f = data;

  g_free (f->rx_uuid);
  pd_fill_plan_free (f->plan);
  g_free (f->checker);
  if (f->password != NULL)
    {
      memset (f->password, 0, strlen (f->password));
      g_free (f->password);
    }
  g_free (f);
}

/* On the worker: the checker's key derivation, the hospital's Task, the
 * write. */
static char *
fill_job (PdSession *session,
          gpointer   data,
          GError   **error)
{
  Fill *f = data;
  g_autoptr(PdKb) kb = pd_kb_load_active (pd_session_get_store (session), error);

  if (kb == NULL)
    return NULL;
  return pd_dispense_fill (session, kb, f->rx_uuid, f->plan, f->checker, f->password, error);
}

static void
fill_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(PdFillPane) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *uuid = pd_desk_job_finish (result, &error);

  self->busy = FALSE;
  gtk_editable_set_text (GTK_EDITABLE (self->checker_password_row), "");
  if (uuid == NULL)
    {
      show_error (self, self->check_error_label, error->message);
      update (self);
      /* The checker types again: the password row has the focus, and the
       * pane scrolls to it and to the words under it. */
      gtk_widget_grab_focus (GTK_WIDGET (self->checker_password_row));
      return;
    }
  g_free (self->last_dispense);
  self->last_dispense = g_steal_pointer (&uuid);
  gtk_editable_set_text (GTK_EDITABLE (self->checker_row), "");
  pd_fill_pane_reload (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->print_button));
  g_signal_emit (self, signals[CHANGED], 0);
  ask_sync (self);
}

static void
confirm_clicked_cb (PdFillPane *self)
{
  Fill *f;

  if (!ready (self))
    return;
  f = g_new0 (Fill, 1);
  f->rx_uuid = g_strdup (self->sheet->rx_uuid);
  f->plan = plan_from_scans (self);
  f->checker = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->checker_row))));
  f->password = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->checker_password_row)));
  self->busy = TRUE;
  show_error (self, self->check_error_label, NULL);
  update (self);
  pd_desk_job_run (self->session, fill_job, f, fill_free, NULL, fill_done_cb, g_object_ref (self));
}

static void
checker_changed_cb (PdFillPane *self)
{
  update (self);
}

/* --- labels and handover ------------------------------------------------------------------ */

typedef struct {
  char  *dispense_uuid;
  guint  n;
} Printed;

static void
printed_free (gpointer data)
{
  Printed *p = data;

  g_free (p->dispense_uuid);
  g_free (p);
}

static char *
printed_job (PdSession *session,
             gpointer   data,
             GError   **error)
{
  Printed *p = data;

  return pd_dispense_labels_printed (session, p->dispense_uuid, p->n, error) ? g_strdup ("") : NULL;
}

static void
printed_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PdFillPane) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *done = pd_desk_job_finish (result, &error);
  guint n = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (self), "pd-printing"));

  self->busy = FALSE;
  if (done == NULL)
    show_error (self, self->error_label, error->message);
  else
    self->n_printed += n;
  update (self);
}

static void
print_clicked_cb (PdFillPane *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkPrintOperationResult result;
  Printed *p;

  if (self->sheet == NULL || self->sheet->dispense_uuid == NULL || self->busy)
    return;
  show_error (self, self->error_label, NULL);
  labels = pd_dispense_labels (self->session, self->kb, self->sheet->dispense_uuid,
                               self->pharmacy != NULL ? self->pharmacy : "", &error);
  if (labels == NULL || labels->len == 0)
    {
      show_error (self, self->error_label, error != NULL ? error->message : _("This fill has no labels to print."));
      return;
    }
  result = pd_label_print (labels, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, NULL, self->print_to, &error);
  if (result == GTK_PRINT_OPERATION_RESULT_ERROR)
    {
      /* Translators: %s is the printing system's message */
      g_autofree char *text = g_strdup_printf (_("The labels could not be printed: %s"), error != NULL ? error->message : "");

      show_error (self, self->error_label, text);
      return;
    }
  if (result != GTK_PRINT_OPERATION_RESULT_APPLY)
    return;
  /* The print is in the audit trail, as the dispense is. */
  p = g_new0 (Printed, 1);
  p->dispense_uuid = g_strdup (self->sheet->dispense_uuid);
  p->n = labels->len;
  g_object_set_data (G_OBJECT (self), "pd-printing", GUINT_TO_POINTER (labels->len));
  self->busy = TRUE;
  update (self);
  pd_desk_job_run (self->session, printed_job, p, printed_free, NULL, printed_done_cb, g_object_ref (self));
}

static char *
handover_job (PdSession *session,
              gpointer   data,
              GError   **error)
{
  return pd_dispense_handover (session, data, error) ? g_strdup ("") : NULL;
}

static void
handover_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(PdFillPane) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *done = pd_desk_job_finish (result, &error);

  self->busy = FALSE;
  if (done == NULL)
    {
      show_error (self, self->error_label, error->message);
      update (self);
      return;
    }
  self->handed_over = TRUE;
  gtk_label_set_label (self->state_label, state_text (self->sheet, TRUE));
  update (self);
  g_signal_emit (self, signals[CHANGED], 0);
  ask_sync (self);
}

static void
handover_clicked_cb (PdFillPane *self)
{
  if (self->sheet == NULL || self->busy || !is_filled (self))
    return;
  self->busy = TRUE;
  show_error (self, self->error_label, NULL);
  update (self);
  pd_desk_job_run (self->session, handover_job, g_strdup (self->sheet->rx_uuid), g_free, NULL, handover_done_cb,
                   g_object_ref (self));
}

/* --- GObject ------------------------------------------------------------------------------ */

static void
pd_fill_pane_dispose (GObject *object)
{
  PdFillPane *self = PD_FILL_PANE (object);

  unwatch_keys (self);
  g_clear_pointer (&self->reader, sqlite3_close);
  g_clear_pointer (&self->lines, g_ptr_array_unref);
  g_clear_pointer (&self->sheet, pd_fill_sheet_free);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (object), PD_TYPE_FILL_PANE);
  G_OBJECT_CLASS (pd_fill_pane_parent_class)->dispose (object);
}

static void
pd_fill_pane_finalize (GObject *object)
{
  PdFillPane *self = PD_FILL_PANE (object);

  g_clear_pointer (&self->stash, g_hash_table_unref);
  g_free (self->pharmacy);
  g_free (self->print_to);
  g_free (self->last_dispense);
  G_OBJECT_CLASS (pd_fill_pane_parent_class)->finalize (object);
}

static void
pd_fill_pane_class_init (PdFillPaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pd_fill_pane_dispose;
  object_class->finalize = pd_fill_pane_finalize;
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 0);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/pharmdesk/PharmDesk/ui/pd-fill-pane.ui");
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, title_label);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, state_label);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, error_label);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, conflict_revealer);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, scroller);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, lines_box);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, check_box);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, checker_row);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, checker_password_row);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, missing_label);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, spinner);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, confirm_button);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, check_error_label);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, done_box);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, done_label);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, print_button);
  gtk_widget_class_bind_template_child (widget_class, PdFillPane, handover_button);
}

static void
pd_fill_pane_init (PdFillPane *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->lines = g_ptr_array_new_with_free_func (line_free);
  self->stash = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  g_signal_connect_swapped (self->confirm_button, "clicked", G_CALLBACK (confirm_clicked_cb), self);
  g_signal_connect_swapped (self->print_button, "clicked", G_CALLBACK (print_clicked_cb), self);
  g_signal_connect_swapped (self->handover_button, "clicked", G_CALLBACK (handover_clicked_cb), self);
  g_signal_connect_swapped (self->checker_row, "changed", G_CALLBACK (checker_changed_cb), self);
  g_signal_connect_swapped (self->checker_password_row, "changed", G_CALLBACK (checker_changed_cb), self);
  g_signal_connect (self, "map", G_CALLBACK (mapped_cb), NULL);
  g_signal_connect (self, "unmap", G_CALLBACK (unmapped_cb), NULL);
  /* Enter in the password confirms, as a person expects. */
  g_signal_connect_swapped (self->checker_password_row, "entry-activated", G_CALLBACK (confirm_clicked_cb), self);
  update (self);
}

GtkWidget *
pd_fill_pane_new (void)
{
  return g_object_new (PD_TYPE_FILL_PANE, NULL);
}

gboolean
pd_fill_pane_show (PdFillPane  *self,
                   PdSession   *session,
                   PdKb        *kb,
                   const char  *rx_uuid,
                   GError     **error)
{
  g_autoptr(PdFillSheet) sheet = NULL;
  g_autoptr(GHashTable) kept = NULL;
  PdFillSheet *old;
  gboolean same;

  g_return_val_if_fail (PD_IS_FILL_PANE (self), FALSE);
  if (rx_uuid == NULL || session == NULL)
    {
      /* Signed out, or another desk's session: nothing carries over. */
      g_hash_table_remove_all (self->stash);
      g_clear_pointer (&self->reader, sqlite3_close);
      g_clear_pointer (&self->lines, g_ptr_array_unref);
      self->lines = g_ptr_array_new_with_free_func (line_free);
      g_clear_pointer (&self->sheet, pd_fill_sheet_free);
      g_clear_object (&self->session);
      self->kb = NULL;
      build (self, NULL);
      return TRUE;
    }
  sheet = pd_fill_sheet_load (session, kb, rx_uuid, error);
  if (sheet == NULL)
    return FALSE;
  same = self->sheet != NULL && g_strcmp0 (self->sheet->rx_uuid, sheet->rx_uuid) == 0 && self->session == session;
  if (self->session != session)
    {
      g_hash_table_remove_all (self->stash);
      g_clear_pointer (&self->reader, sqlite3_close);
    }
  if (same)
    kept = scans_by_line (self);
  else
    {
      /* Scans of the one left unfinished wait for it; this one's come back. */
      if (self->sheet != NULL && is_to_fill (self))
        g_hash_table_insert (self->stash, g_strdup (self->sheet->rx_uuid), scans_by_line (self));
      g_hash_table_steal_extended (self->stash, sheet->rx_uuid, NULL, (gpointer *) &kept);
      self->handed_over = FALSE;
      self->conflict = FALSE;
      self->n_printed = 0;
      g_clear_pointer (&self->last_dispense, g_free);
      gtk_editable_set_text (GTK_EDITABLE (self->checker_row), "");
      gtk_editable_set_text (GTK_EDITABLE (self->checker_password_row), "");
      show_error (self, self->check_error_label, NULL);
      show_error (self, self->error_label, NULL);
      gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scroller), 0);
    }
  g_set_object (&self->session, session);
  self->kb = kb;
  old = g_steal_pointer (&self->sheet);
  self->sheet = g_steal_pointer (&sheet);
  build (self, kept);
  g_clear_pointer (&old, pd_fill_sheet_free);
  return TRUE;
}

void
pd_fill_pane_reload (PdFillPane *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uuid = NULL;

  if (self->sheet == NULL || self->session == NULL)
    return;
  uuid = g_strdup (self->sheet->rx_uuid);
  if (!pd_fill_pane_show (self, self->session, self->kb, uuid, &error))
    show_error (self, self->error_label, error->message);
}

const PdFillSheet *
pd_fill_pane_get_sheet (PdFillPane *self)
{
  return self->sheet;
}

void
pd_fill_pane_set_conflict (PdFillPane *self,
                           gboolean    conflict)
{
  self->conflict = conflict;
  update (self);
}

gboolean
pd_fill_pane_get_conflict (PdFillPane *self)
{
  return self->conflict;
}

void
pd_fill_pane_set_pharmacy (PdFillPane *self,
                           const char *name)
{
  g_free (self->pharmacy);
  self->pharmacy = g_strdup (name);
}

void
pd_fill_pane_set_print_to_file (PdFillPane *self,
                                const char *pdf)
{
  g_free (self->print_to);
  self->print_to = g_strdup (pdf);
}

GtkEntry *
pd_fill_pane_get_scan_entry (PdFillPane *self,
                             guint       line)
{
  return line < self->lines->len ? ((Line *) self->lines->pdata[line])->entry : NULL;
}

GPtrArray *
pd_fill_pane_get_codes (PdFillPane *self,
                        guint       line)
{
  GPtrArray *codes = g_ptr_array_new_with_free_func (g_free);

  if (line < self->lines->len)
    {
      Line *l = self->lines->pdata[line];

      for (guint i = 0; i < l->scans->len; i++)
        g_ptr_array_add (codes, g_strdup (((Scan *) l->scans->pdata[i])->code));
    }
  return codes;
}

const char *
pd_fill_pane_get_refusal (PdFillPane *self,
                          guint       line)
{
  return line < self->lines->len ? ((Line *) self->lines->pdata[line])->refusal : NULL;
}

void
pd_fill_pane_remove_code (PdFillPane *self,
                          guint       line,
                          guint       index)
{
  g_return_if_fail (line < self->lines->len);
  remove_scan (self->lines->pdata[line], index);
}

GtkEditable *
pd_fill_pane_get_checker (PdFillPane *self)
{
  return GTK_EDITABLE (self->checker_row);
}

GtkEditable *
pd_fill_pane_get_checker_password (PdFillPane *self)
{
  return GTK_EDITABLE (self->checker_password_row);
}

GtkButton *
pd_fill_pane_get_button (PdFillPane *self,
                         const char *name)
{
  if (g_str_equal (name, "confirm"))
    return self->confirm_button;
  if (g_str_equal (name, "print"))
    return self->print_button;
  if (g_str_equal (name, "handover"))
    return self->handover_button;
  g_return_val_if_reached (NULL);
}

const char *
pd_fill_pane_get_error (PdFillPane *self)
{
  if (gtk_widget_get_visible (GTK_WIDGET (self->check_error_label)))
    return gtk_label_get_label (self->check_error_label);
  if (gtk_widget_get_visible (GTK_WIDGET (self->error_label)))
    return gtk_label_get_label (self->error_label);
  return NULL;
}

const char *
pd_fill_pane_get_dispense (PdFillPane *self)
{
  return self->last_dispense;
}

guint
pd_fill_pane_get_n_printed (PdFillPane *self)
{
  return self->n_printed;
}

gboolean
pd_fill_pane_is_busy (PdFillPane *self)
{
  return self->busy;
}
