/* mt-mood-timeline.c: drawn with GtkSnapshot (the lines through a cairo
 * node: GTK 4.8 has no path API), redrawn when the session's history gets a
 * new second or a mark, and once a second so the axis moves on. */
#define G_LOG_DOMAIN "mt-mood-timeline"

#include "config.h"

#include <glib/gi18n.h>

#include "mt-mood-names.h"
#include "mt-mood-timeline.h"

#define BAND_HEIGHT 8.0
#define MARK_SIZE   5.0

struct _MtMoodTimeline
{
  GtkWidget   parent_instance;
  MtSession  *session;
  gulong      history_id;
  guint       tick_id;
  char       *summary;
};

enum { PROP_0, PROP_SUMMARY, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (MtMoodTimeline, mt_mood_timeline, GTK_TYPE_WIDGET)

/* Hues far apart, mid lightness: readable on light and dark backgrounds
 * alike (the GNOME palette's 3s). */
void
mt_mood_timeline_get_mood_color (MtMood   mood,
                                 GdkRGBA *color)
{
  static const char * const colors[MT_N_MOODS] = {
    "#e01b24",   /* angry: red */
    "#2ec27e",   /* disgust: green */
    "#9141ac",   /* fear: purple */
    "#f6d32d",   /* happy: yellow */
    "#3584e4",   /* sad: blue */
    "#ff7800",   /* surprise: orange */
    "#9a9996",   /* neutral: grey */
  };

  if (!mt_mood_is_valid (mood) || !gdk_rgba_parse (color, colors[mood]))
    *color = (GdkRGBA) { 0.5f, 0.5f, 0.5f, 0.0f };
}

static void
update_summary (MtMoodTimeline *self)
{
  MtMoodHistory *history = self->session != NULL ? mt_session_get_history (self->session) : NULL;
  MtMood longest, now;
  gint64 since;
  g_autofree char *text = NULL;

  if (history == NULL || !mt_mood_history_summarize (history, MT_MOOD_TIMELINE_MINUTES, &longest, &now, &since))
    text = g_strdup (_("No mood yet"));
  else
    {
      g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (since / G_USEC_PER_SEC);
      g_autofree char *clock = g_date_time_format (time, "%H:%M");
      g_autofree char *most = g_utf8_strdown (mt_mood_get_label (longest), -1);
      g_autofree char *current = g_utf8_strdown (mt_mood_get_label (now), -1);

      if (longest == MT_MOOD_NONE)
        /* Translators: the mood timeline's summary when no face was seen */
        text = g_strdup_printf (ngettext ("No face over the last minute", "No face over the last %u minutes",
                                          MT_MOOD_TIMELINE_MINUTES), MT_MOOD_TIMELINE_MINUTES);
      else if (now == MT_MOOD_NONE)
        /* Translators: e.g. "Mostly happy over the last 5 minutes; no face since 14:02" */
        text = g_strdup_printf (_("Mostly %s over the last %u minutes; no face since %s"),
                                most, MT_MOOD_TIMELINE_MINUTES, clock);
      else
        /* Translators: e.g. "Mostly happy over the last 5 minutes; sad since 14:02" */
        text = g_strdup_printf (_("Mostly %s over the last %u minutes; %s since %s"),
                                most, MT_MOOD_TIMELINE_MINUTES, current, clock);
    }
  if (g_strcmp0 (text, self->summary) == 0)
    return;
  g_free (self->summary);
  self->summary = g_steal_pointer (&text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, self->summary, -1);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUMMARY]);
}

static void
history_changed_cb (MtMoodTimeline *self)
{
  update_summary (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
tick_cb (gpointer data)
{
  gtk_widget_queue_draw (data);
  return G_SOURCE_CONTINUE;
}

/* The time shown: what there is, from one minute (a fresh session is not
 * a sliver at the right edge) up to MT_MOOD_TIMELINE_MINUTES. */
static double
span_of (MtMoodHistory *history,
         gint64         now_us)
{
  double span = 60.0 * G_USEC_PER_SEC;

  if (history != NULL && mt_mood_history_get_n (history) > 0)
    span = MAX (span, now_us - mt_mood_history_get (history, 0)->time_us);
  return MIN (span, MT_MOOD_TIMELINE_MINUTES * 60.0 * G_USEC_PER_SEC);
}

static double
x_of (gint64 time_us,
      gint64 now_us,
      double width,
      double span)
{
  return width * (1.0 - (double) (now_us - time_us) / span);
}

static void
draw_lines (cairo_t       *cr,
            MtMoodHistory *history,
            gint64         now,
            double         span,
            double         width,
            double         top,
            double         height)
{
  for (int m = 0; m < MT_N_MOODS; m++)
    {
      gboolean drawing = FALSE;
      GdkRGBA color;

      mt_mood_timeline_get_mood_color (m, &color);
      gdk_cairo_set_source_rgba (cr, &color);
      cairo_set_line_width (cr, 1.5);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      for (guint i = 0; i < mt_mood_history_get_n (history); i++)
        {
          const MtMoodSample *sample = mt_mood_history_get (history, i);
          double x = x_of (sample->time_us, now, width, span);
          double y = top + height * (1.0 - sample->probabilities[m]);

          /* No face: a gap in every line, not a fall to zero. */
          if (!mt_mood_is_valid (sample->mood) || x < 0)
            {
              drawing = FALSE;
              continue;
            }
          if (drawing)
            cairo_line_to (cr, x, y);
          else
            cairo_move_to (cr, x, y);
          drawing = TRUE;
        }
      cairo_stroke (cr);
    }
}

static void
draw_marks (cairo_t       *cr,
            MtMoodHistory *history,
            gint64         now,
            double         span,
            double         width,
            double         height,
            const GdkRGBA *foreground)
{
  for (guint i = 0; i < mt_mood_history_get_n_marks (history); i++)
    {
      const MtMoodMark *mark = mt_mood_history_get_mark (history, i);
      double x = x_of (mark->time_us, now, width, span);
      double y = height - MARK_SIZE;

      if (x < 0)
        continue;
      gdk_cairo_set_source_rgba (cr, foreground);
      cairo_set_line_width (cr, 1.0);
      /* A song starting: a faint line across; ratings: a triangle up or
       * down, a skip a small cross, at the foot. */
      if (mark->kind == MT_MOOD_MARK_SONG)
        {
          cairo_save (cr);
          cairo_set_dash (cr, (double[]) { 2.0, 3.0 }, 2, 0);
          cairo_move_to (cr, x, BAND_HEIGHT);
          cairo_line_to (cr, x, height);
          cairo_stroke (cr);
          cairo_restore (cr);
        }
      else if (mark->kind == MT_MOOD_MARK_SKIPPED)
        {
          cairo_move_to (cr, x - MARK_SIZE / 2, y - MARK_SIZE / 2);
          cairo_line_to (cr, x + MARK_SIZE / 2, y + MARK_SIZE / 2);
          cairo_move_to (cr, x + MARK_SIZE / 2, y - MARK_SIZE / 2);
          cairo_line_to (cr, x - MARK_SIZE / 2, y + MARK_SIZE / 2);
          cairo_stroke (cr);
        }
      else
        {
          double tip = mark->kind == MT_MOOD_MARK_LIKED ? -MARK_SIZE : MARK_SIZE;

          cairo_move_to (cr, x, y + tip / 2);
          cairo_line_to (cr, x - MARK_SIZE / 2, y - tip / 2);
          cairo_line_to (cr, x + MARK_SIZE / 2, y - tip / 2);
          cairo_close_path (cr);
          cairo_fill (cr);
        }
    }
}

static void
mt_mood_timeline_snapshot (GtkWidget   *widget,
                           GtkSnapshot *snapshot)
{
  MtMoodTimeline *self = MT_MOOD_TIMELINE (widget);
  MtMoodHistory *history = self->session != NULL ? mt_session_get_history (self->session) : NULL;
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  double plot_top = BAND_HEIGHT + 4;
  double plot_height = height - plot_top - 2 * MARK_SIZE;
  gint64 now = g_get_real_time ();
  double span = span_of (history, now);
  GdkRGBA foreground, faint;
  cairo_t *cr;

  if (width <= 0 || plot_height <= 0)
    return;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &foreground);
  G_GNUC_END_IGNORE_DEPRECATIONS
  faint = foreground;
  faint.alpha *= 0.15f;

  /* The steady mood: a band of its colour, nothing without a face. */
  for (guint i = 0; history != NULL && i < mt_mood_history_get_n (history); i++)
    {
      const MtMoodSample *sample = mt_mood_history_get (history, i);
      double x = x_of (sample->time_us, now, width, span);
      double w = width * G_USEC_PER_SEC / span + 0.5;
      GdkRGBA color;

      if (x + w < 0 || !mt_mood_is_valid (sample->mood))
        continue;
      mt_mood_timeline_get_mood_color (sample->mood, &color);
      gtk_snapshot_append_color (snapshot, &color, &GRAPHENE_RECT_INIT (MAX (x - w, 0), 0, w, BAND_HEIGHT));
    }
  /* Grid: 0, 50 and 100 %. */
  for (int g = 0; g <= 2; g++)
    gtk_snapshot_append_color (snapshot, &faint,
                               &GRAPHENE_RECT_INIT (0, plot_top + plot_height * g / 2.0, width, 1));
  if (history == NULL)
    return;

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  draw_lines (cr, history, now, span, width, plot_top, plot_height);
  draw_marks (cr, history, now, span, width, height, &foreground);
  cairo_destroy (cr);
}

static void
mt_mood_timeline_measure (GtkWidget      *widget,
                          GtkOrientation  orientation,
                          int             for_size,
                          int            *minimum,
                          int            *natural,
                          int            *minimum_baseline,
                          int            *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 120 : 64;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 320 : 96;
}

void
mt_mood_timeline_set_session (MtMoodTimeline *self,
                              MtSession      *session)
{
  g_return_if_fail (MT_IS_MOOD_TIMELINE (self));

  if (self->session != NULL)
    g_clear_signal_handler (&self->history_id, self->session);
  g_set_object (&self->session, session);
  if (session != NULL)
    self->history_id = g_signal_connect_swapped (session, "history-changed", G_CALLBACK (history_changed_cb),
                                                 self);
  history_changed_cb (self);
}

const char *
mt_mood_timeline_get_summary (MtMoodTimeline *self)
{
  g_return_val_if_fail (MT_IS_MOOD_TIMELINE (self), NULL);
  return self->summary;
}

static void
mt_mood_timeline_dispose (GObject *object)
{
  MtMoodTimeline *self = MT_MOOD_TIMELINE (object);

  g_clear_handle_id (&self->tick_id, g_source_remove);
  mt_mood_timeline_set_session (self, NULL);
  G_OBJECT_CLASS (mt_mood_timeline_parent_class)->dispose (object);
}

static void
mt_mood_timeline_finalize (GObject *object)
{
  g_free (MT_MOOD_TIMELINE (object)->summary);
  G_OBJECT_CLASS (mt_mood_timeline_parent_class)->finalize (object);
}

static void
mt_mood_timeline_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_SUMMARY:
      g_value_set_string (value, MT_MOOD_TIMELINE (object)->summary);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_mood_timeline_class_init (MtMoodTimelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mt_mood_timeline_dispose;
  object_class->finalize = mt_mood_timeline_finalize;
  object_class->get_property = mt_mood_timeline_get_property;
  widget_class->snapshot = mt_mood_timeline_snapshot;
  widget_class->measure = mt_mood_timeline_measure;

  /** MtMoodTimeline:summary: what it shows, in words */
  properties[PROP_SUMMARY] = g_param_spec_string ("summary", NULL, NULL, NULL,
                                                  G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                                  G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "mood-timeline");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
mt_mood_timeline_init (MtMoodTimeline *self)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Mood over time"), -1);
  self->tick_id = g_timeout_add_seconds (1, tick_cb, self);
  update_summary (self);
}
