/* mt-player.h: plays a playlist with GStreamer's playbin.
 *
 * End of a track plays the next one and counts as "played"; moving on before
 * half of a track counts as "skipped"; a file that cannot be played is
 * reported and skipped (also one that hangs instead of failing).  Needs a
 * running GLib main loop in the thread that made it.
 *
 * Properties (read-only, notified only when they change): "state" (an
 * MtPlayerState, MT_TYPE_PLAYER_STATE), "current-song" (an MtSong or NULL)
 * and "n-songs" (the playlist's length).
 */
#pragma once

#include <glib-object.h>

#include "mt-library.h"
#include "mt-song.h"

G_BEGIN_DECLS

typedef enum {
  MT_PLAYER_STOPPED,
  MT_PLAYER_PLAYING,
  MT_PLAYER_PAUSED,
} MtPlayerState;

#define MT_TYPE_PLAYER (mt_player_get_type ())
G_DECLARE_FINAL_TYPE (MtPlayer, mt_player, MT, PLAYER, GObject)

MtPlayer      *mt_player_new              (void);
/* A gst-launch style description of the audio sink, e.g. "fakesink" or
 * "fakeaudiosink sync=false"; NULL for the desktop's default. */
gboolean       mt_player_set_audio_sink   (MtPlayer      *self,
                                           const char    *description,
                                           GError       **error);
/* Seconds a file may take to start before it is reported as unplayable. */
void           mt_player_set_start_timeout (MtPlayer     *self,
                                            guint         seconds);

/* Replaces the playlist (MtSong, copied) and stops. */
void           mt_player_set_playlist     (MtPlayer      *self,
                                           GPtrArray     *songs);
guint          mt_player_get_n_songs      (MtPlayer      *self);
/* Index of the current song, -1 when stopped at the end or before start. */
int            mt_player_get_current      (MtPlayer      *self);
const MtSong  *mt_player_get_current_song (MtPlayer      *self);
MtPlayerState  mt_player_get_state        (MtPlayer      *self);

/* Starts or resumes; from the start of the playlist when stopped. */
void           mt_player_play             (MtPlayer      *self);
void           mt_player_pause            (MtPlayer      *self);
void           mt_player_stop             (MtPlayer      *self);
/* The next song; the current one counts as skipped before its half. */
void           mt_player_next             (MtPlayer      *self);
/* Back to the start of the song after 3 s of it, else the song before. */
void           mt_player_previous         (MtPlayer      *self);
gboolean       mt_player_seek             (MtPlayer      *self,
                                           gint64         position_ms);
/* Position in the current song, -1 when unknown. */
gint64         mt_player_get_position     (MtPlayer      *self);
void           mt_player_set_volume       (MtPlayer      *self,
                                           double         volume);
double         mt_player_get_volume       (MtPlayer      *self);

G_END_DECLS
