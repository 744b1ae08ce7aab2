/* Hostile and unusual files through the helper: each bad one fails with a
 * reason and the next file still works; 8 kHz, 5.1 and ten hours are
 * analysed (the last in seconds, by seeking); a crash and a hang of the
 * helper cost one file. */
#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "mt-audio-decoder.h"
#include "mt-helper-process.h"
#include "mt-test-audio.h"
#include "mt-test-music.h"

static char *dir;
static char *good;         /* a file that analyses, tried after each bad one */
static MtAudioAnalyzer *analyzer;

static char *
clip (const char *name)
{
  return g_build_filename (dir, name, NULL);
}

static void
assert_next_works (void)
{
  g_autoptr(MtAudioAnalysis) analysis = mt_test_audio_analyse (analyzer, good, NULL);
}

static void
assert_fails_with (const char *path,
                   const char *why)
{
  g_autofree char *message = mt_test_audio_analyse_fails (analyzer, path, MT_HELPER_PROCESS_ERROR_FAILED);

  if (why != NULL && strstr (message, why) == NULL)
    g_error ("%s: “%s” does not say “%s”", path, message, why);
  assert_next_works ();
}

static void
write_file (const char *path,
            const char *contents,
            gssize      length)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);
}

static void
test_empty (void)
{
  g_autofree char *path = clip ("empty.ogg");

  write_file (path, "", 0);
  assert_fails_with (path, "not a readable audio file");
}

static void
test_truncated (void)
{
  g_autofree char *whole = clip ("whole.ogg");
  g_autofree char *path = clip ("truncated.ogg");
  g_autoptr(GError) error = NULL;

  mt_test_audio_make_signal (whole, "sine", "volume=0.3", 8.0, 44100, "vorbisenc ! oggmux");
  g_autoptr(MtAudioAnalyzer) impatient = mt_audio_analyzer_new ();
  g_autofree char *message = NULL;

  mt_test_copy_file (whole, path, 3 * 1024, &error);
  g_assert_no_error (error);
  /* Vorbis headers alone: oggdemux fails, but decodebin drops its error
   * when that happens while it sets the demuxer up, and then the preroll
   * waits for nothing; either way this file fails, in the helper's own
   * time (as FAILED, the helper is kept). */
  mt_audio_analyzer_set_timeout (impatient, 3);
  message = mt_test_audio_analyse_fails (impatient, path, MT_HELPER_PROCESS_ERROR_FAILED);
  g_assert_cmpuint (mt_audio_analyzer_get_n_restarts (impatient), ==, 0);
  assert_next_works ();
}

static void
test_not_audio (void)
{
  g_autofree char *text = clip ("notes.mp3");
  g_autofree char *picture = clip ("picture.mp3");

  write_file (text, "These are not the droids you are looking for.\n", -1);
  assert_fails_with (text, "not a readable audio file");
  mt_test_audio_make (picture, "videotestsrc num-buffers=1 ! video/x-raw,width=64,height=48 ! pngenc");
  assert_fails_with (picture, NULL);
}

static void
test_too_short (void)
{
  g_autofree char *path = clip ("short.wav");

  mt_test_audio_make_signal (path, "sine", "volume=0.3", 1.5, 22050, "wavenc");
  assert_fails_with (path, "too short");
}

static void
test_low_rate (void)
{
  g_autofree char *path = clip ("phone.wav");
  g_autoptr(MtAudioAnalysis) analysis = NULL;

  mt_test_audio_make_signal (path, "pink-noise", "volume=0.3", 6.0, 8000, "wavenc");
  analysis = mt_test_audio_analyse (analyzer, path, NULL);
  g_assert_cmpint (analysis->analysed_ms, >=, 5900);
  g_assert_cmpfloat (analysis->loudness, >, -40.0);
}

static void
test_surround (void)
{
  const int rate = 22050, channels = 6, seconds = 6;
  g_autofree char *path = clip ("surround.wav");
  g_autofree gint16 *samples = g_new0 (gint16, (gsize) rate * channels * seconds);
  g_autoptr(MtAudioAnalysis) analysis = NULL;
  int fd;

  /* A tone on the front left and right, another on the centre. */
  for (int i = 0; i < rate * seconds; i++)
    {
      samples[i * channels + 0] = samples[i * channels + 1] = (gint16) (8000 * sin (2 * G_PI * 330 * i / rate));
      samples[i * channels + 2] = (gint16) (8000 * sin (2 * G_PI * 495 * i / rate));
    }
  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, >=, 0);
  mt_test_audio_write_wav_header (fd, rate, channels, (gint64) rate * seconds);
  g_assert_cmpint (write (fd, samples, sizeof (gint16) * rate * channels * seconds), ==,
                   (gssize) (sizeof (gint16) * rate * channels * seconds));
  close (fd);
  analysis = mt_test_audio_analyse (analyzer, path, NULL);
  g_assert_cmpint (analysis->analysed_ms, >=, 5900);
  g_assert_cmpfloat (analysis->loudness, >, -40.0);
}

static void
test_ten_hours (void)
{
  const gint64 rate = 8000, frames = rate * 10 * 3600;
  g_autofree char *path = clip ("ten-hours.wav");
  g_autoptr(MtAudioAnalysis) analysis = NULL;
  gint64 start;
  double seconds;
  int fd;

  /* 576 MB that take no disk: the header, then a hole (zeros: silence). */
  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, >=, 0);
  mt_test_audio_write_wav_header (fd, (int) rate, 1, frames);
  g_assert_cmpint (ftruncate (fd, lseek (fd, 0, SEEK_CUR) + frames * 2), ==, 0);
  close (fd);

  start = g_get_monotonic_time ();
  analysis = mt_test_audio_analyse (analyzer, path, NULL);
  seconds = (g_get_monotonic_time () - start) / 1e6;
  g_test_message ("10-hour file: %.2f s, duration %" G_GINT64_FORMAT " ms, analysed %" G_GINT64_FORMAT " ms",
                  seconds, analysis->duration_ms, analysis->analysed_ms);
  g_assert_cmpint (llabs (analysis->duration_ms - 10 * 3600 * 1000), <, 1000);
  /* Three windows, not ten hours. */
  g_assert_cmpint (llabs (analysis->analysed_ms - MT_AUDIO_N_WINDOWS * MT_AUDIO_WINDOW_S * 1000), <, 500);
  g_assert_cmpfloat (analysis->loudness, ==, -70.0);
  g_assert_cmpfloat (seconds, <, 30.0);
}

static void
test_crash_and_hang (void)
{
  g_autofree char *crash = clip ("crash-me.wav");
  g_autofree char *hang = clip ("hang-me.wav");
  g_autofree char *message = NULL;
  guint restarts = mt_audio_analyzer_get_n_restarts (analyzer);
  gint64 start;

  mt_test_audio_make_signal (crash, "sine", "volume=0.3", 4.0, 22050, "wavenc");
  mt_test_audio_make_signal (hang, "sine", "volume=0.3", 4.0, 22050, "wavenc");

  message = mt_test_audio_analyse_fails (analyzer, crash, MT_HELPER_PROCESS_ERROR_CRASHED);
  g_assert_nonnull (strstr (message, "crashed"));
  assert_next_works ();
  g_assert_cmpuint (mt_audio_analyzer_get_n_restarts (analyzer), ==, restarts + 1);

  /* The helper is started again with the shorter limit. */
  mt_audio_analyzer_set_timeout (analyzer, 2);
  start = g_get_monotonic_time ();
  g_clear_pointer (&message, g_free);
  message = mt_test_audio_analyse_fails (analyzer, hang, MT_HELPER_PROCESS_ERROR_TIMEOUT);
  g_test_message ("hang timed out after %.1f s", (g_get_monotonic_time () - start) / 1e6);
  assert_next_works ();
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  /* Read by each helper this process starts; no other file matches. */
  g_setenv ("MT_AUDIO_ANALYZER_CRASH_ON", "crash-me", TRUE);
  g_setenv ("MT_AUDIO_ANALYZER_HANG_ON", "hang-me", TRUE);
  dir = mt_test_make_temp_dir ();
  good = clip ("good.wav");
  mt_test_audio_make_signal (good, "pink-noise", "volume=0.2", 4.0, 22050, "wavenc");
  analyzer = mt_audio_analyzer_new ();

  g_test_add_func ("/audio-analyzer/empty", test_empty);
  g_test_add_func ("/audio-analyzer/truncated", test_truncated);
  g_test_add_func ("/audio-analyzer/not-audio", test_not_audio);
  g_test_add_func ("/audio-analyzer/too-short", test_too_short);
  g_test_add_func ("/audio-analyzer/8-khz", test_low_rate);
  g_test_add_func ("/audio-analyzer/5.1", test_surround);
  g_test_add_func ("/audio-analyzer/ten-hours", test_ten_hours);
  g_test_add_func ("/audio-analyzer/crash-and-hang", test_crash_and_hang);
  status = g_test_run ();
  g_object_unref (analyzer);
  mt_test_rmdir (dir);
  g_free (dir);
  g_free (good);
  return status;
}
