/* mt-expression-classifier.h: reads the expression of one face. */
#pragma once

#include <glib-object.h>

#include "mt-face.h"
#include "mt-fast-kernels.h"
#include "mt-frame.h"
#include "mt-model-manifest.h"

G_BEGIN_DECLS

#define MT_TYPE_EXPRESSION_CLASSIFIER (mt_expression_classifier_get_type ())
G_DECLARE_FINAL_TYPE (MtExpressionClassifier, mt_expression_classifier, MT, EXPRESSION_CLASSIFIER, GObject)

/* Upper bound on a .names file: seven words. */
#define MT_EXPRESSION_NAMES_MAX_SIZE 4096

/* Loads @spec's network (NAME.cfg, .weights and .names in spec->dir), fed
 * as @spec says; its outputs are put in the mood order by its .names. */
MtExpressionClassifier *mt_expression_classifier_new_from_spec (const MtNetworkSpec *spec,
                                                                GError             **error);
/* The same for the network @name of models_dir's manifest ([Network NAME]). */
MtExpressionClassifier *mt_expression_classifier_new      (const char              *models_dir,
                                                           const char              *name,
                                                           GError                 **error);
const char             *mt_expression_classifier_get_name (MtExpressionClassifier  *self);

/* Reads @path, a .names file of the MT_N_MOODS moods, each exactly once in
 * any order, one a line: @order[i] is the mood of output i. */
gboolean mt_expression_read_mood_names (const char  *path,
                                        int          order[MT_N_MOODS],
                                        GError     **error);

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

/* The threads the network's larger layers are split between (NULL, the
 * default: the caller's alone); the team is the caller's, kept alive while
 * set.  The readings are the same. */
void     mt_expression_classifier_set_team (MtExpressionClassifier *self,
                                            MtFastTeam             *team);
/* What one reading of one face costs the network, in flops (twice its
 * multiply-adds; a mirrored reading costs twice that). */
double   mt_expression_classifier_get_flops (MtExpressionClassifier *self);

/* Number of feature values mt_expression_classifier_read() writes (0: the
 * network's [Network] group names no feature layer). */
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
