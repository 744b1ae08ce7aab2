/* mt-analysis-worker.h: reads faces and expressions on a thread of its own,
 * always on the newest camera frame, and hands the results to the main loop. */
#pragma once

#include <gst/gst.h>

#include "mt-face.h"

G_BEGIN_DECLS

typedef enum {
  MT_FRAME_HINT_NONE,       /* a usable face */
  MT_FRAME_HINT_NO_FACE,
  MT_FRAME_HINT_TOO_DARK,
  MT_FRAME_HINT_TOO_SMALL,  /* the face is too far away to read well */
} MtFrameHint;

/* Mean brightness (0-255) below which a frame without a face is "too dark". */
#define MT_FRAME_DARK_LEVEL 40.0
/* Faces narrower than this (frame pixels) are read badly by the classifiers. */
#define MT_FACE_SMALL_SIDE 48.0

typedef struct {
  GArray      *faces;        /* MtFace, largest first */
  int          frame_width;
  int          frame_height;
  gint64       position;     /* clip position of the frame (ns), -1 unknown */
  gint64       arrival_us;   /* monotonic time the frame left the camera */
  gint64       done_us;      /* monotonic time the analysis ended */
  double       analyze_ms;
  double       brightness;   /* mean luma 0-255 */
  MtFrameHint  hint;
} MtAnalysisResult;

#define MT_TYPE_ANALYSIS_RESULT (mt_analysis_result_get_type ())
GType             mt_analysis_result_get_type (void) G_GNUC_CONST;
MtAnalysisResult *mt_analysis_result_copy     (const MtAnalysisResult *result);
void              mt_analysis_result_free     (MtAnalysisResult       *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtAnalysisResult, mt_analysis_result_free)

#define MT_TYPE_ANALYSIS_WORKER (mt_analysis_worker_get_type ())
G_DECLARE_FINAL_TYPE (MtAnalysisWorker, mt_analysis_worker, MT, ANALYSIS_WORKER, GObject)

/* Starts the thread, which loads the models (NULL: defaults) itself; the
 * "ready" or "failed" signal follows in the caller's main context. */
MtAnalysisWorker *mt_analysis_worker_new           (const char       *models_dir,
                                                    const char       *model);
/* Any thread: replaces the waiting frame (the older one is dropped). */
void              mt_analysis_worker_push          (MtAnalysisWorker *self,
                                                    GstSample        *sample,
                                                    gint64            arrival_us);
/* Drops the waiting frame and stops taking new ones while disabled. */
void              mt_analysis_worker_set_enabled   (MtAnalysisWorker *self,
                                                    gboolean          enabled);
void              mt_analysis_worker_set_threshold (MtAnalysisWorker *self,
                                                    double            threshold);
/* Side of the face detector's input square (a multiple of 32). */
void              mt_analysis_worker_set_detector_size (MtAnalysisWorker *self,
                                                        int               size);
gboolean          mt_analysis_worker_is_ready      (MtAnalysisWorker *self);
/* Analyses finished per second, over the last two seconds. */
double            mt_analysis_worker_get_rate      (MtAnalysisWorker *self);
/* Frames dropped because the worker was busy, since the start. */
guint64           mt_analysis_worker_get_dropped   (MtAnalysisWorker *self);

G_END_DECLS
