#define G_LOG_DOMAIN "mt-mood"

#include "config.h"

#include <string.h>

#include "mt-mood.h"

static const char * const mood_names[MT_N_MOODS] = {
  "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
};

const char *
mt_mood_to_string (MtMood mood)
{
  if (!mt_mood_is_valid (mood))
    return NULL;
  return mood_names[mood];
}

gboolean
mt_mood_is_valid (int mood)
{
  return mood >= 0 && mood < MT_N_MOODS;
}

gboolean
mt_mood_from_string (const char *text,
                     MtMood     *out_mood)
{
  g_autofree char *copy = NULL;

  g_return_val_if_fail (out_mood != NULL, FALSE);

  if (text == NULL)
    return FALSE;

  copy = g_strstrip (g_strdup (text));
  for (int i = 0; i < MT_N_MOODS; i++)
    {
      if (g_ascii_strcasecmp (copy, mood_names[i]) == 0)
        {
          *out_mood = (MtMood) i;
          return TRUE;
        }
    }
  return FALSE;
}

const char *
mt_mood_list_names (void)
{
  return "angry, disgust, fear, happy, sad, surprise, neutral";
}

MtMood
mt_mood_argmax (const float *probabilities)
{
  guint best = 0;

  for (guint i = 1; i < MT_N_MOODS; i++)
    if (probabilities[i] > probabilities[best])
      best = i;
  return (MtMood) best;
}
