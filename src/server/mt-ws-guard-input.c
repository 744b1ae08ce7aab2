#define G_LOG_DOMAIN "mt-ws-guard"

#include "config.h"

#include "mt-ws-guard-input.h"
#include "mt-ws-meter.h"

struct _MtWsGuardInput {
  GInputStream  parent_instance;

  GInputStream *base;
  MtWsMeter     meter;
  GMainContext *context;    /* where ::limit-exceeded is emitted */
  gboolean      signalled;
};

static void pollable_iface_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MtWsGuardInput, mt_ws_guard_input, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM, pollable_iface_init))

enum { LIMIT_EXCEEDED, N_SIGNALS };
static guint signals[N_SIGNALS];

static gboolean
emit_limit_exceeded (gpointer data)
{
  g_signal_emit (data, signals[LIMIT_EXCEEDED], 0);
  return G_SOURCE_REMOVE;
}

/* Lets @n of the bytes just read through; the rest are dropped, since
 * the stream reads nothing more once a message is over the limit. */
static gssize
pass (MtWsGuardInput *self,
      const void     *buffer,
      gssize          n,
      GError        **error)
{
  gsize allowed;

  if (n <= 0)
    return n;
  allowed = mt_ws_meter_feed (&self->meter, buffer, (gsize) n);
  if (mt_ws_meter_exceeded (&self->meter) && !self->signalled)
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      self->signalled = TRUE;
      g_source_set_callback (source, emit_limit_exceeded, g_object_ref (self), g_object_unref);
      g_source_set_name (source, "[moodtunes] websocket message limit");
      g_source_attach (source, self->context);
    }
  if (allowed == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                           "The message is over the size limit; nothing more is read");
      return -1;
    }
  return (gssize) allowed;
}

static gssize
mt_ws_guard_input_read (GInputStream  *stream,
                        void          *buffer,
                        gsize          count,
                        GCancellable  *cancellable,
                        GError       **error)
{
  MtWsGuardInput *self = MT_WS_GUARD_INPUT (stream);

  if (mt_ws_meter_exceeded (&self->meter))
    {
      /* A blocking read would wait forever: the stream has ended for us. */
      return 0;
    }
  return pass (self, buffer, g_input_stream_read (self->base, buffer, count, cancellable, error), error);
}

static gboolean
mt_ws_guard_input_close (GInputStream  *stream,
                         GCancellable  *cancellable,
                         GError       **error)
{
  /* The base belongs to the connection's GIOStream, which closes it. */
  return TRUE;
}

static gboolean
mt_ws_guard_input_can_poll (GPollableInputStream *stream)
{
  MtWsGuardInput *self = MT_WS_GUARD_INPUT (stream);

  return g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (self->base));
}

static gboolean
mt_ws_guard_input_is_readable (GPollableInputStream *stream)
{
  MtWsGuardInput *self = MT_WS_GUARD_INPUT (stream);

  return !mt_ws_meter_exceeded (&self->meter) &&
         g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base));
}

static GSource *
mt_ws_guard_input_create_source (GPollableInputStream *stream,
                                 GCancellable         *cancellable)
{
  MtWsGuardInput *self = MT_WS_GUARD_INPUT (stream);
  g_autoptr(GSource) base_source = NULL;

  /* Past the limit: a source with nothing to wait on never fires. */
  if (mt_ws_meter_exceeded (&self->meter))
    return g_pollable_source_new_full (self, NULL, cancellable);
  base_source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->base), NULL);
  return g_pollable_source_new_full (self, base_source, cancellable);
}

static gssize
mt_ws_guard_input_read_nonblocking (GPollableInputStream  *stream,
                                    void                  *buffer,
                                    gsize                  count,
                                    GError               **error)
{
  MtWsGuardInput *self = MT_WS_GUARD_INPUT (stream);

  if (mt_ws_meter_exceeded (&self->meter))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                           "The message is over the size limit; nothing more is read");
      return -1;
    }
  return pass (self, buffer,
               g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (self->base),
                                                         buffer, count, NULL, error),
               error);
}

static void
pollable_iface_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = mt_ws_guard_input_can_poll;
  iface->is_readable = mt_ws_guard_input_is_readable;
  iface->create_source = mt_ws_guard_input_create_source;
  iface->read_nonblocking = mt_ws_guard_input_read_nonblocking;
}

static void
mt_ws_guard_input_finalize (GObject *object)
{
  MtWsGuardInput *self = MT_WS_GUARD_INPUT (object);

  g_clear_object (&self->base);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (mt_ws_guard_input_parent_class)->finalize (object);
}

static void
mt_ws_guard_input_class_init (MtWsGuardInputClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = mt_ws_guard_input_finalize;
  stream_class->read_fn = mt_ws_guard_input_read;
  stream_class->close_fn = mt_ws_guard_input_close;

  /**
   * MtWsGuardInput::limit-exceeded:
   *
   * A message went over the limit; the stream reads nothing more.
   */
  signals[LIMIT_EXCEEDED] = g_signal_new ("limit-exceeded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
mt_ws_guard_input_init (MtWsGuardInput *self)
{
}

GInputStream *
mt_ws_guard_input_new (GInputStream *base,
                       guint64       max_message_bytes)
{
  MtWsGuardInput *self;

  g_return_val_if_fail (G_IS_POLLABLE_INPUT_STREAM (base), NULL);

  self = g_object_new (MT_TYPE_WS_GUARD_INPUT, NULL);
  self->base = g_object_ref (base);
  self->context = g_main_context_ref_thread_default ();
  mt_ws_meter_init (&self->meter, max_message_bytes);
  return G_INPUT_STREAM (self);
}

guint64
mt_ws_guard_input_get_max_message_bytes (MtWsGuardInput *self)
{
  g_return_val_if_fail (MT_IS_WS_GUARD_INPUT (self), 0);
  return self->meter.limit;
}
