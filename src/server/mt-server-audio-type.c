/* mt-server-audio-type.c: a song file's format from its magic bytes.
 *
 * The file's name can lie (an .ogg that is really an MP3, a .wav holding
 * ADPCM), and the page's player needs the truth: a format the browser
 * cannot play is refused with its name (415) before any audio is sent,
 * instead of an <audio> element failing with a decoder error.  What plays
 * was checked in Debian's Chromium 156: MP3, AAC (ADTS and MP4), FLAC (bare
 * and in Ogg), Ogg Vorbis and Opus, WebM/Matroska, WAV with integer PCM or
 * 32-bit float.  Not: MPEG layers I and II, AIFF, 64-bit float or
 * compressed WAV, Speex, WMA, WavPack, Monkey's Audio, Musepack.
 */
#include "config.h"

#include <string.h>

#include "mt-server-audio-type.h"

static gboolean
has_at (const guint8 *head,
        gsize         length,
        gsize         at,
        const char   *magic,
        gsize         n)
{
  return at <= length && n <= length - at && memcmp (head + at, magic, n) == 0;
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static guint16
le16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static MtServerAudioSniff
playable (const char **content_type,
          const char **format,
          const char  *type,
          const char  *name)
{
  *content_type = type;
  *format = name;
  return MT_SERVER_AUDIO_PLAYABLE;
}

static MtServerAudioSniff
unplayable (const char **format,
            const char  *name)
{
  *format = name;
  return MT_SERVER_AUDIO_UNPLAYABLE;
}

/* An MPEG audio frame header (MP3, layers I/II) or an ADTS one (AAC). */
static MtServerAudioSniff
sniff_mpeg (const guint8 *h,
            const char  **content_type,
            const char  **format)
{
  guint version = (h[1] >> 3) & 3, layer = (h[1] >> 1) & 3;

  if (layer == 0)
    {
      /* ADTS: 12 sync bits, then MPEG-4/2, layer 0; 13 sample rates. */
      if ((h[1] & 0xF0) == 0xF0 && ((h[2] >> 2) & 0xF) < 13)
        return playable (content_type, format, "audio/aac", "AAC (ADTS)");
      return MT_SERVER_AUDIO_UNKNOWN;
    }
  if (version == 1 || (h[2] >> 4) == 0xF || ((h[2] >> 2) & 3) == 3)
    return MT_SERVER_AUDIO_UNKNOWN;   /* reserved version, bitrate or rate */
  if (layer == 1)
    return playable (content_type, format, "audio/mpeg", "MP3");
  return unplayable (format, layer == 2 ? "MPEG audio layer II (MP2)" : "MPEG audio layer I");
}

/* What codec the first packet of an Ogg stream announces. */
static MtServerAudioSniff
sniff_ogg (const guint8 *head,
           gsize         length,
           const char  **content_type,
           const char  **format)
{
  gsize packet;

  if (length < 27)
    return MT_SERVER_AUDIO_UNKNOWN;
  packet = 27 + head[26];   /* after the page header and its segment table */
  if (has_at (head, length, packet, "\x01vorbis", 7))
    return playable (content_type, format, "audio/ogg", "Ogg Vorbis");
  if (has_at (head, length, packet, "OpusHead", 8))
    return playable (content_type, format, "audio/ogg", "Ogg Opus");
  if (has_at (head, length, packet, "\x7f" "FLAC", 5))
    return playable (content_type, format, "audio/ogg", "Ogg FLAC");
  if (has_at (head, length, packet, "Speex   ", 8))
    return unplayable (format, "Ogg Speex");
  if (has_at (head, length, packet, "\x80theora", 7))
    return unplayable (format, "Ogg Theora video");
  return MT_SERVER_AUDIO_UNKNOWN;
}

/* RIFF WAVE: its "fmt " chunk says the sample coding. */
static MtServerAudioSniff
sniff_wav (const guint8 *head,
           gsize         length,
           const char  **content_type,
           const char  **format)
{
  gsize at = 12;

  while (at + 8 <= length)
    {
      guint32 size = le32 (head + at + 4);

      if (memcmp (head + at, "fmt ", 4) == 0 && size >= 16 && at + 24 <= length)
        {
          guint tag = le16 (head + at + 8), bits = le16 (head + at + 22);

          /* WAVE_FORMAT_EXTENSIBLE: the real tag opens its sub-format GUID. */
          if (tag == 0xFFFE && size >= 40 && at + 34 <= length)
            tag = le16 (head + at + 32);
          if (tag == 1 && (bits == 8 || bits == 16 || bits == 24 || bits == 32))
            return playable (content_type, format, "audio/wav", "WAV (PCM)");
          if (tag == 3 && bits == 32)
            return playable (content_type, format, "audio/wav", "WAV (32-bit float)");
          if (tag == 3)
            return unplayable (format, "WAV with 64-bit float samples");
          return unplayable (format, "WAV with compressed samples (not PCM)");
        }
      /* Chunks are padded to even sizes; a size past the head ends the walk. */
      if (size > length - at - 8)
        break;
      at += 8 + size + (size & 1);
    }
  return unplayable (format, "WAV whose sample format is not in its first 4 KiB");
}

/* EBML: WebM or another Matroska file, by the header's DocType. */
static MtServerAudioSniff
sniff_ebml (const guint8 *head,
            gsize         length,
            const char  **content_type,
            const char  **format)
{
  gsize end = MIN (length, 128);

  for (gsize at = 4; at + 3 <= end; at++)
    {
      gsize size;

      /* The DocType element (0x4282) with a one-byte size. */
      if (head[at] != 0x42 || head[at + 1] != 0x82 || (head[at + 2] & 0x80) == 0)
        continue;
      size = head[at + 2] & 0x7F;
      if (size >= 4 && has_at (head, length, at + 3, "webm", 4))
        return playable (content_type, format, "audio/webm", "WebM");
      if (size >= 8 && has_at (head, length, at + 3, "matroska", 8))
        return playable (content_type, format, "audio/x-matroska", "Matroska");
      return MT_SERVER_AUDIO_UNKNOWN;
    }
  return MT_SERVER_AUDIO_UNKNOWN;
}

MtServerAudioSniff
mt_server_sniff_audio (const guint8  *head,
                       gsize          length,
                       const char   **content_type,
                       const char   **format,
                       guint64       *skip)
{
  static const guint8 asf_guid[16] = {
    0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
  };
  /* More formats known by a magic at the start that Chromium cannot play. */
  static const struct {
    const char *magic;
    gsize       n;
    const char *name;
  } others[] = {
    { "MAC ",     4, "Monkey's Audio" },
    { "wvpk",     4, "WavPack" },
    { "MPCK",     4, "Musepack" },
    { "MP+",      3, "Musepack" },
    { "TTA1",     4, "True Audio (TTA)" },
    { "MThd",     4, "MIDI" },
    { "#!AMR",    5, "AMR" },
    { ".snd",     4, "Sun AU" },
    { ".ra\xfd", 4, "RealAudio" },
    { "DSD ",     4, "DSD (DSF)" },
    { "FRM8",     4, "DSD (DFF)" },
  };

  *content_type = NULL;
  *format = NULL;
  *skip = 0;

  if (has_at (head, length, 0, "ID3", 3) && length >= 10)
    {
      /* ID3v2: a syncsafe size after the header, a footer when flagged. */
      if (head[3] == 0xFF || head[4] == 0xFF ||
          (head[6] | head[7] | head[8] | head[9]) & 0x80)
        return MT_SERVER_AUDIO_UNKNOWN;
      *skip = 10 + (((guint64) head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]) +
              ((head[5] & 0x10) ? 10 : 0);
      return MT_SERVER_AUDIO_TAG;
    }
  if (length >= 4 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0)
    return sniff_mpeg (head, content_type, format);
  if (has_at (head, length, 0, "fLaC", 4))
    return playable (content_type, format, "audio/flac", "FLAC");
  if (has_at (head, length, 0, "OggS", 4))
    return sniff_ogg (head, length, content_type, format);
  if (has_at (head, length, 0, "RIFF", 4) && has_at (head, length, 8, "WAVE", 4))
    return sniff_wav (head, length, content_type, format);
  if (has_at (head, length, 4, "ftyp", 4))
    return playable (content_type, format, "audio/mp4", "MPEG-4 audio");
  if (has_at (head, length, 0, "\x1a\x45\xdf\xa3", 4))
    return sniff_ebml (head, length, content_type, format);
  if (has_at (head, length, 0, (const char *) asf_guid, sizeof asf_guid))
    return unplayable (format, "Windows Media Audio (ASF)");
  if (has_at (head, length, 0, "FORM", 4) &&
      (has_at (head, length, 8, "AIFF", 4) || has_at (head, length, 8, "AIFC", 4)))
    return unplayable (format, "AIFF");
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    if (has_at (head, length, 0, others[i].magic, others[i].n))
      return unplayable (format, others[i].name);
  return MT_SERVER_AUDIO_UNKNOWN;
}
