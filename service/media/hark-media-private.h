/* hark-media-private.h — media internals shared with the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

gboolean    hark_media_ensure_gst   (GError     **error);
GstElement *hark_media_make_element (const char  *factory,
                                     const char  *name,
                                     GError     **error);

G_END_DECLS
