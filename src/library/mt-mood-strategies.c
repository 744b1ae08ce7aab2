#define G_LOG_DOMAIN "mt-mood-strategies"

#include "config.h"

#include <json-glib/json-glib.h>

#include "mt-data-dirs.h"
#include "mt-library-data.h"
#include "mt-mood-strategies.h"

struct _MtMoodStrategies
{
  GObject  parent_instance;
  GArray  *stages[MT_N_STRATEGIES][MT_N_MOODS];   /* of MtMoodStage */
};

G_DEFINE_FINAL_TYPE (MtMoodStrategies, mt_mood_strategies, G_TYPE_OBJECT)

static const char * const strategy_names[MT_N_STRATEGIES] = { "match", "lift" };

const char *
mt_strategy_to_string (MtStrategy strategy)
{
  if ((int) strategy < 0 || (int) strategy >= MT_N_STRATEGIES)
    return NULL;
  return strategy_names[strategy];
}

gboolean
mt_strategy_from_string (const char *text,
                         MtStrategy *out_strategy)
{
  if (text == NULL)
    return FALSE;
  for (int i = 0; i < MT_N_STRATEGIES; i++)
    {
      if (g_ascii_strcasecmp (text, strategy_names[i]) == 0)
        {
          *out_strategy = (MtStrategy) i;
          return TRUE;
        }
    }
  return FALSE;
}

static void
mt_mood_strategies_finalize (GObject *object)
{
  MtMoodStrategies *self = (MtMoodStrategies *) object;

  for (int s = 0; s < MT_N_STRATEGIES; s++)
    for (int m = 0; m < MT_N_MOODS; m++)
      g_clear_pointer (&self->stages[s][m], g_array_unref);
  G_OBJECT_CLASS (mt_mood_strategies_parent_class)->finalize (object);
}

static void
mt_mood_strategies_class_init (MtMoodStrategiesClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_mood_strategies_finalize;
}

static void
mt_mood_strategies_init (MtMoodStrategies *self)
{
}

static gboolean
parse_stage (JsonNode     *node,
             MtMoodStage  *stage,
             const char   *where,
             GError      **error)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  g_autoptr(GList) members = NULL;
  double total = 0.0;

  if (object == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: a stage must be an object of mood weights", where);
      return FALSE;
    }
  members = json_object_get_members (object);
  for (GList *l = members; l; l = l->next)
    {
      JsonNode *value = json_object_get_member (object, l->data);
      MtMood mood;
      double weight;

      if (!mt_mood_from_string (l->data, &mood))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: unknown mood “%s” (known: %s)", where, (char *) l->data, mt_mood_list_names ());
          return FALSE;
        }
      if (!JSON_NODE_HOLDS_VALUE (value) ||
          (json_node_get_value_type (value) != G_TYPE_DOUBLE && json_node_get_value_type (value) != G_TYPE_INT64) ||
          !((weight = json_node_get_double (value)) >= 0.0))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: the weight of “%s” must be a number ≥ 0", where, (char *) l->data);
          return FALSE;
        }
      stage->moods[mood] = weight;
      total += weight;
    }
  if (total <= 0.0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: a stage needs a mood with a weight above 0", where);
      return FALSE;
    }
  /* Normalized, so stage scores are comparable whatever the file's scale. */
  for (int i = 0; i < MT_N_MOODS; i++)
    stage->moods[i] /= total;
  return TRUE;
}

MtMoodStrategies *
mt_mood_strategies_new_from_file (const char  *path,
                                  GError     **error)
{
  g_autoptr(MtMoodStrategies) self = g_object_new (MT_TYPE_MOOD_STRATEGIES, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonObject *root;

  g_return_val_if_fail (path != NULL, NULL);

  root = mt_library_load_data_object (parser, path, "Mood strategies", error);
  if (root == NULL)
    return NULL;

  for (int s = 0; s < MT_N_STRATEGIES; s++)
    {
      JsonNode *strategy_node = json_object_get_member (root, strategy_names[s]);
      JsonObject *strategy = strategy_node && JSON_NODE_HOLDS_OBJECT (strategy_node)
                             ? json_node_get_object (strategy_node) : NULL;

      if (strategy == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "Mood strategies “%s”: the “%s” object is missing", path, strategy_names[s]);
          return NULL;
        }
      for (int m = 0; m < MT_N_MOODS; m++)
        {
          g_autofree char *where = g_strdup_printf ("%s.%s", strategy_names[s], mt_mood_to_string (m));
          JsonNode *list_node = json_object_get_member (strategy, mt_mood_to_string (m));
          JsonArray *list = list_node && JSON_NODE_HOLDS_ARRAY (list_node) ? json_node_get_array (list_node) : NULL;

          if (list == NULL || json_array_get_length (list) == 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "Mood strategies “%s”: %s must be a non-empty list of stages", path, where);
              return NULL;
            }
          self->stages[s][m] = g_array_new (FALSE, TRUE, sizeof (MtMoodStage));
          for (guint i = 0; i < json_array_get_length (list); i++)
            {
              MtMoodStage stage = { { 0 } };

              if (!parse_stage (json_array_get_element (list, i), &stage, where, &local_error))
                {
                  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               "Mood strategies “%s”: %s", path, local_error->message);
                  return NULL;
                }
              g_array_append_val (self->stages[s][m], stage);
            }
        }
    }
  return g_steal_pointer (&self);
}

MtMoodStrategies *
mt_mood_strategies_new_default (GError **error)
{
  g_autofree char *path = mt_data_dirs_find_file (MT_MOOD_STRATEGIES_FILE, error);

  if (path == NULL)
    return NULL;
  return mt_mood_strategies_new_from_file (path, error);
}

const MtMoodStage *
mt_mood_strategies_get_stages (MtMoodStrategies *self,
                               MtStrategy        strategy,
                               MtMood            mood,
                               guint            *n_stages)
{
  g_return_val_if_fail (MT_IS_MOOD_STRATEGIES (self), NULL);
  g_return_val_if_fail ((int) strategy >= 0 && strategy < MT_N_STRATEGIES, NULL);
  g_return_val_if_fail (mt_mood_is_valid (mood), NULL);
  g_return_val_if_fail (n_stages != NULL, NULL);

  *n_stages = self->stages[strategy][mood]->len;
  return (const MtMoodStage *) (gpointer) self->stages[strategy][mood]->data;
}
