/* fuzz-model-check: a Darknet .cfg through the model validator, and, when
 * the validator accepts it, .weights files made to its measure.
 *
 * The validator is what stands between a downloaded model and Darknet, which
 * exit()s, aborts or overflows on bad input.  Its own answers must agree:
 * a cfg it accepts has a sane shape, the same at its own size through
 * mt_model_check_cfg_at_size(), a weights file of exactly that size
 * holding finite, non-negative values passes, and one with a NaN, one byte
 * more or a wrong header version does not.  The files live in memfds (named
 * through /proc/self/fd), so nothing touches the disk. */
#define _GNU_SOURCE
#include "config.h"

#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mt-fuzz.h"
#include "mt-model-check.h"

/* Weights files are written only up to this size (our models are 1.3 MB at
 * most): bigger accepted cfgs are checked for their shape alone. */
#define MAX_WEIGHTS_BYTES (2 * 1024 * 1024)

static int cfg_fd = -1;
static int weights_fd = -1;
static char *cfg_path;
static char *weights_path;

static void
write_file (int           fd,
            const guint8 *data,
            gsize         size)
{
  gsize done = 0;

  MT_FUZZ_CHECK (ftruncate (fd, 0) == 0);
  while (done < size)
    {
      ssize_t n = pwrite (fd, data + done, size - done, (off_t) done);
      MT_FUZZ_CHECK (n > 0);
      done += (gsize) n;
    }
}

static gboolean
check_weights (const guint8 *data,
               gsize         size)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  write_file (weights_fd, data, size);
  ok = mt_model_check_files (cfg_path, weights_path, &error);
  MT_FUZZ_CHECK (ok == (error == NULL));
  return ok;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *weights = NULL;
  MtModelShape shape;
  gint32 version[3] = { 0, 2, 0 };
  gsize n_floats;

  mt_fuzz_init ();
  if (cfg_fd < 0)
    {
      cfg_fd = memfd_create ("fuzz.cfg", 0);
      weights_fd = memfd_create ("fuzz.weights", 0);
      MT_FUZZ_CHECK (cfg_fd >= 0 && weights_fd >= 0);
      cfg_path = g_strdup_printf ("/proc/self/fd/%d", cfg_fd);
      weights_path = g_strdup_printf ("/proc/self/fd/%d", weights_fd);
    }

  write_file (cfg_fd, data, size);
  if (!mt_model_check_cfg (cfg_path, &shape, &error))
    {
      MT_FUZZ_CHECK (error != NULL && g_utf8_validate (error->message, -1, NULL));
      return 0;
    }
  MT_FUZZ_CHECK (error == NULL);

  /* The shape of an accepted network. */
  MT_FUZZ_CHECK (shape.width > 0 && shape.height > 0 && shape.channels > 0);
  MT_FUZZ_CHECK (shape.n_layers > 0 && shape.n_outputs > 0);
  MT_FUZZ_CHECK (shape.weights_size == MT_MODEL_WEIGHTS_HEADER_SIZE + shape.n_parameters * sizeof (float));
  MT_FUZZ_CHECK (shape.out_width >= 0 && shape.out_height >= 0 && shape.out_channels >= 0);

  /* At its own size, mt_model_check_cfg_at_size() agrees; at the size a
   * detector may be resized to (here picked by the input's first byte), it
   * either refuses or gives a consistent shape of that size.  (With a
   * [connected] layer the parameter count changes with the size: such a
   * network is another one, and mt_net_resize() refuses it.) */
  {
    static const int sizes[] = { 32, 64, 96, 128, 224, 320, 416, 608, 1024, 4096 };
    MtModelShape same, resized;
    int side = sizes[(size > 0 ? data[0] : 0) % G_N_ELEMENTS (sizes)];

    MT_FUZZ_CHECK (mt_model_check_cfg_at_size (cfg_path, shape.width, shape.height, &same, NULL));
    MT_FUZZ_CHECK (memcmp (&same, &shape, sizeof shape) == 0);
    if (mt_model_check_cfg_at_size (cfg_path, side, side, &resized, NULL))
      {
        MT_FUZZ_CHECK (resized.width == side && resized.height == side);
        MT_FUZZ_CHECK (resized.channels == shape.channels && resized.n_layers == shape.n_layers);
        MT_FUZZ_CHECK (resized.weights_size ==
                       MT_MODEL_WEIGHTS_HEADER_SIZE + resized.n_parameters * sizeof (float));
      }
  }

  if (shape.weights_size > MAX_WEIGHTS_BYTES)
    return 0;

  /* Exactly the right size, finite and non-negative (variances too): good. */
  weights = g_malloc0 (shape.weights_size + 1);
  memcpy (weights, version, sizeof version);
  n_floats = shape.n_parameters;
  for (gsize i = 0; i < n_floats; i++)
    {
      float value = 0.25f;
      memcpy (weights + MT_MODEL_WEIGHTS_HEADER_SIZE + i * sizeof value, &value, sizeof value);
    }
  MT_FUZZ_CHECK (check_weights (weights, shape.weights_size));

  /* One byte short, one byte over, another version: refused. */
  if (shape.weights_size > MT_MODEL_WEIGHTS_HEADER_SIZE)
    MT_FUZZ_CHECK (!check_weights (weights, shape.weights_size - 1));
  MT_FUZZ_CHECK (!check_weights (weights, shape.weights_size + 1));
  weights[4] = 1;
  MT_FUZZ_CHECK (!check_weights (weights, shape.weights_size));
  weights[4] = 0;

  /* A NaN anywhere (here: where the input's last bytes point) is refused. */
  if (n_floats > 0)
    {
      float nan_value = NAN;
      gsize at = (size >= 4 ? (gsize) data[size - 1] << 8 | data[size - 2] : 0) % n_floats;

      memcpy (weights + MT_MODEL_WEIGHTS_HEADER_SIZE + at * sizeof nan_value, &nan_value, sizeof nan_value);
      MT_FUZZ_CHECK (!check_weights (weights, shape.weights_size));
    }
  return 0;
}
