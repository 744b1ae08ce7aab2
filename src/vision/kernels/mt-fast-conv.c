/* mt-fast-conv.c: Darknet's [convolutional] layer, prepared once, run many
 * times.
 *
 * Convolutions with groups == 1 run as a GEMM (mt-fast-gemm.c: weights ×
 * im2col columns), with the weights packed once and the columns built in
 * cache-sized chunks; 1×1 ones use the input itself as the GEMM's B.  First
 * layers (few inputs per output) skip im2col on AVX-512 and AVX2 CPUs and
 * read their taps straight from phase planes (mt-fast-private.h).  Depthwise
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
    {
      int last_panel = conv->out_w * conv->out_h % NR16;

      conv->weights16 = pack_weights (conv, weights, MR16);
      /* The narrow GEMM's stores are scalar: worth it for long sums only
       * (6x6 maps: K = 96, BlazeFace's, 0.008 -> 0.012 ms; 1152 and 2304,
       * ours, 0.174 -> 0.131 and 0.342 -> 0.258 ms). */
      if (last_panel % 16 != 0 && conv->M % NARROW_ALIGN == 0 && conv->K >= 512)
        conv->weights_t = pack_weights (conv, weights, NARROW_ALIGN);
    }
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
  g_free (conv->weights_t);
  g_free (conv->biases);
  g_free (conv);
}

/* Fills columns [j0, j0 + n) of the im2col matrix (rows of stride ldb) for
 * the convolution's non-zero taps, straight from the input (strided
 * convolutions; stride 1 uses im2col_chunk_padded()). */
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

/* Stride 1: the input with its zero padding written out, (h + 2 pad) rows
 * of w + 2 pad, so that every im2col segment is a plain copy. */
static void
pad_input (const MtFastConv *conv,
           const float      *input,
           float            *padded)
{
  const MtFastConvShape *s = &conv->shape;
  int wp = s->w + 2 * s->pad, hp = s->h + 2 * s->pad;

  for (int ci = 0; ci < s->c; ci++)
    {
      const float *plane = input + (gsize) ci * s->h * s->w;
      float *dst = padded + (gsize) ci * hp * wp;

      memset (dst, 0, (gsize) s->pad * wp * sizeof (float));
      for (int y = 0; y < s->h; y++)
        {
          float *row = dst + (gsize) (y + s->pad) * wp;

          for (int x = 0; x < s->pad; x++)
            row[x] = row[s->pad + s->w + x] = 0.f;
          memcpy (row + s->pad, plane + (gsize) y * s->w, (gsize) s->w * sizeof (float));
        }
      memset (dst + (gsize) (s->pad + s->h) * wp, 0, (gsize) s->pad * wp * sizeof (float));
    }
}

/* im2col_chunk() for stride 1 from pad_input()'s copy: the same columns,
 * without bounds or library calls per segment, which on small maps (8x8:
 * thousands of 8-float segments) cost more than the copying. */
static void
im2col_chunk_padded (const MtFastConv *conv,
                     const float      *padded,
                     int               j0,
                     int               n,
                     float            *dst,
                     gsize             ldb)
{
  const MtFastConvShape *s = &conv->shape;
  int ow = conv->out_w;
  int wp = s->w + 2 * s->pad, hp = s->h + 2 * s->pad;

  for (int ci = 0; ci < s->c; ci++)
    for (int t = 0; t < conv->n_taps; t++)
      {
        const float *plane = padded + (gsize) ci * hp * wp + conv->tap_y[t] * wp + conv->tap_x[t];
        float *row = dst + (gsize) (ci * conv->n_taps + t) * ldb;
        int oy = j0 / ow, ox = j0 % ow;

        for (int idx = 0; idx < n; oy++, ox = 0)
          {
            int seg = MIN (ow - ox, n - idx);
            const float *src = plane + (gsize) oy * wp + ox;
            float *d = row + idx;
            int q = 0;

            for (; q + 8 <= seg; q += 8)
              v8_store (d + q, v8_load (src + q));
            for (; q < seg; q++)
              d[q] = src[q];
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
      _mt_fast_gemm_avx512 (conv->M, conv->K, n, conv->weights16, conv->weights_t, conv->biases,
                            conv->shape.activation, b, ldb, c, ldc, panel);
      return;
    }
#endif
  _mt_fast_gemm (conv->M, conv->K, n, conv->weights, conv->biases,
                 conv->shape.activation, b, ldb, c, ldc, panel);
}

/* How the im2col columns of @n outputs are built: @chunk at a time, in
 * rows of @ldb; returns the floats a part needs for them and the panel. */
static gsize
gemm_part_layout (const MtFastConv *conv,
                  int               n,
                  int              *chunk,
                  gsize            *ldb)
{
  int K = conv->K;
  gboolean wide = conv->weights16 != NULL && mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX512;
  gsize panel_size = wide ? round_up ((gsize) MAX (K, 1) * NR16, 16) : _mt_fast_gemm_panel_floats (K);

  if (conv->kind == CONV_POINTWISE)
    {
      *chunk = n, *ldb = 0;
      return panel_size;
    }
  /* AVX-512: one register tile of columns at a time, built straight in
   * the GEMM panel's layout (rows of 48), which the GEMM then reads where it
   * is instead of copying (with few filters the copy cost more than the
   * multiplications). */
  if (wide)
    {
      *chunk = NR16, *ldb = NR16;
      return panel_size + (gsize) K * NR16;
    }
  *chunk = (int) (IM2COL_CHUNK_BYTES / sizeof (float) / MAX (K, 1));
  *chunk = MAX (NR16, *chunk / NR16 * NR16);
  *chunk = MIN (*chunk, (int) round_up ((gsize) n, NR16));
  /* Rows a multiple of 4 KiB apart would all fall in the same cache sets. */
  *ldb = (gsize) *chunk + ((*chunk % 256) == 0 ? NR : 0);
  return panel_size + (gsize) K * *ldb;
}

/* One part of a GEMM convolution: output columns [j_begin, j_end) of filters
 * [m_begin, m_end), its panel and columns in @scratch past the first @skip
 * floats (the caller's padded input, in part 0). */
static void
conv_gemm_part (const MtFastConv *conv,
                const float      *input,
                const float      *padded,
                float            *output,
                int               m_begin,
                int               m_end,
                int               j_begin,
                int               j_end,
                MtFastScratch    *scratch,
                gsize             skip)
{
  int N = conv->out_w * conv->out_h;
  int K = conv->K;
  gboolean wide = conv->weights16 != NULL && mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX512;
  gsize panel_size = wide ? round_up ((gsize) MAX (K, 1) * NR16, 16) : _mt_fast_gemm_panel_floats (K);
  MtFastConv rows = *conv;
  int chunk;
  gsize ldb, need = gemm_part_layout (conv, j_end - j_begin, &chunk, &ldb);
  float *panel = _mt_fast_scratch_reserve (scratch, skip + need) + skip;
  float *cols = panel + panel_size;

  /* Filters m_begin… (a multiple of both packings' rows) are a GEMM of
   * their own: the packed weights, biases and outputs from there on. */
  rows.M = m_end - m_begin;
  rows.weights = conv->weights + (gsize) m_begin * K;
  rows.weights16 = conv->weights16 ? conv->weights16 + (gsize) m_begin * K : NULL;
  /* conv_gemm_job() splits on NARROW_ALIGN where these are used. */
  rows.weights_t = conv->weights_t && m_begin % NARROW_ALIGN == 0 && rows.M % NARROW_ALIGN == 0
                   ? conv->weights_t + (gsize) m_begin * K : NULL;
  rows.biases = conv->biases + m_begin;
  output += (gsize) m_begin * N;

  if (conv->kind == CONV_POINTWISE)
    {
      run_gemm (&rows, wide, input + j_begin, (gsize) N, j_end - j_begin,
                output + j_begin, (gsize) N, panel);
      return;
    }

  for (int j0 = j_begin; j0 < j_end; j0 += chunk)
    {
      int n = MIN (chunk, j_end - j0);

      if (padded != NULL)
        im2col_chunk_padded (conv, padded, j0, n, cols, ldb);
      else
        im2col_chunk (conv, input, j0, n, cols, ldb);
      run_gemm (&rows, wide, cols, ldb, n, output + j0, (gsize) N, panel);
    }
}

/* A team's part of a convolution: the output columns or, where there are
 * too few of those, the filters cut in @n_parts. */
typedef struct {
  const MtFastConv *conv;
  const float      *input;
  const float      *padded;  /* pad_input()'s, or NULL */
  gsize             skip;    /* its floats at the start of the caller's scratch */
  float            *output;
  gboolean          by_filters;
} ConvJob;

/* Least multiply-adds worth a thread's part: a few microseconds of work,
 * against well under one to hand it over. */
#define TEAM_MIN_MACS 60000.0

static void
conv_gemm_job (gpointer       data,
               guint          part,
               guint          n_parts,
               MtFastScratch *scratch)
{
  ConvJob *job = data;
  int N = job->conv->out_w * job->conv->out_h;
  gsize begin, end;

  if (job->by_filters)
    {
      /* Parts begin where both packings in use have a block: MR and MR16
       * (M_ALIGN), or with the narrow GEMM's, MR16 and NARROW_ALIGN. */
      gboolean narrow = job->conv->weights_t != NULL &&
                        mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX512;

      team_part_range ((gsize) job->conv->M, narrow ? NARROW_ALIGN : M_ALIGN, part, n_parts,
                       &begin, &end);
      if (begin < end)
        conv_gemm_part (job->conv, job->input, job->padded, job->output, (int) begin, (int) end,
                        0, N, scratch, part == 0 ? job->skip : 0);
    }
  else
    {
      team_part_range ((gsize) N, NR16, part, n_parts, &begin, &end);
      if (begin < end)
        conv_gemm_part (job->conv, job->input, job->padded, job->output, 0, job->conv->M,
                        (int) begin, (int) end, scratch, part == 0 ? job->skip : 0);
    }
}

static void
conv_gemm_forward (const MtFastConv *conv,
                   const float      *input,
                   float            *output,
                   MtFastScratch    *scratch,
                   MtFastTeam       *team)
{
  int N = conv->out_w * conv->out_h;
  double macs = (double) conv->M * conv->K * N;
  guint n_parts = _mt_fast_team_parts (team, macs, TEAM_MIN_MACS);
  ConvJob job = { conv, input, NULL, 0, output, FALSE };

  /* Columns when each part gets at least two register tiles of them; else
   * filters, each part building the same columns for its own. */
  if (n_parts > 1 && N < (int) n_parts * 2 * NR16)
    {
      job.by_filters = TRUE;
      n_parts = MIN (n_parts, (guint) ((conv->M + M_ALIGN - 1) / M_ALIGN));
    }
  /* The padded copy goes first in the caller's scratch, reserved with part
   * 0's work at once: a later reserve would move it under the helpers. */
  if (conv->kind == CONV_IM2COL && conv->shape.stride == 1)
    {
      const MtFastConvShape *s = &conv->shape;
      int chunk;
      gsize ldb;
      float *padded;

      job.skip = round_up ((gsize) s->c * (s->h + 2 * s->pad) * (s->w + 2 * s->pad), 16);
      padded = _mt_fast_scratch_reserve (scratch, job.skip + gemm_part_layout (conv, N, &chunk, &ldb));
      pad_input (conv, input, padded);
      job.padded = padded;
    }
  _mt_fast_team_run (team, n_parts, conv_gemm_job, &job, scratch);
}

#ifdef MT_HAVE_X86_VARIANTS

/* Plain convolutions with few inputs per output (the first layers: 3 or 1
 * channels, K = c · taps <= DIRECT_MAX_K) skip im2col on AVX-512 and AVX2
 * CPUs: each tile of filters × columns (AVX-512: 8 × 32, with the weights
 * in the GEMM's 8-row packing; AVX2: 6 × 16, its 6-row packing) reads its
 * taps straight from the phase planes of the input channels, where im2col
 * would write and read K times the input (Tiny's 320 first layer: 27 × 0.4
 * MB) for sums that take K multiply-adds.  The sums run over (channel, tap)
 * in Darknet's order. */
#define DIRECT_MAX_K 128

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

/* A direct convolution: its phase planes (@len floats a row), tap k of
 * every channel at offset @offs[k] in them, and the output. */
typedef struct {
  const MtFastConv *conv;
  const float      *planes;
  const int        *offs;
  int               len;
  float            *output;
  gboolean          wide;  /* AVX-512's rows, else AVX2's */
} DirectJob;

/* Output rows [y_begin, y_end) of a direct convolution. */
__attribute__ ((target ("avx512f")))
static void
direct_rows_avx512 (const DirectJob *job,
                    int              y_begin,
                    int              y_end)
{
  const MtFastConv *conv = job->conv;
  const MtFastConvShape *s = &conv->shape;
  const int *offs = job->offs;
  int ow = conv->out_w, oh = conv->out_h, st = s->stride, K = conv->K;
  gsize plane_out = (gsize) ow * oh;
  MtFastActivation activation = s->activation;

  for (int y = y_begin; y < y_end; y++)
    {
      const float *base = job->planes + (gsize) y * st * st * job->len;
      float *out = job->output + (gsize) y * ow;

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

#define DIRECT8_ROW(f)                                                       \
  if (f < rows)                                                              \
    {                                                                        \
      v8f a = v8_set1 (wk[f]);                                               \
      acc##f##0 += a * x0;                                                   \
      acc##f##1 += a * x1;                                                   \
    }

#define DIRECT8_STORE(f)                                                     \
  if (f < nf)                                                                \
    {                                                                        \
      v8f bias_f = v8_set1 (bias[f]);                                        \
      float *o = out + (gsize) f * plane_out;                                \
      v8f lo = v8_activate (acc##f##0 + bias_f, activation);                 \
      if (nx >= 8)                                                           \
        v8_store (o, lo);                                                    \
      else                                                                   \
        v8_store_n (o, lo, nx);                                              \
      if (nx >= 16)                                                          \
        v8_store (o + 8, v8_activate (acc##f##1 + bias_f, activation));      \
      else if (nx > 8)                                                       \
        v8_store_n (o + 8, v8_activate (acc##f##1 + bias_f, activation), nx - 8); \
    }

/* One tile of direct_rows_avx2(): @rows filters (a constant in each
 * instantiation, so a block of 4 left over from 16 filters costs 4 rows,
 * not 6) × 16 columns from @x, @nf of them and @nx columns stored at @out,
 * @plane_out floats apart. */
INLINE void
direct8_tile (const float      *wb,
              int               K,
              const float      *base,
              const int        *offs,
              int               rows,
              const float      *bias,
              MtFastActivation  activation,
              int               nf,
              int               nx,
              float            *out,
              gsize             plane_out)
{
  v8f acc00 = { 0 }, acc01 = { 0 }, acc10 = { 0 }, acc11 = { 0 };
  v8f acc20 = { 0 }, acc21 = { 0 }, acc30 = { 0 }, acc31 = { 0 };
  v8f acc40 = { 0 }, acc41 = { 0 }, acc50 = { 0 }, acc51 = { 0 };

  for (int k = 0; k < K; k++)
    {
      const float *wk = wb + k * MR;
      v8f x0 = v8_load (base + offs[k]);
      v8f x1 = v8_load (base + offs[k] + 8);

      DIRECT8_ROW (0) DIRECT8_ROW (1) DIRECT8_ROW (2)
      DIRECT8_ROW (3) DIRECT8_ROW (4) DIRECT8_ROW (5)
    }

  DIRECT8_STORE (0) DIRECT8_STORE (1) DIRECT8_STORE (2)
  DIRECT8_STORE (3) DIRECT8_STORE (4) DIRECT8_STORE (5)
}

#undef DIRECT8_ROW
#undef DIRECT8_STORE

/* direct_rows_avx512() with AVX2's 16 registers: 6 filters × 16 columns,
 * twelve accumulators, the two vectors of taps and a broadcast weight. */
__attribute__ ((target ("avx2")))
static void
direct_rows_avx2 (const DirectJob *job,
                  int              y_begin,
                  int              y_end)
{
  const MtFastConv *conv = job->conv;
  int ow = conv->out_w, st = conv->shape.stride;
  gsize plane_out = (gsize) ow * conv->out_h;

  for (int y = y_begin; y < y_end; y++)
    {
      const float *base = job->planes + (gsize) y * st * st * job->len;
      float *out = job->output + (gsize) y * ow;

      /* Filters innermost: the few taps of 16 columns stay in L1 for every
       * filter block, while a row's outputs (Tiny 320: 20 KB) stream out. */
      for (int x = 0; x < ow; x += 16)
        {
          int nx = MIN (16, ow - x);

          for (int f0 = 0; f0 < conv->shape.n; f0 += MR)
            {
              const float *wb = conv->weights + (gsize) f0 * conv->K;
              int nf = MIN (MR, conv->shape.n - f0);
              float *o = out + (gsize) f0 * plane_out + x;

#define DIRECT8(rows) \
  direct8_tile (wb, conv->K, base + x, job->offs, rows, conv->biases + f0, \
                conv->shape.activation, nf, nx, o, plane_out)
              if (nf > 4)
                DIRECT8 (6);
              else if (nf > 2)
                DIRECT8 (4);
              else
                DIRECT8 (2);
#undef DIRECT8
            }
        }
    }
}

static void
direct_job (gpointer       data,
            guint          part,
            guint          n_parts,
            MtFastScratch *scratch)
{
  DirectJob *job = data;
  gsize begin, end;

  team_part_range ((gsize) job->conv->out_h, 1, part, n_parts, &begin, &end);
  if (job->wide)
    direct_rows_avx512 (job, (int) begin, (int) end);
  else
    direct_rows_avx2 (job, (int) begin, (int) end);
}

/* The phase planes of every input channel, built by the caller, then the
 * output rows, split among @team's threads. */
static void
direct_conv (const MtFastConv *conv,
             gboolean          wide,
             const float      *input,
             float            *output,
             float            *planes,
             int               n_rows,
             int               len,
             MtFastScratch    *scratch,
             MtFastTeam       *team)
{
  const MtFastConvShape *s = &conv->shape;
  int st = s->stride;
  gsize plane_size = (gsize) n_rows * st * len;
  double macs = (double) conv->M * conv->K * conv->out_w * conv->out_h;
  int offs[DIRECT_MAX_K];
  DirectJob job = { conv, planes, offs, len, output, wide };

  for (int ci = 0; ci < s->c; ci++)
    {
      build_phase_plane (input + (gsize) ci * s->h * s->w, s->h, s->w, s->pad, s->pad,
                         n_rows, st, len, 0.f, FALSE, planes + ci * plane_size);
      for (int t = 0; t < conv->n_taps; t++)
        offs[ci * conv->n_taps + t] = (int) (ci * plane_size) + conv->tap_y[t] * st * len +
                                      (conv->tap_x[t] % st) * len + conv->tap_x[t] / st;
    }

  _mt_fast_team_run (team, MIN (_mt_fast_team_parts (team, macs, TEAM_MIN_MACS),
                                (guint) conv->out_h),
                     direct_job, &job, scratch);
}

#undef DIRECT_ROW
#undef DIRECT_STORE

#endif /* MT_HAVE_X86_VARIANTS */

typedef struct {
  const MtFastConv *conv;
  const float      *input;
  float            *output;
} DepthwiseJob;

/* A team's part of a depthwise convolution: a range of output rows of
 * every channel, over a phase plane in the part's own scratch.  Rows, not
 * channels: the pointwise layer after it splits by output columns, which are
 * the same rows, so each thread reads what it wrote, from its own cache. */
static void
depthwise_job (gpointer       data,
               guint          part,
               guint          n_parts,
               MtFastScratch *scratch)
{
  DepthwiseJob *job = data;
  const MtFastConv *conv = job->conv;
  int n_rows, len, st = conv->shape.stride;
  gsize begin, end, built;
  float *plane;

  team_part_range ((gsize) conv->out_h, 1, part, n_parts, &begin, &end);
  if (begin == end)
    return;
  phase_plane_geometry (conv->shape.size, conv->shape.stride,
                        conv->out_w, conv->out_h, &n_rows, &len);
  /* Room for the whole map's plane and a vector more; past the rows this
   * part builds, that vector is zeros: the last row's last vector may read
   * that far (mt-fast-depthwise.c). */
  built = (gsize) ((int) (end - begin - 1) * st + conv->shape.size) * st * len;
  plane = _mt_fast_scratch_reserve (scratch, (gsize) n_rows * st * len + 16);
  memset (plane + built, 0, 16 * sizeof (float));
  _mt_fast_depthwise_forward (conv, job->input, job->output, (int) begin, (int) end,
                              plane, n_rows, len);
}

void
mt_fast_conv_forward (const MtFastConv *conv,
                      const float      *input,
                      float            *output,
                      MtFastScratch    *scratch,
                      MtFastTeam       *team)
{
  g_return_if_fail (conv != NULL);
  g_return_if_fail (input != NULL && output != NULL && scratch != NULL);

  if (conv->kind == CONV_DEPTHWISE)
    {
      DepthwiseJob job = { conv, input, output };
      /* A depthwise tap costs a load besides its multiply-add: weigh it as
       * four. */
      double macs = 4.0 * conv->n_taps * conv->shape.c * conv->out_w * conv->out_h;

      _mt_fast_team_run (team, MIN (_mt_fast_team_parts (team, macs, TEAM_MIN_MACS),
                                    (guint) conv->out_h),
                         depthwise_job, &job, scratch);
    }
#ifdef MT_HAVE_X86_VARIANTS
  else if (conv->kind == CONV_IM2COL && conv->K <= DIRECT_MAX_K &&
           mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX2)
    {
      gboolean wide = conv->weights16 != NULL && mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX512;
      int n_rows, len;
      float *planes;

      phase_plane_geometry (conv->shape.size, conv->shape.stride,
                            conv->out_w + 24, conv->out_h, &n_rows, &len);
      planes = _mt_fast_scratch_reserve (scratch, (gsize) conv->shape.c * n_rows * conv->shape.stride * len);
      direct_conv (conv, wide, input, output, planes, n_rows, len, scratch, team);
    }
#endif
  else
    conv_gemm_forward (conv, input, output, scratch, team);
}
