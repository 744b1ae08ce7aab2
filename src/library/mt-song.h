/* mt-song.h: one song of the library as the rest of the app sees it. */
#pragma once

#include <glib-object.h>

#include "mt-mood.h"

G_BEGIN_DECLS

#define MT_TYPE_SONG (mt_song_get_type ())

typedef struct {
  gint64  id;
  char   *uri;
  /* Tags; NULL when the file has none (the app shows the file name). */
  char   *title;
  char   *artist;
  char   *album;
  char   *genre;
  gint64  duration_ms;
  int     track;          /* 0 when unknown */
  gint64  size;           /* bytes, with mtime the "unchanged?" test of a rescan */
  gint64  mtime;          /* seconds since the epoch */
  gint64  last_played;    /* seconds since the epoch, 0 = never */
  int     play_count;
  gint64  missing_since;  /* seconds since the epoch its file was found gone, 0 = there */
  /* Effective mood weights in [0, 1] (rule or user weight plus learning). */
  double  moods[MT_N_MOODS];
  /* Ranking score given by the recommender, 0 elsewhere. */
  double  score;
  /* From the song's own sound (mt_library_set_audio_features() and
   * mt_library_set_audio_mood()); NAN while it has not been analysed (or its
   * analysis failed, or no model has run on its features yet), so that "not
   * known" is never mistaken for a real 0. */
  double  valence;        /* -1 (negative) .. 1 (positive) */
  double  arousal;        /* -1 (calm) .. 1 (energetic) */
  double  tempo;          /* beats per minute */
  double  loudness;       /* integrated loudness, LUFS */
} MtSong;

GType       mt_song_get_type          (void) G_GNUC_CONST;
/* All zero, except the audio fields: NAN (not analysed). */
MtSong     *mt_song_new               (void);
MtSong     *mt_song_copy              (const MtSong *song);
void        mt_song_free              (MtSong       *song);
/* Title, or the file name when the song has no title tag; never NULL. */
char       *mt_song_dup_display_title (const MtSong *song);
/* The mood with the highest weight, MT_MOOD_NONE when all are 0. */
MtMood      mt_song_get_main_mood     (const MtSong *song);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtSong, mt_song_free)

G_END_DECLS
