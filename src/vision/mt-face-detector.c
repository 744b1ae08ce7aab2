/* mt-face-detector.c: Tiny-YOLOv2 face detection (face-api.js's model in
 * Darknet form, see models/README.md). */
#define G_LOG_DOMAIN "mt-face-detector"

#include "config.h"

#include <math.h>
#include <string.h>

#include "mt-darknet.h"
#include "mt-face-detector.h"
#include "mt-resample.h"

#define N_ANCHORS 5
#define BOX_VALUES 5     /* x, y, w, h, score per anchor */
#define NMS_IOU 0.4f     /* overlap above which the weaker box is dropped */

/* Anchor sizes in grid cells, as the model was trained with. */
static const float anchors[N_ANCHORS][2] = {
  { 1.603231f, 2.094468f },
  { 6.041143f, 7.080126f },
  { 2.882459f, 3.518061f },
  { 4.266906f, 5.178857f },
  { 9.041765f, 10.66308f },
};

struct _MtFaceDetector {
  GObject  parent_instance;
  MtNet   *net;
  float   *input;
  float    threshold;
};

G_DEFINE_FINAL_TYPE (MtFaceDetector, mt_face_detector, G_TYPE_OBJECT)

static void
mt_face_detector_finalize (GObject *object)
{
  MtFaceDetector *self = MT_FACE_DETECTOR (object);

  g_clear_pointer (&self->net, mt_net_free);
  g_clear_pointer (&self->input, g_free);

  G_OBJECT_CLASS (mt_face_detector_parent_class)->finalize (object);
}

static void
mt_face_detector_class_init (MtFaceDetectorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_face_detector_finalize;
}

static void
mt_face_detector_init (MtFaceDetector *self)
{
  self->threshold = MT_FACE_DETECTOR_DEFAULT_THRESHOLD;
}

MtFaceDetector *
mt_face_detector_new (const char  *cfg_path,
                      const char  *weights_path,
                      GError     **error)
{
  g_autoptr(MtFaceDetector) self = NULL;
  g_autoptr(MtNet) net = mt_net_load (cfg_path, weights_path, error);
  int w, h;

  if (net == NULL)
    return NULL;

  w = mt_net_get_width (net);
  h = mt_net_get_height (net);
  if (w != h || w % 32 != 0 || mt_net_get_channels (net) != 3 ||
      mt_net_get_output_size (net) != (gsize) N_ANCHORS * BOX_VALUES * (w / 32) * (h / 32))
    {
      g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                   "“%s” is not a face detector: expected a square RGB input and "
                   "%d×%d cells of %d anchors", cfg_path, w / 32, h / 32, N_ANCHORS);
      return NULL;
    }

  self = g_object_new (MT_TYPE_FACE_DETECTOR, NULL);
  self->net = g_steal_pointer (&net);
  self->input = g_new (float, mt_net_get_input_size (self->net));
  if (!mt_face_detector_set_input_size (self, MT_FACE_DETECTOR_DEFAULT_SIZE, error))
    return NULL;
  return g_steal_pointer (&self);
}

int
mt_face_detector_get_input_size (MtFaceDetector *self)
{
  g_return_val_if_fail (MT_IS_FACE_DETECTOR (self), 0);
  return mt_net_get_width (self->net);
}

gboolean
mt_face_detector_set_input_size (MtFaceDetector  *self,
                                 int              size,
                                 GError         **error)
{
  int cells = size / 32;
  int old_size;

  g_return_val_if_fail (MT_IS_FACE_DETECTOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  old_size = mt_net_get_width (self->net);
  if (size == old_size)
    return TRUE;
  if (!mt_net_resize (self->net, size, size, error))
    return FALSE;

  /* The decoder reads one cell per 32 input pixels: true of this model's
   * five 2×2 poolings at every size mt_net_resize() takes, checked anyway. */
  if (mt_net_get_output_size (self->net) != (gsize) N_ANCHORS * BOX_VALUES * cells * cells)
    {
      g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                   "The face detector gives %" G_GSIZE_FORMAT " outputs at %d×%d, "
                   "not %d×%d cells of %d anchors", mt_net_get_output_size (self->net),
                   size, size, cells, cells, N_ANCHORS);
      /* Back to the size the input buffer was made for (known to work). */
      mt_net_resize (self->net, old_size, old_size, NULL);
      return FALSE;
    }

  g_free (self->input);
  self->input = g_new (float, mt_net_get_input_size (self->net));
  return TRUE;
}

void
mt_face_detector_set_threshold (MtFaceDetector *self,
                                float           threshold)
{
  g_return_if_fail (MT_IS_FACE_DETECTOR (self));
  self->threshold = CLAMP (threshold, 0.01f, 1.0f);
}

float
mt_face_detector_get_threshold (MtFaceDetector *self)
{
  g_return_val_if_fail (MT_IS_FACE_DETECTOR (self), 0);
  return self->threshold;
}

static inline float
sigmoid (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

static int
compare_scores (gconstpointer a,
                gconstpointer b)
{
  const MtFace *fa = a, *fb = b;

  return (fa->score < fb->score) - (fa->score > fb->score);
}

static void
suppress_overlaps (GArray *faces)
{
  g_array_sort (faces, compare_scores);
  for (guint i = 0; i < faces->len; i++)
    {
      const MtFace *kept = &g_array_index (faces, MtFace, i);

      for (guint j = faces->len; j-- > i + 1;)
        if (mt_face_iou (kept, &g_array_index (faces, MtFace, j)) > NMS_IOU)
          g_array_remove_index (faces, j);
    }
}

/* Detects in the square @side × @side region at (@x, @y) of @frame (it may
 * reach outside the frame), boxes in frame pixels clipped to the frame. */
static GArray *
detect_square (MtFaceDetector  *self,
               const MtFrame   *frame,
               float            x,
               float            y,
               float            side,
               GError         **error)
{
  int size = mt_net_get_width (self->net);
  int cells = size / 32;
  const float *out;
  GArray *faces;
  MtResampleSpec spec = { 0 };

  /* The model saw frames padded with black at the bottom or right to a
   * square, then scaled to its input; its training mean is folded into the
   * converted first layer, so it takes plain [0, 1] values.  A region
   * reaching outside the frame is padded with black the same way. */
  spec.x = x;
  spec.y = y;
  spec.width = spec.height = side;
  spec.out_width = spec.out_height = size;
  spec.fill = 0;
  spec.scale = 1.0f / 255.0f;
  mt_resample_to_planar (frame, &spec, self->input);

  out = mt_net_forward (self->net, self->input);
  /* A NaN score would pass any threshold test and reach JSON as "nan";
   * huge finite weights overflow to infinities at run time.  A healthy
   * network never gives either: the model is at fault, so say so. */
  for (gsize i = 0, n = mt_net_get_output_size (self->net); i < n; i++)
    if (!isfinite (out[i]))
      {
        g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_WEIGHTS,
                     "The face detector's output is not a number (its weights are broken)");
        return NULL;
      }

  faces = g_array_new (FALSE, TRUE, sizeof (MtFace));
  for (int a = 0; a < N_ANCHORS; a++)
    for (int row = 0; row < cells; row++)
      for (int col = 0; col < cells; col++)
        {
#define AT(k) out[((gsize) (a * BOX_VALUES + (k)) * cells + row) * cells + col]
          float score = sigmoid (AT (4));
          MtFace face = { 0 };
          float cx, cy, w, h, x0, y0, x1, y1;

          if (score < self->threshold)
            continue;

          cx = x + (col + sigmoid (AT (0))) / cells * side;
          cy = y + (row + sigmoid (AT (1))) / cells * side;
          w = expf (MIN (AT (2), 10.0f)) * anchors[a][0] / cells * side;
          h = expf (MIN (AT (3), 10.0f)) * anchors[a][1] / cells * side;
#undef AT
          x0 = MAX (cx - w / 2, 0.0f);
          y0 = MAX (cy - h / 2, 0.0f);
          x1 = MIN (cx + w / 2, (float) frame->width);
          y1 = MIN (cy + h / 2, (float) frame->height);
          if (x1 - x0 < 1 || y1 - y0 < 1)
            continue;

          face.x = x0;
          face.y = y0;
          face.width = x1 - x0;
          face.height = y1 - y0;
          face.score = score;
          g_array_append_val (faces, face);
        }

  suppress_overlaps (faces);
  return faces;
}

GArray *
mt_face_detector_detect (MtFaceDetector  *self,
                         const MtFrame   *frame,
                         GError         **error)
{
  g_return_val_if_fail (MT_IS_FACE_DETECTOR (self), NULL);

  if (!mt_frame_validate (frame, error))
    return NULL;

  return detect_square (self, frame, 0, 0, MAX (frame->width, frame->height), error);
}

GArray *
mt_face_detector_detect_region (MtFaceDetector  *self,
                                const MtFrame   *frame,
                                float            x,
                                float            y,
                                float            side,
                                GError         **error)
{
  g_return_val_if_fail (MT_IS_FACE_DETECTOR (self), NULL);

  if (!mt_frame_validate (frame, error))
    return NULL;

  /* The region must overlap the frame and stay a sensible size (NaN fails
   * every comparison below). */
  if (!(side >= 1 && side <= 4 * MT_FRAME_MAX_SIDE &&
        x < frame->width && y < frame->height &&
        x + side > 0 && y + side > 0))
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID,
                   "Detection region %g,%g (side %g) lies outside the %d×%d frame",
                   x, y, side, frame->width, frame->height);
      return NULL;
    }

  return detect_square (self, frame, x, y, side, error);
}
