#define G_LOG_DOMAIN "mt-mood-rules"

#include "config.h"

#include <math.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "mt-data-dirs.h"
#include "mt-library-data.h"
#include "mt-mood-rules.h"

typedef struct {
  /* Each word normalized and padded with spaces: " hip hop " */
  GPtrArray *words;
  double     moods[MT_N_MOODS];
} Rule;

struct _MtMoodRules
{
  GObject  parent_instance;
  double   defaults[MT_N_MOODS];
  GArray  *genre_rules;   /* of Rule */
  GArray  *word_rules;    /* of Rule */
};

G_DEFINE_FINAL_TYPE (MtMoodRules, mt_mood_rules, G_TYPE_OBJECT)

static void
rule_clear (gpointer data)
{
  Rule *rule = data;
  g_clear_pointer (&rule->words, g_ptr_array_unref);
}

static void
mt_mood_rules_finalize (GObject *object)
{
  MtMoodRules *self = (MtMoodRules *) object;

  g_clear_pointer (&self->genre_rules, g_array_unref);
  g_clear_pointer (&self->word_rules, g_array_unref);
  G_OBJECT_CLASS (mt_mood_rules_parent_class)->finalize (object);
}

static void
mt_mood_rules_class_init (MtMoodRulesClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_mood_rules_finalize;
}

static void
mt_mood_rules_init (MtMoodRules *self)
{
  self->genre_rules = g_array_new (FALSE, TRUE, sizeof (Rule));
  g_array_set_clear_func (self->genre_rules, rule_clear);
  self->word_rules = g_array_new (FALSE, TRUE, sizeof (Rule));
  g_array_set_clear_func (self->word_rules, rule_clear);
}

/* Lower-case words separated by single spaces, padded: " drum and bass ".
 * Keeps '-' inside words ("hip-hop", "by-product"). */
static char *
normalize_words (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_autofree char *lower = g_utf8_strdown (valid, -1);
  GString *out = g_string_new (" ");

  for (const char *p = lower; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isalnum (c) || c == '-' || c == '\'')
        g_string_append_unichar (out, c);
      else if (out->str[out->len - 1] != ' ')
        g_string_append_c (out, ' ');
    }
  if (out->str[out->len - 1] != ' ')
    g_string_append_c (out, ' ');
  return g_string_free (out, FALSE);
}

static gboolean
parse_moods (JsonObject  *object,
             double       moods[MT_N_MOODS],
             const char  *where,
             GError     **error)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (int i = 0; i < MT_N_MOODS; i++)
    moods[i] = NAN;
  for (GList *l = members; l; l = l->next)
    {
      JsonNode *node = json_object_get_member (object, l->data);
      MtMood mood;
      double weight;

      if (!mt_mood_from_string (l->data, &mood))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: unknown mood “%s” (known: %s)", where, (char *) l->data, mt_mood_list_names ());
          return FALSE;
        }
      if (!JSON_NODE_HOLDS_VALUE (node) ||
          (json_node_get_value_type (node) != G_TYPE_DOUBLE && json_node_get_value_type (node) != G_TYPE_INT64))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: the weight of “%s” is not a number", where, (char *) l->data);
          return FALSE;
        }
      weight = json_node_get_double (node);
      if (!(weight >= 0.0 && weight <= 1.0))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: the weight %g of “%s” is outside 0..1", where, weight, (char *) l->data);
          return FALSE;
        }
      moods[mood] = weight;
    }
  return TRUE;
}

static gboolean
parse_rules (JsonObject  *root,
             const char  *member,
             GArray      *rules,
             GError     **error)
{
  JsonArray *array;

  if (!json_object_has_member (root, member))
    return TRUE;
  if (!(array = json_object_get_array_member (root, member)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "“%s” must be a list of rules", member);
      return FALSE;
    }
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *where = g_strdup_printf ("%s[%u]", member, i);
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonArray *words;
      JsonObject *moods;
      Rule rule = { 0 };

      if (object == NULL ||
          !json_object_has_member (object, "words") || !json_object_has_member (object, "moods") ||
          !(words = json_object_get_array_member (object, "words")) ||
          !(moods = json_object_get_object_member (object, "moods")))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: a rule needs a “words” list and a “moods” object", where);
          return FALSE;
        }
      if (!parse_moods (moods, rule.moods, where, error))
        return FALSE;
      rule.words = g_ptr_array_new_with_free_func (g_free);
      for (guint j = 0; j < json_array_get_length (words); j++)
        {
          const char *word = json_array_get_string_element (words, j);
          if (word == NULL || word[0] == '\0')
            {
              g_ptr_array_unref (rule.words);
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s: word %u is not a non-empty string", where, j);
              return FALSE;
            }
          g_ptr_array_add (rule.words, normalize_words (word));
        }
      g_array_append_val (rules, rule);
    }
  return TRUE;
}

MtMoodRules *
mt_mood_rules_new_from_file (const char  *path,
                             GError     **error)
{
  g_autoptr(MtMoodRules) self = g_object_new (MT_TYPE_MOOD_RULES, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonObject *defaults;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  root = mt_library_load_data_object (parser, path, "Mood rules", error);
  if (root == NULL)
    return NULL;
  if (!json_object_has_member (root, "default") ||
      !(defaults = json_object_get_object_member (root, "default")) ||
      !parse_moods (defaults, self->defaults, "default", &local_error) ||
      !parse_rules (root, "genres", self->genre_rules, &local_error) ||
      !parse_rules (root, "tag-words", self->word_rules, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Mood rules “%s”: %s", path,
                   local_error ? local_error->message : "a “default” moods object is required");
      return NULL;
    }
  return g_steal_pointer (&self);
}

MtMoodRules *
mt_mood_rules_new_default (GError **error)
{
  g_autofree char *path = mt_data_dirs_find_file (MT_MOOD_RULES_FILE, error);

  if (path == NULL)
    return NULL;
  return mt_mood_rules_new_from_file (path, error);
}

static guint
apply_rules (GArray      *rules,
             const char  *padded_text,
             double       weights[MT_N_MOODS])
{
  guint matched = 0;

  for (guint i = 0; i < rules->len; i++)
    {
      Rule *rule = &g_array_index (rules, Rule, i);
      gboolean hit = FALSE;

      for (guint j = 0; j < rule->words->len && !hit; j++)
        hit = strstr (padded_text, g_ptr_array_index (rule->words, j)) != NULL;
      if (!hit)
        continue;
      matched++;
      for (int m = 0; m < MT_N_MOODS; m++)
        if (!isnan (rule->moods[m]) && (isnan (weights[m]) || rule->moods[m] > weights[m]))
          weights[m] = rule->moods[m];
    }
  return matched;
}

guint
mt_mood_rules_apply (MtMoodRules  *self,
                     const MtSong *song,
                     double        weights[MT_N_MOODS])
{
  g_autofree char *genre = NULL;
  g_autofree char *words = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *title = NULL;
  guint matched = 0;

  g_return_val_if_fail (MT_IS_MOOD_RULES (self), 0);
  g_return_val_if_fail (song != NULL, 0);

  for (int i = 0; i < MT_N_MOODS; i++)
    weights[i] = NAN;

  genre = normalize_words (song->genre ? song->genre : "");
  matched += apply_rules (self->genre_rules, genre, weights);

  /* An untagged file's name often is its title ("machine_wars.mp3"). */
  if (song->title == NULL && song->uri != NULL)
    {
      char *dot;

      title = mt_song_dup_display_title (song);
      if ((dot = strrchr (title, '.')) != NULL && dot != title)
        *dot = '\0';
    }
  joined = g_strjoin (" ", title ? title : song->title ? song->title : "",
                      song->album ? song->album : "", song->genre ? song->genre : "", NULL);
  words = normalize_words (joined);
  matched += apply_rules (self->word_rules, words, weights);

  if (matched == 0)
    memcpy (weights, self->defaults, sizeof self->defaults);
  return matched;
}
