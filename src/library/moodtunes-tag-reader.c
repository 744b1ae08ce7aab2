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
 * The reply echoes the request's id (the importer skips lines without it).
 * Missing tags are left out.  Every string out is valid UTF-8 and at most
 * MAX_STRING_BYTES long, so a reply stays well within the importer's
 * MT_TAG_READER_MAX_REPLY (64 KiB).  Replies go out on a copy of the
 * original stdout; fd 1 itself is pointed at stderr, so whatever a plugin
 * prints never reaches the importer as a reply.
 */
#define G_LOG_DOMAIN "moodtunes-tag-reader"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <json-glib/json-glib.h>

/* Longest tag or message passed on, in bytes (cut at a character): four
 * tags of this, even with every byte escaped as \uXXXX, fit in 64 KiB. */
#define MAX_STRING_BYTES 2048

/* @text cut to at most MAX_STRING_BYTES bytes of valid UTF-8. */
static char *
bounded_utf8 (const char *text)
{
  char *valid = g_utf8_make_valid (text, -1);
  gsize length = strlen (valid);

  if (length > MAX_STRING_BYTES)
    {
      const char *end = g_utf8_find_prev_char (valid, valid + MAX_STRING_BYTES + 1);
      valid[end != NULL ? end - valid : 0] = '\0';
    }
  return valid;
}

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
  /* Tags are meant to be UTF-8 but files lie; never pass invalid text on,
   * nor a megabyte-long "title". */
  valid = bounded_utf8 (value);
  stripped = g_strstrip (g_strdup (valid));
  if (stripped[0] == '\0')
    return;
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, stripped);
}

static void
add_id (JsonBuilder *builder,
        JsonNode    *id)
{
  if (id == NULL)
    return;
  json_builder_set_member_name (builder, "id");
  json_builder_add_value (builder, json_node_copy (id));
}

static char *
describe (GstDiscoverer *discoverer,
          JsonNode      *id,
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
  add_id (builder, id);
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
      g_autofree char *valid = bounded_utf8 (message);

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
error_line (JsonNode   *id,
            const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  add_id (builder, id);
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
  FILE *replies;
  int reply_fd;

  /* The importer may close our pipe at any time (cancel, timeout). */
  signal (SIGPIPE, SIG_IGN);

  /* Replies get the pipe to themselves: anything else that writes to
   * stdout (a GStreamer plugin, a library's debug print) goes to stderr. */
  reply_fd = dup (STDOUT_FILENO);
  if (reply_fd < 0 || dup2 (STDERR_FILENO, STDOUT_FILENO) < 0 ||
      (replies = fdopen (reply_fd, "w")) == NULL)
    {
      g_printerr ("moodtunes-tag-reader: cannot set up the reply pipe: %s\n", g_strerror (errno));
      return 1;
    }

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
      JsonNode *id = NULL;
      JsonNode *member;
      const char *uri = NULL;

      g_strchomp (line);
      if (line[0] == '\0')
        continue;
      if (json_parser_load_from_data (parser, line, -1, NULL) &&
          (root = json_parser_get_root (parser)) && JSON_NODE_HOLDS_OBJECT (root))
        {
          JsonObject *request = json_node_get_object (root);

          member = json_object_get_member (request, "id");
          if (member != NULL && JSON_NODE_HOLDS_VALUE (member) &&
              json_node_get_value_type (member) == G_TYPE_INT64)
            id = member;
          member = json_object_get_member (request, "uri");
          if (member != NULL && JSON_NODE_HOLDS_VALUE (member) &&
              json_node_get_value_type (member) == G_TYPE_STRING)
            uri = json_node_get_string (member);
        }

      if (uri == NULL)
        reply = error_line (id, "bad request: expected {\"id\": N, \"uri\": …}");
      else
        {
          /* Fault injection for the tests of the importer's recovery:
           * behaves like a demuxer that crashes or loops on one file. */
          if (crash_on != NULL && crash_on[0] != '\0' && strstr (uri, crash_on) != NULL)
            abort ();
          if (hang_on != NULL && hang_on[0] != '\0' && strstr (uri, hang_on) != NULL)
            for (;;)
              g_usleep (G_USEC_PER_SEC);
          reply = describe (discoverer, id, uri);
        }
      fputs (reply, replies);
      fputc ('\n', replies);
      fflush (replies);
    }
  free (line);
  fclose (replies);
  return 0;
}
