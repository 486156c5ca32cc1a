/* hark-media-settings.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The audio keys of the schema the app and the daemon share
 * (data/io.github.hark.Hark.gschema.xml): read when a call's media starts,
 * so that a change applies to the next call without a restart. The daemon
 * also runs uninstalled, where the schema is not there: g_settings_new()
 * would abort, so the schema is looked up first and its absence means the
 * defaults.
 */

#define G_LOG_DOMAIN "hark-media"

#include "config.h"

#include "hark-media-settings.h"

/* Main thread only (the call's offer/answer handling). */
static GSettings *
get_settings (void)
{
  static GSettings *settings = NULL;
  static gboolean looked_up = FALSE;

  if (!looked_up)
    {
      GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
      g_autoptr(GSettingsSchema) schema = NULL;

      looked_up = TRUE;
      if (source != NULL)
        schema = g_settings_schema_source_lookup (source, HARK_MEDIA_SETTINGS_SCHEMA, TRUE);
      if (schema != NULL)
        settings = g_settings_new_full (schema, NULL, NULL);
      else
        g_debug ("No GSettings schema %s: calls use the default audio settings",
                 HARK_MEDIA_SETTINGS_SCHEMA);
    }
  return settings;
}

/**
 * hark_media_params_load_settings:
 * @params: parameters filled by hark_media_params_init()
 *
 * Sets @params' audio source and sink, jitter buffer latency and echo
 * cancellation from the user's settings (`audio-source`, `audio-sink`,
 * `jitter-buffer-latency`, `echo-cancellation`, `rtp-timeout`); with no schema installed
 * they keep their defaults. The `HARK_AUDIO_SOURCE` and `HARK_AUDIO_SINK`
 * environment variables still take precedence when the session is built.
 */
void
hark_media_params_load_settings (HarkMediaParams *params)
{
  GSettings *settings;

  g_return_if_fail (params != NULL);

  settings = get_settings ();
  if (settings == NULL)
    return;

  g_free (params->audio_source);
  params->audio_source = g_settings_get_string (settings, "audio-source");
  g_free (params->audio_sink);
  params->audio_sink = g_settings_get_string (settings, "audio-sink");
  params->jitter_latency_ms = g_settings_get_uint (settings, "jitter-buffer-latency");
  params->echo_cancellation = g_settings_get_boolean (settings, "echo-cancellation");
  params->rtp_timeout_ms = g_settings_get_uint (settings, "rtp-timeout") * 1000;
  g_debug ("Audio settings: source “%s”, sink “%s”, jitter buffer %u ms, echo cancellation %s, "
           "RTP timeout %u ms",
           params->audio_source, params->audio_sink, params->jitter_latency_ms,
           params->echo_cancellation ? "on" : "off", params->rtp_timeout_ms);
}
