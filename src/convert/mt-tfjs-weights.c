#define G_LOG_DOMAIN "mt-convert"

#include "config.h"

#include <string.h>

#include "mt-convert-error.h"
#include "mt-tfjs-weights.h"

struct _MtTfjsWeights {
  char       *path;
  JsonParser *parser;
  JsonObject *topology;
  GHashTable *tensors; /* name -> MtTfjsTensor */
};

static void
tensor_free (gpointer data)
{
  MtTfjsTensor *tensor = data;

  g_free (tensor->name);
  g_free (tensor->values);
  g_free (tensor);
}

void
mt_tfjs_weights_free (MtTfjsWeights *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->tensors, g_hash_table_unref);
  g_clear_object (&self->parser);
  g_free (self->path);
  g_free (self);
}

const char *
mt_tfjs_weights_get_path (MtTfjsWeights *self)
{
  return self->path;
}

JsonObject *
mt_tfjs_weights_get_topology (MtTfjsWeights *self)
{
  return self->topology;
}

static gsize
dtype_size (const char *dtype)
{
  if (g_strcmp0 (dtype, "float32") == 0 || g_strcmp0 (dtype, "int32") == 0)
    return 4;
  if (g_strcmp0 (dtype, "uint16") == 0)
    return 2;
  if (g_strcmp0 (dtype, "uint8") == 0)
    return 1;
  return 0;
}

/* Decodes one manifest entry from @data (@size bytes left) into a tensor;
 * sets *consumed to the bytes it used. */
static MtTfjsTensor *
decode_entry (MtTfjsWeights *self,
              JsonObject    *entry,
              const guint8  *data,
              gsize          size,
              gsize         *consumed,
              GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  const char *name = json_object_get_string_member_with_default (entry, "name", NULL);
  const char *dtype = json_object_get_string_member_with_default (entry, "dtype", NULL);
  JsonArray *shape = NULL;
  JsonObject *quant = NULL;
  const char *stored_dtype;
  MtTfjsTensor *tensor;
  gsize n_values = 1;
  gsize stored_size;
  double scale = 1.0, min = 0.0;

  if (name == NULL || dtype == NULL ||
      !json_object_has_member (entry, "shape") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (entry, "shape")))
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                   "%s: a weights entry lacks its name, dtype or shape", self->path);
      return NULL;
    }
  shape = json_object_get_array_member (entry, "shape");
  if (json_array_get_length (shape) > MT_TFJS_MAX_RANK)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                   "%s: weight “%s” has rank %u (at most %d supported)",
                   self->path, name, json_array_get_length (shape), MT_TFJS_MAX_RANK);
      return NULL;
    }

  tensor = g_new0 (MtTfjsTensor, 1);
  tensor->name = g_strdup (name);
  tensor->rank = (int) json_array_get_length (shape);
  for (int i = 0; i < tensor->rank; i++)
    {
      gint64 dim = json_array_get_int_element (shape, i);

      if (dim < 1 || dim > 65536)
        {
          g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                       "%s: weight “%s” has an invalid size %" G_GINT64_FORMAT " on axis %d",
                       self->path, name, dim, i);
          tensor_free (tensor);
          return NULL;
        }
      tensor->shape[i] = (int) dim;
      n_values *= (gsize) dim;
    }
  tensor->n_values = n_values;

  if (g_strcmp0 (dtype, "float32") != 0 && g_strcmp0 (dtype, "int32") != 0)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                   "%s: weight “%s” has dtype “%s” (float32 or int32 expected)",
                   self->path, name, dtype);
      tensor_free (tensor);
      return NULL;
    }

  stored_dtype = dtype;
  if (json_object_has_member (entry, "quantization"))
    {
      quant = json_object_get_object_member (entry, "quantization");
      stored_dtype = quant ? json_object_get_string_member_with_default (quant, "dtype", NULL) : NULL;
      if (quant == NULL ||
          (g_strcmp0 (stored_dtype, "uint8") != 0 && g_strcmp0 (stored_dtype, "uint16") != 0) ||
          !json_object_has_member (quant, "scale") || !json_object_has_member (quant, "min") ||
          g_strcmp0 (dtype, "float32") != 0)
        {
          g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                       "%s: weight “%s” uses a quantisation other than uint8/uint16 with min and scale",
                       self->path, name);
          tensor_free (tensor);
          return NULL;
        }
      scale = json_object_get_double_member (quant, "scale");
      min = json_object_get_double_member (quant, "min");
    }

  stored_size = n_values * dtype_size (stored_dtype);
  if (stored_size > size)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                   "%s: the weight files end inside weight “%s”", self->path, name);
      tensor_free (tensor);
      return NULL;
    }

  tensor->values = g_new (float, n_values);
  for (gsize i = 0; i < n_values; i++)
    {
      if (g_strcmp0 (stored_dtype, "uint8") == 0)
        {
          /* tfjs-core: q * scale + min in double, then stored as float32. */
          double q = data[i];
          tensor->values[i] = (float) (q * scale + min);
        }
      else if (g_strcmp0 (stored_dtype, "uint16") == 0)
        {
          guint16 q;
          memcpy (&q, data + 2 * i, 2);
          tensor->values[i] = (float) ((double) GUINT16_FROM_LE (q) * scale + min);
        }
      else if (g_strcmp0 (stored_dtype, "int32") == 0)
        {
          gint32 v;
          memcpy (&v, data + 4 * i, 4);
          tensor->values[i] = (float) GINT32_FROM_LE (v);
        }
      else
        {
          guint32 bits;
          memcpy (&bits, data + 4 * i, 4);
          bits = GUINT32_FROM_LE (bits);
          memcpy (&tensor->values[i], &bits, 4);
        }
    }

  *consumed = stored_size;
  return tensor;
}

static gboolean
load_group (MtTfjsWeights *self,
            JsonObject    *group,
            const char    *dir,
            GError       **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  JsonArray *paths, *entries;
  gsize offset = 0;

  if (!json_object_has_member (group, "paths") || !json_object_has_member (group, "weights") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (group, "paths")) ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (group, "weights")))
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                   "%s: a weights group lacks “paths” or “weights”", self->path);
      return FALSE;
    }

  /* A group's weights run on across its files, as if concatenated. */
  paths = json_object_get_array_member (group, "paths");
  for (guint i = 0; i < json_array_get_length (paths); i++)
    {
      const char *rel = json_array_get_string_element (paths, i);
      g_autofree char *file = NULL;
      g_autofree char *contents = NULL;
      gsize length;

      if (rel == NULL || strchr (rel, '/') != NULL)
        {
          g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                       "%s: weight file names must be plain names beside the manifest", self->path);
          return FALSE;
        }
      file = g_build_filename (dir, rel, NULL);
      if (!g_file_get_contents (file, &contents, &length, error))
        return FALSE;
      g_byte_array_append (bytes, (const guint8 *) contents, (guint) length);
    }

  entries = json_object_get_array_member (group, "weights");
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);
      MtTfjsTensor *tensor;
      gsize consumed = 0;

      if (entry == NULL)
        {
          g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                       "%s: weights entry %u is not an object", self->path, i);
          return FALSE;
        }
      tensor = decode_entry (self, entry, bytes->data + offset, bytes->len - offset, &consumed, error);
      if (tensor == NULL)
        return FALSE;
      if (g_hash_table_contains (self->tensors, tensor->name))
        {
          g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                       "%s: weight “%s” appears twice", self->path, tensor->name);
          tensor_free (tensor);
          return FALSE;
        }
      offset += consumed;
      g_hash_table_insert (self->tensors, tensor->name, tensor);
    }

  if (offset != bytes->len)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                   "%s: the weight files hold %u bytes but the manifest describes %" G_GSIZE_FORMAT,
                   self->path, bytes->len, offset);
      return FALSE;
    }
  return TRUE;
}

MtTfjsWeights *
mt_tfjs_weights_load (const char  *json_path,
                      GError     **error)
{
  g_autoptr(MtTfjsWeights) self = NULL;
  g_autofree char *dir = NULL;
  JsonNode *root;
  JsonArray *groups = NULL;

  g_return_val_if_fail (json_path != NULL, NULL);

  self = g_new0 (MtTfjsWeights, 1);
  self->path = g_strdup (json_path);
  self->parser = json_parser_new ();
  self->tensors = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, tensor_free);

  if (!json_parser_load_from_file (self->parser, json_path, error))
    {
      g_prefix_error (error, "%s: ", json_path);
      return NULL;
    }

  root = json_parser_get_root (self->parser);
  if (root != NULL && JSON_NODE_HOLDS_ARRAY (root))
    groups = json_node_get_array (root);
  else if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *model = json_node_get_object (root);

      if (json_object_has_member (model, "weightsManifest") &&
          JSON_NODE_HOLDS_ARRAY (json_object_get_member (model, "weightsManifest")))
        groups = json_object_get_array_member (model, "weightsManifest");
      if (json_object_has_member (model, "modelTopology") &&
          JSON_NODE_HOLDS_OBJECT (json_object_get_member (model, "modelTopology")))
        self->topology = json_object_get_object_member (model, "modelTopology");
    }
  if (groups == NULL)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                   "%s is neither a TensorFlow.js weights manifest nor a model.json", json_path);
      return NULL;
    }

  dir = g_path_get_dirname (json_path);
  for (guint i = 0; i < json_array_get_length (groups); i++)
    {
      JsonObject *group = json_array_get_object_element (groups, i);

      if (group == NULL)
        {
          g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                       "%s: weights group %u is not an object", json_path, i);
          return NULL;
        }
      if (!load_group (self, group, dir, error))
        return NULL;
    }

  return g_steal_pointer (&self);
}

const MtTfjsTensor *
mt_tfjs_weights_get (MtTfjsWeights  *self,
                     const char     *name,
                     int             rank,
                     const int      *shape,
                     GError        **error)
{
  const MtTfjsTensor *tensor;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  tensor = g_hash_table_lookup (self->tensors, name);
  if (tensor == NULL)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                   "%s: weight “%s” is missing", self->path, name);
      return NULL;
    }

  if (tensor->rank != rank)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                   "%s: weight “%s” has rank %d, expected %d", self->path, name, tensor->rank, rank);
      return NULL;
    }
  for (int i = 0; shape != NULL && i < rank; i++)
    if (shape[i] >= 0 && tensor->shape[i] != shape[i])
      {
        g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                     "%s: weight “%s” has size %d on axis %d, expected %d",
                     self->path, name, tensor->shape[i], i, shape[i]);
        return NULL;
      }
  return tensor;
}
