/* mt-fast-kernels.h: fast CPU forward kernels for the layers our networks use.
 *
 * Plain C on plain descriptors (no Darknet types): mt-darknet.c converts
 * Darknet layers into these and calls them in place of Darknet's own forward
 * functions.  Every kernel reproduces Darknet's semantics exactly (output size
 * formulas, padding rules, order of bias and activation); only the floating
 * point summation order differs.  Tensors are planar CHW floats, batch 1.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MT_FAST_ACTIVATION_LINEAR,
  MT_FAST_ACTIVATION_RELU,
  MT_FAST_ACTIVATION_LEAKY,     /* x > 0 ? x : 0.1 x */
  MT_FAST_ACTIVATION_LOGISTIC,  /* 1 / (1 + e^-x) */
} MtFastActivation;

/* Growable, aligned work memory.  One per network: kernels using the same
 * scratch must not run concurrently. */
typedef struct {
  float *data;
  gsize  n_floats;
} MtFastScratch;

void           mt_fast_scratch_clear      (MtFastScratch *scratch);

/* Threads that split one layer's work between them (the caller's among
 * them), for a frame's latency on a machine with cores to spare.  Kernels
 * given a team split what is large enough to gain and give the same results
 * as without one, bit for bit: each output is still summed by one thread in
 * the same order.  A team serves one network at a time. */
typedef struct _MtFastTeam MtFastTeam;

MtFastTeam    *mt_fast_team_new           (guint       n_threads);
void           mt_fast_team_free          (MtFastTeam *team);
/* 1 for NULL, which the kernels take as the caller alone. */
guint          mt_fast_team_get_n_threads (MtFastTeam *team);
/* How many layers so far were split between threads (tests, benchmarks). */
guint64        mt_fast_team_get_n_splits  (MtFastTeam *team);
/* The network is done: the helpers sleep now instead of spinning for the
 * next layer. */
void           mt_fast_team_rest          (MtFastTeam *team);
/* While *@busy (atomic) is above 0, layers run on the caller alone: the
 * cores are taken by other work of the same frame (the classifier pool's
 * helpers reading other networks).  NULL splits whenever it gains. */
void           mt_fast_team_set_gate      (MtFastTeam *team,
                                           const gint *busy);

/* A convolution as Darknet's make_convolutional_layer() sees it: @pad is the
 * zero padding on every side, out_w = (w + 2 pad - size) / stride + 1. */
typedef struct {
  int c, h, w;
  int n;
  int groups;
  int size;
  int stride;
  int pad;
  MtFastActivation activation;
} MtFastConvShape;

typedef struct _MtFastConv MtFastConv;

int            mt_fast_conv_out_width     (const MtFastConvShape *shape);
int            mt_fast_conv_out_height    (const MtFastConvShape *shape);

/* Whether mt_fast_conv_new() can run @shape: plain convolutions (groups 1)
 * and depthwise ones (groups == c == n), any size, stride and padding.  A
 * 1x1 kernel with stride or padding is refused: Darknet reads its input as
 * if both were absent, and we match Darknet, not the textbook. */
gboolean       mt_fast_conv_supports      (const MtFastConvShape *shape);

/* Prepares a convolution: copies and repacks @weights (n × c/groups × size ×
 * size, Darknet's order) and @biases (n), so later changes to those arrays
 * are not seen.  Returns NULL when the shape is not supported. */
MtFastConv    *mt_fast_conv_new           (const MtFastConvShape *shape,
                                           const float           *weights,
                                           const float           *biases);
void           mt_fast_conv_free          (MtFastConv            *conv);

/* output (n × out_h × out_w) = activation (conv (input) + bias); @team may
 * be NULL. */
void           mt_fast_conv_forward       (const MtFastConv      *conv,
                                           const float           *input,
                                           float                 *output,
                                           MtFastScratch         *scratch,
                                           MtFastTeam            *team);

/* Darknet's [maxpool]: windows start at -(padding / 2); out_w = (w + padding -
 * size) / stride + 1; taps outside the input count as -FLT_MAX. */
typedef struct {
  int c, h, w;
  int size;
  int stride;
  int padding;
} MtFastPoolShape;

int            mt_fast_maxpool_out_width  (const MtFastPoolShape *shape);
int            mt_fast_maxpool_out_height (const MtFastPoolShape *shape);
gboolean       mt_fast_maxpool_supports   (const MtFastPoolShape *shape);
void           mt_fast_maxpool_forward    (const MtFastPoolShape *shape,
                                           const float           *input,
                                           float                 *output,
                                           MtFastScratch         *scratch);

/* Darknet's [avgpool]: the mean of each whole channel, output c values. */
void           mt_fast_avgpool_forward    (int                    c,
                                           int                    h,
                                           int                    w,
                                           const float           *input,
                                           float                 *output);

/* Darknet's [shortcut]: output = activation (a + b), or activation (a) with
 * @b NULL (the channels past a narrower added layer), over @n values in
 * channels of @plane (a team splits each plane the same way); @team may be
 * NULL. */
void           mt_fast_add_forward        (gsize                  n,
                                           gsize                  plane,
                                           const float           *a,
                                           const float           *b,
                                           MtFastActivation       activation,
                                           float                 *output,
                                           MtFastTeam            *team);

/* Instruction sets the kernels are built for; the best one the CPU has is
 * used unless told otherwise (tests and benchmarks compare them). */
typedef enum {
  MT_FAST_ISA_GENERIC,
  MT_FAST_ISA_AVX2,
  MT_FAST_ISA_AVX512,
} MtFastIsa;

MtFastIsa      mt_fast_kernels_get_best_isa (void);
MtFastIsa      mt_fast_kernels_get_isa      (void);
/* Uses @isa, or the best one below it that the CPU has, from now on. */
void           mt_fast_kernels_set_isa      (MtFastIsa isa);
const char    *mt_fast_kernels_isa_name     (MtFastIsa isa);

G_END_DECLS
