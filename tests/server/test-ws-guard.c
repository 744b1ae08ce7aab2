/* The WebSocket message-size guard: MtWsMeter on hand-made frame headers
 * (split at every byte), and a real MtServer driven over a raw socket with
 * fragmented messages, which libsoup's client cannot send. */
#include "config.h"

#include <string.h>
#include <libsoup/soup.h>

#include "mt-server.h"
#include "mt-ws-meter.h"
#include "mt-test-support.h"

/* ---- frames ------------------------------------------------------------ */

/* Appends one client frame (masked, as RFC 6455 requires of clients);
 * @length is what the header claims, @payload may be shorter (NULL: none). */
static void
append_frame (GByteArray   *out,
              gboolean      fin,
              guint8        opcode,
              const guint8 *payload,
              guint64       length)
{
  const guint8 mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
  guint8 head[14];
  guint n = 0;

  head[n++] = (fin ? 0x80 : 0) | opcode;
  if (length < 126)
    head[n++] = 0x80 | (guint8) length;
  else if (length <= G_MAXUINT16)
    {
      head[n++] = 0x80 | 126;
      head[n++] = (guint8) (length >> 8);
      head[n++] = (guint8) length;
    }
  else
    {
      head[n++] = 0x80 | 127;
      for (int shift = 56; shift >= 0; shift -= 8)
        head[n++] = (guint8) (length >> shift);
    }
  memcpy (head + n, mask, 4);
  n += 4;
  g_byte_array_append (out, head, n);
  if (payload != NULL)
    for (guint64 i = 0; i < length; i++)
      {
        guint8 byte = payload[i] ^ mask[i % 4];
        g_byte_array_append (out, &byte, 1);
      }
}

static void
append_zeros (GByteArray *out,
              gboolean    fin,
              guint8      opcode,
              gsize       length)
{
  g_autofree guint8 *zeros = g_malloc0 (length);

  append_frame (out, fin, opcode, zeros, length);
}

/* Feeds @data in chunks of @chunk bytes; returns how many passed. */
static gsize
feed_in_chunks (MtWsMeter    *meter,
                const guint8 *data,
                gsize         length,
                gsize         chunk)
{
  gsize passed = 0;

  for (gsize pos = 0; pos < length; pos += chunk)
    {
      gsize n = MIN (chunk, length - pos);
      gsize allowed = mt_ws_meter_feed (meter, data + pos, n);

      passed += allowed;
      if (allowed < n)
        break;
    }
  return passed;
}

/* ---- the meter ----------------------------------------------------------- */

static void
test_meter_within_limit (void)
{
  g_autoptr(GByteArray) frames = g_byte_array_new ();

  /* Whole messages up to the limit, fragmented ones, a ping between
   * fragments, 16- and 64-bit lengths, an empty final fragment. */
  append_zeros (frames, TRUE, 0x2, 1000);
  append_zeros (frames, FALSE, 0x2, 400);
  append_zeros (frames, FALSE, 0x0, 300);
  append_zeros (frames, TRUE, 0x9, 10);
  append_zeros (frames, TRUE, 0x0, 300);
  append_zeros (frames, TRUE, 0x1, 100);
  append_zeros (frames, FALSE, 0x2, 70000);
  append_zeros (frames, TRUE, 0x0, 0);

  for (gsize chunk = 1; chunk <= 17; chunk++)
    {
      MtWsMeter meter;

      mt_ws_meter_init (&meter, 70000);
      g_assert_cmpuint (feed_in_chunks (&meter, frames->data, frames->len, chunk), ==, frames->len);
      g_assert_false (mt_ws_meter_exceeded (&meter));
    }
}

static void
test_meter_fragments_over_limit (void)
{
  g_autoptr(GByteArray) frames = g_byte_array_new ();
  guint before_bad;

  append_zeros (frames, TRUE, 0x2, 900);          /* a whole message: fine */
  append_zeros (frames, FALSE, 0x2, 400);
  append_zeros (frames, FALSE, 0x0, 400);
  before_bad = frames->len;
  append_zeros (frames, FALSE, 0x0, 400);         /* 1200 > 1000 */
  append_zeros (frames, TRUE, 0x0, 400);

  for (gsize chunk = 1; chunk <= 64; chunk++)
    {
      MtWsMeter meter;
      gsize passed;

      mt_ws_meter_init (&meter, 1000);
      passed = feed_in_chunks (&meter, frames->data, frames->len, chunk);
      g_assert_true (mt_ws_meter_exceeded (&meter));
      /* Nothing of the offending frame's payload passes; of its header,
       * only what came in an earlier chunk. */
      g_assert_cmpuint (passed, <=, before_bad + 13);
      g_assert_cmpuint (passed, >=, before_bad - chunk);
      g_assert_cmpuint (mt_ws_meter_feed (&meter, frames->data, 10), ==, 0);
    }
}

static void
test_meter_huge_claims (void)
{
  g_autoptr(GByteArray) single = g_byte_array_new ();
  g_autoptr(GByteArray) sum = g_byte_array_new ();
  MtWsMeter meter;

  /* One frame claiming 2^63 bytes: refused at its header. */
  append_frame (single, TRUE, 0x2, NULL, G_GUINT64_CONSTANT (1) << 63);
  mt_ws_meter_init (&meter, 4 << 20);
  g_assert_cmpuint (mt_ws_meter_feed (&meter, single->data, single->len), ==, 0);
  g_assert_true (mt_ws_meter_exceeded (&meter));

  /* Fragments whose sum would wrap around 64 bits. */
  append_frame (sum, FALSE, 0x2, NULL, 0);
  append_frame (sum, FALSE, 0x0, NULL, G_MAXUINT64 >> 1);
  mt_ws_meter_init (&meter, G_MAXUINT64 - 1);   /* both halves fit exactly */
  g_assert_cmpuint (mt_ws_meter_feed (&meter, sum->data, sum->len), ==, sum->len);
  g_byte_array_set_size (sum, 0);
  append_frame (sum, FALSE, 0x0, NULL, G_MAXUINT64 >> 1);
  meter.payload_left = 0;   /* as if the first payload had gone by */
  g_assert_cmpuint (mt_ws_meter_feed (&meter, sum->data, sum->len), ==, sum->len);
  g_byte_array_set_size (sum, 0);
  append_frame (sum, FALSE, 0x0, NULL, 10);
  meter.payload_left = 0;
  g_assert_cmpuint (mt_ws_meter_feed (&meter, sum->data, sum->len), ==, 0);
  g_assert_true (mt_ws_meter_exceeded (&meter));
}

/* ---- a raw WebSocket client against a real server ------------------------ */

typedef struct {
  MtServer          *server;
  GSocketConnection *connection;
  GCancellable      *cancellable;
  MtTestReader      *reader;      /* data: bytes read, not yet parsed */
  gboolean           writing;
  guint              tick;        /* wakes the waits below to check their deadlines */
  gint64             deadline;    /* 0, or when raw_next_frame() gives up */
} Raw;

static gboolean
keep_waking (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Raw *raw = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  raw->writing = FALSE;
}

/* Written while the main loop runs (the server shares this thread); a
 * server that stops reading leaves the write pending, which is fine. */
static void
raw_write (Raw        *raw,
           GByteArray *bytes)
{
  g_assert_false (raw->writing);
  raw->writing = TRUE;
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (raw->connection)),
                                   bytes->data, bytes->len, G_PRIORITY_DEFAULT, raw->cancellable,
                                   on_written, raw);
}

static void
raw_wait_written (Raw *raw)
{
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (raw->writing && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (raw->writing);
}

/* The next whole frame from the server (unmasked); FALSE at end of stream. */
static gboolean
raw_next_frame (Raw     *raw,
                guint8  *opcode,
                GBytes **payload)
{
  GByteArray *in = raw->reader->data;
  gint64 end = raw->deadline != 0 ? raw->deadline : g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < end)
    {
      if (in->len >= 2)
        {
          const guint8 *head = in->data;
          guint64 length = head[1] & 0x7f;
          guint at = length == 126 ? 4 : 2;

          g_assert_false (head[1] & 0x80);      /* servers do not mask */
          g_assert_cmpuint (length, !=, 127);   /* nor send 64 KiB messages here */
          if (in->len >= at && at == 4)
            length = (head[2] << 8) | head[3];
          if (in->len >= at && in->len >= at + length)
            {
              *opcode = head[0] & 0x0f;
              *payload = g_bytes_new (head + at, length);
              g_byte_array_remove_range (in, 0, at + length);
              return TRUE;
            }
        }
      if (raw->reader->eof)
        return FALSE;
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_not_reached ();
}

/* The next text message; NULL at a close frame or the end (@close_code set). */
static char *
raw_next_text (Raw     *raw,
               gushort *close_code)
{
  guint8 opcode;
  GBytes *payload;

  *close_code = 0;
  while (raw_next_frame (raw, &opcode, &payload))
    {
      g_autoptr(GBytes) owned = payload;
      gsize size;
      const guint8 *data = g_bytes_get_data (owned, &size);

      if (opcode == 0x1)
        return g_strndup ((const char *) data, size);
      if (opcode == 0x8)
        {
          *close_code = size >= 2 ? (data[0] << 8) | data[1] : 1005;
          return NULL;
        }
    }
  return NULL;
}

static Raw *
raw_open (MtServerOptions *options)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *request = NULL;
  Raw *raw = g_new0 (Raw, 1);
  g_autoptr(MtSession) session = mt_session_new (NULL, NULL);
  const char *headers_end = NULL;
  GByteArray *in;

  raw->server = mt_server_new (session, options);
  g_assert_true (mt_server_start (raw->server, &error));
  g_assert_no_error (error);
  address = g_strdup_printf ("127.0.0.1:%u", mt_server_get_port (raw->server));
  raw->connection = mt_test_connect_loopback (mt_server_get_port (raw->server));
  raw->cancellable = g_cancellable_new ();
  raw->tick = g_timeout_add (100, keep_waking, NULL);
  raw->reader = mt_test_reader_new (g_io_stream_get_input_stream (G_IO_STREAM (raw->connection)),
                                    raw->cancellable, NULL);
  in = raw->reader->data;

  /* The token is needed on loopback too (the server made one). */
  request = g_strdup_printf ("GET /api/v1/stream HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n"
                             "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                             address, mt_server_get_token (raw->server));
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (raw->connection)),
                             request, strlen (request), NULL, NULL, &error);
  g_assert_no_error (error);
  while ((in->len == 0 ||
          (headers_end = g_strstr_len ((const char *) in->data, in->len, "\r\n\r\n")) == NULL) &&
         !raw->reader->eof)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (headers_end);
  {
    g_autofree char *headers = g_strndup ((const char *) in->data, headers_end - (const char *) in->data);

    g_assert_true (g_str_has_prefix (headers, "HTTP/1.1 101"));
    /* RFC 6455's own example key and answer. */
    g_assert_nonnull (strstr (headers, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    /* Deflate is never negotiated. */
    g_assert_null (strstr (headers, "deflate"));
    g_byte_array_remove_range (in, 0, headers_end + 4 - (const char *) in->data);
  }
  return raw;
}

static void
raw_close (Raw *raw)
{
  g_cancellable_cancel (raw->cancellable);
  g_io_stream_close (G_IO_STREAM (raw->connection), NULL, NULL);
  mt_test_wait_flag (&raw->reader->eof, 10);
  while (raw->writing)
    g_main_context_iteration (NULL, TRUE);
  g_clear_handle_id (&raw->tick, g_source_remove);
  g_clear_object (&raw->connection);
  g_clear_object (&raw->server);
  g_clear_object (&raw->cancellable);
  mt_test_reader_free (raw->reader);
  g_free (raw);
}

static MtServerOptions *
small_frames_options (void)
{
  MtServerOptions *options = mt_server_options_new ();

  options->port = 0;
  options->n_workers = 1;
  options->max_frame_bytes = 64 * 1024;   /* messages over 128 KiB close the stream */
  options->max_frames_per_second = 1000;
  return options;
}

static void
test_fragmented_frame_is_analyzed (void)
{
  g_autoptr(MtServerOptions) options = small_frames_options ();
  g_autoptr(GBytes) jpeg = mt_test_face_jpeg (60, NULL);
  g_autoptr(GByteArray) frames = g_byte_array_new ();
  g_autofree char *hello = NULL;
  g_autofree char *analysis = NULL;
  const guint8 *data;
  gsize size, third;
  gushort code;
  Raw *raw;

  if (jpeg == NULL)
    {
      g_test_skip ("../shared/media/astronaut.png is missing");
      return;
    }
  data = g_bytes_get_data (jpeg, &size);
  g_assert_cmpuint (size, <, 64 * 1024);
  third = size / 3;
  raw = raw_open (options);
  hello = raw_next_text (raw, &code);
  g_assert_nonnull (strstr (hello, "\"hello\""));

  /* One JPEG in three fragments with a ping between them. */
  append_frame (frames, FALSE, 0x2, data, third);
  append_frame (frames, FALSE, 0x0, data + third, third);
  append_frame (frames, TRUE, 0x9, (const guint8 *) "ping", 4);
  append_frame (frames, TRUE, 0x0, data + 2 * third, size - 2 * third);
  raw_write (raw, frames);
  raw_wait_written (raw);
  do
    {
      g_free (analysis);
      analysis = raw_next_text (raw, &code);
      g_assert_nonnull (analysis);
    }
  while (strstr (analysis, "\"type\":\"analysis\"") == NULL);
  g_assert_null (strstr (analysis, "\"faces\":[]"));
  raw_close (raw);
}

/* Sends @frames on a fresh stream and checks that the server closes it with
 * 1009, with nothing answered for the oversized message, and lets it go. */
static void
assert_closed_too_big (GByteArray *frames)
{
  g_autoptr(MtServerOptions) options = small_frames_options ();
  g_autofree char *hello = NULL;
  char *text;
  gushort code = 0;
  Raw *raw = raw_open (options);
  gint64 end;

  hello = raw_next_text (raw, &code);
  g_assert_nonnull (hello);
  g_assert_cmpuint (mt_server_get_n_streams (raw->server), ==, 1);

  raw_write (raw, frames);
  /* Keepalive pings must not hold the wait open: the close comes at once. */
  raw->deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while ((text = raw_next_text (raw, &code)) != NULL)
    {
      g_assert_null (strstr (text, "\"analysis\""));
      g_free (text);
    }
  g_assert_cmpuint (code, ==, SOUP_WEBSOCKET_CLOSE_TOO_BIG);

  /* The server lets go of the stream (after its close timeout at most). */
  end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (mt_server_get_n_streams (raw->server) > 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (mt_server_get_n_streams (raw->server), ==, 0);
  raw_close (raw);
}

static void
test_fragments_over_limit_close (void)
{
  g_autoptr(GByteArray) frames = g_byte_array_new ();

  /* 64 fragments of 16 KiB, each far under libsoup's per-frame limit, 1 MiB
   * in all: closed once the sum passes 128 KiB. */
  append_zeros (frames, FALSE, 0x2, 16 * 1024);
  for (guint i = 0; i < 62; i++)
    append_zeros (frames, FALSE, 0x0, 16 * 1024);
  append_zeros (frames, TRUE, 0x0, 16 * 1024);
  assert_closed_too_big (frames);
}

static void
test_single_frame_over_limit_closes (void)
{
  g_autoptr(GByteArray) frames = g_byte_array_new ();

  /* A header claiming 1 GiB: refused before any of it is buffered. */
  append_frame (frames, TRUE, 0x2, NULL, 1 << 30);
  assert_closed_too_big (frames);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ws-guard/meter/within-limit", test_meter_within_limit);
  g_test_add_func ("/ws-guard/meter/fragments-over-limit", test_meter_fragments_over_limit);
  g_test_add_func ("/ws-guard/meter/huge-claims", test_meter_huge_claims);
  g_test_add_func ("/ws-guard/server/fragmented-frame-is-analyzed", test_fragmented_frame_is_analyzed);
  g_test_add_func ("/ws-guard/server/fragments-over-limit-close", test_fragments_over_limit_close);
  g_test_add_func ("/ws-guard/server/single-frame-over-limit-closes", test_single_frame_over_limit_closes);

  return g_test_run ();
}
