/* mt-song-row.c: title, artist, how the song sounds ("calm · 72 BPM") and
 * its main mood; a speaker icon on the one playing, a warning on one whose
 * file is missing. */
#define G_LOG_DOMAIN "mt-song-row"

#include "config.h"

#include <math.h>
#include <glib/gi18n.h>

#include "mt-mood-names.h"
#include "mt-song-row.h"

struct _MtSongRow
{
  AdwActionRow  parent_instance;
  MtSong       *song;
  GtkWidget    *playing_icon;
  GtkWidget    *missing_icon;
  gboolean      missing;
};

G_DEFINE_FINAL_TYPE (MtSongRow, mt_song_row, ADW_TYPE_ACTION_ROW)

static void
mt_song_row_finalize (GObject *object)
{
  MtSongRow *self = MT_SONG_ROW (object);

  g_clear_pointer (&self->song, mt_song_free);
  G_OBJECT_CLASS (mt_song_row_parent_class)->finalize (object);
}

static void
mt_song_row_class_init (MtSongRowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_song_row_finalize;
}

static void
mt_song_row_init (MtSongRow *self)
{
  self->playing_icon = gtk_image_new_from_icon_name ("audio-volume-high-symbolic");
  gtk_widget_set_visible (self->playing_icon, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->playing_icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Playing"), -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (self), self->playing_icon);

  self->missing_icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");
  gtk_widget_set_visible (self->missing_icon, FALSE);
  gtk_widget_set_tooltip_text (self->missing_icon, _("The file of this song is missing"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->missing_icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The file of this song is missing"), -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self), self->missing_icon);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (self), TRUE);
}

/* A word for the quadrant of the valence/arousal plane the song's sound
 * lies in, and its tempo; NULL when it has not been analysed. */
char *
mt_song_row_dup_sound_text (const MtSong *song)
{
  const char *word;

  if (!isfinite (song->valence) || !isfinite (song->arousal))
    return NULL;
  if (song->arousal >= 0 && song->valence >= 0)
    /* Translators: how a song sounds: energetic and happy */
    word = C_("sound", "upbeat");
  else if (song->arousal >= 0)
    /* Translators: how a song sounds: energetic and dark (angry, afraid) */
    word = C_("sound", "tense");
  else if (song->valence >= 0)
    /* Translators: how a song sounds: quiet and content or relaxed */
    word = C_("sound", "calm");
  else
    /* Translators: how a song sounds: quiet and sad */
    word = C_("sound", "gloomy");
  if (!isfinite (song->tempo) || song->tempo <= 0)
    return g_strdup (word);
  /* Translators: how a song sounds, then its tempo, e.g. "calm · 72 BPM" */
  return g_strdup_printf (_("%s · %.0f BPM"), word, song->tempo);
}

/* "Artist · calm · 72 BPM", "Artist · File missing". */
static void
update_subtitle (MtSongRow *self)
{
  const char *artist = self->song->artist ? self->song->artist : _("Unknown Artist");
  g_autofree char *sound = mt_song_row_dup_sound_text (self->song);
  g_autofree char *subtitle = NULL;
  g_autofree char *escaped = NULL;

  if (self->missing)
    /* Translators: a song's artist, then that its file is gone (a drive unplugged) */
    subtitle = g_strdup_printf (_("%s · File missing"), artist);
  else if (sound != NULL)
    /* Translators: a song's artist, then how it sounds, e.g. "Ada · calm · 72 BPM" */
    subtitle = g_strdup_printf (C_("song row", "%s · %s"), artist, sound);
  else
    subtitle = g_strdup (artist);
  escaped = g_markup_escape_text (subtitle, -1);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), escaped);
}

GtkWidget *
mt_song_row_new (const MtSong *song)
{
  MtSongRow *self = g_object_new (MT_TYPE_SONG_ROW, NULL);
  g_autofree char *title = mt_song_dup_display_title (song);
  g_autofree char *escaped_title = g_markup_escape_text (title, -1);
  MtMood mood = mt_song_get_main_mood (song);
  GtkWidget *mood_icon;

  self->song = mt_song_copy (song);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), escaped_title);
  update_subtitle (self);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (self), 1);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (self), 1);

  mood_icon = gtk_image_new_from_icon_name (mt_mood_get_icon_name (mood));
  gtk_widget_set_tooltip_text (mood_icon, mt_mood_get_label (mood));
  gtk_accessible_update_property (GTK_ACCESSIBLE (mood_icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  mt_mood_get_label (mood), -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self), mood_icon);
  if (song->missing_since != 0)
    mt_song_row_set_missing (self, TRUE);
  return GTK_WIDGET (self);
}

const MtSong *
mt_song_row_get_song (MtSongRow *self)
{
  g_return_val_if_fail (MT_IS_SONG_ROW (self), NULL);
  return self->song;
}

void
mt_song_row_set_playing (MtSongRow *self,
                         gboolean   playing)
{
  g_return_if_fail (MT_IS_SONG_ROW (self));

  gtk_widget_set_visible (self->playing_icon, playing);
  if (playing)
    gtk_widget_add_css_class (GTK_WIDGET (self), "playing");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "playing");
}

void
mt_song_row_set_missing (MtSongRow *self,
                         gboolean   missing)
{
  g_return_if_fail (MT_IS_SONG_ROW (self));

  self->missing = missing;
  update_subtitle (self);
  gtk_widget_set_visible (self->missing_icon, missing);
  if (missing)
    gtk_widget_add_css_class (GTK_WIDGET (self), "missing");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "missing");
}
