/* hark-strings.h: the daemon's states and reasons in words
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

char       *hark_registration_describe (const char *state,
                                        const char *reason,
                                        guint       status_code);
const char *hark_call_state_to_string  (const char *state);
const char *hark_call_reason_to_string (const char *reason);
char       *hark_call_describe         (const char *state,
                                        const char *reason,
                                        guint       status_code);
char       *hark_format_duration       (gint64      seconds);
char       *hark_error_key             (const char *message,
                                        char      **rest);

G_END_DECLS
