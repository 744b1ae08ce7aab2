/* moodtunes-library: the music library from the command line.
 *
 *   moodtunes-library [--db FILE] import [--no-audio] [--jobs N] [DIR…]
 *   moodtunes-library [--db FILE] analyze [--jobs N] [--json]
 *   moodtunes-library [--db FILE] list [--json]
 *   moodtunes-library [--db FILE] recommend --mood MOOD [--strategy match|lift] [--limit N] [--json]
 *   moodtunes-library [--db FILE] tag SONG-ID MOOD WEIGHT
 *   moodtunes-library [--db FILE] feedback SONG-ID played|skipped|liked|disliked --mood MOOD
 *   moodtunes-library [--db FILE] play --mood MOOD [--strategy …] [--limit N]
 *   moodtunes-library [--db FILE] forget-missing [--older-than DAYS]
 *
 * Exit status: 0 done, 1 failed, 2 bad usage, 3 nothing to play (the library
 * is empty, or every song in it is missing).
 */
#define G_LOG_DOMAIN "moodtunes-library"

#include "config.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "mt-audio-features.h"
#include "mt-library.h"
#include "mt-library-analyzer.h"
#include "mt-library-importer.h"
#include "mt-mood-strategies.h"
#include "mt-player.h"
#include "mt-recommender.h"
#include "mt-session.h"

#define EXIT_USAGE 2
#define EXIT_EMPTY 3

static char *db_path;

static const char *usage_text =
  "Commands:\n"
  "  import [--batch N] [--no-audio] [--jobs N] [--json] [DIR…]\n"
  "                                       add the music in DIR (default: your Music folder),\n"
  "                                       then analyse its sound (unless --no-audio)\n"
  "  analyze [--jobs N] [--json]          analyse the sound of the songs not analysed yet\n"
  "  list [--json]                        list the songs with their moods\n"
  "  recommend --mood MOOD [--strategy match|lift] [--limit N] [--seed N] [--json]\n"
  "  tag SONG-ID MOOD WEIGHT              set how much a song fits a mood (0..1)\n"
  "  feedback SONG-ID played|skipped|liked|disliked --mood MOOD\n"
  "  play --mood MOOD [--strategy match|lift] [--limit N]\n"
  "  forget-missing [--older-than DAYS]   remove songs whose files are gone, with their history\n"
  "\n"
  "Moods: angry, disgust, fear, happy, sad, surprise, neutral.";

static int
fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
fail (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("moodtunes-library: %s\n", message);
  return EXIT_FAILURE;
}

static int
usage_error (const char *message)
{
  g_printerr ("moodtunes-library: %s\nTry “moodtunes-library --help”.\n", message);
  return EXIT_USAGE;
}

static MtLibrary *
open_library (GError **error)
{
  g_autofree char *path = db_path ? g_strdup (db_path) : mt_library_dup_default_path ();
  return mt_library_open (path, error);
}

/* Parses the options of one command; leaves the positional arguments. */
static gboolean
parse_command_options (const char    *command,
                       const char    *parameters,
                       GOptionEntry  *entries,
                       int           *argc,
                       char        ***argv,
                       int           *status)
{
  g_autoptr(GOptionContext) context = g_option_context_new (parameters);
  g_autoptr(GError) error = NULL;
  g_autofree char *summary = g_strdup_printf ("moodtunes-library %s", command);

  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *status = usage_error (error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_mood (const char *text,
            MtMood     *mood,
            int        *status)
{
  if (text == NULL)
    {
      *status = usage_error ("--mood is required");
      return FALSE;
    }
  if (!mt_mood_from_string (text, mood))
    {
      g_autofree char *message = g_strdup_printf ("unknown mood “%s” (known: %s)", text, mt_mood_list_names ());
      *status = usage_error (message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_song_id (const char *text,
               gint64     *id,
               int        *status)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL))
    {
      g_autofree char *message = g_strdup_printf ("“%s” is not a song id (a number from “list”)", text);
      *status = usage_error (message);
      return FALSE;
    }
  *id = (gint64) value;
  return TRUE;
}

/* @value, or null when it is not known (not a finite number, or for a
 * tempo, no beat found). */
static void
add_number_or_null (JsonBuilder *builder,
                    const char  *name,
                    double       value,
                    gboolean     known)
{
  json_builder_set_member_name (builder, name);
  if (known && isfinite (value))
    json_builder_add_double_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
print_json (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = NULL;

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

static void
add_song_json (JsonBuilder  *builder,
               const MtSong *song,
               gboolean      with_score)
{
  MtMood main_mood = mt_song_get_main_mood (song);

#define ADD_STRING(name, value) \
  json_builder_set_member_name (builder, name); \
  if (value) json_builder_add_string_value (builder, value); else json_builder_add_null_value (builder);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, song->id);
  ADD_STRING ("uri", song->uri);
  ADD_STRING ("title", song->title);
  ADD_STRING ("artist", song->artist);
  ADD_STRING ("album", song->album);
  ADD_STRING ("genre", song->genre);
  json_builder_set_member_name (builder, "duration");
  json_builder_add_double_value (builder, song->duration_ms / 1000.0);
  json_builder_set_member_name (builder, "score");
  if (with_score)
    json_builder_add_double_value (builder, song->score);
  else
    json_builder_add_null_value (builder);
  ADD_STRING ("main_mood", mt_mood_to_string (main_mood));
  json_builder_set_member_name (builder, "moods");
  json_builder_begin_object (builder);
  for (int i = 0; i < MT_N_MOODS; i++)
    {
      json_builder_set_member_name (builder, mt_mood_to_string (i));
      json_builder_add_double_value (builder, song->moods[i]);
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "play_count");
  json_builder_add_int_value (builder, song->play_count);
  json_builder_set_member_name (builder, "missing");
  json_builder_add_boolean_value (builder, song->missing_since != 0);
  json_builder_set_member_name (builder, "missing_since");
  if (song->missing_since != 0)
    json_builder_add_int_value (builder, song->missing_since);
  else
    json_builder_add_null_value (builder);
  /* From the song's own sound; null until it is analysed. */
  add_number_or_null (builder, "valence", song->valence, TRUE);
  add_number_or_null (builder, "arousal", song->arousal, TRUE);
  add_number_or_null (builder, "tempo", song->tempo, song->tempo > 0);
  add_number_or_null (builder, "loudness", song->loudness, TRUE);
  json_builder_end_object (builder);
#undef ADD_STRING
}

static void
print_songs_json (GPtrArray *songs,
                  gboolean   with_score)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_array (builder);
  for (guint i = 0; i < songs->len; i++)
    add_song_json (builder, g_ptr_array_index (songs, i), with_score);
  json_builder_end_array (builder);
  print_json (builder);
}

/* "name": [{"path": …, "reason": …}, …] of MtImportSkip. */
static void
add_skips_json (JsonBuilder     *builder,
                const char      *name,
                const GPtrArray *skips)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; i < skips->len; i++)
    {
      MtImportSkip *skip = g_ptr_array_index (skips, i);
      g_autofree char *display = g_filename_display_name (skip->path);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, display);
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, skip->reason);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* "  skipped FILE: REASON" lines of MtImportSkip. */
static void
print_skips (const char      *what,
             const GPtrArray *skips)
{
  for (guint i = 0; i < skips->len; i++)
    {
      MtImportSkip *skip = g_ptr_array_index (skips, i);
      g_autofree char *display = g_filename_display_name (skip->path);

      g_print ("  %s %s: %s\n", what, display, skip->reason);
    }
}

static char *
format_duration (gint64 ms)
{
  gint64 s = (ms + 500) / 1000;
  return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d", s / 60, (int) (s % 60));
}

/* "  (missing since 2024-05-01)" for a song whose file is gone, else "". */
static char *
format_missing (const MtSong *song)
{
  g_autoptr(GDateTime) since = NULL;
  g_autofree char *date = NULL;

  if (song->missing_since == 0)
    return g_strdup ("");
  since = g_date_time_new_from_unix_local (song->missing_since);
  date = since ? g_date_time_format (since, "%Y-%m-%d") : NULL;
  return g_strdup_printf ("  (missing since %s)", date ? date : "?");
}

static void
print_song_line (const MtSong *song,
                 gboolean      with_score)
{
  g_autofree char *title = mt_song_dup_display_title (song);
  g_autofree char *duration = format_duration (song->duration_ms);
  g_autofree char *missing = format_missing (song);
  /* " · 72 BPM" once its sound is analysed and a beat was found. */
  g_autofree char *tempo = isfinite (song->tempo) && song->tempo > 0
                           ? g_strdup_printf (" · %.0f BPM", song->tempo) : g_strdup ("");
  MtMood mood = mt_song_get_main_mood (song);

  if (with_score)
    g_print ("%6" G_GINT64_FORMAT "  %5.3f  %s — %s (%s)  [%s %.2f%s]\n", song->id, song->score,
             song->artist ? song->artist : "Unknown artist", title, duration,
             mood == MT_MOOD_NONE ? "no mood" : mt_mood_to_string (mood),
             mood == MT_MOOD_NONE ? 0.0 : song->moods[mood], tempo);
  else
    g_print ("%6" G_GINT64_FORMAT "  %s — %s (%s)  [%s %.2f%s]%s\n", song->id,
             song->artist ? song->artist : "Unknown artist", title, duration,
             mood == MT_MOOD_NONE ? "no mood" : mt_mood_to_string (mood),
             mood == MT_MOOD_NONE ? 0.0 : song->moods[mood], tempo, missing);
}

/* analysis of the songs' sound: after import, and analyze */

/* Not on a terminal, a progress line every this many songs (a log of a
 * long run). */
#define ANALYSIS_LINE_EVERY 100

typedef struct {
  gboolean tty;
  gboolean shown;       /* a progress line is on the terminal */
  guint    last_line;   /* songs done at the last line written */
} AnalysisProgress;

static void
on_analysis_progress (MtLibraryAnalyzer      *analyzer,
                      const MtAnalysisReport *report,
                      gpointer                data)
{
  AnalysisProgress *progress = data;
  guint done = report->analysed + report->failed;

  if (report->total == 0)
    return;
  if (progress->tty)
    {
      g_printerr ("\rAnalysing %u/%u…   ", done, report->total);
      progress->shown = TRUE;
    }
  else if (done >= progress->last_line + ANALYSIS_LINE_EVERY)
    {
      g_printerr ("Analysed %u/%u songs\n", done, report->total);
      progress->last_line = done;
    }
}

/* Analyses the sound of the library's songs not analysed yet (and derives
 * the weights of the others again from their stored descriptors after a new
 * model), with progress on stderr.  @jobs: helpers side by side, 0 for one
 * per core. */
static MtAnalysisReport *
analyse_library (MtLibrary  *library,
                 int         jobs,
                 GError    **error)
{
  g_autoptr(MtLibraryAnalyzer) analyzer = mt_library_analyzer_new (library);
  AnalysisProgress progress = { isatty (STDERR_FILENO), FALSE, 0 };
  MtAnalysisReport *report;

  if (jobs > 0)
    mt_library_analyzer_set_n_jobs (analyzer, (guint) jobs);
  g_signal_connect (analyzer, "progress", G_CALLBACK (on_analysis_progress), &progress);
  report = mt_library_analyzer_run (analyzer, NULL, error);
  if (progress.shown)
    g_printerr ("\n");
  return report;
}

static void
add_counts_json (JsonBuilder *builder,
                 const char  *const names[],
                 const gint64 values[],
                 guint        n)
{
  for (guint i = 0; i < n; i++)
    {
      json_builder_set_member_name (builder, names[i]);
      json_builder_add_int_value (builder, values[i]);
    }
}

/* The report as a JSON object, with where the library stands after it. */
static void
add_analysis_json (JsonBuilder            *builder,
                   MtLibrary              *library,
                   const MtAnalysisReport *report)
{
  static const char *const names[] = { "total", "analysed", "failed", "rescored", "helper_restarts" };
  static const char *const library_names[] = { "analysed", "failed", "pending" };
  const gint64 values[] = { report->total, report->analysed, report->failed, report->rescored,
                            report->helper_restarts };
  gint64 library_values[3] = { 0 };

  json_builder_begin_object (builder);
  add_counts_json (builder, names, values, G_N_ELEMENTS (names));
  json_builder_set_member_name (builder, "cancelled");
  json_builder_add_boolean_value (builder, report->cancelled);
  add_skips_json (builder, "failures", report->failures);
  /* Of the songs whose files are there. */
  json_builder_set_member_name (builder, "library");
  if (mt_library_count_audio (library, MT_AUDIO_FEATURES_VERSION, &library_values[0], &library_values[1],
                              &library_values[2], NULL))
    {
      json_builder_begin_object (builder);
      add_counts_json (builder, library_names, library_values, G_N_ELEMENTS (library_names));
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
}

static void
print_analysis (const MtAnalysisReport *report)
{
  g_print ("Analysed %u songs, %u failed", report->analysed, report->failed);
  if (report->rescored > 0)
    g_print (", %u rescored from their stored descriptors (new model)", report->rescored);
  g_print ("\n");
  print_skips ("failed", report->failures);
}

static gboolean
check_jobs (int  jobs,
            int *status)
{
  if (jobs >= 0)
    return TRUE;
  *status = usage_error ("--jobs must be 0 (one per core) or more");
  return FALSE;
}

/* import */

static void
on_progress (MtLibraryImporter    *importer,
             const MtImportReport *report,
             gpointer              data)
{
  g_printerr ("\r%u files seen, %u read, %u imported, %u skipped   ",
              report->files_seen, report->files_read, report->imported, report->skipped);
}

static int
cmd_import (int    argc,
            char **argv)
{
  int batch = 64;
  int jobs = 0;
  gboolean json = FALSE;
  gboolean no_audio = FALSE;
  GOptionEntry entries[] = {
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Files per transaction (default 64)", "N" },
    { "no-audio", 0, 0, G_OPTION_ARG_NONE, &no_audio, "Read the tags only; analyse the sound later (“analyze”)", NULL },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Songs analysed side by side (default 0: one per core)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the report as JSON", NULL },
    { NULL }
  };
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(MtLibraryImporter) importer = NULL;
  g_autoptr(MtImportReport) report = NULL;
  g_autoptr(MtAnalysisReport) analysis = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) analysis_error = NULL;
  g_autoptr(GPtrArray) folders = g_ptr_array_new ();
  int status = 0;

  if (!parse_command_options ("import", "[DIR…]", entries, &argc, &argv, &status))
    return status;
  if (batch < 1)
    return usage_error ("--batch must be at least 1");
  if (!check_jobs (jobs, &status))
    return status;
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (folders, argv[i]);
  if (folders->len == 0)
    {
      const char *music = g_get_user_special_dir (G_USER_DIRECTORY_MUSIC);
      if (music == NULL)
        return usage_error ("no folder given and no XDG Music folder set up");
      g_ptr_array_add (folders, (char *) music);
    }
  g_ptr_array_add (folders, NULL);

  if (!(library = open_library (&error)))
    return fail ("%s", error->message);
  importer = mt_library_importer_new (library);
  mt_library_importer_set_batch_size (importer, (guint) batch);
  if (isatty (STDERR_FILENO))
    g_signal_connect (importer, "progress", G_CALLBACK (on_progress), NULL);

  report = mt_library_importer_import (importer, (const char * const *) folders->pdata, NULL, &error);
  if (isatty (STDERR_FILENO))
    g_printerr ("\n");
  if (report == NULL)
    return fail ("%s", error->message);
  /* The tags are in (committed): the sound is analysed after them. */
  if (!no_audio)
    analysis = analyse_library (library, jobs, &analysis_error);

  if (json)
    {
      static const char *const names[] = {
        "files_seen", "imported", "updated", "moved", "unchanged", "missing", "restored", "removed",
        "skipped", "files_read", "reader_restarts",
      };
      const gint64 values[] = {
        report->files_seen, report->imported, report->updated, report->moved, report->unchanged,
        report->missing, report->restored, report->removed, report->skipped, report->files_read,
        report->reader_restarts,
      };
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      add_counts_json (builder, names, values, G_N_ELEMENTS (names));
      add_skips_json (builder, "skips", report->skips);
      /* null with --no-audio, or when the analysis could not run. */
      json_builder_set_member_name (builder, "analysis");
      if (analysis != NULL)
        add_analysis_json (builder, library, analysis);
      else
        json_builder_add_null_value (builder);
      json_builder_end_object (builder);
      print_json (builder);
    }
  else
    {
      gint64 missing = mt_library_count_missing (library, NULL);

      g_print ("%u audio files: %u imported, %u updated, %u moved, %u unchanged, %u restored, "
               "%u newly missing, %u removed, %u skipped\n",
               report->files_seen, report->imported, report->updated, report->moved,
               report->unchanged, report->restored, report->missing, report->removed, report->skipped);
      print_skips ("skipped", report->skips);
      if (missing > 0)
        g_print ("%" G_GINT64_FORMAT " songs of the library are missing: they are kept with their history "
                 "and come back when their files do (“moodtunes-library forget-missing” removes them)\n",
                 missing);
      if (analysis != NULL)
        print_analysis (analysis);
    }
  if (analysis_error != NULL)
    return fail ("the music was imported, but its sound was not analysed: %s", analysis_error->message);
  return EXIT_SUCCESS;
}

/* analyze */

static int
cmd_analyze (int    argc,
             char **argv)
{
  int jobs = 0;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Songs analysed side by side (default 0: one per core)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the report as JSON", NULL },
    { NULL }
  };
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(MtAnalysisReport) report = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (!parse_command_options ("analyze", "", entries, &argc, &argv, &status))
    return status;
  if (argc > 1)
    return usage_error ("analyze takes no arguments besides its options");
  if (!check_jobs (jobs, &status))
    return status;
  if (!(library = open_library (&error)) || !(report = analyse_library (library, jobs, &error)))
    return fail ("%s", error->message);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      add_analysis_json (builder, library, report);
      print_json (builder);
    }
  else
    print_analysis (report);
  return EXIT_SUCCESS;
}

/* list */

static int
cmd_list (int    argc,
          char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (!parse_command_options ("list", "", entries, &argc, &argv, &status))
    return status;
  if (argc > 1)
    return usage_error ("list takes no arguments");
  if (!(library = open_library (&error)) || !(songs = mt_library_list_songs (library, &error)))
    return fail ("%s", error->message);

  if (json)
    print_songs_json (songs, FALSE);
  else if (songs->len == 0)
    g_print ("The music library is empty: import music with “moodtunes-library import DIR”.\n");
  else
    for (guint i = 0; i < songs->len; i++)
      print_song_line (g_ptr_array_index (songs, i), FALSE);
  return EXIT_SUCCESS;
}

/* forget-missing */

static int
cmd_forget_missing (int    argc,
                    char **argv)
{
  int days = 0;
  GOptionEntry entries[] = {
    { "older-than", 0, 0, G_OPTION_ARG_INT, &days, "Only songs missing for at least DAYS days (default: all)", "DAYS" },
    { NULL }
  };
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  gint64 forgotten;

  if (!parse_command_options ("forget-missing", "", entries, &argc, &argv, &status))
    return status;
  if (argc > 1)
    return usage_error ("forget-missing takes no arguments besides --older-than");
  if (days < 0)
    return usage_error ("--older-than must be 0 or more days");
  if (!(library = open_library (&error)))
    return fail ("%s", error->message);
  forgotten = mt_library_forget_missing (library, g_get_real_time () / G_USEC_PER_SEC - (gint64) days * 24 * 3600,
                                         &error);
  if (forgotten < 0)
    return fail ("%s", error->message);
  g_print ("Forgot %" G_GINT64_FORMAT " missing songs, with their moods and history\n", forgotten);
  return EXIT_SUCCESS;
}

/* recommend and play share these */

typedef struct {
  char    *mood;
  char    *strategy;
  int      limit;
  gint64   seed;
  gboolean json;
  char    *audio_sink;
} PlaylistOptions;

static GPtrArray *
make_playlist (MtLibrary        *library,
               PlaylistOptions  *options,
               MtMood           *out_mood,
               int              *status)
{
  g_autoptr(MtMoodStrategies) strategies = NULL;
  g_autoptr(MtRecommender) recommender = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *songs;
  MtStrategy strategy = MT_STRATEGY_MATCH;

  if (!parse_mood (options->mood, out_mood, status))
    return NULL;
  if (options->strategy != NULL && !mt_strategy_from_string (options->strategy, &strategy))
    {
      *status = usage_error ("--strategy must be “match” or “lift”");
      return NULL;
    }
  if (options->limit < 1)
    {
      *status = usage_error ("--limit must be at least 1");
      return NULL;
    }
  if (!(strategies = mt_mood_strategies_new_default (&error)))
    {
      *status = fail ("%s", error->message);
      return NULL;
    }
  recommender = mt_recommender_new (library, strategies);
  mt_recommender_set_seed (recommender, options->seed >= 0 ? (guint64) options->seed
                                                           : (guint64) g_get_real_time ());
  songs = mt_recommender_recommend (recommender, *out_mood, strategy, (guint) options->limit, &error);
  if (songs == NULL)
    {
      *status = fail ("%s", error->message);
      if (g_error_matches (error, MT_RECOMMENDER_ERROR, MT_RECOMMENDER_ERROR_EMPTY_LIBRARY))
        *status = EXIT_EMPTY;
    }
  else if (songs->len == 0)
    {
      gint64 missing = mt_library_count_missing (library, NULL);

      if (missing > 0)
        {
          g_clear_pointer (&songs, g_ptr_array_unref);
          fail ("all %" G_GINT64_FORMAT " songs of the music library are missing: connect the drive "
                "they are on, then import their folder again", missing);
          *status = EXIT_EMPTY;
        }
    }
  return songs;
}

/* What recommend and play share: their options, no other arguments, the
 * library and the playlist.  NULL with *status set on failure. */
static GPtrArray *
open_playlist (const char       *command,
               GOptionEntry     *entries,
               int              *argc,
               char           ***argv,
               PlaylistOptions  *options,
               MtLibrary       **library,
               MtMood           *mood,
               int              *status)
{
  g_autoptr(GError) error = NULL;

  if (!parse_command_options (command, "", entries, argc, argv, status))
    return NULL;
  if (*argc > 1)
    {
      g_autofree char *message = g_strdup_printf ("%s takes no arguments besides its options", command);
      *status = usage_error (message);
      return NULL;
    }
  if (!(*library = open_library (&error)))
    {
      *status = fail ("%s", error->message);
      return NULL;
    }
  return make_playlist (*library, options, mood, status);
}

static int
cmd_recommend (int    argc,
               char **argv)
{
  PlaylistOptions options = { NULL, NULL, 20, -1, FALSE, NULL };
  GOptionEntry entries[] = {
    { "mood", 'm', 0, G_OPTION_ARG_STRING, &options.mood, "The detected mood", "MOOD" },
    { "strategy", 's', 0, G_OPTION_ARG_STRING, &options.strategy, "match (default) or lift", "STRATEGY" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &options.limit, "Number of songs (default 20)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &options.seed, "Seed for the tie-breaking jitter (default: the time)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &options.json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(GPtrArray) songs = NULL;
  int status = 0;
  MtMood mood;

  if (!(songs = open_playlist ("recommend", entries, &argc, &argv, &options, &library, &mood, &status)))
    goto out;

  if (options.json)
    print_songs_json (songs, TRUE);
  else
    for (guint i = 0; i < songs->len; i++)
      print_song_line (g_ptr_array_index (songs, i), TRUE);

out:
  g_free (options.mood);
  g_free (options.strategy);
  return status;
}

/* tag */

static int
cmd_tag (int    argc,
         char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  gint64 id;
  MtMood mood;
  double weight;
  char *end = NULL;

  if (!parse_command_options ("tag", "SONG-ID MOOD WEIGHT", entries, &argc, &argv, &status))
    return status;
  if (argc != 4)
    return usage_error ("usage: tag SONG-ID MOOD WEIGHT");
  if (!parse_song_id (argv[1], &id, &status) || !parse_mood (argv[2], &mood, &status))
    return status;
  weight = g_ascii_strtod (argv[3], &end);
  if (end == argv[3] || *end != '\0' || !(weight >= 0.0 && weight <= 1.0))
    return usage_error ("WEIGHT must be a number from 0 to 1");

  if (!(library = open_library (&error)) ||
      !mt_library_set_user_mood (library, id, mood, weight, &error))
    return fail ("%s", error->message);
  g_print ("Song %" G_GINT64_FORMAT ": %s = %.2f\n", id, mt_mood_to_string (mood), weight);
  return EXIT_SUCCESS;
}

/* feedback */

static int
cmd_feedback (int    argc,
              char **argv)
{
  char *mood_text = NULL;
  GOptionEntry entries[] = {
    { "mood", 'm', 0, G_OPTION_ARG_STRING, &mood_text, "The mood detected meanwhile", "MOOD" },
    { NULL }
  };
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(MtSession) session = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  gint64 id;
  MtMood mood;
  MtFeedback feedback;

  if (!parse_command_options ("feedback", "SONG-ID played|skipped|liked|disliked", entries, &argc, &argv, &status))
    goto out;
  if (argc != 3)
    {
      status = usage_error ("usage: feedback SONG-ID played|skipped|liked|disliked --mood MOOD");
      goto out;
    }
  if (!parse_song_id (argv[1], &id, &status) || !parse_mood (mood_text, &mood, &status))
    goto out;
  if (!mt_feedback_from_string (argv[2], &feedback))
    {
      status = usage_error ("feedback must be played, skipped, liked or disliked");
      goto out;
    }
  /* Through a session, as the app's and the page's feedback go. */
  if (!(library = open_library (&error)) || !(session = mt_session_new (library, NULL)) ||
      !mt_session_record_feedback (session, id, feedback, mood, MT_FEEDBACK_ORIGIN_COMMAND, &error))
    {
      status = fail ("%s", error->message);
      goto out;
    }
  g_print ("Song %" G_GINT64_FORMAT ": %s while %s\n", id, mt_feedback_to_string (feedback),
           mt_mood_to_string (mood));
out:
  g_free (mood_text);
  return status;
}

/* play */

typedef struct {
  GMainLoop *loop;
  MtPlayer  *player;
  MtSession *session;   /* records what the player reports */
  MtMood     mood;
} PlayState;

static void
on_track_changed (MtPlayer *player,
                  int       index,
                  gpointer  data)
{
  const MtSong *song = mt_player_get_current_song (player);
  g_autofree char *title = NULL;

  if (song == NULL)
    return;
  title = mt_song_dup_display_title (song);
  g_print ("▶ %d/%u  %s — %s\n", index + 1, mt_player_get_n_songs (player),
           song->artist ? song->artist : "Unknown artist", title);
}

static void
on_unplayable (MtPlayer     *player,
               const MtSong *song,
               const char   *message,
               gpointer      data)
{
  g_printerr ("Cannot play %s: %s (skipped)\n", song->uri, message);
}

static void
on_feedback (MtPlayer     *player,
             const MtSong *song,
             int           feedback,
             gpointer      data)
{
  PlayState *state = data;
  g_autoptr(GError) error = NULL;

  g_print ("  (%s)\n", mt_feedback_to_string (feedback));
  if (song->id > 0 &&
      !mt_session_record_feedback (state->session, song->id, feedback, state->mood, MT_FEEDBACK_ORIGIN_COMMAND,
                                   &error))
    g_printerr ("Could not record feedback: %s\n", error->message);
}

static void
on_finished (MtPlayer *player,
             gpointer  data)
{
  PlayState *state = data;
  g_main_loop_quit (state->loop);
}

static gboolean
on_sigint (gpointer data)
{
  PlayState *state = data;
  g_main_loop_quit (state->loop);
  return G_SOURCE_CONTINUE;
}

/* One-letter commands typed on stdin, each followed by Enter. */
static gboolean
on_stdin (int          fd,
          GIOCondition condition,
          gpointer     data)
{
  PlayState *state = data;
  char buffer[256];
  ssize_t n = read (fd, buffer, sizeof buffer - 1);

  if (n <= 0)
    return G_SOURCE_REMOVE;   /* stdin closed: keep playing */
  buffer[n] = '\0';
  switch (buffer[0])
    {
    case 'n': mt_player_next (state->player); break;
    case 'b': mt_player_previous (state->player); break;
    case 'p':
      if (mt_player_get_state (state->player) == MT_PLAYER_PLAYING)
        mt_player_pause (state->player);
      else
        mt_player_play (state->player);
      break;
    case '+': mt_player_set_volume (state->player, mt_player_get_volume (state->player) + 0.1); break;
    case '-': mt_player_set_volume (state->player, mt_player_get_volume (state->player) - 0.1); break;
    case 'q': g_main_loop_quit (state->loop); break;
    default:
      g_print ("Keys (then Enter): n next, b previous, p pause/play, + / - volume, q quit\n");
      break;
    }
  return G_SOURCE_CONTINUE;
}

static int
cmd_play (int    argc,
          char **argv)
{
  PlaylistOptions options = { NULL, NULL, 20, -1, FALSE, NULL };
  GOptionEntry entries[] = {
    { "mood", 'm', 0, G_OPTION_ARG_STRING, &options.mood, "The detected mood", "MOOD" },
    { "strategy", 's', 0, G_OPTION_ARG_STRING, &options.strategy, "match (default) or lift", "STRATEGY" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &options.limit, "Number of songs (default 20)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &options.seed, "Seed for the tie-breaking jitter", "N" },
    { "audio-sink", 0, 0, G_OPTION_ARG_STRING, &options.audio_sink, "GStreamer audio sink (e.g. \"fakesink\")", "DESC" },
    { NULL }
  };
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(MtPlayer) player = NULL;
  g_autoptr(MtSession) session = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  PlayState state;
  int status = 0;
  guint sigint_id, stdin_id = 0;
  MtMood mood;

  if (!(songs = open_playlist ("play", entries, &argc, &argv, &options, &library, &mood, &status)))
    goto out;

  player = mt_player_new ();
  if (!mt_player_set_audio_sink (player, options.audio_sink, &error))
    {
      status = fail ("%s", error->message);
      goto out;
    }
  mt_player_set_playlist (player, songs);
  session = mt_session_new (library, NULL);

  loop = g_main_loop_new (NULL, FALSE);
  state.loop = loop;
  state.player = player;
  state.session = session;
  state.mood = mood;
  g_signal_connect (player, "track-changed", G_CALLBACK (on_track_changed), &state);
  g_signal_connect (player, "unplayable", G_CALLBACK (on_unplayable), &state);
  g_signal_connect (player, "feedback", G_CALLBACK (on_feedback), &state);
  g_signal_connect (player, "finished", G_CALLBACK (on_finished), &state);
  sigint_id = g_unix_signal_add (SIGINT, on_sigint, &state);
  if (isatty (STDIN_FILENO))
    {
      stdin_id = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP, on_stdin, &state);
      g_print ("Keys (then Enter): n next, b previous, p pause/play, + / - volume, q quit\n");
    }

  mt_player_play (player);
  g_main_loop_run (loop);

  mt_player_stop (player);
  g_source_remove (sigint_id);
  if (stdin_id != 0)
    g_source_remove (stdin_id);

out:
  g_free (options.mood);
  g_free (options.strategy);
  g_free (options.audio_sink);
  return status;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path, "Library database (default: $XDG_DATA_HOME/moodtunes/library.db)", "FILE" },
    { NULL }
  };
  const struct {
    const char *name;
    int (*run) (int argc, char **argv);
  } commands[] = {
    { "import", cmd_import }, { "analyze", cmd_analyze }, { "list", cmd_list }, { "recommend", cmd_recommend },
    { "tag", cmd_tag }, { "feedback", cmd_feedback }, { "play", cmd_play },
    { "forget-missing", cmd_forget_missing },
  };
  int status = -1;

  setlocale (LC_ALL, "");
  gst_init (NULL, NULL);

  context = g_option_context_new ("COMMAND [ARGS…]");
  g_option_context_set_summary (context, "Manage the Moodtunes music library.");
  g_option_context_set_description (context, usage_text);
  g_option_context_add_main_entries (context, entries, NULL);
  /* Options after the command belong to the command. */
  g_option_context_set_strict_posix (context, TRUE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc < 2)
    return usage_error ("missing command (import, analyze, list, recommend, tag, feedback, play, forget-missing)");

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      status = commands[i].run (argc - 1, argv + 1);
  if (status < 0)
    {
      g_autofree char *message = g_strdup_printf ("unknown command “%s”", argv[1]);
      status = usage_error (message);
    }
  g_free (db_path);
  return status;
}
