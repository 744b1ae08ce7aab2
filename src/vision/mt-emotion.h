/* mt-emotion.h: the seven facial expressions, in the order every classifier
 * under models/ outputs them (see the .names files in models/). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MT_EMOTION_ANGRY,
  MT_EMOTION_DISGUST,
  MT_EMOTION_FEAR,
  MT_EMOTION_HAPPY,
  MT_EMOTION_SAD,
  MT_EMOTION_SURPRISE,
  MT_EMOTION_NEUTRAL,
} MtEmotion;

#define MT_N_EMOTIONS 7

const char *mt_emotion_to_string   (MtEmotion   emotion);
gboolean    mt_emotion_from_string (const char *name,
                                    MtEmotion  *emotion);
/* Index of the largest of MT_N_EMOTIONS probabilities. */
MtEmotion   mt_emotion_argmax      (const float *probabilities);

G_END_DECLS
