/* mt-analysis-worker.c: one thread, one MtAnalyzer (Darknet networks are not
 * thread-safe), a one-frame mailbox in front of it. */
#define G_LOG_DOMAIN "mt-analysis-worker"

#include "config.h"

#include <gst/video/video.h>

#include "mt-analysis-worker.h"
#include "mt-analyzer.h"

#define RATE_WINDOW_US (2 * G_USEC_PER_SEC)

/* What the thread and the object share; outlives the object while results
 * are still on their way to the main loop. */
typedef struct {
  gatomicrefcount    ref;
  GMutex             lock;
  GCond              cond;
  GstSample         *pending;
  gint64             pending_arrival;
  gboolean           quit;
  gboolean           enabled;
  double             threshold;   /* < 0: unchanged */
  int                detector_size;  /* <= 0: unchanged */
  guint64            dropped;
  char              *models_dir;
  char              *model;
  GMainContext      *context;
  /* Main thread only: NULL once the object is gone. */
  MtAnalysisWorker  *owner;
} Shared;

struct _MtAnalysisWorker
{
  GObject   parent_instance;
  Shared   *shared;
  GThread  *thread;
  gboolean  ready;
  GQueue    done_times;
};

G_DEFINE_FINAL_TYPE (MtAnalysisWorker, mt_analysis_worker, G_TYPE_OBJECT)
G_DEFINE_BOXED_TYPE (MtAnalysisResult, mt_analysis_result, mt_analysis_result_copy, mt_analysis_result_free)

enum {
  READY,
  FAILED,
  RESULT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

MtAnalysisResult *
mt_analysis_result_copy (const MtAnalysisResult *result)
{
  MtAnalysisResult *copy = g_memdup2 (result, sizeof *result);

  if (result->faces != NULL)
    copy->faces = g_array_ref (result->faces);
  return copy;
}

void
mt_analysis_result_free (MtAnalysisResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->faces, g_array_unref);
  g_free (result);
}

static Shared *
shared_ref (Shared *shared)
{
  g_atomic_ref_count_inc (&shared->ref);
  return shared;
}

static void
shared_unref (Shared *shared)
{
  if (!g_atomic_ref_count_dec (&shared->ref))
    return;
  g_clear_pointer (&shared->pending, gst_sample_unref);
  g_mutex_clear (&shared->lock);
  g_cond_clear (&shared->cond);
  g_main_context_unref (shared->context);
  g_free (shared->models_dir);
  g_free (shared->model);
  g_free (shared);
}

typedef struct {
  Shared           *shared;
  MtAnalysisResult *result;
  char             *error;
  gboolean          ready;
} Message;

static void
message_free (gpointer data)
{
  Message *message = data;

  shared_unref (message->shared);
  mt_analysis_result_free (message->result);
  g_free (message->error);
  g_free (message);
}

static gboolean
deliver_cb (gpointer data)
{
  Message *message = data;
  MtAnalysisWorker *self = message->shared->owner;

  if (self == NULL)
    return G_SOURCE_REMOVE;

  if (message->ready)
    {
      self->ready = TRUE;
      g_signal_emit (self, signals[READY], 0);
    }
  else if (message->error != NULL)
    g_signal_emit (self, signals[FAILED], 0, message->error);
  else if (message->result != NULL)
    {
      gint64 *now = g_memdup2 (&message->result->done_us, sizeof (gint64));

      g_queue_push_tail (&self->done_times, now);
      while (g_queue_get_length (&self->done_times) > 1 &&
             *now - *(gint64 *) g_queue_peek_head (&self->done_times) > RATE_WINDOW_US)
        g_free (g_queue_pop_head (&self->done_times));
      g_signal_emit (self, signals[RESULT], 0, message->result);
    }
  return G_SOURCE_REMOVE;
}

static void
post (Shared           *shared,
      MtAnalysisResult *result,
      const char       *error,
      gboolean          ready)
{
  Message *message = g_new0 (Message, 1);

  message->shared = shared_ref (shared);
  message->result = result;
  message->error = g_strdup (error);
  message->ready = ready;
  g_main_context_invoke_full (shared->context, G_PRIORITY_DEFAULT, deliver_cb, message, message_free);
}

/* Mean luma over a sparse grid: enough to tell a dark room. */
static double
mean_brightness (const MtFrame *frame)
{
  double sum = 0;
  int n = 0;
  int step_x = MAX (1, frame->width / 64);
  int step_y = MAX (1, frame->height / 48);

  for (int y = 0; y < frame->height; y += step_y)
    for (int x = 0; x < frame->width; x += step_x)
      {
        float rgb[3];

        mt_frame_get_rgb (frame, x, y, rgb);
        sum += 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
        n++;
      }
  return n > 0 ? sum / n : 0;
}

static MtAnalysisResult *
analyze_sample (MtAnalyzer  *analyzer,
                GstSample   *sample,
                gint64       arrival_us,
                GError     **error)
{
  GstVideoInfo info;
  GstCaps *caps = gst_sample_get_caps (sample);
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  const GstSegment *segment = gst_sample_get_segment (sample);
  GstMapInfo map;
  MtFrame frame;
  g_autoptr(MtAnalysisResult) result = g_new0 (MtAnalysisResult, 1);
  gint64 start = g_get_monotonic_time ();

  if (caps == NULL || buffer == NULL || !gst_video_info_from_caps (&info, caps) ||
      GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_BGRA)
    {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                   "camera frame is not BGRA video");
      return NULL;
    }
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "camera frame cannot be read");
      return NULL;
    }

  frame.data = map.data;
  frame.width = GST_VIDEO_INFO_WIDTH (&info);
  frame.height = GST_VIDEO_INFO_HEIGHT (&info);
  frame.stride = GST_VIDEO_INFO_PLANE_STRIDE (&info, 0);
  frame.format = MT_PIXEL_FORMAT_BGRA;
  if (map.size < (gsize) frame.stride * frame.height)
    {
      gst_buffer_unmap (buffer, &map);
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "camera frame is truncated");
      return NULL;
    }

  /* One pass per face (the mood tracker smooths over frames anyway), and one
   * face followed with small region passes between full-frame ones: about a
   * third of the detector's work with a steady face in front of the camera.
   * A new camera or frame size falls back to full passes by itself. */
  result->faces = mt_analyzer_analyze (analyzer, &frame,
                                       MT_ANALYZE_SINGLE_PASS | MT_ANALYZE_VIDEO, error);
  result->brightness = mean_brightness (&frame);
  gst_buffer_unmap (buffer, &map);
  if (result->faces == NULL)
    return NULL;

  result->frame_width = frame.width;
  result->frame_height = frame.height;
  result->arrival_us = arrival_us;
  result->position = -1;
  if (segment != NULL && GST_BUFFER_PTS_IS_VALID (buffer))
    result->position = (gint64) gst_segment_to_stream_time (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
  result->done_us = g_get_monotonic_time ();
  result->analyze_ms = (result->done_us - start) / 1000.0;

  if (result->faces->len == 0)
    result->hint = result->brightness < MT_FRAME_DARK_LEVEL ? MT_FRAME_HINT_TOO_DARK : MT_FRAME_HINT_NO_FACE;
  else if (g_array_index (result->faces, MtFace, 0).width < MT_FACE_SMALL_SIDE)
    result->hint = MT_FRAME_HINT_TOO_SMALL;
  else
    result->hint = MT_FRAME_HINT_NONE;
  return g_steal_pointer (&result);
}

static gpointer
worker_thread (gpointer data)
{
  Shared *shared = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtAnalyzer) analyzer = mt_analyzer_new (shared->models_dir, shared->model, &error);

  if (analyzer == NULL)
    {
      post (shared, NULL, error->message, FALSE);
      shared_unref (shared);
      return NULL;
    }
  post (shared, NULL, NULL, TRUE);

  for (;;)
    {
      g_autoptr(GstSample) sample = NULL;
      g_autoptr(GError) frame_error = NULL;
      MtAnalysisResult *result;
      gint64 arrival;
      double threshold;
      int detector_size;

      g_mutex_lock (&shared->lock);
      while (!shared->quit && shared->pending == NULL)
        g_cond_wait (&shared->cond, &shared->lock);
      if (shared->quit)
        {
          g_mutex_unlock (&shared->lock);
          break;
        }
      sample = g_steal_pointer (&shared->pending);
      arrival = shared->pending_arrival;
      threshold = shared->threshold;
      shared->threshold = -1;
      detector_size = shared->detector_size;
      shared->detector_size = 0;
      g_mutex_unlock (&shared->lock);

      if (threshold > 0)
        mt_analyzer_set_threshold (analyzer, threshold);
      if (detector_size > 0)
        {
          g_autoptr(GError) size_error = NULL;

          if (!mt_analyzer_set_detector_size (analyzer, detector_size, &size_error))
            g_warning ("Detector size %d not used: %s", detector_size, size_error->message);
        }

      result = analyze_sample (analyzer, sample, arrival, &frame_error);
      if (result != NULL)
        post (shared, result, NULL, FALSE);
      else
        g_warning ("Frame not analyzed: %s", frame_error->message);
    }

  shared_unref (shared);
  return NULL;
}

static void
mt_analysis_worker_dispose (GObject *object)
{
  MtAnalysisWorker *self = (MtAnalysisWorker *) object;

  if (self->thread != NULL)
    {
      g_mutex_lock (&self->shared->lock);
      self->shared->quit = TRUE;
      g_cond_signal (&self->shared->cond);
      g_mutex_unlock (&self->shared->lock);
      /* At most one analysis (tens of ms) to wait for. */
      g_thread_join (g_steal_pointer (&self->thread));
    }
  if (self->shared != NULL)
    {
      self->shared->owner = NULL;
      g_clear_pointer (&self->shared, shared_unref);
    }
  g_queue_clear_full (&self->done_times, g_free);
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
  g_queue_init (&self->done_times);
}

MtAnalysisWorker *
mt_analysis_worker_new (const char *models_dir,
                        const char *model)
{
  MtAnalysisWorker *self = g_object_new (MT_TYPE_ANALYSIS_WORKER, NULL);
  Shared *shared = g_new0 (Shared, 1);

  g_atomic_ref_count_init (&shared->ref);
  g_mutex_init (&shared->lock);
  g_cond_init (&shared->cond);
  shared->enabled = TRUE;
  shared->threshold = -1;
  shared->models_dir = g_strdup (models_dir);
  shared->model = g_strdup (model);
  shared->context = g_main_context_ref_thread_default ();
  shared->owner = self;
  self->shared = shared;
  self->thread = g_thread_new ("mt-analysis", worker_thread, shared_ref (shared));
  return self;
}

void
mt_analysis_worker_push (MtAnalysisWorker *self,
                         GstSample        *sample,
                         gint64            arrival_us)
{
  Shared *shared = self->shared;

  g_mutex_lock (&shared->lock);
  if (shared->enabled)
    {
      if (shared->pending != NULL)
        {
          shared->dropped++;
          gst_sample_unref (shared->pending);
        }
      shared->pending = gst_sample_ref (sample);
      shared->pending_arrival = arrival_us;
      g_cond_signal (&shared->cond);
    }
  g_mutex_unlock (&shared->lock);
}

void
mt_analysis_worker_set_enabled (MtAnalysisWorker *self,
                                gboolean          enabled)
{
  g_return_if_fail (MT_IS_ANALYSIS_WORKER (self));

  g_mutex_lock (&self->shared->lock);
  self->shared->enabled = !!enabled;
  if (!enabled)
    g_clear_pointer (&self->shared->pending, gst_sample_unref);
  g_mutex_unlock (&self->shared->lock);
  if (!enabled)
    g_queue_clear_full (&self->done_times, g_free);
}

void
mt_analysis_worker_set_threshold (MtAnalysisWorker *self,
                                  double            threshold)
{
  g_return_if_fail (MT_IS_ANALYSIS_WORKER (self));

  g_mutex_lock (&self->shared->lock);
  self->shared->threshold = threshold;
  g_mutex_unlock (&self->shared->lock);
}

void
mt_analysis_worker_set_detector_size (MtAnalysisWorker *self,
                                      int               size)
{
  g_return_if_fail (MT_IS_ANALYSIS_WORKER (self));

  g_mutex_lock (&self->shared->lock);
  self->shared->detector_size = size;
  g_mutex_unlock (&self->shared->lock);
}

gboolean
mt_analysis_worker_is_ready (MtAnalysisWorker *self)
{
  g_return_val_if_fail (MT_IS_ANALYSIS_WORKER (self), FALSE);
  return self->ready;
}

double
mt_analysis_worker_get_rate (MtAnalysisWorker *self)
{
  gint64 *first, *last;
  guint n;

  g_return_val_if_fail (MT_IS_ANALYSIS_WORKER (self), 0);

  n = g_queue_get_length (&self->done_times);
  if (n < 2)
    return 0;
  first = g_queue_peek_head (&self->done_times);
  last = g_queue_peek_tail (&self->done_times);
  if (g_get_monotonic_time () - *last > G_USEC_PER_SEC || *last <= *first)
    return 0;
  return (n - 1) * (double) G_USEC_PER_SEC / (*last - *first);
}

guint64
mt_analysis_worker_get_dropped (MtAnalysisWorker *self)
{
  guint64 dropped;

  g_return_val_if_fail (MT_IS_ANALYSIS_WORKER (self), 0);

  g_mutex_lock (&self->shared->lock);
  dropped = self->shared->dropped;
  g_mutex_unlock (&self->shared->lock);
  return dropped;
}
