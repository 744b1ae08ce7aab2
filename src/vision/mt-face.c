#define G_LOG_DOMAIN "mt-face"

#include "config.h"

#include "mt-face.h"

float
mt_face_iou (const MtFace *a,
             const MtFace *b)
{
  float x0 = MAX (a->x, b->x);
  float y0 = MAX (a->y, b->y);
  float x1 = MIN (a->x + a->width, b->x + b->width);
  float y1 = MIN (a->y + a->height, b->y + b->height);
  float inter = MAX (x1 - x0, 0.0f) * MAX (y1 - y0, 0.0f);
  float uni = a->width * a->height + b->width * b->height - inter;

  return uni > 0 ? inter / uni : 0;
}
