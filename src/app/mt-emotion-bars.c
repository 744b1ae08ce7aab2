/* mt-emotion-bars.c: a grid of name, level bar and percentage per expression. */
#define G_LOG_DOMAIN "mt-emotion-bars"

#include "config.h"

#include <glib/gi18n.h>

#include "mt-mood.h"
#include "mt-emotion-bars.h"
#include "mt-mood-names.h"
#include "mt-mood-timeline.h"

struct _MtEmotionBars
{
  GtkWidget  parent_instance;
  GtkWidget *grid;
  GtkWidget *bars[MT_N_MOODS];
  GtkWidget *values[MT_N_MOODS];
};

G_DEFINE_FINAL_TYPE (MtEmotionBars, mt_emotion_bars, GTK_TYPE_WIDGET)

void
mt_emotion_bars_set_values (MtEmotionBars *self,
                            const float   *probabilities)
{
  g_return_if_fail (MT_IS_EMOTION_BARS (self));

  for (int i = 0; i < MT_N_MOODS; i++)
    {
      double value = probabilities != NULL ? CLAMP (probabilities[i], 0.0, 1.0) : 0.0;
      g_autofree char *text = probabilities != NULL ? g_strdup_printf ("%.0f%%", 100 * value) : g_strdup ("–");

      gtk_level_bar_set_value (GTK_LEVEL_BAR (self->bars[i]), value);
      gtk_label_set_text (GTK_LABEL (self->values[i]), text);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->bars[i]),
                                      GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, text, -1);
    }
}

static void
mt_emotion_bars_dispose (GObject *object)
{
  MtEmotionBars *self = MT_EMOTION_BARS (object);

  g_clear_pointer (&self->grid, gtk_widget_unparent);
  G_OBJECT_CLASS (mt_emotion_bars_parent_class)->dispose (object);
}

static void
mt_emotion_bars_class_init (MtEmotionBarsClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = mt_emotion_bars_dispose;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "emotion-bars");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

/* Each bar in its mood's colour, the timeline's: the bars are its legend.
 * Made from the one colour table, once per display. */
static void
add_mood_colors (GtkWidget *widget)
{
  GdkDisplay *display = gtk_widget_get_display (widget);
  g_autoptr(GtkCssProvider) provider = NULL;
  g_autoptr(GString) css = NULL;

  if (g_object_get_data (G_OBJECT (display), "mt-mood-colors") != NULL)
    return;
  css = g_string_new (NULL);
  for (int i = 0; i < MT_N_MOODS; i++)
    {
      GdkRGBA color;
      g_autofree char *text = NULL;

      mt_mood_timeline_get_mood_color (i, &color);
      text = gdk_rgba_to_string (&color);
      g_string_append_printf (css, "levelbar.mood-%s block.filled { background-color: %s; }\n",
                              mt_mood_to_string (i), text);
    }
  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_data (provider, css->str, -1);
  gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_set_data (G_OBJECT (display), "mt-mood-colors", GINT_TO_POINTER (1));
}

static void
mt_emotion_bars_init (MtEmotionBars *self)
{
  self->grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (self->grid), 4);
  gtk_grid_set_column_spacing (GTK_GRID (self->grid), 12);
  gtk_widget_set_parent (self->grid, GTK_WIDGET (self));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Expression confidences of the main face"), -1);

  for (int i = 0; i < MT_N_MOODS; i++)
    {
      GtkWidget *name = gtk_label_new (mt_mood_get_label (i));
      GtkWidget *bar = gtk_level_bar_new_for_interval (0, 1);
      GtkWidget *value = gtk_label_new ("–");

      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_widget_add_css_class (name, "caption");
      gtk_widget_set_hexpand (bar, TRUE);
      {
        g_autofree char *css_class = g_strdup_printf ("mood-%s", mt_mood_to_string (i));
        gtk_widget_add_css_class (bar, css_class);
      }
      gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
      /* No "low/high" colouring: a confidence is not good or bad. */
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_LOW);
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_HIGH);
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_FULL);
      gtk_label_set_xalign (GTK_LABEL (value), 1);
      gtk_label_set_width_chars (GTK_LABEL (value), 4);
      gtk_widget_add_css_class (value, "caption");
      gtk_widget_add_css_class (value, "numeric");
      gtk_accessible_update_relation (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_RELATION_LABELLED_BY, name, NULL, -1);

      gtk_grid_attach (GTK_GRID (self->grid), name, 0, i, 1, 1);
      gtk_grid_attach (GTK_GRID (self->grid), bar, 1, i, 1, 1);
      gtk_grid_attach (GTK_GRID (self->grid), value, 2, i, 1, 1);
      self->bars[i] = bar;
      self->values[i] = value;
    }
  add_mood_colors (GTK_WIDGET (self));
}

GtkWidget *
mt_emotion_bars_new (void)
{
  return g_object_new (MT_TYPE_EMOTION_BARS, NULL);
}
