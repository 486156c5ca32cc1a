/* hark-call.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sofia-sip/nua.h>

#include "hark-dbus-generated.h"
#include "hark-call-forks.h"
#include "hark-dialog.h"
#include "hark-secret-store.h"
#include "sip/hark-sip-agent.h"

G_BEGIN_DECLS

#define HARK_TYPE_CALL (hark_call_get_type ())
G_DECLARE_FINAL_TYPE (HarkCall, hark_call, HARK, CALL, GObject)

/**
 * HarkCallSetup:
 * @profile_path: the profile's object path (the Profile property)
 * @remote_uri: whom we call (To, and the Request-URI unless @request_uri)
 * @local_uri: who we are (From)
 * @contact: (nullable): our Contact, %NULL for the agent's own
 * @contact_user: (nullable): user part nua puts in its own Contact
 * @request_uri: (nullable): Request-URI when not @remote_uri
 * @options: (nullable): the a{sv} options of Dial() for "to", "from",
 *   "headers" and "auth"; checked by hark_call_check_dial_options()
 * @secrets: (nullable): where the profile's password is, for a challenge
 * @profile_id: (nullable): the profile's id in @secrets
 * @auth_username: (nullable): the profile's user name for digest auth
 * @auth_realm: (nullable): the profile's realm; %NULL answers any realm
 */
typedef struct {
  const char *profile_path;
  const char *remote_uri;
  const char *local_uri;
  const char *contact;
  const char *contact_user;
  const char *request_uri;
  GVariant   *options;
  HarkSecretStore *secrets;
  const char *profile_id;
  const char *auth_username;
  const char *auth_realm;
} HarkCallSetup;

/**
 * HarkCallMediaEncryption:
 * @HARK_CALL_MEDIA_ENCRYPTION_NONE: plain RTP; an RTP/SAVP offer is refused (488)
 * @HARK_CALL_MEDIA_ENCRYPTION_OPTIONAL: SRTP (SDES) offered in RTP/AVP and
 *   taken up when offered; plain RTP with peers that have none
 * @HARK_CALL_MEDIA_ENCRYPTION_REQUIRED: RTP/SAVP only: an offer or answer
 *   without usable SRTP ends the call (488, or BYE after a 2xx)
 *
 * A profile's "media-encryption" setting, as the call applies it.
 */
typedef enum {
  HARK_CALL_MEDIA_ENCRYPTION_NONE,
  HARK_CALL_MEDIA_ENCRYPTION_OPTIONAL,
  HARK_CALL_MEDIA_ENCRYPTION_REQUIRED,
} HarkCallMediaEncryption;

gboolean                hark_call_check_dial_options (GVariant          *options,
                                                      GError           **error);
gboolean                hark_call_check_end_options (GVariant          *options,
                                                     GError           **error);
HarkCall               *hark_call_new_outgoing      (HarkSipAgent          *agent,
                                                     const HarkCallSetup   *setup,
                                                     GError               **error);
HarkCall               *hark_call_new_incoming      (HarkSipAgent          *agent,
                                                     const char            *profile_path,
                                                     nua_handle_t          *nh,
                                                     const sip_t           *sip);
void                    hark_call_start             (HarkCall              *self);
const char             *hark_call_get_object_path   (HarkCall              *self);
HarkDBusObjectSkeleton *hark_call_get_object        (HarkCall              *self);
HarkDialog             *hark_call_get_dialog        (HarkCall              *self);
HarkCallForks          *hark_call_get_forks         (HarkCall              *self);
gboolean                hark_call_is_terminated     (HarkCall              *self);
gboolean                hark_call_hangup            (HarkCall              *self,
                                                     GVariant              *options,
                                                     GError               **error);
gboolean                hark_call_accept            (HarkCall              *self,
                                                     GVariant              *options,
                                                     GError               **error);
void                    hark_call_set_auto_answer   (HarkCall              *self,
                                                     guint                  delay_ms);
void                    hark_call_set_media_encryption (HarkCall           *self,
                                                        const char         *setting);
const char             *hark_call_get_profile_path  (HarkCall              *self);
void                    hark_call_follow_transfer   (HarkCall              *self,
                                                     HarkCall              *target);
void                    hark_call_transfer_failed   (HarkCall              *self,
                                                     guint                  status);

G_END_DECLS
