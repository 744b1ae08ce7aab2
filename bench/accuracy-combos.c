/* accuracy-combos: FER2013 accuracy of combinations of the expression
 * networks (mirroring, crops, weights), to choose the analyzer's default.
 *
 *   bench-accuracy-combos [SPLIT_DIR]   (default ../shared/data/fer2013/publictest)
 *
 * Each image's readings are computed once; every combination is then scored
 * from them.  Choose on PublicTest, never on a test's answer. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mt-darknet.h"
#include "mt-expression-classifier.h"
#include "mt-image.h"
#include "mt-analyzer.h"

enum { XC, FE, N_NETS };
enum { PLAIN, FLIP, CROP, CROP_FLIP, N_VIEWS };

static const char * const net_names[N_NETS] = { "emotion-xception", "face-expression" };
static const char * const view_names[N_VIEWS] = { "plain", "flip", "crop90", "crop90+flip" };

typedef struct {
  MtMood truth;
  float p[N_NETS][N_VIEWS][MT_N_MOODS];
} Reading;

static double
score (GArray *readings, const float *net_weights, guint view_mask, gboolean use_log)
{
  guint right = 0;

  for (guint i = 0; i < readings->len; i++)
    {
      const Reading *r = &g_array_index (readings, Reading, i);
      float acc[MT_N_MOODS] = { 0 };

      for (int n = 0; n < N_NETS; n++)
        for (int v = 0; v < N_VIEWS; v++)
          if ((view_mask & (1u << v)) && net_weights[n] > 0)
            for (int e = 0; e < MT_N_MOODS; e++)
              acc[e] += net_weights[n] * (use_log ? logf (r->p[n][v][e] + 1e-6f) : r->p[n][v][e]);
      right += mt_mood_argmax (acc) == r->truth;
    }
  return 100.0 * right / readings->len;
}

int
main (int argc, char *argv[])
{
  const char *root = argc > 1 ? argv[1] : "../shared/data/fer2013/publictest";
  g_autoptr(GError) error = NULL;
  MtExpressionClassifier *nets[N_NETS];
  g_autoptr(GArray) readings = g_array_new (FALSE, TRUE, sizeof (Reading));
  static const guint masks[] = { 1, 3, 4, 12, 15 };

  for (int n = 0; n < N_NETS; n++)
    {
      nets[n] = mt_expression_classifier_new (mt_analyzer_get_default_models_dir (), net_names[n], &error);
      if (nets[n] == NULL)
        g_error ("%s", error->message);
    }

  for (int e = 0; e < MT_N_MOODS; e++)
    {
      g_autofree char *folder = g_build_filename (root, mt_mood_to_string (e), NULL);
      g_autoptr(GDir) dir = g_dir_open (folder, 0, &error);
      const char *name;

      if (dir == NULL)
        g_error ("%s", error->message);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (folder, name, NULL);
          g_autoptr(MtImage) image = mt_image_load (path, &error);
          const MtFrame *frame;
          Reading r = { .truth = e };
          float side, inset;

          if (image == NULL)
            g_error ("%s: %s", path, error->message);
          frame = mt_image_get_frame (image);
          side = MAX (frame->width, frame->height);
          inset = side * 0.05f;
          for (int n = 0; n < N_NETS; n++)
            for (int v = 0; v < N_VIEWS; v++)
              {
                gboolean crop = v >= CROP;
                float x = crop ? inset : 0, s = crop ? side - 2 * inset : side;

                /* classify() averages a mirrored reading only when asked;
                 * ask for the plain and the mirrored one separately. */
                if (v == FLIP || v == CROP_FLIP)
                  {
                    float both[MT_N_MOODS];
                    mt_expression_classifier_classify (nets[n], frame, x, x, s, TRUE, both, NULL);
                    for (int k = 0; k < MT_N_MOODS; k++)
                      r.p[n][v][k] = 2 * both[k] - r.p[n][v - 1][k];
                  }
                else
                  mt_expression_classifier_classify (nets[n], frame, x, x, s, FALSE, r.p[n][v], NULL);
              }
          g_array_append_val (readings, r);
        }
    }

  printf ("%u images from %s\n", readings->len, root);
  for (guint m = 0; m < G_N_ELEMENTS (masks); m++)
    {
      GString *views = g_string_new (NULL);
      for (int v = 0; v < N_VIEWS; v++)
        if (masks[m] & (1u << v))
          g_string_append_printf (views, "%s%s", views->len ? "," : "", view_names[v]);
      for (int lg = 0; lg < 2; lg++)
        {
          printf ("views %-32s %s:", views->str, lg ? "log" : "avg");
          for (int w = 0; w <= 10; w++)
            {
              float weights[N_NETS] = { w / 10.0f, 1 - w / 10.0f };
              printf (" xc%.1f=%.2f", weights[0], score (readings, weights, masks[m], lg));
            }
          printf ("\n");
        }
      g_string_free (views, TRUE);
    }

  for (int n = 0; n < N_NETS; n++)
    g_object_unref (nets[n]);
  return 0;
}
