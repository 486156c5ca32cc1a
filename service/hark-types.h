/* hark-types.h — forward declarations of the daemon's classes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _HarkDaemon        HarkDaemon;
typedef struct _HarkProfile       HarkProfile;
typedef struct _HarkProfileStore  HarkProfileStore;
typedef struct _HarkRegistration  HarkRegistration;
typedef struct _HarkSecretStore   HarkSecretStore;

G_END_DECLS
