/* test-media-stats.c — what a call's media shows on the bus, and what it
 * takes from the user's settings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Hark ↔ Hark on loopback (two hark-daemons, each on its own private bus):
 * the Call's MediaStats count the RTP both ways and are refreshed while the
 * call runs; B's audio sink and source come from GSettings (the keyfile
 * backend in B's XDG_CONFIG_HOME, the build's compiled schema) and B's sink
 * file carries A's tone. SIPp offers audio and video: the video stream is
 * refused with port 0 and the call goes on with audio. A daemon whose
 * GStreamer lacks the opus and libav plugins (a plugin path without them,
 * as on a system without those packages) stops offering Opus and G.722.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <unistd.h>

#include <glib/gstdio.h>

#include "hark-test-audio.h"
#include "hark-test-bus.h"

#define TONE_A    1000.0
#define SINK_RATE 16000
#define SINK_CAPS "audio/x-raw,format=S16LE,rate=16000,channels=1"
#define SCHEMAS_DIR HARK_TEST_BUILDDIR "/../data"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusCall1, g_object_unref)

typedef struct {
  HarkTestBus *a;
  HarkTestBus *b;
  char        *b_incoming;   /* path from B's IncomingCall */
  char        *plugin_dir;   /* NULL, or a GStreamer plugin dir of symlinks */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
}

static void
remove_plugin_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_pointer (&f->a, hark_test_bus_free);
  g_clear_pointer (&f->b, hark_test_bus_free);
  g_free (f->b_incoming);
  if (f->plugin_dir != NULL)
    remove_plugin_dir (f->plugin_dir);
  g_free (f->plugin_dir);
}

/* Helpers */

static gboolean
contact_known_cb (gpointer user_data)
{
  HarkDBusProfile1 *profile = user_data;
  const char *contact = hark_dbus_profile1_get_contact (profile);

  return contact != NULL && *contact != '\0';
}

/* The local profile, its SIP stack listening, answering after 10 ms. */
static HarkDBusProfile1 *
auto_answering_profile (HarkTestBus *bus)
{
  g_autoptr(HarkDBusProfile1) profile = hark_test_bus_find_profile (bus, "local");
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (profile);
  hark_dbus_profile1_call_update_sync (profile,
                                       g_variant_new_parsed ("{'auto-answer': <uint32 10>}"),
                                       NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&profile);
  profile = hark_test_bus_find_profile (bus, "local");
  g_assert_true (hark_test_wait_for (contact_known_cb, profile, hark_test_timeout (10000)));
  return g_steal_pointer (&profile);
}

static HarkDBusCall1 *
get_call (HarkTestBus *bus,
          const char  *path)
{
  g_autoptr(GError) error = NULL;
  HarkDBusCall1 *call;

  call = hark_dbus_call1_proxy_new_sync (hark_test_bus_get_connection (bus),
                                         G_DBUS_PROXY_FLAGS_NONE, HARK_TEST_BUS_NAME, path,
                                         NULL, &error);
  g_assert_no_error (error);
  return call;
}

static void
on_incoming_call (HarkDBusManager1 *manager,
                  const char       *path,
                  Fixture          *f)
{
  g_free (f->b_incoming);
  f->b_incoming = g_strdup (path);
}

static gboolean
incoming_cb (gpointer user_data)
{
  Fixture *f = user_data;

  return f->b_incoming != NULL;
}

/* A calls B (auto-answer); both calls active. */
static void
call_b (Fixture        *f,
        HarkDBusCall1 **out_a_call,
        HarkDBusCall1 **out_b_call)
{
  g_autoptr(HarkDBusProfile1) b_profile = auto_answering_profile (f->b);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  g_signal_connect (hark_test_bus_get_manager (f->b), "incoming-call",
                    G_CALLBACK (on_incoming_call), f);
  hark_dbus_manager1_call_dial_sync (hark_test_bus_get_manager (f->a), "/",
                                     hark_dbus_profile1_get_contact (b_profile),
                                     g_variant_new ("a{sv}", NULL), &path, NULL, &error);
  g_assert_no_error (error);
  *out_a_call = get_call (f->a, path);
  g_assert_true (hark_test_wait_for (incoming_cb, f, hark_test_timeout (10000)));
  *out_b_call = get_call (f->b, f->b_incoming);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (*out_a_call), "State", "active",
                                                 hark_test_timeout (10000)));
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (*out_b_call), "State", "active",
                                                 hark_test_timeout (10000)));
}

static gboolean
codec_known_cb (gpointer user_data)
{
  return *hark_dbus_call1_get_codec (HARK_DBUS_CALL1 (user_data)) != '\0';
}

static void
hang_up (HarkDBusCall1 *a_call,
         HarkDBusCall1 *b_call)
{
  g_autoptr(GError) error = NULL;

  hark_dbus_call1_call_hangup_sync (a_call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (b_call), "State", "terminated",
                                                 hark_test_timeout (10000)));
}

static guint64
stat_uint (GVariant   *stats,
           const char *key)
{
  guint64 value = 0;

  if (stats == NULL || !g_variant_lookup (stats, key, "t", &value))
    return 0;
  return value;
}

typedef struct {
  HarkDBusCall1 *call;
  const char    *key;
  guint64        above;
} StatWait;

static gboolean
stat_above_cb (gpointer user_data)
{
  StatWait *w = user_data;

  return stat_uint (hark_dbus_call1_get_media_stats (w->call), w->key) > w->above;
}

/* Waits until @key of @call's MediaStats (as the bus shows it) is above @above. */
static guint64
wait_stat_above (HarkDBusCall1 *call,
                 const char    *key,
                 guint64        above)
{
  StatWait w = { call, key, above };
  guint64 value;

  /* The first figures wait for the daemon's first GStreamer start: a
   * registry scan in the test's empty cache, seconds on a busy machine. */
  hark_test_wait_for (stat_above_cb, &w, hark_test_timeout (30000));
  value = stat_uint (hark_dbus_call1_get_media_stats (call), key);
  g_test_message ("%s: %s = %" G_GUINT64_FORMAT,
                  g_dbus_proxy_get_object_path (G_DBUS_PROXY (call)), key, value);
  g_assert_cmpuint (value, >, above);
  return value;
}

static gboolean
has_rtt_cb (gpointer user_data)
{
  GVariant *stats = hark_dbus_call1_get_media_stats (user_data);
  double rtt;

  return stats != NULL && g_variant_lookup (stats, "rtt-ms", "d", &rtt);
}

static void
assert_stats_shape (GVariant *stats)
{
  g_autofree char *text = g_variant_print (stats, TRUE);
  const char *uint_keys[] = { "packets-sent", "packets-received", "bytes-sent",
                              "bytes-received" };
  const char *double_keys[] = { "loss-percent", "jitter-ms", "remote-loss-percent" };
  const char *codec;
  gint64 lost;
  double value;

  g_test_message ("MediaStats: %s", text);
  for (guint i = 0; i < G_N_ELEMENTS (uint_keys); i++)
    g_assert_true (g_variant_lookup (stats, uint_keys[i], "t", NULL));
  for (guint i = 0; i < G_N_ELEMENTS (double_keys); i++)
    {
      g_assert_true (g_variant_lookup (stats, double_keys[i], "d", &value));
      g_assert_cmpfloat (value, >=, 0.0);
      g_assert_cmpfloat (value, <=, 100.0);
    }
  g_assert_true (g_variant_lookup (stats, "packets-lost", "x", &lost));
  g_assert_true (g_variant_lookup (stats, "remote-packets-lost", "x", &lost));
  g_assert_true (g_variant_lookup (stats, "codec", "&s", &codec));
  g_assert_cmpstr (codec, !=, "");
}

typedef struct {
  const char *path;
  gsize       from;
  double      found;
} ToneWait;

static gboolean
tone_cb (gpointer user_data)
{
  ToneWait *w = user_data;

  if (hark_test_audio_count_samples (w->path) < w->from + SINK_RATE / 2)
    return FALSE;
  w->found = hark_test_audio_dominant_frequency (w->path, SINK_RATE, 0.5);
  return fabs (w->found - TONE_A) <= 30.0;
}

/* Tests */

/* MediaStats: empty until the audio runs, then RTP counted both ways,
 * refreshed while the call goes on, and an RTCP round trip. */
static void
test_stats (Fixture       *f,
            gconstpointer  data)
{
  const char *a_env[] = { "HARK_AUDIO_SOURCE=audiotestsrc freq=1000 volume=0.5 is-live=true",
                          NULL };
  g_autoptr(HarkDBusCall1) a_call = NULL;
  g_autoptr(HarkDBusCall1) b_call = NULL;
  GVariant *stats;
  guint64 sent, received, bytes;
  double rtt;

  f->a = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NONE, a_env);
  f->b = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  call_b (f, &a_call, &b_call);

  /* About 50 packets a second each way (20 ms ptime). */
  sent = wait_stat_above (a_call, "packets-sent", 25);
  received = wait_stat_above (b_call, "packets-received", 25);
  bytes = wait_stat_above (b_call, "bytes-received", 0);
  g_assert_cmpuint (bytes, >=, received * 10);
  wait_stat_above (b_call, "packets-sent", 25);
  wait_stat_above (a_call, "packets-received", 25);
  assert_stats_shape (hark_dbus_call1_get_media_stats (a_call));
  assert_stats_shape (hark_dbus_call1_get_media_stats (b_call));

  /* Refreshed while the call runs (the bus shows the new figures). */
  wait_stat_above (a_call, "packets-sent", sent + 25);
  wait_stat_above (b_call, "packets-received", received + 25);

  /* RTCP: the round trip once a receiver report about A's stream came
   * back (reports every 5 s, randomised by 0.5 to 1.5). */
  g_assert_true (hark_test_wait_for (has_rtt_cb, a_call, hark_test_timeout (15000)));
  stats = hark_dbus_call1_get_media_stats (a_call);
  g_assert_true (g_variant_lookup (stats, "rtt-ms", "d", &rtt));
  g_test_message ("A: round trip %.2f ms", rtt);
  /* Loopback, but a busy or sanitized daemon answers RTCP late: only an
   * absurd figure (a unit or NTP-format mistake) fails. */
  g_assert_cmpfloat (rtt, >=, 0.0);
  g_assert_cmpfloat (rtt, <, 2000.0);
  /* Loopback loses nothing. */
  g_assert_true (g_variant_lookup (stats, "loss-percent", "d", &rtt));
  g_assert_cmpfloat (rtt, <, 1.0);

  hang_up (a_call, b_call);
}

/* An empty MediaStats before the audio: a call that is only ringing. */
static void
test_stats_empty (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(HarkDBusProfile1) b_profile = NULL;
  g_autoptr(HarkDBusCall1) a_call = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  GVariant *stats;

  f->a = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  f->b = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  b_profile = hark_test_bus_find_profile (f->b, "local");
  g_assert_true (hark_test_wait_for (contact_known_cb, b_profile, hark_test_timeout (10000)));
  g_signal_connect (hark_test_bus_get_manager (f->b), "incoming-call",
                    G_CALLBACK (on_incoming_call), f);
  hark_dbus_manager1_call_dial_sync (hark_test_bus_get_manager (f->a), "/",
                                     hark_dbus_profile1_get_contact (b_profile),
                                     g_variant_new ("a{sv}", NULL), &path, NULL, &error);
  g_assert_no_error (error);
  a_call = get_call (f->a, path);
  g_assert_true (hark_test_wait_for (incoming_cb, f, hark_test_timeout (10000)));
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a_call), "State", "ringing",
                                                 hark_test_timeout (10000)));
  hark_test_iterate (1500);
  stats = hark_dbus_call1_get_media_stats (a_call);
  g_assert_nonnull (stats);
  g_assert_cmpuint (g_variant_n_children (stats), ==, 0);

  hark_dbus_call1_call_hangup_sync (a_call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a_call), "State", "terminated",
                                                 hark_test_timeout (10000)));
}

/* B's audio devices come from its GSettings: a sink file that gets A's
 * tone, a silent source, and the jitter buffer and echo cancellation keys
 * as the daemon read them. */
static void
test_settings (Fixture       *f,
               gconstpointer  data)
{
  const char *a_env[] = { "HARK_AUDIO_SOURCE=audiotestsrc freq=1000 volume=0.5 is-live=true",
                          NULL };
  /* Empty overrides count as unset: the settings apply. */
  const char *b_env[] = { "GSETTINGS_BACKEND=keyfile", "GSETTINGS_SCHEMA_DIR=" SCHEMAS_DIR,
                          "HARK_AUDIO_SOURCE=", "HARK_AUDIO_SINK=", NULL };
  g_autoptr(HarkDBusCall1) a_call = NULL;
  g_autoptr(HarkDBusCall1) b_call = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *schema = g_build_filename (SCHEMAS_DIR, "gschemas.compiled", NULL);
  g_autofree char *settings_dir = NULL;
  g_autofree char *keyfile_path = NULL;
  g_autofree char *keyfile = NULL;
  g_autofree char *b_out = NULL;
  g_autofree char *log = NULL;
  ToneWait w = { 0, };

  g_assert_true (g_file_test (schema, G_FILE_TEST_EXISTS));
  f->a = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NONE, a_env);
  f->b = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NO_DAEMON, b_env);

  b_out = g_build_filename (hark_test_bus_get_tmpdir (f->b), "b.raw", NULL);
  settings_dir = g_build_filename (hark_test_bus_get_config_home (f->b), "glib-2.0", "settings",
                                   NULL);
  g_assert_cmpint (g_mkdir_with_parents (settings_dir, 0700), ==, 0);
  keyfile_path = g_build_filename (settings_dir, "keyfile", NULL);
  keyfile = g_strdup_printf ("[io/github/hark/Hark]\n"
                             "audio-source='audiotestsrc is-live=true wave=silence'\n"
                             "audio-sink='audioconvert ! audioresample ! " SINK_CAPS " ! "
                             "filesink location=\"%s\" buffer-mode=unbuffered sync=false'\n"
                             "jitter-buffer-latency=uint32 80\n"
                             "echo-cancellation=false\n",
                             b_out);
  g_assert_true (g_file_set_contents (keyfile_path, keyfile, -1, &error));
  g_assert_no_error (error);
  hark_test_bus_start_daemon (f->b);

  call_b (f, &a_call, &b_call);

  w.path = b_out;
  hark_test_wait_for (tone_cb, &w, hark_test_timeout (30000));
  g_test_message ("%s: dominant frequency %.0f Hz, %.2f s of audio", b_out, w.found,
                  (double) hark_test_audio_count_samples (b_out) / SINK_RATE);
  g_assert_cmpfloat_with_epsilon (w.found, TONE_A, 30.0);

  log = hark_test_bus_read_log (f->b);
  g_assert_nonnull (strstr (log, "jitter buffer 80 ms, echo cancellation off"));

  hang_up (a_call, b_call);
}

/* SIPp offers audio and video; Hark's 200 refuses the video stream with
 * port 0 and answers the audio one (the scenario checks both), the call
 * runs and SIPp hangs up. */
static void
test_video_refused (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *scenario = g_build_filename (HARK_TEST_SRCDIR, "sipp",
                                                "uac-audio-video.xml", NULL);
  g_autofree char *output = NULL;
  g_autofree char *messages = NULL;
  g_autofree char *port = NULL;
  g_autofree char *target = NULL;
  HarkTestProcess *sipp;
  const char *contact, *colon;

  f->b = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  profile = auto_answering_profile (f->b);
  contact = hark_dbus_profile1_get_contact (profile);
  colon = strrchr (contact, ':');
  g_assert_nonnull (colon);
  target = g_strdup_printf ("127.0.0.1:%s", colon + 1);
  port = g_strdup_printf ("%u", hark_test_get_free_port (TRUE));
  output = g_build_filename (hark_test_bus_get_tmpdir (f->b), "sipp.out", NULL);
  messages = g_build_filename (hark_test_bus_get_tmpdir (f->b), "sipp.messages", NULL);
  g_signal_connect (hark_test_bus_get_manager (f->b), "incoming-call",
                    G_CALLBACK (on_incoming_call), f);

  sipp = hark_test_bus_spawn (f->b,
                              (const char * const []) {
                                "sipp", "-sf", scenario, "-i", "127.0.0.1", "-p", port,
                                "-m", "1", "-timeout", "20", "-timeout_error", "-nostdin",
                                "-trace_msg", "-message_file", messages, "-s", "hark", target,
                                NULL },
                              output, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_for (incoming_cb, f, hark_test_timeout (10000)));
  call = get_call (f->b, f->b_incoming);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 hark_test_timeout (20000)));
  if (!hark_test_process_wait (sipp, hark_test_timeout (10000)) ||
      !WIFEXITED (sipp->wait_status) || WEXITSTATUS (sipp->wait_status) != 0)
    {
      g_autofree char *out = NULL;
      g_autofree char *msgs = NULL;

      g_file_get_contents (output, &out, NULL, NULL);
      g_file_get_contents (messages, &msgs, NULL, NULL);
      g_test_message ("SIPp output:\n%s\nSIPp messages:\n%s", out ? out : "",
                      msgs ? msgs : "");
      g_test_fail_printf ("SIPp scenario failed (wait status 0x%x)", sipp->wait_status);
      return;
    }
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "remote-hangup");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 200);
  g_assert_cmpstr (hark_dbus_call1_get_codec (call), ==, "PCMU/8000");
}

static guint
count_occurrences (const char *haystack,
                   const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

typedef struct {
  HarkTestBus *bus;
  const char  *text;
} LogWait;

static gboolean
log_has_cb (gpointer user_data)
{
  LogWait *w = user_data;
  g_autofree char *log = hark_test_bus_read_log (w->bus);

  return strstr (log, w->text) != NULL;
}

/* GStreamer's system plugins, as symlinks in a dir of ours, without the
 * ones of @hidden: what a system without those packages has. */
static char *
make_plugin_dir (const char * const *hidden)
{
  g_autofree char *output = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  char *plugin_dir;
  const char *name;
  int status;

  if (!g_spawn_command_line_sync ("pkg-config --variable=pluginsdir gstreamer-1.0", &output,
                                  NULL, &status, NULL) || status != 0)
    return NULL;
  g_strstrip (output);
  dir = g_dir_open (output, 0, &error);
  g_assert_no_error (error);
  plugin_dir = g_dir_make_tmp ("hark-gst-plugins-XXXXXX", &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *target = NULL;
      g_autofree char *link = NULL;

      if (!g_str_has_suffix (name, ".so") || g_strv_contains (hidden, name))
        continue;
      target = g_build_filename (output, name, NULL);
      link = g_build_filename (plugin_dir, name, NULL);
      g_assert_cmpint (symlink (target, link), ==, 0);
    }
  return plugin_dir;
}

/* B's GStreamer has neither Opus (gstreamer1.0-plugins-base's opus plugin)
 * nor G.722 (gstreamer1.0-libav): once B has loaded GStreamer (its first
 * call; until then it offers every codec rather than make the main loop
 * wait), it says so once per codec, naming the package, and its SDP no
 * longer lists them, so a call from A, which offers Opus first, agrees on
 * G.711 and carries audio. */
static void
test_missing_codecs (Fixture       *f,
                     gconstpointer  data)
{
  const char * const hidden[] = { "libgstopus.so", "libgstlibav.so", NULL };
  const char *a_env[] = { "HARK_AUDIO_SOURCE=audiotestsrc freq=1000 volume=0.5 is-live=true",
                          NULL };
  g_autofree char *plugin_env = NULL;
  g_autofree char *registry_env = NULL;
  g_autoptr(HarkDBusCall1) a_call = NULL;
  g_autoptr(HarkDBusCall1) b_call = NULL;
  g_autofree char *log = NULL;
  LogWait w;

  f->plugin_dir = make_plugin_dir (hidden);
  if (f->plugin_dir == NULL)
    {
      g_test_skip ("pkg-config does not know GStreamer's plugin dir");
      return;
    }
  plugin_env = g_strdup_printf ("GST_PLUGIN_SYSTEM_PATH_1_0=%s", f->plugin_dir);
  registry_env = g_strdup_printf ("GST_REGISTRY_1_0=%s/registry.bin", f->plugin_dir);

  {
    const char *b_env[] = { plugin_env, registry_env, "GST_PLUGIN_PATH_1_0=", NULL };

    f->a = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NONE, a_env);
    f->b = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NONE, b_env);
  }

  /* The first call makes B load GStreamer. */
  call_b (f, &a_call, &b_call);
  hang_up (a_call, b_call);
  g_clear_object (&a_call);
  g_clear_object (&b_call);
  g_clear_pointer (&f->b_incoming, g_free);
  w = (LogWait) { f->b, "The codec G722 is not offered" };
  g_assert_true (hark_test_wait_for (log_has_cb, &w, hark_test_timeout (15000)));

  call_b (f, &a_call, &b_call);
  /* Codec can reach B's proxy a moment after State */
  hark_test_wait_for (codec_known_cb, b_call, hark_test_timeout (5000));
  g_test_message ("A: %s, B: %s", hark_dbus_call1_get_codec (a_call),
                  hark_dbus_call1_get_codec (b_call));
  g_assert_true (g_str_equal (hark_dbus_call1_get_codec (b_call), "PCMU/8000") ||
                 g_str_equal (hark_dbus_call1_get_codec (b_call), "PCMA/8000"));
  g_assert_cmpstr (hark_dbus_call1_get_codec (a_call), ==, hark_dbus_call1_get_codec (b_call));
  /* Audio flows to B: not a one-way call. */
  wait_stat_above (b_call, "packets-received", 25);
  hang_up (a_call, b_call);

  log = hark_test_bus_read_log (f->b);
  g_assert_cmpuint (count_occurrences (log, "The codec opus is not offered"), ==, 1);
  g_assert_cmpuint (count_occurrences (log, "The codec G722 is not offered"), ==, 1);
  g_assert_nonnull (strstr (log, "install the Debian package gstreamer1.0-plugins-base"));
  g_assert_nonnull (strstr (log, "install the Debian package gstreamer1.0-libav"));
  g_assert_null (strstr (log, "The codec PCMU is not offered"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/hark/media/stats/dbus", Fixture, NULL, fixture_setup, test_stats,
              fixture_teardown);
  g_test_add ("/hark/media/stats/empty-before-media", Fixture, NULL, fixture_setup,
              test_stats_empty, fixture_teardown);
  g_test_add ("/hark/media/settings/gsettings", Fixture, NULL, fixture_setup, test_settings,
              fixture_teardown);
  g_test_add ("/hark/media/codecs/missing-plugins", Fixture, NULL, fixture_setup,
              test_missing_codecs, fixture_teardown);
  g_test_add ("/hark/media/sdp/video-refused", Fixture, NULL, fixture_setup, test_video_refused,
              fixture_teardown);

  return g_test_run ();
}
