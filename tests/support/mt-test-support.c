#define G_LOG_DOMAIN "mt-test-support"

#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "mt-test-support.h"

gboolean
mt_test_wait_flag (gboolean *flag,
                   guint     seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!*flag && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  return *flag;
}

gboolean
mt_test_wait_cond (MtTestCondition condition,
                   gpointer        data,
                   guint           timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!condition (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return TRUE;
}

void
mt_test_run_loop_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
}

char *
mt_test_shared_path (const char *first,
                     ...)
{
  const char *shared = g_getenv ("MT_SHARED_DIR");
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();
  va_list args;

  g_ptr_array_add (parts, (gpointer) (shared != NULL ? shared : "../shared"));
  va_start (args, first);
  for (const char *part = first; part != NULL; part = va_arg (args, const char *))
    g_ptr_array_add (parts, (gpointer) part);
  va_end (args);
  g_ptr_array_add (parts, NULL);
  return g_build_filenamev ((char **) parts->pdata);
}

GBytes *
mt_test_face_jpeg (int      quality,
                   GError **error)
{
  g_autofree char *path = mt_test_shared_path ("media", "astronaut.png", NULL);
  g_autofree char *quality_text = g_strdup_printf ("%d", quality);
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, error);
  char *buffer = NULL;
  gsize size = 0;

  if (pixbuf == NULL)
    return NULL;
  if (!gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "jpeg", error, "quality", quality_text, NULL))
    return NULL;
  return g_bytes_new_take (buffer, size);
}

static void reader_read_more (MtTestReader *reader);

static void
on_reader_read (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  MtTestReader *reader = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0)
    {
      reader->eof = TRUE;
      reader->done = TRUE;
      return;
    }
  g_byte_array_append (reader->data, reader->buffer, n);
  if (reader->stop_at != NULL &&
      g_strstr_len ((const char *) reader->data->data, reader->data->len, reader->stop_at) != NULL)
    {
      reader->done = TRUE;
      return;
    }
  reader_read_more (reader);
}

static void
reader_read_more (MtTestReader *reader)
{
  g_input_stream_read_async (reader->stream, reader->buffer, sizeof reader->buffer, G_PRIORITY_DEFAULT,
                             reader->cancellable, on_reader_read, reader);
}

MtTestReader *
mt_test_reader_new (GInputStream *stream,
                    GCancellable *cancellable,
                    const char   *stop_at)
{
  MtTestReader *reader = g_new0 (MtTestReader, 1);

  reader->data = g_byte_array_new ();
  reader->stream = g_object_ref (stream);
  reader->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  reader->stop_at = g_strdup (stop_at);
  reader_read_more (reader);
  return reader;
}

void
mt_test_reader_free (MtTestReader *reader)
{
  g_assert_true (reader->done);
  g_byte_array_unref (reader->data);
  g_object_unref (reader->stream);
  g_clear_object (&reader->cancellable);
  g_free (reader->stop_at);
  g_free (reader);
}

GSocketConnection *
mt_test_connect_loopback (guint port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", port);
  GSocketConnection *connection = g_socket_client_connect_to_host (client, address, 0, NULL, &error);

  g_assert_no_error (error);
  return connection;
}
