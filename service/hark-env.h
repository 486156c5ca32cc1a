/* hark-env.h — test and headless overrides from the environment
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

guint hark_env_get_ms (const char *name,
                       guint       min,
                       guint       max,
                       guint       fallback);

G_END_DECLS
