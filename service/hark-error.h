/* hark-error.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define HARK_ERROR (hark_error_quark ())

/**
 * HarkError:
 * @HARK_ERROR_FAILED: anything else; the message says what went wrong
 * @HARK_ERROR_INVALID_ARGUMENT: a parameter or option is malformed
 * @HARK_ERROR_INVALID_STATE: the object cannot do that in its current state
 * @HARK_ERROR_NOT_FOUND: no such object
 * @HARK_ERROR_NOT_SUPPORTED: Hark or its SIP stack cannot do that
 * @HARK_ERROR_AUTHENTICATION_FAILED: credentials missing or rejected
 *
 * One error domain, registered with D-Bus so scripts see
 * `io.github.hark.Hark.Error.<Name>`.
 */
typedef enum {
  HARK_ERROR_FAILED,
  HARK_ERROR_INVALID_ARGUMENT,
  HARK_ERROR_INVALID_STATE,
  HARK_ERROR_NOT_FOUND,
  HARK_ERROR_NOT_SUPPORTED,
  HARK_ERROR_AUTHENTICATION_FAILED,
  HARK_ERROR_N_ERRORS /*< skip >*/
} HarkError;

GQuark   hark_error_quark      (void);

/* For D-Bus method handlers: answer with an error, and say it is handled */
gboolean hark_error_return     (GDBusMethodInvocation *invocation,
                                const GError          *error);
gboolean hark_error_return_new (GDBusMethodInvocation *invocation,
                                HarkError              code,
                                const char            *format,
                                ...) G_GNUC_PRINTF (3, 4);

G_END_DECLS
