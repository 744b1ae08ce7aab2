/* mt-analysis-stream.h: one video analyzed by an MtAnalysisPump: its newest
 * frame waiting, the face it follows, its mood and its hint. */
#pragma once

#include <glib-object.h>

#include "mt-analysis-result.h"
#include "mt-frame.h"
#include "mt-mood-tracker.h"

G_BEGIN_DECLS

typedef struct _MtAnalysisPump MtAnalysisPump;

/* Runs in an analysis thread, once per frame that is analyzed (never for
 * one dropped for a newer one): fills @frame with the pixels of @data,
 * which stay valid until @data's destroy notify (a decoded JPEG, a mapped
 * buffer), or returns FALSE with @error set. */
typedef gboolean (*MtAnalysisFrameFunc) (gpointer   data,
                                         MtFrame   *frame,
                                         GError   **error);

#define MT_TYPE_ANALYSIS_STREAM (mt_analysis_stream_get_type ())
G_DECLARE_FINAL_TYPE (MtAnalysisStream, mt_analysis_stream, MT, ANALYSIS_STREAM, GObject)

/* A stream served by @pump; its signals are emitted in the caller's
 * thread-default main context. */
MtAnalysisStream *mt_analysis_stream_new              (MtAnalysisPump      *pump);
/* Any thread: the stream's next frame.  It replaces the one waiting, if
 * any (that one is dropped: newest frame wins); @get_frame gives its pixels
 * in the analysis thread; @destroy frees @data, in whichever thread is done
 * with it.  @arrival_us (monotonic) and @position (ns in the video, -1
 * unknown) are handed back in the result. */
void              mt_analysis_stream_push             (MtAnalysisStream    *self,
                                                       MtAnalysisFrameFunc  get_frame,
                                                       gpointer             data,
                                                       GDestroyNotify       destroy,
                                                       gint64               arrival_us,
                                                       gint64               position);
/* The video starts over (camera switched off, another camera): drops the
 * waiting frame and any result not yet delivered, forgets the face followed
 * and resets the mood tracker. */
void              mt_analysis_stream_reset            (MtAnalysisStream    *self);
/* No more frames are taken and no more signals emitted (the stream's
 * viewer is gone); what is being analyzed finishes unwaited for. */
void              mt_analysis_stream_close            (MtAnalysisStream    *self);

/* Fed with the largest face of each result, in the main context, just
 * before "result" is emitted. */
MtMoodTracker    *mt_analysis_stream_get_mood_tracker (MtAnalysisStream    *self);
/* Frames analyzed (results delivered) since the start. */
guint64           mt_analysis_stream_get_analyzed     (MtAnalysisStream    *self);
/* Any thread: frames replaced by newer ones before they were analyzed. */
guint64           mt_analysis_stream_get_dropped      (MtAnalysisStream    *self);
/* Results delivered per second over the last two seconds (0 when none came
 * in the last second). */
double            mt_analysis_stream_get_rate         (MtAnalysisStream    *self);

G_END_DECLS
