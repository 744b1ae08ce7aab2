/* mt-audio-mood-model.h: a song's valence and arousal from its audio
 * descriptors.
 *
 * The model is data (data/moodtunes-audio-model.json, fitted by
 * src/train/moodtunes-train-audio-mood.py, with its provenance and
 * cross-validated figures in the file): a multinomial logistic regression
 * over Russell's four quadrants on standardized descriptors, whose
 * probabilities give valence = P(Q1) + P(Q4) - P(Q2) - P(Q3) and
 * arousal = P(Q1) + P(Q2) - P(Q3) - P(Q4), both in [-1, 1].  It is
 * validated when loaded: a model made for other descriptors is refused.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MT_AUDIO_MOOD_MODEL_FILE "moodtunes-audio-model.json"

#define MT_TYPE_AUDIO_MOOD_MODEL (mt_audio_mood_model_get_type ())
G_DECLARE_FINAL_TYPE (MtAudioMoodModel, mt_audio_mood_model, MT, AUDIO_MOOD_MODEL, GObject)

MtAudioMoodModel *mt_audio_mood_model_new_from_file (const char        *path,
                                                     GError           **error);
/* Loads MT_AUDIO_MOOD_MODEL_FILE found by mt_data_dirs_find_file(). */
MtAudioMoodModel *mt_audio_mood_model_new_default   (GError           **error);
/* Names the fit ("2026-12-02-l2-0.03"): stored with each song's valence and
 * arousal, so songs scored by an older model are scored again. */
const char       *mt_audio_mood_model_get_version   (MtAudioMoodModel  *self);
/* Valence and arousal from @features (name -> number, as the analyzer gave
 * them).  Fails when a descriptor the model needs is missing or not a
 * finite number. */
gboolean          mt_audio_mood_model_predict       (MtAudioMoodModel  *self,
                                                     JsonObject        *features,
                                                     double            *out_valence,
                                                     double            *out_arousal,
                                                     GError           **error);
/* The same from the descriptors as JSON text (as the library stores them). */
gboolean          mt_audio_mood_model_predict_json  (MtAudioMoodModel  *self,
                                                     const char        *features_json,
                                                     double            *out_valence,
                                                     double            *out_arousal,
                                                     GError           **error);

G_END_DECLS
