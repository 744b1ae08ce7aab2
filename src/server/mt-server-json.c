#define G_LOG_DOMAIN "mt-server"

#include "config.h"

#include <math.h>
#include <string.h>

#include "mt-server-private.h"


char *
_mt_server_node_to_string (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

void
_mt_server_add_security_headers (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  /* Never a wildcard CORS header: only the page served here may call us. */
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (headers, "X-Frame-Options", "DENY");
  soup_message_headers_replace (headers, "Cross-Origin-Resource-Policy", "same-origin");
}

void
_mt_server_reply_json (SoupServerMessage *msg,
                       guint              status,
                       JsonNode          *node)
{
  char *text = _mt_server_node_to_string (node);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  _mt_server_add_security_headers (msg);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_server_message_set_status (msg, status, NULL);
  if (soup_server_message_get_method (msg) == SOUP_METHOD_HEAD)
    {
      soup_message_headers_set_content_length (headers, strlen (text));
      soup_message_headers_set_content_type (headers, "application/json", NULL);
      g_free (text);
      return;
    }
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, strlen (text));
}

char *
_mt_server_error_json (guint       status,
                       const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, status);
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, soup_status_get_phrase (status));
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  return _mt_server_node_to_string (node);
}

void
_mt_server_reply_error (SoupServerMessage *msg,
                        guint              status,
                        const char        *format,
                        ...)
{
  g_autofree char *message = NULL;
  char *text;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  text = _mt_server_error_json (status, message);
  _mt_server_add_security_headers (msg);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, strlen (text));
}

/* NAN (not analysed, or unknown) is null: JSON has no NaN. */
static void
add_number_or_null (JsonBuilder *builder,
                    const char  *name,
                    double       value)
{
  json_builder_set_member_name (builder, name);
  if (isfinite (value))
    json_builder_add_double_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_string_or_null (JsonBuilder *builder,
                    const char  *name,
                    const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
_mt_server_add_song (JsonBuilder  *builder,
                     const MtSong *song)
{
  g_autofree char *display = mt_song_dup_display_title (song);
  MtMood main_mood = mt_song_get_main_mood (song);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, song->id);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, display);
  add_string_or_null (builder, "artist", song->artist);
  add_string_or_null (builder, "album", song->album);
  add_string_or_null (builder, "genre", song->genre);
  json_builder_set_member_name (builder, "duration_ms");
  json_builder_add_int_value (builder, song->duration_ms);
  add_string_or_null (builder, "mood", mt_mood_to_string (main_mood));
  json_builder_set_member_name (builder, "moods");
  json_builder_begin_object (builder);
  for (int i = 0; i < MT_N_MOODS; i++)
    {
      json_builder_set_member_name (builder, mt_mood_to_string (i));
      json_builder_add_double_value (builder, song->moods[i]);
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "score");
  json_builder_add_double_value (builder, song->score);
  /* Its file is gone (an unmounted drive): listed, never recommended. */
  json_builder_set_member_name (builder, "missing");
  json_builder_add_boolean_value (builder, song->missing_since != 0);
  /* From the song's own sound; null until it is analysed. */
  add_number_or_null (builder, "valence", song->valence);
  add_number_or_null (builder, "arousal", song->arousal);
  add_number_or_null (builder, "tempo", song->tempo);
  add_number_or_null (builder, "loudness", song->loudness);
  json_builder_end_object (builder);
}

void
_mt_server_add_songs (JsonBuilder *builder,
                      GPtrArray   *songs)
{
  json_builder_begin_array (builder);
  for (guint i = 0; songs != NULL && i < songs->len; i++)
    _mt_server_add_song (builder, g_ptr_array_index (songs, i));
  json_builder_end_array (builder);
}

void
_mt_server_add_probabilities (JsonBuilder *builder,
                              const float *probabilities)
{
  json_builder_begin_object (builder);
  for (int i = 0; i < MT_N_MOODS; i++)
    {
      json_builder_set_member_name (builder, mt_mood_to_string (i));
      json_builder_add_double_value (builder, probabilities[i]);
    }
  json_builder_end_object (builder);
}

void
_mt_server_add_mood (JsonBuilder        *builder,
                     const MtServerMood *mood,
                     const char         *source)
{
  json_builder_begin_object (builder);
  add_string_or_null (builder, "mood",
                      mood->set && mt_mood_is_valid (mood->mood) ? mt_mood_to_string (mood->mood) : NULL);
  json_builder_set_member_name (builder, "confidence");
  json_builder_add_double_value (builder, mood->set && mood->mood >= 0 ? mood->confidence : 0.0);
  json_builder_set_member_name (builder, "probabilities");
  if (mood->set && mood->have_probabilities)
    _mt_server_add_probabilities (builder, mood->probabilities);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "timestamp");
  if (mood->set)
    {
      g_autoptr(GDateTime) seconds = g_date_time_new_from_unix_utc (mood->time / G_USEC_PER_SEC);
      g_autoptr(GDateTime) time = g_date_time_add (seconds, mood->time % G_USEC_PER_SEC);
      g_autofree char *text = g_date_time_format_iso8601 (time);
      json_builder_add_string_value (builder, text);
    }
  else
    json_builder_add_null_value (builder);
  add_string_or_null (builder, "source", source);
  json_builder_end_object (builder);
}
