/* mt-main-context.h: signals from worker threads, emitted where the caller
 * listens.
 *
 * A job that runs in a worker thread (an import, an analysis) reports
 * progress through a signal; its listeners are UI code that expects the
 * signal in its own main context.  This posts the emission there, with a
 * copy of the boxed argument the worker may change meanwhile. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Emits @signal_id of @instance with a copy of @boxed (of @boxed_type)
 * from an idle source in @context; with a NULL @context, right here.  The
 * instance is kept alive until then.  Not g_main_context_invoke(): that runs
 * the callback in the calling thread when nobody iterates @context at this
 * moment. */
/* Runs @func (@data) from an idle source of @priority in @context, then
 * @destroy (@data) there.  Not g_main_context_invoke(), for the reason
 * above: a result from a worker thread must reach its listener in its
 * context. */
void mt_main_context_post       (GMainContext  *context,
                                 int            priority,
                                 GSourceFunc    func,
                                 gpointer       data,
                                 GDestroyNotify destroy);

void mt_main_context_emit_boxed (GMainContext  *context,
                                 gpointer       instance,
                                 guint          signal_id,
                                 GType          boxed_type,
                                 gconstpointer  boxed);

G_END_DECLS
