#define G_LOG_DOMAIN "mt-convert"

#include "config.h"

#include "mt-convert-error.h"

G_DEFINE_QUARK (mt-convert-error-quark, mt_convert_error)
