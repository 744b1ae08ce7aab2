/* Importing music: real Debian tracks, generated files, broken files,
 * rescans, moved files, crashes of the tag reader, cancellation and a kill
 * in the middle of an import. */
#include "config.h"

#include <utime.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "mt-library.h"
#include "mt-library-importer.h"
#include "mt-tag-reader.h"
#include "mt-test-music.h"

typedef MtTestLibrary Fixture;

static char *
make_song (const char *dir,
           const char *name,
           const char *title,
           const char *artist,
           const char *genre,
           double      seconds)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  mt_test_make_song (path, title, artist, "Test Album", genre, seconds, &error);
  g_assert_no_error (error);
  return path;
}

static const char *
skip_reason (MtImportReport *report,
             const char     *basename)
{
  for (guint i = 0; i < report->skips->len; i++)
    {
      MtImportSkip *skip = g_ptr_array_index (report->skips, i);
      g_autofree char *name = g_path_get_basename (skip->path);
      if (g_str_equal (name, basename))
        return skip->reason;
    }
  return NULL;
}

static void
test_debian_music (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) first = NULL;
  g_autoptr(MtImportReport) again = NULL;
  g_autoptr(MtLibraryImporter) importer = NULL;
  g_autoptr(MtSong) nebula = NULL;
  g_autoptr(GError) error = NULL;
  const char *folders[] = { MT_TEST_SINGULARITY_DIR, MT_TEST_ASC_DIR, NULL };
  guint expected;

  if (!mt_test_require_dir (MT_TEST_SINGULARITY_DIR, "singularity-music") ||
      !mt_test_require_dir (MT_TEST_ASC_DIR, "asc-music"))
    return;
  expected = mt_test_count_audio (MT_TEST_SINGULARITY_DIR) + mt_test_count_audio (MT_TEST_ASC_DIR);
  g_assert_cmpuint (expected, >=, 19);

  importer = mt_library_importer_new (f->library);
  first = mt_library_importer_import (importer, folders, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (first->files_seen, ==, expected);
  g_assert_cmpuint (first->imported, ==, expected);
  g_assert_cmpuint (first->skipped, ==, 0);
  g_assert_cmpuint (first->files_read, ==, expected);
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, expected);

  nebula = mt_test_find_song (f->library, MT_TEST_SINGULARITY_DIR "/Nebula.ogg");
  g_assert_nonnull (nebula);
  g_assert_cmpstr (nebula->title, ==, "Nebula");
  g_assert_cmpstr (nebula->artist, ==, "Maxstack");
  g_assert_cmpint (nebula->duration_ms, >, 300000);
  g_assert_cmpint (nebula->duration_ms, <, 330000);
  /* "nebula" is a surprise word in the rules data. */
  g_assert_cmpint (mt_song_get_main_mood (nebula), ==, MT_MOOD_SURPRISE);

  /* Nothing changed: nothing is read again. */
  again = mt_library_importer_import (importer, folders, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->files_seen, ==, expected);
  g_assert_cmpuint (again->unchanged, ==, expected);
  g_assert_cmpuint (again->files_read, ==, 0);
  g_assert_cmpuint (again->imported + again->updated + again->removed + again->skipped, ==, 0);
}

/* An MP3 with ID3v2.4 text that is not UTF-8: a Latin-1 title (declared
 * as such) and an artist that claims UTF-8 but holds Latin-1 bytes. */
static void
write_bad_utf8_mp3 (const char *path,
                    const char *plain_mp3)
{
  static const char title[] = "\x00" "Caf\xe9 Ol\xe9";
  static const char artist[] = "\x03" "B\xe4nd";
  g_autoptr(GByteArray) tag = g_byte_array_new ();
  g_autofree char *audio = NULL;
  gsize audio_len;
  const struct { const char *id; const char *data; gsize len; } frames[] = {
    { "TIT2", title, sizeof title - 1 },
    { "TPE1", artist, sizeof artist - 1 },
  };
  guint8 header[10] = { 'I', 'D', '3', 4, 0, 0 };
  gsize body = 0;

  for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
    body += 10 + frames[i].len;
  /* sizes are "synchsafe": 7 bits per byte */
  header[6] = (body >> 21) & 0x7f;
  header[7] = (body >> 14) & 0x7f;
  header[8] = (body >> 7) & 0x7f;
  header[9] = body & 0x7f;
  g_byte_array_append (tag, header, 10);
  for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
    {
      guint8 frame[10] = { 0 };
      memcpy (frame, frames[i].id, 4);
      frame[4] = (frames[i].len >> 21) & 0x7f;
      frame[5] = (frames[i].len >> 14) & 0x7f;
      frame[6] = (frames[i].len >> 7) & 0x7f;
      frame[7] = frames[i].len & 0x7f;
      g_byte_array_append (tag, frame, 10);
      g_byte_array_append (tag, (const guint8 *) frames[i].data, frames[i].len);
    }
  g_assert_true (g_file_get_contents (plain_mp3, &audio, &audio_len, NULL));
  g_byte_array_append (tag, (const guint8 *) audio, audio_len);
  g_assert_true (g_file_set_contents (path, (const char *) tag->data, tag->len, NULL));
}

static void
test_generated_and_broken (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) report = NULL;
  g_autoptr(MtSong) metal = NULL;
  g_autoptr(MtSong) mp3 = NULL;
  g_autoptr(MtSong) bad_tags = NULL;
  g_autoptr(MtSong) latin1_name = NULL;
  g_autoptr(MtSong) disguised = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *nested = g_build_filename (f->music, "nested", "deeper", NULL);
  g_autofree char *hidden = g_build_filename (f->music, ".hidden", NULL);
  g_autofree char *plain_mp3 = g_build_filename (f->dir, "plain.mp3", NULL);
  g_autofree char *long_song = NULL;
  g_autofree char *path = NULL;
  g_autofree char *metal_path = NULL;
  g_autofree char *mp3_path = NULL;
  g_autofree char *latin1_path = NULL;

  g_assert_cmpint (g_mkdir_with_parents (nested, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (hidden, 0755), ==, 0);

  metal_path = make_song (f->music, "metal.ogg", "Iron Storm", "Band A", "Heavy Metal", 0.5);
  g_free (make_song (f->music, "calm.ogg", "Quiet Morning", "Band B", "Ambient", 0.5));
  g_free (make_song (nested, "deep.ogg", "Deep", "Band C", NULL, 0.5));
  mp3_path = make_song (f->music, "tagged.mp3", "Party Time", "Band D", "Dance", 0.5);
  g_free (make_song (hidden, "secret.ogg", "Hidden", "Nobody", NULL, 0.5));
  long_song = make_song (f->dir, "long.ogg", "Long", "Band E", NULL, 3.0);

  /* broken files */
  path = g_build_filename (f->music, "zero.ogg", NULL);
  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  g_free (path);
  path = g_build_filename (f->music, "truncated.ogg", NULL);
  g_assert_true (mt_test_copy_file (long_song, path, 4000, NULL));
  g_free (path);
  path = g_build_filename (f->music, "header-only.ogg", NULL);
  g_assert_true (mt_test_copy_file (long_song, path, 100, NULL));
  g_free (path);
  path = g_build_filename (f->music, "text.mp3", NULL);
  g_assert_true (g_file_set_contents (path, "This is a shopping list, not a song.\n", -1, NULL));
  g_free (path);
  /* a real Ogg file named .mp3 still imports */
  path = g_build_filename (f->music, "disguised.mp3", NULL);
  g_assert_true (mt_test_copy_file (long_song, path, -1, NULL));
  g_free (path);
  /* non-UTF-8 tags */
  mt_test_make_song (plain_mp3, NULL, NULL, NULL, NULL, 0.5, &error);
  g_assert_no_error (error);
  path = g_build_filename (f->music, "bad-tags.mp3", NULL);
  write_bad_utf8_mp3 (path, plain_mp3);
  g_free (path);
  /* a file name that is not UTF-8 */
  latin1_path = g_build_filename (f->music, "caf\xe9.ogg", NULL);
  g_assert_true (mt_test_copy_file (metal_path, latin1_path, -1, NULL));
  /* not music */
  path = g_build_filename (f->music, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (path, "not music", -1, NULL));

  report = mt_test_import (f->library, f->music, 3);

  /* metal, calm, deep, tagged.mp3, zero, truncated, header-only, text.mp3,
   * disguised.mp3, bad-tags.mp3, café.ogg; not notes.txt, not .hidden/ */
  g_assert_cmpuint (report->files_seen, ==, 11);
  g_assert_cmpuint (report->imported, ==, 7);
  g_assert_cmpuint (report->skipped, ==, 4);
  g_assert_cmpuint (report->skips->len, ==, 4);
  g_assert_nonnull (skip_reason (report, "zero.ogg"));
  g_assert_nonnull (skip_reason (report, "header-only.ogg"));
  g_assert_nonnull (skip_reason (report, "truncated.ogg"));
  g_assert_nonnull (strstr (skip_reason (report, "text.mp3"), "not a readable audio file"));
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, 7);

  metal = mt_test_find_song (f->library, metal_path);
  g_assert_nonnull (metal);
  g_assert_cmpstr (metal->title, ==, "Iron Storm");
  g_assert_cmpstr (metal->genre, ==, "Heavy Metal");
  g_assert_cmpint (mt_song_get_main_mood (metal), ==, MT_MOOD_ANGRY);
  g_assert_cmpint (metal->duration_ms, >, 300);
  g_assert_cmpint (metal->duration_ms, <, 800);

  mp3 = mt_test_find_song (f->library, mp3_path);
  g_assert_nonnull (mp3);
  g_assert_cmpstr (mp3->title, ==, "Party Time");
  g_assert_cmpint (mt_song_get_main_mood (mp3), ==, MT_MOOD_HAPPY);

  path = (g_free (path), g_build_filename (f->music, "bad-tags.mp3", NULL));
  bad_tags = mt_test_find_song (f->library, path);
  g_assert_nonnull (bad_tags);
  /* Latin-1 is converted; the lying UTF-8 frame is dropped, not stored. */
  g_assert_cmpstr (bad_tags->title, ==, "Caf\u00e9 Ol\u00e9");
  g_assert_true (bad_tags->artist == NULL || g_utf8_validate (bad_tags->artist, -1, NULL));

  latin1_name = mt_test_find_song (f->library, latin1_path);
  g_assert_nonnull (latin1_name);
  g_assert_cmpstr (latin1_name->title, ==, "Iron Storm");

  path = (g_free (path), g_build_filename (f->music, "disguised.mp3", NULL));
  disguised = mt_test_find_song (f->library, path);
  g_assert_nonnull (disguised);
  g_assert_cmpstr (disguised->title, ==, "Long");
}

static void
test_rescan (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) first = NULL;
  g_autoptr(MtImportReport) same = NULL;
  g_autoptr(MtImportReport) changed = NULL;
  g_autoptr(MtSong) before = NULL;
  g_autoptr(MtSong) after = NULL;
  g_autoptr(MtSong) edited = NULL;
  g_autoptr(MtSong) gone = NULL;
  g_autoptr(MtImportReport) later = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *a = make_song (f->music, "a.ogg", "Alpha", "One", NULL, 0.5);
  g_autofree char *b = make_song (f->music, "b.ogg", "Beta", "Two", NULL, 0.5);
  g_autofree char *c = make_song (f->music, "c.ogg", "Gamma", "Three", NULL, 0.5);
  g_autofree char *d = make_song (f->music, "d.ogg", "Delta", "Four", NULL, 0.5);
  g_autofree char *subdir = g_build_filename (f->music, "moved-here", NULL);
  g_autofree char *b_moved = g_build_filename (subdir, "b-renamed.ogg", NULL);
  g_autofree char *e = NULL;
  g_autofree char *twin1 = g_build_filename (f->music, "twin1.ogg", NULL);
  g_autofree char *twin2 = g_build_filename (f->music, "twin2.ogg", NULL);

  /* Two copies of d: same tags, both to be removed later. */
  g_assert_true (mt_test_copy_file (d, twin1, -1, NULL));
  g_assert_true (mt_test_copy_file (d, twin2, -1, NULL));
  first = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (first->imported, ==, 6);

  same = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (same->unchanged, ==, 6);
  g_assert_cmpuint (same->files_read, ==, 0);

  /* History that must follow b when it moves. */
  before = mt_test_find_song (f->library, b);
  g_assert_true (mt_library_add_feedback (f->library, before->id, MT_FEEDBACK_LIKED, MT_MOOD_HAPPY, 100, &error));
  g_assert_true (mt_library_set_user_mood (f->library, before->id, MT_MOOD_SAD, 0.9, &error));

  /* a: edited (new tags, new mtime); b: moved; c: deleted; e: new */
  g_assert_cmpint (g_unlink (a), ==, 0);
  g_free (make_song (f->music, "a.ogg", "Alpha (live)", "One", NULL, 0.6));
  {
    struct utimbuf times = { 1000000, 1000000 };
    g_assert_cmpint (g_utime (a, &times), ==, 0);  /* a surely different mtime */
  }
  g_assert_cmpint (g_mkdir (subdir, 0755), ==, 0);
  g_assert_cmpint (g_rename (b, b_moved), ==, 0);
  g_assert_cmpint (g_unlink (c), ==, 0);
  g_assert_cmpint (g_unlink (twin1), ==, 0);
  g_assert_cmpint (g_unlink (twin2), ==, 0);
  e = make_song (f->music, "e.ogg", "Epsilon", "Five", NULL, 0.5);

  changed = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (changed->files_seen, ==, 4);
  g_assert_cmpuint (changed->unchanged, ==, 1);   /* d */
  g_assert_cmpuint (changed->updated, ==, 1);     /* a */
  g_assert_cmpuint (changed->moved, ==, 1);       /* b */
  g_assert_cmpuint (changed->imported, ==, 1);    /* e */
  g_assert_cmpuint (changed->missing, ==, 3);     /* c, twin1, twin2: kept */
  g_assert_cmpuint (changed->removed, ==, 0);
  g_assert_cmpuint (changed->files_read, ==, 3);  /* a, b, e */
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, 7);
  g_assert_cmpint (mt_library_count_missing (f->library, NULL), ==, 3);

  edited = mt_test_find_song (f->library, a);
  g_assert_cmpstr (edited->title, ==, "Alpha (live)");
  g_assert_cmpint (edited->missing_since, ==, 0);
  gone = mt_test_find_song (f->library, c);
  g_assert_nonnull (gone);
  g_assert_cmpint (gone->missing_since, >, 0);

  /* Still gone a grace period later, in a folder that is otherwise there:
   * forgotten then, with their history. */
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(MtSong) song = mt_test_find_song (f->library, (const char *[]) { c, twin1, twin2 }[i]);
      g_assert_true (mt_library_set_missing (f->library, song->id,
                                             gone->missing_since - (MT_LIBRARY_MISSING_GRACE_DAYS + 1) * 86400,
                                             &error));
      g_assert_no_error (error);
    }
  later = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (later->unchanged, ==, 4);
  g_assert_cmpuint (later->missing, ==, 0);
  g_assert_cmpuint (later->removed, ==, 3);
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, 4);
  g_assert_null (mt_test_find_song (f->library, c));

  after = mt_test_find_song (f->library, b_moved);
  g_assert_nonnull (after);
  g_assert_cmpint (after->id, ==, before->id);
  g_assert_cmpint (mt_library_count_feedback (f->library, after->id, MT_FEEDBACK_LIKED, NULL), ==, 1);
  g_assert_cmpfloat_with_epsilon (after->moods[MT_MOOD_SAD], 0.9, 1e-9);
}

static gint64
count_missing_in (GPtrArray *songs)
{
  gint64 n = 0;

  for (guint i = 0; i < songs->len; i++)
    if (((MtSong *) g_ptr_array_index (songs, i))->missing_since != 0)
      n++;
  return n;
}

static gboolean
is_recommended (MtLibrary *library,
                gint64     id)
{
  g_autoptr(GError) error = NULL;

  for (int m = 0; m < MT_N_MOODS; m++)
    {
      g_autoptr(GPtrArray) top = mt_library_top_for_mood (library, m, 100, &error);

      g_assert_no_error (error);
      for (guint i = 0; i < top->len; i++)
        if (((MtSong *) g_ptr_array_index (top, i))->id == id)
          return TRUE;
    }
  return FALSE;
}

/* The history a song must keep while its file is away. */
static void
assert_history (MtLibrary *library,
                gint64     liked_id,
                gint64     tagged_id)
{
  double learned[MT_N_MOODS];
  g_autoptr(MtSong) tagged = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (mt_library_count_feedback (library, liked_id, MT_FEEDBACK_LIKED, NULL), ==, 1);
  g_assert_true (mt_library_get_mood_weights (library, liked_id, MT_MOOD_SOURCE_LEARNED, learned, &error));
  g_assert_cmpfloat_with_epsilon (learned[MT_MOOD_HAPPY], mt_feedback_get_learning_step (MT_FEEDBACK_LIKED), 1e-9);
  tagged = mt_library_get_song (library, tagged_id, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (tagged->moods[MT_MOOD_SAD], 0.9, 1e-9);
}

/* A music drive that is not mounted (or a folder renamed) leaves an empty or
 * missing folder: its songs are kept, marked missing and not recommended,
 * with their feedback and learned weights, and come back with the same ids
 * when the files do.  While the whole folder looks unmounted they are never
 * forgotten, however long it takes. */
static void
test_vanished_folder (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) first = NULL;
  g_autoptr(MtImportReport) renamed = NULL;
  g_autoptr(MtImportReport) empty = NULL;
  g_autoptr(MtImportReport) back = NULL;
  g_autoptr(MtSong) liked = NULL;
  g_autoptr(MtSong) tagged = NULL;
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sub = g_build_filename (f->music, "sub", NULL);
  g_autofree char *away = g_build_filename (f->dir, "away", NULL);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  gint64 long_ago, liked_id, tagged_id;

  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  a = make_song (f->music, "a.ogg", "Alpha", "One", NULL, 0.5);
  b = make_song (sub, "b.ogg", "Beta", "Two", NULL, 0.5);
  g_free (make_song (sub, "c.ogg", "Gamma", "Three", NULL, 0.5));
  first = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (first->imported, ==, 3);
  liked = mt_test_find_song (f->library, a);
  tagged = mt_test_find_song (f->library, b);
  liked_id = liked->id;
  tagged_id = tagged->id;
  g_assert_true (mt_library_add_feedback (f->library, liked->id, MT_FEEDBACK_LIKED, MT_MOOD_HAPPY, 100, &error));
  g_assert_true (mt_library_set_user_mood (f->library, tagged->id, MT_MOOD_SAD, 0.9, &error));
  g_assert_no_error (error);
  g_assert_true (is_recommended (f->library, liked->id));

  /* The drive is not mounted: its mount point is an empty folder. */
  g_assert_cmpint (g_rename (f->music, away), ==, 0);
  g_assert_cmpint (g_mkdir (f->music, 0755), ==, 0);
  empty = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (empty->files_seen, ==, 0);
  g_assert_cmpuint (empty->missing, ==, 3);
  g_assert_cmpuint (empty->removed, ==, 0);
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, 3);
  g_assert_cmpint (mt_library_count_missing (f->library, NULL), ==, 3);
  g_assert_false (is_recommended (f->library, liked->id));
  g_assert_false (is_recommended (f->library, tagged->id));
  assert_history (f->library, liked->id, tagged->id);

  /* No mount point either (or the folder renamed), and missing for longer
   * than the grace period: not an error while the library has songs there,
   * and still not a folder whose songs were deleted. */
  g_assert_cmpint (g_rmdir (f->music), ==, 0);
  songs = mt_library_list_songs (f->library, &error);
  long_ago = g_get_real_time () / G_USEC_PER_SEC - 2 * MT_LIBRARY_MISSING_GRACE_DAYS * 86400;
  for (guint i = 0; i < songs->len; i++)
    g_assert_true (mt_library_set_missing (f->library, ((MtSong *) songs->pdata[i])->id, long_ago, &error));
  renamed = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (renamed->missing, ==, 0);   /* already */
  g_assert_cmpuint (renamed->removed, ==, 0);
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, 3);
  g_assert_cmpint (mt_library_count_missing (f->library, NULL), ==, 3);
  assert_history (f->library, liked->id, tagged->id);

  /* The drive is back: same songs, same ids, history and all. */
  g_assert_cmpint (g_rename (away, f->music), ==, 0);
  back = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (back->restored, ==, 3);
  g_assert_cmpuint (back->unchanged, ==, 3);
  g_assert_cmpuint (back->imported + back->missing + back->removed + back->files_read, ==, 0);
  g_clear_pointer (&songs, g_ptr_array_unref);
  songs = mt_library_list_songs (f->library, &error);
  g_assert_cmpuint (songs->len, ==, 3);
  g_assert_cmpint (count_missing_in (songs), ==, 0);
  g_clear_pointer (&liked, mt_song_free);
  liked = mt_test_find_song (f->library, a);
  g_assert_cmpint (liked->id, ==, liked_id);
  g_assert_cmpint (liked->missing_since, ==, 0);
  g_clear_pointer (&tagged, mt_song_free);
  tagged = mt_test_find_song (f->library, b);
  g_assert_cmpint (tagged->id, ==, tagged_id);
  assert_history (f->library, liked->id, tagged->id);
  g_assert_true (is_recommended (f->library, liked->id));
}

/* A folder renamed, then imported under its new name: the songs missing
 * under the old name are the ones found under the new. */
static void
test_renamed_folder (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) first = NULL;
  g_autoptr(MtImportReport) gone = NULL;
  g_autoptr(MtImportReport) found = NULL;
  g_autoptr(MtSong) before = NULL;
  g_autoptr(MtSong) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *renamed = g_build_filename (f->dir, "renamed", NULL);
  g_autofree char *a = make_song (f->music, "a.ogg", "Alpha", "One", NULL, 0.5);
  g_autofree char *a_renamed = g_build_filename (renamed, "a.ogg", NULL);

  g_free (make_song (f->music, "b.ogg", "Beta", "Two", NULL, 0.5));
  first = mt_test_import (f->library, f->music, 0);
  before = mt_test_find_song (f->library, a);
  g_assert_true (mt_library_add_feedback (f->library, before->id, MT_FEEDBACK_LIKED, MT_MOOD_HAPPY, 100, &error));

  g_assert_cmpint (g_rename (f->music, renamed), ==, 0);
  gone = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (gone->missing, ==, 2);
  found = mt_test_import (f->library, renamed, 0);
  g_assert_cmpuint (found->moved, ==, 2);
  g_assert_cmpuint (found->restored, ==, 2);
  g_assert_cmpuint (found->imported, ==, 0);
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, 2);
  g_assert_cmpint (mt_library_count_missing (f->library, NULL), ==, 0);
  after = mt_test_find_song (f->library, a_renamed);
  g_assert_nonnull (after);
  g_assert_cmpint (after->id, ==, before->id);
  g_assert_cmpint (after->missing_since, ==, 0);
  g_assert_cmpint (mt_library_count_feedback (f->library, after->id, MT_FEEDBACK_LIKED, NULL), ==, 1);
}

/* Moves CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH in or out of this thread's
 * effective capabilities.  Tests run as root, whom a chmod 000 does not stop;
 * without these two, root meets file permissions as any user does.  They
 * stay permitted, so they can come back.  Capabilities are per thread: the
 * folder walk of mt_library_importer_import() runs in the calling thread. */
static gboolean
set_dac_capabilities (gboolean on)
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
  guint32 dac = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);

  if (syscall (SYS_capget, &header, caps) != 0)
    return FALSE;
  if (on)
    caps[0].effective |= dac & caps[0].permitted;
  else
    caps[0].effective &= ~dac;
  return syscall (SYS_capset, &header, caps) == 0;
}

/* A folder that cannot be read (permissions, an I/O error) is not an empty
 * folder: its songs are left as they are, and the skip says why. */
static void
test_unreadable_subfolder (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) first = NULL;
  g_autoptr(MtImportReport) locked = NULL;
  g_autoptr(MtImportReport) unlocked = NULL;
  g_autoptr(MtLibraryImporter) importer = mt_library_importer_new (f->library);
  g_autoptr(MtMoodRules) rules = NULL;
  g_autoptr(GFileEnumerator) probe = NULL;
  g_autoptr(GFile) sub_file = NULL;
  g_autoptr(MtSong) song = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sub = g_build_filename (f->music, "sub", NULL);
  g_autofree char *b = NULL;
  const char *folders[] = { f->music, NULL };

  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  g_free (make_song (f->music, "a.ogg", "Alpha", "One", NULL, 0.5));
  b = make_song (sub, "b.ogg", "Beta", "Two", NULL, 0.5);
  g_free (make_song (sub, "c.ogg", "Gamma", "Three", NULL, 0.5));
  first = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (first->imported, ==, 3);

  /* Loaded before the capabilities go: the walk is what must fail. */
  rules = mt_mood_rules_new_default (&error);
  g_assert_no_error (error);
  mt_library_importer_set_rules (importer, rules);

  g_assert_cmpint (g_chmod (sub, 0), ==, 0);
  g_assert_true (set_dac_capabilities (FALSE));
  sub_file = g_file_new_for_path (sub);
  probe = g_file_enumerate_children (sub_file, G_FILE_ATTRIBUTE_STANDARD_NAME, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (probe != NULL)
    {
      set_dac_capabilities (TRUE);
      g_chmod (sub, 0755);
      g_test_skip ("chmod 000 does not stop this process from reading a folder");
      return;
    }
  locked = mt_library_importer_import (importer, folders, NULL, &error);
  g_assert_true (set_dac_capabilities (TRUE));
  g_assert_cmpint (g_chmod (sub, 0755), ==, 0);
  g_assert_no_error (error);

  g_assert_cmpuint (locked->unchanged, ==, 1);
  g_assert_cmpuint (locked->missing + locked->removed, ==, 0);
  g_assert_cmpuint (locked->skipped, ==, 1);
  g_assert_nonnull (skip_reason (locked, "sub"));
  g_test_message ("%s", skip_reason (locked, "sub"));
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, 3);
  g_assert_cmpint (mt_library_count_missing (f->library, NULL), ==, 0);
  song = mt_test_find_song (f->library, b);
  g_assert_true (is_recommended (f->library, song->id));

  unlocked = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (unlocked->unchanged, ==, 3);
  g_assert_cmpuint (unlocked->skipped + unlocked->missing + unlocked->removed, ==, 0);
}

/* A subfolder that is a link to another drive, which is not mounted: its
 * songs are missing, and not forgotten after the grace period either. */
static void
test_dangling_link (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) first = NULL;
  g_autoptr(MtImportReport) dangling = NULL;
  g_autoptr(MtImportReport) later = NULL;
  g_autoptr(MtImportReport) back = NULL;
  g_autoptr(MtSong) song = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *drive = g_build_filename (f->dir, "drive", NULL);
  g_autofree char *away = g_build_filename (f->dir, "drive-away", NULL);
  g_autofree char *link = g_build_filename (f->music, "linked", NULL);
  g_autofree char *b_linked = g_build_filename (link, "b.ogg", NULL);

  g_assert_cmpint (g_mkdir (drive, 0755), ==, 0);
  g_free (make_song (f->music, "a.ogg", "Alpha", "One", NULL, 0.5));
  g_free (make_song (drive, "b.ogg", "Beta", "Two", NULL, 0.5));
  g_assert_cmpint (symlink (drive, link), ==, 0);
  first = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (first->imported, ==, 2);

  g_assert_cmpint (g_rename (drive, away), ==, 0);
  dangling = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (dangling->missing, ==, 1);
  song = mt_test_find_song (f->library, b_linked);
  g_assert_cmpint (song->missing_since, >, 0);
  g_assert_true (mt_library_set_missing (f->library, song->id, song->missing_since - 2 * MT_LIBRARY_MISSING_GRACE_DAYS * 86400, &error));
  later = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (later->removed, ==, 0);

  g_assert_cmpint (g_rename (away, drive), ==, 0);
  back = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (back->restored, ==, 1);
  g_clear_pointer (&song, mt_song_free);
  song = mt_test_find_song (f->library, b_linked);
  g_assert_cmpint (song->missing_since, ==, 0);
}

static void
test_tag_reader_crash (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) report = NULL;
  const char *reason;

  g_free (make_song (f->music, "a.ogg", "Before", "X", NULL, 0.5));
  g_free (make_song (f->music, "crashme.ogg", "Hostile", "Y", NULL, 0.5));
  g_free (make_song (f->music, "z.ogg", "After", "Z", NULL, 0.5));

  /* The helper aborts on this one file, like a demuxer bug would. */
  g_setenv ("MT_TAG_READER_CRASH_ON", "crashme", TRUE);
  report = mt_test_import (f->library, f->music, 0);
  g_unsetenv ("MT_TAG_READER_CRASH_ON");

  g_assert_cmpuint (report->imported, ==, 2);
  g_assert_cmpuint (report->skipped, ==, 1);
  g_assert_cmpuint (report->reader_restarts, ==, 1);
  reason = skip_reason (report, "crashme.ogg");
  g_assert_nonnull (reason);
  g_assert_nonnull (strstr (reason, "crashed"));
}

static void
test_tag_reader_hang (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) report = NULL;
  gint64 start;
  const char *reason;

  g_free (make_song (f->music, "a.ogg", "Before", "X", NULL, 0.5));
  g_free (make_song (f->music, "loop.ogg", "Endless", "Y", NULL, 0.5));
  g_free (make_song (f->music, "z.ogg", "After", "Z", NULL, 0.5));

  /* The helper never answers on this file: it is killed after the timeout
   * (1 s) plus start-up allowance, and the import goes on. */
  g_setenv ("MT_TAG_READER_HANG_ON", "loop.ogg", TRUE);
  start = g_get_monotonic_time ();
  report = mt_test_import (f->library, f->music, 1);
  g_unsetenv ("MT_TAG_READER_HANG_ON");

  g_assert_cmpint (g_get_monotonic_time () - start, <, 20 * G_USEC_PER_SEC);
  g_assert_cmpuint (report->imported, ==, 2);
  g_assert_cmpuint (report->skipped, ==, 1);
  g_assert_cmpuint (report->reader_restarts, ==, 1);
  reason = skip_reason (report, "loop.ogg");
  g_assert_nonnull (reason);
  g_assert_nonnull (strstr (reason, "did not answer"));
}

typedef struct {
  gboolean        done;
  MtImportReport *report;
  GError         *error;
} ImportWait;

static void
on_import_done (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  ImportWait *wait = data;

  wait->report = mt_library_importer_import_finish (MT_LIBRARY_IMPORTER (source), result, &wait->error);
  wait->done = TRUE;
}

/* Feedback (the player, POST /api/v1/feedback) goes through another
 * connection while an import waits on a hung tag helper: the import must not
 * hold the database's write lock meanwhile, or feedback waits for the helper
 * (up to 9 s a file) and then fails with SQLITE_BUSY. */
static void
test_feedback_during_hung_read (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) first = NULL;
  g_autoptr(MtLibraryImporter) importer = NULL;
  g_autoptr(MtSong) song = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *liked = make_song (f->music, "liked.ogg", "Liked", "X", NULL, 0.5);
  const char *folders[] = { f->music, NULL };
  ImportWait wait = { FALSE, NULL, NULL };
  gint64 start, worst = 0, at = 1000;
  guint n_feedback = 0;

  first = mt_test_import (f->library, f->music, 0);
  g_assert_cmpuint (first->imported, ==, 1);
  song = mt_test_find_song (f->library, liked);

  /* a.ogg is read at once, then the helper hangs on b-hang.ogg for its
   * timeout (1 s) plus the 4 s start-up allowance. */
  g_free (make_song (f->music, "a.ogg", "Quick", "Y", NULL, 0.5));
  g_free (make_song (f->music, "b-hang.ogg", "Hung", "Z", NULL, 0.5));
  g_setenv ("MT_TAG_READER_HANG_ON", "b-hang.ogg", TRUE);
  importer = mt_library_importer_new (f->library);
  mt_library_importer_set_timeout (importer, 1);
  start = g_get_monotonic_time ();
  mt_library_importer_import_async (importer, folders, NULL, on_import_done, &wait);

  while (!wait.done)
    {
      gint64 before = g_get_monotonic_time ();

      g_assert_true (mt_library_add_feedback (f->library, song->id, MT_FEEDBACK_PLAYED, MT_MOOD_HAPPY,
                                              at++, &error));
      g_assert_no_error (error);
      worst = MAX (worst, g_get_monotonic_time () - before);
      n_feedback++;
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (50000);
    }
  g_unsetenv ("MT_TAG_READER_HANG_ON");

  g_assert_no_error (wait.error);
  g_test_message ("import took %.1f s; %u feedback writes meanwhile, the slowest %.1f ms",
                  (g_get_monotonic_time () - start) / 1e6, n_feedback, worst / 1e3);
  g_assert_cmpuint (wait.report->imported, ==, 1);
  g_assert_cmpuint (wait.report->skipped, ==, 1);
  g_assert_nonnull (strstr (skip_reason (wait.report, "b-hang.ogg"), "did not answer"));
  /* The hang lasts about 5 s; a writer that waits for it is blocked for
   * seconds.  A generous bound: one batch's short transaction is ms. */
  g_assert_cmpuint (n_feedback, >=, 10);
  g_assert_cmpint (worst, <, 1500000);
  g_assert_cmpint (mt_library_count_feedback (f->library, song->id, MT_FEEDBACK_PLAYED, NULL), ==, n_feedback);
  mt_import_report_free (wait.report);
}

/* A stand-in helper: a shell script that runs @body (after `real` is set to
 * the real helper), set through $MT_TAG_READER. */
static char *
write_helper_script (Fixture    *f,
                     const char *name,
                     const char *body)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *real = g_build_filename (g_getenv ("MT_BUILD_DIR"), "src", "library",
                                            "moodtunes-tag-reader", NULL);
  g_autofree char *quoted = g_shell_quote (real);
  g_autofree char *text = g_strdup_printf ("#!/bin/sh\nreal=%s\n%s\n", quoted, body);
  char *path = g_build_filename (f->dir, name, NULL);

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
  return path;
}

static void
test_tag_reader_stray_lines (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) report = NULL;
  g_autofree char *script = NULL;
  const char *names[] = { "a.ogg", "b.ogg", "c.ogg", "d.ogg" };
  const char *titles[] = { "Alpha", "Beta", "Gamma", "Delta" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_free (make_song (f->music, names[i], titles[i], "X", NULL, 0.5));

  /* Something in the helper prints on its stdout before the first reply:
   * junk, a reply without an id and one with another id.  Without request
   * ids each later reply would land on the file after its own. */
  script = write_helper_script (f, "chatty-reader",
                                "echo 'a plugin says hello'\n"
                                "echo '{\"ok\": true, \"title\": \"Stray\"}'\n"
                                "echo '{\"id\": 99, \"ok\": true, \"title\": \"Wrong id\"}'\n"
                                "exec \"$real\" \"$@\"");
  g_setenv ("MT_TAG_READER", script, TRUE);
  report = mt_test_import (f->library, f->music, 0);
  g_unsetenv ("MT_TAG_READER");

  g_assert_cmpuint (report->imported, ==, G_N_ELEMENTS (names));
  g_assert_cmpuint (report->skipped, ==, 0);
  g_assert_cmpuint (report->reader_restarts, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (f->music, names[i], NULL);
      g_autoptr(MtSong) song = mt_test_find_song (f->library, path);

      g_assert_nonnull (song);
      g_assert_cmpstr (song->title, ==, titles[i]);
    }
}

static void
test_tag_reader_long_reply (Fixture *f, gconstpointer data)
{
  g_autoptr(MtImportReport) report = NULL;
  g_autofree char *script = NULL;
  gint64 start;
  const char *reason;

  g_free (make_song (f->music, "long.ogg", "Long", "X", NULL, 0.5));
  g_free (make_song (f->music, "endless.ogg", "Endless", "Y", NULL, 0.5));

  /* A reply of 100 KB (a well-formed one, with the right id) and a line
   * that never ends: both are refused at 64 KiB, at once, and the helper
   * is restarted. */
  script = write_helper_script (f, "long-reader",
                                "while IFS= read -r line; do\n"
                                "  id=$(printf '%s\\n' \"$line\" | sed -n 's/.*\"id\":\\([0-9]*\\).*/\\1/p')\n"
                                "  case \"$line\" in\n"
                                "  *endless*) head -c 4000000 /dev/zero | tr '\\0' x; sleep 60 ;;\n"
                                "  *) printf '{\"id\":%s,\"ok\":true,\"title\":\"' \"${id:-0}\"\n"
                                "     head -c 100000 /dev/zero | tr '\\0' x; printf '\"}\\n' ;;\n"
                                "  esac\n"
                                "done");
  g_setenv ("MT_TAG_READER", script, TRUE);
  start = g_get_monotonic_time ();
  report = mt_test_import (f->library, f->music, 5);
  g_unsetenv ("MT_TAG_READER");

  /* The endless line is cut off long before the 9 s answer timeout. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 6 * G_USEC_PER_SEC);
  g_assert_cmpuint (report->imported, ==, 0);
  g_assert_cmpuint (report->skipped, ==, 2);
  g_assert_cmpuint (report->reader_restarts, ==, 2);
  reason = skip_reason (report, "long.ogg");
  g_assert_nonnull (reason);
  g_assert_nonnull (strstr (reason, "longer than 64 KiB"));
  reason = skip_reason (report, "endless.ogg");
  g_assert_nonnull (reason);
  g_assert_nonnull (strstr (reason, "longer than 64 KiB"));
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, 0);
}

/* The reply parser on its own, as the fuzzer drives it. */
static void
test_tag_reader_parse_reply (void)
{
  struct {
    const char *line;
    guint64     id;
    int         code;    /* -1: parsed */
    const char *title;
  } cases[] = {
    { "{\"id\": 3, \"ok\": true, \"title\": \"T\", \"track\": 2, \"duration_ms\": 1500}", 3, -1, "T" },
    { "{\"id\": 3, \"ok\": true}", 3, -1, NULL },
    { "{\"id\": 3, \"ok\": true, \"title\": null, \"track\": 99999999999, \"duration_ms\": -5}", 3, -1, NULL },
    { "{\"id\": 4, \"ok\": true, \"title\": \"T\"}", 3, MT_TAG_READER_ERROR_NOT_A_REPLY, NULL },
    { "{\"id\": -3, \"ok\": true}", 3, MT_TAG_READER_ERROR_NOT_A_REPLY, NULL },
    { "{\"id\": \"3\", \"ok\": true}", 3, MT_TAG_READER_ERROR_NOT_A_REPLY, NULL },
    { "{\"ok\": true, \"title\": \"T\"}", 3, MT_TAG_READER_ERROR_NOT_A_REPLY, NULL },
    { "GStreamer says hello", 3, MT_TAG_READER_ERROR_NOT_A_REPLY, NULL },
    { "[3]", 3, MT_TAG_READER_ERROR_NOT_A_REPLY, NULL },
    { "", 3, MT_TAG_READER_ERROR_NOT_A_REPLY, NULL },
    { "{\"id\": 3, \"ok\": \"yes\"}", 3, MT_TAG_READER_ERROR_BAD_REPLY, NULL },
    { "{\"id\": 3, \"ok\": true, \"title\": 5}", 3, MT_TAG_READER_ERROR_BAD_REPLY, NULL },
    { "{\"id\": 3, \"ok\": true, \"artist\": [\"a\"]}", 3, MT_TAG_READER_ERROR_BAD_REPLY, NULL },
    { "{\"id\": 3, \"ok\": true, \"track\": \"2\"}", 3, MT_TAG_READER_ERROR_BAD_REPLY, NULL },
    { "{\"id\": 3, \"ok\": true, \"duration_ms\": 1.5}", 3, MT_TAG_READER_ERROR_BAD_REPLY, NULL },
    { "{\"id\": 3, \"ok\": false, \"error\": {}}", 3, MT_TAG_READER_ERROR_BAD_REPLY, NULL },
    /* A lone surrogate: json-glib makes it bytes that are not UTF-8. */
    { "{\"id\": 3, \"ok\": true, \"title\": \"a\\ud83c b\"}", 3, MT_TAG_READER_ERROR_BAD_REPLY, NULL },
    { "{\"id\": 3, \"ok\": false, \"error\": \"\\udfb5 x\"}", 3, MT_TAG_READER_ERROR_BAD_REPLY, NULL },
    { "{\"id\": 3, \"ok\": true, \"title\": \"\\ud83c\\udfb5\"}", 3, -1, "\xf0\x9f\x8e\xb5" },
    { "{\"id\": 3, \"ok\": false, \"error\": \"no audio\"}", 3, MT_TAG_READER_ERROR_UNREADABLE, NULL },
    { "{\"id\": 3, \"ok\": false}", 3, MT_TAG_READER_ERROR_UNREADABLE, NULL },
  };
  g_autoptr(GString) huge = g_string_new ("{\"id\": 1, \"ok\": true, \"title\": \"");
  g_autoptr(MtSong) song = mt_song_new ();
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("reply %s", cases[i].line);
      g_free (song->title);
      song->title = g_strdup ("untouched");
      song->track = 7;
      if (cases[i].code < 0)
        {
          g_assert_true (mt_tag_reader_parse_reply (cases[i].line, strlen (cases[i].line), cases[i].id,
                                                    song, &error));
          g_assert_no_error (error);
          g_assert_cmpstr (song->title, ==, cases[i].title);
          g_assert_cmpint (song->track, >=, 0);
          g_assert_cmpint (song->duration_ms, >=, 0);
        }
      else
        {
          g_assert_false (mt_tag_reader_parse_reply (cases[i].line, strlen (cases[i].line), cases[i].id,
                                                     song, &error));
          g_assert_error (error, MT_TAG_READER_ERROR, cases[i].code);
          g_clear_error (&error);
          g_assert_cmpstr (song->title, ==, "untouched");
          g_assert_cmpint (song->track, ==, 7);
        }
    }

  g_assert_true (mt_tag_reader_parse_reply (cases[0].line, strlen (cases[0].line), 3, song, NULL));
  g_assert_cmpint (song->track, ==, 2);
  g_assert_cmpint (song->duration_ms, ==, 1500);

  /* json-glib's message quotes a bad string as it decoded it (here a lone
   * surrogate, not UTF-8): ours is valid UTF-8 all the same. */
  g_assert_false (mt_tag_reader_parse_reply ("{\"id\": 3, \"ok\": false, \"error\": \"\\ud83c x\"y}", 44,
                                             3, song, &error));
  g_assert_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_NOT_A_REPLY);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_clear_error (&error);

  /* A NUL byte would cut strings short. */
  g_assert_false (mt_tag_reader_parse_reply ("{\"id\": 3, \"ok\": true}\0x", 23, 3, song, &error));
  g_assert_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_NOT_A_REPLY);
  g_clear_error (&error);

  /* One byte over the limit is refused, whatever it says. */
  while (huge->len < MT_TAG_READER_MAX_REPLY - 2)
    g_string_append_c (huge, 'x');
  g_string_append (huge, "\"}");
  g_assert_cmpuint (huge->len, ==, MT_TAG_READER_MAX_REPLY);
  g_assert_true (mt_tag_reader_parse_reply (huge->str, huge->len, 1, song, &error));
  g_assert_no_error (error);
  g_string_insert_c (huge, huge->len - 2, 'x');
  g_assert_false (mt_tag_reader_parse_reply (huge->str, huge->len, 1, song, &error));
  g_assert_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_BAD_REPLY);
  g_assert_nonnull (strstr (error->message, "longer than 64 KiB"));
}

static void
test_missing_folder (Fixture *f, gconstpointer data)
{
  g_autoptr(MtLibraryImporter) importer = mt_library_importer_new (f->library);
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (f->dir, "no-such-folder", NULL);
  const char *folders[] = { f->music, missing, NULL };
  MtImportReport *report;

  report = mt_library_importer_import (importer, folders, NULL, &error);
  g_assert_null (report);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  g_assert_nonnull (strstr (error->message, "no-such-folder"));
}

/* n copies of one short song: fast to make, same tags. */
static void
make_copies (const char *dir,
             guint       n)
{
  g_autofree char *model = g_build_filename (dir, "model.ogg.part", NULL);
  g_autoptr(GError) error = NULL;

  mt_test_make_song (model, "Copy", "Copier", NULL, NULL, 0.3, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("copy-%03u.ogg", i);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_assert_true (mt_test_copy_file (model, path, -1, NULL));
    }
  g_unlink (model);
}

typedef struct {
  GMainLoop      *loop;
  GCancellable   *cancellable;
  MtImportReport *report;
  GError         *error;
  guint           n_progress;
  guint           cancel_after;
  GThread        *main_thread;
} AsyncState;

static void
on_progress (MtLibraryImporter    *importer,
             const MtImportReport *report,
             gpointer              data)
{
  AsyncState *state = data;

  /* Progress arrives in the caller's thread, not the worker's. */
  g_assert_true (g_thread_self () == state->main_thread);
  state->n_progress++;
  if (state->cancel_after > 0 && report->files_read >= state->cancel_after)
    g_cancellable_cancel (state->cancellable);
}

static void
on_imported (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  AsyncState *state = data;

  state->report = mt_library_importer_import_finish (MT_LIBRARY_IMPORTER (source), result, &state->error);
  g_main_loop_quit (state->loop);
}

/* Progress reaches the main loop while the worker reads on: enough files
 * that a loaded machine cannot read them all before the cancel lands (30
 * once were, in a CI run). */
#define N_COPIES 240

static void
test_async_and_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr(MtLibraryImporter) importer = mt_library_importer_new (f->library);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(MtImportReport) rest = NULL;
  const char *folders[] = { f->music, NULL };
  AsyncState state = { loop, cancellable, NULL, NULL, 0, 6, g_thread_self () };
  gint64 committed;

  make_copies (f->music, N_COPIES);
  mt_library_importer_set_batch_size (importer, 3);
  g_signal_connect (importer, "progress", G_CALLBACK (on_progress), &state);

  mt_library_importer_import_async (importer, folders, cancellable, on_imported, &state);
  g_main_loop_run (loop);

  g_assert_error (state.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (state.report);
  g_assert_cmpuint (state.n_progress, >=, 2);
  /* What was read before the cancel stays. */
  committed = mt_library_count_songs (f->library, NULL);
  g_assert_cmpint (committed, >=, 6);
  g_assert_cmpint (committed, <, N_COPIES);
  g_clear_error (&state.error);

  /* The next import picks up where it stopped. */
  state.cancel_after = 0;
  g_cancellable_reset (cancellable);
  mt_library_importer_import_async (importer, folders, NULL, on_imported, &state);
  g_main_loop_run (loop);
  g_assert_no_error (state.error);
  rest = g_steal_pointer (&state.report);
  g_assert_cmpuint (rest->unchanged, ==, committed);
  g_assert_cmpuint (rest->imported, ==, N_COPIES - committed);
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, N_COPIES);
}

static gint64
count_rows (const char *db_path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 count = -1;

  if (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_busy_timeout (db, 1000) == SQLITE_OK &&
      sqlite3_prepare_v2 (db, "SELECT count(*) FROM songs", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return count;
}

static void
test_killed_mid_import (Fixture *f, gconstpointer data)
{
  g_autofree char *cli = mt_test_find_cli ();
  g_autofree char *db_path = g_strdup (mt_library_get_path (f->library));
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(MtLibrary) reopened = NULL;
  g_autoptr(MtImportReport) rest = NULL;
  g_autoptr(GError) error = NULL;
  gint64 count = 0;
  gint64 deadline;

  make_copies (f->music, 120);
  g_clear_object (&f->library);

  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
                            cli, "--db", db_path, "import", "--no-audio", "--batch", "4", f->music, NULL);
  g_assert_no_error (error);

  /* Kill it once a few batches are in. */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while ((count = count_rows (db_path)) < 12 && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  reopened = mt_test_kill_and_reopen (child, db_path);
  g_assert_cmpint (count, >=, 12);

  count = mt_library_count_songs (reopened, NULL);
  g_test_message ("%" G_GINT64_FORMAT " songs committed before the kill", count);
  g_assert_cmpint (count, >=, 12);
  g_assert_cmpint (count, <, 120);
  g_assert_cmpint (count % 4, ==, 0);   /* whole batches only */

  rest = mt_test_import (reopened, f->music, 0);
  g_assert_cmpuint (rest->unchanged, ==, count);
  g_assert_cmpint (mt_library_count_songs (reopened, NULL), ==, 120);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, mt_test_library_set_up, func, mt_test_library_tear_down)
  ADD ("/import/debian-music", test_debian_music);
  ADD ("/import/generated-and-broken", test_generated_and_broken);
  ADD ("/import/rescan", test_rescan);
  ADD ("/import/vanished-folder", test_vanished_folder);
  ADD ("/import/renamed-folder", test_renamed_folder);
  ADD ("/import/unreadable-subfolder", test_unreadable_subfolder);
  ADD ("/import/dangling-link", test_dangling_link);
  ADD ("/import/tag-reader-crash", test_tag_reader_crash);
  ADD ("/import/tag-reader-hang", test_tag_reader_hang);
  ADD ("/import/tag-reader-stray-lines", test_tag_reader_stray_lines);
  ADD ("/import/tag-reader-long-reply", test_tag_reader_long_reply);
  g_test_add_func ("/import/tag-reader-parse-reply", test_tag_reader_parse_reply);
  ADD ("/import/feedback-during-hung-read", test_feedback_during_hung_read);
  ADD ("/import/missing-folder", test_missing_folder);
  ADD ("/import/async-and-cancel", test_async_and_cancel);
  ADD ("/import/killed-mid-import", test_killed_mid_import);
#undef ADD

  return g_test_run ();
}
