/* mt-analysis-worker.h: the camera's stream of an MtAnalysisPump: reads
 * faces and expressions on a thread of its own, always on the newest camera
 * frame, and hands the results to the main loop. */
#pragma once

#include <gst/gst.h>

#include "mt-analysis-pump.h"
#include "mt-analysis-result.h"
#include "mt-analysis-stream.h"
#include "mt-face.h"

G_BEGIN_DECLS

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
/* Drops the waiting frame and stops taking new ones while disabled; the
 * camera's stream starts over (face followed and mood forgotten). */
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
/* The camera's stream: its mood tracker follows the largest face of each
 * result (fed just before "result" is emitted). */
MtAnalysisStream *mt_analysis_worker_get_stream    (MtAnalysisWorker *self);

G_END_DECLS
