/* mt-library.h: the user's music library, one SQLite database.
 *
 * Songs, their mood weights (from genre rules, set by the user, or learned from
 * feedback) and the play history.  One MtLibrary is one database connection:
 * use it from one thread at a time; a worker thread opens its own MtLibrary on
 * the same file (WAL mode lets readers and one writer work side by side).
 */
#pragma once

#include <glib-object.h>

#include "mt-mood.h"
#include "mt-song.h"

G_BEGIN_DECLS

#define MT_LIBRARY_ERROR (mt_library_error_quark ())

typedef enum {
  MT_LIBRARY_ERROR_DATABASE,     /* SQLite failed: message says what and where */
  MT_LIBRARY_ERROR_TOO_NEW,      /* created by a newer Moodtunes */
  MT_LIBRARY_ERROR_NOT_FOUND,    /* no song with that id */
  MT_LIBRARY_ERROR_INVALID,      /* bad argument (weight out of range…) */
} MtLibraryError;

/* Where a mood weight came from.  The user's weight replaces the rule's;
 * learned weights are added on top of either. */
typedef enum {
  MT_MOOD_SOURCE_RULE = 0,
  MT_MOOD_SOURCE_USER,
  MT_MOOD_SOURCE_LEARNED,
} MtMoodSource;

typedef enum {
  MT_FEEDBACK_PLAYED = 0,   /* listened to the end */
  MT_FEEDBACK_SKIPPED,      /* skipped before half */
  MT_FEEDBACK_LIKED,
  MT_FEEDBACK_DISLIKED,
} MtFeedback;

/* Where a song's audio analysis stands.  A failure is remembered (with its
 * reason, for people) so a file that cannot be decoded is not decoded again
 * on every scan; a changed file is analysed again either way. */
typedef enum {
  MT_AUDIO_STATE_NONE = 0,      /* never analysed */
  MT_AUDIO_STATE_ANALYSED = 1,
  MT_AUDIO_STATE_FAILED = 2,
} MtAudioState;

/* A song's stored audio features, for deriving its mood weights again with a
 * new model without decoding the file (mt_library_list_audio_stale()). */
typedef struct {
  gint64  song_id;
  char   *features_json;    /* a JSON object: feature name -> number */
} MtSongFeatures;

void        mt_song_features_free        (MtSongFeatures *features);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtSongFeatures, mt_song_features_free)

/* What a write changed, for MtLibrary::changed. */
typedef enum {
  MT_LIBRARY_CHANGE_SONGS    = 1 << 0,  /* songs added, updated, removed, missing */
  MT_LIBRARY_CHANGE_MOODS    = 1 << 1,  /* mood weights (rules, the user, the sound) */
  MT_LIBRARY_CHANGE_FEEDBACK = 1 << 2,  /* played, skipped, liked, disliked */
} MtLibraryChange;

#define MT_LIBRARY_SCHEMA_VERSION 5

/* Days a song whose file is gone stays in the library, marked missing, with
 * its moods and history, before a rescan of a folder that is otherwise there
 * forgets it.  Long, because a music drive or a network share can stay
 * unplugged for weeks and its songs must come back as they were; while the
 * whole folder looks unmounted (missing or empty) its songs are never
 * forgotten, only on request (mt_library_forget_missing()). */
#define MT_LIBRARY_MISSING_GRACE_DAYS 90

#define MT_TYPE_LIBRARY (mt_library_get_type ())
G_DECLARE_FINAL_TYPE (MtLibrary, mt_library, MT, LIBRARY, GObject)

GQuark      mt_library_error_quark        (void);

/* MtLibrary::changed (MtLibraryChange what): this connection wrote to the
 * database, emitted in the thread that wrote, after the write landed (at
 * mt_library_commit() inside a transaction; nothing after a rollback).
 * Writers on other connections (an importer's thread, a second process) are
 * not seen here: whoever ran them announces their work with
 * mt_library_notify_changed() on the connection others watch (the
 * importer's and analyzer's _finish() functions do). */
void        mt_library_notify_changed     (MtLibrary       *self,
                                           MtLibraryChange  what);
const char *mt_feedback_to_string         (MtFeedback feedback);
gboolean    mt_feedback_from_string       (const char *text,
                                           MtFeedback *out_feedback);
/* How much one feedback event moves the learned weight of the detected mood. */
double      mt_feedback_get_learning_step (MtFeedback feedback);

/* $XDG_DATA_HOME/moodtunes/library.db */
char       *mt_library_dup_default_path   (void);

/* Opens (creating the folder and file if needed) and migrates the database. */
MtLibrary  *mt_library_open               (const char  *path,
                                           GError     **error);
const char *mt_library_get_path           (MtLibrary   *self);
int         mt_library_get_schema_version (MtLibrary   *self);

/* Explicit transactions, for batches of writes (the importer, benchmarks). */
gboolean    mt_library_begin              (MtLibrary   *self,
                                           GError     **error);
gboolean    mt_library_commit             (MtLibrary   *self,
                                           GError     **error);
void        mt_library_rollback           (MtLibrary   *self);

/* Number of songs, -1 on error. */
gint64      mt_library_count_songs        (MtLibrary   *self,
                                           GError     **error);

/* Cheap (no count of a big table): TRUE in *out_empty when no songs. */
gboolean    mt_library_is_empty           (MtLibrary   *self,
                                           gboolean    *out_empty,
                                           GError     **error);

/* Inserts a song (by song->uri; an existing uri is updated and keeps its id)
 * with its tags, size and mtime; either way its file is there (not missing).
 * Returns the id, 0 on error. */
gint64      mt_library_add_song           (MtLibrary     *self,
                                           const MtSong  *song,
                                           GError       **error);
/* Updates uri, tags, size and mtime of the song with song->id (a re-read or
 * moved file, so no longer missing): its moods and history stay. */
gboolean    mt_library_update_song        (MtLibrary     *self,
                                           const MtSong  *song,
                                           GError       **error);
gboolean    mt_library_remove_song        (MtLibrary     *self,
                                           gint64         id,
                                           GError       **error);
/* Marks a song whose file is gone since @since (seconds; a song already
 * missing keeps the earlier date), or with @since 0, found again.  A missing
 * song keeps its moods and history but is not recommended. */
gboolean    mt_library_set_missing        (MtLibrary     *self,
                                           gint64         id,
                                           gint64         since,
                                           GError       **error);
/* Number of songs marked missing, -1 on error. */
gint64      mt_library_count_missing      (MtLibrary     *self,
                                           GError       **error);
/* Removes the songs missing since @missing_before (seconds) or earlier, with
 * their moods and history.  Returns how many, -1 on error. */
gint64      mt_library_forget_missing     (MtLibrary     *self,
                                           gint64         missing_before,
                                           GError       **error);
MtSong     *mt_library_get_song           (MtLibrary     *self,
                                           gint64         id,
                                           GError       **error);
/* All songs ordered by artist, album, track, title (MtSong, with moods). */
GPtrArray  *mt_library_list_songs         (MtLibrary     *self,
                                           GError       **error);

/* Replaces the weights of one source for a song; NAN (or, for rule and user,
 * a negative weight; for learned, 0) means "none" for that mood.  Weights are
 * in [0, 1], learned ones in [-1, 1]. */
gboolean    mt_library_set_mood_weights   (MtLibrary     *self,
                                           gint64         id,
                                           MtMoodSource   source,
                                           const double   weights[MT_N_MOODS],
                                           GError       **error);
/* Reads one source's weights; moods without a weight read as NAN. */
gboolean    mt_library_get_mood_weights   (MtLibrary     *self,
                                           gint64         id,
                                           MtMoodSource   source,
                                           double         weights[MT_N_MOODS],
                                           GError       **error);
/* The user says how much a song fits a mood (0..1). */
gboolean    mt_library_set_user_mood      (MtLibrary     *self,
                                           gint64         id,
                                           MtMood         mood,
                                           double         weight,
                                           GError       **error);

/* Records a feedback event at time @at (seconds).  With a mood, the learned
 * weight for that mood moves by mt_feedback_get_learning_step(); played and
 * skipped also mark the song as just played (recency). */
gboolean    mt_library_add_feedback       (MtLibrary     *self,
                                           gint64         id,
                                           MtFeedback     feedback,
                                           MtMood         mood,
                                           gint64         at,
                                           GError       **error);
/* Number of events of a kind for a song (-1 on error). */
gint64      mt_library_count_feedback     (MtLibrary     *self,
                                           gint64         id,
                                           MtFeedback     feedback,
                                           GError       **error);

/* The best @limit songs for one mood by effective weight, through the
 * (mood, score) index; missing songs are left out.  MtSong.score holds that
 * weight. */
GPtrArray  *mt_library_top_for_mood       (MtLibrary     *self,
                                           MtMood         mood,
                                           int            limit,
                                           GError       **error);
/* The EXPLAIN QUERY PLAN of that query, one line per step. */
char       *mt_library_explain_top_for_mood (MtLibrary   *self,
                                             GError     **error);

/* Audio analysis.  The analyzer decodes a song and computes features
 * (versioned: @features_version changes when the features do, and every
 * song is then analysed again); a model maps the features to valence and
 * arousal and those to mood weights (versioned by @model_version: a new
 * model or mapping re-derives the weights from the stored features, with no
 * decoding).  @size and @mtime are the file's as it was analysed, so a file
 * changed since is analysed again.  Every write is atomic and may run inside
 * or outside a batch transaction (mt_library_begin()). */

/* Stores the features of an analysed song (@features_json: a JSON object of
 * feature name -> number, kept as given; @tempo in BPM and @loudness in LUFS
 * may be NAN when unknown).  Any earlier model output (valence, arousal,
 * mood weights) is cleared, so the song's scores fall back to its tags until
 * mt_library_set_audio_mood() runs on the new features. */
gboolean    mt_library_set_audio_features (MtLibrary     *self,
                                           gint64         id,
                                           gint64         size,
                                           gint64         mtime,
                                           int            features_version,
                                           const char    *features_json,
                                           double         tempo,
                                           double         loudness,
                                           gint64         duration_analysed_ms,
                                           GError       **error);
/* Records that the song's file could not be analysed, and why (@reason, for
 * people).  It is not tried again while the file and @features_version stay
 * the same.  Clears any earlier features and model output. */
gboolean    mt_library_set_audio_failed   (MtLibrary     *self,
                                           gint64         id,
                                           gint64         size,
                                           gint64         mtime,
                                           int            features_version,
                                           const char    *reason,
                                           GError       **error);
/* Stores a model's output for an analysed song: @valence and @arousal in
 * [-1, 1], the audio mood weights in [0, 1] and @tag_weight in [0, 1], how
 * much the tag rules count against the audio
 * (mt_audio_moods_get_tag_weight()).  The song's effective weights become,
 * for each mood without a user weight, (1 - tag_weight) * audio +
 * tag_weight * rule, plus learned.  MT_LIBRARY_ERROR_NOT_FOUND when the song
 * has no analysed features. */
gboolean    mt_library_set_audio_mood     (MtLibrary     *self,
                                           gint64         id,
                                           const char    *model_version,
                                           double         valence,
                                           double         arousal,
                                           const double   weights[MT_N_MOODS],
                                           double         tag_weight,
                                           GError       **error);
/* Up to @limit (0: all) songs to analyse, by id: those whose file is there
 * and that have no analysis, one with other features than
 * @features_version, or one of a file whose size or mtime has changed since.
 * A failed song whose file and features version are unchanged is left out:
 * it would fail again.  MtSong, with id, uri, size and mtime. */
GPtrArray  *mt_library_list_audio_pending (MtLibrary     *self,
                                           int            features_version,
                                           guint          limit,
                                           GError       **error);
/* Up to @limit (0: all) analysed songs, by id, whose mood weights were not
 * derived by @model_version (another model, or none yet): MtSongFeatures,
 * so the caller re-derives them from the stored features. */
GPtrArray  *mt_library_list_audio_stale   (MtLibrary     *self,
                                           const char    *model_version,
                                           guint          limit,
                                           GError       **error);
/* Of the songs whose file is there: how many are analysed and how many
 * failed for their current file and @features_version, and how many are
 * pending (mt_library_list_audio_pending()); the three add up to the songs
 * not missing.  Any pointer may be NULL. */
gboolean    mt_library_count_audio        (MtLibrary     *self,
                                           int            features_version,
                                           gint64        *analysed,
                                           gint64        *failed,
                                           gint64        *pending,
                                           GError       **error);
/* Where the song's analysis stands; @out_reason (may be NULL) gets why it
 * failed, NULL for the other states.  MT_LIBRARY_ERROR_NOT_FOUND for no such
 * song. */
gboolean    mt_library_get_audio_state    (MtLibrary     *self,
                                           gint64         id,
                                           MtAudioState  *out_state,
                                           char         **out_reason,
                                           GError       **error);
/* Why the song's analysis failed (free with g_free()); NULL, with no error,
 * when it has not failed. */
char       *mt_library_get_audio_failure  (MtLibrary     *self,
                                           gint64         id,
                                           GError       **error);

/* "ok" when PRAGMA integrity_check finds nothing wrong. */
char       *mt_library_check_integrity    (MtLibrary     *self,
                                           GError       **error);

G_END_DECLS
