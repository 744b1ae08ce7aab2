/* mt-sound-analysis.h: the app's one run at a time of reading the sound of
 * the library's songs (MtLibraryAnalyzer), in the background; the window
 * shows its progress, Preferences its state. */
#pragma once

#include <gio/gio.h>

#include "mt-library.h"

G_BEGIN_DECLS

#define MT_TYPE_SOUND_ANALYSIS (mt_sound_analysis_get_type ())
G_DECLARE_FINAL_TYPE (MtSoundAnalysis, mt_sound_analysis, MT, SOUND_ANALYSIS, GObject)

/* @settings: its "audio-analysis" key says whether songs are read at all. */
MtSoundAnalysis *mt_sound_analysis_new            (MtLibrary       *library,
                                                   GSettings       *settings);
/* Reads the songs not analysed yet, unless the setting is off, a run is on
 * or none is pending. */
void             mt_sound_analysis_start          (MtSoundAnalysis *self);
/* Stops the run between songs; those done are kept. */
void             mt_sound_analysis_cancel         (MtSoundAnalysis *self);
gboolean         mt_sound_analysis_get_running    (MtSoundAnalysis *self);
/* Songs read in this run, and of how many. */
guint            mt_sound_analysis_get_done       (MtSoundAnalysis *self);
guint            mt_sound_analysis_get_total      (MtSoundAnalysis *self);
/* Of the songs whose file is there: analysed, could not be read, waiting. */
gboolean         mt_sound_analysis_count          (MtSoundAnalysis *self,
                                                   gint64          *analysed,
                                                   gint64          *failed,
                                                   gint64          *pending,
                                                   GError         **error);
/* The songs whose sound could not be read, and why (MtImportSkip). */
GPtrArray       *mt_sound_analysis_list_failures  (MtSoundAnalysis *self,
                                                   GError         **error);

G_END_DECLS
