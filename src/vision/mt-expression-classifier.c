/* mt-expression-classifier.c: runs one converted expression network on a
 * face crop, with the exact input each network was trained on. */
#define G_LOG_DOMAIN "mt-expression-classifier"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include <math.h>
#include <string.h>

#include "mt-darknet.h"
#include "mt-expression-classifier.h"
#include "mt-resample.h"

struct _MtExpressionClassifier {
  GObject        parent_instance;
  MtNet         *net;
  /* How the input is made, from the network's [Network] group (a copy:
   * the classifier outlives the manifest). */
  MtNetworkSpec  spec;
  /* order[i]: the mood of output i, from the network's .names. */
  int            order[MT_N_MOODS];
  float         *input;
};

G_DEFINE_FINAL_TYPE (MtExpressionClassifier, mt_expression_classifier, G_TYPE_OBJECT)

static void
mt_expression_classifier_finalize (GObject *object)
{
  MtExpressionClassifier *self = MT_EXPRESSION_CLASSIFIER (object);

  g_clear_pointer (&self->net, mt_net_free);
  g_clear_pointer (&self->input, g_free);
  g_clear_pointer (&self->spec.name, g_free);
  g_clear_pointer (&self->spec.dir, g_free);

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

static gboolean G_GNUC_PRINTF (3, 4)
names_fail (const char  *path,
            GError     **error,
            const char  *format,
            ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG, "%s: %s", path, message);
  return FALSE;
}

gboolean
mt_expression_read_mood_names (const char  *path,
                               int          order[MT_N_MOODS],
                               GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean seen[MT_N_MOODS] = { FALSE };
  gsize length = 0;
  guint n = 0;
  GStatBuf st;

  /* Its size first: a huge or odd file is refused before it is read. */
  if (g_stat (path, &st) != 0)
    return names_fail (path, error, "cannot open (each expression network needs its .names)");
  if (!S_ISREG (st.st_mode) || st.st_size > MT_EXPRESSION_NAMES_MAX_SIZE)
    return names_fail (path, error, "not a .names file (a regular file of at most %d bytes)",
                       MT_EXPRESSION_NAMES_MAX_SIZE);
  if (!g_file_get_contents (path, &contents, &length, &local_error))
    return names_fail (path, error, "%s", local_error->message);
  if (length > MT_EXPRESSION_NAMES_MAX_SIZE || !g_utf8_validate (contents, length, NULL) ||
      memchr (contents, '\0', length) != NULL)
    return names_fail (path, error, "not a .names file (UTF-8 text of at most %d bytes)",
                       MT_EXPRESSION_NAMES_MAX_SIZE);

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *word = g_strstrip (lines[i]);
      MtMood mood;

      if (word[0] == '\0')
        continue;
      if (!mt_mood_from_string (word, &mood))
        {
          g_autofree char *shown = g_utf8_substring (word, 0, MIN (g_utf8_strlen (word, -1), 32));

          return names_fail (path, error, "line %u: “%s” is not one of the moods (%s)", i + 1, shown,
                             mt_mood_list_names ());
        }
      if (seen[mood])
        return names_fail (path, error, "line %u: “%s” is named twice", i + 1, mt_mood_to_string (mood));
      if (n == MT_N_MOODS)
        return names_fail (path, error, "more than %d names", MT_N_MOODS);
      seen[mood] = TRUE;
      order[n++] = mood;
    }
  for (int mood = 0; mood < MT_N_MOODS; mood++)
    if (!seen[mood])
      return names_fail (path, error, "“%s” is missing: the %d outputs must name each of %s once",
                         mt_mood_to_string (mood), MT_N_MOODS, mt_mood_list_names ());
  return TRUE;
}

MtExpressionClassifier *
mt_expression_classifier_new_from_spec (const MtNetworkSpec  *spec,
                                        GError              **error)
{
  g_autoptr(MtExpressionClassifier) self = NULL;
  g_autofree char *cfg = NULL;
  g_autofree char *weights = NULL;
  g_autofree char *names = NULL;
  g_autoptr(MtNet) net = NULL;
  int order[MT_N_MOODS];

  g_return_val_if_fail (spec != NULL && spec->name != NULL && spec->dir != NULL, NULL);

  cfg = g_strdup_printf ("%s/%s.cfg", spec->dir, spec->name);
  weights = g_strdup_printf ("%s/%s.weights", spec->dir, spec->name);
  names = g_strdup_printf ("%s/%s.names", spec->dir, spec->name);
  if (!mt_expression_read_mood_names (names, order, error))
    return NULL;
  net = mt_net_load (cfg, weights, error);
  if (net == NULL)
    return NULL;

  if (mt_net_get_channels (net) != spec->channels ||
      mt_net_get_width (net) != mt_net_get_height (net) ||
      mt_net_get_output_size (net) != MT_N_MOODS)
    {
      g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                   "“%s” does not have the shape its [Network %s] says "
                   "(square %d-channel input, %d outputs)",
                   cfg, spec->name, spec->channels, MT_N_MOODS);
      return NULL;
    }

  if (spec->feature_layer > 0)
    {
      int index = mt_net_get_n_layers (net) - spec->feature_layer;
      gsize n_values = 0;

      if (index >= 0)
        mt_net_get_layer_output (net, index, &n_values);
      if (index < 0 || n_values == 0 || n_values % spec->feature_channels != 0)
        {
          g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                       "“%s” has no layer %d from the end of %d channels (FeatureLayer and "
                       "FeatureChannels of [Network %s])", cfg, spec->feature_layer,
                       spec->feature_channels, spec->name);
          return NULL;
        }
    }

  self = g_object_new (MT_TYPE_EXPRESSION_CLASSIFIER, NULL);
  self->net = g_steal_pointer (&net);
  self->spec = *spec;
  self->spec.name = g_strdup (spec->name);
  self->spec.dir = g_strdup (spec->dir);
  memcpy (self->order, order, sizeof order);
  self->input = g_new (float, mt_net_get_input_size (self->net));
  return g_steal_pointer (&self);
}

MtExpressionClassifier *
mt_expression_classifier_new (const char  *models_dir,
                              const char  *name,
                              GError     **error)
{
  g_autoptr(MtModelManifest) manifest = mt_model_manifest_load (models_dir, error);
  const MtNetworkSpec *spec;

  if (manifest == NULL)
    return NULL;
  spec = mt_model_manifest_lookup_network (manifest, name, error);
  return spec != NULL ? mt_expression_classifier_new_from_spec (spec, error) : NULL;
}

const char *
mt_expression_classifier_get_name (MtExpressionClassifier *self)
{
  g_return_val_if_fail (MT_IS_EXPRESSION_CLASSIFIER (self), NULL);
  return self->spec.name;
}

void
mt_expression_classifier_set_team (MtExpressionClassifier *self,
                                   MtFastTeam             *team)
{
  g_return_if_fail (MT_IS_EXPRESSION_CLASSIFIER (self));

  mt_net_set_team (self->net, team);
}

double
mt_expression_classifier_get_flops (MtExpressionClassifier *self)
{
  g_return_val_if_fail (MT_IS_EXPRESSION_CLASSIFIER (self), 0.0);

  return mt_net_get_flops (self->net);
}

gsize
mt_expression_classifier_get_n_features (MtExpressionClassifier *self)
{
  g_return_val_if_fail (MT_IS_EXPRESSION_CLASSIFIER (self), 0);
  return (gsize) self->spec.feature_channels;
}

/* Averages the feature layer over its width and height. */
static void
pool_features (MtExpressionClassifier *self,
               float                  *features)
{
  int channels = self->spec.feature_channels;
  int index = mt_net_get_n_layers (self->net) - self->spec.feature_layer;
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
    .gray = self->spec.channels == 1,
    .flip = flip,
    .clamp_edges = TRUE,
    .scale = self->spec.scale,
  };
  const float *out;

  memcpy (spec.mean, self->spec.mean, sizeof spec.mean);
  mt_resample_to_planar (frame, &spec, self->input);
  out = mt_net_forward (self->net, self->input);

  for (int i = 0; i < MT_N_MOODS; i++)
    {
      if (!isfinite (out[i]))
        return FALSE;
      probabilities[self->order[i]] = out[i];
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

  n_features = self->spec.feature_channels;
  if (features != NULL && n_features == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "[Network %s] names no feature layer", self->spec.name);
      return FALSE;
    }
  if (flip && features != NULL)
    mirrored_features = g_new (float, n_features);

  if (!run_once (self, frame, x, y, side, FALSE, probabilities, features) ||
      (flip && !run_once (self, frame, x, y, side, TRUE, mirrored, mirrored_features)))
    {
      g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_INPUT,
                   "The %s classifier produced no number", self->spec.name);
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
