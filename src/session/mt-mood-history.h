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

/* What happened to the music, marked on the same time axis. */
typedef enum {
  MT_MOOD_MARK_SONG,       /* a song started */
  MT_MOOD_MARK_LIKED,
  MT_MOOD_MARK_DISLIKED,
  MT_MOOD_MARK_SKIPPED,
} MtMoodMarkKind;

typedef struct {
  gint64          time_us;   /* g_get_real_time() */
  MtMoodMarkKind  kind;
  gint64          song_id;
  char           *title;     /* the song's, for people */
} MtMoodMark;

typedef struct _MtMoodHistory MtMoodHistory;

MtMoodHistory      *mt_mood_history_new    (void);
void                mt_mood_history_free   (MtMoodHistory      *self);
/* Adds a reading; one in the same second as the newest sample replaces it
 * (the newest reading of each second is kept).  Samples older than
 * MT_MOOD_HISTORY_MINUTES before @sample are dropped.  Times going back
 * (the clock set back) start the history again.  TRUE when a sample was
 * added, FALSE when the newest one was replaced. */
gboolean            mt_mood_history_add    (MtMoodHistory      *self,
                                            const MtMoodSample *sample);
void                mt_mood_history_clear  (MtMoodHistory      *self);
guint               mt_mood_history_get_n  (MtMoodHistory      *self);
/* Sample @index, 0 the oldest. */
const MtMoodSample *mt_mood_history_get    (MtMoodHistory      *self,
                                            guint               index);
/* Adds a mark (@title copied); marks older than the oldest sample's window
 * are dropped as samples are. */
void                mt_mood_history_add_mark (MtMoodHistory    *self,
                                              gint64            time_us,
                                              MtMoodMarkKind    kind,
                                              gint64            song_id,
                                              const char       *title);
guint               mt_mood_history_get_n_marks (MtMoodHistory *self);
/* Mark @index, 0 the oldest. */
const MtMoodMark   *mt_mood_history_get_mark (MtMoodHistory    *self,
                                              guint             index);
/* What a summary for people says, over the last @minutes before the newest
 * sample: the mood seen longest (MT_MOOD_NONE: no face all along), the mood
 * now and since when it holds (g_get_real_time() µs).  FALSE when empty. */
gboolean            mt_mood_history_summarize (MtMoodHistory   *self,
                                               guint            minutes,
                                               MtMood          *longest,
                                               MtMood          *now,
                                               gint64          *since_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtMoodHistory, mt_mood_history_free)

G_END_DECLS
