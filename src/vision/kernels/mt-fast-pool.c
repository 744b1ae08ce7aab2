/* mt-fast-pool.c: Darknet's [maxpool] and [avgpool] layers.
 *
 * The detector's 2×2 poolings have their own loops; any other max pooling
 * runs over a phase plane of each channel (build_phase_plane(), padded with
 * -FLT_MAX) so every tap of a strided window is a contiguous vector load.
 * AVX2 and portable builds.  Average pooling is global (one mean per
 * channel), in Darknet's order.
 */
#define G_LOG_DOMAIN "mt-fast-kernels"

#include "config.h"

#include <float.h>

#include "mt-fast-private.h"

int
mt_fast_maxpool_out_width (const MtFastPoolShape *shape)
{
  return (shape->w + shape->padding - shape->size) / shape->stride + 1;
}

int
mt_fast_maxpool_out_height (const MtFastPoolShape *shape)
{
  return (shape->h + shape->padding - shape->size) / shape->stride + 1;
}

gboolean
mt_fast_maxpool_supports (const MtFastPoolShape *shape)
{
  g_return_val_if_fail (shape != NULL, FALSE);

  return shape->c > 0 && shape->h > 0 && shape->w > 0 &&
         shape->size > 0 && shape->stride > 0 && shape->padding >= 0 &&
         shape->w + shape->padding >= shape->size &&
         shape->h + shape->padding >= shape->size;
}

/* The detector's 2×2 stride 2 pooling with Darknet's default padding (1,
 * offset 0): max of two rows, then of even and odd columns. */
INLINE void
fast_maxpool_2x2s2_body (const MtFastPoolShape *s,
                         const float           *input,
                         float                 *output,
                         int                    ow,
                         int                    oh)
{
  for (int ch = 0; ch < s->c; ch++)
    for (int y = 0; y < oh; y++)
      {
        const float *plane = input + (gsize) ch * s->h * s->w;
        const float *r0 = plane + (gsize) (2 * y) * s->w;
        /* A missing second row (odd height) adds nothing to the max. */
        const float *r1 = 2 * y + 1 < s->h ? r0 + s->w : r0;
        float *out = output + ((gsize) ch * oh + y) * ow;
        int x = 0;

        /* In 4-wide halves: SSE2 has the even/odd shuffle for those, and
         * the loop is bound by memory anyway. */
        for (; 2 * x + 8 <= s->w; x += 4)
          {
            v4f a0 = v4_max (v4_load (r0 + 2 * x), v4_load (r1 + 2 * x));
            v4f a1 = v4_max (v4_load (r0 + 2 * x + 4), v4_load (r1 + 2 * x + 4));

            v4_store (out + x, v4_max (__builtin_shufflevector (a0, a1, 0, 2, 4, 6),
                                       __builtin_shufflevector (a0, a1, 1, 3, 5, 7)));
          }
        for (; x < ow; x++)
          {
            float m = -FLT_MAX;

            for (int dx = 0; dx < 2; dx++)
              {
                int ix = 2 * x + dx;

                if (ix >= s->w)
                  continue;
                m = r0[ix] > m ? r0[ix] : m;
                m = r1[ix] > m ? r1[ix] : m;
              }
            out[x] = m;
          }
      }
}

MT_DEFINE_VARIANTS (fast_maxpool_2x2s2,
                    (const MtFastPoolShape *s, const float *input, float *output,
                     int ow, int oh),
                    (s, input, output, ow, oh))

/* 2×2 stride 1 with padding 1 (offset 0): the detector's last pooling, which
 * keeps the size; the last row and column see only what is inside. */
INLINE void
fast_maxpool_2x2s1_body (const MtFastPoolShape *s,
                         const float           *input,
                         float                 *output,
                         int                    ow,
                         int                    oh)
{
  for (int ch = 0; ch < s->c; ch++)
    for (int y = 0; y < oh; y++)
      {
        const float *plane = input + (gsize) ch * s->h * s->w;
        const float *r0 = plane + (gsize) y * s->w;
        const float *r1 = y + 1 < s->h ? r0 + s->w : r0;
        float *out = output + ((gsize) ch * oh + y) * ow;
        int x = 0;

        for (; x + 9 <= s->w && x + 8 <= ow; x += 8)
          {
            v8f a = v8_max (v8_load (r0 + x), v8_load (r1 + x));
            v8f b = v8_max (v8_load (r0 + x + 1), v8_load (r1 + x + 1));

            v8_store (out + x, v8_max (b, a));
          }
        for (; x < ow; x++)
          {
            float m = -FLT_MAX;

            for (int dx = 0; dx < 2 && x + dx < s->w; dx++)
              {
                m = r0[x + dx] > m ? r0[x + dx] : m;
                m = r1[x + dx] > m ? r1[x + dx] : m;
              }
            out[x] = m;
          }
      }
}

MT_DEFINE_VARIANTS (fast_maxpool_2x2s1,
                    (const MtFastPoolShape *s, const float *input, float *output,
                     int ow, int oh),
                    (s, input, output, ow, oh))

INLINE void
fast_maxpool_body (const MtFastPoolShape *s,
                   const float           *input,
                   float                 *output,
                   int                    ow,
                   int                    oh,
                   float                 *plane,
                   int                    n_rows,
                   int                    len)
{
  int st = s->stride, k = s->size;

  for (int ch = 0; ch < s->c; ch++)
    {
      build_phase_plane (input + (gsize) ch * s->h * s->w, s->h, s->w,
                         s->padding / 2, s->padding / 2, n_rows, st, len,
                         -FLT_MAX, ch > 0, plane);

      for (int y = 0; y < oh; y++)
        {
          const float *base = plane + (gsize) y * st * st * len;
          float *out = output + ((gsize) ch * oh + y) * ow;

          for (int x = 0; x < ow; x += 8)
            {
              v8f m = v8_set1 (-FLT_MAX);

              for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                  {
                    v8f v = v8_load (base + (gsize) ky * st * len + (kx % st) * len + kx / st + x);
                    m = v8_max (v, m);
                  }
              if (x + 8 <= ow)
                v8_store (out + x, m);
              else
                v8_store_n (out + x, m, ow - x);
            }
        }
    }
}

MT_DEFINE_VARIANTS (fast_maxpool,
                    (const MtFastPoolShape *s, const float *input, float *output,
                     int ow, int oh, float *plane, int n_rows, int len),
                    (s, input, output, ow, oh, plane, n_rows, len))

void
mt_fast_maxpool_forward (const MtFastPoolShape *shape,
                         const float           *input,
                         float                 *output,
                         MtFastScratch         *scratch)
{
  int ow, oh, n_rows, len;
  float *plane;

  g_return_if_fail (shape != NULL && mt_fast_maxpool_supports (shape));
  g_return_if_fail (input != NULL && output != NULL && scratch != NULL);

  ow = mt_fast_maxpool_out_width (shape);
  oh = mt_fast_maxpool_out_height (shape);

  if (shape->size == 2 && shape->stride == 2 && shape->padding / 2 == 0)
    {
      fast_maxpool_2x2s2 (shape, input, output, ow, oh);
      return;
    }
  if (shape->size == 2 && shape->stride == 1 && shape->padding / 2 == 0)
    {
      fast_maxpool_2x2s1 (shape, input, output, ow, oh);
      return;
    }

  phase_plane_geometry (shape->size, shape->stride, ow, oh, &n_rows, &len);
  plane = _mt_fast_scratch_reserve (scratch, (gsize) n_rows * shape->stride * len);
  fast_maxpool (shape, input, output, ow, oh, plane, n_rows, len);
}

/* ---- average pooling ------------------------------------------------------ */

void
mt_fast_avgpool_forward (int          c,
                         int          h,
                         int          w,
                         const float *input,
                         float       *output)
{
  g_return_if_fail (c > 0 && h > 0 && w > 0);
  g_return_if_fail (input != NULL && output != NULL);

  /* A plain running sum in Darknet's order, so the means are bit-identical
   * (the layer is a tiny part of the work).  Darknet's source divides by
   * h·w, but Debian's build multiplies by the float reciprocal: so do we. */
  float scale = 1.f / (float) (h * w);

  for (int ch = 0; ch < c; ch++)
    {
      const float *p = input + (gsize) ch * h * w;
      float sum = 0.f;

      for (int i = 0; i < h * w; i++)
        sum += p[i];
      output[ch] = sum * scale;
    }
}
