/* mt-mood-tracker.h: turns per-frame expressions into a steady mood. */
#pragma once

#include <glib-object.h>

#include "mt-mood.h"

G_BEGIN_DECLS

#define MT_TYPE_MOOD_TRACKER (mt_mood_tracker_get_type ())
G_DECLARE_FINAL_TYPE (MtMoodTracker, mt_mood_tracker, MT, MOOD_TRACKER, GObject)

MtMoodTracker *mt_mood_tracker_new             (void);

/* Feeds one frame's reading taken at @time_us (monotonic microseconds):
 * @probabilities holds MT_N_MOODS values, or is NULL when the frame had
 * no face.  Emits notify::mood when the steady mood changes. */
void           mt_mood_tracker_update          (MtMoodTracker *self,
                                                const float   *probabilities,
                                                gint64         time_us);
/* Forgets everything (for example when the camera is switched off). */
void           mt_mood_tracker_reset           (MtMoodTracker *self);

/* The steady mood, or MT_MOOD_NONE when no face has been seen for a while. */
MtMood         mt_mood_tracker_get_mood        (MtMoodTracker *self);
/* The smoothed probability of the steady mood (0 with no mood). */
float          mt_mood_tracker_get_confidence  (MtMoodTracker *self);
/* The smoothed probabilities of all MT_N_MOODS expressions. */
void           mt_mood_tracker_get_smoothed    (MtMoodTracker *self,
                                                float         *probabilities);

G_END_DECLS
