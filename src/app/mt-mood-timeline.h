/* mt-mood-timeline.h: the mood over the last minutes, drawn: the seven
 * smoothed probabilities as lines, the steady mood as a band above them,
 * and the songs and ratings marked on the same time axis. */
#pragma once

#include <gtk/gtk.h>

#include "mt-session.h"

G_BEGIN_DECLS

/* Minutes the timeline shows. */
#define MT_MOOD_TIMELINE_MINUTES 5

#define MT_TYPE_MOOD_TIMELINE (mt_mood_timeline_get_type ())
G_DECLARE_FINAL_TYPE (MtMoodTimeline, mt_mood_timeline, MT, MOOD_TIMELINE, GtkWidget)

/* Follows @session's history (NULL: none). */
void        mt_mood_timeline_set_session  (MtMoodTimeline *self,
                                           MtSession      *session);
/* What the timeline shows, in words (also its accessible description):
 * "Mostly happy over the last 5 minutes; sad since 14:02". */
const char *mt_mood_timeline_get_summary  (MtMoodTimeline *self);
/* The colour a mood is drawn in (also the emotion bars' legend). */
void        mt_mood_timeline_get_mood_color (MtMood        mood,
                                             GdkRGBA      *color);

G_END_DECLS
