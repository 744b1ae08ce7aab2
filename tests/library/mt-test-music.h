/* mt-test-music.h: music files for the library tests, made or found at run time. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MT_TEST_SINGULARITY_DIR "/usr/share/games/singularity/music"
#define MT_TEST_ASC_DIR         "/usr/share/games/asc/music"

/* Writes a short tagged Ogg Vorbis (or, for a name ending in .mp3, MP3) sine
 * tone with GStreamer.  NULL tags are left out. */
gboolean mt_test_make_song       (const char  *path,
                                  const char  *title,
                                  const char  *artist,
                                  const char  *album,
                                  const char  *genre,
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

G_END_DECLS
