/* model-check-fixture.h: a small valid Darknet model written at test time,
 * shared by the model-check tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The valid network: conv+BN, depthwise conv+BN, shortcut, maxpool, 1x1 conv,
 * route, avgpool, connected, softmax on a 16x16x3 input. */
extern const char model_fixture_cfg[];

/* Its layout, worked out by hand from Darknet's load_*_weights(). */
#define MODEL_FIXTURE_N_LAYERS     9
#define MODEL_FIXTURE_N_PARAMETERS 479
#define MODEL_FIXTURE_N_OUTPUTS    7
/* First parameter of layer 7 ([connected]): its 7 biases, then its weights. */
#define MODEL_FIXTURE_CONNECTED_AT 388
/* First parameter of layer 4 (1x1 [convolutional]): 4 biases, then weights. */
#define MODEL_FIXTURE_CONV4_AT     352
/* First rolling variance of layer 0. */
#define MODEL_FIXTURE_VARIANCE0_AT 24

typedef struct {
  char *dir;
  char *cfg;       /* <dir>/model.cfg, holding model_fixture_cfg */
  char *weights;   /* <dir>/model.weights, valid for it */
} ModelFixture;

void   model_fixture_setup      (ModelFixture  *fixture,
                                 gconstpointer  data);
void   model_fixture_teardown   (ModelFixture  *fixture,
                                 gconstpointer  data);

/* Writes @len bytes to <dir>/@name and returns the path. */
char  *model_fixture_write      (ModelFixture  *fixture,
                                 const char    *name,
                                 const char    *contents,
                                 gssize         len);

/* Valid parameters for model_fixture_cfg (free with g_free). */
float *model_fixture_parameters (void);

/* Writes a .weights file: header @major.@minor.@revision (with a 64-bit seen
 * counter when Darknet would read one) followed by @n parameters. */
char  *model_fixture_write_weights (ModelFixture *fixture,
                                    const char   *name,
                                    int           major,
                                    int           minor,
                                    int           revision,
                                    const float  *params,
                                    gsize         n);

/* Asserts @error is in MT_DARKNET_ERROR with @code and contains @needle. */
void   model_fixture_assert_error (const GError *error,
                                   int           code,
                                   const char   *needle);

void   model_check_add_cfg_tests     (void);
void   model_check_add_weights_tests (void);

G_END_DECLS
