#define G_LOG_DOMAIN "mt-tag-reader"

#include "config.h"

#include <json-glib/json-glib.h>

#include "mt-helper-process.h"
#include "mt-tag-reader.h"

/* The generic part (spawning, ids, deadlines, restarts) is MtHelperProcess;
 * this knows the helper's arguments and what its replies mean. */
struct _MtTagReader
{
  GObject          parent_instance;
  char            *helper_path;
  MtHelperProcess *helper;
  guint            timeout_s;
  guint            n_restarts;      /* of the helpers replaced by a new timeout */
};

G_DEFINE_FINAL_TYPE (MtTagReader, mt_tag_reader, G_TYPE_OBJECT)

G_DEFINE_QUARK (mt-tag-reader-error-quark, mt_tag_reader_error)

/* A fresh client for the helper, which takes the timeout at start; the old
 * one's restarts still count. */
static void
replace_helper (MtTagReader *self)
{
  g_autofree char *timeout = g_strdup_printf ("%u", self->timeout_s);
  const char *argv[] = { self->helper_path, timeout, NULL };

  if (self->helper != NULL)
    {
      self->n_restarts += mt_helper_process_get_n_restarts (self->helper);
      g_object_unref (self->helper);
    }
  /* Started on the first read: a reader that reads nothing costs nothing. */
  self->helper = mt_helper_process_new (argv, MT_TAG_READER_MAX_REPLY);
  mt_helper_process_set_name (self->helper, "the tag reader", "this file", "MT_TAG_READER");
}

static void
mt_tag_reader_finalize (GObject *object)
{
  MtTagReader *self = (MtTagReader *) object;

  /* Finalizing the client closes the helper's stdin, which ends it. */
  g_clear_object (&self->helper);
  g_free (self->helper_path);
  G_OBJECT_CLASS (mt_tag_reader_parent_class)->finalize (object);
}

static void
mt_tag_reader_class_init (MtTagReaderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_tag_reader_finalize;
}

static void
mt_tag_reader_init (MtTagReader *self)
{
  self->timeout_s = 5;
}

char *
mt_tag_reader_find_helper (void)
{
  return mt_helper_process_find ("MT_TAG_READER", "src/library/moodtunes-tag-reader",
                                 MT_TAG_READER_INSTALLED);
}

MtTagReader *
mt_tag_reader_new (void)
{
  MtTagReader *self = g_object_new (MT_TYPE_TAG_READER, NULL);

  self->helper_path = mt_tag_reader_find_helper ();
  replace_helper (self);
  return self;
}

void
mt_tag_reader_set_timeout (MtTagReader *self,
                           guint        seconds)
{
  g_return_if_fail (MT_IS_TAG_READER (self));
  self->timeout_s = MAX (seconds, 1u);
  replace_helper (self);
}

guint
mt_tag_reader_get_n_restarts (MtTagReader *self)
{
  g_return_val_if_fail (MT_IS_TAG_READER (self), 0);
  return self->n_restarts + mt_helper_process_get_n_restarts (self->helper);
}

/* An MT_HELPER_PROCESS_ERROR as the MT_TAG_READER_ERROR it stands for,
 * message and all. */
static void
propagate_helper_error (GError **dest,
                        GError  *src)
{
  MtTagReaderError code = MT_TAG_READER_ERROR_BAD_REPLY;

  if (src->domain == MT_HELPER_PROCESS_ERROR)
    switch ((MtHelperProcessError) src->code)
      {
      case MT_HELPER_PROCESS_ERROR_HELPER:      code = MT_TAG_READER_ERROR_HELPER; break;
      case MT_HELPER_PROCESS_ERROR_CRASHED:     code = MT_TAG_READER_ERROR_CRASHED; break;
      case MT_HELPER_PROCESS_ERROR_TIMEOUT:     code = MT_TAG_READER_ERROR_TIMEOUT; break;
      case MT_HELPER_PROCESS_ERROR_BAD_REPLY:   code = MT_TAG_READER_ERROR_BAD_REPLY; break;
      case MT_HELPER_PROCESS_ERROR_NOT_A_REPLY: code = MT_TAG_READER_ERROR_NOT_A_REPLY; break;
      case MT_HELPER_PROCESS_ERROR_FAILED:      code = MT_TAG_READER_ERROR_UNREADABLE; break;
      default: break;
      }
  g_set_error_literal (dest, MT_TAG_READER_ERROR, code, src->message);
  g_error_free (src);
}

/* A reply line to the tags of @data (an MtSong), with errors in
 * MT_HELPER_PROCESS_ERROR: an MtHelperReplyFunc. */
static gboolean
parse_tags (const char  *line,
            gsize        length,
            guint64      expected_id,
            gpointer     data,
            GError     **error)
{
  MtSong *song = data;
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *title = NULL;
  g_autofree char *artist = NULL;
  g_autofree char *album = NULL;
  g_autofree char *genre = NULL;
  gint64 track;
  gint64 duration_ms;

  if (!mt_helper_process_parse_envelope (line, length, expected_id, MT_TAG_READER_MAX_REPLY, &object, error) ||
      !mt_helper_process_reply_get_string (object, "title", &title, error) ||
      !mt_helper_process_reply_get_string (object, "artist", &artist, error) ||
      !mt_helper_process_reply_get_string (object, "album", &album, error) ||
      !mt_helper_process_reply_get_string (object, "genre", &genre, error) ||
      !mt_helper_process_reply_get_int (object, "track", &track, error) ||
      !mt_helper_process_reply_get_int (object, "duration_ms", &duration_ms, error))
    return FALSE;

  g_free (song->title);
  song->title = g_steal_pointer (&title);
  g_free (song->artist);
  song->artist = g_steal_pointer (&artist);
  g_free (song->album);
  song->album = g_steal_pointer (&album);
  g_free (song->genre);
  song->genre = g_steal_pointer (&genre);
  song->track = (int) CLAMP (track, 0, G_MAXINT);
  song->duration_ms = MAX (duration_ms, 0);
  return TRUE;
}

gboolean
mt_tag_reader_parse_reply (const char  *line,
                           gsize        length,
                           guint64      expected_id,
                           MtSong      *song,
                           GError     **error)
{
  GError *local_error = NULL;

  g_return_val_if_fail (line != NULL || length == 0, FALSE);
  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (parse_tags (line, length, expected_id, song, &local_error))
    return TRUE;
  propagate_helper_error (error, local_error);
  return FALSE;
}

gboolean
mt_tag_reader_read (MtTagReader  *self,
                    const char   *uri,
                    MtSong       *song,
                    GError      **error)
{
  g_autoptr(JsonObject) request = json_object_new ();
  GError *local_error = NULL;

  g_return_val_if_fail (MT_IS_TAG_READER (self), FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);
  g_return_val_if_fail (song != NULL, FALSE);

  json_object_set_string_member (request, "uri", uri);
  /* The discoverer gives up after timeout_s; allow a few seconds more for
   * the helper's own start-up before calling it hung. */
  if (mt_helper_process_request (self->helper, request, self->timeout_s + 4, parse_tags, song, &local_error))
    return TRUE;
  propagate_helper_error (error, local_error);
  return FALSE;
}
