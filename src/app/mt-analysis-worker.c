/* mt-analysis-worker.c: the camera as one stream of an MtAnalysisPump of
 * one thread (src/vision does the threading, newest frame wins and the
 * hints); here only what is GStreamer's: reading a sample's pixels. */
#define G_LOG_DOMAIN "mt-analysis-worker"

#include "config.h"

#include <gst/video/video.h>

#include "mt-analysis-worker.h"

struct _MtAnalysisWorker
{
  GObject           parent_instance;
  MtAnalysisPump   *pump;
  MtAnalysisStream *stream;
  gint              enabled;   /* atomic: frames come from streaming threads */
};

G_DEFINE_FINAL_TYPE (MtAnalysisWorker, mt_analysis_worker, G_TYPE_OBJECT)

enum {
  READY,
  FAILED,
  RESULT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* A camera sample while it waits for and goes through the analysis. */
typedef struct {
  GstSample  *sample;
  GstBuffer  *buffer;   /* mapped when not NULL */
  GstMapInfo  map;
} Sample;

static void
sample_free (gpointer data)
{
  Sample *sample = data;

  if (sample->buffer != NULL)
    gst_buffer_unmap (sample->buffer, &sample->map);
  gst_sample_unref (sample->sample);
  g_free (sample);
}

/* In the analysis thread. */
static gboolean
sample_get_frame (gpointer   data,
                  MtFrame   *frame,
                  GError   **error)
{
  Sample *sample = data;
  GstVideoInfo info;
  GstCaps *caps = gst_sample_get_caps (sample->sample);
  GstBuffer *buffer = gst_sample_get_buffer (sample->sample);

  if (caps == NULL || buffer == NULL || !gst_video_info_from_caps (&info, caps) ||
      GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_BGRA)
    {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                   "camera frame is not BGRA video");
      return FALSE;
    }
  if (!gst_buffer_map (buffer, &sample->map, GST_MAP_READ))
    {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "camera frame cannot be read");
      return FALSE;
    }
  sample->buffer = buffer;

  frame->data = sample->map.data;
  frame->width = GST_VIDEO_INFO_WIDTH (&info);
  frame->height = GST_VIDEO_INFO_HEIGHT (&info);
  frame->stride = GST_VIDEO_INFO_PLANE_STRIDE (&info, 0);
  frame->format = MT_PIXEL_FORMAT_BGRA;
  if (sample->map.size < (gsize) frame->stride * frame->height)
    {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "camera frame is truncated");
      return FALSE;
    }
  return TRUE;
}

static void
pump_ready_cb (MtAnalysisWorker *self)
{
  g_signal_emit (self, signals[READY], 0);
}

static void
pump_failed_cb (MtAnalysisWorker *self,
                const char       *message)
{
  g_signal_emit (self, signals[FAILED], 0, message);
}

static void
stream_result_cb (MtAnalysisWorker *self,
                  MtAnalysisResult *result)
{
  g_signal_emit (self, signals[RESULT], 0, result);
}

static void
stream_error_cb (MtAnalysisWorker *self,
                 const GError     *error)
{
  /* The models' failure is the "failed" signal, once. */
  if (!g_error_matches (error, MT_ANALYSIS_PUMP_ERROR, MT_ANALYSIS_PUMP_ERROR_MODELS))
    g_warning ("Frame not analyzed: %s", error->message);
}

static void
mt_analysis_worker_dispose (GObject *object)
{
  MtAnalysisWorker *self = (MtAnalysisWorker *) object;

  /* The frame being analyzed, if any, finishes unwaited for. */
  if (self->stream != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->stream, self);
      mt_analysis_stream_close (self->stream);
      g_clear_object (&self->stream);
    }
  if (self->pump != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->pump, self);
      g_clear_object (&self->pump);
    }
  G_OBJECT_CLASS (mt_analysis_worker_parent_class)->dispose (object);
}

static void
mt_analysis_worker_class_init (MtAnalysisWorkerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mt_analysis_worker_dispose;

  /** MtAnalysisWorker::ready: the models are loaded */
  signals[READY] = g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /** MtAnalysisWorker::failed: @message: why the models could not be loaded */
  signals[FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /** MtAnalysisWorker::result: @result: the faces of one frame */
  signals[RESULT] = g_signal_new ("result", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                  MT_TYPE_ANALYSIS_RESULT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
mt_analysis_worker_init (MtAnalysisWorker *self)
{
  self->enabled = TRUE;
}

MtAnalysisWorker *
mt_analysis_worker_new (const char *models_dir,
                        const char *model)
{
  MtAnalysisWorker *self = g_object_new (MT_TYPE_ANALYSIS_WORKER, NULL);

  /* One thread: the camera is one stream, its frames analyzed in order. */
  self->pump = mt_analysis_pump_new (models_dir, model, 1);
  self->stream = mt_analysis_stream_new (self->pump);
  g_signal_connect_swapped (self->pump, "ready", G_CALLBACK (pump_ready_cb), self);
  g_signal_connect_swapped (self->pump, "failed", G_CALLBACK (pump_failed_cb), self);
  g_signal_connect_swapped (self->stream, "result", G_CALLBACK (stream_result_cb), self);
  g_signal_connect_swapped (self->stream, "error", G_CALLBACK (stream_error_cb), self);
  /* The models at once, not at the first frame: the window says when they
   * cannot be loaded before any camera runs. */
  mt_analysis_pump_load (self->pump);
  return self;
}

void
mt_analysis_worker_push (MtAnalysisWorker *self,
                         GstSample        *sample,
                         gint64            arrival_us)
{
  GstBuffer *buffer;
  const GstSegment *segment;
  gint64 position = -1;
  Sample *data;

  if (!g_atomic_int_get (&self->enabled))
    return;

  buffer = gst_sample_get_buffer (sample);
  segment = gst_sample_get_segment (sample);
  if (segment != NULL && buffer != NULL && GST_BUFFER_PTS_IS_VALID (buffer))
    position = (gint64) gst_segment_to_stream_time (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
  data = g_new0 (Sample, 1);
  data->sample = gst_sample_ref (sample);
  mt_analysis_stream_push (self->stream, sample_get_frame, data, sample_free, arrival_us, position);
}

void
mt_analysis_worker_set_enabled (MtAnalysisWorker *self,
                                gboolean          enabled)
{
  g_return_if_fail (MT_IS_ANALYSIS_WORKER (self));

  g_atomic_int_set (&self->enabled, !!enabled);
  if (!enabled)
    mt_analysis_stream_reset (self->stream);
}

void
mt_analysis_worker_set_threshold (MtAnalysisWorker *self,
                                  double            threshold)
{
  g_return_if_fail (MT_IS_ANALYSIS_WORKER (self));
  mt_analysis_pump_set_threshold (self->pump, threshold);
}

void
mt_analysis_worker_set_detector_size (MtAnalysisWorker *self,
                                      int               size)
{
  g_return_if_fail (MT_IS_ANALYSIS_WORKER (self));
  mt_analysis_pump_set_detector_size (self->pump, size);
}

gboolean
mt_analysis_worker_is_ready (MtAnalysisWorker *self)
{
  g_return_val_if_fail (MT_IS_ANALYSIS_WORKER (self), FALSE);
  return mt_analysis_pump_is_ready (self->pump);
}

double
mt_analysis_worker_get_rate (MtAnalysisWorker *self)
{
  g_return_val_if_fail (MT_IS_ANALYSIS_WORKER (self), 0);
  return mt_analysis_stream_get_rate (self->stream);
}

guint64
mt_analysis_worker_get_dropped (MtAnalysisWorker *self)
{
  g_return_val_if_fail (MT_IS_ANALYSIS_WORKER (self), 0);
  return mt_analysis_stream_get_dropped (self->stream);
}

MtAnalysisStream *
mt_analysis_worker_get_stream (MtAnalysisWorker *self)
{
  g_return_val_if_fail (MT_IS_ANALYSIS_WORKER (self), NULL);
  return self->stream;
}
