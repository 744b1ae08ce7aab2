/* mt-image.h: decodes an image file (JPEG, PNG, …) into a frame. */
#pragma once

#include "mt-frame.h"

G_BEGIN_DECLS

typedef struct _MtImage MtImage;

/* Loads @path; refuses files that are not images or are larger than
 * MT_FRAME_MAX_SIDE before decoding them. */
MtImage       *mt_image_load      (const char  *path,
                                   GError     **error);
const MtFrame *mt_image_get_frame (MtImage     *self);
void           mt_image_free      (MtImage     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtImage, mt_image_free)

G_END_DECLS
