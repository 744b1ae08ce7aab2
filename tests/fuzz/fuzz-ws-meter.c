/* fuzz-ws-meter: client bytes through MtWsMeter, the WebSocket message-size
 * meter in front of libsoup.
 *
 * Input: 2 bytes of limit, 4 bytes seeding how the stream is cut into reads,
 * then the stream (frame headers and payloads as a client sends them).  The
 * meter must not depend on how the bytes are cut: fed in pieces it must let
 * the same bytes pass and it must refuse at the same header as fed at once,
 * and never count a message over its limit. */
#include "config.h"

#include <string.h>

#include "mt-fuzz.h"
#include "mt-ws-meter.h"

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  MtWsMeter whole, pieces;
  guint64 limit;
  guint32 seed;
  gsize passed_whole, passed_pieces = 0, at = 0;

  mt_fuzz_init ();

  if (size < 6)
    return 0;
  /* Limits from 0 to about 16 MiB, small ones most often. */
  limit = (guint64) (data[0] | (data[1] << 8));
  limit = (data[1] & 0x80) ? (limit & 0x7FFF) << 9 : limit;
  memcpy (&seed, data + 2, sizeof seed);
  data += 6;
  size -= 6;

  mt_ws_meter_init (&whole, limit);
  passed_whole = mt_ws_meter_feed (&whole, data, size);
  MT_FUZZ_CHECK (whole.message_bytes <= limit);
  if (mt_ws_meter_exceeded (&whole))
    MT_FUZZ_CHECK (passed_whole + 2 <= size);   /* the refused header is cut off */
  else
    MT_FUZZ_CHECK (passed_whole == size);

  mt_ws_meter_init (&pieces, limit);
  while (at < size)
    {
      gsize n, passed;

      seed = seed * 1103515245u + 12345u;
      n = MIN ((gsize) ((seed >> 16) % 23 + 1), size - at);
      if ((seed & 7) == 0)
        n = 1;
      passed = mt_ws_meter_feed (&pieces, data + at, n);
      MT_FUZZ_CHECK (passed <= n);
      MT_FUZZ_CHECK (pieces.message_bytes <= limit);
      passed_pieces += passed;
      if (passed < n)
        {
          /* Refused: from now on nothing passes, ever. */
          MT_FUZZ_CHECK (mt_ws_meter_exceeded (&pieces));
          MT_FUZZ_CHECK (mt_ws_meter_feed (&pieces, data + at, n) == 0);
          break;
        }
      MT_FUZZ_CHECK (!mt_ws_meter_exceeded (&pieces));
      at += n;
    }
  /* The same verdict; cut in pieces, the first bytes of the refused header
   * may have passed in an earlier read (at most 13 of its 14). */
  MT_FUZZ_CHECK (mt_ws_meter_exceeded (&pieces) == mt_ws_meter_exceeded (&whole));
  MT_FUZZ_CHECK (passed_pieces >= passed_whole && passed_pieces - passed_whole <= 13);
  return 0;
}
