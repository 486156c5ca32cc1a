/* test-media-calls.c — real audio through whole calls, over D-Bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Hark ↔ Hark: two hark-daemons, each on its own private bus, calling each
 * other's local profile on loopback. A's source is a 1000 Hz tone
 * (HARK_AUDIO_SOURCE), B's sink writes raw 16 kHz S16LE to a file that the
 * test analyses; so the check is on the audio that came out of B.
 * Hark ↔ Hark through Kamailio: each daemon registers a profile at a real
 * registrar/proxy, and A calls B's address of record there.
 * Hark ↔ baresip: Debian's baresip with its aufile module, audio both ways.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "hark-test-audio.h"
#include "hark-test-bus.h"
#include "hark-test-kamailio.h"

#define TONE_A    1000.0
#define TONE_PEER 600.0
#define SINK_RATE 16000
#define SINK_CAPS "audio/x-raw,format=S16LE,rate=16000,channels=1"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusCall1, g_object_unref)

typedef struct {
  char        *tmpdir;       /* the test's own files (sink output, baresip) */
  char        *b_out;
  HarkTestBus *a;
  HarkTestBus *b;
  char        *b_incoming;   /* path from B's IncomingCall */
  GString     *b_dtmf;
  HarkTestProcess *baresip;
  HarkTestKamailio *kamailio;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmpdir = g_dir_make_tmp ("hark-media-calls-XXXXXX", &error);
  g_assert_no_error (error);
  f->b_out = g_build_filename (f->tmpdir, "b.raw", NULL);
  f->b_dtmf = g_string_new (NULL);
}

static gboolean
remove_recursive (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_recursive (child);
      else
        g_unlink (child);
    }
  return g_rmdir (path) == 0;
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->baresip != NULL)
    {
      g_subprocess_send_signal (f->baresip->subprocess, SIGTERM);
      if (!hark_test_process_wait (f->baresip, 5000))
        {
          g_subprocess_force_exit (f->baresip->subprocess);
          hark_test_process_wait (f->baresip, 5000);
        }
    }
  g_clear_pointer (&f->a, hark_test_bus_free);
  g_clear_pointer (&f->b, hark_test_bus_free);
  g_clear_pointer (&f->kamailio, hark_test_kamailio_free);
  if (g_test_failed ())
    g_test_message ("kept %s", f->tmpdir);
  else
    remove_recursive (f->tmpdir);
  g_free (f->tmpdir);
  g_free (f->b_out);
  g_free (f->b_incoming);
  g_string_free (f->b_dtmf, TRUE);
}

/* Helpers */

static char *
sink_description (const char *path)
{
  return g_strdup_printf ("HARK_AUDIO_SINK=audioconvert ! audioresample ! " SINK_CAPS " ! "
                          "filesink location=\"%s\" buffer-mode=unbuffered sync=false", path);
}

static char *
tone_description (double frequency)
{
  return g_strdup_printf ("HARK_AUDIO_SOURCE=audiotestsrc freq=%g volume=0.5 is-live=true",
                          frequency);
}

static gboolean
contact_known_cb (gpointer user_data)
{
  HarkDBusProfile1 *profile = user_data;
  const char *contact = hark_dbus_profile1_get_contact (profile);

  return contact != NULL && *contact != '\0';
}

/* The local profile, with its SIP stack listening. */
static HarkDBusProfile1 *
local_profile (HarkTestBus *bus)
{
  HarkDBusProfile1 *profile = hark_test_bus_find_profile (bus, "local");

  g_assert_nonnull (profile);
  g_assert_true (hark_test_wait_for (contact_known_cb, profile, hark_test_timeout (10000)));
  return profile;
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

static char *
dial (HarkTestBus *bus,
      const char  *uri)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;

  hark_dbus_manager1_call_dial_sync (hark_test_bus_get_manager (bus), "/", uri,
                                     g_variant_new ("a{sv}", NULL), &path, NULL, &error);
  g_assert_no_error (error);
  return path;
}

static void
on_incoming_call (HarkDBusManager1 *manager,
                  const char       *path,
                  Fixture          *f)
{
  g_free (f->b_incoming);
  f->b_incoming = g_strdup (path);
}

static void
on_dtmf_received (HarkDBusCall1 *call,
                  const char    *digits,
                  Fixture       *f)
{
  g_string_append (f->b_dtmf, digits);
}

static gboolean
incoming_cb (gpointer user_data)
{
  Fixture *f = user_data;

  return f->b_incoming != NULL;
}

typedef struct {
  const char *path;
  guint       rate;
  gsize       from;
  double      expected;
  double      found;
} ToneWait;

static gboolean
tone_cb (gpointer user_data)
{
  ToneWait *w = user_data;

  if (hark_test_audio_count_samples (w->path) < w->from + w->rate / 2)
    return FALSE;
  w->found = hark_test_audio_dominant_frequency (w->path, w->rate, 0.5);
  return fabs (w->found - w->expected) <= 30.0;
}

/* The last 0.5 s of @path, all written after sample @from, carries @expected. */
static void
assert_tone_from (const char *path,
                  guint       rate,
                  gsize       from,
                  double      expected)
{
  ToneWait w = { path, rate, from, expected, 0 };

  hark_test_wait_for (tone_cb, &w, hark_test_timeout (10000));
  g_test_message ("%s: dominant frequency %.0f Hz (expected %.0f), %.2f s of audio", path,
                  w.found, expected, (double) hark_test_audio_count_samples (path) / rate);
  g_assert_cmpfloat_with_epsilon (w.found, expected, 30.0);
}

static gboolean
dtmf_cb (gpointer user_data)
{
  Fixture *f = user_data;

  return f->b_dtmf->len >= 4;
}

/* A, whose source is a 1000 Hz tone, and B, whose sink writes f->b_out */
static void
start_tone_pair (Fixture *f)
{
  g_autofree char *a_source = tone_description (TONE_A);
  g_autofree char *b_sink = sink_description (f->b_out);
  const char *a_env[] = { a_source, NULL };
  const char *b_env[] = { b_sink, NULL };

  f->a = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NONE, a_env);
  f->b = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NONE, b_env);
}

/* Tests */

static void
test_hark_to_hark (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(HarkDBusProfile1) b_profile = NULL;
  g_autoptr(HarkDBusCall1) a_call = NULL;
  g_autoptr(HarkDBusCall1) b_call = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree gint16 *held = NULL;
  gsize from, n;

  start_tone_pair (f);

  b_profile = local_profile (f->b);
  hark_dbus_profile1_call_update_sync (b_profile,
                                       g_variant_new_parsed ("{'auto-answer': <uint32 10>}"),
                                       NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (hark_test_bus_get_manager (f->b), "incoming-call",
                    G_CALLBACK (on_incoming_call), f);
  g_clear_object (&b_profile);
  b_profile = local_profile (f->b);
  g_test_message ("B is at %s", hark_dbus_profile1_get_contact (b_profile));

  path = dial (f->a, hark_dbus_profile1_get_contact (b_profile));
  a_call = get_call (f->a, path);
  g_assert_true (hark_test_wait_for (incoming_cb, f, hark_test_timeout (10000)));
  b_call = get_call (f->b, f->b_incoming);
  g_signal_connect (b_call, "dtmf-received", G_CALLBACK (on_dtmf_received), f);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a_call), "State", "active",
                                                 hark_test_timeout (10000)));
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (b_call), "State", "active",
                                                 hark_test_timeout (10000)));
  g_assert_cmpstr (hark_dbus_call1_get_codec (a_call), !=, "");

  /* A's tone comes out of B. */
  assert_tone_from (f->b_out, SINK_RATE, 0, TONE_A);
  /* Both profiles keep the default media-encryption, "optional": SDES is
   * offered and taken up (tests/test-media-srtp.c has the other cases). */
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (a_call), "Encrypted", TRUE,
                                                  hark_test_timeout (10000)));

  /* DTMF, in order. */
  hark_dbus_call1_call_send_dtmf_sync (a_call, "159#", NULL, &error);
  g_assert_no_error (error);
  hark_test_wait_for (dtmf_cb, f, hark_test_timeout (10000));
  g_assert_cmpstr (f->b_dtmf->str, ==, "159#");

  /* A holds: B hears nothing more. */
  hark_dbus_call1_call_hold_sync (a_call, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a_call), "State", "held",
                                                 hark_test_timeout (10000)));
  hark_test_iterate (300);
  from = hark_test_audio_count_samples (f->b_out);
  hark_test_iterate (700);
  held = hark_test_audio_read_samples (f->b_out, from, &n);
  g_test_message ("%" G_GSIZE_FORMAT " samples while held, RMS %f", n,
                  hark_test_audio_rms (held, n));
  g_assert_cmpfloat (hark_test_audio_rms (held, n), <, 0.01);

  /* Resume: the tone is back. */
  from = hark_test_audio_count_samples (f->b_out);
  hark_dbus_call1_call_resume_sync (a_call, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a_call), "State", "active",
                                                 hark_test_timeout (10000)));
  assert_tone_from (f->b_out, SINK_RATE, from, TONE_A);

  hark_dbus_call1_call_hangup_sync (a_call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (b_call), "State", "terminated",
                                                 hark_test_timeout (10000)));
}

/* Two daemons, alice on A and bob on B, both registered at Kamailio: A
 * dials bob's address of record, Kamailio finds B's binding, B answers
 * (Accept), and A's tone comes out of B; B hangs up. */
static void
test_hark_to_hark_kamailio (Fixture       *f,
                            gconstpointer  data)
{
  HarkTestKamailioOptions options = { .password = "kamailio-media" };
  g_autoptr(HarkDBusProfile1) alice = NULL;
  g_autoptr(HarkDBusProfile1) bob = NULL;
  g_autoptr(HarkDBusCall1) a_call = NULL;
  g_autoptr(HarkDBusCall1) b_call = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;

  f->kamailio = hark_test_kamailio_start (&options, &error);
  g_assert_no_error (error);
  start_tone_pair (f);
  g_signal_connect (hark_test_bus_get_manager (f->b), "incoming-call",
                    G_CALLBACK (on_incoming_call), f);

  alice = hark_test_kamailio_create_profile (f->kamailio, f->a, "alice", options.password, NULL);
  bob = hark_test_kamailio_create_profile (f->kamailio, f->b, "bob", options.password, NULL);
  hark_test_kamailio_register (f->kamailio, f->a, alice, "alice");
  hark_test_kamailio_register (f->kamailio, f->b, bob, "bob");

  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", hark_test_kamailio_get_port (f->kamailio, "udp"));
  hark_dbus_manager1_call_dial_sync (hark_test_bus_get_manager (f->a),
                                     g_dbus_proxy_get_object_path (G_DBUS_PROXY (alice)), uri,
                                     g_variant_new ("a{sv}", NULL), &path, NULL, &error);
  g_assert_no_error (error);
  a_call = get_call (f->a, path);
  g_assert_true (hark_test_wait_for (incoming_cb, f, hark_test_timeout (10000)));
  b_call = get_call (f->b, f->b_incoming);
  g_assert_cmpstr (hark_dbus_call1_get_profile (b_call), ==,
                   g_dbus_proxy_get_object_path (G_DBUS_PROXY (bob)));
  g_assert_true (g_str_has_prefix (hark_dbus_call1_get_remote_uri (b_call), "sip:alice@"));
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a_call), "State", "ringing",
                                                 hark_test_timeout (10000)));

  hark_dbus_call1_call_accept_sync (b_call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a_call), "State", "active",
                                                 hark_test_timeout (10000)));
  assert_tone_from (f->b_out, SINK_RATE, 0, TONE_A);
  g_assert_cmpuint (hark_test_kamailio_count_requests (f->kamailio, "INVITE"), ==, 1);

  hark_dbus_call1_call_hangup_sync (b_call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a_call), "State", "terminated",
                                                 hark_test_timeout (10000)));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (a_call), ==, "remote-hangup");
  /* The BYE went through Kamailio too (it record-routes INVITEs) */
  g_assert_cmpuint (hark_test_kamailio_count_requests (f->kamailio, "BYE"), >=, 1);
}

/* baresip 1.0.0's aufile has no player: its sndfile filter dumps what it
 * decoded as dump-<peer>=><self>-dec.wav in snd_path instead. */
static char *
find_decoded_wav (const char *dir_path)
{
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, "-dec.wav"))
      return g_build_filename (dir_path, name, NULL);
  return NULL;
}

/* Hark calls baresip (auto-answer, PCMU): each side's tone comes out of
 * the other one. */
static void
test_baresip (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *baresip = g_find_program_in_path ("baresip");
  g_autofree char *a_source = tone_description (TONE_A);
  g_autofree char *a_out = g_build_filename (f->tmpdir, "hark.raw", NULL);
  g_autofree char *a_sink = sink_description (a_out);
  const char *a_env[] = { a_source, a_sink, NULL };
  g_autofree char *config_dir = g_build_filename (f->tmpdir, "baresip", NULL);
  g_autofree char *in_wav = g_build_filename (f->tmpdir, "in.wav", NULL);
  g_autofree char *out_wav = NULL;
  g_autofree char *config = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *accounts_path = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;
  guint rate;

  if (baresip == NULL)
    {
      g_test_skip ("baresip is not installed");
      return;
    }

  f->a = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NONE, a_env);

  g_assert_true (hark_test_audio_write_tone_wav (in_wav, 8000, TONE_PEER, 30, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (config_dir, 0700), ==, 0);
  port = hark_test_get_free_port (TRUE);
  config = g_strdup_printf ("sip_listen\t\t127.0.0.1:%u\n"
                            "audio_source\t\taufile,%s\n"
                            "snd_path\t\t%s\n"
                            "module_path\t\t/usr/lib/baresip/modules\n"
                            "module\t\t\tg711.so\n"
                            "module\t\t\taufile.so\n"
                            "module\t\t\tsndfile.so\n"
                            "module_app\t\taccount.so\n",
                            port, in_wav, f->tmpdir);
  config_path = g_build_filename (config_dir, "config", NULL);
  g_assert_true (g_file_set_contents (config_path, config, -1, &error));
  accounts_path = g_build_filename (config_dir, "accounts", NULL);
  g_assert_true (g_file_set_contents (accounts_path,
                                      "<sip:bob@127.0.0.1>;regint=0;answermode=auto\n", -1,
                                      &error));
  g_assert_no_error (error);

  log_path = g_build_filename (f->tmpdir, "baresip.log", NULL);
  f->baresip = hark_test_bus_spawn (f->a, (const char * const []) { baresip, "-f", config_dir,
                                                                    NULL },
                                    log_path, &error);
  g_assert_no_error (error);
  hark_test_iterate (500);

  /* Hark's SIP stack is listening once its local profile has a Contact. */
  g_clear_object (&profile);
  profile = local_profile (f->a);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);
  path = dial (f->a, uri);
  call = get_call (f->a, path);
  if (!hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active",
                                       hark_test_timeout (10000)))
    {
      g_autofree char *log = NULL;

      g_file_get_contents (log_path, &log, NULL, NULL);
      g_test_message ("baresip said:\n%s", log ? log : "");
      g_assert_cmpstr (hark_dbus_call1_get_state (call), ==, "active");
    }
  g_assert_true (g_str_has_prefix (hark_dbus_call1_get_codec (call), "PCMU"));

  /* baresip's tone comes out of Hark. */
  assert_tone_from (a_out, SINK_RATE, 0, TONE_PEER);

  /* Hark's tone went into baresip's dump (complete once the call ends). */
  hark_test_iterate (1500);
  hark_dbus_call1_call_hangup_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 hark_test_timeout (10000)));
  hark_test_iterate (300);
  out_wav = find_decoded_wav (f->tmpdir);
  g_assert_nonnull (out_wav);
  rate = hark_test_audio_get_wav_rate (out_wav);
  g_test_message ("baresip wrote %" G_GSIZE_FORMAT " samples at %u Hz",
                  hark_test_audio_count_samples (out_wav), rate);
  g_assert_cmpuint (rate, >, 0);
  assert_tone_from (out_wav, rate, 0, TONE_A);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/hark/media/calls/hark-to-hark", Fixture, NULL, fixture_setup,
              test_hark_to_hark, fixture_teardown);
  g_test_add ("/hark/media/calls/hark-to-hark-kamailio", Fixture, NULL, fixture_setup,
              test_hark_to_hark_kamailio, fixture_teardown);
  g_test_add ("/hark/media/calls/baresip", Fixture, NULL, fixture_setup, test_baresip,
              fixture_teardown);

  return g_test_run ();
}
