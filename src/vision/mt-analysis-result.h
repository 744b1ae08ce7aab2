/* mt-analysis-result.h: what the analysis of one video frame found, and what
 * the person in front of the camera should be told about it. */
#pragma once

#include <glib-object.h>

#include "mt-face.h"
#include "mt-frame.h"

G_BEGIN_DECLS

/* Why a frame gives no good reading (registered as MT_TYPE_FRAME_HINT; the
 * nicks "none", "no-face", "too-dark", "too-small" are what the server
 * sends). */
typedef enum {
  MT_FRAME_HINT_NONE,       /* a usable face */
  MT_FRAME_HINT_NO_FACE,
  MT_FRAME_HINT_TOO_DARK,
  MT_FRAME_HINT_TOO_SMALL,  /* the face is too far away to read well */
} MtFrameHint;

/* Mean brightness (0-255) below which a frame without a face is "too dark". */
#define MT_FRAME_DARK_LEVEL 40.0
/* Faces narrower than this (frame pixels) are read badly by the classifiers. */
#define MT_FACE_SMALL_SIDE 48.0

typedef struct {
  GArray      *faces;        /* MtFace, largest first */
  int          frame_width;
  int          frame_height;
  gint64       position;     /* the frame's position in its video (ns), -1 unknown */
  gint64       arrival_us;   /* monotonic time the frame arrived */
  gint64       done_us;      /* monotonic time the analysis ended */
  double       analyze_ms;   /* getting the pixels (decoding) and analysis */
  double       brightness;   /* mean luma 0-255 */
  MtFrameHint  hint;
  gboolean     full_pass;    /* the detector searched the whole frame, not
                              * only the region around the face followed */
} MtAnalysisResult;

#define MT_TYPE_ANALYSIS_RESULT (mt_analysis_result_get_type ())
GType             mt_analysis_result_get_type (void) G_GNUC_CONST;
MtAnalysisResult *mt_analysis_result_copy     (const MtAnalysisResult *result);
void              mt_analysis_result_free     (MtAnalysisResult       *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtAnalysisResult, mt_analysis_result_free)

/* The hint for a frame with @faces (largest first) and mean @brightness. */
MtFrameHint       mt_frame_hint_for           (GArray                 *faces,
                                               double                  brightness);
/* The hint's nick ("too-dark"), as the server and the test reports write it. */
const char       *mt_frame_hint_to_string     (MtFrameHint             hint);

G_END_DECLS
