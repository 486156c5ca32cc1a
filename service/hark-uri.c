/* hark-uri.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sofia-sip/url.h>
#include <sofia-sip/su_alloc.h>

#include "hark-error.h"
#include "hark-uri.h"

static gboolean
has_control_or_space (const char *s)
{
  for (; *s != '\0'; s++)
    if (g_ascii_iscntrl (*s) || *s == ' ')
      return TRUE;
  return FALSE;
}

/**
 * hark_uri_check:
 * @uri: the text to check
 * @flags: extra requirements
 * @what: how to name the value in an error, e.g. "Setting “registrar”"
 *
 * Parses @uri with Sofia-SIP's URL parser and accepts only sip: and sips:
 * URIs with a host.
 */
gboolean
hark_uri_check (const char   *uri,
                HarkUriFlags  flags,
                const char   *what,
                GError      **error)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  url_t *url;
  gboolean ok = FALSE;

  g_return_val_if_fail (uri != NULL, FALSE);

  if (*uri == '\0' || has_control_or_space (uri) || strlen (uri) > 1024)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "%s: “%s” is not a SIP URI (expected e.g. sip:alice@example.org)",
                   what, uri);
      return FALSE;
    }

  url = url_make (home, uri);
  if (url == NULL || (url->url_type != url_sip && url->url_type != url_sips))
    g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                 "%s: “%s” is not a SIP URI (expected e.g. sip:alice@example.org)",
                 what, uri);
  else if (url->url_host == NULL || *url->url_host == '\0')
    g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                 "%s: “%s” has no host", what, uri);
  else if ((flags & HARK_URI_NEED_USER) && (url->url_user == NULL || *url->url_user == '\0'))
    g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                 "%s: “%s” has no user part (expected e.g. sip:alice@example.org)",
                 what, uri);
  else
    ok = TRUE;

  su_home_deinit (home);
  return ok;
}
