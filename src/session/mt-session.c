/* mt-session.c: mood, strategy, playlist and feedback in one place.
 *
 * The mood comes from MtMoodTracker (fed by mt_session_add_reading()) or
 * is picked by hand; a change of mood or strategy, or new songs or moods in
 * the library, ranks the playlist again on the session's query thread; the
 * newest request wins.  The player, when there is one, plays the playlist:
 * its played/skipped reports, the app's buttons and the companion page's
 * ratings all go through mt_session_record_feedback().
 */
#define G_LOG_DOMAIN "mt-session"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "mt-common-enums.h"
#include "mt-library-enums.h"
#include "mt-mood-history-store.h"
#include "mt-mood-tracker.h"
#include "mt-recommender.h"
#include "mt-session.h"
#include "mt-session-enums.h"
#include "mt-song-item.h"

/* What the query thread needs, shared with it: a request may still run
 * when the session is gone.  The connection and recommender are made on
 * first use, on that thread, and used under the lock. */
typedef struct {
  GMutex            lock;
  char             *db_path;
  MtMoodStrategies *strategies;
  guint64           seed;
  MtLibrary        *library;
  MtRecommender    *recommender;
} Query;

struct _MtSession
{
  GObject           parent_instance;

  MtLibrary        *library;      /* nullable */
  MtPlayer         *player;       /* nullable */
  MtMoodStrategies *strategies;   /* nullable: see strategies_error */
  char             *strategies_error;
  Query            *query;        /* NULL without library or strategies */

  MtMoodTracker    *tracker;
  gboolean          has_readings;
  MtMood            face_mood;
  gboolean          locked;
  MtMood            picked_mood;
  MtMoodHistory    *history;
  gboolean          keep_history;
  /* The minute being gathered for the stored history. */
  gint64            minute;
  guint             minute_samples;
  guint             minute_moods[MT_N_MOODS + 1];   /* the last: no face */
  double            minute_sums[MT_N_MOODS];

  MtStrategy        strategy;
  GListStore       *playlist;     /* of MtSongItem */
  MtMood            playlist_mood;
  MtStrategy        playlist_strategy;
  gboolean          have_playlist;
  gboolean          stale;        /* the library changed while a song played */
  MtPlaylistStatus  status;
  char             *playlist_error;
  /* The request in flight, if any: what it is for, and its number. */
  GCancellable     *refresh_cancellable;
  MtMood            pending_mood;
  MtStrategy        pending_strategy;
  guint             generation;
};

enum {
  PROP_0,
  PROP_MOOD,
  PROP_FACE_MOOD,
  PROP_CONFIDENCE,
  PROP_LOCKED,
  PROP_PICKED_MOOD,
  PROP_STRATEGY,
  PROP_PLAYLIST,
  PROP_PLAYLIST_MOOD,
  PROP_PLAYLIST_STRATEGY,
  PROP_PLAYLIST_STATUS,
  PROP_PLAYLIST_ERROR,
  PROP_KEEP_HISTORY,
  N_PROPS
};

enum { FEEDBACK_RECORDED, HISTORY_CHANGED, N_SIGNALS };

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (MtSession, mt_session, G_TYPE_OBJECT)

/* ---- the query thread ---------------------------------------------------- */

static void
query_clear (gpointer data)
{
  Query *query = data;

  g_clear_object (&query->recommender);
  g_clear_object (&query->library);
  g_clear_object (&query->strategies);
  g_free (query->db_path);
  g_mutex_clear (&query->lock);
}

static Query *
query_new (MtLibrary        *library,
           MtMoodStrategies *strategies)
{
  Query *query = g_atomic_rc_box_new0 (Query);

  g_mutex_init (&query->lock);
  query->db_path = g_strdup (mt_library_get_path (library));
  query->strategies = g_object_ref (strategies);
  return query;
}

static void
query_unref (Query *query)
{
  g_atomic_rc_box_release_full (query, query_clear);
}

typedef struct {
  Query      *query;
  MtMood      mood;
  MtStrategy  strategy;
  guint       limit;
  guint       generation;
  GPtrArray  *songs;       /* the answer */
  gint64      n_missing;   /* when the answer is empty */
} Request;

static void
request_free (gpointer data)
{
  Request *request = data;

  g_clear_pointer (&request->query, query_unref);
  g_clear_pointer (&request->songs, g_ptr_array_unref);
  g_free (request);
}

/* On the query thread: its own connection (MtLibrary is one thread's). */
static gboolean
query_run (Query    *query,
           Request  *request,
           GError  **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&query->lock);

  if (query->recommender == NULL)
    {
      if (g_strcmp0 (query->db_path, ":memory:") == 0)
        {
          g_set_error_literal (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
                               "An in-memory library cannot be shared with the query thread");
          return FALSE;
        }
      query->library = mt_library_open (query->db_path, error);
      if (query->library == NULL)
        return FALSE;
      query->recommender = mt_recommender_new (query->library, query->strategies);
    }
  mt_recommender_set_seed (query->recommender, query->seed);
  request->songs = mt_recommender_recommend (query->recommender, request->mood, request->strategy,
                                             request->limit, error);
  if (request->songs == NULL)
    return FALSE;
  if (request->songs->len == 0)
    request->n_missing = mt_library_count_missing (query->library, NULL);
  return TRUE;
}

static void
recommend_thread (GTask        *task,
                  gpointer      source,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  GError *error = NULL;

  if (!query_run (((Request *) task_data)->query, task_data, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
check_available (MtSession  *self,
                 GError    **error)
{
  if (self->library == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, _("No music library is open"));
      return FALSE;
    }
  if (self->query == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   _("The playlist strategies cannot be read: %s"), self->strategies_error);
      return FALSE;
    }
  return TRUE;
}

static GTask *
start_request (MtSession           *self,
               MtMood               mood,
               MtStrategy           strategy,
               guint                limit,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Request *request = g_new0 (Request, 1);

  request->query = g_atomic_rc_box_acquire (self->query);
  request->mood = mood;
  request->strategy = strategy;
  request->limit = limit;
  request->generation = self->generation;
  g_task_set_source_tag (task, start_request);
  g_task_set_task_data (task, request, request_free);
  g_task_run_in_thread (task, recommend_thread);
  return task;
}

/* ---- playlist ------------------------------------------------------------- */

static void
set_status (MtSession        *self,
            MtPlaylistStatus  status,
            const char       *error)
{
  gboolean error_changed = g_strcmp0 (self->playlist_error, error) != 0;

  if (error_changed)
    {
      g_free (self->playlist_error);
      self->playlist_error = g_strdup (error);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYLIST_ERROR]);
    }
  /* A failure is announced again even when the last one failed too. */
  if (self->status != status || (status == MT_PLAYLIST_STATUS_FAILED && error_changed))
    {
      self->status = status;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYLIST_STATUS]);
    }
}

static void
replace_playlist (MtSession *self,
                  GPtrArray *songs)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean was_playing;

  for (guint i = 0; songs != NULL && i < songs->len; i++)
    g_ptr_array_add (items, mt_song_item_new (g_ptr_array_index (songs, i)));
  g_list_store_splice (self->playlist, 0, g_list_model_get_n_items (G_LIST_MODEL (self->playlist)),
                       items->pdata, items->len);
  if (self->player == NULL)
    return;
  /* A new list stops the player: what played goes on with the new one. */
  was_playing = mt_player_get_state (self->player) == MT_PLAYER_PLAYING;
  mt_player_set_playlist (self->player, songs);
  if (was_playing && songs != NULL && songs->len > 0)
    mt_player_play (self->player);
}

static void
playlist_ranked_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      data)
{
  g_autoptr(MtSession) self = data;
  Request *request = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (request->generation != self->generation)
    return;   /* a newer request is on its way */
  g_clear_object (&self->refresh_cancellable);

  if (error != NULL)
    {
      if (g_error_matches (error, MT_RECOMMENDER_ERROR, MT_RECOMMENDER_ERROR_EMPTY_LIBRARY))
        set_status (self, MT_PLAYLIST_STATUS_EMPTY_LIBRARY, NULL);
      else
        set_status (self, MT_PLAYLIST_STATUS_FAILED, error->message);
      return;
    }
  if (request->songs->len == 0 && request->n_missing > 0)
    {
      replace_playlist (self, NULL);
      set_status (self, MT_PLAYLIST_STATUS_ALL_MISSING, NULL);
      return;
    }

  g_object_freeze_notify (G_OBJECT (self));
  self->have_playlist = TRUE;
  self->stale = FALSE;
  if (self->playlist_mood != request->mood)
    {
      self->playlist_mood = request->mood;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYLIST_MOOD]);
    }
  if (self->playlist_strategy != request->strategy)
    {
      self->playlist_strategy = request->strategy;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYLIST_STRATEGY]);
    }
  replace_playlist (self, request->songs);
  set_status (self, MT_PLAYLIST_STATUS_READY, NULL);
  g_object_thaw_notify (G_OBJECT (self));
}

void
mt_session_refresh_playlist (MtSession *self,
                             gboolean   force)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  MtMood mood;

  g_return_if_fail (MT_IS_SESSION (self));

  mood = mt_session_get_mood (self);
  /* No face for a while: keep the mood the music was chosen for (calm
   * before any face). */
  if (mood == MT_MOOD_NONE)
    mood = self->have_playlist ? self->playlist_mood : MT_MOOD_NEUTRAL;
  if (!force && self->refresh_cancellable != NULL && mood == self->pending_mood &&
      self->strategy == self->pending_strategy)
    return;   /* already on its way */
  if (!force && self->refresh_cancellable == NULL && !self->stale && self->have_playlist &&
      mood == self->playlist_mood && self->strategy == self->playlist_strategy)
    return;
  if (!check_available (self, &error))
    {
      set_status (self, MT_PLAYLIST_STATUS_UNAVAILABLE, error->message);
      return;
    }

  if (self->refresh_cancellable != NULL)
    g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);
  self->refresh_cancellable = g_cancellable_new ();
  self->pending_mood = mood;
  self->pending_strategy = self->strategy;
  self->generation++;
  if (!self->have_playlist)
    set_status (self, MT_PLAYLIST_STATUS_LOADING, NULL);
  task = start_request (self, mood, self->strategy, MT_SESSION_PLAYLIST_LENGTH, self->refresh_cancellable,
                        playlist_ranked_cb, g_object_ref (self));
}

void
mt_session_recommend_async (MtSession           *self,
                            MtMood               mood,
                            MtStrategy           strategy,
                            guint                limit,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  guint n_items;

  g_return_if_fail (MT_IS_SESSION (self));
  g_return_if_fail (mt_mood_is_valid (mood));

  if (!check_available (self, &error))
    {
      g_task_report_error (self, callback, user_data, start_request, error);
      return;
    }
  /* The list the desktop shows, when it is the one asked for: the page
   * and the window then show the very same songs. */
  n_items = g_list_model_get_n_items (G_LIST_MODEL (self->playlist));
  if (self->status == MT_PLAYLIST_STATUS_READY && !self->stale && self->refresh_cancellable == NULL &&
      mood == self->playlist_mood && strategy == self->playlist_strategy &&
      (limit <= n_items || n_items < MT_SESSION_PLAYLIST_LENGTH))
    {
      Request *request = g_new0 (Request, 1);

      request->songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_song_free);
      for (guint i = 0; i < MIN (limit, n_items); i++)
        {
          g_autoptr(MtSongItem) item = g_list_model_get_item (G_LIST_MODEL (self->playlist), i);
          g_ptr_array_add (request->songs, mt_song_copy (mt_song_item_get_song (item)));
        }
      task = g_task_new (self, cancellable, callback, user_data);
      g_task_set_source_tag (task, start_request);
      g_task_set_task_data (task, request, request_free);
      g_task_return_boolean (task, TRUE);
      return;
    }
  task = start_request (self, mood, strategy, limit, cancellable, callback, user_data);
}

GPtrArray *
mt_session_recommend_finish (MtSession     *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  Request *request;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  if (!g_task_propagate_boolean (G_TASK (result), &local_error))
    {
      /* No music yet is an empty list, not a failure. */
      if (g_error_matches (local_error, MT_RECOMMENDER_ERROR, MT_RECOMMENDER_ERROR_EMPTY_LIBRARY))
        return g_ptr_array_new_with_free_func ((GDestroyNotify) mt_song_free);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  request = g_task_get_task_data (G_TASK (result));
  return g_steal_pointer (&request->songs);
}

/* New songs or moods: the playlist follows them now, or, while a song plays
 * (a new list would cut it), at the next change of mood. */
static void
library_changed_cb (MtSession       *self,
                    MtLibraryChange  what)
{
  if (!(what & (MT_LIBRARY_CHANGE_SONGS | MT_LIBRARY_CHANGE_MOODS)))
    return;   /* feedback: see mt_session_record_feedback() */
  if (self->player != NULL && mt_player_get_state (self->player) != MT_PLAYER_STOPPED)
    self->stale = TRUE;
  else
    mt_session_refresh_playlist (self, TRUE);
}

/* ---- history -------------------------------------------------------------- */

/* @title NULL: the song's, from the library. */
static void
add_mark (MtSession      *self,
          MtMoodMarkKind  kind,
          gint64          song_id,
          const char     *title)
{
  g_autoptr(MtSong) song = NULL;
  g_autofree char *found = NULL;

  if (title == NULL && self->library != NULL &&
      (song = mt_library_get_song (self->library, song_id, NULL)) != NULL)
    title = found = mt_song_dup_display_title (song);
  mt_mood_history_add_mark (self->history, g_get_real_time (), kind, song_id, title);
  g_signal_emit (self, signals[HISTORY_CHANGED], 0);
}

static void
player_song_cb (MtSession *self)
{
  const MtSong *song = mt_player_get_current_song (self->player);

  if (song != NULL)
    {
      g_autofree char *title = mt_song_dup_display_title (song);
      add_mark (self, MT_MOOD_MARK_SONG, song->id, title);
    }
}

gboolean
mt_session_flush_history (MtSession  *self,
                          GError    **error)
{
  MtMoodMinute minute = { .minute = self->minute, .mood = MT_MOOD_NONE };
  guint most = self->minute_moods[MT_N_MOODS];

  g_return_val_if_fail (MT_IS_SESSION (self), FALSE);

  if (!self->keep_history || self->library == NULL || self->minute_samples == 0)
    return TRUE;
  /* The mood seen most of the minute; no face when that was most. */
  for (int m = 0; m < MT_N_MOODS; m++)
    if (self->minute_moods[m] > most)
      {
        most = self->minute_moods[m];
        minute.mood = m;
      }
  for (int m = 0; m < MT_N_MOODS; m++)
    minute.probabilities[m] = (float) CLAMP (self->minute_sums[m] / self->minute_samples, 0.0, 1.0);
  return mt_library_add_mood_minute (self->library, &minute, error);
}

static void
reset_minute (MtSession *self,
              gint64     minute)
{
  self->minute = minute;
  self->minute_samples = 0;
  memset (self->minute_moods, 0, sizeof self->minute_moods);
  memset (self->minute_sums, 0, sizeof self->minute_sums);
}

/* Into the minute being gathered; a new minute stores the one before. */
static void
keep_sample (MtSession          *self,
             const MtMoodSample *sample)
{
  gint64 minute = sample->time_us / (60 * G_USEC_PER_SEC);
  g_autoptr(GError) error = NULL;

  if (!self->keep_history)
    return;
  if (minute != self->minute)
    {
      if (!mt_session_flush_history (self, &error))
        g_warning ("Could not keep the mood history: %s", error->message);
      reset_minute (self, minute);
    }
  self->minute_samples++;
  self->minute_moods[mt_mood_is_valid (sample->mood) ? sample->mood : MT_N_MOODS]++;
  for (int m = 0; m < MT_N_MOODS; m++)
    self->minute_sums[m] += sample->probabilities[m];
}

gboolean
mt_session_delete_history (MtSession  *self,
                           GError    **error)
{
  g_return_val_if_fail (MT_IS_SESSION (self), FALSE);

  reset_minute (self, self->minute);
  if (self->library == NULL)
    return TRUE;
  return mt_library_delete_mood_history (self->library, error) >= 0;
}

void
mt_session_set_keep_history (MtSession *self,
                             gboolean   keep)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (MT_IS_SESSION (self));
  if (self->keep_history == !!keep)
    return;
  /* What was gathered while kept is stored before it stops. */
  if (!keep && !mt_session_flush_history (self, &error))
    g_warning ("Could not keep the mood history: %s", error->message);
  self->keep_history = !!keep;
  reset_minute (self, 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEEP_HISTORY]);
}

gboolean
mt_session_get_keep_history (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), FALSE);
  return self->keep_history;
}

/* ---- feedback ------------------------------------------------------------- */

gboolean
mt_session_record_feedback (MtSession         *self,
                            gint64             song_id,
                            MtFeedback         feedback,
                            MtMood             mood,
                            MtFeedbackOrigin   origin,
                            GError           **error)
{
  const MtSong *playing;

  g_return_val_if_fail (MT_IS_SESSION (self), FALSE);

  if (self->library == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, _("No music library is open"));
      return FALSE;
    }
  if (!mt_library_add_feedback (self->library, song_id, feedback, mood,
                                g_get_real_time () / G_USEC_PER_SEC, error))
    return FALSE;
  g_signal_emit (self, signals[FEEDBACK_RECORDED], 0, song_id, feedback, mood, origin);
  if (feedback != MT_FEEDBACK_PLAYED)
    add_mark (self, feedback == MT_FEEDBACK_LIKED ? MT_MOOD_MARK_LIKED
                    : feedback == MT_FEEDBACK_DISLIKED ? MT_MOOD_MARK_DISLIKED : MT_MOOD_MARK_SKIPPED,
              song_id, NULL);

  playing = self->player != NULL ? mt_player_get_current_song (self->player) : NULL;
  if (feedback == MT_FEEDBACK_DISLIKED && playing != NULL && playing->id == song_id)
    mt_player_next (self->player);
  /* A rating from elsewhere re-ranks the list only when that interrupts
   * nothing; the desktop's own come while a song plays. */
  else if ((feedback == MT_FEEDBACK_LIKED || feedback == MT_FEEDBACK_DISLIKED) &&
           origin != MT_FEEDBACK_ORIGIN_DESKTOP &&
           (self->player == NULL || mt_player_get_state (self->player) == MT_PLAYER_STOPPED))
    mt_session_refresh_playlist (self, TRUE);
  else if (feedback == MT_FEEDBACK_LIKED || feedback == MT_FEEDBACK_DISLIKED)
    self->stale = TRUE;
  return TRUE;
}

static void
player_feedback_cb (MtSession    *self,
                    const MtSong *song,
                    int           feedback)
{
  g_autoptr(GError) error = NULL;

  /* Under the mood the list was made for, as the listener heard it. */
  if (song->id > 0 &&
      !mt_session_record_feedback (self, song->id, (MtFeedback) feedback,
                                   self->have_playlist ? self->playlist_mood : MT_MOOD_NONE,
                                   MT_FEEDBACK_ORIGIN_DESKTOP, &error))
    g_warning ("Could not record feedback: %s", error->message);
}

/* ---- mood ----------------------------------------------------------------- */

MtMood
mt_session_get_mood (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), MT_MOOD_NONE);
  return self->locked ? self->picked_mood : self->face_mood;
}

/* Announces a change of the mood from @before, and ranks the playlist for
 * the new one. */
static void
mood_changed_from (MtSession *self,
                   MtMood     before)
{
  if (mt_session_get_mood (self) == before)
    return;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MOOD]);
  mt_session_refresh_playlist (self, FALSE);
}

static void
tracker_mood_cb (MtSession *self)
{
  MtMood before = mt_session_get_mood (self);

  self->face_mood = mt_mood_tracker_get_mood (self->tracker);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FACE_MOOD]);
  mood_changed_from (self, before);
}

void
mt_session_add_reading (MtSession   *self,
                        const float *probabilities,
                        gint64       time_us)
{
  MtMoodSample sample = { 0 };

  g_return_if_fail (MT_IS_SESSION (self));

  self->has_readings = TRUE;
  mt_mood_tracker_update (self->tracker, probabilities, time_us);
  sample.time_us = g_get_real_time ();
  sample.mood = mt_mood_tracker_get_mood (self->tracker);
  if (sample.mood != MT_MOOD_NONE)
    mt_mood_tracker_get_smoothed (self->tracker, sample.probabilities);
  keep_sample (self, &sample);
  if (mt_mood_history_add (self->history, &sample))
    g_signal_emit (self, signals[HISTORY_CHANGED], 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONFIDENCE]);
}

void
mt_session_reset_readings (MtSession *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (MT_IS_SESSION (self));
  if (!mt_session_flush_history (self, &error))
    g_warning ("Could not keep the mood history: %s", error->message);
  self->has_readings = FALSE;
  mt_mood_tracker_reset (self->tracker);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONFIDENCE]);
}

gboolean
mt_session_has_readings (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), FALSE);
  return self->has_readings;
}

MtMood
mt_session_get_face_mood (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), MT_MOOD_NONE);
  return self->face_mood;
}

float
mt_session_get_confidence (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), 0);
  return mt_mood_tracker_get_confidence (self->tracker);
}

void
mt_session_get_probabilities (MtSession *self,
                              float     *probabilities)
{
  g_return_if_fail (MT_IS_SESSION (self));
  mt_mood_tracker_get_smoothed (self->tracker, probabilities);
}

static void
set_lock (MtSession *self,
          gboolean   locked,
          MtMood     mood)
{
  MtMood before = mt_session_get_mood (self);
  gboolean was_locked = self->locked;
  MtMood was_picked = self->picked_mood;

  if (locked && !mt_mood_is_valid (mood))
    mood = mt_mood_is_valid (self->face_mood) ? self->face_mood : MT_MOOD_NEUTRAL;
  self->locked = locked;
  self->picked_mood = locked ? mood : MT_MOOD_NONE;
  if (was_locked != self->locked)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOCKED]);
  if (was_picked != self->picked_mood)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PICKED_MOOD]);
  mood_changed_from (self, before);
}

void
mt_session_set_locked (MtSession *self,
                       gboolean   locked)
{
  g_return_if_fail (MT_IS_SESSION (self));
  if (!!locked != self->locked)
    set_lock (self, !!locked, MT_MOOD_NONE);
}

gboolean
mt_session_get_locked (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), FALSE);
  return self->locked;
}

void
mt_session_pick_mood (MtSession *self,
                      MtMood     mood)
{
  g_return_if_fail (MT_IS_SESSION (self));
  g_return_if_fail (mood == MT_MOOD_NONE || mt_mood_is_valid (mood));
  set_lock (self, mood != MT_MOOD_NONE, mood);
}

MtMood
mt_session_get_picked_mood (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), MT_MOOD_NONE);
  return self->picked_mood;
}

MtMoodHistory *
mt_session_get_history (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), NULL);
  return self->history;
}

/* ---- strategy and the rest ------------------------------------------------ */

void
mt_session_set_strategy (MtSession  *self,
                         MtStrategy  strategy)
{
  g_return_if_fail (MT_IS_SESSION (self));
  if (self->strategy == strategy)
    return;
  self->strategy = strategy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STRATEGY]);
  mt_session_refresh_playlist (self, FALSE);
}

MtStrategy
mt_session_get_strategy (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), MT_STRATEGY_MATCH);
  return self->strategy;
}

GListModel *
mt_session_get_playlist (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), NULL);
  return G_LIST_MODEL (self->playlist);
}

MtMood
mt_session_get_playlist_mood (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), MT_MOOD_NONE);
  return self->playlist_mood;
}

MtStrategy
mt_session_get_playlist_strategy (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), MT_STRATEGY_MATCH);
  return self->playlist_strategy;
}

MtPlaylistStatus
mt_session_get_playlist_status (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), MT_PLAYLIST_STATUS_UNAVAILABLE);
  return self->status;
}

const char *
mt_session_get_playlist_error (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), NULL);
  return self->playlist_error;
}

MtLibrary *
mt_session_get_library (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), NULL);
  return self->library;
}

MtPlayer *
mt_session_get_player (MtSession *self)
{
  g_return_val_if_fail (MT_IS_SESSION (self), NULL);
  return self->player;
}

void
mt_session_set_seed (MtSession *self,
                     guint64    seed)
{
  g_return_if_fail (MT_IS_SESSION (self));
  if (self->query == NULL)
    return;
  g_mutex_lock (&self->query->lock);
  self->query->seed = seed;
  g_mutex_unlock (&self->query->lock);
  mt_session_refresh_playlist (self, TRUE);
}

static void
mt_session_dispose (GObject *object)
{
  MtSession *self = MT_SESSION (object);
  g_autoptr(GError) error = NULL;

  if (self->library != NULL && !mt_session_flush_history (self, &error))
    g_warning ("Could not keep the mood history: %s", error->message);
  reset_minute (self, 0);
  if (self->refresh_cancellable != NULL)
    g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);
  if (self->library != NULL)
    g_signal_handlers_disconnect_by_data (self->library, self);
  if (self->player != NULL)
    g_signal_handlers_disconnect_by_data (self->player, self);
  G_OBJECT_CLASS (mt_session_parent_class)->dispose (object);
}

static void
mt_session_finalize (GObject *object)
{
  MtSession *self = MT_SESSION (object);

  g_clear_pointer (&self->query, query_unref);
  g_clear_object (&self->library);
  g_clear_object (&self->player);
  g_clear_object (&self->strategies);
  g_clear_object (&self->tracker);
  g_clear_object (&self->playlist);
  g_clear_pointer (&self->history, mt_mood_history_free);
  g_free (self->strategies_error);
  g_free (self->playlist_error);
  G_OBJECT_CLASS (mt_session_parent_class)->finalize (object);
}

static void
mt_session_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  MtSession *self = MT_SESSION (object);

  switch (prop_id)
    {
    case PROP_MOOD:
      g_value_set_enum (value, mt_session_get_mood (self));
      break;
    case PROP_FACE_MOOD:
      g_value_set_enum (value, self->face_mood);
      break;
    case PROP_CONFIDENCE:
      g_value_set_float (value, mt_session_get_confidence (self));
      break;
    case PROP_LOCKED:
      g_value_set_boolean (value, self->locked);
      break;
    case PROP_PICKED_MOOD:
      g_value_set_enum (value, self->picked_mood);
      break;
    case PROP_STRATEGY:
      g_value_set_enum (value, self->strategy);
      break;
    case PROP_PLAYLIST:
      g_value_set_object (value, self->playlist);
      break;
    case PROP_PLAYLIST_MOOD:
      g_value_set_enum (value, self->playlist_mood);
      break;
    case PROP_PLAYLIST_STRATEGY:
      g_value_set_enum (value, self->playlist_strategy);
      break;
    case PROP_PLAYLIST_STATUS:
      g_value_set_enum (value, self->status);
      break;
    case PROP_PLAYLIST_ERROR:
      g_value_set_string (value, self->playlist_error);
      break;
    case PROP_KEEP_HISTORY:
      g_value_set_boolean (value, self->keep_history);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_session_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  MtSession *self = MT_SESSION (object);

  switch (prop_id)
    {
    case PROP_LOCKED:
      mt_session_set_locked (self, g_value_get_boolean (value));
      break;
    case PROP_PICKED_MOOD:
      mt_session_pick_mood (self, g_value_get_enum (value));
      break;
    case PROP_STRATEGY:
      mt_session_set_strategy (self, g_value_get_enum (value));
      break;
    case PROP_KEEP_HISTORY:
      mt_session_set_keep_history (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_session_class_init (MtSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = mt_session_dispose;
  object_class->finalize = mt_session_finalize;
  object_class->get_property = mt_session_get_property;
  object_class->set_property = mt_session_set_property;

  /** MtSession:mood: what the music is for (picked while locked, else the face's) */
  properties[PROP_MOOD] = g_param_spec_enum ("mood", NULL, NULL, MT_TYPE_MOOD, MT_MOOD_NONE, ro);
  /** MtSession:face-mood: the camera's steady mood, none without a face */
  properties[PROP_FACE_MOOD] = g_param_spec_enum ("face-mood", NULL, NULL, MT_TYPE_MOOD, MT_MOOD_NONE, ro);
  /** MtSession:confidence: the smoothed probability of the face's mood, notified per reading */
  properties[PROP_CONFIDENCE] = g_param_spec_float ("confidence", NULL, NULL, 0, 1, 0, ro);
  /** MtSession:locked: the camera does not change the mood */
  properties[PROP_LOCKED] = g_param_spec_boolean ("locked", NULL, NULL, FALSE, rw);
  /** MtSession:picked-mood: the mood kept while locked, none when not */
  properties[PROP_PICKED_MOOD] = g_param_spec_enum ("picked-mood", NULL, NULL, MT_TYPE_MOOD, MT_MOOD_NONE, rw);
  /** MtSession:strategy: match the mood or lift it */
  properties[PROP_STRATEGY] = g_param_spec_enum ("strategy", NULL, NULL, MT_TYPE_STRATEGY, MT_STRATEGY_MATCH, rw);
  /** MtSession:playlist: the GListModel of MtSongItem */
  properties[PROP_PLAYLIST] = g_param_spec_object ("playlist", NULL, NULL, G_TYPE_LIST_MODEL,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /** MtSession:playlist-mood: the mood the playlist was ranked for */
  properties[PROP_PLAYLIST_MOOD] = g_param_spec_enum ("playlist-mood", NULL, NULL, MT_TYPE_MOOD,
                                                      MT_MOOD_NONE, ro);
  /** MtSession:playlist-strategy: the strategy the playlist was ranked with */
  properties[PROP_PLAYLIST_STRATEGY] = g_param_spec_enum ("playlist-strategy", NULL, NULL, MT_TYPE_STRATEGY,
                                                          MT_STRATEGY_MATCH, ro);
  /** MtSession:playlist-status: where the playlist stands */
  properties[PROP_PLAYLIST_STATUS] = g_param_spec_enum ("playlist-status", NULL, NULL, MT_TYPE_PLAYLIST_STATUS,
                                                        MT_PLAYLIST_STATUS_UNAVAILABLE, ro);
  /** MtSession:playlist-error: why there is no playlist, for people */
  properties[PROP_PLAYLIST_ERROR] = g_param_spec_string ("playlist-error", NULL, NULL, NULL, ro);
  /** MtSession:keep-history: also store the mood a row a minute in the library */
  properties[PROP_KEEP_HISTORY] = g_param_spec_boolean ("keep-history", NULL, NULL, FALSE, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MtSession::feedback-recorded:
   * @song_id: the song
   * @feedback: an MtFeedback
   * @mood: the MtMood it was given under
   * @origin: an MtFeedbackOrigin
   *
   * The library has it.
   */
  signals[FEEDBACK_RECORDED] =
    g_signal_new ("feedback-recorded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 4, G_TYPE_INT64, MT_TYPE_FEEDBACK, MT_TYPE_MOOD, MT_TYPE_FEEDBACK_ORIGIN);
  /** MtSession::history-changed: a new second's sample or a mark */
  signals[HISTORY_CHANGED] =
    g_signal_new ("history-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
mt_session_init (MtSession *self)
{
  self->tracker = mt_mood_tracker_new ();
  self->history = mt_mood_history_new ();
  self->playlist = g_list_store_new (MT_TYPE_SONG_ITEM);
  self->face_mood = MT_MOOD_NONE;
  self->picked_mood = MT_MOOD_NONE;
  self->playlist_mood = MT_MOOD_NONE;
  self->pending_mood = MT_MOOD_NONE;
  g_signal_connect_object (self->tracker, "notify::mood", G_CALLBACK (tracker_mood_cb), self, G_CONNECT_SWAPPED);
}

MtSession *
mt_session_new (MtLibrary *library,
                MtPlayer  *player)
{
  g_autoptr(GError) error = NULL;
  MtSession *self;

  g_return_val_if_fail (library == NULL || MT_IS_LIBRARY (library), NULL);
  g_return_val_if_fail (player == NULL || MT_IS_PLAYER (player), NULL);

  self = g_object_new (MT_TYPE_SESSION, NULL);
  self->strategies = mt_mood_strategies_new_default (&error);
  if (self->strategies == NULL)
    {
      g_warning ("Could not read the playlist strategies: %s", error->message);
      self->strategies_error = g_strdup (error->message);
    }
  if (library != NULL)
    {
      self->library = g_object_ref (library);
      g_signal_connect_swapped (library, "changed", G_CALLBACK (library_changed_cb), self);
      if (self->strategies != NULL)
        self->query = query_new (library, self->strategies);
    }
  if (player != NULL)
    {
      self->player = g_object_ref (player);
      g_signal_connect_swapped (player, "feedback", G_CALLBACK (player_feedback_cb), self);
      g_signal_connect_swapped (player, "notify::current-song", G_CALLBACK (player_song_cb), self);
    }
  return self;
}
