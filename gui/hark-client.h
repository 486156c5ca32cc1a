/* hark-client.h: the app's view of hark-daemon
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-dbus-generated.h"

G_BEGIN_DECLS

/* gdbus-codegen's autocleanup covers its classes, not the interfaces the app holds. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusManager1, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusProfile1, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusRegistration1, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusCall1, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusSubscription1, g_object_unref)

typedef enum {
  HARK_CLIENT_STATE_CONNECTING,
  HARK_CLIENT_STATE_CONNECTED,
  HARK_CLIENT_STATE_OFFLINE,
} HarkClientState;

#define HARK_TYPE_CLIENT (hark_client_get_type ())

G_DECLARE_FINAL_TYPE (HarkClient, hark_client, HARK, CLIENT, GObject)

HarkClient         *hark_client_new                (void);
HarkClientState     hark_client_get_state          (HarkClient *self);
const char         *hark_client_get_error_message  (HarkClient *self);
GDBusConnection    *hark_client_get_connection     (HarkClient *self);
GDBusObjectManager *hark_client_get_object_manager (HarkClient *self);
HarkDBusManager1   *hark_client_get_manager        (HarkClient *self);
GListModel         *hark_client_get_profiles       (HarkClient *self);
GListModel         *hark_client_get_calls          (HarkClient *self);
GListModel         *hark_client_get_subscriptions  (HarkClient *self);
HarkDBusObject     *hark_client_lookup             (HarkClient *self,
                                                    const char *object_path);
void                hark_client_start_daemon       (HarkClient *self);
void                hark_client_call_method        (HarkClient *self,
                                                    const char *object_path,
                                                    const char *interface_name,
                                                    const char *method,
                                                    GVariant   *parameters);
void                hark_client_accept_call        (HarkClient          *self,
                                                    HarkDBusCall1       *call,
                                                    gboolean             hold_others,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean            hark_client_accept_call_finish (HarkClient          *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);
guint               hark_client_count_active_calls (HarkClient          *self,
                                                    HarkDBusCall1       *except);

G_END_DECLS
