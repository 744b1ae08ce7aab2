/* mt-emotion-bars.h: the seven expression confidences of the main face, so
 * that people see how sure the model is, not only its top answer. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MT_TYPE_EMOTION_BARS (mt_emotion_bars_get_type ())
G_DECLARE_FINAL_TYPE (MtEmotionBars, mt_emotion_bars, MT, EMOTION_BARS, GtkWidget)

GtkWidget *mt_emotion_bars_new        (void);
/* MT_N_MOODS probabilities, or NULL for "no face" (all bars empty). */
void       mt_emotion_bars_set_values (MtEmotionBars *self,
                                       const float   *probabilities);

G_END_DECLS
