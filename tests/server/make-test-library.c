/* make-test-library: writes a small music library for the browser and bench
 * runs (songs with mood weights, every other one with its sound analysed; no
 * audio files are needed to recommend).
 *
 *   make-test-library DB-FILE [SONGS-PER-MOOD [AUDIO-DIR]]
 *
 * With AUDIO-DIR, every song is a real tagged file written there (short
 * tones, Ogg Vorbis and MP3 in turn, so the page plays both), and three
 * songs without moods test the audio endpoint's errors: "Gone song" (its
 * file is not there), "Missing song" (marked missing, as after a rescan of
 * an unplugged drive) and "Windows Media song" (an ASF header, a format
 * browsers do not play; only the header is read before the refusal).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mt-audio-features.h"
#include "mt-library.h"
#include "mt-song.h"
#include "mt-test-music.h"

/* Long enough to seek in and to dislike before half, short enough for the
 * browser test to hear one to its end. */
#define SONG_SECONDS 8.0

/* Every other song is analysed, so replies carry both a song's sound and
 * the nulls of one not analysed yet: each mood gets a point of the
 * valence/arousal plane (its Russell quadrant) and a tempo. */
static gboolean
add_sound (MtLibrary *library,
           gint64     id,
           int        mood,
           GError   **error)
{
  static const double valence[MT_N_MOODS] = { -0.6, -0.7, -0.5, 0.7, -0.6, 0.4, 0.3 };
  static const double arousal[MT_N_MOODS] = { 0.7, 0.3, 0.5, 0.6, -0.6, 0.7, -0.5 };
  double weights[MT_N_MOODS] = { 0 };

  weights[mood] = 0.8;
  return mt_library_set_audio_features (library, id, 0, 0, MT_AUDIO_FEATURES_VERSION, "{}",
                                        80.0 + 40.0 * (arousal[mood] + 1.0), -12.0, 30000, error) &&
         mt_library_set_audio_mood (library, id, "make-test-library", valence[mood], arousal[mood],
                                    weights, 0.5, error);
}

/* The audio endpoint's error cases, with no moods (never ranked first). */
static gboolean
add_broken_songs (MtLibrary  *library,
                  const char *dir,
                  GError    **error)
{
  static const guint8 asf_header[16] = {
    0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
  };
  g_autofree char *gone = g_build_filename (dir, "gone.ogg", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.ogg", NULL);
  g_autofree char *wma = g_build_filename (dir, "windows-media.wma", NULL);
  const char *paths[] = { gone, missing, wma };
  const char *titles[] = { "Gone song", "Missing song", "Windows Media song" };
  guint8 file[4096] = { 0 };

  memcpy (file, asf_header, sizeof asf_header);
  if (!g_file_set_contents (wma, (const char *) file, sizeof file, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(MtSong) song = mt_song_new ();

      song->uri = g_filename_to_uri (paths[i], NULL, error);
      song->title = g_strdup (titles[i]);
      if (song->uri == NULL || (song->id = mt_library_add_song (library, song, error)) == 0)
        return FALSE;
      if (paths[i] == missing && !mt_library_set_missing (library, song->id, 1700000000, error))
        return FALSE;
    }
  return TRUE;
}

/* The song's file in @dir, tagged with its title and artist. */
static gboolean
make_audio (MtSong     *song,
            const char *dir,
            int         mood,
            guint64     i,
            GError    **error)
{
  g_autofree char *name = g_strdup_printf ("%s-%" G_GUINT64_FORMAT ".%s", mt_mood_to_string (mood), i,
                                           i % 2 == 0 ? "ogg" : "mp3");
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (!mt_test_make_song (path, song->title, song->artist, "Test tones", NULL, SONG_SECONDS, error))
    return FALSE;
  g_free (song->uri);
  song->uri = g_filename_to_uri (path, NULL, error);
  song->duration_ms = (gint64) (SONG_SECONDS * 1000);
  return song->uri != NULL;
}

int
main (int argc, char *argv[])
{
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(GError) error = NULL;
  const char *audio_dir = argc == 4 ? argv[3] : NULL;
  guint64 per_mood = 5;

  if (argc < 2 || argc > 4 ||
      (argc >= 3 && !g_ascii_string_to_unsigned (argv[2], 10, 1, 10000, &per_mood, NULL)))
    {
      g_printerr ("usage: make-test-library DB-FILE [SONGS-PER-MOOD [AUDIO-DIR]]\n");
      return 2;
    }
  library = mt_library_open (argv[1], &error);
  if (library == NULL || !mt_library_begin (library, &error))
    {
      g_printerr ("make-test-library: %s\n", error->message);
      return 1;
    }
  for (int mood = 0; mood < MT_N_MOODS; mood++)
    for (guint64 i = 0; i < per_mood; i++)
      {
        g_autoptr(MtSong) song = mt_song_new ();
        double weights[MT_N_MOODS];

        for (int m = 0; m < MT_N_MOODS; m++)
          weights[m] = NAN;
        weights[mood] = 0.5 + 0.4 * (double) (i + 1) / per_mood;
        song->uri = g_strdup_printf ("file:///music/%s-%" G_GUINT64_FORMAT ".ogg", mt_mood_to_string (mood), i);
        song->title = g_strdup_printf ("%c%s song %" G_GUINT64_FORMAT, g_ascii_toupper (mt_mood_to_string (mood)[0]),
                                       mt_mood_to_string (mood) + 1, i + 1);
        song->artist = g_strdup_printf ("Artist %" G_GUINT64_FORMAT, i % 3 + 1);
        if (audio_dir != NULL && !make_audio (song, audio_dir, mood, i, &error))
          {
            g_printerr ("make-test-library: %s\n", error->message);
            return 1;
          }
        song->id = mt_library_add_song (library, song, &error);
        if (song->id == 0 ||
            !mt_library_set_mood_weights (library, song->id, MT_MOOD_SOURCE_RULE, weights, &error) ||
            (i % 2 == 0 && !add_sound (library, song->id, mood, &error)))
          {
            g_printerr ("make-test-library: %s\n", error->message);
            return 1;
          }
      }
  if ((audio_dir != NULL && !add_broken_songs (library, audio_dir, &error)) ||
      !mt_library_commit (library, &error))
    {
      g_printerr ("make-test-library: %s\n", error->message);
      return 1;
    }
  return 0;
}
