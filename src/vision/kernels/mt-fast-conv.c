/* mt-fast-conv.c: Darknet's [convolutional] layer, prepared once, run many
 * times.
 *
 * Convolutions with groups == 1 run as a GEMM (mt-fast-gemm.c: weights ×
 * im2col columns), with the weights packed once and the columns built in
 * cache-sized chunks; 1×1 ones use the input itself as the GEMM's B.  First
 * layers (few inputs per output) skip im2col on AVX-512 CPUs and read their
 * taps straight from phase planes (mt-fast-private.h).  Depthwise
 * convolutions are prepared here and run in mt-fast-depthwise.c.
 */
#define G_LOG_DOMAIN "mt-fast-kernels"

#include "config.h"

#include "mt-fast-private.h"

/* Bytes of im2col columns built at once: they stay in L2 while used. */
#define IM2COL_CHUNK_BYTES (128 * 1024)

int
mt_fast_conv_out_width (const MtFastConvShape *shape)
{
  return (shape->w + 2 * shape->pad - shape->size) / shape->stride + 1;
}

int
mt_fast_conv_out_height (const MtFastConvShape *shape)
{
  return (shape->h + 2 * shape->pad - shape->size) / shape->stride + 1;
}

gboolean
mt_fast_conv_supports (const MtFastConvShape *shape)
{
  g_return_val_if_fail (shape != NULL, FALSE);

  if (shape->c <= 0 || shape->h <= 0 || shape->w <= 0 || shape->n <= 0 ||
      shape->size <= 0 || shape->stride <= 0 || shape->pad < 0 ||
      !activation_is_valid (shape->activation))
    return FALSE;
  if (mt_fast_conv_out_width (shape) <= 0 || mt_fast_conv_out_height (shape) <= 0 ||
      shape->w + 2 * shape->pad < shape->size || shape->h + 2 * shape->pad < shape->size)
    return FALSE;
  /* Darknet skips im2col for every 1×1 kernel, stride and padding or not. */
  if (shape->size == 1 && (shape->stride != 1 || shape->pad != 0))
    return FALSE;
  if (shape->groups == 1)
    return TRUE;
  return shape->groups == shape->c && shape->groups == shape->n;
}

/* Packs the weights of a GEMM convolution in blocks of @mr rows: block b
 * holds, for each k, rows b·mr … b·mr + mr - 1 (zeros past M). */
static float *
pack_weights (const MtFastConv *conv,
              const float      *weights,
              int               mr)
{
  const MtFastConvShape *shape = &conv->shape;
  int k = shape->size;
  float *packed = g_new0 (float, MAX (round_up ((gsize) conv->M, M_ALIGN) * conv->K, 1));

  for (int i = 0; i < conv->M; i++)
    for (int ci = 0; ci < shape->c; ci++)
      for (int t = 0; t < conv->n_taps; t++)
        {
          int r = ci * conv->n_taps + t;
          gsize src = (((gsize) i * shape->c + ci) * k + conv->tap_y[t]) * k + conv->tap_x[t];
          gsize dst = (gsize) (i / mr) * mr * conv->K + (gsize) r * mr + i % mr;

          packed[dst] = weights[src];
        }
  return packed;
}

MtFastConv *
mt_fast_conv_new (const MtFastConvShape *shape,
                  const float           *weights,
                  const float           *biases)
{
  MtFastConv *conv;
  int k, cg, n_taps = 0;

  g_return_val_if_fail (shape != NULL, NULL);
  g_return_val_if_fail (weights != NULL, NULL);
  g_return_val_if_fail (biases != NULL, NULL);

  if (!mt_fast_conv_supports (shape))
    return NULL;

  conv = g_new0 (MtFastConv, 1);
  conv->shape = *shape;
  conv->out_w = mt_fast_conv_out_width (shape);
  conv->out_h = mt_fast_conv_out_height (shape);
  k = shape->size;
  cg = shape->c / shape->groups;

  if (shape->groups != 1)
    conv->kind = CONV_DEPTHWISE;
  else if (k == 1)
    conv->kind = CONV_POINTWISE;
  else
    conv->kind = CONV_IM2COL;

  conv->tap_y = g_new (int, k * k);
  conv->tap_x = g_new (int, k * k);
  for (int t = 0; t < k * k; t++)
    {
      gboolean used = conv->kind == CONV_POINTWISE;

      for (gsize f = 0; !used && f < (gsize) shape->n * cg; f++)
        used = weights[f * k * k + t] != 0.f;
      if (used)
        {
          conv->tap_y[n_taps] = t / k;
          conv->tap_x[n_taps] = t % k;
          n_taps++;
        }
    }
  conv->n_taps = n_taps;

  if (conv->kind == CONV_DEPTHWISE)
    {
      conv->weights = g_new0 (float, (gsize) shape->n * MAX (n_taps, 1));
      for (int ch = 0; ch < shape->n; ch++)
        for (int t = 0; t < n_taps; t++)
          conv->weights[ch * n_taps + t] =
            weights[(gsize) ch * k * k + conv->tap_y[t] * k + conv->tap_x[t]];
      conv->biases = g_new0 (float, shape->n);
      memcpy (conv->biases, biases, (gsize) shape->n * sizeof (float));
      return conv;
    }

  /* Row r of B is (input channel r / n_taps, tap r % n_taps), Darknet's own
   * channel-major, row-major-tap order, so sums run in Darknet's order. */
  conv->M = shape->n;
  conv->K = shape->c * n_taps;
  conv->biases = g_new0 (float, round_up ((gsize) conv->M, M_ALIGN));
  memcpy (conv->biases, biases, (gsize) shape->n * sizeof (float));
  conv->weights = pack_weights (conv, weights, MR);
  if (mt_fast_kernels_get_best_isa () >= MT_FAST_ISA_AVX512)
    conv->weights16 = pack_weights (conv, weights, MR16);
  return conv;
}

void
mt_fast_conv_free (MtFastConv *conv)
{
  if (conv == NULL)
    return;
  g_free (conv->tap_y);
  g_free (conv->tap_x);
  g_free (conv->weights);
  g_free (conv->weights16);
  g_free (conv->biases);
  g_free (conv);
}

/* Fills columns [j0, j0 + n) of the im2col matrix (rows of stride ldb) for
 * the convolution's non-zero taps. */
static void
im2col_chunk (const MtFastConv *conv,
              const float      *input,
              int               j0,
              int               n,
              float            *dst,
              gsize             ldb)
{
  const MtFastConvShape *s = &conv->shape;
  int ow = conv->out_w;

  for (int ci = 0; ci < s->c; ci++)
    for (int t = 0; t < conv->n_taps; t++)
      {
        const float *plane = input + (gsize) ci * s->h * s->w;
        float *row = dst + (gsize) (ci * conv->n_taps + t) * ldb;
        int ky = conv->tap_y[t], kx = conv->tap_x[t];
        int oy = j0 / ow, ox = j0 % ow;

        for (int idx = 0; idx < n; oy++, ox = 0)
          {
            int seg = MIN (ow - ox, n - idx);
            int iy = oy * s->stride + ky - s->pad;
            float *d = row + idx;

            if (iy < 0 || iy >= s->h)
              memset (d, 0, (gsize) seg * sizeof (float));
            else
              {
                const float *irow = plane + (gsize) iy * s->w;
                /* Valid outputs q: 0 <= (ox + q) stride + kx - pad < w. */
                int first = ox * s->stride + kx - s->pad;
                int lo = first >= 0 ? 0 : (-first + s->stride - 1) / s->stride;
                int hi = first > s->w - 1 ? 0 : (s->w - 1 - first) / s->stride + 1;

                lo = MIN (lo, seg);
                hi = CLAMP (hi, lo, seg);
                memset (d, 0, (gsize) lo * sizeof (float));
                if (s->stride == 1)
                  memcpy (d + lo, irow + first + lo, (gsize) (hi - lo) * sizeof (float));
                else
                  for (int q = lo; q < hi; q++)
                    d[q] = irow[first + q * s->stride];
                memset (d + hi, 0, (gsize) (seg - hi) * sizeof (float));
              }
            idx += seg;
          }
      }
}

static void
run_gemm (const MtFastConv *conv,
          gboolean          wide,
          const float      *b,
          gsize             ldb,
          int               n,
          float            *c,
          gsize             ldc,
          float            *panel)
{
#ifdef MT_HAVE_X86_VARIANTS
  if (wide)
    {
      _mt_fast_gemm_avx512 (conv->M, conv->K, n, conv->weights16, conv->biases,
                            conv->shape.activation, b, ldb, c, ldc, panel);
      return;
    }
#endif
  _mt_fast_gemm (conv->M, conv->K, n, conv->weights, conv->biases,
                 conv->shape.activation, b, ldb, c, ldc, panel);
}

static void
conv_gemm_forward (const MtFastConv *conv,
                   const float      *input,
                   float            *output,
                   MtFastScratch    *scratch)
{
  int N = conv->out_w * conv->out_h;
  int K = conv->K;
  gboolean wide = conv->weights16 != NULL && mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX512;
  gsize panel_size = round_up ((gsize) MAX (K, 1) * (wide ? NR16 : NR), 16);
  int chunk;
  gsize ldb;
  float *panel, *cols;

  if (conv->kind == CONV_POINTWISE)
    {
      panel = _mt_fast_scratch_reserve (scratch, panel_size);
      run_gemm (conv, wide, input, (gsize) N, N, output, (gsize) N, panel);
      return;
    }

  chunk = (int) (IM2COL_CHUNK_BYTES / sizeof (float) / MAX (K, 1));
  chunk = MAX (NR16, chunk / NR16 * NR16);
  chunk = MIN (chunk, (int) round_up ((gsize) N, NR16));
  /* Rows a multiple of 4 KiB apart would all fall in the same cache sets. */
  ldb = (gsize) chunk + ((chunk % 256) == 0 ? NR : 0);

  panel = _mt_fast_scratch_reserve (scratch, panel_size + (gsize) K * ldb);
  cols = panel + panel_size;

  for (int j0 = 0; j0 < N; j0 += chunk)
    {
      int n = MIN (chunk, N - j0);

      im2col_chunk (conv, input, j0, n, cols, ldb);
      run_gemm (conv, wide, cols, ldb, n, output + j0, (gsize) N, panel);
    }
}

#ifdef MT_HAVE_X86_VARIANTS

/* Plain convolutions with few inputs per output (the first layers: 3 or 1
 * channels, K = c · taps <= DIRECT_MAX_K) skip im2col on AVX-512: each tile
 * of 8 filters × 32 columns reads its taps straight from the phase planes of
 * the input channels.  The sums run over (channel, tap) in Darknet's order,
 * with the weights in the GEMM's 8-row packing. */
#define DIRECT_MAX_K 64

#define DIRECT_ROW(f)                                                        \
  do {                                                                       \
    v16f a = v16_set1 (wk[f]);                                               \
    acc##f##0 += a * x0;                                                     \
    acc##f##1 += a * x1;                                                     \
  } while (0)

#define DIRECT_STORE(f)                                                      \
  if (f < nf)                                                                \
    {                                                                        \
      v16f bias_f = v16_set1 (conv->biases[f0 + f]);                         \
      float *o = out + (gsize) (f0 + f) * plane_out;                         \
      v16_store_n (o, v16_activate (acc##f##0 + bias_f, activation), MIN (nx, 16)); \
      if (nx > 16)                                                           \
        v16_store_n (o + 16, v16_activate (acc##f##1 + bias_f, activation), nx - 16); \
    }

__attribute__ ((target ("avx512f")))
static void
direct_conv_avx512 (const MtFastConv *conv,
                    const float      *input,
                    float            *output,
                    float            *planes,
                    int               n_rows,
                    int               len)
{
  const MtFastConvShape *s = &conv->shape;
  int ow = conv->out_w, oh = conv->out_h, st = s->stride, K = conv->K;
  gsize plane_size = (gsize) n_rows * st * len;
  gsize plane_out = (gsize) ow * oh;
  MtFastActivation activation = s->activation;
  int offs[DIRECT_MAX_K];

  for (int ci = 0; ci < s->c; ci++)
    {
      build_phase_plane (input + (gsize) ci * s->h * s->w, s->h, s->w, s->pad, s->pad,
                         n_rows, st, len, 0.f, FALSE, planes + ci * plane_size);
      for (int t = 0; t < conv->n_taps; t++)
        offs[ci * conv->n_taps + t] = (int) (ci * plane_size) + conv->tap_y[t] * st * len +
                                      (conv->tap_x[t] % st) * len + conv->tap_x[t] / st;
    }

  for (int y = 0; y < oh; y++)
    {
      const float *base = planes + (gsize) y * st * st * len;
      float *out = output + (gsize) y * ow;

      for (int f0 = 0; f0 < s->n; f0 += MR16)
        {
          const float *wb = conv->weights16 + (gsize) f0 * K;
          int nf = MIN (MR16, s->n - f0);

          for (int x = 0; x < ow; x += 32)
            {
              v16f acc00 = { 0 }, acc01 = { 0 }, acc10 = { 0 }, acc11 = { 0 };
              v16f acc20 = { 0 }, acc21 = { 0 }, acc30 = { 0 }, acc31 = { 0 };
              v16f acc40 = { 0 }, acc41 = { 0 }, acc50 = { 0 }, acc51 = { 0 };
              v16f acc60 = { 0 }, acc61 = { 0 }, acc70 = { 0 }, acc71 = { 0 };
              int nx = MIN (32, ow - x);

              for (int k = 0; k < K; k++)
                {
                  const float *wk = wb + k * MR16;
                  v16f x0 = v16_load (base + offs[k] + x);
                  v16f x1 = v16_load (base + offs[k] + x + 16);

                  DIRECT_ROW (0); DIRECT_ROW (1); DIRECT_ROW (2); DIRECT_ROW (3);
                  DIRECT_ROW (4); DIRECT_ROW (5); DIRECT_ROW (6); DIRECT_ROW (7);
                }

              out += x;
              DIRECT_STORE (0) DIRECT_STORE (1) DIRECT_STORE (2) DIRECT_STORE (3)
              DIRECT_STORE (4) DIRECT_STORE (5) DIRECT_STORE (6) DIRECT_STORE (7)
              out -= x;
            }
        }
    }
}

#undef DIRECT_ROW
#undef DIRECT_STORE

#endif /* MT_HAVE_X86_VARIANTS */

void
mt_fast_conv_forward (const MtFastConv *conv,
                      const float      *input,
                      float            *output,
                      MtFastScratch    *scratch)
{
  g_return_if_fail (conv != NULL);
  g_return_if_fail (input != NULL && output != NULL && scratch != NULL);

  if (conv->kind == CONV_DEPTHWISE)
    {
      int n_rows, len;
      float *plane;

      phase_plane_geometry (conv->shape.size, conv->shape.stride,
                            conv->out_w, conv->out_h, &n_rows, &len);
      plane = _mt_fast_scratch_reserve (scratch, (gsize) n_rows * conv->shape.stride * len);
      _mt_fast_depthwise_forward (conv, input, output, plane, n_rows, len);
    }
#ifdef MT_HAVE_X86_VARIANTS
  else if (conv->kind == CONV_IM2COL && conv->K <= DIRECT_MAX_K &&
           conv->weights16 != NULL && mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX512)
    {
      int n_rows, len;
      float *planes;

      phase_plane_geometry (conv->shape.size, conv->shape.stride,
                            conv->out_w + 24, conv->out_h, &n_rows, &len);
      planes = _mt_fast_scratch_reserve (scratch, (gsize) conv->shape.c * n_rows * conv->shape.stride * len);
      direct_conv_avx512 (conv, input, output, planes, n_rows, len);
    }
#endif
  else
    conv_gemm_forward (conv, input, output, scratch);
}
