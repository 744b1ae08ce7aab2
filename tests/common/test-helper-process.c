/* test-helper-process.c: the JSON-lines helper client against a stand-in
 * helper (a few lines of Python) that misbehaves on request. */
#include "config.h"

#include <string.h>
#include <sys/resource.h>
#include <errno.h>

#include "mt-helper-process.h"

/* Each request's "do" says what to do: answer, print a stray line first,
 * fail, crash, hang, send an over-long line or a flood of stray lines.
 * Every answer says the helper's pid, niceness and first argument. */
static const char helper_program[] =
  "import json, os, signal, sys, time\n"
  "out = sys.stdout\n"
  "def say(obj):\n"
  "    out.write(json.dumps(obj) + '\\n'); out.flush()\n"
  "for line in sys.stdin:\n"
  "    req = json.loads(line)\n"
  "    rid, do = req['id'], req.get('do')\n"
  "    if do == 'stray':\n"
  "        out.write('a plugin says hello\\n')\n"
  "        say({'id': rid + 1000, 'ok': True, 'value': 'wrong'})\n"
  "    elif do == 'flood':\n"
  "        for _ in range(100): out.write('noise\\n')\n"
  "        out.flush(); continue\n"
  "    elif do == 'fail':\n"
  "        say({'id': rid, 'ok': False, 'error': 'cannot do that'}); continue\n"
  "    elif do == 'crash':\n"
  "        os.kill(os.getpid(), signal.SIGSEGV)\n"
  "    elif do == 'exit':\n"
  "        sys.exit(3)\n"
  "    elif do == 'hang':\n"
  "        time.sleep(60)\n"
  "    elif do == 'long':\n"
  "        out.write('{\"id\": %d, \"ok\": true, \"value\": \"' % rid + 'x' * 100000 + '\"}\\n'); out.flush()\n"
  "        continue\n"
  "    say({'id': rid, 'ok': True, 'value': req.get('value'), 'pid': os.getpid(), 'nice': os.nice(0),\n"
  "         'arg': sys.argv[1]})\n";

#define MAX_REPLY 4096

typedef struct {
  char   *value;
  char   *arg;
  gint64  pid;
  gint64  nice;
} Reply;

static void
reply_clear (Reply *reply)
{
  g_clear_pointer (&reply->value, g_free);
  g_clear_pointer (&reply->arg, g_free);
  reply->pid = reply->nice = 0;
}

static gboolean
parse_reply (const char  *line,
             gsize        length,
             guint64      expected_id,
             gpointer     data,
             GError     **error)
{
  Reply *reply = data;
  g_autoptr(JsonObject) object = NULL;

  reply_clear (reply);
  return mt_helper_process_parse_envelope (line, length, expected_id, MAX_REPLY, &object, error) &&
         mt_helper_process_reply_get_string (object, "value", &reply->value, error) &&
         mt_helper_process_reply_get_string (object, "arg", &reply->arg, error) &&
         mt_helper_process_reply_get_int (object, "pid", &reply->pid, error) &&
         mt_helper_process_reply_get_int (object, "nice", &reply->nice, error);
}

static MtHelperProcess *
new_helper (void)
{
  g_autofree char *python = g_find_program_in_path ("python3");
  const char *argv[] = { python, "-c", helper_program, "first-arg", NULL };
  MtHelperProcess *helper;

  if (python == NULL)
    return NULL;
  helper = mt_helper_process_new (argv, MAX_REPLY);
  mt_helper_process_set_name (helper, "the test helper", "this thing", NULL);
  return helper;
}

/* Sends {"do": @what, "value": @what}. */
static gboolean
request (MtHelperProcess  *helper,
         const char       *what,
         guint             timeout_s,
         Reply            *reply,
         GError          **error)
{
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_string_member (object, "do", what);
  json_object_set_string_member (object, "value", what);
  return mt_helper_process_request (helper, object, timeout_s, parse_reply, reply, error);
}

#define SKIP_WITHOUT_PYTHON(helper) \
  if ((helper) == NULL) { g_test_skip ("python3 is not on PATH"); return; }

/* A request the helper answers; returns the helper's pid. */
static gint64
answer (MtHelperProcess *helper)
{
  g_autoptr(GError) error = NULL;
  Reply reply = { 0 };
  gint64 pid;

  g_assert_true (request (helper, "answer", 10, &reply, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (reply.value, ==, "answer");
  g_assert_cmpstr (reply.arg, ==, "first-arg");
  pid = reply.pid;
  reply_clear (&reply);
  return pid;
}

/* A request that fails with @code; returns the message. */
static char *
fails (MtHelperProcess *helper,
       const char      *what,
       guint            timeout_s,
       int              code)
{
  g_autoptr(GError) error = NULL;
  Reply reply = { 0 };

  g_assert_false (request (helper, what, timeout_s, &reply, &error));
  g_assert_error (error, MT_HELPER_PROCESS_ERROR, code);
  g_assert_null (reply.value);
  return g_strdup (error->message);
}

static void
test_answers (void)
{
  g_autoptr(MtHelperProcess) helper = new_helper ();
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  Reply reply = { 0 };
  gint64 pid;

  SKIP_WITHOUT_PYTHON (helper);
  pid = answer (helper);

  /* A stray line and a reply to another id are skipped; the helper stays. */
  g_assert_true (request (helper, "stray", 10, &reply, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (reply.value, ==, "stray");
  g_assert_cmpint (reply.pid, ==, pid);
  reply_clear (&reply);

  /* ok: false is the helper's own error, and it stays. */
  message = fails (helper, "fail", 10, MT_HELPER_PROCESS_ERROR_FAILED);
  g_assert_cmpstr (message, ==, "cannot do that");
  g_assert_cmpint (answer (helper), ==, pid);
  g_assert_cmpuint (mt_helper_process_get_n_restarts (helper), ==, 0);

  /* Stopped, it is started again on the next request (not a restart). */
  mt_helper_process_stop (helper);
  g_assert_cmpint (answer (helper), !=, pid);
  g_assert_cmpuint (mt_helper_process_get_n_restarts (helper), ==, 0);
}

static void
test_crash (void)
{
  g_autoptr(MtHelperProcess) helper = new_helper ();
  g_autofree char *killed = NULL;
  g_autofree char *exited = NULL;

  SKIP_WITHOUT_PYTHON (helper);
  killed = fails (helper, "crash", 10, MT_HELPER_PROCESS_ERROR_CRASHED);
  g_assert_cmpstr (killed, ==, "the test helper crashed on this thing (killed by signal 11)");
  g_assert_cmpuint (mt_helper_process_get_n_restarts (helper), ==, 1);
  answer (helper);

  exited = fails (helper, "exit", 10, MT_HELPER_PROCESS_ERROR_CRASHED);
  g_assert_cmpstr (exited, ==, "the test helper crashed on this thing (exit status 3)");
  g_assert_cmpuint (mt_helper_process_get_n_restarts (helper), ==, 2);
  answer (helper);
}

static void
test_timeout (void)
{
  g_autoptr(MtHelperProcess) helper = new_helper ();
  g_autofree char *message = NULL;
  gint64 start;

  SKIP_WITHOUT_PYTHON (helper);
  /* Started first, so that its start-up is not part of the 1 s. */
  answer (helper);
  start = g_get_monotonic_time ();
  message = fails (helper, "hang", 1, MT_HELPER_PROCESS_ERROR_TIMEOUT);
  g_assert_cmpstr (message, ==, "the test helper did not answer within 1 s");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpuint (mt_helper_process_get_n_restarts (helper), ==, 1);
  answer (helper);
}

static void
test_bad_replies (void)
{
  g_autoptr(MtHelperProcess) helper = new_helper ();
  g_autofree char *too_long = NULL;
  g_autofree char *flood = NULL;
  gint64 pid;

  SKIP_WITHOUT_PYTHON (helper);
  pid = answer (helper);

  /* 100 kB of a well-formed reply is cut at 4 KiB: a bad reply, and the
   * helper is replaced. */
  too_long = fails (helper, "long", 10, MT_HELPER_PROCESS_ERROR_BAD_REPLY);
  g_assert_cmpstr (too_long, ==, "the test helper sent a bad reply: the reply is longer than 4 KiB");
  g_assert_cmpuint (mt_helper_process_get_n_restarts (helper), ==, 1);
  g_assert_cmpint (answer (helper), !=, pid);

  /* A flood of lines that are not the reply. */
  flood = fails (helper, "flood", 10, MT_HELPER_PROCESS_ERROR_BAD_REPLY);
  g_assert_cmpstr (flood, ==, "the test helper sent over 64 lines that were not its reply");
  g_assert_cmpuint (mt_helper_process_get_n_restarts (helper), ==, 2);
  answer (helper);
}

static void
test_cannot_start (void)
{
  const char *argv[] = { "/nonexistent/moodtunes-helper", NULL };
  g_autoptr(MtHelperProcess) helper = mt_helper_process_new (argv, MAX_REPLY);
  g_autofree char *message = NULL;

  mt_helper_process_set_name (helper, "the test helper", "this thing", "MT_TEST_HELPER");
  message = fails (helper, "answer", 1, MT_HELPER_PROCESS_ERROR_HELPER);
  g_assert_true (g_str_has_prefix (message, "Cannot start the test helper “/nonexistent/moodtunes-helper”: "));
  g_assert_true (g_str_has_suffix (message, " (set MT_TEST_HELPER to its path)"));
}

static void
test_low_priority (void)
{
  g_autoptr(MtHelperProcess) helper = new_helper ();
  g_autoptr(GError) error = NULL;
  Reply reply = { 0 };
  int own;

  SKIP_WITHOUT_PYTHON (helper);
  errno = 0;
  own = getpriority (PRIO_PROCESS, 0);
  g_assert_cmpint (errno, ==, 0);

  g_assert_true (request (helper, "answer", 10, &reply, &error));
  g_assert_no_error (error);
  g_assert_cmpint (reply.nice, ==, own);

  /* From the next start on. */
  mt_helper_process_set_low_priority (helper, TRUE);
  mt_helper_process_stop (helper);
  g_assert_true (request (helper, "answer", 10, &reply, &error));
  g_assert_no_error (error);
  g_assert_cmpint (reply.nice, ==, MIN (own + 10, 19));
  reply_clear (&reply);
}

static void
test_envelope (void)
{
  struct {
    const char *line;
    int         code;    /* -1: taken */
  } cases[] = {
    { "{\"id\": 3, \"ok\": true, \"x\": 1}", -1 },
    { "{\"id\": 4, \"ok\": true}", MT_HELPER_PROCESS_ERROR_NOT_A_REPLY },
    { "{\"ok\": true}", MT_HELPER_PROCESS_ERROR_NOT_A_REPLY },
    { "hello", MT_HELPER_PROCESS_ERROR_NOT_A_REPLY },
    { "[3]", MT_HELPER_PROCESS_ERROR_NOT_A_REPLY },
    { "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", MT_HELPER_PROCESS_ERROR_NOT_A_REPLY },
    { "{\"id\": 3}", MT_HELPER_PROCESS_ERROR_BAD_REPLY },
    { "{\"id\": 3, \"ok\": false, \"error\": 5}", MT_HELPER_PROCESS_ERROR_BAD_REPLY },
    { "{\"id\": 3, \"ok\": false, \"error\": \"no\"}", MT_HELPER_PROCESS_ERROR_FAILED },
    { "{\"id\": 3, \"ok\": false}", MT_HELPER_PROCESS_ERROR_FAILED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) object = NULL;
      g_autoptr(GError) error = NULL;
      gboolean ok;

      g_test_message ("line %s", cases[i].line);
      ok = mt_helper_process_parse_envelope (cases[i].line, strlen (cases[i].line), 3, 64, &object, &error);
      if (cases[i].code < 0)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpint (json_object_get_int_member (object, "x"), ==, 1);
        }
      else
        {
          g_assert_false (ok);
          g_assert_null (object);
          g_assert_error (error, MT_HELPER_PROCESS_ERROR, cases[i].code);
        }
    }
}

static void
test_find (void)
{
  g_autofree char *build_dir = g_strdup (g_getenv ("MT_BUILD_DIR"));
  g_autofree char *path = NULL;

  g_setenv ("MT_TEST_HELPER", "/from/env", TRUE);
  path = mt_helper_process_find ("MT_TEST_HELPER", "nowhere", "/installed");
  g_assert_cmpstr (path, ==, "/from/env");
  g_clear_pointer (&path, g_free);
  g_unsetenv ("MT_TEST_HELPER");

  /* An executable in the build tree, else the installed path. */
  g_setenv ("MT_BUILD_DIR", "/", TRUE);
  path = mt_helper_process_find ("MT_TEST_HELPER", "bin/sh", "/installed");
  g_assert_cmpstr (path, ==, "/bin/sh");
  g_clear_pointer (&path, g_free);
  path = mt_helper_process_find ("MT_TEST_HELPER", "no/such/helper", "/installed");
  g_assert_cmpstr (path, ==, "/installed");
  if (build_dir != NULL)
    g_setenv ("MT_BUILD_DIR", build_dir, TRUE);
  else
    g_unsetenv ("MT_BUILD_DIR");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/helper-process/answers", test_answers);
  g_test_add_func ("/helper-process/crash", test_crash);
  g_test_add_func ("/helper-process/timeout", test_timeout);
  g_test_add_func ("/helper-process/bad-replies", test_bad_replies);
  g_test_add_func ("/helper-process/cannot-start", test_cannot_start);
  g_test_add_func ("/helper-process/low-priority", test_low_priority);
  g_test_add_func ("/helper-process/envelope", test_envelope);
  g_test_add_func ("/helper-process/find", test_find);
  return g_test_run ();
}
