/* mt-library-private.h: what the library's own files share beyond the
 * public API (the connection of an MtLibrary); not for other code. */
#pragma once

#include <sqlite3.h>

#include "mt-library.h"

G_BEGIN_DECLS

sqlite3  *_mt_library_get_db       (MtLibrary   *self);
/* Sets MT_LIBRARY_ERROR_DATABASE naming the file, @what and SQLite's
 * message; returns FALSE. */
gboolean  _mt_library_set_db_error (MtLibrary   *self,
                                    GError     **error,
                                    const char  *what);

G_END_DECLS
