/* test-model-check.c: the model validator accepts a good network, which
 * Darknet then loads and runs exactly as the validator predicted; bad files
 * are in test-model-check-cfg.c and test-model-check-weights.c. */
#define G_LOG_DOMAIN "test-model-check"

#include "config.h"
#include "mt-tree-paths.h"

#include <math.h>
#include <string.h>

#include "mt-darknet.h"
#include "mt-model-check.h"
#include "model-check-fixture.h"

static void
test_valid_shape (ModelFixture  *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  MtModelShape shape;

  g_assert_true (mt_model_check_cfg (fixture->cfg, &shape, &error));
  g_assert_no_error (error);

  g_assert_cmpint (shape.width, ==, 16);
  g_assert_cmpint (shape.height, ==, 16);
  g_assert_cmpint (shape.channels, ==, 3);
  g_assert_cmpint (shape.n_layers, ==, MODEL_FIXTURE_N_LAYERS);
  /* Darknet gives [softmax] no width, height or channels. */
  g_assert_cmpint (shape.out_width, ==, 0);
  g_assert_cmpint (shape.out_height, ==, 0);
  g_assert_cmpint (shape.out_channels, ==, 0);
  g_assert_cmpuint (shape.n_outputs, ==, MODEL_FIXTURE_N_OUTPUTS);
  g_assert_cmpuint (shape.n_parameters, ==, MODEL_FIXTURE_N_PARAMETERS);
  g_assert_cmpuint (shape.weights_size, ==, 20 + 4 * MODEL_FIXTURE_N_PARAMETERS);
  /* 3 x 16x16x8, 8x8x8, 8x8x4, 8x8x12, 12, 7, 7. */
  g_assert_cmpuint (shape.n_activations, ==, 3 * 2048 + 512 + 256 + 768 + 12 + 7 + 7);
  /* Layer 0's im2col buffer: 16x16 positions x 3x3x3 values x 4 bytes. */
  g_assert_cmpuint (shape.workspace_size, ==, 16 * 16 * 27 * 4);
}

static void
test_valid_files (ModelFixture  *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mt_model_check_files (fixture->cfg, fixture->weights, &error));
  g_assert_no_error (error);
}

/* Darknet loads what the validator passed, with the predicted sizes, and
 * reads each parameter where the validator's layout says it is: the 1x1
 * convolution and the connected layer have zero kernels, so their outputs
 * are exactly their biases. */
static void
test_valid_darknet (ModelFixture  *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtNet) net = NULL;
  g_autofree float *params = model_fixture_parameters ();
  g_autofree float *input = NULL;
  const float *out;
  const float *conv4;
  gsize n_conv4 = 0;
  double denominator = 0.0;
  double sum = 0.0;

  net = mt_net_load (fixture->cfg, fixture->weights, &error);
  g_assert_no_error (error);
  g_assert_nonnull (net);

  g_assert_cmpint (mt_net_get_n_layers (net), ==, MODEL_FIXTURE_N_LAYERS);
  g_assert_cmpuint (mt_net_get_input_size (net), ==, 16 * 16 * 3);
  g_assert_cmpuint (mt_net_get_output_size (net), ==, MODEL_FIXTURE_N_OUTPUTS);

  input = g_new (float, 16 * 16 * 3);
  for (gsize i = 0; i < 16 * 16 * 3; i++)
    input[i] = (float) ((i * 37) % 101) / 100.0f;

  out = mt_net_forward (net, input);
  g_assert_nonnull (out);

  for (int i = 0; i < MODEL_FIXTURE_N_OUTPUTS; i++)
    denominator += exp (params[MODEL_FIXTURE_CONNECTED_AT + i]);
  for (int i = 0; i < MODEL_FIXTURE_N_OUTPUTS; i++)
    {
      double expected = exp (params[MODEL_FIXTURE_CONNECTED_AT + i]) / denominator;

      g_assert_true (isfinite (out[i]));
      g_assert_cmpfloat_with_epsilon (out[i], expected, 1e-5);
      sum += out[i];
    }
  g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);

  conv4 = mt_net_get_layer_output (net, 4, &n_conv4);
  g_assert_cmpuint (n_conv4, ==, 8 * 8 * 4);
  for (gsize i = 0; i < n_conv4; i++)
    g_assert_cmpfloat (conv4[i], ==, params[MODEL_FIXTURE_CONV4_AT + i / 64]);

  /* The layers in front of them did real work on the input. */
  {
    const float *l2 = mt_net_get_layer_output (net, 2, NULL);
    gboolean varies = FALSE;

    for (gsize i = 1; i < 16 * 16 * 8; i++)
      {
        g_assert_true (isfinite (l2[i]));
        varies |= l2[i] != l2[0];
      }
    g_assert_true (varies);
  }
}

/* Every cfg our converter produced must pass; their .weights too when they
 * sit next to them, and then Darknet must build the predicted shapes. */
static void
test_project_models (void)
{
  const char *models_dir = g_getenv ("MT_MODELS_DIR");
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint n_checked = 0;

  if (models_dir == NULL)
    models_dir = MT_SOURCE_MODELS_DIR;
  dir = g_dir_open (models_dir, 0, NULL);

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *cfg = NULL;
      g_autofree char *stem = NULL;
      g_autofree char *weights = NULL;
      MtModelShape shape;

      if (!g_str_has_suffix (name, ".cfg"))
        continue;

      cfg = g_build_filename (models_dir, name, NULL);
      g_assert_true (mt_model_check_cfg (cfg, &shape, &error));
      g_assert_no_error (error);
      g_test_message ("%s: %dx%dx%d -> %" G_GSIZE_FORMAT " outputs, %d layers, "
                      "%" G_GSIZE_FORMAT " parameters", name, shape.width, shape.height,
                      shape.channels, shape.n_outputs, shape.n_layers, shape.n_parameters);

      stem = g_strndup (name, strlen (name) - strlen (".cfg"));
      weights = g_strdup_printf ("%s/%s.weights", models_dir, stem);
      if (g_file_test (weights, G_FILE_TEST_EXISTS))
        {
          g_autoptr(MtNet) net = NULL;

          g_assert_true (mt_model_check_files (cfg, weights, &error));
          g_assert_no_error (error);

          /* Darknet builds what the validator predicted. */
          net = mt_net_load (cfg, weights, &error);
          g_assert_no_error (error);
          g_assert_cmpint (mt_net_get_n_layers (net), ==, shape.n_layers);
          g_assert_cmpuint (mt_net_get_input_size (net), ==,
                            (gsize) shape.width * shape.height * shape.channels);
          g_assert_cmpuint (mt_net_get_output_size (net), ==, shape.n_outputs);
        }
      n_checked++;
    }

  if (n_checked == 0)
    g_test_skip_printf ("no .cfg files in %s", models_dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/model-check/valid/shape", ModelFixture, NULL,
              model_fixture_setup, test_valid_shape, model_fixture_teardown);
  g_test_add ("/model-check/valid/files", ModelFixture, NULL,
              model_fixture_setup, test_valid_files, model_fixture_teardown);
  g_test_add ("/model-check/valid/darknet", ModelFixture, NULL,
              model_fixture_setup, test_valid_darknet, model_fixture_teardown);
  g_test_add_func ("/model-check/project-models", test_project_models);

  model_check_add_cfg_tests ();
  model_check_add_weights_tests ();

  return g_test_run ();
}
