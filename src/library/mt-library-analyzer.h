/* mt-library-analyzer.h: reads every song's mood from its own sound.
 *
 * After an import, the songs not analysed yet (new, changed, or analysed by
 * an older Moodtunes) are decoded and described by moodtunes-audio-analyzer
 * helpers, one per job (all cores by default, at low priority); the audio
 * mood model turns the descriptors into valence and arousal, and
 * MtAudioMoods those into the seven mood weights that join the tag rules.
 *
 * Incremental: an unchanged file is never decoded again, and a file that
 * failed is not retried until it changes.  A new model or mapping derives
 * the weights again from the stored descriptors, without decoding.
 * Crash-safe: each song is committed as soon as it is done, so a kill loses
 * at most the songs being decoded.  Cancellable between songs.
 */
#pragma once

#include <gio/gio.h>

#include "mt-audio-moods.h"
#include "mt-audio-mood-model.h"
#include "mt-library.h"
#include "mt-library-importer.h"

G_BEGIN_DECLS

typedef struct {
  guint      total;       /* songs to analyse in this run */
  guint      analysed;    /* analysed now */
  guint      failed;      /* could not be analysed, see failures */
  guint      rescored;    /* weights derived again from stored descriptors */
  guint      helper_restarts;  /* analyzer crashes or hangs survived */
  gboolean   cancelled;   /* stopped before the end; the rest waits for the next run */
  GPtrArray *failures;    /* of MtImportSkip: the file and why */
} MtAnalysisReport;

#define MT_TYPE_ANALYSIS_REPORT (mt_analysis_report_get_type ())
GType             mt_analysis_report_get_type (void) G_GNUC_CONST;
MtAnalysisReport *mt_analysis_report_copy     (const MtAnalysisReport *report);
void              mt_analysis_report_free     (MtAnalysisReport       *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtAnalysisReport, mt_analysis_report_free)

/* The version stored with each song's weights: the model's and the
 * mapping's, so that a change of either makes the weights stale. */
char             *mt_library_analyzer_dup_model_version (MtAudioMoodModel *model,
                                                         MtAudioMoods     *moods);

#define MT_TYPE_LIBRARY_ANALYZER (mt_library_analyzer_get_type ())
G_DECLARE_FINAL_TYPE (MtLibraryAnalyzer, mt_library_analyzer, MT, LIBRARY_ANALYZER, GObject)

/* Analyses the songs of the database file of @library (through its own
 * connection) with the installed model and mapping, or those given. */
MtLibraryAnalyzer *mt_library_analyzer_new          (MtLibrary          *library);
void               mt_library_analyzer_set_model    (MtLibraryAnalyzer  *self,
                                                     MtAudioMoodModel   *model,
                                                     MtAudioMoods       *moods);
/* Helpers run side by side (default: one per core). */
void               mt_library_analyzer_set_n_jobs   (MtLibraryAnalyzer  *self,
                                                     guint               n_jobs);
/* Seconds one file may take (default 60). */
void               mt_library_analyzer_set_timeout  (MtLibraryAnalyzer  *self,
                                                     guint               seconds);

/* Blocks until done or cancelled ("progress" is emitted from the calling
 * thread).  Fails only when the library or the model cannot be used; a
 * file that cannot be analysed is a failure in the report. */
MtAnalysisReport  *mt_library_analyzer_run          (MtLibraryAnalyzer  *self,
                                                     GCancellable       *cancellable,
                                                     GError            **error);
/* Same work in a worker thread; "progress" is emitted in the thread-default
 * main context of the caller.  A cancelled run finishes with its report
 * (cancelled set), not G_IO_ERROR_CANCELLED. */
void               mt_library_analyzer_run_async    (MtLibraryAnalyzer  *self,
                                                     GCancellable       *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer            user_data);
MtAnalysisReport  *mt_library_analyzer_run_finish   (MtLibraryAnalyzer  *self,
                                                     GAsyncResult       *result,
                                                     GError            **error);

G_END_DECLS
