/* Analysing a library's sound: every song once, louder and denser reads as
 * more energetic, incremental runs, a new mapping without decoding, hostile
 * files and a crashing helper, cancellation, and a kill in the middle. */
#include "config.h"

#include <math.h>
#include <string.h>
#include <utime.h>
#include <glib/gstdio.h>

#include "mt-audio-features.h"
#include "mt-library.h"
#include "mt-library-analyzer.h"
#include "mt-library-importer.h"
#include "mt-test-music.h"

/* Seconds of each generated sound: above the analyzer's 3 s minimum, short
 * enough for a loaded machine. */
#define SOUND_S 6.0

typedef MtTestLibrary Fixture;

static char *
make_sound (Fixture *f, const char *name, const char *wave, double volume, double seconds)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (f->music, name, NULL);

  mt_test_make_sound (path, NULL, wave, volume, seconds, &error);
  g_assert_no_error (error);
  return path;
}

/* song-00.ogg …: @n short sounds, sines and noises, each louder. */
static void
make_numbered_sounds (Fixture *f, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("song-%02u.ogg", i);
      g_free (make_sound (f, name, i % 2 ? "pink-noise" : "sine", 0.05 + 0.04 * i, 4.0));
    }
}

/* A loud noise burst (dense, energetic) and a quiet sine (calm). */
static void
make_loud_and_quiet (Fixture *f)
{
  g_free (make_sound (f, "loud.ogg", "white-noise", 0.9, SOUND_S));
  g_free (make_sound (f, "quiet.ogg", "sine", 0.05, SOUND_S));
}

static MtImportReport *
import_music (Fixture *f)
{
  return mt_test_import (f->library, f->music, 0);
}

static MtAnalysisReport *
analyse (Fixture *f, guint n_jobs)
{
  g_autoptr(MtLibraryAnalyzer) analyzer = mt_library_analyzer_new (f->library);
  g_autoptr(GError) error = NULL;
  MtAnalysisReport *report;

  mt_library_analyzer_set_n_jobs (analyzer, n_jobs);
  report = mt_library_analyzer_run (analyzer, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  return report;
}

/* The song of f->music/@name. */
static MtSong *
song_named (Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename (f->music, name, NULL);
  MtSong *song = mt_test_find_song (f->library, path);

  g_assert_nonnull (song);
  return song;
}

static void
assert_counts (Fixture *f, gint64 analysed, gint64 failed, gint64 pending)
{
  gint64 a = -1, b = -1, c = -1;
  g_autoptr(GError) error = NULL;

  g_assert_true (mt_library_count_audio (f->library, MT_AUDIO_FEATURES_VERSION, &a, &b, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpint (a, ==, analysed);
  g_assert_cmpint (b, ==, failed);
  g_assert_cmpint (c, ==, pending);
}

static double
moods_distance (const MtSong *a, const MtSong *b)
{
  double d = 0;

  for (int m = 0; m < MT_N_MOODS; m++)
    d += fabs (a->moods[m] - b->moods[m]);
  return d;
}

typedef struct {
  guint            n;
  MtAnalysisReport last;
} Progress;

static void
count_progress (MtLibraryAnalyzer *analyzer, const MtAnalysisReport *report, gpointer data)
{
  Progress *progress = data;

  g_assert_null (report->failures);
  g_assert_cmpuint (report->analysed + report->failed, <=, report->total);
  progress->n++;
  progress->last = *report;
}

static void
test_analyse (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) imported = NULL;
  g_autoptr(MtLibraryAnalyzer) analyzer = mt_library_analyzer_new (f->library);
  g_autoptr(MtAnalysisReport) report = NULL;
  g_autoptr(MtSong) loud_tags = NULL;
  g_autoptr(MtSong) quiet_tags = NULL;
  g_autoptr(MtSong) loud = NULL;
  g_autoptr(MtSong) quiet = NULL;
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(GError) error = NULL;
  Progress progress = { 0 };
  gint64 start;
  double seconds;

  make_loud_and_quiet (f);
  g_free (make_sound (f, "middle.ogg", "pink-noise", 0.3, SOUND_S));
  imported = import_music (f);
  g_assert_cmpuint (imported->imported, ==, 3);
  assert_counts (f, 0, 0, 3);
  loud_tags = song_named (f, "loud.ogg");
  quiet_tags = song_named (f, "quiet.ogg");
  g_assert_true (isnan (loud_tags->valence) && isnan (loud_tags->arousal));
  g_assert_true (isnan (loud_tags->tempo) && isnan (loud_tags->loudness));

  mt_library_analyzer_set_n_jobs (analyzer, 2);
  g_signal_connect (analyzer, "progress", G_CALLBACK (count_progress), &progress);
  start = g_get_monotonic_time ();
  report = mt_library_analyzer_run (analyzer, NULL, &error);
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_assert_no_error (error);
  g_test_message ("3 songs of %.0f s analysed in %.2f s (2 jobs): %.1f songs/s", SOUND_S, seconds,
                  3 / seconds);
  g_assert_cmpuint (report->total, ==, 3);
  g_assert_cmpuint (report->analysed, ==, 3);
  g_assert_cmpuint (report->failed, ==, 0);
  g_assert_cmpuint (report->failures->len, ==, 0);
  g_assert_false (report->cancelled);
  /* When the songs are known, after each, at the end. */
  g_assert_cmpuint (progress.n, ==, 5);
  g_assert_cmpuint (progress.last.analysed, ==, 3);
  assert_counts (f, 3, 0, 0);

  songs = mt_library_list_songs (f->library, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < songs->len; i++)
    {
      MtSong *song = g_ptr_array_index (songs, i);
      MtAudioState state = MT_AUDIO_STATE_NONE;
      g_autofree char *reason = NULL;

      g_test_message ("%s: valence %.3f, arousal %.3f, %.1f BPM, %.1f LUFS", song->uri, song->valence,
                      song->arousal, song->tempo, song->loudness);
      g_assert_true (isfinite (song->valence) && isfinite (song->arousal));
      g_assert_cmpfloat (song->valence, >=, -1.0);
      g_assert_cmpfloat (song->valence, <=, 1.0);
      g_assert_cmpfloat (song->arousal, >=, -1.0);
      g_assert_cmpfloat (song->arousal, <=, 1.0);
      g_assert_true (isfinite (song->tempo) && song->tempo >= 0);
      g_assert_true (isfinite (song->loudness));
      g_assert_true (mt_library_get_audio_state (f->library, song->id, &state, &reason, &error));
      g_assert_no_error (error);
      g_assert_cmpint (state, ==, MT_AUDIO_STATE_ANALYSED);
      g_assert_null (reason);
    }
  loud = song_named (f, "loud.ogg");
  quiet = song_named (f, "quiet.ogg");
  g_assert_cmpfloat (loud->loudness, >, quiet->loudness + 10);
  g_assert_cmpfloat (loud->arousal, >, quiet->arousal + 0.5);
  /* The sound now carries the weights, not the tags alone. */
  g_assert_cmpfloat (moods_distance (loud, loud_tags), >, 0.05);
  g_assert_cmpfloat (moods_distance (quiet, quiet_tags), >, 0.05);
  g_assert_cmpfloat (moods_distance (loud, quiet), >, 0.05);
}

static void
test_incremental (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) imported = NULL;
  g_autoptr(MtImportReport) rescanned = NULL;
  g_autoptr(MtAnalysisReport) first = NULL;
  g_autoptr(MtAnalysisReport) again = NULL;
  g_autoptr(MtAnalysisReport) changed = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(MtSong) before = NULL;
  g_autoptr(MtSong) after = NULL;
  g_autofree char *quiet = g_build_filename (f->music, "quiet.ogg", NULL);
  g_autoptr(GError) error = NULL;
  struct utimbuf times;
  GStatBuf st;

  make_loud_and_quiet (f);
  imported = import_music (f);
  first = analyse (f, 2);
  g_assert_cmpuint (first->analysed, ==, 2);
  before = song_named (f, "quiet.ogg");

  /* Nothing changed: nothing decoded, nothing rescored. */
  again = analyse (f, 2);
  g_assert_cmpuint (again->total, ==, 0);
  g_assert_cmpuint (again->analysed, ==, 0);
  g_assert_cmpuint (again->rescored, ==, 0);

  /* A file touched (as a tag editor would): that one again, only it. */
  g_assert_cmpint (g_stat (quiet, &st), ==, 0);
  times.actime = st.st_atime;
  times.modtime = st.st_mtime + 60;
  g_assert_cmpint (g_utime (quiet, &times), ==, 0);
  rescanned = import_music (f);
  g_assert_cmpuint (rescanned->updated, ==, 1);
  pending = mt_library_list_audio_pending (f->library, MT_AUDIO_FEATURES_VERSION, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pending->len, ==, 1);
  g_assert_cmpint (((MtSong *) g_ptr_array_index (pending, 0))->id, ==, before->id);
  assert_counts (f, 1, 0, 1);

  changed = analyse (f, 2);
  g_assert_cmpuint (changed->total, ==, 1);
  g_assert_cmpuint (changed->analysed, ==, 1);
  assert_counts (f, 2, 0, 0);
  /* The same sound reads the same. */
  after = song_named (f, "quiet.ogg");
  g_assert_cmpfloat_with_epsilon (after->arousal, before->arousal, 1e-9);
  g_assert_cmpfloat_with_epsilon (after->valence, before->valence, 1e-9);
}

/* A retuned mapping (or model) derives every song's weights again from the
 * stored descriptors: nothing is decoded. */
static void
test_new_mapping (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) imported = NULL;
  g_autoptr(MtAnalysisReport) first = NULL;
  g_autoptr(MtAnalysisReport) rescored = NULL;
  g_autoptr(MtAnalysisReport) again = NULL;
  g_autoptr(MtLibraryAnalyzer) analyzer = NULL;
  g_autoptr(MtAudioMoodModel) model = NULL;
  g_autoptr(MtAudioMoods) moods = NULL;
  g_autoptr(MtSong) loud_before = NULL;
  g_autoptr(MtSong) loud_after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *shipped = g_build_filename (g_getenv ("MT_DATA_DIR"), MT_AUDIO_MOODS_FILE, NULL);
  g_autofree char *retuned = g_build_filename (f->dir, MT_AUDIO_MOODS_FILE, NULL);
  g_autofree char *text = NULL;

  make_loud_and_quiet (f);
  g_free (make_sound (f, "middle.ogg", "pink-noise", 0.3, SOUND_S));
  imported = import_music (f);
  first = analyse (f, 2);
  g_assert_cmpuint (first->analysed, ==, 3);
  g_assert_cmpuint (first->rescored, ==, 0);
  loud_before = song_named (f, "loud.ogg");

  /* The shipped mapping with every mood half as wide. */
  g_assert_true (g_file_get_contents (shipped, &text, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    g_autoptr(JsonGenerator) generator = json_generator_new ();
    JsonObject *moods_object;
    g_autoptr(GList) names = NULL;

    g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
    g_assert_no_error (error);
    moods_object = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "moods");
    names = json_object_get_members (moods_object);
    for (GList *l = names; l != NULL; l = l->next)
      {
        JsonObject *mood = json_object_get_object_member (moods_object, l->data);
        json_object_set_double_member (mood, "sigma", json_object_get_double_member (mood, "sigma") / 2);
      }
    json_generator_set_root (generator, json_parser_get_root (parser));
    g_assert_true (json_generator_to_file (generator, retuned, &error));
    g_assert_no_error (error);
  }
  moods = mt_audio_moods_new_from_file (retuned, &error);
  g_assert_no_error (error);
  model = mt_audio_mood_model_new_default (&error);
  g_assert_no_error (error);

  analyzer = mt_library_analyzer_new (f->library);
  mt_library_analyzer_set_model (analyzer, model, moods);
  rescored = mt_library_analyzer_run (analyzer, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rescored->rescored, ==, 3);
  g_assert_cmpuint (rescored->total, ==, 0);
  g_assert_cmpuint (rescored->analysed, ==, 0);
  assert_counts (f, 3, 0, 0);
  loud_after = song_named (f, "loud.ogg");
  /* The same point on the plane, other weights. */
  g_assert_cmpfloat_with_epsilon (loud_after->arousal, loud_before->arousal, 1e-9);
  g_assert_cmpfloat (moods_distance (loud_after, loud_before), >, 0.01);

  again = mt_library_analyzer_run (analyzer, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->rescored, ==, 0);
  g_assert_cmpuint (again->total, ==, 0);
}

/* Adds a song for @path as the importer would, without reading it (the
 * tag reader skips files it cannot read, so they never get this far). */
static gint64
add_unread_song (Fixture *f, const char *path)
{
  g_autoptr(MtSong) song = mt_song_new ();
  g_autoptr(GError) error = NULL;
  GStatBuf st;
  gint64 id;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  song->uri = g_filename_to_uri (path, NULL, &error);
  g_assert_no_error (error);
  song->size = st.st_size;
  song->mtime = st.st_mtime;
  id = mt_library_add_song (f->library, song, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static void
assert_failed (Fixture *f, const char *name, const char *expect)
{
  g_autoptr(MtSong) song = song_named (f, name);
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = mt_library_get_audio_failure (f->library, song->id, &error);

  g_assert_no_error (error);
  g_test_message ("%s: %s", name, reason);
  g_assert_nonnull (reason);
  g_assert_nonnull (strstr (reason, expect));
  g_assert_true (isnan (song->valence) && isnan (song->arousal));
}

static void
test_hostile_files (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) imported = NULL;
  g_autoptr(MtAnalysisReport) report = NULL;
  g_autoptr(MtAnalysisReport) again = NULL;
  g_autofree char *zero = g_build_filename (f->music, "zero.ogg", NULL);
  g_autofree char *text = g_build_filename (f->music, "text.mp3", NULL);
  g_autofree char *gone = NULL;
  g_autoptr(MtSong) good = NULL;

  g_free (make_sound (f, "good.ogg", "pink-noise", 0.5, SOUND_S));
  g_free (make_sound (f, "crashme.ogg", "pink-noise", 0.5, SOUND_S));
  g_free (make_sound (f, "short.ogg", "sine", 0.5, 1.0));
  gone = make_sound (f, "gone.ogg", "sine", 0.5, SOUND_S);
  g_assert_true (g_file_set_contents (zero, "", 0, NULL));
  g_assert_true (g_file_set_contents (text, "Just some words, not a song.\n", -1, NULL));
  imported = import_music (f);
  g_assert_cmpuint (imported->imported, ==, 4);
  g_assert_cmpuint (imported->skipped, ==, 2);
  add_unread_song (f, zero);
  add_unread_song (f, text);
  /* Unplugged, say, after the import: not the file's fault. */
  g_assert_cmpint (g_unlink (gone), ==, 0);
  assert_counts (f, 0, 0, 6);

  /* The helper aborts on this file, as a crashing demuxer would. */
  g_setenv ("MT_AUDIO_ANALYZER_CRASH_ON", "crashme", TRUE);
  report = analyse (f, 2);
  g_unsetenv ("MT_AUDIO_ANALYZER_CRASH_ON");
  for (guint i = 0; i < report->failures->len; i++)
    {
      MtImportSkip *failure = g_ptr_array_index (report->failures, i);
      g_test_message ("failed %s: %s", failure->path, failure->reason);
      g_assert_true (g_str_has_prefix (failure->path, f->music));
      g_assert_cmpstr (failure->reason, !=, "");
    }
  g_assert_cmpuint (report->total, ==, 6);
  g_assert_cmpuint (report->analysed, ==, 1);
  g_assert_cmpuint (report->failed, ==, 5);
  g_assert_cmpuint (report->failures->len, ==, 5);
  g_assert_cmpuint (report->helper_restarts, >=, 1);
  /* The one gone waits for its file. */
  assert_counts (f, 1, 4, 1);
  good = song_named (f, "good.ogg");
  g_assert_true (isfinite (good->arousal));
  assert_failed (f, "short.ogg", "too short");
  assert_failed (f, "crashme.ogg", "crash");
  assert_failed (f, "zero.ogg", "");
  assert_failed (f, "text.mp3", "");

  {
    g_autoptr(MtSong) song = song_named (f, "gone.ogg");
    g_autofree char *reason = mt_library_get_audio_failure (f->library, song->id, NULL);

    g_assert_null (reason);
  }

  /* They would fail again: not tried until they change.  The one gone is
   * tried again, once it is back. */
  again = analyse (f, 2);
  g_assert_cmpuint (again->total, ==, 1);
  g_assert_cmpuint (again->failed, ==, 1);
  g_assert_nonnull (strstr (((MtImportSkip *) g_ptr_array_index (again->failures, 0))->reason, "not there"));
  assert_counts (f, 1, 4, 1);
}

typedef struct {
  GMainLoop        *loop;
  GCancellable     *cancellable;
  GThread          *main_thread;
  guint             n_progress;
  MtAnalysisReport *report;
  GError           *error;
} AsyncState;

static void
cancel_after_first (MtLibraryAnalyzer *analyzer, const MtAnalysisReport *report, gpointer data)
{
  AsyncState *state = data;

  g_assert_true (g_thread_self () == state->main_thread);
  state->n_progress++;
  if (report->analysed >= 1)
    g_cancellable_cancel (state->cancellable);
}

static void
on_analysed (GObject *source, GAsyncResult *result, gpointer data)
{
  AsyncState *state = data;

  state->report = mt_library_analyzer_run_finish (MT_LIBRARY_ANALYZER (source), result, &state->error);
  g_main_loop_quit (state->loop);
}

#define N_CANCEL_SONGS 8

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) imported = NULL;
  g_autoptr(MtLibraryAnalyzer) analyzer = mt_library_analyzer_new (f->library);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(MtAnalysisReport) stopped = NULL;
  g_autoptr(MtAnalysisReport) rest = NULL;
  AsyncState state = { loop, cancellable, g_thread_self (), 0, NULL, NULL };
  gint64 analysed = -1;

  make_numbered_sounds (f, N_CANCEL_SONGS);
  imported = import_music (f);
  g_assert_cmpuint (imported->imported, ==, N_CANCEL_SONGS);

  mt_library_analyzer_set_n_jobs (analyzer, 1);
  g_signal_connect (analyzer, "progress", G_CALLBACK (cancel_after_first), &state);
  mt_library_analyzer_run_async (analyzer, cancellable, on_analysed, &state);
  g_main_loop_run (loop);
  g_assert_no_error (state.error);
  stopped = g_steal_pointer (&state.report);
  g_assert_nonnull (stopped);
  g_test_message ("%u of %u songs analysed before the cancel took", stopped->analysed, stopped->total);
  g_assert_true (stopped->cancelled);
  g_assert_cmpuint (stopped->total, ==, N_CANCEL_SONGS);
  g_assert_cmpuint (stopped->analysed, >=, 1);
  g_assert_cmpuint (stopped->analysed, <, N_CANCEL_SONGS);
  g_assert_cmpuint (state.n_progress, >=, 2);
  /* What was done stays done. */
  g_assert_true (mt_library_count_audio (f->library, MT_AUDIO_FEATURES_VERSION, &analysed, NULL, NULL, NULL));
  g_assert_cmpint (analysed, ==, stopped->analysed);

  /* The next run does the rest, and only the rest. */
  g_signal_handlers_disconnect_by_data (analyzer, &state);
  g_cancellable_reset (cancellable);
  mt_library_analyzer_run_async (analyzer, cancellable, on_analysed, &state);
  g_main_loop_run (loop);
  g_assert_no_error (state.error);
  rest = g_steal_pointer (&state.report);
  g_assert_false (rest->cancelled);
  g_assert_cmpuint (rest->total, ==, N_CANCEL_SONGS - stopped->analysed);
  g_assert_cmpuint (rest->analysed, ==, rest->total);
  assert_counts (f, N_CANCEL_SONGS, 0, 0);
}

#define N_KILL_SONGS 20

/* moodtunes-library analyze killed (no chance to clean up) after a few
 * songs: the library is consistent, and the next run does only the rest. */
static void
test_killed_analysis (Fixture *f, gconstpointer data)
{
  g_autofree char *cli = mt_test_find_cli ();
  g_autoptr(MtImportReport) imported = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(MtLibrary) reopened = NULL;
  g_autoptr(MtAnalysisReport) rest = NULL;
  g_autoptr(GError) error = NULL;
  gint64 analysed = 0, failed = -1, pending = -1;
  gint64 deadline;

  make_numbered_sounds (f, N_KILL_SONGS);
  imported = import_music (f);
  g_assert_cmpuint (imported->imported, ==, N_KILL_SONGS);

  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                            cli, "--db", mt_library_get_path (f->library), "analyze", "--jobs", "1", NULL);
  g_assert_no_error (error);
  /* Killed once a few songs are committed. */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (analysed < 3 && g_get_monotonic_time () < deadline)
    {
      g_usleep (10000);
      g_assert_true (mt_library_count_audio (f->library, MT_AUDIO_FEATURES_VERSION, &analysed, NULL, NULL, NULL));
    }
  reopened = mt_test_kill_and_reopen (child, mt_library_get_path (f->library));
  g_assert_true (mt_library_count_audio (reopened, MT_AUDIO_FEATURES_VERSION, &analysed, &failed, &pending, &error));
  g_assert_no_error (error);
  g_test_message ("%" G_GINT64_FORMAT " songs analysed before the kill", analysed);
  g_assert_cmpint (analysed, >=, 3);
  g_assert_cmpint (failed, ==, 0);
  g_assert_cmpint (pending, >, 0);
  g_assert_cmpint (analysed + pending, ==, N_KILL_SONGS);

  rest = analyse (f, 2);
  g_assert_cmpuint (rest->total, ==, pending);
  g_assert_cmpuint (rest->analysed, ==, pending);
  g_assert_cmpuint (rest->rescored, ==, 0);
  assert_counts (f, N_KILL_SONGS, 0, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, mt_test_library_set_up, func, mt_test_library_tear_down)
  ADD ("/library-analyzer/analyse", test_analyse);
  ADD ("/library-analyzer/incremental", test_incremental);
  ADD ("/library-analyzer/new-mapping", test_new_mapping);
  ADD ("/library-analyzer/hostile-files", test_hostile_files);
  ADD ("/library-analyzer/cancel", test_cancel);
  ADD ("/library-analyzer/killed-analysis", test_killed_analysis);
#undef ADD

  return g_test_run ();
}
