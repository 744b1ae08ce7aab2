/* test-session.c: MtSession, the one owner of mood, playlist and feedback,
 * and its mood history. */
#include "config.h"

#include <math.h>

#include "mt-library-enums.h"
#include "mt-mood-history.h"
#include "mt-mood-history-store.h"
#include "mt-session.h"
#include "mt-song-item.h"
#include "mt-test-music.h"
#include "mt-test-support.h"

typedef struct {
  MtTestLibrary  lib;
  MtSession     *session;
  GArray        *feedback;     /* MtFeedbackOrigin of each feedback-recorded */
  guint          library_changes;
} Fixture;

static void
on_feedback_recorded (MtSession        *session,
                      gint64            song_id,
                      MtFeedback        feedback,
                      MtMood            mood,
                      MtFeedbackOrigin  origin,
                      Fixture          *f)
{
  g_array_append_val (f->feedback, origin);
}

static void
on_library_changed (MtLibrary       *library,
                    MtLibraryChange  what,
                    Fixture         *f)
{
  f->library_changes |= what;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  mt_test_library_set_up (&f->lib, data);
  mt_test_add_song_for_mood (f->lib.library, "Sunny Day", "The Brights", MT_MOOD_HAPPY);
  mt_test_add_song_for_mood (f->lib.library, "Grin", "Smiles", MT_MOOD_HAPPY);
  mt_test_add_song_for_mood (f->lib.library, "Rainy Window", "Grey Skies", MT_MOOD_SAD);
  mt_test_add_song_for_mood (f->lib.library, "Tears", "Blue Notes", MT_MOOD_SAD);
  mt_test_add_song_for_mood (f->lib.library, "Calm Lake", "Still", MT_MOOD_NEUTRAL);
  f->feedback = g_array_new (FALSE, FALSE, sizeof (MtFeedbackOrigin));
  f->session = mt_session_new (f->lib.library, NULL);
  g_signal_connect (f->session, "feedback-recorded", G_CALLBACK (on_feedback_recorded), f);
  g_signal_connect (f->lib.library, "changed", G_CALLBACK (on_library_changed), f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->session);
  g_array_unref (f->feedback);
  mt_test_library_tear_down (&f->lib, data);
}

typedef struct {
  MtSession *session;
  MtMood     mood;
} PlaylistWait;

static gboolean
playlist_is_for (gpointer data)
{
  PlaylistWait *wait = data;

  return mt_session_get_playlist_status (wait->session) == MT_PLAYLIST_STATUS_READY &&
         mt_session_get_playlist_mood (wait->session) == wait->mood;
}

static void
wait_for_playlist (MtSession *session,
                   MtMood     mood)
{
  PlaylistWait wait = { session, mood };

  g_assert_true (mt_test_wait_cond (playlist_is_for, &wait, 10000));
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static MtMood
main_mood_of (GListModel *playlist,
              guint       index)
{
  g_autoptr(MtSongItem) item = g_list_model_get_item (playlist, index);

  return mt_song_get_main_mood (mt_song_item_get_song (item));
}

/* Face readings at 30 frames a second for @seconds from @start_us. */
static gint64
feed (MtSession   *session,
      const float *probabilities,
      gint64       start_us,
      double       seconds)
{
  gint64 t = start_us;

  for (int i = 0; i < (int) (seconds * 30); i++, t += G_USEC_PER_SEC / 30)
    mt_session_add_reading (session, probabilities, t);
  return t;
}

static void
test_mood_drives_playlist (Fixture *f, gconstpointer data)
{
  const float happy[MT_N_MOODS] = { 0.02f, 0.01f, 0.02f, 0.85f, 0.03f, 0.03f, 0.04f };
  const float sad[MT_N_MOODS] = { 0.03f, 0.01f, 0.05f, 0.02f, 0.80f, 0.02f, 0.07f };
  GListModel *playlist = mt_session_get_playlist (f->session);
  gint64 t;

  /* Nothing is ranked on the caller's loop: the list comes later. */
  mt_session_refresh_playlist (f->session, FALSE);
  g_assert_cmpint (mt_session_get_playlist_status (f->session), ==, MT_PLAYLIST_STATUS_LOADING);
  g_assert_cmpuint (g_list_model_get_n_items (playlist), ==, 0);
  /* Before any face the music is calm. */
  wait_for_playlist (f->session, MT_MOOD_NEUTRAL);
  g_assert_cmpuint (g_list_model_get_n_items (playlist), ==, 5);
  g_assert_cmpint (main_mood_of (playlist, 0), ==, MT_MOOD_NEUTRAL);

  t = feed (f->session, happy, 0, 3.0);
  g_assert_cmpint (mt_session_get_face_mood (f->session), ==, MT_MOOD_HAPPY);
  g_assert_cmpint (mt_session_get_mood (f->session), ==, MT_MOOD_HAPPY);
  g_assert_true (mt_session_has_readings (f->session));
  g_assert_cmpfloat (mt_session_get_confidence (f->session), >, 0.7);
  wait_for_playlist (f->session, MT_MOOD_HAPPY);
  g_assert_cmpint (main_mood_of (playlist, 0), ==, MT_MOOD_HAPPY);
  g_assert_cmpint (main_mood_of (playlist, 1), ==, MT_MOOD_HAPPY);

  /* Locked: the face no longer changes it; the strategy still does. */
  mt_session_set_locked (f->session, TRUE);
  g_assert_cmpint (mt_session_get_picked_mood (f->session), ==, MT_MOOD_HAPPY);
  feed (f->session, sad, t, 3.0);
  g_assert_cmpint (mt_session_get_face_mood (f->session), ==, MT_MOOD_SAD);
  g_assert_cmpint (mt_session_get_mood (f->session), ==, MT_MOOD_HAPPY);

  /* Picked by hand, then unlocked: back to the face. */
  mt_session_pick_mood (f->session, MT_MOOD_NEUTRAL);
  g_assert_cmpint (mt_session_get_mood (f->session), ==, MT_MOOD_NEUTRAL);
  wait_for_playlist (f->session, MT_MOOD_NEUTRAL);
  mt_session_pick_mood (f->session, MT_MOOD_NONE);
  g_assert_false (mt_session_get_locked (f->session));
  g_assert_cmpint (mt_session_get_mood (f->session), ==, MT_MOOD_SAD);
  wait_for_playlist (f->session, MT_MOOD_SAD);
  g_assert_cmpint (main_mood_of (playlist, 0), ==, MT_MOOD_SAD);

  /* Lift: a sad face gets music away from sadness. */
  mt_session_set_strategy (f->session, MT_STRATEGY_LIFT);
  while (mt_session_get_playlist_strategy (f->session) != MT_STRATEGY_LIFT)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (main_mood_of (playlist, 0), !=, MT_MOOD_SAD);

  /* The camera goes off: readings forgotten, the playlist's mood kept. */
  mt_session_reset_readings (f->session);
  g_assert_false (mt_session_has_readings (f->session));
  g_assert_cmpint (mt_session_get_playlist_mood (f->session), ==, MT_MOOD_SAD);
}

static void
test_recommend_same_as_playlist (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(GError) error = NULL;
  GListModel *playlist = mt_session_get_playlist (f->session);

  mt_session_pick_mood (f->session, MT_MOOD_HAPPY);
  wait_for_playlist (f->session, MT_MOOD_HAPPY);

  mt_session_recommend_async (f->session, MT_MOOD_HAPPY, MT_STRATEGY_MATCH, 3, NULL,
                              store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  songs = mt_session_recommend_finish (f->session, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (songs->len, ==, 3);
  for (guint i = 0; i < songs->len; i++)
    {
      g_autoptr(MtSongItem) item = g_list_model_get_item (playlist, i);
      g_assert_cmpint (((MtSong *) songs->pdata[i])->id, ==, mt_song_item_get_song (item)->id);
    }

  /* Another mood is ranked on the query thread, the same way. */
  g_clear_object (&result);
  g_clear_pointer (&songs, g_ptr_array_unref);
  mt_session_recommend_async (f->session, MT_MOOD_SAD, MT_STRATEGY_MATCH, 2, NULL,
                              store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  songs = mt_session_recommend_finish (f->session, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (songs->len, ==, 2);
  g_assert_cmpint (mt_song_get_main_mood (songs->pdata[0]), ==, MT_MOOD_SAD);
  g_assert_cmpint (mt_song_get_main_mood (songs->pdata[1]), ==, MT_MOOD_SAD);
}

static void
test_library_change_reranks (Fixture *f, gconstpointer data)
{
  GListModel *playlist = mt_session_get_playlist (f->session);

  mt_session_pick_mood (f->session, MT_MOOD_ANGRY);
  wait_for_playlist (f->session, MT_MOOD_ANGRY);
  g_assert_cmpint (main_mood_of (playlist, 0), !=, MT_MOOD_ANGRY);

  /* A write through the library announces itself; with nothing playing
   * the playlist follows at once. */
  f->library_changes = 0;
  mt_test_add_song_for_mood (f->lib.library, "Fury", "Loud", MT_MOOD_ANGRY);
  g_assert_cmpuint (f->library_changes, ==, MT_LIBRARY_CHANGE_SONGS | MT_LIBRARY_CHANGE_MOODS);
  while (g_list_model_get_n_items (playlist) != 6)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (main_mood_of (playlist, 0), ==, MT_MOOD_ANGRY);

  /* Inside a transaction: once, at the commit; nothing after a rollback. */
  f->library_changes = 0;
  g_assert_true (mt_library_begin (f->lib.library, NULL));
  mt_test_add_song_for_mood (f->lib.library, "Rage", "Loud", MT_MOOD_ANGRY);
  g_assert_cmpuint (f->library_changes, ==, 0);
  g_assert_true (mt_library_commit (f->lib.library, NULL));
  g_assert_cmpuint (f->library_changes, ==, MT_LIBRARY_CHANGE_SONGS | MT_LIBRARY_CHANGE_MOODS);
  f->library_changes = 0;
  g_assert_true (mt_library_begin (f->lib.library, NULL));
  mt_test_add_song_for_mood (f->lib.library, "Storm", "Loud", MT_MOOD_ANGRY);
  mt_library_rollback (f->lib.library);
  g_assert_cmpuint (f->library_changes, ==, 0);
}

static void
test_feedback_one_path (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtSongItem) first = NULL;
  gint64 id;

  mt_session_pick_mood (f->session, MT_MOOD_HAPPY);
  wait_for_playlist (f->session, MT_MOOD_HAPPY);
  first = g_list_model_get_item (mt_session_get_playlist (f->session), 0);
  id = mt_song_item_get_song (first)->id;

  g_assert_true (mt_session_record_feedback (f->session, id, MT_FEEDBACK_LIKED, MT_MOOD_HAPPY,
                                             MT_FEEDBACK_ORIGIN_DESKTOP, &error));
  g_assert_true (mt_session_record_feedback (f->session, id, MT_FEEDBACK_LIKED, MT_MOOD_HAPPY,
                                             MT_FEEDBACK_ORIGIN_COMPANION, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mt_library_count_feedback (f->lib.library, id, MT_FEEDBACK_LIKED, NULL), ==, 2);
  g_assert_cmpuint (f->feedback->len, ==, 2);
  g_assert_cmpint (g_array_index (f->feedback, MtFeedbackOrigin, 0), ==, MT_FEEDBACK_ORIGIN_DESKTOP);
  g_assert_cmpint (g_array_index (f->feedback, MtFeedbackOrigin, 1), ==, MT_FEEDBACK_ORIGIN_COMPANION);

  /* A song the library does not have: an error, nothing announced. */
  g_assert_false (mt_session_record_feedback (f->session, 987654, MT_FEEDBACK_LIKED, MT_MOOD_HAPPY,
                                              MT_FEEDBACK_ORIGIN_COMPANION, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND);
  g_assert_cmpuint (f->feedback->len, ==, 2);
}

static gboolean
is_second_song (gpointer data)
{
  return mt_player_get_current (data) == 1 && mt_player_get_state (data) == MT_PLAYER_PLAYING;
}

/* With a player: a dislike of the song playing skips it, from wherever it
 * came, and the player's own "skipped" is recorded by the session. */
static void
test_player_feedback (Fixture *f, gconstpointer data)
{
  g_autoptr(MtPlayer) player = mt_player_new ();
  g_autoptr(MtSession) session = NULL;
  g_autoptr(GError) error = NULL;
  const MtSong *playing;
  gint64 id;

  /* Files that play: the fixture's songs point nowhere. */
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("tone%d.ogg", i);
      g_autofree char *path = g_build_filename (f->lib.music, name, NULL);
      g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
      double weights[MT_N_MOODS];

      g_assert_true (mt_test_make_song (path, name, "Tones", NULL, NULL, 4.0, &error));
      id = mt_test_add_song (f->lib.library, uri, name, "Tones", 4000);
      for (int m = 0; m < MT_N_MOODS; m++)
        weights[m] = m == MT_MOOD_SURPRISE ? 1.0 : NAN;
      g_assert_true (mt_library_set_mood_weights (f->lib.library, id, MT_MOOD_SOURCE_RULE, weights, &error));
    }
  g_assert_true (mt_player_set_audio_sink (player, "fakesink sync=true", &error));
  session = mt_session_new (f->lib.library, player);
  g_signal_connect (session, "feedback-recorded", G_CALLBACK (on_feedback_recorded), f);
  mt_session_pick_mood (session, MT_MOOD_SURPRISE);
  wait_for_playlist (session, MT_MOOD_SURPRISE);
  g_assert_cmpuint (mt_player_get_n_songs (player), ==, g_list_model_get_n_items (mt_session_get_playlist (session)));

  mt_player_play (player);
  playing = mt_player_get_current_song (player);
  g_assert_nonnull (playing);
  id = playing->id;
  g_assert_true (mt_session_record_feedback (session, id, MT_FEEDBACK_DISLIKED, MT_MOOD_SURPRISE,
                                             MT_FEEDBACK_ORIGIN_COMPANION, &error));
  g_assert_true (mt_test_wait_cond (is_second_song, player, 5000));
  /* The skip the dislike caused, recorded under the playlist's mood. */
  g_assert_cmpint (mt_library_count_feedback (f->lib.library, id, MT_FEEDBACK_DISLIKED, NULL), ==, 1);
  g_assert_cmpint (mt_library_count_feedback (f->lib.library, id, MT_FEEDBACK_SKIPPED, NULL), ==, 1);
  g_assert_cmpuint (f->feedback->len, ==, 2);
  g_assert_cmpint (g_array_index (f->feedback, MtFeedbackOrigin, 1), ==, MT_FEEDBACK_ORIGIN_DESKTOP);
  mt_player_stop (player);
}

static MtMoodSample
sample_at (double seconds,
           MtMood mood)
{
  MtMoodSample sample = { .time_us = (gint64) (seconds * G_USEC_PER_SEC) + 1000 * G_USEC_PER_SEC, .mood = mood };

  if (mood != MT_MOOD_NONE)
    sample.probabilities[mood] = 0.9f;
  return sample;
}

static void
test_history (void)
{
  g_autoptr(MtMoodHistory) history = mt_mood_history_new ();
  MtMoodSample sample;

  sample = sample_at (0.1, MT_MOOD_HAPPY);
  mt_mood_history_add (history, &sample);
  /* The same second: the newest reading replaces it. */
  sample = sample_at (0.9, MT_MOOD_SAD);
  mt_mood_history_add (history, &sample);
  g_assert_cmpuint (mt_mood_history_get_n (history), ==, 1);
  g_assert_cmpint (mt_mood_history_get (history, 0)->mood, ==, MT_MOOD_SAD);

  /* One a second for twelve minutes: ten are kept, oldest first. */
  for (int s = 1; s < 12 * 60; s++)
    {
      sample = sample_at (s, s % 2 ? MT_MOOD_HAPPY : MT_MOOD_NONE);
      mt_mood_history_add (history, &sample);
    }
  g_assert_cmpuint (mt_mood_history_get_n (history), ==, MT_MOOD_HISTORY_MINUTES * 60 + 1);
  g_assert_cmpint (mt_mood_history_get (history, 0)->time_us, ==, sample_at (2 * 60 - 1, 0).time_us);
  g_assert_cmpint (mt_mood_history_get (history, mt_mood_history_get_n (history) - 1)->mood, ==, MT_MOOD_HAPPY);
  g_assert_cmpfloat (mt_mood_history_get (history, 0)->probabilities[MT_MOOD_HAPPY], ==, 0.9f);

  /* The clock set back: a new history. */
  sample = sample_at (5, MT_MOOD_FEAR);
  mt_mood_history_add (history, &sample);
  g_assert_cmpuint (mt_mood_history_get_n (history), ==, 1);
  g_assert_cmpint (mt_mood_history_get (history, 0)->mood, ==, MT_MOOD_FEAR);
}

static void
test_session_history (Fixture *f, gconstpointer data)
{
  const float fear[MT_N_MOODS] = { 0.05f, 0.02f, 0.80f, 0.03f, 0.04f, 0.03f, 0.03f };
  MtMoodHistory *history = mt_session_get_history (f->session);
  const MtMoodSample *newest;

  g_assert_cmpuint (mt_mood_history_get_n (history), ==, 0);
  feed (f->session, fear, 0, 3.0);
  g_assert_cmpuint (mt_mood_history_get_n (history), >=, 1);
  newest = mt_mood_history_get (history, mt_mood_history_get_n (history) - 1);
  g_assert_cmpint (newest->mood, ==, MT_MOOD_FEAR);
  g_assert_cmpfloat (newest->probabilities[MT_MOOD_FEAR], >, 0.7f);
  g_assert_cmpint (ABS (newest->time_us - g_get_real_time ()), <, 5 * G_USEC_PER_SEC);
  /* The camera going off keeps what was seen. */
  mt_session_reset_readings (f->session);
  g_assert_cmpuint (mt_mood_history_get_n (history), >=, 1);

  /* Ratings are marked on the same time axis, with the song's title. */
  mt_session_pick_mood (f->session, MT_MOOD_HAPPY);
  wait_for_playlist (f->session, MT_MOOD_HAPPY);
  {
    g_autoptr(MtSongItem) item = g_list_model_get_item (mt_session_get_playlist (f->session), 0);
    const MtMoodMark *mark;

    g_assert_true (mt_session_record_feedback (f->session, mt_song_item_get_song (item)->id, MT_FEEDBACK_LIKED,
                                               MT_MOOD_HAPPY, MT_FEEDBACK_ORIGIN_DESKTOP, NULL));
    g_assert_cmpuint (mt_mood_history_get_n_marks (history), ==, 1);
    mark = mt_mood_history_get_mark (history, 0);
    g_assert_cmpint (mark->kind, ==, MT_MOOD_MARK_LIKED);
    g_assert_cmpstr (mark->title, ==, mt_song_item_get_song (item)->title);
  }
}

static void
test_history_summary (void)
{
  g_autoptr(MtMoodHistory) history = mt_mood_history_new ();
  MtMood longest, now;
  gint64 since;
  MtMoodSample sample;

  g_assert_false (mt_mood_history_summarize (history, 5, &longest, &now, &since));
  /* Three minutes happy, then forty seconds sad. */
  for (int s = 0; s < 220; s++)
    {
      sample = sample_at (s, s < 180 ? MT_MOOD_HAPPY : MT_MOOD_SAD);
      mt_mood_history_add (history, &sample);
    }
  g_assert_true (mt_mood_history_summarize (history, 5, &longest, &now, &since));
  g_assert_cmpint (longest, ==, MT_MOOD_HAPPY);
  g_assert_cmpint (now, ==, MT_MOOD_SAD);
  g_assert_cmpint (since, ==, sample_at (180, MT_MOOD_SAD).time_us);
  /* Over the last minute only, sad held longest. */
  g_assert_true (mt_mood_history_summarize (history, 1, &longest, &now, &since));
  g_assert_cmpint (longest, ==, MT_MOOD_SAD);
}

static void
test_kept_history (Fixture *f, gconstpointer data)
{
  const float fear[MT_N_MOODS] = { 0.05f, 0.02f, 0.80f, 0.03f, 0.04f, 0.03f, 0.03f };
  g_autoptr(GArray) minutes = NULL;
  g_autoptr(GError) error = NULL;
  MtMoodMinute bad = { .minute = 5, .mood = MT_MOOD_HAPPY };

  /* Off by default: nothing is stored. */
  feed (f->session, fear, 0, 3.0);
  g_assert_true (mt_session_flush_history (f->session, &error));
  minutes = mt_library_list_mood_minutes (f->lib.library, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (minutes->len, ==, 0);
  g_clear_pointer (&minutes, g_array_unref);

  /* Kept: a row for the minute, with the mood seen most and the mean
   * smoothed probabilities. */
  mt_session_set_keep_history (f->session, TRUE);
  feed (f->session, fear, 3 * G_USEC_PER_SEC, 3.0);
  g_assert_true (mt_session_flush_history (f->session, &error));
  minutes = mt_library_list_mood_minutes (f->lib.library, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (minutes->len, >=, 1);
  g_assert_cmpint (g_array_index (minutes, MtMoodMinute, minutes->len - 1).mood, ==, MT_MOOD_FEAR);
  g_assert_cmpfloat (g_array_index (minutes, MtMoodMinute, minutes->len - 1).probabilities[MT_MOOD_FEAR], >, 0.6f);
  g_assert_cmpint (ABS (g_array_index (minutes, MtMoodMinute, 0).minute - g_get_real_time () / (60 * G_USEC_PER_SEC)),
                   <=, 1);
  g_clear_pointer (&minutes, g_array_unref);

  /* Deleted: gone. */
  g_assert_true (mt_session_delete_history (f->session, &error));
  minutes = mt_library_list_mood_minutes (f->lib.library, 0, &error);
  g_assert_cmpuint (minutes->len, ==, 0);

  /* The store refuses what is not a mood or a probability. */
  bad.probabilities[MT_MOOD_HAPPY] = 1.5f;
  g_assert_false (mt_library_add_mood_minute (f->lib.library, &bad, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID);
  g_clear_error (&error);
  bad.probabilities[MT_MOOD_HAPPY] = NAN;
  g_assert_false (mt_library_add_mood_minute (f->lib.library, &bad, &error));
  g_clear_error (&error);
  bad.probabilities[MT_MOOD_HAPPY] = 0.5f;
  bad.mood = 17;
  g_assert_false (mt_library_add_mood_minute (f->lib.library, &bad, &error));
  g_clear_error (&error);
}

static void
test_no_library (void)
{
  g_autoptr(MtSession) session = mt_session_new (NULL, NULL);
  g_autoptr(GError) error = NULL;

  mt_session_refresh_playlist (session, TRUE);
  g_assert_cmpint (mt_session_get_playlist_status (session), ==, MT_PLAYLIST_STATUS_UNAVAILABLE);
  g_assert_nonnull (mt_session_get_playlist_error (session));
  g_assert_false (mt_session_record_feedback (session, 1, MT_FEEDBACK_LIKED, MT_MOOD_HAPPY,
                                              MT_FEEDBACK_ORIGIN_DESKTOP, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/session/mood-drives-playlist", test_mood_drives_playlist);
  ADD ("/session/recommend-same-as-playlist", test_recommend_same_as_playlist);
  ADD ("/session/library-change-reranks", test_library_change_reranks);
  ADD ("/session/feedback-one-path", test_feedback_one_path);
  ADD ("/session/player-feedback", test_player_feedback);
  ADD ("/session/history-in-session", test_session_history);
  ADD ("/session/kept-history", test_kept_history);
#undef ADD
  g_test_add_func ("/session/history", test_history);
  g_test_add_func ("/session/history-summary", test_history_summary);
  g_test_add_func ("/session/no-library", test_no_library);
  return g_test_run ();
}
