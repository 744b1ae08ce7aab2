/* mt-analysis-pump.h: analysis threads that serve any number of video
 * streams (MtAnalysisStream), each always on its newest frame.
 *
 * Each thread owns its own networks (an MtAnalyzer: Darknet is not
 * thread-safe) and holds no state of any stream; a stream's state (the face
 * it follows, its mood, its hint) travels with the stream, so any thread can
 * serve any stream's next frame.  The app's camera is one stream, each
 * browser of the server one more. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define MT_ANALYSIS_PUMP_ERROR (mt_analysis_pump_error_quark ())

typedef enum {
  MT_ANALYSIS_PUMP_ERROR_MODELS,   /* the thread could not load its networks */
} MtAnalysisPumpError;

GQuark          mt_analysis_pump_error_quark          (void);

#define MT_TYPE_ANALYSIS_PUMP (mt_analysis_pump_get_type ())
G_DECLARE_FINAL_TYPE (MtAnalysisPump, mt_analysis_pump, MT, ANALYSIS_PUMP, GObject)

/* Starts @n_threads threads (0: one per core) for the expression model
 * @model (NULL: default) of @models_dir (NULL: the default folder).  Each
 * loads its networks at its first frame, so a pump nobody streams to costs
 * no model memory; mt_analysis_pump_load() loads them now.  Signals are
 * emitted in the caller's thread-default main context. */
MtAnalysisPump *mt_analysis_pump_new                  (const char     *models_dir,
                                                       const char     *model,
                                                       guint           n_threads);
/* Every thread loads its networks now: "ready" (or "failed") follows. */
void            mt_analysis_pump_load                 (MtAnalysisPump *self);
guint           mt_analysis_pump_get_n_threads        (MtAnalysisPump *self);
/* TRUE once a thread has loaded its networks ("ready" was emitted). */
gboolean        mt_analysis_pump_is_ready             (MtAnalysisPump *self);
/* Any thread; each analysis thread takes them before its next frame. */
void            mt_analysis_pump_set_threshold        (MtAnalysisPump *self,
                                                       double          threshold);
/* Side of the face detector's input square (a multiple of 32). */
void            mt_analysis_pump_set_detector_size    (MtAnalysisPump *self,
                                                       int             size);

G_END_DECLS
