/* hark-uri.h — SIP URI checks shared by profiles, calls and subscriptions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  HARK_URI_NEED_USER = 1 << 0,  /* an address of record: sip:user@host */
} HarkUriFlags;

gboolean hark_uri_check (const char   *uri,
                         HarkUriFlags  flags,
                         const char   *what,
                         GError      **error);

G_END_DECLS
