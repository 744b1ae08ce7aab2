/* fuzz-audio-request: what GET /api/v1/songs/{id}/audio reads before it
 * sends a byte: the client's Range header (mt_server_parse_range) and the
 * first bytes of the song's file (mt_server_sniff_audio).
 *
 * Input: 8 bytes of file size (little-endian), the Range header up to the
 * first NUL, then the file's first bytes.  A partial range must lie in the
 * file; the sniffer must read only the bytes it is given (each is a copy
 * of its own size, so ASan sees any read past it) and say a type exactly
 * when the format is playable, and a tag only with a skip past its
 * header. */
#include "config.h"

#include <string.h>

#include "mt-fuzz.h"
#include "mt-server-audio-type.h"
#include "mt-server-range.h"

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autofree char *header = NULL;
  g_autofree char *trimmed = NULL;
  g_autofree guint8 *head = NULL;
  const guint8 *nul;
  const char *content_type, *format;
  guint64 file_size = 0, first, last, skip;
  MtServerRange range;
  MtServerAudioSniff sniff;
  gsize header_length, head_length;

  mt_fuzz_init ();

  if (size < 8)
    return 0;
  for (int i = 7; i >= 0; i--)
    file_size = (file_size << 8) | data[i];
  /* Small files most often, where the edges are. */
  if (data[7] & 0x80)
    file_size &= 0xFFFF;
  data += 8;
  size -= 8;
  nul = memchr (data, '\0', size);
  header_length = nul != NULL ? (gsize) (nul - data) : size;
  header = g_strndup ((const char *) data, header_length);

  range = mt_server_parse_range (header, file_size, &first, &last);
  MT_FUZZ_CHECK (range == MT_SERVER_RANGE_WHOLE || range == MT_SERVER_RANGE_PARTIAL ||
                 range == MT_SERVER_RANGE_UNSATISFIABLE);
  if (range == MT_SERVER_RANGE_PARTIAL)
    MT_FUZZ_CHECK (first <= last && last < file_size);
  else
    MT_FUZZ_CHECK (first == 0 && last == 0);
  /* The header without its unit is never a partial range. */
  trimmed = g_strchug (g_strdup (header));
  if (g_ascii_strncasecmp (trimmed, "bytes=", 6) != 0)
    MT_FUZZ_CHECK (range == MT_SERVER_RANGE_WHOLE);

  head_length = nul != NULL ? size - header_length - 1 : 0;
  head = g_memdup2 (nul != NULL ? nul + 1 : data, head_length);
  sniff = mt_server_sniff_audio (head, head_length, &content_type, &format, &skip);
  MT_FUZZ_CHECK ((sniff == MT_SERVER_AUDIO_PLAYABLE) == (content_type != NULL));
  MT_FUZZ_CHECK ((sniff == MT_SERVER_AUDIO_PLAYABLE || sniff == MT_SERVER_AUDIO_UNPLAYABLE) == (format != NULL));
  MT_FUZZ_CHECK ((sniff == MT_SERVER_AUDIO_TAG) == (skip >= 10));
  if (content_type != NULL)
    MT_FUZZ_CHECK (g_str_has_prefix (content_type, "audio/"));
  return 0;
}
