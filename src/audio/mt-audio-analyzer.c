#define G_LOG_DOMAIN "mt-audio-analyzer"

#include "config.h"

#include <math.h>

#include "mt-audio-analyzer.h"
#include "mt-audio-features.h"
#include "mt-helper-process.h"

struct _MtAudioAnalyzer
{
  GObject          parent_instance;
  MtHelperProcess *helper;
  guint            timeout_s;
};

G_DEFINE_FINAL_TYPE (MtAudioAnalyzer, mt_audio_analyzer, G_TYPE_OBJECT)
G_DEFINE_BOXED_TYPE (MtAudioAnalysis, mt_audio_analysis, mt_audio_analysis_copy, mt_audio_analysis_free)

MtAudioAnalysis *
mt_audio_analysis_copy (const MtAudioAnalysis *analysis)
{
  MtAudioAnalysis *copy = g_memdup2 (analysis, sizeof *analysis);

  copy->features_json = g_strdup (analysis->features_json);
  return copy;
}

void
mt_audio_analysis_free (MtAudioAnalysis *analysis)
{
  if (analysis == NULL)
    return;
  g_free (analysis->features_json);
  g_free (analysis);
}

static void
mt_audio_analyzer_finalize (GObject *object)
{
  MtAudioAnalyzer *self = (MtAudioAnalyzer *) object;

  g_clear_object (&self->helper);
  G_OBJECT_CLASS (mt_audio_analyzer_parent_class)->finalize (object);
}

static void
mt_audio_analyzer_class_init (MtAudioAnalyzerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_audio_analyzer_finalize;
}

static void
mt_audio_analyzer_init (MtAudioAnalyzer *self)
{
  self->timeout_s = 60;
}

char *
mt_audio_analyzer_find_helper (void)
{
  return mt_helper_process_find ("MT_AUDIO_ANALYZER", "src/audio/moodtunes-audio-analyzer",
                                 MT_AUDIO_ANALYZER_INSTALLED);
}

static void
start_helper (MtAudioAnalyzer *self)
{
  g_autofree char *path = mt_audio_analyzer_find_helper ();
  g_autofree char *timeout = g_strdup_printf ("%u", self->timeout_s);
  const char * const argv[] = { path, timeout, NULL };

  g_clear_object (&self->helper);
  self->helper = mt_helper_process_new (argv, MT_AUDIO_ANALYZER_MAX_REPLY);
  mt_helper_process_set_name (self->helper, "the audio analyzer", "this file", "MT_AUDIO_ANALYZER");
  /* Analysis is background work: the desktop and the player come first. */
  mt_helper_process_set_low_priority (self->helper, TRUE);
}

MtAudioAnalyzer *
mt_audio_analyzer_new (void)
{
  MtAudioAnalyzer *self = g_object_new (MT_TYPE_AUDIO_ANALYZER, NULL);

  start_helper (self);
  return self;
}

void
mt_audio_analyzer_set_timeout (MtAudioAnalyzer *self,
                               guint            seconds)
{
  g_return_if_fail (MT_IS_AUDIO_ANALYZER (self));
  self->timeout_s = MAX (seconds, 1u);
  start_helper (self);   /* the helper takes the timeout at start */
}

guint
mt_audio_analyzer_get_n_restarts (MtAudioAnalyzer *self)
{
  g_return_val_if_fail (MT_IS_AUDIO_ANALYZER (self), 0);
  return mt_helper_process_get_n_restarts (self->helper);
}

static gboolean
bad_reply (GError     **error,
           const char  *why)
{
  g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_BAD_REPLY,
               "the audio analyzer sent a bad reply: %s", why);
  return FALSE;
}

gboolean
mt_audio_analyzer_parse_reply (const char       *line,
                               gsize             length,
                               guint64           expected_id,
                               MtAudioAnalysis **out_analysis,
                               GError          **error)
{
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) features_root = NULL;
  g_autoptr(MtAudioAnalysis) analysis = NULL;
  JsonObject *features;
  JsonNode *node;
  gint64 version;
  guint n_names = mt_audio_features_get_n_names ();

  g_return_val_if_fail (out_analysis != NULL, FALSE);

  *out_analysis = NULL;
  if (!mt_helper_process_parse_envelope (line, length, expected_id, MT_AUDIO_ANALYZER_MAX_REPLY, &object, error))
    return FALSE;

  if (!mt_helper_process_reply_get_int (object, "version", &version, error))
    return FALSE;
  if (version != MT_AUDIO_FEATURES_VERSION)
    return bad_reply (error, "descriptors of another version (another Moodtunes installed?)");

  analysis = g_new0 (MtAudioAnalysis, 1);
  analysis->features_version = MT_AUDIO_FEATURES_VERSION;
  if (!mt_helper_process_reply_get_int (object, "duration_ms", &analysis->duration_ms, error) ||
      !mt_helper_process_reply_get_int (object, "analysed_ms", &analysis->analysed_ms, error))
    return FALSE;
  if (analysis->duration_ms < 0 || analysis->analysed_ms <= 0)
    return bad_reply (error, "durations out of range");

  node = json_object_get_member (object, "features");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return bad_reply (error, "no descriptors");
  features = json_node_get_object (node);
  if (json_object_get_size (features) != n_names)
    return bad_reply (error, "not this version's descriptors");

  /* Stored as we write it, in our order, never as the helper's text. */
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  for (guint i = 0; i < n_names; i++)
    {
      const char *name = mt_audio_features_get_name (i);
      JsonNode *value = json_object_get_member (features, name);
      double x;

      if (value == NULL || !JSON_NODE_HOLDS_VALUE (value) ||
          (json_node_get_value_type (value) != G_TYPE_DOUBLE && json_node_get_value_type (value) != G_TYPE_INT64) ||
          !isfinite (x = json_node_get_double (value)))
        return bad_reply (error, "a descriptor is missing or not a finite number");
      if (g_str_equal (name, "tempo_bpm"))
        analysis->tempo = x;
      else if (g_str_equal (name, "loudness_integrated"))
        analysis->loudness = x;
      json_builder_set_member_name (builder, name);
      json_builder_add_double_value (builder, x);
    }
  json_builder_end_object (builder);
  features_root = json_builder_get_root (builder);
  analysis->features_json = json_to_string (features_root, FALSE);
  *out_analysis = g_steal_pointer (&analysis);
  return TRUE;
}

static gboolean
take_reply (const char  *line,
            gsize        length,
            guint64      expected_id,
            gpointer     data,
            GError     **error)
{
  return mt_audio_analyzer_parse_reply (line, length, expected_id, data, error);
}

MtAudioAnalysis *
mt_audio_analyzer_analyse (MtAudioAnalyzer  *self,
                           const char       *uri,
                           GError          **error)
{
  g_autoptr(JsonObject) request = json_object_new ();
  MtAudioAnalysis *analysis = NULL;

  g_return_val_if_fail (MT_IS_AUDIO_ANALYZER (self), NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  json_object_set_string_member (request, "uri", uri);
  /* The helper's own limit, plus time for its start-up and a slow disk. */
  if (!mt_helper_process_request (self->helper, request, self->timeout_s + 10, take_reply, &analysis, error))
    {
      mt_audio_analysis_free (analysis);
      return NULL;
    }
  return analysis;
}
