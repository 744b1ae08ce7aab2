#define G_LOG_DOMAIN "mt-audio-mood-model"

#include "config.h"

#include <math.h>
#include <string.h>

#include "mt-audio-features.h"
#include "mt-audio-mood-model.h"
#include "mt-data-dirs.h"
#include "mt-json-limits.h"

#define N_CLASSES 4

/* Sign of valence and arousal in each quadrant, in the file's class order
 * (which loading checks is Q1, Q2, Q3, Q4). */
static const double valence_sign[N_CLASSES] = { 1.0, -1.0, -1.0, 1.0 };
static const double arousal_sign[N_CLASSES] = { 1.0, 1.0, -1.0, -1.0 };

/* The stored descriptors of a song are a flat object of a few dozen
 * numbers; anything far bigger is not ours. */
#define MAX_FEATURES_JSON (64 * 1024)

struct _MtAudioMoodModel
{
  GObject  parent_instance;
  char    *version;
  guint    n_features;
  char   **names;
  gboolean *take_log;   /* per descriptor: log(max(x, log_floor)) first */
  double   log_floor;
  double  *mean;
  double  *scale;
  double  *weights;     /* N_CLASSES rows of n_features */
  double   bias[N_CLASSES];
  double   clip_z;
};

G_DEFINE_FINAL_TYPE (MtAudioMoodModel, mt_audio_mood_model, G_TYPE_OBJECT)

static void
mt_audio_mood_model_finalize (GObject *object)
{
  MtAudioMoodModel *self = (MtAudioMoodModel *) object;

  g_free (self->version);
  g_strfreev (self->names);
  g_free (self->take_log);
  g_free (self->mean);
  g_free (self->scale);
  g_free (self->weights);
  G_OBJECT_CLASS (mt_audio_mood_model_parent_class)->finalize (object);
}

static void
mt_audio_mood_model_class_init (MtAudioMoodModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_audio_mood_model_finalize;
}

static void
mt_audio_mood_model_init (MtAudioMoodModel *self)
{
}

static gboolean
invalid (GError     **error,
         const char  *path,
         const char  *format,
         ...) G_GNUC_PRINTF (3, 4);

static gboolean
invalid (GError     **error,
         const char  *path,
         const char  *format,
         ...)
{
  g_autofree char *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Audio mood model “%s”: %s", path, why);
  return FALSE;
}

static gboolean
is_number (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         (json_node_get_value_type (node) == G_TYPE_DOUBLE || json_node_get_value_type (node) == G_TYPE_INT64);
}

/* Reads @length finite numbers from the array member @name. */
static gboolean
read_numbers (JsonObject  *object,
              const char  *name,
              guint        length,
              double      *out,
              const char  *path,
              GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return invalid (error, path, "“%s” is not an array", name);
  array = json_node_get_array (node);
  if (json_array_get_length (array) != length)
    return invalid (error, path, "“%s” has %u numbers, %u expected", name,
                    json_array_get_length (array), length);
  for (guint i = 0; i < length; i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!is_number (element) || !isfinite (json_node_get_double (element)))
        return invalid (error, path, "“%s”[%u] is not a finite number", name, i);
      out[i] = json_node_get_double (element);
    }
  return TRUE;
}

static gboolean
load (MtAudioMoodModel  *self,
      JsonObject        *root,
      const char        *path,
      GError           **error)
{
  static const char * const known[] = {
    "comment", "version", "features_version", "provenance", "classes", "clip_z",
    "features", "transforms", "log_floor", "mean", "scale", "weights", "bias", NULL
  };
  g_autoptr(GList) members = json_object_get_members (root);
  JsonNode *node;
  JsonArray *array;

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (known, l->data))
      return invalid (error, path, "unknown key “%s”", (const char *) l->data);

  node = json_object_get_member (root, "features_version");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return invalid (error, path, "“features_version” is not an integer");
  if (json_node_get_int (node) != MT_AUDIO_FEATURES_VERSION)
    return invalid (error, path, "fitted on descriptors of version %" G_GINT64_FORMAT
                    ", this Moodtunes computes version %d: fit it again",
                    json_node_get_int (node), MT_AUDIO_FEATURES_VERSION);

  node = json_object_get_member (root, "version");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING ||
      json_node_get_string (node)[0] == '\0' || strlen (json_node_get_string (node)) > 64)
    return invalid (error, path, "“version” is not a short text");
  self->version = g_strdup (json_node_get_string (node));

  node = json_object_get_member (root, "classes");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (json_node_get_array (node)) != N_CLASSES)
    return invalid (error, path, "“classes” is not [\"Q1\", \"Q2\", \"Q3\", \"Q4\"]");
  array = json_node_get_array (node);
  for (guint i = 0; i < N_CLASSES; i++)
    {
      g_autofree char *expected = g_strdup_printf ("Q%u", i + 1);
      const char *name = json_array_get_string_element (array, i);

      if (json_node_get_value_type (json_array_get_element (array, i)) != G_TYPE_STRING ||
          g_strcmp0 (name, expected) != 0)
        return invalid (error, path, "“classes” is not [\"Q1\", \"Q2\", \"Q3\", \"Q4\"]");
    }

  node = json_object_get_member (root, "clip_z");
  if (!is_number (node) || !(json_node_get_double (node) > 0.0 && json_node_get_double (node) <= 100.0))
    return invalid (error, path, "“clip_z” is not a number in (0, 100]");
  self->clip_z = json_node_get_double (node);

  node = json_object_get_member (root, "features");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return invalid (error, path, "“features” is not an array of names");
  array = json_node_get_array (node);
  self->n_features = json_array_get_length (array);
  if (self->n_features == 0 || self->n_features > mt_audio_features_get_n_names ())
    return invalid (error, path, "“features” names %u descriptors, 1 to %u expected",
                    self->n_features, mt_audio_features_get_n_names ());
  self->names = g_new0 (char *, self->n_features + 1);
  for (guint i = 0; i < self->n_features; i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        return invalid (error, path, "“features”[%u] is not a name", i);
      if (mt_audio_features_find_name (json_node_get_string (element)) < 0)
        return invalid (error, path, "“features”[%u] “%s” is not a descriptor this Moodtunes computes",
                        i, json_node_get_string (element));
      for (guint j = 0; j < i; j++)
        if (strcmp (self->names[j], json_node_get_string (element)) == 0)
          return invalid (error, path, "“features” names “%s” twice", self->names[j]);
      self->names[i] = g_strdup (json_node_get_string (element));
    }

  node = json_object_get_member (root, "transforms");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length (json_node_get_array (node)) != self->n_features)
    return invalid (error, path, "“transforms” is not one of \"log\" or \"none\" per descriptor");
  array = json_node_get_array (node);
  self->take_log = g_new0 (gboolean, self->n_features);
  for (guint i = 0; i < self->n_features; i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      const char *name = JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING
                         ? json_node_get_string (element) : NULL;

      if (g_strcmp0 (name, "log") != 0 && g_strcmp0 (name, "none") != 0)
        return invalid (error, path, "“transforms”[%u] is not \"log\" or \"none\"", i);
      self->take_log[i] = g_strcmp0 (name, "log") == 0;
    }
  node = json_object_get_member (root, "log_floor");
  if (!is_number (node) || !(json_node_get_double (node) > 0.0 && json_node_get_double (node) < 1.0))
    return invalid (error, path, "“log_floor” is not a number in (0, 1)");
  self->log_floor = json_node_get_double (node);

  self->mean = g_new0 (double, self->n_features);
  self->scale = g_new0 (double, self->n_features);
  self->weights = g_new0 (double, (gsize) N_CLASSES * self->n_features);
  if (!read_numbers (root, "mean", self->n_features, self->mean, path, error) ||
      !read_numbers (root, "scale", self->n_features, self->scale, path, error) ||
      !read_numbers (root, "bias", N_CLASSES, self->bias, path, error))
    return FALSE;
  for (guint i = 0; i < self->n_features; i++)
    if (!(self->scale[i] > 0.0))
      return invalid (error, path, "“scale”[%u] is not positive", i);

  node = json_object_get_member (root, "weights");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (json_node_get_array (node)) != N_CLASSES)
    return invalid (error, path, "“weights” is not %d rows", N_CLASSES);
  array = json_node_get_array (node);
  for (guint c = 0; c < N_CLASSES; c++)
    {
      JsonNode *row = json_array_get_element (array, c);
      g_autofree char *name = g_strdup_printf ("weights[%u]", c);
      g_autoptr(JsonObject) holder = json_object_new ();

      if (!JSON_NODE_HOLDS_ARRAY (row))
        return invalid (error, path, "“%s” is not an array", name);
      json_object_set_member (holder, name, json_node_copy (row));
      if (!read_numbers (holder, name, self->n_features, self->weights + (gsize) c * self->n_features, path, error))
        return FALSE;
    }
  return TRUE;
}

MtAudioMoodModel *
mt_audio_mood_model_new_from_file (const char  *path,
                                   GError     **error)
{
  g_autoptr(MtAudioMoodModel) self = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *contents = NULL;
  gsize length = 0;
  JsonNode *root;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  if (!mt_json_check_limits (contents, length, MT_JSON_MAX_DEPTH, error) ||
      !json_parser_load_from_data (parser, contents, (gssize) length, error))
    {
      g_prefix_error (error, "Audio mood model “%s”: ", path);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid (error, path, "not a JSON object");
      return NULL;
    }
  self = g_object_new (MT_TYPE_AUDIO_MOOD_MODEL, NULL);
  if (!load (self, json_node_get_object (root), path, error))
    return NULL;
  return g_steal_pointer (&self);
}

MtAudioMoodModel *
mt_audio_mood_model_new_default (GError **error)
{
  g_autofree char *path = mt_data_dirs_find_file (MT_AUDIO_MOOD_MODEL_FILE, error);

  if (path == NULL)
    return NULL;
  return mt_audio_mood_model_new_from_file (path, error);
}

const char *
mt_audio_mood_model_get_version (MtAudioMoodModel *self)
{
  g_return_val_if_fail (MT_IS_AUDIO_MOOD_MODEL (self), NULL);
  return self->version;
}

gboolean
mt_audio_mood_model_predict (MtAudioMoodModel  *self,
                             JsonObject        *features,
                             double            *out_valence,
                             double            *out_arousal,
                             GError           **error)
{
  g_autofree double *z = NULL;
  double logits[N_CLASSES], top = -G_MAXDOUBLE, total = 0.0, valence = 0.0, arousal = 0.0;

  g_return_val_if_fail (MT_IS_AUDIO_MOOD_MODEL (self), FALSE);
  g_return_val_if_fail (features != NULL, FALSE);

  z = g_new (double, self->n_features);
  for (guint i = 0; i < self->n_features; i++)
    {
      JsonNode *node = json_object_get_member (features, self->names[i]);
      double x;

      if (!is_number (node) || !isfinite (x = json_node_get_double (node)))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "the descriptor “%s” is missing or not a finite number", self->names[i]);
          return FALSE;
        }
      if (self->take_log[i])
        x = log (MAX (x, self->log_floor));
      /* Clipped: a song far outside anything the model was fitted on
       * (silence, a test tone) gets a confident answer, not a wild one. */
      z[i] = CLAMP ((x - self->mean[i]) / self->scale[i], -self->clip_z, self->clip_z);
    }
  for (guint c = 0; c < N_CLASSES; c++)
    {
      const double *w = self->weights + (gsize) c * self->n_features;

      logits[c] = self->bias[c];
      for (guint i = 0; i < self->n_features; i++)
        logits[c] += w[i] * z[i];
      top = MAX (top, logits[c]);
    }
  for (guint c = 0; c < N_CLASSES; c++)
    total += logits[c] = exp (logits[c] - top);
  for (guint c = 0; c < N_CLASSES; c++)
    {
      valence += valence_sign[c] * logits[c] / total;
      arousal += arousal_sign[c] * logits[c] / total;
    }
  *out_valence = CLAMP (valence, -1.0, 1.0);
  *out_arousal = CLAMP (arousal, -1.0, 1.0);
  return TRUE;
}

gboolean
mt_audio_mood_model_predict_json (MtAudioMoodModel  *self,
                                  const char        *features_json,
                                  double            *out_valence,
                                  double            *out_arousal,
                                  GError           **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize length;
  JsonNode *root;

  g_return_val_if_fail (MT_IS_AUDIO_MOOD_MODEL (self), FALSE);
  g_return_val_if_fail (features_json != NULL, FALSE);

  length = strlen (features_json);
  if (length > MAX_FEATURES_JSON)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the stored descriptors are too long");
      return FALSE;
    }
  if (!mt_json_check_limits (features_json, length, MT_JSON_MAX_DEPTH, error) ||
      !json_parser_load_from_data (parser, features_json, (gssize) length, error))
    return FALSE;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the stored descriptors are not a JSON object");
      return FALSE;
    }
  return mt_audio_mood_model_predict (self, json_node_get_object (root), out_valence, out_arousal, error);
}
