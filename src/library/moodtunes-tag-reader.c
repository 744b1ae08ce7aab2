/* moodtunes-tag-reader: reads tags and duration of audio files for the
 * importer, in its own process.
 *
 * Demuxers and decoders parse untrusted files; a crash or hang on a hostile
 * file must only cost this helper, which the importer restarts (Rhythmbox
 * does the same).  Protocol, one JSON object per line both ways:
 *   in:  {"uri": "file:///…"}
 *   out: {"ok": true, "title": …, "artist": …, "album": …, "genre": …,
 *         "track": N, "duration_ms": N}
 *   or   {"ok": false, "error": "why"}
 * Missing tags are left out.  Every string out is valid UTF-8.
 */
#define G_LOG_DOMAIN "moodtunes-tag-reader"

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <json-glib/json-glib.h>

static void
add_tag_string (JsonBuilder    *builder,
                const GstTagList *tags,
                const char     *tag,
                const char     *member)
{
  g_autofree char *value = NULL;
  g_autofree char *valid = NULL;
  g_autofree char *stripped = NULL;

  if (tags == NULL || !gst_tag_list_get_string (tags, tag, &value) || value == NULL)
    return;
  /* Tags are meant to be UTF-8 but files lie; never pass invalid text on. */
  valid = g_utf8_make_valid (value, -1);
  stripped = g_strstrip (g_strdup (valid));
  if (stripped[0] == '\0')
    return;
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, stripped);
}

static char *
describe (GstDiscoverer *discoverer,
          const char    *uri)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GstDiscovererInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  GList *audio = NULL;
  const GstTagList *tags;
  guint track = 0;

  info = gst_discoverer_discover_uri (discoverer, uri, &error);

  json_builder_begin_object (builder);
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
      g_autofree char *valid = g_utf8_make_valid (message, -1);

      json_builder_set_member_name (builder, "ok");
      json_builder_add_boolean_value (builder, FALSE);
      json_builder_set_member_name (builder, "error");
      json_builder_add_string_value (builder, valid);
    }
  else
    {
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
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static char *
error_line (const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GstDiscoverer) discoverer = NULL;
  g_autoptr(GError) error = NULL;
  const char *crash_on = g_getenv ("MT_TAG_READER_CRASH_ON");
  const char *hang_on = g_getenv ("MT_TAG_READER_HANG_ON");
  guint timeout_s = 5;
  char *line = NULL;
  size_t line_size = 0;

  /* The importer may close our pipe at any time (cancel, timeout). */
  signal (SIGPIPE, SIG_IGN);

  if (argc > 1)
    {
      guint64 value;
      if (!g_ascii_string_to_unsigned (argv[1], 10, 1, 600, &value, &error))
        {
          g_printerr ("Usage: %s [TIMEOUT-SECONDS]\n%s\n", argv[0], error->message);
          return 2;
        }
      timeout_s = (guint) value;
    }

  gst_init (&argc, &argv);
  discoverer = gst_discoverer_new (timeout_s * GST_SECOND, &error);
  if (discoverer == NULL)
    {
      g_printerr ("moodtunes-tag-reader: cannot create a GStreamer discoverer: %s\n", error->message);
      return 1;
    }

  while (getline (&line, &line_size, stdin) > 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autofree char *reply = NULL;
      JsonNode *root;
      const char *uri = NULL;

      g_strchomp (line);
      if (line[0] == '\0')
        continue;
      if (json_parser_load_from_data (parser, line, -1, NULL) &&
          (root = json_parser_get_root (parser)) && JSON_NODE_HOLDS_OBJECT (root))
        uri = json_object_get_string_member_with_default (json_node_get_object (root), "uri", NULL);

      if (uri == NULL)
        reply = error_line ("bad request: expected {\"uri\": …}");
      else
        {
          /* Fault injection for the tests of the importer's recovery:
           * behaves like a demuxer that crashes or loops on one file. */
          if (crash_on != NULL && crash_on[0] != '\0' && strstr (uri, crash_on) != NULL)
            abort ();
          if (hang_on != NULL && hang_on[0] != '\0' && strstr (uri, hang_on) != NULL)
            for (;;)
              g_usleep (G_USEC_PER_SEC);
          reply = describe (discoverer, uri);
        }
      fputs (reply, stdout);
      fputc ('\n', stdout);
      fflush (stdout);
    }
  free (line);
  return 0;
}
