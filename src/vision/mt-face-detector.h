/* mt-face-detector.h: finds faces with the Tiny-YOLOv2 face detector. */
#pragma once

#include <glib-object.h>

#include "mt-face.h"
#include "mt-frame.h"

G_BEGIN_DECLS

#define MT_TYPE_FACE_DETECTOR (mt_face_detector_get_type ())
G_DECLARE_FINAL_TYPE (MtFaceDetector, mt_face_detector, MT, FACE_DETECTOR, GObject)

#define MT_FACE_DETECTOR_DEFAULT_SIZE      320
#define MT_FACE_DETECTOR_DEFAULT_THRESHOLD 0.5f

/* Loads @cfg_path/@weights_path; the network's input size comes from the cfg. */
MtFaceDetector *mt_face_detector_new           (const char      *cfg_path,
                                                const char      *weights_path,
                                                GError         **error);
int             mt_face_detector_get_input_size (MtFaceDetector *self);
void            mt_face_detector_set_threshold  (MtFaceDetector *self,
                                                 float           threshold);
float           mt_face_detector_get_threshold  (MtFaceDetector *self);

/* Faces (MtFace, emotions left zero) found in @frame, best first, after
 * non-maximum suppression, clipped to the frame. */
GArray         *mt_face_detector_detect         (MtFaceDetector *self,
                                                 const MtFrame  *frame,
                                                 GError        **error);

G_END_DECLS
