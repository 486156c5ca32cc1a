/* hark-env.c — test and headless overrides from the environment
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "hark-env.h"

/**
 * hark_env_get_ms:
 * @name: an environment variable holding a number of milliseconds
 * @min: the least it may say
 * @max: the most it may say
 * @fallback: what to use when it is unset, not a number or out of range
 *
 * The daemon's timing knobs for tests (HARK_RING_TIMEOUT_MS, ...): a value
 * out of range is ignored rather than clamped, so that a typo cannot turn a
 * timer into one that fires at once or never.
 *
 * Returns: the value of @name, or @fallback
 */
guint
hark_env_get_ms (const char *name,
                 guint       min,
                 guint       max,
                 guint       fallback)
{
  const char *text = g_getenv (name);
  guint64 ms;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, min, max, &ms, NULL))
    return fallback;
  return (guint) ms;
}
