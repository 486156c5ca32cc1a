/* hark-call-forks.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-dialog.h"

G_BEGIN_DECLS

#define HARK_TYPE_CALL_FORKS (hark_call_forks_get_type ())
G_DECLARE_FINAL_TYPE (HarkCallForks, hark_call_forks, HARK, CALL_FORKS, GObject)

HarkCallForks *hark_call_forks_new         (HarkDialog              *primary,
                                            const char              *usage_path,
                                            HarkDialogTerminateFunc  terminate,
                                            gpointer                 usage);
HarkDialog    *hark_call_forks_answered    (HarkCallForks           *self);
void           hark_call_forks_end_early   (HarkCallForks           *self);

G_END_DECLS
