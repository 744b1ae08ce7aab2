/* MtAudioMoods: loading and checking the valence/arousal -> mood mapping,
 * and that the shipped mapping points each corner of the plane at its mood. */
#include "config.h"

#include <math.h>
#include <json-glib/json-glib.h>

#include "mt-audio-moods.h"
#include "mt-data-dirs.h"
#include "mt-test-music.h"

/* Stands for a number JSON cannot hold; replaced in the file's text. */
#define NOT_FINITE_MARK "123456.789"

static MtMood
best_mood (MtAudioMoods *moods,
           double        valence,
           double        arousal)
{
  double w[MT_N_MOODS];
  MtMood best = MT_MOOD_NONE;

  mt_audio_moods_apply (moods, valence, arousal, w);
  for (int i = 0; i < MT_N_MOODS; i++)
    if (best == MT_MOOD_NONE || w[i] > w[best])
      best = i;
  return best;
}

static void
test_default (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtAudioMoods) moods = mt_audio_moods_new_default (&error);
  double w[MT_N_MOODS];

  g_assert_no_error (error);
  g_assert_cmpfloat (mt_audio_moods_get_tag_weight (moods), >=, 0.0);
  g_assert_cmpfloat (mt_audio_moods_get_tag_weight (moods), <=, 1.0);
  g_assert_cmpuint (strlen (mt_audio_moods_get_fingerprint (moods)), ==, 12);

  /* Every weight in [0, 1] over the whole plane, and beyond it (clamped). */
  for (double v = -1.0; v <= 1.0; v += 0.125)
    for (double a = -1.0; a <= 1.0; a += 0.125)
      {
        mt_audio_moods_apply (moods, v, a, w);
        for (int i = 0; i < MT_N_MOODS; i++)
          g_assert_true (w[i] >= 0.0 && w[i] <= 1.0);
      }
  {
    double far[MT_N_MOODS], edge[MT_N_MOODS];
    mt_audio_moods_apply (moods, 5.0, -7.0, far);
    mt_audio_moods_apply (moods, 1.0, -1.0, edge);
    for (int i = 0; i < MT_N_MOODS; i++)
      g_assert_cmpfloat (far[i], ==, edge[i]);
  }
}

/* The sense of the mapping: the Russell quadrants. */
static void
test_sense (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtAudioMoods) moods = mt_audio_moods_new_default (&error);
  double w[MT_N_MOODS], previous = -1.0;

  g_assert_no_error (error);
  g_assert_cmpint (best_mood (moods, 0.8, 0.7), ==, MT_MOOD_HAPPY);      /* positive, energetic */
  g_assert_cmpint (best_mood (moods, -0.8, -0.8), ==, MT_MOOD_SAD);      /* negative, calm */
  g_assert_cmpint (best_mood (moods, -0.8, 0.8), ==, MT_MOOD_ANGRY);     /* negative, energetic */
  g_assert_cmpint (best_mood (moods, 0.8, -0.8), ==, MT_MOOD_NEUTRAL);   /* positive, calm */
  g_assert_cmpint (best_mood (moods, 0.2, 1.0), ==, MT_MOOD_SURPRISE);

  /* Happier as the valence rises (at a happy arousal), up to happy's centre. */
  for (double v = -1.0; v <= 0.5; v += 0.1)
    {
      mt_audio_moods_apply (moods, v, 0.5, w);
      g_assert_cmpfloat (w[MT_MOOD_HAPPY], >, previous);
      previous = w[MT_MOOD_HAPPY];
    }
  /* Sadder as the arousal falls, at a sad valence. */
  previous = -1.0;
  for (double a = 1.0; a >= -0.5; a -= 0.1)
    {
      mt_audio_moods_apply (moods, -0.6, a, w);
      g_assert_cmpfloat (w[MT_MOOD_SAD], >, previous);
      previous = w[MT_MOOD_SAD];
    }
  /* Calm music is less angry than energetic music. */
  {
    double calm[MT_N_MOODS], loud[MT_N_MOODS];
    mt_audio_moods_apply (moods, -0.5, -0.8, calm);
    mt_audio_moods_apply (moods, -0.5, 0.8, loud);
    g_assert_cmpfloat (calm[MT_MOOD_ANGRY], <, loud[MT_MOOD_ANGRY]);
    g_assert_cmpfloat (calm[MT_MOOD_SAD], >, loud[MT_MOOD_SAD]);
  }
}

/* The shipped file, with @path ("moods.happy.sigma") set to the JSON @value,
 * or removed when @value is NULL, written to @out. */
static void
write_edited (const char *out,
              const char *path,
              const char *value)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shipped = mt_data_dirs_find_file (MT_AUDIO_MOODS_FILE, &error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  g_autofree char *edited = NULL;
  JsonObject *object;
  guint n = g_strv_length (parts);

  g_assert_no_error (error);
  g_assert_true (json_parser_load_from_file (parser, shipped, &error));
  object = json_node_get_object (json_parser_get_root (parser));
  for (guint i = 0; i + 1 < n; i++)
    object = json_object_get_object_member (object, parts[i]);
  if (value == NULL)
    json_object_remove_member (object, parts[n - 1]);
  else
    {
      JsonNode *node = json_from_string (value, &error);
      g_assert_no_error (error);
      json_object_set_member (object, parts[n - 1], node);
    }
  json_generator_set_root (generator, json_parser_get_root (parser));
  text = json_generator_to_data (generator, NULL);
  {
    g_auto(GStrv) pieces = g_strsplit (text, NOT_FINITE_MARK, -1);
    edited = g_strjoinv ("1e999", pieces);
  }
  g_assert_true (g_file_set_contents (out, edited, -1, &error));
}

static void
test_bad_files (void)
{
  g_autofree char *dir = mt_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "audio-moods.json", NULL);
  g_autoptr(GError) error = NULL;
  const struct { const char *path; const char *value; const char *expect; } cases[] = {
    { "tag-weight", "0.3", "unknown key “tag-weight”" },
    { "tag_weight", NULL, "“tag_weight” is missing" },
    { "tag_weight", "1.5", "tag_weight: 1.5 is outside [0, 1]" },
    { "tag_weight", "\"much\"", "tag_weight is not a number" },
    { "tag_weight", NOT_FINITE_MARK, "tag_weight is not a finite number" },
    { "version", "2", "version must be 1" },
    { "comment", NULL, "“comment” is missing" },
    { "provenance", "7", "provenance must be a string" },
    { "moods", "[]", "moods must be an object" },
    { "moods.calm", "{\"valence\": 0, \"arousal\": 0, \"sigma\": 1}", "moods: unknown key “calm”" },
    { "moods.fear", NULL, "moods: “fear” is missing" },
    { "moods.sad", "0.5", "moods.sad must be an object" },
    { "moods.happy.colour", "1", "moods.happy: unknown key “colour”" },
    { "moods.happy.sigma", NULL, "moods.happy: “sigma” is missing" },
    { "moods.happy.valence", "1.2", "moods.happy.valence: 1.2 is outside [-1, 1]" },
    { "moods.sad.arousal", "-1.01", "moods.sad.arousal: -1.01 is outside [-1, 1]" },
    { "moods.sad.arousal", "null", "moods.sad.arousal is not a number" },
    { "moods.angry.sigma", "0", "moods.angry.sigma: 0 is outside (0, 3]" },
    { "moods.angry.sigma", NOT_FINITE_MARK, "moods.angry.sigma is not a finite number" },
  };

  /* The writer itself changes nothing that matters. */
  write_edited (path, "comment", "\"another comment\"");
  {
    g_autoptr(MtAudioMoods) shipped = mt_audio_moods_new_default (&error);
    g_autoptr(MtAudioMoods) moods = mt_audio_moods_new_from_file (path, &error);
    g_assert_no_error (error);
    /* A new comment is not a new mapping; a new number is. */
    g_assert_cmpstr (mt_audio_moods_get_fingerprint (moods), ==, mt_audio_moods_get_fingerprint (shipped));
    write_edited (path, "moods.sad.sigma", "0.5");
    g_clear_object (&moods);
    moods = mt_audio_moods_new_from_file (path, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (mt_audio_moods_get_fingerprint (moods), !=, mt_audio_moods_get_fingerprint (shipped));
  }

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MtAudioMoods *moods;

      write_edited (path, cases[i].path, cases[i].value);
      moods = mt_audio_moods_new_from_file (path, &error);
      g_assert_null (moods);
      g_assert_nonnull (error);
      g_test_message ("%s = %s -> %s", cases[i].path, cases[i].value ? cases[i].value : "(removed)", error->message);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, cases[i].expect));
      g_assert_nonnull (strstr (error->message, path));
      g_clear_error (&error);
    }

  g_assert_true (g_file_set_contents (path, "[1]", -1, NULL));
  g_assert_null (mt_audio_moods_new_from_file (path, &error));
  g_assert_nonnull (strstr (error->message, "top level"));
  g_clear_error (&error);
  g_assert_null (mt_audio_moods_new_from_file ("/nonexistent/audio-moods.json", &error));
  g_assert_nonnull (strstr (error->message, "could not be read"));
  mt_test_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/audio-moods/default", test_default);
  g_test_add_func ("/audio-moods/sense", test_sense);
  g_test_add_func ("/audio-moods/bad-files", test_bad_files);

  return g_test_run ();
}
