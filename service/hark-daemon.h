/* hark-daemon.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-types.h"

G_BEGIN_DECLS

#define HARK_TYPE_DAEMON (hark_daemon_get_type ())
G_DECLARE_FINAL_TYPE (HarkDaemon, hark_daemon, HARK, DAEMON, GObject)

HarkDaemon *hark_daemon_new  (gboolean    replace);
int         hark_daemon_run  (HarkDaemon *self);
void        hark_daemon_quit (HarkDaemon *self);

G_END_DECLS
