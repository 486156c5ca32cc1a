/* hark-profile-store.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-types.h"

G_BEGIN_DECLS

#define HARK_TYPE_PROFILE_STORE (hark_profile_store_get_type ())
G_DECLARE_FINAL_TYPE (HarkProfileStore, hark_profile_store, HARK, PROFILE_STORE, GObject)

HarkProfileStore *hark_profile_store_new            (GDBusObjectManagerServer *server,
                                                     HarkSecretStore          *secrets,
                                                     const char               *path);
gboolean          hark_profile_store_load           (HarkProfileStore         *self,
                                                     GError                  **error);
void              hark_profile_store_start          (HarkProfileStore         *self);
GDBusObjectManagerServer *hark_profile_store_get_server (HarkProfileStore     *self);
HarkSecretStore  *hark_profile_store_get_secrets    (HarkProfileStore         *self);
GPtrArray        *hark_profile_store_get_profiles   (HarkProfileStore         *self);
HarkProfile      *hark_profile_store_get_default    (HarkProfileStore         *self);
void              hark_profile_store_set_default    (HarkProfileStore         *self,
                                                     HarkProfile              *profile);
HarkProfile      *hark_profile_store_find_by_name   (HarkProfileStore         *self,
                                                     const char               *name);
HarkProfile      *hark_profile_store_lookup         (HarkProfileStore         *self,
                                                     const char               *object_path,
                                                     GError                  **error);
void              hark_profile_store_remove         (HarkProfileStore         *self,
                                                     HarkProfile              *profile);
void              hark_profile_store_create_async   (HarkProfileStore         *self,
                                                     GVariant                 *settings,
                                                     GCancellable             *cancellable,
                                                     GAsyncReadyCallback       callback,
                                                     gpointer                  user_data);
HarkProfile      *hark_profile_store_create_finish  (HarkProfileStore         *self,
                                                     GAsyncResult             *result,
                                                     GError                  **error);
void              hark_profile_store_save_async     (HarkProfileStore         *self,
                                                     GCancellable             *cancellable,
                                                     GAsyncReadyCallback       callback,
                                                     gpointer                  user_data);
gboolean          hark_profile_store_save_finish    (HarkProfileStore         *self,
                                                     GAsyncResult             *result,
                                                     GError                  **error);

G_END_DECLS
