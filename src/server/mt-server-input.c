/* mt-server-input.c: the JSON clients send, parsed and checked.
 *
 * json-glib's *_member_with_default() getters return NULL for a string
 * member that holds a number and raise a critical for one that holds an
 * array or object: every member is type-checked here before it is read. */
#define G_LOG_DOMAIN "mt-server"

#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "mt-json-limits.h"
#include "mt-server-input.h"
#include "mt-server-private.h"

static gboolean G_GNUC_PRINTF (2, 3)
input_error (GError     **error,
             const char  *format,
             ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (G_IO_ERROR, G_IO_ERROR_INVALID_DATA, format, args));
  va_end (args);
  return FALSE;
}

/* The string in @object's @member, NULL when absent or not a string. */
static const char *
get_string (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* Parses @data as a JSON object; @parser keeps it alive. */
static JsonObject *
parse_object (JsonParser  *parser,
              const char  *data,
              gsize        length,
              GError     **error)
{
  JsonNode *root;

  if (length > G_MAXSSIZE ||
      !mt_json_check_limits (data, length, MT_JSON_MAX_DEPTH, error) ||
      !json_parser_load_from_data (parser, data, (gssize) length, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_node_get_object (root);
}

gboolean
_mt_server_parse_feedback (const char             *data,
                           gsize                   length,
                           MtServerFeedbackInput  *out,
                           GError                **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  MtServerFeedbackInput input = { .mood = MT_MOOD_NONE };
  JsonObject *object;
  JsonNode *member;
  const char *text;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  object = parse_object (parser, data != NULL ? data : "", length, &local_error);
  if (local_error != NULL)
    {
      /* json-glib quotes the bad string, invalid UTF-8 and all, and the
       * reply must be valid UTF-8 (fuzz-tag-reply found this in the tag
       * reader's parser; the same holds here). */
      g_autofree char *why = g_utf8_make_valid (local_error->message, -1);
      return input_error (error, "The body is not valid JSON: %s", why);
    }
  if (object == NULL)
    return input_error (error, "The body must be a JSON object "
                        "{\"song\": id, \"feedback\": \"liked\", \"mood\": \"happy\"}");

  member = json_object_get_member (object, "song");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_INT64 || json_node_get_int (member) <= 0)
    return input_error (error, "\"song\" must be a song id (a positive integer)");
  input.song_id = json_node_get_int (member);

  text = get_string (object, "feedback");
  if (text == NULL || !mt_feedback_from_string (text, &input.feedback))
    return input_error (error, "\"feedback\" must be one of played, skipped, liked, disliked");

  member = json_object_get_member (object, "mood");
  if (member != NULL && !JSON_NODE_HOLDS_NULL (member))
    {
      text = get_string (object, "mood");
      if (text == NULL || !mt_mood_from_string (text, &input.mood))
        return input_error (error, "\"mood\" must be null or one of: %s", mt_mood_list_names ());
    }

  *out = input;
  return TRUE;
}

gboolean
_mt_server_parse_control (const char            *data,
                          gsize                  length,
                          MtServerControlInput  *out,
                          GError               **error)
{
  g_autoptr(JsonParser) parser = NULL;
  MtServerControlInput input = { 0 };
  JsonObject *object;
  JsonNode *member;
  const char *type;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  /* A config message is a few dozen bytes: a long or deeply nested one is
   * refused before json-glib (which recurses without limit) sees it. */
  if (length > MT_SERVER_MAX_CONTROL_BYTES)
    return input_error (error, "Text messages are at most %d bytes", MT_SERVER_MAX_CONTROL_BYTES);
  parser = json_parser_new ();
  object = parse_object (parser, data != NULL ? data : "", length, NULL);
  if (object == NULL)
    return input_error (error, "Send frames as binary JPEG messages; text messages must be JSON objects");

  /* {"type": 1} once made this a NULL string and the server segfaulted. */
  type = get_string (object, "type");
  if (type == NULL || !g_str_equal (type, "config"))
    return input_error (error, "Unknown message type (only \"config\" is understood)");

  if (json_object_has_member (object, "strategy"))
    {
      const char *strategy = get_string (object, "strategy");

      if (strategy == NULL || !mt_strategy_from_string (strategy, &input.strategy))
        return input_error (error, "\"strategy\" must be match or lift");
      input.has_strategy = TRUE;
    }
  member = json_object_get_member (object, "limit");
  if (member != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (member) || json_node_get_value_type (member) != G_TYPE_INT64 ||
          json_node_get_int (member) < 1 || json_node_get_int (member) > 100)
        return input_error (error, "\"limit\" must be from 1 to 100");
      input.has_limit = TRUE;
      input.limit = (guint) json_node_get_int (member);
    }

  *out = input;
  return TRUE;
}
