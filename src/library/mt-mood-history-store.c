/* mt-mood-history-store.c: the mood_history table (schema 5). */
#define G_LOG_DOMAIN "mt-library"

#include "config.h"

#include "mt-library-private.h"
#include "mt-mood-history-store.h"

gboolean
mt_library_add_mood_minute (MtLibrary          *self,
                            const MtMoodMinute *minute,
                            GError            **error)
{
  sqlite3 *db;
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), FALSE);
  g_return_val_if_fail (minute != NULL, FALSE);

  if (minute->mood != MT_MOOD_NONE && !mt_mood_is_valid (minute->mood))
    {
      g_set_error (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID, "Unknown mood (known: %s)",
                   mt_mood_list_names ());
      return FALSE;
    }
  for (int i = 0; i < MT_N_MOODS; i++)
    if (!(minute->probabilities[i] >= 0.0f && minute->probabilities[i] <= 1.0f))
      {
        g_set_error_literal (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_INVALID,
                             "A mood probability is not between 0 and 1");
        return FALSE;
      }

  db = _mt_library_get_db (self);
  if (sqlite3_prepare_v2 (db, "INSERT OR REPLACE INTO mood_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          -1, &stmt, NULL) != SQLITE_OK)
    return _mt_library_set_db_error (self, error, "preparing to keep the mood");
  sqlite3_bind_int64 (stmt, 1, minute->minute);
  if (minute->mood == MT_MOOD_NONE)
    sqlite3_bind_null (stmt, 2);
  else
    sqlite3_bind_int (stmt, 2, minute->mood);
  for (int i = 0; i < MT_N_MOODS; i++)
    sqlite3_bind_double (stmt, 3 + i, minute->probabilities[i]);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return _mt_library_set_db_error (self, error, "keeping the mood");
  return TRUE;
}

GArray *
mt_library_list_mood_minutes (MtLibrary  *self,
                              gint64      since,
                              GError    **error)
{
  g_autoptr(GArray) minutes = g_array_new (FALSE, TRUE, sizeof (MtMoodMinute));
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_return_val_if_fail (MT_IS_LIBRARY (self), NULL);

  if (sqlite3_prepare_v2 (_mt_library_get_db (self),
                          "SELECT * FROM mood_history WHERE minute >= ? ORDER BY minute", -1, &stmt,
                          NULL) != SQLITE_OK)
    {
      _mt_library_set_db_error (self, error, "preparing to read the mood history");
      return NULL;
    }
  sqlite3_bind_int64 (stmt, 1, since);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      MtMoodMinute minute = { .minute = sqlite3_column_int64 (stmt, 0) };

      minute.mood = sqlite3_column_type (stmt, 1) == SQLITE_NULL ? MT_MOOD_NONE
                                                                 : (MtMood) sqlite3_column_int (stmt, 1);
      for (int i = 0; i < MT_N_MOODS; i++)
        minute.probabilities[i] = (float) sqlite3_column_double (stmt, 2 + i);
      g_array_append_val (minutes, minute);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _mt_library_set_db_error (self, error, "reading the mood history");
      return NULL;
    }
  return g_steal_pointer (&minutes);
}

gint64
mt_library_delete_mood_history (MtLibrary  *self,
                                GError    **error)
{
  sqlite3 *db;

  gint64 deleted;

  g_return_val_if_fail (MT_IS_LIBRARY (self), -1);

  db = _mt_library_get_db (self);
  /* Deleted means gone from the file: freed pages are zeroed, and the
   * write-ahead log that still held them is folded in and emptied. */
  if (sqlite3_exec (db, "PRAGMA secure_delete = ON", NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_exec (db, "DELETE FROM mood_history", NULL, NULL, NULL) != SQLITE_OK)
    {
      _mt_library_set_db_error (self, error, "deleting the mood history");
      sqlite3_exec (db, "PRAGMA secure_delete = OFF", NULL, NULL, NULL);
      return -1;
    }
  deleted = sqlite3_changes (db);
  sqlite3_exec (db, "PRAGMA secure_delete = OFF", NULL, NULL, NULL);
  sqlite3_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  return deleted;
}
