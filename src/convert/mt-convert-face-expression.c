#define G_LOG_DOMAIN "mt-convert"

#include "config.h"

#include "mt-convert-error.h"
#include "mt-convert-models.h"
#include "mt-darknet-writer.h"
#include "mt-tf-layout.h"
#include "mt-tfjs-weights.h"

#define INPUT_SIZE 112
#define N_CLASSES 7

/* face-api's FACE_EXPRESSION_LABELS are neutral, happy, sad, angry, fearful,
 * disgusted, surprised: row i of our output layer is its row order[i]. */
static const int label_order[N_CLASSES] = { 3, 5, 4, 1, 2, 6, 0 };

/* Channels out of dense0..dense3. */
static const int block_filters[4] = { 32, 64, 128, 256 };

/* A 'same' 3x3 kernel at stride 2 on an even input is a 4x4 kernel with one
 * zero row and column in front, padded by 1 (see mt-tf-layout.h); at stride 1
 * it is Darknet's symmetric padding of 1. */
static int
same_kernel_size (int stride)
{
  return stride == 2 ? 4 : 3;
}

/* depthwiseSeparableConv: depthwise 3x3 'same', pointwise 1x1 + bias. */
static int
add_separable (MtDarknetWriter     *writer,
               MtTfjsWeights       *weights,
               const char          *prefix,
               int                  filters,
               int                  stride,
               MtDarknetActivation  activation,
               GError             **error)
{
  g_autofree char *dw_name = g_strdup_printf ("%s/depthwise_filter", prefix);
  g_autofree char *pw_name = g_strdup_printf ("%s/pointwise_filter", prefix);
  g_autofree char *bias_name = g_strdup_printf ("%s/bias", prefix);
  g_autofree char *dw_note = g_strdup_printf ("%s depthwise 3x3/%d 'same'", prefix, stride);
  g_autofree char *pw_note = g_strdup_printf ("%s pointwise 1x1 + bias%s", prefix,
                                              activation == MT_DARKNET_RELU ? ", relu" : "");
  g_autofree float *dw = NULL;
  g_autofree float *pw = NULL;
  const MtTfjsTensor *dw_t, *pw_t, *bias_t;
  int channels, size = same_kernel_size (stride);

  mt_darknet_writer_get_shape (writer, NULL, NULL, &channels);
  if (!(dw_t = mt_tfjs_weights_get (weights, dw_name, 4, (int[]) { 3, 3, channels, 1 }, error)) ||
      !(pw_t = mt_tfjs_weights_get (weights, pw_name, 4, (int[]) { 1, 1, channels, filters }, error)) ||
      !(bias_t = mt_tfjs_weights_get (weights, bias_name, 1, (int[]) { filters }, error)))
    return -1;

  dw = mt_tf_depthwise_to_darknet (dw_t, size);
  pw = mt_tf_conv_to_darknet (pw_t, 1);

  if (mt_darknet_writer_add_conv (writer, dw_note,
                                  &(MtDarknetConv) {
                                    .filters = channels, .size = size, .stride = stride, .padding = 1,
                                    .groups = channels, .activation = MT_DARKNET_LINEAR,
                                    .biases = NULL, .weights = dw,
                                  }, error) < 0)
    return -1;
  return mt_darknet_writer_add_conv (writer, pw_note,
                                     &(MtDarknetConv) {
                                       .filters = filters, .size = 1, .stride = 1, .padding = 0,
                                       .groups = 1, .activation = activation,
                                       .biases = bias_t->values, .weights = pw,
                                     }, error);
}

/* dense0's first layer is a plain 3x3 convolution at stride 2 + bias, relu. */
static int
add_first_conv (MtDarknetWriter *writer,
                MtTfjsWeights   *weights,
                GError         **error)
{
  const MtTfjsTensor *filters, *bias;
  g_autofree float *dn = NULL;

  if (!(filters = mt_tfjs_weights_get (weights, "dense0/conv0/filters", 4, (int[]) { 3, 3, 3, 32 }, error)) ||
      !(bias = mt_tfjs_weights_get (weights, "dense0/conv0/bias", 1, (int[]) { 32 }, error)))
    return -1;
  dn = mt_tf_conv_to_darknet (filters, 4);

  return mt_darknet_writer_add_conv (writer, "dense0/conv0 3x3/2 'same' + bias, relu",
                                     &(MtDarknetConv) {
                                       .filters = 32, .size = 4, .stride = 2, .padding = 1, .groups = 1,
                                       .activation = MT_DARKNET_RELU,
                                       .biases = bias->values, .weights = dn,
                                     }, error);
}

/* denseBlock4 (face-api src/faceFeatureExtractor/denseBlock.ts):
 *   out1 = relu(conv0(x))            out2 = sep1(out1)
 *   out3 = sep2(relu(out1 + out2))   out4 = sep3(relu(out1 + (out2 + out3)))
 *   y = relu(out1 + (out2 + (out3 + out4)))
 * The linear sums are rebuilt from the kept outputs with shortcuts, adding in
 * TensorFlow's order so every float sum is the same. */
static gboolean
add_dense_block (MtDarknetWriter *writer,
                 MtTfjsWeights   *weights,
                 int              block,
                 GError         **error)
{
  int filters = block_filters[block];
  int out1, out2, out3, out4;
  g_autofree char *p1 = g_strdup_printf ("dense%d/conv1", block);
  g_autofree char *p2 = g_strdup_printf ("dense%d/conv2", block);
  g_autofree char *p3 = g_strdup_printf ("dense%d/conv3", block);

  mt_darknet_writer_comment (writer, "\n---- dense%d: %d channels ----", block, filters);

  if (block == 0)
    out1 = add_first_conv (writer, weights, error);
  else
    {
      g_autofree char *p0 = g_strdup_printf ("dense%d/conv0", block);
      out1 = add_separable (writer, weights, p0, filters, 2, MT_DARKNET_RELU, error);
    }
  if (out1 < 0)
    return FALSE;

  if ((out2 = add_separable (writer, weights, p1, filters, 1, MT_DARKNET_LINEAR, error)) < 0 ||
      mt_darknet_writer_add_shortcut (writer, "relu(out1 + out2)", out1, MT_DARKNET_RELU, error) < 0 ||
      (out3 = add_separable (writer, weights, p2, filters, 1, MT_DARKNET_LINEAR, error)) < 0 ||
      mt_darknet_writer_add_shortcut (writer, "out2 + out3", out2, MT_DARKNET_LINEAR, error) < 0 ||
      mt_darknet_writer_add_shortcut (writer, "relu(out1 + (out2 + out3))", out1, MT_DARKNET_RELU, error) < 0 ||
      (out4 = add_separable (writer, weights, p3, filters, 1, MT_DARKNET_LINEAR, error)) < 0 ||
      mt_darknet_writer_add_shortcut (writer, "out3 + out4", out3, MT_DARKNET_LINEAR, error) < 0 ||
      mt_darknet_writer_add_shortcut (writer, "out2 + (out3 + out4)", out2, MT_DARKNET_LINEAR, error) < 0 ||
      mt_darknet_writer_add_shortcut (writer, "relu(out1 + (out2 + (out3 + out4))): block output",
                                      out1, MT_DARKNET_RELU, error) < 0)
    return FALSE;
  return TRUE;
}

gboolean
mt_convert_face_expression (const char  *source_path,
                            const char  *provenance,
                            const char  *out_dir,
                            GError     **error)
{
  g_autoptr(MtTfjsWeights) weights = NULL;
  g_autoptr(MtDarknetWriter) writer = mt_darknet_writer_new ();
  const MtTfjsTensor *fc, *fc_bias;
  g_autofree float *fc_dn = NULL;
  g_autofree float *fc_rows = NULL;
  g_autofree float *bias_rows = NULL;
  int w, h, c;

  if (!(weights = mt_tfjs_weights_load (source_path, error)))
    return FALSE;

  mt_darknet_writer_comment (writer,
                             "Moodtunes face expression classifier: face-api's FaceExpressionNet (4 dense blocks of\n"
                             "separable convolutions, global average pool, fully connected, softmax).\n"
                             "Converted by moodtunes-convert from %s (MIT).\n"
                             "Input: a 112x112 face crop, RGB planar, each channel (value - mean) / 255 with\n"
                             "value in 0..255 and mean R,G,B = 122.782, 117.001, 104.298 (face-api pads a\n"
                             "non-square crop to a square, centred, with zeros before resizing).\n"
                             "Output: 7 probabilities, in the order of face-expression.names.\n",
                             provenance);
  mt_darknet_writer_set_input (writer, INPUT_SIZE, INPUT_SIZE, 3);

  for (int block = 0; block < 4; block++)
    if (!add_dense_block (writer, weights, block, error))
      return FALSE;

  mt_darknet_writer_get_shape (writer, &w, &h, &c);
  if (w != 7 || h != 7 || c != 256)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_UNSUPPORTED,
                   "the feature map is %dx%dx%d, 7x7x256 expected", w, h, c);
      return FALSE;
    }

  mt_darknet_writer_comment (writer, "\n---- classifier ----");
  if (mt_darknet_writer_add_avgpool (writer, "average pool 7x7 (the whole map)", error) < 0)
    return FALSE;

  if (!(fc = mt_tfjs_weights_get (weights, "fc/weights", 2, (int[]) { 256, N_CLASSES }, error)) ||
      !(fc_bias = mt_tfjs_weights_get (weights, "fc/bias", 1, (int[]) { N_CLASSES }, error)))
    return FALSE;
  fc_dn = mt_tf_dense_to_darknet (fc);
  fc_rows = mt_tf_reorder_rows (fc_dn, N_CLASSES, 256, label_order);
  bias_rows = mt_tf_reorder_rows (fc_bias->values, N_CLASSES, 1, label_order);

  if (mt_darknet_writer_add_connected (writer, "fc, rows reordered to angry..neutral", N_CLASSES,
                                       MT_DARKNET_LINEAR, bias_rows, fc_rows, error) < 0 ||
      mt_darknet_writer_add_softmax (writer, "softmax", error) < 0)
    return FALSE;

  return mt_darknet_writer_save (writer, out_dir, "face-expression",
                                 mt_convert_expression_labels, error);
}
