/* mt-audio-features.h: the descriptors of a song's sound that its mood is
 * read from.
 *
 * Fed with decoded audio (interleaved stereo float at MT_AUDIO_SAMPLE_RATE),
 * one or more windows of a song, it computes what the music-emotion field
 * computes: EBU R128 loudness and loudness range (libebur128), dynamics,
 * tempo with its confidence and the onset rate (aubio), spectral centroid,
 * spread, rolloff, flatness, flux and band energies, MFCC statistics
 * (aubio), and chroma with key and mode strength.
 *
 * Everything is measured below 11 kHz (the rate's Nyquist frequency), a
 * band every codec at usual bit rates keeps, so an MP3 and an Opus copy of
 * one song give close figures.  Silence and digital noise give finite
 * numbers, never NaN.
 *
 * The set of descriptors and their definitions are versioned: stored
 * features of another MT_AUDIO_FEATURES_VERSION are computed again.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Bump when a descriptor is added, removed or computed differently. */
#define MT_AUDIO_FEATURES_VERSION 3

/* Analysis rate: 11 kHz of bandwidth, and half the work of 44.1 kHz. */
#define MT_AUDIO_SAMPLE_RATE 22050

#define MT_TYPE_AUDIO_FEATURES (mt_audio_features_get_type ())
G_DECLARE_FINAL_TYPE (MtAudioFeatures, mt_audio_features, MT, AUDIO_FEATURES, GObject)

/* Number of descriptors and their names ("loudness_integrated", …), in the
 * order mt_audio_features_finish() fills them. */
guint            mt_audio_features_get_n_names (void);
const char      *mt_audio_features_get_name    (guint            index);
/* Index of a descriptor by name, -1 when there is none. */
int              mt_audio_features_find_name   (const char      *name);

MtAudioFeatures *mt_audio_features_new         (void);
/* Adds @n_frames stereo frames (2 * @n_frames floats, left then right). */
void             mt_audio_features_add         (MtAudioFeatures *self,
                                                const float     *interleaved,
                                                gsize            n_frames);
/* Ends a window: the next samples are not continuous with these (a seek),
 * so no frame straddles the jump. */
void             mt_audio_features_end_window  (MtAudioFeatures *self);
/* Seconds of audio added so far. */
double           mt_audio_features_get_seconds (MtAudioFeatures *self);
/* Fills @values (mt_audio_features_get_n_names() of them) from everything
 * added.  Every value is finite. */
void             mt_audio_features_finish      (MtAudioFeatures *self,
                                                double          *values);

G_END_DECLS
