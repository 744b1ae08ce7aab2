/* mt-test-report.h: --test-report prints what the app does as JSON lines on
 * stdout (camera states, analyses, moods, playlists), for tests and benches. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

void         mt_test_report_enable  (void);
gboolean     mt_test_report_enabled (void);
/* A builder with an open object holding "event" and "t" (monotonic ms), or
 * NULL when reporting is off; mt_test_report_end() prints and frees it. */
JsonBuilder *mt_test_report_begin   (const char  *event);
void         mt_test_report_end     (JsonBuilder *builder);

G_END_DECLS
