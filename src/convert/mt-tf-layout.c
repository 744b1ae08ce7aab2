#define G_LOG_DOMAIN "mt-convert"

#include "config.h"

#include <string.h>

#include "mt-tf-layout.h"

float *
mt_tf_conv_to_darknet (const MtTfjsTensor *hwio,
                       int                 size)
{
  int kh, kw, in, out, off_y, off_x;
  float *dst;

  g_return_val_if_fail (hwio->rank == 4, NULL);
  kh = hwio->shape[0];
  kw = hwio->shape[1];
  in = hwio->shape[2];
  out = hwio->shape[3];
  g_return_val_if_fail (size >= kh && size >= kw, NULL);
  off_y = size - kh;
  off_x = size - kw;

  dst = g_new0 (float, (gsize) out * in * size * size);
  for (int y = 0; y < kh; y++)
    for (int x = 0; x < kw; x++)
      for (int i = 0; i < in; i++)
        for (int o = 0; o < out; o++)
          {
            gsize src_index = (((gsize) y * kw + x) * in + i) * out + o;
            gsize dst_index = (((gsize) o * in + i) * size + y + off_y) * size + x + off_x;

            dst[dst_index] = hwio->values[src_index];
          }
  return dst;
}

float *
mt_tf_depthwise_to_darknet (const MtTfjsTensor *hwcm,
                            int                 size)
{
  int kh, kw, channels, off_y, off_x;
  float *dst;

  g_return_val_if_fail (hwcm->rank == 4 && hwcm->shape[3] == 1, NULL);
  kh = hwcm->shape[0];
  kw = hwcm->shape[1];
  channels = hwcm->shape[2];
  g_return_val_if_fail (size >= kh && size >= kw, NULL);
  off_y = size - kh;
  off_x = size - kw;

  dst = g_new0 (float, (gsize) channels * size * size);
  for (int y = 0; y < kh; y++)
    for (int x = 0; x < kw; x++)
      for (int c = 0; c < channels; c++)
        dst[((gsize) c * size + y + off_y) * size + x + off_x] =
          hwcm->values[((gsize) y * kw + x) * channels + c];
  return dst;
}

float *
mt_tf_dense_to_darknet (const MtTfjsTensor *io)
{
  int in, out;
  float *dst;

  g_return_val_if_fail (io->rank == 2, NULL);
  in = io->shape[0];
  out = io->shape[1];

  dst = g_new (float, (gsize) in * out);
  for (int i = 0; i < in; i++)
    for (int o = 0; o < out; o++)
      dst[(gsize) o * in + i] = io->values[(gsize) i * out + o];
  return dst;
}

float *
mt_tf_reorder_rows (const float *values,
                    int          n_rows,
                    gsize        row_len,
                    const int   *order)
{
  float *dst = g_new (float, (gsize) n_rows * row_len);

  for (int i = 0; i < n_rows; i++)
    {
      g_return_val_if_fail (order[i] >= 0 && order[i] < n_rows, dst);
      memcpy (dst + (gsize) i * row_len, values + (gsize) order[i] * row_len, row_len * sizeof (float));
    }
  return dst;
}

int
mt_tf_add_conv (MtDarknetWriter     *writer,
                const char          *note,
                const MtTfjsTensor  *hwio,
                const MtTfjsTensor  *bias,
                int                  size,
                int                  stride,
                int                  padding,
                MtDarknetActivation  activation,
                GError             **error)
{
  g_autofree float *dn = mt_tf_conv_to_darknet (hwio, size);

  return mt_darknet_writer_add_conv (writer, note,
                                     &(MtDarknetConv) {
                                       .filters = hwio->shape[3], .size = size, .stride = stride,
                                       .padding = padding, .groups = 1, .activation = activation,
                                       .biases = bias->values, .weights = dn,
                                     }, error);
}
