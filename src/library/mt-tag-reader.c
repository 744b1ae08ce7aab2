#define G_LOG_DOMAIN "mt-tag-reader"

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <json-glib/json-glib.h>

#include "mt-library-config.h"
#include "mt-json-limits.h"
#include "mt-tag-reader.h"

struct _MtTagReader
{
  GObject      parent_instance;
  char        *helper_path;
  GSubprocess *helper;
  GString     *pending;      /* bytes read after the last newline */
  guint64      last_id;      /* of the last request sent */
  guint        timeout_s;
  guint        n_restarts;
};

/* Stray lines skipped while waiting for one reply before the helper is
 * deemed broken: a chatty plugin prints a line or two, not a flood. */
#define MAX_STRAY_LINES 64

G_DEFINE_FINAL_TYPE (MtTagReader, mt_tag_reader, G_TYPE_OBJECT)

G_DEFINE_QUARK (mt-tag-reader-error-quark, mt_tag_reader_error)

static void
stop_helper (MtTagReader *self)
{
  if (self->helper == NULL)
    return;
  g_subprocess_force_exit (self->helper);
  g_subprocess_wait (self->helper, NULL, NULL);
  g_clear_object (&self->helper);
  g_string_truncate (self->pending, 0);
}

static void
mt_tag_reader_finalize (GObject *object)
{
  MtTagReader *self = (MtTagReader *) object;

  if (self->helper != NULL)
    {
      /* Closing its stdin ends the helper cleanly. */
      g_output_stream_close (g_subprocess_get_stdin_pipe (self->helper), NULL, NULL);
      g_subprocess_wait (self->helper, NULL, NULL);
      g_clear_object (&self->helper);
    }
  g_string_free (self->pending, TRUE);
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
  self->pending = g_string_new (NULL);
  self->timeout_s = 5;
}

char *
mt_tag_reader_find_helper (void)
{
  const char *env = g_getenv ("MT_TAG_READER");
  const char *build_dir = g_getenv ("MT_BUILD_DIR");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  if (build_dir != NULL && build_dir[0] != '\0')
    {
      g_autofree char *path = g_build_filename (build_dir, "src", "library", "moodtunes-tag-reader", NULL);
      if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&path);
    }
  /* Also when it is missing: starting it then says which file it wanted. */
  return g_strdup (MT_TAG_READER_INSTALLED);
}

MtTagReader *
mt_tag_reader_new (void)
{
  MtTagReader *self = g_object_new (MT_TYPE_TAG_READER, NULL);

  /* Writing a request to a helper that just died would raise SIGPIPE and
   * kill the whole app: we want the write error instead. */
  signal (SIGPIPE, SIG_IGN);
  self->helper_path = mt_tag_reader_find_helper ();
  return self;
}

void
mt_tag_reader_set_timeout (MtTagReader *self,
                           guint        seconds)
{
  g_return_if_fail (MT_IS_TAG_READER (self));
  self->timeout_s = MAX (seconds, 1u);
  stop_helper (self);   /* the helper takes the timeout at start */
}

guint
mt_tag_reader_get_n_restarts (MtTagReader *self)
{
  g_return_val_if_fail (MT_IS_TAG_READER (self), 0);
  return self->n_restarts;
}

static gboolean
ensure_helper (MtTagReader  *self,
               GError      **error)
{
  g_autofree char *timeout = NULL;
  g_autoptr(GError) local_error = NULL;

  if (self->helper != NULL)
    return TRUE;

  timeout = g_strdup_printf ("%u", self->timeout_s);
  self->helper = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                   &local_error, self->helper_path, timeout, NULL);
  if (self->helper == NULL)
    {
      g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_HELPER,
                   "Cannot start the tag reader “%s”: %s (set MT_TAG_READER to its path)",
                   self->helper_path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* Reads one line (without its newline, into *length bytes), waiting until
 * @deadline (monotonic µs).  A line longer than MT_TAG_READER_MAX_REPLY is
 * returned cut to one byte over the limit as soon as that many bytes have
 * come, so a helper that never ends its line cannot fill our memory.
 * Returns NULL with *eof set when the helper closed its end (it died). */
static char *
read_line (MtTagReader  *self,
           gint64        deadline,
           gsize        *length,
           gboolean     *eof)
{
  int fd = g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (g_subprocess_get_stdout_pipe (self->helper)));

  *eof = FALSE;
  for (;;)
    {
      char *newline = memchr (self->pending->str, '\n', self->pending->len);
      char buffer[4096];
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 left_ms;
      ssize_t n;
      int rc;

      if (newline != NULL || self->pending->len > MT_TAG_READER_MAX_REPLY)
        {
          gsize line_length = newline != NULL ? (gsize) (newline - self->pending->str)
                                              : self->pending->len;
          char *line;

          /* The rest of an over-long line is never read: the caller
           * restarts the helper. */
          line_length = MIN (line_length, (gsize) MT_TAG_READER_MAX_REPLY + 1);
          line = g_strndup (self->pending->str, line_length);
          g_string_erase (self->pending, 0, MIN (line_length + 1, self->pending->len));
          *length = line_length;
          return line;
        }
      left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      if (left_ms <= 0)
        return NULL;
      rc = poll (&pfd, 1, (int) MIN (left_ms, G_MAXINT));
      if (rc < 0 && errno == EINTR)
        continue;
      if (rc <= 0)
        return NULL;
      n = read (fd, buffer, sizeof buffer);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0)
        {
          *eof = TRUE;
          return NULL;
        }
      g_string_append_len (self->pending, buffer, n);
    }
}

/* A string member of a reply: absent or null is NULL (as is ""), another
 * type or text that is not UTF-8 is an error. */
static gboolean
get_string_member (JsonObject  *object,
                   const char  *member,
                   char       **out_value,
                   GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out_value = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_BAD_REPLY,
                   "“%s” is not a string", member);
      return FALSE;
    }
  /* json-glib turns a lone UTF-16 surrogate ("\ud83c") into bytes that
   * are not UTF-8: the raw line being valid is not enough (found by
   * fuzz-tag-reply). */
  if (!g_utf8_validate (json_node_get_string (node), -1, NULL))
    {
      g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_BAD_REPLY,
                   "“%s” is not UTF-8 text", member);
      return FALSE;
    }
  if (json_node_get_string (node)[0] != '\0')
    *out_value = g_strdup (json_node_get_string (node));
  return TRUE;
}

/* An integer member of a reply: absent or null is 0, another type is an
 * error. */
static gboolean
get_int_member (JsonObject  *object,
                const char  *member,
                gint64      *out_value,
                GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out_value = 0;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_BAD_REPLY,
                   "“%s” is not an integer", member);
      return FALSE;
    }
  *out_value = json_node_get_int (node);
  return TRUE;
}

gboolean
mt_tag_reader_parse_reply (const char  *line,
                           gsize        length,
                           guint64      expected_id,
                           MtSong      *song,
                           GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *title = NULL;
  g_autofree char *artist = NULL;
  g_autofree char *album = NULL;
  g_autofree char *genre = NULL;
  JsonObject *object;
  JsonNode *root;
  JsonNode *node;
  gint64 id;
  gint64 track;
  gint64 duration_ms;

  g_return_val_if_fail (line != NULL || length == 0, FALSE);
  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (length > MT_TAG_READER_MAX_REPLY)
    {
      g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_BAD_REPLY,
                   "the reply is longer than %d KiB", MT_TAG_READER_MAX_REPLY / 1024);
      return FALSE;
    }
  /* Also refuses NUL bytes, which would cut strings short. */
  if (!g_utf8_validate_len (line, length, NULL))
    {
      g_set_error_literal (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_NOT_A_REPLY,
                           "the line is not UTF-8 text");
      return FALSE;
    }
  parser = json_parser_new ();
  if (!mt_json_check_limits (line, length, MT_JSON_MAX_DEPTH, &local_error) ||
      !json_parser_load_from_data (parser, line, (gssize) length, &local_error))
    {
      /* json-glib quotes the bad string, invalid UTF-8 and all. */
      g_autofree char *why = g_utf8_make_valid (local_error->message, -1);

      g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_NOT_A_REPLY,
                   "the line is not JSON: %s", why);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_NOT_A_REPLY,
                           "the line is not a JSON object");
      return FALSE;
    }
  object = json_node_get_object (root);

  /* The id first: whatever else a line with another id says is not about
   * this file. */
  node = json_object_get_member (object, "id");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_set_error_literal (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_NOT_A_REPLY,
                           "the line has no request id");
      return FALSE;
    }
  id = json_node_get_int (node);
  if (id < 0 || (guint64) id != expected_id)
    {
      g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_NOT_A_REPLY,
                   "the line answers request %" G_GINT64_FORMAT ", not %" G_GUINT64_FORMAT,
                   id, expected_id);
      return FALSE;
    }

  node = json_object_get_member (object, "ok");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error_literal (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_BAD_REPLY,
                           "“ok” is not true or false");
      return FALSE;
    }
  if (!json_node_get_boolean (node))
    {
      g_autofree char *why = NULL;

      if (!get_string_member (object, "error", &why, error))
        return FALSE;
      g_set_error_literal (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_UNREADABLE,
                           why != NULL ? why : "unreadable file");
      return FALSE;
    }

  if (!get_string_member (object, "title", &title, error) ||
      !get_string_member (object, "artist", &artist, error) ||
      !get_string_member (object, "album", &album, error) ||
      !get_string_member (object, "genre", &genre, error) ||
      !get_int_member (object, "track", &track, error) ||
      !get_int_member (object, "duration_ms", &duration_ms, error))
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
mt_tag_reader_read (MtTagReader  *self,
                    const char   *uri,
                    MtSong       *song,
                    GError      **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) request_node = NULL;
  g_autofree char *json = NULL;
  g_autofree char *request = NULL;
  g_autoptr(GError) local_error = NULL;
  guint64 id;
  gint64 deadline;
  guint n_stray = 0;

  g_return_val_if_fail (MT_IS_TAG_READER (self), FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);
  g_return_val_if_fail (song != NULL, FALSE);

  if (!ensure_helper (self, error))
    return FALSE;

  id = ++self->last_id;
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, (gint64) id);
  json_builder_set_member_name (builder, "uri");
  json_builder_add_string_value (builder, uri);
  json_builder_end_object (builder);
  request_node = json_builder_get_root (builder);
  json = json_to_string (request_node, FALSE);
  request = g_strconcat (json, "\n", NULL);

  if (!g_output_stream_write_all (g_subprocess_get_stdin_pipe (self->helper), request, strlen (request),
                                  NULL, NULL, &local_error) ||
      !g_output_stream_flush (g_subprocess_get_stdin_pipe (self->helper), NULL, &local_error))
    {
      /* The helper died before it could take the request (e.g. after the
       * previous file): restart it and try once more. */
      stop_helper (self);
      g_clear_error (&local_error);
      if (!ensure_helper (self, error))
        return FALSE;
      if (!g_output_stream_write_all (g_subprocess_get_stdin_pipe (self->helper), request, strlen (request),
                                      NULL, NULL, &local_error))
        {
          stop_helper (self);
          g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_HELPER,
                       "The tag reader does not take requests: %s", local_error->message);
          return FALSE;
        }
    }

  /* The discoverer gives up after timeout_s; allow a few seconds more for
   * the helper's own start-up before calling it hung. */
  deadline = g_get_monotonic_time () + (gint64) (self->timeout_s + 4) * G_USEC_PER_SEC;
  for (;;)
    {
      g_autofree char *reply = NULL;
      gboolean eof = FALSE;
      gsize length = 0;

      reply = read_line (self, deadline, &length, &eof);
      if (reply == NULL)
        {
          if (eof)
            {
              g_autofree char *how = NULL;

              g_subprocess_wait (self->helper, NULL, NULL);
              if (g_subprocess_get_if_signaled (self->helper))
                how = g_strdup_printf ("killed by signal %d", g_subprocess_get_term_sig (self->helper));
              else
                how = g_strdup_printf ("exit status %d", g_subprocess_get_exit_status (self->helper));
              g_clear_object (&self->helper);
              g_string_truncate (self->pending, 0);
              self->n_restarts++;
              g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_CRASHED,
                           "the tag reader crashed on this file (%s)", how);
            }
          else
            {
              stop_helper (self);
              self->n_restarts++;
              g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_TIMEOUT,
                           "the tag reader did not answer within %u s", self->timeout_s + 4);
            }
          return FALSE;
        }

      if (mt_tag_reader_parse_reply (reply, length, id, song, &local_error))
        return TRUE;
      if (g_error_matches (local_error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_UNREADABLE))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      /* Not the reply to this request (something in the helper printed on
       * its stdout): skip it, never take it for this file's tags. */
      if (g_error_matches (local_error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_NOT_A_REPLY) &&
          ++n_stray <= MAX_STRAY_LINES)
        {
          g_debug ("skipping a line from the tag reader: %s", local_error->message);
          g_clear_error (&local_error);
          continue;
        }

      /* Too long, malformed, or a flood of stray lines: the helper is not
       * to be trusted any more. */
      stop_helper (self);
      self->n_restarts++;
      if (n_stray > MAX_STRAY_LINES)
        g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_BAD_REPLY,
                     "the tag reader sent over %d lines that were not its reply", MAX_STRAY_LINES);
      else
        g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_BAD_REPLY,
                     "the tag reader sent a bad reply: %s", local_error->message);
      return FALSE;
    }
}
