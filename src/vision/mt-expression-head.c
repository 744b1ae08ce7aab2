/* mt-expression-head.c: a logistic-regression head fitted on FER2013
 * Training (see moodtunes-train-head) over face-expression's features,
 * blended with the mini-Xception's reading.  The head is not fitted on the
 * mini-Xception's features: that network was trained on the same images, so
 * its features there are far more telling than on new faces (a head on them
 * reached 86% on Training and lost accuracy on PublicTest). */
#define G_LOG_DOMAIN "mt-expression-head"

#include "config.h"

#include <math.h>

#include "mt-darknet.h"
#include "mt-expression-classifier.h"
#include "mt-expression-head.h"

enum { XCEPTION, EXPRESSION, N_PARTS };

static const char * const part_names[N_PARTS] = { "emotion-xception", "face-expression" };

struct _MtExpressionHead {
  GObject                 parent_instance;
  MtExpressionClassifier *parts[N_PARTS];
  MtNet                  *head;
  int                     order[MT_N_MOODS];  /* the head's .names */
  guint                   n_features;
  float                  *features;
};

G_DEFINE_FINAL_TYPE (MtExpressionHead, mt_expression_head, G_TYPE_OBJECT)

static void
mt_expression_head_finalize (GObject *object)
{
  MtExpressionHead *self = MT_EXPRESSION_HEAD (object);

  for (guint i = 0; i < N_PARTS; i++)
    g_clear_object (&self->parts[i]);
  g_clear_pointer (&self->head, mt_net_free);
  g_clear_pointer (&self->features, g_free);

  G_OBJECT_CLASS (mt_expression_head_parent_class)->finalize (object);
}

static void
mt_expression_head_class_init (MtExpressionHeadClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_expression_head_finalize;
}

static void
mt_expression_head_init (MtExpressionHead *self)
{
}

MtExpressionHead *
mt_expression_head_new (const char  *models_dir,
                        gboolean     load_head,
                        GError     **error)
{
  g_autoptr(MtModelManifest) manifest = mt_model_manifest_load (models_dir, error);
  const MtNetworkSpec *specs[N_PARTS];

  if (manifest == NULL)
    return NULL;
  for (guint i = 0; i < N_PARTS; i++)
    if (!(specs[i] = mt_model_manifest_lookup_network (manifest, part_names[i], error)))
      return NULL;
  return mt_expression_head_new_full (models_dir, load_head ? MT_EXPRESSION_HEAD_NAME : NULL, specs, error);
}

MtExpressionHead *
mt_expression_head_new_full (const char                  *models_dir,
                             const char                  *head_name,
                             const MtNetworkSpec * const *networks,
                             GError                     **error)
{
  g_autoptr(MtExpressionHead) self = g_object_new (MT_TYPE_EXPRESSION_HEAD, NULL);

  for (guint i = 0; i < N_PARTS; i++)
    {
      self->parts[i] = mt_expression_classifier_new_from_spec (networks[i], error);
      if (self->parts[i] == NULL)
        return NULL;
    }
  self->n_features = mt_expression_classifier_get_n_features (self->parts[EXPRESSION]);
  self->features = g_new (float, self->n_features);

  if (head_name != NULL)
    {
      g_autofree char *cfg = g_strdup_printf ("%s/%s.cfg", models_dir, head_name);
      g_autofree char *weights = g_strdup_printf ("%s/%s.weights", models_dir, head_name);
      g_autofree char *names = g_strdup_printf ("%s/%s.names", models_dir, head_name);

      if (self->n_features == 0)
        {
          g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                       "[Network %s] names no features for the head %s to read", networks[EXPRESSION]->name,
                       head_name);
          return NULL;
        }
      if (!mt_expression_read_mood_names (names, self->order, error))
        return NULL;
      self->head = mt_net_load (cfg, weights, error);
      if (self->head == NULL)
        return NULL;
      if (mt_net_get_input_size (self->head) != self->n_features ||
          mt_net_get_output_size (self->head) != MT_N_MOODS)
        {
          g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                       "“%s” takes %zu features to %zu outputs; the classifiers give %u "
                       "features and there are %d expressions",
                       cfg, mt_net_get_input_size (self->head),
                       mt_net_get_output_size (self->head), self->n_features, MT_N_MOODS);
          return NULL;
        }
    }

  return g_steal_pointer (&self);
}

guint
mt_expression_head_get_n_features (MtExpressionHead *self)
{
  g_return_val_if_fail (MT_IS_EXPRESSION_HEAD (self), 0);
  return self->n_features;
}

gboolean
mt_expression_head_read_features (MtExpressionHead  *self,
                                  const MtFrame     *frame,
                                  float              x,
                                  float              y,
                                  float              side,
                                  gboolean           mirror,
                                  float             *features,
                                  float             *xception,
                                  GError           **error)
{
  float unused[MT_N_MOODS];

  g_return_val_if_fail (MT_IS_EXPRESSION_HEAD (self), FALSE);

  return mt_expression_classifier_read (self->parts[XCEPTION], frame, x, y, side, mirror,
                                        xception, NULL, error) &&
         mt_expression_classifier_read (self->parts[EXPRESSION], frame, x, y, side, mirror,
                                        unused, features, error);
}

gboolean
mt_expression_head_classify (MtExpressionHead  *self,
                             const MtFrame     *frame,
                             float              x,
                             float              y,
                             float              side,
                             gboolean           mirror,
                             float             *probabilities,
                             GError           **error)
{
  float xception[MT_N_MOODS];
  const float *out;

  g_return_val_if_fail (MT_IS_EXPRESSION_HEAD (self), FALSE);
  g_return_val_if_fail (self->head != NULL, FALSE);

  if (!mt_expression_head_read_features (self, frame, x, y, side, mirror, self->features, xception, error))
    return FALSE;
  out = mt_net_forward (self->head, self->features);
  for (int i = 0; i < MT_N_MOODS; i++)
    {
      if (!isfinite (out[i]))
        {
          g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_INPUT,
                       "The expression head produced no number");
          return FALSE;
        }
      int mood = self->order[i];

      probabilities[mood] = MT_EXPRESSION_HEAD_XCEPTION_WEIGHT * xception[mood] +
                            (1.0f - MT_EXPRESSION_HEAD_XCEPTION_WEIGHT) * out[i];
    }
  return TRUE;
}
