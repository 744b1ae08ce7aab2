/* moodtunes-audio-analyzer: decodes songs and computes the descriptors
 * their moods are read from, in its own process.
 *
 * Demuxers and decoders parse untrusted files; a crash or hang on a hostile
 * file must only cost this helper, which MtAudioAnalyzer restarts.  The
 * JSON-lines protocol is mt-helper-server.h's; a reply is
 *   {"id": N, "ok": true, "version": MT_AUDIO_FEATURES_VERSION,
 *    "duration_ms": N, "analysed_ms": N, "features": {"name": number, …}}
 * or {"id": N, "ok": false, "error": "why"}.
 *
 * Usage: moodtunes-audio-analyzer [TIMEOUT-SECONDS]  (per file, default 60)
 */
#define G_LOG_DOMAIN "moodtunes-audio-analyzer"

#include "config.h"

#include <gst/gst.h>

#include "mt-audio-decoder.h"
#include "mt-audio-features.h"
#include "mt-helper-server.h"

static void
analyse (const char  *uri,
         JsonBuilder *builder,
         gpointer     user_data)
{
  guint timeout_s = GPOINTER_TO_UINT (user_data);
  g_autoptr(MtAudioFeatures) features = mt_audio_features_new ();
  g_autoptr(GError) error = NULL;
  g_autofree double *values = g_new0 (double, mt_audio_features_get_n_names ());
  gint64 duration_ms = 0, analysed_ms = 0;

  if (!mt_audio_decode_into (uri, features, timeout_s, &duration_ms, &analysed_ms, &error))
    {
      mt_helper_reply_error (builder, error->message);
      return;
    }
  mt_audio_features_finish (features, values);

  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, MT_AUDIO_FEATURES_VERSION);
  json_builder_set_member_name (builder, "duration_ms");
  json_builder_add_int_value (builder, duration_ms);
  json_builder_set_member_name (builder, "analysed_ms");
  json_builder_add_int_value (builder, analysed_ms);
  json_builder_set_member_name (builder, "features");
  json_builder_begin_object (builder);
  for (guint i = 0; i < mt_audio_features_get_n_names (); i++)
    {
      json_builder_set_member_name (builder, mt_audio_features_get_name (i));
      json_builder_add_double_value (builder, values[i]);
    }
  json_builder_end_object (builder);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  guint64 timeout_s = 60;

  if (argc > 1 && !g_ascii_string_to_unsigned (argv[1], 10, 1, 3600, &timeout_s, &error))
    {
      g_printerr ("Usage: %s [TIMEOUT-SECONDS]\n%s\n", argv[0], error->message);
      return 2;
    }
  gst_init (&argc, &argv);
  return mt_helper_serve ("moodtunes-audio-analyzer", "MT_AUDIO_ANALYZER",
                          analyse, GUINT_TO_POINTER ((guint) timeout_s));
}
