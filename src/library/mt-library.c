#define G_LOG_DOMAIN "mt-library"

#include "config.h"

#include <math.h>
#include <sqlite3.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "mt-library.h"
#include "mt-library-enums.h"
#include "mt-library-private.h"

/* Each step migrates from version i to i + 1; never edit a shipped step, add
 * a new one (and bump MT_LIBRARY_SCHEMA_VERSION). */
static const char * const migrations[] = {
  /* 0 -> 1 */
  "CREATE TABLE songs ("
  "  id INTEGER PRIMARY KEY,"
  "  uri TEXT NOT NULL UNIQUE,"
  "  title TEXT, artist TEXT, album TEXT, genre TEXT,"
  "  duration_ms INTEGER NOT NULL DEFAULT 0,"
  "  track INTEGER NOT NULL DEFAULT 0,"
  "  size INTEGER NOT NULL DEFAULT 0,"
  "  mtime INTEGER NOT NULL DEFAULT 0,"
  "  added_at INTEGER NOT NULL DEFAULT 0,"
  "  last_played INTEGER NOT NULL DEFAULT 0,"
  "  play_count INTEGER NOT NULL DEFAULT 0);"
  /* source: 0 rule, 1 user, 2 learned (MtMoodSource) */
  "CREATE TABLE song_moods ("
  "  song_id INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,"
  "  mood INTEGER NOT NULL CHECK (mood BETWEEN 0 AND 6),"
  "  source INTEGER NOT NULL CHECK (source BETWEEN 0 AND 2),"
  "  weight REAL NOT NULL,"
  "  PRIMARY KEY (song_id, mood, source)) WITHOUT ROWID;"
  /* The effective weight per song and mood, kept up to date on every write so
   * that a recommendation reads the best songs of a mood straight off an index
   * instead of scoring the whole library. */
  "CREATE TABLE mood_scores ("
  "  song_id INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,"
  "  mood INTEGER NOT NULL CHECK (mood BETWEEN 0 AND 6),"
  "  score REAL NOT NULL,"
  "  PRIMARY KEY (song_id, mood)) WITHOUT ROWID;"
  "CREATE INDEX mood_scores_by_mood ON mood_scores (mood, score DESC);"
  "CREATE TABLE events ("
  "  id INTEGER PRIMARY KEY,"
  "  song_id INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,"
  "  at INTEGER NOT NULL,"
  "  kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 3),"
  "  mood INTEGER CHECK (mood IS NULL OR mood BETWEEN 0 AND 6));"
  "CREATE INDEX events_by_song ON events (song_id, at);",
  /* 1 -> 2: the effective weights also on the song row, so reading a song
   * (a list, a playlist's candidates) needs no second query per song. */
  "ALTER TABLE songs ADD COLUMN w_angry REAL NOT NULL DEFAULT 0;"
  "ALTER TABLE songs ADD COLUMN w_disgust REAL NOT NULL DEFAULT 0;"
  "ALTER TABLE songs ADD COLUMN w_fear REAL NOT NULL DEFAULT 0;"
  "ALTER TABLE songs ADD COLUMN w_happy REAL NOT NULL DEFAULT 0;"
  "ALTER TABLE songs ADD COLUMN w_sad REAL NOT NULL DEFAULT 0;"
  "ALTER TABLE songs ADD COLUMN w_surprise REAL NOT NULL DEFAULT 0;"
  "ALTER TABLE songs ADD COLUMN w_neutral REAL NOT NULL DEFAULT 0;"
  "UPDATE songs SET"
  "  w_angry = coalesce ((SELECT score FROM mood_scores WHERE song_id = songs.id AND mood = 0), 0),"
  "  w_disgust = coalesce ((SELECT score FROM mood_scores WHERE song_id = songs.id AND mood = 1), 0),"
  "  w_fear = coalesce ((SELECT score FROM mood_scores WHERE song_id = songs.id AND mood = 2), 0),"
  "  w_happy = coalesce ((SELECT score FROM mood_scores WHERE song_id = songs.id AND mood = 3), 0),"
  "  w_sad = coalesce ((SELECT score FROM mood_scores WHERE song_id = songs.id AND mood = 4), 0),"
  "  w_surprise = coalesce ((SELECT score FROM mood_scores WHERE song_id = songs.id AND mood = 5), 0),"
  "  w_neutral = coalesce ((SELECT score FROM mood_scores WHERE song_id = songs.id AND mood = 6), 0);",
  /* 2 -> 3: a song whose file is gone (an unplugged drive, a renamed
   * folder) is kept with its history and marked: seconds since the epoch
   * when it was first found gone, 0 while its file is there. */
  "ALTER TABLE songs ADD COLUMN missing_since INTEGER NOT NULL DEFAULT 0;",
  /* 3 -> 4: what the song's own sound says.  state: 1 analysed, 2 failed
   * (MtAudioState; reason says why, for people).  size and mtime are the
   * file's as analysed, so a changed file is analysed again; features (a JSON
   * object name -> number, as the analyzer gave it) are kept so a new model
   * re-derives the weights without decoding.  The model's output (valence,
   * arousal, the audio mood weights and the tag weight they were combined
   * with) is NULL until a model ran on these features. */
  "CREATE TABLE song_audio ("
  "  song_id INTEGER PRIMARY KEY REFERENCES songs(id) ON DELETE CASCADE,"
  "  state INTEGER NOT NULL CHECK (state IN (1, 2)),"
  "  reason TEXT,"
  "  features_version INTEGER NOT NULL,"
  "  size INTEGER, mtime INTEGER,"
  "  features TEXT,"
  "  tempo REAL, loudness REAL,"
  "  duration_analysed_ms INTEGER,"
  "  analysed_at INTEGER,"
  "  model_version TEXT,"
  "  valence REAL, arousal REAL, tag_weight REAL,"
  "  w_angry REAL, w_disgust REAL, w_fear REAL, w_happy REAL, w_sad REAL,"
  "  w_surprise REAL, w_neutral REAL);",
  /* 4 -> 5: the mood over time, only when the user keeps it (off by
   * default): one row a minute (minutes since the epoch, UTC), the steady
   * mood (NULL: no face) and the minute's mean smoothed probabilities.
   * Never frames. */
  "CREATE TABLE mood_history ("
  "  minute INTEGER PRIMARY KEY,"
  "  mood INTEGER CHECK (mood IS NULL OR mood BETWEEN 0 AND 6),"
  "  p_angry REAL NOT NULL, p_disgust REAL NOT NULL, p_fear REAL NOT NULL, p_happy REAL NOT NULL,"
  "  p_sad REAL NOT NULL, p_surprise REAL NOT NULL, p_neutral REAL NOT NULL);",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == MT_LIBRARY_SCHEMA_VERSION);

/* How long a connection waits for another one's write lock (one batch of an
 * import, a migration in another process) before it fails. */
#define BUSY_TIMEOUT_MS 10000

typedef enum {
  STMT_COUNT_SONGS,
  STMT_HAS_SONGS,
  STMT_SET_SONG_WEIGHTS,
  STMT_INSERT_SONG,
  STMT_UPDATE_SONG,
  STMT_DELETE_SONG,
  STMT_GET_SONG,
  STMT_LIST_SONGS,
  STMT_DELETE_MOODS,
  STMT_INSERT_MOOD,
  STMT_GET_MOODS,
  STMT_GET_SOURCE_MOODS,
  STMT_UPSERT_SCORE,
  STMT_GET_SCORES,
  STMT_INSERT_EVENT,
  STMT_MARK_PLAYED,
  STMT_COUNT_EVENTS,
  STMT_TOP_FOR_MOOD,
  STMT_SET_MISSING,
  STMT_COUNT_MISSING,
  STMT_FORGET_MISSING,
  STMT_GET_AUDIO_WEIGHTS,
  STMT_SET_AUDIO,
  STMT_SET_AUDIO_MOOD,
  STMT_AUDIO_PENDING,
  STMT_AUDIO_STALE,
  STMT_COUNT_AUDIO,
  STMT_GET_AUDIO_STATE,
  N_STMTS
} StmtId;

#define SONG_COLUMNS \
  "s.id, s.uri, s.title, s.artist, s.album, s.genre, s.duration_ms, s.track, " \
  "s.size, s.mtime, s.last_played, s.play_count, " \
  "s.w_angry, s.w_disgust, s.w_fear, s.w_happy, s.w_sad, s.w_surprise, s.w_neutral, s.missing_since, " \
  "a.valence, a.arousal, a.tempo, a.loudness"
/* What SONG_COLUMNS reads from: the audio analysis comes with the song (a
 * primary-key lookup), not in a second query. */
#define SONG_FROM "songs s LEFT JOIN song_audio a ON a.song_id = s.id"
/* Where the columns after the weights are, and how many SONG_COLUMNS has. */
#define COLUMN_MISSING_SINCE (12 + MT_N_MOODS)
#define COLUMN_VALENCE (COLUMN_MISSING_SINCE + 1)
#define N_SONG_COLUMNS (COLUMN_VALENCE + 4)

/* The song's analysis (a, joined as in SONG_FROM) is of its current file
 * with the features version ?1: analysed or failed, it is not done again. */
#define AUDIO_CURRENT \
  "(a.song_id IS NOT NULL AND a.features_version = ?1 AND a.size IS s.size AND a.mtime IS s.mtime)"

static const char * const stmt_sql[N_STMTS] = {
  [STMT_COUNT_SONGS] = "SELECT count(*) FROM songs",
  [STMT_HAS_SONGS] = "SELECT EXISTS (SELECT 1 FROM songs)",
  [STMT_SET_SONG_WEIGHTS] =
    "UPDATE songs SET w_angry = ?2, w_disgust = ?3, w_fear = ?4, w_happy = ?5, w_sad = ?6,"
    " w_surprise = ?7, w_neutral = ?8 WHERE id = ?1",
  [STMT_INSERT_SONG] =
    "INSERT INTO songs (uri, title, artist, album, genre, duration_ms, track, size, mtime, added_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT (uri) DO UPDATE SET title = ?2, artist = ?3, album = ?4, genre = ?5,"
    " duration_ms = ?6, track = ?7, size = ?8, mtime = ?9, missing_since = 0"
    " RETURNING id",
  [STMT_UPDATE_SONG] =
    "UPDATE songs SET uri = ?2, title = ?3, artist = ?4, album = ?5, genre = ?6,"
    " duration_ms = ?7, track = ?8, size = ?9, mtime = ?10, missing_since = 0 WHERE id = ?1",
  [STMT_DELETE_SONG] = "DELETE FROM songs WHERE id = ?1",
  [STMT_GET_SONG] = "SELECT " SONG_COLUMNS " FROM " SONG_FROM " WHERE s.id = ?1",
  [STMT_LIST_SONGS] =
    "SELECT " SONG_COLUMNS " FROM " SONG_FROM
    " ORDER BY s.artist IS NULL, s.artist, s.album, s.track, s.title, s.uri",
  [STMT_DELETE_MOODS] = "DELETE FROM song_moods WHERE song_id = ?1 AND source = ?2",
  [STMT_INSERT_MOOD] = "INSERT INTO song_moods (song_id, mood, source, weight) VALUES (?1, ?2, ?3, ?4)",
  [STMT_GET_MOODS] = "SELECT mood, source, weight FROM song_moods WHERE song_id = ?1",
  [STMT_GET_SOURCE_MOODS] = "SELECT mood, weight FROM song_moods WHERE song_id = ?1 AND source = ?2",
  [STMT_UPSERT_SCORE] =
    "INSERT INTO mood_scores (song_id, mood, score) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (song_id, mood) DO UPDATE SET score = ?3",
  [STMT_GET_SCORES] = "SELECT mood, score FROM mood_scores WHERE song_id = ?1",
  [STMT_INSERT_EVENT] = "INSERT INTO events (song_id, at, kind, mood) VALUES (?1, ?2, ?3, ?4)",
  [STMT_MARK_PLAYED] =
    "UPDATE songs SET last_played = max(last_played, ?2), play_count = play_count + ?3 WHERE id = ?1",
  [STMT_COUNT_EVENTS] = "SELECT count(*) FROM events WHERE song_id = ?1 AND kind = ?2",
  [STMT_TOP_FOR_MOOD] =
    "SELECT " SONG_COLUMNS ", m.score FROM mood_scores m JOIN songs s ON s.id = m.song_id"
    " LEFT JOIN song_audio a ON a.song_id = s.id WHERE m.mood = ?1 AND s.missing_since = 0 ORDER BY m.score DESC, m.song_id LIMIT ?2",
  /* Gone again: the first time it was found gone stays. */
  [STMT_SET_MISSING] =
    "UPDATE songs SET missing_since = CASE WHEN ?2 = 0 OR missing_since = 0 THEN ?2"
    " ELSE min (missing_since, ?2) END WHERE id = ?1",
  [STMT_COUNT_MISSING] = "SELECT count(*) FROM songs WHERE missing_since != 0",
  [STMT_FORGET_MISSING] = "DELETE FROM songs WHERE missing_since != 0 AND missing_since <= ?1",
  /* Only a model's output on the current features counts. */
  [STMT_GET_AUDIO_WEIGHTS] =
    "SELECT tag_weight, w_angry, w_disgust, w_fear, w_happy, w_sad, w_surprise, w_neutral"
    " FROM song_audio WHERE song_id = ?1 AND state = 1 AND model_version IS NOT NULL",
  /* A new analysis replaces the whole row: the columns not named (the
   * model's output) start over as NULL. */
  [STMT_SET_AUDIO] =
    "INSERT OR REPLACE INTO song_audio (song_id, state, reason, features_version, size, mtime,"
    " features, tempo, loudness, duration_analysed_ms, analysed_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
  [STMT_SET_AUDIO_MOOD] =
    "UPDATE song_audio SET model_version = ?2, valence = ?3, arousal = ?4, tag_weight = ?5,"
    " w_angry = ?6, w_disgust = ?7, w_fear = ?8, w_happy = ?9, w_sad = ?10, w_surprise = ?11,"
    " w_neutral = ?12 WHERE song_id = ?1 AND state = 1",
  [STMT_AUDIO_PENDING] =
    "SELECT " SONG_COLUMNS " FROM " SONG_FROM
    " WHERE s.missing_since = 0 AND NOT " AUDIO_CURRENT " ORDER BY s.id LIMIT ?2",
  [STMT_AUDIO_STALE] =
    "SELECT song_id, features FROM song_audio WHERE state = 1 AND model_version IS NOT ?1"
    " ORDER BY song_id LIMIT ?2",
  [STMT_COUNT_AUDIO] =
    "SELECT coalesce (sum (done AND state = 1), 0), coalesce (sum (done AND state = 2), 0),"
    " coalesce (sum (NOT done), 0) FROM (SELECT a.state AS state, " AUDIO_CURRENT " AS done"
    " FROM " SONG_FROM " WHERE s.missing_since = 0)",
  [STMT_GET_AUDIO_STATE] =
    "SELECT coalesce (a.state, 0), a.reason FROM " SONG_FROM " WHERE s.id = ?1",
};

struct _MtLibrary
{
  GObject       parent_instance;
  char         *path;
  sqlite3      *db;
  sqlite3_stmt *stmts[N_STMTS];
  MtLibraryChange pending_changes;  /* written inside an open transaction */
};

enum { CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (MtLibrary, mt_library, G_TYPE_OBJECT)

G_DEFINE_QUARK (mt-library-error-quark, mt_library_error)

static const char * const feedback_names[] = { "played", "skipped", "liked", "disliked" };

const char *
mt_feedback_to_string (MtFeedback feedback)
{
  if ((int) feedback < 0 || (int) feedback >= (int) G_N_ELEMENTS (feedback_names))
    return NULL;
  return feedback_names[feedback];
}

gboolean
mt_feedback_from_string (const char *text,
                         MtFeedback *out_feedback)
{
  if (text == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (feedback_names); i++)
    {
      if (g_ascii_strcasecmp (text, feedback_names[i]) == 0)
        {
          *out_feedback = (MtFeedback) i;
          return TRUE;
        }
    }
  return FALSE;
}

double
mt_feedback_get_learning_step (MtFeedback feedback)
{
  /* A skip says more than a play (people let music run), an explicit
   * like/dislike says the most. */
  switch (feedback)
    {
    case MT_FEEDBACK_PLAYED:   return 0.05;
    case MT_FEEDBACK_SKIPPED:  return -0.10;
    case MT_FEEDBACK_LIKED:    return 0.25;
    case MT_FEEDBACK_DISLIKED: return -0.35;
    default:                   return 0.0;
    }
}

static gboolean
set_db_error (MtLibrary   *self,
              GError     **error,
              const char  *what)
{
  g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_DATABASE,
               "Music library “%s”: %s failed: %s",
               self->path, what, self->db ? sqlite3_errmsg (self->db) : "no database");
  return FALSE;
}

sqlite3 *
_mt_library_get_db (MtLibrary *self)
{
  return self->db;
}

gboolean
_mt_library_set_db_error (MtLibrary   *self,
                          GError     **error,
                          const char  *what)
{
  return set_db_error (self, error, what);
}

static gboolean
set_not_found (GError **error,
               gint64   id)
{
  g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND,
               "No song with id %" G_GINT64_FORMAT " in the library", id);
  return FALSE;
}

/* A write about song @id failed: the usual cause is an id that is not there
 * (foreign key). */
static gboolean
set_write_error (MtLibrary   *self,
                 GError     **error,
                 gint64       id,
                 const char  *what)
{
  if (sqlite3_extended_errcode (self->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
    return set_not_found (error, id);
  return set_db_error (self, error, what);
}

static gboolean
exec_sql (MtLibrary   *self,
          const char  *sql,
          GError     **error)
{
  char *message = NULL;

  if (sqlite3_exec (self->db, sql, NULL, NULL, &message) != SQLITE_OK)
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_DATABASE,
                   "Music library “%s”: %s", self->path, message ? message : "unknown SQLite error");
      sqlite3_free (message);
      return FALSE;
    }
  return TRUE;
}

/* Returns the cached statement, reset and with its bindings cleared. */
static sqlite3_stmt *
get_stmt (MtLibrary  *self,
          StmtId      id,
          GError    **error)
{
  if (self->stmts[id] == NULL)
    {
      if (sqlite3_prepare_v3 (self->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                              &self->stmts[id], NULL) != SQLITE_OK)
        {
          set_db_error (self, error, "preparing a query");
          return NULL;
        }
    }
  sqlite3_reset (self->stmts[id]);
  sqlite3_clear_bindings (self->stmts[id]);
  return self->stmts[id];
}

static void
bind_text_or_null (sqlite3_stmt *stmt,
                   int           index,
                   const char   *text)
{
  if (text == NULL || text[0] == '\0')
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

static char *
dup_column_text (sqlite3_stmt *stmt,
                 int           column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);
  return text ? g_strdup ((const char *) text) : NULL;
}

/* NULL (not analysed, unknown) reads as NAN, never as 0. */
static double
column_double_or_nan (sqlite3_stmt *stmt,
                      int           column)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return NAN;
  return sqlite3_column_double (stmt, column);
}

static void
bind_double_or_null (sqlite3_stmt *stmt,
                     int           index,
                     double        value)
{
  if (isfinite (value))
    sqlite3_bind_double (stmt, index, value);
  else
    sqlite3_bind_null (stmt, index);
}

static MtSong *
song_from_row (sqlite3_stmt *stmt)
{
  MtSong *song = mt_song_new ();

  song->id = sqlite3_column_int64 (stmt, 0);
  song->uri = dup_column_text (stmt, 1);
  song->title = dup_column_text (stmt, 2);
  song->artist = dup_column_text (stmt, 3);
  song->album = dup_column_text (stmt, 4);
  song->genre = dup_column_text (stmt, 5);
  song->duration_ms = sqlite3_column_int64 (stmt, 6);
  song->track = sqlite3_column_int (stmt, 7);
  song->size = sqlite3_column_int64 (stmt, 8);
  song->mtime = sqlite3_column_int64 (stmt, 9);
  song->last_played = sqlite3_column_int64 (stmt, 10);
  song->play_count = sqlite3_column_int (stmt, 11);
  for (int i = 0; i < MT_N_MOODS; i++)
    song->moods[i] = sqlite3_column_double (stmt, 12 + i);
  song->missing_since = sqlite3_column_int64 (stmt, COLUMN_MISSING_SINCE);
  song->valence = column_double_or_nan (stmt, COLUMN_VALENCE);
  song->arousal = column_double_or_nan (stmt, COLUMN_VALENCE + 1);
  song->tempo = column_double_or_nan (stmt, COLUMN_VALENCE + 2);
  song->loudness = column_double_or_nan (stmt, COLUMN_VALENCE + 3);
  return song;
}

/* Steps @stmt (bound, SONG_COLUMNS and, @with_score, a score after them)
 * to the end: its songs, or NULL with an error saying what failed. */
static GPtrArray *
read_songs (MtLibrary     *self,
            sqlite3_stmt  *stmt,
            gboolean       with_score,
            const char    *what,
            GError       **error)
{
  g_autoptr(GPtrArray) songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_song_free);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      MtSong *song = song_from_row (stmt);
      if (with_score)
        song->score = sqlite3_column_double (stmt, N_SONG_COLUMNS);
      g_ptr_array_add (songs, song);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, what);
      return NULL;
    }
  return g_steal_pointer (&songs);
}

/* Reads the audio mood weights a model gave the song, and the tag weight
 * they go with; FALSE in *out_found when it has none. */
static gboolean
get_audio_weights (MtLibrary  *self,
                   gint64      id,
                   gboolean   *out_found,
                   double     *out_tag_weight,
                   double      audio[MT_N_MOODS],
                   GError    **error)
{
  sqlite3_stmt *stmt;
  int rc;

  *out_found = FALSE;
  if (!(stmt = get_stmt (self, STMT_GET_AUDIO_WEIGHTS, error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      /* Written together by mt_library_set_audio_mood(); a row edited by
       * hand with a hole in it counts as none. */
      gboolean complete;

      *out_tag_weight = column_double_or_nan (stmt, 0);
      complete = isfinite (*out_tag_weight);
      for (int i = 0; i < MT_N_MOODS; i++)
        {
          audio[i] = column_double_or_nan (stmt, 1 + i);
          complete = complete && isfinite (audio[i]);
        }
      *out_found = complete;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_db_error (self, error, "reading audio mood weights");
  return TRUE;
}

/* Recomputes the effective weight of every mood of one song from its rule,
 * user, audio and learned weights. */
static gboolean
refresh_scores (MtLibrary  *self,
                gint64      id,
                GError    **error)
{
  double rule[MT_N_MOODS], user[MT_N_MOODS], learned[MT_N_MOODS], scores[MT_N_MOODS];
  double audio[MT_N_MOODS], tag_weight = 0.0;
  gboolean has_audio = FALSE;
  sqlite3_stmt *stmt;
  int rc;

  for (int i = 0; i < MT_N_MOODS; i++)
    rule[i] = user[i] = -1.0, learned[i] = 0.0;

  if (!(stmt = get_stmt (self, STMT_GET_MOODS, error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      int mood = sqlite3_column_int (stmt, 0);
      int source = sqlite3_column_int (stmt, 1);
      double weight = sqlite3_column_double (stmt, 2);

      if (!mt_mood_is_valid (mood))
        continue;
      if (source == MT_MOOD_SOURCE_RULE)
        rule[mood] = weight;
      else if (source == MT_MOOD_SOURCE_USER)
        user[mood] = weight;
      else if (source == MT_MOOD_SOURCE_LEARNED)
        learned[mood] = weight;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return set_db_error (self, error, "reading mood weights");
  if (!get_audio_weights (self, id, &has_audio, &tag_weight, audio, error))
    return FALSE;

  if (!(stmt = get_stmt (self, STMT_UPSERT_SCORE, error)))
    return FALSE;
  for (int i = 0; i < MT_N_MOODS; i++)
    {
      /* The user's word stands.  Otherwise the sound carries the signal and
       * the tags refine it; a song no rule matches has the rules' default
       * weights, the same for every such song, so among untagged songs the
       * order is the audio's alone.  Without audio, the rules as before. */
      double tags = MAX (rule[i], 0.0);
      double base = user[i] >= 0.0 ? user[i]
                    : has_audio ? (1.0 - tag_weight) * audio[i] + tag_weight * tags
                    : tags;
      double score = CLAMP (base + learned[i], 0.0, 1.0);

      scores[i] = score;

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_int (stmt, 2, i);
      sqlite3_bind_double (stmt, 3, score);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          sqlite3_reset (stmt);
          return set_db_error (self, error, "storing a mood score");
        }
    }
  sqlite3_reset (stmt);

  if (!(stmt = get_stmt (self, STMT_SET_SONG_WEIGHTS, error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  for (int i = 0; i < MT_N_MOODS; i++)
    sqlite3_bind_double (stmt, 2 + i, scores[i]);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return set_db_error (self, error, "storing mood weights");
  return TRUE;
}

/* Savepoints nest, so the write helpers below are atomic both alone and
 * inside a caller's batch transaction. */
static gboolean
savepoint_begin (MtLibrary *self, GError **error)
{
  return exec_sql (self, "SAVEPOINT mt_write", error);
}

static gboolean
savepoint_end (MtLibrary *self, gboolean ok, GError **error)
{
  if (ok)
    return exec_sql (self, "RELEASE mt_write", error);
  exec_sql (self, "ROLLBACK TO mt_write; RELEASE mt_write", NULL);
  return FALSE;
}

/* Ends the savepoint of a write that changed what song @id's scores come
 * from: they are recomputed inside it, so both land or neither. */
static gboolean
savepoint_end_refreshing (MtLibrary  *self,
                          gint64      id,
                          gboolean    ok,
                          GError    **error)
{
  if (ok)
    ok = refresh_scores (self, id, error);
  return savepoint_end (self, ok, error);
}

static void
mt_library_finalize (GObject *object)
{
  MtLibrary *self = (MtLibrary *) object;

  for (int i = 0; i < N_STMTS; i++)
    g_clear_pointer (&self->stmts[i], sqlite3_finalize);
  g_clear_pointer (&self->db, sqlite3_close);
  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (mt_library_parent_class)->finalize (object);
}

static void
mt_library_class_init (MtLibraryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_library_finalize;

  /**
   * MtLibrary::changed:
   * @what: the MtLibraryChange flags of what was written
   *
   * A write through this connection landed (see mt_library_notify_changed()).
   */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 1, MT_TYPE_LIBRARY_CHANGE);
}

void
mt_library_notify_changed (MtLibrary       *self,
                           MtLibraryChange  what)
{
  g_return_if_fail (MT_IS_LIBRARY (self));
  if (what != 0)
    g_signal_emit (self, signals[CHANGED], 0, what);
}

/* After a write that succeeded: announced now, or at the commit of the
 * transaction it is part of. */
static void
note_change (MtLibrary       *self,
             MtLibraryChange  what)
{
  if (sqlite3_get_autocommit (self->db))
    mt_library_notify_changed (self, what);
  else
    self->pending_changes |= what;
}

/* Returns @ok, noting @what when it is TRUE: for `return noted (...)`. */
static gboolean
noted (MtLibrary       *self,
       gboolean         ok,
       MtLibraryChange  what)
{
  if (ok)
    note_change (self, what);
  return ok;
}

static void
mt_library_init (MtLibrary *self)
{
}

char *
mt_library_dup_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "moodtunes", "library.db", NULL);
}

/* Switching an old (or new) file to WAL needs it to itself for a moment.
 * When two processes open it at once (the app and moodtunes-server), both
 * hold a read lock while they try, and SQLite answers one of them "busy" at
 * once instead of calling the busy handler (waiting could deadlock): wait
 * and try again here, as long as the busy timeout would have. */
static gboolean
set_wal_mode (MtLibrary  *self,
              GError    **error)
{
  gint64 deadline = g_get_monotonic_time () + BUSY_TIMEOUT_MS * 1000;
  int rc;

  while ((rc = sqlite3_exec (self->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL)) != SQLITE_OK)
    {
      if ((rc & 0xff) != SQLITE_BUSY || g_get_monotonic_time () > deadline)
        return set_db_error (self, error, "switching to WAL mode");
      g_usleep (5000);
    }
  return TRUE;
}

static int
read_user_version (MtLibrary *self)
{
  sqlite3_stmt *stmt = NULL;
  int version = -1;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return version;
}

static gboolean
migrate (MtLibrary  *self,
         GError    **error)
{
  int version = read_user_version (self);

  /* Up to date (the usual case): no write lock needed.  A version only
   * ever grows, so a current one read here stays current. */
  if (version == MT_LIBRARY_SCHEMA_VERSION)
    return TRUE;

  /* Another process (the app and moodtunes-server) may be opening the same
   * old or new database right now: the version that decides what to run is
   * read again under the write lock, so each step runs exactly once.  All
   * steps and the version bump are one transaction: a crash leaves the old
   * version or the new one, never something in between. */
  if (!exec_sql (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  version = read_user_version (self);
  if (version < 0)
    {
      set_db_error (self, error, "reading the schema version");
      exec_sql (self, "ROLLBACK", NULL);
      return FALSE;
    }
  if (version > MT_LIBRARY_SCHEMA_VERSION)
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_TOO_NEW,
                   "Music library “%s” has schema version %d, made by a newer Moodtunes "
                   "(this one knows up to %d)", self->path, version, MT_LIBRARY_SCHEMA_VERSION);
      exec_sql (self, "ROLLBACK", NULL);
      return FALSE;
    }
  for (int v = version; v < MT_LIBRARY_SCHEMA_VERSION; v++)
    {
      g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %d", v + 1);

      if (!exec_sql (self, migrations[v], error) || !exec_sql (self, set_version, error))
        {
          exec_sql (self, "ROLLBACK", NULL);
          g_prefix_error (error, "Migrating to schema version %d: ", v + 1);
          return FALSE;
        }
    }
  if (!exec_sql (self, "COMMIT", error))
    {
      exec_sql (self, "ROLLBACK", NULL);
      return FALSE;
    }
  return TRUE;
}

MtLibrary *
mt_library_open (const char  *path,
                 GError     **error)
{
  g_autoptr(MtLibrary) self = NULL;
  g_autofree char *dir = NULL;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (MT_TYPE_LIBRARY, NULL);
  self->path = g_strdup (path);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Could not create the folder “%s” for the music library: %s",
                   dir, g_strerror (saved_errno));
      return NULL;
    }

  rc = sqlite3_open_v2 (path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (self, error, "opening the database");
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, TRUE);
  /* Another connection (the importer's thread, a second process) may hold
   * the write lock for one batch: wait for it rather than fail. */
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);

  /* A file that is not a database fails here, with SQLite's own words. */
  if (!set_wal_mode (self, error) ||
      !exec_sql (self, "PRAGMA synchronous = NORMAL", error) ||
      !exec_sql (self, "PRAGMA foreign_keys = ON", error))
    return NULL;

  if (!migrate (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

const char *
mt_library_get_path (MtLibrary *self)
{
  g_return_val_if_fail (MT_IS_LIBRARY (self), NULL);
  return self->path;
}

int
mt_library_get_schema_version (MtLibrary *self)
{
  g_return_val_if_fail (MT_IS_LIBRARY (self), -1);
  return read_user_version (self);
}

gboolean
mt_library_begin (MtLibrary  *self,
                  GError    **error)
{
  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);
  return exec_sql (self, "BEGIN IMMEDIATE", error);
}

gboolean
mt_library_commit (MtLibrary  *self,
                   GError    **error)
{
  MtLibraryChange changes;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);
  if (!exec_sql (self, "COMMIT", error))
    return FALSE;
  changes = self->pending_changes;
  self->pending_changes = 0;
  mt_library_notify_changed (self, changes);
  return TRUE;
}

void
mt_library_rollback (MtLibrary *self)
{
  g_return_if_fail (MT_IS_LIBRARY (self));
  if (!sqlite3_get_autocommit (self->db))
    exec_sql (self, "ROLLBACK", NULL);
  self->pending_changes = 0;
}

gint64
mt_library_count_songs (MtLibrary  *self,
                        GError    **error)
{
  sqlite3_stmt *stmt;
  gint64 count;

  g_return_val_if_fail (MT_IS_LIBRARY (self), -1);

  if (!(stmt = get_stmt (self, STMT_COUNT_SONGS, error)))
    return -1;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_db_error (self, error, "counting songs");
      sqlite3_reset (stmt);
      return -1;
    }
  count = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return count;
}

gboolean
mt_library_is_empty (MtLibrary  *self,
                     gboolean   *out_empty,
                     GError    **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);

  if (!(stmt = get_stmt (self, STMT_HAS_SONGS, error)))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return set_db_error (self, error, "looking for songs");
    }
  *out_empty = sqlite3_column_int (stmt, 0) == 0;
  sqlite3_reset (stmt);
  return TRUE;
}

gint64
mt_library_add_song (MtLibrary     *self,
                     const MtSong  *song,
                     GError       **error)
{
  sqlite3_stmt *stmt;
  gint64 id;

  g_return_val_if_fail (MT_IS_LIBRARY (self), 0);
  g_return_val_if_fail (song != NULL, 0);

  if (song->uri == NULL || song->uri[0] == '\0')
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID, "A song needs a file URI");
      return 0;
    }
  if (!(stmt = get_stmt (self, STMT_INSERT_SONG, error)))
    return 0;
  sqlite3_bind_text (stmt, 1, song->uri, -1, SQLITE_TRANSIENT);
  bind_text_or_null (stmt, 2, song->title);
  bind_text_or_null (stmt, 3, song->artist);
  bind_text_or_null (stmt, 4, song->album);
  bind_text_or_null (stmt, 5, song->genre);
  sqlite3_bind_int64 (stmt, 6, song->duration_ms);
  sqlite3_bind_int (stmt, 7, song->track);
  sqlite3_bind_int64 (stmt, 8, song->size);
  sqlite3_bind_int64 (stmt, 9, song->mtime);
  sqlite3_bind_int64 (stmt, 10, g_get_real_time () / G_USEC_PER_SEC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_db_error (self, error, "adding a song");
      sqlite3_reset (stmt);
      return 0;
    }
  id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  note_change (self, MT_LIBRARY_CHANGE_SONGS);
  return id;
}

gboolean
mt_library_update_song (MtLibrary     *self,
                        const MtSong  *song,
                        GError       **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);
  g_return_val_if_fail (song != NULL && song->uri != NULL, FALSE);

  if (!(stmt = get_stmt (self, STMT_UPDATE_SONG, error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, song->id);
  sqlite3_bind_text (stmt, 2, song->uri, -1, SQLITE_TRANSIENT);
  bind_text_or_null (stmt, 3, song->title);
  bind_text_or_null (stmt, 4, song->artist);
  bind_text_or_null (stmt, 5, song->album);
  bind_text_or_null (stmt, 6, song->genre);
  sqlite3_bind_int64 (stmt, 7, song->duration_ms);
  sqlite3_bind_int (stmt, 8, song->track);
  sqlite3_bind_int64 (stmt, 9, song->size);
  sqlite3_bind_int64 (stmt, 10, song->mtime);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return set_db_error (self, error, "updating a song");
  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND,
                   "No song with id %" G_GINT64_FORMAT " in the library", song->id);
      return FALSE;
    }
  note_change (self, MT_LIBRARY_CHANGE_SONGS);
  return TRUE;
}

gboolean
mt_library_remove_song (MtLibrary  *self,
                        gint64      id,
                        GError    **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);

  if (!(stmt = get_stmt (self, STMT_DELETE_SONG, error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return set_db_error (self, error, "removing a song");
  note_change (self, MT_LIBRARY_CHANGE_SONGS);
  return TRUE;
}

gboolean
mt_library_set_missing (MtLibrary  *self,
                        gint64      id,
                        gint64      since,
                        GError    **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);
  g_return_val_if_fail (since >= 0, FALSE);

  if (!(stmt = get_stmt (self, STMT_SET_MISSING, error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, since);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return set_db_error (self, error, "marking a song missing");
  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND,
                   "No song with id %" G_GINT64_FORMAT " in the library", id);
      return FALSE;
    }
  note_change (self, MT_LIBRARY_CHANGE_SONGS);
  return TRUE;
}

gint64
mt_library_count_missing (MtLibrary  *self,
                          GError    **error)
{
  sqlite3_stmt *stmt;
  gint64 count;

  g_return_val_if_fail (MT_IS_LIBRARY (self), -1);

  if (!(stmt = get_stmt (self, STMT_COUNT_MISSING, error)))
    return -1;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_db_error (self, error, "counting missing songs");
      sqlite3_reset (stmt);
      return -1;
    }
  count = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return count;
}

gint64
mt_library_forget_missing (MtLibrary  *self,
                           gint64      missing_before,
                           GError    **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), -1);

  if (!(stmt = get_stmt (self, STMT_FORGET_MISSING, error)))
    return -1;
  sqlite3_bind_int64 (stmt, 1, missing_before);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, "forgetting missing songs");
      return -1;
    }
  /* Only the songs themselves: their moods and events go by cascade. */
  if (sqlite3_changes (self->db) > 0)
    note_change (self, MT_LIBRARY_CHANGE_SONGS);
  return sqlite3_changes (self->db);
}

MtSong *
mt_library_get_song (MtLibrary  *self,
                     gint64      id,
                     GError    **error)
{
  g_autoptr(MtSong) song = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), NULL);

  if (!(stmt = get_stmt (self, STMT_GET_SONG, error)))
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    song = song_from_row (stmt);
  sqlite3_reset (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND,
                   "No song with id %" G_GINT64_FORMAT " in the library", id);
      return NULL;
    }
  if (rc != SQLITE_ROW)
    {
      set_db_error (self, error, "reading a song");
      return NULL;
    }
  return g_steal_pointer (&song);
}

GPtrArray *
mt_library_list_songs (MtLibrary  *self,
                       GError    **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (MT_IS_LIBRARY (self), NULL);

  if (!(stmt = get_stmt (self, STMT_LIST_SONGS, error)))
    return NULL;
  return read_songs (self, stmt, FALSE, "listing songs", error);
}

static gboolean
song_exists (MtLibrary  *self,
             gint64      id,
             GError    **error)
{
  g_autoptr(MtSong) song = mt_library_get_song (self, id, error);
  return song != NULL;
}

gboolean
mt_library_set_mood_weights (MtLibrary     *self,
                             gint64         id,
                             MtMoodSource   source,
                             const double   weights[MT_N_MOODS],
                             GError       **error)
{
  double low = source == MT_MOOD_SOURCE_LEARNED ? -1.0 : 0.0;
  sqlite3_stmt *stmt;
  gboolean ok = TRUE;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);
  g_return_val_if_fail (source <= MT_MOOD_SOURCE_LEARNED, FALSE);

  for (int i = 0; i < MT_N_MOODS; i++)
    {
      if (!isnan (weights[i]) && (weights[i] > 1.0 || (source == MT_MOOD_SOURCE_LEARNED && weights[i] < low)))
        {
          g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
                       "Mood weight %g for “%s” is out of range [%g, 1]",
                       weights[i], mt_mood_to_string (i), low);
          return FALSE;
        }
    }

  if (!savepoint_begin (self, error))
    return FALSE;

  if (!(stmt = get_stmt (self, STMT_DELETE_MOODS, error)))
    return savepoint_end (self, FALSE, NULL);
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int (stmt, 2, source);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    ok = set_db_error (self, error, "clearing mood weights");
  sqlite3_reset (stmt);

  for (int i = 0; ok && i < MT_N_MOODS; i++)
    {
      /* Learned weights of 0 carry no information: leave them out. */
      if (isnan (weights[i]) || (source == MT_MOOD_SOURCE_LEARNED ? weights[i] == 0.0 : weights[i] < 0.0))
        continue;
      if (!(stmt = get_stmt (self, STMT_INSERT_MOOD, error)))
        {
          ok = FALSE;
          break;
        }
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_int (stmt, 2, i);
      sqlite3_bind_int (stmt, 3, source);
      sqlite3_bind_double (stmt, 4, weights[i]);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        ok = set_write_error (self, error, id, "storing a mood weight");
      sqlite3_reset (stmt);
    }

  return noted (self, savepoint_end_refreshing (self, id, ok, error), MT_LIBRARY_CHANGE_MOODS);
}

gboolean
mt_library_get_mood_weights (MtLibrary     *self,
                             gint64         id,
                             MtMoodSource   source,
                             double         weights[MT_N_MOODS],
                             GError       **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);

  if (!song_exists (self, id, error))
    return FALSE;
  for (int i = 0; i < MT_N_MOODS; i++)
    weights[i] = NAN;
  if (!(stmt = get_stmt (self, STMT_GET_SOURCE_MOODS, error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int (stmt, 2, source);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      int mood = sqlite3_column_int (stmt, 0);
      if (mt_mood_is_valid (mood))
        weights[mood] = sqlite3_column_double (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return set_db_error (self, error, "reading mood weights");
  return TRUE;
}

gboolean
mt_library_set_user_mood (MtLibrary  *self,
                          gint64      id,
                          MtMood      mood,
                          double      weight,
                          GError    **error)
{
  double weights[MT_N_MOODS];

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);

  if (!mt_mood_is_valid (mood))
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
                   "Unknown mood (known: %s)", mt_mood_list_names ());
      return FALSE;
    }
  if (!(weight >= 0.0 && weight <= 1.0))
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
                   "Mood weight %g is out of range: use a number from 0 to 1", weight);
      return FALSE;
    }
  if (!mt_library_get_mood_weights (self, id, MT_MOOD_SOURCE_USER, weights, error))
    return FALSE;
  weights[mood] = weight;
  return mt_library_set_mood_weights (self, id, MT_MOOD_SOURCE_USER, weights, error);
}

gboolean
mt_library_add_feedback (MtLibrary   *self,
                         gint64       id,
                         MtFeedback   feedback,
                         MtMood       mood,
                         gint64       at,
                         GError     **error)
{
  sqlite3_stmt *stmt;
  gboolean ok = TRUE;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);

  if (mt_feedback_to_string (feedback) == NULL)
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
                   "Unknown feedback (known: played, skipped, liked, disliked)");
      return FALSE;
    }
  if (mood != MT_MOOD_NONE && !mt_mood_is_valid (mood))
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
                   "Unknown mood (known: %s)", mt_mood_list_names ());
      return FALSE;
    }
  if (!song_exists (self, id, error))
    return FALSE;

  if (!savepoint_begin (self, error))
    return FALSE;

  if (!(stmt = get_stmt (self, STMT_INSERT_EVENT, error)))
    return savepoint_end (self, FALSE, NULL);
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, at);
  sqlite3_bind_int (stmt, 3, feedback);
  if (mood == MT_MOOD_NONE)
    sqlite3_bind_null (stmt, 4);
  else
    sqlite3_bind_int (stmt, 4, mood);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    ok = set_db_error (self, error, "recording feedback");
  sqlite3_reset (stmt);

  if (ok && (feedback == MT_FEEDBACK_PLAYED || feedback == MT_FEEDBACK_SKIPPED))
    {
      if (!(stmt = get_stmt (self, STMT_MARK_PLAYED, error)))
        return savepoint_end (self, FALSE, NULL);
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_int64 (stmt, 2, at);
      sqlite3_bind_int (stmt, 3, feedback == MT_FEEDBACK_PLAYED ? 1 : 0);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        ok = set_db_error (self, error, "marking a song played");
      sqlite3_reset (stmt);
    }

  if (ok && mood != MT_MOOD_NONE)
    {
      double learned[MT_N_MOODS];

      /* A learned weight with no row reads as NAN ("none"): that is 0 here. */
      ok = mt_library_get_mood_weights (self, id, MT_MOOD_SOURCE_LEARNED, learned, error);
      if (ok)
        {
          for (int i = 0; i < MT_N_MOODS; i++)
            if (isnan (learned[i]))
              learned[i] = 0.0;
          learned[mood] = CLAMP (learned[mood] + mt_feedback_get_learning_step (feedback), -1.0, 1.0);
          ok = mt_library_set_mood_weights (self, id, MT_MOOD_SOURCE_LEARNED, learned, error);
        }
    }

  return noted (self, savepoint_end (self, ok, error), MT_LIBRARY_CHANGE_FEEDBACK);
}

gint64
mt_library_count_feedback (MtLibrary   *self,
                           gint64       id,
                           MtFeedback   feedback,
                           GError     **error)
{
  sqlite3_stmt *stmt;
  gint64 count;

  g_return_val_if_fail (MT_IS_LIBRARY (self), -1);

  if (!(stmt = get_stmt (self, STMT_COUNT_EVENTS, error)))
    return -1;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int (stmt, 2, feedback);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_db_error (self, error, "counting feedback");
      sqlite3_reset (stmt);
      return -1;
    }
  count = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return count;
}

GPtrArray *
mt_library_top_for_mood (MtLibrary  *self,
                         MtMood      mood,
                         int         limit,
                         GError    **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (MT_IS_LIBRARY (self), NULL);
  g_return_val_if_fail (mt_mood_is_valid (mood), NULL);

  if (!(stmt = get_stmt (self, STMT_TOP_FOR_MOOD, error)))
    return NULL;
  sqlite3_bind_int (stmt, 1, mood);
  sqlite3_bind_int (stmt, 2, MAX (limit, 0));
  return read_songs (self, stmt, TRUE, "finding songs for a mood", error);
}

char *
mt_library_explain_top_for_mood (MtLibrary  *self,
                                 GError    **error)
{
  g_autofree char *sql = g_strconcat ("EXPLAIN QUERY PLAN ", stmt_sql[STMT_TOP_FOR_MOOD], NULL);
  g_autoptr(GString) plan = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), NULL);

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      set_db_error (self, error, "explaining the query");
      return NULL;
    }
  sqlite3_bind_int (stmt, 1, MT_MOOD_HAPPY);
  sqlite3_bind_int (stmt, 2, 200);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_string_append_printf (plan, "%s\n", (const char *) sqlite3_column_text (stmt, 3));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, "explaining the query");
      return NULL;
    }
  return g_string_free (g_steal_pointer (&plan), FALSE);
}

char *
mt_library_check_integrity (MtLibrary  *self,
                            GError    **error)
{
  g_autoptr(GString) result = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), NULL);

  if (sqlite3_prepare_v2 (self->db, "PRAGMA integrity_check", -1, &stmt, NULL) != SQLITE_OK)
    {
      set_db_error (self, error, "checking integrity");
      return NULL;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_string_append_printf (result, "%s%s", result->len ? "\n" : "",
                            (const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, "checking integrity");
      return NULL;
    }
  return g_string_free (g_steal_pointer (&result), FALSE);
}

void
mt_song_features_free (MtSongFeatures *features)
{
  if (features == NULL)
    return;
  g_free (features->features_json);
  g_free (features);
}

/* SQLite's LIMIT: a negative one is none. */
static gint64
sql_limit (guint limit)
{
  return limit == 0 ? -1 : (gint64) limit;
}

/* The analyzer's features must be what a model can read back: an object of
 * numbers (JSON has no NaN or infinity). */
static gboolean
check_features_json (const char  *features_json,
                     GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GList) members = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *object;

  if (features_json == NULL || !json_parser_load_from_data (parser, features_json, -1, &local_error))
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
                   "Audio features are not JSON: %s", local_error ? local_error->message : "none given");
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
                   "Audio features must be a JSON object of feature name -> number");
      return FALSE;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (object);
  for (GList *l = members; l; l = l->next)
    {
      JsonNode *node = json_object_get_member (object, l->data);
      GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

      if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
        {
          g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
                       "Audio feature “%s” is not a number", (const char *) l->data);
          return FALSE;
        }
    }
  return TRUE;
}

/* Replaces the song's analysis row (the model's output goes with it) and
 * its scores, which then fall back to its tags: one atomic write. */
static gboolean
store_audio (MtLibrary     *self,
             gint64         id,
             MtAudioState   state,
             const char    *reason,
             gint64         size,
             gint64         mtime,
             int            features_version,
             const char    *features_json,
             double         tempo,
             double         loudness,
             gint64         duration_analysed_ms,
             GError       **error)
{
  sqlite3_stmt *stmt;
  gboolean ok = TRUE;

  if (!savepoint_begin (self, error))
    return FALSE;
  if (!(stmt = get_stmt (self, STMT_SET_AUDIO, error)))
    return savepoint_end (self, FALSE, NULL);
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int (stmt, 2, state);
  bind_text_or_null (stmt, 3, reason);
  sqlite3_bind_int (stmt, 4, features_version);
  sqlite3_bind_int64 (stmt, 5, size);
  sqlite3_bind_int64 (stmt, 6, mtime);
  bind_text_or_null (stmt, 7, features_json);
  bind_double_or_null (stmt, 8, tempo);
  bind_double_or_null (stmt, 9, loudness);
  if (state == MT_AUDIO_STATE_ANALYSED)
    sqlite3_bind_int64 (stmt, 10, duration_analysed_ms);
  sqlite3_bind_int64 (stmt, 11, g_get_real_time () / G_USEC_PER_SEC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    ok = set_write_error (self, error, id, "storing an audio analysis");
  sqlite3_reset (stmt);
  return savepoint_end_refreshing (self, id, ok, error);
}

gboolean
mt_library_set_audio_features (MtLibrary   *self,
                               gint64       id,
                               gint64       size,
                               gint64       mtime,
                               int          features_version,
                               const char  *features_json,
                               double       tempo,
                               double       loudness,
                               gint64       duration_analysed_ms,
                               GError     **error)
{
  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);

  if (!check_features_json (features_json, error))
    return FALSE;
  if (duration_analysed_ms < 0)
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
                   "Analysed duration %" G_GINT64_FORMAT " ms is negative", duration_analysed_ms);
      return FALSE;
    }
  return store_audio (self, id, MT_AUDIO_STATE_ANALYSED, NULL, size, mtime, features_version,
                      features_json, tempo, loudness, duration_analysed_ms, error);
}

gboolean
mt_library_set_audio_failed (MtLibrary   *self,
                             gint64       id,
                             gint64       size,
                             gint64       mtime,
                             int          features_version,
                             const char  *reason,
                             GError     **error)
{
  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);

  return store_audio (self, id, MT_AUDIO_STATE_FAILED,
                      reason != NULL && reason[0] != '\0' ? reason : "unknown reason",
                      size, mtime, features_version, NULL, NAN, NAN, 0, error);
}

static gboolean
check_range (double       value,
             double       low,
             const char  *what,
             GError     **error)
{
  if (value >= low && value <= 1.0)
    return TRUE;
  g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
               "%s %g is out of range [%g, 1]", what, value, low);
  return FALSE;
}

gboolean
mt_library_set_audio_mood (MtLibrary     *self,
                           gint64         id,
                           const char    *model_version,
                           double         valence,
                           double         arousal,
                           const double   weights[MT_N_MOODS],
                           double         tag_weight,
                           GError       **error)
{
  sqlite3_stmt *stmt;
  gboolean ok = TRUE;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);
  g_return_val_if_fail (weights != NULL, FALSE);

  if (model_version == NULL || model_version[0] == '\0')
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID, "An audio mood needs a model version");
      return FALSE;
    }
  if (!check_range (valence, -1.0, "Valence", error) ||
      !check_range (arousal, -1.0, "Arousal", error) ||
      !check_range (tag_weight, 0.0, "Tag weight", error))
    return FALSE;
  for (int i = 0; i < MT_N_MOODS; i++)
    {
      g_autofree char *what = g_strdup_printf ("Audio weight of “%s”", mt_mood_to_string (i));
      if (!check_range (weights[i], 0.0, what, error))
        return FALSE;
    }

  if (!savepoint_begin (self, error))
    return FALSE;
  if (!(stmt = get_stmt (self, STMT_SET_AUDIO_MOOD, error)))
    return savepoint_end (self, FALSE, NULL);
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, model_version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double (stmt, 3, valence);
  sqlite3_bind_double (stmt, 4, arousal);
  sqlite3_bind_double (stmt, 5, tag_weight);
  for (int i = 0; i < MT_N_MOODS; i++)
    sqlite3_bind_double (stmt, 6 + i, weights[i]);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    ok = set_db_error (self, error, "storing an audio mood");
  sqlite3_reset (stmt);
  if (ok && sqlite3_changes (self->db) == 0)
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND,
                   "Song %" G_GINT64_FORMAT " has no analysed audio features", id);
      ok = FALSE;
    }
  return noted (self, savepoint_end_refreshing (self, id, ok, error), MT_LIBRARY_CHANGE_MOODS);
}

GPtrArray *
mt_library_list_audio_pending (MtLibrary  *self,
                               int         features_version,
                               guint       limit,
                               GError    **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (MT_IS_LIBRARY (self), NULL);

  if (!(stmt = get_stmt (self, STMT_AUDIO_PENDING, error)))
    return NULL;
  sqlite3_bind_int (stmt, 1, features_version);
  sqlite3_bind_int64 (stmt, 2, sql_limit (limit));
  return read_songs (self, stmt, FALSE, "listing songs to analyse", error);
}

GPtrArray *
mt_library_list_audio_stale (MtLibrary   *self,
                             const char  *model_version,
                             guint        limit,
                             GError     **error)
{
  g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_song_features_free);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), NULL);
  g_return_val_if_fail (model_version != NULL, NULL);

  if (!(stmt = get_stmt (self, STMT_AUDIO_STALE, error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, model_version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, sql_limit (limit));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      MtSongFeatures *features = g_new0 (MtSongFeatures, 1);

      features->song_id = sqlite3_column_int64 (stmt, 0);
      features->features_json = dup_column_text (stmt, 1);
      g_ptr_array_add (stale, features);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, "listing songs to derive moods for");
      return NULL;
    }
  return g_steal_pointer (&stale);
}

gboolean
mt_library_count_audio (MtLibrary  *self,
                        int         features_version,
                        gint64     *analysed,
                        gint64     *failed,
                        gint64     *pending,
                        GError    **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);

  if (!(stmt = get_stmt (self, STMT_COUNT_AUDIO, error)))
    return FALSE;
  sqlite3_bind_int (stmt, 1, features_version);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return set_db_error (self, error, "counting analysed songs");
    }
  if (analysed)
    *analysed = sqlite3_column_int64 (stmt, 0);
  if (failed)
    *failed = sqlite3_column_int64 (stmt, 1);
  if (pending)
    *pending = sqlite3_column_int64 (stmt, 2);
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
mt_library_get_audio_state (MtLibrary     *self,
                            gint64         id,
                            MtAudioState  *out_state,
                            char         **out_reason,
                            GError       **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);
  g_return_val_if_fail (out_state != NULL, FALSE);

  if (out_reason)
    *out_reason = NULL;
  if (!(stmt = get_stmt (self, STMT_GET_AUDIO_STATE, error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *out_state = (MtAudioState) sqlite3_column_int (stmt, 0);
      if (out_reason && *out_state == MT_AUDIO_STATE_FAILED)
        *out_reason = dup_column_text (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (rc == SQLITE_DONE)
    return set_not_found (error, id);
  if (rc != SQLITE_ROW)
    return set_db_error (self, error, "reading a song's audio analysis");
  return TRUE;
}

char *
mt_library_get_audio_failure (MtLibrary  *self,
                              gint64      id,
                              GError    **error)
{
  MtAudioState state;
  char *reason = NULL;

  g_return_val_if_fail (MT_IS_LIBRARY (self), NULL);

  if (!mt_library_get_audio_state (self, id, &state, &reason, error))
    return NULL;
  return reason;
}
