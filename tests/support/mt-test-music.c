#define G_LOG_DOMAIN "mt-test-music"

#include "config.h"

#include <math.h>

#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gst/gst.h>

#include "mt-library-importer.h"
#include "mt-test-music.h"

gboolean
mt_test_run_pipeline (GstElement  *pipeline,
                      guint        timeout_s,
                      const char  *what,
                      GError     **error)
{
  g_autoptr(GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr(GstMessage) message = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  message = gst_bus_timed_pop_filtered (bus, timeout_s * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  if (message == NULL || GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
    {
      g_autoptr(GError) gst_error = NULL;

      if (message != NULL)
        gst_message_parse_error (message, &gst_error, NULL);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Making %s: %s", what,
                   gst_error ? gst_error->message : "timed out");
      return FALSE;
    }
  return TRUE;
}

static gboolean
make_file (const char  *path,
           const char  *title,
           const char  *artist,
           const char  *album,
           const char  *genre,
           const char  *wave,
           double       volume,
           double       seconds,
           GError     **error)
{
  gboolean mp3 = g_str_has_suffix (path, ".mp3");
  g_autofree char *description = NULL;
  char volume_text[G_ASCII_DTOSTR_BUF_SIZE];
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstElement) tagger = NULL;
  g_autoptr(GstElement) sink = NULL;
  g_autoptr(GstTagList) tags = NULL;
  int buffers = MAX ((int) (seconds * 44100 / 1024), 1);

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  tags = gst_tag_list_new_empty ();

  /* Not %g: the pipeline's numbers are C numbers in any locale. */
  g_ascii_dtostr (volume_text, sizeof volume_text, volume);
  /* The encoder (Vorbis) or muxer (ID3) writes the tags set on it into the
   * file header: tags sent down the pipeline would come too late. */
  description = g_strdup_printf ("audiotestsrc wave=%s volume=%s num-buffers=%d freq=%d ! audioconvert ! %s"
                                 " ! filesink name=sink",
                                 wave, volume_text, buffers, 220 + (int) (g_str_hash (path) % 600),
                                 mp3 ? "lamemp3enc ! id3v2mux name=tagger"
                                     : "vorbisenc name=tagger ! oggmux");

  pipeline = gst_parse_launch (description, error);
  if (pipeline == NULL)
    return FALSE;
  tagger = gst_bin_get_by_name (GST_BIN (pipeline), "tagger");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (sink, "location", path, NULL);

  if (title)
    gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_TITLE, title, NULL);
  if (artist)
    gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_ARTIST, artist, NULL);
  if (album)
    gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_ALBUM, album, NULL);
  if (genre)
    gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_GENRE, genre, NULL);
  gst_tag_setter_merge_tags (GST_TAG_SETTER (tagger), tags, GST_TAG_MERGE_REPLACE);

  return mt_test_run_pipeline (pipeline, 30, path, error);
}

gboolean
mt_test_make_song (const char  *path,
                   const char  *title,
                   const char  *artist,
                   const char  *album,
                   const char  *genre,
                   double       seconds,
                   GError     **error)
{
  return make_file (path, title, artist, album, genre, "sine", 0.8, seconds, error);
}

gboolean
mt_test_make_sound (const char  *path,
                    const char  *title,
                    const char  *wave,
                    double       volume,
                    double       seconds,
                    GError     **error)
{
  return make_file (path, title, NULL, NULL, NULL, wave, volume, seconds, error);
}

char *
mt_test_make_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("mt-library-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
mt_test_rmdir (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (path == NULL)
    return;
  if (!g_file_test (path, G_FILE_TEST_IS_DIR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_unlink (path);
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      mt_test_rmdir (child);
    }
  g_rmdir (path);
}

gboolean
mt_test_copy_file (const char  *src,
                   const char  *dest,
                   gssize       max_bytes,
                   GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (src, &contents, &length, error))
    return FALSE;
  if (max_bytes >= 0)
    length = MIN (length, (gsize) max_bytes);
  return g_file_set_contents (dest, contents, length, error);
}

gboolean
mt_test_require_dir (const char *dir,
                     const char *package)
{
  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    return TRUE;
  {
    g_autofree char *message = g_strdup_printf ("%s missing: install Debian's %s (build-aux/apt-library.txt)",
                                                dir, package);
    g_test_skip (message);
  }
  return FALSE;
}

guint
mt_test_count_audio (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint count = 0;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        count += mt_test_count_audio (child);
      else if (mt_library_is_audio_file_name (name))
        count++;
    }
  return count;
}

char *
mt_test_db_path (const char *dir)
{
  return g_build_filename (dir, "db", "library.db", NULL);
}

void
mt_test_library_set_up (MtTestLibrary *f,
                        gconstpointer  data)
{
  f->dir = mt_test_make_temp_dir ();
  f->music = g_build_filename (f->dir, "music", NULL);
  g_assert_cmpint (g_mkdir (f->music, 0755), ==, 0);
  f->library = mt_test_open_library (f->dir);
}

MtLibrary *
mt_test_open_library (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = mt_test_db_path (dir);
  MtLibrary *library = mt_library_open (path, &error);

  g_assert_no_error (error);
  return library;
}

void
mt_test_library_tear_down (MtTestLibrary *f,
                           gconstpointer  data)
{
  g_clear_object (&f->library);
  mt_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->music);
}

MtImportReport *
mt_test_import (MtLibrary  *library,
                const char *folder,
                guint       timeout_s)
{
  g_autoptr(MtLibraryImporter) importer = mt_library_importer_new (library);
  g_autoptr(GError) error = NULL;
  const char *folders[] = { folder, NULL };
  MtImportReport *report;

  if (timeout_s > 0)
    mt_library_importer_set_timeout (importer, timeout_s);
  report = mt_library_importer_import (importer, folders, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  for (guint i = 0; i < report->skips->len; i++)
    {
      MtImportSkip *skip = g_ptr_array_index (report->skips, i);
      g_test_message ("skipped %s: %s", skip->path, skip->reason);
    }
  return report;
}

char *
mt_test_find_cli (void)
{
  char *cli = g_build_filename (g_getenv ("MT_BUILD_DIR"), "src", "cli", "moodtunes-library", NULL);

  g_assert_true (g_file_test (cli, G_FILE_TEST_IS_EXECUTABLE));
  return cli;
}

MtLibrary *
mt_test_kill_and_reopen (GSubprocess *child,
                         const char  *db_path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *integrity = NULL;
  MtLibrary *reopened;

  g_subprocess_send_signal (child, SIGKILL);
  g_subprocess_wait (child, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_signaled (child));

  reopened = mt_library_open (db_path, &error);
  g_assert_no_error (error);
  integrity = mt_library_check_integrity (reopened, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (integrity, ==, "ok");
  return reopened;
}

MtSong *
mt_test_find_song (MtLibrary  *library,
                   const char *path)
{
  g_autoptr(GPtrArray) songs = mt_library_list_songs (library, NULL);
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);

  for (guint i = 0; songs && i < songs->len; i++)
    {
      MtSong *song = g_ptr_array_index (songs, i);
      if (g_str_equal (song->uri, uri))
        return mt_song_copy (song);
    }
  return NULL;
}

MtSong *
mt_test_add_song_full (MtLibrary  *library,
                       const char *uri,
                       const char *title,
                       const char *artist,
                       gint64      duration_ms)
{
  g_autoptr(GError) error = NULL;
  MtSong *song = mt_song_new ();

  song->uri = g_strdup (uri);
  song->title = g_strdup (title);
  song->artist = g_strdup (artist);
  song->duration_ms = duration_ms;
  song->id = mt_library_add_song (library, song, &error);
  g_assert_no_error (error);
  g_assert_cmpint (song->id, >, 0);
  return song;
}

gint64
mt_test_add_song (MtLibrary  *library,
                  const char *uri,
                  const char *title,
                  const char *artist,
                  gint64      duration_ms)
{
  g_autoptr(MtSong) song = mt_test_add_song_full (library, uri, title, artist, duration_ms);

  return song->id;
}

gint64
mt_test_add_song_for_mood (MtLibrary  *library,
                           const char *title,
                           const char *artist,
                           MtMood      mood)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = g_strdup_printf ("file:///music/%s.ogg", title);
  gint64 id = mt_test_add_song (library, uri, title, artist, 0);
  double weights[MT_N_MOODS];

  for (int i = 0; i < MT_N_MOODS; i++)
    weights[i] = NAN;
  weights[mood] = 0.9;
  g_assert_true (mt_library_set_mood_weights (library, id, MT_MOOD_SOURCE_RULE, weights, &error));
  g_assert_no_error (error);
  return id;
}
