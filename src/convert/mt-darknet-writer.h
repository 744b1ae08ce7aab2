/* mt-darknet-writer.h: builds a Darknet .cfg text and its .weights file.
 *
 * Layers are added in order; the writer follows each layer's output shape the
 * way Darknet computes it, so a family converter gets a clear error instead of
 * a file Darknet would misread.  Only the sections and keys Moodtunes' model
 * validator accepts are ever written.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MT_DARKNET_LINEAR,
  MT_DARKNET_RELU,
  MT_DARKNET_LEAKY,     /* Darknet's fixed slope of 0.1 */
  MT_DARKNET_LOGISTIC,
} MtDarknetActivation;

typedef struct {
  int                 filters;
  int                 size;
  int                 stride;
  int                 padding;   /* zeros added on every side */
  int                 groups;
  MtDarknetActivation activation;
  const float        *biases;    /* @filters values, or NULL for zeros */
  const float        *weights;   /* [filters][channels / groups][size][size] */
} MtDarknetConv;

typedef struct _MtDarknetWriter MtDarknetWriter;

MtDarknetWriter *mt_darknet_writer_new          (void);
void             mt_darknet_writer_free         (MtDarknetWriter      *self);

/* A "# ..." line at this point of the cfg. */
void             mt_darknet_writer_comment      (MtDarknetWriter      *self,
                                                 const char           *format,
                                                 ...) G_GNUC_PRINTF (2, 3);

void             mt_darknet_writer_set_input    (MtDarknetWriter      *self,
                                                 int                   width,
                                                 int                   height,
                                                 int                   channels);

/* Each add_* function returns the new layer's index, or -1 with @error set.
 * @note describes the layer in the cfg; layer references are absolute indices. */
int              mt_darknet_writer_add_conv     (MtDarknetWriter      *self,
                                                 const char           *note,
                                                 const MtDarknetConv  *conv,
                                                 GError              **error);
int              mt_darknet_writer_add_maxpool  (MtDarknetWriter      *self,
                                                 const char           *note,
                                                 int                   size,
                                                 int                   stride,
                                                 int                   padding,
                                                 GError              **error);
int              mt_darknet_writer_add_avgpool  (MtDarknetWriter      *self,
                                                 const char           *note,
                                                 GError              **error);
/* Adds layer @from to the last one (same width and height; @from may have
 * fewer channels: it is added to the first ones, as if padded with zeros). */
int              mt_darknet_writer_add_shortcut (MtDarknetWriter      *self,
                                                 const char           *note,
                                                 int                   from,
                                                 MtDarknetActivation   activation,
                                                 GError              **error);
int              mt_darknet_writer_add_route    (MtDarknetWriter      *self,
                                                 const char           *note,
                                                 int                   layer,
                                                 GError              **error);
int              mt_darknet_writer_add_connected (MtDarknetWriter     *self,
                                                 const char           *note,
                                                 int                   outputs,
                                                 MtDarknetActivation   activation,
                                                 const float          *biases,
                                                 const float          *weights,
                                                 GError              **error);
int              mt_darknet_writer_add_softmax  (MtDarknetWriter      *self,
                                                 const char           *note,
                                                 GError              **error);

/* Shape of the last layer's output (or of the input before any layer). */
void             mt_darknet_writer_get_shape    (MtDarknetWriter      *self,
                                                 int                  *width,
                                                 int                  *height,
                                                 int                  *channels);

/* Writes DIR/BASENAME.cfg, .weights and .names (one label per line). */
gboolean         mt_darknet_writer_save         (MtDarknetWriter      *self,
                                                 const char           *dir,
                                                 const char           *basename,
                                                 const char * const   *names,
                                                 GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtDarknetWriter, mt_darknet_writer_free)

G_END_DECLS
