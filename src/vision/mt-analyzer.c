/* mt-analyzer.c: detector + expression classifiers for one frame. */
#define G_LOG_DOMAIN "mt-analyzer"

#include "config.h"

#include <gio/gio.h>

#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "mt-analyzer.h"
#include "mt-classifier-pool.h"
#include "mt-expression-classifier.h"
#include "mt-expression-head.h"
#include "mt-face-detector.h"
#include "mt-face-tracker.h"
#include "mt-model-manifest.h"

struct _MtAnalyzer {
  GObject                 parent_instance;
  MtModelManifest        *manifest;
  const MtModelRecipe    *recipe;    /* owned by manifest */
  MtFaceDetector         *detector;
  /* The region detector of video frames, loaded on the first one; the
   * face followed is the caller's (MtFaceTracker state), or video's for
   * mt_analyzer_analyze(), so one analyzer can serve many videos. */
  MtFaceDetector         *region;
  MtFaceTracker          *video;
  MtExpressionHead       *head;
  MtExpressionClassifier *classifiers[MT_MODEL_MAX_NETWORKS];
  /* The classifiers read at once, on helper threads too (NULL: a head). */
  MtClassifierPool       *pool;
  gboolean                parallel;  /* see mt_analyzer_set_parallel() */
  /* While parallel: the threads the calling thread's networks (detectors,
   * the pool's caller side) split their layers between. */
  MtFastTeam             *team;
};

/* Threads a layer is split between: every core, up to a few (past four, a
 * layer's parts get too small to gain). */
#define MAX_TEAM_THREADS 4

G_DEFINE_FINAL_TYPE (MtAnalyzer, mt_analyzer, G_TYPE_OBJECT)

static void
mt_analyzer_finalize (GObject *object)
{
  MtAnalyzer *self = MT_ANALYZER (object);

  g_clear_object (&self->detector);
  g_clear_object (&self->region);
  g_clear_object (&self->video);
  g_clear_object (&self->manifest);
  g_clear_object (&self->head);
  g_clear_object (&self->pool);
  for (guint i = 0; i < G_N_ELEMENTS (self->classifiers); i++)
    g_clear_object (&self->classifiers[i]);
  /* Last: the networks above held it. */
  g_clear_pointer (&self->team, mt_fast_team_free);

  G_OBJECT_CLASS (mt_analyzer_parent_class)->finalize (object);
}

static void
mt_analyzer_class_init (MtAnalyzerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_analyzer_finalize;
}

static void
mt_analyzer_init (MtAnalyzer *self)
{
  self->video = mt_face_tracker_new_state_only ();
}

const char *
mt_analyzer_get_default_models_dir (void)
{
  return mt_model_manifest_find_default_dir ();
}

GStrv
mt_analyzer_list_models (const char  *models_dir,
                         GError     **error)
{
  g_autoptr(MtModelManifest) manifest = mt_model_manifest_open (models_dir, error);

  return manifest ? g_strdupv ((char **) mt_model_manifest_list_models (manifest)) : NULL;
}

char *
mt_analyzer_dup_default_model (const char  *models_dir,
                               GError     **error)
{
  g_autoptr(MtModelManifest) manifest = mt_model_manifest_open (models_dir, error);

  return manifest ? g_strdup (mt_model_manifest_get_default_model (manifest)) : NULL;
}

MtAnalyzer *
mt_analyzer_new (const char  *models_dir,
                 const char  *model,
                 GError     **error)
{
  g_autoptr(MtAnalyzer) self = NULL;
  const MtModelRecipe *recipe;
  const MtDetectorRecipe *detector;
  guint n;

  self = g_object_new (MT_TYPE_ANALYZER, NULL);
  self->manifest = mt_model_manifest_open (models_dir, error);
  if (self->manifest == NULL)
    return NULL;
  /* NULL: the manifest's default ([Expression] Default). */
  recipe = self->recipe = mt_model_manifest_lookup (self->manifest, model, error);
  if (recipe == NULL)
    return NULL;

  detector = mt_model_manifest_lookup_detector (self->manifest, NULL, NULL);
  self->detector = mt_face_detector_new_from_recipe (detector->dir, detector, error);
  if (self->detector == NULL)
    return NULL;

  if (recipe->head != NULL)
    {
      self->head = mt_expression_head_new_full (recipe->dir, recipe->head, recipe->specs, error);
      if (self->head == NULL)
        return NULL;
      mt_analyzer_set_parallel (self, TRUE);
      return g_steal_pointer (&self);
    }

  for (n = 0; n < MT_MODEL_MAX_NETWORKS && recipe->networks[n]; n++)
    {
      self->classifiers[n] = mt_expression_classifier_new_from_spec (recipe->specs[n], error);
      if (self->classifiers[n] == NULL)
        return NULL;
    }
  self->pool = mt_classifier_pool_new (self->classifiers, n);
  mt_analyzer_set_parallel (self, TRUE);

  return g_steal_pointer (&self);
}

const char *
mt_analyzer_get_model (MtAnalyzer *self)
{
  g_return_val_if_fail (MT_IS_ANALYZER (self), NULL);
  return self->recipe->name;
}

void
mt_analyzer_set_threshold (MtAnalyzer *self,
                           float       threshold)
{
  g_return_if_fail (MT_IS_ANALYZER (self));
  mt_face_detector_set_threshold (self->detector, threshold);
  if (self->region != NULL)
    mt_face_detector_set_threshold (self->region, threshold);
}

gboolean
mt_analyzer_set_detector_size (MtAnalyzer  *self,
                               int          size,
                               GError     **error)
{
  g_return_val_if_fail (MT_IS_ANALYZER (self), FALSE);
  if (!mt_face_detector_set_input_size (self->detector, size, error))
    return FALSE;
  return self->region == NULL ||
         mt_face_detector_set_input_size (self->region, MIN (size, MT_FACE_TRACKER_DEFAULT_REGION_SIZE), error);
}

void
mt_analyzer_set_parallel (MtAnalyzer *self,
                          gboolean    parallel)
{
  g_return_if_fail (MT_IS_ANALYZER (self));

  parallel = parallel && g_get_num_processors () > 1;
  if (parallel && self->team == NULL)
    self->team = mt_fast_team_new (CLAMP (g_get_num_processors (), 1, MAX_TEAM_THREADS));
  self->parallel = parallel;

  mt_face_detector_set_team (self->detector, parallel ? self->team : NULL);
  if (self->region != NULL)
    mt_face_detector_set_team (self->region, parallel ? self->team : NULL);
  if (self->pool != NULL)
    {
      mt_classifier_pool_set_parallel (self->pool, parallel);
      mt_classifier_pool_set_team (self->pool, parallel ? self->team : NULL);
    }
  /* No network holds it now: its helpers are not kept for nothing. */
  if (!parallel)
    g_clear_pointer (&self->team, mt_fast_team_free);
}

gboolean
mt_analyzer_get_parallel (MtAnalyzer *self)
{
  g_return_val_if_fail (MT_IS_ANALYZER (self), FALSE);
  return self->parallel;
}

void
mt_analyzer_reset_video (MtAnalyzer *self)
{
  g_return_if_fail (MT_IS_ANALYZER (self));
  mt_face_tracker_reset (self->video);
}

/* A second detector network rather than the full-frame one resized back
 * and forth: a resize reallocates every layer and prepares the fast layers
 * again. */
static MtFaceDetector *
ensure_region (MtAnalyzer  *self,
               GError     **error)
{
  const MtDetectorRecipe *detector = mt_model_manifest_lookup_detector (self->manifest, NULL, NULL);
  int size;

  if (self->region != NULL)
    return self->region;

  self->region = mt_face_detector_new_from_recipe (detector->dir, detector, error);
  if (self->region == NULL)
    return NULL;
  size = mt_face_detector_get_input_size (self->detector);
  mt_face_detector_set_threshold (self->region, mt_face_detector_get_threshold (self->detector));
  mt_face_detector_set_team (self->region, self->parallel ? self->team : NULL);
  if (!mt_face_detector_set_input_size (self->region, MIN (size, MT_FACE_TRACKER_DEFAULT_REGION_SIZE), error))
    {
      g_clear_object (&self->region);
      return NULL;
    }
#ifdef __GLIBC__
  /* The network was built at its cfg's size before it shrank to regions:
   * without this, glibc keeps the freed layers (about 20 MB) for good in
   * this thread's arena. */
  malloc_trim (0);
#endif
  return self->region;
}

int
mt_analyzer_get_detector_size (MtAnalyzer *self)
{
  g_return_val_if_fail (MT_IS_ANALYZER (self), 0);
  return mt_face_detector_get_input_size (self->detector);
}

/* One reading of the face in the square (x, y, side), mirrored too when
 * @mirror, into @emotions. */
static gboolean
read_crop (MtAnalyzer     *self,
           const MtFrame  *frame,
           float           x,
           float           y,
           float           side,
           gboolean        mirror,
           float           emotions[MT_N_MOODS],
           GError        **error)
{
  float probabilities[MT_MODEL_MAX_NETWORKS][MT_N_MOODS];

  if (self->head != NULL)
    return mt_expression_head_classify (self->head, frame, x, y, side, mirror, emotions, error);

  if (!mt_classifier_pool_classify (self->pool, frame, x, y, side, mirror, probabilities, error))
    return FALSE;
  memset (emotions, 0, sizeof (float) * MT_N_MOODS);
  for (guint i = 0; i < G_N_ELEMENTS (self->classifiers) && self->classifiers[i]; i++)
    for (int e = 0; e < MT_N_MOODS; e++)
      emotions[e] += self->recipe->weights[i] * probabilities[i][e];
  return TRUE;
}

static gboolean
read_expression (MtAnalyzer     *self,
                 const MtFrame  *frame,
                 float           x,
                 float           y,
                 float           side,
                 MtAnalyzeFlags  flags,
                 MtFace         *face,
                 GError        **error)
{
  /* The model may not be made for mirrored faces or test-time crops;
   * single pass is always one reading of the face's own crop. */
  gboolean single = (flags & MT_ANALYZE_SINGLE_PASS) != 0;
  gboolean mirror = self->recipe->mirror && !single;
  guint n_crops = single ? 0 : self->recipe->n_test_crops;

  if (!read_crop (self, frame, x, y, side, mirror, face->emotions, error))
    return FALSE;
  for (guint c = 0; c < n_crops; c++)
    {
      const float *crop = self->recipe->test_crops[c];
      float crop_side = side * crop[0];
      float cx = x + side / 2 + crop[1] * side;
      float cy = y + side / 2 + crop[2] * side;
      float emotions[MT_N_MOODS];

      if (!read_crop (self, frame, cx - crop_side / 2, cy - crop_side / 2, crop_side, mirror,
                      emotions, error))
        return FALSE;
      for (int e = 0; e < MT_N_MOODS; e++)
        face->emotions[e] += emotions[e];
    }
  for (int e = 0; n_crops > 0 && e < MT_N_MOODS; e++)
    face->emotions[e] /= (float) (n_crops + 1);
  face->emotion = mt_mood_argmax (face->emotions);
  return TRUE;
}

static int
compare_areas (gconstpointer a,
               gconstpointer b)
{
  const MtFace *fa = a, *fb = b;
  float area_a = fa->width * fa->height;
  float area_b = fb->width * fb->height;

  return (area_a < area_b) - (area_a > area_b);
}

GArray *
mt_analyzer_analyze (MtAnalyzer      *self,
                     const MtFrame   *frame,
                     MtAnalyzeFlags   flags,
                     GError         **error)
{
  g_return_val_if_fail (MT_IS_ANALYZER (self), NULL);

  return mt_analyzer_analyze_followed (self, frame, flags, self->video, error);
}

GArray *
mt_analyzer_analyze_followed (MtAnalyzer      *self,
                              const MtFrame   *frame,
                              MtAnalyzeFlags   flags,
                              MtFaceTracker   *tracker,
                              GError         **error)
{
  g_autoptr(GArray) faces = NULL;

  g_return_val_if_fail (MT_IS_ANALYZER (self), NULL);
  g_return_val_if_fail (MT_IS_FACE_TRACKER (tracker), NULL);

  if (!mt_frame_validate (frame, error))
    return NULL;

  if (flags & MT_ANALYZE_WHOLE_FACE)
    {
      MtFace face = { 0 };
      float side = MAX (frame->width, frame->height);

      face.width = frame->width;
      face.height = frame->height;
      face.score = 1.0f;
      if (!read_expression (self, frame, (frame->width - side) / 2,
                            (frame->height - side) / 2, side, flags, &face, error))
        return NULL;
      faces = g_array_new (FALSE, TRUE, sizeof (MtFace));
      g_array_append_val (faces, face);
      return g_steal_pointer (&faces);
    }

  if (flags & MT_ANALYZE_VIDEO)
    {
      MtFaceDetector *region = ensure_region (self, error);

      if (region == NULL)
        return NULL;
      faces = mt_face_tracker_detect_with (tracker, self->detector, region, frame, error);
    }
  else
    faces = mt_face_detector_detect (self->detector, frame, error);
  if (faces == NULL)
    return NULL;
  g_array_sort (faces, compare_areas);

  for (guint i = 0; i < faces->len; i++)
    {
      MtFace *face = &g_array_index (faces, MtFace, i);
      float side = MAX (face->width, face->height) * self->recipe->crop_margin;
      float cx = face->x + face->width / 2;
      float cy = face->y + face->height / 2 - self->recipe->crop_shift * side;

      if (!read_expression (self, frame, cx - side / 2, cy - side / 2, side, flags, face, error))
        return NULL;
    }
  return g_steal_pointer (&faces);
}
