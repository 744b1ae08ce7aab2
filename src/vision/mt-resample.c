#define G_LOG_DOMAIN "mt-resample"

#include "config.h"

#include <math.h>

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

/* Source row @y as float RGB for columns [x_lo, x_hi): what lies outside the
 * frame is the fill value or the nearest edge pixel.  Converting each row
 * once keeps the pixel format out of the filter's inner loop. */
static void
read_row (const MtFrame        *frame,
          const MtResampleSpec *spec,
          int                   y,
          int                   x_lo,
          int                   x_hi,
          float                *line)
{
  gboolean row_inside = y >= 0 && y < frame->height;
  int inside_lo = CLAMP (0, x_lo, x_hi);
  int inside_hi = CLAMP (frame->width, x_lo, x_hi);
  const guint8 *row;

  if (!row_inside && !spec->clamp_edges)
    {
      for (int x = x_lo; x < x_hi; x++)
        {
          float *dst = line + (gsize) (x - x_lo) * 3;
          dst[0] = dst[1] = dst[2] = spec->fill;
        }
      return;
    }

  row = frame->data + (gsize) CLAMP (y, 0, frame->height - 1) * frame->stride;
  for (int x = x_lo; x < x_hi; x++)
    {
      float *dst = line + (gsize) (x - x_lo) * 3;

      if (x >= inside_lo && x < inside_hi)
        {
          x = inside_hi - 1;  /* the span inside is converted below */
          continue;
        }
      if (spec->clamp_edges)
        mt_frame_get_rgb (frame, x, y, dst);
      else
        dst[0] = dst[1] = dst[2] = spec->fill;
    }

  {
    float *dst = line + (gsize) (inside_lo - x_lo) * 3;
    int n = inside_hi - inside_lo;

    switch (frame->format)
      {
      case MT_PIXEL_FORMAT_GRAY:
        for (int i = 0; i < n; i++, dst += 3)
          dst[0] = dst[1] = dst[2] = row[inside_lo + i];
        break;
      case MT_PIXEL_FORMAT_RGB:
        for (int i = 0; i < n; i++, dst += 3)
          {
            const guint8 *p = row + (inside_lo + i) * 3;
            dst[0] = p[0]; dst[1] = p[1]; dst[2] = p[2];
          }
        break;
      case MT_PIXEL_FORMAT_RGBA:
        for (int i = 0; i < n; i++, dst += 3)
          {
            const guint8 *p = row + (inside_lo + i) * 4;
            dst[0] = p[0]; dst[1] = p[1]; dst[2] = p[2];
          }
        break;
      case MT_PIXEL_FORMAT_BGRA:
      default:
        for (int i = 0; i < n; i++, dst += 3)
          {
            const guint8 *p = row + (inside_lo + i) * 4;
            dst[0] = p[2]; dst[1] = p[1]; dst[2] = p[0];
          }
        break;
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
  g_autofree Taps *xt = g_new (Taps, ow);
  g_autofree Taps *yt = g_new (Taps, oh);
  g_autofree float *xw = build_taps (spec->x, spec->width, ow, xt);
  g_autofree float *yw = build_taps (spec->y, spec->height, oh, yt);
  int row_lo = yt[0].first;
  int row_hi = yt[oh - 1].first + yt[oh - 1].n_taps;
  int col_lo = xt[0].first;
  int col_hi = xt[ow - 1].first + xt[ow - 1].n_taps;
  int n_rows = row_hi - row_lo;
  /* Horizontal pass first, for every source row the vertical pass reads. */
  g_autofree float *rows = g_new (float, (gsize) n_rows * ow * 3);
  g_autofree float *line = g_new (float, (gsize) (col_hi - col_lo) * 3);

  for (int r = 0; r < n_rows; r++)
    {
      float *dst = rows + (gsize) r * ow * 3;

      read_row (frame, spec, row_lo + r, col_lo, col_hi, line);
      for (int i = 0; i < ow; i++)
        {
          const Taps *t = &xt[i];
          const float *src = line + (gsize) (t->first - col_lo) * 3;
          const float *w = xw + t->offset;
          float acc[3] = { 0, 0, 0 };

          for (int k = 0; k < t->n_taps; k++, src += 3)
            {
              acc[0] += w[k] * src[0];
              acc[1] += w[k] * src[1];
              acc[2] += w[k] * src[2];
            }
          dst[i * 3] = acc[0];
          dst[i * 3 + 1] = acc[1];
          dst[i * 3 + 2] = acc[2];
        }
    }

  for (int j = 0; j < oh; j++)
    {
      const Taps *t = &yt[j];

      for (int i = 0; i < ow; i++)
        {
          float acc[3] = { 0, 0, 0 };
          int ox = spec->flip ? ow - 1 - i : i;

          for (int k = 0; k < t->n_taps; k++)
            {
              float w = yw[t->offset + k];
              const float *src = rows + ((gsize) (t->first + k - row_lo) * ow + i) * 3;

              acc[0] += w * src[0];
              acc[1] += w * src[1];
              acc[2] += w * src[2];
            }

          if (spec->gray)
            {
              float luma = LUMA_R * acc[0] + LUMA_G * acc[1] + LUMA_B * acc[2];
              out[(gsize) j * ow + ox] = (luma - spec->mean[0]) * spec->scale;
            }
          else
            {
              for (int c = 0; c < channels; c++)
                out[((gsize) c * oh + j) * ow + ox] = (acc[c] - spec->mean[c]) * spec->scale;
            }
        }
    }
}
