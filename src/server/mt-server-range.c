/* mt-server-range.c: the Range header of a song's audio request.
 *
 * Browsers seek in an <audio> element with one range ("bytes=0-" first, to
 * learn that ranges work, then "bytes=N-").  Several ranges would need a
 * multipart/byteranges body no player asks for, so they get the whole file
 * (RFC 9110 lets a server ignore Range); a header that is malformed,
 * backwards or beyond the end is a 416, so a client's bug shows instead of
 * silently playing from the start.
 */
#include "config.h"

#include "mt-server-range.h"

typedef enum {
  SPEC_SATISFIABLE,
  SPEC_BEYOND,      /* well formed, but nothing of this file */
  SPEC_MALFORMED,   /* not a range-spec, or last < first */
} Spec;

static const char *
skip_ows (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* 1*DIGIT; saturates at G_MAXUINT64 (no file is that large, so an
 * overflowing first position is simply beyond the end).  FALSE without a
 * digit. */
static gboolean
read_digits (const char **p,
             guint64     *value)
{
  const char *at = *p;
  guint64 v = 0;

  if (!g_ascii_isdigit (*at))
    return FALSE;
  for (; g_ascii_isdigit (*at); at++)
    {
      guint digit = *at - '0';

      v = v > (G_MAXUINT64 - digit) / 10 ? G_MAXUINT64 : v * 10 + digit;
    }
  *p = at;
  *value = v;
  return TRUE;
}

/* One range-spec, from @p up to (not including) the next ',' or the end. */
static Spec
read_spec (const char **p,
           guint64      size,
           guint64     *first,
           guint64     *last)
{
  guint64 a = 0, b = 0;
  gboolean has_first, has_last;

  has_first = read_digits (p, &a);
  if (**p != '-')
    return SPEC_MALFORMED;
  (*p)++;
  has_last = read_digits (p, &b);
  *p = skip_ows (*p);
  if (**p != ',' && **p != '\0')
    return SPEC_MALFORMED;

  if (!has_first)
    {
      /* suffix-range: the last b bytes (all of a shorter file). */
      if (!has_last)
        return SPEC_MALFORMED;
      if (b == 0 || size == 0)
        return SPEC_BEYOND;
      *first = size - MIN (b, size);
      *last = size - 1;
      return SPEC_SATISFIABLE;
    }
  if (has_last && b < a)
    return SPEC_MALFORMED;
  if (a >= size)
    return SPEC_BEYOND;
  *first = a;
  *last = has_last ? MIN (b, size - 1) : size - 1;
  return SPEC_SATISFIABLE;
}

MtServerRange
mt_server_parse_range (const char *header,
                       guint64     size,
                       guint64    *first,
                       guint64    *last)
{
  const char *p;
  guint n_specs = 0, n_satisfiable = 0;
  guint64 a = 0, b = 0;

  *first = *last = 0;
  if (header == NULL)
    return MT_SERVER_RANGE_WHOLE;
  p = skip_ows (header);
  /* Another range unit (or none): ignored, as RFC 9110 says. */
  if (g_ascii_strncasecmp (p, "bytes=", 6) != 0)
    return MT_SERVER_RANGE_WHOLE;
  p += 6;

  for (;;)
    {
      p = skip_ows (p);
      /* A list may hold empty elements ("0-1,,5-9"); skip them. */
      if (*p == ',')
        {
          p++;
          continue;
        }
      if (*p == '\0')
        break;
      n_specs++;
      switch (read_spec (&p, size, &a, &b))
        {
        case SPEC_MALFORMED:
          *first = *last = 0;
          return MT_SERVER_RANGE_UNSATISFIABLE;
        case SPEC_SATISFIABLE:
          /* The first satisfiable range is the one sent when it is alone. */
          if (n_satisfiable++ == 0)
            {
              *first = a;
              *last = b;
            }
          break;
        case SPEC_BEYOND:
          break;
        }
    }

  if (n_satisfiable == 0)
    {
      *first = *last = 0;
      return MT_SERVER_RANGE_UNSATISFIABLE;   /* nothing asked for, or nothing there */
    }
  if (n_specs > 1)
    {
      *first = *last = 0;
      return MT_SERVER_RANGE_WHOLE;
    }
  return MT_SERVER_RANGE_PARTIAL;
}
