/* moodtunes-tag-reader: reads tags and duration of audio files for the
 * importer, in its own process.
 *
 * Demuxers and decoders parse untrusted files; a crash or hang on a hostile
 * file must only cost this helper, which the importer restarts (Rhythmbox
 * does the same).  Protocol, one JSON object per line both ways:
 *   in:  {"id": N, "uri": "file:///…"}
 *   out: {"id": N, "ok": true, "title": …, "artist": …, "album": …,
 *         "genre": …, "track": N, "duration_ms": N}
 *   or   {"id": N, "ok": false, "error": "why"}
 * (the loop and the reply pipe are mt-helper-server.h's).  Missing tags are
 * left out.  Every string out is valid UTF-8 and at most MAX_STRING_BYTES
 * long, so a reply stays well within the importer's MT_TAG_READER_MAX_REPLY
 * (64 KiB).
 */
#define G_LOG_DOMAIN "moodtunes-tag-reader"

#include "config.h"

#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include "mt-helper-server.h"

/* Longest tag passed on, in bytes (cut at a character): four tags of this,
 * even with every byte escaped as \uXXXX, fit in 64 KiB. */
#define MAX_STRING_BYTES 2048

static void
add_tag_string (JsonBuilder      *builder,
                const GstTagList *tags,
                const char       *tag,
                const char       *member)
{
  g_autofree char *value = NULL;
  g_autofree char *valid = NULL;
  g_autofree char *stripped = NULL;

  if (tags == NULL || !gst_tag_list_get_string (tags, tag, &value) || value == NULL)
    return;
  /* Tags are meant to be UTF-8 but files lie; never pass invalid text on,
   * nor a megabyte-long "title". */
  valid = mt_helper_bounded_utf8 (value, MAX_STRING_BYTES);
  stripped = g_strstrip (g_strdup (valid));
  if (stripped[0] == '\0')
    return;
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, stripped);
}

static void
describe (const char  *uri,
          JsonBuilder *builder,
          gpointer     user_data)
{
  GstDiscoverer *discoverer = user_data;
  g_autoptr(GstDiscovererInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  GList *audio = NULL;
  const GstTagList *tags;
  guint track = 0;

  info = gst_discoverer_discover_uri (discoverer, uri, &error);
  switch (info ? gst_discoverer_info_get_result (info) : GST_DISCOVERER_ERROR)
    {
    case GST_DISCOVERER_OK:
      break;
    case GST_DISCOVERER_TIMEOUT:
      message = g_strdup ("reading the file took too long");
      break;
    case GST_DISCOVERER_MISSING_PLUGINS:
      message = g_strdup ("no GStreamer plugin can decode this format");
      break;
    case GST_DISCOVERER_URI_INVALID:
      message = g_strdup ("not a valid file URI");
      break;
    default:
      message = g_strdup_printf ("not a readable audio file (%s)",
                                 error ? error->message : "unknown error");
      break;
    }
  if (message == NULL)
    {
      audio = gst_discoverer_info_get_audio_streams (info);
      if (audio == NULL)
        message = g_strdup ("the file has no audio stream");
      gst_discoverer_stream_info_list_free (audio);
    }
  if (message != NULL)
    {
      mt_helper_reply_error (builder, message);
      return;
    }

  tags = gst_discoverer_info_get_tags (info);
  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, TRUE);
  add_tag_string (builder, tags, GST_TAG_TITLE, "title");
  add_tag_string (builder, tags, GST_TAG_ARTIST, "artist");
  add_tag_string (builder, tags, GST_TAG_ALBUM, "album");
  add_tag_string (builder, tags, GST_TAG_GENRE, "genre");
  if (tags != NULL && gst_tag_list_get_uint (tags, GST_TAG_TRACK_NUMBER, &track))
    {
      json_builder_set_member_name (builder, "track");
      json_builder_add_int_value (builder, MIN (track, 100000u));
    }
  json_builder_set_member_name (builder, "duration_ms");
  json_builder_add_int_value (builder,
                              GST_CLOCK_TIME_IS_VALID (gst_discoverer_info_get_duration (info))
                              ? (gint64) (gst_discoverer_info_get_duration (info) / GST_MSECOND) : 0);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GstDiscoverer) discoverer = NULL;
  g_autoptr(GError) error = NULL;
  guint64 timeout_s = 5;

  if (argc > 1 && !g_ascii_string_to_unsigned (argv[1], 10, 1, 600, &timeout_s, &error))
    {
      g_printerr ("Usage: %s [TIMEOUT-SECONDS]\n%s\n", argv[0], error->message);
      return 2;
    }
  gst_init (&argc, &argv);
  discoverer = gst_discoverer_new (timeout_s * GST_SECOND, &error);
  if (discoverer == NULL)
    {
      g_printerr ("moodtunes-tag-reader: cannot create a GStreamer discoverer: %s\n", error->message);
      return 1;
    }
  return mt_helper_serve ("moodtunes-tag-reader", "MT_TAG_READER", describe, discoverer);
}
