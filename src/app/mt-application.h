/* mt-application.h: the Moodtunes application (single instance). */
#pragma once

#include <adwaita.h>

#include "mt-library.h"
#include "mt-player.h"
#include "mt-session.h"
#include "mt-sound-analysis.h"

G_BEGIN_DECLS

#define MT_APPLICATION_ID MT_APP_ID

#define MT_TYPE_APPLICATION (mt_application_get_type ())
G_DECLARE_FINAL_TYPE (MtApplication, mt_application, MT, APPLICATION, AdwApplication)

MtApplication *mt_application_new                (void);
GSettings     *mt_application_get_settings       (MtApplication *self);
/* NULL when the database could not be opened (see the error). */
MtLibrary     *mt_application_get_library        (MtApplication *self);
const char    *mt_application_get_library_error  (MtApplication *self);
MtPlayer      *mt_application_get_player         (MtApplication *self);
/* Reads the sound of the songs in the background; NULL without a library. */
MtSoundAnalysis *mt_application_get_sound_analysis (MtApplication *self);
/* Mood, strategy, playlist and feedback: what the window, MPRIS and the
 * local server show. */
MtSession     *mt_application_get_session        (MtApplication *self);
/* The --camera value, or NULL to use the settings. */
const char    *mt_application_get_camera_source  (MtApplication *self);
/* --quit-at-end: a clip used as camera plays once, then the app quits. */
gboolean       mt_application_get_quit_at_end    (MtApplication *self);
/* Whether this build has the local server (src/server). */
gboolean       mt_application_has_server         (MtApplication *self);
/* "Off", "Running at URL" or why it is not running, for people. */
char          *mt_application_dup_server_status  (MtApplication *self);
/* Saves the window as PNG (--screenshot) and quits. */
void           mt_application_finish             (MtApplication *self);

G_END_DECLS
