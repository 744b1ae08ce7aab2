/* mt-test-music.h: music files for the library tests, made or found at run time. */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include "mt-library.h"
#include "mt-library-importer.h"

G_BEGIN_DECLS

#define MT_TEST_SINGULARITY_DIR "/usr/share/games/singularity/music"
#define MT_TEST_ASC_DIR         "/usr/share/games/asc/music"

/* Plays @pipeline (which writes @what) to its end, for at most @timeout_s
 * seconds; an error or the timeout is an error naming @what. */
gboolean mt_test_run_pipeline    (GstElement  *pipeline,
                                  guint        timeout_s,
                                  const char  *what,
                                  GError     **error);
/* Writes a short tagged Ogg Vorbis (or, for a name ending in .mp3, MP3) sine
 * tone with GStreamer.  NULL tags are left out. */
gboolean mt_test_make_song       (const char  *path,
                                  const char  *title,
                                  const char  *artist,
                                  const char  *album,
                                  const char  *genre,
                                  double       seconds,
                                  GError     **error);
/* The same with another signal: audiotestsrc's @wave ("sine",
 * "white-noise", …) at @volume (0..1; songs are sines at 0.8), titled
 * @title, no other tags: sounds for the audio analysis. */
gboolean mt_test_make_sound      (const char  *path,
                                  const char  *title,
                                  const char  *wave,
                                  double       volume,
                                  double       seconds,
                                  GError     **error);
/* A fresh temporary folder; removed (with its contents) by mt_test_rmdir. */
char    *mt_test_make_temp_dir   (void);
void     mt_test_rmdir           (const char  *path);
/* Copies the first @max_bytes (-1: all) of @src to @dest. */
gboolean mt_test_copy_file       (const char  *src,
                                  const char  *dest,
                                  gssize       max_bytes,
                                  GError     **error);
/* Skips the test (and returns FALSE) when a Debian music package is missing. */
gboolean mt_test_require_dir     (const char  *dir,
                                  const char  *package);
/* Number of regular files under @dir (recursively) with an audio extension. */
guint    mt_test_count_audio     (const char  *dir);
/* The database path the tests use inside @dir. */
char    *mt_test_db_path         (const char  *dir);

/* The library at mt_test_db_path (@dir), opened (asserts it opens). */
MtLibrary *mt_test_open_library (const char *dir);

/* A fixture: a temporary folder, an empty music folder in it, and a
 * library (mt_test_db_path()) opened there.  For g_test_add(). */
typedef struct {
  char      *dir;
  char      *music;      /* dir/music */
  MtLibrary *library;
} MtTestLibrary;

void     mt_test_library_set_up    (MtTestLibrary *f,
                                    gconstpointer  data);
void     mt_test_library_tear_down (MtTestLibrary *f,
                                    gconstpointer  data);
/* Imports @folder into @library (@timeout_s per file, 0: the default);
 * asserts it worked and logs the files skipped. */
MtImportReport *mt_test_import     (MtLibrary     *library,
                                    const char    *folder,
                                    guint          timeout_s);
/* The built moodtunes-library ($MT_BUILD_DIR); asserts it is there. */
char    *mt_test_find_cli          (void);
/* Kills @child with SIGKILL (no chance to clean up) and waits for it, then
 * opens the library at @db_path again and asserts it is consistent
 * (PRAGMA integrity_check). */
MtLibrary *mt_test_kill_and_reopen (GSubprocess   *child,
                                    const char    *db_path);
/* Adds a song with these fields (@artist may be NULL; @duration_ms 0:
 * unknown) to @library and asserts it got an id: the new song, id set. */
MtSong  *mt_test_add_song_full     (MtLibrary     *library,
                                    const char    *uri,
                                    const char    *title,
                                    const char    *artist,
                                    gint64         duration_ms);
/* The same, returning only the new song's id. */
gint64   mt_test_add_song          (MtLibrary     *library,
                                    const char    *uri,
                                    const char    *title,
                                    const char    *artist,
                                    gint64         duration_ms);
/* A song with no file behind it (file:///music/TITLE.ogg) whose rule weight
 * for @mood is 0.9 and unset for the others: for ranking tests. */
gint64   mt_test_add_song_for_mood (MtLibrary     *library,
                                    const char    *title,
                                    const char    *artist,
                                    MtMood         mood);
/* The song of the file at @path, NULL when there is none. */
MtSong  *mt_test_find_song         (MtLibrary     *library,
                                    const char    *path);

G_END_DECLS
