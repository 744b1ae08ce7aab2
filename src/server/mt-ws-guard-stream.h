/* mt-ws-guard-stream.h: a WebSocket connection taken over from the HTTP
 * server, whose input is an MtWsGuardInput.  Closing it closes the
 * connection it wraps (and so the socket). */
#pragma once

#include <gio/gio.h>

#include "mt-ws-guard-input.h"

G_BEGIN_DECLS

#define MT_TYPE_WS_GUARD_STREAM (mt_ws_guard_stream_get_type ())
G_DECLARE_FINAL_TYPE (MtWsGuardStream, mt_ws_guard_stream, MT, WS_GUARD_STREAM, GIOStream)

GIOStream      *mt_ws_guard_stream_new       (GIOStream       *base,
                                              guint64          max_message_bytes);
MtWsGuardInput *mt_ws_guard_stream_get_guard (MtWsGuardStream *self);

G_END_DECLS
