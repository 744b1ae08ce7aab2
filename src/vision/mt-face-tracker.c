/* mt-face-tracker.c: full-frame face detection every few frames, a small
 * region around the last face in between. */
#define G_LOG_DOMAIN "mt-face-tracker"

#include "config.h"

#include "mt-face-detector.h"
#include "mt-face-tracker.h"

/* The region is this many times the last box's longer side: the face keeps
 * about the share of the input it has in the training crops' middle range,
 * and may move half its size between two frames. */
#define REGION_SCALE 2.0f

struct _MtFaceTracker {
  GObject         parent_instance;
  MtFaceDetector *full;     /* NULL when state only */
  MtFaceDetector *region;
  guint           full_every;
  guint           since_full;  /* frames since the last full pass */
  gboolean        following;
  MtFace          last;
  gboolean        last_was_full;
};

G_DEFINE_FINAL_TYPE (MtFaceTracker, mt_face_tracker, G_TYPE_OBJECT)

static void
mt_face_tracker_finalize (GObject *object)
{
  MtFaceTracker *self = MT_FACE_TRACKER (object);

  g_clear_object (&self->full);
  g_clear_object (&self->region);

  G_OBJECT_CLASS (mt_face_tracker_parent_class)->finalize (object);
}

static void
mt_face_tracker_class_init (MtFaceTrackerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_face_tracker_finalize;
}

static void
mt_face_tracker_init (MtFaceTracker *self)
{
  self->full_every = MT_FACE_TRACKER_DEFAULT_FULL_EVERY;
}

MtFaceTracker *
mt_face_tracker_new (const char  *cfg_path,
                     const char  *weights_path,
                     GError     **error)
{
  g_autoptr(MtFaceTracker) self = g_object_new (MT_TYPE_FACE_TRACKER, NULL);

  /* Two networks rather than one resized back and forth: a resize
   * reallocates every layer and prepares the fast layers again. */
  self->full = mt_face_detector_new (cfg_path, weights_path, error);
  if (self->full == NULL)
    return NULL;
  self->region = mt_face_detector_new (cfg_path, weights_path, error);
  if (self->region == NULL ||
      !mt_face_detector_set_input_size (self->region, MT_FACE_TRACKER_DEFAULT_REGION_SIZE, error))
    return NULL;

  return g_steal_pointer (&self);
}

MtFaceTracker *
mt_face_tracker_new_state_only (void)
{
  return g_object_new (MT_TYPE_FACE_TRACKER, NULL);
}

gboolean
mt_face_tracker_set_input_sizes (MtFaceTracker  *self,
                                 int             full_size,
                                 int             region_size,
                                 GError        **error)
{
  g_return_val_if_fail (MT_IS_FACE_TRACKER (self), FALSE);
  g_return_val_if_fail (self->full != NULL, FALSE);

  return mt_face_detector_set_input_size (self->full, full_size, error) &&
         mt_face_detector_set_input_size (self->region, region_size, error);
}

void
mt_face_tracker_set_full_every (MtFaceTracker *self,
                                guint          n)
{
  g_return_if_fail (MT_IS_FACE_TRACKER (self));
  self->full_every = MAX (n, 1);
}

void
mt_face_tracker_set_threshold (MtFaceTracker *self,
                               float          threshold)
{
  g_return_if_fail (MT_IS_FACE_TRACKER (self));
  g_return_if_fail (self->full != NULL);
  mt_face_detector_set_threshold (self->full, threshold);
  mt_face_detector_set_threshold (self->region, threshold);
}

void
mt_face_tracker_reset (MtFaceTracker *self)
{
  g_return_if_fail (MT_IS_FACE_TRACKER (self));
  self->following = FALSE;
}

gboolean
mt_face_tracker_last_was_full (MtFaceTracker *self)
{
  g_return_val_if_fail (MT_IS_FACE_TRACKER (self), FALSE);
  return self->last_was_full;
}

/* The best face in the region around the last one, or NULL when it is gone
 * (or the region misses this frame, as when the video changes size). */
static GArray *
detect_near_last (MtFaceTracker  *self,
                  MtFaceDetector *region,
                  const MtFrame  *frame)
{
  float side = REGION_SCALE * MAX (self->last.width, self->last.height);
  float x = self->last.x + self->last.width / 2 - side / 2;
  float y = self->last.y + self->last.height / 2 - side / 2;
  GArray *faces = mt_face_detector_detect_region (region, frame, x, y, side, NULL);

  if (faces == NULL)
    return NULL;
  if (faces->len == 0)
    {
      g_array_unref (faces);
      return NULL;
    }
  /* Best first: one face is followed, a second one in the region is
   * picked up by the next full pass. */
  g_array_set_size (faces, 1);
  return faces;
}

GArray *
mt_face_tracker_detect (MtFaceTracker  *self,
                        const MtFrame  *frame,
                        GError        **error)
{
  g_return_val_if_fail (MT_IS_FACE_TRACKER (self), NULL);
  g_return_val_if_fail (self->full != NULL, NULL);

  return mt_face_tracker_detect_with (self, self->full, self->region, frame, error);
}

GArray *
mt_face_tracker_detect_with (MtFaceTracker   *self,
                             MtFaceDetector  *full,
                             MtFaceDetector  *region,
                             const MtFrame   *frame,
                             GError         **error)
{
  GArray *faces = NULL;

  g_return_val_if_fail (MT_IS_FACE_TRACKER (self), NULL);
  g_return_val_if_fail (MT_IS_FACE_DETECTOR (full) && MT_IS_FACE_DETECTOR (region), NULL);

  if (!mt_frame_validate (frame, error))
    return NULL;

  if (self->following && self->since_full < self->full_every)
    faces = detect_near_last (self, region, frame);

  if (faces != NULL)
    {
      self->since_full++;
      self->last_was_full = FALSE;
    }
  else
    {
      faces = mt_face_detector_detect (full, frame, error);
      if (faces == NULL)
        return NULL;
      self->since_full = 1;
      self->last_was_full = TRUE;
    }

  /* Regions only pay off for a single face; with none or several, every
   * frame is a full pass. */
  self->following = faces->len == 1;
  if (self->following)
    self->last = g_array_index (faces, MtFace, 0);
  return faces;
}
