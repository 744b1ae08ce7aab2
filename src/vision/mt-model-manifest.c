/* mt-model-manifest.c: the expression models of a models folder, as data.
 *
 * The manifest is trusted no more than a .cfg: every name in it becomes a
 * file path, so only plain file names are accepted, and every number must be
 * finite and in range before the analyzer builds anything from it. */
#define G_LOG_DOMAIN "mt-model-manifest"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include <math.h>
#include <string.h>

#include "mt-darknet.h"
#include "mt-model-manifest.h"

#define MODEL_GROUP_PREFIX "Model "
#define NETWORK_GROUP_PREFIX "Network "
#define DETECTOR_GROUP "Detector"
#define DETECTOR_GROUP_PREFIX "Detector "
#define EXPRESSION_GROUP "Expression"

/* What the analyzer has always cropped: the detector's boxes run from the
 * brows to the chin; the classifiers were trained on crops that also hold
 * the forehead and cheeks. */
#define DEFAULT_CROP_MARGIN 1.15
#define DEFAULT_CROP_SHIFT 0.05

struct _MtModelManifest {
  GObject    parent_instance;
  char      *dir;
  char      *path;          /* the manifest being read, for errors */
  char      *detector;      /* the default detector's network */
  char      *default_model; /* [Expression] Default, NULL: the first model */
  GPtrArray *detectors;     /* MtDetectorRecipe*, the default first */
  GPtrArray *networks;      /* MtNetworkSpec* */
  GPtrArray *recipes;       /* MtModelRecipe* */
  GPtrArray *names;         /* borrowed from recipes, NULL-terminated */
  GError    *user_error;
  /* Reading a user's manifest: it need not have a [Detector] nor a model
   * of its own (its Default may name an installed one). */
  gboolean   partial;
};

G_DEFINE_FINAL_TYPE (MtModelManifest, mt_model_manifest, G_TYPE_OBJECT)

static void
recipe_free (MtModelRecipe *recipe)
{
  g_free (recipe->name);
  g_free (recipe->dir);
  g_free (recipe->head);
  for (guint i = 0; i < MT_MODEL_MAX_NETWORKS; i++)
    g_free (recipe->networks[i]);
  g_free (recipe);
}

static void
detector_free (MtDetectorRecipe *recipe)
{
  g_free (recipe->name);
  g_free (recipe->dir);
  g_free (recipe->network);
  g_free (recipe);
}

static void
network_free (MtNetworkSpec *spec)
{
  g_free (spec->name);
  g_free (spec->dir);
  g_free (spec);
}

static void
mt_model_manifest_finalize (GObject *object)
{
  MtModelManifest *self = MT_MODEL_MANIFEST (object);

  g_free (self->dir);
  g_free (self->path);
  g_free (self->detector);
  g_free (self->default_model);
  g_ptr_array_unref (self->names);
  g_ptr_array_unref (self->recipes);
  g_ptr_array_unref (self->networks);
  g_ptr_array_unref (self->detectors);
  g_clear_error (&self->user_error);

  G_OBJECT_CLASS (mt_model_manifest_parent_class)->finalize (object);
}

static void
mt_model_manifest_class_init (MtModelManifestClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_model_manifest_finalize;
}

static void
mt_model_manifest_init (MtModelManifest *self)
{
  self->recipes = g_ptr_array_new_with_free_func ((GDestroyNotify) recipe_free);
  self->detectors = g_ptr_array_new_with_free_func ((GDestroyNotify) detector_free);
  self->networks = g_ptr_array_new_with_free_func ((GDestroyNotify) network_free);
  self->names = g_ptr_array_new ();
}

static gboolean G_GNUC_PRINTF (3, 4)
fail (MtModelManifest  *self,
      GError          **error,
      const char       *format,
      ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG, "%s: %s", self->path, message);
  return FALSE;
}

/* A name that is a file name inside the folder and nothing else. */
static gboolean
is_plain_name (const char *name)
{
  gsize length = strlen (name);

  if (length == 0 || length > 64 || name[0] == '.' || name[0] == '-')
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
check_keys (MtModelManifest  *self,
            GKeyFile         *keyfile,
            const char       *group,
            const char * const *allowed,
            GError          **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys (keyfile, group, NULL, NULL);

  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_strv_contains (allowed, keys[i]))
      return fail (self, error, "[%s]: unknown key “%s”", group, keys[i]);
  return TRUE;
}

static gboolean
read_network_name (MtModelManifest  *self,
                   const char       *group,
                   const char       *what,
                   const char       *name,
                   GError          **error)
{
  if (!is_plain_name (name))
    return fail (self, error, "[%s]: %s “%s” is not a plain file name "
                 "(letters, digits, “-”, “_” and “.”, at most 64)", group, what, name);
  return TRUE;
}

/* Two finite numbers in [@min, @max] (@fallback for both when absent). */
static gboolean
read_pair (MtModelManifest  *self,
           GKeyFile         *keyfile,
           const char       *group,
           const char       *key,
           double            fallback,
           double            min,
           double            max,
           float             values[2],
           GError          **error)
{
  g_autofree double *list = NULL;
  gsize n = 0;

  values[0] = values[1] = (float) fallback;
  if (!g_key_file_has_key (keyfile, group, key, NULL))
    return TRUE;
  list = g_key_file_get_double_list (keyfile, group, key, &n, NULL);
  if (list == NULL || n != 2 || !isfinite (list[0]) || !isfinite (list[1]) ||
      list[0] < min || list[0] > max || list[1] < min || list[1] > max)
    return fail (self, error, "[%s]: %s must be two numbers from %g to %g", group, key, min, max);
  values[0] = (float) list[0];
  values[1] = (float) list[1];
  return TRUE;
}

/* Kind (default tiny-yolo, what a manifest from before BlazeFace means),
 * Size, Threshold, BoxScale and BoxShift and, for BlazeFace, Heads: the
 * layer indices of its heads, checked against the network itself when it is
 * loaded. */
static gboolean
read_detector (MtModelManifest  *self,
               GKeyFile         *keyfile,
               const char       *group,
               GError          **error)
{
  static const char * const allowed[] = { "Network", "Kind", "Size", "Threshold", "Heads", "BoxScale",
                                          "BoxShift", NULL };
  g_autoptr(GError) local_error = NULL;
  g_autofree char *kind = NULL;
  MtDetectorRecipe *recipe;
  const char *name = strcmp (group, DETECTOR_GROUP) == 0 ? NULL : group + strlen (DETECTOR_GROUP_PREFIX);

  if (!check_keys (self, keyfile, group, allowed, error))
    return FALSE;
  if (name != NULL && !is_plain_name (name))
    return fail (self, error, "[%s]: the detector name is not a plain name", group);
  for (guint i = 0; i < self->detectors->len; i++)
    if (g_strcmp0 (((MtDetectorRecipe *) g_ptr_array_index (self->detectors, i))->name, name) == 0)
      return fail (self, error, "[%s]: the detector is listed twice", group);

  recipe = g_new0 (MtDetectorRecipe, 1);
  recipe->name = g_strdup (name);
  recipe->dir = g_strdup (self->dir);
  /* The default first, so lookups and the installed files find it. */
  if (name == NULL)
    g_ptr_array_insert (self->detectors, 0, recipe);
  else
    g_ptr_array_add (self->detectors, recipe);

  recipe->network = g_key_file_get_string (keyfile, group, "Network", &local_error);
  if (recipe->network == NULL)
    return fail (self, error, "[%s]: %s", group, local_error->message);
  if (!read_network_name (self, group, "network", recipe->network, error))
    return FALSE;

  kind = g_key_file_get_string (keyfile, group, "Kind", NULL);
  if (kind == NULL || strcmp (kind, "tiny-yolo") == 0)
    recipe->kind = MT_DETECTOR_KIND_TINY_YOLO;
  else if (strcmp (kind, "blazeface") == 0)
    recipe->kind = MT_DETECTOR_KIND_BLAZEFACE;
  else
    return fail (self, error, "[%s]: unknown Kind “%s” (tiny-yolo or blazeface)", group, kind);

  if (g_key_file_has_key (keyfile, group, "Size", NULL))
    {
      int size = g_key_file_get_integer (keyfile, group, "Size", &local_error);

      if (local_error != NULL || size < MT_NET_MIN_SIDE || size > MT_NET_MAX_SIDE || size % 32 != 0)
        return fail (self, error, "[%s]: Size must be a multiple of 32 from %d to %d",
                     group, MT_NET_MIN_SIDE, MT_NET_MAX_SIDE);
      recipe->size = size;
    }
  if (g_key_file_has_key (keyfile, group, "Threshold", NULL))
    {
      double threshold = g_key_file_get_double (keyfile, group, "Threshold", &local_error);

      if (local_error != NULL || !isfinite (threshold) || threshold <= 0 || threshold >= 1)
        return fail (self, error, "[%s]: Threshold must be a number in (0, 1)", group);
      recipe->threshold = (float) threshold;
    }

  if (g_key_file_has_key (keyfile, group, "Heads", NULL))
    {
      g_autofree int *heads = NULL;
      gsize n_heads = 0;

      if (recipe->kind != MT_DETECTOR_KIND_BLAZEFACE)
        return fail (self, error, "[%s]: only a blazeface detector has Heads", group);
      heads = g_key_file_get_integer_list (keyfile, group, "Heads", &n_heads, &local_error);
      if (heads == NULL || n_heads == 0 || n_heads > MT_DETECTOR_MAX_HEADS)
        return fail (self, error, "[%s]: Heads must list 1 to %d layer indices", group, MT_DETECTOR_MAX_HEADS);
      for (gsize i = 0; i < n_heads; i++)
        {
          if (heads[i] < 0 || (i > 0 && heads[i] <= heads[i - 1]))
            return fail (self, error, "[%s]: Heads must be layer indices in increasing order", group);
          recipe->heads[i] = heads[i];
        }
      recipe->n_heads = (int) n_heads;
    }
  else if (recipe->kind == MT_DETECTOR_KIND_BLAZEFACE)
    return fail (self, error, "[%s]: a blazeface detector needs Heads", group);

  if (!read_pair (self, keyfile, group, "BoxScale", 1, 0.5, 3, recipe->box_scale, error) ||
      !read_pair (self, keyfile, group, "BoxShift", 0, -1, 1, recipe->box_shift, error))
    return FALSE;

  if (name == NULL)
    self->detector = g_strdup (recipe->network);
  return TRUE;
}

/* A finite number in [@min, @max]; *@value is left alone when the key is
 * absent and not @required. */
static gboolean
read_number (MtModelManifest  *self,
             GKeyFile         *keyfile,
             const char       *group,
             const char       *key,
             gboolean          required,
             double            min,
             double            max,
             double           *value,
             GError          **error)
{
  g_autoptr(GError) local_error = NULL;
  double number;

  if (!g_key_file_has_key (keyfile, group, key, NULL))
    return !required || fail (self, error, "[%s]: %s is missing", group, key);
  number = g_key_file_get_double (keyfile, group, key, &local_error);
  if (local_error != NULL || !isfinite (number) || number < min || number > max)
    return fail (self, error, "[%s]: %s must be a number from %g to %g", group, key, min, max);
  *value = number;
  return TRUE;
}

/* The same for a whole number. */
static gboolean
read_whole (MtModelManifest  *self,
            GKeyFile         *keyfile,
            const char       *group,
            const char       *key,
            gboolean          required,
            int               min,
            int               max,
            int              *value,
            GError          **error)
{
  g_autoptr(GError) local_error = NULL;
  int number;

  if (!g_key_file_has_key (keyfile, group, key, NULL))
    return !required || fail (self, error, "[%s]: %s is missing", group, key);
  number = g_key_file_get_integer (keyfile, group, key, &local_error);
  if (local_error != NULL || number < min || number > max)
    return fail (self, error, "[%s]: %s must be a whole number from %d to %d", group, key, min, max);
  *value = number;
  return TRUE;
}

static MtNetworkSpec *
find_network (MtModelManifest *self,
              const char      *name)
{
  for (guint i = 0; i < self->networks->len; i++)
    {
      MtNetworkSpec *spec = g_ptr_array_index (self->networks, i);

      if (strcmp (spec->name, name) == 0)
        return spec;
    }
  return NULL;
}

/* How one expression network's input is made (the input size is its cfg's)
 * and, for a fitted head, where its features are. */
static gboolean
read_network (MtModelManifest  *self,
              GKeyFile         *keyfile,
              const char       *group,
              GError          **error)
{
  static const char * const allowed[] = { "Channels", "Mean", "Scale", "FeatureLayer", "FeatureChannels",
                                          NULL };
  g_autofree double *mean = NULL;
  const char *name = group + strlen (NETWORK_GROUP_PREFIX);
  MtNetworkSpec *spec;
  double scale = 0;
  gsize n_mean = 0;

  if (!check_keys (self, keyfile, group, allowed, error) ||
      !read_network_name (self, group, "the network name", name, error))
    return FALSE;
  if (find_network (self, name) != NULL)
    return fail (self, error, "[%s]: the network is listed twice", group);

  spec = g_new0 (MtNetworkSpec, 1);
  spec->name = g_strdup (name);
  spec->dir = g_strdup (self->dir);
  g_ptr_array_add (self->networks, spec);

  if (!read_whole (self, keyfile, group, "Channels", TRUE, 1, 3, &spec->channels, error))
    return FALSE;
  if (spec->channels == 2)
    return fail (self, error, "[%s]: Channels must be 1 (gray) or 3 (RGB)", group);

  /* Pixels are 0..255: a mean outside that range is a typo. */
  if (!g_key_file_has_key (keyfile, group, "Mean", NULL))
    return fail (self, error, "[%s]: Mean is missing", group);
  mean = g_key_file_get_double_list (keyfile, group, "Mean", &n_mean, NULL);
  if (mean == NULL || !(n_mean == 1 || (n_mean == 3 && spec->channels == 3)))
    return fail (self, error, "[%s]: Mean must be one number%s", group,
                 spec->channels == 3 ? ", or three (R;G;B)" : " (the network reads one channel)");
  for (gsize c = 0; c < 3; c++)
    {
      double value = mean[n_mean == 3 ? c : 0];

      if (!isfinite (value) || value < 0 || value > 255)
        return fail (self, error, "[%s]: Mean must be numbers from 0 to 255", group);
      spec->mean[c] = (float) value;
    }

  if (!read_number (self, keyfile, group, "Scale", TRUE, 0, 16, &scale, error))
    return FALSE;
  if (scale == 0)
    return fail (self, error, "[%s]: Scale must be a number from 0 to 16, not 0", group);
  spec->scale = (float) scale;

  if (!read_whole (self, keyfile, group, "FeatureLayer", FALSE, 1, 1000, &spec->feature_layer, error) ||
      !read_whole (self, keyfile, group, "FeatureChannels", FALSE, 1, 65536, &spec->feature_channels, error))
    return FALSE;
  if ((spec->feature_layer == 0) != (spec->feature_channels == 0))
    return fail (self, error, "[%s]: FeatureLayer and FeatureChannels go together", group);
  return TRUE;
}

static gboolean
read_expression (MtModelManifest  *self,
                 GKeyFile         *keyfile,
                 const char       *group,
                 GError          **error)
{
  static const char * const allowed[] = { "Default", NULL };

  if (!check_keys (self, keyfile, group, allowed, error))
    return FALSE;
  self->default_model = g_key_file_get_string (keyfile, group, "Default", NULL);
  if (self->default_model == NULL)
    return fail (self, error, "[%s]: Default is missing", group);
  if (!is_plain_name (self->default_model))
    return fail (self, error, "[%s]: Default “%s” is not a model name", group, self->default_model);
  return TRUE;
}

static gboolean
read_weights (MtModelManifest  *self,
              GKeyFile         *keyfile,
              const char       *group,
              MtModelRecipe    *recipe,
              guint             n_networks,
              GError          **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree double *weights = NULL;
  gsize n_weights = 0;
  double sum = 0;

  if (!g_key_file_has_key (keyfile, group, "Weights", NULL))
    {
      /* One network needs no weight; several must say how they blend. */
      if (n_networks > 1 && recipe->head == NULL)
        return fail (self, error, "[%s]: several networks need Weights", group);
      for (guint i = 0; i < n_networks; i++)
        recipe->weights[i] = 1.0f / n_networks;
      return TRUE;
    }
  if (recipe->head != NULL)
    return fail (self, error, "[%s]: a model with a Head takes no Weights", group);
  weights = g_key_file_get_double_list (keyfile, group, "Weights", &n_weights, &local_error);
  if (weights == NULL)
    return fail (self, error, "[%s]: Weights: %s", group, local_error->message);
  if (n_weights != n_networks)
    return fail (self, error, "[%s]: %zu weights for %u networks", group, n_weights, n_networks);
  for (guint i = 0; i < n_networks; i++)
    {
      if (!isfinite (weights[i]) || weights[i] <= 0 || weights[i] > 100)
        return fail (self, error, "[%s]: weight %g is not in (0, 100]", group, weights[i]);
      sum += weights[i];
    }
  /* Normalized, so a blend of probabilities stays a probability. */
  for (guint i = 0; i < n_networks; i++)
    recipe->weights[i] = weights[i] / sum;
  return TRUE;
}

/* TestCrops: up to MT_MODEL_MAX_TEST_CROPS crops, each "ZOOM DX DY" (a
 * zoom of 0.5 to 1.5, shifts of at most half the side). */
static gboolean
read_test_crops (MtModelManifest  *self,
                 GKeyFile         *keyfile,
                 const char       *group,
                 MtModelRecipe    *recipe,
                 GError          **error)
{
  static const double min[3] = { 0.5, -0.5, -0.5 }, max[3] = { 1.5, 0.5, 0.5 };
  g_auto(GStrv) crops = NULL;
  gsize n = 0;

  if (!g_key_file_has_key (keyfile, group, "TestCrops", NULL))
    return TRUE;
  crops = g_key_file_get_string_list (keyfile, group, "TestCrops", &n, NULL);
  if (crops == NULL || n == 0 || n > MT_MODEL_MAX_TEST_CROPS)
    return fail (self, error, "[%s]: TestCrops must be 1 to %d crops", group, MT_MODEL_MAX_TEST_CROPS);
  for (gsize i = 0; i < n; i++)
    {
      const char *p = crops[i];

      for (int v = 0; v < 3; v++)
        {
          char *end = NULL;
          double value;

          while (*p == ' ')
            p++;
          value = g_ascii_strtod (p, &end);
          if (end == p || !isfinite (value) || value < min[v] || value > max[v])
            return fail (self, error,
                         "[%s]: TestCrops \"%s\" is not ZOOM DX DY (zoom 0.5 to 1.5, shifts -0.5 to 0.5)",
                         group, crops[i]);
          recipe->test_crops[i][v] = (float) value;
          p = end;
        }
      while (*p == ' ')
        p++;
      if (*p != '\0')
        return fail (self, error, "[%s]: TestCrops \"%s\" has more than ZOOM DX DY", group, crops[i]);
    }
  recipe->n_test_crops = (guint) n;
  return TRUE;
}

static gboolean
read_model (MtModelManifest  *self,
            GKeyFile         *keyfile,
            const char       *group,
            GError          **error)
{
  static const char * const allowed[] = { "Networks", "Weights", "Head", "CropMargin", "CropShift", "Mirror",
                                          "TestCrops", NULL };
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) networks = NULL;
  MtModelRecipe *recipe;
  const char *name = group + strlen (MODEL_GROUP_PREFIX);
  guint n_networks;
  double margin = DEFAULT_CROP_MARGIN, shift = DEFAULT_CROP_SHIFT;

  if (!check_keys (self, keyfile, group, allowed, error))
    return FALSE;
  if (!is_plain_name (name))
    return fail (self, error, "[%s]: the model name is not a plain name", group);
  for (guint i = 0; i < self->recipes->len; i++)
    if (strcmp (((MtModelRecipe *) g_ptr_array_index (self->recipes, i))->name, name) == 0)
      return fail (self, error, "[%s]: the model is listed twice", group);

  networks = g_key_file_get_string_list (keyfile, group, "Networks", NULL, &local_error);
  if (networks == NULL)
    return fail (self, error, "[%s]: %s", group, local_error->message);
  n_networks = g_strv_length (networks);
  if (n_networks == 0 || n_networks > MT_MODEL_MAX_NETWORKS)
    return fail (self, error, "[%s]: %u networks (1 to %d are read)", group, n_networks,
                 MT_MODEL_MAX_NETWORKS);

  recipe = g_new0 (MtModelRecipe, 1);
  recipe->name = g_strdup (name);
  recipe->dir = g_strdup (self->dir);
  g_ptr_array_add (self->recipes, recipe);

  /* The crop's side: half to three times the detector's box (a box runs
   * from the brows to the chin; FER2013's framing is about 0.85 of it). */
  if (!read_number (self, keyfile, group, "CropMargin", FALSE, 0.5, 3, &margin, error) ||
      !read_number (self, keyfile, group, "CropShift", FALSE, -0.5, 0.5, &shift, error))
    return FALSE;
  recipe->crop_margin = (float) margin;
  recipe->crop_shift = (float) shift;
  recipe->mirror = TRUE;
  if (g_key_file_has_key (keyfile, group, "Mirror", NULL))
    {
      recipe->mirror = g_key_file_get_boolean (keyfile, group, "Mirror", &local_error);
      if (local_error != NULL)
        return fail (self, error, "[%s]: Mirror must be true or false", group);
    }

  if (!read_test_crops (self, keyfile, group, recipe, error))
    return FALSE;

  for (guint i = 0; i < n_networks; i++)
    {
      if (!read_network_name (self, group, "network", networks[i], error))
        return FALSE;
      recipe->networks[i] = g_strdup (networks[i]);
    }
  if (g_key_file_has_key (keyfile, group, "Head", NULL))
    {
      recipe->head = g_key_file_get_string (keyfile, group, "Head", NULL);
      if (!read_network_name (self, group, "head", recipe->head, error))
        return FALSE;
      if (n_networks != 2)
        return fail (self, error, "[%s]: a Head reads exactly two networks", group);
    }
  return read_weights (self, keyfile, group, recipe, n_networks, error);
}

static gboolean
load_keyfile (MtModelManifest  *self,
              GKeyFile         *keyfile,
              GError          **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  GStatBuf st;

  if (g_stat (self->path, &st) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s: cannot open (no models there)", self->path);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode) || st.st_size > MT_MODEL_MANIFEST_MAX_SIZE)
    return fail (self, error, "not a manifest (a regular file of at most %d bytes)",
                 MT_MODEL_MANIFEST_MAX_SIZE);
  if (!g_file_get_contents (self->path, &contents, &length, &local_error))
    return fail (self, error, "%s", local_error->message);
  if (!g_utf8_validate (contents, length, NULL) || memchr (contents, '\0', length) != NULL)
    return fail (self, error, "not UTF-8 text");
  if (!g_key_file_load_from_data (keyfile, contents, length, G_KEY_FILE_NONE, &local_error))
    return fail (self, error, "%s", local_error->message);
  return TRUE;
}

static MtModelRecipe *
find_recipe (MtModelManifest *self,
             const char      *name,
             guint           *index)
{
  for (guint i = 0; i < self->recipes->len; i++)
    {
      MtModelRecipe *recipe = g_ptr_array_index (self->recipes, i);

      if (strcmp (recipe->name, name) == 0)
        {
          if (index != NULL)
            *index = i;
          return recipe;
        }
    }
  return NULL;
}

/* After every group is read (a [Network] may follow the [Model] naming
 * it): each network a model reads is described, and the network a head
 * reads says where its features are. */
static gboolean
check_references (MtModelManifest  *self,
                  GError          **error)
{
  for (guint i = 0; i < self->recipes->len; i++)
    {
      MtModelRecipe *recipe = g_ptr_array_index (self->recipes, i);

      for (guint n = 0; n < MT_MODEL_MAX_NETWORKS && recipe->networks[n]; n++)
        {
          recipe->specs[n] = find_network (self, recipe->networks[n]);
          if (recipe->specs[n] == NULL)
            return fail (self, error, "[%s%s]: network “%s” has no [%s%s] group", MODEL_GROUP_PREFIX,
                         recipe->name, recipe->networks[n], NETWORK_GROUP_PREFIX, recipe->networks[n]);
        }
      if (recipe->head != NULL && recipe->specs[1]->feature_channels == 0)
        return fail (self, error, "[%s%s]: FeatureChannels is missing: the Head of [%s%s] reads its features",
                     NETWORK_GROUP_PREFIX, recipe->networks[1], MODEL_GROUP_PREFIX, recipe->name);
    }
  if (self->default_model != NULL && !self->partial && find_recipe (self, self->default_model, NULL) == NULL)
    return fail (self, error, "[%s]: Default “%s” is no [%sNAME] of this file", EXPRESSION_GROUP,
                 self->default_model, MODEL_GROUP_PREFIX);
  return TRUE;
}

static void
update_names (MtModelManifest *self)
{
  g_ptr_array_set_size (self->names, 0);
  for (guint i = 0; i < self->recipes->len; i++)
    g_ptr_array_add (self->names, ((MtModelRecipe *) g_ptr_array_index (self->recipes, i))->name);
  g_ptr_array_add (self->names, NULL);
}

/* One folder's manifest; @partial: a user's, which need not have a
 * detector or a model of its own. */
static MtModelManifest *
load_one (const char  *models_dir,
          gboolean     partial,
          GError     **error)
{
  g_autoptr(MtModelManifest) self = g_object_new (MT_TYPE_MODEL_MANIFEST, NULL);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_auto(GStrv) groups = NULL;

  self->partial = partial;
  self->dir = g_strdup (models_dir);
  self->path = g_build_filename (models_dir, MT_MODEL_MANIFEST_FILE, NULL);
  if (!load_keyfile (self, keyfile, error))
    return NULL;

  groups = g_key_file_get_groups (keyfile, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      gboolean ok;

      if (strcmp (groups[i], DETECTOR_GROUP) == 0 || g_str_has_prefix (groups[i], DETECTOR_GROUP_PREFIX))
        ok = read_detector (self, keyfile, groups[i], error);
      else if (g_str_has_prefix (groups[i], MODEL_GROUP_PREFIX))
        ok = read_model (self, keyfile, groups[i], error);
      else if (g_str_has_prefix (groups[i], NETWORK_GROUP_PREFIX))
        ok = read_network (self, keyfile, groups[i], error);
      else if (strcmp (groups[i], EXPRESSION_GROUP) == 0)
        ok = read_expression (self, keyfile, groups[i], error);
      else
        ok = fail (self, error, "unknown group [%s] (known: [%s], [%s], [%sNAME], [%sNAME], [%sNAME])",
                   groups[i], EXPRESSION_GROUP, DETECTOR_GROUP, DETECTOR_GROUP_PREFIX, MODEL_GROUP_PREFIX,
                   NETWORK_GROUP_PREFIX);
      if (!ok)
        return NULL;
    }
  if (self->detector == NULL && !partial)
    {
      fail (self, error, "no [%s] group", DETECTOR_GROUP);
      return NULL;
    }
  if (self->recipes->len == 0 && !partial)
    {
      fail (self, error, "no [%sNAME] group: no expression model", MODEL_GROUP_PREFIX);
      return NULL;
    }
  if (!check_references (self, error))
    return NULL;
  update_names (self);
  return g_steal_pointer (&self);
}

MtModelManifest *
mt_model_manifest_load (const char  *models_dir,
                        GError     **error)
{
  g_return_val_if_fail (models_dir != NULL, NULL);
  return load_one (models_dir, FALSE, error);
}

/* Moves @user's networks, models and detectors into @self.  Everything that
 * can fail is checked first, so a refused user manifest changes nothing. */
static gboolean
merge (MtModelManifest  *self,
       MtModelManifest  *user,
       GError          **error)
{
  g_autofree gpointer *networks = NULL;
  g_autofree gpointer *recipes = NULL;
  g_autofree gpointer *detectors = NULL;
  gsize n_networks = 0, n_recipes = 0, n_detectors = 0;

  if (user->default_model != NULL && find_recipe (user, user->default_model, NULL) == NULL &&
      find_recipe (self, user->default_model, NULL) == NULL)
    return fail (user, error, "[%s]: Default “%s” is no model there nor in %s", EXPRESSION_GROUP,
                 user->default_model, self->path);

  /* The specs move with their models, which point at them. */
  networks = g_ptr_array_steal (user->networks, &n_networks);
  for (gsize i = 0; i < n_networks; i++)
    g_ptr_array_add (self->networks, networks[i]);

  recipes = g_ptr_array_steal (user->recipes, &n_recipes);
  for (gsize i = 0; i < n_recipes; i++)
    {
      MtModelRecipe *recipe = recipes[i];
      guint index;

      if (find_recipe (self, recipe->name, &index) != NULL)
        {
          recipe_free (g_ptr_array_index (self->recipes, index));
          g_ptr_array_index (self->recipes, index) = recipe;
        }
      else
        g_ptr_array_add (self->recipes, recipe);
    }

  detectors = g_ptr_array_steal (user->detectors, &n_detectors);
  for (gsize i = 0; i < n_detectors; i++)
    {
      MtDetectorRecipe *recipe = detectors[i];
      gboolean replaced = FALSE;

      for (guint j = 0; j < self->detectors->len && !replaced; j++)
        if (g_strcmp0 (((MtDetectorRecipe *) g_ptr_array_index (self->detectors, j))->name, recipe->name) == 0)
          {
            detector_free (g_ptr_array_index (self->detectors, j));
            g_ptr_array_index (self->detectors, j) = recipe;
            replaced = TRUE;
          }
      if (!replaced)
        g_ptr_array_add (self->detectors, recipe);
    }
  if (user->detector != NULL)
    {
      g_free (self->detector);
      self->detector = g_strdup (user->detector);
    }
  if (user->default_model != NULL)
    {
      g_free (self->default_model);
      self->default_model = g_strdup (user->default_model);
    }
  update_names (self);
  return TRUE;
}

MtModelManifest *
mt_model_manifest_load_merged (const char  *primary_dir,
                               const char  *user_dir,
                               GError     **error)
{
  g_autoptr(MtModelManifest) self = NULL;
  g_autoptr(MtModelManifest) user = NULL;
  g_autoptr(GError) user_error = NULL;
  g_autofree char *user_path = NULL;

  g_return_val_if_fail (primary_dir != NULL, NULL);

  self = load_one (primary_dir, FALSE, error);
  if (self == NULL)
    return NULL;
  if (user_dir == NULL || strcmp (user_dir, primary_dir) == 0)
    return g_steal_pointer (&self);
  /* No manifest there is the usual case: no models of one's own. */
  user_path = g_build_filename (user_dir, MT_MODEL_MANIFEST_FILE, NULL);
  if (!g_file_test (user_path, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&self);

  user = load_one (user_dir, TRUE, &user_error);
  if (user == NULL || !merge (self, user, &user_error))
    {
      g_warning ("Your own expression models are left out: %s", user_error->message);
      self->user_error = g_steal_pointer (&user_error);
    }
  return g_steal_pointer (&self);
}

MtModelManifest *
mt_model_manifest_open (const char  *models_dir,
                        GError     **error)
{
  const char *env = g_getenv ("MT_MODELS_DIR");
  g_autofree char *user_dir = NULL;

  /* A folder named explicitly is used as it is: a fault there is shown,
   * never hidden by another folder's models. */
  if (models_dir != NULL)
    return mt_model_manifest_load (models_dir, error);
  if (env != NULL && env[0] != '\0')
    return mt_model_manifest_load (env, error);
  user_dir = mt_model_manifest_get_user_dir ();
  return mt_model_manifest_load_merged (MT_MODELS_DIR, user_dir, error);
}

const GError *
mt_model_manifest_get_user_error (MtModelManifest *self)
{
  g_return_val_if_fail (MT_IS_MODEL_MANIFEST (self), NULL);
  return self->user_error;
}

const char *
mt_model_manifest_get_dir (MtModelManifest *self)
{
  g_return_val_if_fail (MT_IS_MODEL_MANIFEST (self), NULL);
  return self->dir;
}

const char *
mt_model_manifest_get_detector (MtModelManifest *self)
{
  g_return_val_if_fail (MT_IS_MODEL_MANIFEST (self), NULL);
  return self->detector;
}

const MtDetectorRecipe *
mt_model_manifest_lookup_detector (MtModelManifest  *self,
                                   const char       *name,
                                   GError          **error)
{
  g_autoptr(GString) known = g_string_new (NULL);

  g_return_val_if_fail (MT_IS_MODEL_MANIFEST (self), NULL);

  for (guint i = 0; i < self->detectors->len; i++)
    {
      const MtDetectorRecipe *recipe = g_ptr_array_index (self->detectors, i);

      if (g_strcmp0 (recipe->name, name) == 0)
        return recipe;
      if (recipe->name != NULL)
        g_string_append_printf (known, "%s%s", known->len ? ", " : "", recipe->name);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Unknown detector “%s” (others in %s: %s)", name ? name : "",
               self->dir, known->len ? known->str : "none");
  return NULL;
}

const char * const *
mt_model_manifest_list_models (MtModelManifest *self)
{
  g_return_val_if_fail (MT_IS_MODEL_MANIFEST (self), NULL);
  return (const char * const *) self->names->pdata;
}

char *
mt_model_manifest_describe_models (MtModelManifest *self)
{
  GString *text = g_string_new (NULL);
  const char *default_model;

  g_return_val_if_fail (MT_IS_MODEL_MANIFEST (self), NULL);

  default_model = mt_model_manifest_get_default_model (self);
  for (guint i = 0; i < self->recipes->len; i++)
    {
      const MtModelRecipe *recipe = g_ptr_array_index (self->recipes, i);

      g_string_append_printf (text, "%s%s%s", i ? ", " : "", recipe->name,
                              g_strcmp0 (recipe->name, default_model) == 0 ? " (default)" : "");
    }
  return g_string_free (text, FALSE);
}

const char *
mt_model_manifest_get_default_model (MtModelManifest *self)
{
  g_return_val_if_fail (MT_IS_MODEL_MANIFEST (self), NULL);
  if (self->default_model != NULL)
    return self->default_model;
  return self->recipes->len > 0 ? ((MtModelRecipe *) g_ptr_array_index (self->recipes, 0))->name : NULL;
}

const MtModelRecipe *
mt_model_manifest_lookup (MtModelManifest  *self,
                          const char       *name,
                          GError          **error)
{
  const MtModelRecipe *recipe;
  g_autofree char *known = NULL;

  g_return_val_if_fail (MT_IS_MODEL_MANIFEST (self), NULL);

  if (name == NULL)
    name = mt_model_manifest_get_default_model (self);
  recipe = name != NULL ? find_recipe (self, name, NULL) : NULL;
  if (recipe != NULL)
    return recipe;
  known = g_strjoinv (", ", (char **) self->names->pdata);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Unknown model “%s” (known in %s: %s)", name ? name : "", self->dir, known);
  return NULL;
}

const MtNetworkSpec *
mt_model_manifest_lookup_network (MtModelManifest  *self,
                                  const char       *name,
                                  GError          **error)
{
  g_return_val_if_fail (MT_IS_MODEL_MANIFEST (self), NULL);

  for (guint i = 0; i < self->networks->len; i++)
    {
      const MtNetworkSpec *spec = g_ptr_array_index (self->networks, i);

      if (g_strcmp0 (spec->name, name) == 0 && strcmp (spec->dir, self->dir) == 0)
        return spec;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               "%s: no [%s%s] group: “%s” is not an expression network there", self->path,
               NETWORK_GROUP_PREFIX, name ? name : "", name ? name : "");
  return NULL;
}

static void
add_network_files (GPtrArray  *files,
                   const char *network)
{
  static const char * const extensions[] = { ".cfg", ".weights", ".names" };

  for (guint i = 0; i < G_N_ELEMENTS (extensions); i++)
    {
      g_autofree char *file = g_strconcat (network, extensions[i], NULL);
      gboolean seen = FALSE;

      for (guint j = 0; j < files->len && !seen; j++)
        seen = strcmp (g_ptr_array_index (files, j), file) == 0;
      if (!seen)
        g_ptr_array_add (files, g_steal_pointer (&file));
    }
}

GStrv
mt_model_manifest_list_files (MtModelManifest *self)
{
  GPtrArray *files = g_ptr_array_new ();

  g_return_val_if_fail (MT_IS_MODEL_MANIFEST (self), NULL);

  g_ptr_array_add (files, g_strdup (MT_MODEL_MANIFEST_FILE));
  for (guint i = 0; i < self->detectors->len; i++)
    {
      const MtDetectorRecipe *recipe = g_ptr_array_index (self->detectors, i);

      if (strcmp (recipe->dir, self->dir) == 0)
        add_network_files (files, recipe->network);
    }
  for (guint i = 0; i < self->networks->len; i++)
    {
      const MtNetworkSpec *spec = g_ptr_array_index (self->networks, i);

      if (strcmp (spec->dir, self->dir) == 0)
        add_network_files (files, spec->name);
    }
  for (guint i = 0; i < self->recipes->len; i++)
    {
      const MtModelRecipe *recipe = g_ptr_array_index (self->recipes, i);

      if (recipe->head != NULL && strcmp (recipe->dir, self->dir) == 0)
        add_network_files (files, recipe->head);
    }
  g_ptr_array_add (files, NULL);
  return (GStrv) g_ptr_array_free (files, FALSE);
}

char *
mt_model_manifest_get_user_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "moodtunes", "models", NULL);
}

const char *
mt_model_manifest_find_default_dir (void)
{
  const char *env = g_getenv ("MT_MODELS_DIR");

  if (env != NULL && env[0] != '\0')
    return g_intern_string (env);
  return MT_MODELS_DIR;
}
