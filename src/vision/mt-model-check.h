/* mt-model-check.h: validates Darknet model files before Darknet sees them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The only .weights header we accept: int32 major=0, minor=2, revision=0 and a
 * uint64 "seen" counter, then float32 parameters in the host's byte order. */
#define MT_MODEL_WEIGHTS_HEADER_SIZE 20

/* Upper bound on the size of a .cfg file. */
#define MT_MODEL_CFG_MAX_SIZE (1024 * 1024)

/* What a cfg asks Darknet to build, computed with Darknet's own formulas. */
typedef struct {
  /* Network input, from [net]. */
  int    width;
  int    height;
  int    channels;
  /* Layers after [net], as Darknet numbers them (0-based). */
  int    n_layers;
  /* Shape of the last layer; all 0 when it outputs a flat vector ([softmax]). */
  int    out_width;
  int    out_height;
  int    out_channels;
  /* Values in the network's output (the last layer's outputs). */
  gsize  n_outputs;
  /* Floats Darknet reads from the .weights file after the header. */
  gsize  n_parameters;
  /* Exact size the .weights file must have, in bytes. */
  gsize  weights_size;
  /* Sum of every layer's output values, and the largest convolution scratch
   * buffer in bytes: what Darknet allocates besides the parameters. */
  gsize  n_activations;
  gsize  workspace_size;
} MtModelShape;

/* Checks @cfg_path against a strict whitelist of sections, keys and value
 * ranges, and @weights_path for the exact size the cfg implies.  Errors are in
 * the MT_DARKNET_ERROR domain and name the file, line and key at fault. */
gboolean mt_model_check_files (const char  *cfg_path,
                               const char  *weights_path,
                               GError     **error);

/* Checks @cfg_path alone (as mt_model_check_files() does) and, on success,
 * fills @out_shape (may be NULL). */
gboolean mt_model_check_cfg   (const char    *cfg_path,
                               MtModelShape  *out_shape,
                               GError       **error);

/* The same as if [net] said @width × @height: the shape the network will
 * actually run at after mt_net_resize(), where every size limit applies
 * again (a cfg fine at 64×64 can need gigabytes at 1024×1024). */
gboolean mt_model_check_cfg_at_size (const char    *cfg_path,
                                     int            width,
                                     int            height,
                                     MtModelShape  *out_shape,
                                     GError       **error);

G_END_DECLS
