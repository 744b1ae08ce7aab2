#define G_LOG_DOMAIN "mt-convert"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mt-convert-error.h"
#include "mt-convert-models.h"
#include "mt-darknet-writer.h"
#include "mt-tf-graph.h"
#include "mt-tf-layout.h"
#include "mt-tfjs-weights.h"

#define INPUT_SIZE 64
#define N_CLASSES 7
#define P "StatefulPartitionedCall/model_1/"

/* The graph this converter was written for (human-models' emotion.json):
 * every node it relies on, with its inputs and geometry.  Any other graph is
 * refused rather than converted into something different. */
typedef struct {
  const char *name;
  const char *op;
  const char *inputs[3];
  const char *padding;  /* "SAME", "VALID" or NULL */
  int         stride;   /* 0: not checked */
  const char *fused;    /* _FusedConv2D's fused ops, comma separated */
} GraphNode;

static const GraphNode graph[] = {
  { P "block1_conv1_act/Relu", "_FusedConv2D",
    { "input_1", P "conv2d_1/Conv2D_weights", P "conv2d_1/Conv2D_bn_offset" }, "VALID", 2, "BiasAdd,Relu" },
  { P "block1_conv2_act/Relu", "_FusedConv2D",
    { P "block1_conv1_act/Relu", P "conv2d_2/Conv2D_weights", P "conv2d_2/Conv2D_bn_offset" }, "VALID", 1, "BiasAdd,Relu" },
  { P "batch_normalization_1/FusedBatchNormV3", "_FusedConv2D",
    { P "block1_conv2_act/Relu", P "conv2d_3/Conv2D_weights", P "conv2d_3/Conv2D_bn_offset" }, "SAME", 2, "BiasAdd" },
  { P "separable_conv2d_1/separable_conv2d/depthwise", "DepthwiseConv2dNative",
    { P "block1_conv2_act/Relu", "unknown_9" }, "SAME", 1, NULL },
  { P "block2_sepconv2_act/Relu", "_FusedConv2D",
    { P "separable_conv2d_1/separable_conv2d/depthwise", P "separable_conv2d_1/separable_conv2d_weights",
      P "separable_conv2d_1/separable_conv2d_bn_offset" }, "VALID", 1, "BiasAdd,Relu" },
  { P "separable_conv2d_2/separable_conv2d/depthwise", "DepthwiseConv2dNative",
    { P "block2_sepconv2_act/Relu", "unknown_15" }, "SAME", 1, NULL },
  { P "block2_sepconv2_bn/FusedBatchNormV3", "_FusedConv2D",
    { P "separable_conv2d_2/separable_conv2d/depthwise", P "separable_conv2d_2/separable_conv2d_weights",
      P "separable_conv2d_2/separable_conv2d_bn_offset" }, "VALID", 1, "BiasAdd" },
  { P "max_pooling2d_1/MaxPool", "MaxPool", { P "block2_sepconv2_bn/FusedBatchNormV3" }, "SAME", 2, NULL },
  { P "add_1/add", "AddV2", { P "max_pooling2d_1/MaxPool", P "batch_normalization_1/FusedBatchNormV3" }, NULL, 0, NULL },
  { P "block3_sepconv1_act/Relu", "Relu", { P "add_1/add" }, NULL, 0, NULL },
  { P "batch_normalization_2/FusedBatchNormV3", "_FusedConv2D",
    { P "add_1/add", P "conv2d_4/Conv2D_weights", P "conv2d_4/Conv2D_bn_offset" }, "SAME", 2, "BiasAdd" },
  { P "separable_conv2d_3/separable_conv2d/depthwise", "DepthwiseConv2dNative",
    { P "block3_sepconv1_act/Relu", "unknown_26" }, "SAME", 1, NULL },
  { P "block3_sepconv2_act/Relu", "_FusedConv2D",
    { P "separable_conv2d_3/separable_conv2d/depthwise", P "separable_conv2d_3/separable_conv2d_weights",
      P "separable_conv2d_3/separable_conv2d_bn_offset" }, "VALID", 1, "BiasAdd,Relu" },
  { P "separable_conv2d_4/separable_conv2d/depthwise", "DepthwiseConv2dNative",
    { P "block3_sepconv2_act/Relu", "unknown_32" }, "SAME", 1, NULL },
  { P "block3_sepconv2_bn/FusedBatchNormV3", "_FusedConv2D",
    { P "separable_conv2d_4/separable_conv2d/depthwise", P "separable_conv2d_4/separable_conv2d_weights",
      P "separable_conv2d_4/separable_conv2d_bn_offset" }, "VALID", 1, "BiasAdd" },
  { P "max_pooling2d_2/MaxPool", "MaxPool", { P "block3_sepconv2_bn/FusedBatchNormV3" }, "SAME", 2, NULL },
  { P "add_2/add", "AddV2", { P "max_pooling2d_2/MaxPool", P "batch_normalization_2/FusedBatchNormV3" }, NULL, 0, NULL },
  { P "conv2d_5/BiasAdd", "_FusedConv2D", { P "add_2/add", "unknown_43", "unknown_44" }, "SAME", 1, "BiasAdd" },
  { P "global_average_pooling2d_1/Mean", "Mean",
    { P "conv2d_5/BiasAdd", P "global_average_pooling2d_1/Mean/reduction_indices" }, NULL, 0, NULL },
  { P "predictions/Softmax", "Softmax", { P "global_average_pooling2d_1/Mean" }, NULL, 0, NULL },
};

static gboolean
check_graph (MtTfjsWeights  *weights,
             GError        **error)
{
  JsonObject *topology = mt_tfjs_weights_get_topology (weights);
  g_autoptr(GHashTable) nodes = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *list;

  if (topology == NULL || !json_object_has_member (topology, "node") ||
      !(list = json_object_get_array_member (topology, "node")))
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                   "%s is not a graph model (no modelTopology.node)", mt_tfjs_weights_get_path (weights));
      return FALSE;
    }
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *node = json_array_get_object_element (list, i);
      const char *name = node ? json_object_get_string_member_with_default (node, "name", NULL) : NULL;

      if (name != NULL)
        g_hash_table_insert (nodes, (gpointer) name, node);
    }

  for (guint i = 0; i < G_N_ELEMENTS (graph); i++)
    {
      const GraphNode *want = &graph[i];
      JsonObject *node = g_hash_table_lookup (nodes, want->name);
      JsonObject *attrs;
      JsonArray *inputs;
      guint n_want = 0;
      const char *problem = NULL;

      while (n_want < G_N_ELEMENTS (want->inputs) && want->inputs[n_want] != NULL)
        n_want++;

      if (node == NULL)
        problem = "is missing";
      else if (g_strcmp0 (json_object_get_string_member_with_default (node, "op", NULL), want->op) != 0)
        problem = "has another op";
      else if (!json_object_has_member (node, "input") ||
               !(inputs = json_object_get_array_member (node, "input")) ||
               json_array_get_length (inputs) != n_want)
        problem = "has other inputs";
      else
        {
          attrs = json_object_has_member (node, "attr") ? json_object_get_object_member (node, "attr") : NULL;
          for (guint j = 0; j < n_want && problem == NULL; j++)
            if (g_strcmp0 (json_array_get_string_element (inputs, j), want->inputs[j]) != 0)
              problem = "has other inputs";
          if (problem == NULL && want->padding != NULL)
            {
              g_autofree char *padding = mt_tf_attr_string (attrs, "padding");

              if (g_strcmp0 (padding, want->padding) != 0)
                problem = "has another padding";
            }
          if (problem == NULL && want->stride != 0 && mt_tf_attr_spatial (attrs, "strides") != want->stride)
            problem = "has another stride";
          /* Both pools are 3x3 (add_same_maxpool's size). */
          if (problem == NULL && g_strcmp0 (want->op, "MaxPool") == 0 && mt_tf_attr_spatial (attrs, "ksize") != 3)
            problem = "has another pool size";
          if (problem == NULL && g_strcmp0 (want->op, "_FusedConv2D") == 0)
            {
              g_autofree char *fused = mt_tf_attr_string_list (attrs, "fused_ops");

              if (g_strcmp0 (fused, want->fused) != 0)
                problem = "fuses other operations";
            }
        }

      if (problem != NULL)
        {
          g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_INVALID_MODEL,
                       "%s: graph node “%s” %s than the mini-Xception this converter knows",
                       mt_tfjs_weights_get_path (weights), want->name, problem);
          return FALSE;
        }
    }
  return TRUE;
}

/* A plain convolution (BiasAdd, optional Relu) of the graph. */
static int
add_conv (MtDarknetWriter     *writer,
          MtTfjsWeights       *weights,
          const char          *note,
          const char          *weights_name,
          const char          *bias_name,
          int                  size,
          int                  filters,
          int                  stride,
          int                  padding,
          MtDarknetActivation  activation,
          GError             **error)
{
  const MtTfjsTensor *w, *b;
  int channels;

  mt_darknet_writer_get_shape (writer, NULL, NULL, &channels);
  if (!(w = mt_tfjs_weights_get (weights, weights_name, 4, (int[]) { size, size, channels, filters }, error)) ||
      !(b = mt_tfjs_weights_get (weights, bias_name, 1, (int[]) { filters }, error)))
    return -1;
  return mt_tf_add_conv (writer, note, w, b, size, stride, padding, activation, error);
}

/* Keras SeparableConv2D, batch norm folded by the exporter: depthwise 3x3
 * 'same' (no bias), then pointwise 1x1 + bias. */
static int
add_separable (MtDarknetWriter     *writer,
               MtTfjsWeights       *weights,
               int                  index,
               const char          *depthwise_name,
               int                  filters,
               MtDarknetActivation  activation,
               GError             **error)
{
  g_autofree char *pw_name = g_strdup_printf (P "separable_conv2d_%d/separable_conv2d_weights", index);
  g_autofree char *bias_name = g_strdup_printf (P "separable_conv2d_%d/separable_conv2d_bn_offset", index);
  g_autofree char *dw_note = g_strdup_printf ("separable_conv2d_%d depthwise 3x3 'same'", index);
  g_autofree char *pw_note = g_strdup_printf ("separable_conv2d_%d pointwise 1x1 + bias%s", index,
                                              activation == MT_DARKNET_RELU ? ", relu" : "");
  const MtTfjsTensor *dw_t;
  g_autofree float *dw = NULL;
  int channels;

  mt_darknet_writer_get_shape (writer, NULL, NULL, &channels);
  if (!(dw_t = mt_tfjs_weights_get (weights, depthwise_name, 4, (int[]) { 3, 3, channels, 1 }, error)))
    return -1;
  dw = mt_tf_depthwise_to_darknet (dw_t, 3);
  if (mt_darknet_writer_add_conv (writer, dw_note,
                                  &(MtDarknetConv) {
                                    .filters = channels, .size = 3, .stride = 1, .padding = 1,
                                    .groups = channels, .activation = MT_DARKNET_LINEAR,
                                    .biases = NULL, .weights = dw,
                                  }, error) < 0)
    return -1;
  return add_conv (writer, weights, pw_note, pw_name, bias_name, 1, filters, 1, 0, activation, error);
}

/* TensorFlow's 'same' max pool pads total = (out - 1) * stride + size - in,
 * half before (rounded down); Darknet pads padding / 2 before: the same. */
static int
add_same_maxpool (MtDarknetWriter  *writer,
                  const char       *note,
                  int               size,
                  int               stride,
                  GError          **error)
{
  int in, out, total;

  mt_darknet_writer_get_shape (writer, &in, NULL, NULL);
  out = (in + stride - 1) / stride;
  total = MAX ((out - 1) * stride + size - in, 0);
  return mt_darknet_writer_add_maxpool (writer, note, size, stride, total, error);
}

/* A 1x1 convolution at stride 2 on layer @from ('same' pads nothing on the
 * odd sizes 29 and 15): Darknet ignores the
 * stride of 1x1 kernels, so a 1x1 max pool at stride 2 picks the pixels
 * first. */
static int
add_strided_residual (MtDarknetWriter  *writer,
                      MtTfjsWeights    *weights,
                      int               from,
                      int               index,
                      int               filters,
                      GError          **error)
{
  g_autofree char *note = g_strdup_printf ("conv2d_%d: 1x1/2 + bias (residual branch)", index);
  g_autofree char *w_name = g_strdup_printf (P "conv2d_%d/Conv2D_weights", index);
  g_autofree char *b_name = g_strdup_printf (P "conv2d_%d/Conv2D_bn_offset", index);

  if (mt_darknet_writer_add_route (writer, "residual branch input", from, error) < 0 ||
      mt_darknet_writer_add_maxpool (writer, "take every second pixel (1x1/2)", 1, 2, 0, error) < 0)
    return -1;
  return add_conv (writer, weights, note, w_name, b_name, 1, filters, 1, 0, MT_DARKNET_LINEAR, error);
}

/* conv2d_1 is 'valid': the input scaling x = (gray - 0.5) * 2 folds into it
 * exactly, so the network takes gray scaled to [0, 1]. */
static int
add_first_conv (MtDarknetWriter *writer,
                MtTfjsWeights   *weights,
                GError         **error)
{
  const MtTfjsTensor *w, *b;
  g_autofree float *dn = NULL;
  float biases[32];

  if (!(w = mt_tfjs_weights_get (weights, P "conv2d_1/Conv2D_weights", 4, (int[]) { 3, 3, 1, 32 }, error)) ||
      !(b = mt_tfjs_weights_get (weights, P "conv2d_1/Conv2D_bn_offset", 1, (int[]) { 32 }, error)))
    return -1;
  dn = mt_tf_conv_to_darknet (w, 3);
  for (int o = 0; o < 32; o++)
    {
      double sum = b->values[o];

      for (int k = 0; k < 9; k++)
        {
          sum -= dn[o * 9 + k];
          dn[o * 9 + k] *= 2.0f;
        }
      biases[o] = (float) sum;
    }
  return mt_darknet_writer_add_conv (writer, "conv2d_1: 3x3/2 'valid' + bias, relu; input scaling folded in",
                                     &(MtDarknetConv) {
                                       .filters = 32, .size = 3, .stride = 2, .padding = 0, .groups = 1,
                                       .activation = MT_DARKNET_RELU, .biases = biases, .weights = dn,
                                     }, error);
}

gboolean
mt_convert_emotion_xception (const char  *source_path,
                             const char  *provenance,
                             const char  *out_dir,
                             GError     **error)
{
  g_autoptr(MtTfjsWeights) weights = NULL;
  g_autoptr(MtDarknetWriter) writer = mt_darknet_writer_new ();
  int block1, pool1, res1, add1, pool2;

  if (!(weights = mt_tfjs_weights_load (source_path, error)) ||
      !check_graph (weights, error))
    return FALSE;

  /* oarriaga's FER2013 classes are already angry, disgust, fear, happy, sad,
   * surprise, neutral: no reordering. */
  mt_darknet_writer_comment (writer,
                             "Moodtunes emotion classifier: oarriaga's mini-Xception trained on FER2013 (2 residual\n"
                             "blocks of separable convolutions, a 3x3 convolution to 7 maps, global average pool,\n"
                             "softmax).\n"
                             "Converted by moodtunes-convert from %s (MIT).\n"
                             "Input: a 64x64 face crop, one gray channel scaled to [0, 1] (value / 255); the\n"
                             "original's scaling to [-1, 1] is folded into the first layer.\n"
                             "Output: 7 probabilities, in the order of emotion-xception.names.\n",
                             provenance);
  mt_darknet_writer_set_input (writer, INPUT_SIZE, INPUT_SIZE, 1);

  mt_darknet_writer_comment (writer, "\n---- block 1 ----");
  if (add_first_conv (writer, weights, error) < 0 ||
      (block1 = add_conv (writer, weights, "conv2d_2: 3x3 'valid' + bias, relu",
                          P "conv2d_2/Conv2D_weights", P "conv2d_2/Conv2D_bn_offset",
                          3, 64, 1, 0, MT_DARKNET_RELU, error)) < 0)
    return FALSE;

  mt_darknet_writer_comment (writer, "\n---- block 2 ----");
  if (add_separable (writer, weights, 1, "unknown_9", 128, MT_DARKNET_RELU, error) < 0 ||
      add_separable (writer, weights, 2, "unknown_15", 128, MT_DARKNET_LINEAR, error) < 0 ||
      (pool1 = add_same_maxpool (writer, "max_pooling2d_1: 3x3/2 'same'", 3, 2, error)) < 0 ||
      (res1 = add_strided_residual (writer, weights, block1, 3, 128, error)) < 0 ||
      (add1 = mt_darknet_writer_add_shortcut (writer, "add_1", pool1, MT_DARKNET_LINEAR, error)) < 0)
    return FALSE;

  /* block 3 reads relu(add_1), its residual branch add_1 itself: the sum is
   * computed a second time with relu rather than keeping one copy. */
  mt_darknet_writer_comment (writer, "\n---- block 3 ----");
  if (mt_darknet_writer_add_route (writer, "residual 1 again", res1, error) < 0 ||
      mt_darknet_writer_add_shortcut (writer, "relu(add_1)", pool1, MT_DARKNET_RELU, error) < 0 ||
      add_separable (writer, weights, 3, "unknown_26", 256, MT_DARKNET_RELU, error) < 0 ||
      add_separable (writer, weights, 4, "unknown_32", 256, MT_DARKNET_LINEAR, error) < 0 ||
      (pool2 = add_same_maxpool (writer, "max_pooling2d_2: 3x3/2 'same'", 3, 2, error)) < 0 ||
      add_strided_residual (writer, weights, add1, 4, 256, error) < 0 ||
      mt_darknet_writer_add_shortcut (writer, "add_2", pool2, MT_DARKNET_LINEAR, error) < 0)
    return FALSE;

  mt_darknet_writer_comment (writer, "\n---- classifier ----");
  if (add_conv (writer, weights, "conv2d_5: 3x3 'same' + bias to 7 class maps",
                "unknown_43", "unknown_44", 3, N_CLASSES, 1, 1, MT_DARKNET_LINEAR, error) < 0 ||
      mt_darknet_writer_add_avgpool (writer, "global average pool", error) < 0 ||
      mt_darknet_writer_add_softmax (writer, "softmax", error) < 0)
    return FALSE;

  return mt_darknet_writer_save (writer, out_dir, "emotion-xception",
                                 mt_convert_expression_labels, error);
}
