/* mt-fast-depthwise.c: depthwise convolutions (groups == c == n).
 *
 * Run directly over a padded copy of each channel whose columns are split
 * by stride phase (build_phase_plane()), so every tap of a strided window
 * becomes a contiguous vector load; the common 3×3 keeps its weights in
 * registers.  AVX-512, AVX2 and portable builds: every lane sums its taps
 * in the same order whatever the width, so all three give the same bits.
 */
#define G_LOG_DOMAIN "mt-fast-kernels"

#include "config.h"

#include "mt-fast-private.h"

/* Depthwise taps kept in registers (3×3, or 4×4 with zero taps). */
#define MAX_UNROLLED_TAPS 9

#ifdef MT_HAVE_X86_VARIANTS
/* Columns [*x, …) of one output row in 16-wide vectors while 16 fit: half
 * the instructions of the 8-wide loop for the same sums.  Only called from
 * the AVX-512 build. */
INLINE void
depthwise_row16 (const float      *base,
                 const int        *offs,
                 const v16f       *w,
                 int               n_taps,
                 float             bias,
                 MtFastActivation  activation,
                 float            *out,
                 int               ow,
                 int               room,
                 int              *x)
{
  v16f b = v16_set1 (bias);

  for (; *x + 32 <= ow; *x += 32)
    {
      v16f acc0 = { 0 }, acc1 = { 0 };

#pragma GCC unroll 16
      for (int t = 0; t < n_taps; t++)
        {
          acc0 += w[t] * v16_load (base + offs[t] + *x);
          acc1 += w[t] * v16_load (base + offs[t] + *x + 16);
        }
      v16_store_n (out + *x, v16_activate (acc0 + b, activation), 16);
      v16_store_n (out + *x + 16, v16_activate (acc1 + b, activation), 16);
    }
  for (; *x + 16 <= ow; *x += 16)
    {
      v16f acc = { 0 };

#pragma GCC unroll 16
      for (int t = 0; t < n_taps; t++)
        acc += w[t] * v16_load (base + offs[t] + *x);
      v16_store_n (out + *x, v16_activate (acc + b, activation), 16);
    }
  /* The last columns in one more vector: small maps (6 to 15 columns) are
   * mostly this, where two 8-wide steps and a copied store cost more than
   * their taps.  Its lanes past the row read the plane's next values (the
   * scratch has a vector to spare past the plane) and are stored over the
   * start of the next output rows, which are written after, as far as
   * @room (the floats from this row's start to the end of the range: past
   * it the rows may be another thread's). */
  if (*x < ow)
    {
      v16f acc = { 0 };

#pragma GCC unroll 16
      for (int t = 0; t < n_taps; t++)
        acc += w[t] * v16_load (base + offs[t] + *x);
      v16_store_n (out + *x, v16_activate (acc + b, activation), MIN (16, room - *x));
      *x = ow;
    }
}
#endif

/* Rows of a 3×3, stride 1 depthwise channel two at a time, 8 columns a
 * step: the four plane rows under an output pair are loaded once for both
 * (12 loads for 2 vectors where one row at a time takes 18), and each
 * sum still adds its taps in order (row y's from plane rows y, y + 1, y + 2,
 * row y + 1's from y + 1 … y + 3).  Columns go from the last vector to the
 * first, so a last vector stored whole over the next row's start is
 * overwritten by that row's own first one, later; lanes past the end of
 * the map's rows in this part go only where room allows, as in
 * depthwise_row16().
 * Returns the rows done: all but an odd last one. */
INLINE int
depthwise_row_pairs_3x3 (const float      *plane,
                         gsize             len,
                         const v8f        *w,
                         v8f               bias,
                         MtFastActivation  activation,
                         float            *out,
                         int               ow,
                         int               oh)
{
  int y = 0;

  for (; y + 1 < oh; y += 2, out += 2 * ow)
    {
      const float *r0 = plane + (gsize) y * len;
      int room = (oh - y - 1) * ow;

      for (int x = (ow - 1) / 8 * 8; x >= 0; x -= 8)
        {
          const float *p = r0 + x;
          v8f a = { 0 }, b = { 0 }, v0, v1, v2;

          v0 = v8_load (p), v1 = v8_load (p + 1), v2 = v8_load (p + 2);
          a += w[0] * v0; a += w[1] * v1; a += w[2] * v2;
          p += len;
          v0 = v8_load (p), v1 = v8_load (p + 1), v2 = v8_load (p + 2);
          a += w[3] * v0; a += w[4] * v1; a += w[5] * v2;
          b += w[0] * v0; b += w[1] * v1; b += w[2] * v2;
          p += len;
          v0 = v8_load (p), v1 = v8_load (p + 1), v2 = v8_load (p + 2);
          a += w[6] * v0; a += w[7] * v1; a += w[8] * v2;
          b += w[3] * v0; b += w[4] * v1; b += w[5] * v2;
          p += len;
          v0 = v8_load (p), v1 = v8_load (p + 1), v2 = v8_load (p + 2);
          b += w[6] * v0; b += w[7] * v1; b += w[8] * v2;

          /* Row y's lanes past its end reach row y + 1, or further on maps
           * under 8 wide: within @room as well. */
          if (x + 8 <= room + ow)
            v8_store (out + x, v8_activate (a + bias, activation));
          else
            v8_store_n (out + x, v8_activate (a + bias, activation), ow - x);
          if (x + 8 <= room)
            v8_store (out + ow + x, v8_activate (b + bias, activation));
          else
            v8_store_n (out + ow + x, v8_activate (b + bias, activation), ow - x);
        }
    }
  return y;
}

/* One channel of a depthwise convolution from its phase plane: output row y
 * reads the plane from y · @row_step on, tap t at offset @offs[t].  With
 * @dense_3x3 (all nine taps of a 3×3 at stride 1), rows go two at a time
 * where vectors are 8 wide.  @wide (a constant in each build) runs rows in
 * 16-wide vectors first.  @w and @w16 receive the broadcast weights; the
 * caller clears them once per layer: cleared per channel (a rep stos) they
 * cost a tenth of a 7x7 map's time. */
INLINE void
depthwise_channel (v8f              *w,
                   v16f             *w16,
                   const float      *plane,
                   gsize             row_step,
                   const int        *offs,
                   const float      *wt,
                   int               n_taps,
                   float             bias_value,
                   MtFastActivation  activation,
                   float            *out,
                   int               ow,
                   int               oh,
                   gboolean          wide,
                   gboolean          dense_3x3)
{
  v8f bias = v8_set1 (bias_value);
  int y0 = 0;

  for (int t = 0; t < n_taps && t < MAX_UNROLLED_TAPS; t++)
    {
      w[t] = v8_set1 (wt[t]);
#ifdef MT_HAVE_X86_VARIANTS
      if (wide)
        w16[t] = v16_set1 (wt[t]);
#endif
    }

  if (!wide && dense_3x3)
    {
      y0 = depthwise_row_pairs_3x3 (plane, row_step, w, bias, activation, out, ow, oh);
      out += (gsize) y0 * ow;
    }

  for (int y = y0; y < oh; y++, out += ow)
    {
      const float *base = plane + (gsize) y * row_step;
      int x = 0;

#ifdef MT_HAVE_X86_VARIANTS
      if (wide && n_taps <= MAX_UNROLLED_TAPS)
        depthwise_row16 (base, offs, w16, n_taps, bias_value, activation, out, ow,
                         (oh - y) * ow, &x);
#else
      (void) wide;
#endif
      if (n_taps <= MAX_UNROLLED_TAPS)
        for (; x + 16 <= ow; x += 16)
          {
            v8f acc0 = { 0 }, acc1 = { 0 };

#pragma GCC unroll 16
            for (int t = 0; t < n_taps; t++)
              {
                acc0 += w[t] * v8_load (base + offs[t] + x);
                acc1 += w[t] * v8_load (base + offs[t] + x + 8);
              }
            v8_store (out + x, v8_activate (acc0 + bias, activation));
            v8_store (out + x + 8, v8_activate (acc1 + bias, activation));
          }

      /* The rest in 8-wide vectors, the last one stored whole over the
       * start of the next rows where @room allows, as depthwise_row16()
       * does: a 7x7 map's rows are nothing but this. */
      for (; x < ow; x += 8)
        {
          v8f acc = { 0 };

          if (n_taps <= MAX_UNROLLED_TAPS)
            {
#pragma GCC unroll 16
              for (int t = 0; t < n_taps; t++)
                acc += w[t] * v8_load (base + offs[t] + x);
            }
          else
            for (int t = 0; t < n_taps; t++)
              acc += v8_set1 (wt[t]) * v8_load (base + offs[t] + x);
          acc = v8_activate (acc + bias, activation);
          if (x + 8 <= (oh - y) * ow)
            v8_store (out + x, acc);
          else
            v8_store_n (out + x, acc, ow - x);
        }
    }
}

INLINE void
_mt_fast_depthwise_forward_body (const MtFastConv *conv,
                                 const float      *input,
                                 float            *output,
                                 int               y_begin,
                                 int               y_end,
                                 float            *plane,
                                 int               n_rows,
                                 int               len,
                                 gboolean          wide)
{
  const MtFastConvShape *s = &conv->shape;
  int ow = conv->out_w, oh = conv->out_h, st = s->stride;
  int n_taps = conv->n_taps;
  int offsets[64];
  int *offs = n_taps <= 64 ? offsets : g_new (int, n_taps);
  v8f w[MAX_UNROLLED_TAPS] = { { 0 } };
#ifdef MT_HAVE_X86_VARIANTS
  v16f w16[MAX_UNROLLED_TAPS] = { { 0 } };
#else
  v16f *w16 = NULL;
#endif
  /* Output rows y_begin… read padded rows y_begin · stride…: the plane
   * starts there, as if the padding above were that much smaller. */
  int pad_top = s->pad - y_begin * st;
  int rows = y_end - y_begin;
  /* Every tap of a 3×3 at stride 1 on a map of at most 32 columns:
   * depthwise_row_pairs_3x3().  On wider maps, its columns from last to
   * first measured slower (96x96: 0.096 -> 0.124 ms), the loads it saves
   * mattering less than the prefetchers it loses. */
  gboolean dense_3x3 = s->size == 3 && st == 1 && n_taps == 9 && ow <= 32;

  (void) n_rows;
  for (int t = 0; t < n_taps; t++)
    offs[t] = conv->tap_y[t] * st * len + (conv->tap_x[t] % st) * len + conv->tap_x[t] / st;

  for (int ch = 0; ch < s->c; ch++)
    {
      const float *wt = conv->weights + (gsize) ch * n_taps;
      float bias = conv->biases[ch];
      float *out = output + (gsize) ch * oh * ow + (gsize) y_begin * ow;

      /* Every channel's plane has the same borders: written once. */
      build_phase_plane (input + (gsize) ch * s->h * s->w, s->h, s->w, pad_top, s->pad,
                         (rows - 1) * st + s->size, st, len, 0.f, ch > 0, plane);

      /* The common 3×3 gets its weights in registers and its taps unrolled,
       * and its usual linear activation a build of its own: as a variable,
       * the stores kept each sum on the stack around the switch. */
      if (n_taps == 9 && s->activation == MT_FAST_ACTIVATION_LINEAR)
        depthwise_channel (w, w16, plane, st * st * len, offs, wt, 9, bias,
                           MT_FAST_ACTIVATION_LINEAR, out, ow, rows, wide, dense_3x3);
      else if (n_taps == 9)
        depthwise_channel (w, w16, plane, st * st * len, offs, wt, 9, bias, s->activation, out, ow,
                           rows, wide, dense_3x3);
      else
        depthwise_channel (w, w16, plane, st * st * len, offs, wt, n_taps, bias, s->activation, out,
                           ow, rows, wide, FALSE);
    }

  if (offs != offsets)
    g_free (offs);
}

#define DEPTHWISE_PARAMS \
  (const MtFastConv *conv, const float *input, float *output, \
   int y_begin, int y_end, float *plane, int n_rows, int len)

#ifdef MT_HAVE_X86_VARIANTS
__attribute__ ((target ("avx512f")))
static void
depthwise_forward_avx512 DEPTHWISE_PARAMS
{
  _mt_fast_depthwise_forward_body (conv, input, output, y_begin, y_end, plane, n_rows, len, TRUE);
}

__attribute__ ((target ("avx2")))
static void
depthwise_forward_avx2 DEPTHWISE_PARAMS
{
  _mt_fast_depthwise_forward_body (conv, input, output, y_begin, y_end, plane, n_rows, len, FALSE);
}
#endif

static void
depthwise_forward_generic DEPTHWISE_PARAMS
{
  _mt_fast_depthwise_forward_body (conv, input, output, y_begin, y_end, plane, n_rows, len, FALSE);
}

void
_mt_fast_depthwise_forward DEPTHWISE_PARAMS
{
#ifdef MT_HAVE_X86_VARIANTS
  MtFastIsa isa = mt_fast_kernels_get_isa ();

  if (isa >= MT_FAST_ISA_AVX512)
    depthwise_forward_avx512 (conv, input, output, y_begin, y_end, plane, n_rows, len);
  else if (isa >= MT_FAST_ISA_AVX2)
    depthwise_forward_avx2 (conv, input, output, y_begin, y_end, plane, n_rows, len);
  else
#endif
    depthwise_forward_generic (conv, input, output, y_begin, y_end, plane, n_rows, len);
}
