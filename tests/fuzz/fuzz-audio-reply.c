/* fuzz-audio-reply: a reply line from the audio analyzer helper, as
 * mt_audio_analyzer_analyse() hands it to mt_audio_analyzer_parse_reply()
 * (the line without its newline, expected request id 1). */
#include "config.h"

#include <math.h>

#include "mt-audio-analyzer.h"
#include "mt-audio-features.h"
#include "mt-fuzz.h"
#include "mt-helper-process.h"

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(MtAudioAnalysis) analysis = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = NULL;
  JsonNode *root;
  gboolean ok;

  mt_fuzz_init ();

  ok = mt_audio_analyzer_parse_reply ((const char *) data, size, 1, &analysis, &error);
  MT_FUZZ_CHECK (ok == (error == NULL));
  MT_FUZZ_CHECK (ok == (analysis != NULL));
  if (!ok)
    {
      MT_FUZZ_CHECK (error->domain == MT_HELPER_PROCESS_ERROR);
      MT_FUZZ_CHECK (error->code == MT_HELPER_PROCESS_ERROR_NOT_A_REPLY ||
                     error->code == MT_HELPER_PROCESS_ERROR_BAD_REPLY ||
                     error->code == MT_HELPER_PROCESS_ERROR_FAILED);
      MT_FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }

  /* What the library stores: this version's descriptors, every one a
   * finite number, as JSON that reads back. */
  MT_FUZZ_CHECK (size <= MT_AUDIO_ANALYZER_MAX_REPLY);
  MT_FUZZ_CHECK (analysis->features_version == MT_AUDIO_FEATURES_VERSION);
  MT_FUZZ_CHECK (analysis->duration_ms >= 0 && analysis->analysed_ms > 0);
  MT_FUZZ_CHECK (isfinite (analysis->tempo) && isfinite (analysis->loudness));
  MT_FUZZ_CHECK (analysis->features_json != NULL && g_utf8_validate (analysis->features_json, -1, NULL));
  parser = json_parser_new ();
  MT_FUZZ_CHECK (json_parser_load_from_data (parser, analysis->features_json, -1, NULL));
  root = json_parser_get_root (parser);
  MT_FUZZ_CHECK (root != NULL && JSON_NODE_HOLDS_OBJECT (root));
  MT_FUZZ_CHECK (json_object_get_size (json_node_get_object (root)) == mt_audio_features_get_n_names ());
  for (guint i = 0; i < mt_audio_features_get_n_names (); i++)
    {
      JsonNode *value = json_object_get_member (json_node_get_object (root), mt_audio_features_get_name (i));

      MT_FUZZ_CHECK (value != NULL && JSON_NODE_HOLDS_VALUE (value) && isfinite (json_node_get_double (value)));
    }
  return 0;
}
