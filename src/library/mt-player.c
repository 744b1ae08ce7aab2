#define G_LOG_DOMAIN "mt-player"

#include "config.h"

#include <gio/gio.h>
#include <gst/gst.h>

#include "mt-player.h"
#include "mt-library-enums.h"

/* playbin's GstPlayFlags: audio only, software volume. */
#define PLAY_FLAG_AUDIO       (1 << 1)
#define PLAY_FLAG_SOFT_VOLUME (1 << 4)

#define RESTART_THRESHOLD_MS 3000

struct _MtPlayer
{
  GObject        parent_instance;
  GstElement    *playbin;
  guint          bus_watch;
  GPtrArray     *songs;        /* of MtSong */
  int            current;
  MtPlayerState  state;
  guint          start_timeout_s;
  guint          start_watchdog;
  gboolean       started;      /* the current song reached PLAYING */
};

G_DEFINE_FINAL_TYPE (MtPlayer, mt_player, G_TYPE_OBJECT)

enum {
  TRACK_CHANGED,
  FEEDBACK,
  UNPLAYABLE,
  FINISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

enum {
  PROP_0,
  PROP_STATE,
  PROP_CURRENT_SONG,
  PROP_N_SONGS,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

static void play_index (MtPlayer *self, int index);

/* Stops the current song's pipeline and drops what it still had queued on
 * the bus: a late error of a broken file must not hit the next song. */
static void
reset_pipeline (MtPlayer *self)
{
  g_autoptr(GstBus) bus = gst_element_get_bus (self->playbin);

  gst_element_set_state (self->playbin, GST_STATE_READY);
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (bus, FALSE);
}

static void
mt_player_dispose (GObject *object)
{
  MtPlayer *self = (MtPlayer *) object;

  g_clear_handle_id (&self->start_watchdog, g_source_remove);
  g_clear_handle_id (&self->bus_watch, g_source_remove);
  if (self->playbin != NULL)
    {
      gst_element_set_state (self->playbin, GST_STATE_NULL);
      gst_clear_object (&self->playbin);
    }
  g_clear_pointer (&self->songs, g_ptr_array_unref);
  G_OBJECT_CLASS (mt_player_parent_class)->dispose (object);
}

static MtSong *current_song (MtPlayer *self);

static void
mt_player_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  MtPlayer *self = MT_PLAYER (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_CURRENT_SONG:
      g_value_set_boxed (value, current_song (self));
      break;
    case PROP_N_SONGS:
      g_value_set_uint (value, self->songs->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_player_class_init (MtPlayerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mt_player_dispose;
  object_class->get_property = mt_player_get_property;

  /** MtPlayer:state: stopped, playing or paused */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, MT_TYPE_PLAYER_STATE, MT_PLAYER_STOPPED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /** MtPlayer:current-song: the song playing or paused (a copy when read), NULL when stopped */
  properties[PROP_CURRENT_SONG] =
    g_param_spec_boxed ("current-song", NULL, NULL, MT_TYPE_SONG,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /** MtPlayer:n-songs: the length of the playlist */
  properties[PROP_N_SONGS] =
    g_param_spec_uint ("n-songs", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /** MtPlayer::track-changed: @index: the song now playing (-1: none) */
  signals[TRACK_CHANGED] = g_signal_new ("track-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /** MtPlayer::feedback: @song: the song; @feedback: an MtFeedback (played or skipped).
   * The player records nothing itself: its owner (MtSession) does. */
  signals[FEEDBACK] = g_signal_new ("feedback", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                    MT_TYPE_SONG | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_INT);
  /** MtPlayer::unplayable: @song: the song skipped; @message: why it could not play */
  signals[UNPLAYABLE] = g_signal_new ("unplayable", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                      MT_TYPE_SONG | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_STRING);
  /** MtPlayer::finished: the end of the playlist was reached */
  signals[FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static MtSong *
current_song (MtPlayer *self)
{
  if (self->current < 0 || (guint) self->current >= self->songs->len)
    return NULL;
  return g_ptr_array_index (self->songs, self->current);
}

static void
set_state (MtPlayer      *self,
           MtPlayerState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/* Another entry of the playlist, or none (-1). */
static void
set_current (MtPlayer *self,
             int       index)
{
  if (self->current == index)
    return;
  self->current = index;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_SONG]);
}

static void
give_feedback (MtPlayer   *self,
               MtFeedback  feedback)
{
  MtSong *song = current_song (self);

  if (song == NULL)
    return;
  g_signal_emit (self, signals[FEEDBACK], 0, song, (int) feedback);
}

static void
skip_unplayable (MtPlayer   *self,
                 const char *message)
{
  MtSong *song = current_song (self);

  g_clear_handle_id (&self->start_watchdog, g_source_remove);
  reset_pipeline (self);
  if (song != NULL)
    g_signal_emit (self, signals[UNPLAYABLE], 0, song, message);
  play_index (self, self->current + 1);
}

static gboolean
start_watchdog_cb (gpointer data)
{
  MtPlayer *self = data;
  g_autofree char *message = g_strdup_printf ("did not start within %u s", self->start_timeout_s);

  self->start_watchdog = 0;
  skip_unplayable (self, message);
  return G_SOURCE_REMOVE;
}

static gboolean
bus_cb (GstBus     *bus,
        GstMessage *message,
        gpointer    data)
{
  MtPlayer *self = data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_EOS:
      give_feedback (self, MT_FEEDBACK_PLAYED);
      play_index (self, self->current + 1);
      break;

    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;

        gst_message_parse_error (message, &error, &debug);
        g_debug ("Playback error: %s (%s)", error->message, debug ? debug : "");
        if (self->state != MT_PLAYER_STOPPED)
          skip_unplayable (self, error->message);
      }
      break;

    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC (message) == GST_OBJECT (self->playbin))
        {
          GstState new_state;

          gst_message_parse_state_changed (message, NULL, &new_state, NULL);
          /* Prerolled is enough: a paused song did start fine. */
          if (new_state >= GST_STATE_PAUSED && !self->started && self->state != MT_PLAYER_STOPPED)
            {
              self->started = TRUE;
              g_clear_handle_id (&self->start_watchdog, g_source_remove);
            }
        }
      break;

    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

static void
mt_player_init (MtPlayer *self)
{
  g_autoptr(GstBus) bus = NULL;
  GstElement *video_sink;

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);

  self->songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_song_free);
  self->current = -1;
  self->start_timeout_s = 10;
  self->playbin = gst_element_factory_make ("playbin", "mt-player");
  if (self->playbin == NULL)
    g_error ("GStreamer's playbin is missing: install gstreamer1.0-plugins-base");
  gst_object_ref_sink (self->playbin);
  video_sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (self->playbin,
                "flags", PLAY_FLAG_AUDIO | PLAY_FLAG_SOFT_VOLUME,
                "video-sink", video_sink,
                NULL);
  bus = gst_element_get_bus (self->playbin);
  self->bus_watch = gst_bus_add_watch (bus, bus_cb, self);
}

MtPlayer *
mt_player_new (void)
{
  return g_object_new (MT_TYPE_PLAYER, NULL);
}

gboolean
mt_player_set_audio_sink (MtPlayer    *self,
                          const char  *description,
                          GError     **error)
{
  GstElement *sink = NULL;

  g_return_val_if_fail (MT_IS_PLAYER (self), FALSE);

  if (description != NULL)
    {
      g_autoptr(GError) local_error = NULL;

      sink = gst_parse_bin_from_description (description, TRUE, &local_error);
      if (sink == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Audio sink “%s” cannot be made: %s", description, local_error->message);
          return FALSE;
        }
    }
  mt_player_stop (self);
  g_object_set (self->playbin, "audio-sink", sink, NULL);
  return TRUE;
}

void
mt_player_set_start_timeout (MtPlayer *self,
                             guint     seconds)
{
  g_return_if_fail (MT_IS_PLAYER (self));
  self->start_timeout_s = MAX (seconds, 1u);
}

void
mt_player_set_playlist (MtPlayer  *self,
                        GPtrArray *songs)
{
  guint old_len;

  g_return_if_fail (MT_IS_PLAYER (self));

  g_object_freeze_notify (G_OBJECT (self));
  mt_player_stop (self);
  old_len = self->songs->len;
  g_ptr_array_set_size (self->songs, 0);
  for (guint i = 0; songs != NULL && i < songs->len; i++)
    g_ptr_array_add (self->songs, mt_song_copy (g_ptr_array_index (songs, i)));
  if (self->songs->len != old_len)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SONGS]);
  g_object_thaw_notify (G_OBJECT (self));
}

guint
mt_player_get_n_songs (MtPlayer *self)
{
  g_return_val_if_fail (MT_IS_PLAYER (self), 0);
  return self->songs->len;
}

int
mt_player_get_current (MtPlayer *self)
{
  g_return_val_if_fail (MT_IS_PLAYER (self), -1);
  return self->current;
}

const MtSong *
mt_player_get_current_song (MtPlayer *self)
{
  g_return_val_if_fail (MT_IS_PLAYER (self), NULL);
  return current_song (self);
}

MtPlayerState
mt_player_get_state (MtPlayer *self)
{
  g_return_val_if_fail (MT_IS_PLAYER (self), MT_PLAYER_STOPPED);
  return self->state;
}

/* Plays song @index, or stops and emits "finished" past the end. */
static void
play_index (MtPlayer *self,
            int       index)
{
  MtSong *song;

  g_clear_handle_id (&self->start_watchdog, g_source_remove);
  reset_pipeline (self);
  self->started = FALSE;

  if (index < 0 || (guint) index >= self->songs->len)
    {
      gboolean was_playing = self->state != MT_PLAYER_STOPPED;

      g_object_freeze_notify (G_OBJECT (self));
      set_current (self, -1);
      set_state (self, MT_PLAYER_STOPPED);
      g_object_thaw_notify (G_OBJECT (self));
      g_signal_emit (self, signals[TRACK_CHANGED], 0, -1);
      if (was_playing && index >= 0)
        g_signal_emit (self, signals[FINISHED], 0);
      return;
    }

  song = g_ptr_array_index (self->songs, index);
  g_object_set (self->playbin, "uri", song->uri, NULL);
  g_object_freeze_notify (G_OBJECT (self));
  set_current (self, index);
  set_state (self, MT_PLAYER_PLAYING);
  g_object_thaw_notify (G_OBJECT (self));
  g_signal_emit (self, signals[TRACK_CHANGED], 0, index);

  /* A file can also fail by never starting; do not wait forever. */
  self->start_watchdog = g_timeout_add_seconds (self->start_timeout_s, start_watchdog_cb, self);
  if (gst_element_set_state (self->playbin, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      /* The ERROR message on the bus tells why and moves on; this only
       * makes sure a failure without a message still moves on. */
      g_debug ("Could not start %s", song->uri);
    }
}

void
mt_player_play (MtPlayer *self)
{
  g_return_if_fail (MT_IS_PLAYER (self));

  if (self->state == MT_PLAYER_PAUSED)
    {
      gst_element_set_state (self->playbin, GST_STATE_PLAYING);
      set_state (self, MT_PLAYER_PLAYING);
    }
  else if (self->state == MT_PLAYER_STOPPED)
    play_index (self, 0);
}

void
mt_player_pause (MtPlayer *self)
{
  g_return_if_fail (MT_IS_PLAYER (self));

  if (self->state != MT_PLAYER_PLAYING)
    return;
  gst_element_set_state (self->playbin, GST_STATE_PAUSED);
  set_state (self, MT_PLAYER_PAUSED);
}

void
mt_player_stop (MtPlayer *self)
{
  g_return_if_fail (MT_IS_PLAYER (self));

  g_clear_handle_id (&self->start_watchdog, g_source_remove);
  reset_pipeline (self);
  g_object_freeze_notify (G_OBJECT (self));
  set_state (self, MT_PLAYER_STOPPED);
  set_current (self, -1);
  g_object_thaw_notify (G_OBJECT (self));
}

static gint64
duration_ms (MtPlayer *self)
{
  gint64 duration = -1;
  MtSong *song = current_song (self);

  if (gst_element_query_duration (self->playbin, GST_FORMAT_TIME, &duration) && duration > 0)
    return duration / GST_MSECOND;
  return song ? song->duration_ms : -1;
}

void
mt_player_next (MtPlayer *self)
{
  gint64 position, duration;

  g_return_if_fail (MT_IS_PLAYER (self));

  if (self->state == MT_PLAYER_STOPPED)
    return;
  position = mt_player_get_position (self);
  duration = duration_ms (self);
  /* Moving on after the middle of a song is not a judgement on it. */
  if (duration > 0 && position >= duration / 2)
    give_feedback (self, MT_FEEDBACK_PLAYED);
  else
    give_feedback (self, MT_FEEDBACK_SKIPPED);
  play_index (self, self->current + 1);
}

void
mt_player_previous (MtPlayer *self)
{
  g_return_if_fail (MT_IS_PLAYER (self));

  if (self->state == MT_PLAYER_STOPPED)
    return;
  if (mt_player_get_position (self) > RESTART_THRESHOLD_MS || self->current == 0)
    mt_player_seek (self, 0);
  else
    play_index (self, self->current - 1);
}

gboolean
mt_player_seek (MtPlayer *self,
                gint64    position_ms)
{
  g_return_val_if_fail (MT_IS_PLAYER (self), FALSE);

  if (self->state == MT_PLAYER_STOPPED || position_ms < 0)
    return FALSE;
  return gst_element_seek_simple (self->playbin, GST_FORMAT_TIME,
                                  GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                                  position_ms * GST_MSECOND);
}

gint64
mt_player_get_position (MtPlayer *self)
{
  gint64 position = -1;

  g_return_val_if_fail (MT_IS_PLAYER (self), -1);

  if (self->state == MT_PLAYER_STOPPED ||
      !gst_element_query_position (self->playbin, GST_FORMAT_TIME, &position) || position < 0)
    return -1;
  return position / GST_MSECOND;
}

void
mt_player_set_volume (MtPlayer *self,
                      double    volume)
{
  g_return_if_fail (MT_IS_PLAYER (self));
  g_object_set (self->playbin, "volume", CLAMP (volume, 0.0, 1.0), NULL);
}

double
mt_player_get_volume (MtPlayer *self)
{
  double volume = 0.0;

  g_return_val_if_fail (MT_IS_PLAYER (self), 0.0);
  g_object_get (self->playbin, "volume", &volume, NULL);
  return volume;
}
