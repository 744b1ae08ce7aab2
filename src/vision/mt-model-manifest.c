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
#define DETECTOR_GROUP "Detector"
#define DETECTOR_GROUP_PREFIX "Detector "

struct _MtModelManifest {
  GObject    parent_instance;
  char      *dir;
  char      *path;
  char      *detector;  /* the default detector's network */
  GPtrArray *detectors; /* MtDetectorRecipe*, the default first */
  GPtrArray *recipes;   /* MtModelRecipe* */
  GPtrArray *names;     /* borrowed from recipes, NULL-terminated */
};

G_DEFINE_FINAL_TYPE (MtModelManifest, mt_model_manifest, G_TYPE_OBJECT)

static void
recipe_free (MtModelRecipe *recipe)
{
  g_free (recipe->name);
  g_free (recipe->head);
  for (guint i = 0; i < MT_MODEL_MAX_NETWORKS; i++)
    g_free (recipe->networks[i]);
  g_free (recipe);
}

static void
detector_free (MtDetectorRecipe *recipe)
{
  g_free (recipe->name);
  g_free (recipe->network);
  g_free (recipe);
}

static void
mt_model_manifest_finalize (GObject *object)
{
  MtModelManifest *self = MT_MODEL_MANIFEST (object);

  g_free (self->dir);
  g_free (self->path);
  g_free (self->detector);
  g_ptr_array_unref (self->names);
  g_ptr_array_unref (self->recipes);

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

static gboolean
read_model (MtModelManifest  *self,
            GKeyFile         *keyfile,
            const char       *group,
            GError          **error)
{
  static const char * const allowed[] = { "Networks", "Weights", "Head", NULL };
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) networks = NULL;
  MtModelRecipe *recipe;
  const char *name = group + strlen (MODEL_GROUP_PREFIX);
  guint n_networks;

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
  g_ptr_array_add (self->recipes, recipe);
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

MtModelManifest *
mt_model_manifest_load (const char  *models_dir,
                        GError     **error)
{
  g_autoptr(MtModelManifest) self = g_object_new (MT_TYPE_MODEL_MANIFEST, NULL);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_auto(GStrv) groups = NULL;

  g_return_val_if_fail (models_dir != NULL, NULL);

  self->dir = g_strdup (models_dir);
  self->path = g_build_filename (models_dir, MT_MODEL_MANIFEST_FILE, NULL);
  if (!load_keyfile (self, keyfile, error))
    return NULL;

  groups = g_key_file_get_groups (keyfile, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      if (strcmp (groups[i], DETECTOR_GROUP) == 0 || g_str_has_prefix (groups[i], DETECTOR_GROUP_PREFIX))
        {
          if (!read_detector (self, keyfile, groups[i], error))
            return NULL;
        }
      else if (g_str_has_prefix (groups[i], MODEL_GROUP_PREFIX))
        {
          if (!read_model (self, keyfile, groups[i], error))
            return NULL;
        }
      else
        {
          fail (self, error, "unknown group [%s] (known: [%s], [%sNAME], [%sNAME])", groups[i],
                DETECTOR_GROUP, DETECTOR_GROUP_PREFIX, MODEL_GROUP_PREFIX);
          return NULL;
        }
    }
  if (self->detector == NULL)
    {
      fail (self, error, "no [%s] group", DETECTOR_GROUP);
      return NULL;
    }
  if (self->recipes->len == 0)
    {
      fail (self, error, "no [%sNAME] group: no expression model", MODEL_GROUP_PREFIX);
      return NULL;
    }
  for (guint i = 0; i < self->recipes->len; i++)
    g_ptr_array_add (self->names, ((MtModelRecipe *) g_ptr_array_index (self->recipes, i))->name);
  g_ptr_array_add (self->names, NULL);
  return g_steal_pointer (&self);
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

const MtModelRecipe *
mt_model_manifest_lookup (MtModelManifest  *self,
                          const char       *name,
                          GError          **error)
{
  g_autofree char *known = NULL;

  g_return_val_if_fail (MT_IS_MODEL_MANIFEST (self), NULL);

  for (guint i = 0; i < self->recipes->len; i++)
    {
      const MtModelRecipe *recipe = g_ptr_array_index (self->recipes, i);

      if (g_strcmp0 (recipe->name, name) == 0)
        return recipe;
    }
  known = g_strjoinv (", ", (char **) self->names->pdata);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Unknown model “%s” (known in %s: %s)", name ? name : "", self->dir, known);
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
    add_network_files (files, ((MtDetectorRecipe *) g_ptr_array_index (self->detectors, i))->network);
  for (guint i = 0; i < self->recipes->len; i++)
    {
      const MtModelRecipe *recipe = g_ptr_array_index (self->recipes, i);

      if (recipe->head != NULL)
        add_network_files (files, recipe->head);
      for (guint n = 0; n < MT_MODEL_MAX_NETWORKS && recipe->networks[n]; n++)
        add_network_files (files, recipe->networks[n]);
    }
  g_ptr_array_add (files, NULL);
  return (GStrv) g_ptr_array_free (files, FALSE);
}

GStrv
mt_model_manifest_get_search_path (void)
{
  GPtrArray *dirs = g_ptr_array_new ();
  const char *env = g_getenv ("MT_MODELS_DIR");

  if (env != NULL && env[0] != '\0')
    g_ptr_array_add (dirs, g_strdup (env));
  g_ptr_array_add (dirs, g_build_filename (g_get_user_data_dir (), "moodtunes", "models", NULL));
  g_ptr_array_add (dirs, g_strdup (MT_MODELS_DIR));
  g_ptr_array_add (dirs, NULL);
  return (GStrv) g_ptr_array_free (dirs, FALSE);
}

const char *
mt_model_manifest_find_default_dir (void)
{
  g_auto(GStrv) dirs = NULL;
  const char *env = g_getenv ("MT_MODELS_DIR");

  /* A folder named explicitly is used as it is: a fault there is shown,
   * never hidden by falling back to another folder. */
  if (env != NULL && env[0] != '\0')
    return g_intern_string (env);
  dirs = mt_model_manifest_get_search_path ();
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dirs[i], MT_MODEL_MANIFEST_FILE, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_intern_string (dirs[i]);
    }
  return MT_MODELS_DIR;
}
