/* mt-ws-guard-input.h: a WebSocket connection's incoming bytes, with the
 * size of every message checked (MtWsMeter) before libsoup buffers it.
 * Once a message is over the limit, nothing more is read from the client
 * and ::limit-exceeded is emitted from the main context the stream was made
 * in (never from inside a read). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MT_TYPE_WS_GUARD_INPUT (mt_ws_guard_input_get_type ())
G_DECLARE_FINAL_TYPE (MtWsGuardInput, mt_ws_guard_input, MT, WS_GUARD_INPUT, GInputStream)

/* @base must be pollable. */
GInputStream *mt_ws_guard_input_new              (GInputStream   *base,
                                                  guint64         max_message_bytes);
guint64       mt_ws_guard_input_get_max_message_bytes (MtWsGuardInput *self);

G_END_DECLS
