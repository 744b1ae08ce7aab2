/* MtAudioMoodModel: a model file written here, where arousal follows the
 * loudness, scores real analyses (louder -> more arousal, silence the least,
 * never NaN); and every kind of broken model file is refused, saying what
 * is wrong. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mt-audio-features.h"
#include "mt-audio-mood-model.h"
#include "mt-test-audio.h"
#include "mt-test-music.h"

static char *dir;

/* Arousal from loudness (z = (LUFS + 30) / 10), valence from the key
 * strength; onset_rate (log) only to carry a transform. */
static const char model_text[] =
  "{\n"
  "  \"comment\": \"a test model\",\n"
  "  \"version\": \"test-1\",\n"
  "  \"features_version\": %d,\n"
  "  \"provenance\": {\"dataset\": \"none: written by test-audio-mood-model.c\"},\n"
  "  \"classes\": [\"Q1\", \"Q2\", \"Q3\", \"Q4\"],\n"
  "  \"clip_z\": 3,\n"
  "  \"features\": [\"loudness_integrated\", \"chroma_key_strength\", \"onset_rate\"],\n"
  "  \"transforms\": [\"none\", \"none\", \"log\"],\n"
  "  \"log_floor\": 0.01,\n"
  "  \"mean\": [-30, 0.5, 0],\n"
  "  \"scale\": [10, 0.25, 1],\n"
  "  \"weights\": [[1.5, 1, 0], [1.5, -1, 0], [-1.5, -1, 0], [-1.5, 1, 0]],\n"
  "  \"bias\": [0, 0, 0, 0]\n"
  "}\n";

static JsonObject *
model_object (void)
{
  g_autofree char *text = g_strdup_printf (model_text, MT_AUDIO_FEATURES_VERSION);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static char *
write_model (const char *name,
             const char *text)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

static char *
write_model_object (const char *name,
                    JsonObject *object)
{
  g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (), object);
  g_autofree char *text = json_to_string (root, TRUE);

  return write_model (name, text);
}

static MtAudioMoodModel *
load_good_model (void)
{
  g_autoptr(JsonObject) object = model_object ();
  g_autofree char *path = write_model_object ("good.json", object);
  g_autoptr(GError) error = NULL;
  MtAudioMoodModel *model = mt_audio_mood_model_new_from_file (path, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (mt_audio_mood_model_get_version (model), ==, "test-1");
  return model;
}

static void
predict (MtAudioMoodModel *model,
         MtAudioAnalysis  *analysis,
         double           *valence,
         double           *arousal)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mt_audio_mood_model_predict_json (model, analysis->features_json, valence, arousal, &error));
  g_assert_no_error (error);
  g_assert_true (isfinite (*valence) && isfinite (*arousal));
  g_assert_cmpfloat (fabs (*valence), <=, 1.0);
  g_assert_cmpfloat (fabs (*arousal), <=, 1.0);
}

static void
test_arousal_follows_loudness (void)
{
  g_autoptr(MtAudioMoodModel) model = load_good_model ();
  g_autoptr(MtAudioAnalyzer) analyzer = mt_audio_analyzer_new ();
  const char *names[] = { "silence.wav", "quiet.wav", "loud.wav" };
  const char *volumes[] = { NULL, "volume=0.03", "volume=0.5" };
  double valence[3], arousal[3];

  for (int i = 0; i < 3; i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_autoptr(MtAudioAnalysis) analysis = NULL;

      if (volumes[i] == NULL)
        mt_test_audio_make_signal (path, "silence", "", 5.0, 22050, "wavenc");
      else
        mt_test_audio_make_signal (path, "pink-noise", volumes[i], 5.0, 22050, "wavenc");
      analysis = mt_test_audio_analyse (analyzer, path, NULL);
      predict (model, analysis, &valence[i], &arousal[i]);
      g_test_message ("%s: %.1f LUFS, valence %+.3f, arousal %+.3f", names[i], analysis->loudness,
                      valence[i], arousal[i]);
    }
  g_assert_cmpfloat (arousal[2], >, arousal[1] + 0.3);
  g_assert_cmpfloat (arousal[1], >, arousal[0]);
  /* Silence sits at the clip: as low as this model goes. */
  g_assert_cmpfloat (arousal[0], <, -0.95);
}

static void
test_predict_refuses_missing (void)
{
  g_autoptr(MtAudioMoodModel) model = load_good_model ();
  g_autoptr(GError) error = NULL;
  double valence = 7, arousal = 7;

  g_assert_false (mt_audio_mood_model_predict_json (model, "{\"loudness_integrated\": -10}", &valence, &arousal,
                                                    &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "chroma_key_strength"));
  g_clear_error (&error);
  g_assert_false (mt_audio_mood_model_predict_json (model, "[1, 2]", &valence, &arousal, &error));
  g_assert_nonnull (error);
}

typedef struct {
  const char *name;
  const char *member;     /* replaced (or added) with @json; NULL: @json is the whole file */
  const char *json;       /* NULL: the member is removed */
  const char *says;       /* in the message */
} BadModel;

static const BadModel bad_models[] = {
  { "unknown-key", "learning_rate", "0.1", "unknown key “learning_rate”" },
  { "other-features-version", "features_version", "999", "version 999" },
  { "features-version-text", "features_version", "\"1\"", "“features_version”" },
  { "unknown-descriptor", "features", "[\"loudness_integrated\", \"chroma_key_strength\", \"happiness\"]",
    "“happiness” is not a descriptor" },
  { "descriptor-twice", "features", "[\"loudness_integrated\", \"chroma_key_strength\", \"loudness_integrated\"]",
    "twice" },
  { "infinite-mean", "mean", "[-30, \"@HUGE@\", 0]", "“mean”[1] is not a finite number" },
  { "text-weight", "weights", "[[1.5, 1, 0], [1.5, -1, 0], [-1.5, \"a\", 0], [-1.5, 1, 0]]",
    "“weights[2]”[1] is not a finite number" },
  { "short-mean", "mean", "[-30, 0.5]", "“mean” has 2 numbers, 3 expected" },
  { "long-bias", "bias", "[0, 0, 0, 0, 0]", "“bias” has 5 numbers, 4 expected" },
  { "three-rows", "weights", "[[1.5, 1, 0], [1.5, -1, 0], [-1.5, -1, 0]]", "“weights” is not 4 rows" },
  { "short-row", "weights", "[[1.5, 1, 0], [1.5, -1], [-1.5, -1, 0], [-1.5, 1, 0]]",
    "“weights[1]” has 2 numbers, 3 expected" },
  { "zero-scale", "scale", "[10, 0, 1]", "“scale”[1] is not positive" },
  { "negative-scale", "scale", "[10, 0.25, -1]", "“scale”[2] is not positive" },
  { "bad-transform", "transforms", "[\"none\", \"sqrt\", \"log\"]", "“transforms”[1] is not \"log\" or \"none\"" },
  { "short-transforms", "transforms", "[\"none\", \"none\"]", "“transforms”" },
  { "no-log-floor", "log_floor", NULL, "“log_floor”" },
  { "zero-clip", "clip_z", "0", "“clip_z”" },
  { "classes-order", "classes", "[\"Q2\", \"Q1\", \"Q3\", \"Q4\"]", "“classes”" },
  { "no-version", "version", NULL, "“version”" },
  { "no-features", "features", "[]", "“features”" },
  { "not-an-object", NULL, "[1, 2, 3]", "not a JSON object" },
  { "not-json", NULL, "{\"version\": ", "Audio mood model" },
};

static void
test_refused (gconstpointer data)
{
  const BadModel *bad = data;
  g_autoptr(JsonObject) object = model_object ();
  g_autofree char *file = g_strconcat (bad->name, ".json", NULL);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtAudioMoodModel) model = NULL;

  if (bad->member == NULL)
    path = write_model (file, bad->json);
  else
    {
      json_object_remove_member (object, bad->member);
      if (bad->json != NULL)
        {
          g_autoptr(JsonParser) parser = json_parser_new ();

          json_parser_load_from_data (parser, bad->json, -1, &error);
          g_assert_no_error (error);
          json_object_set_member (object, bad->member, json_node_copy (json_parser_get_root (parser)));
        }
      path = write_model_object (file, object);
    }
  if (bad->json != NULL && strstr (bad->json, "@HUGE@") != NULL)
    {
      /* json-glib reads 1e999 as infinity; written as text, since it
       * writes infinity back as “inf”, which is no JSON. */
      g_autofree char *text = NULL;
      g_auto(GStrv) parts = NULL;
      g_autofree char *fixed = NULL;

      g_file_get_contents (path, &text, NULL, &error);
      g_assert_no_error (error);
      parts = g_strsplit (text, "\"@HUGE@\"", -1);
      fixed = g_strjoinv ("1e999", parts);
      g_free (path);
      path = write_model (file, fixed);
    }
  model = mt_audio_mood_model_new_from_file (path, &error);
  g_assert_null (model);
  g_assert_nonnull (error);
  g_test_message ("%s: %s", bad->name, error->message);
  if (strstr (error->message, bad->says) == NULL)
    g_error ("%s: “%s” does not say “%s”", bad->name, error->message, bad->says);
  /* The message names the file. */
  g_assert_nonnull (strstr (error->message, path));
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  dir = mt_test_make_temp_dir ();
  g_test_add_func ("/audio-mood-model/arousal-follows-loudness", test_arousal_follows_loudness);
  g_test_add_func ("/audio-mood-model/predict-refuses-missing", test_predict_refuses_missing);
  for (guint i = 0; i < G_N_ELEMENTS (bad_models); i++)
    {
      g_autofree char *name = g_strconcat ("/audio-mood-model/refuses/", bad_models[i].name, NULL);
      g_test_add_data_func (name, &bad_models[i], test_refused);
    }
  status = g_test_run ();
  mt_test_rmdir (dir);
  g_free (dir);
  return status;
}
