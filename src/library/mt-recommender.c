#define G_LOG_DOMAIN "mt-recommender"

#include "config.h"

#include <math.h>

#include "mt-recommender.h"

struct _MtRecommender
{
  GObject           parent_instance;
  MtLibrary        *library;
  MtMoodStrategies *strategies;
  guint64           seed;
  gint64            now;
};

G_DEFINE_FINAL_TYPE (MtRecommender, mt_recommender, G_TYPE_OBJECT)

G_DEFINE_QUARK (mt-recommender-error-quark, mt_recommender_error)

static void
mt_recommender_finalize (GObject *object)
{
  MtRecommender *self = (MtRecommender *) object;

  g_clear_object (&self->library);
  g_clear_object (&self->strategies);
  G_OBJECT_CLASS (mt_recommender_parent_class)->finalize (object);
}

static void
mt_recommender_class_init (MtRecommenderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_recommender_finalize;
}

static void
mt_recommender_init (MtRecommender *self)
{
}

MtRecommender *
mt_recommender_new (MtLibrary        *library,
                    MtMoodStrategies *strategies)
{
  MtRecommender *self;

  g_return_val_if_fail (MT_IS_LIBRARY (library), NULL);
  g_return_val_if_fail (MT_IS_MOOD_STRATEGIES (strategies), NULL);

  self = g_object_new (MT_TYPE_RECOMMENDER, NULL);
  self->library = g_object_ref (library);
  self->strategies = g_object_ref (strategies);
  return self;
}

void
mt_recommender_set_seed (MtRecommender *self,
                         guint64        seed)
{
  g_return_if_fail (MT_IS_RECOMMENDER (self));
  self->seed = seed;
}

void
mt_recommender_set_now (MtRecommender *self,
                        gint64         now)
{
  g_return_if_fail (MT_IS_RECOMMENDER (self));
  self->now = now;
}

/* splitmix64: a well-mixed hash of (seed, song id), so the jitter of a song
 * does not depend on the order songs come from the database. */
static double
jitter_for (guint64 seed,
            gint64  id)
{
  guint64 z = seed + (guint64) id * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  z ^= z >> 31;
  return (double) (z >> 11) / (double) (G_GUINT64_CONSTANT (1) << 53) * MT_RECOMMENDER_JITTER;
}

static double
recency_penalty (gint64 last_played,
                 gint64 now)
{
  if (last_played <= 0)
    return 0.0;
  if (last_played >= now)
    return MT_RECOMMENDER_RECENCY_PENALTY;
  return MT_RECOMMENDER_RECENCY_PENALTY *
         exp2 (-(double) (now - last_played) / MT_RECOMMENDER_RECENCY_HALF_LIFE_S);
}

static int
compare_by_score (gconstpointer a,
                  gconstpointer b)
{
  const MtSong *sa = *(const MtSong * const *) a;
  const MtSong *sb = *(const MtSong * const *) b;

  if (sa->score != sb->score)
    return sa->score > sb->score ? -1 : 1;
  return sa->id < sb->id ? -1 : sa->id > sb->id;
}

/* Songs with no artist tag are never "the same artist" as anything: nothing
 * says they are. */
static gboolean
same_artist (const MtSong *a,
             const MtSong *b)
{
  if (a == NULL || b == NULL || a->artist == NULL || b->artist == NULL ||
      a->artist[0] == '\0' || b->artist[0] == '\0')
    return FALSE;
  return g_utf8_collate (a->artist, b->artist) == 0 ||
         g_ascii_strcasecmp (a->artist, b->artist) == 0;
}

/* Ranks the candidates of one stage and appends @count of them to @playlist. */
static gboolean
fill_stage (MtRecommender     *self,
            const MtMoodStage *stage,
            guint              count,
            guint              pool,
            gint64             now,
            GHashTable        *chosen,
            GPtrArray         *playlist,
            GError           **error)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_song_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);

  /* The best songs of each target mood come straight off the (mood, score)
   * index; the mix is ranked here.  A song strong in the mix is strong in at
   * least one of its moods, so these pools hold the top of the mix. */
  for (int m = 0; m < MT_N_MOODS; m++)
    {
      g_autoptr(GPtrArray) top = NULL;

      if (stage->moods[m] <= 0.0)
        continue;
      top = mt_library_top_for_mood (self->library, (MtMood) m, (int) pool, error);
      if (top == NULL)
        return FALSE;
      for (guint i = 0; i < top->len; i++)
        {
          MtSong *song = g_ptr_array_index (top, i);

          if (g_hash_table_contains (chosen, &song->id) || g_hash_table_contains (seen, &song->id))
            continue;
          g_ptr_array_add (candidates, g_steal_pointer (&top->pdata[i]));
          g_hash_table_add (seen, &song->id);
        }
    }

  for (guint i = 0; i < candidates->len; i++)
    {
      MtSong *song = g_ptr_array_index (candidates, i);
      double fit = 0.0;

      for (int m = 0; m < MT_N_MOODS; m++)
        fit += stage->moods[m] * song->moods[m];
      song->score = fit - recency_penalty (song->last_played, now) + jitter_for (self->seed, song->id);
    }
  g_ptr_array_sort (candidates, compare_by_score);

  while (count > 0 && candidates->len > 0)
    {
      const MtSong *previous = playlist->len ? g_ptr_array_index (playlist, playlist->len - 1) : NULL;
      guint pick = 0;
      MtSong *song;

      /* Variety: the best song by another artist than the one just played;
       * only when every candidate left is by that artist does it repeat. */
      while (pick < candidates->len && same_artist (previous, g_ptr_array_index (candidates, pick)))
        pick++;
      if (pick == candidates->len)
        pick = 0;

      song = g_ptr_array_steal_index (candidates, pick);
      g_hash_table_add (chosen, &song->id);
      g_ptr_array_add (playlist, song);
      count--;
    }
  return TRUE;
}

GPtrArray *
mt_recommender_recommend (MtRecommender  *self,
                          MtMood          mood,
                          MtStrategy      strategy,
                          guint           limit,
                          GError        **error)
{
  g_autoptr(GPtrArray) playlist = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_song_free);
  g_autoptr(GHashTable) chosen = NULL;
  const MtMoodStage *stages;
  guint n_stages;
  gboolean empty = TRUE;
  gint64 now;
  guint pool;

  g_return_val_if_fail (MT_IS_RECOMMENDER (self), NULL);
  g_return_val_if_fail (mt_mood_is_valid (mood), NULL);
  g_return_val_if_fail (mt_strategy_to_string (strategy) != NULL, NULL);

  if (!mt_library_is_empty (self->library, &empty, error))
    return NULL;
  if (empty)
    {
      g_set_error (error, MT_RECOMMENDER_ERROR, MT_RECOMMENDER_ERROR_EMPTY_LIBRARY,
                   "The music library is empty: import music first "
                   "(moodtunes-library import ~/Music)");
      return NULL;
    }
  if (limit == 0)
    return g_steal_pointer (&playlist);

  now = self->now > 0 ? self->now : g_get_real_time () / G_USEC_PER_SEC;
  stages = mt_mood_strategies_get_stages (self->strategies, strategy, mood, &n_stages);
  n_stages = MIN (n_stages, limit);
  /* Room for songs that sink (recency) or are held back (variety, earlier
   * stages) while still ranking only a small part of a big library. */
  pool = MAX (3 * limit, 100u);
  /* The playlist holds songs stolen from candidate lists; the ids it keys
   * on live in those songs. */
  chosen = g_hash_table_new (g_int64_hash, g_int64_equal);

  for (guint s = 0; s < n_stages; s++)
    {
      guint count = limit / n_stages + (s < limit % n_stages ? 1 : 0);

      if (!fill_stage (self, &stages[s], count, pool + playlist->len, now, chosen, playlist, error))
        return NULL;
    }
  return g_steal_pointer (&playlist);
}
