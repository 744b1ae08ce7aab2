/* mt-model-check.c: validates Darknet model files before Darknet sees them.
 *
 * Darknet (pjreddie, 2018) trusts its input: a missing file exits the process,
 * an unknown layer aborts, a bad [shortcut] segfaults or divides by zero, a
 * misspelt activation silently becomes ReLU and a short or padded .weights
 * file loads "successfully".  This file reads the cfg the way Darknet does
 * (same line splitting, same layer formulas) but accepts only the small
 * whitelist our converted models use, and checks the .weights file against the
 * exact parameter count Darknet will read.
 *
 * Choices that are stricter than Darknet, on purpose:
 * - a key given twice is an error (Darknet silently uses the first one);
 * - spaces inside a key, value or section name are an error (Darknet deletes
 *   every space, so "filters = 3 2" would mean 32);
 * - comments must be on their own line ("size=3 # x" is the value "3#x");
 * - keys whose Darknet default is a trap are required: activation (defaults
 *   to logistic), filters, size, stride (maxpool), from, layers, output;
 * - [shortcut] needs the same width and height on both sides and the added
 *   layer at most as many channels as its input, [route] with several
 *   layers needs the same width and height for all of them.
 */
#define G_LOG_DOMAIN "mt-model-check"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mt-darknet.h"
#include "mt-model-check.h"

/* Caps that keep Darknet's int arithmetic far from overflow and its
 * allocations reasonable for a desktop app. */
#define MAX_LAYERS       1024
#define MAX_ROUTE_INPUTS 64
#define MAX_ACTIVATIONS  ((guint64) 64 * 1024 * 1024)   /* floats: 256 MiB */
#define MAX_PARAMETERS   ((guint64) 64 * 1024 * 1024)   /* floats: 256 MiB */
#define MAX_WORKSPACE    ((guint64) 256 * 1024 * 1024)  /* bytes */
#define MAX_KEYS         8
#define WEIGHTS_CHUNK    16384                          /* floats per read() */

typedef enum {
  LAYER_NET,
  LAYER_CONVOLUTIONAL,
  LAYER_MAXPOOL,
  LAYER_AVGPOOL,
  LAYER_SHORTCUT,
  LAYER_ROUTE,
  LAYER_CONNECTED,
  LAYER_SOFTMAX,
} LayerKind;

typedef enum {
  VALUE_INT,
  VALUE_ACTIVATION,
  VALUE_INDEX_LIST,
} ValueType;

typedef struct {
  const char *name;
  ValueType   type;
  gint64      min;
  gint64      max;
  gboolean    required;
} KeySpec;

typedef struct {
  const char    *name;
  LayerKind      kind;
  const KeySpec *keys;
} SectionSpec;

/* Only activations whose Darknet implementation we rely on; every other name
 * (and every misspelling) would silently run as ReLU. */
static const char * const activations[] = { "linear", "relu", "leaky", "logistic" };

static const KeySpec net_keys[] = {
  { "width",        VALUE_INT, 1, 1024, TRUE },
  { "height",       VALUE_INT, 1, 1024, TRUE },
  { "channels",     VALUE_INT, 1, 4,    TRUE },
  /* Darknet allocates every buffer batch/subdivisions times; anything but 1
   * wastes memory, and subdivisions > batch gives zero-sized buffers. */
  { "batch",        VALUE_INT, 1, 1,    FALSE },
  { "subdivisions", VALUE_INT, 1, 1,    FALSE },
  { NULL }
};

static const KeySpec convolutional_keys[] = {
  { "filters",         VALUE_INT,        1, 4096, TRUE },
  { "size",            VALUE_INT,        1, 11,   TRUE },
  { "stride",          VALUE_INT,        1, 8,    FALSE },
  { "pad",             VALUE_INT,        0, 1,    FALSE },
  { "padding",         VALUE_INT,        0, 11,   FALSE },
  { "groups",          VALUE_INT,        1, 4096, FALSE },
  { "activation",      VALUE_ACTIVATION, 0, 0,    TRUE },
  { "batch_normalize", VALUE_INT,        0, 1,    FALSE },
  { NULL }
};

static const KeySpec maxpool_keys[] = {
  { "size",    VALUE_INT, 1, 11, TRUE },
  { "stride",  VALUE_INT, 1, 8,  TRUE },
  { "padding", VALUE_INT, 0, 11, FALSE },
  { NULL }
};

static const KeySpec avgpool_keys[] = {
  { NULL }
};

static const KeySpec shortcut_keys[] = {
  { "from",       VALUE_INT,        -MAX_LAYERS, MAX_LAYERS, TRUE },
  { "activation", VALUE_ACTIVATION, 0,           0,          FALSE },
  { NULL }
};

static const KeySpec route_keys[] = {
  { "layers", VALUE_INDEX_LIST, -MAX_LAYERS, MAX_LAYERS, TRUE },
  { NULL }
};

static const KeySpec connected_keys[] = {
  { "output",     VALUE_INT,        1, 65536, TRUE },
  { "activation", VALUE_ACTIVATION, 0, 0,     TRUE },
  { NULL }
};

static const KeySpec softmax_keys[] = {
  { "groups", VALUE_INT, 1, 65536, FALSE },
  { NULL }
};

static const SectionSpec sections[] = {
  { "net",           LAYER_NET,           net_keys },
  { "convolutional", LAYER_CONVOLUTIONAL, convolutional_keys },
  { "maxpool",       LAYER_MAXPOOL,       maxpool_keys },
  { "avgpool",       LAYER_AVGPOOL,       avgpool_keys },
  { "shortcut",      LAYER_SHORTCUT,      shortcut_keys },
  { "route",         LAYER_ROUTE,         route_keys },
  { "connected",     LAYER_CONNECTED,     connected_keys },
  { "softmax",       LAYER_SOFTMAX,       softmax_keys },
};

/* Darknet's short spellings: it accepts them, we ask for the full name so the
 * cfg reads the same everywhere. */
static const struct {
  const char *alias;
  const char *name;
} section_aliases[] = {
  { "network", "net" },
  { "conv",    "convolutional" },
  { "max",     "maxpool" },
  { "avg",     "avgpool" },
  { "conn",    "connected" },
  { "soft",    "softmax" },
};

/* One section being read: its options, checked and parsed as they come. */
typedef struct {
  const SectionSpec *spec;
  guint              line;
  gboolean           set[MAX_KEYS];
  guint              key_line[MAX_KEYS];
  gint64             value[MAX_KEYS];
  GArray            *list;               /* gint64, for VALUE_INDEX_LIST */
} Section;

/* Output of one layer, as Darknet's out_w/out_h/out_c/outputs. */
typedef struct {
  LayerKind kind;
  gint64    w, h, c;
  gint64    outputs;
} LayerShape;

/* A run of parameters in the .weights file, in Darknet's reading order. */
typedef struct {
  int         layer;
  const char *layer_name;
  const char *what;
  guint64     count;
  gboolean    non_negative;
} ParamBlock;

typedef struct {
  char         *display_name;
  /* When set, the input size the network will run at (mt_net_resize()),
   * in place of the cfg's own: every limit applies to that shape. */
  int           run_width;
  int           run_height;
  MtModelShape  shape;
  gboolean      have_net;
  Section       current;
  gboolean      in_section;
  GArray       *layers;                  /* LayerShape */
  GArray       *blocks;                  /* ParamBlock */
  guint64       n_parameters;
  guint64       n_activations;
  guint64       workspace;
} Checker;

static void
checker_clear (Checker *self)
{
  g_clear_pointer (&self->display_name, g_free);
  g_clear_pointer (&self->current.list, g_array_unref);
  g_clear_pointer (&self->layers, g_array_unref);
  g_clear_pointer (&self->blocks, g_array_unref);
}

static gboolean G_GNUC_PRINTF (4, 5)
cfg_error (Checker     *self,
           guint        line,
           GError     **error,
           const char  *format,
           ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (line > 0)
    g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                 "%s line %u: %s", self->display_name, line, message);
  else
    g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_CFG,
                 "%s: %s", self->display_name, message);
  return FALSE;
}

/* Strict integer: optional minus sign, then 1 to 9 digits, nothing else.
 * Darknet uses atoi(), which reads "3x" as 3 and "x" as 0. */
static gboolean
parse_int (const char *text,
           gint64     *out)
{
  const char *p = text;
  gint64 value = 0;
  gboolean negative = FALSE;
  int digits = 0;

  if (*p == '-')
    {
      negative = TRUE;
      p++;
    }
  for (; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p) || ++digits > 9)
        return FALSE;
      value = value * 10 + (*p - '0');
    }
  if (digits == 0)
    return FALSE;

  *out = negative ? -value : value;
  return TRUE;
}

static const char *
range_text (const KeySpec *key,
            char          *buf,
            gsize          len)
{
  if (key->min == key->max)
    g_snprintf (buf, len, "must be %" G_GINT64_FORMAT, key->min);
  else
    g_snprintf (buf, len, "must be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
                key->min, key->max);
  return buf;
}

static int
find_key (const SectionSpec *spec,
          const char        *name)
{
  for (int i = 0; spec->keys[i].name != NULL; i++)
    if (strcmp (spec->keys[i].name, name) == 0)
      return i;
  return -1;
}

static gboolean
section_has (const Section *s,
             const char    *name)
{
  int i = find_key (s->spec, name);

  g_assert (i >= 0);
  return s->set[i];
}

static gint64
section_get (const Section *s,
             const char    *name,
             gint64         def)
{
  int i = find_key (s->spec, name);

  g_assert (i >= 0);
  return s->set[i] ? s->value[i] : def;
}

static guint
section_key_line (const Section *s,
                  const char    *name)
{
  int i = find_key (s->spec, name);

  g_assert (i >= 0);
  return s->set[i] ? s->key_line[i] : s->line;
}

static gboolean
set_option (Checker     *self,
            guint        line,
            const char  *key,
            const char  *value,
            GError     **error)
{
  Section *s = &self->current;
  const KeySpec *spec;
  char range[64];
  int i;

  i = find_key (s->spec, key);
  if (i < 0)
    return cfg_error (self, line, error, "unknown key “%s” in [%s]", key, s->spec->name);
  spec = &s->spec->keys[i];

  if (s->set[i])
    return cfg_error (self, line, error,
                      "key “%s” already given on line %u in this [%s] "
                      "(Darknet would silently use the first one)",
                      key, s->key_line[i], s->spec->name);

  switch (spec->type)
    {
    case VALUE_INT:
      if (!parse_int (value, &s->value[i]))
        return cfg_error (self, line, error, "%s=%s is %s", key, value,
                          value[strspn (value, "-0123456789")] == '\0' &&
                          strpbrk (value, "0123456789") != NULL ?
                          "far out of range" : "not an integer");
      if (s->value[i] < spec->min || s->value[i] > spec->max)
        return cfg_error (self, line, error, "%s=%s is out of range: it %s",
                          key, value, range_text (spec, range, sizeof range));
      break;

    case VALUE_ACTIVATION:
      s->value[i] = -1;
      for (guint a = 0; a < G_N_ELEMENTS (activations); a++)
        if (strcmp (value, activations[a]) == 0)
          s->value[i] = a;
      if (s->value[i] < 0)
        return cfg_error (self, line, error,
                          "unknown activation “%s” (Darknet would silently use relu); "
                          "use linear, relu, leaky or logistic", value);
      break;

    case VALUE_INDEX_LIST:
      {
        g_auto(GStrv) items = g_strsplit (value, ",", -1);

        if (g_strv_length (items) > MAX_ROUTE_INPUTS)
          return cfg_error (self, line, error, "%s lists more than %d layers",
                            key, MAX_ROUTE_INPUTS);
        s->list = g_array_new (FALSE, FALSE, sizeof (gint64));
        for (guint j = 0; items[j] != NULL; j++)
          {
            gint64 index;

            if (!parse_int (items[j], &index))
              return cfg_error (self, line, error,
                                "%s=%s: “%s” is not a layer index", key, value, items[j]);
            if (index < spec->min || index > spec->max)
              return cfg_error (self, line, error, "%s=%s: index %s is out of range: it %s",
                                key, value, items[j], range_text (spec, range, sizeof range));
            g_array_append_val (s->list, index);
          }
      }
      break;

    default:
      g_assert_not_reached ();
    }

  s->set[i] = TRUE;
  s->key_line[i] = line;
  return TRUE;
}

/* ---- Layer shapes, with the formulas of Darknet's make_*_layer() ---- */

static const LayerShape *
layer_at (Checker *self,
          gint64   index)
{
  return &g_array_index (self->layers, LayerShape, index);
}

static const char *
kind_name (LayerKind kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (sections); i++)
    if (sections[i].kind == kind)
      return sections[i].name;
  g_assert_not_reached ();
}

static void
add_block (Checker    *self,
           int         layer,
           const char *what,
           guint64     count,
           gboolean    non_negative)
{
  ParamBlock block = { layer, kind_name (self->current.spec->kind), what, count, non_negative };

  g_array_append_val (self->blocks, block);
  self->n_parameters += count;
}

/* Darknet resolves a negative index against the current layer; anything but
 * an earlier layer makes it read an unbuilt (all-zero) layer or past the
 * array: SIGFPE in shortcut_cpu(), or a segfault. */
static gboolean
resolve_index (Checker      *self,
               int           current,
               const char   *key,
               gint64        index,
               guint         line,
               gint64       *out,
               GError      **error)
{
  gint64 resolved = index < 0 ? current + index : index;

  if (resolved < 0)
    return cfg_error (self, line, error,
                      "%s=%" G_GINT64_FORMAT " in layer %d refers to layer %" G_GINT64_FORMAT
                      ", before the first layer", key, index, current, resolved);
  if (resolved >= current)
    return cfg_error (self, line, error,
                      "%s=%" G_GINT64_FORMAT " in layer %d refers to layer %" G_GINT64_FORMAT
                      ", which is not an earlier layer", key, index, current, resolved);
  *out = resolved;
  return TRUE;
}

static gboolean
is_image (const LayerShape *shape)
{
  return shape->w > 0 && shape->h > 0 && shape->c > 0;
}

static gboolean
finish_layer (Checker     *self,
              GError     **error)
{
  const Section *s = &self->current;
  const int index = (int) self->layers->len;
  const char *name = s->spec->name;
  LayerShape in;
  LayerShape out = { s->spec->kind, 0, 0, 0, 0 };

  if (index >= MAX_LAYERS)
    return cfg_error (self, s->line, error, "more than %d layers", MAX_LAYERS);

  if (index == 0)
    {
      in.kind = LAYER_NET;
      in.w = self->shape.width;
      in.h = self->shape.height;
      in.c = self->shape.channels;
      in.outputs = in.w * in.h * in.c;
    }
  else
    in = *layer_at (self, index - 1);

  if ((s->spec->kind == LAYER_CONVOLUTIONAL || s->spec->kind == LAYER_MAXPOOL ||
       s->spec->kind == LAYER_AVGPOOL) && !is_image (&in))
    return cfg_error (self, s->line, error,
                      "[%s] (layer %d) needs an image input, but layer %d [%s] outputs "
                      "a flat vector of %" G_GINT64_FORMAT " values",
                      name, index, index - 1, kind_name (in.kind), in.outputs);

  switch (s->spec->kind)
    {
    case LAYER_CONVOLUTIONAL:
      {
        gint64 filters = section_get (s, "filters", 1);
        gint64 size = section_get (s, "size", 1);
        gint64 stride = section_get (s, "stride", 1);
        gint64 groups = section_get (s, "groups", 1);
        gint64 padding = section_get (s, "padding", 0);
        gboolean bn = section_get (s, "batch_normalize", 0) != 0;

        if (section_has (s, "pad") && section_has (s, "padding"))
          return cfg_error (self, section_key_line (s, "padding"), error,
                            "give either pad or padding in [%s], not both "
                            "(Darknet ignores padding when pad=1)", name);
        /* Darknet: pad=1 means "same" padding of size/2. */
        if (section_get (s, "pad", 0))
          padding = size / 2;
        if (padding > size)
          return cfg_error (self, section_key_line (s, "padding"), error,
                            "padding=%" G_GINT64_FORMAT " is larger than size=%" G_GINT64_FORMAT,
                            padding, size);
        /* forward_convolutional_layer() skips im2col for 1x1 kernels and
         * uses the input as is: with a stride it computes garbage, with
         * padding it reads past the end of the input. */
        if (size == 1 && (stride != 1 || padding != 0))
          return cfg_error (self, s->line, error,
                            "a 1x1 [%s] (layer %d) must have stride=1 and no padding: "
                            "Darknet skips im2col for size=1 and would read its input wrongly",
                            name, index);
        if (in.c % groups != 0)
          return cfg_error (self, section_key_line (s, "groups"), error,
                            "groups=%" G_GINT64_FORMAT " does not divide the %" G_GINT64_FORMAT
                            " input channels of layer %d", groups, in.c, index);
        if (filters % groups != 0)
          return cfg_error (self, section_key_line (s, "groups"), error,
                            "groups=%" G_GINT64_FORMAT " does not divide filters=%" G_GINT64_FORMAT,
                            groups, filters);
        if (in.w + 2 * padding < size || in.h + 2 * padding < size)
          return cfg_error (self, s->line, error,
                            "the %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " kernel of layer %d "
                            "is larger than its padded %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " input",
                            size, size, index, in.w + 2 * padding, in.h + 2 * padding);

        out.w = (in.w + 2 * padding - size) / stride + 1;
        out.h = (in.h + 2 * padding - size) / stride + 1;
        out.c = filters;
        out.outputs = out.w * out.h * out.c;

        /* load_convolutional_weights(): biases, then scales, rolling mean
         * and rolling variance with batch_normalize, then the kernels. */
        add_block (self, index, "biases", filters, FALSE);
        if (bn)
          {
            add_block (self, index, "scales", filters, FALSE);
            add_block (self, index, "rolling mean", filters, FALSE);
            add_block (self, index, "rolling variance", filters, TRUE);
          }
        add_block (self, index, "weights", (guint64) (in.c / groups * filters * size * size), FALSE);

        self->workspace = MAX (self->workspace,
                               (guint64) (out.h * out.w * size * size * in.c / groups) * sizeof (float));
        if (self->workspace > MAX_WORKSPACE)
          return cfg_error (self, s->line, error,
                            "layer %d needs a %" G_GUINT64_FORMAT " MiB convolution workspace "
                            "(limit %" G_GUINT64_FORMAT " MiB)", index,
                            self->workspace >> 20, MAX_WORKSPACE >> 20);
      }
      break;

    case LAYER_MAXPOOL:
      {
        gint64 size = section_get (s, "size", 1);
        gint64 stride = section_get (s, "stride", 1);
        /* Darknet's default padding for [maxpool] is size-1. */
        gint64 padding = section_get (s, "padding", size - 1);

        if (padding > size)
          return cfg_error (self, section_key_line (s, "padding"), error,
                            "padding=%" G_GINT64_FORMAT " is larger than size=%" G_GINT64_FORMAT,
                            padding, size);
        if (in.w + padding < size || in.h + padding < size)
          return cfg_error (self, s->line, error,
                            "the %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " window of layer %d "
                            "is larger than its padded %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " input",
                            size, size, index, in.w + padding, in.h + padding);
        out.w = (in.w + padding - size) / stride + 1;
        out.h = (in.h + padding - size) / stride + 1;
        out.c = in.c;
        out.outputs = out.w * out.h * out.c;
      }
      break;

    case LAYER_AVGPOOL:
      out.w = 1;
      out.h = 1;
      out.c = in.c;
      out.outputs = in.c;
      break;

    case LAYER_SHORTCUT:
      {
        gint64 from = 0;
        const LayerShape *src;

        if (!resolve_index (self, index, "from", section_get (s, "from", 0),
                            section_key_line (s, "from"), &from, error))
          return FALSE;
        src = layer_at (self, from);
        /* Darknet allows some scaled shapes here (and asserts on others);
         * our models only add tensors of the same width and height.  A
         * layer of fewer channels is added to the first ones (TensorFlow's
         * zero padding of the channels after, as BlazeFace widens); more
         * channels would be cut off silently. */
        if (!is_image (src) || !is_image (&in) ||
            src->w != in.w || src->h != in.h || src->c > in.c)
          return cfg_error (self, section_key_line (s, "from"), error,
                            "[%s] (layer %d) adds layer %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT
                            "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ") to its input (%" G_GINT64_FORMAT
                            "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "): the sizes must be equal and "
                            "the added layer at most as wide",
                            name, index, from, src->w, src->h, src->c, in.w, in.h, in.c);
        out.w = in.w;
        out.h = in.h;
        out.c = in.c;
        out.outputs = in.outputs;
      }
      break;

    case LAYER_ROUTE:
      {
        guint line = section_key_line (s, "layers");

        for (guint i = 0; i < s->list->len; i++)
          {
            gint64 from = 0;
            const LayerShape *src;

            if (!resolve_index (self, index, "layers", g_array_index (s->list, gint64, i),
                                line, &from, error))
              return FALSE;
            src = layer_at (self, from);

            if (i == 0)
              {
                out.w = src->w;
                out.h = src->h;
                out.c = src->c;
                out.outputs = src->outputs;
                continue;
              }
            /* Darknet concatenates channels when width and height agree and
             * otherwise makes a shapeless layer that breaks the next one. */
            if (!is_image (src) || !is_image (&out) || src->w != out.w || src->h != out.h)
              return cfg_error (self, line, error,
                                "[%s] (layer %d) concatenates layers of different sizes: "
                                "layer %" G_GINT64_FORMAT " is %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                                ", the first one %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT,
                                name, index, from, src->w, src->h, out.w, out.h);
            out.c += src->c;
            out.outputs += src->outputs;
          }
      }
      break;

    case LAYER_CONNECTED:
      {
        gint64 outputs = section_get (s, "output", 1);

        out.w = 1;
        out.h = 1;
        out.c = outputs;
        out.outputs = outputs;
        /* load_connected_weights(): biases, then an outputs x inputs matrix. */
        add_block (self, index, "biases", (guint64) outputs, FALSE);
        add_block (self, index, "weights", (guint64) (outputs * in.outputs), FALSE);
      }
      break;

    case LAYER_SOFTMAX:
      {
        gint64 groups = section_get (s, "groups", 1);

        /* make_softmax_layer() asserts this. */
        if (in.outputs % groups != 0)
          return cfg_error (self, section_key_line (s, "groups"), error,
                            "groups=%" G_GINT64_FORMAT " does not divide the %" G_GINT64_FORMAT
                            " inputs of layer %d", groups, in.outputs, index);
        /* Darknet leaves out_w/out_h/out_c at 0 for softmax. */
        out.outputs = in.outputs;
      }
      break;

    case LAYER_NET:
    default:
      g_assert_not_reached ();
    }

  if (out.outputs <= 0)
    return cfg_error (self, s->line, error, "[%s] (layer %d) has no outputs", name, index);

  self->n_activations += (guint64) out.outputs;
  if (self->n_activations > MAX_ACTIVATIONS)
    return cfg_error (self, s->line, error,
                      "up to layer %d, the network needs more than %" G_GUINT64_FORMAT
                      " MiB of activations", index, (MAX_ACTIVATIONS * sizeof (float)) >> 20);
  if (self->n_parameters > MAX_PARAMETERS)
    return cfg_error (self, s->line, error,
                      "up to layer %d, the network has more than %" G_GUINT64_FORMAT
                      " parameters", index, MAX_PARAMETERS);

  g_array_append_val (self->layers, out);
  return TRUE;
}

static gboolean
finish_section (Checker     *self,
                GError     **error)
{
  Section *s = &self->current;

  if (!self->in_section)
    return TRUE;

  for (int i = 0; s->spec->keys[i].name != NULL; i++)
    if (s->spec->keys[i].required && !s->set[i])
      return cfg_error (self, s->line, error, "[%s] needs %s=", s->spec->name,
                        s->spec->keys[i].name);

  if (s->spec->kind == LAYER_NET)
    {
      self->shape.width = self->run_width ? self->run_width : (int) section_get (s, "width", 0);
      self->shape.height = self->run_height ? self->run_height : (int) section_get (s, "height", 0);
      self->shape.channels = (int) section_get (s, "channels", 0);
    }
  else if (!finish_layer (self, error))
    return FALSE;

  self->in_section = FALSE;
  return TRUE;
}

static gboolean
start_section (Checker     *self,
               guint        line,
               const char  *header,
               gsize        len,
               GError     **error)
{
  g_autofree char *name = NULL;
  const SectionSpec *spec = NULL;

  if (len < 3 || header[len - 1] != ']')
    return cfg_error (self, line, error, "malformed section header “%.*s”", (int) len, header);
  name = g_strndup (header + 1, len - 2);
  if (strpbrk (name, " \t[]") != NULL)
    return cfg_error (self, line, error,
                      "malformed section header “%.*s” (no spaces or brackets inside)",
                      (int) len, header);

  for (guint i = 0; i < G_N_ELEMENTS (sections); i++)
    if (strcmp (sections[i].name, name) == 0)
      spec = &sections[i];

  if (spec == NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (section_aliases); i++)
        if (strcmp (section_aliases[i].alias, name) == 0)
          return cfg_error (self, line, error, "write [%s] instead of [%s]",
                            section_aliases[i].name, name);
      return cfg_error (self, line, error,
                        "unknown or unsupported section [%s] (Moodtunes models use only "
                        "[net], [convolutional], [maxpool], [avgpool], [shortcut], [route], "
                        "[connected] and [softmax])", name);
    }

  if (!finish_section (self, error))
    return FALSE;

  if (!self->have_net && spec->kind != LAYER_NET)
    return cfg_error (self, line, error, "the first section must be [net], not [%s]", name);
  if (self->have_net && spec->kind == LAYER_NET)
    return cfg_error (self, line, error, "[net] may only appear once, as the first section");
  self->have_net = TRUE;

  g_clear_pointer (&self->current.list, g_array_unref);
  memset (&self->current, 0, sizeof self->current);
  self->current.spec = spec;
  self->current.line = line;
  self->in_section = TRUE;
  return TRUE;
}

static gboolean
is_blank (char c)
{
  /* The characters Darknet's strip() deletes (besides the newline). */
  return c == ' ' || c == '\t';
}

/* How many bytes of @text (valid UTF-8, @len bytes) to quote in a message:
 * at most @max, never ending inside a character, so the message stays
 * valid UTF-8 (fuzz-model-check found a quote cut through a BOM). */
static int
quote_length (const char *text,
              gsize       len,
              gsize       max)
{
  gsize n = MIN (len, max);

  while (n > 0 && n < len && ((guchar) text[n] & 0xC0) == 0x80)
    n--;
  return (int) n;
}

static gboolean
read_line (Checker     *self,
           guint        line,
           const char  *text,
           gsize        len,
           GError     **error)
{
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;
  const char *eq;
  gsize key_len;

  while (len > 0 && is_blank (text[0]))
    text++, len--;
  while (len > 0 && is_blank (text[len - 1]))
    len--;

  if (len == 0 || text[0] == '#' || text[0] == ';')
    return TRUE;
  if (text[0] == '[')
    return start_section (self, line, text, len, error);

  if (!self->in_section)
    return cfg_error (self, line, error, "“%.*s” comes before the first section ([net])",
                      quote_length (text, len, 40), text);

  eq = memchr (text, '=', len);
  if (eq == NULL)
    return cfg_error (self, line, error, "expected key=value, found “%.*s”",
                      quote_length (text, len, 40), text);

  key_len = eq - text;
  while (key_len > 0 && is_blank (text[key_len - 1]))
    key_len--;
  key = g_strndup (text, key_len);
  eq++;
  while (eq < text + len && is_blank (*eq))
    eq++;
  value = g_strndup (eq, text + len - eq);

  if (*key == '\0')
    return cfg_error (self, line, error, "missing key before “=”");
  if (*value == '\0')
    return cfg_error (self, line, error, "missing value for key “%s”", key);
  if (strpbrk (value, "#;") != NULL)
    {
      g_autofree char *darknet_value = g_strdup (value);
      char *w = darknet_value;

      /* Show the value as Darknet's strip() leaves it. */
      for (const char *r = value; *r != '\0'; r++)
        if (!is_blank (*r))
          *w++ = *r;
      *w = '\0';
      return cfg_error (self, line, error,
                        "comment after the value of “%s”: comments must be on their own line "
                        "(Darknet would read “%s” as the value)", key, darknet_value);
    }
  /* Darknet deletes every blank in the line before splitting it. */
  if (strpbrk (key, " \t") != NULL || strpbrk (value, " \t") != NULL)
    return cfg_error (self, line, error,
                      "spaces inside “%s=%s” (Darknet deletes them and would read the words as one)",
                      key, value);

  return set_option (self, line, key, value, error);
}

/* Bytes Darknet would misread: NUL ends its lines early, CR stays glued to
 * the value ("leaky\r" silently becomes relu), other controls are binary. */
static gboolean
check_text (Checker     *self,
            const char  *data,
            gsize        len,
            GError     **error)
{
  guint line = 1;
  const char *end;

  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) data[i];

      if (c == '\n')
        line++;
      else if (c == '\r')
        return cfg_error (self, line, error,
                          "carriage return (Windows line ending): use Unix line endings");
      else if ((c < 0x20 && c != '\t') || c == 0x7f)
        return cfg_error (self, line, error,
                          "control byte 0x%02x: this is not a text file", c);
    }

  if (!g_utf8_validate (data, len, &end))
    {
      line = 1;
      for (const char *p = data; p < end; p++)
        if (*p == '\n')
          line++;
      return cfg_error (self, line, error, "invalid UTF-8: this is not a text file");
    }

  return TRUE;
}

static gboolean
check_cfg_data (Checker     *self,
                const char  *data,
                gsize        len,
                GError     **error)
{
  const char *p = data;
  const char *end = data + len;
  guint line = 0;

  if (len == 0)
    return cfg_error (self, 0, error, "the file is empty");
  /* Darknet would take the BOM for an option before the first section. */
  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    return cfg_error (self, 1, error, "starts with a byte order mark: save it as plain UTF-8");
  if (!check_text (self, data, len, error))
    return FALSE;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *stop = nl ? nl : end;

      line++;
      if (!read_line (self, line, p, stop - p, error))
        return FALSE;
      p = nl ? nl + 1 : end;
    }

  if (!self->have_net)
    return cfg_error (self, 0, error, "no sections: a Darknet cfg starts with [net]");
  if (!finish_section (self, error))
    return FALSE;
  /* With no layers Darknet reads layers[-1] as the output layer. */
  if (self->layers->len == 0)
    return cfg_error (self, 0, error, "no layers after [net]");

  {
    const LayerShape *last = layer_at (self, self->layers->len - 1);

    self->shape.n_layers = (int) self->layers->len;
    self->shape.out_width = (int) last->w;
    self->shape.out_height = (int) last->h;
    self->shape.out_channels = (int) last->c;
    self->shape.n_outputs = (gsize) last->outputs;
    self->shape.n_parameters = (gsize) self->n_parameters;
    self->shape.weights_size = MT_MODEL_WEIGHTS_HEADER_SIZE + (gsize) self->n_parameters * sizeof (float);
    self->shape.n_activations = (gsize) self->n_activations;
    self->shape.workspace_size = (gsize) self->workspace;
  }
  return TRUE;
}

/* Opens @path for reading without blocking on FIFOs and checks it is a
 * regular file; Darknet exit()s (with status 0) when fopen() fails. */
static int
open_regular_file (const char   *path,
                   const char   *display_name,
                   MtDarknetError code,
                   struct stat  *st,
                   GError      **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  int saved_errno = errno;

  if (fd < 0)
    {
      g_set_error (error, MT_DARKNET_ERROR, code, "%s: cannot open: %s",
                   display_name, g_strerror (saved_errno));
      return -1;
    }
  if (fstat (fd, st) != 0)
    {
      saved_errno = errno;
      close (fd);
      g_set_error (error, MT_DARKNET_ERROR, code, "%s: cannot read its status: %s",
                   display_name, g_strerror (saved_errno));
      return -1;
    }
  if (!S_ISREG (st->st_mode))
    {
      close (fd);
      g_set_error (error, MT_DARKNET_ERROR, code, "%s: %s, not a regular file", display_name,
                   S_ISDIR (st->st_mode) ? "is a directory" : "is a special file");
      return -1;
    }
  return fd;
}

/* Reads exactly @len bytes; FALSE with errno = 0 on a premature end. */
static gboolean
read_exact (int    fd,
            void  *buf,
            gsize  len)
{
  guint8 *p = buf;

  while (len > 0)
    {
      ssize_t n = read (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          errno = 0;
          return FALSE;
        }
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static gboolean
check_cfg_file (Checker     *self,
                const char  *cfg_path,
                GError     **error)
{
  g_autofree char *data = NULL;
  struct stat st;
  int fd;
  gboolean ok;

  self->display_name = g_filename_display_name (cfg_path);
  self->layers = g_array_new (FALSE, FALSE, sizeof (LayerShape));
  self->blocks = g_array_new (FALSE, FALSE, sizeof (ParamBlock));

  fd = open_regular_file (cfg_path, self->display_name, MT_DARKNET_ERROR_INVALID_CFG, &st, error);
  if (fd < 0)
    return FALSE;
  if (st.st_size > MT_MODEL_CFG_MAX_SIZE)
    {
      close (fd);
      return cfg_error (self, 0, error, "%" G_GINT64_FORMAT " bytes is too large for a cfg (limit %d)",
                        (gint64) st.st_size, MT_MODEL_CFG_MAX_SIZE);
    }

  data = g_malloc (st.st_size + 1);
  ok = read_exact (fd, data, st.st_size);
  if (!ok)
    {
      int saved_errno = errno;

      close (fd);
      return cfg_error (self, 0, error, "cannot read: %s",
                        saved_errno ? g_strerror (saved_errno) : "file shrank while reading");
    }
  close (fd);

  return check_cfg_data (self, data, st.st_size, error);
}

gboolean
mt_model_check_cfg (const char    *cfg_path,
                    MtModelShape  *out_shape,
                    GError       **error)
{
  Checker checker = { 0 };
  gboolean ok;

  g_return_val_if_fail (cfg_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ok = check_cfg_file (&checker, cfg_path, error);
  if (ok && out_shape != NULL)
    *out_shape = checker.shape;
  checker_clear (&checker);
  return ok;
}

gboolean
mt_model_check_cfg_at_size (const char    *cfg_path,
                            int            width,
                            int            height,
                            MtModelShape  *out_shape,
                            GError       **error)
{
  Checker checker = { 0 };
  gboolean ok;

  g_return_val_if_fail (cfg_path != NULL, FALSE);
  g_return_val_if_fail (width > 0 && height > 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  checker.run_width = width;
  checker.run_height = height;
  ok = check_cfg_file (&checker, cfg_path, error);
  if (ok && out_shape != NULL)
    *out_shape = checker.shape;
  checker_clear (&checker);
  return ok;
}

/* ---- Weights ---- */

static gboolean G_GNUC_PRINTF (3, 4)
weights_error (const char  *display_name,
               GError     **error,
               const char  *format,
               ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, MT_DARKNET_ERROR, MT_DARKNET_ERROR_INVALID_WEIGHTS,
               "%s: %s", display_name, message);
  return FALSE;
}

static gboolean
check_weights_values (int            fd,
                      const char    *display_name,
                      const Checker *plan,
                      GError       **error)
{
  g_autofree float *buf = g_new (float, WEIGHTS_CHUNK);
  guint64 param = 0;

  for (guint b = 0; b < plan->blocks->len; b++)
    {
      const ParamBlock *block = &g_array_index (plan->blocks, ParamBlock, b);
      guint64 done = 0;

      while (done < block->count)
        {
          gsize n = (gsize) MIN ((guint64) WEIGHTS_CHUNK, block->count - done);

          if (!read_exact (fd, buf, n * sizeof (float)))
            return weights_error (display_name, error, "cannot read: %s",
                                  errno ? g_strerror (errno) : "file shrank while reading");

          for (gsize i = 0; i < n; i++)
            {
              float v = buf[i];

              if (!isfinite (v) || (block->non_negative && v < 0))
                return weights_error (display_name, error,
                                      "parameter %" G_GUINT64_FORMAT " (layer %d [%s] %s, item %"
                                      G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT ") is %s",
                                      param + done + i, block->layer, block->layer_name,
                                      block->what, done + i, block->count,
                                      isnan (v) ? "NaN" :
                                      isinf (v) ? "infinite" :
                                      "negative (a variance must not be)");
            }
          done += n;
        }
      param += block->count;
    }
  return TRUE;
}

static gboolean
check_weights_file (const Checker  *plan,
                    const char     *weights_path,
                    GError        **error)
{
  g_autofree char *display_name = g_filename_display_name (weights_path);
  const gsize expected = plan->shape.weights_size;
  gint32 version[3];
  struct stat st;
  gboolean ok;
  int fd;

  fd = open_regular_file (weights_path, display_name, MT_DARKNET_ERROR_INVALID_WEIGHTS, &st, error);
  if (fd < 0)
    return FALSE;

  /* The version decides the header size: judge it before the total size. */
  if ((guint64) st.st_size >= sizeof version)
    {
      if (!read_exact (fd, version, sizeof version))
        {
          int saved_errno = errno;

          close (fd);
          return weights_error (display_name, error, "cannot read: %s",
                                saved_errno ? g_strerror (saved_errno) : "file shrank while reading");
        }
      if (version[0] != 0 || version[1] != 2 || version[2] != 0)
        {
          close (fd);
          return weights_error (display_name, error,
                                "header version %d.%d.%d; only version 0.2.0 (a %d-byte header "
                                "with a 64-bit “seen” counter) is supported",
                                version[0], version[1], version[2], MT_MODEL_WEIGHTS_HEADER_SIZE);
        }
    }

  if ((guint64) st.st_size != expected)
    {
      close (fd);
      return weights_error (display_name, error,
                            "%" G_GUINT64_FORMAT " bytes, the cfg needs %" G_GSIZE_FORMAT
                            " (%d-byte header + %" G_GSIZE_FORMAT " parameters)",
                            (guint64) st.st_size, expected, MT_MODEL_WEIGHTS_HEADER_SIZE,
                            plan->shape.n_parameters);
    }

  /* Skip the "seen" counter: any value is fine. */
  if (lseek (fd, MT_MODEL_WEIGHTS_HEADER_SIZE, SEEK_SET) != MT_MODEL_WEIGHTS_HEADER_SIZE)
    {
      int saved_errno = errno;

      close (fd);
      return weights_error (display_name, error, "cannot seek: %s", g_strerror (saved_errno));
    }

  ok = check_weights_values (fd, display_name, plan, error);
  close (fd);
  return ok;
}

gboolean
mt_model_check_files (const char  *cfg_path,
                      const char  *weights_path,
                      GError     **error)
{
  Checker checker = { 0 };
  gboolean ok;

  g_return_val_if_fail (cfg_path != NULL, FALSE);
  g_return_val_if_fail (weights_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ok = check_cfg_file (&checker, cfg_path, error) &&
       check_weights_file (&checker, weights_path, error);
  checker_clear (&checker);
  return ok;
}
