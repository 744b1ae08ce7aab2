/* mt-window.c: the main window, a view of the session (mood, playlist,
 * feedback) and the player, fed by its camera and analysis worker. */
#define G_LOG_DOMAIN "mt-window"

#include "config.h"

#include <glib/gi18n.h>

#include "mt-analyzer.h"
#include "mt-mood.h"

#include "mt-window-private.h"
#include "mt-mood-names.h"
#include "mt-song-row.h"
#include "mt-test-report.h"


G_DEFINE_FINAL_TYPE (MtWindow, mt_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CAMERA_ENABLED,
  PROP_CAMERA_DEVICES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

void
_mt_window_toast (MtWindow   *self,
                  const char *text)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

static const char *
camera_state_nick (MtCameraState state)
{
  GEnumClass *klass = g_type_class_peek (MT_TYPE_CAMERA_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  return value != NULL ? value->value_nick : "unknown";
}

/* ---- mood (the session's) ------------------------------------------------- */

static void
update_mood_ui (MtWindow *self)
{
  MtMood mood = mt_session_get_mood (self->session);
  g_autofree char *detail = NULL;

  gtk_image_set_from_icon_name (self->mood_icon, mt_mood_get_icon_name (mood));
  gtk_label_set_text (self->mood_label, mt_mood_get_label (mood));
  if (mt_session_get_locked (self->session))
    detail = g_strdup (_("Locked: the camera does not change it"));
  else if (!self->camera_enabled)
    detail = g_strdup (_("The camera is off: pick a mood by hand"));
  else if (mood == MT_MOOD_NONE)
    detail = g_strdup (_("Looking for your face…"));
  else
    /* Translators: how sure the steady mood is, e.g. "From your face, 72% sure" */
    detail = g_strdup_printf (_("From your face, %.0f%% sure"),
                              100.0 * mt_session_get_confidence (self->session));
  gtk_label_set_text (self->mood_detail, detail);
  adw_window_title_set_subtitle (self->window_title, mt_mood_get_label (mood));
}

static void
report_mood (MtWindow *self)
{
  JsonBuilder *report = mt_test_report_begin ("mood");
  MtMood mood = mt_session_get_mood (self->session);

  if (report == NULL)
    return;
  json_builder_set_member_name (report, "mood");
  json_builder_add_string_value (report, mood == MT_MOOD_NONE ? "none" : mt_mood_to_string (mood));
  json_builder_set_member_name (report, "label");
  json_builder_add_string_value (report, mt_mood_get_label (mood));
  json_builder_set_member_name (report, "source");
  json_builder_add_string_value (report, mt_session_get_locked (self->session) ? "hand" : "face");
  json_builder_set_member_name (report, "confidence");
  json_builder_add_double_value (report, mt_session_get_confidence (self->session));
  json_builder_set_member_name (report, "position_ms");
  json_builder_add_int_value (report, self->last_result && self->last_result->position >= 0
                                      ? self->last_result->position / GST_MSECOND : -1);
  json_builder_set_member_name (report, "frame_arrival_ms");
  json_builder_add_double_value (report, self->last_result ? self->last_result->arrival_us / 1000.0 : -1);
  mt_test_report_end (report);
}

static void
session_mood_cb (MtWindow *self)
{
  update_mood_ui (self);
  report_mood (self);
}

static void
report_timeline (MtWindow *self)
{
  MtMoodHistory *history = mt_session_get_history (self->session);
  JsonBuilder *report = mt_test_report_begin ("timeline");

  if (report == NULL)
    return;
  json_builder_set_member_name (report, "samples");
  json_builder_add_int_value (report, mt_mood_history_get_n (history));
  json_builder_set_member_name (report, "marks");
  json_builder_add_int_value (report, mt_mood_history_get_n_marks (history));
  json_builder_set_member_name (report, "summary");
  json_builder_add_string_value (report, mt_mood_timeline_get_summary (self->mood_timeline));
  mt_test_report_end (report);
}

static void
session_confidence_cb (MtWindow *self)
{
  if (!mt_session_get_locked (self->session) && mt_session_get_face_mood (self->session) != MT_MOOD_NONE)
    update_mood_ui (self);
}

/* ---- playlist and player --------------------------------------------------- */

static void
report_playlist (MtWindow *self)
{
  GListModel *songs = mt_session_get_playlist (self->session);
  JsonBuilder *report = mt_test_report_begin ("playlist");

  if (report == NULL)
    return;
  json_builder_set_member_name (report, "mood");
  json_builder_add_string_value (report, mt_mood_to_string (mt_session_get_playlist_mood (self->session)));
  json_builder_set_member_name (report, "strategy");
  json_builder_add_string_value (report, mt_strategy_to_string (mt_session_get_playlist_strategy (self->session)));
  json_builder_set_member_name (report, "songs");
  json_builder_begin_array (report);
  for (guint i = 0; i < g_list_model_get_n_items (songs); i++)
    {
      g_autoptr(MtSongItem) item = g_list_model_get_item (songs, i);
      const MtSong *song = mt_song_item_get_song (item);
      g_autofree char *title = mt_song_dup_display_title (song);
      g_autofree char *sound = mt_song_row_dup_sound_text (song);
      MtMood main_mood = mt_song_get_main_mood (song);

      json_builder_begin_object (report);
      json_builder_set_member_name (report, "id");
      json_builder_add_int_value (report, song->id);
      json_builder_set_member_name (report, "title");
      json_builder_add_string_value (report, title);
      json_builder_set_member_name (report, "main_mood");
      json_builder_add_string_value (report, mt_mood_is_valid (main_mood) ? mt_mood_to_string (main_mood) : "none");
      json_builder_set_member_name (report, "score");
      json_builder_add_double_value (report, song->score);
      json_builder_set_member_name (report, "sound");
      if (sound != NULL)
        json_builder_add_string_value (report, sound);
      else
        json_builder_add_null_value (report);
      json_builder_end_object (report);
    }
  json_builder_end_array (report);
  mt_test_report_end (report);
}

static void
playlist_row_activated_cb (MtWindow      *self,
                           GtkListBoxRow *row)
{
  MtPlayer *player = mt_application_get_player (self->app);
  int index = gtk_list_box_row_get_index (row);
  int current = mt_player_get_current (player);

  /* The player has no "play index": step to the row from where it is. */
  if (mt_player_get_state (player) == MT_PLAYER_STOPPED || current < 0 || index < current)
    {
      mt_player_stop (player);
      mt_player_play (player);
      current = mt_player_get_current (player);
    }
  while (current >= 0 && current < index)
    {
      mt_player_next (player);
      current = mt_player_get_current (player);
    }
  if (mt_player_get_state (player) == MT_PLAYER_PAUSED)
    mt_player_play (player);
}

static GtkWidget *
create_song_row (gpointer item,
                 gpointer data)
{
  return mt_song_row_new (mt_song_item_get_song (item));
}

static void
update_playlist_title (MtWindow *self)
{
  MtMood mood = mt_session_get_playlist_mood (self->session);
  g_autofree char *title = NULL;

  if (!mt_mood_is_valid (mood))
    return;
  title = g_strdup_printf (mt_session_get_playlist_strategy (self->session) == MT_STRATEGY_LIFT
                           ? _("Lifting You From “%s”") : _("Music for “%s”"),
                           mt_mood_get_label (mood));
  gtk_label_set_text (self->playlist_title, title);
}

static void update_player (MtWindow *self);

/* The session ranked a new list: the rows follow the model by themselves. */
static void
playlist_changed_cb (MtWindow *self)
{
  update_playlist_title (self);
  update_player (self);
  report_playlist (self);
}

static void
playlist_status_cb (MtWindow *self)
{
  const char *all_missing = _("All Songs Missing");

  switch (mt_session_get_playlist_status (self->session))
    {
    case MT_PLAYLIST_STATUS_EMPTY_LIBRARY:
      _mt_window_update_library (self);
      break;
    case MT_PLAYLIST_STATUS_ALL_MISSING:
      /* Every song is missing (the drive with the music unplugged).  Said
       * once, not on every change of mood while the drive is out. */
      if (g_strcmp0 (gtk_label_get_text (self->playlist_title), all_missing) != 0)
        _mt_window_toast (self, _("The files of every song are missing: connect the drive with your "
                                  "music, then import it again"));
      gtk_label_set_text (self->playlist_title, all_missing);
      break;
    case MT_PLAYLIST_STATUS_FAILED:
    case MT_PLAYLIST_STATUS_UNAVAILABLE:
      if (mt_session_get_playlist_error (self->session) != NULL)
        _mt_window_toast (self, mt_session_get_playlist_error (self->session));
      break;
    case MT_PLAYLIST_STATUS_READY:
      update_playlist_title (self);
      break;
    case MT_PLAYLIST_STATUS_LOADING:
    default:
      break;
    }
}

/* Feedback recorded by the session, from here or from the companion page
 * (the session has already skipped a disliked song that was playing). */
static void
feedback_recorded_cb (MtWindow         *self,
                      gint64            song_id,
                      MtFeedback        feedback,
                      MtMood            mood,
                      MtFeedbackOrigin  origin)
{
  MtLibrary *library = mt_application_get_library (self->app);
  gboolean liked = feedback == MT_FEEDBACK_LIKED;
  g_autoptr(MtSong) song = NULL;
  g_autofree char *title = NULL;
  g_autofree char *text = NULL;
  JsonBuilder *report;

  if (!liked && feedback != MT_FEEDBACK_DISLIKED)
    return;   /* plays and skips need no word */
  if (library != NULL)
    song = mt_library_get_song (library, song_id, NULL);
  title = song != NULL ? mt_song_dup_display_title (song) : g_strdup (_("Unknown Song"));
  if (origin == MT_FEEDBACK_ORIGIN_COMPANION)
    text = g_strdup_printf (liked ? _("Liked on the companion page: “%s”")
                                  : _("Disliked on the companion page: “%s”"), title);
  else
    text = g_strdup_printf (liked ? _("You like “%s”: more like it for this mood")
                                  : _("You dislike “%s”: less of it for this mood"), title);
  _mt_window_toast (self, text);

  report = mt_test_report_begin (origin == MT_FEEDBACK_ORIGIN_COMPANION ? "remote-feedback" : "feedback");
  if (report != NULL)
    {
      json_builder_set_member_name (report, "song");
      json_builder_add_int_value (report, song_id);
      json_builder_set_member_name (report, "title");
      json_builder_add_string_value (report, title);
      json_builder_set_member_name (report, "feedback");
      json_builder_add_string_value (report, mt_feedback_to_string (feedback));
      json_builder_set_member_name (report, "mood");
      json_builder_add_string_value (report, mt_mood_is_valid (mood) ? mt_mood_to_string (mood) : "none");
      mt_test_report_end (report);
    }
}

/* The play button, the song's labels, the playing row and the actions that
 * need a song: from the player's "state", "current-song" and "n-songs". */
static void
update_player (MtWindow *self)
{
  MtPlayer *player = mt_application_get_player (self->app);
  const MtSong *song = mt_player_get_current_song (player);
  gboolean playing = mt_player_get_state (player) == MT_PLAYER_PLAYING;
  int current = mt_player_get_current (player);
  JsonBuilder *report;
  g_autofree char *title = NULL;
  int index = 0;

  if (song != NULL)
    {
      title = mt_song_dup_display_title (song);
      gtk_label_set_text (self->song_title, title);
      gtk_label_set_text (self->song_artist, song->artist ? song->artist : _("Unknown Artist"));
    }
  else
    {
      gtk_label_set_text (self->song_title, _("Nothing Playing"));
      gtk_label_set_text (self->song_artist, "");
    }
  gtk_button_set_icon_name (self->play_button, playing ? "media-playback-pause-symbolic"
                                                       : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->play_button), playing ? _("Pause") : _("Play"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->play_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  playing ? _("Pause") : _("Play"), -1);

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->playlist)); row != NULL;
       row = gtk_widget_get_next_sibling (row), index++)
    if (MT_IS_SONG_ROW (row))
      mt_song_row_set_playing (MT_SONG_ROW (row), index == current && song != NULL);

  _mt_window_actions_update (self);

  report = mt_test_report_begin ("player");
  if (report != NULL)
    {
      json_builder_set_member_name (report, "state");
      json_builder_add_string_value (report, playing ? "playing"
                                             : mt_player_get_state (player) == MT_PLAYER_PAUSED ? "paused" : "stopped");
      json_builder_set_member_name (report, "title");
      json_builder_add_string_value (report, title);
      json_builder_set_member_name (report, "song");
      json_builder_add_int_value (report, song != NULL ? song->id : -1);
      mt_test_report_end (report);
    }
}

static void
player_notify_cb (MtWindow   *self,
                  GParamSpec *pspec)
{
  update_player (self);
}

typedef struct {
  MtWindow *self;
  gint64    song_id;
} UnplayableCheck;

static void
unplayable_file_checked_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      data)
{
  UnplayableCheck *check = data;
  g_autoptr(MtWindow) self = check->self;
  g_autoptr(GFileInfo) info = g_file_query_info_finish (G_FILE (source), result, NULL);
  gint64 song_id = check->song_id;

  g_free (check);
  if (info != NULL)
    return;   /* there, only not playable */
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->playlist)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (MT_IS_SONG_ROW (row) && mt_song_row_get_song (MT_SONG_ROW (row))->id == song_id)
      mt_song_row_set_missing (MT_SONG_ROW (row), TRUE);
}

static void
player_unplayable_cb (MtWindow     *self,
                      const MtSong *song,
                      const char   *message)
{
  g_autofree char *title = mt_song_dup_display_title (song);
  g_autofree char *text = g_strdup_printf (_("“%s” cannot be played: %s"), title, message);
  g_autoptr(GFile) file = g_file_new_for_uri (song->uri);
  UnplayableCheck *check = g_new0 (UnplayableCheck, 1);

  _mt_window_toast (self, text);

  /* A file that is gone (its drive unplugged while the playlist was up)
   * shows as missing in the list.  Asked asynchronously: a stat on a
   * network share that went away can hang. */
  check->self = g_object_ref (self);
  check->song_id = song->id;
  g_file_query_info_async (file, G_FILE_ATTRIBUTE_STANDARD_TYPE, G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT,
                           NULL, unplayable_file_checked_cb, check);
}

/* ---- camera and analysis ------------------------------------------------- */

static void
camera_frame_cb (GstSample *sample,
                 gint64     arrival_us,
                 gpointer   data)
{
  mt_analysis_worker_push (data, sample, arrival_us);
}

static void
show_camera_problem (MtWindow   *self,
                     const char *title,
                     const char *description)
{
  adw_status_page_set_title (self->camera_problem_page, title);
  adw_status_page_set_description (self->camera_problem_page, description);
  gtk_widget_set_visible (self->demo_clip_button, self->demo_clip != NULL);
  gtk_stack_set_visible_child_name (self->camera_stack, "problem");
}

static void
camera_state_cb (MtWindow *self)
{
  MtCameraState state = mt_camera_get_state (self->camera);
  const char *error = mt_camera_get_error (self->camera);
  g_autofree char *details = NULL;
  JsonBuilder *report;

  switch (state)
    {
    case MT_CAMERA_STATE_OFF:
      gtk_stack_set_visible_child_name (self->camera_stack, "off");
      break;
    case MT_CAMERA_STATE_STARTING:
      gtk_stack_set_visible_child_name (self->camera_stack, "starting");
      break;
    case MT_CAMERA_STATE_PLAYING:
      gtk_stack_set_visible_child_name (self->camera_stack, "preview");
      break;
    case MT_CAMERA_STATE_NO_CAMERA:
      show_camera_problem (self, _("No Camera Found"),
                           _("Plug in a webcam and try again. Meanwhile, pick a mood by hand or use a video "
                             "file as the camera."));
      break;
    case MT_CAMERA_STATE_BUSY:
      show_camera_problem (self, _("The Camera Is Busy"),
                           _("Another program is using the camera. Close it and try again, or pick a mood "
                             "by hand."));
      break;
    case MT_CAMERA_STATE_UNPLUGGED:
      show_camera_problem (self, _("The Camera Was Unplugged"),
                           _("Plug it back in and try again, or pick a mood by hand."));
      break;
    case MT_CAMERA_STATE_ENDED:
      if (mt_application_get_quit_at_end (self->app))
        mt_application_finish (self->app);
      break;
    case MT_CAMERA_STATE_ERROR:
    default:
      details = g_strdup_printf (_("The camera could not be used: %s"), error ? error : _("unknown error"));
      show_camera_problem (self, _("Camera Problem"), details);
      break;
    }

  if (state != MT_CAMERA_STATE_PLAYING && state != MT_CAMERA_STATE_ENDED)
    {
      mt_session_reset_readings (self->session);
      mt_camera_view_set_faces (self->camera_view, NULL, 0, 0);
      mt_emotion_bars_set_values (self->emotion_bars, NULL);
      gtk_widget_set_visible (GTK_WIDGET (self->hint_label), FALSE);
    }

  report = mt_test_report_begin ("camera");
  if (report != NULL)
    {
      json_builder_set_member_name (report, "state");
      json_builder_add_string_value (report, camera_state_nick (state));
      json_builder_set_member_name (report, "error");
      json_builder_add_string_value (report, error);
      json_builder_set_member_name (report, "source");
      json_builder_add_string_value (report, mt_camera_get_source (self->camera));
      mt_test_report_end (report);
    }
}

static void
camera_paintable_cb (MtWindow *self)
{
  mt_camera_view_set_paintable (self->camera_view, mt_camera_get_paintable (self->camera));
}

static const char *
hint_text (MtFrameHint hint)
{
  switch (hint)
    {
    case MT_FRAME_HINT_NO_FACE: return _("No face in view: look at the camera");
    case MT_FRAME_HINT_TOO_DARK: return _("Too dark to see a face: turn on a light");
    case MT_FRAME_HINT_TOO_SMALL: return _("Your face is too small: come closer to the camera");
    case MT_FRAME_HINT_NONE:
    default: return NULL;
    }
}

static void
report_analysis (MtAnalysisResult *result)
{
  JsonBuilder *report = mt_test_report_begin ("analysis");

  if (report == NULL)
    return;
  json_builder_set_member_name (report, "position_ms");
  json_builder_add_int_value (report, result->position >= 0 ? result->position / GST_MSECOND : -1);
  json_builder_set_member_name (report, "arrival_ms");
  json_builder_add_double_value (report, result->arrival_us / 1000.0);
  json_builder_set_member_name (report, "ms");
  json_builder_add_double_value (report, result->analyze_ms);
  json_builder_set_member_name (report, "hint");
  json_builder_add_string_value (report, mt_frame_hint_to_string (result->hint));
  json_builder_set_member_name (report, "faces");
  json_builder_begin_array (report);
  for (guint i = 0; i < result->faces->len; i++)
    {
      const MtFace *face = &g_array_index (result->faces, MtFace, i);

      json_builder_begin_object (report);
      json_builder_set_member_name (report, "box");
      json_builder_begin_array (report);
      json_builder_add_double_value (report, face->x);
      json_builder_add_double_value (report, face->y);
      json_builder_add_double_value (report, face->width);
      json_builder_add_double_value (report, face->height);
      json_builder_end_array (report);
      json_builder_set_member_name (report, "score");
      json_builder_add_double_value (report, face->score);
      json_builder_set_member_name (report, "emotion");
      json_builder_add_string_value (report, mt_mood_to_string (face->emotion));
      json_builder_end_object (report);
    }
  json_builder_end_array (report);
  mt_test_report_end (report);
}

static void
worker_result_cb (MtWindow         *self,
                  MtAnalysisResult *result)
{
  const MtFace *main_face = result->faces->len > 0 ? &g_array_index (result->faces, MtFace, 0) : NULL;
  const char *hint;

  /* A frame analyzed just before the camera went off is not used. */
  if (!self->camera_enabled || mt_camera_get_state (self->camera) != MT_CAMERA_STATE_PLAYING)
    return;

  g_clear_pointer (&self->last_result, mt_analysis_result_free);
  self->last_result = mt_analysis_result_copy (result);
  report_analysis (result);

  mt_camera_view_set_faces (self->camera_view, result->faces, result->frame_width, result->frame_height);
  mt_emotion_bars_set_values (self->emotion_bars, main_face ? main_face->emotions : NULL);
  hint = hint_text (result->hint);
  gtk_widget_set_visible (GTK_WIDGET (self->hint_label), hint != NULL);
  if (hint != NULL)
    gtk_label_set_text (self->hint_label, hint);

  mt_session_add_reading (self->session, main_face ? main_face->emotions : NULL, result->arrival_us);
}

static void
worker_failed_cb (MtWindow   *self,
                  const char *message)
{
  g_autofree char *text = g_strdup_printf (_("Faces cannot be read: %s"), message);

  gtk_label_set_text (self->hint_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->hint_label), TRUE);
}

static gboolean
stats_cb (gpointer data)
{
  MtWindow *self = data;
  double preview_fps = mt_camera_get_preview_fps (self->camera);
  double analysis_rate = mt_analysis_worker_get_rate (self->worker);
  guint64 dropped = mt_analysis_worker_get_dropped (self->worker);
  g_autofree char *fps_text = g_strdup_printf (_("%.1f frames/s"), preview_fps);
  g_autofree char *rate_text = g_strdup_printf (_("%.1f frames/s"), analysis_rate);
  g_autofree char *ms_text = NULL;
  g_autofree char *dropped_text = g_strdup_printf ("%" G_GUINT64_FORMAT, dropped);
  g_autofree char *brightness_text = NULL;
  const char *source = mt_camera_get_source (self->camera);
  JsonBuilder *report;

  if (self->last_result != NULL)
    {
      ms_text = g_strdup_printf (_("%.0f ms"), self->last_result->analyze_ms);
      brightness_text = g_strdup_printf ("%.0f / 255", self->last_result->brightness);
    }
  gtk_label_set_text (self->info_camera, source[0] ? source : _("Automatic"));
  gtk_label_set_text (self->info_preview_fps, fps_text);
  gtk_label_set_text (self->info_analysis_rate, rate_text);
  gtk_label_set_text (self->info_analysis_ms, ms_text ? ms_text : "–");
  gtk_label_set_text (self->info_dropped, dropped_text);
  gtk_label_set_text (self->info_brightness, brightness_text ? brightness_text : "–");

  report = mt_test_report_begin ("stats");
  if (report != NULL)
    {
      json_builder_set_member_name (report, "preview_fps");
      json_builder_add_double_value (report, preview_fps);
      json_builder_set_member_name (report, "analysis_fps");
      json_builder_add_double_value (report, analysis_rate);
      json_builder_set_member_name (report, "dropped");
      json_builder_add_int_value (report, dropped);
      mt_test_report_end (report);
    }
  return G_SOURCE_CONTINUE;
}

void
_mt_window_set_camera_enabled (MtWindow *self,
                               gboolean  enabled)
{
  enabled = !!enabled;
  if (self->camera_enabled == enabled)
    return;
  self->camera_enabled = enabled;
  /* Privacy first: stop taking frames before closing the camera. */
  mt_analysis_worker_set_enabled (self->worker, enabled);
  if (enabled)
    mt_camera_start (self->camera);
  else
    {
      mt_camera_stop (self->camera);
      g_clear_pointer (&self->last_result, mt_analysis_result_free);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAMERA_ENABLED]);
  update_mood_ui (self);
}

void
_mt_window_use_camera_source (MtWindow   *self,
                              const char *source)
{
  mt_camera_set_source (self->camera, source);
  if (self->camera_enabled)
    mt_camera_start (self->camera);
  else
    _mt_window_set_camera_enabled (self, TRUE);
}

/* 0 (and the steps below the smallest real size the spin button passes
 * on its way up): the detector's own size, from the models manifest. */
static int
detector_size_setting (MtWindow *self)
{
  int size = g_settings_get_int (self->settings, "detector-size");

  return size >= 64 ? size : 0;
}

/* The model picked in Preferences, or NULL for the manifest's default (also
 * when the model picked is gone: one's own model removed since). */
static char *
expression_model_setting (MtWindow *self)
{
  g_autofree char *model = g_settings_get_string (self->settings, "expression-model");
  g_auto(GStrv) models = NULL;

  if (model[0] == '\0')
    return NULL;
  models = mt_analyzer_list_models (NULL, NULL);
  if (models == NULL || !g_strv_contains ((const char * const *) models, model))
    {
      g_message ("The expression model “%s” picked in Preferences is not there: the default is used", model);
      return NULL;
    }
  return g_steal_pointer (&model);
}

/* Which model the camera's analysis runs (NULL: the manifest's default). */
static void
report_expression_model (const char *model)
{
  JsonBuilder *report = mt_test_report_begin ("expression-model");
  g_autofree char *chosen = NULL;

  if (report == NULL)
    return;
  chosen = model != NULL ? g_strdup (model) : mt_analyzer_dup_default_model (NULL, NULL);
  json_builder_set_member_name (report, "model");
  json_builder_add_string_value (report, chosen != NULL ? chosen : "");
  json_builder_set_member_name (report, "from_settings");
  json_builder_add_boolean_value (report, model != NULL);
  mt_test_report_end (report);
}

static void
settings_changed_cb (MtWindow   *self,
                     const char *key)
{
  if (g_str_equal (key, "detector-threshold"))
    mt_analysis_worker_set_threshold (self->worker, g_settings_get_double (self->settings, key));
  else if (g_str_equal (key, "detector-size"))
    mt_analysis_worker_set_detector_size (self->worker, detector_size_setting (self));
  else if (g_str_equal (key, "camera") && mt_application_get_camera_source (self->app) == NULL)
    {
      g_autofree char *camera = g_settings_get_string (self->settings, key);
      _mt_window_use_camera_source (self, camera);
    }
}

/* ---- screenshot ------------------------------------------------------------ */

gboolean
mt_window_save_screenshot (MtWindow    *self,
                           const char  *path,
                           GError     **error)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer;
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));

  g_return_val_if_fail (MT_IS_WINDOW (self), FALSE);

  renderer = gtk_native_get_renderer (GTK_NATIVE (self));
  if (renderer == NULL || width <= 0 || height <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window is not shown");
      return FALSE;
    }
  paintable = gtk_widget_paintable_new (GTK_WIDGET (self));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window drew nothing");
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "could not write %s", path);
      return FALSE;
    }
  return TRUE;
}

/* ---- object -------------------------------------------------------------- */

static char *
find_demo_clip (void)
{
  const char *env = g_getenv ("MT_DEMO_CLIP");

  /* A developer's clip (meson devenv sets the shared face clip), else the
   * demo picture every install ships. */
  if (env != NULL && g_file_test (env, G_FILE_TEST_IS_REGULAR))
    return g_strdup (env);
  return g_strdup (MT_CAMERA_SOURCE_DEMO);
}

/* After construction: "application" is not a construct property. */
static void
mt_window_setup (MtWindow      *self,
                 MtApplication *app)
{
  MtPlayer *player;
  const char *source;
  g_autofree char *camera = NULL;
  g_autofree char *model = NULL;

  self->app = app;
  self->settings = g_object_ref (mt_application_get_settings (self->app));
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_object (self->settings, "changed", G_CALLBACK (settings_changed_cb), self, G_CONNECT_SWAPPED);

  player = mt_application_get_player (self->app);
  g_signal_connect_object (player, "notify::state", G_CALLBACK (player_notify_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (player, "notify::current-song", G_CALLBACK (player_notify_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (player, "notify::n-songs", G_CALLBACK (player_notify_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (player, "unplayable", G_CALLBACK (player_unplayable_cb), self, G_CONNECT_SWAPPED);

  /* The window is a view of the session: mood, playlist, feedback. */
  self->session = g_object_ref (mt_application_get_session (self->app));
  g_signal_connect_object (self->session, "notify::mood", G_CALLBACK (session_mood_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::locked", G_CALLBACK (update_mood_ui), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::confidence", G_CALLBACK (session_confidence_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::playlist-status", G_CALLBACK (playlist_status_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "feedback-recorded", G_CALLBACK (feedback_recorded_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_list_box_bind_model (self->playlist, mt_session_get_playlist (self->session), create_song_row, NULL, NULL);
  mt_mood_timeline_set_session (self->mood_timeline, self->session);
  g_object_bind_property (self->mood_timeline, "summary", self->timeline_summary, "label", G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->mood_timeline, "notify::summary", G_CALLBACK (report_timeline), self,
                           G_CONNECT_SWAPPED);
  /* After the list box's own handler: the rows are there to mark. */
  g_signal_connect_object (mt_session_get_playlist (self->session), "items-changed",
                           G_CALLBACK (playlist_changed_cb), self, G_CONNECT_SWAPPED);

  /* The model is read once: a new pick takes effect at the next start. */
  model = expression_model_setting (self);
  self->worker = mt_analysis_worker_new (NULL, model);
  report_expression_model (model);
  mt_analysis_worker_set_threshold (self->worker, g_settings_get_double (self->settings, "detector-threshold"));
  mt_analysis_worker_set_detector_size (self->worker, detector_size_setting (self));
  g_signal_connect_object (self->worker, "result", G_CALLBACK (worker_result_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->worker, "failed", G_CALLBACK (worker_failed_cb), self, G_CONNECT_SWAPPED);

  self->camera = mt_camera_new ();
  mt_camera_set_loop (self->camera, !mt_application_get_quit_at_end (self->app));
  mt_camera_set_frame_func (self->camera, camera_frame_cb, self->worker);
  g_signal_connect_object (self->camera, "notify::state", G_CALLBACK (camera_state_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->camera, "notify::paintable", G_CALLBACK (camera_paintable_cb), self,
                           G_CONNECT_SWAPPED);
  source = mt_application_get_camera_source (self->app);
  if (source == NULL)
    source = camera = g_settings_get_string (self->settings, "camera");
  mt_camera_set_source (self->camera, source);

  self->stats_timeout = g_timeout_add_seconds (1, stats_cb, self);

  _mt_window_library_init (self);
  _mt_window_actions_init (self);
  _mt_window_update_library (self);
  update_mood_ui (self);
  update_player (self);
  _mt_window_set_camera_enabled (self, TRUE);
}

static void
mt_window_dispose (GObject *object)
{
  MtWindow *self = MT_WINDOW (object);

  g_clear_handle_id (&self->stats_timeout, g_source_remove);
  if (self->import_cancellable != NULL)
    g_cancellable_cancel (self->import_cancellable);
  if (self->app != NULL && mt_application_get_sound_analysis (self->app) != NULL)
    mt_sound_analysis_cancel (mt_application_get_sound_analysis (self->app));
  /* The camera first: its streaming threads feed the worker. */
  if (self->camera != NULL)
    mt_camera_stop (self->camera);
  g_clear_object (&self->camera);
  g_clear_object (&self->worker);
  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->last_result, mt_analysis_result_free);
  g_clear_pointer (&self->demo_clip, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), MT_TYPE_WINDOW);
  G_OBJECT_CLASS (mt_window_parent_class)->dispose (object);
}

static void
mt_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  MtWindow *self = MT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CAMERA_ENABLED:
      g_value_set_boolean (value, self->camera_enabled);
      break;
    case PROP_CAMERA_DEVICES:
      g_value_set_object (value, self->camera ? mt_camera_get_devices (self->camera) : NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  MtWindow *self = MT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CAMERA_ENABLED:
      if (self->camera != NULL)
        _mt_window_set_camera_enabled (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_window_class_init (MtWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mt_window_dispose;
  object_class->get_property = mt_window_get_property;
  object_class->set_property = mt_window_set_property;

  /** MtWindow:camera-enabled: FALSE when the user switched the camera off */
  properties[PROP_CAMERA_ENABLED] = g_param_spec_boolean ("camera-enabled", NULL, NULL, TRUE,
                                                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                                                          G_PARAM_STATIC_STRINGS);
  /** MtWindow:camera-devices: the cameras found (GtkStringList of names) */
  properties[PROP_CAMERA_DEVICES] = g_param_spec_object ("camera-devices", NULL, NULL, G_TYPE_LIST_MODEL,
                                                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (MT_TYPE_CAMERA_VIEW);
  g_type_ensure (MT_TYPE_EMOTION_BARS);
  g_type_ensure (MT_TYPE_MOOD_TIMELINE);
  gtk_widget_class_set_template_from_resource (widget_class, MT_APP_RESOURCE_PATH "/mt-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MtWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, library_page);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, import_music_button);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, import_demo_button);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, import_box);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, import_progress);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, import_label);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, camera_stack);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, camera_view);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, camera_problem_page);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, demo_clip_button);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, hint_label);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, emotion_bars);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, mood_timeline);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, timeline_summary);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, mood_icon);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, mood_label);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, mood_detail);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, sound_box);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, sound_progress);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, sound_label);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, playlist_title);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, playlist);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, song_title);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, song_artist);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, play_button);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, info_button);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, info_camera);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, info_preview_fps);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, info_analysis_rate);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, info_analysis_ms);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, info_dropped);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, info_brightness);

  _mt_window_class_actions_init (widget_class);
}

static void
mt_window_init (MtWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->demo_clip = find_demo_clip ();
  g_signal_connect_object (self->playlist, "row-activated", G_CALLBACK (playlist_row_activated_cb), self,
                           G_CONNECT_SWAPPED);
}

MtWindow *
mt_window_new (MtApplication *application)
{
  MtWindow *self = g_object_new (MT_TYPE_WINDOW, "application", application, NULL);

  mt_window_setup (self, application);
  return self;
}
