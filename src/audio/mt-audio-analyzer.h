/* mt-audio-analyzer.h: a song's audio descriptors, computed by the
 * moodtunes-audio-analyzer helper process.
 *
 * Decoders parse untrusted files: when the helper crashes or hangs on one,
 * that file fails with a reason and a fresh helper takes the next.  The
 * helper runs at low priority (nice +10), so analysing a library in the
 * background leaves the desktop responsive.  One MtAudioAnalyzer serves
 * one thread at a time; run one per core for a library.
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The longest reply line taken from the helper: a few dozen numbers fit
 * in a fraction of it. */
#define MT_AUDIO_ANALYZER_MAX_REPLY (16 * 1024)

typedef struct {
  int     features_version;   /* MT_AUDIO_FEATURES_VERSION */
  char   *features_json;      /* {"name": number, …}, every descriptor, as stored */
  double  tempo;              /* BPM, 0 when no beat was found */
  double  loudness;           /* LUFS (EBU R128 integrated) */
  gint64  duration_ms;        /* of the file, 0 when it does not say */
  gint64  analysed_ms;        /* of audio analysed */
} MtAudioAnalysis;

#define MT_TYPE_AUDIO_ANALYSIS (mt_audio_analysis_get_type ())
GType            mt_audio_analysis_get_type (void) G_GNUC_CONST;
MtAudioAnalysis *mt_audio_analysis_copy     (const MtAudioAnalysis *analysis);
void             mt_audio_analysis_free     (MtAudioAnalysis       *analysis);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtAudioAnalysis, mt_audio_analysis_free)

#define MT_TYPE_AUDIO_ANALYZER (mt_audio_analyzer_get_type ())
G_DECLARE_FINAL_TYPE (MtAudioAnalyzer, mt_audio_analyzer, MT, AUDIO_ANALYZER, GObject)

/* The helper: $MT_AUDIO_ANALYZER (set by `meson devenv`), else the one in
 * $MT_BUILD_DIR (tests), else the installed one. */
char            *mt_audio_analyzer_find_helper  (void);

MtAudioAnalyzer *mt_audio_analyzer_new          (void);
/* Seconds one file may take (default 60); the helper is killed after a
 * few more. */
void             mt_audio_analyzer_set_timeout  (MtAudioAnalyzer  *self,
                                                 guint             seconds);
/* Analyses the file at @uri.  Errors are MT_HELPER_PROCESS_ERROR's:
 * FAILED (the file cannot be analysed; the message says why), CRASHED,
 * TIMEOUT, BAD_REPLY, HELPER. */
MtAudioAnalysis *mt_audio_analyzer_analyse      (MtAudioAnalyzer  *self,
                                                 const char       *uri,
                                                 GError          **error);
/* How many times the helper crashed, hung or misbehaved and was replaced. */
guint            mt_audio_analyzer_get_n_restarts (MtAudioAnalyzer *self);

/* Parses one reply line of the helper (@length bytes, no newline) to the
 * request numbered @expected_id: the envelope as
 * mt_helper_process_parse_envelope() checks it, then the descriptors —
 * this version's, every one a finite number, no others.  Pure: no I/O,
 * safe on any bytes. */
gboolean         mt_audio_analyzer_parse_reply  (const char       *line,
                                                 gsize             length,
                                                 guint64           expected_id,
                                                 MtAudioAnalysis **out_analysis,
                                                 GError          **error);

G_END_DECLS
