/* mt-mood.h: the mood vocabulary shared by the vision and the music sides.
 *
 * The seven values are the facial expressions the classifier reports, in the
 * FER2013 label order, so a classifier output index is also an MtMood.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  /* "No mood detected", e.g. feedback given while no face was seen. */
  MT_MOOD_NONE = -1,
  MT_MOOD_ANGRY = 0,
  MT_MOOD_DISGUST,
  MT_MOOD_FEAR,
  MT_MOOD_HAPPY,
  MT_MOOD_SAD,
  MT_MOOD_SURPRISE,
  MT_MOOD_NEUTRAL,
} MtMood;

#define MT_N_MOODS 7

/* Lower-case English name ("happy"); NULL for a value out of range. */
const char *mt_mood_to_string   (MtMood      mood);
/* Parses a name case-insensitively, surrounding spaces allowed.  Returns FALSE
 * (and leaves *out_mood alone) for NULL or an unknown word. */
gboolean    mt_mood_from_string (const char *text,
                                 MtMood     *out_mood);
/* TRUE for the seven real moods (not MT_MOOD_NONE). */
gboolean    mt_mood_is_valid    (int         mood);
/* "angry, disgust, fear, happy, sad, surprise, neutral" for error messages. */
const char *mt_mood_list_names  (void);
/* The mood with the largest of MT_N_MOODS probabilities (a classifier's
 * output order is the mood order). */
MtMood      mt_mood_argmax      (const float *probabilities);

G_END_DECLS
