/* mt-model-manifest.h: which networks each expression model runs, read from
 * a models folder's moodtunes-models.ini (models/moodtunes-models.ini). */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The manifest's file name inside a models folder. */
#define MT_MODEL_MANIFEST_FILE "moodtunes-models.ini"

/* Upper bound on the manifest's size: it is a few lines. */
#define MT_MODEL_MANIFEST_MAX_SIZE (64 * 1024)

/* At most this many networks are read (and blended) per expression model. */
#define MT_MODEL_MAX_NETWORKS 2

/* One expression model: the networks it reads, blended with @weights, or,
 * with @head set, read through that fitted head (networks[0] is the
 * mini-Xception, networks[1] the network whose features the head reads). */
typedef struct {
  char  *name;
  char  *head;
  char  *networks[MT_MODEL_MAX_NETWORKS];  /* NULL after the last */
  float  weights[MT_MODEL_MAX_NETWORKS];
} MtModelRecipe;

#define MT_TYPE_MODEL_MANIFEST (mt_model_manifest_get_type ())
G_DECLARE_FINAL_TYPE (MtModelManifest, mt_model_manifest, MT, MODEL_MANIFEST, GObject)

/* Reads @models_dir/moodtunes-models.ini and validates it strictly (known
 * groups and keys only, network names that are plain file names, finite
 * positive weights, one per network).  Errors name the file and the fault. */
MtModelManifest     *mt_model_manifest_load          (const char       *models_dir,
                                                      GError          **error);
const char          *mt_model_manifest_get_dir       (MtModelManifest  *self);
const char          *mt_model_manifest_get_detector  (MtModelManifest  *self);
/* The model names in the manifest's order. */
const char * const  *mt_model_manifest_list_models   (MtModelManifest  *self);
/* The model called @name, or NULL with @error naming the known ones. */
const MtModelRecipe *mt_model_manifest_lookup        (MtModelManifest  *self,
                                                      const char       *name,
                                                      GError          **error);
/* Every file the manifest relies on (itself, then NAME.cfg, .weights and
 * .names of each network once), as names inside the folder. */
GStrv                mt_model_manifest_list_files    (MtModelManifest  *self);

/* The folders searched for models, most specific first: $MT_MODELS_DIR (a
 * build tree's models/ under `meson devenv`, or a person's choice), the
 * user's own ($XDG_DATA_HOME/moodtunes/models), the installed one. */
GStrv                mt_model_manifest_get_search_path (void);
/* The first folder of the search path that holds a manifest, else the
 * installed folder (whose absence then shows in the loading error). */
const char          *mt_model_manifest_find_default_dir (void);

G_END_DECLS
