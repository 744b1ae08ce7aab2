/* mt-camera.h: the camera (or a video clip standing in for it) as GStreamer
 * frames: a paintable for the preview at camera rate and, on the streaming
 * thread, the newest frame for the analysis worker. */
#pragma once

#include <gtk/gtk.h>
#include <gst/gst.h>

#include "mt-app-enums.h"   /* MT_TYPE_CAMERA_STATE */

G_BEGIN_DECLS

typedef enum {
  MT_CAMERA_STATE_OFF,        /* switched off by the user (privacy) */
  MT_CAMERA_STATE_STARTING,
  MT_CAMERA_STATE_PLAYING,
  MT_CAMERA_STATE_NO_CAMERA,  /* nothing to open */
  MT_CAMERA_STATE_BUSY,       /* another program holds it */
  MT_CAMERA_STATE_UNPLUGGED,  /* it went away while in use */
  MT_CAMERA_STATE_ERROR,      /* anything else; see the "error" property */
  MT_CAMERA_STATE_ENDED,      /* a clip reached its end (without looping) */
} MtCameraState;

/* Called on a GStreamer streaming thread with each frame for analysis
 * (BGRA video/x-raw); @arrival_us is g_get_monotonic_time() on arrival. */
typedef void (*MtCameraFrameFunc) (GstSample *sample,
                                   gint64     arrival_us,
                                   gpointer   user_data);

#define MT_TYPE_CAMERA (mt_camera_get_type ())
G_DECLARE_FINAL_TYPE (MtCamera, mt_camera, MT, CAMERA, GObject)

/* Source values: "" picks the first camera found; "test" is videotestsrc;
 * "demo" is the demo picture (mt-demo-camera.h); a URI or a file path plays
 * that video as the camera; anything else names a camera as listed in the
 * "devices" model. */
#define MT_CAMERA_SOURCE_TEST "test"
#define MT_CAMERA_SOURCE_DEMO "demo"

MtCamera      *mt_camera_new             (void);
void           mt_camera_set_source      (MtCamera          *self,
                                          const char        *source);
const char    *mt_camera_get_source      (MtCamera          *self);
/* Whether a clip starts again at its end (default TRUE). */
void           mt_camera_set_loop        (MtCamera          *self,
                                          gboolean           loop);
void           mt_camera_set_frame_func  (MtCamera          *self,
                                          MtCameraFrameFunc  func,
                                          gpointer           user_data);
/* Opens the source; the outcome shows in the "state" property. */
void           mt_camera_start           (MtCamera          *self);
/* Closes the source: no frame is read any more. */
void           mt_camera_stop            (MtCamera          *self);
MtCameraState  mt_camera_get_state       (MtCamera          *self);
/* What went wrong, for people, when the state is an error. */
const char    *mt_camera_get_error       (MtCamera          *self);
/* The newest preview frame (a GdkTexture, or gtk4paintablesink's paintable). */
GdkPaintable  *mt_camera_get_paintable   (MtCamera          *self);
/* Camera names (GtkStringList) found by GstDeviceMonitor. */
GListModel    *mt_camera_get_devices     (MtCamera          *self);
/* Preview frames shown per second over the last second or so. */
double         mt_camera_get_preview_fps (MtCamera          *self);
/* Position in the clip of the newest preview frame (ns), -1 when unknown. */
gint64         mt_camera_get_position    (MtCamera          *self);

G_END_DECLS
