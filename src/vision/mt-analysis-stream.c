/* mt-analysis-stream.c: one video's mailbox (the newest frame waiting) and
 * the state its frames need from one to the next.
 *
 * The face tracker is used only by the analysis thread that holds the
 * stream (one at a time); the mood tracker, the counts of results and the
 * rate only in the stream's main context; the mailbox under the lock. */
#define G_LOG_DOMAIN "mt-analysis-stream"

#include "config.h"

#include "mt-analysis-pump-private.h"
#include "mt-main-context.h"

#define RATE_WINDOW_US (2 * G_USEC_PER_SEC)

typedef struct {
  MtAnalysisFrameFunc  get_frame;
  gpointer             data;
  GDestroyNotify       destroy;
  gint64               arrival_us;
  gint64               position;
} Frame;

struct _MtAnalysisStream
{
  GObject          parent_instance;
  MtAnalysisPump  *pump;
  GMainContext    *context;

  /* Under lock. */
  GMutex           lock;
  Frame           *pending;     /* the newest frame, not yet analyzed */
  gboolean         queued;      /* in the pump's queue */
  gboolean         busy;        /* in an analysis thread */
  gboolean         closed;
  gboolean         forget_face; /* reset: the thread resets the tracker */
  guint            generation;  /* bumped by a reset: older results are dropped */
  guint64          dropped;

  /* The analysis thread that holds the stream only. */
  MtFaceTracker   *face_tracker;

  /* Main context only. */
  MtMoodTracker   *mood_tracker;
  guint64          analyzed;
  GQueue           done_times;  /* gint64*, for the rate */
};

G_DEFINE_FINAL_TYPE (MtAnalysisStream, mt_analysis_stream, G_TYPE_OBJECT)

enum {
  RESULT,
  ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
frame_free (Frame *frame)
{
  if (frame == NULL)
    return;
  if (frame->destroy != NULL)
    frame->destroy (frame->data);
  g_free (frame);
}

static void
mt_analysis_stream_finalize (GObject *object)
{
  MtAnalysisStream *self = (MtAnalysisStream *) object;

  g_clear_pointer (&self->pending, frame_free);
  g_clear_object (&self->face_tracker);
  g_clear_object (&self->mood_tracker);
  g_queue_clear_full (&self->done_times, g_free);
  g_main_context_unref (self->context);
  g_clear_object (&self->pump);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (mt_analysis_stream_parent_class)->finalize (object);
}

static void
mt_analysis_stream_class_init (MtAnalysisStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_analysis_stream_finalize;

  /** MtAnalysisStream::result: @result: the faces, hint and timing of one frame */
  signals[RESULT] = g_signal_new ("result", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                  MT_TYPE_ANALYSIS_RESULT | G_SIGNAL_TYPE_STATIC_SCOPE);
  /** MtAnalysisStream::error: @error: why a frame could not be analyzed
   * (its pixels could not be had, or MT_ANALYSIS_PUMP_ERROR_MODELS) */
  signals[ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                 G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
mt_analysis_stream_init (MtAnalysisStream *self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->done_times);
  self->face_tracker = mt_face_tracker_new_state_only ();
  self->mood_tracker = mt_mood_tracker_new ();
}

MtAnalysisStream *
mt_analysis_stream_new (MtAnalysisPump *pump)
{
  MtAnalysisStream *self;

  g_return_val_if_fail (MT_IS_ANALYSIS_PUMP (pump), NULL);

  self = g_object_new (MT_TYPE_ANALYSIS_STREAM, NULL);
  self->pump = g_object_ref (pump);
  self->context = g_main_context_ref_thread_default ();
  return self;
}

void
mt_analysis_stream_push (MtAnalysisStream    *self,
                         MtAnalysisFrameFunc  get_frame,
                         gpointer             data,
                         GDestroyNotify       destroy,
                         gint64               arrival_us,
                         gint64               position)
{
  Frame *frame, *dropped = NULL;
  gboolean schedule = FALSE;

  g_return_if_fail (MT_IS_ANALYSIS_STREAM (self));
  g_return_if_fail (get_frame != NULL);

  frame = g_new0 (Frame, 1);
  frame->get_frame = get_frame;
  frame->data = data;
  frame->destroy = destroy;
  frame->arrival_us = arrival_us;
  frame->position = position;

  g_mutex_lock (&self->lock);
  if (self->closed)
    dropped = frame;
  else
    {
      if (self->pending != NULL)
        {
          dropped = self->pending;
          self->dropped++;
        }
      self->pending = frame;
      /* A stream in a thread is queued again by that thread when done. */
      schedule = !self->queued && !self->busy;
      self->queued |= schedule;
    }
  g_mutex_unlock (&self->lock);

  /* Outside the lock: the destroy notify is the caller's code. */
  frame_free (dropped);
  if (schedule)
    _mt_analysis_pump_schedule (self->pump, self);
}

void
mt_analysis_stream_reset (MtAnalysisStream *self)
{
  Frame *dropped;

  g_return_if_fail (MT_IS_ANALYSIS_STREAM (self));

  g_mutex_lock (&self->lock);
  dropped = g_steal_pointer (&self->pending);
  self->forget_face = TRUE;
  self->generation++;
  g_mutex_unlock (&self->lock);
  frame_free (dropped);

  mt_mood_tracker_reset (self->mood_tracker);
  g_queue_clear_full (&self->done_times, g_free);
}

void
mt_analysis_stream_close (MtAnalysisStream *self)
{
  Frame *dropped;

  g_return_if_fail (MT_IS_ANALYSIS_STREAM (self));

  g_mutex_lock (&self->lock);
  dropped = g_steal_pointer (&self->pending);
  self->closed = TRUE;
  g_mutex_unlock (&self->lock);
  frame_free (dropped);
}

MtMoodTracker *
mt_analysis_stream_get_mood_tracker (MtAnalysisStream *self)
{
  g_return_val_if_fail (MT_IS_ANALYSIS_STREAM (self), NULL);
  return self->mood_tracker;
}

guint64
mt_analysis_stream_get_analyzed (MtAnalysisStream *self)
{
  g_return_val_if_fail (MT_IS_ANALYSIS_STREAM (self), 0);
  return self->analyzed;
}

guint64
mt_analysis_stream_get_dropped (MtAnalysisStream *self)
{
  guint64 dropped;

  g_return_val_if_fail (MT_IS_ANALYSIS_STREAM (self), 0);

  g_mutex_lock (&self->lock);
  dropped = self->dropped;
  g_mutex_unlock (&self->lock);
  return dropped;
}

double
mt_analysis_stream_get_rate (MtAnalysisStream *self)
{
  gint64 *first, *last;
  guint n;

  g_return_val_if_fail (MT_IS_ANALYSIS_STREAM (self), 0);

  n = g_queue_get_length (&self->done_times);
  if (n < 2)
    return 0;
  first = g_queue_peek_head (&self->done_times);
  last = g_queue_peek_tail (&self->done_times);
  if (g_get_monotonic_time () - *last > G_USEC_PER_SEC || *last <= *first)
    return 0;
  return (n - 1) * (double) G_USEC_PER_SEC / (*last - *first);
}

/* ---- the analysis thread's side ---------------------------------------- */

/* What one serve hands to the main context; it always carries the
 * thread's reference to the stream, so the stream is released there. */
typedef struct {
  MtAnalysisStream *stream;
  MtAnalysisResult *result;
  GError           *error;
  guint             generation;
} Delivery;

static void
delivery_free (gpointer data)
{
  Delivery *delivery = data;

  mt_analysis_result_free (delivery->result);
  g_clear_error (&delivery->error);
  g_object_unref (delivery->stream);
  g_free (delivery);
}

static gboolean
deliver_cb (gpointer data)
{
  Delivery *delivery = data;
  MtAnalysisStream *self = delivery->stream;
  MtAnalysisResult *result = delivery->result;
  gboolean current;

  g_mutex_lock (&self->lock);
  current = !self->closed && delivery->generation == self->generation;
  g_mutex_unlock (&self->lock);
  if (!current || (result == NULL && delivery->error == NULL))
    return G_SOURCE_REMOVE;

  if (delivery->error != NULL)
    {
      g_signal_emit (self, signals[ERROR], 0, delivery->error);
      return G_SOURCE_REMOVE;
    }

  {
    const MtFace *face = result->faces->len > 0 ? &g_array_index (result->faces, MtFace, 0) : NULL;
    gint64 *done = g_memdup2 (&result->done_us, sizeof (gint64));

    /* The largest face is the user's. */
    mt_mood_tracker_update (self->mood_tracker, face != NULL ? face->emotions : NULL, result->arrival_us);
    self->analyzed++;
    g_queue_push_tail (&self->done_times, done);
    while (g_queue_get_length (&self->done_times) > 1 &&
           *done - *(gint64 *) g_queue_peek_head (&self->done_times) > RATE_WINDOW_US)
      g_free (g_queue_pop_head (&self->done_times));
  }
  g_signal_emit (self, signals[RESULT], 0, result);
  return G_SOURCE_REMOVE;
}

static MtAnalysisResult *
analyze_frame (MtAnalysisStream  *self,
               MtAnalyzer        *analyzer,
               Frame             *frame,
               GError           **error)
{
  g_autoptr(MtAnalysisResult) result = g_new0 (MtAnalysisResult, 1);
  gint64 start = g_get_monotonic_time ();
  MtFrame pixels = { 0 };

  if (!frame->get_frame (frame->data, &pixels, error))
    return NULL;
  /* One reading per face (the mood tracker smooths over frames anyway), and
   * one face followed with small region passes between full-frame ones:
   * about a third of the detector's work with a steady face in view.  A new
   * frame size falls back to full passes by itself. */
  result->faces = mt_analyzer_analyze_followed (analyzer, &pixels,
                                                MT_ANALYZE_SINGLE_PASS | MT_ANALYZE_VIDEO,
                                                self->face_tracker, error);
  if (result->faces == NULL)
    return NULL;
  result->full_pass = mt_face_tracker_last_was_full (self->face_tracker);
  result->brightness = mt_frame_mean_brightness (&pixels);
  result->hint = mt_frame_hint_for (result->faces, result->brightness);
  result->frame_width = pixels.width;
  result->frame_height = pixels.height;
  result->arrival_us = frame->arrival_us;
  result->position = frame->position;
  result->done_us = g_get_monotonic_time ();
  result->analyze_ms = (result->done_us - start) / 1000.0;
  return g_steal_pointer (&result);
}

void
_mt_analysis_stream_serve (MtAnalysisStream *self,
                           MtAnalyzer       *analyzer,
                           const GError     *load_error)
{
  Delivery *delivery = g_new0 (Delivery, 1);
  Frame *frame;
  gboolean forget, again;

  g_mutex_lock (&self->lock);
  frame = g_steal_pointer (&self->pending);
  self->queued = FALSE;
  self->busy = frame != NULL;
  forget = self->forget_face;
  self->forget_face = FALSE;
  delivery->generation = self->generation;
  g_mutex_unlock (&self->lock);

  if (forget)
    mt_face_tracker_reset (self->face_tracker);
  if (frame != NULL)
    {
      if (analyzer == NULL)
        delivery->error = g_error_copy (load_error);
      else
        delivery->result = analyze_frame (self, analyzer, frame, &delivery->error);
    }
  /* Frames are never kept beyond their analysis. */
  frame_free (frame);

  g_mutex_lock (&self->lock);
  self->busy = FALSE;
  again = self->pending != NULL && !self->closed;
  self->queued |= again;
  g_mutex_unlock (&self->lock);
  if (again)
    _mt_analysis_pump_schedule (self->pump, self);

  delivery->stream = self;
  mt_main_context_post (self->context, G_PRIORITY_DEFAULT, deliver_cb, delivery, delivery_free);
}
