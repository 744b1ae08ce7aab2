/* mt-song-item.h: one song of a playlist as a list-model item. */
#pragma once

#include <glib-object.h>

#include "mt-song.h"

G_BEGIN_DECLS

#define MT_TYPE_SONG_ITEM (mt_song_item_get_type ())
G_DECLARE_FINAL_TYPE (MtSongItem, mt_song_item, MT, SONG_ITEM, GObject)

/* Holds a copy of @song. */
MtSongItem   *mt_song_item_new      (const MtSong *song);
const MtSong *mt_song_item_get_song (MtSongItem   *self);

G_END_DECLS
