/* hark-subscription.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sofia-sip/nua.h>

#include "hark-dbus-generated.h"
#include "hark-dialog.h"
#include "hark-secret-store.h"
#include "sip/hark-sip-agent.h"

G_BEGIN_DECLS

#define HARK_TYPE_SUBSCRIPTION (hark_subscription_get_type ())
G_DECLARE_FINAL_TYPE (HarkSubscription, hark_subscription, HARK, SUBSCRIPTION, GObject)

/**
 * HarkSubscriptionSetup:
 * @profile_path: the profile's object path
 * @uri: the resource: To and Request-URI
 * @local_uri: who we are (From)
 * @event: the event package
 * @options: (nullable): the a{sv} options of Manager1.Subscribe(), checked
 *   by hark_subscription_check_options()
 * @secrets: (nullable): where the profile's password is, for a challenge
 * @profile_id: (nullable): the profile's id in @secrets
 * @auth_username: (nullable): the profile's user name for digest auth
 * @auth_realm: (nullable): the profile's realm; %NULL answers any realm
 */
typedef struct {
  const char      *profile_path;
  const char      *uri;
  const char      *local_uri;
  const char      *event;
  GVariant        *options;
  HarkSecretStore *secrets;
  const char      *profile_id;
  const char      *auth_username;
  const char      *auth_realm;
} HarkSubscriptionSetup;

gboolean                hark_subscription_check_event     (const char                  *event,
                                                           GError                     **error);
gboolean                hark_subscription_check_options   (GVariant                    *options,
                                                           GError                     **error);
HarkSubscription       *hark_subscription_new_outgoing    (HarkSipAgent                *agent,
                                                           const HarkSubscriptionSetup *setup,
                                                           GError                     **error);
HarkSubscription       *hark_subscription_new_incoming    (HarkSipAgent                *agent,
                                                           const char                  *profile_path,
                                                           nua_handle_t                *nh,
                                                           const sip_t                 *sip,
                                                           guint                        answer_timeout_ms);
HarkSubscription       *hark_subscription_new_unsolicited (const char                  *profile_path,
                                                           const char                  *uri,
                                                           const char                  *event);
void                    hark_subscription_start           (HarkSubscription            *self);
void                    hark_subscription_take_notify     (HarkSubscription            *self,
                                                           const sip_t                 *sip);
gboolean                hark_subscription_unsubscribe     (HarkSubscription            *self,
                                                           GError                     **error);
gboolean                hark_subscription_end             (HarkSubscription            *self);
void                    hark_subscription_set_presence    (HarkSubscription            *self,
                                                           const char                  *basic,
                                                           const char                  *note);

const char             *hark_subscription_get_object_path (HarkSubscription            *self);
HarkDBusObjectSkeleton *hark_subscription_get_object      (HarkSubscription            *self);
HarkDialog             *hark_subscription_get_dialog      (HarkSubscription            *self);
HarkSipAgent           *hark_subscription_get_agent       (HarkSubscription            *self);
const char             *hark_subscription_get_profile     (HarkSubscription            *self);
const char             *hark_subscription_get_event       (HarkSubscription            *self);
gboolean                hark_subscription_is_notifier     (HarkSubscription            *self);
gboolean                hark_subscription_is_terminated   (HarkSubscription            *self);

G_END_DECLS
