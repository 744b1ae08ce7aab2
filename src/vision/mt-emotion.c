#define G_LOG_DOMAIN "mt-emotion"

#include "config.h"

#include "mt-emotion.h"

static const char * const emotion_names[MT_N_EMOTIONS] = {
  "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
};

const char *
mt_emotion_to_string (MtEmotion emotion)
{
  g_return_val_if_fail ((guint) emotion < MT_N_EMOTIONS, NULL);
  return emotion_names[emotion];
}

gboolean
mt_emotion_from_string (const char *name,
                        MtEmotion  *emotion)
{
  for (guint i = 0; name != NULL && i < MT_N_EMOTIONS; i++)
    {
      if (g_ascii_strcasecmp (name, emotion_names[i]) == 0)
        {
          if (emotion)
            *emotion = (MtEmotion) i;
          return TRUE;
        }
    }
  return FALSE;
}

MtEmotion
mt_emotion_argmax (const float *probabilities)
{
  guint best = 0;

  for (guint i = 1; i < MT_N_EMOTIONS; i++)
    if (probabilities[i] > probabilities[best])
      best = i;
  return (MtEmotion) best;
}
