/* mt-tf-graph.h: reads the node graph of a TensorFlow.js graph model.
 *
 * A graph model's "modelTopology" lists nodes (name, op, inputs, attributes);
 * the family converters walk it to check that a model is the network they
 * were written for before converting its weights.  Attribute strings are
 * base64 in the JSON: these helpers decode them.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _MtTfGraph MtTfGraph;

/* Indexes the nodes of @topology (a graph model's "modelTopology"); NULL with
 * @error set when it has no node list.  @topology must outlive the graph. */
MtTfGraph   *mt_tf_graph_new              (JsonObject   *topology,
                                           const char   *path,
                                           GError      **error);
void         mt_tf_graph_free             (MtTfGraph    *self);

JsonObject  *mt_tf_graph_get_node         (MtTfGraph    *self,
                                           const char   *name);
/* The nodes that read @name's output, in the order the file lists them. */
guint        mt_tf_graph_get_n_consumers  (MtTfGraph    *self,
                                           const char   *name);
JsonObject  *mt_tf_graph_get_consumer     (MtTfGraph    *self,
                                           const char   *name,
                                           guint         index);

const char  *mt_tf_node_name              (JsonObject   *node);
const char  *mt_tf_node_op                (JsonObject   *node);
guint        mt_tf_node_n_inputs          (JsonObject   *node);
const char  *mt_tf_node_input             (JsonObject   *node,
                                           guint         index);
JsonObject  *mt_tf_node_attrs             (JsonObject   *node);

/* A string attribute ("padding"), decoded; NULL when absent. */
char        *mt_tf_attr_string            (JsonObject   *attrs,
                                           const char   *key);
/* A list of strings ("fused_ops"), decoded and joined with commas. */
char        *mt_tf_attr_string_list       (JsonObject   *attrs,
                                           const char   *key);
/* The spatial value of an NHWC list [1, s, s, 1] (strides, ksize); -1 when
 * absent or not square. */
int          mt_tf_attr_spatial           (JsonObject   *attrs,
                                           const char   *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtTfGraph, mt_tf_graph_free)

G_END_DECLS
