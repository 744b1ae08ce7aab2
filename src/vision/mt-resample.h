/* mt-resample.h: turns a region of a frame into a network's planar input. */
#pragma once

#include "mt-frame.h"

G_BEGIN_DECLS

typedef struct {
  /* Source region in frame pixels; it may reach outside the frame. */
  float    x, y, width, height;
  int      out_width, out_height;
  gboolean gray;          /* one output plane of luma instead of R, G, B */
  gboolean flip;          /* mirror left to right */
  gboolean clamp_edges;   /* outside the frame: repeat the edge pixels… */
  float    fill;          /* …or use this value (0-255) */
  float    mean[3];       /* output = (value - mean[channel]) * scale */
  float    scale;
} MtResampleSpec;

/* Writes out_width × out_height × (gray ? 1 : 3) floats, planar.  Shrinking
 * averages the covered pixels (no aliasing on small faces); enlarging is
 * bilinear.  The frame must have passed mt_frame_validate(). */
void mt_resample_to_planar (const MtFrame        *frame,
                            const MtResampleSpec *spec,
                            float                *out);

G_END_DECLS
