/* mt-classifier-pool.c: several expression networks on one face at once.
 *
 * An ensemble's networks are independent, so on a machine with more than
 * one core the frame's latency drops from their sum to about the largest.
 * Who reads what is planned by each network's cost: the helper threads take
 * the cheapest networks, one after the other, up to their share of the
 * work, and the caller the others, with a team (MtFastTeam) that splits its
 * layers between the cores as soon as the helpers are done.  With the
 * default pair (mini-Xception and ours, 0.13 and 0.24 GFLOP) a helper reads
 * the first while the caller reads the second, and ours finishes on both
 * cores.  The helper threads are created once and wait between frames, so
 * a frame pays only for waking them.
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
  MtFastTeam             *team;     /* the caller's, or NULL */

  /* The plan (plan()): the networks the helpers read, taken in turn, and
   * the caller's; indices into classifiers. */
  guint                   for_helpers[MT_MODEL_MAX_NETWORKS];
  guint                   n_for_helpers;
  guint                   for_caller[MT_MODEL_MAX_NETWORKS];
  guint                   n_for_caller;

  /* The frame being read; written by the caller before the helpers start. */
  const MtFrame          *frame;
  float                   x, y, side;
  gboolean                flip;
  float                 (*probabilities)[MT_N_MOODS];
  GError                 *errors[MT_MODEL_MAX_NETWORKS];
  gint                    next;     /* atomic: the next of for_helpers */
  gint                    busy;     /* atomic: helpers still reading; the team's gate */

  GMutex                  lock;
  GCond                   done;
  guint                   running;  /* helpers not yet returned, under lock */
};

G_DEFINE_FINAL_TYPE (MtClassifierPool, mt_classifier_pool, G_TYPE_OBJECT)

static void
read_network (MtClassifierPool *self,
              guint             i)
{
  mt_expression_classifier_classify (self->classifiers[i], self->frame, self->x, self->y,
                                     self->side, self->flip, self->probabilities[i],
                                     &self->errors[i]);
}

static void
helper_run (gpointer data,
            gpointer user_data)
{
  MtClassifierPool *self = user_data;
  guint i;

  while ((i = (guint) g_atomic_int_add (&self->next, 1)) < self->n_for_helpers)
    read_network (self, self->for_helpers[i]);
  /* This core is free: the caller's layers may use it from now on. */
  g_atomic_int_add (&self->busy, -1);

  g_mutex_lock (&self->lock);
  if (--self->running == 0)
    g_cond_signal (&self->done);
  g_mutex_unlock (&self->lock);
}

/* Splits the networks between helpers and caller by their flops: the
 * helpers take the cheapest while their sum stays within the helpers'
 * share of the whole (one share per thread); the caller reads the rest,
 * its networks with the team, the helpers' without. */
static void
plan (MtClassifierPool *self)
{
  guint order[MT_MODEL_MAX_NETWORKS];
  double flops[MT_MODEL_MAX_NETWORKS];
  double total = 0.0, share, taken = 0.0;
  guint n = self->n_classifiers;

  for (guint i = 0; i < n; i++)
    {
      order[i] = i;
      flops[i] = mt_expression_classifier_get_flops (self->classifiers[i]);
      total += flops[i];
    }
  /* Cheapest first (insertion sort: a handful of networks). */
  for (guint i = 1; i < n; i++)
    for (guint j = i; j > 0 && flops[order[j]] < flops[order[j - 1]]; j--)
      {
        guint t = order[j];

        order[j] = order[j - 1];
        order[j - 1] = t;
      }

  /* Both lists keep that order: the caller's costliest network comes last,
   * when the helpers are most likely done and the cores split it. */
  share = self->helpers ? total * self->n_helpers / (self->n_helpers + 1) : 0.0;
  self->n_for_helpers = self->n_for_caller = 0;
  for (guint k = 0; k < n; k++)
    {
      guint i = order[k];

      /* The caller keeps at least one: it would wait idle otherwise. */
      if (k + 1 < n && taken + flops[i] <= share * (1.0 + 1e-9) &&
          self->n_for_helpers == k)
        {
          self->for_helpers[self->n_for_helpers++] = i;
          taken += flops[i];
          mt_expression_classifier_set_team (self->classifiers[i], NULL);
        }
      else
        {
          self->for_caller[self->n_for_caller++] = i;
          mt_expression_classifier_set_team (self->classifiers[i], self->team);
        }
    }
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
  plan (self);
}

gboolean
mt_classifier_pool_get_parallel (MtClassifierPool *self)
{
  g_return_val_if_fail (MT_IS_CLASSIFIER_POOL (self), FALSE);
  return self->helpers != NULL;
}

void
mt_classifier_pool_set_team (MtClassifierPool *self,
                             MtFastTeam       *team)
{
  g_return_if_fail (MT_IS_CLASSIFIER_POOL (self));

  self->team = team;
  plan (self);
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

  if (self->helpers != NULL && self->n_for_helpers > 0)
    {
      n_started = MIN (self->n_helpers, self->n_for_helpers);
      /* Busy from now, not from when they wake: the caller's first layers
       * must not split onto cores about to be taken. */
      g_atomic_int_set (&self->busy, (gint) n_started);
      g_mutex_lock (&self->lock);
      self->running = n_started;
      g_mutex_unlock (&self->lock);
      /* The data only has to be non-NULL: each helper takes what is left. */
      for (guint i = 0; i < n_started; i++)
        g_thread_pool_push (self->helpers, self, NULL);
    }
  if (self->team != NULL)
    mt_fast_team_set_gate (self->team, &self->busy);
  for (guint k = 0; k < self->n_for_caller; k++)
    read_network (self, self->for_caller[k]);
  if (self->team != NULL)
    mt_fast_team_set_gate (self->team, NULL);
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
