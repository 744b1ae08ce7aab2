/* mt-data-dirs.h: where an installed or a build-tree Moodtunes finds its
 * data files (mood rules, strategies, the demo picture).
 *
 * An installed program reads its installed folder (share/moodtunes); a build
 * tree is run through `meson devenv`, which points $MT_DATA_DIR at the
 * source tree's data/.  Nothing compiled in points into the source tree. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The installed data folder, <prefix>/share/moodtunes. */
const char *mt_data_dirs_get_installed (void);

/* The path of @name (a file name, or a path inside the data folder such as
 * "demo/astronaut.jpg"): from $MT_DATA_DIR when set, else the installed
 * folder.  NULL with @error naming where it looked when it is in neither. */
char       *mt_data_dirs_find_file     (const char  *name,
                                        GError     **error);

G_END_DECLS
