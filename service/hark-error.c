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

/**
 * hark_error_return:
 * @invocation: (transfer full): the method call to answer
 * @error: what went wrong
 *
 * Answers @invocation with @error, for a method handler to return.
 *
 * Returns: %G_DBUS_METHOD_INVOCATION_HANDLED
 */
gboolean
hark_error_return (GDBusMethodInvocation *invocation,
                   const GError          *error)
{
  g_dbus_method_invocation_return_gerror (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/**
 * hark_error_return_new:
 * @invocation: (transfer full): the method call to answer
 * @code: the #HarkError
 * @format: printf()-style message, which says what to do about it
 *
 * Returns: %G_DBUS_METHOD_INVOCATION_HANDLED
 */
gboolean
hark_error_return_new (GDBusMethodInvocation *invocation,
                       HarkError              code,
                       const char            *format,
                       ...)
{
  va_list args;

  va_start (args, format);
  g_dbus_method_invocation_return_error_valist (invocation, HARK_ERROR, code, format, args);
  va_end (args);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}
