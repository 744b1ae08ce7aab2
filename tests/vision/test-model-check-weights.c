/* test-model-check-weights.c: a .weights file must hold exactly the
 * parameters the cfg needs, behind a 0.2.0 header, all finite; Darknet itself
 * would load short, padded or NaN-filled files without a word. */
#define G_LOG_DOMAIN "test-model-check"

#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "mt-darknet.h"
#include "mt-model-check.h"
#include "model-check-fixture.h"

/* Refused by the checker and by mt_net_load(), with the same error. */
static void
assert_refused (ModelFixture *fixture,
                const char   *weights,
                const char   *expect)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) load_error = NULL;
  g_autoptr(MtNet) net = NULL;

  g_assert_false (mt_model_check_files (fixture->cfg, weights, &error));
  model_fixture_assert_error (error, MT_DARKNET_ERROR_INVALID_WEIGHTS, expect);

  net = mt_net_load (fixture->cfg, weights, &load_error);
  g_assert_null (net);
  g_assert_nonnull (load_error);
  g_assert_cmpstr (load_error->message, ==, error->message);
}

static char *
size_error (gsize size)
{
  return g_strdup_printf ("%" G_GSIZE_FORMAT " bytes, the cfg needs %d "
                          "(20-byte header + %d parameters)",
                          size, 20 + 4 * MODEL_FIXTURE_N_PARAMETERS,
                          MODEL_FIXTURE_N_PARAMETERS);
}

static void
test_missing (ModelFixture  *fixture,
              gconstpointer  data)
{
  g_autofree char *weights = g_build_filename (fixture->dir, "missing.weights", NULL);

  assert_refused (fixture, weights, "missing.weights: cannot open: No such file or directory");
}

static void
test_directory (ModelFixture  *fixture,
                gconstpointer  data)
{
  g_autofree char *weights = g_build_filename (fixture->dir, "dir.weights", NULL);

  g_assert_cmpint (g_mkdir (weights, 0700), ==, 0);
  assert_refused (fixture, weights, "dir.weights: is a directory, not a regular file");
}

static void
test_device (ModelFixture  *fixture,
             gconstpointer  data)
{
  assert_refused (fixture, "/dev/null", "/dev/null: is a special file");
}

static void
test_empty (ModelFixture  *fixture,
            gconstpointer  data)
{
  g_autofree char *weights = model_fixture_write (fixture, "empty.weights", "", 0);
  g_autofree char *expect = size_error (0);

  assert_refused (fixture, weights, expect);
}

static void
test_shorter_than_version (ModelFixture  *fixture,
                           gconstpointer  data)
{
  g_autofree char *weights = model_fixture_write (fixture, "tiny.weights", "\0\0\0\0\2\0\0", 7);
  g_autofree char *expect = size_error (7);

  assert_refused (fixture, weights, expect);
}

static void
test_header_only (ModelFixture  *fixture,
                  gconstpointer  data)
{
  g_autofree char *weights = model_fixture_write_weights (fixture, "header.weights", 0, 2, 0, NULL, 0);
  g_autofree char *expect = size_error (20);

  assert_refused (fixture, weights, expect);
}

static void
test_truncated (ModelFixture  *fixture,
                gconstpointer  data)
{
  g_autofree float *params = model_fixture_parameters ();
  g_autofree char *weights = NULL;
  g_autofree char *expect = size_error (20 + 4 * (MODEL_FIXTURE_N_PARAMETERS - 1));

  weights = model_fixture_write_weights (fixture, "short.weights", 0, 2, 0,
                                         params, MODEL_FIXTURE_N_PARAMETERS - 1);
  assert_refused (fixture, weights, expect);
}

static void
test_padded (ModelFixture  *fixture,
             gconstpointer  data)
{
  g_autofree float *params = g_new0 (float, MODEL_FIXTURE_N_PARAMETERS + 1);
  g_autofree float *valid = model_fixture_parameters ();
  g_autofree char *weights = NULL;
  g_autofree char *expect = size_error (20 + 4 * (MODEL_FIXTURE_N_PARAMETERS + 1));

  memcpy (params, valid, MODEL_FIXTURE_N_PARAMETERS * sizeof (float));
  weights = model_fixture_write_weights (fixture, "long.weights", 0, 2, 0,
                                         params, MODEL_FIXTURE_N_PARAMETERS + 1);
  assert_refused (fixture, weights, expect);
}

typedef struct {
  const char *name;
  int         major, minor, revision;
  const char *expect;
} VersionCase;

static const VersionCase version_cases[] = {
  /* Darknet reads a 32-bit "seen" for 0.1: a 16-byte header. */
  { "0.1.0", 0, 1, 0, "header version 0.1.0; only version 0.2.0 (a 20-byte header" },
  { "0.2.1", 0, 2, 1, "header version 0.2.1;" },
  { "1.0.0", 1, 0, 0, "header version 1.0.0;" },
  /* Darknet would transpose the connected weights for major > 1000. */
  { "1001.2.0", 1001, 2, 0, "header version 1001.2.0;" },
};

static void
test_version (ModelFixture  *fixture,
              gconstpointer  data)
{
  const VersionCase *c = data;
  g_autofree float *params = model_fixture_parameters ();
  g_autofree char *weights = NULL;

  weights = model_fixture_write_weights (fixture, "version.weights", c->major, c->minor,
                                         c->revision, params, MODEL_FIXTURE_N_PARAMETERS);
  assert_refused (fixture, weights, c->expect);
}

typedef struct {
  const char *name;
  int         index;
  float       value;
  const char *expect;
} ValueCase;

static const ValueCase value_cases[] = {
  { "nan-connected", MODEL_FIXTURE_CONNECTED_AT + 7 + 5, NAN,
    "parameter 400 (layer 7 [connected] weights, item 5 of 84) is NaN" },
  { "inf-bias", 3, INFINITY, "parameter 3 (layer 0 [convolutional] biases, item 3 of 8) is infinite" },
  { "minus-inf-last", MODEL_FIXTURE_N_PARAMETERS - 1, -INFINITY,
    "parameter 478 (layer 7 [connected] weights, item 83 of 84) is infinite" },
  { "negative-variance", MODEL_FIXTURE_VARIANCE0_AT + 2, -0.5f,
    "parameter 26 (layer 0 [convolutional] rolling variance, item 2 of 8) is negative" },
  { "nan-depthwise", 248 + 32 + 1, NAN,
    "parameter 281 (layer 1 [convolutional] weights, item 1 of 72) is NaN" },
};

static void
test_value (ModelFixture  *fixture,
            gconstpointer  data)
{
  const ValueCase *c = data;
  g_autofree float *params = model_fixture_parameters ();
  g_autofree char *weights = NULL;

  params[c->index] = c->value;
  weights = model_fixture_write_weights (fixture, "value.weights", 0, 2, 0,
                                         params, MODEL_FIXTURE_N_PARAMETERS);
  assert_refused (fixture, weights, c->expect);
}

/* The right size and header, random bytes for parameters: some of them are
 * not numbers at all. */
static void
test_random_body (ModelFixture  *fixture,
                  gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1234);
  g_autofree guint32 *bits = g_new (guint32, MODEL_FIXTURE_N_PARAMETERS);
  g_autofree char *weights = NULL;
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < MODEL_FIXTURE_N_PARAMETERS; i++)
    bits[i] = g_rand_int (rand);
  bits[g_rand_int_range (rand, 0, MODEL_FIXTURE_N_PARAMETERS)] = 0x7fc00000;   /* a NaN */
  weights = model_fixture_write_weights (fixture, "random.weights", 0, 2, 0,
                                         (const float *) bits, MODEL_FIXTURE_N_PARAMETERS);

  assert_refused (fixture, weights, "parameter ");
  g_assert_false (mt_model_check_files (fixture->cfg, weights, &error));
  g_assert_true (g_regex_match_simple ("parameter [0-9]+ \\(layer [0-9] \\[[a-z]+\\] [a-z ]+, "
                                       "item [0-9]+ of [0-9]+\\) is (NaN|infinite|negative)",
                                       error->message, 0, 0));
}

/* Random bytes all the way, header included. */
static void
test_random_file (ModelFixture  *fixture,
                  gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (99);
  const gsize size = 20 + 4 * MODEL_FIXTURE_N_PARAMETERS;
  g_autofree char *bytes = g_malloc (size);
  g_autofree char *weights = NULL;

  for (gsize i = 0; i < size; i++)
    bytes[i] = (char) g_rand_int_range (rand, 0, 256);
  weights = model_fixture_write (fixture, "random.weights", bytes, size);

  assert_refused (fixture, weights, "header version ");
}

void
model_check_add_weights_tests (void)
{
  g_test_add ("/model-check/weights/missing", ModelFixture, NULL,
              model_fixture_setup, test_missing, model_fixture_teardown);
  g_test_add ("/model-check/weights/directory", ModelFixture, NULL,
              model_fixture_setup, test_directory, model_fixture_teardown);
  g_test_add ("/model-check/weights/device", ModelFixture, NULL,
              model_fixture_setup, test_device, model_fixture_teardown);
  g_test_add ("/model-check/weights/empty", ModelFixture, NULL,
              model_fixture_setup, test_empty, model_fixture_teardown);
  g_test_add ("/model-check/weights/shorter-than-version", ModelFixture, NULL,
              model_fixture_setup, test_shorter_than_version, model_fixture_teardown);
  g_test_add ("/model-check/weights/header-only", ModelFixture, NULL,
              model_fixture_setup, test_header_only, model_fixture_teardown);
  g_test_add ("/model-check/weights/truncated", ModelFixture, NULL,
              model_fixture_setup, test_truncated, model_fixture_teardown);
  g_test_add ("/model-check/weights/padded", ModelFixture, NULL,
              model_fixture_setup, test_padded, model_fixture_teardown);
  g_test_add ("/model-check/weights/random-body", ModelFixture, NULL,
              model_fixture_setup, test_random_body, model_fixture_teardown);
  g_test_add ("/model-check/weights/random-file", ModelFixture, NULL,
              model_fixture_setup, test_random_file, model_fixture_teardown);

  for (guint i = 0; i < G_N_ELEMENTS (version_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/model-check/weights/version-%s",
                                               version_cases[i].name);

      g_test_add (path, ModelFixture, &version_cases[i],
                  model_fixture_setup, test_version, model_fixture_teardown);
    }

  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/model-check/weights/%s", value_cases[i].name);

      g_test_add (path, ModelFixture, &value_cases[i],
                  model_fixture_setup, test_value, model_fixture_teardown);
    }
}
