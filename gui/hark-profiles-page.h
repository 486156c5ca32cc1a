/* hark-profiles-page.h: the list of profiles
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "hark-client.h"

G_BEGIN_DECLS

#define HARK_TYPE_PROFILES_PAGE (hark_profiles_page_get_type ())

G_DECLARE_FINAL_TYPE (HarkProfilesPage, hark_profiles_page, HARK, PROFILES_PAGE, AdwBin)

void hark_profiles_page_set_client (HarkProfilesPage *self,
                                    HarkClient       *client);

G_END_DECLS
