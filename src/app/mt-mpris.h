/* mt-mpris.h: MPRIS2 on the session bus, so that media keys and the desktop's
 * media controls drive playback. */
#pragma once

#include "mt-application.h"
#include "mt-window.h"

G_BEGIN_DECLS

#define MT_MPRIS_BUS_NAME "org.mpris.MediaPlayer2.moodtunes"

#define MT_TYPE_MPRIS (mt_mpris_get_type ())
G_DECLARE_FINAL_TYPE (MtMpris, mt_mpris, MT, MPRIS, GObject)

/* Does nothing (and says so in the debug log) without a session bus. */
MtMpris *mt_mpris_new        (MtApplication *application);
/* The window whose actions the controls activate. */
void     mt_mpris_set_window (MtMpris       *self,
                              MtWindow      *window);

G_END_DECLS
