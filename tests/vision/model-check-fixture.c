/* model-check-fixture.c: a small valid Darknet model written at test time. */
#define G_LOG_DOMAIN "test-model-check"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "mt-darknet.h"
#include "model-check-fixture.h"

const char model_fixture_cfg[] =
  "# A tiny network that uses every section Moodtunes accepts.\n"
  "[net]\n"
  "width=16\n"
  "height=16\n"
  "channels=3\n"
  "batch=1\n"
  "subdivisions=1\n"
  "\n"
  "; layer 0: 16x16x8\n"
  "[convolutional]\n"
  "filters=8\n"
  "size=3\n"
  "stride=1\n"
  "pad=1\n"
  "batch_normalize=1\n"
  "activation=leaky\n"
  "\n"
  "# layer 1: depthwise, 16x16x8\n"
  "[convolutional]\n"
  "  filters = 8\n"
  "size=3\n"
  "stride=1\n"
  "padding=1\n"
  "groups=8\n"
  "batch_normalize=1\n"
  "activation=relu\n"
  "\n"
  "# layer 2: residual add of layer 0\n"
  "[shortcut]\n"
  "from=-2\n"
  "activation=linear\n"
  "\n"
  "# layer 3: 8x8x8\n"
  "[maxpool]\n"
  "size=2\n"
  "stride=2\n"
  "\n"
  "# layer 4: 8x8x4\n"
  "[convolutional]\n"
  "filters=4\n"
  "size=1\n"
  "stride=1\n"
  "activation=linear\n"
  "\n"
  "# layer 5: 8x8x12\n"
  "[route]\n"
  "layers=-1,3\n"
  "\n"
  "# layer 6: 12\n"
  "[avgpool]\n"
  "\n"
  "# layer 7: 7\n"
  "[connected]\n"
  "output=7\n"
  "activation=linear\n"
  "\n"
  "# layer 8\n"
  "[softmax]\n"
  "groups=1\n";

void
model_fixture_setup (ModelFixture  *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree float *params = model_fixture_parameters ();

  fixture->dir = g_dir_make_tmp ("mt-model-check-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->cfg = model_fixture_write (fixture, "model.cfg", model_fixture_cfg, -1);
  fixture->weights = model_fixture_write_weights (fixture, "model.weights", 0, 2, 0,
                                                  params, MODEL_FIXTURE_N_PARAMETERS);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_remove (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_dir_close (dir);
  g_rmdir (path);
}

void
model_fixture_teardown (ModelFixture  *fixture,
                        gconstpointer  data)
{
  remove_tree (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->cfg, g_free);
  g_clear_pointer (&fixture->weights, g_free);
}

char *
model_fixture_write (ModelFixture *fixture,
                     const char   *name,
                     const char   *contents,
                     gssize        len)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (fixture->dir, name, NULL);

  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
  return path;
}

static void
fill (float  *params,
      gsize  *at,
      gsize   n,
      GRand  *rand,
      double  lo,
      double  hi)
{
  for (gsize i = 0; i < n; i++)
    params[(*at)++] = (float) g_rand_double_range (rand, lo, hi);
}

static void
fill_value (float  *params,
            gsize  *at,
            gsize   n,
            float   value)
{
  for (gsize i = 0; i < n; i++)
    params[(*at)++] = value;
}

float *
model_fixture_parameters (void)
{
  float *params = g_new0 (float, MODEL_FIXTURE_N_PARAMETERS);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  gsize at = 0;

  /* Layer 0: 8 filters of 3x3x3 with batch normalisation. */
  fill (params, &at, 8, rand, -0.1, 0.1);      /* biases */
  fill (params, &at, 8, rand, 0.5, 1.5);       /* scales */
  fill (params, &at, 8, rand, -0.1, 0.1);      /* rolling mean */
  fill (params, &at, 8, rand, 0.5, 2.0);       /* rolling variance */
  fill (params, &at, 3 * 8 * 3 * 3, rand, -0.3, 0.3);
  /* Layer 1: depthwise, 8 filters of 3x3x1 with batch normalisation. */
  fill (params, &at, 8, rand, -0.1, 0.1);
  fill (params, &at, 8, rand, 0.5, 1.5);
  fill (params, &at, 8, rand, -0.1, 0.1);
  fill (params, &at, 8, rand, 0.5, 2.0);
  fill (params, &at, 1 * 8 * 3 * 3, rand, -0.3, 0.3);
  /* Layer 4: 4 filters of 1x1x8, all-zero kernels so that each output
   * channel equals its bias, whatever the input. */
  g_assert_cmpuint (at, ==, MODEL_FIXTURE_CONV4_AT);
  for (int i = 0; i < 4; i++)
    params[at++] = 0.25f * (float) (i + 1);
  fill_value (params, &at, 8 * 4, 0.0f);
  /* Layer 7: 7 outputs from 12 inputs, zero weights: the output is the
   * softmax of the biases. */
  g_assert_cmpuint (at, ==, MODEL_FIXTURE_CONNECTED_AT);
  for (int i = 0; i < 7; i++)
    params[at++] = 0.5f * (float) i;
  fill_value (params, &at, 12 * 7, 0.0f);

  g_assert_cmpuint (at, ==, MODEL_FIXTURE_N_PARAMETERS);
  return params;
}

char *
model_fixture_write_weights (ModelFixture *fixture,
                             const char   *name,
                             int           major,
                             int           minor,
                             int           revision,
                             const float  *params,
                             gsize         n)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  gint32 version[3] = { major, minor, revision };

  g_byte_array_append (bytes, (const guint8 *) version, sizeof version);
  /* Darknet's rule in load_weights_upto() for the size of "seen". */
  if (major * 10 + minor >= 2 && major < 1000 && minor < 1000)
    {
      guint64 seen = 12345;
      g_byte_array_append (bytes, (const guint8 *) &seen, sizeof seen);
    }
  else
    {
      guint32 seen = 12345;
      g_byte_array_append (bytes, (const guint8 *) &seen, sizeof seen);
    }
  if (n > 0)
    g_byte_array_append (bytes, (const guint8 *) params, n * sizeof (float));

  return model_fixture_write (fixture, name, (const char *) bytes->data, bytes->len);
}

void
model_fixture_assert_error (const GError *error,
                            int           code,
                            const char   *needle)
{
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  g_assert_error (error, MT_DARKNET_ERROR, code);
  if (strstr (error->message, needle) == NULL)
    g_error ("expected “%s” in the error “%s”", needle, error->message);
}
