#define G_LOG_DOMAIN "mt-song"

#include "config.h"

#include <math.h>
#include <gio/gio.h>

#include "mt-song.h"

G_DEFINE_BOXED_TYPE (MtSong, mt_song, mt_song_copy, mt_song_free)

MtSong *
mt_song_new (void)
{
  MtSong *song = g_new0 (MtSong, 1);

  song->valence = song->arousal = song->tempo = song->loudness = NAN;
  return song;
}

MtSong *
mt_song_copy (const MtSong *song)
{
  MtSong *copy;

  g_return_val_if_fail (song != NULL, NULL);

  copy = g_memdup2 (song, sizeof *song);
  copy->uri = g_strdup (song->uri);
  copy->title = g_strdup (song->title);
  copy->artist = g_strdup (song->artist);
  copy->album = g_strdup (song->album);
  copy->genre = g_strdup (song->genre);
  return copy;
}

void
mt_song_free (MtSong *song)
{
  if (song == NULL)
    return;
  g_free (song->uri);
  g_free (song->title);
  g_free (song->artist);
  g_free (song->album);
  g_free (song->genre);
  g_free (song);
}

char *
mt_song_dup_display_title (const MtSong *song)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *basename = NULL;

  g_return_val_if_fail (song != NULL, NULL);

  if (song->title != NULL && song->title[0] != '\0')
    return g_strdup (song->title);
  if (song->uri == NULL)
    return g_strdup ("");
  file = g_file_new_for_uri (song->uri);
  basename = g_file_get_basename (file);
  if (basename == NULL)
    return g_strdup (song->uri);
  return g_filename_display_name (basename);
}

MtMood
mt_song_get_main_mood (const MtSong *song)
{
  MtMood best = MT_MOOD_NONE;
  double best_weight = 0.0;

  g_return_val_if_fail (song != NULL, MT_MOOD_NONE);

  for (int i = 0; i < MT_N_MOODS; i++)
    {
      if (song->moods[i] > best_weight)
        {
          best_weight = song->moods[i];
          best = (MtMood) i;
        }
    }
  return best;
}
