/* mt-classifier-pool.h: reads one face with several expression networks at
 * once, on helper threads as well as the caller's. */
#pragma once

#include <glib-object.h>

#include "mt-expression-classifier.h"
#include "mt-model-manifest.h"

G_BEGIN_DECLS

#define MT_TYPE_CLASSIFIER_POOL (mt_classifier_pool_get_type ())
G_DECLARE_FINAL_TYPE (MtClassifierPool, mt_classifier_pool, MT, CLASSIFIER_POOL, GObject)

/* A pool over @classifiers (1 to MT_MODEL_MAX_NETWORKS, referenced), with
 * one helper thread fewer than there are networks or processors, whichever
 * is less (none on one processor). */
MtClassifierPool *mt_classifier_pool_new         (MtExpressionClassifier **classifiers,
                                                  guint                    n_classifiers);
/* Whether helper threads read some networks while the caller reads the
 * others (TRUE unless the machine has one processor); FALSE reads them one
 * after the other on the calling thread. */
void              mt_classifier_pool_set_parallel (MtClassifierPool       *self,
                                                   gboolean                parallel);
gboolean          mt_classifier_pool_get_parallel (MtClassifierPool       *self);
/* The threads the caller's networks split their larger layers between
 * once the helpers are done (the caller's, kept alive while set; NULL: no
 * splitting): the helpers read the cheapest networks, up to their share of
 * the work, and the caller the others, so its last ones finish on every
 * core. */
void              mt_classifier_pool_set_team     (MtClassifierPool       *self,
                                                   MtFastTeam             *team);

/* Each network's probabilities for the face in the square region (x, y,
 * side) of @frame, as mt_expression_classifier_classify() gives them:
 * @probabilities[i] for network i.  Returns when all are read; the first
 * network's error, if any, is the one reported.  One caller at a time. */
gboolean          mt_classifier_pool_classify    (MtClassifierPool       *self,
                                                  const MtFrame          *frame,
                                                  float                   x,
                                                  float                   y,
                                                  float                   side,
                                                  gboolean                flip,
                                                  float                  (*probabilities)[MT_N_MOODS],
                                                  GError                **error);

G_END_DECLS
