/* mt-audio-moods.h: a song's mood weights from the valence and arousal of
 * its sound.
 *
 * The audio model places a song on the valence/arousal plane; this maps
 * that point to the seven moods.  Each mood has a centre on the plane and a
 * width, and the weight falls off with the distance from the centre.  The
 * mapping and how much tags count against it are data
 * (data/moodtunes-audio-moods.json, next to the mood rules), not code, so a
 * benchmark can tune them without a rebuild. */
#pragma once

#include <glib-object.h>

#include "mt-mood.h"

G_BEGIN_DECLS

#define MT_TYPE_AUDIO_MOODS (mt_audio_moods_get_type ())
G_DECLARE_FINAL_TYPE (MtAudioMoods, mt_audio_moods, MT, AUDIO_MOODS, GObject)

#define MT_AUDIO_MOODS_FILE "moodtunes-audio-moods.json"

/* Loads and checks the file strictly: an unknown key, a missing mood or
 * field, a number that is not finite or out of range is an error that says
 * where (a mistyped key would otherwise be silently ignored). */
MtAudioMoods *mt_audio_moods_new_from_file    (const char    *path,
                                               GError       **error);
/* Loads MT_AUDIO_MOODS_FILE found by mt_data_dirs_find_file(). */
MtAudioMoods *mt_audio_moods_new_default      (GError       **error);

/* Fills @weights (each in [0, 1]: exp(-d² / 2σ²), d the distance from the
 * mood's centre) for a song at (@valence, @arousal), both in [-1, 1] (values
 * outside are clamped). */
void          mt_audio_moods_apply            (MtAudioMoods  *self,
                                               double         valence,
                                               double         arousal,
                                               double         weights[MT_N_MOODS]);
/* How much the tag rules count against the audio weights, in [0, 1]
 * (mt_library_set_audio_mood()). */
double        mt_audio_moods_get_tag_weight   (MtAudioMoods  *self);
/* A short checksum of the mapping's numbers (not its comments): put it in
 * the model version given to mt_library_set_audio_mood(), so that a retuned
 * mapping re-derives every song's weights (mt_library_list_audio_stale()). */
const char   *mt_audio_moods_get_fingerprint  (MtAudioMoods  *self);

G_END_DECLS
