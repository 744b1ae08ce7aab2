/* mt-convert-models.h: one converter per source model family.
 *
 * Each reads a TensorFlow.js model (@source_path: a weights manifest or a
 * model.json), checks it is the network the converter was written for, and
 * writes OUT_DIR/<name>.cfg, .weights and .names.  @provenance names the
 * package and file for the cfg's header.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Every expression classifier we ship reports classes in this order. */
static const char * const mt_convert_expression_labels[] = {
  "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", NULL,
};

/* face-api's tiny face detector (Tiny-YOLOv2 with separable convolutions). */
gboolean mt_convert_face_detector   (const char  *source_path,
                                     const char  *provenance,
                                     const char  *out_dir,
                                     GError     **error);

/* face-api's face expression model (dense blocks of separable convolutions). */
gboolean mt_convert_face_expression (const char  *source_path,
                                     const char  *provenance,
                                     const char  *out_dir,
                                     GError     **error);

/* human-models' emotion model (oarriaga's mini-Xception, a graph model). */
gboolean mt_convert_emotion_xception (const char  *source_path,
                                      const char  *provenance,
                                      const char  *out_dir,
                                      GError     **error);

/* human-models' BlazeFace "back" face detector (MediaPipe, a graph model). */
gboolean mt_convert_blazeface        (const char  *source_path,
                                      const char  *provenance,
                                      const char  *out_dir,
                                      GError     **error);

G_END_DECLS
