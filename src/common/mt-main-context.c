#define G_LOG_DOMAIN "mt-main-context"

#include "config.h"

#include "mt-main-context.h"

typedef struct {
  GObject *instance;
  guint    signal_id;
  GType    boxed_type;
  gpointer boxed;
} Emission;

static gboolean
emit_cb (gpointer data)
{
  Emission *emission = data;

  g_signal_emit (emission->instance, emission->signal_id, 0, emission->boxed);
  g_object_unref (emission->instance);
  g_boxed_free (emission->boxed_type, emission->boxed);
  g_free (emission);
  return G_SOURCE_REMOVE;
}

void
mt_main_context_post (GMainContext   *context,
                      int             priority,
                      GSourceFunc     func,
                      gpointer        data,
                      GDestroyNotify  destroy)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_priority (source, priority);
  g_source_set_callback (source, func, data, destroy);
  g_source_set_static_name (source, "[mt] result from a worker");
  g_source_attach (source, context);
}

void
mt_main_context_emit_boxed (GMainContext  *context,
                            gpointer       instance,
                            guint          signal_id,
                            GType          boxed_type,
                            gconstpointer  boxed)
{
  Emission *emission;

  g_return_if_fail (G_IS_OBJECT (instance));

  if (context == NULL)
    {
      g_signal_emit (instance, signal_id, 0, boxed);
      return;
    }
  emission = g_new0 (Emission, 1);
  emission->instance = g_object_ref (instance);
  emission->signal_id = signal_id;
  emission->boxed_type = boxed_type;
  emission->boxed = g_boxed_copy (boxed_type, boxed);
  mt_main_context_post (context, G_PRIORITY_DEFAULT_IDLE, emit_cb, emission, NULL);
}
