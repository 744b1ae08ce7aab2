/* mt-library-data.h: finds the data files (mood rules, strategies) at run time. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Looks for @name in $MT_LIBRARY_DATA_DIR, then $MT_SOURCE_DIR/data (tests),
 * then the installed data folder, then the source tree it was built from. */
char *mt_library_find_data_file (const char  *name,
                                 GError     **error);

/* Parses the JSON file @path with @parser and returns its top-level object
 * (owned by @parser); @what names the file in errors ("Mood rules"). */
JsonObject *mt_library_load_data_object (JsonParser  *parser,
                                         const char  *path,
                                         const char  *what,
                                         GError     **error);

G_END_DECLS
