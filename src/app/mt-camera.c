/* mt-camera.c: camera pipeline, source ! videoconvert ! tee, one branch into
 * the preview, one leaky branch into the analysis worker. */
#define G_LOG_DOMAIN "mt-camera"

#include "config.h"

#include <glib/gi18n.h>
#include <gst/app/gstappsink.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>

#include <unistd.h>

#include "mt-camera.h"
#include "mt-camera-portal.h"
#include "mt-demo-camera.h"

/* Webcams offer big modes too; the preview and the detector need no more. */
#define MAX_CAMERA_WIDTH 1280
#define FPS_WINDOW_US    (2 * G_USEC_PER_SEC)

struct _MtCamera
{
  GObject            parent_instance;

  char              *source;
  gboolean           loop;
  MtCameraState      state;
  char              *error;
  char              *missing_plugin;  /* why the next error happened */

  GstDeviceMonitor  *monitor;
  GtkStringList     *device_names;
  GPtrArray         *devices;        /* GstDevice, parallel to device_names */
  GstDevice         *device;         /* the one in use, if any */

  GstElement        *pipeline;
  guint              bus_watch;
  GstElement        *paintable_sink; /* gtk4paintablesink, when used */
  GdkPaintable      *paintable;

  /* In a Flatpak sandbox: the PipeWire remote from the Camera portal. */
  int                portal_fd;
  GCancellable      *portal_cancellable;

  MtCameraFrameFunc  frame_func;
  gpointer           frame_data;

  /* Shared with the streaming thread. */
  GMutex             lock;
  GstSample         *preview_sample;
  gboolean           preview_idle;

  /* Preview frame times (monotonic), for the frame rate. */
  GQueue             frame_times;
  gint64             position;
};

G_DEFINE_FINAL_TYPE (MtCamera, mt_camera, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_ERROR,
  PROP_PAINTABLE,
  PROP_SOURCE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_state (MtCamera      *self,
           MtCameraState  state,
           const char    *error)
{
  if (g_strcmp0 (self->error, error) != 0)
    {
      g_free (self->error);
      self->error = g_strdup (error);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
    }
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

static void
teardown_pipeline (MtCamera *self)
{
  if (self->pipeline != NULL)
    {
      /* Joins the streaming threads: no callback runs after this. */
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      gst_clear_object (&self->pipeline);
    }
  g_clear_handle_id (&self->bus_watch, g_source_remove);
  gst_clear_object (&self->paintable_sink);
  g_clear_object (&self->device);
  g_clear_pointer (&self->missing_plugin, g_free);
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->preview_sample, gst_sample_unref);
  g_mutex_unlock (&self->lock);
  while (!g_queue_is_empty (&self->frame_times))
    g_free (g_queue_pop_head (&self->frame_times));
  self->position = -1;
}

typedef struct {
  GstBuffer  *buffer;
  GstMapInfo  map;
} MappedBuffer;

static void
mapped_buffer_free (gpointer data)
{
  MappedBuffer *mapped = data;

  gst_buffer_unmap (mapped->buffer, &mapped->map);
  gst_buffer_unref (mapped->buffer);
  g_free (mapped);
}

static GdkTexture *
texture_from_sample (GstSample *sample)
{
  GstVideoInfo info;
  GstCaps *caps = gst_sample_get_caps (sample);
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  MappedBuffer *mapped;
  g_autoptr(GBytes) bytes = NULL;

  if (caps == NULL || buffer == NULL || !gst_video_info_from_caps (&info, caps))
    return NULL;
  if (GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_BGRA)
    return NULL;

  mapped = g_new0 (MappedBuffer, 1);
  mapped->buffer = gst_buffer_ref (buffer);
  if (!gst_buffer_map (buffer, &mapped->map, GST_MAP_READ))
    {
      gst_buffer_unref (mapped->buffer);
      g_free (mapped);
      return NULL;
    }
  if (mapped->map.size < (gsize) GST_VIDEO_INFO_PLANE_STRIDE (&info, 0) * GST_VIDEO_INFO_HEIGHT (&info))
    {
      mapped_buffer_free (mapped);
      return NULL;
    }
  /* The texture keeps the buffer mapped: no copy on the way to the GPU. */
  bytes = g_bytes_new_with_free_func (mapped->map.data, mapped->map.size, mapped_buffer_free, mapped);
  return gdk_memory_texture_new (GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info),
                                 GDK_MEMORY_B8G8R8A8, bytes,
                                 GST_VIDEO_INFO_PLANE_STRIDE (&info, 0));
}

static gint64
sample_position (GstSample *sample)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  const GstSegment *segment = gst_sample_get_segment (sample);

  if (buffer == NULL || segment == NULL || !GST_BUFFER_PTS_IS_VALID (buffer))
    return -1;
  return (gint64) gst_segment_to_stream_time (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
}

static void
count_frame (MtCamera *self)
{
  gint64 now = g_get_monotonic_time ();

  g_queue_push_tail (&self->frame_times, g_memdup2 (&now, sizeof now));
  while (!g_queue_is_empty (&self->frame_times))
    {
      gint64 *first = g_queue_peek_head (&self->frame_times);

      if (now - *first <= FPS_WINDOW_US)
        break;
      g_free (g_queue_pop_head (&self->frame_times));
    }
}

static gboolean
preview_idle_cb (gpointer data)
{
  MtCamera *self = data;
  g_autoptr(GstSample) sample = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  g_mutex_lock (&self->lock);
  sample = g_steal_pointer (&self->preview_sample);
  self->preview_idle = FALSE;
  g_mutex_unlock (&self->lock);

  if (sample == NULL || self->pipeline == NULL)
    return G_SOURCE_REMOVE;

  texture = texture_from_sample (sample);
  if (texture == NULL)
    return G_SOURCE_REMOVE;

  self->position = sample_position (sample);
  count_frame (self);
  g_set_object (&self->paintable, GDK_PAINTABLE (texture));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAINTABLE]);
  return G_SOURCE_REMOVE;
}

/* appsink reuses one GstSample for every frame and sets the new caps on it
 * when they change (a clip starting over): a sample still held then is not
 * writable and GStreamer complains with a critical.  Frames kept past the
 * callback (the preview's newest, the worker's pending one) therefore live
 * in a sample of our own around the same buffer. */
static GstSample *
pull_own_sample (GstAppSink *sink)
{
  g_autoptr(GstSample) pulled = gst_app_sink_pull_sample (sink);

  if (pulled == NULL)
    return NULL;
  return gst_sample_new (gst_sample_get_buffer (pulled), gst_sample_get_caps (pulled),
                         gst_sample_get_segment (pulled), NULL);
}

/* Streaming thread: keep only the newest frame, wake the main loop once. */
static GstFlowReturn
preview_new_sample_cb (GstAppSink *sink,
                       gpointer    data)
{
  MtCamera *self = data;
  GstSample *sample = pull_own_sample (sink);
  gboolean schedule;

  if (sample == NULL)
    return GST_FLOW_EOS;

  g_mutex_lock (&self->lock);
  if (self->preview_sample != NULL)
    gst_sample_unref (self->preview_sample);
  self->preview_sample = sample;
  schedule = !self->preview_idle;
  self->preview_idle = TRUE;
  g_mutex_unlock (&self->lock);

  if (schedule)
    g_idle_add_full (G_PRIORITY_HIGH_IDLE, preview_idle_cb, g_object_ref (self), g_object_unref);
  return GST_FLOW_OK;
}

static GstFlowReturn
analysis_new_sample_cb (GstAppSink *sink,
                        gpointer    data)
{
  MtCamera *self = data;
  g_autoptr(GstSample) sample = pull_own_sample (sink);
  gint64 arrival = g_get_monotonic_time ();

  if (sample == NULL)
    return GST_FLOW_EOS;
  if (self->frame_func != NULL)
    self->frame_func (sample, arrival, self->frame_data);
  return GST_FLOW_OK;
}

static gboolean
is_device_source (MtCamera *self)
{
  return self->device != NULL;
}

static gboolean
bus_cb (GstBus     *bus,
        GstMessage *message,
        gpointer    data)
{
  MtCamera *self = data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;
        MtCameraState state = MT_CAMERA_STATE_ERROR;
        gboolean was_playing = self->state == MT_CAMERA_STATE_PLAYING;
        g_autofree char *text = NULL;

        gst_message_parse_error (message, &error, &debug);
        g_debug ("Camera error: %s (%s)", error->message, debug ? debug : "");
        if (g_error_matches (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_BUSY))
          state = MT_CAMERA_STATE_BUSY;
        else if (is_device_source (self) && was_playing)
          state = MT_CAMERA_STATE_UNPLUGGED;
        else if (is_device_source (self) &&
                 g_error_matches (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND))
          state = MT_CAMERA_STATE_NO_CAMERA;
        if (self->missing_plugin != NULL)
          text = g_strdup_printf (_("A GStreamer plugin is missing: %s"), self->missing_plugin);
        else
          text = g_strdup (error->message);
        teardown_pipeline (self);
        set_state (self, state, text);
        return G_SOURCE_REMOVE;
      }

    case GST_MESSAGE_ELEMENT:
      if (gst_is_missing_plugin_message (message))
        {
          g_free (self->missing_plugin);
          self->missing_plugin = gst_missing_plugin_message_get_description (message);
        }
      break;

    case GST_MESSAGE_EOS:
      if (self->loop && !is_device_source (self) &&
          gst_element_seek_simple (self->pipeline, GST_FORMAT_TIME,
                                   GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0))
        break;
      gst_element_set_state (self->pipeline, GST_STATE_PAUSED);
      set_state (self, MT_CAMERA_STATE_ENDED, NULL);
      break;

    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC (message) == GST_OBJECT (self->pipeline))
        {
          GstState new_state;

          gst_message_parse_state_changed (message, NULL, &new_state, NULL);
          if (new_state == GST_STATE_PLAYING && self->state == MT_CAMERA_STATE_STARTING)
            set_state (self, MT_CAMERA_STATE_PLAYING, NULL);
        }
      break;

    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

static GstDevice *
find_device (MtCamera *self)
{
  for (guint i = 0; i < self->devices->len; i++)
    {
      GstDevice *device = g_ptr_array_index (self->devices, i);
      g_autofree char *name = gst_device_get_display_name (device);

      if (self->source == NULL || self->source[0] == '\0' || g_strcmp0 (name, self->source) == 0)
        return g_object_ref (device);
    }
  /* A camera chosen earlier but gone now: take any other. */
  if (self->devices->len > 0)
    return g_object_ref (g_ptr_array_index (self->devices, 0));
  return NULL;
}

static char *
source_to_uri (const char *source)
{
  if (source == NULL || source[0] == '\0' || g_strcmp0 (source, MT_CAMERA_SOURCE_TEST) == 0 ||
      g_strcmp0 (source, MT_CAMERA_SOURCE_DEMO) == 0)
    return NULL;
  if (strstr (source, "://") != NULL)
    return g_strdup (source);
  if (g_file_test (source, G_FILE_TEST_EXISTS) || source[0] == '/' || source[0] == '.')
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (source);
      return g_file_get_uri (file);
    }
  return NULL;
}

/* uridecodebin: link its video pad; its sound stays undecoded and unlinked. */
static void
decoder_pad_added_cb (GstElement *decoder,
                      GstPad     *pad,
                      gpointer    data)
{
  GstElement *queue = data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  g_autoptr(GstPad) sink = gst_element_get_static_pad (queue, "sink");
  const char *name;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (g_str_has_prefix (name, "video/") && !gst_pad_is_linked (sink))
    gst_pad_link (pad, sink);
}

static GstElement *
make_clip_source (const char  *uri,
                  GError     **error)
{
  GstElement *bin = gst_bin_new ("clip-source");
  GstElement *decoder = gst_element_factory_make ("uridecodebin", NULL);
  GstElement *queue = gst_element_factory_make ("queue", NULL);
  GstElement *convert = gst_element_factory_make ("videoconvert", NULL);
  g_autoptr(GstCaps) caps = gst_caps_from_string ("video/x-raw;audio/x-raw");
  g_autoptr(GstPad) pad = NULL;

  if (decoder == NULL || queue == NULL || convert == NULL)
    {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                   _("The GStreamer elements to play a video are missing"));
      g_clear_object (&decoder);
      g_clear_object (&queue);
      g_clear_object (&convert);
      gst_object_unref (bin);
      return NULL;
    }
  g_object_set (decoder, "uri", uri, "caps", caps, NULL);
  g_object_set (queue, "max-size-buffers", 3, NULL);
  gst_bin_add_many (GST_BIN (bin), decoder, queue, convert, NULL);
  gst_element_link (queue, convert);
  g_signal_connect_object (decoder, "pad-added", G_CALLBACK (decoder_pad_added_cb), queue, 0);
  pad = gst_element_get_static_pad (convert, "src");
  gst_element_add_pad (bin, gst_ghost_pad_new ("src", pad));
  return bin;
}

static GstElement *
make_source (MtCamera  *self,
             GError   **error)
{
  g_autofree char *uri = source_to_uri (self->source);
  GstElement *bin;

  if (g_strcmp0 (self->source, MT_CAMERA_SOURCE_TEST) == 0)
    /* A trailing caps filter needs its element spelled out in a bin. */
    return gst_parse_bin_from_description ("videotestsrc is-live=true pattern=ball ! capsfilter "
                                           "caps=video/x-raw,width=640,height=480,framerate=30/1",
                                           TRUE, error);
  if (g_strcmp0 (self->source, MT_CAMERA_SOURCE_DEMO) == 0)
    return mt_demo_camera_make_source (error);
  if (uri != NULL)
    {
      g_autofree char *path = g_filename_from_uri (uri, NULL, NULL);

      if (path != NULL && !g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                       _("The video file “%s” does not exist"), path);
          return NULL;
        }
      return make_clip_source (uri, error);
    }

  if (self->portal_fd >= 0)
    {
      g_autofree char *description = g_strdup_printf ("pipewiresrc fd=%d ! capsfilter caps=video/x-raw,width=[1,%d] "
                                                      "! videoconvert", self->portal_fd, MAX_CAMERA_WIDTH);
      return gst_parse_bin_from_description (description, TRUE, error);
    }

  self->device = find_device (self);
  if (self->device == NULL)
    return NULL;
  bin = gst_bin_new ("camera-source");
  {
    GstElement *src = gst_device_create_element (self->device, NULL);
    g_autofree char *caps_text = g_strdup_printf ("video/x-raw,width=[1,%d]", MAX_CAMERA_WIDTH);
    g_autoptr(GstCaps) caps = gst_caps_from_string (caps_text);
    GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
    GstElement *convert = gst_element_factory_make ("videoconvert", NULL);
    GstPad *pad;

    if (src == NULL || filter == NULL || convert == NULL)
      {
        g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                     _("The GStreamer elements for the camera are missing"));
        g_clear_object (&src);
        g_clear_object (&filter);
        g_clear_object (&convert);
        gst_object_unref (bin);
        return NULL;
      }
    g_object_set (filter, "caps", caps, NULL);
    gst_bin_add_many (GST_BIN (bin), src, filter, convert, NULL);
    gst_element_link_many (src, filter, convert, NULL);
    pad = gst_element_get_static_pad (convert, "src");
    gst_element_add_pad (bin, gst_ghost_pad_new ("src", pad));
    gst_object_unref (pad);
  }
  return bin;
}

static gboolean
build_pipeline (MtCamera  *self,
                GError   **error)
{
  g_autoptr(GstElement) source = NULL;
  g_autoptr(GstElement) tail = NULL;
  g_autoptr(GstElement) preview = NULL;
  g_autoptr(GstElement) analysis = NULL;
  gboolean use_paintable_sink = gst_element_factory_find ("gtk4paintablesink") != NULL;
  g_autofree char *description = NULL;
  GstAppSinkCallbacks analysis_callbacks = { .new_sample = analysis_new_sample_cb };
  GstAppSinkCallbacks preview_callbacks = { .new_sample = preview_new_sample_cb };
  g_autoptr(GstBus) bus = NULL;

  source = make_source (self, error);
  if (source == NULL)
    return FALSE;
  gst_object_ref_sink (source);

  /* The preview queue is not leaky so that a clip plays at its own pace; the
   * analysis branch keeps only the newest frame: frames that come while the
   * worker is busy are dropped, never queued.  The analysis sink does not wait
   * for the clock (sync=false): a waiting sink would make its one-buffer
   * queue drop every other frame of a clip before the worker sees it. */
  description = g_strdup_printf (
      "videoconvert ! video/x-raw,format=BGRA ! tee name=t "
      "t. ! queue max-size-buffers=2 max-size-bytes=0 max-size-time=0 ! %s "
      "t. ! queue leaky=downstream max-size-buffers=1 max-size-bytes=0 max-size-time=0 "
      "! appsink name=analysis sync=false drop=true max-buffers=1 enable-last-sample=false",
      use_paintable_sink ? "gtk4paintablesink name=preview sync=true"
                         : "appsink name=preview sync=true drop=true max-buffers=1 enable-last-sample=false");
  tail = gst_parse_bin_from_description (description, TRUE, error);
  if (tail == NULL)
    return FALSE;
  gst_object_ref_sink (tail);

  self->pipeline = gst_pipeline_new ("camera");
  gst_bin_add_many (GST_BIN (self->pipeline), g_object_ref (source), g_object_ref (tail), NULL);
  if (!gst_element_link (source, tail))
    {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
                   _("The camera’s video cannot be converted for display"));
      return FALSE;
    }

  preview = gst_bin_get_by_name (GST_BIN (tail), "preview");
  analysis = gst_bin_get_by_name (GST_BIN (tail), "analysis");
  gst_app_sink_set_callbacks (GST_APP_SINK (analysis), &analysis_callbacks, self, NULL);
  if (use_paintable_sink)
    {
      self->paintable_sink = g_object_ref (preview);
      g_clear_object (&self->paintable);
      g_object_get (preview, "paintable", &self->paintable, NULL);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAINTABLE]);
    }
  else
    gst_app_sink_set_callbacks (GST_APP_SINK (preview), &preview_callbacks, self, NULL);

  bus = gst_element_get_bus (self->pipeline);
  self->bus_watch = gst_bus_add_watch (bus, bus_cb, self);
  return TRUE;
}

static gboolean
is_camera_source (const char *source)
{
  g_autofree char *uri = source_to_uri (source);

  return uri == NULL && g_strcmp0 (source, MT_CAMERA_SOURCE_TEST) != 0 &&
         g_strcmp0 (source, MT_CAMERA_SOURCE_DEMO) != 0;
}

static void
portal_open_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      data)
{
  g_autoptr(MtCamera) self = data;
  g_autoptr(GError) error = NULL;
  int fd = mt_camera_portal_open_finish (result, &error);

  if (fd < 0)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_state (self, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)
                       ? MT_CAMERA_STATE_ERROR : MT_CAMERA_STATE_NO_CAMERA, error->message);
      return;
    }
  self->portal_fd = fd;
  if (self->state == MT_CAMERA_STATE_STARTING)
    mt_camera_start (self);
}

void
mt_camera_start (MtCamera *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (MT_IS_CAMERA (self));

  teardown_pipeline (self);
  /* Sandboxed: ask the Camera portal once; it answers asynchronously. */
  if (self->portal_fd < 0 && is_camera_source (self->source) && mt_camera_portal_is_needed ())
    {
      g_cancellable_cancel (self->portal_cancellable);
      g_clear_object (&self->portal_cancellable);
      self->portal_cancellable = g_cancellable_new ();
      set_state (self, MT_CAMERA_STATE_STARTING, NULL);
      mt_camera_portal_open_async (self->portal_cancellable, portal_open_cb, g_object_ref (self));
      return;
    }

  g_clear_object (&self->paintable);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAINTABLE]);

  if (!build_pipeline (self, &error))
    {
      MtCameraState state = error == NULL ? MT_CAMERA_STATE_NO_CAMERA : MT_CAMERA_STATE_ERROR;

      teardown_pipeline (self);
      set_state (self, state, error ? error->message : NULL);
      return;
    }
  set_state (self, MT_CAMERA_STATE_STARTING, NULL);
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE &&
      self->pipeline != NULL)
    {
      /* The bus usually says why; without a message it is still an error. */
      g_autoptr(GstBus) bus = gst_element_get_bus (self->pipeline);
      g_autoptr(GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

      if (message != NULL)
        bus_cb (bus, message, self);
      else
        {
          teardown_pipeline (self);
          set_state (self, MT_CAMERA_STATE_ERROR, _("The camera could not be started"));
        }
    }
}

void
mt_camera_stop (MtCamera *self)
{
  g_return_if_fail (MT_IS_CAMERA (self));

  g_cancellable_cancel (self->portal_cancellable);
  teardown_pipeline (self);
  g_clear_object (&self->paintable);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAINTABLE]);
  set_state (self, MT_CAMERA_STATE_OFF, NULL);
}

static void
refresh_devices (MtCamera *self)
{
  g_autolist(GstDevice) devices = gst_device_monitor_get_devices (self->monitor);
  guint old_len = g_list_model_get_n_items (G_LIST_MODEL (self->device_names));
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_set_size (self->devices, 0);
  for (GList *l = devices; l != NULL; l = l->next)
    {
      g_ptr_array_add (self->devices, g_object_ref (l->data));
      g_ptr_array_add (names, gst_device_get_display_name (l->data));
    }
  g_ptr_array_add (names, NULL);
  gtk_string_list_splice (self->device_names, 0, old_len, (const char * const *) names->pdata);
}

static gboolean
monitor_bus_cb (GstBus     *bus,
                GstMessage *message,
                gpointer    data)
{
  MtCamera *self = data;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_DEVICE_REMOVED)
    {
      g_autoptr(GstDevice) device = NULL;

      gst_message_parse_device_removed (message, &device);
      if (self->device != NULL && device == self->device)
        {
          teardown_pipeline (self);
          set_state (self, MT_CAMERA_STATE_UNPLUGGED, _("The camera was unplugged"));
        }
      refresh_devices (self);
    }
  else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_DEVICE_ADDED)
    refresh_devices (self);
  return G_SOURCE_CONTINUE;
}

static void
mt_camera_dispose (GObject *object)
{
  MtCamera *self = (MtCamera *) object;

  teardown_pipeline (self);
  g_queue_clear_full (&self->frame_times, g_free);
  if (self->monitor != NULL)
    {
      g_autoptr(GstBus) bus = gst_device_monitor_get_bus (self->monitor);

      gst_bus_remove_watch (bus);
      gst_device_monitor_stop (self->monitor);
      gst_clear_object (&self->monitor);
    }
  if (self->portal_cancellable != NULL)
    g_cancellable_cancel (self->portal_cancellable);
  g_clear_object (&self->portal_cancellable);
  g_clear_object (&self->paintable);
  g_clear_object (&self->device_names);
  g_clear_pointer (&self->devices, g_ptr_array_unref);
  G_OBJECT_CLASS (mt_camera_parent_class)->dispose (object);
}

static void
mt_camera_finalize (GObject *object)
{
  MtCamera *self = (MtCamera *) object;

  g_queue_clear_full (&self->frame_times, g_free);
  if (self->portal_fd >= 0)
    close (self->portal_fd);
  g_free (self->source);
  g_free (self->error);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (mt_camera_parent_class)->finalize (object);
}

static void
mt_camera_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  MtCamera *self = MT_CAMERA (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    case PROP_PAINTABLE:
      g_value_set_object (value, self->paintable);
      break;
    case PROP_SOURCE:
      g_value_set_string (value, self->source);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_camera_class_init (MtCameraClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mt_camera_dispose;
  object_class->finalize = mt_camera_finalize;
  object_class->get_property = mt_camera_get_property;

  /** MtCamera:state: whether frames flow, or why not */
  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, MT_TYPE_CAMERA_STATE,
                                              MT_CAMERA_STATE_OFF,
                                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /** MtCamera:error: what went wrong, for people */
  properties[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL,
                                                G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /** MtCamera:paintable: the newest preview frame */
  properties[PROP_PAINTABLE] = g_param_spec_object ("paintable", NULL, NULL, GDK_TYPE_PAINTABLE,
                                                    G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /** MtCamera:source: what the camera reads (see mt_camera_set_source()) */
  properties[PROP_SOURCE] = g_param_spec_string ("source", NULL, NULL, NULL,
                                                 G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_camera_init (MtCamera *self)
{
  g_autoptr(GstBus) bus = NULL;

  g_mutex_init (&self->lock);
  g_queue_init (&self->frame_times);
  self->loop = TRUE;
  self->position = -1;
  self->portal_fd = -1;
  self->source = g_strdup ("");
  self->device_names = gtk_string_list_new (NULL);
  self->devices = g_ptr_array_new_with_free_func (gst_object_unref);

  self->monitor = gst_device_monitor_new ();
  gst_device_monitor_add_filter (self->monitor, "Video/Source", NULL);
  bus = gst_device_monitor_get_bus (self->monitor);
  gst_bus_add_watch (bus, monitor_bus_cb, self);
  if (!gst_device_monitor_start (self->monitor))
    g_debug ("No camera device provider could start");
  refresh_devices (self);
}

MtCamera *
mt_camera_new (void)
{
  return g_object_new (MT_TYPE_CAMERA, NULL);
}

void
mt_camera_set_source (MtCamera   *self,
                      const char *source)
{
  g_return_if_fail (MT_IS_CAMERA (self));

  if (source == NULL)
    source = "";
  if (g_strcmp0 (self->source, source) == 0)
    return;
  g_free (self->source);
  self->source = g_strdup (source);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOURCE]);
}

const char *
mt_camera_get_source (MtCamera *self)
{
  g_return_val_if_fail (MT_IS_CAMERA (self), NULL);
  return self->source;
}

void
mt_camera_set_loop (MtCamera *self,
                    gboolean  loop)
{
  g_return_if_fail (MT_IS_CAMERA (self));
  self->loop = !!loop;
}

void
mt_camera_set_frame_func (MtCamera          *self,
                          MtCameraFrameFunc  func,
                          gpointer           user_data)
{
  g_return_if_fail (MT_IS_CAMERA (self));
  g_return_if_fail (self->pipeline == NULL);

  self->frame_func = func;
  self->frame_data = user_data;
}

MtCameraState
mt_camera_get_state (MtCamera *self)
{
  g_return_val_if_fail (MT_IS_CAMERA (self), MT_CAMERA_STATE_OFF);
  return self->state;
}

const char *
mt_camera_get_error (MtCamera *self)
{
  g_return_val_if_fail (MT_IS_CAMERA (self), NULL);
  return self->error;
}

GdkPaintable *
mt_camera_get_paintable (MtCamera *self)
{
  g_return_val_if_fail (MT_IS_CAMERA (self), NULL);
  return self->paintable;
}

GListModel *
mt_camera_get_devices (MtCamera *self)
{
  g_return_val_if_fail (MT_IS_CAMERA (self), NULL);
  return G_LIST_MODEL (self->device_names);
}

double
mt_camera_get_preview_fps (MtCamera *self)
{
  gint64 *first, *last;
  guint n;

  g_return_val_if_fail (MT_IS_CAMERA (self), 0);

  n = g_queue_get_length (&self->frame_times);
  if (n < 2)
    return 0;
  first = g_queue_peek_head (&self->frame_times);
  last = g_queue_peek_tail (&self->frame_times);
  if (g_get_monotonic_time () - *last > G_USEC_PER_SEC || *last <= *first)
    return 0;
  return (n - 1) * (double) G_USEC_PER_SEC / (*last - *first);
}

gint64
mt_camera_get_position (MtCamera *self)
{
  g_return_val_if_fail (MT_IS_CAMERA (self), -1);
  return self->position;
}
