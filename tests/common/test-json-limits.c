/* test-json-limits.c: the nesting scan that guards json-glib's recursion. */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "mt-json-limits.h"

static gboolean
within (const char *text,
        guint       max_depth)
{
  return mt_json_check_limits (text, strlen (text), max_depth, NULL);
}

static void
test_depth (void)
{
  g_assert_true (within ("", 0));
  g_assert_true (within ("{\"type\": \"config\"}", 1));
  g_assert_false (within ("{\"a\": [1]}", 1));
  g_assert_true (within ("{\"a\": [1]}", 2));
  g_assert_true (within ("[[]] [[]] [[]]", 2));   /* depth, not count */
  g_assert_false (within ("[[[", 2));
  /* Unbalanced closers never make room for more openers. */
  g_assert_false (within ("]]]]][[[", 2));
}

static void
test_strings (void)
{
  g_autoptr(GError) error = NULL;

  /* Brackets inside strings, escaped quotes and backslashes do not count. */
  g_assert_true (within ("[\"[[[[[[\"]", 1));
  g_assert_true (within ("[\"\\\"[[[[\"]", 1));
  g_assert_false (within ("[\"\\\\\"[[]", 1));
  /* An escape at the very end reads no further than the data. */
  g_assert_true (mt_json_check_limits ("\"\\", 2, 1, NULL));

  g_assert_false (mt_json_check_limits ("[[[[", 4, 3, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "3 levels"));
}

static void
test_huge (void)
{
  gsize size = 10 * 1000 * 1000;
  g_autofree char *deep = g_malloc (size);

  /* Ten million "[" in a flat loop: no recursion, no stack to overflow. */
  memset (deep, '[', size);
  g_assert_false (mt_json_check_limits (deep, size, MT_JSON_MAX_DEPTH, NULL));
  memset (deep, ' ', size);
  g_assert_true (mt_json_check_limits (deep, size, MT_JSON_MAX_DEPTH, NULL));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-limits/depth", test_depth);
  g_test_add_func ("/json-limits/strings", test_strings);
  g_test_add_func ("/json-limits/huge", test_huge);
  return g_test_run ();
}
