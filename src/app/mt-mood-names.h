/* mt-mood-names.h: how the app names and shows the moods to people. */
#pragma once

#include "mt-mood.h"

G_BEGIN_DECLS

/* Translated, capitalised name ("Happy"); "No Mood" for MT_MOOD_NONE. */
const char *mt_mood_get_label (int mood);
/* An emoji face for the mood. */
const char *mt_mood_get_emoji (int mood);

G_END_DECLS
