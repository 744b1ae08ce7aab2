/* mt-fuzz.h: what every fuzz target shares.
 *
 * A target defines LLVMFuzzerTestOneInput(); built with -fsanitize=fuzzer it
 * is a libFuzzer program, built with replay-main.c it runs the files of its
 * corpus once each (the regression tests of every build). */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <glib.h>

G_BEGIN_DECLS

int LLVMFuzzerTestOneInput (const guint8 *data,
                            size_t        size);

/* A broken invariant is a finding, like a crash: abort with where. */
#define MT_FUZZ_CHECK(cond)                                                   \
  G_STMT_START {                                                              \
    if (G_UNLIKELY (!(cond)))                                                 \
      {                                                                       \
        fprintf (stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                 #cond);                                                      \
        abort ();                                                             \
      }                                                                       \
  } G_STMT_END

/* Makes GLib criticals and warnings fatal (a critical is a programmer error
 * that hostile input must never reach) and keeps debug output quiet. */
static inline void
mt_fuzz_init (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  g_setenv ("G_MESSAGES_DEBUG", "", TRUE);
}

G_END_DECLS
