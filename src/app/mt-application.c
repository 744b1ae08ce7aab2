/* mt-application.c: startup (library, player, session), command-line
 * options, application actions and the test hooks of --test-report. */
#define G_LOG_DOMAIN "mt-application"

#include "config.h"

#include <glib/gi18n.h>
#include <gst/gst.h>

#include "mt-application.h"
#include "mt-mpris.h"
#include "mt-preferences-window.h"
#include "mt-test-report.h"
#include "mt-window.h"
#ifdef HAVE_MT_SERVER
#include "mt-server.h"
#endif

struct _MtApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
  MtLibrary      *library;
  char           *library_error;
  MtPlayer       *player;
  MtSession      *session;
  MtMpris        *mpris;
  MtSoundAnalysis *sound_analysis;  /* NULL without a library */
#ifdef HAVE_MT_SERVER
  MtServer       *server;
#endif
  char           *server_error;

  /* Command line. */
  char           *camera_source;
  char           *audio_sink;
  char           *screenshot;
  char           *test_actions;
  double          quit_after;
  gboolean        quit_at_end;
  gboolean        finishing;
};

G_DEFINE_FINAL_TYPE (MtApplication, mt_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "camera", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Camera to use: a camera name, a video file or URI, “demo” (a picture) or “test”"), N_("CAMERA") },
  { "audio-sink", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, NULL,
    "GStreamer audio sink description for playback (tests)", "SINK" },
  { "test-report", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, NULL,
    "Print what happens as JSON lines on standard output (tests, benchmarks)", NULL },
  { "test-actions", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, NULL,
    "Activate actions at given seconds: “2.5=win.camera;4=win.pick-mood::sad”", "LIST" },
  { "quit-after", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_DOUBLE, NULL,
    "Quit after this many seconds (tests)", "SECONDS" },
  { "quit-at-end", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, NULL,
    "Play a video camera once and quit at its end (tests)", NULL },
  { "screenshot", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, NULL,
    "Save the window as PNG when quitting (tests)", "FILE" },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Show the version and quit"), NULL },
  { NULL }
};

static int
mt_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  MtApplication *self = MT_APPLICATION (app);

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("moodtunes %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  g_variant_dict_lookup (options, "camera", "s", &self->camera_source);
  g_variant_dict_lookup (options, "audio-sink", "s", &self->audio_sink);
  g_variant_dict_lookup (options, "screenshot", "^ay", &self->screenshot);
  g_variant_dict_lookup (options, "test-actions", "s", &self->test_actions);
  g_variant_dict_lookup (options, "quit-after", "d", &self->quit_after);
  self->quit_at_end = g_variant_dict_contains (options, "quit-at-end");
  if (g_variant_dict_contains (options, "test-report"))
    {
      mt_test_report_enable ();
      /* A test run is its own instance, never a second window of a running app. */
      g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
    }
  return -1;
}

/* The main window, also when a dialog is the active one. */
static GtkWindow *
get_main_window (MtApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (MT_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

static gboolean
quit_timeout_cb (gpointer data)
{
  mt_application_finish (data);
  return G_SOURCE_REMOVE;
}

typedef struct {
  MtApplication *app;
  char          *action;
} TestAction;

static void
test_action_free (gpointer data)
{
  TestAction *test_action = data;

  g_free (test_action->action);
  g_free (test_action);
}

static gboolean
test_action_cb (gpointer data)
{
  TestAction *test_action = data;
  GtkWindow *window = get_main_window (test_action->app);
  g_autofree char *name = NULL;
  g_autoptr(GVariant) target = NULL;
  g_autoptr(GError) error = NULL;
  JsonBuilder *report;

  if ((report = mt_test_report_begin ("action")) != NULL)
    {
      json_builder_set_member_name (report, "action");
      json_builder_add_string_value (report, test_action->action);
      mt_test_report_end (report);
    }

  if (!g_action_parse_detailed_name (test_action->action, &name, &target, &error))
    g_warning ("Bad test action “%s”: %s", test_action->action, error->message);
  else if (window != NULL && g_str_has_prefix (name, "win."))
    gtk_widget_activate_action_variant (GTK_WIDGET (window), name, target);
  else if (g_str_has_prefix (name, "app."))
    g_action_group_activate_action (G_ACTION_GROUP (test_action->app), name + 4, target);
  else
    g_warning ("Unknown test action “%s”", test_action->action);
  return G_SOURCE_REMOVE;
}

static void
schedule_test_actions (MtApplication *self)
{
  g_auto(GStrv) items = NULL;

  if (self->test_actions == NULL)
    return;
  items = g_strsplit (self->test_actions, ";", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (items[i], "=", 2);
      TestAction *test_action;
      double seconds;
      char *end = NULL;

      if (g_strv_length (parts) != 2)
        continue;
      seconds = g_ascii_strtod (parts[0], &end);
      if (end == parts[0] || seconds < 0)
        {
          g_warning ("Bad time in test action “%s”", items[i]);
          continue;
        }
      test_action = g_new0 (TestAction, 1);
      test_action->app = self;
      test_action->action = g_strdup (g_strstrip (parts[1]));
      g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) (seconds * 1000), test_action_cb,
                          test_action, test_action_free);
    }
}

/* Starts or stops the local server to follow its settings. */
static void
update_server (MtApplication *self)
{
#ifdef HAVE_MT_SERVER
  g_autoptr(MtServerOptions) options = NULL;
  g_autoptr(GError) error = NULL;

  if (self->server != NULL)
    {
      mt_server_stop (self->server);
      g_clear_object (&self->server);
    }
  g_clear_pointer (&self->server_error, g_free);
  if (!g_settings_get_boolean (self->settings, "server-enabled"))
    return;

  options = mt_server_options_new ();
  mt_server_options_load_settings (options, self->settings);
  /* The page sees the desktop's own session: its mood, playlist, feedback. */
  self->server = mt_server_new (self->session, options);
  if (!mt_server_start (self->server, &error))
    {
      g_warning ("The local server could not start: %s", error->message);
      self->server_error = g_strdup (error->message);
      g_clear_object (&self->server);
    }
#endif
}

static void
settings_changed_cb (MtApplication *self,
                     const char    *key)
{
  if (g_str_equal (key, "server-enabled") || g_str_equal (key, "server-port") ||
      g_str_equal (key, "server-listen") || g_str_equal (key, "server-require-token"))
    update_server (self);
}

static void
mt_application_startup (GApplication *app)
{
  MtApplication *self = MT_APPLICATION (app);
  g_autoptr(GError) error = NULL;
  g_autofree char *db_path = NULL;

  G_APPLICATION_CLASS (mt_application_parent_class)->startup (app);

  gtk_window_set_default_icon_name (MT_APPLICATION_ID);
  self->settings = g_settings_new (MT_APPLICATION_ID);

  db_path = mt_library_dup_default_path ();
  self->library = mt_library_open (db_path, &error);
  if (self->library == NULL)
    {
      g_warning ("Could not open the music library: %s", error->message);
      self->library_error = g_strdup (error->message);
      g_clear_error (&error);
    }

  if (self->library != NULL)
    self->sound_analysis = mt_sound_analysis_new (self->library, self->settings);

  self->player = mt_player_new ();
  if (self->audio_sink != NULL && !mt_player_set_audio_sink (self->player, self->audio_sink, &error))
    {
      g_warning ("Bad audio sink “%s”: %s", self->audio_sink, error->message);
      g_clear_error (&error);
    }

  self->session = mt_session_new (self->library, self->player);
  g_settings_bind (self->settings, "strategy", self->session, "strategy", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "keep-mood-history", self->session, "keep-history", G_SETTINGS_BIND_GET);

  self->mpris = mt_mpris_new (self);

  g_signal_connect_object (self->settings, "changed", G_CALLBACK (settings_changed_cb), self,
                           G_CONNECT_SWAPPED);
  update_server (self);
}

static void
mt_application_activate (GApplication *app)
{
  MtApplication *self = MT_APPLICATION (app);
  GtkWindow *window = get_main_window (self);

  if (window == NULL)
    {
      window = GTK_WINDOW (mt_window_new (self));
      mt_mpris_set_window (self->mpris, MT_WINDOW (window));
      schedule_test_actions (self);
      if (self->quit_after > 0)
        g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) (self->quit_after * 1000),
                            quit_timeout_cb, g_object_ref (self), g_object_unref);
      /* Songs left unread by an earlier run (cut short, or a new model). */
      if (self->sound_analysis != NULL)
        mt_sound_analysis_start (self->sound_analysis);
    }
  gtk_window_present (window);
}

static void
mt_application_shutdown (GApplication *app)
{
  MtApplication *self = MT_APPLICATION (app);

  g_clear_object (&self->mpris);
  /* Songs done so far are kept; the rest wait for the next start. */
  if (self->sound_analysis != NULL)
    mt_sound_analysis_cancel (self->sound_analysis);
#ifdef HAVE_MT_SERVER
  if (self->server != NULL)
    mt_server_stop (self->server);
  g_clear_object (&self->server);
#endif
  if (self->player != NULL)
    mt_player_stop (self->player);
  G_APPLICATION_CLASS (mt_application_parent_class)->shutdown (app);
}

static void
mt_application_finalize (GObject *object)
{
  MtApplication *self = (MtApplication *) object;

  g_clear_object (&self->session);
  g_clear_object (&self->player);
  g_clear_object (&self->sound_analysis);
  g_clear_object (&self->library);
  g_clear_object (&self->settings);
  g_free (self->library_error);
  g_free (self->server_error);
  g_free (self->camera_source);
  g_free (self->audio_sink);
  g_free (self->screenshot);
  g_free (self->test_actions);
  G_OBJECT_CLASS (mt_application_parent_class)->finalize (object);
}

static void
mt_application_class_init (MtApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = mt_application_finalize;
  app_class->handle_local_options = mt_application_handle_local_options;
  app_class->startup = mt_application_startup;
  app_class->activate = mt_application_activate;
  app_class->shutdown = mt_application_shutdown;
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       data)
{
  MtApplication *self = data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  /* Closing the windows saves their size and stops camera and worker. */
  while (windows != NULL)
    {
      gtk_window_destroy (windows->data);
      windows = gtk_application_get_windows (GTK_APPLICATION (self));
    }
  g_application_quit (G_APPLICATION (self));
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       data)
{
  MtApplication *self = data;
  GtkWindow *parent = get_main_window (self);
  GtkWindow *preferences = GTK_WINDOW (mt_preferences_window_new (self, parent));

  gtk_window_present (preferences);
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       data)
{
  MtApplication *self = data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  static const char *developers[] = { "The Moodtunes authors", NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", parent,
                        "application-name", _("Moodtunes"),
                        "application-icon", MT_APPLICATION_ID,
                        "developer-name", _("The Moodtunes authors"),
                        "version", PACKAGE_VERSION,
                        "website", "https://github.com/moodtunes/moodtunes",
                        "issue-url", "https://github.com/moodtunes/moodtunes/issues",
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "developers", developers,
                        "comments", _("Music that follows your face. Everything runs on this computer: "
                                      "no picture leaves it."),
                        /* Translators: replace with your names, one per line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  adw_about_window_add_legal_section (ADW_ABOUT_WINDOW (about), _("Face detector"),
                                      "© Vincent Mühler (face-api.js tiny face detector)",
                                      GTK_LICENSE_MIT_X11, NULL);
  adw_about_window_add_legal_section (ADW_ABOUT_WINDOW (about), _("Expression models"),
                                      "© Vincent Mühler (face-api.js face expression model); "
                                      "mini-Xception by Octavio Arriaga et al., weights from the "
                                      "human-models project",
                                      GTK_LICENSE_MIT_X11, NULL);
  adw_about_window_add_legal_section (ADW_ABOUT_WINDOW (about), _("Neural network runtime"),
                                      "Darknet © Joseph Redmon (public domain)",
                                      GTK_LICENSE_CUSTOM,
                                      _("Darknet is released into the public domain."));
  adw_about_window_add_acknowledgement_section (ADW_ABOUT_WINDOW (about), _("Training data"),
                                                (const char *[]) { "FER2013 (Goodfellow et al., 2013)",
                                                                   "WIDER FACE (Yang et al., 2016)", NULL });
  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry app_entries[] = {
  { "quit", quit_activated },
  { "preferences", preferences_activated },
  { "about", about_activated },
};

static void
mt_application_init (MtApplication *self)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *prefs_accels[] = { "<Control>comma", NULL };
  static const char *help_accels[] = { "<Control>question", NULL };

  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_action_map_add_action_entries (G_ACTION_MAP (self), app_entries, G_N_ELEMENTS (app_entries), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences", prefs_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.show-help-overlay", help_accels);
}

MtApplication *
mt_application_new (void)
{
  return g_object_new (MT_TYPE_APPLICATION,
                       "application-id", MT_APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", MT_APP_RESOURCE_PATH,
                       NULL);
}

GSettings *
mt_application_get_settings (MtApplication *self)
{
  g_return_val_if_fail (MT_IS_APPLICATION (self), NULL);
  return self->settings;
}

MtLibrary *
mt_application_get_library (MtApplication *self)
{
  g_return_val_if_fail (MT_IS_APPLICATION (self), NULL);
  return self->library;
}

const char *
mt_application_get_library_error (MtApplication *self)
{
  g_return_val_if_fail (MT_IS_APPLICATION (self), NULL);
  return self->library_error;
}

MtPlayer *
mt_application_get_player (MtApplication *self)
{
  g_return_val_if_fail (MT_IS_APPLICATION (self), NULL);
  return self->player;
}

MtSoundAnalysis *
mt_application_get_sound_analysis (MtApplication *self)
{
  g_return_val_if_fail (MT_IS_APPLICATION (self), NULL);
  return self->sound_analysis;
}

MtSession *
mt_application_get_session (MtApplication *self)
{
  g_return_val_if_fail (MT_IS_APPLICATION (self), NULL);
  return self->session;
}

const char *
mt_application_get_camera_source (MtApplication *self)
{
  g_return_val_if_fail (MT_IS_APPLICATION (self), NULL);
  return self->camera_source;
}

gboolean
mt_application_get_quit_at_end (MtApplication *self)
{
  g_return_val_if_fail (MT_IS_APPLICATION (self), FALSE);
  return self->quit_at_end;
}

gboolean
mt_application_has_server (MtApplication *self)
{
#ifdef HAVE_MT_SERVER
  return TRUE;
#else
  return FALSE;
#endif
}

char *
mt_application_dup_server_status (MtApplication *self)
{
  g_return_val_if_fail (MT_IS_APPLICATION (self), NULL);

#ifdef HAVE_MT_SERVER
  if (self->server != NULL && mt_server_is_running (self->server))
    {
      g_autofree char *url = mt_server_dup_url (self->server);
      return g_strdup_printf (_("Running at %s"), url);
    }
#endif
  if (self->server_error != NULL)
    return g_strdup_printf (_("Not running: %s"), self->server_error);
  return g_strdup (_("Off"));
}

static void
save_screenshot_and_quit (MtApplication *self)
{
  GtkWindow *window = get_main_window (self);

  if (self->screenshot != NULL && MT_IS_WINDOW (window))
    {
      g_autoptr(GError) error = NULL;
      JsonBuilder *report;

      if (!mt_window_save_screenshot (MT_WINDOW (window), self->screenshot, &error))
        g_warning ("Could not save the screenshot: %s", error->message);
      if ((report = mt_test_report_begin ("screenshot")) != NULL)
        {
          json_builder_set_member_name (report, "file");
          json_builder_add_string_value (report, self->screenshot);
          json_builder_set_member_name (report, "ok");
          json_builder_add_boolean_value (report, error == NULL);
          mt_test_report_end (report);
        }
    }
  g_action_group_activate_action (G_ACTION_GROUP (self), "quit", NULL);
}

static void
after_paint_cb (GdkFrameClock *clock,
                gpointer       data)
{
  MtApplication *self = data;

  g_signal_handlers_disconnect_by_func (clock, after_paint_cb, self);
  save_screenshot_and_quit (self);
}

void
mt_application_finish (MtApplication *self)
{
  GtkWindow *window;
  GdkFrameClock *clock;

  g_return_if_fail (MT_IS_APPLICATION (self));

  if (self->finishing)
    return;
  self->finishing = TRUE;
  window = get_main_window (self);
  clock = window != NULL ? gtk_widget_get_frame_clock (GTK_WIDGET (window)) : NULL;
  if (self->screenshot == NULL || clock == NULL)
    {
      save_screenshot_and_quit (self);
      return;
    }
  /* Right after a frame is painted the window's render nodes are whole. */
  g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), self);
  gtk_widget_queue_draw (GTK_WIDGET (window));
}
