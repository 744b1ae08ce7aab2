/* darknet-quark.c: the MT_DARKNET_ERROR domain for fuzz-model-check, which
 * takes the validator alone, without mt-darknet.c, Darknet and the fast
 * kernels (same quark string, so errors match the real ones). */
#include "config.h"

#include "mt-darknet.h"

G_DEFINE_QUARK (mt-darknet-error-quark, mt_darknet_error)
