#define G_LOG_DOMAIN "mt-audio-moods"

#include "config.h"

#include <math.h>
#include <json-glib/json-glib.h>

#include "mt-data-dirs.h"
#include "mt-library-data.h"
#include "mt-audio-moods.h"

/* The format this code reads; a file of another version is refused. */
#define FORMAT_VERSION 1
/* Wider than the plane's diagonal (2√2) would make a mood fit every song. */
#define MAX_SIGMA 3.0

typedef struct {
  double valence;
  double arousal;
  double sigma;
} Centre;

struct _MtAudioMoods
{
  GObject  parent_instance;
  Centre   centres[MT_N_MOODS];
  double   tag_weight;
  char    *fingerprint;
};

G_DEFINE_FINAL_TYPE (MtAudioMoods, mt_audio_moods, G_TYPE_OBJECT)

static void
mt_audio_moods_finalize (GObject *object)
{
  MtAudioMoods *self = (MtAudioMoods *) object;

  g_clear_pointer (&self->fingerprint, g_free);
  G_OBJECT_CLASS (mt_audio_moods_parent_class)->finalize (object);
}

static void
mt_audio_moods_class_init (MtAudioMoodsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_audio_moods_finalize;
}

static void
mt_audio_moods_init (MtAudioMoods *self)
{
}

/* Every member of @object is one of @known (NULL-terminated), and each of
 * those is there. */
static gboolean
check_members (JsonObject          *object,
               const char * const  *known,
               const char          *where,
               GError             **error)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (GList *l = members; l; l = l->next)
    {
      if (!g_strv_contains (known, l->data))
        {
          g_autofree char *names = g_strjoinv (", ", (char **) known);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: unknown key “%s” (known: %s)", where, (const char *) l->data, names);
          return FALSE;
        }
    }
  for (guint i = 0; known[i] != NULL; i++)
    {
      if (!json_object_has_member (object, known[i]))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: “%s” is missing", where, known[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* A finite number in [@low, @high] (or (@low, @high] with @open_low). */
static gboolean
get_number (JsonObject   *object,
            const char   *member,
            double        low,
            double        high,
            gboolean      open_low,
            const char   *where,
            double       *out,
            GError      **error)
{
  JsonNode *node = json_object_get_member (object, member);
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  double value;

  if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s%s%s is not a number", where, where[0] ? "." : "", member);
      return FALSE;
    }
  value = json_node_get_double (node);
  if (!isfinite (value))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s%s%s is not a finite number", where, where[0] ? "." : "", member);
      return FALSE;
    }
  if (value > high || (open_low ? value <= low : value < low))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s%s%s: %g is outside %c%g, %g]", where, where[0] ? "." : "", member,
                   value, open_low ? '(' : '[', low, high);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

static gboolean
parse_centre (JsonNode    *node,
              const char  *where,
              Centre      *centre,
              GError     **error)
{
  static const char * const keys[] = { "valence", "arousal", "sigma", NULL };
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s must be an object with valence, arousal and sigma", where);
      return FALSE;
    }
  object = json_node_get_object (node);
  return check_members (object, keys, where, error) &&
         get_number (object, "valence", -1.0, 1.0, FALSE, where, &centre->valence, error) &&
         get_number (object, "arousal", -1.0, 1.0, FALSE, where, &centre->arousal, error) &&
         get_number (object, "sigma", 0.0, MAX_SIGMA, TRUE, where, &centre->sigma, error);
}

static gboolean
parse_moods (JsonNode      *node,
             MtAudioMoods  *self,
             GError       **error)
{
  const char *known[MT_N_MOODS + 1];
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "moods must be an object, one member per mood");
      return FALSE;
    }
  object = json_node_get_object (node);
  for (int i = 0; i < MT_N_MOODS; i++)
    known[i] = mt_mood_to_string (i);
  known[MT_N_MOODS] = NULL;
  if (!check_members (object, known, "moods", error))
    return FALSE;
  for (int i = 0; i < MT_N_MOODS; i++)
    {
      g_autofree char *where = g_strdup_printf ("moods.%s", known[i]);
      if (!parse_centre (json_object_get_member (object, known[i]), where, &self->centres[i], error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_root (JsonObject    *root,
            MtAudioMoods  *self,
            GError       **error)
{
  static const char * const keys[] = { "comment", "provenance", "version", "tag_weight", "moods", NULL };
  static const char * const texts[] = { "comment", "provenance" };
  JsonNode *version;

  if (!check_members (root, keys, "the top level", error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      JsonNode *node = json_object_get_member (root, texts[i]);
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s must be a string", texts[i]);
          return FALSE;
        }
    }
  version = json_object_get_member (root, "version");
  if (!JSON_NODE_HOLDS_VALUE (version) || json_node_get_value_type (version) != G_TYPE_INT64 ||
      json_node_get_int (version) != FORMAT_VERSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "version must be %d (the format this Moodtunes reads)", FORMAT_VERSION);
      return FALSE;
    }
  return get_number (root, "tag_weight", 0.0, 1.0, FALSE, "", &self->tag_weight, error) &&
         parse_moods (json_object_get_member (root, "moods"), self, error);
}

/* Of the numbers only, printed exactly: a new comment changes nothing. */
static char *
compute_fingerprint (MtAudioMoods *self)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *sha = NULL;

  g_string_append_printf (text, "%d %.17g", FORMAT_VERSION, self->tag_weight);
  for (int i = 0; i < MT_N_MOODS; i++)
    g_string_append_printf (text, " %.17g %.17g %.17g",
                            self->centres[i].valence, self->centres[i].arousal, self->centres[i].sigma);
  sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text->str, text->len);
  return g_strndup (sha, 12);
}

MtAudioMoods *
mt_audio_moods_new_from_file (const char  *path,
                              GError     **error)
{
  g_autoptr(MtAudioMoods) self = g_object_new (MT_TYPE_AUDIO_MOODS, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonObject *root;

  g_return_val_if_fail (path != NULL, NULL);

  root = mt_library_load_data_object (parser, path, "Audio moods", error);
  if (root == NULL)
    return NULL;
  if (!parse_root (root, self, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Audio moods “%s”: %s", path,
                   local_error->message);
      return NULL;
    }
  self->fingerprint = compute_fingerprint (self);
  return g_steal_pointer (&self);
}

MtAudioMoods *
mt_audio_moods_new_default (GError **error)
{
  g_autofree char *path = mt_data_dirs_find_file (MT_AUDIO_MOODS_FILE, error);

  if (path == NULL)
    return NULL;
  return mt_audio_moods_new_from_file (path, error);
}

void
mt_audio_moods_apply (MtAudioMoods *self,
                      double        valence,
                      double        arousal,
                      double        weights[MT_N_MOODS])
{
  for (int i = 0; i < MT_N_MOODS; i++)
    weights[i] = 0.0;
  g_return_if_fail (MT_IS_AUDIO_MOODS (self));
  g_return_if_fail (isfinite (valence) && isfinite (arousal));

  valence = CLAMP (valence, -1.0, 1.0);
  arousal = CLAMP (arousal, -1.0, 1.0);
  for (int i = 0; i < MT_N_MOODS; i++)
    {
      const Centre *c = &self->centres[i];
      double dv = valence - c->valence, da = arousal - c->arousal;

      weights[i] = exp (-(dv * dv + da * da) / (2.0 * c->sigma * c->sigma));
    }
}

double
mt_audio_moods_get_tag_weight (MtAudioMoods *self)
{
  g_return_val_if_fail (MT_IS_AUDIO_MOODS (self), 0.0);
  return self->tag_weight;
}

const char *
mt_audio_moods_get_fingerprint (MtAudioMoods *self)
{
  g_return_val_if_fail (MT_IS_AUDIO_MOODS (self), NULL);
  return self->fingerprint;
}
