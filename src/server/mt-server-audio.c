/* mt-server-audio.c: GET/HEAD /api/v1/songs/{id}/audio, a song's file for
 * the companion page's <audio> element.
 *
 * Only files the library knows are served, looked up by the song's id: no
 * part of the request ever becomes a path.  The file's format is read from
 * its first bytes (a format the browser cannot play is a 415 naming it),
 * one byte range is honoured (206, for seeking), and the body is streamed
 * in chunks read asynchronously, at most two in memory, so a long file
 * costs neither the memory nor the main loop of the server.  The security
 * layer (Host, token, Origin) has let the request in before it gets here.
 */
#define G_LOG_DOMAIN "mt-server"

#include "config.h"

#include <string.h>

#include "mt-server-audio-type.h"
#include "mt-server-private.h"
#include "mt-server-range.h"

#define SONGS_PREFIX   MT_SERVER_API_PREFIX "/songs/"
#define AUDIO_SUFFIX   "/audio"
#define CHUNK_BYTES    (64 * 1024)
#define CHUNKS_AHEAD   2
/* ID3v2 tags in a row before the audio (some taggers write two). */
#define MAX_TAGS       4

/* One response body being streamed; referenced by its message (qdata) and
 * by the read in flight. */
typedef struct {
  SoupServerMessage *msg;          /* NULL once the message is finished */
  GInputStream      *input;
  GCancellable      *cancellable;
  guint64            remaining;    /* bytes still to read from the file */
  guint              queued;       /* chunks handed to libsoup, not yet written */
  gboolean           reading;
  gulong             wrote_chunk_id;
  gulong             finished_id;
} Body;

static void pump (Body *body);

static void
body_clear (Body *body)
{
  g_clear_object (&body->input);
  g_clear_object (&body->cancellable);
}

static void
body_unref (Body *body)
{
  g_rc_box_release_full (body, (GDestroyNotify) body_clear);
}

/* The message is finished (written, or its client gone) or freed: a read
 * in flight is cancelled and its chunk dropped. */
static void
body_detach (Body *body)
{
  if (body->msg == NULL)
    return;
  g_cancellable_cancel (body->cancellable);
  g_clear_signal_handler (&body->wrote_chunk_id, body->msg);
  g_clear_signal_handler (&body->finished_id, body->msg);
  body->msg = NULL;
}

static void
body_free_with_message (gpointer data)
{
  body_detach (data);
  body_unref (data);
}

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Body *body = user_data;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  SoupMessageBody *response;

  body->reading = FALSE;
  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (body->msg == NULL)
    {
      body_unref (body);
      return;
    }
  response = soup_server_message_get_response_body (body->msg);
  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      /* The headers are out: ending the body short (the connection closes
       * after it) is how the client learns the load failed. */
      g_warning ("An audio file could not be read to its end: %s",
                 error != NULL ? error->message : "it got shorter");
      body->remaining = 0;
      soup_message_body_complete (response);
    }
  else
    {
      body->remaining -= MIN (body->remaining, g_bytes_get_size (bytes));
      body->queued++;
      soup_message_body_append_bytes (response, bytes);
      if (body->remaining == 0)
        soup_message_body_complete (response);
    }
  /* libsoup paused the message when it found no chunk to write. */
  soup_server_message_unpause (body->msg);
  pump (body);
  body_unref (body);
}

/* Keeps up to CHUNKS_AHEAD chunks queued while the file has more. */
static void
pump (Body *body)
{
  if (body->msg == NULL || body->reading || body->remaining == 0 || body->queued >= CHUNKS_AHEAD)
    return;
  body->reading = TRUE;
  g_input_stream_read_bytes_async (body->input, MIN (body->remaining, CHUNK_BYTES), G_PRIORITY_DEFAULT,
                                   body->cancellable, on_read, g_rc_box_acquire (body));
}

static void
on_wrote_chunk (SoupServerMessage *msg,
                Body              *body)
{
  if (body->queued > 0)
    body->queued--;
  pump (body);
}

static void
on_finished (SoupServerMessage *msg,
             Body              *body)
{
  body_detach (body);
}

/* Streams bytes @first to @last of @input as @msg's body. */
static void
stream_body (SoupServerMessage *msg,
             GInputStream      *input,
             guint64            first,
             guint64            last)
{
  Body *body;

  /* Chunks are written and dropped as they go (never the whole file). */
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  body = g_rc_box_new0 (Body);
  body->msg = msg;
  body->input = g_object_ref (input);
  body->cancellable = g_cancellable_new ();
  body->remaining = last - first + 1;
  body->wrote_chunk_id = g_signal_connect (msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), body);
  body->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_finished), body);
  g_object_set_data_full (G_OBJECT (msg), "mt-server-audio-body", body, body_free_with_message);
  pump (body);
}

/* The id between SONGS_PREFIX and AUDIO_SUFFIX: digits only, 1 to
 * G_MAXINT64 (the library's ids). */
static gboolean
parse_id (const char *text,
          gsize       length,
          gint64     *id)
{
  g_autofree char *digits = g_strndup (text, length);
  guint64 value;

  if (length == 0 || length > 19 || strspn (digits, "0123456789") != length ||
      !g_ascii_string_to_unsigned (digits, 10, 1, G_MAXINT64, &value, NULL))
    return FALSE;
  *id = (gint64) value;
  return TRUE;
}

/* The first bytes that say the format, past any ID3v2 tags. */
static gboolean
sniff_file (GInputStream        *input,
            guint64              size,
            MtServerAudioSniff  *sniff,
            const char         **content_type,
            const char         **format,
            GError             **error)
{
  guint8 head[MT_SERVER_AUDIO_SNIFF_BYTES];
  guint64 at = 0;

  *sniff = MT_SERVER_AUDIO_UNKNOWN;
  for (guint tags = 0; tags <= MAX_TAGS; tags++)
    {
      gsize got;
      guint64 skip;

      if (!g_seekable_seek (G_SEEKABLE (input), (goffset) at, G_SEEK_SET, NULL, error) ||
          !g_input_stream_read_all (input, head, sizeof head, &got, NULL, error))
        return FALSE;
      *sniff = mt_server_sniff_audio (head, got, content_type, format, &skip);
      if (*sniff != MT_SERVER_AUDIO_TAG)
        return TRUE;
      if (skip >= size - at)
        break;   /* a tag and nothing after it */
      at += skip;
    }
  *sniff = MT_SERVER_AUDIO_UNKNOWN;
  return TRUE;
}

/* The song's file, open, with its type, size and time (@info), or NULL
 * when the reply is an error saying why. */
static GInputStream *
open_song_file (MtServer          *self,
                SoupServerMessage *msg,
                gint64             id,
                GFileInfo        **info,
                char             **title)
{
  g_autoptr(MtSong) song = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *scheme = NULL;
  GInputStream *input;

  song = _mt_server_find_song (self, msg, id);
  if (song == NULL)
    return NULL;
  *title = mt_song_dup_display_title (song);
  if (song->missing_since != 0)
    {
      g_autoptr(GDateTime) since = g_date_time_new_from_unix_local (song->missing_since);
      g_autofree char *date = since != NULL ? g_date_time_format (since, "%Y-%m-%d") : g_strdup ("?");

      _mt_server_reply_error (msg, SOUP_STATUS_GONE,
                              "The file of “%s” has been missing since %s: is its drive or share connected?",
                              *title, date);
      return NULL;
    }
  /* The library holds local files; any other URI is never fetched. */
  scheme = song->uri != NULL ? g_uri_parse_scheme (song->uri) : NULL;
  if (scheme == NULL || g_ascii_strcasecmp (scheme, "file") != 0)
    {
      _mt_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "“%s” is not a file on this computer", *title);
      return NULL;
    }

  file = g_file_new_for_uri (song->uri);
  *info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE ","
                             G_FILE_ATTRIBUTE_TIME_MODIFIED "," G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC,
                             G_FILE_QUERY_INFO_NONE, NULL, &error);
  if (*info != NULL && g_file_info_get_file_type (*info) != G_FILE_TYPE_REGULAR)
    {
      _mt_server_reply_error (msg, SOUP_STATUS_GONE, "The file of “%s” is no longer a regular file", *title);
      return NULL;
    }
  input = *info != NULL ? G_INPUT_STREAM (g_file_read (file, NULL, &error)) : NULL;
  if (input == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        _mt_server_reply_error (msg, SOUP_STATUS_GONE,
                                "The file of “%s” is gone (moved or deleted since the library last looked)",
                                *title);
      else
        _mt_server_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                                "Cannot read the file of “%s”: %s", *title, error->message);
    }
  return input;
}

/* The format the browser gets told, or NULL when the reply is a 415 (or,
 * for a read error, a 500). */
static const char *
check_format (SoupServerMessage *msg,
              GInputStream      *input,
              guint64            size,
              const char        *title)
{
  g_autoptr(GError) error = NULL;
  const char *content_type = NULL, *format = NULL;
  MtServerAudioSniff sniff;

  if (!sniff_file (input, size, &sniff, &content_type, &format, &error))
    _mt_server_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                            "Cannot read the file of “%s”: %s", title, error->message);
  else if (sniff == MT_SERVER_AUDIO_UNPLAYABLE)
    _mt_server_reply_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                            "“%s” is %s, which web browsers do not play (they play MP3, AAC, FLAC, "
                            "Ogg Vorbis or Opus, WebM and PCM WAV): play it in the Moodtunes app",
                            title, format);
  else if (sniff != MT_SERVER_AUDIO_PLAYABLE)
    _mt_server_reply_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                            "The file of “%s” is in no audio format this server knows", title);
  else
    return content_type;
  return NULL;
}

/* "size-mtime" in hex: changes whenever a rescan would see a new file, so
 * a range of an old copy is never mixed into a new one (If-Range). */
static char *
make_etag (GFileInfo *info,
           GDateTime *modified)
{
  gint64 usec = modified != NULL
                ? g_date_time_to_unix (modified) * G_USEC_PER_SEC + g_date_time_get_microsecond (modified)
                : 0;

  return g_strdup_printf ("\"%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x\"",
                          (gint64) g_file_info_get_size (info), usec);
}

/* If-Range with another validator than this file's: the whole file. */
static gboolean
if_range_holds (SoupMessageHeaders *request,
                const char         *etag,
                const char         *last_modified)
{
  const char *if_range = soup_message_headers_get_one (request, "If-Range");

  return if_range == NULL || g_str_equal (if_range, etag) ||
         (last_modified != NULL && g_str_equal (if_range, last_modified));
}

static void
serve_song (MtServer          *self,
            SoupServerMessage *msg,
            gint64             id)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GDateTime) modified = NULL;
  g_autofree char *title = NULL;
  g_autofree char *etag = NULL;
  g_autofree char *last_modified = NULL;
  const char *content_type;
  MtServerRange range;
  guint64 size, first, last;

  input = open_song_file (self, msg, id, &info, &title);
  if (input == NULL)
    return;
  size = (guint64) g_file_info_get_size (info);
  content_type = check_format (msg, input, size, title);
  if (content_type == NULL)
    return;

  if (g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_TIME_MODIFIED))
    {
      g_autoptr(GDateTime) utc = NULL;

      modified = g_file_info_get_modification_date_time (info);
      utc = g_date_time_to_utc (modified);
      last_modified = soup_date_time_to_string (utc, SOUP_DATE_HTTP);
    }
  etag = make_etag (info, modified);
  range = mt_server_parse_range (if_range_holds (request, etag, last_modified)
                                 ? soup_message_headers_get_one (request, "Range") : NULL,
                                 size, &first, &last);
  if (range == MT_SERVER_RANGE_UNSATISFIABLE)
    {
      g_autofree char *content_range = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, size);

      _mt_server_reply_error (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE,
                              "The range “%.60s” is not in “%s” (%" G_GUINT64_FORMAT " bytes)",
                              soup_message_headers_get_one (request, "Range"), title, size);
      soup_message_headers_replace (response, "Content-Range", content_range);
      soup_message_headers_replace (response, "Accept-Ranges", "bytes");
      return;
    }
  if (range == MT_SERVER_RANGE_WHOLE)
    {
      first = 0;
      last = size - 1;   /* size > 0: an empty file has no format */
    }
  if (!g_seekable_seek (G_SEEKABLE (input), (goffset) first, G_SEEK_SET, NULL, &error))
    {
      _mt_server_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                              "Cannot read the file of “%s”: %s", title, error->message);
      return;
    }

  _mt_server_add_security_headers (msg);
  soup_message_headers_replace (response, "Cache-Control", "no-store");
  soup_message_headers_replace (response, "Accept-Ranges", "bytes");
  soup_message_headers_replace (response, "ETag", etag);
  if (last_modified != NULL)
    soup_message_headers_replace (response, "Last-Modified", last_modified);
  soup_message_headers_set_content_type (response, content_type, NULL);
  soup_message_headers_set_content_length (response, last - first + 1);
  if (range == MT_SERVER_RANGE_PARTIAL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
      soup_message_headers_set_content_range (response, first, last, size);
    }
  else
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  if (soup_server_message_get_method (msg) != SOUP_METHOD_HEAD)
    stream_body (msg, input, first, last);
}

gboolean
_mt_server_audio_route (MtServer          *self,
                        SoupServerMessage *msg,
                        const char        *path)
{
  const char *method = soup_server_message_get_method (msg);
  gsize length = strlen (path);
  gsize prefix = strlen (SONGS_PREFIX), suffix = strlen (AUDIO_SUFFIX);
  gint64 id;

  if (length < prefix + suffix || !g_str_has_prefix (path, SONGS_PREFIX) || !g_str_has_suffix (path, AUDIO_SUFFIX))
    return FALSE;

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      _mt_server_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "%s is not allowed here (use GET)", method);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
      return TRUE;
    }
  if (!parse_id (path + prefix, length - prefix - suffix, &id))
    {
      _mt_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                              "A song is named by its id, a whole number from 1 (as in %s12%s)",
                              SONGS_PREFIX, AUDIO_SUFFIX);
      return TRUE;
    }
  serve_song (self, msg, id);
  return TRUE;
}
