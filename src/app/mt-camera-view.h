/* mt-camera-view.h: the live preview with the faces outlined and labelled
 * with their top expression. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MT_TYPE_CAMERA_VIEW (mt_camera_view_get_type ())
G_DECLARE_FINAL_TYPE (MtCameraView, mt_camera_view, MT, CAMERA_VIEW, GtkWidget)

GtkWidget    *mt_camera_view_new           (void);
void          mt_camera_view_set_paintable (MtCameraView *self,
                                            GdkPaintable *paintable);
GdkPaintable *mt_camera_view_get_paintable (MtCameraView *self);
/* @faces: MtFace in frame pixels of a @frame_width x @frame_height frame;
 * NULL clears them. */
void          mt_camera_view_set_faces     (MtCameraView *self,
                                            GArray       *faces,
                                            int           frame_width,
                                            int           frame_height);

G_END_DECLS
