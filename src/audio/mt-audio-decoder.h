/* mt-audio-decoder.h: decodes the parts of a song that its mood is read from.
 *
 * GStreamer decodes the file (any format its plugins read) to stereo float
 * at MT_AUDIO_SAMPLE_RATE: a mono file is doubled, a 5.1 one mixed down.  A
 * song of up to MT_AUDIO_WHOLE_SONG_S seconds is analysed whole; a longer one in
 * MT_AUDIO_N_WINDOWS windows of MT_AUDIO_WINDOW_S seconds spread over it
 * (reached by seeking, so a ten-hour file costs what a four-minute one
 * does).  Runs in the analyzer helper process only: decoders parse
 * untrusted files.
 */
#pragma once

#include <glib.h>

#include "mt-audio-features.h"

G_BEGIN_DECLS

#define MT_AUDIO_DECODER_ERROR (mt_audio_decoder_error_quark ())

typedef enum {
  MT_AUDIO_DECODER_ERROR_UNREADABLE,   /* not audio, or no plugin decodes it */
  MT_AUDIO_DECODER_ERROR_TOO_SHORT,    /* less than MT_AUDIO_MIN_SECONDS of audio */
  MT_AUDIO_DECODER_ERROR_TIMEOUT,      /* decoding took longer than allowed */
} MtAudioDecoderError;

#define MT_AUDIO_WHOLE_SONG_S 75
#define MT_AUDIO_WINDOW_S 20
#define MT_AUDIO_N_WINDOWS 3
/* A file whose first decoded sample takes longer than this is damaged: a
 * sound file opens in a fraction of a second. */
#define MT_AUDIO_PREROLL_S 10
/* Shorter than this, a beat, a loudness range or a key mean nothing. */
#define MT_AUDIO_MIN_SECONDS 3.0

GQuark   mt_audio_decoder_error_quark (void);

/* Decodes the file at @uri into @features, giving up after @timeout_s
 * seconds.  *out_duration_ms is the file's own duration (0 when it does not
 * say), *out_analysed_ms the audio analysed. */
gboolean mt_audio_decode_into         (const char       *uri,
                                       MtAudioFeatures  *features,
                                       guint             timeout_s,
                                       gint64           *out_duration_ms,
                                       gint64           *out_analysed_ms,
                                       GError          **error);

G_END_DECLS
