/* mt-tf-layout.h: reorders TensorFlow weight tensors into Darknet's layout.
 *
 * TensorFlow keeps convolution filters as [kh][kw][in][out], depthwise filters
 * as [kh][kw][channels][1] and dense weights as [in][out]; Darknet wants
 * [out][in][k][k] and [out][in].  A kernel can be placed into a larger
 * Darknet kernel of @size, aligned to the bottom-right corner: a 3x3 kernel in
 * a 4x4 one reproduces TensorFlow's 'same' padding at stride 2 on even inputs
 * (TensorFlow pads only after, Darknet on both sides).  Results are g_free()d.
 */
#pragma once

#include <glib.h>

#include "mt-darknet-writer.h"
#include "mt-tfjs-weights.h"

G_BEGIN_DECLS

float *mt_tf_conv_to_darknet      (const MtTfjsTensor *hwio,
                                   int                 size);
float *mt_tf_depthwise_to_darknet (const MtTfjsTensor *hwcm,
                                   int                 size);
float *mt_tf_dense_to_darknet     (const MtTfjsTensor *io);

/* Copies rows (the leading axis) of an [@n_rows][@row_len] array in the order
 * @order gives: output row i is input row order[i]. */
float *mt_tf_reorder_rows         (const float        *values,
                                   int                 n_rows,
                                   gsize               row_len,
                                   const int          *order);

/* Adds a plain convolution (groups 1) from TensorFlow filters @hwio (placed
 * into a @size kernel as above) and @bias (one value per filter) to
 * @writer: the new layer's index, or -1 with @error set. */
int    mt_tf_add_conv             (MtDarknetWriter     *writer,
                                   const char          *note,
                                   const MtTfjsTensor  *hwio,
                                   const MtTfjsTensor  *bias,
                                   int                  size,
                                   int                  stride,
                                   int                  padding,
                                   MtDarknetActivation  activation,
                                   GError             **error);

G_END_DECLS
