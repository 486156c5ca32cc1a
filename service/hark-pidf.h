/* hark-pidf.h — RFC 3863 presence documents (PIDF)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HARK_PIDF_CONTENT_TYPE "application/pidf+xml"
#define HARK_PIDF_NAMESPACE    "urn:ietf:params:xml:ns:pidf"

gboolean  hark_pidf_parse       (const char  *body,
                                 gssize       length,
                                 char       **out_basic,
                                 char       **out_note,
                                 GError     **error);
gboolean  hark_pidf_check_basic (const char  *basic,
                                 GError     **error);
char     *hark_pidf_build       (const char  *entity,
                                 const char  *basic,
                                 const char  *note);

G_END_DECLS
