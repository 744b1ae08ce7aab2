/* mt-darknet.c: the only file that includes darknet.h (see mt-darknet.h). */
#define G_LOG_DOMAIN "mt-darknet"

#include "config.h"

#include <fcntl.h>
#include <unistd.h>
#include <math.h>
#include <darknet.h>

#include "mt-darknet.h"
#include "mt-model-check.h"

struct _MtNet {
  network *net;
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
  return self;
}

void
mt_net_free (MtNet *self)
{
  if (self == NULL)
    return;
  free_network (self->net);
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
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (input != NULL, NULL);

  /* network_predict() takes a non-const pointer but only reads the input. */
  return network_predict (self->net, (float *) input);
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
