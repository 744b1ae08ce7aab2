/* mt-window-actions.c: what the user can do in the main window (win.*). */
#define G_LOG_DOMAIN "mt-window-actions"

#include "config.h"

#include <glib/gi18n.h>

#include "mt-window-private.h"

static MtPlayer *
get_player (MtWindow *self)
{
  return mt_application_get_player (self->app);
}

static void
play_pause_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);
  MtPlayer *player = get_player (self);

  if (mt_player_get_state (player) == MT_PLAYER_PLAYING)
    mt_player_pause (player);
  else
    mt_player_play (player);
}

static void
next_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);

  mt_player_next (get_player (self));
}

static void
previous_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);

  mt_player_previous (get_player (self));
}

/* Through the session, as the companion page's ratings go: it announces
 * the rating (the window's toast) and skips a disliked song. */
static void
feedback (MtWindow   *self,
          MtFeedback  kind)
{
  const MtSong *song = mt_player_get_current_song (get_player (self));
  g_autoptr(GError) error = NULL;

  if (song == NULL)
    return;
  if (!mt_session_record_feedback (self->session, song->id, kind, mt_session_get_mood (self->session),
                                   MT_FEEDBACK_ORIGIN_DESKTOP, &error))
    {
      g_autofree char *text = g_strdup_printf (_("Could not save your rating: %s"), error->message);
      _mt_window_toast (self, text);
    }
}

static void
like_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  feedback (MT_WINDOW (widget), MT_FEEDBACK_LIKED);
}

static void
dislike_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  feedback (MT_WINDOW (widget), MT_FEEDBACK_DISLIKED);
}

static void
pick_mood_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);
  const char *name = g_variant_get_string (parameter, NULL);
  MtMood mood;

  if (name[0] == '\0')
    mt_session_pick_mood (self->session, MT_MOOD_NONE);
  else if (mt_mood_from_string (name, &mood))
    mt_session_pick_mood (self->session, mood);
  else
    g_warning ("Unknown mood “%s”", name);
}

static void
camera_retry_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);

  _mt_window_use_camera_source (self, mt_camera_get_source (self->camera));
}

static void
camera_demo_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);

  if (self->demo_clip != NULL)
    _mt_window_use_camera_source (self, self->demo_clip);
}

static void
camera_file_chosen_cb (GtkNativeDialog *dialog,
                       int              response,
                       gpointer         data)
{
  MtWindow *self = data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *uri = g_file_get_uri (file);

      _mt_window_use_camera_source (self, uri);
    }
  g_object_unref (dialog);
}

static void
camera_file_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Use a Video File as Camera"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Use"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Videos"));
  gtk_file_filter_add_mime_type (filter, "video/*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_signal_connect (chooser, "response", G_CALLBACK (camera_file_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
music_folder_chosen_cb (GtkNativeDialog *dialog,
                        int              response,
                        gpointer         data)
{
  MtWindow *self = data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      const char *folders[] = { path, NULL };
      g_auto(GStrv) known = g_settings_get_strv (self->settings, "music-folders");

      if (path != NULL && !g_strv_contains ((const char * const *) known, path))
        {
          g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
          g_auto(GStrv) updated = NULL;

          g_strv_builder_addv (builder, (const char **) known);
          g_strv_builder_add (builder, path);
          updated = g_strv_builder_end (builder);
          g_settings_set_strv (self->settings, "music-folders", (const char * const *) updated);
        }
      if (path != NULL)
        _mt_window_import (self, folders);
    }
  g_object_unref (dialog);
}

static void
import_music_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);
  g_auto(GStrv) folders = g_settings_get_strv (self->settings, "music-folders");
  const char *music = g_get_user_special_dir (G_USER_DIRECTORY_MUSIC);
  GtkFileChooserNative *chooser;

  if (folders[0] != NULL)
    {
      _mt_window_import (self, (const char * const *) folders);
      return;
    }
  if (music != NULL && g_file_test (music, G_FILE_TEST_IS_DIR))
    {
      const char *default_folders[] = { music, NULL };

      _mt_window_import (self, default_folders);
      return;
    }
  /* No Music folder: ask for one. */
  chooser = gtk_file_chooser_native_new (_("Choose Your Music Folder"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Import"), _("_Cancel"));
  g_signal_connect (chooser, "response", G_CALLBACK (music_folder_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
import_demo_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);
  const char *folders[] = { MT_DEMO_MUSIC_DIR, NULL };

  if (!g_file_test (MT_DEMO_MUSIC_DIR, G_FILE_TEST_IS_DIR))
    {
      AdwMessageDialog *dialog;

      dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("No Demo Library"), NULL));
      adw_message_dialog_format_body (dialog, _("The demo library is the music of the game Endgame: "
                                                "Singularity. Install the “%s” package and try again."),
                                      "singularity-music");
      adw_message_dialog_add_response (dialog, "close", _("_Close"));
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }
  _mt_window_import (self, folders);
}

static void
import_cancel_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);

  if (self->import_cancellable != NULL)
    g_cancellable_cancel (self->import_cancellable);
}

static void
sound_analysis_cancel_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  MtSoundAnalysis *analysis = mt_application_get_sound_analysis (MT_WINDOW (widget)->app);

  if (analysis != NULL)
    mt_sound_analysis_cancel (analysis);
}

static void
show_info_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  gtk_menu_button_popup (MT_WINDOW (widget)->info_button);
}

void
_mt_window_actions_update (MtWindow *self)
{
  MtPlayer *player = get_player (self);
  gboolean has_songs = mt_player_get_n_songs (player) > 0;
  gboolean has_song = mt_player_get_current_song (player) != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.play-pause", has_songs);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.next", has_song);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.previous", has_song);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.like", has_song);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.dislike", has_song);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.import-music", self->importer == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.import-demo", self->importer == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.import-cancel", self->importer != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.camera-demo", self->demo_clip != NULL);
}

void
_mt_window_actions_init (MtWindow *self)
{
  /* Stateful actions straight on the session's properties: the lock is a
   * toggle, the strategy a radio choice of its nicks ("match", "lift"). */
  g_autoptr(GPropertyAction) lock = g_property_action_new ("lock-mood", self->session, "locked");
  g_autoptr(GPropertyAction) strategy = g_property_action_new ("strategy", self->session, "strategy");

  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (lock));
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (strategy));
  _mt_window_actions_update (self);
}

void
_mt_window_class_actions_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_property_action (widget_class, "win.camera", "camera-enabled");
  gtk_widget_class_install_action (widget_class, "win.pick-mood", "s", pick_mood_action);
  gtk_widget_class_install_action (widget_class, "win.play-pause", NULL, play_pause_action);
  gtk_widget_class_install_action (widget_class, "win.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "win.previous", NULL, previous_action);
  gtk_widget_class_install_action (widget_class, "win.like", NULL, like_action);
  gtk_widget_class_install_action (widget_class, "win.dislike", NULL, dislike_action);
  gtk_widget_class_install_action (widget_class, "win.camera-retry", NULL, camera_retry_action);
  gtk_widget_class_install_action (widget_class, "win.camera-demo", NULL, camera_demo_action);
  gtk_widget_class_install_action (widget_class, "win.camera-file", NULL, camera_file_action);
  gtk_widget_class_install_action (widget_class, "win.import-music", NULL, import_music_action);
  gtk_widget_class_install_action (widget_class, "win.import-demo", NULL, import_demo_action);
  gtk_widget_class_install_action (widget_class, "win.import-cancel", NULL, import_cancel_action);
  gtk_widget_class_install_action (widget_class, "win.sound-analysis-cancel", NULL, sound_analysis_cancel_action);
  gtk_widget_class_install_action (widget_class, "win.show-info", NULL, show_info_action);

  /* Keep in sync with ui/help-overlay.ui. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_space, GDK_CONTROL_MASK, "win.play-pause", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_CONTROL_MASK, "win.next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_CONTROL_MASK, "win.previous", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Up, GDK_CONTROL_MASK, "win.like", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Down, GDK_CONTROL_MASK, "win.dislike", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, GDK_CONTROL_MASK, "win.camera", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "win.lock-mood", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK, "win.strategy", "s", "match");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_CONTROL_MASK, "win.strategy", "s", "lift");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_i, GDK_CONTROL_MASK, "win.show-info", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.import-music", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_ALT_MASK, "win.pick-mood", "s", "");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_ALT_MASK, "win.pick-mood", "s", "happy");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_ALT_MASK, "win.pick-mood", "s", "neutral");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_3, GDK_ALT_MASK, "win.pick-mood", "s", "sad");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_4, GDK_ALT_MASK, "win.pick-mood", "s", "angry");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_5, GDK_ALT_MASK, "win.pick-mood", "s", "surprise");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_6, GDK_ALT_MASK, "win.pick-mood", "s", "fear");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_7, GDK_ALT_MASK, "win.pick-mood", "s", "disgust");
}
