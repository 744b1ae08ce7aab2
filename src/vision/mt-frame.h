/* mt-frame.h: a borrowed view of one camera frame or decoded image. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MT_PIXEL_FORMAT_RGB,   /* 3 bytes per pixel */
  MT_PIXEL_FORMAT_RGBA,  /* 4 bytes per pixel, alpha ignored */
  MT_PIXEL_FORMAT_BGRA,  /* 4 bytes per pixel (GStreamer BGRx/BGRA), alpha ignored */
  MT_PIXEL_FORMAT_GRAY,  /* 1 byte per pixel */
} MtPixelFormat;

/* Frames larger than this are refused: no webcam or photo we analyze is
 * bigger, and it keeps every size computation far from overflow. */
#define MT_FRAME_MAX_SIDE 16384
/* …and larger in area than this: a 16384×16384 PNG can be under 1 MB on disk
 * and 1 GiB decoded.  64 megapixels (256 MiB as RGBA) holds any webcam frame
 * and the photos of today's cameras. */
#define MT_FRAME_MAX_PIXELS (64 * 1024 * 1024)

typedef struct {
  const guint8  *data;
  int            width;
  int            height;
  int            stride;  /* bytes from one row to the next */
  MtPixelFormat  format;
} MtFrame;

#define MT_FRAME_ERROR (mt_frame_error_quark ())

typedef enum {
  MT_FRAME_ERROR_INVALID,
} MtFrameError;

GQuark   mt_frame_error_quark     (void);
int      mt_pixel_format_bpp      (MtPixelFormat  format);
gboolean mt_frame_validate        (const MtFrame *frame,
                                   GError       **error);
/* Mean luma (0-255) over a sparse grid of about 64x48 points: enough to
 * tell a dark room, at a few microseconds a frame. */
double   mt_frame_mean_brightness (const MtFrame *frame);

/* Reads pixel (x, y), clamped to the frame, as RGB. */
static inline void
mt_frame_get_rgb (const MtFrame *frame,
                  int            x,
                  int            y,
                  float          rgb[3])
{
  const guint8 *p;

  x = CLAMP (x, 0, frame->width - 1);
  y = CLAMP (y, 0, frame->height - 1);
  p = frame->data + (gsize) y * frame->stride;

  switch (frame->format)
    {
    case MT_PIXEL_FORMAT_GRAY:
      rgb[0] = rgb[1] = rgb[2] = p[x];
      break;
    case MT_PIXEL_FORMAT_RGB:
      p += x * 3;
      rgb[0] = p[0]; rgb[1] = p[1]; rgb[2] = p[2];
      break;
    case MT_PIXEL_FORMAT_RGBA:
      p += x * 4;
      rgb[0] = p[0]; rgb[1] = p[1]; rgb[2] = p[2];
      break;
    case MT_PIXEL_FORMAT_BGRA:
    default:
      p += x * 4;
      rgb[0] = p[2]; rgb[1] = p[1]; rgb[2] = p[0];
      break;
    }
}

G_END_DECLS
