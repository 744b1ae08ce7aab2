/* mt-camera-view.c: draws the newest frame, scaled to fit, and the face boxes. */
#define G_LOG_DOMAIN "mt-camera-view"

#include "config.h"

#include <glib/gi18n.h>

#include "mt-camera-view.h"
#include "mt-face.h"
#include "mt-mood-names.h"

struct _MtCameraView
{
  GtkWidget     parent_instance;
  GdkPaintable *paintable;
  GArray       *faces;
  int           frame_width;
  int           frame_height;
};

G_DEFINE_FINAL_TYPE (MtCameraView, mt_camera_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_PAINTABLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The frame's place in the widget, keeping its aspect ratio. */
static void
compute_frame_rect (MtCameraView    *self,
                    graphene_rect_t *rect)
{
  double width = gtk_widget_get_width (GTK_WIDGET (self));
  double height = gtk_widget_get_height (GTK_WIDGET (self));
  double ratio = self->paintable ? gdk_paintable_get_intrinsic_aspect_ratio (self->paintable) : 0;
  double w, h;

  if (ratio <= 0)
    ratio = 4.0 / 3.0;
  w = width;
  h = w / ratio;
  if (h > height)
    {
      h = height;
      w = h * ratio;
    }
  graphene_rect_init (rect, (width - w) / 2, (height - h) / 2, w, h);
}

static void
draw_face (MtCameraView          *self,
           GtkSnapshot           *snapshot,
           const graphene_rect_t *frame,
           const MtFace          *face,
           gboolean               main_face)
{
  double sx = frame->size.width / self->frame_width;
  double sy = frame->size.height / self->frame_height;
  graphene_rect_t box;
  GskRoundedRect outline;
  const GdkRGBA color = main_face ? (GdkRGBA) { 0.21, 0.52, 0.89, 1 } : (GdkRGBA) { 0.96, 0.76, 0.07, 1 };
  const GdkRGBA colors[4] = { color, color, color, color };
  const float widths[4] = { 3, 3, 3, 3 };
  const GdkRGBA text_color = { 1, 1, 1, 1 };
  const GdkRGBA back = { 0, 0, 0, 0.6 };
  g_autofree char *text = NULL;
  PangoLayout *layout;
  int text_w, text_h;
  graphene_rect_t label_rect;

  graphene_rect_init (&box, frame->origin.x + face->x * sx, frame->origin.y + face->y * sy,
                      face->width * sx, face->height * sy);
  gsk_rounded_rect_init_from_rect (&outline, &box, 4);
  gtk_snapshot_append_border (snapshot, &outline, widths, colors);

  /* Translators: a face's top expression and how sure the model is, e.g. "Happy 87%" */
  text = g_strdup_printf (_("%s %.0f%%"), mt_mood_get_label (face->emotion),
                          100.0 * face->emotions[face->emotion]);
  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  pango_layout_get_pixel_size (layout, &text_w, &text_h);
  graphene_rect_init (&label_rect, box.origin.x, MAX (frame->origin.y, box.origin.y - text_h - 4),
                      text_w + 8, text_h + 4);
  gtk_snapshot_append_color (snapshot, &back, &label_rect);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (label_rect.origin.x + 4, label_rect.origin.y + 2));
  gtk_snapshot_append_layout (snapshot, layout, &text_color);
  gtk_snapshot_restore (snapshot);
  g_object_unref (layout);
}

static void
mt_camera_view_snapshot (GtkWidget   *widget,
                         GtkSnapshot *snapshot)
{
  MtCameraView *self = MT_CAMERA_VIEW (widget);
  graphene_rect_t frame;

  if (self->paintable == NULL)
    return;

  compute_frame_rect (self, &frame);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &frame.origin);
  gdk_paintable_snapshot (self->paintable, snapshot, frame.size.width, frame.size.height);
  gtk_snapshot_restore (snapshot);

  if (self->faces == NULL || self->frame_width <= 0 || self->frame_height <= 0)
    return;
  for (guint i = 0; i < self->faces->len; i++)
    draw_face (self, snapshot, &frame, &g_array_index (self->faces, MtFace, i), i == 0);
}

static void
mt_camera_view_measure (GtkWidget      *widget,
                        GtkOrientation  orientation,
                        int             for_size,
                        int            *minimum,
                        int            *natural,
                        int            *minimum_baseline,
                        int            *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 160 : 120;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 640 : 480;
}

static void
invalidate_cb (MtCameraView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
mt_camera_view_set_paintable (MtCameraView *self,
                              GdkPaintable *paintable)
{
  g_return_if_fail (MT_IS_CAMERA_VIEW (self));

  if (self->paintable == paintable)
    return;
  if (self->paintable != NULL)
    g_signal_handlers_disconnect_by_func (self->paintable, invalidate_cb, self);
  g_set_object (&self->paintable, paintable);
  /* gtk4paintablesink's paintable changes in place; textures are replaced. */
  if (paintable != NULL && !(gdk_paintable_get_flags (paintable) & GDK_PAINTABLE_STATIC_CONTENTS))
    g_signal_connect_swapped (paintable, "invalidate-contents", G_CALLBACK (invalidate_cb), self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAINTABLE]);
}

GdkPaintable *
mt_camera_view_get_paintable (MtCameraView *self)
{
  g_return_val_if_fail (MT_IS_CAMERA_VIEW (self), NULL);
  return self->paintable;
}

void
mt_camera_view_set_faces (MtCameraView *self,
                          GArray       *faces,
                          int           frame_width,
                          int           frame_height)
{
  g_autoptr(GString) description = g_string_new (NULL);

  g_return_if_fail (MT_IS_CAMERA_VIEW (self));

  g_clear_pointer (&self->faces, g_array_unref);
  if (faces != NULL)
    self->faces = g_array_ref (faces);
  self->frame_width = frame_width;
  self->frame_height = frame_height;
  gtk_widget_queue_draw (GTK_WIDGET (self));

  /* Screen readers hear what the boxes show. */
  if (faces == NULL || faces->len == 0)
    g_string_assign (description, _("No face found"));
  else
    for (guint i = 0; i < faces->len; i++)
      {
        const MtFace *face = &g_array_index (faces, MtFace, i);

        if (i > 0)
          g_string_append (description, ", ");
        g_string_append_printf (description, _("Face %u: %s"), i + 1, mt_mood_get_label (face->emotion));
      }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  description->str, -1);
}

static void
mt_camera_view_dispose (GObject *object)
{
  MtCameraView *self = MT_CAMERA_VIEW (object);

  mt_camera_view_set_paintable (self, NULL);
  g_clear_pointer (&self->faces, g_array_unref);
  G_OBJECT_CLASS (mt_camera_view_parent_class)->dispose (object);
}

static void
mt_camera_view_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  MtCameraView *self = MT_CAMERA_VIEW (object);

  switch (prop_id)
    {
    case PROP_PAINTABLE:
      g_value_set_object (value, self->paintable);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_camera_view_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  MtCameraView *self = MT_CAMERA_VIEW (object);

  switch (prop_id)
    {
    case PROP_PAINTABLE:
      mt_camera_view_set_paintable (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_camera_view_class_init (MtCameraViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mt_camera_view_dispose;
  object_class->get_property = mt_camera_view_get_property;
  object_class->set_property = mt_camera_view_set_property;
  widget_class->snapshot = mt_camera_view_snapshot;
  widget_class->measure = mt_camera_view_measure;

  /** MtCameraView:paintable: the frame to show */
  properties[PROP_PAINTABLE] = g_param_spec_object ("paintable", NULL, NULL, GDK_TYPE_PAINTABLE,
                                                    G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "camera-view");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
mt_camera_view_init (MtCameraView *self)
{
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Camera preview"), -1);
}

GtkWidget *
mt_camera_view_new (void)
{
  return g_object_new (MT_TYPE_CAMERA_VIEW, NULL);
}
