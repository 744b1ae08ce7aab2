/* mt-darknet.h: the one door to Darknet.
 *
 * Darknet exports hundreds of generic symbols (error, make_list, top_k…), exits
 * or crashes on bad files and chatters on stderr.  Everything in Moodtunes goes
 * through this small API instead; darknet.h is included by mt-darknet.c only.
 */
#pragma once

#include <glib.h>

#include "mt-fast-kernels.h"

G_BEGIN_DECLS

#define MT_DARKNET_ERROR (mt_darknet_error_quark ())

typedef enum {
  MT_DARKNET_ERROR_INVALID_CFG,
  MT_DARKNET_ERROR_INVALID_WEIGHTS,
  MT_DARKNET_ERROR_INVALID_INPUT,
} MtDarknetError;

/* A loaded network.  One instance must only be used from one thread at a time;
 * give each worker thread its own. */
typedef struct _MtNet MtNet;

GQuark       mt_darknet_error_quark   (void);

/* Lets Darknet's own loading messages through to stderr (off by default). */
void         mt_darknet_set_verbose   (gboolean verbose);

MtNet       *mt_net_load              (const char  *cfg_path,
                                       const char  *weights_path,
                                       GError     **error);
void         mt_net_free              (MtNet       *self);

int          mt_net_get_width         (MtNet       *self);
int          mt_net_get_height        (MtNet       *self);
int          mt_net_get_channels      (MtNet       *self);
gsize        mt_net_get_input_size    (MtNet       *self);
gsize        mt_net_get_output_size   (MtNet       *self);
int          mt_net_get_n_layers      (MtNet       *self);

/* Input sizes mt_net_resize() accepts (each side a multiple of 32). */
#define MT_NET_MIN_SIDE 64
#define MT_NET_MAX_SIDE 1024

/* Changes the input size to @width × @height (Darknet's resize_network():
 * every layer's output is reallocated, so earlier outputs and layer output
 * pointers become invalid; the fast layers are prepared again).  Refuses
 * sizes that are not multiples of 32 within MT_NET_MIN_SIDE..MT_NET_MAX_SIDE
 * and networks with layers Darknet cannot resize; the network is unchanged
 * then. */
gboolean     mt_net_resize            (MtNet       *self,
                                       int          width,
                                       int          height,
                                       GError     **error);

/* Runs the network on a planar CHW float input of mt_net_get_input_size()
 * values.  The returned output belongs to the network and is overwritten by
 * the next call: copy what you keep. */
const float *mt_net_forward           (MtNet       *self,
                                       const float *input);

/* Output of layer @index after the last forward (for features, tests). */
const float *mt_net_get_layer_output  (MtNet       *self,
                                       int          index,
                                       gsize       *n_values);

/* Output shape of layer @index (width, height, channels; any may be NULL):
 * for networks with several outputs, such as a detector's heads. */
void         mt_net_get_layer_shape   (MtNet       *self,
                                       int          index,
                                       int         *width,
                                       int         *height,
                                       int         *channels);

/* Fast layers: after loading, the layers whose configuration our own
 * kernels (mt-fast-kernels.h) support run those instead of Darknet's forward
 * functions, with the same results (the kernels do Darknet's sums in
 * Darknet's order).  On by default; FALSE restores Darknet's own forward for
 * every layer (for comparisons).  The kernels copy the weights when switched
 * on.  MT_DARKNET_FAST=0 in the environment makes FALSE the default. */
void         mt_net_set_fast          (MtNet       *self,
                                       gboolean     fast);
gboolean     mt_net_get_fast          (MtNet       *self);
/* Threads the fast layers split each large layer's work between (the
 * caller's among them; 1, the default, is the caller alone): lowers one
 * forward's latency by using idle cores, with the same results bit for
 * bit.  The helpers are started here and kept until changed or freed. */
void         mt_net_set_n_threads     (MtNet       *self,
                                       guint        n_threads);
/* The same with a team the caller owns and keeps alive while it is set
 * (one team can serve several networks run one after the other on the same
 * thread); NULL is one thread. */
void         mt_net_set_team          (MtNet       *self,
                                       MtFastTeam  *team);
/* Multiply-adds times two of the convolutional and connected layers: what a
 * forward costs, for planning who runs which network. */
double       mt_net_get_flops         (MtNet       *self);
guint        mt_net_get_n_threads     (MtNet       *self);
/* How many layer forwards so far were split between threads (tests). */
guint64      mt_net_get_n_split_layers (MtNet      *self);
/* Whether layer @index runs a fast forward now. */
gboolean     mt_net_layer_is_fast     (MtNet       *self,
                                       int          index);

/* For benchmarks: what layer @index is, in a few words ("conv 3x3/2 3>16
 * leaky", "depthwise 3x3/1 32", "maxpool 2x2/2"...; free it), and its
 * floating point operations per forward: 2 · k · k · c / groups · n · out_w ·
 * out_h for a convolution (a multiply and an add per weight and output), 0
 * for the others.  @is_dense (may be NULL) is TRUE for convolutions with
 * groups 1. */
char        *mt_net_describe_layer    (MtNet       *self,
                                       int          index,
                                       double      *flops,
                                       gboolean    *is_dense);

/* Runs one forward as mt_net_forward() does and adds each layer's wall-clock
 * time in ms to @layer_ms[index] (mt_net_get_n_layers() entries). */
const float *mt_net_forward_profiled  (MtNet       *self,
                                       const float *input,
                                       double      *layer_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtNet, mt_net_free)

G_END_DECLS
