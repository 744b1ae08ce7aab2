/* mt-face-tracker.h: follows one face through video frames cheaply. */
#pragma once

#include <glib-object.h>

#include "mt-face.h"
#include "mt-face-detector.h"
#include "mt-frame.h"

G_BEGIN_DECLS

#define MT_TYPE_FACE_TRACKER (mt_face_tracker_get_type ())
G_DECLARE_FINAL_TYPE (MtFaceTracker, mt_face_tracker, MT, FACE_TRACKER, GObject)

/* Chosen with bench-detector (bench/detector.c): regions of 128 pixels
 * agree with full passes on every frame of a drifting 130-pixel face and on
 * 267 of 275 Hamilton clip frames (96 loses faces, 160 costs more); a full
 * pass every 10 frames picks up new faces within a third of a second. */
#define MT_FACE_TRACKER_DEFAULT_FULL_EVERY  10
#define MT_FACE_TRACKER_DEFAULT_REGION_SIZE 128

/* Loads the face detector twice: one network at the full-frame size
 * (MT_FACE_DETECTOR_DEFAULT_SIZE) and a smaller one for regions. */
MtFaceTracker *mt_face_tracker_new              (const char     *cfg_path,
                                                 const char     *weights_path,
                                                 GError        **error);
/* Only the state of the face followed, no networks: each frame's detectors
 * are lent to mt_face_tracker_detect_with() by whichever thread serves the
 * video, so one video's state can move between threads while each thread
 * keeps its own networks (Darknet is not thread-safe). */
MtFaceTracker *mt_face_tracker_new_state_only   (void);

/* Input sizes of the full-frame and the region passes (multiples of 32,
 * 64 to 1024) of the tracker's own networks. */
gboolean       mt_face_tracker_set_input_sizes  (MtFaceTracker  *self,
                                                 int             full_size,
                                                 int             region_size,
                                                 GError        **error);
/* A full-frame pass at least every @n frames (1: always full frames). */
void           mt_face_tracker_set_full_every   (MtFaceTracker  *self,
                                                 guint           n);
/* The threshold of the tracker's own networks. */
void           mt_face_tracker_set_threshold    (MtFaceTracker  *self,
                                                 float           threshold);
/* Forgets the face followed: the next frame gets a full pass. */
void           mt_face_tracker_reset            (MtFaceTracker  *self);

/* The faces in @frame, the next frame of the same video, as
 * mt_face_detector_detect() gives them.  While exactly one face is seen, the
 * frames between full passes are searched only in a square twice the size of
 * the last box around it; when it is not found there, the same frame gets a
 * full pass. */
GArray        *mt_face_tracker_detect           (MtFaceTracker  *self,
                                                 const MtFrame  *frame,
                                                 GError        **error);
/* The same with lent networks: @full at the full-frame size, @region at the
 * region size (used by one thread at a time, as always). */
GArray        *mt_face_tracker_detect_with      (MtFaceTracker  *self,
                                                 MtFaceDetector *full,
                                                 MtFaceDetector *region,
                                                 const MtFrame  *frame,
                                                 GError        **error);
/* Whether the last mt_face_tracker_detect() searched the whole frame. */
gboolean       mt_face_tracker_last_was_full    (MtFaceTracker  *self);

G_END_DECLS
