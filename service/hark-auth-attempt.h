/* hark-auth-attempt.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sofia-sip/sip.h>

#include "hark-secret-store.h"

G_BEGIN_DECLS

#define HARK_TYPE_AUTH_ATTEMPT (hark_auth_attempt_get_type ())
G_DECLARE_FINAL_TYPE (HarkAuthAttempt, hark_auth_attempt, HARK, AUTH_ATTEMPT, GObject)

HarkAuthAttempt *hark_auth_attempt_new           (const char       *option_auth,
                                                  HarkSecretStore  *secrets,
                                                  const char       *profile_id,
                                                  const char       *username,
                                                  const char       *realm);
void             hark_auth_attempt_challenge     (HarkAuthAttempt  *self,
                                                  int               status,
                                                  const sip_t      *sip);
gboolean         hark_auth_attempt_get_waiting   (HarkAuthAttempt  *self);
const char      *hark_auth_attempt_get_username  (HarkAuthAttempt  *self);
void             hark_auth_attempt_supply        (HarkAuthAttempt  *self,
                                                  const char       *username,
                                                  const char       *password);
void             hark_auth_attempt_stop          (HarkAuthAttempt  *self);

G_END_DECLS
