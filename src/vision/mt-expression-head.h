/* mt-expression-head.h: the fitted expression head over both classifiers. */
#pragma once

#include <glib-object.h>

#include "mt-face.h"
#include "mt-frame.h"
#include "mt-model-manifest.h"

G_BEGIN_DECLS

/* models/expression-head.{cfg,weights,names} */
#define MT_EXPRESSION_HEAD_NAME "expression-head"

#define MT_TYPE_EXPRESSION_HEAD (mt_expression_head_get_type ())
G_DECLARE_FINAL_TYPE (MtExpressionHead, mt_expression_head, MT, EXPRESSION_HEAD, GObject)

/* How much the mini-Xception's own reading counts against the fitted head's
 * (chosen on FER2013 PublicTest with moodtunes-train-head --choose). */
#define MT_EXPRESSION_HEAD_XCEPTION_WEIGHT 0.5f

/* Loads emotion-xception and face-expression as @models_dir's manifest
 * describes them and, with @load_head, the head fitted on face-expression's
 * features (without it, only read_features() works: that is how the head is
 * trained). */
MtExpressionHead *mt_expression_head_new            (const char        *models_dir,
                                                     gboolean           load_head,
                                                     GError           **error);
/* The same with the head @head_name (NULL: none) of @models_dir over
 * @networks: the mini-Xception first, then the network whose features the
 * head reads (as a models manifest's [Model] names them). */
MtExpressionHead *mt_expression_head_new_full       (const char        *models_dir,
                                                     const char        *head_name,
                                                     const MtNetworkSpec * const *networks,
                                                     GError           **error);
guint             mt_expression_head_get_n_features (MtExpressionHead  *self);

/* For the face in the square region (x, y, side): face-expression's pooled
 * features (what the head reads) and emotion-xception's probabilities, with
 * @mirror both averaged with the mirrored face (twice the work). */
gboolean          mt_expression_head_read_features  (MtExpressionHead  *self,
                                                     const MtFrame     *frame,
                                                     float              x,
                                                     float              y,
                                                     float              side,
                                                     gboolean           mirror,
                                                     float             *features,
                                                     float             *xception,
                                                     GError           **error);

/* MT_N_MOODS probabilities: the fitted head's reading blended with the
 * mini-Xception's by MT_EXPRESSION_HEAD_XCEPTION_WEIGHT. */
gboolean          mt_expression_head_classify       (MtExpressionHead  *self,
                                                     const MtFrame     *frame,
                                                     float              x,
                                                     float              y,
                                                     float              side,
                                                     gboolean           mirror,
                                                     float             *probabilities,
                                                     GError           **error);

G_END_DECLS
