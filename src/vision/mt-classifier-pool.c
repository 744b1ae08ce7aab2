/* mt-classifier-pool.c: several expression networks on one face at once.
 *
 * An ensemble's networks are independent, so on a machine with more than
 * one core the frame's latency drops from their sum to about the largest:
 * each thread, the caller's included, takes the next unread network until
 * none is left.  The helper threads are created once and wait between
 * frames, so a frame pays only for waking them.
 */
#define G_LOG_DOMAIN "mt-classifier-pool"

#include "config.h"

#include "mt-classifier-pool.h"

struct _MtClassifierPool {
  GObject                 parent_instance;
  MtExpressionClassifier *classifiers[MT_MODEL_MAX_NETWORKS];
  guint                   n_classifiers;
  guint                   n_helpers;
  GThreadPool            *helpers;  /* NULL while not parallel */

  /* The frame being read; written by the caller before the helpers start. */
  const MtFrame          *frame;
  float                   x, y, side;
  gboolean                flip;
  float                 (*probabilities)[MT_N_MOODS];
  GError                 *errors[MT_MODEL_MAX_NETWORKS];
  gint                    next;     /* atomic: the next network to read */

  GMutex                  lock;
  GCond                   done;
  guint                   running;  /* helpers still at work, under lock */
};

G_DEFINE_FINAL_TYPE (MtClassifierPool, mt_classifier_pool, G_TYPE_OBJECT)

/* Reads networks until none is left, on whichever thread calls it. */
static void
read_until_done (MtClassifierPool *self)
{
  guint i;

  while ((i = (guint) g_atomic_int_add (&self->next, 1)) < self->n_classifiers)
    mt_expression_classifier_classify (self->classifiers[i], self->frame, self->x, self->y,
                                       self->side, self->flip, self->probabilities[i],
                                       &self->errors[i]);
}

static void
helper_run (gpointer data,
            gpointer user_data)
{
  MtClassifierPool *self = user_data;

  read_until_done (self);
  g_mutex_lock (&self->lock);
  if (--self->running == 0)
    g_cond_signal (&self->done);
  g_mutex_unlock (&self->lock);
}

static void
mt_classifier_pool_finalize (GObject *object)
{
  MtClassifierPool *self = MT_CLASSIFIER_POOL (object);

  mt_classifier_pool_set_parallel (self, FALSE);
  for (guint i = 0; i < self->n_classifiers; i++)
    g_clear_object (&self->classifiers[i]);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->done);

  G_OBJECT_CLASS (mt_classifier_pool_parent_class)->finalize (object);
}

static void
mt_classifier_pool_class_init (MtClassifierPoolClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_classifier_pool_finalize;
}

static void
mt_classifier_pool_init (MtClassifierPool *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->done);
}

MtClassifierPool *
mt_classifier_pool_new (MtExpressionClassifier **classifiers,
                        guint                    n_classifiers)
{
  MtClassifierPool *self;

  g_return_val_if_fail (classifiers != NULL, NULL);
  g_return_val_if_fail (n_classifiers >= 1 && n_classifiers <= MT_MODEL_MAX_NETWORKS, NULL);

  self = g_object_new (MT_TYPE_CLASSIFIER_POOL, NULL);
  for (guint i = 0; i < n_classifiers; i++)
    self->classifiers[i] = g_object_ref (classifiers[i]);
  self->n_classifiers = n_classifiers;
  self->n_helpers = MIN (n_classifiers, g_get_num_processors ()) - 1;
  mt_classifier_pool_set_parallel (self, TRUE);
  return self;
}

void
mt_classifier_pool_set_parallel (MtClassifierPool *self,
                                 gboolean          parallel)
{
  g_return_if_fail (MT_IS_CLASSIFIER_POOL (self));

  if (parallel && self->helpers == NULL && self->n_helpers > 0)
    {
      g_autoptr(GError) error = NULL;

      /* Exclusive: the threads are started now and kept, not per frame. */
      self->helpers = g_thread_pool_new (helper_run, self, (int) self->n_helpers, TRUE, &error);
      if (self->helpers == NULL)
        g_warning ("Expression networks read one after the other: %s", error->message);
    }
  else if (!parallel && self->helpers != NULL)
    {
      /* No frame is being read (one caller at a time): the helpers wait. */
      g_thread_pool_free (self->helpers, FALSE, TRUE);
      self->helpers = NULL;
    }
}

gboolean
mt_classifier_pool_get_parallel (MtClassifierPool *self)
{
  g_return_val_if_fail (MT_IS_CLASSIFIER_POOL (self), FALSE);
  return self->helpers != NULL;
}

gboolean
mt_classifier_pool_classify (MtClassifierPool  *self,
                             const MtFrame     *frame,
                             float              x,
                             float              y,
                             float              side,
                             gboolean           flip,
                             float            (*probabilities)[MT_N_MOODS],
                             GError           **error)
{
  guint n_started = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (MT_IS_CLASSIFIER_POOL (self), FALSE);
  g_return_val_if_fail (frame != NULL && probabilities != NULL, FALSE);

  self->frame = frame;
  self->x = x, self->y = y, self->side = side;
  self->flip = flip;
  self->probabilities = probabilities;
  g_atomic_int_set (&self->next, 0);

  if (self->helpers != NULL)
    {
      n_started = self->n_helpers;
      g_mutex_lock (&self->lock);
      self->running = n_started;
      g_mutex_unlock (&self->lock);
      /* The data only has to be non-NULL: each helper takes what is left. */
      for (guint i = 0; i < n_started; i++)
        g_thread_pool_push (self->helpers, self, NULL);
    }
  read_until_done (self);
  if (n_started > 0)
    {
      g_mutex_lock (&self->lock);
      while (self->running > 0)
        g_cond_wait (&self->done, &self->lock);
      g_mutex_unlock (&self->lock);
    }

  for (guint i = 0; i < self->n_classifiers; i++)
    if (self->errors[i] != NULL)
      {
        if (ok)
          g_propagate_error (error, g_steal_pointer (&self->errors[i]));
        else
          g_clear_error (&self->errors[i]);
        ok = FALSE;
      }
  self->frame = NULL;
  self->probabilities = NULL;
  return ok;
}
