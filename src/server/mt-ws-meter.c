#include "config.h"

#include "mt-ws-meter.h"

void
mt_ws_meter_init (MtWsMeter *meter,
                  guint64    limit)
{
  *meter = (MtWsMeter) { .limit = limit };
}

/* The header's full size once its first two bytes are known (RFC 6455 5.2). */
static guint
header_size (const guint8 *header)
{
  guint size = 2;

  switch (header[1] & 0x7f)
    {
    case 126:
      size += 2;
      break;
    case 127:
      size += 8;
      break;
    default:
      break;
    }
  if (header[1] & 0x80)
    size += 4;   /* masking key */
  return size;
}

static guint64
payload_length (const guint8 *header)
{
  guint64 length = header[1] & 0x7f;

  if (length == 126)
    return ((guint64) header[2] << 8) | header[3];
  if (length == 127)
    {
      length = 0;
      for (guint i = 2; i < 10; i++)
        length = (length << 8) | header[i];
    }
  return length;
}

/* A whole header is in: account for its frame.  FALSE when it takes its
 * message over the limit. */
static gboolean
take_header (MtWsMeter *meter)
{
  guint8 opcode = meter->header[0] & 0x0f;
  guint64 length = payload_length (meter->header);

  meter->header_len = 0;
  meter->payload_left = length;
  if (opcode & 0x08)
    return TRUE;   /* control frames (≤ 125 bytes, libsoup checks) stand apart */

  if (opcode != 0)
    meter->message_bytes = 0;   /* the first frame of a new message */
  if (length > meter->limit || meter->message_bytes > meter->limit - length)
    return FALSE;
  meter->message_bytes += length;
  return TRUE;
}

gsize
mt_ws_meter_feed (MtWsMeter    *meter,
                  const guint8 *data,
                  gsize         length)
{
  gsize pos = 0;

  g_return_val_if_fail (meter != NULL, 0);

  if (meter->exceeded)
    return 0;
  while (pos < length)
    {
      gsize header_start;

      if (meter->payload_left > 0)
        {
          gsize n = (gsize) MIN (meter->payload_left, (guint64) (length - pos));

          pos += n;
          meter->payload_left -= n;
          continue;
        }

      /* Where this header began within @data (0 if in an earlier call). */
      header_start = pos >= meter->header_len ? pos - meter->header_len : 0;
      meter->header[meter->header_len++] = data[pos++];
      if (meter->header_len < 2 || meter->header_len < header_size (meter->header))
        continue;
      if (!take_header (meter))
        {
          meter->exceeded = TRUE;
          return header_start;
        }
    }
  return length;
}

gboolean
mt_ws_meter_exceeded (const MtWsMeter *meter)
{
  return meter->exceeded;
}
