/* The library database, the mood vocabulary and the data files. */
#include "config.h"

#include <math.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "mt-audio-moods.h"
#include "mt-library.h"
#include "mt-mood-rules.h"
#include "mt-mood-strategies.h"
#include "mt-test-music.h"

typedef struct {
  char      *dir;
  MtLibrary *library;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = mt_test_make_temp_dir ();
  f->library = mt_test_open_library (f->dir);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->library);
  mt_test_rmdir (f->dir);
  g_free (f->dir);
}

static gint64
add_song (MtLibrary  *library,
          const char *uri,
          const char *title,
          const char *artist)
{
  return mt_test_add_song (library, uri, title, artist, 180000);
}

static gint64
query_int (const char *path,
           const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static void
test_mood_names (void)
{
  MtMood mood = MT_MOOD_NONE;

  g_assert_cmpstr (mt_mood_to_string (MT_MOOD_ANGRY), ==, "angry");
  g_assert_cmpstr (mt_mood_to_string (MT_MOOD_NEUTRAL), ==, "neutral");
  g_assert_null (mt_mood_to_string (MT_MOOD_NONE));
  g_assert_null (mt_mood_to_string ((MtMood) 7));
  for (int i = 0; i < MT_N_MOODS; i++)
    {
      g_assert_true (mt_mood_from_string (mt_mood_to_string (i), &mood));
      g_assert_cmpint (mood, ==, i);
    }
  g_assert_true (mt_mood_from_string ("  Happy ", &mood));
  g_assert_cmpint (mood, ==, MT_MOOD_HAPPY);
  mood = MT_MOOD_SAD;
  g_assert_false (mt_mood_from_string ("calm", &mood));
  g_assert_false (mt_mood_from_string ("", &mood));
  g_assert_false (mt_mood_from_string (NULL, &mood));
  g_assert_cmpint (mood, ==, MT_MOOD_SAD);
}

static void
test_schema (Fixture *f, gconstpointer data)
{
  const char *path = mt_library_get_path (f->library);
  g_autoptr(GError) error = NULL;
  g_autoptr(MtLibrary) again = NULL;
  g_autofree char *integrity = NULL;

  g_assert_cmpint (mt_library_get_schema_version (f->library), ==, MT_LIBRARY_SCHEMA_VERSION);
  g_assert_cmpint (query_int (path, "PRAGMA user_version"), ==, MT_LIBRARY_SCHEMA_VERSION);
  /* WAL is a property of the file, seen by any connection. */
  {
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }
  /* Opening again does not migrate again. */
  again = mt_library_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mt_library_get_schema_version (again), ==, MT_LIBRARY_SCHEMA_VERSION);
  integrity = mt_library_check_integrity (again, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (integrity, ==, "ok");
}

/* A database as Moodtunes' schema version 1 left it. */
static const char v1_database[] =
  "CREATE TABLE songs (id INTEGER PRIMARY KEY, uri TEXT NOT NULL UNIQUE,"
  "  title TEXT, artist TEXT, album TEXT, genre TEXT, duration_ms INTEGER NOT NULL DEFAULT 0,"
  "  track INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL DEFAULT 0, mtime INTEGER NOT NULL DEFAULT 0,"
  "  added_at INTEGER NOT NULL DEFAULT 0, last_played INTEGER NOT NULL DEFAULT 0,"
  "  play_count INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE song_moods (song_id INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,"
  "  mood INTEGER NOT NULL CHECK (mood BETWEEN 0 AND 6), source INTEGER NOT NULL CHECK (source BETWEEN 0 AND 2),"
  "  weight REAL NOT NULL, PRIMARY KEY (song_id, mood, source)) WITHOUT ROWID;"
  "CREATE TABLE mood_scores (song_id INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,"
  "  mood INTEGER NOT NULL CHECK (mood BETWEEN 0 AND 6), score REAL NOT NULL,"
  "  PRIMARY KEY (song_id, mood)) WITHOUT ROWID;"
  "CREATE INDEX mood_scores_by_mood ON mood_scores (mood, score DESC);"
  "CREATE TABLE events (id INTEGER PRIMARY KEY, song_id INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,"
  "  at INTEGER NOT NULL, kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 3),"
  "  mood INTEGER CHECK (mood IS NULL OR mood BETWEEN 0 AND 6));"
  "CREATE INDEX events_by_song ON events (song_id, at);"
  "INSERT INTO songs (id, uri, title) VALUES (7, 'file:///old/song.ogg', 'Old Song');"
  "INSERT INTO song_moods VALUES (7, 3, 0, 0.7), (7, 4, 1, 0.4);"
  "INSERT INTO mood_scores VALUES (7, 3, 0.7), (7, 4, 0.4);"
  "INSERT INTO events (song_id, at, kind, mood) VALUES (7, 100, 2, 3);"
  "PRAGMA user_version = 1;";

static void
test_migration_from_v1 (void)
{
  g_autofree char *dir = mt_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "v1.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(MtSong) song = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, v1_database, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  library = mt_library_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mt_library_get_schema_version (library), ==, MT_LIBRARY_SCHEMA_VERSION);
  song = mt_library_get_song (library, 7, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (song->title, ==, "Old Song");
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_HAPPY], 0.7, 1e-9);
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_SAD], 0.4, 1e-9);
  g_assert_cmpint (mt_library_count_feedback (library, 7, MT_FEEDBACK_LIKED, NULL), ==, 1);
  g_assert_cmpint (song->missing_since, ==, 0);
  g_clear_object (&library);
  mt_test_rmdir (dir);
}

/* Opens @path in @n_children processes at the same moment (they wait on one
 * pipe that the parent closes) and asserts each open succeeded. */
static void
open_at_once (const char *path,
              guint       n_children)
{
  pid_t children[8];
  int gate[2];

  g_assert_cmpuint (n_children, <=, G_N_ELEMENTS (children));
  g_assert_cmpint (pipe (gate), ==, 0);
  for (guint i = 0; i < n_children; i++)
    {
      children[i] = fork ();
      g_assert_cmpint (children[i], >=, 0);
      if (children[i] == 0)
        {
          g_autoptr(GError) error = NULL;
          MtLibrary *library;
          char byte;

          close (gate[1]);
          if (read (gate[0], &byte, 1) != 0)
            _exit (3);
          library = mt_library_open (path, &error);
          if (library == NULL)
            {
              g_printerr ("child %u: %s\n", i, error->message);
              _exit (1);
            }
          if (mt_library_get_schema_version (library) != MT_LIBRARY_SCHEMA_VERSION)
            _exit (2);
          g_object_unref (library);
          _exit (0);
        }
    }
  close (gate[0]);
  close (gate[1]);   /* every child's read() returns now */
  for (guint i = 0; i < n_children; i++)
    {
      int status = 0;

      g_assert_cmpint (waitpid (children[i], &status, 0), ==, children[i]);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }
}

/* The app and moodtunes-server may open a new or old database at the same
 * time: each migration step must run once, never twice ("table songs already
 * exists", "duplicate column"). */
static void
test_concurrent_open (void)
{
  g_autofree char *dir = mt_test_make_temp_dir ();
  gint64 columns = -1;

  for (guint trial = 0; trial < 60; trial++)
    {
      g_autofree char *path = g_strdup_printf ("%s/trial-%u.db", dir, trial);
      g_autoptr(MtLibrary) library = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *integrity = NULL;
      gint64 n_columns;

      /* Even trials: a new database; odd ones: a version 1 database. */
      if (trial % 2 == 1)
        {
          sqlite3 *db = NULL;
          g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
          g_assert_cmpint (sqlite3_exec (db, v1_database, NULL, NULL, NULL), ==, SQLITE_OK);
          sqlite3_close (db);
        }
      open_at_once (path, 3);

      library = mt_library_open (path, &error);
      g_assert_no_error (error);
      g_assert_cmpint (mt_library_get_schema_version (library), ==, MT_LIBRARY_SCHEMA_VERSION);
      integrity = mt_library_check_integrity (library, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (integrity, ==, "ok");
      n_columns = query_int (path, "SELECT count(*) FROM pragma_table_info('songs')");
      if (columns < 0)
        columns = n_columns;
      g_assert_cmpint (n_columns, ==, columns);
      if (trial % 2 == 1)
        {
          g_autoptr(MtSong) song = mt_library_get_song (library, 7, &error);
          g_assert_no_error (error);
          g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_HAPPY], 0.7, 1e-9);
          g_assert_cmpint (mt_library_count_feedback (library, 7, MT_FEEDBACK_LIKED, NULL), ==, 1);
        }
    }
  mt_test_rmdir (dir);
}

static void
test_too_new_and_not_a_database (void)
{
  g_autofree char *dir = mt_test_make_temp_dir ();
  g_autofree char *newer = g_build_filename (dir, "newer.db", NULL);
  g_autofree char *garbage = g_build_filename (dir, "garbage.db", NULL);
  g_autoptr(GError) error = NULL;
  MtLibrary *library;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (newer, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  library = mt_library_open (newer, &error);
  g_assert_null (library);
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "newer"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (garbage, "this is not a database, just text that is long enough "
                                      "to fill a header of one hundred bytes or so, surely", -1, NULL));
  library = mt_library_open (garbage, &error);
  g_assert_null (library);
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_DATABASE);
  g_assert_nonnull (strstr (error->message, garbage));

  mt_test_rmdir (dir);
}

static void
test_songs (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtSong) song = NULL;
  g_autoptr(GPtrArray) songs = NULL;
  gint64 a, b, again;

  a = add_song (f->library, "file:///music/b.ogg", "Beta", "Zed");
  b = add_song (f->library, "file:///music/a.ogg", NULL, "Alpha");
  g_assert_cmpint (mt_library_count_songs (f->library, &error), ==, 2);

  /* The same uri is the same song: updated, same id. */
  again = add_song (f->library, "file:///music/b.ogg", "Beta (remaster)", "Zed");
  g_assert_cmpint (again, ==, a);
  g_assert_cmpint (mt_library_count_songs (f->library, &error), ==, 2);

  song = mt_library_get_song (f->library, a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (song->title, ==, "Beta (remaster)");
  g_assert_cmpstr (song->artist, ==, "Zed");
  g_assert_cmpint (song->duration_ms, ==, 180000);

  songs = mt_library_list_songs (f->library, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (songs->len, ==, 2);
  g_assert_cmpint (((MtSong *) g_ptr_array_index (songs, 0))->id, ==, b);   /* Alpha before Zed */
  {
    g_autofree char *title = mt_song_dup_display_title (g_ptr_array_index (songs, 0));
    g_assert_cmpstr (title, ==, "a.ogg");
  }

  g_assert_true (mt_library_remove_song (f->library, a, &error));
  g_assert_null (mt_library_get_song (f->library, a, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_clear_pointer (&song, mt_song_free);
  song = mt_song_new ();
  g_assert_cmpint (mt_library_add_song (f->library, song, &error), ==, 0);
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID);
}

static void
test_mood_weights (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtSong) song = NULL;
  double rule[MT_N_MOODS] = { NAN, NAN, NAN, 0.8, 0.1, NAN, 0.4 };
  double read[MT_N_MOODS];
  double bad[MT_N_MOODS] = { 1.5, NAN, NAN, NAN, NAN, NAN, NAN };
  gint64 id = add_song (f->library, "file:///music/x.ogg", "X", "Y");

  g_assert_true (mt_library_set_mood_weights (f->library, id, MT_MOOD_SOURCE_RULE, rule, &error));
  g_assert_no_error (error);
  song = mt_library_get_song (f->library, id, &error);
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_HAPPY], 0.8, 1e-9);
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_SAD], 0.1, 1e-9);
  g_assert_cmpfloat (song->moods[MT_MOOD_ANGRY], ==, 0.0);
  g_assert_cmpint (mt_song_get_main_mood (song), ==, MT_MOOD_HAPPY);

  g_assert_true (mt_library_get_mood_weights (f->library, id, MT_MOOD_SOURCE_RULE, read, &error));
  g_assert_true (isnan (read[MT_MOOD_ANGRY]));
  g_assert_cmpfloat_with_epsilon (read[MT_MOOD_NEUTRAL], 0.4, 1e-9);

  /* The user's word replaces the rule's for that mood only. */
  g_assert_true (mt_library_set_user_mood (f->library, id, MT_MOOD_HAPPY, 0.2, &error));
  g_assert_true (mt_library_set_user_mood (f->library, id, MT_MOOD_SAD, 0.9, &error));
  g_clear_pointer (&song, mt_song_free);
  song = mt_library_get_song (f->library, id, &error);
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_HAPPY], 0.2, 1e-9);
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_SAD], 0.9, 1e-9);
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_NEUTRAL], 0.4, 1e-9);
  g_assert_cmpint (mt_song_get_main_mood (song), ==, MT_MOOD_SAD);

  g_assert_false (mt_library_set_user_mood (f->library, id, MT_MOOD_SAD, 1.2, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (mt_library_set_mood_weights (f->library, id, MT_MOOD_SOURCE_RULE, bad, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (mt_library_set_user_mood (f->library, 9999, MT_MOOD_SAD, 0.5, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND);
}

static void
test_feedback_learning (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtSong) song = NULL;
  double rule[MT_N_MOODS] = { NAN, NAN, NAN, 0.5, 0.5, NAN, NAN };
  double learned[MT_N_MOODS];
  gint64 id = add_song (f->library, "file:///music/l.ogg", "L", "M");

  g_assert_true (mt_library_set_mood_weights (f->library, id, MT_MOOD_SOURCE_RULE, rule, &error));

  /* Skipped twice while happy, liked once while sad. */
  g_assert_true (mt_library_add_feedback (f->library, id, MT_FEEDBACK_SKIPPED, MT_MOOD_HAPPY, 1000, &error));
  g_assert_true (mt_library_add_feedback (f->library, id, MT_FEEDBACK_SKIPPED, MT_MOOD_HAPPY, 2000, &error));
  g_assert_true (mt_library_add_feedback (f->library, id, MT_FEEDBACK_LIKED, MT_MOOD_SAD, 3000, &error));
  g_assert_true (mt_library_add_feedback (f->library, id, MT_FEEDBACK_PLAYED, MT_MOOD_NONE, 4000, &error));
  g_assert_no_error (error);

  g_assert_true (mt_library_get_mood_weights (f->library, id, MT_MOOD_SOURCE_LEARNED, learned, &error));
  g_assert_cmpfloat_with_epsilon (learned[MT_MOOD_HAPPY], 2 * mt_feedback_get_learning_step (MT_FEEDBACK_SKIPPED), 1e-9);
  g_assert_cmpfloat_with_epsilon (learned[MT_MOOD_SAD], mt_feedback_get_learning_step (MT_FEEDBACK_LIKED), 1e-9);
  g_assert_true (isnan (learned[MT_MOOD_ANGRY]));

  song = mt_library_get_song (f->library, id, &error);
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_HAPPY], 0.5 - 0.2, 1e-9);
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_SAD], 0.5 + 0.25, 1e-9);
  /* played and skipped mark the song as heard (recency); only played counts. */
  g_assert_cmpint (song->last_played, ==, 4000);
  g_assert_cmpint (song->play_count, ==, 1);
  g_assert_cmpint (mt_library_count_feedback (f->library, id, MT_FEEDBACK_SKIPPED, &error), ==, 2);
  g_assert_cmpint (mt_library_count_feedback (f->library, id, MT_FEEDBACK_DISLIKED, &error), ==, 0);

  /* Learning saturates: the effective weight stays in 0..1. */
  for (int i = 0; i < 10; i++)
    g_assert_true (mt_library_add_feedback (f->library, id, MT_FEEDBACK_DISLIKED, MT_MOOD_HAPPY, 5000 + i, &error));
  g_clear_pointer (&song, mt_song_free);
  song = mt_library_get_song (f->library, id, &error);
  g_assert_cmpfloat (song->moods[MT_MOOD_HAPPY], ==, 0.0);
  g_assert_true (mt_library_get_mood_weights (f->library, id, MT_MOOD_SOURCE_LEARNED, learned, &error));
  g_assert_cmpfloat (learned[MT_MOOD_HAPPY], ==, -1.0);
  /* and one like after that still counts from -1 */
  g_assert_true (mt_library_add_feedback (f->library, id, MT_FEEDBACK_LIKED, MT_MOOD_HAPPY, 6000, &error));
  g_assert_true (mt_library_get_mood_weights (f->library, id, MT_MOOD_SOURCE_LEARNED, learned, &error));
  g_assert_cmpfloat_with_epsilon (learned[MT_MOOD_HAPPY], -0.75, 1e-9);

  g_assert_false (mt_library_add_feedback (f->library, 424242, MT_FEEDBACK_LIKED, MT_MOOD_SAD, 1, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND);
}

static void
test_cascade (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *path = mt_library_get_path (f->library);
  double rule[MT_N_MOODS] = { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 };
  gint64 id = add_song (f->library, "file:///music/c.ogg", "C", "D");

  g_assert_true (mt_library_set_mood_weights (f->library, id, MT_MOOD_SOURCE_RULE, rule, &error));
  g_assert_true (mt_library_add_feedback (f->library, id, MT_FEEDBACK_LIKED, MT_MOOD_SAD, 1, &error));
  g_assert_true (mt_library_set_audio_features (f->library, id, 1, 1, 1, "{}", 1, 1, 1, &error));
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM events"), ==, 1);
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM song_audio"), ==, 1);
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM mood_scores"), ==, MT_N_MOODS);
  g_assert_true (mt_library_remove_song (f->library, id, &error));
  /* Foreign keys are on: a song's moods and history go with it. */
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM events"), ==, 0);
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM song_moods"), ==, 0);
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM mood_scores"), ==, 0);
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM song_audio"), ==, 0);
}

/* A song whose file is gone is kept with its history, marked missing since
 * the first time it was found gone, and not offered for a mood; forgetting
 * removes only the songs missing long enough. */
static void
test_missing_songs (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtSong) song = NULL;
  g_autoptr(GPtrArray) top = NULL;
  double rule[MT_N_MOODS] = { NAN, NAN, NAN, 0.8, NAN, NAN, NAN };
  gint64 old = add_song (f->library, "file:///music/old.ogg", "Old", "A");
  gint64 recent = add_song (f->library, "file:///music/recent.ogg", "Recent", "B");
  gint64 here = add_song (f->library, "file:///music/here.ogg", "Here", "C");

  for (gint64 id = old; id <= here; id++)
    g_assert_true (mt_library_set_mood_weights (f->library, id, MT_MOOD_SOURCE_RULE, rule, &error));
  g_assert_true (mt_library_add_feedback (f->library, old, MT_FEEDBACK_LIKED, MT_MOOD_HAPPY, 1, &error));
  g_assert_cmpint (mt_library_count_missing (f->library, &error), ==, 0);

  g_assert_true (mt_library_set_missing (f->library, old, 2000, &error));
  g_assert_true (mt_library_set_missing (f->library, old, 3000, &error));   /* keeps the first */
  g_assert_true (mt_library_set_missing (f->library, recent, 5000, &error));
  g_assert_no_error (error);
  g_assert_false (mt_library_set_missing (f->library, 999, 1, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND);
  g_clear_error (&error);

  song = mt_library_get_song (f->library, old, &error);
  g_assert_cmpint (song->missing_since, ==, 2000);
  g_assert_cmpint (mt_library_count_missing (f->library, NULL), ==, 2);
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, 3);
  top = mt_library_top_for_mood (f->library, MT_MOOD_HAPPY, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (top->len, ==, 1);
  g_assert_cmpint (((MtSong *) top->pdata[0])->id, ==, here);
  g_assert_cmpint (mt_library_count_feedback (f->library, old, MT_FEEDBACK_LIKED, NULL), ==, 1);

  /* Found again. */
  g_assert_true (mt_library_set_missing (f->library, recent, 0, &error));
  g_clear_pointer (&top, g_ptr_array_unref);
  top = mt_library_top_for_mood (f->library, MT_MOOD_HAPPY, 10, &error);
  g_assert_cmpuint (top->len, ==, 2);
  g_assert_true (mt_library_set_missing (f->library, recent, 5000, &error));

  g_assert_cmpint (mt_library_forget_missing (f->library, 1999, &error), ==, 0);
  g_assert_cmpint (mt_library_forget_missing (f->library, 4000, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_null (mt_library_get_song (f->library, old, NULL));
  g_assert_cmpint (query_int (mt_library_get_path (f->library), "SELECT count(*) FROM events"), ==, 0);
  g_assert_cmpint (mt_library_forget_missing (f->library, G_MAXINT64, &error), ==, 1);
  g_assert_cmpint (mt_library_count_songs (f->library, NULL), ==, 1);
  g_assert_cmpint (mt_library_count_missing (f->library, NULL), ==, 0);
}

static void
test_top_for_mood_uses_index (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *plan = NULL;
  g_autoptr(GPtrArray) top = NULL;

  for (int i = 0; i < 5; i++)
    {
      g_autofree char *uri = g_strdup_printf ("file:///music/%d.ogg", i);
      double rule[MT_N_MOODS] = { NAN, NAN, NAN, 0.1 * i, NAN, NAN, NAN };
      gint64 id = add_song (f->library, uri, uri, "A");
      g_assert_true (mt_library_set_mood_weights (f->library, id, MT_MOOD_SOURCE_RULE, rule, &error));
    }
  top = mt_library_top_for_mood (f->library, MT_MOOD_HAPPY, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (top->len, ==, 3);
  g_assert_cmpfloat_with_epsilon (((MtSong *) top->pdata[0])->score, 0.4, 1e-9);
  g_assert_cmpfloat_with_epsilon (((MtSong *) top->pdata[2])->score, 0.2, 1e-9);

  plan = mt_library_explain_top_for_mood (f->library, &error);
  g_assert_no_error (error);
  g_test_message ("%s", plan);
  g_assert_nonnull (strstr (plan, "mood_scores_by_mood"));
  g_assert_null (strstr (plan, "SCAN"));
  g_assert_null (strstr (plan, "TEMP B-TREE"));
}

/* A database as schema version 3 left it: version 4 only added song_audio
 * and 5 mood_history, so a current one without them, marked 3, is exactly
 * that. */
static void
test_migration_from_v3 (void)
{
  g_autofree char *dir = mt_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "v3.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(MtSong) song = NULL;
  double rule[MT_N_MOODS] = { NAN, NAN, NAN, 0.7, NAN, NAN, 0.3 };
  gint64 id, gone;
  sqlite3 *db = NULL;

  library = mt_library_open (path, &error);
  g_assert_no_error (error);
  id = add_song (library, "file:///old/song.ogg", "Old Song", "Old Artist");
  gone = add_song (library, "file:///old/gone.ogg", "Gone", "Old Artist");
  g_assert_true (mt_library_set_mood_weights (library, id, MT_MOOD_SOURCE_RULE, rule, &error));
  g_assert_true (mt_library_set_user_mood (library, id, MT_MOOD_SAD, 0.4, &error));
  g_assert_true (mt_library_add_feedback (library, id, MT_FEEDBACK_PLAYED, MT_MOOD_HAPPY, 100, &error));
  g_assert_true (mt_library_set_missing (library, gone, 500, &error));
  g_assert_no_error (error);
  g_clear_object (&library);

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "DROP TABLE song_audio; DROP TABLE mood_history; PRAGMA user_version = 3;",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM sqlite_schema WHERE name = 'song_audio'"), ==, 0);

  library = mt_library_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mt_library_get_schema_version (library), ==, MT_LIBRARY_SCHEMA_VERSION);
  g_assert_cmpint (mt_library_count_songs (library, NULL), ==, 2);
  song = mt_library_get_song (library, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (song->title, ==, "Old Song");
  g_assert_cmpstr (song->artist, ==, "Old Artist");
  g_assert_cmpint (song->duration_ms, ==, 180000);
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_HAPPY], 0.7 + 0.05, 1e-9);
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_SAD], 0.4, 1e-9);
  g_assert_cmpfloat_with_epsilon (song->moods[MT_MOOD_NEUTRAL], 0.3, 1e-9);
  g_assert_cmpint (song->play_count, ==, 1);
  g_assert_cmpint (song->last_played, ==, 100);
  g_assert_true (isnan (song->valence) && isnan (song->arousal) && isnan (song->tempo) && isnan (song->loudness));
  g_assert_cmpint (mt_library_count_feedback (library, id, MT_FEEDBACK_PLAYED, NULL), ==, 1);
  g_assert_cmpint (mt_library_count_missing (library, NULL), ==, 1);
  g_clear_pointer (&song, mt_song_free);
  song = mt_library_get_song (library, gone, &error);
  g_assert_cmpint (song->missing_since, ==, 500);
  /* The new table is there and usable. */
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM song_audio"), ==, 0);
  g_assert_true (mt_library_set_audio_features (library, id, 1, 2, 1, "{\"x\": 1}", 100, -10, 1000, &error));
  g_assert_no_error (error);
  g_clear_object (&library);
  mt_test_rmdir (dir);
}

static gint64
add_file (MtLibrary  *library,
          const char *uri,
          gint64      size,
          gint64      mtime)
{
  g_autoptr(MtSong) song = mt_song_new ();
  g_autoptr(GError) error = NULL;
  gint64 id;

  song->uri = g_strdup (uri);
  song->size = size;
  song->mtime = mtime;
  id = mt_library_add_song (library, song, &error);
  g_assert_no_error (error);
  return id;
}

static MtAudioState
audio_state (MtLibrary *library,
             gint64     id)
{
  g_autoptr(GError) error = NULL;
  MtAudioState state = -1;

  g_assert_true (mt_library_get_audio_state (library, id, &state, NULL, &error));
  g_assert_no_error (error);
  return state;
}

static const double some_weights[MT_N_MOODS] = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7 };

static void
test_audio_features (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtSong) song = NULL;
  g_autofree char *reason = NULL;
  gint64 id = add_file (f->library, "file:///music/a.ogg", 1000, 50);
  const char * const bad_features[] = { "nope", "[1, 2]", "{\"a\": \"x\"}", "{\"a\": [1]}", "{\"a\": null}" };

  /* Not analysed: NAN, never a made-up 0. */
  song = mt_library_get_song (f->library, id, &error);
  g_assert_true (isnan (song->valence) && isnan (song->arousal) && isnan (song->tempo) && isnan (song->loudness));
  g_assert_cmpint (audio_state (f->library, id), ==, MT_AUDIO_STATE_NONE);
  g_assert_null (mt_library_get_audio_failure (f->library, id, &error));
  g_assert_no_error (error);

  g_assert_true (mt_library_set_audio_features (f->library, id, 1000, 50, 1, "{\"a\": 1, \"b\": -2.5}",
                                                121.5, -14.25, 30000, &error));
  g_assert_no_error (error);
  g_assert_cmpint (audio_state (f->library, id), ==, MT_AUDIO_STATE_ANALYSED);
  g_clear_pointer (&song, mt_song_free);
  song = mt_library_get_song (f->library, id, &error);
  g_assert_cmpfloat (song->tempo, ==, 121.5);
  g_assert_cmpfloat (song->loudness, ==, -14.25);
  g_assert_true (isnan (song->valence) && isnan (song->arousal));   /* no model yet */
  g_assert_cmpint (query_int (mt_library_get_path (f->library),
                              "SELECT duration_analysed_ms FROM song_audio"), ==, 30000);

  g_assert_true (mt_library_set_audio_mood (f->library, id, "m1", 0.5, -0.25, some_weights, 0.3, &error));
  g_assert_no_error (error);
  g_clear_pointer (&song, mt_song_free);
  song = mt_library_get_song (f->library, id, &error);
  g_assert_cmpfloat (song->valence, ==, 0.5);
  g_assert_cmpfloat (song->arousal, ==, -0.25);
  /* The list and a mood's best songs carry them too. */
  {
    g_autoptr(GPtrArray) songs = mt_library_list_songs (f->library, &error);
    g_autoptr(GPtrArray) top = mt_library_top_for_mood (f->library, MT_MOOD_SAD, 5, &error);
    g_autoptr(MtSong) copy = mt_song_copy (song);
    g_assert_cmpfloat (((MtSong *) songs->pdata[0])->arousal, ==, -0.25);
    g_assert_cmpfloat (((MtSong *) top->pdata[0])->tempo, ==, 121.5);
    g_assert_cmpfloat (copy->valence, ==, 0.5);
  }

  /* Unknown tempo and loudness stay unknown. */
  g_assert_true (mt_library_set_audio_features (f->library, id, 1000, 50, 1, "{}", NAN, NAN, 0, &error));
  g_clear_pointer (&song, mt_song_free);
  song = mt_library_get_song (f->library, id, &error);
  g_assert_true (isnan (song->tempo) && isnan (song->loudness));
  /* New features: the old model output is gone. */
  g_assert_true (isnan (song->valence));
  g_assert_cmpfloat (song->moods[MT_MOOD_NEUTRAL], ==, 0.0);

  for (guint i = 0; i < G_N_ELEMENTS (bad_features); i++)
    {
      g_assert_false (mt_library_set_audio_features (f->library, id, 1, 1, 1, bad_features[i], 1, 1, 1, &error));
      g_test_message ("%s -> %s", bad_features[i], error->message);
      g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID);
      g_clear_error (&error);
    }
  g_assert_false (mt_library_set_audio_features (f->library, 9999, 1, 1, 1, "{}", 1, 1, 1, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Model output is checked, and needs analysed features. */
  g_assert_false (mt_library_set_audio_mood (f->library, id, "m1", 1.5, 0, some_weights, 0.3, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (mt_library_set_audio_mood (f->library, id, "m1", 0, NAN, some_weights, 0.3, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID);
  g_clear_error (&error);
  {
    double bad[MT_N_MOODS] = { 0, 0, 0, 0, 0, 0, 1.01 };
    g_assert_false (mt_library_set_audio_mood (f->library, id, "m1", 0, 0, bad, 0.3, &error));
    g_assert_nonnull (strstr (error->message, "neutral"));
    g_clear_error (&error);
  }
  g_assert_false (mt_library_set_audio_mood (f->library, id, "m1", 0, 0, some_weights, -0.1, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (mt_library_set_audio_mood (f->library, id, "", 0, 0, some_weights, 0.3, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID);
  g_clear_error (&error);

  /* A failure is kept with its reason; its features and model output go. */
  g_assert_true (mt_library_set_audio_mood (f->library, id, "m1", 0.5, 0.5, some_weights, 0.3, &error));
  g_assert_true (mt_library_set_audio_failed (f->library, id, 1000, 50, 1, "not an audio file", &error));
  g_assert_no_error (error);
  g_assert_cmpint (audio_state (f->library, id), ==, MT_AUDIO_STATE_FAILED);
  reason = mt_library_get_audio_failure (f->library, id, &error);
  g_assert_cmpstr (reason, ==, "not an audio file");
  g_clear_pointer (&song, mt_song_free);
  song = mt_library_get_song (f->library, id, &error);
  g_assert_true (isnan (song->valence) && isnan (song->tempo));
  g_assert_cmpfloat (song->moods[MT_MOOD_NEUTRAL], ==, 0.0);
  g_assert_false (mt_library_set_audio_mood (f->library, id, "m1", 0, 0, some_weights, 0.3, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (mt_library_get_audio_failure (f->library, 9999, &error));
  g_assert_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Analysed again: no longer failed. */
  g_assert_true (mt_library_set_audio_features (f->library, id, 1000, 50, 2, "{}", 90, -20, 1, &error));
  g_assert_cmpint (audio_state (f->library, id), ==, MT_AUDIO_STATE_ANALYSED);
  g_assert_null (mt_library_get_audio_failure (f->library, id, &error));
  g_assert_no_error (error);
}

static void
changed_file (MtLibrary *library,
              gint64     id,
              gint64     size,
              gint64     mtime)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtSong) song = mt_library_get_song (library, id, &error);

  song->size = size;
  song->mtime = mtime;
  g_assert_true (mt_library_update_song (library, song, &error));
  g_assert_no_error (error);
}

static void
assert_pending (MtLibrary    *library,
                int           features_version,
                guint         limit,
                const gint64 *expected,
                guint         n_expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pending = mt_library_list_audio_pending (library, features_version, limit, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (pending->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    {
      MtSong *song = pending->pdata[i];
      g_assert_cmpint (song->id, ==, expected[i]);
      g_assert_nonnull (song->uri);
    }
}

static void
test_audio_pending (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 fresh = add_file (f->library, "file:///music/fresh.ogg", 100, 10);
  gint64 done = add_file (f->library, "file:///music/done.ogg", 200, 20);
  gint64 resized = add_file (f->library, "file:///music/resized.ogg", 300, 30);
  gint64 touched = add_file (f->library, "file:///music/touched.ogg", 400, 40);
  gint64 old_features = add_file (f->library, "file:///music/old-features.ogg", 500, 50);
  gint64 failed = add_file (f->library, "file:///music/failed.ogg", 600, 60);
  gint64 failed_changed = add_file (f->library, "file:///music/failed-changed.ogg", 700, 70);
  gint64 missing = add_file (f->library, "file:///music/missing.ogg", 800, 80);
  gint64 missing_done = add_file (f->library, "file:///music/missing-done.ogg", 900, 90);
  const gint64 all[] = { fresh, done, resized, touched, old_features, failed, failed_changed };
  const gint64 expected[] = { fresh, resized, touched, old_features, failed_changed };
  gint64 analysed = -1, n_failed = -1, pending = -1;

  g_assert_true (mt_library_set_missing (f->library, missing, 1000, &error));
  g_assert_true (mt_library_set_missing (f->library, missing_done, 1000, &error));
  assert_pending (f->library, 3, 0, all, G_N_ELEMENTS (all));   /* missing songs left out */

  g_assert_true (mt_library_set_audio_features (f->library, done, 200, 20, 3, "{}", 1, 1, 1, &error));
  g_assert_true (mt_library_set_audio_features (f->library, resized, 300, 30, 3, "{}", 1, 1, 1, &error));
  g_assert_true (mt_library_set_audio_features (f->library, touched, 400, 40, 3, "{}", 1, 1, 1, &error));
  g_assert_true (mt_library_set_audio_features (f->library, old_features, 500, 50, 2, "{}", 1, 1, 1, &error));
  g_assert_true (mt_library_set_audio_failed (f->library, failed, 600, 60, 3, "truncated", &error));
  g_assert_true (mt_library_set_audio_failed (f->library, failed_changed, 700, 70, 3, "truncated", &error));
  g_assert_true (mt_library_set_audio_features (f->library, missing_done, 900, 90, 3, "{}", 1, 1, 1, &error));
  g_assert_no_error (error);
  changed_file (f->library, resized, 301, 30);
  changed_file (f->library, touched, 400, 41);
  changed_file (f->library, failed_changed, 700, 71);   /* a new file may decode */

  assert_pending (f->library, 3, 0, expected, G_N_ELEMENTS (expected));
  assert_pending (f->library, 3, 2, expected, 2);
  g_assert_true (mt_library_count_audio (f->library, 3, &analysed, &n_failed, &pending, &error));
  g_assert_no_error (error);
  g_assert_cmpint (analysed, ==, 1);
  g_assert_cmpint (n_failed, ==, 1);
  g_assert_cmpint (pending, ==, G_N_ELEMENTS (expected));

  /* New features: everything there is analysed again, failures included. */
  assert_pending (f->library, 4, 0, all, G_N_ELEMENTS (all));
  g_assert_true (mt_library_count_audio (f->library, 4, &analysed, NULL, &pending, &error));
  g_assert_cmpint (analysed, ==, 0);
  g_assert_cmpint (pending, ==, G_N_ELEMENTS (all));

  /* A song found again whose file is unchanged needs nothing. */
  g_assert_true (mt_library_set_missing (f->library, missing_done, 0, &error));
  g_assert_true (mt_library_count_audio (f->library, 3, &analysed, NULL, NULL, &error));
  g_assert_cmpint (analysed, ==, 2);
}

static void
test_audio_stale (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) stale = NULL;
  gint64 derived = add_file (f->library, "file:///music/1.ogg", 1, 1);
  gint64 underived = add_file (f->library, "file:///music/2.ogg", 2, 2);
  gint64 failed = add_file (f->library, "file:///music/3.ogg", 3, 3);
  G_GNUC_UNUSED gint64 never = add_file (f->library, "file:///music/4.ogg", 4, 4);

  g_assert_true (mt_library_set_audio_features (f->library, derived, 1, 1, 1, "{\"rms\": 0.5}", 1, 1, 1, &error));
  g_assert_true (mt_library_set_audio_mood (f->library, derived, "m1", 0, 0, some_weights, 0.3, &error));
  g_assert_true (mt_library_set_audio_features (f->library, underived, 2, 2, 1, "{\"rms\": 0.25}", 1, 1, 1, &error));
  g_assert_true (mt_library_set_audio_failed (f->library, failed, 3, 3, 1, "silent", &error));
  g_assert_no_error (error);

  stale = mt_library_list_audio_stale (f->library, "m1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stale->len, ==, 1);
  g_assert_cmpint (((MtSongFeatures *) stale->pdata[0])->song_id, ==, underived);
  g_assert_cmpstr (((MtSongFeatures *) stale->pdata[0])->features_json, ==, "{\"rms\": 0.25}");
  g_clear_pointer (&stale, g_ptr_array_unref);

  /* A new model: every analysed song, from its stored features. */
  stale = mt_library_list_audio_stale (f->library, "m2", 0, &error);
  g_assert_cmpuint (stale->len, ==, 2);
  g_assert_cmpint (((MtSongFeatures *) stale->pdata[0])->song_id, ==, derived);
  g_assert_cmpstr (((MtSongFeatures *) stale->pdata[0])->features_json, ==, "{\"rms\": 0.5}");
  g_clear_pointer (&stale, g_ptr_array_unref);
  stale = mt_library_list_audio_stale (f->library, "m2", 1, &error);
  g_assert_cmpuint (stale->len, ==, 1);
  g_clear_pointer (&stale, g_ptr_array_unref);

  g_assert_true (mt_library_set_audio_mood (f->library, underived, "m1", 0, 0, some_weights, 0.3, &error));
  stale = mt_library_list_audio_stale (f->library, "m1", 0, &error);
  g_assert_cmpuint (stale->len, ==, 0);
}

static void
assert_moods (MtLibrary    *library,
              gint64        id,
              const double  expected[MT_N_MOODS])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtSong) song = mt_library_get_song (library, id, &error);

  g_assert_no_error (error);
  for (int i = 0; i < MT_N_MOODS; i++)
    g_assert_cmpfloat_with_epsilon (song->moods[i], expected[i], 1e-9);
}

/* Audio carries the signal, tags refine it, the user's word stands,
 * learning adds on top; without audio nothing changes. */
static void
test_audio_combination (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  double rule[MT_N_MOODS] = { NAN, NAN, NAN, 0.8, NAN, NAN, 0.2 };
  double audio[MT_N_MOODS] = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1.0 };
  gint64 id = add_file (f->library, "file:///music/mix.ogg", 1, 1);
  gint64 plain = add_file (f->library, "file:///music/plain.ogg", 1, 1);
  const double t = 0.25;

  g_assert_true (mt_library_set_mood_weights (f->library, id, MT_MOOD_SOURCE_RULE, rule, &error));
  g_assert_true (mt_library_set_mood_weights (f->library, plain, MT_MOOD_SOURCE_RULE, rule, &error));
  g_assert_true (mt_library_set_audio_features (f->library, id, 1, 1, 1, "{}", 1, 1, 1, &error));
  g_assert_true (mt_library_set_audio_features (f->library, plain, 1, 1, 1, "{}", 1, 1, 1, &error));
  g_assert_no_error (error);
  /* Features alone (no model yet) change nothing. */
  assert_moods (f->library, id, (double[]) { 0, 0, 0, 0.8, 0, 0, 0.2 });

  g_assert_true (mt_library_set_audio_mood (f->library, id, "m1", 0.2, 0.3, audio, t, &error));
  g_assert_no_error (error);
  {
    double expected[MT_N_MOODS];
    for (int i = 0; i < MT_N_MOODS; i++)
      expected[i] = (1 - t) * audio[i] + t * (isnan (rule[i]) ? 0.0 : rule[i]);
    assert_moods (f->library, id, expected);
    g_assert_cmpfloat_with_epsilon (expected[MT_MOOD_HAPPY], 0.5, 1e-9);
  }
  assert_moods (f->library, plain, (double[]) { 0, 0, 0, 0.8, 0, 0, 0.2 });

  /* Rules applied again (a rescan) keep the audio in the mix. */
  g_assert_true (mt_library_set_mood_weights (f->library, id, MT_MOOD_SOURCE_RULE, rule, &error));
  {
    g_autoptr(GPtrArray) top = mt_library_top_for_mood (f->library, MT_MOOD_HAPPY, 5, &error);
    g_assert_cmpuint (top->len, ==, 2);
    g_assert_cmpint (((MtSong *) top->pdata[0])->id, ==, plain);
    g_assert_cmpfloat_with_epsilon (((MtSong *) top->pdata[1])->score, 0.5, 1e-9);
  }

  /* The user's weight replaces the mix for its mood; learning adds, clamped. */
  g_assert_true (mt_library_set_user_mood (f->library, id, MT_MOOD_HAPPY, 0.9, &error));
  g_assert_true (mt_library_add_feedback (f->library, id, MT_FEEDBACK_LIKED, MT_MOOD_SAD, 10, &error));
  g_assert_true (mt_library_add_feedback (f->library, id, MT_FEEDBACK_LIKED, MT_MOOD_NEUTRAL, 11, &error));
  g_assert_no_error (error);
  assert_moods (f->library, id, (double[]) { 0.75 * 0.1, 0.75 * 0.2, 0.75 * 0.3, 0.9,
                                             0.75 * 0.5 + 0.25, 0.75 * 0.6, 1.0 });

  /* tag_weight 1: the tags alone; 0: the audio alone. */
  g_assert_true (mt_library_set_audio_mood (f->library, plain, "m1", 0, 0, audio, 1.0, &error));
  assert_moods (f->library, plain, (double[]) { 0, 0, 0, 0.8, 0, 0, 0.2 });
  g_assert_true (mt_library_set_audio_mood (f->library, plain, "m1", 0, 0, audio, 0.0, &error));
  assert_moods (f->library, plain, audio);

  /* New features drop the model's output: back to the tags. */
  g_assert_true (mt_library_set_audio_features (f->library, plain, 2, 2, 1, "{}", 1, 1, 1, &error));
  assert_moods (f->library, plain, (double[]) { 0, 0, 0, 0.8, 0, 0, 0.2 });
  g_assert_true (mt_library_set_audio_mood (f->library, plain, "m1", 0, 0, audio, 0.0, &error));
  g_assert_true (mt_library_set_audio_failed (f->library, plain, 3, 3, 1, "gone bad", &error));
  assert_moods (f->library, plain, (double[]) { 0, 0, 0, 0.8, 0, 0, 0.2 });
  g_assert_no_error (error);
}

/* Songs no rule matches all get the rules' default weights, so among them
 * the audio alone decides the order. */
static void
test_audio_untagged_ranking (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtMoodRules) rules = mt_mood_rules_new_default (&error);
  g_autoptr(MtAudioMoods) audio_moods = mt_audio_moods_new_default (&error);
  const struct { double valence, arousal; } points[] = {
    { 0.8, 0.7 }, { -0.7, -0.6 }, { 0.5, -0.6 }, { -0.7, 0.7 }, { 0.0, 0.0 }, { 0.3, 0.9 },
  };
  double audio[G_N_ELEMENTS (points)][MT_N_MOODS];
  gint64 ids[G_N_ELEMENTS (points)];

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    {
      g_autofree char *uri = g_strdup_printf ("file:///music/%02u.ogg", i);
      g_autoptr(MtSong) song = mt_song_new ();
      double rule[MT_N_MOODS];

      song->uri = g_strdup (uri);
      g_assert_cmpuint (mt_mood_rules_apply (rules, song, rule), ==, 0);
      ids[i] = add_file (f->library, uri, i, i);
      g_assert_true (mt_library_set_mood_weights (f->library, ids[i], MT_MOOD_SOURCE_RULE, rule, &error));
      g_assert_true (mt_library_set_audio_features (f->library, ids[i], i, i, 1, "{}", 1, 1, 1, &error));
      mt_audio_moods_apply (audio_moods, points[i].valence, points[i].arousal, audio[i]);
      g_assert_true (mt_library_set_audio_mood (f->library, ids[i], "m1", points[i].valence, points[i].arousal,
                                                audio[i], mt_audio_moods_get_tag_weight (audio_moods), &error));
      g_assert_no_error (error);
    }

  for (int m = 0; m < MT_N_MOODS; m++)
    {
      g_autoptr(GPtrArray) top = mt_library_top_for_mood (f->library, m, G_N_ELEMENTS (points), &error);

      g_assert_cmpuint (top->len, ==, G_N_ELEMENTS (points));
      for (guint j = 0; j + 1 < top->len; j++)
        {
          MtSong *a = top->pdata[j], *b = top->pdata[j + 1];
          guint ia = a->id - ids[0], ib = b->id - ids[0];
          g_assert_cmpfloat (audio[ia][m], >=, audio[ib][m]);
        }
    }
  /* and in the expected places */
  {
    const struct { MtMood mood; guint point; } best[] = {
      { MT_MOOD_HAPPY, 0 }, { MT_MOOD_SAD, 1 }, { MT_MOOD_NEUTRAL, 2 }, { MT_MOOD_ANGRY, 3 }, { MT_MOOD_SURPRISE, 5 },
    };
    for (guint i = 0; i < G_N_ELEMENTS (best); i++)
      {
        g_autoptr(GPtrArray) top = mt_library_top_for_mood (f->library, best[i].mood, 1, &error);
        g_assert_cmpint (((MtSong *) top->pdata[0])->id, ==, ids[best[i].point]);
      }
  }
}

static MtSong *
tagged (const char *uri, const char *title, const char *album, const char *genre)
{
  MtSong *song = mt_song_new ();
  song->uri = g_strdup (uri);
  song->title = g_strdup (title);
  song->album = g_strdup (album);
  song->genre = g_strdup (genre);
  return song;
}

static void
test_mood_rules (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtMoodRules) rules = mt_mood_rules_new_default (&error);
  double w[MT_N_MOODS];

  g_assert_no_error (error);

  {
    g_autoptr(MtSong) song = tagged ("file:///a.ogg", "Song", "Album", "Heavy Metal");
    g_assert_cmpuint (mt_mood_rules_apply (rules, song, w), >=, 1);
    g_assert_cmpfloat_with_epsilon (w[MT_MOOD_ANGRY], 0.8, 1e-9);
    g_assert_true (isnan (w[MT_MOOD_SAD]));
  }
  {
    /* "pop" must not match inside "popcorn": whole words only. */
    g_autoptr(MtSong) song = tagged ("file:///b.ogg", "Popcorn", NULL, NULL);
    g_assert_cmpuint (mt_mood_rules_apply (rules, song, w), ==, 0);
    g_assert_cmpfloat_with_epsilon (w[MT_MOOD_NEUTRAL], 0.5, 1e-9);   /* the default */
  }
  {
    /* Tag words and multi-word genres, case-insensitively. */
    g_autoptr(MtSong) song = tagged ("file:///c.ogg", "Tears in the RAIN", NULL, "Drum and Bass");
    g_assert_cmpuint (mt_mood_rules_apply (rules, song, w), ==, 2);
    g_assert_cmpfloat_with_epsilon (w[MT_MOOD_SAD], 0.6, 1e-9);
    g_assert_cmpfloat_with_epsilon (w[MT_MOOD_SURPRISE], 0.5, 1e-9);
  }
  {
    /* No tags at all: the file name speaks. */
    g_autoptr(MtSong) song = tagged ("file:///music/machine_wars.mp3", NULL, NULL, NULL);
    g_assert_cmpuint (mt_mood_rules_apply (rules, song, w), ==, 1);
    g_assert_cmpfloat_with_epsilon (w[MT_MOOD_ANGRY], 0.6, 1e-9);
  }
  {
    /* Broken UTF-8 in a tag does no harm. */
    g_autoptr(MtSong) song = tagged ("file:///d.ogg", "Caf\xe9 \xff sunshine", NULL, "\xc3");
    mt_mood_rules_apply (rules, song, w);
    g_assert_cmpfloat_with_epsilon (w[MT_MOOD_HAPPY], 0.6, 1e-9);
  }
}

static void
test_bad_data_files (void)
{
  g_autofree char *dir = mt_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "rules.json", NULL);
  g_autoptr(GError) error = NULL;
  MtMoodRules *rules;
  MtMoodStrategies *strategies;
  const struct { const char *json; const char *expect; } cases[] = {
    { "{", "could not be read" },
    { "[]", "top level" },
    { "{\"genres\": []}", "default" },
    { "{\"default\": {\"calm\": 0.5}}", "calm" },
    { "{\"default\": {\"sad\": 2}}", "outside" },
    { "{\"default\": {}, \"genres\": [{\"words\": [\"x\"]}]}", "genres[0]" },
    { "{\"default\": {}, \"genres\": [{\"words\": [\"\"], \"moods\": {}}]}", "word 0" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_true (g_file_set_contents (path, cases[i].json, -1, NULL));
      rules = mt_mood_rules_new_from_file (path, &error);
      g_assert_null (rules);
      g_assert_nonnull (error);
      g_test_message ("%s -> %s", cases[i].json, error->message);
      g_assert_nonnull (strstr (error->message, cases[i].expect));
      g_assert_nonnull (strstr (error->message, path));
      g_clear_error (&error);
    }

  g_assert_true (g_file_set_contents (path, "{\"match\": {}, \"lift\": {}}", -1, NULL));
  strategies = mt_mood_strategies_new_from_file (path, &error);
  g_assert_null (strategies);
  g_assert_nonnull (strstr (error->message, "match.angry"));
  g_clear_error (&error);

  rules = mt_mood_rules_new_from_file ("/nonexistent/rules.json", &error);
  g_assert_null (rules);
  g_assert_nonnull (error);
  mt_test_rmdir (dir);
}

static void
test_strategies (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtMoodStrategies) strategies = mt_mood_strategies_new_default (&error);
  const MtMoodStage *stages;
  guint n = 0;
  MtStrategy strategy;

  g_assert_no_error (error);
  g_assert_true (mt_strategy_from_string ("LIFT", &strategy));
  g_assert_cmpint (strategy, ==, MT_STRATEGY_LIFT);
  g_assert_false (mt_strategy_from_string ("boost", &strategy));

  stages = mt_mood_strategies_get_stages (strategies, MT_STRATEGY_MATCH, MT_MOOD_SAD, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpfloat (stages[0].moods[MT_MOOD_SAD], ==, 1.0);

  /* Lifting from sad ends on happy, and starts further from it. */
  stages = mt_mood_strategies_get_stages (strategies, MT_STRATEGY_LIFT, MT_MOOD_SAD, &n);
  g_assert_cmpuint (n, >=, 2);
  g_assert_cmpfloat (stages[n - 1].moods[MT_MOOD_HAPPY], >, stages[0].moods[MT_MOOD_HAPPY]);
  for (guint i = 0; i < n; i++)
    {
      double total = 0;
      for (int m = 0; m < MT_N_MOODS; m++)
        total += stages[i].moods[m];
      g_assert_cmpfloat_with_epsilon (total, 1.0, 1e-9);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/library/mood-names", test_mood_names);
  g_test_add ("/library/schema", Fixture, NULL, fixture_set_up, test_schema, fixture_tear_down);
  g_test_add_func ("/library/migration-from-v1", test_migration_from_v1);
  g_test_add_func ("/library/migration-from-v3", test_migration_from_v3);
  g_test_add_func ("/library/concurrent-open", test_concurrent_open);
  g_test_add_func ("/library/too-new-and-not-a-database", test_too_new_and_not_a_database);
  g_test_add ("/library/songs", Fixture, NULL, fixture_set_up, test_songs, fixture_tear_down);
  g_test_add ("/library/mood-weights", Fixture, NULL, fixture_set_up, test_mood_weights, fixture_tear_down);
  g_test_add ("/library/feedback-learning", Fixture, NULL, fixture_set_up, test_feedback_learning, fixture_tear_down);
  g_test_add ("/library/cascade", Fixture, NULL, fixture_set_up, test_cascade, fixture_tear_down);
  g_test_add ("/library/missing-songs", Fixture, NULL, fixture_set_up, test_missing_songs, fixture_tear_down);
  g_test_add ("/library/top-for-mood-uses-index", Fixture, NULL, fixture_set_up, test_top_for_mood_uses_index, fixture_tear_down);
  g_test_add ("/library/audio-features", Fixture, NULL, fixture_set_up, test_audio_features, fixture_tear_down);
  g_test_add ("/library/audio-pending", Fixture, NULL, fixture_set_up, test_audio_pending, fixture_tear_down);
  g_test_add ("/library/audio-stale", Fixture, NULL, fixture_set_up, test_audio_stale, fixture_tear_down);
  g_test_add ("/library/audio-combination", Fixture, NULL, fixture_set_up, test_audio_combination, fixture_tear_down);
  g_test_add ("/library/audio-untagged-ranking", Fixture, NULL, fixture_set_up, test_audio_untagged_ranking, fixture_tear_down);
  g_test_add_func ("/library/mood-rules", test_mood_rules);
  g_test_add_func ("/library/bad-data-files", test_bad_data_files);
  g_test_add_func ("/library/strategies", test_strategies);

  return g_test_run ();
}
