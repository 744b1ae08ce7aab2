/* mt-preferences-window.h: camera, playlist, face detection, music folders
 * and the local server, all stored in GSettings. */
#pragma once

#include <adwaita.h>

#include "mt-application.h"

G_BEGIN_DECLS

#define MT_TYPE_PREFERENCES_WINDOW (mt_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (MtPreferencesWindow, mt_preferences_window, MT, PREFERENCES_WINDOW, AdwPreferencesWindow)

GtkWidget *mt_preferences_window_new (MtApplication *application,
                                      GtkWindow     *parent);

G_END_DECLS
