/* bench-server-load: a bounded loopback load on moodtunes-server.
 *
 *   bench-server-load MOODTUNES-SERVER MAKE-TEST-LIBRARY [SECONDS] [REST-RATE]
 *
 * For 1, 8 and 32 WebSocket clients, each sending the frames of a real
 * video (the Hamilton clip at 10 frames/s, as the companion page sends at
 * most, each client from its own place in it) as fast as replies come back
 * (one frame in flight per client), plus one REST client at
 * REST-RATE requests per second (GET /mood and /recommendations): frames
 * analyzed per second, p50/p99 frame reply latency, REST p50/p99 while
 * streaming, errors, the server's RSS before and after, and the CPU the
 * server and this generator used.  Also REST alone,
 * and the same frames decoded and analyzed directly on as many threads as the
 * server has workers (what the vision core allows on these cores): with a
 * full-frame pass on every frame, and as the app's live path does (the face
 * followed in regions, each thread its own video).
 * Loopback only; every phase is bounded in time.  Prints figures, asserts
 * nothing.
 */
#define G_LOG_DOMAIN "bench-server-load"

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "mt-analyzer.h"
#include "mt-server-frame.h"
#include "mt-test-support.h"

#define WORKERS 2

typedef struct {
  GArray *values;   /* double, ms */
} Samples;

typedef struct Bench Bench;

typedef struct {
  Bench                   *bench;
  SoupWebsocketConnection *conn;
  gint64                   sent_at;
  guint                    next_frame;
  gboolean                 open;
} Client;

struct Bench {
  SoupSession *session;
  char        *origin;
  GPtrArray   *frames;        /* GBytes* JPEGs */
  gboolean     running;
  Samples      frame_latency;
  Samples      rest_latency;
  guint64      analyzed;
  guint64      faces;
  guint64      errors;
  guint64      rest_errors;
  guint        rest_in_flight;
  guint64      rest_skipped;  /* the rate could not be kept: too many in flight */
};

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
percentile (Samples *samples,
            double   p)
{
  if (samples->values->len == 0)
    return NAN;
  g_array_sort (samples->values, compare_doubles);
  return g_array_index (samples->values, double,
                        MIN (samples->values->len - 1, (guint) (p * samples->values->len)));
}

static void
samples_add (Samples *samples,
             double   value)
{
  g_array_append_val (samples->values, value);
}

/* ---- the server process ---------------------------------------------- */

typedef struct {
  GSubprocess *process;
  char        *origin;
} Server;

static Server *
server_start (const char *server_path,
              const char *db)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  const char *start;
  Server *server = g_new0 (Server, 1);

  server->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                                      /* Loopback load without the token: the token check is one
                                       * comparison a request, and the clients stay simple. */
                                      server_path, "--no-settings", "--no-require-token", "--port", "0", "--db", db,
                                      "--workers", G_STRINGIFY (WORKERS), "--max-streams", "64",
                                      "--max-connections-per-client", "128",
                                      "--max-frames-per-second", "1000", NULL);
  if (server->process == NULL)
    g_error ("cannot start %s: %s", server_path, error->message);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  if (line == NULL || (start = strstr (line, "http://")) == NULL)
    g_error ("the server did not print its address");
  server->origin = g_strndup (start, strlen (start) - 1);   /* drop the trailing "/" */
  return server;
}

static void
server_stop (Server *server)
{
  g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait (server->process, NULL, NULL);
  g_object_unref (server->process);
  g_free (server->origin);
  g_free (server);
}

static double
server_rss_mb (Server *server)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", g_subprocess_get_identifier (server->process));
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (line = strstr (text, "VmRSS:")) == NULL)
    return NAN;
  return g_ascii_strtod (line + 6, NULL) / 1024.0;
}

/* CPU seconds the server process has used (all its threads). */
static double
server_cpu_seconds (Server *server)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", g_subprocess_get_identifier (server->process));
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;

  /* Fields after the parenthesised name: state is field 3, utime 14, stime 15. */
  if (!g_file_get_contents (path, &text, NULL, NULL) || (after_name = strrchr (text, ')')) == NULL)
    return NAN;
  fields = g_strsplit (after_name + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return NAN;
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) / sysconf (_SC_CLK_TCK);
}

/* CPU seconds this load generator has used. */
static double
self_cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
         usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

/* ---- WebSocket clients ------------------------------------------------- */

static void
client_send (Client *client)
{
  GBytes *frame = g_ptr_array_index (client->bench->frames, client->next_frame++ % client->bench->frames->len);

  client->sent_at = g_get_monotonic_time ();
  soup_websocket_connection_send_binary (client->conn, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
}

static void
on_client_message (SoupWebsocketConnection *conn,
                   SoupWebsocketDataType    type,
                   GBytes                  *message,
                   Client                  *client)
{
  Bench *bench = client->bench;
  const char *text = g_bytes_get_data (message, NULL);
  gsize size = g_bytes_get_size (message);

  if (g_strstr_len (text, MIN (size, 40), "\"type\":\"analysis\"") != NULL)
    {
      bench->analyzed++;
      if (g_strstr_len (text, size, "\"faces\":[]") == NULL)
        bench->faces++;
    }
  else if (g_strstr_len (text, MIN (size, 40), "\"type\":\"error\"") != NULL)
    bench->errors++;
  else
    return;   /* hello, recommendations */

  samples_add (&bench->frame_latency, (g_get_monotonic_time () - client->sent_at) / 1000.0);
  if (bench->running)
    client_send (client);
}

static void
on_client_closed (SoupWebsocketConnection *conn,
                  Client                  *client)
{
  if (client->bench->running)
    client->bench->errors++;   /* the server closed a stream mid-run */
  client->open = FALSE;
}

static void
on_client_connected (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;

  client->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (client->conn == NULL)
    {
      g_printerr ("stream refused: %s\n", error->message);
      client->bench->errors++;
      return;
    }
  client->open = TRUE;
  soup_websocket_connection_set_max_incoming_payload_size (client->conn, 1024 * 1024);
  g_signal_connect (client->conn, "message", G_CALLBACK (on_client_message), client);
  g_signal_connect (client->conn, "closed", G_CALLBACK (on_client_closed), client);
  client_send (client);
}

/* ---- REST client ------------------------------------------------------ */

typedef struct {
  Bench  *bench;
  gint64  sent_at;
} RestCall;

static void
on_rest_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  RestCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  call->bench->rest_in_flight--;
  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    call->bench->rest_errors++;
  else
    samples_add (&call->bench->rest_latency, (g_get_monotonic_time () - call->sent_at) / 1000.0);
  g_free (call);
}

static void
rest_send (Bench *bench,
           guint  n)
{
  static const char *paths[] = { "/api/v1/mood", "/api/v1/recommendations?mood=happy&limit=10" };
  g_autofree char *url = g_strconcat (bench->origin, paths[n % 2], NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  RestCall *call = g_new0 (RestCall, 1);

  /* Keep-alive connections are reused; more than 64 waiting means the rate
   * cannot be kept: count it instead of piling up. */
  if (bench->rest_in_flight >= 64)
    {
      bench->rest_skipped++;
      g_free (call);
      return;
    }
  call->bench = bench;
  call->sent_at = g_get_monotonic_time ();
  bench->rest_in_flight++;
  soup_session_send_and_read_async (bench->session, msg, G_PRIORITY_DEFAULT, NULL, on_rest_done, call);
}

/* Sends the REST requests that are due; a timer wakes it every millisecond,
 * so the load generator sleeps in poll() between events instead of spinning
 * on cores the server needs. */
typedef struct {
  Bench  *bench;
  guint   rate;
  gint64  start;
  guint64 sent;
} RestPacer;

static gboolean
rest_pace (gpointer data)
{
  RestPacer *pacer = data;
  guint64 due = (guint64) ((g_get_monotonic_time () - pacer->start) * pacer->rate / G_USEC_PER_SEC) + 1;

  while (pacer->sent < due)
    rest_send (pacer->bench, pacer->sent++);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for @seconds, blocking while nothing happens. */
static void
run_for (double seconds)
{
  gboolean done = FALSE;

  g_timeout_add ((guint) (seconds * 1000), on_deadline, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- one phase --------------------------------------------------------- */

static void
run_phase (Bench      *bench,
           const char *server_path,
           const char *db,
           guint       n_clients,
           double      seconds,
           guint       rest_rate)
{
  Server *server = server_start (server_path, db);
  g_autofree Client *clients = g_new0 (Client, n_clients);
  double rss_idle, rss_warm, rss_after;
  RestPacer pacer;
  guint pacer_id = 0;
  gint64 start, end;
  double elapsed, server_cpu, self_cpu;

  bench->origin = server->origin;
  bench->frame_latency.values = g_array_new (FALSE, FALSE, sizeof (double));
  bench->rest_latency.values = g_array_new (FALSE, FALSE, sizeof (double));
  bench->analyzed = bench->faces = bench->errors = bench->rest_errors = bench->rest_skipped = 0;
  rss_idle = server_rss_mb (server);

  /* Warm up: every worker loads its models on its first frames. */
  bench->running = TRUE;
  for (guint i = 0; i < n_clients; i++)
    {
      g_autofree char *url = g_strconcat ("ws", server->origin + 4, "/api/v1/stream", NULL);
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);

      clients[i].bench = bench;
      /* Each client its own stretch of the video. */
      clients[i].next_frame = i * bench->frames->len / MAX (n_clients, 1);
      soup_session_websocket_connect_async (bench->session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                            on_client_connected, &clients[i]);
    }
  run_for (2.0);
  rss_warm = server_rss_mb (server);
  if (n_clients == 0)
    rss_warm = rss_idle;

  /* Measure. */
  g_array_set_size (bench->frame_latency.values, 0);
  g_array_set_size (bench->rest_latency.values, 0);
  bench->analyzed = bench->faces = bench->errors = 0;
  server_cpu = server_cpu_seconds (server);
  self_cpu = self_cpu_seconds ();
  start = g_get_monotonic_time ();
  if (rest_rate > 0)
    {
      pacer = (RestPacer) { bench, rest_rate, start, 0 };
      pacer_id = g_timeout_add (1, rest_pace, &pacer);
    }
  run_for (seconds);
  g_clear_handle_id (&pacer_id, g_source_remove);
  elapsed = (g_get_monotonic_time () - start) / 1e6;
  server_cpu = (server_cpu_seconds (server) - server_cpu) / elapsed;
  self_cpu = (self_cpu_seconds () - self_cpu) / elapsed;
  bench->running = FALSE;

  /* Let the last replies in, then close. */
  end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end && bench->rest_in_flight > 0)
    run_for (0.01);
  for (guint i = 0; i < n_clients; i++)
    if (clients[i].conn != NULL)
      {
        g_signal_handlers_disconnect_by_data (clients[i].conn, &clients[i]);
        if (soup_websocket_connection_get_state (clients[i].conn) == SOUP_WEBSOCKET_STATE_OPEN)
          soup_websocket_connection_close (clients[i].conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      }
  run_for (1.0);
  rss_after = server_rss_mb (server);

  printf ("%7u %9.1f %8.0f %8.1f %8.1f %7u %8.2f %8.2f %8.2f %6" G_GUINT64_FORMAT " %6" G_GUINT64_FORMAT
          " %7.1f %7.1f %7.1f %6.2f %6.2f %8.1f\n",
          n_clients, bench->analyzed / elapsed,
          bench->analyzed > 0 ? 100.0 * bench->faces / bench->analyzed : 0.0,
          percentile (&bench->frame_latency, 0.5), percentile (&bench->frame_latency, 0.99),
          rest_rate, percentile (&bench->rest_latency, 0.5), percentile (&bench->rest_latency, 0.99),
          percentile (&bench->rest_latency, 0.999),
          bench->errors, bench->rest_errors + bench->rest_skipped, rss_idle, rss_warm, rss_after,
          server_cpu, self_cpu, server_cpu > 0 ? bench->analyzed / elapsed / server_cpu : 0.0);
  fflush (stdout);

  for (guint i = 0; i < n_clients; i++)
    g_clear_object (&clients[i].conn);
  g_array_unref (bench->frame_latency.values);
  g_array_unref (bench->rest_latency.values);
  server_stop (server);
  bench->origin = NULL;
}

/* ---- the vision core alone, same frames, same threads ------------------- */

typedef struct {
  GPtrArray *frames;
  MtAnalyzeFlags flags;
  guint      first;      /* where in the video this thread starts */
  gint64     begin;      /* counting starts: every thread has loaded by then */
  gint64     end;
  gint64     finished;
  guint64    count;
} DirectWorker;

static gpointer
direct_run (gpointer data)
{
  DirectWorker *worker = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtAnalyzer) analyzer = mt_analyzer_new (NULL, NULL, &error);
  guint i = worker->first;

  if (analyzer == NULL)
    g_error ("%s", error->message);
  if (g_get_monotonic_time () > worker->begin)
    g_error ("loading the models took longer than the warm-up");
  while (g_get_monotonic_time () < worker->begin)
    g_usleep (1000);
  while (g_get_monotonic_time () < worker->end)
    {
      g_autoptr(MtServerFrame) frame = mt_server_frame_decode (g_ptr_array_index (worker->frames, i++ % worker->frames->len), &error);
      g_autoptr(GArray) faces = NULL;

      g_assert_no_error (error);
      faces = mt_analyzer_analyze (analyzer, mt_server_frame_get_frame (frame), worker->flags, &error);
      g_assert_no_error (error);
      worker->count++;
    }
  worker->finished = g_get_monotonic_time ();
  return NULL;
}

/* Frames per second of WORKERS threads decoding and analyzing on their own,
 * counted after every thread has loaded its models; @cores: CPU used. */
static double
direct_fps (GPtrArray      *frames,
            MtAnalyzeFlags  flags,
            double          seconds,
            double         *cores)
{
  DirectWorker workers[WORKERS];
  GThread *threads[WORKERS];
  gint64 begin = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  gint64 end = begin + (gint64) (seconds * G_USEC_PER_SEC);
  double fps = 0, cpu;

  for (guint i = 0; i < WORKERS; i++)
    {
      workers[i] = (DirectWorker) { frames, flags, i * frames->len / WORKERS, begin, end, 0, 0 };
      threads[i] = g_thread_new ("direct", direct_run, &workers[i]);
    }
  g_usleep (MAX (0, begin - g_get_monotonic_time ()));
  cpu = self_cpu_seconds ();
  g_usleep (MAX (0, end - g_get_monotonic_time ()));
  *cores = (self_cpu_seconds () - cpu) / seconds;
  for (guint i = 0; i < WORKERS; i++)
    {
      g_thread_join (threads[i]);
      fps += workers[i].count / ((workers[i].finished - begin) / 1e6);
    }
  return fps;
}

/* Real faces in a real video: the Hamilton clip at 10 frames/s, as the
 * companion page sends it at most (640 wide JPEGs), in order; the
 * astronaut portrait only when the clip is missing. */
static GPtrArray *
load_frames (void)
{
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autofree char *clip = mt_test_shared_path ("media", "short_hamilton_clip.mp4", NULL);
  g_autofree char *dir = g_dir_make_tmp ("mt-bench-XXXXXX", NULL);
  g_autofree char *pattern = g_build_filename (dir, "frame-%03d.jpg", NULL);
  g_autofree char *location = g_strdup_printf ("location=%s", pattern);
  g_autofree char *clip_location = g_strdup_printf ("location=%s", clip);
  g_autoptr(GError) error = NULL;
  GBytes *face;
  const char *argv[] = { "gst-launch-1.0", "-q", "filesrc", clip_location, "!", "decodebin", "!",
                         "videorate", "!", "video/x-raw,framerate=10/1", "!", "videoconvert", "!",
                         "jpegenc", "quality=80", "!", "multifilesink", location, NULL };

  if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL))
    for (guint i = 0; i < 1000; i++)
      {
        g_autofree char *name = g_strdup_printf ("%s/frame-%03u.jpg", dir, i);
        char *contents;
        gsize length;

        if (g_file_get_contents (name, &contents, &length, NULL))
          {
            g_ptr_array_add (frames, g_bytes_new_take (contents, length));
            g_unlink (name);
          }
      }
  g_rmdir (dir);
  if (frames->len == 0)
    {
      face = mt_test_face_jpeg (80, &error);
      if (face == NULL)
        g_error ("astronaut.png: %s", error->message);
      g_ptr_array_add (frames, face);
    }
  return frames;
}

int
main (int argc, char *argv[])
{
  const guint clients[] = { 0, 1, 8, 32 };
  Bench bench = { 0 };
  g_autofree char *db = NULL;
  g_autofree char *dir = NULL;
  double seconds = argc > 3 ? g_ascii_strtod (argv[3], NULL) : 10.0;
  guint rest_rate = argc > 4 ? (guint) atoi (argv[4]) : 500;
  gsize total = 0;
  double direct, direct_cores, live, live_cores;

  if (argc < 3 || seconds <= 0 || seconds > 120 || rest_rate > 5000)
    {
      g_printerr ("usage: bench-server-load MOODTUNES-SERVER MAKE-TEST-LIBRARY [SECONDS ≤ 120] [REST-RATE ≤ 5000]\n");
      return 2;
    }

  bench.frames = load_frames ();
  for (guint i = 0; i < bench.frames->len; i++)
    total += g_bytes_get_size (g_ptr_array_index (bench.frames, i));
  dir = g_dir_make_tmp ("mt-bench-db-XXXXXX", NULL);
  db = g_build_filename (dir, "library.db", NULL);
  {
    const char *make_argv[] = { argv[2], db, "200", NULL };   /* 1400 songs */
    int status = 0;
    if (!g_spawn_sync (NULL, (char **) make_argv, NULL, 0, NULL, NULL, NULL, NULL, &status, NULL) ||
        !g_spawn_check_wait_status (status, NULL))
      g_error ("make-test-library failed");
  }
  bench.session = soup_session_new_with_options ("max-conns", 256, "max-conns-per-host", 128, NULL);

  printf ("%u face frames (mean %.0f KiB), %.0f s per phase, server with %d workers, %u cores\n",
          bench.frames->len, total / 1024.0 / bench.frames->len, seconds, WORKERS, g_get_num_processors ());
  direct = direct_fps (bench.frames, MT_ANALYZE_SINGLE_PASS, seconds, &direct_cores);
  printf ("vision core alone (decode + analyze, %d threads), full-frame passes: %.1f frames/s on %.2f cores, "
          "%.1f per core\n", WORKERS, direct, direct_cores, direct / direct_cores);
  live = direct_fps (bench.frames, MT_ANALYZE_SINGLE_PASS | MT_ANALYZE_VIDEO, seconds, &live_cores);
  printf ("vision core alone, the app's live path (face followed in regions): %.1f frames/s on %.2f cores, "
          "%.1f per core\n\n", live, live_cores, live / live_cores);
  printf ("clients  frames/s  %%faces  p50 ms   p99 ms  REST/s  REST p50 REST p99 p99.9   errors restErr RSS0 MB RSSwarm RSSend srvCPU genCPU fr/core\n");
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    run_phase (&bench, argv[1], db, clients[i], seconds, rest_rate);

  g_clear_object (&bench.session);
  g_ptr_array_unref (bench.frames);
  g_unlink (db);
  {
    g_autofree char *wal = g_strconcat (db, "-wal", NULL);
    g_autofree char *shm = g_strconcat (db, "-shm", NULL);
    g_unlink (wal);
    g_unlink (shm);
  }
  g_rmdir (dir);
  return 0;
}
