/* Playback with a fake audio sink: advancing, feedback, broken files, controls,
 * the state and current-song properties. */
#include "config.h"

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "mt-library.h"
#include "mt-player.h"
#include "mt-test-music.h"
#include "mt-test-support.h"

typedef struct {
  char      *dir;
  MtLibrary *library;
  MtPlayer  *player;
  GPtrArray *songs;       /* the playlist */
  GArray    *tracks;      /* track-changed indices */
  GString   *feedback;    /* "0:played 1:skipped " */
  GString   *unplayable;  /* "2 3 " */
  gboolean   finished;
  /* notify::state / notify::current-song / notify::n-songs, with what the
   * property read back in the handler */
  guint      state_notifies;
  guint      song_notifies;
  guint      n_songs_notifies;
  int        seen_state;
  gint64     seen_song;   /* its id, -1: none */
} Fixture;

static void
on_track_changed (MtPlayer *player, int index, Fixture *f)
{
  g_array_append_val (f->tracks, index);
}

static void
on_feedback (MtPlayer *player, const MtSong *song, int feedback, Fixture *f)
{
  g_string_append_printf (f->feedback, "%d:%s ", mt_player_get_current (player), mt_feedback_to_string (feedback));
}

static void
on_unplayable (MtPlayer *player, const MtSong *song, const char *message, Fixture *f)
{
  g_test_message ("unplayable %s: %s", song->uri, message);
  g_string_append_printf (f->unplayable, "%d ", mt_player_get_current (player));
}

static void
on_finished (MtPlayer *player, Fixture *f)
{
  f->finished = TRUE;
}

static void
on_notify (MtPlayer *player, GParamSpec *pspec, Fixture *f)
{
  if (g_str_equal (pspec->name, "state"))
    {
      MtPlayerState state;

      g_object_get (player, "state", &state, NULL);
      g_assert_cmpint (state, ==, mt_player_get_state (player));
      f->seen_state = state;
      f->state_notifies++;
    }
  else if (g_str_equal (pspec->name, "current-song"))
    {
      g_autoptr(MtSong) song = NULL;

      g_object_get (player, "current-song", &song, NULL);
      g_assert_true ((song == NULL) == (mt_player_get_current_song (player) == NULL));
      f->seen_song = song != NULL ? song->id : -1;
      f->song_notifies++;
    }
  else if (g_str_equal (pspec->name, "n-songs"))
    f->n_songs_notifies++;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = mt_test_make_temp_dir ();
  f->library = mt_test_open_library (f->dir);
  f->player = mt_player_new ();
  f->songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_song_free);
  f->tracks = g_array_new (FALSE, FALSE, sizeof (int));
  f->feedback = g_string_new (NULL);
  f->unplayable = g_string_new (NULL);
  g_signal_connect (f->player, "track-changed", G_CALLBACK (on_track_changed), f);
  g_signal_connect (f->player, "feedback", G_CALLBACK (on_feedback), f);
  g_signal_connect (f->player, "unplayable", G_CALLBACK (on_unplayable), f);
  g_signal_connect (f->player, "finished", G_CALLBACK (on_finished), f);
  g_signal_connect (f->player, "notify", G_CALLBACK (on_notify), f);
  f->seen_state = -1;
  f->seen_song = -1;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->player);
  g_clear_object (&f->library);
  g_ptr_array_unref (f->songs);
  g_array_unref (f->tracks);
  g_string_free (f->feedback, TRUE);
  g_string_free (f->unplayable, TRUE);
  mt_test_rmdir (f->dir);
  g_free (f->dir);
}

/* Adds a song to the library and the playlist; @seconds < 0 leaves the file
 * as is (broken files made by the caller). */
static void
add_song (Fixture *f, const char *name, double seconds)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);

  if (seconds > 0)
    {
      mt_test_make_song (path, name, "Player Test", NULL, NULL, seconds, &error);
      g_assert_no_error (error);
    }
  g_ptr_array_add (f->songs, mt_test_add_song_full (f->library, uri, name, NULL,
                                                    seconds > 0 ? (gint64) (seconds * 1000) : 0));
}

typedef gboolean (*Condition) (Fixture *f);

typedef struct {
  Fixture   *f;
  Condition  condition;
} Wait;

static gboolean
wait_holds (gpointer data)
{
  Wait *wait = data;

  return wait->condition (wait->f);
}

static gboolean
wait_for (Fixture *f, Condition condition, guint timeout_ms)
{
  Wait wait = { f, condition };

  return mt_test_wait_cond (wait_holds, &wait, timeout_ms);
}

static gboolean is_finished (Fixture *f) { return f->finished; }

static gboolean
is_past_300ms (Fixture *f)
{
  return mt_player_get_position (f->player) > 300;
}

static gboolean
is_past_1800ms (Fixture *f)
{
  return mt_player_get_position (f->player) > 1800;
}

static void
test_plays_through (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  add_song (f, "one.ogg", 0.5);
  add_song (f, "two.ogg", 0.5);
  add_song (f, "three.ogg", 0.5);
  g_assert_true (mt_player_set_audio_sink (f->player, "fakesink sync=false", &error));
  mt_player_set_playlist (f->player, f->songs);
  g_assert_cmpuint (mt_player_get_n_songs (f->player), ==, 3);

  mt_player_play (f->player);
  g_assert_cmpint (mt_player_get_state (f->player), ==, MT_PLAYER_PLAYING);
  g_assert_true (wait_for (f, is_finished, 20000));

  g_assert_cmpstr (f->feedback->str, ==, "0:played 1:played 2:played ");
  g_assert_cmpuint (f->tracks->len, ==, 4);
  g_assert_cmpint (g_array_index (f->tracks, int, 0), ==, 0);
  g_assert_cmpint (g_array_index (f->tracks, int, 2), ==, 2);
  g_assert_cmpint (g_array_index (f->tracks, int, 3), ==, -1);
  g_assert_cmpint (mt_player_get_state (f->player), ==, MT_PLAYER_STOPPED);
  g_assert_cmpstr (f->unplayable->str, ==, "");

  /* The player only reports: recording is its owner's (MtSession's). */
  for (guint i = 0; i < f->songs->len; i++)
    {
      g_autoptr(MtSong) song = mt_library_get_song (f->library, ((MtSong *) f->songs->pdata[i])->id, &error);

      g_assert_cmpint (song->play_count, ==, 0);
      g_assert_cmpint (mt_library_count_feedback (f->library, song->id, MT_FEEDBACK_PLAYED, NULL), ==, 0);
    }
}

static void
test_unplayable_skipped (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *zero = g_build_filename (f->dir, "zero.ogg", NULL);
  g_autofree char *text = g_build_filename (f->dir, "text.mp3", NULL);
  gint64 start;

  add_song (f, "good1.ogg", 0.3);
  g_assert_true (g_file_set_contents (zero, "", 0, NULL));
  add_song (f, "zero.ogg", -1);
  g_assert_true (g_file_set_contents (text, "no music here\n", -1, NULL));
  add_song (f, "text.mp3", -1);
  add_song (f, "missing.ogg", -1);
  add_song (f, "good2.ogg", 0.3);

  g_assert_true (mt_player_set_audio_sink (f->player, "fakesink sync=false", &error));
  mt_player_set_playlist (f->player, f->songs);
  start = g_get_monotonic_time ();
  mt_player_play (f->player);
  g_assert_true (wait_for (f, is_finished, 20000));

  g_assert_cmpstr (f->unplayable->str, ==, "1 2 3 ");
  g_assert_cmpstr (f->feedback->str, ==, "0:played 4:played ");
  /* Broken files fail fast; the start watchdog (10 s) was never needed. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 8 * G_USEC_PER_SEC);
}

static void
test_controls_and_skip (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 position;

  add_song (f, "first.ogg", 3.0);
  add_song (f, "second.ogg", 3.0);
  /* A clocked sink: playback runs in real time, as with speakers. */
  g_assert_true (mt_player_set_audio_sink (f->player, "fakesink sync=true", &error));
  mt_player_set_playlist (f->player, f->songs);

  mt_player_play (f->player);
  g_assert_true (wait_for (f, is_past_300ms, 5000));

  mt_player_set_volume (f->player, 0.3);
  g_assert_cmpfloat_with_epsilon (mt_player_get_volume (f->player), 0.3, 1e-6);
  mt_player_set_volume (f->player, 7.0);
  g_assert_cmpfloat_with_epsilon (mt_player_get_volume (f->player), 1.0, 1e-6);

  mt_player_pause (f->player);
  g_assert_cmpint (mt_player_get_state (f->player), ==, MT_PLAYER_PAUSED);
  position = mt_player_get_position (f->player);
  g_usleep (300000);
  g_assert_cmpint (mt_player_get_position (f->player) - position, <, 100);
  mt_player_play (f->player);
  g_assert_cmpint (mt_player_get_state (f->player), ==, MT_PLAYER_PLAYING);

  /* Skipping before half: "skipped". */
  mt_player_next (f->player);
  g_assert_cmpstr (f->feedback->str, ==, "0:skipped ");
  g_assert_cmpint (mt_player_get_current (f->player), ==, 1);
  g_assert_true (wait_for (f, is_past_300ms, 5000));

  /* Early in a song, previous goes to the song before. */
  mt_player_previous (f->player);
  g_assert_cmpint (mt_player_get_current (f->player), ==, 0);
  g_assert_true (wait_for (f, is_past_300ms, 5000));

  /* Seek past half, then next: that counts as played. */
  g_assert_true (mt_player_seek (f->player, 2000));
  g_assert_true (wait_for (f, is_past_1800ms, 1000));
  mt_player_next (f->player);
  g_assert_cmpstr (f->feedback->str, ==, "0:skipped 0:played ");

  mt_player_stop (f->player);
  g_assert_cmpint (mt_player_get_state (f->player), ==, MT_PLAYER_STOPPED);
  g_assert_cmpint (mt_player_get_current (f->player), ==, -1);
  g_assert_cmpint (mt_player_get_position (f->player), ==, -1);
  g_assert_false (f->finished);
}

/* Each step notifies what it changed, once, and nothing else. */
#define ASSERT_NOTIFIES(f, states, songs) G_STMT_START {                  \
    g_assert_cmpuint ((f)->state_notifies, ==, (states));                \
    g_assert_cmpuint ((f)->song_notifies, ==, (songs));                  \
    (f)->state_notifies = (f)->song_notifies = 0;                        \
  } G_STMT_END

static gint64
song_id (Fixture *f, guint index)
{
  return ((MtSong *) g_ptr_array_index (f->songs, index))->id;
}

static void
test_properties (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  MtPlayerState state = MT_PLAYER_PLAYING;
  MtSong *song = NULL;
  guint n_songs = 0;

  add_song (f, "a.ogg", 2.0);
  add_song (f, "b.ogg", 2.0);
  g_assert_true (mt_player_set_audio_sink (f->player, "fakesink sync=true", &error));
  g_object_get (f->player, "state", &state, "current-song", &song, NULL);
  g_assert_cmpint (state, ==, MT_PLAYER_STOPPED);
  g_assert_null (song);

  mt_player_set_playlist (f->player, f->songs);
  ASSERT_NOTIFIES (f, 0, 0);
  g_assert_cmpuint (f->n_songs_notifies, ==, 1);
  g_object_get (f->player, "n-songs", &n_songs, NULL);
  g_assert_cmpuint (n_songs, ==, 2);

  mt_player_play (f->player);
  ASSERT_NOTIFIES (f, 1, 1);
  g_assert_cmpint (f->seen_state, ==, MT_PLAYER_PLAYING);
  g_assert_cmpint (f->seen_song, ==, song_id (f, 0));
  mt_player_play (f->player);
  ASSERT_NOTIFIES (f, 0, 0);
  g_assert_true (wait_for (f, is_past_300ms, 5000));

  mt_player_pause (f->player);
  ASSERT_NOTIFIES (f, 1, 0);
  g_assert_cmpint (f->seen_state, ==, MT_PLAYER_PAUSED);
  mt_player_pause (f->player);
  ASSERT_NOTIFIES (f, 0, 0);
  mt_player_play (f->player);
  ASSERT_NOTIFIES (f, 1, 0);
  g_assert_cmpint (f->seen_state, ==, MT_PLAYER_PLAYING);

  /* Another song, still playing. */
  mt_player_next (f->player);
  ASSERT_NOTIFIES (f, 0, 1);
  g_assert_cmpint (f->seen_song, ==, song_id (f, 1));
  g_object_get (f->player, "current-song", &song, NULL);
  g_assert_cmpint (song->id, ==, song_id (f, 1));
  g_clear_pointer (&song, mt_song_free);

  mt_player_stop (f->player);
  ASSERT_NOTIFIES (f, 1, 1);
  g_assert_cmpint (f->seen_state, ==, MT_PLAYER_STOPPED);
  g_assert_cmpint (f->seen_song, ==, -1);
  mt_player_stop (f->player);
  ASSERT_NOTIFIES (f, 0, 0);

  /* To the end of the playlist: playing, the next song, then stopped with
   * no song. */
  g_assert_true (mt_player_set_audio_sink (f->player, "fakesink sync=false", &error));
  mt_player_play (f->player);
  g_assert_true (wait_for (f, is_finished, 20000));
  g_assert_cmpuint (f->state_notifies, ==, 2);
  g_assert_cmpuint (f->song_notifies, ==, 3);
  g_assert_cmpint (f->seen_state, ==, MT_PLAYER_STOPPED);
  g_assert_cmpint (f->seen_song, ==, -1);
  f->state_notifies = f->song_notifies = 0;

  /* A new playlist of another length; an empty one. */
  mt_player_set_playlist (f->player, NULL);
  ASSERT_NOTIFIES (f, 0, 0);
  g_assert_cmpuint (f->n_songs_notifies, ==, 2);
  g_assert_cmpuint (mt_player_get_n_songs (f->player), ==, 0);
}

static void
test_bad_sink (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (mt_player_set_audio_sink (f->player, "no-such-sink-element", &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "no-such-sink-element"));
  /* nothing to play: play does nothing, no crash */
  mt_player_play (f->player);
  g_assert_cmpint (mt_player_get_state (f->player), ==, MT_PLAYER_STOPPED);
  mt_player_next (f->player);
  mt_player_previous (f->player);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/player/plays-through", test_plays_through);
  ADD ("/player/unplayable-skipped", test_unplayable_skipped);
  ADD ("/player/controls-and-skip", test_controls_and_skip);
  ADD ("/player/properties", test_properties);
  ADD ("/player/bad-sink", test_bad_sink);
#undef ADD

  return g_test_run ();
}
