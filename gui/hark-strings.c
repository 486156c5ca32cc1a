/* hark-strings.c: the daemon's states and reasons in words
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "hark-strings.h"

typedef struct {
  const char *id;
  const char *words;
} Word;

static const char *
lookup (const Word *table,
        gsize       n_entries,
        const char *id)
{
  for (gsize i = 0; i < n_entries; i++)
    if (g_strcmp0 (table[i].id, id) == 0)
      return _(table[i].words);

  return NULL;
}

static const char *
registration_reason (const char *reason)
{
  static const Word reasons[] = {
    { "auth-failed", N_("wrong password") },
    { "timeout", N_("the server does not answer") },
    { "network", N_("no network connection to the server") },
    { "server-error", N_("server error") },
    { "rejected", N_("refused by the server") },
    { "not-supported", N_("a setting is not supported") },
    { "tls-verify-failed", N_("the server’s certificate is not trusted") },
    { "shutdown", N_("the service is stopping") },
  };

  return lookup (reasons, G_N_ELEMENTS (reasons), reason);
}

/**
 * hark_registration_describe:
 *
 * Returns: (transfer full): e.g. "Registered" or "Failed: wrong password"
 */
char *
hark_registration_describe (const char *state,
                            const char *reason,
                            guint       status_code)
{
  static const Word states[] = {
    { "unregistered", N_("Not registered") },
    { "registering", N_("Registering…") },
    { "registered", N_("Registered") },
    { "unregistering", N_("Unregistering…") },
  };
  const char *words;

  if (g_strcmp0 (state, "failed") == 0)
    {
      const char *why = registration_reason (reason);

      if (why != NULL)
        /* Translators: %s says why registering failed, e.g. "wrong password" */
        return g_strdup_printf (_("Failed: %s"), why);
      if (status_code != 0)
        /* Translators: %u is a SIP status code such as 403 */
        return g_strdup_printf (_("Failed: error %u"), status_code);
      return g_strdup (_("Failed"));
    }

  words = lookup (states, G_N_ELEMENTS (states), state);
  return g_strdup (words != NULL ? words : _("Not registered"));
}

const char *
hark_call_state_to_string (const char *state)
{
  static const Word states[] = {
    { "calling", N_("Calling…") },
    { "ringing", N_("Ringing…") },
    { "early", N_("Ringing…") },
    { "active", N_("Active") },
    { "held", N_("On hold") },
    { "terminating", N_("Hanging up…") },
    { "terminated", N_("Ended") },
  };
  const char *words = lookup (states, G_N_ELEMENTS (states), state);

  return words != NULL ? words : "";
}

/**
 * hark_call_reason_to_string:
 *
 * Returns: (nullable): why a call ended, in words, or %NULL when there is nothing to say
 */
const char *
hark_call_reason_to_string (const char *reason)
{
  static const Word reasons[] = {
    { "rejected", N_("Rejected") },
    { "busy", N_("Busy") },
    { "declined", N_("Declined") },
    { "unreachable", N_("Not reachable") },
    { "cancelled", N_("Cancelled") },
    { "remote-hangup", N_("The other side hung up") },
    { "local-hangup", N_("You hung up") },
    { "timeout", N_("No answer") },
    { "auth-failed", N_("Wrong password") },
    { "transferred", N_("Transferred") },
    { "encryption-mismatch", N_("Encryption settings do not match") },
    { "failed", N_("Failed") },
  };

  return lookup (reasons, G_N_ELEMENTS (reasons), reason);
}

char *
hark_call_describe (const char *state,
                    const char *reason,
                    guint       status_code)
{
  const char *why = hark_call_reason_to_string (reason);

  if (g_strcmp0 (state, "terminated") == 0 && why != NULL)
    /* Translators: "Ended: Busy" */
    return g_strdup_printf (_("Ended: %s"), why);

  return g_strdup (hark_call_state_to_string (state));
}

char *
hark_format_duration (gint64 seconds)
{
  if (seconds >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", seconds / 3600,
                            (int) (seconds / 60 % 60), (int) (seconds % 60));

  return g_strdup_printf ("%02d:%02d", (int) (seconds / 60), (int) (seconds % 60));
}

/**
 * hark_error_key:
 * @message: an InvalidArgument message, "Setting “key”: what is wrong"
 * @rest: (out) (optional): "what is wrong"
 *
 * Returns: (nullable) (transfer full): the setting's key
 */
char *
hark_error_key (const char  *message,
                char       **rest)
{
  const char *start, *end;

  if (message == NULL || !g_str_has_prefix (message, "Setting “"))
    return NULL;

  start = message + strlen ("Setting “");
  end = strstr (start, "”");
  if (end == NULL)
    return NULL;

  if (rest != NULL)
    {
      const char *after = end + strlen ("”");

      if (g_str_has_prefix (after, ":"))
        after++;
      *rest = g_strchug (g_strdup (after));
    }

  return g_strndup (start, end - start);
}
