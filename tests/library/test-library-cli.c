/* moodtunes-library from the outside: JSON output, exit codes, messages. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "mt-test-music.h"

typedef struct {
  char *dir;
  char *music;
  char *db;
  char *cli;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *songs[][3] = {
    { "sunny.ogg", "Sunny Party", "Happy Band" },
    { "rain.ogg", "Rain and Tears", "Sad Band" },
    { "storm.ogg", "Iron Storm", "Angry Band" },
  };

  f->dir = mt_test_make_temp_dir ();
  f->music = g_build_filename (f->dir, "music", NULL);
  f->db = g_build_filename (f->dir, "library.db", NULL);
  f->cli = mt_test_find_cli ();
  g_assert_cmpint (g_mkdir (f->music, 0755), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (songs); i++)
    {
      g_autofree char *path = g_build_filename (f->music, songs[i][0], NULL);
      mt_test_make_song (path, songs[i][1], songs[i][2], "CLI Album", NULL, 0.4, &error);
      g_assert_no_error (error);
    }
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  mt_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->music);
  g_free (f->db);
  g_free (f->cli);
}

/* Runs the CLI with --db and the given arguments; returns the exit status. */
static int
run (Fixture *f, char **out, char **err, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, f->cli);
  g_ptr_array_add (argv, "--db");
  g_ptr_array_add (argv, f->db);
  va_start (args, err);
  while ((arg = va_arg (args, const char *)))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &stdout_text, &stderr_text, &error);
  g_assert_no_error (error);
  g_test_message ("stdout: %s\nstderr: %s", stdout_text, stderr_text);
  if (out)
    *out = g_steal_pointer (&stdout_text);
  if (err)
    *err = g_steal_pointer (&stderr_text);
  return g_subprocess_get_exit_status (process);
}

static JsonNode *
parse (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static JsonObject *
find_by_title (JsonArray *songs, const char *title)
{
  for (guint i = 0; i < json_array_get_length (songs); i++)
    {
      JsonObject *song = json_array_get_object_element (songs, i);
      if (g_strcmp0 (json_object_get_string_member (song, "title"), title) == 0)
        return song;
    }
  return NULL;
}

static void
test_import_list_recommend (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) report = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(JsonNode) playlist = NULL;
  JsonObject *rain;
  JsonArray *songs;
  static const char * const fields[] = { "id", "uri", "title", "artist", "album", "genre", "duration", "score",
                                         "valence", "arousal", "tempo", "loudness" };

  g_assert_cmpint (run (f, &out, NULL, "import", "--json", f->music, NULL), ==, 0);
  report = parse (out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (report), "imported"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (report), "skipped"), ==, 0);
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (f, &out, NULL, "list", "--json", NULL), ==, 0);
  list = parse (out);
  songs = json_node_get_array (list);
  g_assert_cmpuint (json_array_get_length (songs), ==, 3);
  for (guint i = 0; i < json_array_get_length (songs); i++)
    for (guint j = 0; j < G_N_ELEMENTS (fields); j++)
      g_assert_true (json_object_has_member (json_array_get_object_element (songs, i), fields[j]));
  rain = find_by_title (songs, "Rain and Tears");
  g_assert_nonnull (rain);
  g_assert_cmpstr (json_object_get_string_member (rain, "artist"), ==, "Sad Band");
  g_assert_cmpstr (json_object_get_string_member (rain, "main_mood"), ==, "sad");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (rain, "uri"), "file:///"));
  g_assert_cmpfloat (json_object_get_double_member (rain, "duration"), >, 0.2);
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (f, &out, NULL, "recommend", "--mood", "sad", "--limit", "2", "--seed", "1", "--json", NULL), ==, 0);
  playlist = parse (out);
  songs = json_node_get_array (playlist);
  g_assert_cmpuint (json_array_get_length (songs), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (songs, 0), "title"), ==, "Rain and Tears");
  g_assert_cmpfloat (json_object_get_double_member (json_array_get_object_element (songs, 0), "score"), >,
                     json_object_get_double_member (json_array_get_object_element (songs, 1), "score"));
  g_clear_pointer (&out, g_free);

  /* Text output too. */
  g_assert_cmpint (run (f, &out, NULL, "recommend", "--mood", "happy", "--strategy", "lift", "--limit", "3", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Sunny Party"));
}

static gint64
id_of (Fixture *f, const char *title)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) list = NULL;
  JsonObject *song;

  g_assert_cmpint (run (f, &out, NULL, "list", "--json", NULL), ==, 0);
  list = parse (out);
  song = find_by_title (json_node_get_array (list), title);
  g_assert_nonnull (song);
  return json_object_get_int_member (song, "id");
}

static double
mood_of (Fixture *f, const char *title, const char *mood)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) list = NULL;
  JsonObject *song;

  g_assert_cmpint (run (f, &out, NULL, "list", "--json", NULL), ==, 0);
  list = parse (out);
  song = find_by_title (json_node_get_array (list), title);
  return json_object_get_double_member (json_object_get_object_member (song, "moods"), mood);
}

static void
test_tag_and_feedback (Fixture *f, gconstpointer data)
{
  g_autofree char *id = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (run (f, NULL, NULL, "import", f->music, NULL), ==, 0);
  id = g_strdup_printf ("%" G_GINT64_FORMAT, id_of (f, "Iron Storm"));

  g_assert_cmpint (run (f, NULL, NULL, "tag", id, "sad", "0.9", NULL), ==, 0);
  g_assert_cmpfloat_with_epsilon (mood_of (f, "Iron Storm", "sad"), 0.9, 1e-9);

  g_assert_cmpint (run (f, NULL, NULL, "feedback", id, "disliked", "--mood", "sad", NULL), ==, 0);
  g_assert_cmpfloat_with_epsilon (mood_of (f, "Iron Storm", "sad"), 0.9 - 0.35, 1e-9);

  g_assert_cmpint (run (f, NULL, &err, "tag", "99999", "sad", "0.5", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "No song with id 99999"));
}

static gint64
report_count (const char *json, const char *member)
{
  g_autoptr(JsonNode) report = parse (json);
  return json_object_get_int_member (json_node_get_object (report), member);
}

/* Songs whose files went away: listed as missing, not recommended, back with
 * their history, forgotten only when asked. */
static void
test_missing_songs (Fixture *f, gconstpointer data)
{
  g_autofree char *away = g_build_filename (f->dir, "away", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *id = NULL;
  g_autoptr(JsonNode) list = NULL;
  JsonArray *songs;
  gint64 rain_id;
  double sad;

  g_assert_cmpint (run (f, NULL, NULL, "import", f->music, NULL), ==, 0);
  rain_id = id_of (f, "Rain and Tears");
  id = g_strdup_printf ("%" G_GINT64_FORMAT, rain_id);
  g_assert_cmpint (run (f, NULL, NULL, "feedback", id, "liked", "--mood", "sad", NULL), ==, 0);
  sad = mood_of (f, "Rain and Tears", "sad");

  g_assert_cmpint (g_rename (f->music, away), ==, 0);
  g_assert_cmpint (run (f, &out, NULL, "import", "--json", f->music, NULL), ==, 0);
  g_assert_cmpint (report_count (out, "missing"), ==, 3);
  g_assert_cmpint (report_count (out, "removed"), ==, 0);
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (f, &out, NULL, "list", "--json", NULL), ==, 0);
  list = parse (out);
  songs = json_node_get_array (list);
  g_assert_cmpuint (json_array_get_length (songs), ==, 3);
  for (guint i = 0; i < json_array_get_length (songs); i++)
    {
      JsonObject *song = json_array_get_object_element (songs, i);
      g_assert_true (json_object_get_boolean_member (song, "missing"));
      g_assert_cmpint (json_object_get_int_member (song, "missing_since"), >, 0);
    }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&list, json_node_unref);
  g_assert_cmpint (run (f, &out, NULL, "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "missing since"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (f, NULL, &err, "recommend", "--mood", "sad", NULL), ==, 3);
  g_assert_nonnull (strstr (err, "all 3 songs of the music library are missing"));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (g_rename (away, f->music), ==, 0);
  g_assert_cmpint (run (f, &out, NULL, "import", "--json", f->music, NULL), ==, 0);
  g_assert_cmpint (report_count (out, "restored"), ==, 3);
  g_assert_cmpint (report_count (out, "imported"), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (id_of (f, "Rain and Tears"), ==, rain_id);
  g_assert_cmpfloat_with_epsilon (mood_of (f, "Rain and Tears", "sad"), sad, 1e-9);
  g_assert_cmpint (run (f, &out, NULL, "list", "--json", NULL), ==, 0);
  g_assert_null (strstr (out, "\"missing\" : true"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (f, &out, NULL, "recommend", "--mood", "sad", "--limit", "1", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Rain and Tears"));
  g_clear_pointer (&out, g_free);

  /* Forgetting: only the songs missing long enough, unless told all. */
  g_assert_cmpint (g_rename (f->music, away), ==, 0);
  g_assert_cmpint (run (f, NULL, NULL, "import", f->music, NULL), ==, 0);
  g_assert_cmpint (run (f, &out, NULL, "forget-missing", "--older-than", "1", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "0 missing songs"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (f, &out, NULL, "forget-missing", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "3 missing songs"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (f, &out, NULL, "list", "--json", NULL), ==, 0);
  list = parse (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 0);
}

/* Two sounds long enough to analyse, next to the fixture's three short
 * songs (0.4 s: too short, so they fail with that reason). */
static void
make_sounds (Fixture *f)
{
  g_autofree char *loud = g_build_filename (f->music, "loud.ogg", NULL);
  g_autofree char *quiet = g_build_filename (f->music, "quiet.ogg", NULL);
  g_autoptr(GError) error = NULL;

  mt_test_make_sound (loud, "Loud Noise", "white-noise", 0.9, 4.0, &error);
  g_assert_no_error (error);
  mt_test_make_sound (quiet, "Quiet Tone", "sine", 0.05, 4.0, &error);
  g_assert_no_error (error);
}

static void
assert_audio_null (JsonObject *song)
{
  static const char * const fields[] = { "valence", "arousal", "tempo", "loudness" };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_assert_true (json_object_has_member (song, fields[i]));
      g_assert_true (json_object_get_null_member (song, fields[i]));
    }
}

/* Returns the song's arousal. */
static double
assert_audio_set (JsonObject *song)
{
  static const char * const unit[] = { "valence", "arousal" };
  double value;

  for (guint i = 0; i < G_N_ELEMENTS (unit); i++)
    {
      g_assert_false (json_object_get_null_member (song, unit[i]));
      value = json_object_get_double_member (song, unit[i]);
      g_assert_cmpfloat (value, >=, -1.0);
      g_assert_cmpfloat (value, <=, 1.0);
    }
  /* null only when no beat was found */
  g_assert_true (json_object_get_null_member (song, "tempo") ||
                 json_object_get_double_member (song, "tempo") > 0);
  g_assert_false (json_object_get_null_member (song, "loudness"));
  g_assert_cmpfloat (json_object_get_double_member (song, "loudness"), <, 0.0);
  return json_object_get_double_member (song, "arousal");
}

/* The songs' sound in list and recommend: the two sounds analysed, the
 * short songs not. */
static void
check_audio_json (Fixture *f)
{
  static const char * const short_songs[] = { "Sunny Party", "Rain and Tears", "Iron Storm" };
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(JsonNode) playlist = NULL;
  JsonArray *songs;
  double loud, quiet;

  g_assert_cmpint (run (f, &out, NULL, "list", "--json", NULL), ==, 0);
  list = parse (out);
  songs = json_node_get_array (list);
  g_assert_cmpuint (json_array_get_length (songs), ==, 5);
  loud = assert_audio_set (find_by_title (songs, "Loud Noise"));
  quiet = assert_audio_set (find_by_title (songs, "Quiet Tone"));
  g_assert_cmpfloat (loud, >, quiet);
  for (guint i = 0; i < G_N_ELEMENTS (short_songs); i++)
    assert_audio_null (find_by_title (songs, short_songs[i]));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (f, &out, NULL, "recommend", "--mood", "happy", "--limit", "5", "--seed", "1", "--json",
                        NULL), ==, 0);
  playlist = parse (out);
  songs = json_node_get_array (playlist);
  g_assert_cmpuint (json_array_get_length (songs), ==, 5);
  g_assert_cmpfloat (assert_audio_set (find_by_title (songs, "Loud Noise")), ==, loud);
  assert_audio_null (find_by_title (songs, "Sunny Party"));
}

static JsonObject *
member_object (JsonNode *root, const char *name)
{
  return json_object_get_object_member (json_node_get_object (root), name);
}

/* import analyses the sound after the tags; analyze then has nothing to do. */
static void
test_import_analyses (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) report = NULL;
  g_autoptr(JsonNode) again = NULL;
  JsonObject *analysis;
  JsonArray *failures;

  make_sounds (f);
  g_assert_cmpint (run (f, &out, NULL, "import", "--json", "--jobs", "2", f->music, NULL), ==, 0);
  report = parse (out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (report), "imported"), ==, 5);
  analysis = member_object (report, "analysis");
  g_assert_nonnull (analysis);
  g_assert_cmpint (json_object_get_int_member (analysis, "total"), ==, 5);
  g_assert_cmpint (json_object_get_int_member (analysis, "analysed"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (analysis, "failed"), ==, 3);
  g_assert_false (json_object_get_boolean_member (analysis, "cancelled"));
  failures = json_object_get_array_member (analysis, "failures");
  g_assert_cmpuint (json_array_get_length (failures), ==, 3);
  for (guint i = 0; i < json_array_get_length (failures); i++)
    {
      JsonObject *failure = json_array_get_object_element (failures, i);

      g_assert_true (g_str_has_prefix (json_object_get_string_member (failure, "path"), f->music));
      g_assert_nonnull (strstr (json_object_get_string_member (failure, "reason"), "too short"));
    }
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (analysis, "library"), "pending"), ==, 0);
  g_clear_pointer (&out, g_free);
  check_audio_json (f);

  g_assert_cmpint (run (f, &out, NULL, "analyze", "--json", NULL), ==, 0);
  again = parse (out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (again), "total"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (again), "analysed"), ==, 0);
  analysis = member_object (again, "library");
  g_assert_cmpint (json_object_get_int_member (analysis, "analysed"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (analysis, "failed"), ==, 3);
  g_clear_pointer (&out, g_free);

  /* Text: the import's summary, then the analysis's. */
  g_assert_cmpint (run (f, &out, NULL, "import", f->music, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "5 unchanged"));
  g_assert_nonnull (strstr (out, "Analysed 0 songs, 0 failed"));
}

/* --no-audio reads the tags only; analyze does the rest later. */
static void
test_no_audio_then_analyze (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) report = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autofree char *failed_line = g_strdup_printf ("  failed %s/sunny.ogg: too short", f->music);
  JsonArray *songs;

  make_sounds (f);
  g_assert_cmpint (run (f, &out, NULL, "import", "--no-audio", "--json", f->music, NULL), ==, 0);
  report = parse (out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (report), "imported"), ==, 5);
  g_assert_true (json_object_get_null_member (json_node_get_object (report), "analysis"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (f, &out, NULL, "list", "--json", NULL), ==, 0);
  list = parse (out);
  songs = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (songs); i++)
    assert_audio_null (json_array_get_object_element (songs, i));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (f, &out, NULL, "analyze", "--jobs", "1", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Analysed 2 songs, 3 failed\n"));
  g_assert_nonnull (strstr (out, failed_line));
  g_clear_pointer (&out, g_free);
  check_audio_json (f);

  /* Plain list: the tempo where a beat was found. */
  g_assert_cmpint (run (f, &out, NULL, "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, " BPM]"));
}

static void
test_errors (Fixture *f, gconstpointer data)
{
  struct { int status; const char *expect; const char *args[8]; } cases[] = {
    { 2, "unknown mood “hapy”", { "recommend", "--mood", "hapy" } },
    { 2, "--mood is required", { "recommend" } },
    { 2, "match", { "recommend", "--mood", "sad", "--strategy", "boost" } },
    { 2, "unknown command", { "dance" } },
    { 2, "missing command", { NULL } },
    { 2, "--mood is required", { "feedback", "1", "liked" } },
    { 2, "played, skipped", { "feedback", "1", "loved", "--mood", "sad" } },
    { 2, "WEIGHT", { "tag", "1", "sad", "lots" } },
    { 2, "not a song id", { "tag", "abc", "sad", "0.5" } },
    { 3, "import", { "recommend", "--mood", "sad" } },   /* empty library */
    { 1, "no such folder", { "import", "/nonexistent/music" } },
    { 2, "--older-than", { "forget-missing", "--older-than", "-1" } },
    { 2, "forget-missing takes no arguments", { "forget-missing", "now" } },
    { 2, "--jobs", { "analyze", "--jobs", "-1" } },
    { 2, "analyze takes no arguments", { "analyze", "now" } },
    { 2, "--jobs", { "import", "--jobs", "-2", "/nonexistent/music" } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *err = NULL;
      const char **a = cases[i].args;
      int status = run (f, NULL, &err, a[0], a[1], a[2], a[3], a[4], a[5], NULL);

      g_assert_cmpint (status, ==, cases[i].status);
      g_assert_nonnull (strstr (err, cases[i].expect));
    }
}

static void
test_play (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (run (f, NULL, NULL, "import", f->music, NULL), ==, 0);
  g_assert_cmpint (run (f, &out, NULL, "play", "--mood", "happy", "--limit", "2",
                        "--audio-sink", "fakesink sync=false", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "▶ 1/2"));
  g_assert_nonnull (strstr (out, "▶ 2/2"));
  g_assert_nonnull (strstr (out, "(played)"));
  g_clear_pointer (&out, g_free);

  /* The plays were recorded. */
  g_assert_cmpint (run (f, &out, NULL, "list", "--json", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"play_count\" : 1"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/library-cli/import-list-recommend", test_import_list_recommend);
  ADD ("/library-cli/tag-and-feedback", test_tag_and_feedback);
  ADD ("/library-cli/missing-songs", test_missing_songs);
  ADD ("/library-cli/import-analyses", test_import_analyses);
  ADD ("/library-cli/no-audio-then-analyze", test_no_audio_then_analyze);
  ADD ("/library-cli/errors", test_errors);
  ADD ("/library-cli/play", test_play);
#undef ADD

  return g_test_run ();
}
