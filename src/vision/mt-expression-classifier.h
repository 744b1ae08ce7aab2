/* mt-expression-classifier.h: reads the expression of one face. */
#pragma once

#include <glib-object.h>

#include "mt-face.h"
#include "mt-frame.h"

G_BEGIN_DECLS

#define MT_TYPE_EXPRESSION_CLASSIFIER (mt_expression_classifier_get_type ())
G_DECLARE_FINAL_TYPE (MtExpressionClassifier, mt_expression_classifier, MT, EXPRESSION_CLASSIFIER, GObject)

/* Loads models_dir/NAME.cfg and NAME.weights; NAME is one of the classifiers
 * listed in models/README.md ("emotion-xception", "face-expression"). */
MtExpressionClassifier *mt_expression_classifier_new      (const char              *models_dir,
                                                           const char              *name,
                                                           GError                 **error);
const char             *mt_expression_classifier_get_name (MtExpressionClassifier  *self);

/* Probabilities of the MT_N_MOODS expressions of the face in the square
 * region (x, y, side) of @frame, which may reach past the frame's edges.
 * With @flip, the mirrored face is read too and both readings averaged. */
gboolean mt_expression_classifier_classify (MtExpressionClassifier *self,
                                            const MtFrame          *frame,
                                            float                   x,
                                            float                   y,
                                            float                   side,
                                            gboolean                flip,
                                            float                  *probabilities,
                                            GError                **error);

/* Number of feature values mt_expression_classifier_read() writes. */
gsize    mt_expression_classifier_get_n_features (MtExpressionClassifier *self);

/* Like classify(), and when @features is not NULL also the network's pooled
 * features (for a fitted head), mirrored-averaged like the probabilities. */
gboolean mt_expression_classifier_read     (MtExpressionClassifier *self,
                                            const MtFrame          *frame,
                                            float                   x,
                                            float                   y,
                                            float                   side,
                                            gboolean                flip,
                                            float                  *probabilities,
                                            float                  *features,
                                            GError                **error);

G_END_DECLS
