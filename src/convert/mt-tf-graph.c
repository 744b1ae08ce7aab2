#define G_LOG_DOMAIN "mt-convert"

#include "config.h"

#include <stdlib.h>

#include "mt-convert-error.h"
#include "mt-tf-graph.h"

struct _MtTfGraph {
  GHashTable *nodes;       /* name -> JsonObject */
  GHashTable *consumers;   /* input name -> GPtrArray of JsonObject */
};

MtTfGraph *
mt_tf_graph_new (JsonObject  *topology,
                 const char  *path,
                 GError     **error)
{
  MtTfGraph *self;
  JsonArray *list;

  if (topology == NULL || !json_object_has_member (topology, "node") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (topology, "node")))
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                   "%s is not a graph model (no modelTopology.node)", path);
      return NULL;
    }
  list = json_object_get_array_member (topology, "node");

  self = g_new0 (MtTfGraph, 1);
  self->nodes = g_hash_table_new (g_str_hash, g_str_equal);
  self->consumers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                           (GDestroyNotify) g_ptr_array_unref);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *element = json_array_get_element (list, i);
      JsonObject *node = JSON_NODE_HOLDS_OBJECT (element) ? json_node_get_object (element) : NULL;
      const char *name = mt_tf_node_name (node);

      if (name == NULL)
        continue;
      g_hash_table_insert (self->nodes, (gpointer) name, node);
      for (guint j = 0; j < mt_tf_node_n_inputs (node); j++)
        {
          const char *input = mt_tf_node_input (node, j);
          GPtrArray *readers;

          if (input == NULL)
            continue;
          if (!(readers = g_hash_table_lookup (self->consumers, input)))
            {
              readers = g_ptr_array_new ();
              g_hash_table_insert (self->consumers, (gpointer) input, readers);
            }
          g_ptr_array_add (readers, node);
        }
    }
  return self;
}

void
mt_tf_graph_free (MtTfGraph *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->nodes);
  g_hash_table_unref (self->consumers);
  g_free (self);
}

JsonObject *
mt_tf_graph_get_node (MtTfGraph  *self,
                      const char *name)
{
  return name ? g_hash_table_lookup (self->nodes, name) : NULL;
}

guint
mt_tf_graph_get_n_consumers (MtTfGraph  *self,
                             const char *name)
{
  GPtrArray *readers = name ? g_hash_table_lookup (self->consumers, name) : NULL;

  return readers ? readers->len : 0;
}

JsonObject *
mt_tf_graph_get_consumer (MtTfGraph  *self,
                          const char *name,
                          guint       index)
{
  GPtrArray *readers = name ? g_hash_table_lookup (self->consumers, name) : NULL;

  return readers && index < readers->len ? g_ptr_array_index (readers, index) : NULL;
}

const char *
mt_tf_node_name (JsonObject *node)
{
  return node ? json_object_get_string_member_with_default (node, "name", NULL) : NULL;
}

const char *
mt_tf_node_op (JsonObject *node)
{
  return node ? json_object_get_string_member_with_default (node, "op", NULL) : NULL;
}

static JsonArray *
node_inputs (JsonObject *node)
{
  if (node == NULL || !json_object_has_member (node, "input") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (node, "input")))
    return NULL;
  return json_object_get_array_member (node, "input");
}

guint
mt_tf_node_n_inputs (JsonObject *node)
{
  JsonArray *inputs = node_inputs (node);

  return inputs ? json_array_get_length (inputs) : 0;
}

const char *
mt_tf_node_input (JsonObject *node,
                  guint       index)
{
  JsonArray *inputs = node_inputs (node);
  JsonNode *element;

  if (inputs == NULL || index >= json_array_get_length (inputs))
    return NULL;
  element = json_array_get_element (inputs, index);
  return JSON_NODE_HOLDS_VALUE (element) ? json_node_get_string (element) : NULL;
}

JsonObject *
mt_tf_node_attrs (JsonObject *node)
{
  if (node == NULL || !json_object_has_member (node, "attr") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (node, "attr")))
    return NULL;
  return json_object_get_object_member (node, "attr");
}

static JsonObject *
attr_object (JsonObject *attrs,
             const char *key)
{
  if (attrs == NULL || !json_object_has_member (attrs, key) ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (attrs, key)))
    return NULL;
  return json_object_get_object_member (attrs, key);
}

static JsonArray *
attr_list (JsonObject *attrs,
           const char *key,
           const char *kind)
{
  JsonObject *attr = attr_object (attrs, key), *list;

  if (attr == NULL || !(list = attr_object (attr, "list")) ||
      !json_object_has_member (list, kind) ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (list, kind)))
    return NULL;
  return json_object_get_array_member (list, kind);
}

char *
mt_tf_attr_string (JsonObject *attrs,
                   const char *key)
{
  JsonObject *attr = attr_object (attrs, key);
  const char *b64;
  g_autofree guchar *raw = NULL;
  gsize len;

  if (attr == NULL || !(b64 = json_object_get_string_member_with_default (attr, "s", NULL)))
    return NULL;
  raw = g_base64_decode (b64, &len);
  return g_strndup ((const char *) raw, len);
}

char *
mt_tf_attr_string_list (JsonObject *attrs,
                        const char *key)
{
  g_autoptr(GString) joined = g_string_new (NULL);
  JsonArray *items = attr_list (attrs, key, "s");

  if (items == NULL)
    return NULL;
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      const char *b64 = json_array_get_string_element (items, i);
      g_autofree guchar *raw = NULL;
      gsize len = 0;

      if (b64 != NULL)
        raw = g_base64_decode (b64, &len);
      g_string_append_printf (joined, "%s%.*s", i ? "," : "", (int) len, raw ? (const char *) raw : "");
    }
  return g_string_free (g_steal_pointer (&joined), FALSE);
}

int
mt_tf_attr_spatial (JsonObject *attrs,
                    const char *key)
{
  JsonArray *items = attr_list (attrs, key, "i");

  if (items == NULL || json_array_get_length (items) != 4)
    return -1;
  if (g_strcmp0 (json_array_get_string_element (items, 1), json_array_get_string_element (items, 2)) != 0)
    return -1;
  return atoi (json_array_get_string_element (items, 1));
}
