/* The server's checks of what clients send in JSON, on their own: the
 * stream's text messages and the feedback body.  {"type": 1} over the
 * WebSocket once segfaulted the server (json-glib's string getter returns
 * NULL for a number, and strcmp got it); an array there raised criticals. */
#include "config.h"

#include <string.h>
#include <gio/gio.h>

#include "mt-server-input.h"

static gboolean
control (const char           *text,
         MtServerControlInput *input,
         char                **message)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  memset (input, 0xAA, sizeof *input);
  ok = _mt_server_parse_control (text, strlen (text), input, &error);
  g_assert_true (ok == (error == NULL));
  if (!ok)
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  if (message != NULL)
    *message = ok ? NULL : g_strdup (error->message);
  return ok;
}

static void
test_control (void)
{
  const char *refused[] = {
    "{\"type\": 1}",
    "{\"type\": []}",
    "{\"type\": {\"a\": 1}}",
    "{\"type\": null}",
    "{\"type\": true}",
    "{}",
    "[\"config\"]",
    "\"config\"",
    "not json",
    "",
    "{\"type\": \"config\", \"strategy\": 5}",
    "{\"type\": \"config\", \"strategy\": []}",
    "{\"type\": \"config\", \"strategy\": null}",
    "{\"type\": \"config\", \"strategy\": \"shuffle\"}",
    "{\"type\": \"config\", \"limit\": \"10\"}",
    "{\"type\": \"config\", \"limit\": {}}",
    "{\"type\": \"config\", \"limit\": 10.5}",
    "{\"type\": \"config\", \"limit\": true}",
    "{\"type\": \"config\", \"limit\": 0}",
    "{\"type\": \"config\", \"limit\": 101}",
    "{\"type\": \"config\", \"limit\": -9223372036854775808}",
  };
  MtServerControlInput input;
  g_autofree char *message = NULL;
  g_autofree char *deep = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_test_message ("%s", refused[i]);
      g_assert_false (control (refused[i], &input, NULL));
    }

  g_assert_true (control ("{\"type\": \"config\"}", &input, NULL));
  g_assert_false (input.has_strategy);
  g_assert_false (input.has_limit);
  g_assert_true (control ("{\"type\": \"config\", \"strategy\": \"lift\", \"limit\": 100}", &input, NULL));
  g_assert_true (input.has_strategy);
  g_assert_cmpint (input.strategy, ==, MT_STRATEGY_LIFT);
  g_assert_true (input.has_limit);
  g_assert_cmpuint (input.limit, ==, 100);

  /* The client is told what is wrong. */
  g_assert_false (control ("{\"type\": 1}", &input, &message));
  g_assert_nonnull (strstr (message, "Unknown message type"));
  g_clear_pointer (&message, g_free);
  g_assert_false (control ("{\"type\": \"config\", \"limit\": 0}", &input, &message));
  g_assert_nonnull (strstr (message, "\"limit\" must be from 1 to 100"));
  g_clear_pointer (&message, g_free);

  /* Too long, or nested too deep for json-glib's recursion. */
  deep = g_strnfill (5000, '[');
  g_assert_false (control (deep, &input, &message));
  g_assert_nonnull (strstr (message, "at most 4096 bytes"));
  deep[2000] = '\0';
  g_assert_false (control (deep, &input, NULL));
}

static void
test_feedback (void)
{
  const char *refused[] = {
    "",
    "null",
    "[]",
    "{\"song\": \"12\", \"feedback\": \"liked\"}",
    "{\"song\": 0, \"feedback\": \"liked\"}",
    "{\"song\": -4, \"feedback\": \"liked\"}",
    "{\"song\": 1.5, \"feedback\": \"liked\"}",
    "{\"song\": 12}",
    "{\"song\": 12, \"feedback\": 3}",
    "{\"song\": 12, \"feedback\": [\"liked\"]}",
    "{\"song\": 12, \"feedback\": \"loved\"}",
    "{\"song\": 12, \"feedback\": \"liked\", \"mood\": 2}",
    "{\"song\": 12, \"feedback\": \"liked\", \"mood\": {}}",
    "{\"song\": 12, \"feedback\": \"liked\", \"mood\": \"grumpy\"}",
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *deep = g_strnfill (100000, '{');
  MtServerFeedbackInput input;
  const char *body;

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_test_message ("%s", refused[i]);
      g_assert_false (_mt_server_parse_feedback (refused[i], strlen (refused[i]), &input, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_clear_error (&error);
    }
  g_assert_false (_mt_server_parse_feedback (NULL, 0, &input, &error));
  g_clear_error (&error);
  g_assert_false (_mt_server_parse_feedback (deep, strlen (deep), &input, &error));
  g_assert_nonnull (strstr (error->message, "not valid JSON"));
  g_clear_error (&error);

  /* json-glib's own message quotes the bad string, here a lone surrogate
   * that it decoded to bytes that are not UTF-8: the reply must still be. */
  body = "{\"song\": 1, \"feedback\": \"\\ud83c x\"y}";
  g_assert_false (_mt_server_parse_feedback (body, strlen (body), &input, &error));
  g_assert_nonnull (strstr (error->message, "not valid JSON"));
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_clear_error (&error);

  body = "{\"song\": 12, \"feedback\": \"disliked\", \"mood\": \"sad\"}";
  g_assert_true (_mt_server_parse_feedback (body, strlen (body), &input, &error));
  g_assert_no_error (error);
  g_assert_cmpint (input.song_id, ==, 12);
  g_assert_cmpint (input.feedback, ==, MT_FEEDBACK_DISLIKED);
  g_assert_cmpint (input.mood, ==, MT_MOOD_SAD);
  body = "{\"song\": 3, \"feedback\": \"played\", \"mood\": null}";
  g_assert_true (_mt_server_parse_feedback (body, strlen (body), &input, &error));
  g_assert_cmpint (input.mood, ==, MT_MOOD_NONE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server-input/control", test_control);
  g_test_add_func ("/server-input/feedback", test_feedback);
  return g_test_run ();
}
