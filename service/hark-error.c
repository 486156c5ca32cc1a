/* hark-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "hark-error.h"

static const GDBusErrorEntry hark_error_entries[] = {
  { HARK_ERROR_FAILED, "io.github.hark.Hark.Error.Failed" },
  { HARK_ERROR_INVALID_ARGUMENT, "io.github.hark.Hark.Error.InvalidArgument" },
  { HARK_ERROR_INVALID_STATE, "io.github.hark.Hark.Error.InvalidState" },
  { HARK_ERROR_NOT_FOUND, "io.github.hark.Hark.Error.NotFound" },
  { HARK_ERROR_NOT_SUPPORTED, "io.github.hark.Hark.Error.NotSupported" },
  { HARK_ERROR_AUTHENTICATION_FAILED, "io.github.hark.Hark.Error.AuthenticationFailed" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (hark_error_entries) == HARK_ERROR_N_ERRORS);

GQuark
hark_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("hark-error-quark",
                                      &quark,
                                      hark_error_entries,
                                      G_N_ELEMENTS (hark_error_entries));
  return (GQuark) quark;
}
