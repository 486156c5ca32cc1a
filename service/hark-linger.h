/* hark-linger.h — ended objects that stay on the bus a while
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * HarkLingerFunc:
 * @object: an object whose time is up
 * @user_data: the data given to hark_linger_new()
 *
 * Takes @object off the bus. The linger drops its reference afterwards.
 */
typedef void (*HarkLingerFunc) (gpointer object,
                                gpointer user_data);

#define HARK_TYPE_LINGER (hark_linger_get_type ())
G_DECLARE_FINAL_TYPE (HarkLinger, hark_linger, HARK, LINGER, GObject)

HarkLinger *hark_linger_new    (guint           seconds,
                                HarkLingerFunc  func,
                                gpointer        user_data);
void        hark_linger_add    (HarkLinger     *self,
                                gpointer        object);
guint       hark_linger_length (HarkLinger     *self);

G_END_DECLS
