/* hark-media-settings.h — the user's audio settings (GSettings) for calls
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "hark-media-types.h"

G_BEGIN_DECLS

#define HARK_MEDIA_SETTINGS_SCHEMA "io.github.hark.Hark"

void hark_media_params_load_settings (HarkMediaParams *params);

G_END_DECLS
