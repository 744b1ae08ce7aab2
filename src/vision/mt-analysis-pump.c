/* mt-analysis-pump.c: a fixed set of analysis threads and the queue of
 * streams that have a frame waiting.
 *
 * A stream is in the queue at most once and in at most one thread at a
 * time (its face tracker is used by one thread at a time, frames in order);
 * a stream that got a newer frame while one was analyzed goes to the back
 * of the queue, so eight browsers on two threads take turns. */
#define G_LOG_DOMAIN "mt-analysis-pump"

#include "config.h"

#include "mt-analysis-pump-private.h"
#include "mt-main-context.h"

G_DEFINE_QUARK (mt-analysis-pump-error-quark, mt_analysis_pump_error)

/* What the threads and the object share: the threads are never waited
 * for, so it outlives the object until the last thread has finished its
 * frame. */
typedef struct {
  gatomicrefcount  ref;
  GMutex           lock;
  GCond            cond;
  GQueue           queue;          /* MtAnalysisStream*, owned */
  gboolean         quit;
  gboolean         load_now;
  guint            settings_serial;
  double           threshold;      /* <= 0: the detector's default */
  int              detector_size;  /* <= 0: the detector's default */
  gboolean         ready_posted;
  gboolean         failed_posted;
  char            *models_dir;
  char            *model;
  guint            n_threads;
  GMainContext    *context;
  GWeakRef         owner;          /* the MtAnalysisPump, for its signals */
} Core;

struct _MtAnalysisPump
{
  GObject     parent_instance;
  Core       *core;
  GPtrArray  *threads;
  gboolean    ready;
};

G_DEFINE_FINAL_TYPE (MtAnalysisPump, mt_analysis_pump, G_TYPE_OBJECT)

enum {
  READY,
  FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static Core *
core_ref (Core *core)
{
  g_atomic_ref_count_inc (&core->ref);
  return core;
}

static void
core_unref (Core *core)
{
  if (!g_atomic_ref_count_dec (&core->ref))
    return;
  g_queue_clear_full (&core->queue, g_object_unref);
  g_mutex_clear (&core->lock);
  g_cond_clear (&core->cond);
  g_weak_ref_clear (&core->owner);
  g_main_context_unref (core->context);
  g_free (core->models_dir);
  g_free (core->model);
  g_free (core);
}

typedef struct {
  Core *core;
  char *error;   /* NULL: ready */
} Announcement;

static void
announcement_free (gpointer data)
{
  Announcement *announcement = data;

  core_unref (announcement->core);
  g_free (announcement->error);
  g_free (announcement);
}

static gboolean
announce_cb (gpointer data)
{
  Announcement *announcement = data;
  g_autoptr(MtAnalysisPump) self = g_weak_ref_get (&announcement->core->owner);

  if (self == NULL)
    return G_SOURCE_REMOVE;
  if (announcement->error == NULL)
    {
      self->ready = TRUE;
      g_signal_emit (self, signals[READY], 0);
    }
  else
    g_signal_emit (self, signals[FAILED], 0, announcement->error);
  return G_SOURCE_REMOVE;
}

/* Once each: the first thread that has its networks, the first that cannot
 * load them. */
static void
announce (Core       *core,
          const char *error)
{
  Announcement *announcement;
  gboolean first;

  g_mutex_lock (&core->lock);
  first = error == NULL ? !core->ready_posted : !core->failed_posted;
  if (error == NULL)
    core->ready_posted = TRUE;
  else
    core->failed_posted = TRUE;
  g_mutex_unlock (&core->lock);
  if (!first)
    return;

  announcement = g_new0 (Announcement, 1);
  announcement->core = core_ref (core);
  announcement->error = g_strdup (error);
  mt_main_context_post (core->context, G_PRIORITY_DEFAULT, announce_cb, announcement, announcement_free);
}

static gpointer
pump_thread (gpointer data)
{
  Core *core = data;
  g_autoptr(MtAnalyzer) analyzer = NULL;
  g_autoptr(GError) load_error = NULL;
  guint serial = 0;

  g_mutex_lock (&core->lock);
  for (;;)
    {
      MtAnalysisStream *stream;
      gboolean must_load;
      double threshold;
      int detector_size;
      guint settings_serial;

      must_load = analyzer == NULL && load_error == NULL;
      while (!core->quit && g_queue_is_empty (&core->queue) && !(must_load && core->load_now))
        g_cond_wait (&core->cond, &core->lock);
      if (core->quit)
        break;
      stream = g_queue_pop_head (&core->queue);
      settings_serial = core->settings_serial;
      threshold = core->threshold;
      detector_size = core->detector_size;
      g_mutex_unlock (&core->lock);

      if (must_load)
        {
          g_autoptr(GError) error = NULL;

          /* Once: loading failed is not retried every frame. */
          analyzer = mt_analyzer_new (core->models_dir, core->model, &error);
          /* Several pump threads keep the cores busy with frames of their
           * own: reading one frame's networks at once would only add
           * threads to wake.  One alone reads them at once, for latency. */
          if (analyzer != NULL && core->n_threads > 1)
            mt_analyzer_set_parallel (analyzer, FALSE);
          if (analyzer == NULL)
            g_set_error (&load_error, MT_ANALYSIS_PUMP_ERROR, MT_ANALYSIS_PUMP_ERROR_MODELS,
                         "Cannot load the face and expression models: %s", error->message);
          announce (core, analyzer == NULL ? error->message : NULL);
        }
      if (analyzer != NULL && settings_serial != serial)
        {
          g_autoptr(GError) size_error = NULL;

          serial = settings_serial;
          if (threshold > 0)
            mt_analyzer_set_threshold (analyzer, threshold);
          if (detector_size > 0 && mt_analyzer_get_detector_size (analyzer) != detector_size &&
              !mt_analyzer_set_detector_size (analyzer, detector_size, &size_error))
            g_warning ("Detector size %d not used: %s", detector_size, size_error->message);
        }
      if (stream != NULL)
        _mt_analysis_stream_serve (stream, analyzer, load_error);

      g_mutex_lock (&core->lock);
    }
  g_mutex_unlock (&core->lock);

  /* The networks go with their thread. */
  g_clear_object (&analyzer);
  core_unref (core);
  return NULL;
}

void
_mt_analysis_pump_schedule (MtAnalysisPump   *pump,
                            MtAnalysisStream *stream)
{
  Core *core = pump->core;

  g_mutex_lock (&core->lock);
  g_queue_push_tail (&core->queue, g_object_ref (stream));
  g_cond_signal (&core->cond);
  g_mutex_unlock (&core->lock);
}

static void
mt_analysis_pump_dispose (GObject *object)
{
  MtAnalysisPump *self = (MtAnalysisPump *) object;

  /* Streams hold the pump, so none is left to serve: the threads are told
   * to quit and not waited for (one may still be finishing the last frame
   * of a stream that was closed). */
  if (self->core != NULL)
    {
      g_mutex_lock (&self->core->lock);
      self->core->quit = TRUE;
      g_cond_broadcast (&self->core->cond);
      g_mutex_unlock (&self->core->lock);
      g_weak_ref_set (&self->core->owner, NULL);
      g_clear_pointer (&self->core, core_unref);
    }
  g_clear_pointer (&self->threads, g_ptr_array_unref);
  G_OBJECT_CLASS (mt_analysis_pump_parent_class)->dispose (object);
}

static void
mt_analysis_pump_class_init (MtAnalysisPumpClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mt_analysis_pump_dispose;

  /** MtAnalysisPump::ready: a thread has loaded its networks (once) */
  signals[READY] = g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /** MtAnalysisPump::failed: @message: why a thread could not load its
   * networks, as the loader says it (once; the thread's frames get
   * MT_ANALYSIS_PUMP_ERROR_MODELS errors) */
  signals[FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
mt_analysis_pump_init (MtAnalysisPump *self)
{
}

MtAnalysisPump *
mt_analysis_pump_new (const char *models_dir,
                      const char *model,
                      guint       n_threads)
{
  MtAnalysisPump *self = g_object_new (MT_TYPE_ANALYSIS_PUMP, NULL);
  Core *core = g_new0 (Core, 1);

  g_atomic_ref_count_init (&core->ref);
  g_mutex_init (&core->lock);
  g_cond_init (&core->cond);
  g_queue_init (&core->queue);
  g_weak_ref_init (&core->owner, self);
  core->models_dir = g_strdup (models_dir);
  core->model = g_strdup (model);
  core->context = g_main_context_ref_thread_default ();
  self->core = core;

  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  core->n_threads = n_threads;
  self->threads = g_ptr_array_new_with_free_func ((GDestroyNotify) g_thread_unref);
  for (guint i = 0; i < n_threads; i++)
    g_ptr_array_add (self->threads, g_thread_new ("mt-analysis", pump_thread, core_ref (core)));
  return self;
}

void
mt_analysis_pump_load (MtAnalysisPump *self)
{
  g_return_if_fail (MT_IS_ANALYSIS_PUMP (self));

  g_mutex_lock (&self->core->lock);
  self->core->load_now = TRUE;
  g_cond_broadcast (&self->core->cond);
  g_mutex_unlock (&self->core->lock);
}

guint
mt_analysis_pump_get_n_threads (MtAnalysisPump *self)
{
  g_return_val_if_fail (MT_IS_ANALYSIS_PUMP (self), 0);
  return self->threads->len;
}

gboolean
mt_analysis_pump_is_ready (MtAnalysisPump *self)
{
  g_return_val_if_fail (MT_IS_ANALYSIS_PUMP (self), FALSE);
  return self->ready;
}

void
mt_analysis_pump_set_threshold (MtAnalysisPump *self,
                                double          threshold)
{
  g_return_if_fail (MT_IS_ANALYSIS_PUMP (self));

  g_mutex_lock (&self->core->lock);
  self->core->threshold = threshold;
  self->core->settings_serial++;
  g_mutex_unlock (&self->core->lock);
}

void
mt_analysis_pump_set_detector_size (MtAnalysisPump *self,
                                    int             size)
{
  g_return_if_fail (MT_IS_ANALYSIS_PUMP (self));

  g_mutex_lock (&self->core->lock);
  self->core->detector_size = size;
  self->core->settings_serial++;
  g_mutex_unlock (&self->core->lock);
}
