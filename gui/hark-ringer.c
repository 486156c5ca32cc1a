/* hark-ringer.c: plays the ringtone while a call rings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark-ringer"

#include "config.h"

#include <gst/gst.h>

#include "hark-ringer.h"

/**
 * HarkRinger:
 *
 * Rings while #HarkRinger:ringing is set and the `ring-enabled` setting allows
 * it: the `ringtone` file in a loop, else the sound theme's
 * “phone-incoming-call”, else a plain tone (one second on, two off).
 *
 * The sink is `autoaudiosink`; the environment variable HARK_RINGTONE_SINK
 * names another element (tests use `fakesink`, which needs no sound device).
 * A missing element or a failing pipeline is logged and only silences the ring.
 */
struct _HarkRinger
{
  GObject     parent_instance;

  GSettings  *settings;
  GstElement *pipeline;
  GstElement *tone;
  guint       bus_watch_id;
  guint       cadence_id;
  gboolean    tone_on;
  gboolean    ringing;
  gboolean    playing;
};

G_DEFINE_FINAL_TYPE (HarkRinger, hark_ringer, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SETTINGS,
  PROP_RINGING,
  PROP_PLAYING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define TONE_VOLUME 0.3
#define TONE_ON_MS 1000
#define TONE_OFF_MS 2000

static void update (HarkRinger *self);

static void
set_playing (HarkRinger *self,
             gboolean    playing)
{
  if (self->playing == playing)
    return;

  self->playing = playing;
  g_debug ("Ringtone %s", playing ? "playing" : "stopped");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

static void
stop_pipeline (HarkRinger *self)
{
  g_clear_handle_id (&self->cadence_id, g_source_remove);
  g_clear_handle_id (&self->bus_watch_id, g_source_remove);
  if (self->pipeline != NULL)
    {
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      g_clear_object (&self->pipeline);
    }
  self->tone = NULL;
  set_playing (self, FALSE);
}

static GstElement *
make_sink (void)
{
  const char *name = g_getenv ("HARK_RINGTONE_SINK");
  GstElement *sink;

  if (name == NULL || *name == '\0')
    name = "autoaudiosink";

  sink = gst_element_factory_make (name, "ringtone-sink");
  if (sink == NULL)
    {
      g_message ("Cannot ring: there is no GStreamer element “%s”", name);
      return NULL;
    }

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (sink), "sync") != NULL)
    g_object_set (sink, "sync", TRUE, NULL);

  return sink;
}

/* The ringtone setting, else the sound theme's incoming-call sound, as a URI. */
static char *
find_ringtone_uri (HarkRinger *self)
{
  static const char *names[] = { "phone-incoming-call.oga", "phone-incoming-call.ogg",
                                 "phone-incoming-call.wav" };
  g_autofree char *setting = NULL;
  const char * const *dirs;

  if (self->settings != NULL)
    setting = g_settings_get_string (self->settings, "ringtone");

  if (setting != NULL && *setting != '\0')
    {
      if (g_str_has_prefix (setting, "file:"))
        return g_steal_pointer (&setting);
      if (g_file_test (setting, G_FILE_TEST_IS_REGULAR))
        return g_filename_to_uri (setting, NULL, NULL);
      g_message ("Ringtone “%s” does not exist; using the default one", setting);
    }

  dirs = g_get_system_data_dirs ();
  for (guint i = 0; dirs[i] != NULL; i++)
    for (guint j = 0; j < G_N_ELEMENTS (names); j++)
      {
        g_autofree char *path = g_build_filename (dirs[i], "sounds", "freedesktop", "stereo",
                                                  names[j], NULL);

        if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
          return g_filename_to_uri (path, NULL, NULL);
      }

  return NULL;
}

static gboolean
on_cadence (gpointer user_data)
{
  HarkRinger *self = user_data;

  self->tone_on = !self->tone_on;
  g_object_set (self->tone, "volume", self->tone_on ? TONE_VOLUME : 0.0, NULL);
  self->cadence_id = g_timeout_add (self->tone_on ? TONE_ON_MS : TONE_OFF_MS, on_cadence, self);

  return G_SOURCE_REMOVE;
}

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  HarkRinger *self = user_data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;

        gst_message_parse_error (message, &error, &debug);
        g_message ("Cannot ring: %s", error->message);
        g_debug ("%s", debug);
        self->bus_watch_id = 0;
        stop_pipeline (self);
        return G_SOURCE_REMOVE;
      }

    case GST_MESSAGE_EOS:
      /* Loop the sound file for as long as the call rings. */
      gst_element_seek_simple (self->pipeline, GST_FORMAT_TIME,
                               GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0);
      break;

    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC (message) == GST_OBJECT (self->pipeline))
        {
          GstState state;

          gst_message_parse_state_changed (message, NULL, &state, NULL);
          if (state == GST_STATE_PLAYING)
            set_playing (self, TRUE);
        }
      break;

    default:
      break;
    }

  return G_SOURCE_CONTINUE;
}

static GstElement *
build_file_pipeline (const char *uri)
{
  GstElement *sink = make_sink ();
  GstElement *playbin;

  if (sink == NULL)
    return NULL;

  playbin = gst_element_factory_make ("playbin", "ringtone");
  if (playbin == NULL)
    {
      g_message ("Cannot ring: there is no GStreamer element “playbin”");
      gst_object_unref (gst_object_ref_sink (sink));
      return NULL;
    }

  /* Audio only: a file with pictures must not open a video window. */
  g_object_set (playbin, "uri", uri, "audio-sink", sink, "flags", 0x2, NULL);
  return playbin;
}

static GstElement *
build_tone_pipeline (HarkRinger *self)
{
  GstElement *pipeline = gst_pipeline_new ("ringtone");
  GstElement *tone = gst_element_factory_make ("audiotestsrc", NULL);
  GstElement *convert = gst_element_factory_make ("audioconvert", NULL);
  GstElement *resample = gst_element_factory_make ("audioresample", NULL);
  GstElement *sink = make_sink ();

  GstElement *elements[] = { tone, convert, resample, sink };

  if (tone == NULL || convert == NULL || resample == NULL || sink == NULL)
    {
      if (tone == NULL || convert == NULL || resample == NULL)
        g_message ("Cannot ring: GStreamer's base plugins are missing");
      for (guint i = 0; i < G_N_ELEMENTS (elements); i++)
        if (elements[i] != NULL)
          gst_object_unref (gst_object_ref_sink (elements[i]));
      gst_object_unref (gst_object_ref_sink (pipeline));
      return NULL;
    }

  g_object_set (tone, "wave", 0 /* sine */, "freq", 440.0, "volume", TONE_VOLUME,
                "is-live", TRUE, NULL);
  gst_bin_add_many (GST_BIN (pipeline), tone, convert, resample, sink, NULL);
  if (!gst_element_link_many (tone, convert, resample, sink, NULL))
    {
      g_message ("Cannot ring: the tone does not link to the sink");
      gst_object_unref (gst_object_ref_sink (pipeline));
      return NULL;
    }

  self->tone = tone;
  return pipeline;
}

static void
start_pipeline (HarkRinger *self)
{
  g_autofree char *uri = find_ringtone_uri (self);
  g_autoptr(GstBus) bus = NULL;
  GstElement *pipeline;

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);

  pipeline = uri != NULL ? build_file_pipeline (uri) : build_tone_pipeline (self);
  if (pipeline == NULL)
    return;

  g_debug ("Ringing with %s", uri != NULL ? uri : "a tone");
  self->pipeline = gst_object_ref_sink (pipeline);
  bus = gst_element_get_bus (pipeline);
  self->bus_watch_id = gst_bus_add_watch (bus, on_bus_message, self);

  if (self->tone != NULL)
    {
      self->tone_on = TRUE;
      self->cadence_id = g_timeout_add (TONE_ON_MS, on_cadence, self);
    }

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_message ("Cannot ring: the ringtone does not play");
      stop_pipeline (self);
    }
}

static gboolean
ring_enabled (HarkRinger *self)
{
  return self->settings == NULL || g_settings_get_boolean (self->settings, "ring-enabled");
}

static void
update (HarkRinger *self)
{
  gboolean want = self->ringing && ring_enabled (self);

  if (want && self->pipeline == NULL)
    start_pipeline (self);
  else if (!want && self->pipeline != NULL)
    stop_pipeline (self);
}

static void
on_ringtone_changed (HarkRinger *self)
{
  /* Start again with the new sound. */
  stop_pipeline (self);
  update (self);
}

static void
hark_ringer_dispose (GObject *object)
{
  HarkRinger *self = HARK_RINGER (object);

  stop_pipeline (self);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (hark_ringer_parent_class)->dispose (object);
}

static void
hark_ringer_constructed (GObject *object)
{
  HarkRinger *self = HARK_RINGER (object);

  G_OBJECT_CLASS (hark_ringer_parent_class)->constructed (object);

  if (self->settings != NULL)
    {
      g_signal_connect_object (self->settings, "changed::ring-enabled", G_CALLBACK (update), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->settings, "changed::ringtone",
                               G_CALLBACK (on_ringtone_changed), self, G_CONNECT_SWAPPED);
    }
}

static void
hark_ringer_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  HarkRinger *self = HARK_RINGER (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    case PROP_RINGING:
      g_value_set_boolean (value, self->ringing);
      break;
    case PROP_PLAYING:
      g_value_set_boolean (value, self->playing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hark_ringer_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  HarkRinger *self = HARK_RINGER (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    case PROP_RINGING:
      hark_ringer_set_ringing (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hark_ringer_class_init (HarkRingerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_ringer_dispose;
  object_class->constructed = hark_ringer_constructed;
  object_class->get_property = hark_ringer_get_property;
  object_class->set_property = hark_ringer_set_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * HarkRinger:ringing:
   *
   * Whether a call is ringing; the ringtone plays while this is set and the
   * `ring-enabled` setting is on.
   */
  properties[PROP_RINGING] =
    g_param_spec_boolean ("ringing", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * HarkRinger:playing:
   *
   * Whether the ringtone's pipeline is playing right now.
   */
  properties[PROP_PLAYING] =
    g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static gpointer
init_gstreamer_thread (gpointer data)
{
  gst_init (NULL, NULL);
  return NULL;
}

static void
hark_ringer_init (HarkRinger *self)
{
  /* The first gst_init() scans the plugins, seconds on a cold cache: not on the
   * main loop, and done before the first call rings. gst_init() serializes callers. */
  if (!gst_is_initialized ())
    g_thread_unref (g_thread_new ("hark-gst-init", init_gstreamer_thread, NULL));
}

/**
 * hark_ringer_new:
 * @settings: (nullable): the app's settings, or %NULL when its schema is not installed
 */
HarkRinger *
hark_ringer_new (GSettings *settings)
{
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  return g_object_new (HARK_TYPE_RINGER, "settings", settings, NULL);
}

void
hark_ringer_set_ringing (HarkRinger *self,
                         gboolean    ringing)
{
  g_return_if_fail (HARK_IS_RINGER (self));

  ringing = !!ringing;
  if (self->ringing == ringing)
    return;

  self->ringing = ringing;
  g_debug ("A call %s", ringing ? "rings" : "no longer rings");
  update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RINGING]);
}

gboolean
hark_ringer_get_ringing (HarkRinger *self)
{
  g_return_val_if_fail (HARK_IS_RINGER (self), FALSE);

  return self->ringing;
}

gboolean
hark_ringer_get_playing (HarkRinger *self)
{
  g_return_val_if_fail (HARK_IS_RINGER (self), FALSE);

  return self->playing;
}
