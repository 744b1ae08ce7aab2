#define G_LOG_DOMAIN "mt-resample"

#include "config.h"

#include <math.h>
#include <string.h>

#include "mt-resample.h"

/* Luma weights of ITU-R BT.601, as TensorFlow's rgb_to_grayscale uses. */
#define LUMA_R 0.2989f
#define LUMA_G 0.5870f
#define LUMA_B 0.1140f

typedef struct {
  int   first;    /* first source index */
  int   n_taps;
  int   offset;   /* into the shared weight array */
} Taps;

/* For each of @n_out output samples covering [@start, @start + @length) of the
 * source, the source indices and weights that make it. */
static float *
build_taps (float  start,
            float  length,
            int    n_out,
            Taps  *taps)
{
  float step = length / n_out;
  int max_taps = (int) ceilf (step) + 2;
  float *weights = g_new0 (float, (gsize) n_out * max_taps);

  for (int i = 0; i < n_out; i++)
    {
      Taps *t = &taps[i];

      t->offset = i * max_taps;
      if (step <= 1.0f)
        {
          float p = start + (i + 0.5f) * step - 0.5f;
          float f = p - floorf (p);

          t->first = (int) floorf (p);
          t->n_taps = 2;
          weights[t->offset] = 1.0f - f;
          weights[t->offset + 1] = f;
        }
      else
        {
          float lo = start + i * step;
          float hi = lo + step;
          int j0 = (int) floorf (lo);
          int j1 = (int) ceilf (hi);

          t->first = j0;
          t->n_taps = MIN (j1 - j0, max_taps);
          for (int k = 0; k < t->n_taps; k++)
            {
              float a = MAX (lo, (float) (j0 + k));
              float b = MIN (hi, (float) (j0 + k + 1));
              weights[t->offset + k] = MAX (b - a, 0.0f) / step;
            }
        }
    }
  return weights;
}

/* Adds @w times source row @y, columns [@v_lo, @v_hi), to @acc in the
 * frame's own channel layout (bytes per pixel values per column).  A row
 * outside the frame is the edge row or the fill value.  The inner loop runs
 * over contiguous bytes, so the compiler vectorizes it, for AVX2 too where
 * the CPU has it (the vertical pass is most of a detector frame's cost). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__ ((target_clones ("avx2", "default")))
#endif
static void
add_row (const MtFrame        *frame,
         const MtResampleSpec *spec,
         int                   y,
         int                   v_lo,
         int                   v_hi,
         float                 w,
         float                *acc)
{
  int bpp = mt_pixel_format_bpp (frame->format);
  gsize n = (gsize) (v_hi - v_lo) * bpp;
  const guint8 *row;

  if ((y < 0 || y >= frame->height) && !spec->clamp_edges)
    {
      float value = w * spec->fill;

      for (gsize i = 0; i < n; i++)
        acc[i] += value;
      return;
    }
  row = frame->data + (gsize) CLAMP (y, 0, frame->height - 1) * frame->stride + (gsize) v_lo * bpp;
  for (gsize i = 0; i < n; i++)
    acc[i] += w * (float) row[i];
}

/* Where R, G and B sit in a pixel of @format. */
static void
channel_offsets (MtPixelFormat format,
                 int           rgb[3])
{
  rgb[0] = 0, rgb[1] = 1, rgb[2] = 2;
  if (format == MT_PIXEL_FORMAT_GRAY)
    rgb[1] = rgb[2] = 0;
  else if (format == MT_PIXEL_FORMAT_BGRA)
    rgb[0] = 2, rgb[2] = 0;
}

/* Column @i of the planes from the filtered pixel @p (the frame's layout). */
static inline void
set_column (const MtResampleSpec *spec,
            const int             rgb[3],
            const float          *p,
            int                   span,
            gsize                 i,
            float                *planes)
{
  if (spec->gray)
    planes[i] = LUMA_R * p[rgb[0]] + LUMA_G * p[rgb[1]] + LUMA_B * p[rgb[2]];
  else
    {
      planes[i] = p[rgb[0]];
      planes[span + i] = p[rgb[1]];
      planes[2 * span + i] = p[rgb[2]];
    }
}

/* Turns the vertically filtered columns @acc (the frame's layout, columns
 * [@v_lo, @v_hi)) into one plane per output channel spanning source columns
 * [@col_lo, @col_hi): luma for gray output, else R, G, B.  Columns outside
 * the frame are the edge column or the fill value, so the horizontal taps
 * need no tests. */
static void
columns_to_planes (const MtFrame        *frame,
                   const MtResampleSpec *spec,
                   const float          *acc,
                   int                   v_lo,
                   int                   v_hi,
                   int                   col_lo,
                   int                   col_hi,
                   float                *planes)
{
  int span = col_hi - col_lo;
  int bpp = mt_pixel_format_bpp (frame->format);
  int in_lo = CLAMP (v_lo, col_lo, col_hi);
  int in_hi = CLAMP (v_hi, in_lo, col_hi);
  int rgb[3];

  channel_offsets (frame->format, rgb);
  for (int x = in_lo; x < in_hi; x++)
    set_column (spec, rgb, acc + (gsize) (x - v_lo) * bpp, span, (gsize) (x - col_lo), planes);

  for (int x = col_lo; x < col_hi; x++)
    {
      if (x == in_lo && in_hi > in_lo)
        x = in_hi;  /* the frame's columns are done */
      if (x >= col_hi)
        break;
      if (spec->clamp_edges)
        set_column (spec, rgb, acc + (gsize) (CLAMP (x, v_lo, v_hi - 1) - v_lo) * bpp, span,
                    (gsize) (x - col_lo), planes);
      else
        {
          planes[x - col_lo] = spec->fill;
          if (!spec->gray)
            planes[span + x - col_lo] = planes[2 * span + x - col_lo] = spec->fill;
        }
    }
}

void
mt_resample_to_planar (const MtFrame        *frame,
                       const MtResampleSpec *spec,
                       float                *out)
{
  int ow = spec->out_width;
  int oh = spec->out_height;
  int channels = spec->gray ? 1 : 3;
  int bpp = mt_pixel_format_bpp (frame->format);
  g_autofree Taps *xt = g_new (Taps, ow);
  g_autofree Taps *yt = g_new (Taps, oh);
  g_autofree float *xw = build_taps (spec->x, spec->width, ow, xt);
  g_autofree float *yw = build_taps (spec->y, spec->height, oh, yt);
  int col_lo = xt[0].first;
  int col_hi = xt[ow - 1].first + xt[ow - 1].n_taps;
  /* The frame's columns the region reads, at least one (the edge that
   * clamped columns repeat). */
  int v_lo = CLAMP (col_lo, 0, frame->width - 1);
  int v_hi = CLAMP (col_hi, v_lo + 1, frame->width);
  int span = col_hi - col_lo;
  /* Vertical pass first, on the frame's bytes (no conversion pass), then the
   * horizontal one on a single filtered row: one output row at a time. */
  g_autofree float *acc = g_new (float, (gsize) (v_hi - v_lo) * bpp);
  g_autofree float *planes = g_new (float, (gsize) span * channels);

  for (int j = 0; j < oh; j++)
    {
      const Taps *t = &yt[j];

      memset (acc, 0, sizeof (float) * (gsize) (v_hi - v_lo) * bpp);
      for (int k = 0; k < t->n_taps; k++)
        add_row (frame, spec, t->first + k, v_lo, v_hi, yw[t->offset + k], acc);
      columns_to_planes (frame, spec, acc, v_lo, v_hi, col_lo, col_hi, planes);

      for (int c = 0; c < channels; c++)
        {
          const float *plane = planes + (gsize) c * span;
          float *dst = out + ((gsize) c * oh + j) * ow;

          for (int i = 0; i < ow; i++)
            {
              const Taps *h = &xt[i];
              const float *src = plane + (h->first - col_lo);
              const float *w = xw + h->offset;
              float sum = 0;

              for (int k = 0; k < h->n_taps; k++)
                sum += w[k] * src[k];
              dst[spec->flip ? ow - 1 - i : i] = (sum - spec->mean[c]) * spec->scale;
            }
        }
    }
}
