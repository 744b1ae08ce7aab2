/* test-model-check-cfg.c: every bad cfg is refused with an error that names
 * the fault, and mt_net_load() refuses it too instead of letting Darknet exit,
 * abort or crash the test process. */
#define G_LOG_DOMAIN "test-model-check"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "mt-darknet.h"
#include "mt-model-check.h"
#include "model-check-fixture.h"

typedef struct {
  const char *name;
  /* The first occurrence of @find in the valid cfg becomes @replace; with
   * @find NULL, @replace is the whole file. */
  const char *find;
  const char *replace;
  /* The error must name the line where @replace starts plus this; -1 when
   * the error is about the file or a whole section. */
  int         line_offset;
  const char *expect;
} CfgCase;

#define WHOLE NULL

static const CfgCase cfg_cases[] = {
  /* Structure */
  { "empty", WHOLE, "", -1, "the file is empty" },
  { "only-comments", WHOLE, "# nothing\n\n; here\n", -1, "no sections" },
  { "no-layers", WHOLE, "[net]\nwidth=16\nheight=16\nchannels=3\n", -1, "no layers after [net]" },
  { "option-before-section", "[net]", "width=16\n[net]", 0, "comes before the first section" },
  { "first-section-not-net", "[net]", "[maxpool]\nsize=2\nstride=2\n[net]", 0,
    "the first section must be [net], not [maxpool]" },
  { "second-net", "[avgpool]", "[net]", 0, "[net] may only appear once" },
  { "section-region", "[avgpool]", "[region]", 0, "unsupported section [region]" },
  { "section-yolo", "[avgpool]", "[yolo]", 0, "unsupported section [yolo]" },
  { "section-foo", "[avgpool]", "[foo]", 0, "unsupported section [foo]" },
  { "section-alias", "[maxpool]", "[max]", 0, "write [maxpool] instead of [max]" },
  { "section-unclosed", "[avgpool]", "[avgpool", 0, "malformed section header" },
  { "section-trailing", "[avgpool]", "[avgpool]x", 0, "malformed section header" },
  { "section-spaces", "[avgpool]", "[avg pool]", 0, "malformed section header" },

  /* Lines */
  { "no-equals", "[avgpool]", "[avgpool]\nbatchnorm", 1, "expected key=value" },
  { "no-key", "[avgpool]", "[avgpool]\n=3", 1, "missing key" },
  { "no-value", "from=-2", "from=", 0, "missing value for key “from”" },
  { "duplicate-key", "[maxpool]\nsize=2", "[maxpool]\nsize=2\nsize=3", 2,
    "key “size” already given on line" },
  { "inline-comment", "[maxpool]\nsize=2", "[maxpool]\nsize=2 # window", 1,
    "(Darknet would read “2#window” as the value)" },
  { "space-in-value", "output=7", "output=1 6", 0, "spaces inside “output=1 6”" },
  { "crlf", "[net]\n", "[net]\r\n", 0, "carriage return" },
  { "control-byte", "[avgpool]", "[avgpool]\x01", 0, "control byte 0x01" },
  { "byte-order-mark", "# A tiny", "\xef\xbb\xbf# A tiny", 0, "starts with a byte order mark" },
  { "latin1-comment", "# layer 6: 12", "# layer 6: caf\xe9", 0, "invalid UTF-8" },

  /* Keys and values */
  { "unknown-key", "filters=8", "fliters=8", 0, "unknown key “fliters” in [convolutional]" },
  { "darknet-only-key", "[softmax]\ngroups=1", "[softmax]\ntemperature=2", 1,
    "unknown key “temperature” in [softmax]" },
  { "misspelt-activation", "activation=leaky", "activation=leeky", 0,
    "unknown activation “leeky”" },
  { "unlisted-activation", "activation=leaky", "activation=tanh", 0,
    "unknown activation “tanh”" },
  { "missing-activation", "activation=leaky\n", "", -1, "[convolutional] needs activation=" },
  { "huge-width", "width=16", "width=100000", 0,
    "width=100000 is out of range: it must be between 1 and 1024" },
  { "negative-height", "height=16", "height=-16", 0, "height=-16 is out of range" },
  { "zero-channels", "channels=3", "channels=0", 0, "channels=0 is out of range" },
  { "width-not-integer", "width=16", "width=16px", 0, "width=16px is not an integer" },
  { "width-overflow", "width=16", "width=99999999999999", 0, "is far out of range" },
  { "batch", "batch=1", "batch=64", 0, "batch=64 is out of range: it must be 1" },
  { "subdivisions", "subdivisions=1", "subdivisions=2", 0, "it must be 1" },

  /* [convolutional] */
  { "zero-filters", "filters=8", "filters=0", 0, "filters=0 is out of range" },
  /* Darknet: size=0 "works" (5x5 output from 4x4), stride=0 is SIGFPE. */
  { "zero-size", "size=3", "size=0", 0, "size=0 is out of range" },
  { "zero-stride", "stride=1", "stride=0", 0, "stride=0 is out of range" },
  { "missing-filters", "filters=8\n", "", -1, "[convolutional] needs filters=" },
  { "groups-not-dividing-channels", "groups=8", "groups=3", 0,
    "groups=3 does not divide the 8 input channels" },
  { "groups-not-dividing-filters", "  filters = 8\nsize=3\nstride=1\npadding=1\ngroups=8",
    "filters=6\nsize=3\nstride=1\npadding=1\ngroups=4", 4, "groups=4 does not divide filters=6" },
  { "pad-and-padding", "pad=1", "pad=1\npadding=1", 1, "either pad or padding" },
  { "padding-larger-than-size", "padding=1", "padding=5", 0, "padding=5 is larger than size=3" },
  { "1x1-stride", "filters=4\nsize=1\nstride=1", "filters=4\nsize=1\nstride=2", -1,
    "must have stride=1 and no padding" },
  { "1x1-padding", "filters=4\nsize=1\nstride=1", "filters=4\nsize=1\nstride=1\npadding=1", -1,
    "must have stride=1 and no padding" },
  { "kernel-larger-than-input", WHOLE,
    "[net]\nwidth=4\nheight=4\nchannels=1\n[convolutional]\nfilters=1\nsize=7\nactivation=linear\n",
    4, "kernel of layer 0 is larger than its padded 4x4 input" },
  { "conv-after-softmax", "[softmax]\ngroups=1\n",
    "[softmax]\ngroups=1\n[convolutional]\nfilters=1\nsize=1\nactivation=linear\n", 2,
    "needs an image input, but layer 8 [softmax] outputs a flat vector of 7 values" },

  /* [maxpool] */
  { "window-larger-than-input", WHOLE,
    "[net]\nwidth=4\nheight=4\nchannels=1\n[maxpool]\nsize=8\nstride=1\npadding=0\n",
    4, "window of layer 0 is larger than its padded 4x4 input" },
  { "maxpool-missing-stride", "size=2\nstride=2\n", "size=2\n", -1, "[maxpool] needs stride=" },

  /* [shortcut] */
  { "shortcut-without-from", "from=-2\n", "", -1, "[shortcut] needs from=" },
  { "shortcut-forward", "from=-2", "from=5", 0,
    "from=5 in layer 2 refers to layer 5, which is not an earlier layer" },
  { "shortcut-self", "from=-2", "from=2", 0, "refers to layer 2, which is not an earlier layer" },
  { "shortcut-before-first", "from=-2", "from=-9", 0,
    "from=-9 in layer 2 refers to layer -7, before the first layer" },
  { "shortcut-not-integer", "from=-2", "from=-2x", 0, "from=-2x is not an integer" },
  /* A narrower layer is added to the first channels (BlazeFace's padded
   * residuals: see valid-shortcut-padded); a wider one would be cut off. */
  { "shortcut-wider", WHOLE,
    "[net]\nwidth=8\nheight=8\nchannels=1\n"
    "[convolutional]\nfilters=4\nsize=1\nactivation=linear\n"
    "[convolutional]\nfilters=2\nsize=1\nactivation=linear\n"
    "[shortcut]\nfrom=-2\n",
    13, "adds layer 0 (8x8x4) to its input (8x8x2): the sizes must be equal and the added layer at most as wide" },
  { "shortcut-sizes", WHOLE,
    "[net]\nwidth=8\nheight=8\nchannels=1\n"
    "[convolutional]\nfilters=2\nsize=1\nactivation=linear\n"
    "[maxpool]\nsize=2\nstride=2\npadding=0\n"
    "[shortcut]\nfrom=-2\n",
    13, "adds layer 0 (8x8x2) to its input (4x4x2)" },

  /* [route] */
  { "route-later-layer", "layers=-1,3", "layers=-1,6", 0,
    "refers to layer 6, which is not an earlier layer" },
  { "route-self", "layers=-1,3", "layers=5", 0, "refers to layer 5, which is not an earlier layer" },
  { "route-sizes", "layers=-1,3", "layers=-1,1", 0, "concatenates layers of different sizes" },
  { "route-empty-item", "layers=-1,3", "layers=-1,,3", 0, "“” is not a layer index" },
  { "route-without-layers", "layers=-1,3\n", "", -1, "[route] needs layers=" },

  /* [connected], [softmax] */
  { "zero-outputs", "output=7", "output=0", 0, "output=0 is out of range" },
  { "connected-missing-activation", "output=7\nactivation=linear\n", "output=7\n", -1,
    "[connected] needs activation=" },
  { "softmax-groups-zero", "[softmax]\ngroups=1", "[softmax]\ngroups=0", 1,
    "groups=0 is out of range" },
  { "softmax-groups", "[softmax]\ngroups=1", "[softmax]\ngroups=2", 1,
    "groups=2 does not divide the 7 inputs" },

  /* Sizes Darknet would try to allocate */
  { "too-many-activations", WHOLE,
    "[net]\nwidth=1024\nheight=1024\nchannels=3\n[convolutional]\nfilters=4096\nsize=1\nactivation=linear\n",
    4, "up to layer 0, the network needs more than 256 MiB of activations" },
  { "too-large-workspace", WHOLE,
    "[net]\nwidth=1024\nheight=1024\nchannels=4\n[convolutional]\nfilters=1\nsize=11\npad=1\nactivation=linear\n",
    4, "MiB convolution workspace" },
  { "too-many-parameters", WHOLE,
    "[net]\nwidth=32\nheight=32\nchannels=4\n[connected]\noutput=65536\nactivation=linear\n",
    4, "up to layer 0, the network has more than 67108864 parameters" },
};

static char *
case_text (const CfgCase *c,
           guint         *start_line)
{
  const char *at;
  GString *text;

  *start_line = 1;
  if (c->find == NULL)
    return g_strdup (c->replace);

  at = strstr (model_fixture_cfg, c->find);
  g_assert_nonnull (at);
  for (const char *p = model_fixture_cfg; p < at; p++)
    if (*p == '\n')
      (*start_line)++;

  text = g_string_new_len (model_fixture_cfg, at - model_fixture_cfg);
  g_string_append (text, c->replace);
  g_string_append (text, at + strlen (c->find));
  return g_string_free (text, FALSE);
}

/* The cfg is refused alone, with valid weights, and by mt_net_load(): the
 * same error each time, and the process is still here to check it. */
static void
assert_refused (ModelFixture *fixture,
                const char   *cfg,
                const char   *expect)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) files_error = NULL;
  g_autoptr(GError) load_error = NULL;
  g_autoptr(MtNet) net = NULL;
  MtModelShape shape = { .width = -1 };

  g_assert_false (mt_model_check_cfg (cfg, &shape, &error));
  model_fixture_assert_error (error, MT_DARKNET_ERROR_INVALID_CFG, expect);
  g_assert_cmpint (shape.width, ==, -1);

  g_assert_false (mt_model_check_files (cfg, fixture->weights, &files_error));
  g_assert_cmpstr (files_error->message, ==, error->message);

  net = mt_net_load (cfg, fixture->weights, &load_error);
  g_assert_null (net);
  g_assert_nonnull (load_error);
  g_assert_cmpstr (load_error->message, ==, error->message);
}

static void
test_cfg_case (ModelFixture  *fixture,
               gconstpointer  data)
{
  const CfgCase *c = data;
  g_autofree char *text = NULL;
  g_autofree char *cfg = NULL;
  guint start_line;

  text = case_text (c, &start_line);
  cfg = model_fixture_write (fixture, "bad.cfg", text, -1);

  assert_refused (fixture, cfg, c->expect);

  if (c->line_offset >= 0)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *where = g_strdup_printf ("bad.cfg line %u: ", start_line + c->line_offset);

      mt_model_check_cfg (cfg, NULL, &error);
      model_fixture_assert_error (error, MT_DARKNET_ERROR_INVALID_CFG, where);
    }
}

static void
test_cfg_missing (ModelFixture  *fixture,
                  gconstpointer  data)
{
  g_autofree char *cfg = g_build_filename (fixture->dir, "missing.cfg", NULL);

  assert_refused (fixture, cfg, "missing.cfg: cannot open: No such file or directory");
}

static void
test_cfg_directory (ModelFixture  *fixture,
                    gconstpointer  data)
{
  g_autofree char *cfg = g_build_filename (fixture->dir, "dir.cfg", NULL);

  g_assert_cmpint (g_mkdir (cfg, 0700), ==, 0);
  assert_refused (fixture, cfg, "dir.cfg: is a directory, not a regular file");
}

static void
test_cfg_device (ModelFixture  *fixture,
                 gconstpointer  data)
{
  assert_refused (fixture, "/dev/zero", "/dev/zero: is a special file");
}

static void
test_cfg_binary (ModelFixture  *fixture,
                 gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (2018);
  g_autofree char *cfg = NULL;
  char bytes[4096];

  for (gsize i = 0; i < sizeof bytes; i++)
    bytes[i] = (char) g_rand_int_range (rand, 0, 256);
  bytes[100] = '\0';
  cfg = model_fixture_write (fixture, "garbage.cfg", bytes, sizeof bytes);

  assert_refused (fixture, cfg, "this is not a text file");
}

/* A NUL in an otherwise fine cfg: Darknet's fgetl() would cut the line. */
static void
test_cfg_nul (ModelFixture  *fixture,
              gconstpointer  data)
{
  g_autofree char *cfg = NULL;
  g_autofree char *text = g_strdup (model_fixture_cfg);

  *strstr (text, "leaky") = '\0';
  cfg = model_fixture_write (fixture, "nul.cfg", text, strlen (model_fixture_cfg));

  assert_refused (fixture, cfg, "control byte 0x00");
}

static void
test_cfg_too_large (ModelFixture  *fixture,
                    gconstpointer  data)
{
  g_autoptr(GString) text = g_string_new (model_fixture_cfg);
  g_autofree char *cfg = NULL;

  while (text->len <= MT_MODEL_CFG_MAX_SIZE)
    g_string_append (text, "# padding padding padding padding padding padding\n");
  cfg = model_fixture_write (fixture, "large.cfg", text->str, text->len);

  assert_refused (fixture, cfg, "is too large for a cfg");
}

void
model_check_add_cfg_tests (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cfg_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/model-check/cfg/%s", cfg_cases[i].name);

      g_test_add (path, ModelFixture, &cfg_cases[i],
                  model_fixture_setup, test_cfg_case, model_fixture_teardown);
    }

  g_test_add ("/model-check/cfg/missing", ModelFixture, NULL,
              model_fixture_setup, test_cfg_missing, model_fixture_teardown);
  g_test_add ("/model-check/cfg/directory", ModelFixture, NULL,
              model_fixture_setup, test_cfg_directory, model_fixture_teardown);
  g_test_add ("/model-check/cfg/device", ModelFixture, NULL,
              model_fixture_setup, test_cfg_device, model_fixture_teardown);
  g_test_add ("/model-check/cfg/binary", ModelFixture, NULL,
              model_fixture_setup, test_cfg_binary, model_fixture_teardown);
  g_test_add ("/model-check/cfg/nul", ModelFixture, NULL,
              model_fixture_setup, test_cfg_nul, model_fixture_teardown);
  g_test_add ("/model-check/cfg/too-large", ModelFixture, NULL,
              model_fixture_setup, test_cfg_too_large, model_fixture_teardown);
}
