/* mt-session.h: the one owner of what the listener is in: the mood (from
 * the camera's readings or picked by hand), the strategy, the playlist for
 * them, the mood history, and the one path by which feedback is recorded.
 *
 * No widgets: the window, MPRIS and the local server observe it, so the
 * desktop and the companion page always show the same mood and the same
 * playlist.  The app makes one at startup; a headless moodtunes-server makes
 * its own with the same code.  Recommendations are ranked on a thread of the
 * session's own, on its own database connection, never on the caller's
 * main loop.  Use a session from the thread that made it.
 */
#pragma once

#include <gio/gio.h>

#include "mt-library.h"
#include "mt-mood-history.h"
#include "mt-mood-strategies.h"
#include "mt-player.h"

G_BEGIN_DECLS

/* Songs in the session's playlist. */
#define MT_SESSION_PLAYLIST_LENGTH 25

/* Who gave a piece of feedback, for MtSession::feedback-recorded. */
typedef enum {
  MT_FEEDBACK_ORIGIN_DESKTOP,    /* the app: its buttons, MPRIS, its player */
  MT_FEEDBACK_ORIGIN_COMPANION,  /* the companion page, through the server */
  MT_FEEDBACK_ORIGIN_COMMAND,    /* a command line */
} MtFeedbackOrigin;

/* Where the playlist stands. */
typedef enum {
  MT_PLAYLIST_STATUS_UNAVAILABLE,   /* no library or no strategies: see "playlist-error" */
  MT_PLAYLIST_STATUS_LOADING,       /* the first list is being ranked */
  MT_PLAYLIST_STATUS_READY,
  MT_PLAYLIST_STATUS_EMPTY_LIBRARY, /* no music yet */
  MT_PLAYLIST_STATUS_ALL_MISSING,   /* every song's file is gone (a drive unplugged) */
  MT_PLAYLIST_STATUS_FAILED,        /* the query failed: see "playlist-error" */
} MtPlaylistStatus;

#define MT_TYPE_SESSION (mt_session_get_type ())
G_DECLARE_FINAL_TYPE (MtSession, mt_session, MT, SESSION, GObject)

/* @library and @player may be NULL (no music library; a headless server
 * without playback).  The playlist strategies are the installed ones. */
MtSession        *mt_session_new                (MtLibrary        *library,
                                                 MtPlayer         *player);
MtLibrary        *mt_session_get_library        (MtSession        *self);
MtPlayer         *mt_session_get_player         (MtSession        *self);
/* The seed of the recommender's tie-breaking jitter (0 by default). */
void              mt_session_set_seed           (MtSession        *self,
                                                 guint64           seed);

/* ---- mood: "mood", "face-mood", "confidence", "locked", "picked-mood" ---- */

/* One camera frame's reading at @time_us (monotonic): MT_N_MOODS
 * probabilities of the user's face, or NULL for a frame without one. */
void              mt_session_add_reading        (MtSession        *self,
                                                 const float      *probabilities,
                                                 gint64            time_us);
/* The camera stopped: its readings are forgotten (the history stays). */
void              mt_session_reset_readings     (MtSession        *self);
/* Whether a camera feeds this session (readings since the last reset). */
gboolean          mt_session_has_readings       (MtSession        *self);
/* The mood the music is for: the picked one while locked, else the face's. */
MtMood            mt_session_get_mood           (MtSession        *self);
MtMood            mt_session_get_face_mood      (MtSession        *self);
float             mt_session_get_confidence     (MtSession        *self);
void              mt_session_get_probabilities  (MtSession        *self,
                                                 float            *probabilities);
/* Locking keeps the mood as it is (the face's, else neutral). */
void              mt_session_set_locked         (MtSession        *self,
                                                 gboolean          locked);
gboolean          mt_session_get_locked         (MtSession        *self);
/* A mood picked by hand, which locks; MT_MOOD_NONE unlocks. */
void              mt_session_pick_mood          (MtSession        *self,
                                                 MtMood            mood);
MtMood            mt_session_get_picked_mood    (MtSession        *self);
/* The last minutes, in memory: samples and marks (songs started, ratings);
 * "history-changed" when a second's sample or a mark is added. */
MtMoodHistory    *mt_session_get_history        (MtSession        *self);
/* "keep-history" (bind it to the keep-mood-history setting): also store a
 * row a minute in the library (mt-mood-history-store.h).  Off by default. */
void              mt_session_set_keep_history   (MtSession        *self,
                                                 gboolean          keep);
gboolean          mt_session_get_keep_history   (MtSession        *self);
/* Stores the minute under way now (kept history only; at the camera's end
 * and when the session goes, by itself). */
gboolean          mt_session_flush_history      (MtSession        *self,
                                                 GError          **error);
/* Deletes the stored history (what this minute gathered too). */
gboolean          mt_session_delete_history     (MtSession        *self,
                                                 GError          **error);

/* ---- strategy and playlist --------------------------------------------- */

/* "strategy" (MT_TYPE_STRATEGY): bind it to the settings' key. */
void              mt_session_set_strategy       (MtSession        *self,
                                                 MtStrategy        strategy);
MtStrategy        mt_session_get_strategy       (MtSession        *self);
/* The playlist: a GListModel of MtSongItem, best first. */
GListModel       *mt_session_get_playlist       (MtSession        *self);
MtMood            mt_session_get_playlist_mood  (MtSession        *self);
MtStrategy        mt_session_get_playlist_strategy (MtSession     *self);
MtPlaylistStatus  mt_session_get_playlist_status (MtSession       *self);
const char       *mt_session_get_playlist_error (MtSession        *self);
/* Ranks the playlist again for the mood and strategy, in the background;
 * without @force only when they changed (or the library did). */
void              mt_session_refresh_playlist   (MtSession        *self,
                                                 gboolean          force);
/* Up to @limit songs (MtSong) for @mood and @strategy, ranked as the
 * playlist is (the playlist itself when it is for them), without blocking. */
void              mt_session_recommend_async    (MtSession        *self,
                                                 MtMood            mood,
                                                 MtStrategy        strategy,
                                                 guint             limit,
                                                 GCancellable     *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer          user_data);
/* The songs; an empty array when there is no music yet. */
GPtrArray        *mt_session_recommend_finish   (MtSession        *self,
                                                 GAsyncResult     *result,
                                                 GError          **error);

/* ---- feedback ------------------------------------------------------------ */

/* The one way feedback is recorded: in the library, under @mood
 * (MT_MOOD_NONE: the session's mood), then MtSession::feedback-recorded.
 * A dislike of the song playing skips it, from wherever it came. */
gboolean          mt_session_record_feedback    (MtSession        *self,
                                                 gint64            song_id,
                                                 MtFeedback        feedback,
                                                 MtMood            mood,
                                                 MtFeedbackOrigin  origin,
                                                 GError          **error);

/* Signals:
 *   "feedback-recorded" (gint64 song_id, MtFeedback feedback, MtMood mood,
 *     MtFeedbackOrigin origin): after the library has it.
 *   "history-changed": the history has a new sample or mark. */

G_END_DECLS
