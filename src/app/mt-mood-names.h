/* mt-mood-names.h: how the app names and shows the moods to people. */
#pragma once

#include "mt-mood.h"

G_BEGIN_DECLS

/* Translated, capitalised name ("Happy"); "No Mood" for MT_MOOD_NONE. */
const char *mt_mood_get_label (int mood);
/* A symbolic face for the mood, shipped in the app's resources (no emoji
 * font needed): "mt-mood-happy-symbolic", "mt-mood-none-symbolic". */
const char *mt_mood_get_icon_name (int mood);

G_END_DECLS
