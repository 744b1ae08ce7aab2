/* mt-test-report.c: JSON lines on stdout, one per event. */
#define G_LOG_DOMAIN "mt-test-report"

#include "config.h"

#include <stdio.h>

#include "mt-test-report.h"

static gboolean enabled;

void
mt_test_report_enable (void)
{
  enabled = TRUE;
}

gboolean
mt_test_report_enabled (void)
{
  return enabled;
}

JsonBuilder *
mt_test_report_begin (const char *event)
{
  JsonBuilder *builder;

  if (!enabled)
    return NULL;
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, event);
  json_builder_set_member_name (builder, "t");
  json_builder_add_double_value (builder, g_get_monotonic_time () / 1000.0);
  return builder;
}

void
mt_test_report_end (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  if (builder == NULL)
    return;
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  /* Whole lines, flushed: the reader acts on them while the app runs. */
  fprintf (stdout, "%s\n", text);
  fflush (stdout);
  g_object_unref (builder);
}
