/* mt-analysis-pump-private.h: how the pump and its streams meet; not for
 * their users. */
#pragma once

#include "mt-analysis-pump.h"
#include "mt-analysis-stream.h"
#include "mt-analyzer.h"

G_BEGIN_DECLS

/* Any thread: queues @stream, which has a frame waiting, for the next free
 * analysis thread (the queue holds a reference). */
void _mt_analysis_pump_schedule (MtAnalysisPump   *pump,
                                 MtAnalysisStream *stream);

/* An analysis thread: analyzes @stream's waiting frame, if it still has
 * one, with @analyzer (NULL when the thread's networks failed to load:
 * @load_error says why), posts the result to the stream's main context and
 * queues the stream again when a newer frame came meanwhile.  Takes over the
 * queue's reference. */
void _mt_analysis_stream_serve  (MtAnalysisStream *stream,
                                 MtAnalyzer       *analyzer,
                                 const GError     *load_error);

G_END_DECLS
