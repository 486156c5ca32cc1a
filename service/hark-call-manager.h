/* hark-call-manager.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-dbus-generated.h"
#include "hark-types.h"
#include "sip/hark-sip-agent.h"

G_BEGIN_DECLS

#define HARK_TYPE_CALL_MANAGER (hark_call_manager_get_type ())
G_DECLARE_FINAL_TYPE (HarkCallManager, hark_call_manager, HARK, CALL_MANAGER, GObject)

HarkCallManager *hark_call_manager_new          (GDBusObjectManagerServer *server,
                                                 HarkDBusManager1         *manager,
                                                 HarkProfileStore         *profiles);
void             hark_call_manager_dial         (HarkCallManager          *self,
                                                 GDBusMethodInvocation    *invocation,
                                                 const char               *profile_path,
                                                 const char               *uri,
                                                 GVariant                 *options);
void             hark_call_manager_watch_agent  (HarkCallManager          *self,
                                                 HarkProfile              *profile,
                                                 HarkSipAgent             *agent);
guint            hark_call_manager_get_n_calls  (HarkCallManager          *self);

G_END_DECLS
