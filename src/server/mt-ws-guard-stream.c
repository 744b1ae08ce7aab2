#define G_LOG_DOMAIN "mt-ws-guard"

#include "config.h"

#include "mt-ws-guard-stream.h"

struct _MtWsGuardStream {
  GIOStream     parent_instance;

  GIOStream    *base;
  GInputStream *input;   /* MtWsGuardInput over base's input */
};

G_DEFINE_FINAL_TYPE (MtWsGuardStream, mt_ws_guard_stream, G_TYPE_IO_STREAM)

static GInputStream *
mt_ws_guard_stream_get_input_stream (GIOStream *stream)
{
  return MT_WS_GUARD_STREAM (stream)->input;
}

static GOutputStream *
mt_ws_guard_stream_get_output_stream (GIOStream *stream)
{
  return g_io_stream_get_output_stream (MT_WS_GUARD_STREAM (stream)->base);
}

static gboolean
mt_ws_guard_stream_close (GIOStream     *stream,
                          GCancellable  *cancellable,
                          GError       **error)
{
  MtWsGuardStream *self = MT_WS_GUARD_STREAM (stream);

  g_input_stream_close (self->input, NULL, NULL);   /* marks it closed; the base is below */
  return g_io_stream_close (self->base, cancellable, error);
}

static void
on_base_closed (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MtWsGuardStream *self = g_task_get_source_object (task);
  GError *error = NULL;

  g_input_stream_close (self->input, NULL, NULL);

  if (g_io_stream_close_finish (G_IO_STREAM (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/* Closed on the caller's thread by the base itself (GIOStream's default
 * would close in a worker thread, which libsoup's stream does not expect). */
static void
mt_ws_guard_stream_close_async (GIOStream           *stream,
                                int                  io_priority,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task = g_task_new (stream, cancellable, callback, user_data);

  g_task_set_source_tag (task, mt_ws_guard_stream_close_async);
  g_io_stream_close_async (MT_WS_GUARD_STREAM (stream)->base, io_priority, cancellable, on_base_closed, task);
}

static gboolean
mt_ws_guard_stream_close_finish (GIOStream     *stream,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
mt_ws_guard_stream_dispose (GObject *object)
{
  MtWsGuardStream *self = MT_WS_GUARD_STREAM (object);

  /* GIOStream's dispose closes us (and so the base) when nobody did. */
  G_OBJECT_CLASS (mt_ws_guard_stream_parent_class)->dispose (object);
  g_clear_object (&self->input);
  g_clear_object (&self->base);
}

static void
mt_ws_guard_stream_class_init (MtWsGuardStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  object_class->dispose = mt_ws_guard_stream_dispose;
  stream_class->get_input_stream = mt_ws_guard_stream_get_input_stream;
  stream_class->get_output_stream = mt_ws_guard_stream_get_output_stream;
  stream_class->close_fn = mt_ws_guard_stream_close;
  stream_class->close_async = mt_ws_guard_stream_close_async;
  stream_class->close_finish = mt_ws_guard_stream_close_finish;
}

static void
mt_ws_guard_stream_init (MtWsGuardStream *self)
{
}

GIOStream *
mt_ws_guard_stream_new (GIOStream *base,
                        guint64    max_message_bytes)
{
  MtWsGuardStream *self;

  g_return_val_if_fail (G_IS_IO_STREAM (base), NULL);

  self = g_object_new (MT_TYPE_WS_GUARD_STREAM, NULL);
  self->base = g_object_ref (base);
  self->input = mt_ws_guard_input_new (g_io_stream_get_input_stream (base), max_message_bytes);
  return G_IO_STREAM (self);
}

MtWsGuardInput *
mt_ws_guard_stream_get_guard (MtWsGuardStream *self)
{
  g_return_val_if_fail (MT_IS_WS_GUARD_STREAM (self), NULL);
  return MT_WS_GUARD_INPUT (self->input);
}
