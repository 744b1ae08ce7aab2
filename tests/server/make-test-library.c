/* make-test-library: writes a small music library for the browser and bench
 * runs (songs with mood weights, every other one with its sound analysed; no
 * audio files are needed to recommend).
 *
 *   make-test-library DB-FILE [SONGS-PER-MOOD]
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "mt-audio-features.h"
#include "mt-library.h"
#include "mt-song.h"

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

int
main (int argc, char *argv[])
{
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(GError) error = NULL;
  guint64 per_mood = 5;

  if (argc < 2 || argc > 3 ||
      (argc == 3 && !g_ascii_string_to_unsigned (argv[2], 10, 1, 10000, &per_mood, NULL)))
    {
      g_printerr ("usage: make-test-library DB-FILE [SONGS-PER-MOOD]\n");
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
        song->id = mt_library_add_song (library, song, &error);
        if (song->id == 0 ||
            !mt_library_set_mood_weights (library, song->id, MT_MOOD_SOURCE_RULE, weights, &error) ||
            (i % 2 == 0 && !add_sound (library, song->id, mood, &error)))
          {
            g_printerr ("make-test-library: %s\n", error->message);
            return 1;
          }
      }
  if (!mt_library_commit (library, &error))
    {
      g_printerr ("make-test-library: %s\n", error->message);
      return 1;
    }
  return 0;
}
