/* mt-test-audio.h: audio made at test time for the audio-analysis tests. */
#pragma once

#include <glib.h>

#include "mt-audio-analyzer.h"

G_BEGIN_DECLS

/* Runs the GStreamer pipeline @description (raw audio through an encoder or
 * muxer, such as "audiotestsrc num-buffers=100 ! wavenc") into the file
 * @path; asserts it worked. */
void             mt_test_audio_make     (const char  *path,
                                         const char  *description);
/* The same for a signal: "audiotestsrc wave=@wave … @seconds s at @rate Hz
 * mono" plus @extra properties of audiotestsrc, encoded by @encoder
 * ("wavenc", "vorbisenc ! oggmux", …). */
void             mt_test_audio_make_signal (const char *path,
                                            const char *wave,
                                            const char *extra,
                                            double      seconds,
                                            int         rate,
                                            const char *encoder);
/* Ticks every @interval_s seconds over a faint pink-noise floor (as music
 * has: aubio takes no onset in digital silence), 22.05 kHz mono WAV. */
void             mt_test_audio_make_clicks (const char *path,
                                            double      interval_s,
                                            double      seconds);
/* A 16-bit PCM WAV header for @n_frames frames of @channels channels at
 * @rate Hz (WAVE_FORMAT_EXTENSIBLE with the usual speaker mask above two
 * channels), written to @fd. */
void             mt_test_audio_write_wav_header (int    fd,
                                                 int    rate,
                                                 int    channels,
                                                 gint64 n_frames);

char            *mt_test_audio_uri      (const char  *path);
/* Analyses @path with @analyzer; asserts it worked and every descriptor is a
 * finite number.  *out_features (optional) holds them by name. */
MtAudioAnalysis *mt_test_audio_analyse  (MtAudioAnalyzer  *analyzer,
                                         const char       *path,
                                         JsonObject      **out_features);
/* Analyses @path expecting MT_HELPER_PROCESS_ERROR @code; returns the
 * message. */
char            *mt_test_audio_analyse_fails (MtAudioAnalyzer *analyzer,
                                              const char      *path,
                                              int              code);
double           mt_test_audio_get      (JsonObject  *features,
                                         const char  *name);

G_END_DECLS
