/* mt-song-item.c: a GObject around an MtSong copy, because GListStore holds
 * objects and MtSong is a plain boxed struct shared with threads. */
#include "config.h"

#include "mt-song-item.h"

struct _MtSongItem
{
  GObject  parent_instance;
  MtSong  *song;
};

enum { PROP_0, PROP_SONG, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (MtSongItem, mt_song_item, G_TYPE_OBJECT)

static void
mt_song_item_finalize (GObject *object)
{
  g_clear_pointer (&MT_SONG_ITEM (object)->song, mt_song_free);
  G_OBJECT_CLASS (mt_song_item_parent_class)->finalize (object);
}

static void
mt_song_item_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_SONG:
      g_value_set_boxed (value, MT_SONG_ITEM (object)->song);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_song_item_class_init (MtSongItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mt_song_item_finalize;
  object_class->get_property = mt_song_item_get_property;

  /** MtSongItem:song: the song (an MtSong), never NULL */
  properties[PROP_SONG] = g_param_spec_boxed ("song", NULL, NULL, MT_TYPE_SONG,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_song_item_init (MtSongItem *self)
{
}

MtSongItem *
mt_song_item_new (const MtSong *song)
{
  MtSongItem *self;

  g_return_val_if_fail (song != NULL, NULL);
  self = g_object_new (MT_TYPE_SONG_ITEM, NULL);
  self->song = mt_song_copy (song);
  return self;
}

const MtSong *
mt_song_item_get_song (MtSongItem *self)
{
  g_return_val_if_fail (MT_IS_SONG_ITEM (self), NULL);
  return self->song;
}
