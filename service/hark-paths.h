/* hark-paths.h — object paths of exported objects
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HARK_ROOT_PATH "/io/github/hark/Hark"

char *hark_path_next (const char *kind);

G_END_DECLS
