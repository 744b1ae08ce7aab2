#define G_LOG_DOMAIN "mt-frame"

#include "config.h"

#include "mt-frame.h"

G_DEFINE_QUARK (mt-frame-error-quark, mt_frame_error)

int
mt_pixel_format_bpp (MtPixelFormat format)
{
  switch (format)
    {
    case MT_PIXEL_FORMAT_GRAY:
      return 1;
    case MT_PIXEL_FORMAT_RGB:
      return 3;
    case MT_PIXEL_FORMAT_RGBA:
    case MT_PIXEL_FORMAT_BGRA:
      return 4;
    default:
      return 0;
    }
}

gboolean
mt_frame_validate (const MtFrame  *frame,
                   GError        **error)
{
  int bpp;

  if (frame == NULL || frame->data == NULL)
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID, "The frame has no pixels");
      return FALSE;
    }
  bpp = mt_pixel_format_bpp (frame->format);
  if (bpp == 0)
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID,
                   "Unknown pixel format %d", (int) frame->format);
      return FALSE;
    }
  if (frame->width <= 0 || frame->height <= 0)
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID,
                   "The frame is empty (%d×%d pixels)", frame->width, frame->height);
      return FALSE;
    }
  if (frame->width > MT_FRAME_MAX_SIDE || frame->height > MT_FRAME_MAX_SIDE)
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID,
                   "The frame is too large (%d×%d pixels, at most %d per side)",
                   frame->width, frame->height, MT_FRAME_MAX_SIDE);
      return FALSE;
    }
  if ((gint64) frame->width * frame->height > MT_FRAME_MAX_PIXELS)
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID,
                   "The frame is too large (%d×%d pixels, at most %d megapixels)",
                   frame->width, frame->height, MT_FRAME_MAX_PIXELS / (1024 * 1024));
      return FALSE;
    }
  if (frame->stride < frame->width * bpp)
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID,
                   "The frame's row stride (%d bytes) is shorter than a row (%d bytes)",
                   frame->stride, frame->width * bpp);
      return FALSE;
    }
  return TRUE;
}

double
mt_frame_mean_brightness (const MtFrame *frame)
{
  double sum = 0;
  int n = 0;
  int step_x = MAX (1, frame->width / 64);
  int step_y = MAX (1, frame->height / 48);

  for (int y = 0; y < frame->height; y += step_y)
    for (int x = 0; x < frame->width; x += step_x)
      {
        float rgb[3];

        mt_frame_get_rgb (frame, x, y, rgb);
        sum += 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
        n++;
      }
  return n > 0 ? sum / n : 0;
}
