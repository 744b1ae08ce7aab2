/* The models manifest as data: [Network] groups, label order from .names,
 * models of up to four networks, crop and mirror settings, the default
 * model and a person's own models merged with the installed ones. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <math.h>
#include <string.h>

#include "mt-analyzer.h"
#include "mt-darknet.h"
#include "mt-expression-classifier.h"
#include "mt-image.h"
#include "mt-model-manifest.h"

/* The shipped networks' groups, for manifests written by the tests. */
#define NETWORKS \
  "[Network emotion-xception]\nChannels=1\nMean=0\nScale=0.00392156862745098\nFeatureLayer=4\nFeatureChannels=256\n" \
  "[Network face-expression]\nChannels=3\nMean=122.782;117.001;104.298\nScale=0.00392156862745098\n" \
  "FeatureLayer=3\nFeatureChannels=256\n"
#define DETECTOR "[Detector]\nNetwork=blazeface-back\nKind=blazeface\nHeads=100;104\n"

static const char *
models_dir (void)
{
  return g_getenv ("MT_MODELS_DIR");
}

/* A temporary models folder: @manifest (NULL: none) and links to the
 * shipped files of @networks. */
static char *
make_dir (const char         *manifest,
          const char * const *networks)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("mt-manifest-XXXXXX", &error);

  g_assert_no_error (error);
  if (manifest != NULL)
    {
      g_autofree char *path = g_build_filename (dir, MT_MODEL_MANIFEST_FILE, NULL);

      g_file_set_contents (path, manifest, -1, &error);
      g_assert_no_error (error);
    }
  for (guint i = 0; networks != NULL && networks[i] != NULL; i++)
    for (guint e = 0; e < 3; e++)
      {
        static const char * const extensions[] = { ".cfg", ".weights", ".names" };
        g_autofree char *name = g_strconcat (networks[i], extensions[e], NULL);
        g_autofree char *target = g_build_filename (models_dir (), name, NULL);
        g_autofree char *link = g_build_filename (dir, name, NULL);

        g_assert_cmpint (symlink (target, link), ==, 0);
      }
  return dir;
}

static void
write_file (const char *dir,
            const char *name,
            const char *contents,
            gssize      length)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_unlink (path);
  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static MtModelManifest *
load_text (const char  *text,
           GError     **error)
{
  g_autofree char *dir = make_dir (text, NULL);
  MtModelManifest *manifest = mt_model_manifest_load (dir, error);

  remove_dir (dir);
  return manifest;
}

/* The shipped manifest holds today's recipe table, exactly. */
static void
test_shipped_networks (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtModelManifest) manifest = mt_model_manifest_load (models_dir (), &error);
  const MtNetworkSpec *xception, *expression, *ours;
  const MtModelRecipe *recipe;
  g_auto(GStrv) files = NULL;

  g_assert_no_error (error);
  xception = mt_model_manifest_lookup_network (manifest, "emotion-xception", &error);
  g_assert_no_error (error);
  g_assert_cmpint (xception->channels, ==, 1);
  g_assert_true (xception->mean[0] == 0 && xception->mean[1] == 0 && xception->mean[2] == 0);
  g_assert_true (xception->scale == 1.0f / 255.0f);
  g_assert_cmpint (xception->feature_layer, ==, 4);
  g_assert_cmpint (xception->feature_channels, ==, 256);

  expression = mt_model_manifest_lookup_network (manifest, "face-expression", &error);
  g_assert_no_error (error);
  g_assert_cmpint (expression->channels, ==, 3);
  g_assert_true (expression->mean[0] == 122.782f && expression->mean[1] == 117.001f &&
                 expression->mean[2] == 104.298f);
  g_assert_true (expression->scale == 1.0f / 255.0f);
  g_assert_cmpint (expression->feature_layer, ==, 3);
  g_assert_cmpint (expression->feature_channels, ==, 256);

  /* Ours (src/train/moodtunes-train-expression.py): luma, (v - 128) / 64. */
  ours = mt_model_manifest_lookup_network (manifest, "moodtunes-expression", &error);
  g_assert_no_error (error);
  g_assert_cmpint (ours->channels, ==, 1);
  g_assert_true (ours->mean[0] == 128.0f && ours->scale == 1.0f / 64.0f);
  g_assert_cmpint (ours->feature_channels, ==, 0);

  g_assert_cmpstr (mt_model_manifest_get_default_model (manifest), ==, "moodtunes-ensemble");
  recipe = mt_model_manifest_lookup (manifest, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (recipe->name, ==, "moodtunes-ensemble");
  /* FER2013's framing (models/README.md, bench/crop-accuracy.py). */
  g_assert_true (recipe->crop_margin == 0.75f && recipe->crop_shift == 0.15f && recipe->mirror);
  g_assert_true (recipe->specs[0] == xception && recipe->specs[1] == ours);
  g_assert_null (recipe->head);

  recipe = mt_model_manifest_lookup (manifest, "fitted-head", &error);
  g_assert_no_error (error);
  g_assert_true (recipe->crop_margin == 1.15f && recipe->crop_shift == 0.05f && recipe->mirror);
  g_assert_true (recipe->specs[0] == xception && recipe->specs[1] == expression);
  g_assert_cmpstr (recipe->dir, ==, models_dir ());

  g_assert_null (mt_model_manifest_lookup_network (manifest, "expression-head", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  /* The install rule's list: every [Network] group's files too. */
  files = mt_model_manifest_list_files (manifest);
  g_assert_true (g_strv_contains ((const char * const *) files, "emotion-xception.names"));
  g_assert_true (g_strv_contains ((const char * const *) files, "expression-head.weights"));
  g_assert_true (g_strv_contains ((const char * const *) files, "blazeface-back.cfg"));
}

static void
test_network_groups (void)
{
  static const struct { const char *group; const char *message; } bad[] = {
    { "Channels=3\nMean=1\nScale=1\nColour=red\n", "unknown key “Colour”" },
    { "Mean=1\nScale=1\n", "Channels is missing" },
    { "Channels=2\nMean=1\nScale=1\n", "Channels must be 1 (gray) or 3" },
    { "Channels=4\nMean=1\nScale=1\n", "Channels must be a whole number from 1 to 3" },
    { "Channels=one\nMean=1\nScale=1\n", "Channels must be a whole number" },
    { "Channels=3\nScale=1\n", "Mean is missing" },
    { "Channels=1\nMean=1;2;3\nScale=1\n", "Mean must be one number (the network reads one channel)" },
    { "Channels=3\nMean=1;2\nScale=1\n", "Mean must be one number, or three" },
    { "Channels=3\nMean=1;nan;3\nScale=1\n", "Mean must be numbers from 0 to 255" },
    { "Channels=3\nMean=300\nScale=1\n", "Mean must be numbers from 0 to 255" },
    { "Channels=3\nMean=x\nScale=1\n", "Mean must be one number" },
    { "Channels=3\nMean=1\n", "Scale is missing" },
    { "Channels=3\nMean=1\nScale=0\n", "Scale must be a number from 0 to 16, not 0" },
    { "Channels=3\nMean=1\nScale=-1\n", "Scale must be a number from 0 to 16" },
    { "Channels=3\nMean=1\nScale=inf\n", "Scale must be a number from 0 to 16" },
    { "Channels=3\nMean=1\nScale=1\nFeatureLayer=0\nFeatureChannels=8\n", "FeatureLayer must be a whole number" },
    { "Channels=3\nMean=1\nScale=1\nFeatureLayer=2\nFeatureChannels=-8\n", "FeatureChannels must be" },
    { "Channels=3\nMean=1\nScale=1\nFeatureLayer=2\n", "FeatureLayer and FeatureChannels go together" },
    { "Channels=3\nMean=1\nScale=1\nFeatureChannels=8\n", "FeatureLayer and FeatureChannels go together" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *text = g_strdup_printf (DETECTOR "[Model m]\nNetworks=n\n[Network n]\n%s", bad[i].group);
      g_autoptr(GError) error = NULL;
      g_autoptr(MtModelManifest) manifest = load_text (text, &error);

      g_test_message ("%s", bad[i].group);
      g_assert_null (manifest);
      g_assert_nonnull (error);
      /* The file, the group and the key. */
      g_assert_nonnull (strstr (error->message, MT_MODEL_MANIFEST_FILE ": [Network n]: "));
      if (strstr (error->message, bad[i].message) == NULL)
        g_error ("“%s” does not say “%s”", error->message, bad[i].message);
    }

  /* A good group, one mean for all three channels, no features. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(MtModelManifest) manifest =
      load_text (DETECTOR "[Model m]\nNetworks=n\n[Network n]\nChannels=3\nMean=128\nScale=0.015625\n", &error);
    const MtNetworkSpec *spec;

    g_assert_no_error (error);
    spec = mt_model_manifest_lookup_network (manifest, "n", &error);
    g_assert_no_error (error);
    g_assert_true (spec->mean[0] == 128 && spec->mean[1] == 128 && spec->mean[2] == 128);
    g_assert_true (spec->scale == 0.015625f);
    g_assert_cmpint (spec->feature_layer, ==, 0);
    g_assert_cmpint (spec->feature_channels, ==, 0);
  }
}

static void
test_model_references (void)
{
  static const struct { const char *text; const char *message; } bad[] = {
    { DETECTOR "[Model m]\nNetworks=n\n", "[Model m]: network “n” has no [Network n] group" },
    { DETECTOR "[Model m]\nNetworks=a;n\nWeights=1;1\n[Network a]\nChannels=1\nMean=0\nScale=1\n",
      "network “n” has no [Network n] group" },
    /* The head reads the second network's features. */
    { DETECTOR "[Model m]\nNetworks=a;b\nHead=h\n[Network a]\nChannels=1\nMean=0\nScale=1\n"
      "[Network b]\nChannels=1\nMean=0\nScale=1\n", "[Network b]: FeatureChannels is missing" },
    { DETECTOR NETWORKS "[Network ../x]\nChannels=1\nMean=0\nScale=1\n[Model m]\nNetworks=face-expression\n",
      "not a plain file name" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=a;b;c;d;e\nWeights=1;1;1;1;1\n", "5 networks (1 to 4 are read)" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression;emotion-xception\nWeights=1;0\n", "weight 0 is not" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression;emotion-xception\nWeights=1;-2\n", "weight -2 is not" },
    /* Crop and mirror. */
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\nCropMargin=0.45\n", "[Model m]: CropMargin must be a number from 0.5 to 3" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\nCropMargin=nan\n", "CropMargin must be" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\nCropShift=0.9\n", "[Model m]: CropShift must be a number from -0.5 to 0.5" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\nMirror=sometimes\n", "[Model m]: Mirror must be true or false" },
    /* Test-time crops. */
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\nTestCrops=2 0 0\n", "[Model m]: TestCrops \"2 0 0\" is not ZOOM DX DY" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\nTestCrops=0.9 0.6 0\n", "TestCrops \"0.9 0.6 0\" is not" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\nTestCrops=0.9 0\n", "TestCrops \"0.9 0\" is not" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\nTestCrops=0.9 0 nan\n", "is not ZOOM DX DY" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\nTestCrops=0.9 0 0 1\n", "has more than ZOOM DX DY" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\nTestCrops=1 0 0;1 0 0;1 0 0;1 0 0;1 0 0;1 0 0;1 0 0;1 0 0;1 0 0\n",
      "TestCrops must be 1 to 8 crops" },
    /* The default. */
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\n[Expression]\nDefault=other\n",
      "[Expression]: Default “other” is no [Model NAME] of this file" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\n[Expression]\nModel=m\n", "[Expression]: unknown key “Model”" },
    { DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\n[Expression]\n", "[Expression]: Default is missing" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MtModelManifest) manifest = load_text (bad[i].text, &error);

      g_test_message ("%s", bad[i].message);

      g_assert_null (manifest);
      g_assert_nonnull (error);
      g_assert_nonnull (strstr (error->message, MT_MODEL_MANIFEST_FILE ": "));
      if (strstr (error->message, bad[i].message) == NULL)
        g_error ("“%s” does not say “%s”", error->message, bad[i].message);
    }
}

static void
test_crop_mirror_default (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtModelManifest) manifest =
    load_text (DETECTOR NETWORKS "[Model first]\nNetworks=face-expression\nCropMargin=1.5\nCropShift=-0.1\n"
               "Mirror=false\n[Model second]\nNetworks=emotion-xception\n", &error);
  const MtModelRecipe *first;

  g_assert_no_error (error);
  /* Without [Expression] Default, the first model. */
  g_assert_cmpstr (mt_model_manifest_get_default_model (manifest), ==, "first");
  first = mt_model_manifest_lookup (manifest, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (first->crop_margin == 1.5f && first->crop_shift == -0.1f && !first->mirror);
  g_clear_object (&manifest);

  manifest = load_text (DETECTOR NETWORKS "[Model first]\nNetworks=face-expression\n"
                        "[Expression]\nDefault=second\n[Model second]\nNetworks=emotion-xception\n", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mt_model_manifest_get_default_model (manifest), ==, "second");
  g_assert_cmpstr (mt_model_manifest_lookup (manifest, NULL, NULL)->name, ==, "second");
  {
    g_autofree char *described = mt_model_manifest_describe_models (manifest);
    g_assert_cmpstr (described, ==, "first, second (default)");
  }
}

/* A frame whose halves differ, so a mirrored reading is another reading. */
static guint8 *
make_pixels (int side)
{
  guint8 *pixels = g_new (guint8, side * side * 3);

  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      for (int c = 0; c < 3; c++)
        pixels[(y * side + x) * 3 + c] = (guint8) ((x < side / 2 ? x * 5 + y * 2 : 255 - y * 3) + c * 20);
  return pixels;
}

static void
read_whole (MtAnalyzer     *analyzer,
            const MtFrame  *frame,
            MtAnalyzeFlags  flags,
            float           emotions[MT_N_MOODS])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) faces = mt_analyzer_analyze (analyzer, frame, flags | MT_ANALYZE_WHOLE_FACE, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (faces->len, ==, 1);
  memcpy (emotions, g_array_index (faces, MtFace, 0).emotions, sizeof (float) * MT_N_MOODS);
}

static float
max_difference (const float *a,
                const float *b)
{
  float most = 0;

  for (int i = 0; i < MT_N_MOODS; i++)
    most = MAX (most, fabsf (a[i] - b[i]));
  return most;
}

/* Four networks blended, and Mirror=false reading once, as the analyzer
 * runs them. */
static void
test_four_networks_and_mirror (void)
{
  static const char * const networks[] = { "blazeface-back", "emotion-xception", "face-expression", NULL };
  g_autofree char *dir = make_dir (DETECTOR NETWORKS
                                   "[Model four]\nNetworks=emotion-xception;face-expression;emotion-xception;face-expression\n"
                                   "Weights=0.35;0.15;0.35;0.15\n"
                                   "[Model ensemble]\nNetworks=emotion-xception;face-expression\nWeights=0.7;0.3\n"
                                   "[Model once]\nNetworks=face-expression\nMirror=false\n"
                                   "[Model twice]\nNetworks=face-expression\n", networks);
  g_autoptr(GError) error = NULL;
  g_autoptr(MtAnalyzer) four = mt_analyzer_new (dir, "four", &error);
  g_autoptr(MtAnalyzer) ensemble = NULL;
  g_autoptr(MtAnalyzer) once = NULL;
  g_autoptr(MtAnalyzer) twice = NULL;
  g_autofree guint8 *pixels = make_pixels (64);
  MtFrame frame = { pixels, 64, 64, 64 * 3, MT_PIXEL_FORMAT_RGB };
  float a[MT_N_MOODS], b[MT_N_MOODS], c[MT_N_MOODS];

  g_assert_no_error (error);
  ensemble = mt_analyzer_new (dir, "ensemble", &error);
  g_assert_no_error (error);
  once = mt_analyzer_new (dir, "once", &error);
  g_assert_no_error (error);
  twice = mt_analyzer_new (dir, "twice", &error);
  g_assert_no_error (error);

  /* Twice the same two networks at the same shares: the same blend. */
  read_whole (four, &frame, MT_ANALYZE_NONE, a);
  read_whole (ensemble, &frame, MT_ANALYZE_NONE, b);
  g_assert_cmpfloat (max_difference (a, b), <, 1e-5f);

  /* Mirror=false reads as single pass does; the default mirrors. */
  read_whole (once, &frame, MT_ANALYZE_NONE, a);
  read_whole (twice, &frame, MT_ANALYZE_SINGLE_PASS, b);
  read_whole (twice, &frame, MT_ANALYZE_NONE, c);
  g_assert_cmpfloat (max_difference (a, b), ==, 0);
  g_assert_cmpfloat (max_difference (a, c), >, 1e-4f);
  remove_dir (dir);
}

/* TestCrops: more readings of the face, averaged with its own crop's;
 * never in single pass. */
static void
test_test_crops (void)
{
  static const char * const networks[] = { "blazeface-back", "emotion-xception", "face-expression", NULL };
  g_autofree char *dir = make_dir (DETECTOR NETWORKS
                                   "[Model plain]\nNetworks=face-expression\n"
                                   "[Model same]\nNetworks=face-expression\nTestCrops=1 0 0\n"
                                   "[Model moved]\nNetworks=face-expression\n"
                                   "TestCrops= 0.8 0.1 -0.1 ;0.9 -0.05 0.05\n", networks);
  g_autoptr(GError) error = NULL;
  g_autoptr(MtModelManifest) manifest = mt_model_manifest_open (dir, &error);
  g_autoptr(MtAnalyzer) plain = NULL, same = NULL, moved = NULL;
  g_autofree guint8 *pixels = make_pixels (64);
  MtFrame frame = { pixels, 64, 64, 64 * 3, MT_PIXEL_FORMAT_RGB };
  const MtModelRecipe *recipe;
  float a[MT_N_MOODS], b[MT_N_MOODS], c[MT_N_MOODS];

  g_assert_no_error (error);
  recipe = mt_model_manifest_lookup (manifest, "moved", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (recipe->n_test_crops, ==, 2);
  g_assert_true (recipe->test_crops[0][0] == 0.8f && recipe->test_crops[0][1] == 0.1f &&
                 recipe->test_crops[0][2] == -0.1f && recipe->test_crops[1][1] == -0.05f);
  g_assert_cmpuint (mt_model_manifest_lookup (manifest, "plain", NULL)->n_test_crops, ==, 0);

  plain = mt_analyzer_new (dir, "plain", &error);
  g_assert_no_error (error);
  same = mt_analyzer_new (dir, "same", &error);
  g_assert_no_error (error);
  moved = mt_analyzer_new (dir, "moved", &error);
  g_assert_no_error (error);

  /* The face's own crop again: the mean of two equal readings. */
  read_whole (plain, &frame, MT_ANALYZE_NONE, a);
  read_whole (same, &frame, MT_ANALYZE_NONE, b);
  g_assert_cmpfloat (max_difference (a, b), <, 1e-6f);
  /* Other crops read otherwise... */
  read_whole (moved, &frame, MT_ANALYZE_NONE, c);
  g_assert_cmpfloat (max_difference (a, c), >, 1e-4f);
  /* ...but single pass is one reading of the face's own crop. */
  read_whole (plain, &frame, MT_ANALYZE_SINGLE_PASS, a);
  read_whole (moved, &frame, MT_ANALYZE_SINGLE_PASS, c);
  g_assert_cmpfloat (max_difference (a, c), ==, 0);
  remove_dir (dir);
}

/* CropMargin and CropShift move the crop of a detected face. */
static void
test_crop_margin (void)
{
  static const char * const networks[] = { "blazeface-back", "emotion-xception", "face-expression", NULL };
  g_autofree char *path = g_build_filename (g_getenv ("MT_SHARED_DIR"), "media", "astronaut.png", NULL);
  g_autofree char *dir = NULL;
  g_autoptr(MtImage) image = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtAnalyzer) plain = NULL;
  g_autoptr(MtAnalyzer) stated = NULL;
  g_autoptr(MtAnalyzer) wide = NULL;
  g_autoptr(GArray) faces_plain = NULL;
  g_autoptr(GArray) faces_stated = NULL;
  g_autoptr(GArray) faces_wide = NULL;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_test_skip ("../shared/media/astronaut.png is not there");
      return;
    }
  image = mt_image_load (path, &error);
  g_assert_no_error (error);
  dir = make_dir (DETECTOR NETWORKS "[Model plain]\nNetworks=face-expression\n"
                  "[Model stated]\nNetworks=face-expression\nCropMargin=1.15\nCropShift=0.05\n"
                  "[Model wide]\nNetworks=face-expression\nCropMargin=2\nCropShift=0.3\n", networks);
  plain = mt_analyzer_new (dir, "plain", &error);
  g_assert_no_error (error);
  stated = mt_analyzer_new (dir, "stated", &error);
  g_assert_no_error (error);
  wide = mt_analyzer_new (dir, "wide", &error);
  g_assert_no_error (error);

  faces_plain = mt_analyzer_analyze (plain, mt_image_get_frame (image), MT_ANALYZE_NONE, &error);
  g_assert_no_error (error);
  faces_stated = mt_analyzer_analyze (stated, mt_image_get_frame (image), MT_ANALYZE_NONE, &error);
  g_assert_no_error (error);
  faces_wide = mt_analyzer_analyze (wide, mt_image_get_frame (image), MT_ANALYZE_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (faces_plain->len, ==, 1);
  g_assert_cmpuint (faces_wide->len, ==, 1);
  /* The defaults are 1.15 and 0.05. */
  g_assert_cmpfloat (max_difference (g_array_index (faces_plain, MtFace, 0).emotions,
                                     g_array_index (faces_stated, MtFace, 0).emotions), ==, 0);
  g_assert_cmpfloat (max_difference (g_array_index (faces_plain, MtFace, 0).emotions,
                                     g_array_index (faces_wide, MtFace, 0).emotions), >, 1e-3f);
  remove_dir (dir);
}

/* A network whose outputs are in another order reads the same moods once
 * its .names says so. */
static void
test_permuted_names (void)
{
  static const char * const networks[] = { "face-expression", NULL };
  /* Output i of the shipped file is mood i; here output i is permuted[i]. */
  static const int permuted[MT_N_MOODS] = { MT_MOOD_NEUTRAL, MT_MOOD_HAPPY, MT_MOOD_SAD, MT_MOOD_ANGRY,
                                            MT_MOOD_FEAR, MT_MOOD_DISGUST, MT_MOOD_SURPRISE };
  g_autofree char *dir = make_dir (DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\n", networks);
  g_autoptr(GString) names = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MtExpressionClassifier) shipped = NULL;
  g_autoptr(MtExpressionClassifier) other = NULL;
  g_autofree guint8 *pixels = make_pixels (80);
  MtFrame frame = { pixels, 80, 80, 80 * 3, MT_PIXEL_FORMAT_RGB };
  float a[MT_N_MOODS], b[MT_N_MOODS];
  int order[MT_N_MOODS];

  for (int i = 0; i < MT_N_MOODS; i++)
    g_string_append_printf (names, "%s%s\n", i == 2 ? "  " : "", mt_mood_to_string (permuted[i]));
  /* Spaces, a capital and a blank line are fine. */
  g_string_append (names, "\n");
  names->str[0] = g_ascii_toupper (names->str[0]);
  write_file (dir, "face-expression.names", names->str, -1);

  {
    g_autofree char *path = g_build_filename (dir, "face-expression.names", NULL);

    g_assert_true (mt_expression_read_mood_names (path, order, &error));
    g_assert_no_error (error);
  }
  for (int i = 0; i < MT_N_MOODS; i++)
    g_assert_cmpint (order[i], ==, permuted[i]);

  shipped = mt_expression_classifier_new (models_dir (), "face-expression", &error);
  g_assert_no_error (error);
  other = mt_expression_classifier_new (dir, "face-expression", &error);
  g_assert_no_error (error);
  g_assert_true (mt_expression_classifier_classify (shipped, &frame, 4, 4, 70, TRUE, a, &error));
  g_assert_no_error (error);
  g_assert_true (mt_expression_classifier_classify (other, &frame, 4, 4, 70, TRUE, b, &error));
  g_assert_no_error (error);
  /* The same network: its output i is a[i]; the permuted file calls it
   * permuted[i]. */
  for (int i = 0; i < MT_N_MOODS; i++)
    g_assert_cmpfloat (b[permuted[i]], ==, a[i]);
  remove_dir (dir);
}

static void
test_bad_names (void)
{
  static const char * const networks[] = { "face-expression", NULL };
  static const struct { const char *text; gssize length; const char *message; } bad[] = {
    { "angry\ndisgust\nfear\nhappy\nsad\nsurprise\n", -1, "“neutral” is missing" },
    { "angry\ndisgust\nfear\nhappy\nsad\nsurprise\nneutral\nneutral\n", -1, "line 8: “neutral” is named twice" },
    { "angry\ndisgust\nfear\nhappy\nsad\nsurprise\nneutral\nbored\n", -1, "line 8: “bored” is not one of the moods" },
    { "angry\ndisgusted\nfear\nhappy\nsad\nsurprise\nneutral\n", -1, "line 2: “disgusted” is not one of the moods" },
    { "", -1, "“angry” is missing" },
    { "angry\0disgust", 13, "not a .names file" },
    { "\xff\xfe", 2, "not a .names file" },
  };
  g_autofree char *dir = make_dir (DETECTOR NETWORKS "[Model m]\nNetworks=face-expression\n", networks);
  g_autofree char *path = g_build_filename (dir, "face-expression.names", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (bad) + 3; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MtExpressionClassifier) classifier = NULL;
      g_autoptr(MtAnalyzer) analyzer = NULL;
      const char *message;

      g_unlink (path);
      g_rmdir (path);
      if (i < G_N_ELEMENTS (bad))
        {
          write_file (dir, "face-expression.names", bad[i].text, bad[i].length);
          message = bad[i].message;
        }
      else if (i == G_N_ELEMENTS (bad))
        {
          g_autofree char *big = g_strnfill (MT_EXPRESSION_NAMES_MAX_SIZE + 1, 'a');
          write_file (dir, "face-expression.names", big, -1);
          message = "at most 4096 bytes";
        }
      else if (i == G_N_ELEMENTS (bad) + 1)
        {
          g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
          message = "not a .names file";
        }
      else
        message = "cannot open";

      classifier = mt_expression_classifier_new (dir, "face-expression", &error);
      g_assert_null (classifier);
      g_assert_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG);
      g_assert_nonnull (strstr (error->message, "face-expression.names: "));
      if (strstr (error->message, message) == NULL)
        g_error ("“%s” does not say “%s”", error->message, message);
      g_clear_error (&error);

      /* The same through the analyzer: an error, never a crash. */
      analyzer = mt_analyzer_new (dir, "m", &error);
      g_assert_null (analyzer);
      g_assert_nonnull (error);
    }
  g_rmdir (path);
  remove_dir (dir);
}

/* A person's own models next to the installed ones. */
static void
test_user_models (void)
{
  static const char * const networks[] = { "emotion-xception", "face-expression", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *user = make_dir ("[Network face-expression]\nChannels=3\nMean=122.782;117.001;104.298\n"
                                    "Scale=0.00392156862745098\n"
                                    "[Model mine]\nNetworks=face-expression\nMirror=false\n"
                                    "[Model ensemble]\nNetworks=face-expression\n", networks);
  g_autoptr(MtModelManifest) manifest = mt_model_manifest_load_merged (models_dir (), user, &error);
  g_autoptr(MtModelManifest) installed = mt_model_manifest_load (models_dir (), &error);
  const char * const *names;
  const MtModelRecipe *recipe;

  g_assert_no_error (error);
  g_assert_null (mt_model_manifest_get_user_error (manifest));
  names = mt_model_manifest_list_models (manifest);
  /* The installed ones in their order, the replaced one in its place, then
   * the user's new ones. */
  g_assert_cmpuint (g_strv_length ((char **) names), ==,
                    g_strv_length ((char **) mt_model_manifest_list_models (installed)) + 1);
  g_assert_cmpstr (names[0], ==, "moodtunes-ensemble");
  g_assert_cmpstr (names[1], ==, "fitted-head");
  g_assert_cmpstr (names[2], ==, "ensemble");
  g_assert_cmpstr (names[g_strv_length ((char **) names) - 1], ==, "mine");
  recipe = mt_model_manifest_lookup (manifest, "ensemble", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (recipe->dir, ==, user);
  g_assert_cmpstr (recipe->networks[0], ==, "face-expression");
  g_assert_null (recipe->networks[1]);
  g_assert_cmpstr (recipe->specs[0]->dir, ==, user);
  recipe = mt_model_manifest_lookup (manifest, "mine", &error);
  g_assert_no_error (error);
  g_assert_false (recipe->mirror);
  recipe = mt_model_manifest_lookup (manifest, "fitted-head", &error);
  g_assert_cmpstr (recipe->dir, ==, models_dir ());
  /* The detector and the default stay the installed ones. */
  g_assert_cmpstr (mt_model_manifest_get_default_model (manifest), ==, "moodtunes-ensemble");
  g_assert_cmpstr (mt_model_manifest_get_detector (manifest), ==, "blazeface-back");
  g_assert_cmpstr (mt_model_manifest_lookup_detector (manifest, NULL, NULL)->dir, ==, models_dir ());
  g_clear_object (&manifest);

  /* The analyzer runs a user's model from the user's folder. */
  {
    g_autoptr(MtModelManifest) merged = NULL;
    g_autoptr(MtExpressionClassifier) classifier = NULL;

    write_file (user, MT_MODEL_MANIFEST_FILE,
                "[Expression]\nDefault=mine\n[Detector tiny]\nNetwork=face-detector\n"
                "[Network face-expression]\nChannels=3\nMean=0\nScale=0.00392156862745098\n"
                "[Model mine]\nNetworks=face-expression\n", -1);
    merged = mt_model_manifest_load_merged (models_dir (), user, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (mt_model_manifest_get_default_model (merged), ==, "mine");
    g_assert_cmpstr (mt_model_manifest_lookup_detector (merged, "tiny", NULL)->dir, ==, user);
    recipe = mt_model_manifest_lookup (merged, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (recipe->specs[0]->mean[0] == 0);
    classifier = mt_expression_classifier_new_from_spec (recipe->specs[0], &error);
    g_assert_no_error (error);
  }

  /* A user's Default may name an installed model. */
  write_file (user, MT_MODEL_MANIFEST_FILE, "[Expression]\nDefault=ensemble\n", -1);
  manifest = mt_model_manifest_load_merged (models_dir (), user, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mt_model_manifest_get_default_model (manifest), ==, "ensemble");
  g_clear_object (&manifest);

  /* Broken user manifests: reported, left out, the installed ones load. */
  {
    static const struct { const char *text; const char *message; } broken[] = {
      { "[Model mine]\nNetworks=face-expression\n", "network “face-expression” has no [Network face-expression]" },
      { "[Model mine\nNetworks=x", "moodtunes-models.ini" },
      { "[Expression]\nDefault=nothing\n", "Default “nothing” is no model there" },
      { "[Network face-expression]\nChannels=3\nMean=1\nScale=1\nSize=48\n", "unknown key “Size”" },
      { "[Model mine]\nNetworks=a;b;c;d;e\nWeights=1;1;1;1;1\n", "5 networks" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
      {
        const GError *user_error;

        write_file (user, MT_MODEL_MANIFEST_FILE, broken[i].text, -1);
        g_test_expect_message ("mt-model-manifest", G_LOG_LEVEL_WARNING, "Your own expression models are left out: *");
        manifest = mt_model_manifest_load_merged (models_dir (), user, &error);
        g_test_assert_expected_messages ();
        g_assert_no_error (error);
        g_assert_nonnull (manifest);
        user_error = mt_model_manifest_get_user_error (manifest);
        g_assert_nonnull (user_error);
        g_assert_nonnull (strstr (user_error->message, user));
        if (strstr (user_error->message, broken[i].message) == NULL)
          g_error ("“%s” does not say “%s”", user_error->message, broken[i].message);
        g_assert_cmpstrv (mt_model_manifest_list_models (manifest), mt_model_manifest_list_models (installed));
        g_assert_cmpstr (mt_model_manifest_get_default_model (manifest), ==, "moodtunes-ensemble");
        g_clear_object (&manifest);
      }
  }

  /* No user manifest at all: just the installed models, nothing to say. */
  {
    g_autofree char *path = g_build_filename (user, MT_MODEL_MANIFEST_FILE, NULL);

    g_unlink (path);
    manifest = mt_model_manifest_load_merged (models_dir (), user, &error);
    g_assert_no_error (error);
    g_assert_null (mt_model_manifest_get_user_error (manifest));
    g_assert_cmpstrv (mt_model_manifest_list_models (manifest), mt_model_manifest_list_models (installed));
    g_clear_object (&manifest);
  }
  remove_dir (user);

  /* $MT_MODELS_DIR stands alone, as a named folder does. */
  manifest = mt_model_manifest_open (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mt_model_manifest_get_dir (manifest), ==, models_dir ());
}

/* The analyzer without a model runs the manifest's default. */
static void
test_analyzer_default (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtAnalyzer) analyzer = mt_analyzer_new (NULL, NULL, &error);
  g_autofree char *model = mt_analyzer_dup_default_model (NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (mt_analyzer_get_model (analyzer), ==, "moodtunes-ensemble");
  g_assert_cmpstr (model, ==, "moodtunes-ensemble");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/model-manifest/shipped-networks", test_shipped_networks);
  g_test_add_func ("/model-manifest/network-groups", test_network_groups);
  g_test_add_func ("/model-manifest/model-references", test_model_references);
  g_test_add_func ("/model-manifest/crop-mirror-default", test_crop_mirror_default);
  g_test_add_func ("/model-manifest/four-networks-and-mirror", test_four_networks_and_mirror);
  g_test_add_func ("/model-manifest/crop-margin", test_crop_margin);
  g_test_add_func ("/model-manifest/test-crops", test_test_crops);
  g_test_add_func ("/model-manifest/permuted-names", test_permuted_names);
  g_test_add_func ("/model-manifest/bad-names", test_bad_names);
  g_test_add_func ("/model-manifest/user-models", test_user_models);
  g_test_add_func ("/model-manifest/analyzer-default", test_analyzer_default);
  return g_test_run ();
}
