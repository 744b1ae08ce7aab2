/* mt-server-audio-type.h: what a song's file holds, read from its first
 * bytes (never its name), and whether a browser (Chromium) can play it;
 * no I/O, so it can be unit tested and fuzzed on its own. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bytes a caller should read for mt_server_sniff_audio() (fewer at the end
 * of a short file). */
#define MT_SERVER_AUDIO_SNIFF_BYTES 4096

typedef enum {
  MT_SERVER_AUDIO_PLAYABLE,    /* @content_type is what to send */
  MT_SERVER_AUDIO_UNPLAYABLE,  /* a known format Chromium cannot play: @format names it */
  MT_SERVER_AUDIO_UNKNOWN,     /* no audio format this knows */
  MT_SERVER_AUDIO_TAG,         /* an ID3v2 tag: sniff again @skip bytes further on */
} MtServerAudioSniff;

/* Looks at @length bytes from the start of a file (or from the end of the
 * tags before it).  @content_type (PLAYABLE: "audio/mpeg", "audio/ogg", …)
 * and @format (a name for people: "MP3", "Ogg Vorbis", "Windows Media
 * Audio", …; NULL for UNKNOWN and TAG) are static strings; @skip is set
 * for TAG only. */
MtServerAudioSniff mt_server_sniff_audio (const guint8  *head,
                                          gsize          length,
                                          const char   **content_type,
                                          const char   **format,
                                          guint64       *skip);

G_END_DECLS
