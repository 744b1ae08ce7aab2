/* mt-window.h: the main window: camera, faces, mood, playlist and player. */
#pragma once

#include <adwaita.h>

#include "mt-application.h"

G_BEGIN_DECLS

#define MT_TYPE_WINDOW (mt_window_get_type ())
G_DECLARE_FINAL_TYPE (MtWindow, mt_window, MT, WINDOW, AdwApplicationWindow)

MtWindow *mt_window_new             (MtApplication *application);
/* The mood the playlist is made for (hand-picked or from the face), or
 * MT_MOOD_NONE before any. */
/* Renders the window into a PNG file. */
gboolean  mt_window_save_screenshot (MtWindow      *self,
                                     const char    *path,
                                     GError       **error);

G_END_DECLS
