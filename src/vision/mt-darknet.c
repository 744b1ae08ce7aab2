/* mt-darknet.c: the only file that includes darknet.h (see mt-darknet.h). */
#define G_LOG_DOMAIN "mt-darknet"

#include "config.h"

#include <fcntl.h>
#include <unistd.h>
#include <math.h>
#include <darknet.h>

#include "mt-darknet.h"
#include "mt-fast-kernels.h"
#include "mt-model-check.h"

typedef struct _FastLayer FastLayer;

static gboolean fast_layers_by_default (void);

struct _MtNet {
  network *net;
  char    *cfg_path;   /* checked again at every new size */

  /* Fast layers (see the section below): what was replaced, to restore it. */
  gboolean fast;
  FastLayer **fast_layers;  /* n entries, NULL where Darknet's forward runs */
  MtFastScratch scratch;
  MtFastTeam *team;         /* NULL: one thread */
  MtFastTeam *own_team;     /* mt_net_set_n_threads()'s, or NULL */
};

G_DEFINE_QUARK (mt-darknet-error-quark, mt_darknet_error)

/* Darknet's parser is not thread-safe (it consumes rand() and uses globals):
 * every load is serialised through this lock. */
static GMutex load_lock;
static gboolean verbose;

void
mt_darknet_set_verbose (gboolean enable)
{
  verbose = enable;
}

/* Darknet prints a layer table and "Loading weights…" to stderr on every load;
 * only redirecting the file descriptor silences it. */
static int
quiet_stderr_begin (void)
{
  int saved, devnull;

  if (verbose)
    return -1;

  fflush (stderr);
  saved = dup (STDERR_FILENO);
  devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved < 0 || devnull < 0)
    {
      if (saved >= 0)
        close (saved);
      if (devnull >= 0)
        close (devnull);
      return -1;
    }
  dup2 (devnull, STDERR_FILENO);
  close (devnull);
  return saved;
}

static void
quiet_stderr_end (int saved)
{
  if (saved < 0)
    return;
  fflush (stderr);
  dup2 (saved, STDERR_FILENO);
  close (saved);
}

static gboolean
parameters_are_finite (network *net)
{
  for (int i = 0; i < net->n; i++)
    {
      const layer *l = &net->layers[i];
      gsize n_biases = 0;

      if (l->type == CONVOLUTIONAL)
        n_biases = l->n;
      else if (l->type == CONNECTED)
        n_biases = l->outputs;

      for (gsize j = 0; l->weights && j < (gsize) l->nweights; j++)
        if (!isfinite (l->weights[j]))
          return FALSE;
      for (gsize j = 0; l->biases && j < n_biases; j++)
        if (!isfinite (l->biases[j]))
          return FALSE;
    }
  return TRUE;
}

MtNet *
mt_net_load (const char  *cfg_path,
             const char  *weights_path,
             GError     **error)
{
  g_autofree char *cfg = NULL;
  g_autofree char *weights = NULL;
  network *net;
  int saved;

  g_return_val_if_fail (cfg_path != NULL, NULL);
  g_return_val_if_fail (weights_path != NULL, NULL);

  /* Darknet exits or crashes on a bad cfg and silently accepts bad weights:
   * it only ever sees files that passed our own checks. */
  if (!mt_model_check_files (cfg_path, weights_path, error))
    return NULL;

  cfg = g_strdup (cfg_path);
  weights = g_strdup (weights_path);

  g_mutex_lock (&load_lock);
  saved = quiet_stderr_begin ();
  net = load_network (cfg, weights, 0);
  if (net != NULL)
    set_batch_network (net, 1);
  quiet_stderr_end (saved);
  g_mutex_unlock (&load_lock);

  if (net == NULL)
    {
      g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                   "Darknet could not load “%s”", cfg_path);
      return NULL;
    }

  if (!parameters_are_finite (net))
    {
      free_network (net);
      g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_WEIGHTS,
                   "“%s” holds NaN or infinite parameters", weights_path);
      return NULL;
    }

  MtNet *self = g_new0 (MtNet, 1);
  self->net = net;
  self->cfg_path = g_strdup (cfg_path);
  mt_net_set_fast (self, fast_layers_by_default ());
  return self;
}

void
mt_net_free (MtNet *self)
{
  if (self == NULL)
    return;
  /* Darknet frees what it allocated: give its pointers back first. */
  mt_net_set_fast (self, FALSE);
  mt_fast_team_free (self->own_team);
  /* free_network() forgets these (tens of MiB of workspace per network). */
  free (self->net->workspace);
  free (self->net->seen);
  free (self->net->t);
  free (self->net->cost);
  free_network (self->net);
  g_free (self->cfg_path);
  g_free (self);
}

int
mt_net_get_width (MtNet *self)
{
  return self->net->w;
}

int
mt_net_get_height (MtNet *self)
{
  return self->net->h;
}

int
mt_net_get_channels (MtNet *self)
{
  return self->net->c;
}

gsize
mt_net_get_input_size (MtNet *self)
{
  return (gsize) self->net->inputs;
}

gsize
mt_net_get_output_size (MtNet *self)
{
  return (gsize) self->net->outputs;
}

int
mt_net_get_n_layers (MtNet *self)
{
  return self->net->n;
}

const float *
mt_net_forward (MtNet       *self,
                const float *input)
{
  const float *output;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (input != NULL, NULL);

  /* network_predict() takes a non-const pointer but only reads the input. */
  output = network_predict (self->net, (float *) input);
  mt_fast_team_rest (self->team);
  return output;
}

void
mt_net_set_n_threads (MtNet *self,
                      guint  n_threads)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (n_threads >= 1);

  if (self->own_team != NULL && n_threads == mt_fast_team_get_n_threads (self->own_team))
    return;
  mt_net_set_team (self, NULL);
  if (n_threads > 1)
    self->team = self->own_team = mt_fast_team_new (n_threads);
}

void
mt_net_set_team (MtNet      *self,
                 MtFastTeam *team)
{
  g_return_if_fail (self != NULL);

  g_clear_pointer (&self->own_team, mt_fast_team_free);
  self->team = team;
}

double
mt_net_get_flops (MtNet *self)
{
  double flops = 0.0;

  g_return_val_if_fail (self != NULL, 0.0);

  for (int i = 0; i < self->net->n; i++)
    {
      const layer *l = &self->net->layers[i];

      if (l->type == CONVOLUTIONAL)
        flops += 2.0 * l->size * l->size * (l->c / MAX (l->groups, 1)) * l->n * l->out_w * l->out_h;
      else if (l->type == CONNECTED)
        flops += 2.0 * l->inputs * l->outputs;
    }
  return flops;
}

guint
mt_net_get_n_threads (MtNet *self)
{
  g_return_val_if_fail (self != NULL, 1);

  return mt_fast_team_get_n_threads (self->team);
}

guint64
mt_net_get_n_split_layers (MtNet *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return mt_fast_team_get_n_splits (self->team);
}

/* ---- profiling (benchmarks) ---------------------------------------------- */

/* forward_network() sets net.index before each layer's forward: a wrapper in
 * place of every layer's forward times it by that index.  One profiled
 * forward at a time per thread. */
typedef void (*ForwardFunc) (layer, network);

typedef struct {
  ForwardFunc *forward;
  double *layer_ms;
} Profile;

static __thread Profile *profile;

static void
profiled_forward (layer   l,
                  network net)
{
  gint64 t0 = g_get_monotonic_time ();

  profile->forward[net.index] (l, net);
  profile->layer_ms[net.index] += (g_get_monotonic_time () - t0) / 1000.0;
}

const float *
mt_net_forward_profiled (MtNet       *self,
                         const float *input,
                         double      *layer_ms)
{
  network *net;
  g_autofree ForwardFunc *forward = NULL;
  Profile p;
  const float *out;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (input != NULL && layer_ms != NULL, NULL);
  g_return_val_if_fail (profile == NULL, NULL);

  net = self->net;
  forward = g_new (ForwardFunc, net->n);
  for (int i = 0; i < net->n; i++)
    {
      forward[i] = net->layers[i].forward;
      net->layers[i].forward = profiled_forward;
    }
  p.forward = forward;
  p.layer_ms = layer_ms;
  profile = &p;
  out = network_predict (net, (float *) input);
  profile = NULL;
  for (int i = 0; i < net->n; i++)
    net->layers[i].forward = forward[i];
  return out;
}

char *
mt_net_describe_layer (MtNet    *self,
                       int       index,
                       double   *flops,
                       gboolean *is_dense)
{
  const layer *l;
  const char *act;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index >= 0 && index < self->net->n, NULL);

  l = &self->net->layers[index];
  if (flops)
    *flops = 0;
  if (is_dense)
    *is_dense = FALSE;
  switch (l->activation)
    {
    case LINEAR: act = "linear"; break;
    case RELU: act = "relu"; break;
    case LEAKY: act = "leaky"; break;
    case LOGISTIC: act = "logistic"; break;
    default: act = "other"; break;
    }
  switch (l->type)
    {
    case CONVOLUTIONAL:
      {
        int groups = MAX (l->groups, 1);

        if (flops)
          *flops = 2.0 * l->size * l->size * (l->c / groups) * l->n * l->out_w * l->out_h;
        if (is_dense)
          *is_dense = groups == 1;
        if (groups > 1)
          return g_strdup_printf ("%s %dx%d/%d %d %s", groups == l->c ? "depthwise" : "grouped",
                                  l->size, l->size, l->stride, l->c, act);
        return g_strdup_printf ("conv %dx%d/%d %d>%d %s", l->size, l->size, l->stride,
                                l->c, l->n, act);
      }
    case MAXPOOL:
      return g_strdup_printf ("maxpool %dx%d/%d", l->size, l->size, l->stride);
    case AVGPOOL:
      return g_strdup ("avgpool");
    case SHORTCUT:
      return g_strdup ("shortcut");
    case ROUTE:
      return g_strdup ("route");
    case SOFTMAX:
      return g_strdup ("softmax");
    case REGION:
    case YOLO:
      return g_strdup ("detection");
    default:
      return g_strdup_printf ("layer type %d", (int) l->type);
    }
}

const float *
mt_net_get_layer_output (MtNet *self,
                         int    index,
                         gsize *n_values)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index >= 0 && index < self->net->n, NULL);

  if (n_values)
    *n_values = (gsize) self->net->layers[index].outputs;
  return self->net->layers[index].output;
}

void
mt_net_get_layer_shape (MtNet *self,
                        int    index,
                        int   *width,
                        int   *height,
                        int   *channels)
{
  const layer *l;

  g_return_if_fail (self != NULL);
  g_return_if_fail (index >= 0 && index < self->net->n);

  l = &self->net->layers[index];
  if (width)
    *width = l->out_w;
  if (height)
    *height = l->out_h;
  if (channels)
    *channels = l->out_c;
}

/* Follows the shapes resize_network() will give each layer, refusing what
 * it cannot resize: it exit()s on other layer types, asserts on shortcuts
 * between different shapes and allocates nonsense for empty outputs. */
static gboolean
check_resizable (network  *net,
                 int       w,
                 int       h,
                 GError  **error)
{
  g_autofree int *routed_w = g_new (int, net->n);
  g_autofree int *routed_h = g_new (int, net->n);

  for (int i = 0; i < net->n; i++)
    {
      const layer *l = &net->layers[i];

      switch (l->type)
        {
        case CONVOLUTIONAL:
          w = (w + 2 * l->pad - l->size) / l->stride + 1;
          h = (h + 2 * l->pad - l->size) / l->stride + 1;
          break;
        case MAXPOOL:
          w = (w + l->pad - l->size) / l->stride + 1;
          h = (h + l->pad - l->size) / l->stride + 1;
          break;
        case SHORTCUT:
          if (l->w != l->out_w || l->h != l->out_h)
            goto unsupported;
          break;
        case ROUTE:
          /* resize_route_layer() takes the shape of the layer it copies
           * (BlazeFace goes back to a block's input for a second branch);
           * concatenations would need their sizes checked again. */
          if (l->n != 1 || l->input_layers[0] < 0 || l->input_layers[0] >= i)
            goto unsupported;
          w = routed_w[l->input_layers[0]];
          h = routed_h[l->input_layers[0]];
          break;
        case AVGPOOL:
          /* Global pooling: resize_network() stops here, the rest keeps its
           * shape. */
          return TRUE;
        default:
          goto unsupported;
        }
      if (w < 1 || h < 1)
        {
          g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_INPUT,
                       "Cannot resize the network: layer %d would have no output", i);
          return FALSE;
        }
      routed_w[i] = w;
      routed_h[i] = h;
      continue;

    unsupported:
      g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_INPUT,
                   "Cannot resize the network: layer %d has a type that cannot be resized", i);
      return FALSE;
    }
  return TRUE;
}

gboolean
mt_net_resize (MtNet   *self,
               int      width,
               int      height,
               GError **error)
{
  gboolean fast;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (width < MT_NET_MIN_SIDE || width > MT_NET_MAX_SIDE || width % 32 != 0 ||
      height < MT_NET_MIN_SIDE || height > MT_NET_MAX_SIDE || height % 32 != 0)
    {
      g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_INPUT,
                   "Unsupported network input size %d×%d: each side must be a "
                   "multiple of 32 from %d to %d", width, height,
                   MT_NET_MIN_SIDE, MT_NET_MAX_SIDE);
      return FALSE;
    }
  if (width == self->net->w && height == self->net->h)
    return TRUE;
  if (!check_resizable (self->net, width, height, error))
    return FALSE;
  /* The limits the validator applied at the cfg's own size, again at the
   * size the network will run at. */
  if (!mt_model_check_cfg_at_size (self->cfg_path, width, height, NULL, error))
    return FALSE;

  /* resize_network() reallocates every layer's output and gradient: the fast
   * layers, keyed by output buffer and holding the old shapes, are taken
   * out first and prepared again for the new shapes. */
  fast = mt_net_get_fast (self);
  mt_net_set_fast (self, FALSE);
  resize_network (self->net, width, height);
  mt_net_set_fast (self, fast);
  return TRUE;
}

/* ---- fast layers ----------------------------------------------------------
 *
 * Darknet's CPU forward functions are plain C loops (about 3 GFLOP/s here).
 * Every Darknet layer carries its own forward function pointer, so after
 * load_network() we point the layers whose exact configuration the fast
 * kernels (mt-fast-kernels.h) support at trampolines that run those kernels
 * on the same buffers; Darknet still parses, loads and sequences the network,
 * and anything unsupported keeps Darknet's own forward.
 */

typedef void (*ForwardFunc) (struct layer, struct network);

struct _FastLayer {
  ForwardFunc stock_forward;
  float *stock_delta;
  MtFastConv *conv;       /* convolutional */
  MtFastPoolShape pool;   /* maxpool */
  MtFastScratch *scratch; /* the network's */
  MtFastTeam **team;      /* the network's, as it is at each forward */
};

/* The trampolines only get a copy of the Darknet layer: they find their
 * prepared kernel through the layer's output buffer, unique to each layer. */
static GRWLock fast_registry_lock;
static GHashTable *fast_registry;

static FastLayer *
fast_registry_lookup (const float *output)
{
  FastLayer *fast;

  g_rw_lock_reader_lock (&fast_registry_lock);
  fast = fast_registry ? g_hash_table_lookup (fast_registry, output) : NULL;
  g_rw_lock_reader_unlock (&fast_registry_lock);
  g_assert (fast != NULL);
  return fast;
}

static void
fast_registry_set (const float *output,
                   FastLayer   *fast)
{
  g_rw_lock_writer_lock (&fast_registry_lock);
  if (fast_registry == NULL)
    fast_registry = g_hash_table_new (NULL, NULL);
  if (fast)
    g_hash_table_insert (fast_registry, (gpointer) output, fast);
  else
    g_hash_table_remove (fast_registry, output);
  g_rw_lock_writer_unlock (&fast_registry_lock);
}

static gboolean
fast_activation (ACTIVATION        activation,
                 MtFastActivation *out)
{
  switch (activation)
    {
    case LINEAR:
      *out = MT_FAST_ACTIVATION_LINEAR;
      return TRUE;
    case RELU:
      *out = MT_FAST_ACTIVATION_RELU;
      return TRUE;
    case LEAKY:
      *out = MT_FAST_ACTIVATION_LEAKY;
      return TRUE;
    case LOGISTIC:
      *out = MT_FAST_ACTIVATION_LOGISTIC;
      return TRUE;
    default:
      return FALSE;
    }
}

/* MT_DARKNET_FAST=0 keeps Darknet's own forward functions in every network
 * loaded from then on: for comparisons and for ruling out our kernels. */
static gboolean
fast_layers_by_default (void)
{
  const char *env = g_getenv ("MT_DARKNET_FAST");

  return env == NULL || g_strcmp0 (env, "0") != 0;
}

static void
fast_convolutional_forward (layer   l,
                            network net)
{
  FastLayer *fast = fast_registry_lookup (l.output);

  mt_fast_conv_forward (fast->conv, net.input, l.output, fast->scratch, *fast->team);
}

static void
fast_maxpool_forward (layer   l,
                      network net)
{
  FastLayer *fast = fast_registry_lookup (l.output);

  mt_fast_maxpool_forward (&fast->pool, net.input, l.output, fast->scratch);
}

static void
fast_avgpool_forward (layer   l,
                      network net)
{
  mt_fast_avgpool_forward (l.c, l.h, l.w, net.input, l.output);
}

static void
fast_shortcut_forward (layer   l,
                       network net)
{
  FastLayer *fast = fast_registry_lookup (l.output);
  MtFastActivation activation = MT_FAST_ACTIVATION_LINEAR;
  /* A narrower added layer (l.c < l.out_c) reaches the first l.c channels;
   * the others are the input alone, activated. */
  gsize added = (gsize) l.c * l.out_h * l.out_w;
  gsize plane = (gsize) l.out_h * l.out_w;

  fast_activation (l.activation, &activation);
  mt_fast_add_forward (added, plane, net.input, net.layers[l.index].output, activation,
                       l.output, *fast->team);
  if (added < (gsize) l.outputs)
    mt_fast_add_forward ((gsize) l.outputs - added, plane, net.input + added, NULL, activation,
                         l.output + added, *fast->team);
}

/* Returns the replacement forward for @l, or NULL to keep Darknet's; fills
 * @fast with what the replacement needs. */
static ForwardFunc
fast_layer_prepare (const layer *l,
                    FastLayer   *fast)
{
  MtFastActivation activation;

  if (l->batch != 1)
    return NULL;

  switch (l->type)
    {
    case CONVOLUTIONAL:
      {
        MtFastConvShape shape;

        if (l->batch_normalize || l->binary || l->xnor ||
            !fast_activation (l->activation, &activation))
          return NULL;
        shape = (MtFastConvShape) {
          .c = l->c, .h = l->h, .w = l->w, .n = l->n, .groups = l->groups,
          .size = l->size, .stride = l->stride, .pad = l->pad,
          .activation = activation,
        };
        if (!mt_fast_conv_supports (&shape) ||
            mt_fast_conv_out_width (&shape) != l->out_w ||
            mt_fast_conv_out_height (&shape) != l->out_h ||
            l->out_c != l->n)
          return NULL;
        fast->conv = mt_fast_conv_new (&shape, l->weights, l->biases);
        return fast->conv ? fast_convolutional_forward : NULL;
      }

    case MAXPOOL:
      fast->pool = (MtFastPoolShape) {
        .c = l->c, .h = l->h, .w = l->w,
        .size = l->size, .stride = l->stride, .padding = l->pad,
      };
      if (!mt_fast_maxpool_supports (&fast->pool) ||
          mt_fast_maxpool_out_width (&fast->pool) != l->out_w ||
          mt_fast_maxpool_out_height (&fast->pool) != l->out_h)
        return NULL;
      return fast_maxpool_forward;

    case AVGPOOL:
      return l->out_c == l->c && l->outputs == l->c ? fast_avgpool_forward : NULL;

    case SHORTCUT:
      /* Darknet scales both terms and resamples different sizes; ours is the
       * plain sum of equal sizes our files can express, the added layer at
       * most as wide as the input. */
      if (l->w != l->out_w || l->h != l->out_h || l->c > l->out_c ||
          l->alpha != 1.f || l->beta != 1.f ||
          !fast_activation (l->activation, &activation))
        return NULL;
      return fast_shortcut_forward;

    default:
      return NULL;
    }
}

static void
install_fast_layers (MtNet *self)
{
  network *net = self->net;

  self->fast_layers = g_new0 (FastLayer *, net->n);
  for (int i = 0; i < net->n; i++)
    {
      layer *l = &net->layers[i];
      FastLayer *fast = g_new0 (FastLayer, 1);
      ForwardFunc forward = fast_layer_prepare (l, fast);

      if (forward == NULL)
        {
          mt_fast_conv_free (fast->conv);
          g_free (fast);
          continue;
        }

      fast->stock_forward = l->forward;
      fast->scratch = &self->scratch;
      fast->team = &self->team;
      /* forward_network() zeroes every layer's gradient before its forward:
       * pure waste for inference, skipped while the fast forward runs. */
      fast->stock_delta = l->delta;
      l->delta = NULL;
      fast_registry_set (l->output, fast);
      l->forward = forward;
      self->fast_layers[i] = fast;
    }
}

static void
uninstall_fast_layers (MtNet *self)
{
  network *net = self->net;

  for (int i = 0; i < net->n; i++)
    {
      FastLayer *fast = self->fast_layers[i];
      layer *l = &net->layers[i];

      if (fast == NULL)
        continue;
      l->forward = fast->stock_forward;
      l->delta = fast->stock_delta;
      fast_registry_set (l->output, NULL);
      mt_fast_conv_free (fast->conv);
      g_free (fast);
    }
  g_clear_pointer (&self->fast_layers, g_free);
  mt_fast_scratch_clear (&self->scratch);
}

void
mt_net_set_fast (MtNet    *self,
                 gboolean  fast)
{
  g_return_if_fail (self != NULL);

  fast = !!fast;
  if (fast == self->fast)
    return;
  if (fast)
    install_fast_layers (self);
  else
    uninstall_fast_layers (self);
  self->fast = fast;
}

gboolean
mt_net_get_fast (MtNet *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->fast;
}

gboolean
mt_net_layer_is_fast (MtNet *self,
                      int    index)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (index >= 0 && index < self->net->n, FALSE);

  return self->fast_layers != NULL && self->fast_layers[index] != NULL;
}
