/* mt-convert-error.h: the error domain of the model converter. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MT_CONVERT_ERROR (mt_convert_error_quark ())

typedef enum {
  /* The source model is not what the converter was written for. */
  MT_CONVERT_ERROR_INVALID_MODEL,
  /* The converter asked the writer for a network Darknet cannot express. */
  MT_CONVERT_ERROR_UNSUPPORTED,
} MtConvertError;

GQuark mt_convert_error_quark (void);

G_END_DECLS
