/* hark-tls-check.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void     hark_tls_check_async  (const char           *host,
                                guint16               port,
                                const char           *ca_file,
                                GCancellable         *cancellable,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data);
gboolean hark_tls_check_finish (GAsyncResult         *result,
                                GError              **error);

G_END_DECLS
