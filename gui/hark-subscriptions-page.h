/* hark-subscriptions-page.h: voicemail, presence and other subscriptions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "hark-client.h"

G_BEGIN_DECLS

#define HARK_TYPE_SUBSCRIPTIONS_PAGE (hark_subscriptions_page_get_type ())

G_DECLARE_FINAL_TYPE (HarkSubscriptionsPage, hark_subscriptions_page, HARK, SUBSCRIPTIONS_PAGE,
                      AdwBin)

void  hark_subscriptions_page_set_client      (HarkSubscriptionsPage *self,
                                               HarkClient            *client);
guint hark_subscriptions_page_get_new_messages (HarkSubscriptionsPage *self);

G_END_DECLS
