/* hark-subscription-manager.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-dbus-generated.h"
#include "hark-types.h"

G_BEGIN_DECLS

#define HARK_TYPE_SUBSCRIPTION_MANAGER (hark_subscription_manager_get_type ())
G_DECLARE_FINAL_TYPE (HarkSubscriptionManager, hark_subscription_manager,
                      HARK, SUBSCRIPTION_MANAGER, GObject)

HarkSubscriptionManager *hark_subscription_manager_new       (GDBusObjectManagerServer *server,
                                                              HarkDBusManager1         *manager,
                                                              HarkProfileStore         *profiles);
void                     hark_subscription_manager_subscribe (HarkSubscriptionManager  *self,
                                                              GDBusMethodInvocation    *invocation,
                                                              const char               *profile_path,
                                                              const char               *uri,
                                                              const char               *event,
                                                              GVariant                 *options);
guint                    hark_subscription_manager_get_n_subscriptions
                                                             (HarkSubscriptionManager  *self);

void                     hark_subscription_manager_watch_profile (HarkProfile          *profile);
void                     hark_subscription_manager_end_profile_async
                                                             (HarkProfile              *profile,
                                                              GCancellable             *cancellable,
                                                              GAsyncReadyCallback       callback,
                                                              gpointer                  user_data);
gboolean                 hark_subscription_manager_end_profile_finish
                                                             (HarkProfile              *profile,
                                                              GAsyncResult             *result,
                                                              GError                  **error);

G_END_DECLS
