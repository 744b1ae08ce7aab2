/* mt-model-check.h: validates Darknet model files before Darknet sees them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Checks @cfg_path against a strict whitelist of sections, keys and value
 * ranges, and @weights_path for the exact size the cfg implies.  Errors are in
 * the MT_DARKNET_ERROR domain and name the file, line and key at fault. */
gboolean mt_model_check_files (const char  *cfg_path,
                               const char  *weights_path,
                               GError     **error);

G_END_DECLS
