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

/* How a detector network's output is read (models/README.md). */
typedef enum {
  MT_DETECTOR_KIND_TINY_YOLO,   /* face-api's Tiny Face Detector: one grid, 5 anchors */
  MT_DETECTOR_KIND_BLAZEFACE,   /* MediaPipe BlazeFace: SSD heads, 16 regressors per anchor */
} MtDetectorKind;

#define MT_DETECTOR_MAX_HEADS 4

/* A face detector: its network, how to read it and the settings measured
 * best for it.  [Detector] is the default; [Detector NAME] groups are
 * others a program may ask for by name. */
typedef struct {
  char           *name;       /* NULL for the default */
  char           *network;
  MtDetectorKind  kind;
  int             size;       /* input side (multiple of 32), 0: the detector's default */
  float           threshold;  /* 0: the detector's default */
  /* BlazeFace: the layers holding the heads' scores and regressors. */
  int             heads[MT_DETECTOR_MAX_HEADS];
  int             n_heads;
  /* The network's boxes mapped to the convention the analyzer's crops and
   * the tracker were made for (face-api's, brows to chin): width and
   * height scaled, centre moved by a share of them.  1, 1 and 0, 0: as
   * the network gives them. */
  float           box_scale[2];
  float           box_shift[2];
} MtDetectorRecipe;

#define MT_TYPE_MODEL_MANIFEST (mt_model_manifest_get_type ())
G_DECLARE_FINAL_TYPE (MtModelManifest, mt_model_manifest, MT, MODEL_MANIFEST, GObject)

/* Reads @models_dir/moodtunes-models.ini and validates it strictly (known
 * groups and keys only, network names that are plain file names, finite
 * positive weights, one per network, detector kinds, sizes, thresholds and
 * head layers in range).  Errors name the file and the fault. */
MtModelManifest     *mt_model_manifest_load          (const char       *models_dir,
                                                      GError          **error);
const char          *mt_model_manifest_get_dir       (MtModelManifest  *self);
const char          *mt_model_manifest_get_detector  (MtModelManifest  *self);
/* The detector called @name ([Detector NAME]), or with @name NULL the
 * default ([Detector]); NULL with @error naming the known ones. */
const MtDetectorRecipe *mt_model_manifest_lookup_detector (MtModelManifest *self,
                                                           const char      *name,
                                                           GError         **error);
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
