/* mt-mood-names.c: translated mood names. */
#define G_LOG_DOMAIN "mt-mood-names"

#include "config.h"

#include <glib/gi18n.h>

#include "mt-mood-names.h"

const char *
mt_mood_get_label (int mood)
{
  switch (mood)
    {
    case MT_MOOD_ANGRY: return C_("mood", "Angry");
    case MT_MOOD_DISGUST: return C_("mood", "Disgusted");
    case MT_MOOD_FEAR: return C_("mood", "Afraid");
    case MT_MOOD_HAPPY: return C_("mood", "Happy");
    case MT_MOOD_SAD: return C_("mood", "Sad");
    case MT_MOOD_SURPRISE: return C_("mood", "Surprised");
    case MT_MOOD_NEUTRAL: return C_("mood", "Calm");
    default: return C_("mood", "No Mood");
    }
}

const char *
mt_mood_get_icon_name (int mood)
{
  static const char * const icons[MT_N_MOODS] = {
    "mt-mood-angry-symbolic", "mt-mood-disgust-symbolic", "mt-mood-fear-symbolic",
    "mt-mood-happy-symbolic", "mt-mood-sad-symbolic", "mt-mood-surprise-symbolic",
    "mt-mood-neutral-symbolic",
  };

  return mt_mood_is_valid (mood) ? icons[mood] : "mt-mood-none-symbolic";
}
