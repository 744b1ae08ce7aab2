/* mt-helper-process.c: the client side of a JSON-lines helper process. */
#define G_LOG_DOMAIN "mt-helper-process"

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>

#include "mt-helper-process.h"
#include "mt-json-limits.h"

struct _MtHelperProcess
{
  GObject      parent_instance;
  GStrv        argv;
  gsize        max_reply;
  char        *name;         /* in messages: "the tag reader" */
  char        *subject;      /* what a request is about: "this file" */
  char        *env_var;      /* suggested when the helper cannot start */
  gboolean     low_priority;
  GSubprocess *helper;
  GString     *pending;      /* bytes read after the last newline */
  guint64      last_id;      /* of the last request sent */
  guint        n_restarts;
};

G_DEFINE_FINAL_TYPE (MtHelperProcess, mt_helper_process, G_TYPE_OBJECT)

G_DEFINE_QUARK (mt-helper-process-error-quark, mt_helper_process_error)

void
mt_helper_process_stop (MtHelperProcess *self)
{
  g_return_if_fail (MT_IS_HELPER_PROCESS (self));

  if (self->helper == NULL)
    return;
  g_subprocess_force_exit (self->helper);
  g_subprocess_wait (self->helper, NULL, NULL);
  g_clear_object (&self->helper);
  g_string_truncate (self->pending, 0);
}

static void
mt_helper_process_finalize (GObject *object)
{
  MtHelperProcess *self = (MtHelperProcess *) object;

  if (self->helper != NULL)
    {
      /* Closing its stdin ends the helper cleanly. */
      g_output_stream_close (g_subprocess_get_stdin_pipe (self->helper), NULL, NULL);
      g_subprocess_wait (self->helper, NULL, NULL);
      g_clear_object (&self->helper);
    }
  g_string_free (self->pending, TRUE);
  g_strfreev (self->argv);
  g_free (self->name);
  g_free (self->subject);
  g_free (self->env_var);
  G_OBJECT_CLASS (mt_helper_process_parent_class)->finalize (object);
}

static void
mt_helper_process_class_init (MtHelperProcessClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_helper_process_finalize;
}

static void
mt_helper_process_init (MtHelperProcess *self)
{
  self->pending = g_string_new (NULL);
  self->name = g_strdup ("the helper");
  self->subject = g_strdup ("this request");
}

char *
mt_helper_process_find (const char *env_var,
                        const char *build_subpath,
                        const char *installed_path)
{
  const char *env = env_var != NULL ? g_getenv (env_var) : NULL;
  const char *build_dir = g_getenv ("MT_BUILD_DIR");

  g_return_val_if_fail (installed_path != NULL, NULL);

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  if (build_subpath != NULL && build_dir != NULL && build_dir[0] != '\0')
    {
      g_autofree char *path = g_build_filename (build_dir, build_subpath, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&path);
    }
  /* Also when it is missing: starting it then says which file it wanted. */
  return g_strdup (installed_path);
}

MtHelperProcess *
mt_helper_process_new (const char *const *argv,
                       gsize              max_reply)
{
  MtHelperProcess *self;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);
  g_return_val_if_fail (max_reply > 0 && max_reply < G_MAXSIZE, NULL);

  self = g_object_new (MT_TYPE_HELPER_PROCESS, NULL);
  /* Writing a request to a helper that just died would raise SIGPIPE and
   * kill the whole program: we want the write error instead. */
  signal (SIGPIPE, SIG_IGN);
  self->argv = g_strdupv ((char **) argv);
  self->max_reply = max_reply;
  return self;
}

void
mt_helper_process_set_name (MtHelperProcess *self,
                            const char      *name,
                            const char      *subject,
                            const char      *env_var)
{
  g_return_if_fail (MT_IS_HELPER_PROCESS (self));
  g_return_if_fail (name != NULL && name[0] != '\0');
  g_return_if_fail (subject != NULL);

  g_free (self->name);
  self->name = g_strdup (name);
  g_free (self->subject);
  self->subject = g_strdup (subject);
  g_free (self->env_var);
  self->env_var = g_strdup (env_var);
}

void
mt_helper_process_set_low_priority (MtHelperProcess *self,
                                    gboolean         low_priority)
{
  g_return_if_fail (MT_IS_HELPER_PROCESS (self));
  self->low_priority = !!low_priority;
}

guint
mt_helper_process_get_n_restarts (MtHelperProcess *self)
{
  g_return_val_if_fail (MT_IS_HELPER_PROCESS (self), 0);
  return self->n_restarts;
}

/* Runs in the child between fork and exec: only async-signal-safe calls.
 * Relative to our own niceness, so a program that is itself niced keeps
 * its helper below it. */
static void
lower_priority (gpointer data)
{
  int nice_value;

  errno = 0;
  nice_value = getpriority (PRIO_PROCESS, 0);
  if (errno == 0)
    setpriority (PRIO_PROCESS, 0, MIN (nice_value + 10, 19));
}

/* The helper's name to start a sentence with: "The tag reader …". */
static char *
capitalized_name (MtHelperProcess *self)
{
  char *name = g_strdup (self->name);

  name[0] = g_ascii_toupper (name[0]);
  return name;
}

static gboolean
ensure_helper (MtHelperProcess  *self,
               GError          **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) local_error = NULL;

  if (self->helper != NULL)
    return TRUE;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  if (self->low_priority)
    g_subprocess_launcher_set_child_setup (launcher, lower_priority, NULL, NULL);
  self->helper = g_subprocess_launcher_spawnv (launcher, (const char *const *) self->argv, &local_error);
  if (self->helper == NULL)
    {
      g_autofree char *hint = self->env_var != NULL ? g_strdup_printf (" (set %s to its path)", self->env_var)
                                                    : NULL;

      g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_HELPER,
                   "Cannot start %s “%s”: %s%s", self->name, self->argv[0], local_error->message,
                   hint != NULL ? hint : "");
      return FALSE;
    }
  return TRUE;
}

/* Reads one line (without its newline, into *length bytes), waiting until
 * @deadline (monotonic µs).  A line longer than max_reply is returned cut
 * to one byte over the limit as soon as that many bytes have come, so a
 * helper that never ends its line cannot fill our memory.  Returns NULL
 * with *eof set when the helper closed its end (it died), without on
 * timeout. */
static char *
read_line (MtHelperProcess *self,
           gint64           deadline,
           gsize           *length,
           gboolean        *eof)
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

      if (newline != NULL || self->pending->len > self->max_reply)
        {
          gsize line_length = newline != NULL ? (gsize) (newline - self->pending->str)
                                              : self->pending->len;
          char *line;

          /* The rest of an over-long line is never read: the caller
           * restarts the helper. */
          line_length = MIN (line_length, self->max_reply + 1);
          line = g_strndup (self->pending->str, line_length);
          g_string_erase (self->pending, 0, (gssize) MIN (line_length + 1, self->pending->len));
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

/* The request line: "id" first, then @request's members. */
static char *
request_line (JsonObject *request,
              guint64     id)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(GList) members = json_object_get_members (request);
  g_autofree char *json = NULL;

  json_object_set_int_member (object, "id", (gint64) id);
  for (GList *l = members; l != NULL; l = l->next)
    if (strcmp (l->data, "id") != 0)
      json_object_set_member (object, l->data, json_node_copy (json_object_get_member (request, l->data)));
  json_node_set_object (node, object);
  json = json_to_string (node, FALSE);
  return g_strconcat (json, "\n", NULL);
}

static gboolean
write_line (MtHelperProcess  *self,
            const char       *line,
            GError          **error)
{
  GOutputStream *in = g_subprocess_get_stdin_pipe (self->helper);

  return g_output_stream_write_all (in, line, strlen (line), NULL, NULL, error) &&
         g_output_stream_flush (in, NULL, error);
}

/* The helper's stdout ended: it died.  Reaps it and says how. */
static void
helper_died (MtHelperProcess  *self,
             GError          **error)
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
  g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_CRASHED,
               "%s crashed on %s (%s)", self->name, self->subject, how);
}

gboolean
mt_helper_process_request (MtHelperProcess    *self,
                           JsonObject         *request,
                           guint               timeout_s,
                           MtHelperReplyFunc   parse,
                           gpointer            parse_data,
                           GError            **error)
{
  g_autofree char *line = NULL;
  g_autoptr(GError) local_error = NULL;
  guint64 id;
  gint64 deadline;
  guint n_stray = 0;

  g_return_val_if_fail (MT_IS_HELPER_PROCESS (self), FALSE);
  g_return_val_if_fail (request != NULL, FALSE);
  g_return_val_if_fail (parse != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ensure_helper (self, error))
    return FALSE;

  id = ++self->last_id;
  line = request_line (request, id);
  if (!write_line (self, line, &local_error))
    {
      /* The helper died before it could take the request (e.g. after the
       * previous one): restart it and try once more. */
      mt_helper_process_stop (self);
      g_clear_error (&local_error);
      if (!ensure_helper (self, error))
        return FALSE;
      if (!write_line (self, line, &local_error))
        {
          g_autofree char *name = capitalized_name (self);

          mt_helper_process_stop (self);
          g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_HELPER,
                       "%s does not take requests: %s", name, local_error->message);
          return FALSE;
        }
    }

  deadline = g_get_monotonic_time () + (gint64) MAX (timeout_s, 1u) * G_USEC_PER_SEC;
  for (;;)
    {
      g_autofree char *reply = NULL;
      gboolean eof = FALSE;
      gsize length = 0;

      reply = read_line (self, deadline, &length, &eof);
      if (reply == NULL && eof)
        {
          helper_died (self, error);
          return FALSE;
        }
      if (reply == NULL)
        {
          mt_helper_process_stop (self);
          self->n_restarts++;
          g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_TIMEOUT,
                       "%s did not answer within %u s", self->name, MAX (timeout_s, 1u));
          return FALSE;
        }

      if (parse (reply, length, id, parse_data, &local_error))
        return TRUE;
      g_return_val_if_fail (local_error != NULL, FALSE);
      if (g_error_matches (local_error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_FAILED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      /* Not the reply to this request (something in the helper printed on
       * its stdout): skip it, never take it for this request's answer. */
      if (g_error_matches (local_error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_NOT_A_REPLY) &&
          ++n_stray <= MT_HELPER_PROCESS_MAX_STRAY_LINES)
        {
          g_debug ("skipping a line from %s: %s", self->name, local_error->message);
          g_clear_error (&local_error);
          continue;
        }

      /* Too long, malformed, or a flood of stray lines: the helper is not
       * to be trusted any more. */
      mt_helper_process_stop (self);
      self->n_restarts++;
      if (n_stray > MT_HELPER_PROCESS_MAX_STRAY_LINES)
        g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_BAD_REPLY,
                     "%s sent over %d lines that were not its reply", self->name,
                     MT_HELPER_PROCESS_MAX_STRAY_LINES);
      else
        g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_BAD_REPLY,
                     "%s sent a bad reply: %s", self->name, local_error->message);
      return FALSE;
    }
}

/* The value of @member when it holds one of @type (in *@out_node); NULL
 * when it is absent or null; BAD_REPLY ("“@member” is not @what") when it
 * is something else. */
static gboolean
get_value_member (JsonObject  *object,
                  const char  *member,
                  GType        type,
                  const char  *what,
                  JsonNode   **out_node,
                  GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out_node = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != type)
    {
      g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_BAD_REPLY,
                   "“%s” is not %s", member, what);
      return FALSE;
    }
  *out_node = node;
  return TRUE;
}

gboolean
mt_helper_process_reply_get_string (JsonObject  *object,
                                    const char  *member,
                                    char       **out_value,
                                    GError     **error)
{
  JsonNode *node;

  *out_value = NULL;
  if (!get_value_member (object, member, G_TYPE_STRING, "a string", &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  /* json-glib turns a lone UTF-16 surrogate ("\ud83c") into bytes that
   * are not UTF-8: the raw line being valid is not enough (found by
   * fuzz-tag-reply). */
  if (!g_utf8_validate (json_node_get_string (node), -1, NULL))
    {
      g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_BAD_REPLY,
                   "“%s” is not UTF-8 text", member);
      return FALSE;
    }
  if (json_node_get_string (node)[0] != '\0')
    *out_value = g_strdup (json_node_get_string (node));
  return TRUE;
}

gboolean
mt_helper_process_reply_get_int (JsonObject  *object,
                                 const char  *member,
                                 gint64      *out_value,
                                 GError     **error)
{
  JsonNode *node;

  *out_value = 0;
  if (!get_value_member (object, member, G_TYPE_INT64, "an integer", &node, error))
    return FALSE;
  if (node != NULL)
    *out_value = json_node_get_int (node);
  return TRUE;
}

gboolean
mt_helper_process_parse_envelope (const char  *line,
                                  gsize        length,
                                  guint64      expected_id,
                                  gsize        max_reply,
                                  JsonObject **out_object,
                                  GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *object;
  JsonNode *root;
  JsonNode *node;
  gint64 id;

  g_return_val_if_fail (line != NULL || length == 0, FALSE);
  g_return_val_if_fail (out_object != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out_object = NULL;
  if (length > max_reply)
    {
      if (max_reply % 1024 == 0)
        g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_BAD_REPLY,
                     "the reply is longer than %" G_GSIZE_FORMAT " KiB", max_reply / 1024);
      else
        g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_BAD_REPLY,
                     "the reply is longer than %" G_GSIZE_FORMAT " bytes", max_reply);
      return FALSE;
    }
  /* Also refuses NUL bytes, which would cut strings short. */
  if (!g_utf8_validate_len (line, length, NULL))
    {
      g_set_error_literal (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_NOT_A_REPLY,
                           "the line is not UTF-8 text");
      return FALSE;
    }
  parser = json_parser_new ();
  if (!mt_json_check_limits (line, length, MT_JSON_MAX_DEPTH, &local_error) ||
      !json_parser_load_from_data (parser, line, (gssize) length, &local_error))
    {
      /* json-glib quotes the bad string, invalid UTF-8 and all. */
      g_autofree char *why = g_utf8_make_valid (local_error->message, -1);

      g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_NOT_A_REPLY,
                   "the line is not JSON: %s", why);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_NOT_A_REPLY,
                           "the line is not a JSON object");
      return FALSE;
    }
  object = json_node_get_object (root);

  /* The id first: whatever else a line with another id says is not about
   * this request. */
  node = json_object_get_member (object, "id");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_set_error_literal (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_NOT_A_REPLY,
                           "the line has no request id");
      return FALSE;
    }
  id = json_node_get_int (node);
  if (id < 0 || (guint64) id != expected_id)
    {
      g_set_error (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_NOT_A_REPLY,
                   "the line answers request %" G_GINT64_FORMAT ", not %" G_GUINT64_FORMAT,
                   id, expected_id);
      return FALSE;
    }

  node = json_object_get_member (object, "ok");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error_literal (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_BAD_REPLY,
                           "“ok” is not true or false");
      return FALSE;
    }
  if (!json_node_get_boolean (node))
    {
      g_autofree char *why = NULL;

      if (!mt_helper_process_reply_get_string (object, "error", &why, error))
        return FALSE;
      g_set_error_literal (error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_FAILED,
                           why != NULL ? why : "no reason given");
      return FALSE;
    }

  *out_object = json_object_ref (object);
  return TRUE;
}
