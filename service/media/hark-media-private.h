/* hark-media-private.h — media internals shared with the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gst/gst.h>

#include "hark-media-session.h"

G_BEGIN_DECLS

gboolean    hark_media_ensure_gst   (GError     **error);
GstElement *hark_media_make_element (const char  *factory,
                                     const char  *name,
                                     GError     **error);

GstClockTime hark_media_session_query_decoded_latency (HarkMediaSession *self);

G_END_DECLS
