/* hark-mwi.c — RFC 3842 message-summary bodies
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * message-summary = msg-status-line CRLF [msg-account CRLF]
 *                   [*(msg-summary-line CRLF)] [*opt-msg-headers]
 *
 * Parsed by hand: the grammar is line based and small. Bodies come from
 * the network, so every malformed part is an error with a message that
 * says which line is wrong, never a crash or a guess.
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <string.h>

#include "hark-error.h"
#include "hark-mwi.h"

/* message-context-class of RFC 3458, as RFC 3842 lists them */
static const char * const context_classes[] = {
  "voice-message", "fax-message", "pager-message", "multimedia-message", "text-message",
  "none", NULL
};

/* Longer bodies are not message summaries a PBX sends. */
#define MAX_BODY 65536

static gboolean
fail (GError     **error,
      guint        line_no,
      const char  *format,
      ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError     **error,
      guint        line_no,
      const char  *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
               "message-summary line %u: %s", line_no, message);
  return FALSE;
}

static void
skip_ws (const char **p)
{
  while (**p == ' ' || **p == '\t')
    (*p)++;
}

static gboolean
is_token_char (char c)
{
  /* strchr() finds the terminating NUL too: a line that is all token
   * would run off its end */
  return c != '\0' && (g_ascii_isalnum (c) || strchr ("-.!%*_+`'~", c) != NULL);
}

/* "Name HCOLON value": splits @line into a name (a token) and the value
 * with surrounding white space removed. */
static gboolean
split_header (char   *line,
              char  **out_name,
              char  **out_value)
{
  char *p = line;
  char *name_end;

  while (is_token_char (*p))
    p++;
  if (p == line)
    return FALSE;
  name_end = p;
  skip_ws ((const char **) &p);
  if (*p != ':')
    return FALSE;
  *name_end = '\0';
  p++;
  *out_name = line;
  *out_value = g_strstrip (p);
  return TRUE;
}

static gboolean
parse_count (const char **p,
             guint       *out)
{
  const char *start = *p;
  g_autofree char *digits = NULL;
  guint64 value;

  while (g_ascii_isdigit (**p))
    (*p)++;
  if (*p == start || *p - start > 10)
    return FALSE;
  digits = g_strndup (start, *p - start);
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT32, &value, NULL))
    return FALSE;
  *out = (guint) value;
  return TRUE;
}

/* newmsgs SLASH oldmsgs [ LPAREN new-urgentmsgs SLASH old-urgentmsgs RPAREN ] */
static gboolean
parse_counts (const char    *value,
              HarkMwiCounts *out)
{
  const char *p = value;
  HarkMwiCounts counts = { 0 };

  if (!parse_count (&p, &counts.new_messages))
    return FALSE;
  skip_ws (&p);
  if (*p++ != '/')
    return FALSE;
  skip_ws (&p);
  if (!parse_count (&p, &counts.old_messages))
    return FALSE;
  skip_ws (&p);

  if (*p == '(')
    {
      p++;
      skip_ws (&p);
      if (!parse_count (&p, &counts.new_urgent))
        return FALSE;
      skip_ws (&p);
      if (*p++ != '/')
        return FALSE;
      skip_ws (&p);
      if (!parse_count (&p, &counts.old_urgent))
        return FALSE;
      skip_ws (&p);
      if (*p++ != ')')
        return FALSE;
      skip_ws (&p);
    }

  if (*p != '\0')
    return FALSE;

  *out = counts;
  return TRUE;
}

/**
 * hark_mwi_summary_clear:
 *
 * Frees what @summary holds and zeroes it.
 */
void
hark_mwi_summary_clear (HarkMwiSummary *summary)
{
  g_return_if_fail (summary != NULL);

  g_clear_pointer (&summary->account, g_free);
  memset (summary, 0, sizeof *summary);
}

/**
 * hark_mwi_parse:
 * @body: the NOTIFY body
 * @length: its length, or -1 if nul-terminated
 * @out: (out caller-allocates): the summary; cleared first, left cleared on error
 *
 * Parses an `application/simple-message-summary` body (RFC 3842 section
 * 5.2). Header names are case-insensitive, lines may end in CRLF or LF.
 *
 * Returns: %FALSE with %HARK_ERROR_INVALID_ARGUMENT naming the bad line
 */
gboolean
hark_mwi_parse (const char      *body,
                gssize           length,
                HarkMwiSummary  *out,
                GError         **error)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  HarkMwiSummary summary = { 0 };
  gboolean have_status = FALSE;
  gsize len;

  g_return_val_if_fail (body != NULL || length == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof *out);

  len = length < 0 ? strlen (body) : (gsize) length;
  if (len > MAX_BODY)
    return fail (error, 0, "the body is longer than %u bytes", MAX_BODY);
  if (len > 0 && memchr (body, '\0', len) != NULL)
    return fail (error, 0, "the body contains a NUL byte");
  if (!g_utf8_validate (body, len, NULL))
    return fail (error, 0, "the body is not UTF-8 text");

  text = g_strndup (body, len);
  lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      gsize line_len = strlen (line);
      char *name;
      char *value;

      if (line_len > 0 && line[line_len - 1] == '\r')
        line[--line_len] = '\0';

      if (!have_status)
        {
          if (line_len == 0)
            continue;   /* tolerate blank lines before the status line */
          if (!split_header (line, &name, &value) ||
              g_ascii_strcasecmp (name, "Messages-Waiting") != 0)
            return fail (error, i + 1, "expected “Messages-Waiting: yes” or “…: no”");
          if (g_ascii_strcasecmp (value, "yes") == 0)
            summary.messages_waiting = TRUE;
          else if (g_ascii_strcasecmp (value, "no") != 0)
            return fail (error, i + 1, "Messages-Waiting is “%s”, not yes or no", value);
          have_status = TRUE;
          continue;
        }

      /* An empty line starts the optional message headers (RFC 3842
       * section 5.2, opt-msg-headers): not part of the summary. */
      if (line_len == 0)
        break;

      if (!split_header (line, &name, &value))
        {
          hark_mwi_summary_clear (&summary);
          return fail (error, i + 1, "expected “Name: value”");
        }

      if (g_ascii_strcasecmp (name, "Message-Account") == 0)
        {
          if (summary.account != NULL || *value == '\0' || strchr (value, ':') == NULL)
            {
              gboolean twice = summary.account != NULL;

              hark_mwi_summary_clear (&summary);
              return twice ? fail (error, i + 1, "Message-Account given twice")
                           : fail (error, i + 1, "Message-Account “%s” is not a URI", value);
            }
          summary.account = g_strdup (value);
          continue;
        }

      for (guint c = 0; context_classes[c] != NULL; c++)
        {
          HarkMwiCounts counts;

          if (g_ascii_strcasecmp (name, context_classes[c]) != 0)
            continue;

          if (g_hash_table_contains (seen, context_classes[c]))
            {
              hark_mwi_summary_clear (&summary);
              return fail (error, i + 1, "%s given twice", context_classes[c]);
            }
          g_hash_table_add (seen, (gpointer) context_classes[c]);

          if (!parse_counts (value, &counts))
            {
              hark_mwi_summary_clear (&summary);
              return fail (error, i + 1, "“%s” is not “new/old” or “new/old (urgent-new/urgent-old)”",
                           value);
            }
          if (c == 0)
            {
              summary.has_voice = TRUE;
              summary.voice = counts;
            }
        }
      /* Other lines (extensions) are ignored, as RFC 3842 asks. */
    }

  if (!have_status)
    return fail (error, 1, "the body is empty; expected “Messages-Waiting: yes” or “…: no”");

  *out = summary;
  return TRUE;
}
