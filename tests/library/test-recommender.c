/* Playlists for a mood: order, variety, recency, learning, strategies. */
#include "config.h"

#include <math.h>
#include <glib/gstdio.h>

#include "mt-library.h"
#include "mt-mood-rules.h"
#include "mt-recommender.h"
#include "mt-test-music.h"

#define NOW G_GINT64_CONSTANT (1700000000)

typedef struct {
  char             *dir;
  MtLibrary        *library;
  MtMoodStrategies *strategies;
  MtRecommender    *recommender;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = mt_test_make_temp_dir ();
  f->library = mt_test_open_library (f->dir);
  f->strategies = mt_mood_strategies_new_default (&error);
  g_assert_no_error (error);
  f->recommender = mt_recommender_new (f->library, f->strategies);
  mt_recommender_set_seed (f->recommender, 42);
  mt_recommender_set_now (f->recommender, NOW);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->recommender);
  g_clear_object (&f->strategies);
  g_clear_object (&f->library);
  mt_test_rmdir (f->dir);
  g_free (f->dir);
}

/* A song with one rule weight per mood given as "happy=0.9,sad=0.1". */
static gint64
add (Fixture    *f,
     const char *title,
     const char *artist,
     const char *moods)
{
  g_autoptr(MtSong) song = mt_song_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) pairs = g_strsplit (moods, ",", -1);
  double weights[MT_N_MOODS];

  for (int i = 0; i < MT_N_MOODS; i++)
    weights[i] = NAN;
  for (guint i = 0; pairs[i] && pairs[i][0]; i++)
    {
      g_auto(GStrv) kv = g_strsplit (pairs[i], "=", 2);
      MtMood mood;
      g_assert_true (mt_mood_from_string (kv[0], &mood));
      weights[mood] = g_ascii_strtod (kv[1], NULL);
    }
  song->uri = g_strdup_printf ("file:///music/%s-%s.ogg", artist ? artist : "none", title ? title : "none");
  song->title = g_strdup (title);
  song->artist = g_strdup (artist);
  song->id = mt_library_add_song (f->library, song, &error);
  g_assert_no_error (error);
  g_assert_true (mt_library_set_mood_weights (f->library, song->id, MT_MOOD_SOURCE_RULE, weights, &error));
  return song->id;
}

static GPtrArray *
recommend (Fixture *f, MtMood mood, MtStrategy strategy, guint limit)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *songs = mt_recommender_recommend (f->recommender, mood, strategy, limit, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < songs->len; i++)
    {
      MtSong *song = g_ptr_array_index (songs, i);
      g_test_message ("%u. %s — %s  %.4f", i + 1, song->artist, song->title, song->score);
    }
  return songs;
}

static void
assert_order (GPtrArray *songs, const gint64 *ids, guint n)
{
  g_assert_cmpuint (songs->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (((MtSong *) g_ptr_array_index (songs, i))->id, ==, ids[i]);
}

static void
test_order_by_mood (Fixture *f, gconstpointer data)
{
  gint64 s3 = add (f, "Three", "C", "happy=0.5,sad=0.9");
  gint64 s1 = add (f, "One", "A", "happy=0.9");
  gint64 s5 = add (f, "Five", "E", "happy=0.1,angry=1");
  gint64 s2 = add (f, "Two", "B", "happy=0.7");
  gint64 s4 = add (f, "Four", "D", "happy=0.3");
  g_autoptr(GPtrArray) happy = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 5);
  g_autoptr(GPtrArray) again = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 5);
  g_autoptr(GPtrArray) top2 = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 2);
  g_autoptr(GPtrArray) sad = recommend (f, MT_MOOD_SAD, MT_STRATEGY_MATCH, 1);
  gint64 expected[] = { s1, s2, s3, s4, s5 };

  assert_order (happy, expected, 5);
  assert_order (again, expected, 5);
  assert_order (top2, expected, 2);
  assert_order (sad, (gint64[]) { s3 }, 1);
  for (guint i = 1; i < happy->len; i++)
    g_assert_cmpfloat (((MtSong *) happy->pdata[i - 1])->score, >, ((MtSong *) happy->pdata[i])->score);
  /* the score is the mood weight plus a jitter below MT_RECOMMENDER_JITTER */
  g_assert_cmpfloat (((MtSong *) happy->pdata[0])->score, >=, 0.9);
  g_assert_cmpfloat (((MtSong *) happy->pdata[0])->score, <, 0.9 + MT_RECOMMENDER_JITTER);
}

static gboolean
same_order (GPtrArray *a, GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (((MtSong *) a->pdata[i])->id != ((MtSong *) b->pdata[i])->id)
      return FALSE;
  return TRUE;
}

static void
test_seed_breaks_ties (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) repeat = NULL;
  gboolean some_seed_differs = FALSE;

  for (int i = 0; i < 8; i++)
    {
      g_autofree char *title = g_strdup_printf ("Tie %d", i);
      g_autofree char *artist = g_strdup_printf ("Artist %d", i);
      add (f, title, artist, "happy=0.5");
    }
  mt_recommender_set_seed (f->recommender, 1);
  first = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 8);
  repeat = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 8);
  g_assert_true (same_order (first, repeat));
  /* Pinned: the same seed gives the same playlist across versions too
   * (ids 1..8 are "Tie 0".."Tie 7"). */
  assert_order (first, (gint64[]) { 3, 7, 6, 2, 1, 8, 4, 5 }, 8);

  for (guint64 seed = 2; seed < 6; seed++)
    {
      g_autoptr(GPtrArray) other = NULL;
      mt_recommender_set_seed (f->recommender, seed);
      other = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 8);
      g_assert_cmpuint (other->len, ==, 8);
      some_seed_differs |= !same_order (first, other);
    }
  g_assert_true (some_seed_differs);
}

static void
test_variety (Fixture *f, gconstpointer data)
{
  gint64 a1 = add (f, "A1", "Alpha", "happy=0.95");
  gint64 a2 = add (f, "A2", "alpha", "happy=0.9");    /* same artist, other case */
  gint64 a3 = add (f, "A3", "Alpha", "happy=0.85");
  gint64 b1 = add (f, "B1", "Beta", "happy=0.5");
  gint64 b2 = add (f, "B2", "Beta", "happy=0.4");
  gint64 n1 = add (f, "N1", NULL, "happy=0.2");
  g_autoptr(GPtrArray) songs = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 6);
  gint64 expected[] = { a1, b1, a2, b2, a3, n1 };

  /* No artist twice in a row while another is available; an untagged song
   * is not "the same artist" as anyone. */
  assert_order (songs, expected, 6);
}

static void
test_variety_gives_way (Fixture *f, gconstpointer data)
{
  gint64 a1 = add (f, "A1", "Alpha", "happy=0.9");
  gint64 a2 = add (f, "A2", "Alpha", "happy=0.8");
  gint64 a3 = add (f, "A3", "Alpha", "happy=0.7");
  g_autoptr(GPtrArray) songs = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 5);

  /* A one-artist library still gives a playlist. */
  assert_order (songs, (gint64[]) { a1, a2, a3 }, 3);
}

static void
test_recency (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 s1 = add (f, "One", "A", "happy=0.9");
  gint64 s2 = add (f, "Two", "B", "happy=0.8");
  gint64 s3 = add (f, "Three", "C", "happy=0.7");
  g_autoptr(GPtrArray) fresh = NULL;
  g_autoptr(GPtrArray) later = NULL;
  g_autoptr(GPtrArray) much_later = NULL;

  /* One was just heard to the end (while happy: learning +0.05). */
  g_assert_true (mt_library_add_feedback (f->library, s1, MT_FEEDBACK_PLAYED, MT_MOOD_HAPPY, NOW - 60, &error));
  fresh = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 3);
  assert_order (fresh, (gint64[]) { s2, s3, s1 }, 3);

  /* Two half-lives later its penalty is 0.125: 0.95 - 0.125 = 0.825 beats
   * Two's 0.8 plus at most 0.02 of jitter. */
  mt_recommender_set_now (f->recommender, NOW - 60 + 2 * MT_RECOMMENDER_RECENCY_HALF_LIFE_S);
  later = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 3);
  assert_order (later, (gint64[]) { s1, s2, s3 }, 3);

  mt_recommender_set_now (f->recommender, NOW + 7 * 24 * 3600);
  much_later = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 3);
  assert_order (much_later, (gint64[]) { s1, s2, s3 }, 3);
  g_assert_cmpfloat (((MtSong *) much_later->pdata[0])->score, >=, 0.95 - 0.001);
}

static void
test_feedback_learning (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 s1 = add (f, "One", "A", "happy=0.6,sad=0.6");
  gint64 s2 = add (f, "Two", "B", "happy=0.5,sad=0.5");
  g_autoptr(GPtrArray) before = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 2);
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GPtrArray) sad = NULL;

  assert_order (before, (gint64[]) { s1, s2 }, 2);
  /* Disliked while happy: One sinks for happy, not for sad. */
  g_assert_true (mt_library_add_feedback (f->library, s1, MT_FEEDBACK_DISLIKED, MT_MOOD_HAPPY, NOW, &error));
  after = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 2);
  assert_order (after, (gint64[]) { s2, s1 }, 2);
  sad = recommend (f, MT_MOOD_SAD, MT_STRATEGY_MATCH, 2);
  assert_order (sad, (gint64[]) { s1, s2 }, 2);

  /* Liked while happy, twice: Two climbs above a 0.7 newcomer. */
  {
    gint64 s3 = add (f, "Three", "C", "happy=0.7");
    g_autoptr(GPtrArray) liked = NULL;

    g_assert_true (mt_library_add_feedback (f->library, s2, MT_FEEDBACK_LIKED, MT_MOOD_HAPPY, NOW, &error));
    liked = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 3);
    assert_order (liked, (gint64[]) { s2, s3, s1 }, 3);
  }
}

static void
test_empty_library (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *songs = mt_recommender_recommend (f->recommender, MT_MOOD_SAD, MT_STRATEGY_LIFT, 10, &error);

  g_assert_null (songs);
  g_assert_error (error, MT_RECOMMENDER_ERROR, MT_RECOMMENDER_ERROR_EMPTY_LIBRARY);
  g_assert_nonnull (strstr (error->message, "import"));
}

/* Songs whose files are gone (an unplugged drive) are never offered; when
 * every song is, the playlist is empty: not an empty library. */
static void
test_missing_songs (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) some = NULL;
  g_autoptr(GPtrArray) none = NULL;
  gint64 s1 = add (f, "Best", "A", "happy=0.9");
  gint64 s2 = add (f, "Good", "B", "happy=0.5");

  g_assert_true (mt_library_set_missing (f->library, s1, NOW - 60, &error));
  some = recommend (f, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 5);
  assert_order (some, (gint64[]) { s2 }, 1);

  g_assert_true (mt_library_set_missing (f->library, s2, NOW - 60, &error));
  none = recommend (f, MT_MOOD_SAD, MT_STRATEGY_LIFT, 5);
  g_assert_cmpuint (none->len, ==, 0);
  g_assert_cmpint (mt_library_count_missing (f->library, NULL), ==, 2);
}

static void
test_untagged_songs (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtMoodRules) rules = mt_mood_rules_new_default (&error);
  g_autoptr(GPtrArray) neutral = NULL;
  g_autoptr(GPtrArray) zero = NULL;

  g_assert_no_error (error);
  for (int i = 0; i < 4; i++)
    {
      g_autoptr(MtSong) song = mt_song_new ();
      double weights[MT_N_MOODS];

      song->uri = g_strdup_printf ("file:///music/track%02d.ogg", i);
      song->id = mt_library_add_song (f->library, song, &error);
      mt_mood_rules_apply (rules, song, weights);
      g_assert_true (mt_library_set_mood_weights (f->library, song->id, MT_MOOD_SOURCE_RULE, weights, &error));
    }
  neutral = recommend (f, MT_MOOD_NEUTRAL, MT_STRATEGY_MATCH, 10);
  g_assert_cmpuint (neutral->len, ==, 4);
  g_assert_cmpfloat (((MtSong *) neutral->pdata[3])->score, >=, 0.5);

  zero = mt_recommender_recommend (f->recommender, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (zero->len, ==, 0);
}

static void
test_lift_stages (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "strategies.json", NULL);
  g_autoptr(MtMoodStrategies) custom = NULL;
  g_autoptr(MtRecommender) recommender = NULL;
  g_autoptr(GPtrArray) songs = NULL;
  GString *json = g_string_new ("{\"match\": {");
  gint64 sad1, sad2, happy1, happy2;

  /* sad lifts in two stages, sad then happy; every other mood matches. */
  for (int m = 0; m < MT_N_MOODS; m++)
    g_string_append_printf (json, "%s\"%s\": [{\"%s\": 1}]", m ? ", " : "", mt_mood_to_string (m), mt_mood_to_string (m));
  g_string_append (json, "}, \"lift\": {");
  for (int m = 0; m < MT_N_MOODS; m++)
    g_string_append_printf (json, "%s\"%s\": %s", m ? ", " : "", mt_mood_to_string (m),
                            m == MT_MOOD_SAD ? "[{\"sad\": 2}, {\"happy\": 1, \"neutral\": 1}]" : "[{\"happy\": 1}]");
  g_string_append (json, "}}");
  g_assert_true (g_file_set_contents (path, json->str, -1, NULL));
  g_string_free (json, TRUE);

  custom = mt_mood_strategies_new_from_file (path, &error);
  g_assert_no_error (error);
  recommender = mt_recommender_new (f->library, custom);
  mt_recommender_set_seed (recommender, 7);
  mt_recommender_set_now (recommender, NOW);

  sad1 = add (f, "Rain", "A", "sad=0.9");
  sad2 = add (f, "Tears", "B", "sad=0.8,neutral=0.2");
  add (f, "Gloom", "C", "sad=0.7");
  happy1 = add (f, "Sun", "D", "happy=0.9,neutral=0.5");
  happy2 = add (f, "Calm joy", "E", "happy=0.5,neutral=0.6");
  add (f, "Party", "F", "happy=0.6");

  songs = mt_recommender_recommend (recommender, MT_MOOD_SAD, MT_STRATEGY_LIFT, 4, &error);
  g_assert_no_error (error);
  /* First half meets the sadness, second half lifts (happy+neutral mix:
   * Sun 0.7, Calm joy 0.55, Party 0.3). */
  assert_order (songs, (gint64[]) { sad1, sad2, happy1, happy2 }, 4);
}

static void
test_lift_real_data (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) songs = NULL;
  double first_happy, last_happy;

  for (int i = 0; i < 10; i++)
    {
      g_autofree char *title = g_strdup_printf ("S%d", i);
      g_autofree char *artist = g_strdup_printf ("Artist %d", i);
      g_autofree char *moods = g_strdup_printf ("sad=%.1f,neutral=0.5,happy=%.1f", 1.0 - i * 0.1, i * 0.1);
      add (f, title, artist, moods);
    }
  songs = recommend (f, MT_MOOD_SAD, MT_STRATEGY_LIFT, 6);
  g_assert_cmpuint (songs->len, ==, 6);
  first_happy = ((MtSong *) songs->pdata[0])->moods[MT_MOOD_HAPPY];
  last_happy = ((MtSong *) songs->pdata[5])->moods[MT_MOOD_HAPPY];
  g_assert_cmpfloat (last_happy, >, first_happy);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/recommender/order-by-mood", test_order_by_mood);
  ADD ("/recommender/seed-breaks-ties", test_seed_breaks_ties);
  ADD ("/recommender/variety", test_variety);
  ADD ("/recommender/variety-gives-way", test_variety_gives_way);
  ADD ("/recommender/recency", test_recency);
  ADD ("/recommender/feedback-learning", test_feedback_learning);
  ADD ("/recommender/empty-library", test_empty_library);
  ADD ("/recommender/missing-songs", test_missing_songs);
  ADD ("/recommender/untagged-songs", test_untagged_songs);
  ADD ("/recommender/lift-stages", test_lift_stages);
  ADD ("/recommender/lift-real-data", test_lift_real_data);
#undef ADD

  return g_test_run ();
}
