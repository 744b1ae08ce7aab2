/* The descriptors of synthetic sounds, through the real helper: a click
 * track's tempo, loudness that follows the level, density, silence, noise
 * against a tone; and the same file analysed twice gives the same bytes. */
#include "config.h"

#include <math.h>
#include <glib/gstdio.h>

#include "mt-test-audio.h"
#include "mt-test-music.h"

static char *dir;
static MtAudioAnalyzer *analyzer;

static char *
clip (const char *name)
{
  return g_build_filename (dir, name, NULL);
}

static void
test_tempo (void)
{
  g_autofree char *path = clip ("clicks-120.wav");
  g_autoptr(MtAudioAnalysis) analysis = NULL;

  mt_test_audio_make_clicks (path, 0.5, 20.0);
  analysis = mt_test_audio_analyse (analyzer, path, NULL);
  g_test_message ("120 BPM click track: tempo %.2f BPM", analysis->tempo);
  g_assert_cmpfloat_with_epsilon (analysis->tempo, 120.0, 2.0);
  g_assert_cmpint (analysis->analysed_ms, >=, 19900);
  g_assert_cmpint (analysis->duration_ms, >=, 19900);
}

static void
test_loudness (void)
{
  g_autofree char *quiet_path = clip ("pink-quiet.wav");
  g_autofree char *loud_path = clip ("pink-loud.wav");
  g_autoptr(MtAudioAnalysis) quiet = NULL;
  g_autoptr(MtAudioAnalysis) loud = NULL;

  /* 0.1 and 0.4: +12.04 dB. */
  mt_test_audio_make_signal (quiet_path, "pink-noise", "volume=0.1", 8.0, 22050, "wavenc");
  mt_test_audio_make_signal (loud_path, "pink-noise", "volume=0.4", 8.0, 22050, "wavenc");
  quiet = mt_test_audio_analyse (analyzer, quiet_path, NULL);
  loud = mt_test_audio_analyse (analyzer, loud_path, NULL);
  g_test_message ("pink noise: %.2f LUFS, +12 dB: %.2f LUFS (%+.2f LU)",
                  quiet->loudness, loud->loudness, loud->loudness - quiet->loudness);
  g_assert_cmpfloat_with_epsilon (loud->loudness - quiet->loudness, 12.04, 0.5);
}

static void
test_density (void)
{
  g_autofree char *sparse_path = clip ("clicks-60.wav");
  g_autofree char *dense_path = clip ("clicks-240.wav");
  g_autoptr(JsonObject) sparse = NULL;
  g_autoptr(JsonObject) dense = NULL;
  g_autoptr(MtAudioAnalysis) a = NULL;
  g_autoptr(MtAudioAnalysis) b = NULL;
  double sparse_rate, dense_rate;

  mt_test_audio_make_clicks (sparse_path, 1.0, 10.0);
  mt_test_audio_make_clicks (dense_path, 0.25, 10.0);
  a = mt_test_audio_analyse (analyzer, sparse_path, &sparse);
  b = mt_test_audio_analyse (analyzer, dense_path, &dense);
  sparse_rate = mt_test_audio_get (sparse, "onset_rate");
  dense_rate = mt_test_audio_get (dense, "onset_rate");
  g_test_message ("onsets per second: 60 BPM clicks %.2f, 240 BPM clicks %.2f", sparse_rate, dense_rate);
  /* One onset per click, give or take the first. */
  g_assert_cmpfloat_with_epsilon (sparse_rate, 1.0, 0.25);
  g_assert_cmpfloat_with_epsilon (dense_rate, 4.0, 0.5);
  g_assert_cmpfloat (mt_test_audio_get (dense, "flux_mean"), >, mt_test_audio_get (sparse, "flux_mean"));
}

static void
test_silence (void)
{
  g_autofree char *path = clip ("silence.wav");
  g_autoptr(JsonObject) features = NULL;
  g_autoptr(MtAudioAnalysis) analysis = NULL;

  mt_test_audio_make_signal (path, "silence", "", 6.0, 22050, "wavenc");
  analysis = mt_test_audio_analyse (analyzer, path, &features);   /* every value finite */
  g_assert_cmpfloat (analysis->loudness, ==, -70.0);
  g_assert_cmpfloat (analysis->tempo, ==, 0.0);
  g_assert_cmpfloat (mt_test_audio_get (features, "onset_rate"), ==, 0.0);
  g_assert_cmpfloat (mt_test_audio_get (features, "silence_ratio"), ==, 1.0);
}

static void
test_noise_and_tone (void)
{
  g_autofree char *sine_path = clip ("sine-440.ogg");
  g_autofree char *pink_path = clip ("pink.ogg");
  g_autoptr(JsonObject) sine = NULL;
  g_autoptr(JsonObject) pink = NULL;
  g_autoptr(MtAudioAnalysis) a = NULL;
  g_autoptr(MtAudioAnalysis) b = NULL;

  /* Through a lossy codec, at the rate most files have. */
  mt_test_audio_make_signal (sine_path, "sine", "freq=440 volume=0.3", 6.0, 44100, "vorbisenc ! oggmux");
  mt_test_audio_make_signal (pink_path, "pink-noise", "volume=0.3", 6.0, 44100, "vorbisenc ! oggmux");
  a = mt_test_audio_analyse (analyzer, sine_path, &sine);
  b = mt_test_audio_analyse (analyzer, pink_path, &pink);
  g_test_message ("440 Hz sine: centroid %.3f kHz, flatness %.4f; pink noise: centroid %.3f kHz, flatness %.4f",
                  mt_test_audio_get (sine, "centroid_mean"), mt_test_audio_get (sine, "flatness_mean"),
                  mt_test_audio_get (pink, "centroid_mean"), mt_test_audio_get (pink, "flatness_mean"));
  /* Centroids are in kHz. */
  g_assert_cmpfloat_with_epsilon (mt_test_audio_get (sine, "centroid_mean"), 0.440, 0.03);
  g_assert_cmpfloat (mt_test_audio_get (pink, "centroid_mean"), >, 4 * mt_test_audio_get (sine, "centroid_mean"));
  g_assert_cmpfloat (mt_test_audio_get (pink, "flatness_mean"), >, 0.3);
  g_assert_cmpfloat (mt_test_audio_get (sine, "flatness_mean"), <, 0.05);
}

static void
test_reproducible (void)
{
  g_autofree char *path = clip ("reproducible.opus");
  g_autoptr(MtAudioAnalysis) first = NULL;
  g_autoptr(MtAudioAnalysis) second = NULL;
  g_autoptr(MtAudioAnalyzer) other = mt_audio_analyzer_new ();

  mt_test_audio_make (path, "audiotestsrc wave=pink-noise volume=0.2 samplesperbuffer=4800 num-buffers=50"
                            " ! audio/x-raw,rate=48000,channels=2 ! opusenc ! oggmux");
  /* Two helper processes, each from its start. */
  first = mt_test_audio_analyse (analyzer, path, NULL);
  second = mt_test_audio_analyse (other, path, NULL);
  g_assert_cmpstr (first->features_json, ==, second->features_json);
  g_assert_cmpint (first->analysed_ms, ==, second->analysed_ms);
  g_assert_cmpint (first->duration_ms, ==, second->duration_ms);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  dir = mt_test_make_temp_dir ();
  analyzer = mt_audio_analyzer_new ();
  g_test_add_func ("/audio-features/tempo-of-clicks", test_tempo);
  g_test_add_func ("/audio-features/loudness-follows-level", test_loudness);
  g_test_add_func ("/audio-features/denser-more-onsets", test_density);
  g_test_add_func ("/audio-features/silence", test_silence);
  g_test_add_func ("/audio-features/noise-and-tone", test_noise_and_tone);
  g_test_add_func ("/audio-features/reproducible", test_reproducible);
  status = g_test_run ();
  g_object_unref (analyzer);
  mt_test_rmdir (dir);
  g_free (dir);
  return status;
}
