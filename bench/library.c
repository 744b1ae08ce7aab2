/* bench-library: throughput and latency of the music library (figures only,
 * nothing is asserted).
 *
 *   bench-library import [COPIES]     import of the Debian tracks linked COPIES
 *                                      times (default 2000), then a no-change rescan
 *   bench-library rescan [FILES]      no-change rescan of FILES short songs (10000)
 *   bench-library recommend [SONGS]   playlists of 50 on a synthetic library of
 *                                      SONGS songs (100000), with the query plan
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include "mt-library.h"
#include "mt-library-importer.h"
#include "mt-mood-strategies.h"
#include "mt-recommender.h"
#include "mt-test-music.h"

static const char * const debian_dirs[] = {
  MT_TEST_SINGULARITY_DIR,
  MT_TEST_ASC_DIR,
};

static void
collect_audio (const char *path,
               GPtrArray  *files)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        collect_audio (child, files);
      else if (mt_library_is_audio_file_name (name))
        g_ptr_array_add (files, g_steal_pointer (&child));
    }
}

/* Hard links cost no space; across file systems, symbolic links. */
static void
link_copies (GPtrArray  *sources,
             const char *dir,
             guint       copies)
{
  for (guint i = 0; i < copies; i++)
    {
      const char *src = g_ptr_array_index (sources, i % sources->len);
      g_autofree char *base = g_path_get_basename (src);
      g_autofree char *sub = g_strdup_printf ("%s/%03u", dir, i / 500);
      g_autofree char *dest = g_strdup_printf ("%s/%05u-%s", sub, i, base);

      g_mkdir_with_parents (sub, 0755);
      if (link (src, dest) != 0 && symlink (src, dest) != 0)
        g_error ("Cannot link %s to %s: %s", src, dest, g_strerror (errno));
    }
}

static MtImportReport *
timed_import (MtLibrary  *library,
              const char *folder,
              double     *seconds)
{
  g_autoptr(MtLibraryImporter) importer = mt_library_importer_new (library);
  g_autoptr(GError) error = NULL;
  const char *folders[] = { folder, NULL };
  gint64 start = g_get_monotonic_time ();
  MtImportReport *report;

  mt_library_importer_set_batch_size (importer, 256);
  report = mt_library_importer_import (importer, folders, NULL, &error);
  *seconds = (g_get_monotonic_time () - start) / 1e6;
  if (report == NULL)
    g_error ("Import failed: %s", error->message);
  return report;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static int
bench_import (guint copies)
{
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *tmp = g_dir_make_tmp ("mt-bench-import-XXXXXX", NULL);
  g_autofree char *music = g_build_filename (tmp, "music", NULL);
  g_autofree char *db = g_build_filename (tmp, "library.db", NULL);
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(MtImportReport) first = NULL;
  g_autoptr(MtImportReport) again = NULL;
  g_autoptr(GError) error = NULL;
  double seconds, rescan_seconds;

  for (guint i = 0; i < G_N_ELEMENTS (debian_dirs); i++)
    collect_audio (debian_dirs[i], sources);
  if (sources->len == 0)
    {
      g_printerr ("No Debian music found: apt-get install singularity-music asc-music\n");
      return 1;
    }
  link_copies (sources, music, copies);
  library = mt_library_open (db, &error);
  if (library == NULL)
    g_error ("%s", error->message);

  first = timed_import (library, music, &seconds);
  printf ("import: %u files (%u Debian tracks linked %u times) in %.2f s: %.1f files/s (%u imported, %u skipped)\n",
          first->files_seen, sources->len, copies, seconds, first->files_seen / seconds,
          first->imported, first->skipped);
  again = timed_import (library, music, &rescan_seconds);
  printf ("rescan, nothing changed: %u files in %.3f s (%u read again)\n",
          again->files_seen, rescan_seconds, again->files_read);
  mt_test_rmdir (tmp);
  return 0;
}

static int
bench_rescan (guint n_files)
{
  g_autofree char *tmp = g_dir_make_tmp ("mt-bench-rescan-XXXXXX", NULL);
  g_autofree char *music = g_build_filename (tmp, "music", NULL);
  g_autofree char *model = g_build_filename (tmp, "model.ogg", NULL);
  g_autofree char *db = g_build_filename (tmp, "library.db", NULL);
  g_autofree char *pipeline_text = g_strdup_printf ("audiotestsrc num-buffers=10 ! audioconvert ! vorbisenc ! oggmux"
                                                    " ! filesink location=\"%s\"", model);
  g_autoptr(GPtrArray) sources = g_ptr_array_new ();
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) message = NULL;
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(MtImportReport) first = NULL;
  g_autoptr(GError) error = NULL;
  double seconds, times[5];

  /* One short song linked many times: the first import stays affordable
   * while the rescan walks and compares as many files as a big library. */
  pipeline = gst_parse_launch (pipeline_text, &error);
  if (pipeline == NULL)
    g_error ("%s", error->message);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  message = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_ptr_array_add (sources, model);
  link_copies (sources, music, n_files);

  library = mt_library_open (db, &error);
  if (library == NULL)
    g_error ("%s", error->message);
  first = timed_import (library, music, &seconds);
  printf ("first import of %u short songs: %.2f s (%.1f files/s)\n", first->files_seen, seconds,
          first->files_seen / seconds);
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      g_autoptr(MtImportReport) again = timed_import (library, music, &times[i]);
      if (again->files_read != 0 || again->unchanged != n_files)
        g_error ("rescan read %u files", again->files_read);
    }
  qsort (times, G_N_ELEMENTS (times), sizeof (double), compare_doubles);
  printf ("no-change rescan of %u files: median %.3f s, best %.3f s, worst %.3f s (target < 2 s)\n",
          n_files, times[G_N_ELEMENTS (times) / 2], times[0], times[G_N_ELEMENTS (times) - 1]);
  mt_test_rmdir (tmp);
  return 0;
}

static int
bench_recommend (guint n_songs)
{
  g_autofree char *tmp = g_dir_make_tmp ("mt-bench-recommend-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (tmp, "library.db", NULL);
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(MtMoodStrategies) strategies = NULL;
  g_autoptr(MtRecommender) recommender = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *plan = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (1234);
  const guint runs = 300;
  g_autofree double *times = g_new (double, runs);
  gint64 start;
  double sum = 0;

  library = mt_library_open (db, &error);
  strategies = mt_mood_strategies_new_default (&error);
  if (library == NULL || strategies == NULL)
    g_error ("%s", error->message);

  start = g_get_monotonic_time ();
  mt_library_begin (library, &error);
  for (guint i = 0; i < n_songs; i++)
    {
      g_autoptr(MtSong) song = mt_song_new ();
      double weights[MT_N_MOODS];

      song->uri = g_strdup_printf ("file:///synthetic/%06u.ogg", i);
      song->title = g_strdup_printf ("Song %u", i);
      song->artist = g_strdup_printf ("Artist %u", g_rand_int_range (rand, 0, 2000));
      song->duration_ms = g_rand_int_range (rand, 60000, 400000);
      /* Two or three moods per song, as the genre rules give. */
      for (int m = 0; m < MT_N_MOODS; m++)
        weights[m] = g_rand_double (rand) < 0.35 ? g_rand_double (rand) : NAN;
      song->id = mt_library_add_song (library, song, &error);
      if (song->id == 0 || !mt_library_set_mood_weights (library, song->id, MT_MOOD_SOURCE_RULE, weights, &error))
        g_error ("%s", error->message);
      /* Some history, so recency has work to do. */
      if (i % 50 == 0 &&
          !mt_library_add_feedback (library, song->id, MT_FEEDBACK_PLAYED, (MtMood) (i % MT_N_MOODS),
                                    g_get_real_time () / G_USEC_PER_SEC - g_rand_int_range (rand, 0, 86400), &error))
        g_error ("%s", error->message);
      if (i % 20000 == 19999)
        {
          mt_library_commit (library, &error);
          mt_library_begin (library, &error);
        }
    }
  if (!mt_library_commit (library, &error))
    g_error ("%s", error->message);
  printf ("synthetic library: %u songs built in %.1f s\n", n_songs, (g_get_monotonic_time () - start) / 1e6);

  plan = mt_library_explain_top_for_mood (library, &error);
  printf ("EXPLAIN QUERY PLAN of the candidate query:\n%s", plan);

  recommender = mt_recommender_new (library, strategies);
  for (guint i = 0; i < runs; i++)
    {
      g_autoptr(GPtrArray) songs = NULL;
      MtMood mood = (MtMood) (i % MT_N_MOODS);
      MtStrategy strategy = (i / MT_N_MOODS) % 2 ? MT_STRATEGY_LIFT : MT_STRATEGY_MATCH;

      mt_recommender_set_seed (recommender, i);
      start = g_get_monotonic_time ();
      songs = mt_recommender_recommend (recommender, mood, strategy, 50, &error);
      times[i] = (g_get_monotonic_time () - start) / 1000.0;
      if (songs == NULL || songs->len != 50)
        g_error ("recommendation failed: %s", error ? error->message : "short playlist");
      sum += times[i];
    }
  qsort (times, runs, sizeof (double), compare_doubles);
  printf ("recommend 50 of %u songs (%u runs, match and lift, all moods): median %.2f ms, "
          "p95 %.2f ms, mean %.2f ms (target: median < 5 ms)\n",
          n_songs, runs, times[runs / 2], times[runs * 95 / 100], sum / runs);
  mt_test_rmdir (tmp);
  return 0;
}

static guint
parse_count (const char *text, guint fallback)
{
  guint64 value;

  if (text == NULL)
    return fallback;
  if (!g_ascii_string_to_unsigned (text, 10, 1, 10000000, &value, NULL))
    {
      g_printerr ("Not a count: %s\n", text);
      exit (2);
    }
  return (guint) value;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);

  if (argc >= 2 && g_str_equal (argv[1], "import"))
    return bench_import (parse_count (argv[2], 2000));
  if (argc >= 2 && g_str_equal (argv[1], "rescan"))
    return bench_rescan (parse_count (argv[2], 10000));
  if (argc >= 2 && g_str_equal (argv[1], "recommend"))
    return bench_recommend (parse_count (argv[2], 100000));
  g_printerr ("Usage: %s import [COPIES] | rescan [FILES] | recommend [SONGS]\n", argv[0]);
  return 2;
}
