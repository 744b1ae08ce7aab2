/* moodtunes-analyze: prints the faces and expressions in image files as JSON
 * lines, one object per image. */
#define G_LOG_DOMAIN "moodtunes-analyze"

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "mt-analyzer.h"
#include "mt-model-manifest.h"
#include "mt-darknet.h"
#include "mt-face-detector.h"
#include "mt-image.h"

static gboolean opt_whole_face;
static gboolean opt_single_pass;
static gboolean opt_version;
static gboolean opt_verbose;
static char *opt_model;
static char *opt_models_dir;
static double opt_threshold = -1;
static int opt_detector_size;
static char **opt_paths;

/* Not const: the --model text lists the manifest's models (main()). */
static GOptionEntry option_entries[] = {
  { "whole-face", 'w', 0, G_OPTION_ARG_NONE, &opt_whole_face,
    "Skip detection: each image is one face (FER-style crops)", NULL },
  { "single-pass", 's', 0, G_OPTION_ARG_NONE, &opt_single_pass,
    "Read each face once, not also mirrored (twice as fast, as live video does)", NULL },
  { "model", 'm', 0, G_OPTION_ARG_STRING, &opt_model,
    "Expression model, one of the models manifest's", "NAME" },
  { "models-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_models_dir,
    "Folder holding the Darknet models", "DIR" },
  { "threshold", 't', 0, G_OPTION_ARG_DOUBLE, &opt_threshold,
    "Face detection threshold, above 0 and at most 1 (default: see below)", "SCORE" },
  { "detector-size", 0, 0, G_OPTION_ARG_INT, &opt_detector_size,
    "Face detector input size in pixels, a multiple of 32 from 64 to 1024: "
    "smaller is faster, larger finds smaller faces (default: see below)", "N" },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
    "Let Darknet print its loading messages", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_paths, NULL, "PATH…" },
  { NULL }
};

/* JSON is written by hand so numbers keep a readable, fixed precision. */
static void
append_json_string (GString    *out,
                    const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++)
    {
      guchar c = (guchar) *p;

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, '"');
}

static void
append_number (GString *out,
               double   value,
               int      decimals)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  char format[8];

  g_snprintf (format, sizeof format, "%%.%df", decimals);
  g_string_append (out, g_ascii_formatd (buffer, sizeof buffer, format, value));
}

/* File names need not be UTF-8; JSON must be. */
static void
begin_result (GString    *out,
              const char *path)
{
  g_autofree char *display = g_filename_display_name (path);

  g_string_append (out, "{\"file\": ");
  append_json_string (out, display);
}

static void
end_result (GString *out)
{
  g_string_append (out, "}\n");
  fputs (out->str, stdout);
  fflush (stdout);
}

static void
print_error (const char *path,
             const char *message)
{
  g_autoptr(GString) out = g_string_new (NULL);

  begin_result (out, path);
  g_string_append (out, ", \"error\": ");
  append_json_string (out, message);
  end_result (out);
}

static void
print_faces (const char *path,
             GArray     *faces,
             double      ms)
{
  g_autoptr(GString) out = g_string_new (NULL);

  begin_result (out, path);
  g_string_append (out, ", \"faces\": [");
  for (guint i = 0; i < faces->len; i++)
    {
      const MtFace *face = &g_array_index (faces, MtFace, i);

      g_string_append_printf (out, "%s{\"box\": [%d, %d, %d, %d], \"score\": ",
                              i ? ", " : "",
                              (int) (face->x + 0.5f), (int) (face->y + 0.5f),
                              (int) (face->width + 0.5f), (int) (face->height + 0.5f));
      append_number (out, face->score, 4);
      g_string_append (out, ", \"emotions\": {");
      for (int e = 0; e < MT_N_MOODS; e++)
        {
          g_string_append_printf (out, "%s\"%s\": ", e ? ", " : "", mt_mood_to_string (e));
          append_number (out, face->emotions[e], 4);
        }
      g_string_append_printf (out, "}, \"emotion\": \"%s\"}", mt_mood_to_string (face->emotion));
    }
  g_string_append (out, "], \"ms\": ");
  append_number (out, ms, 2);
  end_result (out);
}

/* Returns TRUE when the file was analyzed. */
static gboolean
analyze_file (MtAnalyzer *analyzer,
              const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtImage) image = mt_image_load (path, &error);
  g_autoptr(GArray) faces = NULL;
  gint64 start;

  if (image == NULL)
    {
      print_error (path, error->message);
      return FALSE;
    }

  start = g_get_monotonic_time ();
  faces = mt_analyzer_analyze (analyzer, mt_image_get_frame (image),
                               (opt_whole_face ? MT_ANALYZE_WHOLE_FACE : MT_ANALYZE_NONE) |
                               (opt_single_pass ? MT_ANALYZE_SINGLE_PASS : MT_ANALYZE_NONE),
                               &error);
  if (faces == NULL)
    {
      print_error (path, error->message);
      return FALSE;
    }
  print_faces (path, faces, (g_get_monotonic_time () - start) / 1000.0);
  return TRUE;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* Collects the regular files below @dir, sorted, so output order is stable. */
static gboolean
collect_files (const char  *dir,
               GPtrArray   *files,
               GError     **error)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, error);
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (handle == NULL)
    return FALSE;
  while ((name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (entries, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (entries, compare_strings);

  for (guint i = 0; i < entries->len; i++)
    {
      const char *path = g_ptr_array_index (entries, i);

      /* Links to folders are not followed: they could loop. */
      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        {
          g_autoptr(GError) sub_error = NULL;
          if (!collect_files (path, files, &sub_error))
            g_ptr_array_add (files, g_strdup (path)); /* reported as unreadable */
        }
      else if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (files, g_strdup (path));
    }
  return TRUE;
}

/* The models of the default folders (installed and the user's, or
 * $MT_MODELS_DIR's), so --help shows what this installation offers. */
static char *
describe_model_option (void)
{
  g_autoptr(MtModelManifest) manifest = mt_model_manifest_open (NULL, NULL);
  g_autofree char *models = manifest != NULL ? mt_model_manifest_describe_models (manifest) : NULL;

  if (models == NULL)
    return g_strdup ("Expression model, one of the models manifest's (" MT_MODEL_MANIFEST_FILE ")");
  return g_strdup_printf ("Expression model: %s", models);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtAnalyzer) analyzer = NULL;
  g_autofree char *description = NULL;
  g_autofree char *model_help = NULL;
  gboolean all_ok = TRUE;

  setlocale (LC_ALL, "");

  model_help = describe_model_option ();
  for (guint i = 0; option_entries[i].long_name != NULL; i++)
    if (g_str_equal (option_entries[i].long_name, "model"))
      option_entries[i].description = model_help;

  context = g_option_context_new ("- find faces and read their expressions");
  g_option_context_set_summary (context,
    "Prints one JSON object per image: the faces found, each with its box,\n"
    "detection score and the probabilities of seven expressions.\n"
    "PATH is an image file (JPEG, PNG, …) or a folder, walked recursively.");
  g_option_context_add_main_entries (context, option_entries, NULL);
  /* The detector, its size and threshold are the models manifest's
   * ([Detector] in moodtunes-models.ini). */
  description = g_strdup ("Face detection defaults: the detector, size and threshold of [Detector] in\n"
                          "the models folder's " MT_MODEL_MANIFEST_FILE " (BlazeFace at 192, threshold 0.6,\n"
                          "as shipped).");
  g_option_context_set_description (context, description);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("moodtunes-analyze: %s\n", error->message);
      return 2;
    }
  if (opt_version)
    {
      g_print ("moodtunes-analyze %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (opt_paths == NULL || opt_paths[0] == NULL)
    {
      g_printerr ("moodtunes-analyze: no image given (see --help)\n");
      return 2;
    }
  if (opt_threshold != -1 && !(opt_threshold > 0 && opt_threshold <= 1))
    {
      g_printerr ("moodtunes-analyze: --threshold takes a number above 0 and at most 1\n");
      return 2;
    }

  mt_darknet_set_verbose (opt_verbose);
  analyzer = mt_analyzer_new (opt_models_dir, opt_model, &error);
  if (analyzer == NULL)
    {
      g_printerr ("moodtunes-analyze: cannot load the models: %s\n", error->message);
      return 3;
    }
  if (opt_threshold != -1)
    mt_analyzer_set_threshold (analyzer, (float) opt_threshold);
  if (opt_detector_size != 0 &&
      !mt_analyzer_set_detector_size (analyzer, opt_detector_size, &error))
    {
      g_printerr ("moodtunes-analyze: --detector-size: %s\n", error->message);
      return 2;
    }

  for (guint i = 0; opt_paths[i] != NULL; i++)
    {
      const char *path = opt_paths[i];

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
          g_autoptr(GError) dir_error = NULL;

          if (!collect_files (path, files, &dir_error))
            {
              print_error (path, dir_error->message);
              all_ok = FALSE;
              continue;
            }
          for (guint j = 0; j < files->len; j++)
            all_ok &= analyze_file (analyzer, g_ptr_array_index (files, j));
        }
      else
        all_ok &= analyze_file (analyzer, path);
    }

  return all_ok ? 0 : 1;
}
