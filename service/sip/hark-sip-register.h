/* hark-sip-register.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-sip-agent.h"

G_BEGIN_DECLS

#define HARK_TYPE_SIP_REGISTER (hark_sip_register_get_type ())

G_DECLARE_FINAL_TYPE (HarkSipRegister, hark_sip_register, HARK, SIP_REGISTER, GObject)

/**
 * HarkSipRegisterConfig:
 * @aor: address of record, "sip:user@domain"
 * @registrar: (nullable): registrar URI; %NULL for the AOR's domain
 * @expires: requested binding lifetime in seconds; 0 for 3600
 * @username: (nullable): digest user name; %NULL for the AOR's user part
 * @password: (nullable): digest password, kept only in memory
 * @realm: (nullable): answer only challenges of this realm; %NULL or "" for any
 */
typedef struct {
  const char *aor;
  const char *registrar;
  guint expires;
  const char *username;
  const char *password;
  const char *realm;
} HarkSipRegisterConfig;

HarkSipRegister *hark_sip_register_new              (HarkSipAgent                *agent,
                                                     const HarkSipRegisterConfig *config,
                                                     GError                     **error);

HarkSipAgent    *hark_sip_register_get_agent        (HarkSipRegister  *self);
const char      *hark_sip_register_get_aor          (HarkSipRegister  *self);
const char      *hark_sip_register_get_state        (HarkSipRegister  *self);
const char      *hark_sip_register_get_state_reason (HarkSipRegister  *self);
guint            hark_sip_register_get_status_code  (HarkSipRegister  *self);
guint            hark_sip_register_get_expires      (HarkSipRegister  *self);
const char      *hark_sip_register_get_contact      (HarkSipRegister  *self);
guint            hark_sip_register_get_requests_sent (HarkSipRegister *self);

void             hark_sip_register_set_password     (HarkSipRegister  *self,
                                                     const char       *password);

gboolean         hark_sip_register_start            (HarkSipRegister  *self,
                                                     GError          **error);
gboolean         hark_sip_register_stop             (HarkSipRegister  *self,
                                                     GError          **error);
void             hark_sip_register_stop_async       (HarkSipRegister     *self,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
gboolean         hark_sip_register_stop_finish      (HarkSipRegister  *self,
                                                     GAsyncResult     *result,
                                                     GError          **error);
gboolean         hark_sip_register_refresh          (HarkSipRegister  *self,
                                                     GError          **error);
gboolean         hark_sip_register_authenticate     (HarkSipRegister  *self,
                                                     const char       *username,
                                                     const char       *password,
                                                     GError          **error);
void             hark_sip_register_network_changed  (HarkSipRegister  *self);

G_END_DECLS
