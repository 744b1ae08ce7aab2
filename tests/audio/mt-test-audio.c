#define G_LOG_DOMAIN "mt-test-audio"

#include "config.h"

#include <math.h>
#include <string.h>
#include <unistd.h>
#include <gst/gst.h>

#include "mt-audio-features.h"
#include "mt-helper-process.h"
#include "mt-test-audio.h"
#include "mt-test-music.h"

void
mt_test_audio_make (const char *path,
                    const char *description)
{
  g_autofree char *full = g_strdup_printf ("%s ! filesink name=sink", description);
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstElement) sink = NULL;

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  pipeline = gst_parse_launch (full, &error);
  g_assert_no_error (error);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (sink, "location", path, NULL);
  if (!mt_test_run_pipeline (pipeline, 60, full, &error))
    g_error ("%s", error->message);
}

void
mt_test_audio_make_signal (const char *path,
                           const char *wave,
                           const char *extra,
                           double      seconds,
                           int         rate,
                           const char *encoder)
{
  /* Buffers of 0.1 s, so the length is exact. */
  g_autofree char *description =
    g_strdup_printf ("audiotestsrc wave=%s %s samplesperbuffer=%d num-buffers=%d"
                     " ! audio/x-raw,rate=%d,channels=1 ! audioconvert ! %s",
                     wave, extra, rate / 10, (int) lround (seconds * 10), rate, encoder);

  mt_test_audio_make (path, description);
}

void
mt_test_audio_make_clicks (const char *path,
                           double      interval_s,
                           double      seconds)
{
  const int rate = 22050, buffers = (int) lround (seconds * 10);
  g_autofree char *description =
    g_strdup_printf ("audiotestsrc wave=ticks tick-interval=%" G_GUINT64_FORMAT " sine-periods-per-tick=20"
                     " samplesperbuffer=%d num-buffers=%d ! audio/x-raw,rate=%d,channels=1 ! mix."
                     " audiotestsrc wave=pink-noise volume=0.003 samplesperbuffer=%d num-buffers=%d"
                     " ! audio/x-raw,rate=%d,channels=1 ! mix."
                     " audiomixer name=mix ! audio/x-raw,rate=%d,channels=1 ! wavenc",
                     (guint64) llround (interval_s * GST_SECOND), rate / 10, buffers, rate,
                     rate / 10, buffers, rate, rate);

  mt_test_audio_make (path, description);
}

static void
put_le (guint8 *at,
        guint64 value,
        int     bytes)
{
  for (int i = 0; i < bytes; i++)
    at[i] = (guint8) (value >> (8 * i));
}

void
mt_test_audio_write_wav_header (int    fd,
                                int    rate,
                                int    channels,
                                gint64 n_frames)
{
  /* RIFF, "fmt " (40 bytes when extensible, else 16), "data". */
  gboolean extensible = channels > 2;
  guint fmt_size = extensible ? 40 : 16;
  guint64 data_size = (guint64) n_frames * channels * 2;
  guint8 header[12 + 8 + 40 + 8] = { 0 };
  guint8 *fmt = header + 20;
  guint8 *data;

  g_assert_cmpuint (data_size, <, G_MAXUINT32 - 100);
  memcpy (header, "RIFF", 4);
  put_le (header + 4, 4 + 8 + fmt_size + 8 + data_size, 4);
  memcpy (header + 8, "WAVE", 4);
  memcpy (header + 12, "fmt ", 4);
  put_le (header + 16, fmt_size, 4);
  put_le (fmt, extensible ? 0xFFFE : 1, 2);
  put_le (fmt + 2, channels, 2);
  put_le (fmt + 4, rate, 4);
  put_le (fmt + 8, (guint64) rate * channels * 2, 4);
  put_le (fmt + 12, channels * 2, 2);
  put_le (fmt + 14, 16, 2);
  if (extensible)
    {
      static const guint8 pcm_guid[16] = { 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
                                           0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 };

      put_le (fmt + 16, 22, 2);                           /* extension size */
      put_le (fmt + 18, 16, 2);                           /* valid bits */
      put_le (fmt + 20, channels == 6 ? 0x3F : 0, 4);     /* FL FR FC LFE BL BR */
      memcpy (fmt + 24, pcm_guid, 16);
    }
  data = fmt + fmt_size;
  memcpy (data, "data", 4);
  put_le (data + 4, data_size, 4);
  g_assert_cmpint (write (fd, header, data + 8 - header), ==, data + 8 - header);
}

char *
mt_test_audio_uri (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *uri = g_filename_to_uri (path, NULL, &error);

  g_assert_no_error (error);
  return uri;
}

MtAudioAnalysis *
mt_test_audio_analyse (MtAudioAnalyzer  *analyzer,
                       const char       *path,
                       JsonObject      **out_features)
{
  g_autofree char *uri = mt_test_audio_uri (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GList) members = NULL;
  MtAudioAnalysis *analysis = mt_audio_analyzer_analyse (analyzer, uri, &error);
  JsonObject *features;

  g_assert_no_error (error);
  g_assert_nonnull (analysis);
  g_assert_cmpint (analysis->features_version, ==, MT_AUDIO_FEATURES_VERSION);
  g_assert_true (isfinite (analysis->tempo) && isfinite (analysis->loudness));
  g_assert_cmpint (analysis->analysed_ms, >, 0);
  g_assert_true (json_parser_load_from_data (parser, analysis->features_json, -1, &error));
  g_assert_no_error (error);
  features = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpuint (json_object_get_size (features), ==, mt_audio_features_get_n_names ());
  members = json_object_get_members (features);
  for (GList *l = members; l != NULL; l = l->next)
    {
      double x = json_object_get_double_member (features, l->data);

      if (!isfinite (x))
        g_error ("%s: %s is not finite", path, (const char *) l->data);
    }
  if (out_features != NULL)
    *out_features = json_object_ref (features);
  return analysis;
}

char *
mt_test_audio_analyse_fails (MtAudioAnalyzer *analyzer,
                             const char      *path,
                             int              code)
{
  g_autofree char *uri = mt_test_audio_uri (path);
  g_autofree char *name = g_path_get_basename (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(MtAudioAnalysis) analysis = mt_audio_analyzer_analyse (analyzer, uri, &error);

  g_assert_null (analysis);
  g_assert_error (error, MT_HELPER_PROCESS_ERROR, code);
  g_assert_true (error->message[0] != '\0' && g_utf8_validate (error->message, -1, NULL));
  g_test_message ("%s: %s", name, error->message);
  return g_strdup (error->message);
}

double
mt_test_audio_get (JsonObject *features,
                   const char *name)
{
  g_assert_true (json_object_has_member (features, name));
  return json_object_get_double_member (features, name);
}
