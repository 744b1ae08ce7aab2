#define G_LOG_DOMAIN "mt-helper-server"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mt-helper-server.h"

/* Longest error message passed on: a reason, not a dump. */
#define MAX_MESSAGE_BYTES 2048

char *
mt_helper_bounded_utf8 (const char *text,
                        gsize       max_bytes)
{
  char *valid = g_utf8_make_valid (text, -1);
  gsize length = strlen (valid);

  if (length > max_bytes)
    {
      const char *end = g_utf8_find_prev_char (valid, valid + max_bytes + 1);
      valid[end != NULL ? end - valid : 0] = '\0';
    }
  return valid;
}

void
mt_helper_reply_error (JsonBuilder *builder,
                       const char  *message)
{
  g_autofree char *valid = mt_helper_bounded_utf8 (message, MAX_MESSAGE_BYTES);

  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, valid);
}

/* The request's id (a JSON integer) and uri, each NULL when absent. */
static void
parse_request (JsonParser  *parser,
               const char  *line,
               JsonNode   **out_id,
               const char **out_uri)
{
  JsonNode *root;
  JsonObject *request;
  JsonNode *member;

  *out_id = NULL;
  *out_uri = NULL;
  if (!json_parser_load_from_data (parser, line, -1, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  request = json_node_get_object (root);
  member = json_object_get_member (request, "id");
  if (member != NULL && JSON_NODE_HOLDS_VALUE (member) && json_node_get_value_type (member) == G_TYPE_INT64)
    *out_id = member;
  member = json_object_get_member (request, "uri");
  if (member != NULL && JSON_NODE_HOLDS_VALUE (member) && json_node_get_value_type (member) == G_TYPE_STRING)
    *out_uri = json_node_get_string (member);
}

static void
inject_fault (const char *fault_env_prefix,
              const char *uri)
{
  g_autofree char *crash_var = g_strconcat (fault_env_prefix, "_CRASH_ON", NULL);
  g_autofree char *hang_var = g_strconcat (fault_env_prefix, "_HANG_ON", NULL);
  const char *crash_on = g_getenv (crash_var);
  const char *hang_on = g_getenv (hang_var);

  /* Behaves like a demuxer that crashes or loops on one file. */
  if (crash_on != NULL && crash_on[0] != '\0' && strstr (uri, crash_on) != NULL)
    abort ();
  if (hang_on != NULL && hang_on[0] != '\0' && strstr (uri, hang_on) != NULL)
    for (;;)
      g_usleep (G_USEC_PER_SEC);
}

int
mt_helper_serve (const char      *program_name,
                 const char      *fault_env_prefix,
                 MtHelperHandler  handler,
                 gpointer         user_data)
{
  char *line = NULL;
  size_t line_size = 0;
  FILE *replies;
  int reply_fd;

  /* The client may close our pipe at any time (cancel, timeout). */
  signal (SIGPIPE, SIG_IGN);

  /* Replies get the pipe to themselves: anything else that writes to
   * stdout (a GStreamer plugin, a library's debug print) goes to stderr. */
  reply_fd = dup (STDOUT_FILENO);
  if (reply_fd < 0 || dup2 (STDERR_FILENO, STDOUT_FILENO) < 0 ||
      (replies = fdopen (reply_fd, "w")) == NULL)
    {
      g_printerr ("%s: cannot set up the reply pipe: %s\n", program_name, g_strerror (errno));
      return 1;
    }

  while (getline (&line, &line_size, stdin) > 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) reply = NULL;
      g_autofree char *text = NULL;
      JsonNode *id;
      const char *uri;

      g_strchomp (line);
      if (line[0] == '\0')
        continue;
      parse_request (parser, line, &id, &uri);

      json_builder_begin_object (builder);
      if (id != NULL)
        {
          json_builder_set_member_name (builder, "id");
          json_builder_add_value (builder, json_node_copy (id));
        }
      if (uri == NULL)
        mt_helper_reply_error (builder, "bad request: expected {\"id\": N, \"uri\": …}");
      else
        {
          inject_fault (fault_env_prefix, uri);
          handler (uri, builder, user_data);
        }
      json_builder_end_object (builder);
      reply = json_builder_get_root (builder);
      text = json_to_string (reply, FALSE);
      fputs (text, replies);
      fputc ('\n', replies);
      fflush (replies);
    }
  free (line);
  fclose (replies);
  return 0;
}
