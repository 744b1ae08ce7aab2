/* fuzz-json-input: the JSON the server takes from clients.
 *
 * Every input goes through the same path as a WebSocket text message
 * (_mt_server_parse_control) and a POST /api/v1/feedback body
 * (_mt_server_parse_feedback): the depth check, json-glib, then each
 * member's checks.  It also checks mt_json_check_limits() itself: whatever
 * it lets through must parse to a tree no deeper than the limit. */
#include "config.h"

#include <stdlib.h>
#include <json-glib/json-glib.h>

#include "mt-fuzz.h"
#include "mt-json-limits.h"
#include "mt-server-input.h"

static guint
node_depth (JsonNode *node)
{
  guint deepest = 0;

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        deepest = MAX (deepest, node_depth (json_array_get_element (array, i)));
      return deepest + 1;
    }
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autoptr(GList) members = json_object_get_values (json_node_get_object (node));
      for (GList *l = members; l != NULL; l = l->next)
        deepest = MAX (deepest, node_depth (l->data));
      return deepest + 1;
    }
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  const char *text = (const char *) data;
  g_autoptr(GError) error = NULL;
  MtServerControlInput control;
  MtServerFeedbackInput feedback;
  const guint depth = 4;

  mt_fuzz_init ();

  if (_mt_server_parse_control (text, size, &control, &error))
    {
      MT_FUZZ_CHECK (error == NULL);
      MT_FUZZ_CHECK (!control.has_limit || (control.limit >= 1 && control.limit <= 100));
    }
  else
    MT_FUZZ_CHECK (error != NULL && g_utf8_validate (error->message, -1, NULL));
  g_clear_error (&error);

  if (_mt_server_parse_feedback (text, size, &feedback, &error))
    {
      MT_FUZZ_CHECK (error == NULL);
      MT_FUZZ_CHECK (feedback.song_id > 0);
      MT_FUZZ_CHECK (feedback.mood == MT_MOOD_NONE || (feedback.mood >= 0 && feedback.mood < MT_N_MOODS));
    }
  else
    MT_FUZZ_CHECK (error != NULL && g_utf8_validate (error->message, -1, NULL));
  g_clear_error (&error);

  /* A small limit, so the fuzzer reaches it: what passes parses shallow. */
  if (mt_json_check_limits (text, size, depth, NULL))
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      if (json_parser_load_from_data (parser, text, (gssize) size, NULL) && json_parser_get_root (parser))
        MT_FUZZ_CHECK (node_depth (json_parser_get_root (parser)) <= depth);
    }
  return 0;
}
