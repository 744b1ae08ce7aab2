/* mt-mood-strategies.h: what a playlist aims for, given the detected mood.
 *
 * "match" plays music that fits the mood; "lift" moves the listener toward a
 * better one in stages (sad -> calm -> happy).  The mapping is data
 * (data/moodtunes-strategies.json). */
#pragma once

#include <glib-object.h>

#include "mt-mood.h"

G_BEGIN_DECLS

typedef enum {
  MT_STRATEGY_MATCH = 0,
  MT_STRATEGY_LIFT,
} MtStrategy;

#define MT_N_STRATEGIES 2

/* One stage of a playlist: relative weights of the song moods to rank by
 * (0 for moods that do not count). */
typedef struct {
  double moods[MT_N_MOODS];
} MtMoodStage;

#define MT_TYPE_MOOD_STRATEGIES (mt_mood_strategies_get_type ())
G_DECLARE_FINAL_TYPE (MtMoodStrategies, mt_mood_strategies, MT, MOOD_STRATEGIES, GObject)

#define MT_MOOD_STRATEGIES_FILE "moodtunes-strategies.json"

const char       *mt_strategy_to_string            (MtStrategy         strategy);
gboolean          mt_strategy_from_string          (const char        *text,
                                                    MtStrategy        *out_strategy);

MtMoodStrategies *mt_mood_strategies_new_from_file (const char        *path,
                                                    GError           **error);
MtMoodStrategies *mt_mood_strategies_new_default   (GError           **error);

/* The stages (at least one) for a detected mood, in playing order. */
const MtMoodStage *mt_mood_strategies_get_stages   (MtMoodStrategies  *self,
                                                    MtStrategy         strategy,
                                                    MtMood             mood,
                                                    guint             *n_stages);

G_END_DECLS
