/* mt-face-detector.c: face detection with face-api.js's Tiny-YOLOv2 model
 * or MediaPipe's BlazeFace (both in Darknet form, see models/README.md);
 * the models manifest says which network runs and how to read it. */
#define G_LOG_DOMAIN "mt-face-detector"

#include "config.h"

#include <math.h>
#include <string.h>

#include "mt-darknet.h"
#include "mt-face-detector.h"
#include "mt-model-manifest.h"
#include "mt-resample.h"

#define N_ANCHORS 5
#define BOX_VALUES 5     /* x, y, w, h, score per anchor */
#define NMS_IOU 0.4f     /* overlap above which the weaker box is dropped */

/* BlazeFace: per anchor a score, then box centre offset, size and six key
 * points, in input pixels. */
#define BLAZE_REGRESSORS 16
#define BLAZE_VALUES (1 + BLAZE_REGRESSORS)
/* MediaPipe's face detection graphs: overlapping boxes above this IoU are
 * merged, weighted by score (its WEIGHTED non-maximum suppression), which
 * also steadies boxes from frame to frame. */
#define BLAZE_NMS_IOU 0.3f

/* Anchor sizes in grid cells, as the model was trained with. */
static const float anchors[N_ANCHORS][2] = {
  { 1.603231f, 2.094468f },
  { 6.041143f, 7.080126f },
  { 2.882459f, 3.518061f },
  { 4.266906f, 5.178857f },
  { 9.041765f, 10.66308f },
};

struct _MtFaceDetector {
  GObject         parent_instance;
  MtNet          *net;
  float          *input;
  float           threshold;
  MtDetectorKind  kind;
  int             size;     /* the square input size set; full frames may run narrower */
  int             heads[MT_DETECTOR_MAX_HEADS];
  int             n_heads;
  float           box_scale[2];
  float           box_shift[2];
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
  self->box_scale[0] = self->box_scale[1] = 1;
}

/* Whether the network's output is what its kind's decoder reads, at the
 * current input size: the grid(s), the anchors per cell. */
static gboolean
check_outputs (MtFaceDetector  *self,
               const char      *what,
               GError         **error)
{
  int w = mt_net_get_width (self->net), h = mt_net_get_height (self->net);

  if (self->kind == MT_DETECTOR_KIND_TINY_YOLO)
    {
      if (w != h || w % 32 != 0 || mt_net_get_channels (self->net) != 3 ||
          mt_net_get_output_size (self->net) != (gsize) N_ANCHORS * BOX_VALUES * (w / 32) * (h / 32))
        {
          g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                       "“%s” is not a face detector: expected a square RGB input and "
                       "%d×%d cells of %d anchors", what, w / 32, h / 32, N_ANCHORS);
          return FALSE;
        }
      return TRUE;
    }

  if (mt_net_get_channels (self->net) != 3 || self->n_heads < 1)
    {
      g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                   "“%s” is not a BlazeFace detector: expected an RGB input and heads", what);
      return FALSE;
    }
  for (int i = 0; i < self->n_heads; i++)
    {
      int gw = 0, gh = 0, c = 0;

      if (self->heads[i] >= mt_net_get_n_layers (self->net))
        {
          g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                       "“%s”: head layer %d is past its %d layers", what, self->heads[i],
                       mt_net_get_n_layers (self->net));
          return FALSE;
        }
      mt_net_get_layer_shape (self->net, self->heads[i], &gw, &gh, &c);
      /* Anchors sit at cell centres: the grid must divide the input. */
      if (gw < 1 || gh < 1 || c < BLAZE_VALUES || c % BLAZE_VALUES != 0 ||
          w % gw != 0 || h % gh != 0 || w / gw != h / gh)
        {
          g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                       "“%s”: layer %d (%d×%d×%d) is not a head of %d values per anchor "
                       "on a grid that divides the %d×%d input",
                       what, self->heads[i], gw, gh, c, BLAZE_VALUES, w, h);
          return FALSE;
        }
    }
  return TRUE;
}

static MtFaceDetector *
detector_new (const char      *cfg_path,
              const char      *weights_path,
              MtDetectorKind   kind,
              const int       *heads,
              int              n_heads,
              int              size,
              GError         **error)
{
  g_autoptr(MtFaceDetector) self = NULL;
  g_autoptr(MtNet) net = mt_net_load (cfg_path, weights_path, error);

  if (net == NULL)
    return NULL;

  self = g_object_new (MT_TYPE_FACE_DETECTOR, NULL);
  self->net = g_steal_pointer (&net);
  self->kind = kind;
  self->n_heads = MIN (n_heads, MT_DETECTOR_MAX_HEADS);
  for (int i = 0; i < self->n_heads; i++)
    self->heads[i] = heads[i];
  if (!check_outputs (self, cfg_path, error))
    return NULL;
  self->input = g_new (float, mt_net_get_input_size (self->net));
  if (!mt_face_detector_set_input_size (self, size, error))
    return NULL;
  return g_steal_pointer (&self);
}

MtFaceDetector *
mt_face_detector_new (const char  *cfg_path,
                      const char  *weights_path,
                      GError     **error)
{
  return detector_new (cfg_path, weights_path, MT_DETECTOR_KIND_TINY_YOLO, NULL, 0,
                       MT_FACE_DETECTOR_DEFAULT_SIZE, error);
}

MtFaceDetector *
mt_face_detector_new_from_recipe (const char              *models_dir,
                                  const MtDetectorRecipe  *recipe,
                                  GError                 **error)
{
  g_autofree char *base = NULL, *cfg = NULL, *weights = NULL;
  MtFaceDetector *self;
  int size;

  g_return_val_if_fail (models_dir != NULL && recipe != NULL, NULL);

  base = g_build_filename (models_dir, recipe->network, NULL);
  cfg = g_strconcat (base, ".cfg", NULL);
  weights = g_strconcat (base, ".weights", NULL);
  size = recipe->size ? recipe->size :
         recipe->kind == MT_DETECTOR_KIND_BLAZEFACE ? MT_FACE_DETECTOR_BLAZEFACE_SIZE : MT_FACE_DETECTOR_DEFAULT_SIZE;
  self = detector_new (cfg, weights, recipe->kind, recipe->heads, recipe->n_heads, size, error);
  if (self != NULL)
    {
      memcpy (self->box_scale, recipe->box_scale, sizeof self->box_scale);
      memcpy (self->box_shift, recipe->box_shift, sizeof self->box_shift);
    }
  if (self != NULL && recipe->threshold > 0)
    mt_face_detector_set_threshold (self, recipe->threshold);
  else if (self != NULL && recipe->kind == MT_DETECTOR_KIND_BLAZEFACE)
    mt_face_detector_set_threshold (self, MT_FACE_DETECTOR_BLAZEFACE_THRESHOLD);
  return self;
}

MtDetectorKind
mt_face_detector_get_kind (MtFaceDetector *self)
{
  g_return_val_if_fail (MT_IS_FACE_DETECTOR (self), MT_DETECTOR_KIND_TINY_YOLO);
  return self->kind;
}

int
mt_face_detector_get_input_size (MtFaceDetector *self)
{
  g_return_val_if_fail (MT_IS_FACE_DETECTOR (self), 0);
  return self->size;
}

/* Runs the network at @width × @height from now on. */
static gboolean
resize_input (MtFaceDetector  *self,
              int              width,
              int              height,
              GError         **error)
{
  int old_width = mt_net_get_width (self->net), old_height = mt_net_get_height (self->net);

  if (width == old_width && height == old_height)
    return TRUE;
  if (!mt_net_resize (self->net, width, height, error))
    return FALSE;

  /* The decoders read one cell per 32 (or 16) input pixels: true of these
   * models at every size mt_net_resize() takes, checked anyway. */
  if (!check_outputs (self, "The face detector", error))
    {
      g_prefix_error (error, "At %d×%d: ", width, height);
      /* Back to the size the input buffer was made for (known to work). */
      mt_net_resize (self->net, old_width, old_height, NULL);
      return FALSE;
    }

  g_free (self->input);
  self->input = g_new (float, mt_net_get_input_size (self->net));
  return TRUE;
}

gboolean
mt_face_detector_set_input_size (MtFaceDetector  *self,
                                 int              size,
                                 GError         **error)
{
  g_return_val_if_fail (MT_IS_FACE_DETECTOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!resize_input (self, size, size, error))
    return FALSE;
  self->size = size;
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

void
mt_face_detector_set_team (MtFaceDetector *self,
                           MtFastTeam     *team)
{
  g_return_if_fail (MT_IS_FACE_DETECTOR (self));

  mt_net_set_team (self->net, team);
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

/* MediaPipe's weighted suppression: each box, best first, takes the boxes
 * overlapping it above @iou into a score-weighted mean box (keeping its own
 * score). */
static void
merge_overlaps (GArray *faces,
                float   iou)
{
  g_autoptr(GArray) merged = g_array_new (FALSE, TRUE, sizeof (MtFace));

  g_array_sort (faces, compare_scores);
  while (faces->len > 0)
    {
      MtFace best = g_array_index (faces, MtFace, 0);
      double sx = 0, sy = 0, sw = 0, sh = 0, total = 0;

      for (guint j = faces->len; j-- > 0;)
        {
          const MtFace *f = &g_array_index (faces, MtFace, j);

          if (j != 0 && mt_face_iou (&best, f) <= iou)
            continue;
          sx += f->score * f->x;
          sy += f->score * f->y;
          sw += f->score * f->width;
          sh += f->score * f->height;
          total += f->score;
          g_array_remove_index (faces, j);
        }
      best.x = (float) (sx / total);
      best.y = (float) (sy / total);
      best.width = (float) (sw / total);
      best.height = (float) (sh / total);
      g_array_append_val (merged, best);
    }
  g_array_append_vals (faces, merged->data, merged->len);
}

/* Keeps a box (@cx, @cy, @w, @h in frame pixels) in the common convention,
 * clipped to the frame. */
static void
add_face (MtFaceDetector *self,
          GArray         *faces,
          const MtFrame  *frame,
          float           cx,
          float           cy,
          float           w,
          float           h,
          float           score)
{
  MtFace face = { 0 };
  float x0, y0, x1, y1;

  cx += self->box_shift[0] * w;
  cy += self->box_shift[1] * h;
  w *= self->box_scale[0];
  h *= self->box_scale[1];
  x0 = MAX (cx - w / 2, 0.0f);
  y0 = MAX (cy - h / 2, 0.0f);
  x1 = MIN (cx + w / 2, (float) frame->width);
  y1 = MIN (cy + h / 2, (float) frame->height);

  if (!(x1 - x0 >= 1 && y1 - y0 >= 1))
    return;
  face.x = x0;
  face.y = y0;
  face.width = x1 - x0;
  face.height = y1 - y0;
  face.score = score;
  g_array_append_val (faces, face);
}

static void
decode_tiny_yolo (MtFaceDetector *self,
                  const MtFrame  *frame,
                  const float    *out,
                  float           x,
                  float           y,
                  float           side,
                  GArray         *faces)
{
  int cells = mt_net_get_width (self->net) / 32;

  for (int a = 0; a < N_ANCHORS; a++)
    for (int row = 0; row < cells; row++)
      for (int col = 0; col < cells; col++)
        {
#define AT(k) out[((gsize) (a * BOX_VALUES + (k)) * cells + row) * cells + col]
          float score = sigmoid (AT (4));

          if (score < self->threshold)
            continue;
          add_face (self, faces, frame,
                    x + (col + sigmoid (AT (0))) / cells * side,
                    y + (row + sigmoid (AT (1))) / cells * side,
                    expf (MIN (AT (2), 10.0f)) * anchors[a][0] / cells * side,
                    expf (MIN (AT (3), 10.0f)) * anchors[a][1] / cells * side,
                    score);
#undef AT
        }
  suppress_overlaps (faces);
}

/* Each head: a grid whose cells hold A anchors at the cell centre; channel
 * a is anchor a's score, A + a * 16 + k its regressor k (models/README.md). */
static void
decode_blazeface (MtFaceDetector *self,
                  const MtFrame  *frame,
                  float           x,
                  float           y,
                  float           to_frame,
                  GArray         *faces)
{
  int size = mt_net_get_width (self->net);
  /* sigmoid (raw) >= threshold, tested on the raw value. */
  float min_raw = logf (self->threshold / (1.0f - self->threshold));

  for (int i = 0; i < self->n_heads; i++)
    {
      int gw, gh, c;
      const float *out = mt_net_get_layer_output (self->net, self->heads[i], NULL);
      int n_anchors, stride;
      gsize plane;

      mt_net_get_layer_shape (self->net, self->heads[i], &gw, &gh, &c);
      n_anchors = c / BLAZE_VALUES;
      stride = size / gw;
      plane = (gsize) gw * gh;
      for (int a = 0; a < n_anchors; a++)
        for (int row = 0; row < gh; row++)
          for (int col = 0; col < gw; col++)
            {
              gsize p = (gsize) row * gw + col;
              float raw = out[a * plane + p];
              const float *reg = out + (gsize) (n_anchors + a * BLAZE_REGRESSORS) * plane + p;

              if (!(raw >= min_raw))
                continue;
              add_face (self, faces, frame,
                        x + ((col + 0.5f) * stride + reg[0]) * to_frame,
                        y + ((row + 0.5f) * stride + reg[plane]) * to_frame,
                        reg[2 * plane] * to_frame,
                        reg[3 * plane] * to_frame,
                        sigmoid (CLAMP (raw, -100.0f, 100.0f)));
            }
    }
  merge_overlaps (faces, BLAZE_NMS_IOU);
}

/* Detects in the region at (@x, @y) of @frame (it may reach outside the
 * frame) that fills the network's input at @to_frame frame pixels per input
 * pixel; boxes in frame pixels clipped to the frame. */
static GArray *
detect_area (MtFaceDetector  *self,
             const MtFrame   *frame,
             float            x,
             float            y,
             float            to_frame,
             GError         **error)
{
  const float *out;
  GArray *faces;
  MtResampleSpec spec = { 0 };

  spec.x = x;
  spec.y = y;
  spec.out_width = mt_net_get_width (self->net);
  spec.out_height = mt_net_get_height (self->net);
  spec.width = spec.out_width * to_frame;
  spec.height = spec.out_height * to_frame;
  spec.fill = 0;
  if (self->kind == MT_DETECTOR_KIND_BLAZEFACE)
    {
      /* BlazeFace takes [-1, 1]; its stem pads, so this cannot be folded
       * into the weights.  Outside the frame reads as black, as for the
       * other model. */
      spec.mean[0] = spec.mean[1] = spec.mean[2] = 127.5f;
      spec.scale = 1.0f / 127.5f;
    }
  else
    {
      /* The model saw frames padded with black at the bottom or right to a
       * square, then scaled to its input; its training mean is folded into
       * the converted first layer, so it takes plain [0, 1] values.  A
       * region reaching outside the frame is padded with black the same
       * way. */
      spec.scale = 1.0f / 255.0f;
    }
  mt_resample_to_planar (frame, &spec, self->input);

  out = mt_net_forward (self->net, self->input);
  /* A NaN score would pass any threshold test and reach JSON as "nan";
   * huge finite weights overflow to infinities at run time.  A healthy
   * network never gives either: the model is at fault, so say so. */
  for (int i = 0; i < MAX (self->n_heads, 1); i++)
    {
      gsize n = mt_net_get_output_size (self->net);
      const float *values = out;

      if (self->kind == MT_DETECTOR_KIND_BLAZEFACE)
        values = mt_net_get_layer_output (self->net, self->heads[i], &n);
      for (gsize k = 0; k < n; k++)
        if (!isfinite (values[k]))
          {
            g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_WEIGHTS,
                         "The face detector's output is not a number (its weights are broken)");
            return NULL;
          }
    }

  faces = g_array_new (FALSE, TRUE, sizeof (MtFace));
  if (self->kind == MT_DETECTOR_KIND_BLAZEFACE)
    decode_blazeface (self, frame, x, y, to_frame, faces);
  else
    decode_tiny_yolo (self, frame, out, x, y, to_frame * spec.out_width, faces);
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

  /* BlazeFace's heads are convolutions over the whole input, its anchors
   * the cells' centres: a frame runs at its own shape (256×192 for 4:3 at
   * size 256, a quarter less work than a square), padded below or right to
   * whole cells.  The Tiny Face Detector stays square, as it was measured. */
  if (self->kind == MT_DETECTOR_KIND_BLAZEFACE)
    {
      int long_side = MAX (frame->width, frame->height);
      int width = self->size, height = self->size;

      if (frame->width >= frame->height)
        height = MAX ((int) ceil ((double) self->size * frame->height / frame->width / 32) * 32, MT_NET_MIN_SIDE);
      else
        width = MAX ((int) ceil ((double) self->size * frame->width / frame->height / 32) * 32, MT_NET_MIN_SIDE);
      if (!resize_input (self, width, height, error))
        return NULL;
      return detect_area (self, frame, 0, 0, (float) long_side / self->size, error);
    }
  return detect_area (self, frame, 0, 0, (float) MAX (frame->width, frame->height) / self->size, error);
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

  if (!resize_input (self, self->size, self->size, error))
    return NULL;
  return detect_area (self, frame, x, y, side / self->size, error);
}
