/* hark-media-session.h — one call's audio: a GStreamer RTP pipeline
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-media-types.h"

G_BEGIN_DECLS

#define HARK_TYPE_MEDIA_SESSION (hark_media_session_get_type ())

G_DECLARE_FINAL_TYPE (HarkMediaSession, hark_media_session, HARK, MEDIA_SESSION, GObject)

HarkMediaSession *hark_media_session_new          (const HarkMediaParams  *params,
                                                   GError                **error);
void              hark_media_session_new_async    (const HarkMediaParams  *params,
                                                   GCancellable           *cancellable,
                                                   GAsyncReadyCallback     callback,
                                                   gpointer                user_data);
HarkMediaSession *hark_media_session_new_finish   (GAsyncResult           *result,
                                                   GError                **error);
void              hark_media_preload              (void);
gboolean          hark_media_session_start        (HarkMediaSession       *self,
                                                   GError                **error);
gboolean          hark_media_session_update       (HarkMediaSession       *self,
                                                   const HarkMediaParams  *params,
                                                   GError                **error);
void              hark_media_session_set_muted    (HarkMediaSession       *self,
                                                   gboolean                muted);
gboolean          hark_media_session_get_muted    (HarkMediaSession       *self);
HarkMediaDirection hark_media_session_get_direction (HarkMediaSession     *self);
const char       *hark_media_session_get_codec    (HarkMediaSession       *self);
gboolean          hark_media_session_get_encrypted (HarkMediaSession      *self);
guint             hark_media_session_get_local_port (HarkMediaSession     *self);
gboolean          hark_media_session_send_dtmf    (HarkMediaSession       *self,
                                                   const char             *digits,
                                                   GError                **error);
GVariant         *hark_media_session_get_stats    (HarkMediaSession       *self);
void              hark_media_session_stop_async   (HarkMediaSession       *self,
                                                   GCancellable           *cancellable,
                                                   GAsyncReadyCallback     callback,
                                                   gpointer                user_data);
gboolean          hark_media_session_stop_finish  (HarkMediaSession       *self,
                                                   GAsyncResult           *result,
                                                   GError                **error);

gboolean          hark_media_codec_is_available   (const char             *name,
                                                   GError                **error);
gboolean          hark_media_codec_is_offered     (const char             *encoding);

G_END_DECLS
