/* mt-face-detector.h: finds faces with a detector network: face-api's
 * Tiny-YOLOv2 or MediaPipe's BlazeFace, as the models manifest says. */
#pragma once

#include <glib-object.h>

#include "mt-face.h"
#include "mt-fast-kernels.h"
#include "mt-frame.h"
#include "mt-model-manifest.h"

G_BEGIN_DECLS

#define MT_TYPE_FACE_DETECTOR (mt_face_detector_get_type ())
G_DECLARE_FINAL_TYPE (MtFaceDetector, mt_face_detector, MT, FACE_DETECTOR, GObject)

/* Chosen with bench-detector (bench/detector.c) for 640×480 webcam frames
 * with one 100-300 pixel face: 320 is the smallest size that finds every
 * 80-300 pixel test face (224 misses 80-pixel faces and reports a false
 * face on the astronaut frame, 256 misses most 80-pixel ones) at
 * about half the cost of 416; 0.5 keeps false positives at about one per
 * 16 photos where 0.4 doubles them. */
#define MT_FACE_DETECTOR_DEFAULT_SIZE      320
#define MT_FACE_DETECTOR_DEFAULT_THRESHOLD 0.5f

/* BlazeFace's defaults when the manifest gives none (bench-detector). */
#define MT_FACE_DETECTOR_BLAZEFACE_SIZE      256
#define MT_FACE_DETECTOR_BLAZEFACE_THRESHOLD 0.5f

/* Loads @cfg_path/@weights_path as a Tiny-YOLOv2 detector and sets the input
 * size to MT_FACE_DETECTOR_DEFAULT_SIZE (the cfg's own size does not matter:
 * the network is fully convolutional). */
MtFaceDetector *mt_face_detector_new           (const char      *cfg_path,
                                                const char      *weights_path,
                                                GError         **error);
/* Loads the detector @recipe of a models manifest from @models_dir: its
 * network, read as its kind says, at its size and threshold.  The network
 * must have the outputs the kind reads (checked, a clear error otherwise). */
MtFaceDetector *mt_face_detector_new_from_recipe (const char             *models_dir,
                                                  const MtDetectorRecipe *recipe,
                                                  GError                **error);
MtDetectorKind  mt_face_detector_get_kind       (MtFaceDetector *self);
/* The square input the frame is scaled to: a multiple of 32 from 64 to 1024.
 * Smaller is faster; larger finds smaller faces (see bench/detector.c). */
int             mt_face_detector_get_input_size (MtFaceDetector *self);
gboolean        mt_face_detector_set_input_size (MtFaceDetector *self,
                                                 int             size,
                                                 GError        **error);
void            mt_face_detector_set_threshold  (MtFaceDetector *self,
                                                 float           threshold);
float           mt_face_detector_get_threshold  (MtFaceDetector *self);
/* The threads each detection's larger layers are split between (NULL, the
 * default: the caller's alone): the same faces, sooner, on idle cores.  The
 * team is the caller's, kept alive while set. */
void            mt_face_detector_set_team       (MtFaceDetector *self,
                                                 MtFastTeam     *team);

/* Faces (MtFace, emotions left zero) found in @frame, best first, after
 * non-maximum suppression, clipped to the frame. */
GArray         *mt_face_detector_detect         (MtFaceDetector *self,
                                                 const MtFrame  *frame,
                                                 GError        **error);
/* The same in the square region (@x, @y, @side × @side) of @frame, scaled to
 * the input size (for following a face between full-frame passes); the
 * region may reach outside the frame, which reads as black, but must overlap
 * it.  Boxes are in frame pixels. */
GArray         *mt_face_detector_detect_region  (MtFaceDetector *self,
                                                 const MtFrame  *frame,
                                                 float           x,
                                                 float           y,
                                                 float           side,
                                                 GError        **error);

G_END_DECLS
