#define G_LOG_DOMAIN "mt-convert"

#include "config.h"

#include "mt-convert-models.h"
#include "mt-darknet-writer.h"
#include "mt-tf-layout.h"
#include "mt-tfjs-weights.h"

#define INPUT_SIZE 416

/* face-api's src/tinyFaceDetector/const.ts: anchors in grid cells and the
 * RGB mean the network subtracts before dividing by 255. */
static const double anchors[5][2] = {
  { 1.603231, 2.094468 },
  { 6.041143, 7.080126 },
  { 2.882459, 3.518061 },
  { 4.266906, 5.178857 },
  { 9.041765, 10.66308 },
};
static const double mean_rgb[3] = { 117.001, 114.697, 97.404 };

/* conv1..conv5 of TinyYolov2Base.runMobilenet: channels out of each. */
static const int separable_filters[5] = { 32, 64, 128, 256, 512 };

/* conv0 is a 'valid' 3x3 convolution: with no padding, the input
 * normalisation (x - mean) / 255 folds exactly into it, so the network takes
 * plain RGB scaled to [0, 1]. */
static gboolean
add_first_conv (MtDarknetWriter *writer,
                MtTfjsWeights   *weights,
                GError         **error)
{
  const int filter_shape[4] = { 3, 3, 3, 16 };
  const int bias_shape[1] = { 16 };
  const MtTfjsTensor *filters, *bias;
  g_autofree float *dn_weights = NULL;
  float dn_biases[16];

  if (!(filters = mt_tfjs_weights_get (weights, "conv0/filters", 4, filter_shape, error)) ||
      !(bias = mt_tfjs_weights_get (weights, "conv0/bias", 1, bias_shape, error)))
    return FALSE;

  for (int o = 0; o < 16; o++)
    {
      double b = bias->values[o];

      for (gsize i = (gsize) o; i < filters->n_values; i += 16)
        b -= filters->values[i] * mean_rgb[(i / 16) % 3] / 255.0;
      dn_biases[o] = (float) b;
    }
  dn_weights = mt_tf_conv_to_darknet (filters, 3);

  return mt_darknet_writer_add_conv (writer, "conv0: 3x3 'valid', mean folded in, leaky 0.1",
                                     &(MtDarknetConv) {
                                       .filters = 16, .size = 3, .stride = 1, .padding = 0, .groups = 1,
                                       .activation = MT_DARKNET_LEAKY,
                                       .biases = dn_biases, .weights = dn_weights,
                                     }, error) >= 0;
}

/* depthwiseSeparableConv: pad 1, depthwise 3x3, pointwise 1x1 + bias, leaky. */
static gboolean
add_separable (MtDarknetWriter *writer,
               MtTfjsWeights   *weights,
               int              index,
               int              filters,
               GError         **error)
{
  g_autofree char *dw_name = g_strdup_printf ("conv%d/depthwise_filter", index);
  g_autofree char *pw_name = g_strdup_printf ("conv%d/pointwise_filter", index);
  g_autofree char *bias_name = g_strdup_printf ("conv%d/bias", index);
  g_autofree char *dw_note = g_strdup_printf ("conv%d depthwise 3x3", index);
  g_autofree char *pw_note = g_strdup_printf ("conv%d pointwise 1x1 + bias, leaky 0.1", index);
  g_autofree float *dw = NULL;
  g_autofree float *pw = NULL;
  const MtTfjsTensor *dw_t, *pw_t, *bias_t;
  int channels;

  mt_darknet_writer_get_shape (writer, NULL, NULL, &channels);
  if (!(dw_t = mt_tfjs_weights_get (weights, dw_name, 4, (int[]) { 3, 3, channels, 1 }, error)) ||
      !(pw_t = mt_tfjs_weights_get (weights, pw_name, 4, (int[]) { 1, 1, channels, filters }, error)) ||
      !(bias_t = mt_tfjs_weights_get (weights, bias_name, 1, (int[]) { filters }, error)))
    return FALSE;

  dw = mt_tf_depthwise_to_darknet (dw_t, 3);
  pw = mt_tf_conv_to_darknet (pw_t, 1);

  return mt_darknet_writer_add_conv (writer, dw_note,
                                     &(MtDarknetConv) {
                                       .filters = channels, .size = 3, .stride = 1, .padding = 1,
                                       .groups = channels, .activation = MT_DARKNET_LINEAR,
                                       .biases = NULL, .weights = dw,
                                     }, error) >= 0 &&
         mt_darknet_writer_add_conv (writer, pw_note,
                                     &(MtDarknetConv) {
                                       .filters = filters, .size = 1, .stride = 1, .padding = 0,
                                       .groups = 1, .activation = MT_DARKNET_LEAKY,
                                       .biases = bias_t->values, .weights = pw,
                                     }, error) >= 0;
}

gboolean
mt_convert_face_detector (const char  *source_path,
                          const char  *provenance,
                          const char  *out_dir,
                          GError     **error)
{
  static const char * const names[] = { "face", NULL };
  g_autoptr(MtTfjsWeights) weights = NULL;
  g_autoptr(MtDarknetWriter) writer = mt_darknet_writer_new ();
  g_autoptr(GString) anchor_text = g_string_new (NULL);
  const MtTfjsTensor *head, *head_bias;
  g_autofree float *head_weights = NULL;

  if (!(weights = mt_tfjs_weights_load (source_path, error)))
    return FALSE;

  /* Seven significant digits print face-api's anchors exactly as it writes them. */
  for (guint i = 0; i < G_N_ELEMENTS (anchors); i++)
    {
      char w[G_ASCII_DTOSTR_BUF_SIZE], h[G_ASCII_DTOSTR_BUF_SIZE];

      g_string_append_printf (anchor_text, "%s%s,%s", i ? ", " : "",
                              g_ascii_formatd (w, sizeof w, "%.7g", anchors[i][0]),
                              g_ascii_formatd (h, sizeof h, "%.7g", anchors[i][1]));
    }

  mt_darknet_writer_comment (writer,
                             "Moodtunes face detector: face-api's Tiny Face Detector (Tiny-YOLOv2, separable convolutions).\n"
                             "Converted by moodtunes-convert from %s (MIT).\n"
                             "Input: RGB, planar, scaled to [0, 1], letterboxed to a square (image at the top-left,\n"
                             "zeros below/right) and resized to width x height (416; any multiple of 32 works).\n"
                             "Output: a 13x13 grid (at 416) of 25 channels = 5 anchors x (x, y, w, h, score), channel\n"
                             "a * 5 + k; decode: x = (col + sigmoid(tx)) / 13, y = (row + sigmoid(ty)) / 13,\n"
                             "w = exp(tw) * anchor_w / 13, h = exp(th) * anchor_h / 13, score = sigmoid(ts).\n"
                             "Anchors (w,h in grid cells), one pair per anchor:", provenance);
  mt_darknet_writer_comment (writer, "anchors = %s", anchor_text->str);
  mt_darknet_writer_comment (writer, "%s", "");
  mt_darknet_writer_set_input (writer, INPUT_SIZE, INPUT_SIZE, 3);

  if (!add_first_conv (writer, weights, error))
    return FALSE;

  for (int i = 0; i < 5; i++)
    {
      g_autofree char *note = g_strdup_printf ("maxpool 2x2/2 'same' (pads after only) before conv%d", i + 1);

      if (mt_darknet_writer_add_maxpool (writer, note, 2, 2, 1, error) < 0 ||
          !add_separable (writer, weights, i + 1, separable_filters[i], error))
        return FALSE;
    }

  if (mt_darknet_writer_add_maxpool (writer, "maxpool 2x2/1 'same' (pads after only)", 2, 1, 1, error) < 0)
    return FALSE;

  if (!(head = mt_tfjs_weights_get (weights, "conv8/filters", 4, (int[]) { 1, 1, 512, 25 }, error)) ||
      !(head_bias = mt_tfjs_weights_get (weights, "conv8/bias", 1, (int[]) { 25 }, error)))
    return FALSE;
  head_weights = mt_tf_conv_to_darknet (head, 1);
  if (mt_darknet_writer_add_conv (writer, "conv8: 1x1 + bias, raw box encodings (no activation)",
                                  &(MtDarknetConv) {
                                    .filters = 25, .size = 1, .stride = 1, .padding = 0, .groups = 1,
                                    .activation = MT_DARKNET_LINEAR,
                                    .biases = head_bias->values, .weights = head_weights,
                                  }, error) < 0)
    return FALSE;

  return mt_darknet_writer_save (writer, out_dir, "face-detector", names, error);
}
