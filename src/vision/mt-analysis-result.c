/* mt-analysis-result.c: one frame's analysis and its hint. */
#define G_LOG_DOMAIN "mt-analysis-result"

#include "config.h"

#include "mt-analysis-result.h"
#include "mt-vision-enums.h"

G_DEFINE_BOXED_TYPE (MtAnalysisResult, mt_analysis_result, mt_analysis_result_copy, mt_analysis_result_free)

MtAnalysisResult *
mt_analysis_result_copy (const MtAnalysisResult *result)
{
  MtAnalysisResult *copy = g_memdup2 (result, sizeof *result);

  if (result->faces != NULL)
    copy->faces = g_array_ref (result->faces);
  return copy;
}

void
mt_analysis_result_free (MtAnalysisResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->faces, g_array_unref);
  g_free (result);
}

MtFrameHint
mt_frame_hint_for (GArray *faces,
                   double  brightness)
{
  if (faces == NULL || faces->len == 0)
    return brightness < MT_FRAME_DARK_LEVEL ? MT_FRAME_HINT_TOO_DARK : MT_FRAME_HINT_NO_FACE;
  /* The largest face is the user's. */
  if (g_array_index (faces, MtFace, 0).width < MT_FACE_SMALL_SIDE)
    return MT_FRAME_HINT_TOO_SMALL;
  return MT_FRAME_HINT_NONE;
}

const char *
mt_frame_hint_to_string (MtFrameHint hint)
{
  GEnumClass *klass = g_type_class_ref (MT_TYPE_FRAME_HINT);
  GEnumValue *value = g_enum_get_value (klass, hint);

  /* Registered enum classes are never freed, so the nick outlives this. */
  g_type_class_unref (klass);
  return value != NULL ? value->value_nick : NULL;
}
