/* mt-analyzer.h: faces and their expressions in one frame. */
#pragma once

#include <glib-object.h>

#include "mt-face.h"
#include "mt-face-tracker.h"
#include "mt-frame.h"

G_BEGIN_DECLS

#define MT_TYPE_ANALYZER (mt_analyzer_get_type ())
G_DECLARE_FINAL_TYPE (MtAnalyzer, mt_analyzer, MT, ANALYZER, GObject)

typedef enum {
  MT_ANALYZE_NONE       = 0,
  /* Skip detection: the whole frame is one face (FER-style crops). */
  MT_ANALYZE_WHOLE_FACE = 1 << 0,
  /* Read each face once instead of also mirrored: half the classifier work,
   * for live video where the mood tracker smooths over frames anyway. */
  MT_ANALYZE_SINGLE_PASS = 1 << 1,
  /* The frame follows the previous one of the same video: one face is
   * followed with cheap region passes between full-frame ones
   * (MtFaceTracker).  Call mt_analyzer_reset_video() when the video changes,
   * or keep each video's face apart with mt_analyzer_analyze_followed(). */
  MT_ANALYZE_VIDEO       = 1 << 2,
} MtAnalyzeFlags;

/* The primary models folder when none is named: see
 * mt_model_manifest_find_default_dir(). */
const char *mt_analyzer_get_default_models_dir (void);
/* The expression models of @models_dir's manifest (NULL: the installed
 * and the user's models, see mt_model_manifest_open()), the names
 * mt_analyzer_new() takes. */
GStrv       mt_analyzer_list_models        (const char      *models_dir,
                                            GError         **error);
/* The model used when none is named: the manifest's [Expression] Default. */
char       *mt_analyzer_dup_default_model  (const char      *models_dir,
                                            GError         **error);

/* Loads the face detector and the expression model @model (NULL: the
 * manifest's default) as the manifest of @models_dir (NULL: see
 * mt_model_manifest_open()) describes them.  Each analyzer owns its
 * networks: use one per thread. */
MtAnalyzer *mt_analyzer_new                (const char      *models_dir,
                                            const char      *model,
                                            GError         **error);
const char *mt_analyzer_get_model          (MtAnalyzer      *self);
void        mt_analyzer_set_threshold      (MtAnalyzer      *self,
                                            float            threshold);
/* The face detector's input size (see mt_face_detector_set_input_size()). */
gboolean    mt_analyzer_set_detector_size  (MtAnalyzer      *self,
                                            int              size,
                                            GError         **error);
int         mt_analyzer_get_detector_size  (MtAnalyzer      *self);
/* Whether a frame uses the machine's other cores besides the caller's
 * (TRUE by default where it has more than one processor): the detector
 * splits its larger layers between threads, and a model's networks read
 * each face at once, so a frame waits for the slowest network, not for
 * their sum.  FALSE runs everything on the calling thread (analysis pumps of
 * several threads, which already fill the cores).  The results are the
 * same either way. */
void        mt_analyzer_set_parallel       (MtAnalyzer      *self,
                                            gboolean         parallel);
gboolean    mt_analyzer_get_parallel       (MtAnalyzer      *self);
/* Forgets the face followed in MT_ANALYZE_VIDEO mode (new camera, pause). */
void        mt_analyzer_reset_video        (MtAnalyzer      *self);

/* The faces in @frame (an array of MtFace, largest first), or NULL with
 * @error set when the frame is unusable. */
GArray     *mt_analyzer_analyze            (MtAnalyzer      *self,
                                            const MtFrame   *frame,
                                            MtAnalyzeFlags   flags,
                                            GError         **error);
/* The same, with MT_ANALYZE_VIDEO following the face of @tracker (from
 * mt_face_tracker_new_state_only()) instead of the analyzer's own: one
 * analyzer, owned by one thread, can then serve frames of many videos, each
 * with its own face followed. */
GArray     *mt_analyzer_analyze_followed   (MtAnalyzer      *self,
                                            const MtFrame   *frame,
                                            MtAnalyzeFlags   flags,
                                            MtFaceTracker   *tracker,
                                            GError         **error);

G_END_DECLS
