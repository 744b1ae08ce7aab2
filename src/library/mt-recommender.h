/* mt-recommender.h: ranked playlists for a detected mood.
 *
 * A song's rank combines its mood weights for the strategy's target moods
 * (rule or user weights plus what feedback taught), recency (songs played in
 * the last hours sink) and a small seeded jitter that breaks ties; the
 * playlist then never puts the same artist twice in a row while another
 * artist is available.  The same seed, library and clock give the same list.
 */
#pragma once

#include <glib-object.h>

#include "mt-library.h"
#include "mt-mood-strategies.h"

G_BEGIN_DECLS

#define MT_RECOMMENDER_ERROR (mt_recommender_error_quark ())

typedef enum {
  MT_RECOMMENDER_ERROR_EMPTY_LIBRARY,
} MtRecommenderError;

/* A song played this long ago has lost half of its recency penalty. */
#define MT_RECOMMENDER_RECENCY_HALF_LIFE_S (6 * 3600)
/* Penalty of a song played right now, in score units (scores are 0..1). */
#define MT_RECOMMENDER_RECENCY_PENALTY 0.5
/* Largest seeded jitter added to a score. */
#define MT_RECOMMENDER_JITTER 0.02

#define MT_TYPE_RECOMMENDER (mt_recommender_get_type ())
G_DECLARE_FINAL_TYPE (MtRecommender, mt_recommender, MT, RECOMMENDER, GObject)

GQuark         mt_recommender_error_quark (void);

MtRecommender *mt_recommender_new         (MtLibrary        *library,
                                           MtMoodStrategies *strategies);
void           mt_recommender_set_seed    (MtRecommender    *self,
                                           guint64           seed);
/* The clock used for recency, in seconds since the epoch; 0 = the real one. */
void           mt_recommender_set_now     (MtRecommender    *self,
                                           gint64            now);

/* Up to @limit songs (MtSong, best first, MtSong.score set), never a
 * missing one: none when every song is missing (a drive unplugged; see
 * mt_library_count_missing()).  Fails with MT_RECOMMENDER_ERROR_EMPTY_LIBRARY
 * when there is no music yet. */
GPtrArray     *mt_recommender_recommend   (MtRecommender    *self,
                                           MtMood            mood,
                                           MtStrategy        strategy,
                                           guint             limit,
                                           GError          **error);

G_END_DECLS
