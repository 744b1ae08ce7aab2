/* mt-test-support.h: main-loop waits, the shared media and loopback sockets,
 * for the tests and bench/ (one copy instead of one per file). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Iterates the default main context (blocking) until *@flag is set or
 * @seconds have passed; returns *@flag.  Something must wake the context
 * now and then for the deadline to be seen (a timeout source). */
gboolean  mt_test_wait_flag   (gboolean    *flag,
                               guint        seconds);

typedef gboolean (*MtTestCondition) (gpointer data);

/* Polls @condition every 2 ms, dispatching what is ready in between
 * (without blocking), until it holds or @timeout_ms pass; returns whether
 * it held. */
gboolean  mt_test_wait_cond   (MtTestCondition condition,
                               gpointer        data,
                               guint           timeout_ms);

/* Runs the default main context for @ms without blocking (a server in this
 * process keeps working). */
void      mt_test_run_loop_for (guint       ms);

/* The path of a file in the shared data ($MT_SHARED_DIR, else ../shared),
 * e.g. mt_test_shared_path ("media", "astronaut.png", NULL). */
char     *mt_test_shared_path (const char *first,
                               ...) G_GNUC_NULL_TERMINATED;

/* A real face as a JPEG: shared/media/astronaut.png re-encoded at
 * @quality; NULL (with @error set) when it cannot be read. */
GBytes   *mt_test_face_jpeg   (int          quality,
                               GError     **error);

/* Reads @stream in the background (while the main loop runs) into @data
 * until the end of the stream or an error (@eof set) or, with @stop_at,
 * until @data holds that text; @done is set at either. */
typedef struct {
  GByteArray   *data;
  gboolean      eof;
  gboolean      done;
  /*< private >*/
  GInputStream *stream;
  GCancellable *cancellable;
  char         *stop_at;
  guint8        buffer[65536];
} MtTestReader;

MtTestReader *mt_test_reader_new  (GInputStream *stream,
                                   GCancellable *cancellable,
                                   const char   *stop_at);
/* Only once @done is set: no read may be pending. */
void          mt_test_reader_free (MtTestReader *reader);

/* A TCP connection to 127.0.0.1:@port (asserts it is made). */
GSocketConnection *mt_test_connect_loopback (guint port);

G_END_DECLS
