/* mt-song-row.h: one song of the playlist. */
#pragma once

#include <adwaita.h>

#include "mt-song.h"

G_BEGIN_DECLS

#define MT_TYPE_SONG_ROW (mt_song_row_get_type ())
G_DECLARE_FINAL_TYPE (MtSongRow, mt_song_row, MT, SONG_ROW, AdwActionRow)

GtkWidget    *mt_song_row_new         (const MtSong *song);
/* How the song sounds, e.g. "calm · 72 BPM"; NULL when not analysed. */
char         *mt_song_row_dup_sound_text (const MtSong *song);
const MtSong *mt_song_row_get_song    (MtSongRow    *self);
void          mt_song_row_set_playing (MtSongRow    *self,
                                       gboolean      playing);
/* Shows that the song's file is missing (also set from MtSong.missing_since). */
void          mt_song_row_set_missing (MtSongRow    *self,
                                       gboolean      missing);

G_END_DECLS
