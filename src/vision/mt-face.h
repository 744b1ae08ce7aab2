/* mt-face.h: one face found in a frame. */
#pragma once

#include "mt-mood.h"

G_BEGIN_DECLS

typedef struct {
  /* Box in frame pixels: left, top, width, height. */
  float     x, y, width, height;
  float     score;                        /* detection confidence, 0-1 */
  float     emotions[MT_N_MOODS];      /* probabilities, summing to 1 */
  MtMood emotion;                      /* the most probable one */
} MtFace;

/* Intersection over union of two faces' boxes (0 when they do not meet). */
float mt_face_iou (const MtFace *a,
                   const MtFace *b);

G_END_DECLS
