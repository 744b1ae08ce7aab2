/* mt-convert-blazeface.c: MediaPipe's BlazeFace "back camera" face detector
 * (human-models' blazeface-back.json) in Darknet form.
 *
 * The graph is walked from its input rather than matched against a fixed
 * list: BlazeFace is a stem convolution and a chain of residual blocks of
 * three kinds (depthwise 3x3 + pointwise; the same at stride 2 with a max
 * pooled, channel-padded residual; SSD heads), and every node is checked to
 * be one of those before anything is written.  Any other graph is refused.
 */
#define G_LOG_DOMAIN "mt-convert"

#include "config.h"

#include <string.h>

#include "mt-convert-error.h"
#include "mt-convert-models.h"
#include "mt-darknet-writer.h"
#include "mt-tf-graph.h"
#include "mt-tf-layout.h"
#include "mt-tfjs-weights.h"

#define INPUT_SIZE 256
/* Each anchor's regressors: box centre offset x, y, width, height, then six
 * key points (x, y), all in input pixels. */
#define N_REGRESSORS 16
#define MAX_HEADS 4

typedef struct {
  MtTfGraph       *graph;
  MtTfjsWeights   *weights;
  MtDarknetWriter *writer;
  const char      *path;
  GString         *heads;   /* "layer:anchors:stride" for the cfg comment */
  int              n_heads;
} Walk;

/* A node's name without the exporter's prefix ("conv2d_1" for
 * "StatefulPartitionedCall/functional_1/conv2d_1/BiasAdd"), for the cfg's
 * notes. */
static char *
short_name (JsonObject *node)
{
  const char *prefix = "StatefulPartitionedCall/functional_1/";
  const char *name = mt_tf_node_name (node);
  const char *start, *slash;

  if (name == NULL || !g_str_has_prefix (name, prefix))
    return g_strdup (name);
  start = name + strlen (prefix);
  slash = strchr (start, '/');
  return slash ? g_strndup (start, (gsize) (slash - start)) : g_strdup (start);
}

static gboolean
refuse (Walk        *walk,
        JsonObject  *node,
        const char  *problem,
        GError     **error)
{
  g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
               "%s: graph node “%s” %s: not the BlazeFace this converter knows",
               walk->path, node ? mt_tf_node_name (node) : "?", problem);
  return FALSE;
}

static int
refuse_layer (Walk        *walk,
              JsonObject  *node,
              const char  *problem,
              GError     **error)
{
  refuse (walk, node, problem, error);
  return -1;
}

/* The one node reading @name, which must run @op. */
static JsonObject *
only_consumer (Walk        *walk,
               JsonObject  *producer,
               const char  *op,
               GError     **error)
{
  const char *name = mt_tf_node_name (producer);
  JsonObject *node;

  if (mt_tf_graph_get_n_consumers (walk->graph, name) != 1)
    {
      refuse (walk, producer, "is read by more or fewer nodes than one", error);
      return NULL;
    }
  node = mt_tf_graph_get_consumer (walk->graph, name, 0);
  if (g_strcmp0 (mt_tf_node_op (node), op) != 0)
    {
      refuse (walk, node, "has another op", error);
      return NULL;
    }
  return node;
}

/* A convolution node's geometry: 'same' or 'valid', stride, fused ops. */
static gboolean
check_conv (Walk        *walk,
            JsonObject  *node,
            const char  *padding,
            int          stride,
            const char  *fused,
            GError     **error)
{
  JsonObject *attrs = mt_tf_node_attrs (node);
  g_autofree char *node_padding = mt_tf_attr_string (attrs, "padding");
  g_autofree char *node_fused = fused ? mt_tf_attr_string_list (attrs, "fused_ops") : NULL;

  if (g_strcmp0 (node_padding, padding) != 0)
    return refuse (walk, node, "has another padding", error);
  if (mt_tf_attr_spatial (attrs, "strides") != stride ||
      mt_tf_attr_spatial (attrs, "dilations") != 1)
    return refuse (walk, node, "has another stride or a dilation", error);
  if (fused != NULL && g_strcmp0 (node_fused, fused) != 0)
    return refuse (walk, node, "fuses other operations", error);
  if (mt_tf_node_n_inputs (node) != (fused ? 3u : 2u))
    return refuse (walk, node, "has other inputs", error);
  return TRUE;
}

/* @node's weight tensor @index (1: filters, 2: bias). */
static const MtTfjsTensor *
node_weights (Walk        *walk,
              JsonObject  *node,
              guint        index,
              int          rank,
              const int   *shape,
              GError     **error)
{
  return mt_tfjs_weights_get (walk->weights, mt_tf_node_input (node, index), rank, shape, error);
}

/* TensorFlow's 'same' padding at stride 2 on an even input pads (K - 2) / 2
 * before and the rest after; Darknet pads equally: a K+1 kernel with the
 * original in its bottom-right K x K and (K - 1) / 2 on every side computes
 * the same windows.  At stride 1 'same' is symmetric. */
static void
same_geometry (int  kernel,
               int  stride,
               int *size,
               int *padding)
{
  *size = stride == 2 ? kernel + 1 : kernel;
  *padding = (kernel - 1) / 2;
}

static int
add_depthwise (Walk        *walk,
               JsonObject  *node,
               int          stride,
               GError     **error)
{
  g_autofree char *node_name = short_name (node);
  g_autofree char *note = g_strdup_printf ("%s: depthwise 3x3/%d 'same'", node_name, stride);
  g_autofree float *dn = NULL;
  const MtTfjsTensor *w;
  int channels, size, padding;

  mt_darknet_writer_get_shape (walk->writer, NULL, NULL, &channels);
  if (!check_conv (walk, node, "SAME", stride, NULL, error) ||
      !(w = node_weights (walk, node, 1, 4, (int[]) { 3, 3, channels, 1 }, error)))
    return -1;
  same_geometry (3, stride, &size, &padding);
  dn = mt_tf_depthwise_to_darknet (w, size);
  return mt_darknet_writer_add_conv (walk->writer, note,
                                     &(MtDarknetConv) {
                                       .filters = channels, .size = size, .stride = stride,
                                       .padding = padding, .groups = channels,
                                       .activation = MT_DARKNET_LINEAR, .biases = NULL, .weights = dn,
                                     }, error);
}

/* A _FusedConv2D node with a bias (and, with @activation RELU, a relu). */
static int
add_conv (Walk                *walk,
          JsonObject          *node,
          int                  kernel,
          int                  stride,
          const char          *padding_mode,
          MtDarknetActivation  activation,
          int                 *filters_out,
          GError             **error)
{
  g_autofree char *note = NULL, *node_name = NULL;
  const MtTfjsTensor *w, *b;
  int channels, filters, size = kernel, padding = 0;

  mt_darknet_writer_get_shape (walk->writer, NULL, NULL, &channels);
  if (!check_conv (walk, node, padding_mode, stride,
                   activation == MT_DARKNET_RELU ? "BiasAdd,Relu" : "BiasAdd", error) ||
      !(w = node_weights (walk, node, 1, 4, (int[]) { kernel, kernel, channels, -1 }, error)))
    return -1;
  filters = w->shape[3];
  if (!(b = node_weights (walk, node, 2, 1, (int[]) { filters }, error)))
    return -1;
  if (g_strcmp0 (padding_mode, "SAME") == 0)
    same_geometry (kernel, stride, &size, &padding);
  node_name = short_name (node);
  note = g_strdup_printf ("%s: %dx%d/%d + bias%s", node_name, kernel, kernel, stride,
                          activation == MT_DARKNET_RELU ? ", relu" : "");
  if (filters_out)
    *filters_out = filters;
  return mt_tf_add_conv (walk->writer, note, w, b, size, stride, padding, activation, error);
}

/* AddV2 (@residual, @branch) then Relu: a shortcut with relu; returns the
 * Relu node through @relu. */
static int
add_residual_sum (Walk        *walk,
                  JsonObject  *branch,
                  const char  *residual,
                  int          residual_layer,
                  JsonObject **relu,
                  GError     **error)
{
  JsonObject *add;
  const char *a, *b, *branch_name = mt_tf_node_name (branch);
  g_autofree char *note = NULL, *add_name = NULL;

  if (!(add = only_consumer (walk, branch, "AddV2", error)))
    return -1;
  a = mt_tf_node_input (add, 0);
  b = mt_tf_node_input (add, 1);
  if (mt_tf_node_n_inputs (add) != 2 ||
      !((g_strcmp0 (a, residual) == 0 && g_strcmp0 (b, branch_name) == 0) ||
        (g_strcmp0 (b, residual) == 0 && g_strcmp0 (a, branch_name) == 0)))
    return refuse_layer (walk, add, "adds other tensors", error);
  if (!(*relu = only_consumer (walk, add, "Relu", error)))
    return -1;
  add_name = short_name (add);
  note = g_strdup_printf ("%s + relu", add_name);
  return mt_darknet_writer_add_shortcut (walk->writer, note, residual_layer, MT_DARKNET_RELU, error);
}

/* depthwise 3x3 'same', pointwise 1x1 + bias, add the block input, relu. */
static int
add_block (Walk        *walk,
           JsonObject  *depthwise,
           JsonObject  *input,
           int          input_layer,
           JsonObject **output,
           GError     **error)
{
  JsonObject *pointwise;

  if (add_depthwise (walk, depthwise, 1, error) < 0 ||
      !(pointwise = only_consumer (walk, depthwise, "_FusedConv2D", error)) ||
      add_conv (walk, pointwise, 1, 1, "VALID", MT_DARKNET_LINEAR, NULL, error) < 0)
    return -1;
  return add_residual_sum (walk, pointwise, mt_tf_node_name (input), input_layer, output, error);
}

/* The same at stride 2: the residual is max pooled 2x2/2 and, where the
 * block widens, padded with zero channels after the others.  Darknet's
 * [shortcut] adds a narrower layer to the first channels and leaves the
 * others as they are: exactly that padding. */
static int
add_strided_block (Walk        *walk,
                   JsonObject  *depthwise,
                   JsonObject  *pool,
                   int          input_layer,
                   JsonObject **output,
                   GError     **error)
{
  JsonObject *attrs = mt_tf_node_attrs (pool);
  g_autofree char *pool_padding = mt_tf_attr_string (attrs, "padding");
  g_autofree char *pool_name = short_name (pool);
  g_autofree char *pool_note = g_strdup_printf ("%s: 2x2/2 (residual branch)", pool_name);
  JsonObject *residual = pool, *pointwise;
  int channels, pool_layer, filters, pad_channels = 0;

  mt_darknet_writer_get_shape (walk->writer, NULL, NULL, &channels);
  /* 'same' on an even input pads nothing. */
  if (g_strcmp0 (pool_padding, "SAME") != 0 || mt_tf_attr_spatial (attrs, "strides") != 2 ||
      mt_tf_attr_spatial (attrs, "ksize") != 2)
    return refuse_layer (walk, pool, "is not a 2x2/2 'same' max pool", error);

  if (mt_tf_graph_get_n_consumers (walk->graph, mt_tf_node_name (pool)) == 1 &&
      g_strcmp0 (mt_tf_node_op (mt_tf_graph_get_consumer (walk->graph, mt_tf_node_name (pool), 0)), "Pad") == 0)
    {
      const MtTfjsTensor *pads;

      residual = mt_tf_graph_get_consumer (walk->graph, mt_tf_node_name (pool), 0);
      if (mt_tf_node_n_inputs (residual) != 2 ||
          !(pads = mt_tfjs_weights_get (walk->weights, mt_tf_node_input (residual, 1), 2, (int[]) { 4, 2 }, error)))
        return -1;
      for (int i = 0; i < 7; i++)
        if (pads->values[i] != 0)
          return refuse_layer (walk, residual, "pads more than channels after the others", error);
      pad_channels = (int) pads->values[7];
    }

  if ((pool_layer = mt_darknet_writer_add_maxpool (walk->writer, pool_note, 2, 2, 0, error)) < 0 ||
      mt_darknet_writer_add_route (walk->writer, "block input again (main branch)", input_layer, error) < 0 ||
      add_depthwise (walk, depthwise, 2, error) < 0 ||
      !(pointwise = only_consumer (walk, depthwise, "_FusedConv2D", error)) ||
      add_conv (walk, pointwise, 1, 1, "VALID", MT_DARKNET_LINEAR, &filters, error) < 0)
    return -1;
  if (filters != channels + pad_channels)
    return refuse_layer (walk, pointwise, "has another width than the padded residual", error);
  return add_residual_sum (walk, pointwise, mt_tf_node_name (residual), pool_layer, output, error);
}

/* @conv's output must be reshaped to [1, cells, values] and be a model output. */
static gboolean
check_head_output (Walk        *walk,
                   JsonObject  *conv,
                   int          cells,
                   int          values,
                   GError     **error)
{
  JsonObject *reshape, *identity;
  const MtTfjsTensor *shape;

  if (!(reshape = only_consumer (walk, conv, "Reshape", error)) ||
      !(identity = only_consumer (walk, reshape, "Identity", error)))
    return FALSE;
  if (mt_tf_node_n_inputs (reshape) != 2 ||
      !(shape = mt_tfjs_weights_get (walk->weights, mt_tf_node_input (reshape, 1), 1, (int[]) { 3 }, error)))
    return FALSE;
  if (shape->values[0] != 1 || shape->values[1] != cells || shape->values[2] != values)
    return refuse (walk, reshape, "reshapes to another layout", error);
  return TRUE;
}

/* Two 1x1 heads on the same tensor, scores (A per cell) and regressors
 * (16 A per cell), written as one convolution: channels 0..A-1 the scores,
 * then A x 16 regressors, anchor by anchor. */
static gboolean
add_heads (Walk        *walk,
           JsonObject  *a,
           JsonObject  *b,
           GError     **error)
{
  JsonObject *scores = a, *boxes = b;
  const MtTfjsTensor *ws, *bs, *wb, *bb;
  g_autofree float *weights = NULL, *biases = NULL;
  g_autofree char *note = NULL, *scores_name = NULL, *boxes_name = NULL;
  int width, height, channels, anchors, filters, layer;
  gsize per_filter;

  mt_darknet_writer_get_shape (walk->writer, &width, &height, &channels);
  for (int pass = 0; pass < 2; pass++)
    {
      JsonObject *n = pass ? b : a;

      if (!check_conv (walk, n, "SAME", 1, "BiasAdd", error))
        return FALSE;
    }
  if (!(ws = node_weights (walk, scores, 1, 4, (int[]) { 1, 1, channels, -1 }, error)) ||
      !(wb = node_weights (walk, boxes, 1, 4, (int[]) { 1, 1, channels, -1 }, error)))
    return FALSE;
  if (ws->shape[3] > wb->shape[3])
    {
      JsonObject *t = scores;
      const MtTfjsTensor *tw = ws;

      scores = boxes;
      boxes = t;
      ws = wb;
      wb = tw;
    }
  anchors = ws->shape[3];
  if (wb->shape[3] != anchors * N_REGRESSORS || walk->n_heads >= MAX_HEADS)
    return refuse (walk, boxes, "is not a head of 16 regressors per anchor", error);
  if (!(bs = node_weights (walk, scores, 2, 1, (int[]) { anchors }, error)) ||
      !(bb = node_weights (walk, boxes, 2, 1, (int[]) { anchors * N_REGRESSORS }, error)) ||
      !check_head_output (walk, scores, width * height * anchors, 1, error) ||
      !check_head_output (walk, boxes, width * height * anchors, N_REGRESSORS, error))
    return FALSE;

  filters = anchors * (1 + N_REGRESSORS);
  per_filter = (gsize) channels;
  weights = g_new (float, (gsize) filters * per_filter);
  biases = g_new (float, filters);
  {
    g_autofree float *dn_scores = mt_tf_conv_to_darknet (ws, 1);
    g_autofree float *dn_boxes = mt_tf_conv_to_darknet (wb, 1);

    memcpy (weights, dn_scores, (gsize) anchors * per_filter * sizeof (float));
    memcpy (weights + (gsize) anchors * per_filter, dn_boxes,
            (gsize) anchors * N_REGRESSORS * per_filter * sizeof (float));
    memcpy (biases, bs->values, (gsize) anchors * sizeof (float));
    memcpy (biases + anchors, bb->values, (gsize) anchors * N_REGRESSORS * sizeof (float));
  }

  scores_name = short_name (scores);
  boxes_name = short_name (boxes);
  note = g_strdup_printf ("head %d: %s (%d scores) and %s (%d x 16 regressors), 1x1 + bias",
                          walk->n_heads, scores_name, anchors, boxes_name, anchors);
  layer = mt_darknet_writer_add_conv (walk->writer, note,
                                      &(MtDarknetConv) {
                                        .filters = filters, .size = 1, .stride = 1, .padding = 0,
                                        .groups = 1, .activation = MT_DARKNET_LINEAR,
                                        .biases = biases, .weights = weights,
                                      }, error);
  if (layer < 0)
    return FALSE;
  g_string_append_printf (walk->heads, "%s%d:%d:%d", walk->n_heads ? ", " : "",
                          layer, anchors, INPUT_SIZE / width);
  walk->n_heads++;
  return TRUE;
}

static gboolean
walk_graph (Walk     *walk,
            GError  **error)
{
  JsonObject *input = mt_tf_graph_get_node (walk->graph, "input");
  JsonObject *x;
  int x_layer;

  if (input == NULL || g_strcmp0 (mt_tf_node_op (input), "Placeholder") != 0)
    return refuse (walk, input, "is not the input placeholder", error);
  if (!(x = only_consumer (walk, input, "_FusedConv2D", error)) ||
      (x_layer = add_conv (walk, x, 5, 2, "SAME", MT_DARKNET_RELU, NULL, error)) < 0)
    return FALSE;

  for (;;)
    {
      const char *name = mt_tf_node_name (x);
      guint n = mt_tf_graph_get_n_consumers (walk->graph, name);
      JsonObject *depthwise = NULL, *pool = NULL, *add = NULL, *heads[2] = { NULL, NULL };
      int n_heads = 0;

      for (guint i = 0; i < n; i++)
        {
          JsonObject *c = mt_tf_graph_get_consumer (walk->graph, name, i);
          const char *op = mt_tf_node_op (c);

          if (g_strcmp0 (op, "DepthwiseConv2dNative") == 0 && depthwise == NULL)
            depthwise = c;
          else if (g_strcmp0 (op, "MaxPool") == 0 && pool == NULL)
            pool = c;
          else if (g_strcmp0 (op, "AddV2") == 0 && add == NULL)
            add = c;
          else if (g_strcmp0 (op, "_FusedConv2D") == 0 && n_heads < 2)
            heads[n_heads++] = c;
          else
            return refuse (walk, c, "is of a kind this converter does not know here", error);
        }

      if (depthwise != NULL && add != NULL && n == 2)
        x_layer = add_block (walk, depthwise, x, x_layer, &x, error);
      else if (depthwise != NULL && pool != NULL && n == 2)
        x_layer = add_strided_block (walk, depthwise, pool, x_layer, &x, error);
      else if (n_heads == 2 && pool == NULL && add == NULL)
        {
          JsonObject *pointwise;

          if (!add_heads (walk, heads[0], heads[1], error))
            return FALSE;
          if (depthwise == NULL)
            break;
          /* The next scale: depthwise 3x3/2, pointwise + bias, relu (no
           * residual), read by the next heads. */
          if (mt_darknet_writer_add_route (walk->writer, "head input again (next scale)", x_layer, error) < 0 ||
              add_depthwise (walk, depthwise, 2, error) < 0 ||
              !(pointwise = only_consumer (walk, depthwise, "_FusedConv2D", error)))
            return FALSE;
          x_layer = add_conv (walk, pointwise, 1, 1, "VALID", MT_DARKNET_RELU, NULL, error);
          x = pointwise;
        }
      else
        return refuse (walk, x, "is read by nodes this converter does not know", error);

      if (x_layer < 0)
        return FALSE;
    }

  if (walk->n_heads != 2)
    return refuse (walk, x, "ends a graph without two SSD heads", error);
  return TRUE;
}

gboolean
mt_convert_blazeface (const char  *source_path,
                      const char  *provenance,
                      const char  *out_dir,
                      GError     **error)
{
  static const char * const names[] = { "face", NULL };
  g_autoptr(MtTfjsWeights) weights = NULL;
  g_autoptr(MtTfGraph) graph = NULL;
  g_autoptr(MtDarknetWriter) writer = mt_darknet_writer_new ();
  g_autoptr(GString) heads = g_string_new (NULL);
  Walk walk = { 0 };

  if (!(weights = mt_tfjs_weights_load (source_path, error)) ||
      !(graph = mt_tf_graph_new (mt_tfjs_weights_get_topology (weights), source_path, error)))
    return FALSE;

  mt_darknet_writer_comment (writer,
                             "Moodtunes face detector: MediaPipe's BlazeFace for the back camera (faces up to about\n"
                             "5 m; a 5x5 stem, residual blocks of depthwise 3x3 + pointwise convolutions, two SSD heads).\n"
                             "Converted by moodtunes-convert from %s (MIT; the original\n"
                             "model is Google's, from github.com/google/mediapipe, Apache-2.0: models/LICENSES).\n"
                             "Input: RGB, planar, scaled to [-1, 1] (value / 127.5 - 1), width x height (256; any\n"
                             "multiple of 32 works: the heads are 1/16 and 1/32 of the input).\n"
                             "Output: two head layers, channels = A scores then A x 16 regressors per cell (anchor\n"
                             "a's regressor k at channel A + a * 16 + k).  Anchor centres are the cell centres in input\n"
                             "pixels; decode: score = sigmoid(s), centre = anchor + (r0, r1), size = (r2, r3), key point\n"
                             "j = anchor + (r4+2j, r5+2j), all in input pixels.",
                             provenance);
  walk = (Walk) { graph, weights, writer, source_path, heads, 0 };
  mt_darknet_writer_set_input (writer, INPUT_SIZE, INPUT_SIZE, 3);
  if (!walk_graph (&walk, error))
    return FALSE;
  mt_darknet_writer_comment (writer, "\nheads (layer:anchors per cell:stride) = %s", heads->str);

  return mt_darknet_writer_save (writer, out_dir, "blazeface-back", names, error);
}
