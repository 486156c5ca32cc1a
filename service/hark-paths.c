/* hark-paths.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "hark-paths.h"

/**
 * hark_path_next:
 * @kind: the object kind, e.g. "Profile" or "Call"
 *
 * Numbers never repeat within a run, so a script holding the path of an
 * ended call never reaches a new one by mistake.
 *
 * Returns: (transfer full): e.g. "/io/github/hark/Hark/Call/7"
 */
char *
hark_path_next (const char *kind)
{
  static GHashTable *counters;
  guint n;

  g_return_val_if_fail (kind != NULL, NULL);

  if (counters == NULL)
    counters = g_hash_table_new (g_str_hash, g_str_equal);

  n = GPOINTER_TO_UINT (g_hash_table_lookup (counters, kind)) + 1;
  g_hash_table_insert (counters, (gpointer) g_intern_string (kind), GUINT_TO_POINTER (n));

  return g_strdup_printf (HARK_ROOT_PATH "/%s/%u", kind, n);
}
