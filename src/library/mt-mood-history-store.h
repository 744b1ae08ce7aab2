/* mt-mood-history-store.h: the mood over time kept in the library's
 * database, a row a minute, only when the user asks for it (the
 * keep-mood-history setting); session-only otherwise.  Never frames. */
#pragma once

#include "mt-library.h"

G_BEGIN_DECLS

typedef struct {
  gint64 minute;                      /* minutes since the epoch, UTC */
  MtMood mood;                        /* the steady mood, MT_MOOD_NONE without a face */
  float  probabilities[MT_N_MOODS];   /* the minute's mean smoothed probabilities */
} MtMoodMinute;

/* Stores @minute (a later write of the same minute replaces it). */
gboolean mt_library_add_mood_minute     (MtLibrary          *self,
                                         const MtMoodMinute *minute,
                                         GError            **error);
/* The minutes from @since (minutes since the epoch) on, oldest first: an
 * array of MtMoodMinute, or NULL with @error set. */
GArray  *mt_library_list_mood_minutes   (MtLibrary          *self,
                                         gint64              since,
                                         GError            **error);
/* Deletes every stored minute; the number deleted, or -1 with @error. */
gint64   mt_library_delete_mood_history (MtLibrary          *self,
                                         GError            **error);

G_END_DECLS
