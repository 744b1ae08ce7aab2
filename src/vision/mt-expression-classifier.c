/* mt-expression-classifier.c: runs one converted expression network on a
 * face crop, with the exact input each network was trained on. */
#define G_LOG_DOMAIN "mt-expression-classifier"

#include "config.h"

#include <gio/gio.h>

#include <math.h>
#include <string.h>

#include "mt-darknet.h"
#include "mt-expression-classifier.h"
#include "mt-resample.h"

typedef struct {
  const char *name;
  int         channels;  /* 1: luma, 3: RGB */
  float       mean[3];
  float       scale;
  /* The features a new head may be fitted on: the output of this layer
   * (counted from the end), averaged over its width and height. */
  int         feature_layer_from_end;
  int         feature_channels;
} ClassifierInput;

/* What each source model expects (see models/README.md for provenance). */
static const ClassifierInput known_inputs[] = {
  /* human-models' mini-Xception: luma in [0, 1] (its mapping to [-1, 1] is
   * folded into the converted first layer). */
  { "emotion-xception", 1, { 0, 0, 0 }, 1.0f / 255.0f, 4, 256 },
  /* face-api.js's expression net: RGB minus its training mean, /255. */
  { "face-expression", 3, { 122.782f, 117.001f, 104.298f }, 1.0f / 255.0f, 3, 256 },
};

struct _MtExpressionClassifier {
  GObject                parent_instance;
  MtNet                 *net;
  const ClassifierInput *input_spec;
  float                 *input;
};

G_DEFINE_FINAL_TYPE (MtExpressionClassifier, mt_expression_classifier, G_TYPE_OBJECT)

static void
mt_expression_classifier_finalize (GObject *object)
{
  MtExpressionClassifier *self = MT_EXPRESSION_CLASSIFIER (object);

  g_clear_pointer (&self->net, mt_net_free);
  g_clear_pointer (&self->input, g_free);

  G_OBJECT_CLASS (mt_expression_classifier_parent_class)->finalize (object);
}

static void
mt_expression_classifier_class_init (MtExpressionClassifierClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_expression_classifier_finalize;
}

static void
mt_expression_classifier_init (MtExpressionClassifier *self)
{
}

MtExpressionClassifier *
mt_expression_classifier_new (const char  *models_dir,
                              const char  *name,
                              GError     **error)
{
  const ClassifierInput *spec = NULL;
  g_autoptr(MtExpressionClassifier) self = NULL;
  g_autofree char *cfg = NULL;
  g_autofree char *weights = NULL;
  g_autoptr(MtNet) net = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (known_inputs); i++)
    if (g_strcmp0 (name, known_inputs[i].name) == 0)
      spec = &known_inputs[i];
  if (spec == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "Unknown expression model “%s” (known: emotion-xception, face-expression)",
                   name ? name : "");
      return NULL;
    }

  cfg = g_strdup_printf ("%s/%s.cfg", models_dir, name);
  weights = g_strdup_printf ("%s/%s.weights", models_dir, name);
  net = mt_net_load (cfg, weights, error);
  if (net == NULL)
    return NULL;

  if (mt_net_get_channels (net) != spec->channels ||
      mt_net_get_width (net) != mt_net_get_height (net) ||
      mt_net_get_output_size (net) != MT_N_MOODS)
    {
      g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                   "“%s” does not have the shape of the %s classifier "
                   "(square %d-channel input, %d outputs)",
                   cfg, name, spec->channels, MT_N_MOODS);
      return NULL;
    }

  {
    int index = mt_net_get_n_layers (net) - spec->feature_layer_from_end;
    gsize n_values = 0;

    if (index >= 0)
      mt_net_get_layer_output (net, index, &n_values);
    if (index < 0 || n_values == 0 || n_values % spec->feature_channels != 0)
      {
        g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                     "“%s” does not have the layers of the %s classifier", cfg, name);
        return NULL;
      }
  }

  self = g_object_new (MT_TYPE_EXPRESSION_CLASSIFIER, NULL);
  self->net = g_steal_pointer (&net);
  self->input_spec = spec;
  self->input = g_new (float, mt_net_get_input_size (self->net));
  return g_steal_pointer (&self);
}

const char *
mt_expression_classifier_get_name (MtExpressionClassifier *self)
{
  g_return_val_if_fail (MT_IS_EXPRESSION_CLASSIFIER (self), NULL);
  return self->input_spec->name;
}

gsize
mt_expression_classifier_get_n_features (MtExpressionClassifier *self)
{
  g_return_val_if_fail (MT_IS_EXPRESSION_CLASSIFIER (self), 0);
  return (gsize) self->input_spec->feature_channels;
}

/* Averages the feature layer over its width and height. */
static void
pool_features (MtExpressionClassifier *self,
               float                  *features)
{
  int channels = self->input_spec->feature_channels;
  int index = mt_net_get_n_layers (self->net) - self->input_spec->feature_layer_from_end;
  gsize n_values;
  const float *map = mt_net_get_layer_output (self->net, index, &n_values);
  gsize area = n_values / channels;

  for (int c = 0; c < channels; c++)
    {
      double sum = 0;
      for (gsize i = 0; i < area; i++)
        sum += map[c * area + i];
      features[c] = (float) (sum / area);
    }
}

static gboolean
run_once (MtExpressionClassifier *self,
          const MtFrame          *frame,
          float                   x,
          float                   y,
          float                   side,
          gboolean                flip,
          float                  *probabilities,
          float                  *features)
{
  int size = mt_net_get_width (self->net);
  MtResampleSpec spec = {
    .x = x, .y = y, .width = side, .height = side,
    .out_width = size, .out_height = size,
    .gray = self->input_spec->channels == 1,
    .flip = flip,
    .clamp_edges = TRUE,
    .scale = self->input_spec->scale,
  };
  const float *out;

  memcpy (spec.mean, self->input_spec->mean, sizeof spec.mean);
  mt_resample_to_planar (frame, &spec, self->input);
  out = mt_net_forward (self->net, self->input);

  for (int i = 0; i < MT_N_MOODS; i++)
    {
      if (!isfinite (out[i]))
        return FALSE;
      probabilities[i] = out[i];
    }
  if (features != NULL)
    pool_features (self, features);
  return TRUE;
}

gboolean
mt_expression_classifier_read (MtExpressionClassifier  *self,
                               const MtFrame           *frame,
                               float                    x,
                               float                    y,
                               float                    side,
                               gboolean                 flip,
                               float                   *probabilities,
                               float                   *features,
                               GError                 **error)
{
  float mirrored[MT_N_MOODS];
  g_autofree float *mirrored_features = NULL;
  int n_features;

  g_return_val_if_fail (MT_IS_EXPRESSION_CLASSIFIER (self), FALSE);

  if (!mt_frame_validate (frame, error))
    return FALSE;
  if (!(side >= 1.0f) || !isfinite (x) || !isfinite (y))
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID,
                   "The face region is empty");
      return FALSE;
    }

  n_features = self->input_spec->feature_channels;
  if (flip && features != NULL)
    mirrored_features = g_new (float, n_features);

  if (!run_once (self, frame, x, y, side, FALSE, probabilities, features) ||
      (flip && !run_once (self, frame, x, y, side, TRUE, mirrored, mirrored_features)))
    {
      g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_INPUT,
                   "The %s classifier produced no number", self->input_spec->name);
      return FALSE;
    }

  if (flip)
    {
      for (int i = 0; i < MT_N_MOODS; i++)
        probabilities[i] = 0.5f * (probabilities[i] + mirrored[i]);
      for (int i = 0; features != NULL && i < n_features; i++)
        features[i] = 0.5f * (features[i] + mirrored_features[i]);
    }
  return TRUE;
}

gboolean
mt_expression_classifier_classify (MtExpressionClassifier  *self,
                                   const MtFrame           *frame,
                                   float                    x,
                                   float                    y,
                                   float                    side,
                                   gboolean                 flip,
                                   float                   *probabilities,
                                   GError                 **error)
{
  return mt_expression_classifier_read (self, frame, x, y, side, flip, probabilities, NULL, error);
}
