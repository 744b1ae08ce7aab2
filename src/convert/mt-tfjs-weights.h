/* mt-tfjs-weights.h: reads the weights of a TensorFlow.js model.
 *
 * Accepts both files TensorFlow.js writes: a weights manifest (a JSON array of
 * groups, as face-api ships) and a graph model's model.json (an object with
 * "weightsManifest" and "modelTopology").  Quantised weights are expanded the
 * way tfjs-core does it, so the floats are bit for bit those the original
 * model computes with.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MT_TFJS_MAX_RANK 4

typedef struct {
  char  *name;
  int    rank;
  int    shape[MT_TFJS_MAX_RANK];
  gsize  n_values;
  float *values;
} MtTfjsTensor;

typedef struct _MtTfjsWeights MtTfjsWeights;

MtTfjsWeights      *mt_tfjs_weights_load         (const char     *json_path,
                                                  GError        **error);
void                mt_tfjs_weights_free         (MtTfjsWeights  *self);

const char         *mt_tfjs_weights_get_path     (MtTfjsWeights  *self);

/* Returns the tensor @name, checking its shape against @shape (@rank values;
 * a value of -1 accepts any size on that axis). */
const MtTfjsTensor *mt_tfjs_weights_get          (MtTfjsWeights  *self,
                                                  const char     *name,
                                                  int             rank,
                                                  const int      *shape,
                                                  GError        **error);

/* The "modelTopology" object of a graph model, or NULL for a plain manifest. */
JsonObject         *mt_tfjs_weights_get_topology (MtTfjsWeights  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtTfjsWeights, mt_tfjs_weights_free)

G_END_DECLS
