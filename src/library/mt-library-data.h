/* mt-library-data.h: reads the library's JSON data files (mood rules,
 * strategies; found with mt_data_dirs_find_file()). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Parses the JSON file @path with @parser and returns its top-level object
 * (owned by @parser); @what names the file in errors ("Mood rules"). */
JsonObject *mt_library_load_data_object (JsonParser  *parser,
                                         const char  *path,
                                         const char  *what,
                                         GError     **error);

G_END_DECLS
