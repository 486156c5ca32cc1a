/* hark-test-kamailio.h
 *
 * A real Kamailio as registrar and proxy for the SIP tests: digest auth with
 * a fixed password, bindings in memory, INVITEs routed to registered
 * contacts, on loopback ports picked at run time, in a temp dir of its own.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-test-bus.h"

G_BEGIN_DECLS

/**
 * HarkTestKamailioOptions:
 * @password: (nullable): the password of every user; %NULL for "secret"
 * @algorithm: (nullable): digest algorithm, "MD5" (the default) or "SHA-256"
 * @tls: also listen for TLS, with a certificate of a test CA for IP 127.0.0.1
 * @max_expires: the longest binding granted; 0 for 3600
 * @min_expires: the shortest binding accepted; 0 for none
 * @no_qop: challenge without qop (RFC 2069 style responses)
 * @one_time_nonce: accept each nonce once only: every request after the
 *   first is challenged again (with stale=true)
 * @challenge_invites: also challenge each new INVITE with 407 (Proxy-
 *   Authenticate), as a provider's proxy does, before routing it
 * @mwi_notifier_port: when not 0, the voicemail server: new SUBSCRIBEs for
 *   message-summary are record-routed and relayed to 127.0.0.2 (not
 *   127.0.0.1, all of whose ports Kamailio takes for itself) at this UDP
 *   port, a SIPp notifier say, instead of to registered contacts
 */
typedef struct {
  const char *password;
  const char *algorithm;
  gboolean tls;
  guint max_expires;
  guint min_expires;
  gboolean no_qop;
  gboolean one_time_nonce;
  gboolean challenge_invites;
  guint mwi_notifier_port;
} HarkTestKamailioOptions;

typedef struct _HarkTestKamailio HarkTestKamailio;

HarkTestKamailio *hark_test_kamailio_start          (const HarkTestKamailioOptions *options,
                                                     GError                       **error);
void              hark_test_kamailio_free           (HarkTestKamailio  *self);

guint             hark_test_kamailio_get_port       (HarkTestKamailio  *self,
                                                     const char        *transport);
char             *hark_test_kamailio_dup_uri        (HarkTestKamailio  *self,
                                                     const char        *transport);
const char       *hark_test_kamailio_get_ca_file    (HarkTestKamailio  *self);
const char       *hark_test_kamailio_get_other_ca_file (HarkTestKamailio *self);
const char       *hark_test_kamailio_get_tmpdir     (HarkTestKamailio  *self);
const char       *hark_test_kamailio_get_log_path   (HarkTestKamailio  *self);

gboolean          hark_test_kamailio_has_binding    (HarkTestKamailio  *self,
                                                     const char        *user);
gboolean          hark_test_kamailio_add_binding    (HarkTestKamailio  *self,
                                                     const char        *user,
                                                     const char        *contact,
                                                     GError           **error);
guint             hark_test_kamailio_count_requests (HarkTestKamailio  *self,
                                                     const char        *method);
char             *hark_test_kamailio_rpc            (HarkTestKamailio  *self,
                                                     const char        *command,
                                                     GError           **error);

HarkDBusProfile1 *hark_test_kamailio_create_profile (HarkTestKamailio  *self,
                                                     HarkTestBus       *bus,
                                                     const char        *user,
                                                     const char        *password,
                                                     GVariant          *extra);
void              hark_test_kamailio_register       (HarkTestKamailio  *self,
                                                     HarkTestBus       *bus,
                                                     HarkDBusProfile1  *profile,
                                                     const char        *user);

gboolean          hark_test_kamailio_stop           (HarkTestKamailio  *self,
                                                     GError           **error);
gboolean          hark_test_kamailio_restart        (HarkTestKamailio  *self,
                                                     GError           **error);
gboolean          hark_test_kamailio_is_running     (HarkTestKamailio  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkTestKamailio, hark_test_kamailio_free)

G_END_DECLS
