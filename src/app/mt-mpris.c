/* mt-mpris.c: org.mpris.MediaPlayer2 and .Player on /org/mpris/MediaPlayer2.
 * Controls go through the window's actions; what is announced follows the
 * player's "state", "current-song" and "n-songs". */
#define G_LOG_DOMAIN "mt-mpris"

#include "config.h"

#include "mt-mpris.h"

#define MPRIS_PATH "/org/mpris/MediaPlayer2"

static const char introspection_xml[] =
  "<node>"
  "  <interface name='org.mpris.MediaPlayer2'>"
  "    <method name='Raise'/>"
  "    <method name='Quit'/>"
  "    <property name='CanQuit' type='b' access='read'/>"
  "    <property name='CanRaise' type='b' access='read'/>"
  "    <property name='HasTrackList' type='b' access='read'/>"
  "    <property name='Identity' type='s' access='read'/>"
  "    <property name='DesktopEntry' type='s' access='read'/>"
  "    <property name='SupportedUriSchemes' type='as' access='read'/>"
  "    <property name='SupportedMimeTypes' type='as' access='read'/>"
  "  </interface>"
  "  <interface name='org.mpris.MediaPlayer2.Player'>"
  "    <method name='Next'/>"
  "    <method name='Previous'/>"
  "    <method name='Pause'/>"
  "    <method name='PlayPause'/>"
  "    <method name='Stop'/>"
  "    <method name='Play'/>"
  "    <method name='Seek'><arg direction='in' name='Offset' type='x'/></method>"
  "    <method name='SetPosition'>"
  "      <arg direction='in' name='TrackId' type='o'/><arg direction='in' name='Position' type='x'/>"
  "    </method>"
  "    <method name='OpenUri'><arg direction='in' name='Uri' type='s'/></method>"
  "    <signal name='Seeked'><arg name='Position' type='x'/></signal>"
  "    <property name='PlaybackStatus' type='s' access='read'/>"
  "    <property name='Rate' type='d' access='read'/>"
  "    <property name='Metadata' type='a{sv}' access='read'/>"
  "    <property name='Volume' type='d' access='read'/>"
  "    <property name='Position' type='x' access='read'/>"
  "    <property name='MinimumRate' type='d' access='read'/>"
  "    <property name='MaximumRate' type='d' access='read'/>"
  "    <property name='CanGoNext' type='b' access='read'/>"
  "    <property name='CanGoPrevious' type='b' access='read'/>"
  "    <property name='CanPlay' type='b' access='read'/>"
  "    <property name='CanPause' type='b' access='read'/>"
  "    <property name='CanSeek' type='b' access='read'/>"
  "    <property name='CanControl' type='b' access='read'/>"
  "  </interface>"
  "</node>";

struct _MtMpris
{
  GObject          parent_instance;
  MtApplication   *app;        /* not owned: the application owns us */
  MtWindow        *window;     /* weak */
  GDBusConnection *connection;
  GDBusNodeInfo   *info;
  guint            owner_id;
  guint            root_id;
  guint            player_id;
};

G_DEFINE_FINAL_TYPE (MtMpris, mt_mpris, G_TYPE_OBJECT)

static MtPlayer *
get_player (MtMpris *self)
{
  return mt_application_get_player (self->app);
}

static const char *
playback_status (MtMpris *self)
{
  switch (mt_player_get_state (get_player (self)))
    {
    case MT_PLAYER_PLAYING: return "Playing";
    case MT_PLAYER_PAUSED: return "Paused";
    case MT_PLAYER_STOPPED:
    default: return "Stopped";
    }
}

static GVariant *
build_metadata (MtMpris *self)
{
  const MtSong *song = mt_player_get_current_song (get_player (self));
  GVariantBuilder builder;
  g_autofree char *track_id = NULL;
  g_autofree char *title = NULL;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sv}"));
  if (song == NULL)
    {
      g_variant_builder_add (&builder, "{sv}", "mpris:trackid",
                             g_variant_new_object_path ("/org/mpris/MediaPlayer2/TrackList/NoTrack"));
      return g_variant_builder_end (&builder);
    }
  track_id = g_strdup_printf (MT_APP_RESOURCE_PATH "/Track/%" G_GINT64_FORMAT, MAX (song->id, 0));
  title = mt_song_dup_display_title (song);
  g_variant_builder_add (&builder, "{sv}", "mpris:trackid", g_variant_new_object_path (track_id));
  g_variant_builder_add (&builder, "{sv}", "xesam:title", g_variant_new_string (title));
  g_variant_builder_add (&builder, "{sv}", "xesam:url", g_variant_new_string (song->uri));
  if (song->artist != NULL)
    {
      const char *artists[] = { song->artist, NULL };
      g_variant_builder_add (&builder, "{sv}", "xesam:artist", g_variant_new_strv (artists, -1));
    }
  if (song->album != NULL)
    g_variant_builder_add (&builder, "{sv}", "xesam:album", g_variant_new_string (song->album));
  if (song->duration_ms > 0)
    g_variant_builder_add (&builder, "{sv}", "mpris:length", g_variant_new_int64 (song->duration_ms * 1000));
  return g_variant_builder_end (&builder);
}

static void
activate (MtMpris    *self,
          const char *action)
{
  if (self->window != NULL)
    gtk_widget_activate_action (GTK_WIDGET (self->window), action, NULL);
}

static void
method_call (GDBusConnection       *connection,
             const char            *sender,
             const char            *object_path,
             const char            *interface_name,
             const char            *method_name,
             GVariant              *parameters,
             GDBusMethodInvocation *invocation,
             gpointer               data)
{
  MtMpris *self = data;
  MtPlayer *player = get_player (self);
  MtPlayerState state = mt_player_get_state (player);

  if (g_str_equal (method_name, "Raise"))
    {
      if (self->window != NULL)
        gtk_window_present (GTK_WINDOW (self->window));
    }
  else if (g_str_equal (method_name, "Quit"))
    g_action_group_activate_action (G_ACTION_GROUP (self->app), "quit", NULL);
  else if (g_str_equal (method_name, "Next"))
    activate (self, "win.next");
  else if (g_str_equal (method_name, "Previous"))
    activate (self, "win.previous");
  else if (g_str_equal (method_name, "PlayPause"))
    activate (self, "win.play-pause");
  else if (g_str_equal (method_name, "Play"))
    {
      if (state != MT_PLAYER_PLAYING)
        activate (self, "win.play-pause");
    }
  else if (g_str_equal (method_name, "Pause"))
    {
      if (state == MT_PLAYER_PLAYING)
        activate (self, "win.play-pause");
    }
  else if (g_str_equal (method_name, "Stop"))
    mt_player_stop (player);
  else if (g_str_equal (method_name, "Seek"))
    {
      gint64 offset, position = mt_player_get_position (player);

      g_variant_get (parameters, "(x)", &offset);
      if (position >= 0)
        mt_player_seek (player, MAX (0, position + offset / 1000));
    }
  else if (g_str_equal (method_name, "SetPosition"))
    {
      const char *track;
      gint64 position;

      g_variant_get (parameters, "(&ox)", &track, &position);
      mt_player_seek (player, position / 1000);
    }
  else
    {
      /* OpenUri: Moodtunes plays from its library only. */
      g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.NotSupported",
                                                  "Moodtunes plays songs of its library");
      return;
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static GVariant *
get_property (GDBusConnection  *connection,
              const char       *sender,
              const char       *object_path,
              const char       *interface_name,
              const char       *property_name,
              GError          **error,
              gpointer          data)
{
  MtMpris *self = data;
  MtPlayer *player = get_player (self);
  gboolean has_song = mt_player_get_current_song (player) != NULL;
  gboolean has_songs = mt_player_get_n_songs (player) > 0;

  if (g_str_equal (property_name, "CanQuit") || g_str_equal (property_name, "CanRaise") ||
      g_str_equal (property_name, "CanControl"))
    return g_variant_new_boolean (TRUE);
  if (g_str_equal (property_name, "HasTrackList"))
    return g_variant_new_boolean (FALSE);
  if (g_str_equal (property_name, "Identity"))
    return g_variant_new_string ("Moodtunes");
  if (g_str_equal (property_name, "DesktopEntry"))
    return g_variant_new_string (MT_APPLICATION_ID);
  if (g_str_equal (property_name, "SupportedUriSchemes") || g_str_equal (property_name, "SupportedMimeTypes"))
    return g_variant_new_strv (NULL, 0);
  if (g_str_equal (property_name, "PlaybackStatus"))
    return g_variant_new_string (playback_status (self));
  if (g_str_equal (property_name, "Rate") || g_str_equal (property_name, "MinimumRate") ||
      g_str_equal (property_name, "MaximumRate"))
    return g_variant_new_double (1.0);
  if (g_str_equal (property_name, "Metadata"))
    return build_metadata (self);
  if (g_str_equal (property_name, "Volume"))
    return g_variant_new_double (mt_player_get_volume (player));
  if (g_str_equal (property_name, "Position"))
    return g_variant_new_int64 (MAX (0, mt_player_get_position (player)) * 1000);
  if (g_str_equal (property_name, "CanGoNext") || g_str_equal (property_name, "CanGoPrevious") ||
      g_str_equal (property_name, "CanSeek"))
    return g_variant_new_boolean (has_song);
  if (g_str_equal (property_name, "CanPlay") || g_str_equal (property_name, "CanPause"))
    return g_variant_new_boolean (has_songs);

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "No property %s", property_name);
  return NULL;
}

static const GDBusInterfaceVTable vtable = { method_call, get_property, NULL };

/* PropertiesChanged for what the player notifies. */
static void
player_notify_cb (MtMpris    *self,
                  GParamSpec *pspec)
{
  MtPlayer *player = get_player (self);
  GVariantBuilder changed;

  if (self->connection == NULL || self->player_id == 0)
    return;
  g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
  if (g_str_equal (pspec->name, "state"))
    g_variant_builder_add (&changed, "{sv}", "PlaybackStatus", g_variant_new_string (playback_status (self)));
  else if (g_str_equal (pspec->name, "current-song"))
    {
      gboolean has_song = mt_player_get_current_song (player) != NULL;

      g_variant_builder_add (&changed, "{sv}", "Metadata", build_metadata (self));
      g_variant_builder_add (&changed, "{sv}", "CanGoNext", g_variant_new_boolean (has_song));
      g_variant_builder_add (&changed, "{sv}", "CanGoPrevious", g_variant_new_boolean (has_song));
      g_variant_builder_add (&changed, "{sv}", "CanSeek", g_variant_new_boolean (has_song));
    }
  else
    {
      gboolean has_songs = mt_player_get_n_songs (player) > 0;

      g_variant_builder_add (&changed, "{sv}", "CanPlay", g_variant_new_boolean (has_songs));
      g_variant_builder_add (&changed, "{sv}", "CanPause", g_variant_new_boolean (has_songs));
    }
  g_dbus_connection_emit_signal (self->connection, NULL, MPRIS_PATH, "org.freedesktop.DBus.Properties",
                                 "PropertiesChanged",
                                 g_variant_new ("(sa{sv}as)", "org.mpris.MediaPlayer2.Player", &changed, NULL),
                                 NULL);
}

void
mt_mpris_set_window (MtMpris  *self,
                     MtWindow *window)
{
  g_return_if_fail (MT_IS_MPRIS (self));

  if (self->window != NULL)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
    }
  self->window = window;
  if (window != NULL)
    {
      g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &self->window);
    }
}

static void
mt_mpris_dispose (GObject *object)
{
  MtMpris *self = MT_MPRIS (object);

  mt_mpris_set_window (self, NULL);
  if (self->connection != NULL)
    {
      if (self->root_id != 0)
        g_dbus_connection_unregister_object (self->connection, self->root_id);
      if (self->player_id != 0)
        g_dbus_connection_unregister_object (self->connection, self->player_id);
      self->root_id = self->player_id = 0;
    }
  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->info, g_dbus_node_info_unref);
  G_OBJECT_CLASS (mt_mpris_parent_class)->dispose (object);
}

static void
mt_mpris_class_init (MtMprisClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mt_mpris_dispose;
}

static void
mt_mpris_init (MtMpris *self)
{
}

MtMpris *
mt_mpris_new (MtApplication *application)
{
  MtMpris *self = g_object_new (MT_TYPE_MPRIS, NULL);
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection = g_application_get_dbus_connection (G_APPLICATION (application));

  self->app = application;
  /* The player is the application's: it outlives us. */
  g_signal_connect_object (get_player (self), "notify::state", G_CALLBACK (player_notify_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (get_player (self), "notify::current-song", G_CALLBACK (player_notify_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (get_player (self), "notify::n-songs", G_CALLBACK (player_notify_cb), self,
                           G_CONNECT_SWAPPED);
  if (connection == NULL)
    {
      g_debug ("No session bus: media keys will not control Moodtunes");
      return self;
    }
  self->connection = g_object_ref (connection);
  self->info = g_dbus_node_info_new_for_xml (introspection_xml, &error);
  g_assert_no_error (error);
  self->root_id = g_dbus_connection_register_object (connection, MPRIS_PATH, self->info->interfaces[0],
                                                     &vtable, self, NULL, &error);
  if (self->root_id != 0)
    self->player_id = g_dbus_connection_register_object (connection, MPRIS_PATH, self->info->interfaces[1],
                                                         &vtable, self, NULL, &error);
  if (self->root_id == 0 || self->player_id == 0)
    {
      g_warning ("Could not offer MPRIS media controls: %s", error->message);
      return self;
    }
  /* With several instances (tests) the later ones queue for the name. */
  self->owner_id = g_bus_own_name_on_connection (connection, MT_MPRIS_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                                 NULL, NULL, NULL, NULL);
  return self;
}
