/* hark-secret-store.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define HARK_TYPE_SECRET_STORE (hark_secret_store_get_type ())
G_DECLARE_FINAL_TYPE (HarkSecretStore, hark_secret_store, HARK, SECRET_STORE, GObject)

HarkSecretStore *hark_secret_store_new          (void);
void             hark_secret_store_store_async  (HarkSecretStore     *self,
                                                 const char          *profile_id,
                                                 const char          *label,
                                                 const char          *password,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean         hark_secret_store_store_finish (HarkSecretStore     *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
void             hark_secret_store_lookup_async (HarkSecretStore     *self,
                                                 const char          *profile_id,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
char            *hark_secret_store_lookup_finish (HarkSecretStore    *self,
                                                  GAsyncResult       *result,
                                                  GError            **error);

G_END_DECLS
