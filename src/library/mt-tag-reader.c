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
  guint        timeout_s;
  guint        n_restarts;
};

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

/* Reads one reply line, waiting at most @timeout_ms.  Returns NULL with
 * *eof set when the helper closed its end (it died). */
static char *
read_line (MtTagReader  *self,
           int           timeout_ms,
           gboolean     *eof)
{
  int fd = g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (g_subprocess_get_stdout_pipe (self->helper)));
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  *eof = FALSE;
  for (;;)
    {
      char *newline = memchr (self->pending->str, '\n', self->pending->len);
      char buffer[4096];
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 left_ms;
      ssize_t n;
      int rc;

      if (newline != NULL)
        {
          char *line = g_strndup (self->pending->str, newline - self->pending->str);
          g_string_erase (self->pending, 0, newline - self->pending->str + 1);
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

static char *
dup_member (JsonObject *object,
            const char *member)
{
  const char *value = json_object_get_string_member_with_default (object, member, NULL);
  return value && value[0] ? g_strdup (value) : NULL;
}

gboolean
mt_tag_reader_read (MtTagReader  *self,
                    const char   *uri,
                    MtSong       *song,
                    GError      **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) request_node = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *json = NULL;
  g_autofree char *request = NULL;
  g_autofree char *reply = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *object;
  JsonNode *root;
  gboolean eof = FALSE;

  g_return_val_if_fail (MT_IS_TAG_READER (self), FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);
  g_return_val_if_fail (song != NULL, FALSE);

  if (!ensure_helper (self, error))
    return FALSE;

  json_builder_begin_object (builder);
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
  reply = read_line (self, (int) (self->timeout_s * 1000 + 4000), &eof);
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

  if (!mt_json_check_limits (reply, strlen (reply), MT_JSON_MAX_DEPTH, &local_error) ||
      !json_parser_load_from_data (parser, reply, -1, &local_error) ||
      !(root = json_parser_get_root (parser)) || !JSON_NODE_HOLDS_OBJECT (root))
    {
      stop_helper (self);
      g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_HELPER,
                   "the tag reader sent a bad reply: %s", local_error ? local_error->message : reply);
      return FALSE;
    }
  object = json_node_get_object (root);
  if (!json_object_get_boolean_member_with_default (object, "ok", FALSE))
    {
      g_set_error (error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_UNREADABLE, "%s",
                   json_object_get_string_member_with_default (object, "error", "unreadable file"));
      return FALSE;
    }

  g_free (song->title);
  song->title = dup_member (object, "title");
  g_free (song->artist);
  song->artist = dup_member (object, "artist");
  g_free (song->album);
  song->album = dup_member (object, "album");
  g_free (song->genre);
  song->genre = dup_member (object, "genre");
  song->track = (int) CLAMP (json_object_get_int_member_with_default (object, "track", 0), 0, G_MAXINT);
  song->duration_ms = MAX (json_object_get_int_member_with_default (object, "duration_ms", 0), 0);
  return TRUE;
}
