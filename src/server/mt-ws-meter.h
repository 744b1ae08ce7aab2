/* mt-ws-meter.h: counts a WebSocket message's size from the frame headers
 * as the bytes go by, so a message can be refused before it is buffered.
 *
 * libsoup 3.2 limits each frame's payload but not the sum of a fragmented
 * message's frames: without this, a client could send an unbounded message
 * as many small fragments and the server would buffer all of it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 limit;          /* most data bytes one message may carry */
  guint8  header[14];     /* the frame header being read */
  guint   header_len;
  guint64 payload_left;   /* payload bytes of the current frame still to pass */
  guint64 message_bytes;  /* data bytes of the current message so far */
  gboolean exceeded;
} MtWsMeter;

void     mt_ws_meter_init     (MtWsMeter    *meter,
                               guint64       limit);
/* Feeds @length bytes read from the client (masked frames as sent).
 * Returns how many of them may pass: all of them, or, once a frame header
 * takes its message over the limit, only the bytes before that header
 * (and none after, ever). */
gsize    mt_ws_meter_feed     (MtWsMeter    *meter,
                               const guint8 *data,
                               gsize         length);
gboolean mt_ws_meter_exceeded (const MtWsMeter *meter);

G_END_DECLS
