/* mt-mood-history.h: the steady mood and the smoothed probabilities over the
 * last minutes, one sample a second, for the mood timeline.  Kept in memory
 * only: nothing is stored. */
#pragma once

#include <glib.h>

#include "mt-mood.h"

G_BEGIN_DECLS

/* Minutes a history keeps. */
#define MT_MOOD_HISTORY_MINUTES 10

typedef struct {
  gint64 time_us;                       /* g_get_real_time() of the reading */
  MtMood mood;                          /* steady mood, MT_MOOD_NONE without a face */
  float  probabilities[MT_N_MOODS];     /* smoothed; all 0 without a face */
} MtMoodSample;

typedef struct _MtMoodHistory MtMoodHistory;

MtMoodHistory      *mt_mood_history_new    (void);
void                mt_mood_history_free   (MtMoodHistory      *self);
/* Adds a reading; one in the same second as the newest sample replaces it
 * (the newest reading of each second is kept).  Samples older than
 * MT_MOOD_HISTORY_MINUTES before @sample are dropped.  Times going back
 * (the clock set back) start the history again. */
void                mt_mood_history_add    (MtMoodHistory      *self,
                                            const MtMoodSample *sample);
void                mt_mood_history_clear  (MtMoodHistory      *self);
guint               mt_mood_history_get_n  (MtMoodHistory      *self);
/* Sample @index, 0 the oldest. */
const MtMoodSample *mt_mood_history_get    (MtMoodHistory      *self,
                                            guint               index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtMoodHistory, mt_mood_history_free)

G_END_DECLS
