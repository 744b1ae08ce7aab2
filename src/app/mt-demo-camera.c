/* mt-demo-camera.c: the demo picture as a live camera, with GStreamer's own
 * elements: imagefreeze repeats the decoded picture as live video, and
 * videocrop's window slides over it with each frame's time (the window's size
 * is fixed by the caps after it, so only its position moves and nothing is
 * renegotiated).  GstLFOControlSource would do the sliding, but it only
 * drives properties through their whole range, not 0..80 pixels. */
#define G_LOG_DOMAIN "mt-demo-camera"

#include "config.h"

#include <glib/gi18n.h>

#include <math.h>

#include "mt-data-dirs.h"
#include "mt-demo-camera.h"

/* The picture is scaled to a square of SCALED_SIDE and a CROP_WIDTH x
 * CROP_HEIGHT window (4:3, the face always inside) wanders over it. */
#define SCALED_SIDE 800
#define CROP_WIDTH  720
#define CROP_HEIGHT 540
/* Sideways over 0..80 px every 24 s, up and down over 0..40 px every 17 s. */
#define PAN_X_RANGE 80.0
#define PAN_Y_RANGE 40.0
#define PAN_X_HZ    (1.0 / 24.0)
#define PAN_Y_HZ    (1.0 / 17.0)

/* Streaming thread, before videocrop sees a frame: place its window for
 * that frame's time. */
static GstPadProbeReturn
pan_probe_cb (GstPad          *pad,
              GstPadProbeInfo *info,
              gpointer         data)
{
  GstElement *crop = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  double t;

  if (buffer == NULL || !GST_BUFFER_PTS_IS_VALID (buffer))
    return GST_PAD_PROBE_OK;
  t = (double) GST_BUFFER_PTS (buffer) / GST_SECOND;
  g_object_set (crop,
                "left", (int) lround (PAN_X_RANGE / 2 * (1 - cos (2 * G_PI * PAN_X_HZ * t))),
                "top", (int) lround (PAN_Y_RANGE / 2 * (1 - cos (2 * G_PI * PAN_Y_HZ * t))),
                NULL);
  return GST_PAD_PROBE_OK;
}

GstElement *
mt_demo_camera_make_source (GError **error)
{
  g_autofree char *picture = mt_data_dirs_find_file (MT_DEMO_CAMERA_PICTURE, error);
  g_autofree char *location = NULL;
  g_autofree char *description = NULL;
  g_autoptr(GstElement) crop = NULL;
  g_autoptr(GstPad) sink = NULL;
  GstElement *bin;

  if (picture == NULL)
    return NULL;

  location = g_strescape (picture, NULL);
  description = g_strdup_printf (
      "filesrc location=\"%s\" ! jpegdec ! videoconvert ! imagefreeze is-live=true "
      "! videoscale ! video/x-raw,width=%d,height=%d "
      "! videocrop name=pan left=0 top=0 right=-1 bottom=-1 ! video/x-raw,width=%d,height=%d "
      "! videoscale ! capsfilter caps=video/x-raw,width=640,height=480,framerate=30/1",
      location, SCALED_SIDE, SCALED_SIDE, CROP_WIDTH, CROP_HEIGHT);
  bin = gst_parse_bin_from_description (description, TRUE, error);
  if (bin == NULL)
    return NULL;

  crop = gst_bin_get_by_name (GST_BIN (bin), "pan");
  sink = gst_element_get_static_pad (crop, "sink");
  /* The probe lives as long as the pad, and the pad as long as crop. */
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, pan_probe_cb, crop, NULL);
  return bin;
}
