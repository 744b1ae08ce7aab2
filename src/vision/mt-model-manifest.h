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
#define MT_MODEL_MAX_NETWORKS 4
#define MT_MODEL_MAX_TEST_CROPS 8

/* How one expression network is fed ([Network NAME]): its input is a
 * square crop at the cfg's size, each value (pixel - mean[channel]) *
 * scale, pixels in 0..255. */
typedef struct {
  char  *name;
  char  *dir;               /* the folder of its files (its manifest's) */
  int    channels;          /* 1: luma, 3: RGB */
  float  mean[3];
  float  scale;
  /* The features a head may be fitted on: the output of this layer counted
   * from the end, averaged over its width and height; 0 and 0: none. */
  int    feature_layer;
  int    feature_channels;
} MtNetworkSpec;

/* One expression model: the networks it reads, blended with @weights, or,
 * with @head set, read through that fitted head (networks[0] is the
 * mini-Xception, networks[1] the network whose features the head reads). */
typedef struct {
  char                *name;
  /* The folder its networks (and head) are read from: the folder of the
   * manifest that listed it. */
  char                *dir;
  char                *head;
  char                *networks[MT_MODEL_MAX_NETWORKS];  /* NULL after the last */
  const MtNetworkSpec *specs[MT_MODEL_MAX_NETWORKS];     /* owned by the manifest */
  float                weights[MT_MODEL_MAX_NETWORKS];   /* normalized to sum 1 */
  /* The face crop: the detector's box side times crop_margin, its centre
   * moved up by crop_shift of that side. */
  float                crop_margin;
  float                crop_shift;
  /* Each face is also read mirrored and both readings averaged. */
  gboolean             mirror;
  /* Test-time crops read besides the face's own crop, all readings
   * averaged, unless single pass: each { zoom, dx, dy }, the crop's side
   * times zoom, its centre moved by (dx, dy) times the side. */
  float                test_crops[MT_MODEL_MAX_TEST_CROPS][3];
  guint                n_test_crops;
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
  char           *dir;        /* the folder of its network */
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
 * positive weights, one per network, a [Network] group for every network a
 * model reads, detector kinds, sizes, thresholds and head layers in range).
 * Errors name the file, the group and the fault. */
MtModelManifest     *mt_model_manifest_load          (const char       *models_dir,
                                                      GError          **error);
/* @primary_dir's manifest (as _load()) with the models of @user_dir's
 * manifest (NULL or a folder without one: none) added: a user model of an
 * installed model's name replaces it, the user's [Detector] and [Expression]
 * Default, where given, replace the primary's.  A broken user manifest
 * is not an error: it is left out, reported with g_warning() and kept for
 * mt_model_manifest_get_user_error(). */
MtModelManifest     *mt_model_manifest_load_merged   (const char       *primary_dir,
                                                      const char       *user_dir,
                                                      GError          **error);
/* What programs read: @models_dir's manifest alone when one is named, else
 * $MT_MODELS_DIR's alone when set, else the installed folder's merged with
 * the user's ($XDG_DATA_HOME/moodtunes/models). */
MtModelManifest     *mt_model_manifest_open          (const char       *models_dir,
                                                      GError          **error);
/* Why the user's manifest was left out, or NULL. */
const GError        *mt_model_manifest_get_user_error (MtModelManifest *self);
/* The primary folder. */
const char          *mt_model_manifest_get_dir       (MtModelManifest  *self);
const char          *mt_model_manifest_get_detector  (MtModelManifest  *self);
/* The detector called @name ([Detector NAME]), or with @name NULL the
 * default ([Detector]); NULL with @error naming the known ones. */
const MtDetectorRecipe *mt_model_manifest_lookup_detector (MtModelManifest *self,
                                                           const char      *name,
                                                           GError         **error);
/* The model names in the manifest's order (installed, then the user's). */
const char * const  *mt_model_manifest_list_models   (MtModelManifest  *self);
/* "fitted-head (default), ensemble, ..." for a program's --help. */
char                *mt_model_manifest_describe_models (MtModelManifest *self);
/* [Expression] Default=, else the first model. */
const char          *mt_model_manifest_get_default_model (MtModelManifest *self);
/* The model called @name (NULL: the default), or NULL with @error naming
 * the known ones. */
const MtModelRecipe *mt_model_manifest_lookup        (MtModelManifest  *self,
                                                      const char       *name,
                                                      GError          **error);
/* The [Network NAME] of the primary manifest, or NULL with @error. */
const MtNetworkSpec *mt_model_manifest_lookup_network (MtModelManifest *self,
                                                       const char      *name,
                                                       GError         **error);
/* Every file the primary manifest relies on (itself, then NAME.cfg,
 * .weights and .names of each network once), as names inside its folder. */
GStrv                mt_model_manifest_list_files    (MtModelManifest  *self);

/* The user's own models folder, $XDG_DATA_HOME/moodtunes/models. */
char                *mt_model_manifest_get_user_dir  (void);
/* The primary folder: $MT_MODELS_DIR (a build tree's models/ under `meson
 * devenv`, or a person's choice) when set, else the installed folder. */
const char          *mt_model_manifest_find_default_dir (void);

G_END_DECLS
