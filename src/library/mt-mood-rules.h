/* mt-mood-rules.h: initial mood weights of a song from its genre and tag words.
 *
 * The rules are data (data/moodtunes-mood-rules.json), not code, so they can
 * be tuned without a rebuild. */
#pragma once

#include <glib-object.h>

#include "mt-song.h"

G_BEGIN_DECLS

#define MT_TYPE_MOOD_RULES (mt_mood_rules_get_type ())
G_DECLARE_FINAL_TYPE (MtMoodRules, mt_mood_rules, MT, MOOD_RULES, GObject)

#define MT_MOOD_RULES_FILE "moodtunes-mood-rules.json"

MtMoodRules *mt_mood_rules_new_from_file (const char   *path,
                                          GError      **error);
/* Loads MT_MOOD_RULES_FILE found by mt_data_dirs_find_file(). */
MtMoodRules *mt_mood_rules_new_default   (GError      **error);

/* Fills @weights (0..1 per mood, NAN where no rule gives that mood) from the
 * song's genre, title and album.  Returns the number of rules that matched;
 * with none the song gets the default weights. */
guint        mt_mood_rules_apply         (MtMoodRules  *self,
                                          const MtSong *song,
                                          double        weights[MT_N_MOODS]);

G_END_DECLS
