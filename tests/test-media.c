/* test-media.c
 *
 * Media sessions without SIP: two HarkMediaSessions in this process talk
 * RTP over loopback. Side A plays a 1000 Hz tone, side B a 600 Hz one;
 * each side's sink writes raw 16 kHz S16LE to a file that the test reads
 * and analyses (Goertzel), so what is checked is the audio that came out,
 * not the pipeline state.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "hark-error.h"
#include "hark-media-playout.h"
#include "hark-media-private.h"
#include "hark-media-session.h"
#include "hark-test-audio.h"

#define TONE_A 1000.0
#define TONE_B 600.0
#define SINK_RATE 16000
#define SINK_CAPS "audio/x-raw,format=S16LE,rate=16000,channels=1"

/* A UDP relay between A and B that drops a share of A's RTP packets. */
typedef struct {
  GSocket        *socket;
  GSocketAddress *target;
  GSource        *source;
  double          drop_probability;
  guint           received;
  guint           forwarded;
  guint           dropped;
  guint           plaintext;  /* PCMU packets whose payload is visibly a tone */
} Relay;

/* Fixture data: echo cancellation on (off otherwise). */
#define WITH_ECHO_CANCELLATION 0xec

typedef struct {
  char             *tmpdir;
  char             *a_out;
  char             *b_out;
  HarkMediaSession *a;
  HarkMediaSession *b;
  HarkMediaParams   a_params;
  HarkMediaParams   b_params;
  GString          *b_dtmf;
  Relay            *relay;
  gboolean          want_relay;
  gboolean          smooth_source;
} Fixture;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *done = user_data;

  *done = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* Waits until @path holds @count samples past @from (the sink writes in
 * real time: slower when the machine is busy), for at most 10 s. */
static void
wait_samples (const char *path,
              gsize       from,
              gsize       count)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (hark_test_audio_count_samples (path) < from + count &&
         g_get_monotonic_time () < deadline)
    wait_ms (50);
}

static gboolean
relay_cb (GSocket      *socket,
          GIOCondition  condition,
          gpointer      user_data)
{
  Relay *relay = user_data;
  char buffer[2048];
  gssize n;

  n = g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL);
  if (n <= 0)
    return G_SOURCE_CONTINUE;

  /* A 1000 Hz tone in 8 kHz PCMU repeats every 8 bytes; SRTP's does not. */
  if (n >= 12 + 160 && (buffer[1] & 0x7f) == 0)
    {
      guint same = 0;

      for (guint i = 12; i + 8 < 12 + 160; i++)
        same += buffer[i] == buffer[i + 8];
      if (same > 140)
        relay->plaintext++;
    }

  /* Loss spread evenly, so that every run drops the same share. */
  relay->received++;
  if ((guint) (relay->received * relay->drop_probability) !=
      (guint) ((relay->received - 1) * relay->drop_probability))
    {
      relay->dropped++;
      return G_SOURCE_CONTINUE;
    }
  g_socket_send_to (socket, relay->target, buffer, n, NULL, NULL);
  relay->forwarded++;
  return G_SOURCE_CONTINUE;
}

static Relay *
relay_new (guint  target_port,
           double drop_probability)
{
  Relay *relay = g_new0 (Relay, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GError) error = NULL;

  relay->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_socket_bind (relay->socket, any_port, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (relay->socket, FALSE);
  relay->target = g_inet_socket_address_new (loopback, target_port);
  relay->drop_probability = drop_probability;
  relay->source = g_socket_create_source (relay->socket, G_IO_IN, NULL);
  g_source_set_callback (relay->source, G_SOURCE_FUNC (relay_cb), relay, NULL);
  g_source_attach (relay->source, NULL);
  return relay;
}

static guint
relay_get_port (Relay *relay)
{
  g_autoptr(GSocketAddress) address = g_socket_get_local_address (relay->socket, NULL);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
}

static void
relay_free (Relay *relay)
{
  g_source_destroy (relay->source);
  g_source_unref (relay->source);
  g_object_unref (relay->socket);
  g_object_unref (relay->target);
  g_free (relay);
}

static guint64
stats_get (HarkMediaSession *session,
           const char       *key)
{
  g_autoptr(GVariant) stats = g_variant_ref_sink (hark_media_session_get_stats (session));
  guint64 value = 0;
  gint64 signed_value = 0;

  if (g_variant_lookup (stats, key, "t", &value))
    return value;
  if (g_variant_lookup (stats, key, "x", &signed_value))
    return MAX (signed_value, 0);
  {
    guint32 small = 0;

    if (g_variant_lookup (stats, key, "u", &small))
      return small;
  }
  g_assert_not_reached ();
}

static gboolean
stats_get_boolean (HarkMediaSession *session,
                   const char       *key)
{
  g_autoptr(GVariant) stats = g_variant_ref_sink (hark_media_session_get_stats (session));
  gboolean value = FALSE;

  g_assert_true (g_variant_lookup (stats, key, "b", &value));
  return value;
}

static void
on_dtmf_received (HarkMediaSession *session,
                  const char       *digit,
                  GString          *received)
{
  g_string_append (received, digit);
}

static void
stop_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (hark_media_session_stop_finish (HARK_MEDIA_SESSION (object), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static void
stop_session (HarkMediaSession **session)
{
  gboolean done = FALSE;

  if (*session == NULL)
    return;
  hark_media_session_stop_async (*session, NULL, stop_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_finalize_object (g_steal_pointer (session));
}

/* ------------------------------------------------------------------------ */
/* Fixture                                                                   */

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmpdir = g_dir_make_tmp ("hark-media-XXXXXX", &error);
  g_assert_no_error (error);
  f->a_out = g_build_filename (f->tmpdir, "a.raw", NULL);
  f->b_out = g_build_filename (f->tmpdir, "b.raw", NULL);
  f->b_dtmf = g_string_new (NULL);
  hark_media_params_init (&f->a_params);
  hark_media_params_init (&f->b_params);
  f->a_params.echo_cancellation = GPOINTER_TO_INT (data) == WITH_ECHO_CANCELLATION;
  f->b_params.echo_cancellation = GPOINTER_TO_INT (data) == WITH_ECHO_CANCELLATION;
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  stop_session (&f->a);
  stop_session (&f->b);
  g_clear_pointer (&f->relay, relay_free);
  hark_media_params_clear (&f->a_params);
  hark_media_params_clear (&f->b_params);
  g_string_free (f->b_dtmf, TRUE);
  g_unlink (f->a_out);
  g_unlink (f->b_out);
  g_rmdir (f->tmpdir);
  g_free (f->a_out);
  g_free (f->b_out);
  g_free (f->tmpdir);
}

static void
set_codec (HarkMediaParams *params,
           const char      *codec,
           guint            pt,
           guint            clock_rate,
           guint            dtmf_pt,
           guint            dtmf_rate)
{
  g_free (params->codec.name);
  params->codec.name = g_strdup (codec);
  params->codec.payload_type = pt;
  params->codec.clock_rate = clock_rate;
  params->codec.ptime = 20;
  params->dtmf_payload_type = dtmf_pt;
  params->dtmf_clock_rate = dtmf_rate;
}

/* The descriptions go through the params (the settings' way), not the
 * environment: setenv() is not safe once GStreamer's threads run. */
static HarkMediaSession *
make_session (HarkMediaParams *params,
              double           tone,
              const char      *out,
              gboolean         smooth)
{
  g_autoptr(GError) error = NULL;
  HarkMediaSession *session;

  /* audiotestsrc's buffers are 1024 samples: 128 ms at 8 kHz, so its
   * packets leave in bursts. A sound card's come every 10 ms. */
  g_free (params->audio_source);
  params->audio_source = g_strdup_printf ("audiotestsrc freq=%g volume=0.5 is-live=true%s", tone,
                                          smooth ? " samplesperbuffer=441 ! capsfilter caps=audio/x-raw,rate=44100"
                                                 : "");
  g_free (params->audio_sink);
  params->audio_sink = g_strdup_printf ("audioconvert ! audioresample ! " SINK_CAPS " ! "
                                        "filesink location=\"%s\" buffer-mode=unbuffered "
                                        "sync=false", out);

  session = hark_media_session_new (params, &error);
  g_assert_no_error (error);
  g_assert_nonnull (session);
  return session;
}

/* A ⇄ B on loopback, optionally with a lossy relay on A → B's RTP. */
static void
pair_start (Fixture    *f,
            const char *codec,
            guint       pt,
            guint       clock_rate,
            guint       dtmf_pt,
            guint       dtmf_rate,
            double      loss)
{
  g_autoptr(GError) error = NULL;
  guint a_port, b_port;

  f->a_params.ports = hark_media_ports_allocate ("127.0.0.1", &error);
  g_assert_no_error (error);
  f->b_params.ports = hark_media_ports_allocate ("127.0.0.1", &error);
  g_assert_no_error (error);
  a_port = f->a_params.ports->rtp_port;
  b_port = f->b_params.ports->rtp_port;

  set_codec (&f->a_params, codec, pt, clock_rate, dtmf_pt, dtmf_rate);
  set_codec (&f->b_params, codec, pt, clock_rate, dtmf_pt, dtmf_rate);

  f->a_params.remote_address = g_strdup ("127.0.0.1");
  f->a_params.remote_rtp_port = b_port;
  f->a_params.remote_rtcp_port = b_port + 1;
  if (loss > 0 || f->want_relay)
    {
      f->relay = relay_new (b_port, loss);
      f->a_params.remote_rtp_port = relay_get_port (f->relay);
    }
  f->b_params.remote_address = g_strdup ("127.0.0.1");
  f->b_params.remote_rtp_port = a_port;

  f->a = make_session (&f->a_params, TONE_A, f->a_out, f->smooth_source);
  f->b = make_session (&f->b_params, TONE_B, f->b_out, f->smooth_source);
  g_signal_connect (f->b, "dtmf-received", G_CALLBACK (on_dtmf_received), f->b_dtmf);

  g_assert_cmpuint (hark_media_session_get_local_port (f->a), ==, a_port);
  g_assert_true (hark_media_session_start (f->a, &error));
  g_assert_no_error (error);
  g_assert_true (hark_media_session_start (f->b, &error));
  g_assert_no_error (error);
}

/* The last 0.5 s of @path, all of it written after sample @from, carries
 * @expected: polled, so that a slow machine (sanitizers) only takes longer. */
static void
assert_tone_from (const char *path,
                  gsize       from,
                  double      expected)
{
  gint64 deadline = g_get_monotonic_time () + 6 * G_USEC_PER_SEC;
  double f = 0;

  for (;;)
    {
      if (hark_test_audio_count_samples (path) >= from + SINK_RATE / 2)
        {
          f = hark_test_audio_dominant_frequency (path, SINK_RATE, 0.5);
          if (fabs (f - expected) <= 30.0)
            break;
        }
      if (g_get_monotonic_time () > deadline)
        break;
      wait_ms (100);
    }

  g_test_message ("%s: dominant frequency %.0f Hz (expected %.0f), %.2f s of audio", path, f,
                  expected, (double) hark_test_audio_count_samples (path) / SINK_RATE);
  g_assert_cmpfloat_with_epsilon (f, expected, 30.0);
}

static void
assert_tone (const char *path,
             double      expected)
{
  assert_tone_from (path, 0, expected);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */

typedef struct {
  const char *name;
  guint       pt;
  guint       clock_rate;
} CodecCase;

static const CodecCase codec_cases[] = {
  { "PCMU", 0, 8000 },
  { "PCMA", 8, 8000 },
  { "G722", 9, 8000 },
  { "opus", 96, 48000 },
};

static void
test_codec (Fixture       *f,
            gconstpointer  data)
{
  const CodecCase *c = data;

  pair_start (f, c->name, c->pt, c->clock_rate, 101, 8000, 0);
  g_assert_cmpstr (hark_media_session_get_codec (f->a), ==, c->name);
  wait_ms (500);

  assert_tone (f->b_out, TONE_A);
  assert_tone (f->a_out, TONE_B);
}

/* What B's receive path holds before its sink, once its jitter buffer is
 * there (after the first packet; until then, nothing upstream adds any). */
static GstClockTime
wait_decoded_latency (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  GstClockTime latency;

  do
    {
      wait_ms (20);
      latency = hark_media_session_query_decoded_latency (f->b);
    }
  while ((!GST_CLOCK_TIME_IS_VALID (latency) || latency == 0) &&
         g_get_monotonic_time () < deadline);
  g_assert_true (GST_CLOCK_TIME_IS_VALID (latency));
  return latency;
}

/* A smooth stream starts with a short playout delay: the jitter buffer's
 * 10 ms, and with Opus no FEC packet held back (not the 120 ms that opusdec
 * claims with FEC). Sinks play that much later than arrival. */
static void
test_decoded_latency (Fixture       *f,
                      gconstpointer  data)
{
  const CodecCase *c = data;
  GstClockTime latency;

  f->smooth_source = TRUE;
  pair_start (f, c->name, c->pt, c->clock_rate, 101, 8000, 0);
  latency = wait_decoded_latency (f);
  g_assert_cmpuint (stats_get (f->b, "playout-delay-ms"), ==, HARK_PLAYOUT_START_MS);
  g_assert_cmpuint (latency, >=, HARK_PLAYOUT_START_MS * GST_MSECOND);
  g_assert_cmpuint (latency, <=, (HARK_PLAYOUT_START_MS + 5) * GST_MSECOND);
  if (g_str_equal (c->name, "opus"))
    g_assert_false (stats_get_boolean (f->b, "fec"));
}

static guint64
wait_playout_delay (Fixture *f,
                    guint64  at_least)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  guint64 delay;

  while ((delay = stats_get (f->b, "playout-delay-ms")) < at_least &&
         g_get_monotonic_time () < deadline)
    wait_ms (100);
  g_test_message ("playout delay %" G_GUINT64_FORMAT " ms", delay);
  return delay;
}

/* Packets in bursts (128 ms of audio at a time): the measured jitter calls
 * for more than the start, and the delay grows to the setting, no further.
 * Sinks then allow for it, and the tone still comes through. */
static void
test_playout_grows_with_jitter (Fixture       *f,
                                gconstpointer  data)
{
  GstClockTime latency;

  pair_start (f, "PCMU", 0, 8000, 0, 0, 0);
  g_assert_cmpuint (wait_playout_delay (f, 40), ==, 40);
  latency = hark_media_session_query_decoded_latency (f->b);
  g_assert_cmpuint (latency, >=, 40 * GST_MSECOND);
  g_assert_cmpuint (latency, <=, 45 * GST_MSECOND);
  wait_ms (1500);
  g_assert_cmpuint (stats_get (f->b, "playout-delay-ms"), ==, 40);
  assert_tone (f->b_out, TONE_A);
}

/* Buffers 0..N of 20 ms; from SHIFT_AT on, their timestamps come 7 ms
 * later (a jitter buffer's correction), and from DRIFT_FROM on they creep
 * 1 ms each (less, each time, than audioresample would notice). */
#define SHIFT_AT   5
#define DRIFT_FROM 12

static GstPadProbeReturn
move_timeline (GstPad          *pad,
               GstPadProbeInfo *info,
               gpointer         user_data)
{
  guint *index = user_data;
  GstBuffer *buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GstClockTime shift = 0;

  if (*index >= SHIFT_AT)
    shift += 7 * GST_MSECOND;
  if (*index >= DRIFT_FROM)
    shift += (*index - DRIFT_FROM + 1) * GST_MSECOND;
  GST_BUFFER_PTS (buffer) = *index * 20 * GST_MSECOND + shift;
  GST_BUFFER_DURATION (buffer) = 20 * GST_MSECOND;
  GST_BUFFER_FLAG_UNSET (buffer, GST_BUFFER_FLAG_DISCONT);
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  (*index)++;
  return GST_PAD_PROBE_OK;
}

static void
record_discont (GstElement *sink,
                GstBuffer  *buffer,
                GstPad     *pad,
                GString    *marks)
{
  g_string_append_c (marks, GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DISCONT) ? 'D' : '.');
}

/* After the decoder, audio keeps to the jitter buffer's timeline: a
 * buffer more than 5 ms off where the last ones lead is a discontinuity
 * (audioresample and the sinks then follow it), the others are not. */
static void
test_playout_timeline (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstElement) shift = NULL;
  g_autoptr(GstElement) decoder = NULL;
  g_autoptr(GstElement) sink = NULL;
  g_autoptr(GstPad) pad = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) message = NULL;
  g_autoptr(HarkPlayout) playout = hark_playout_new (40, 20);
  g_autoptr(GString) marks = g_string_new (NULL);
  guint index = 0;

  g_assert_true (hark_media_ensure_gst (&error));
  pipeline = gst_parse_launch ("audiotestsrc num-buffers=20 samplesperbuffer=160 "
                               "! audio/x-raw,rate=8000 ! identity name=shift "
                               "! identity name=decoder ! fakesink name=sink sync=false "
                               "signal-handoffs=true", &error);
  g_assert_no_error (error);
  shift = gst_bin_get_by_name (GST_BIN (pipeline), "shift");
  decoder = gst_bin_get_by_name (GST_BIN (pipeline), "decoder");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (shift, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, move_timeline, &index, NULL);
  hark_playout_attach_decoder (playout, decoder);
  g_signal_connect (sink, "handoff", G_CALLBACK (record_discont), marks);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  message = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
                                        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_assert_nonnull (message);
  g_assert_cmpint (GST_MESSAGE_TYPE (message), ==, GST_MESSAGE_EOS);

  /* The 7 ms jump at once; the creep once it adds up to more than 5 ms
   * (its 6th buffer), counted from there again after that. */
  g_test_message ("discontinuities: %s", marks->str);
  g_assert_cmpstr (marks->str, ==, ".....D...........D..");
}

/* The policy alone, on made-up counts. */
static void
test_playout_policy (void)
{
  g_autoptr(HarkPlayout) playout = hark_playout_new (40, 20);
  g_autoptr(HarkPlayout) tight = hark_playout_new (5, 20);

  g_assert_cmpuint (hark_playout_get_delay_ms (playout), ==, HARK_PLAYOUT_START_MS);
  g_assert_cmpuint (hark_playout_get_delay_ms (tight), ==, 5);
  /* The stream's start is noted, not acted on. */
  g_assert_false (hark_playout_update (playout, 3, 1, 30.0));
  g_assert_cmpuint (hark_playout_get_delay_ms (playout), ==, 10);
  /* Nothing new and little jitter: it stays. */
  g_assert_false (hark_playout_update (playout, 3, 1, 1.0));
  /* Jitter: four times 3.1 ms, in 5 ms steps. */
  g_assert_true (hark_playout_update (playout, 3, 1, 3.1));
  g_assert_cmpuint (hark_playout_get_delay_ms (playout), ==, 15);
  /* A late packet: one packet (20 ms) more. Opus FEC is only wanted; a
   * decoder turns it on. */
  g_assert_true (hark_playout_update (playout, 3, 2, 1.0));
  g_assert_cmpuint (hark_playout_get_delay_ms (playout), ==, 35);
  g_assert_false (hark_playout_get_fec_active (playout));
  /* A lost one: never beyond the setting. */
  g_assert_true (hark_playout_update (playout, 4, 2, 1.0));
  g_assert_cmpuint (hark_playout_get_delay_ms (playout), ==, 40);
  g_assert_false (hark_playout_update (playout, 9, 2, 500.0));
  g_assert_cmpuint (hark_playout_get_delay_ms (playout), ==, 40);
  /* Nor back down. */
  g_assert_false (hark_playout_update (playout, 9, 2, 0.0));
  g_assert_cmpuint (hark_playout_get_delay_ms (playout), ==, 40);

  /* A new stream's jitter buffer counts from 0 again: its first counts are
   * its start, and its next late packet counts. */
  g_assert_false (hark_playout_update (tight, 7, 0, 0.0));
  g_assert_false (hark_playout_update (tight, 1, 0, 0.0));
  g_assert_cmpuint (hark_playout_get_delay_ms (tight), ==, 5);
  g_assert_false (hark_playout_update (tight, 1, 1, 0.0));  /* bound 5 */
  {
    g_autoptr(HarkPlayout) renewed = hark_playout_new (40, 20);

    g_assert_false (hark_playout_update (renewed, 7, 0, 0.0));
    g_assert_false (hark_playout_update (renewed, 1, 0, 0.0));
    g_assert_true (hark_playout_update (renewed, 1, 1, 0.0));
    g_assert_cmpuint (hark_playout_get_delay_ms (renewed), ==, 30);
  }
}

static void
count_rtp_timeout (HarkMediaSession *session,
                   gpointer          user_data)
{
  guint *count = user_data;

  (*count)++;
}

/* B calls a peer that never sends: rtp-timeout once its 1.5 s are up
 * while both sides are meant to send; never while B holds (data:
 * sendonly), as many phones send nothing then. */
static void
test_rtp_timeout (Fixture       *f,
                  gconstpointer  data)
{
  HarkMediaDirection direction = GPOINTER_TO_UINT (data);
  g_autoptr(HarkMediaPorts) silent_peer = NULL;
  g_autoptr(GError) error = NULL;
  guint timeouts = 0;
  gint64 started, deadline;

  silent_peer = hark_media_ports_allocate ("127.0.0.1", &error);
  g_assert_no_error (error);
  f->b_params.ports = hark_media_ports_allocate ("127.0.0.1", &error);
  g_assert_no_error (error);
  set_codec (&f->b_params, "PCMU", 0, 8000, 101, 8000);
  f->b_params.remote_address = g_strdup ("127.0.0.1");
  f->b_params.remote_rtp_port = silent_peer->rtp_port;
  f->b_params.direction = direction;
  f->b_params.rtp_timeout_ms = 1500;

  f->b = make_session (&f->b_params, TONE_B, f->b_out, f->smooth_source);
  g_signal_connect (f->b, "rtp-timeout", G_CALLBACK (count_rtp_timeout), &timeouts);
  g_assert_true (hark_media_session_start (f->b, &error));
  g_assert_no_error (error);
  started = g_get_monotonic_time ();

  deadline = started + 5 * G_USEC_PER_SEC;
  while (timeouts == 0 && g_get_monotonic_time () < deadline)
    wait_ms (100);

  if (direction == HARK_MEDIA_DIRECTION_SENDRECV)
    {
      g_assert_cmpuint (timeouts, ==, 1);
      g_assert_cmpint (g_get_monotonic_time () - started, >=, 1500 * G_TIME_SPAN_MILLISECOND);
      wait_ms (2500);   /* once */
      g_assert_cmpuint (timeouts, ==, 1);
    }
  else
    g_assert_cmpuint (timeouts, ==, 0);
}

/* webrtcdsp and its probe in the path (as with real devices): a tone with
 * no echo still goes through. */
static void
test_codec_aec (Fixture       *f,
                gconstpointer  data)
{
  pair_start (f, "opus", 96, 48000, 101, 48000, 0);
  wait_ms (500);
  assert_tone (f->b_out, TONE_A);
  assert_tone (f->a_out, TONE_B);
}

static void
test_dtmf (Fixture       *f,
           gconstpointer  data)
{
  const CodecCase *c = data;
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  pair_start (f, c->name, c->pt, c->clock_rate, 101, 8000, 0);
  wait_ms (300);

  g_assert_true (hark_media_session_send_dtmf (f->a, "123#", &error));
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (f->b_dtmf->len < 4 && g_get_monotonic_time () < deadline)
    wait_ms (50);
  g_assert_cmpstr (f->b_dtmf->str, ==, "123#");

  /* Audio resumes after the events. */
  wait_ms (400);
  assert_tone_from (f->b_out, hark_test_audio_count_samples (f->b_out), TONE_A);

  g_assert_false (hark_media_session_send_dtmf (f->a, "12x", &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
}

static void
test_dtmf_not_negotiated (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  pair_start (f, "PCMU", 0, 8000, 0, 0, 0);
  g_assert_false (hark_media_session_send_dtmf (f->a, "1", &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED);
}

static void
set_direction (HarkMediaSession   *session,
               HarkMediaParams    *params,
               HarkMediaDirection  direction)
{
  g_autoptr(GError) error = NULL;

  params->direction = direction;
  g_assert_true (hark_media_session_update (session, params, &error));
  g_assert_no_error (error);
}

static void
test_hold (Fixture       *f,
           gconstpointer  data)
{
  guint64 a_received, b_received;
  gsize a_samples, b_samples;

  pair_start (f, "PCMU", 0, 8000, 101, 8000, 0);
  assert_tone (f->b_out, TONE_A);
  assert_tone (f->a_out, TONE_B);

  /* A holds with a=sendonly; B answers recvonly: A still sends, B doesn't. */
  set_direction (f->a, &f->a_params, HARK_MEDIA_DIRECTION_SENDONLY);
  set_direction (f->b, &f->b_params, HARK_MEDIA_DIRECTION_RECVONLY);
  g_assert_cmpint (hark_media_session_get_direction (f->a), ==, HARK_MEDIA_DIRECTION_SENDONLY);
  wait_ms (300);
  a_received = stats_get (f->a, "packets-received");
  b_received = stats_get (f->b, "packets-received");
  wait_ms (700);
  g_assert_cmpuint (stats_get (f->a, "packets-received"), ==, a_received);
  g_assert_cmpuint (stats_get (f->b, "packets-received"), >, b_received + 20);
  assert_tone (f->b_out, TONE_A);

  /* Inactive both ways: B gets no more audio at all. */
  set_direction (f->a, &f->a_params, HARK_MEDIA_DIRECTION_INACTIVE);
  set_direction (f->b, &f->b_params, HARK_MEDIA_DIRECTION_INACTIVE);
  wait_ms (300);
  b_received = stats_get (f->b, "packets-received");
  b_samples = hark_test_audio_count_samples (f->b_out);
  wait_ms (700);
  g_assert_cmpuint (stats_get (f->b, "packets-received"), ==, b_received);
  {
    gsize n;
    g_autofree gint16 *held = hark_test_audio_read_samples (f->b_out, b_samples, &n);

    g_test_message ("%" G_GSIZE_FORMAT " samples while held, RMS %f", n,
                    hark_test_audio_rms (held, n));
    g_assert_cmpfloat (hark_test_audio_rms (held, n), <, 0.01);
  }

  /* Resume: the tone is back both ways. */
  b_samples = hark_test_audio_count_samples (f->b_out);
  a_samples = hark_test_audio_count_samples (f->a_out);
  set_direction (f->a, &f->a_params, HARK_MEDIA_DIRECTION_SENDRECV);
  set_direction (f->b, &f->b_params, HARK_MEDIA_DIRECTION_SENDRECV);
  assert_tone_from (f->b_out, b_samples, TONE_A);
  assert_tone_from (f->a_out, a_samples, TONE_B);
}

static void
test_mute (Fixture       *f,
           gconstpointer  data)
{
  gsize from;
  gsize n;
  g_autofree gint16 *samples = NULL;
  guint64 sent;

  pair_start (f, "PCMA", 8, 8000, 0, 0, 0);
  assert_tone (f->b_out, TONE_A);

  hark_media_session_set_muted (f->a, TRUE);
  g_assert_true (hark_media_session_get_muted (f->a));
  wait_ms (300);
  from = hark_test_audio_count_samples (f->b_out);
  sent = stats_get (f->a, "packets-sent");
  wait_samples (f->b_out, from, SINK_RATE / 2);
  samples = hark_test_audio_read_samples (f->b_out, from, &n);
  g_assert_cmpuint (n, >, SINK_RATE / 4);
  g_assert_cmpfloat (hark_test_audio_rms (samples, n), <, 0.01);
  /* Muting sends silence: RTP keeps flowing. */
  g_assert_cmpuint (stats_get (f->a, "packets-sent"), >, sent + 20);

  hark_media_session_set_muted (f->a, FALSE);
  assert_tone_from (f->b_out, hark_test_audio_count_samples (f->b_out), TONE_A);
}

static void
test_stats (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GVariant) stats = NULL;
  guint64 sent, received, bytes;
  const char *codec;
  double rtt;
  g_autofree char *text = NULL;

  pair_start (f, "PCMU", 0, 8000, 101, 8000, 0);
  wait_ms (1000);
  sent = stats_get (f->a, "packets-sent");
  received = stats_get (f->b, "packets-received");
  g_assert_cmpuint (sent, >=, 30);
  g_assert_cmpuint (received, >=, 30);
  bytes = stats_get (f->b, "bytes-received");
  g_assert_cmpuint (bytes, >=, received * 160);

  wait_ms (500);
  g_assert_cmpuint (stats_get (f->a, "packets-sent"), >, sent);
  g_assert_cmpuint (stats_get (f->b, "packets-received"), >, received);

  /* RTCP: RTT shows up once a report about our stream came back (the
   * RTCP interval is 5 s, randomised by 0.5 to 1.5). */
  for (int i = 0; i < 120; i++)
    {
      g_clear_pointer (&stats, g_variant_unref);
      stats = g_variant_ref_sink (hark_media_session_get_stats (f->a));
      if (g_variant_lookup (stats, "rtt-ms", "d", &rtt))
        break;
      wait_ms (100);
    }
  text = g_variant_print (stats, TRUE);
  g_test_message ("A: %s", text);
  g_assert_true (g_variant_lookup (stats, "codec", "&s", &codec));
  g_assert_cmpstr (codec, ==, "PCMU");
  g_assert_true (g_variant_lookup (stats, "rtt-ms", "d", &rtt));
  g_assert_cmpfloat (rtt, >=, 0);
  g_assert_cmpfloat (rtt, <, 100);
}

static void
test_loss (Fixture       *f,
           gconstpointer  data)
{
  const CodecCase *c = data;

  pair_start (f, c->name, c->pt, c->clock_rate, 0, 0, 0.05);
  wait_ms (2000);
  g_test_message ("relay forwarded %u, dropped %u", f->relay->forwarded, f->relay->dropped);
  g_assert_cmpuint (f->relay->dropped, >, 0);
  assert_tone (f->b_out, TONE_A);
  /* The relay's plaintext detector works (the SRTP test relies on it). */
  if (c->pt == 0)
    g_assert_cmpuint (f->relay->plaintext, >, 10);
  g_assert_cmpuint (stats_get (f->b, "packets-lost"), >, 0);

  /* Loss makes the playout delay grow to the setting, and with Opus turns
   * in-band FEC on: the decoder then holds one more packet, and says so. */
  g_assert_cmpuint (wait_playout_delay (f, 40), ==, 40);
  if (g_str_equal (c->name, "opus"))
    {
      gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
      GstClockTime latency;

      while (!stats_get_boolean (f->b, "fec") && g_get_monotonic_time () < deadline)
        wait_ms (50);
      g_assert_true (stats_get_boolean (f->b, "fec"));
      latency = hark_media_session_query_decoded_latency (f->b);
      g_assert_cmpuint (latency, >=, 60 * GST_MSECOND);
      g_assert_cmpuint (latency, <=, 65 * GST_MSECOND);
      assert_tone (f->b_out, TONE_A);
    }
}

typedef struct {
  gint64            last_tick;
  gint64            max_gap;
  HarkMediaSession *session;
  GError           *error;
  gboolean          done;
} AsyncStart;

static gboolean
tick_cb (gpointer user_data)
{
  AsyncStart *s = user_data;
  gint64 now = g_get_monotonic_time ();

  s->max_gap = MAX (s->max_gap, now - s->last_tick);
  s->last_tick = now;
  return G_SOURCE_CONTINUE;
}

static void
new_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  AsyncStart *s = user_data;

  s->session = hark_media_session_new_finish (result, &s->error);
  s->done = TRUE;
}

/* GStreamer's start and the pipeline's run off the main thread: the loop
 * keeps ticking meanwhile (in a fresh process this includes gst_init). */
static void
test_new_async (Fixture       *f,
                gconstpointer  data)
{
  AsyncStart a = { 0, }, b = { 0, };
  g_autoptr(GError) error = NULL;
  guint tick;

  f->a_params.ports = hark_media_ports_allocate ("127.0.0.1", &error);
  g_assert_no_error (error);
  f->b_params.ports = hark_media_ports_allocate ("127.0.0.1", &error);
  g_assert_no_error (error);
  set_codec (&f->a_params, "PCMU", 0, 8000, 101, 8000);
  set_codec (&f->b_params, "PCMU", 0, 8000, 101, 8000);
  f->a_params.remote_address = g_strdup ("127.0.0.1");
  f->a_params.remote_rtp_port = f->b_params.ports->rtp_port;
  f->b_params.remote_address = g_strdup ("127.0.0.1");
  f->b_params.remote_rtp_port = f->a_params.ports->rtp_port;
  f->a_params.audio_source = g_strdup_printf ("audiotestsrc freq=%g volume=0.5 is-live=true",
                                              TONE_A);
  f->a_params.audio_sink = g_strdup ("fakesink sync=false");
  f->b_params.audio_source = g_strdup ("audiotestsrc wave=silence is-live=true");
  f->b_params.audio_sink = g_strdup_printf ("audioconvert ! audioresample ! " SINK_CAPS " ! "
                                            "filesink location=\"%s\" buffer-mode=unbuffered "
                                            "sync=false", f->b_out);

  a.last_tick = g_get_monotonic_time ();
  tick = g_timeout_add (5, tick_cb, &a);
  hark_media_session_new_async (&f->a_params, NULL, new_cb, &a);
  hark_media_session_new_async (&f->b_params, NULL, new_cb, &b);
  while (!a.done || !b.done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);

  g_assert_no_error (a.error);
  g_assert_no_error (b.error);
  f->a = a.session;
  f->b = b.session;
  g_test_message ("Longest main loop stall while starting: %" G_GINT64_FORMAT " ms",
                  a.max_gap / 1000);
  g_assert_cmpint (a.max_gap, <, 250 * 1000);
  assert_tone (f->b_out, TONE_A);

  /* A failing start is reported through the callback too. */
  hark_media_params_clear (&f->a_params);
  hark_media_params_init (&f->a_params);
  f->a_params.remote_address = g_strdup ("127.0.0.1");
  f->a_params.remote_rtp_port = 4000;
  set_codec (&f->a_params, "speex", 97, 8000, 0, 0);
  a = (AsyncStart) { 0, };
  hark_media_session_new_async (&f->a_params, NULL, new_cb, &a);
  while (!a.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (a.session);
  g_assert_error (a.error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED);
  g_clear_error (&a.error);
}

#define SRTP_SUITE_80 "AES_CM_128_HMAC_SHA1_80"

static void
set_srtp (HarkMediaParams *params,
          const char      *suite,
          const char      *local_key,
          const char      *remote_key)
{
  params->srtp_suite = g_strdup (suite);
  params->srtp_local_key = g_strdup (local_key);
  params->srtp_remote_key = g_strdup (remote_key);
}

/* SRTP both ways: the tone goes through and the wire carries no plain
 * PCMU; with a wrong key, nothing plays. */
static void
test_srtp (Fixture       *f,
           gconstpointer  data)
{
  const char *suite = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *a_key = hark_media_srtp_make_key (&error);
  g_autofree char *b_key = hark_media_srtp_make_key (&error);

  g_assert_no_error (error);
  g_assert_cmpstr (a_key, !=, b_key);
  set_srtp (&f->a_params, suite, a_key, b_key);
  set_srtp (&f->b_params, suite, b_key, a_key);
  f->want_relay = TRUE;
  pair_start (f, "PCMU", 0, 8000, 101, 8000, 0);
  g_assert_true (hark_media_session_get_encrypted (f->a));

  assert_tone (f->b_out, TONE_A);
  assert_tone (f->a_out, TONE_B);
  g_test_message ("relay forwarded %u, %u looked like plain PCMU", f->relay->forwarded,
                  f->relay->plaintext);
  g_assert_cmpuint (f->relay->forwarded, >, 20);
  g_assert_cmpuint (f->relay->plaintext, ==, 0);
}

static void
test_srtp_wrong_key (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *a_key = hark_media_srtp_make_key (&error);
  g_autofree char *b_key = hark_media_srtp_make_key (&error);
  g_autofree char *other = hark_media_srtp_make_key (&error);
  g_autofree gint16 *samples = NULL;
  gsize n;

  g_assert_no_error (error);
  set_srtp (&f->a_params, SRTP_SUITE_80, a_key, b_key);
  set_srtp (&f->b_params, SRTP_SUITE_80, b_key, other);
  pair_start (f, "PCMU", 0, 8000, 0, 0, 0);

  assert_tone (f->a_out, TONE_B);
  samples = hark_test_audio_read_samples (f->b_out, 0, &n);
  g_test_message ("B played %" G_GSIZE_FORMAT " samples with the wrong key", n);
  g_assert_cmpfloat (hark_test_audio_rms (samples, n), <, 0.01);
}

static void
test_srtp_errors (void)
{
  g_auto(HarkMediaParams) params = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkMediaSession) session = NULL;

  hark_media_params_init (&params);
  params.remote_address = g_strdup ("127.0.0.1");
  params.remote_rtp_port = 4000;
  set_codec (&params, "PCMU", 0, 8000, 0, 0);
  set_srtp (&params, "F8_128_HMAC_SHA1_80", "a", "b");
  session = hark_media_session_new (&params, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED);
  g_assert_null (session);
  g_clear_error (&error);

  g_free (params.srtp_suite);
  params.srtp_suite = g_strdup (SRTP_SUITE_80);
  session = hark_media_session_new (&params, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_assert_null (session);
}

static void
test_errors (void)
{
  HarkMediaParams params;
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) element = NULL;
  HarkMediaSession *session;

  g_assert_true (hark_media_ensure_gst (NULL));

  hark_media_params_init (&params);
  params.remote_address = g_strdup ("127.0.0.1");
  params.remote_rtp_port = 9;
  params.codec.name = g_strdup ("nonsense");
  params.codec.payload_type = 97;

  session = hark_media_session_new (&params, &error);
  g_assert_null (session);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "nonsense"));
  g_clear_error (&error);

  g_assert_false (hark_media_codec_is_available ("nonsense", &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  for (guint i = 0; i < G_N_ELEMENTS (codec_cases); i++)
    {
      g_assert_true (hark_media_codec_is_available (codec_cases[i].name, &error));
      g_assert_no_error (error);
    }

  /* A missing plugin names its Debian package. */
  element = hark_media_make_element ("avenc_nonexistent", NULL, &error);
  g_assert_null (element);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "gstreamer1.0-libav"));
  g_assert_nonnull (strstr (error->message, "avenc_nonexistent"));
  g_clear_error (&error);

  /* A broken source description is a clean error, not a crash. */
  g_free (params.codec.name);
  params.codec.name = g_strdup ("PCMU");
  params.codec.payload_type = 0;
  params.audio_source = g_strdup ("nonexistentsrc");
  params.audio_sink = g_strdup ("fakesink");
  session = hark_media_session_new (&params, &error);
  g_assert_null (session);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "nonexistentsrc"));
  g_clear_error (&error);

  /* No peer address. */
  g_clear_pointer (&params.remote_address, g_free);
  session = hark_media_session_new (&params, &error);
  g_assert_null (session);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  hark_media_params_clear (&params);
}

static void
test_ports (void)
{
  g_autoptr(HarkMediaPorts) a = NULL;
  g_autoptr(HarkMediaPorts) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) address = NULL;

  a = hark_media_ports_allocate (NULL, &error);
  g_assert_no_error (error);
  b = hark_media_ports_allocate ("127.0.0.1", &error);
  g_assert_no_error (error);

  g_assert_cmpuint (a->rtp_port % 2, ==, 0);
  g_assert_cmpuint (a->rtcp_port, ==, a->rtp_port + 1);
  g_assert_cmpuint (b->rtp_port % 2, ==, 0);
  g_assert_cmpuint (a->rtp_port, !=, b->rtp_port);

  address = g_socket_get_local_address (b->rtp, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)), ==,
                    b->rtp_port);

  g_assert_null (hark_media_ports_allocate ("not-an-address", &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
}

static void
test_directions (void)
{
  HarkMediaDirection d;

  for (d = HARK_MEDIA_DIRECTION_SENDRECV; d <= HARK_MEDIA_DIRECTION_INACTIVE; d++)
    {
      HarkMediaDirection back;

      g_assert_true (hark_media_direction_from_string (hark_media_direction_to_string (d), &back));
      g_assert_cmpint (back, ==, d);
    }
  g_assert_false (hark_media_direction_from_string ("sideways", &d));
}

/* HARK_AUDIO_SOURCE/SINK override the settings. Set before GStreamer
 * starts a thread, so in a child process of its own. */
static void
test_env_override (void)
{
  if (g_test_subprocess ())
    {
      HarkMediaParams params;
      g_autoptr(GError) error = NULL;
      HarkMediaSession *session;

      g_setenv ("HARK_AUDIO_SOURCE", "nonexistentsrc", TRUE);
      g_setenv ("HARK_AUDIO_SINK", "fakesink", TRUE);
      hark_media_params_init (&params);
      params.remote_address = g_strdup ("127.0.0.1");
      params.remote_rtp_port = 9;
      params.codec.name = g_strdup ("PCMU");
      params.audio_source = g_strdup ("audiotestsrc");
      session = hark_media_session_new (&params, &error);
      g_assert_null (session);
      g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "nonexistentsrc"));
      hark_media_params_clear (&params);
      return;
    }

  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  /* First, so that in a full run too it includes GStreamer's start. */
  g_test_add ("/hark/media/session/new-async", Fixture, NULL, fixture_setup, test_new_async,
              fixture_teardown);
  g_test_add_func ("/hark/media/types/directions", test_directions);
  g_test_add_func ("/hark/media/types/ports", test_ports);
  g_test_add_func ("/hark/media/errors/missing", test_errors);
  g_test_add_func ("/hark/media/errors/env-override", test_env_override);

  for (guint i = 0; i < G_N_ELEMENTS (codec_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/hark/media/codec/%s", codec_cases[i].name);

      g_test_add (path, Fixture, &codec_cases[i], fixture_setup, test_codec, fixture_teardown);
    }
  g_test_add ("/hark/media/latency/PCMU", Fixture, &codec_cases[0], fixture_setup,
              test_decoded_latency, fixture_teardown);
  g_test_add ("/hark/media/latency/opus", Fixture, &codec_cases[3], fixture_setup,
              test_decoded_latency, fixture_teardown);
  g_test_add ("/hark/media/latency/grows-with-jitter", Fixture, NULL, fixture_setup,
              test_playout_grows_with_jitter, fixture_teardown);
  g_test_add_func ("/hark/media/latency/policy", test_playout_policy);
  g_test_add_func ("/hark/media/latency/timeline", test_playout_timeline);
  g_test_add ("/hark/media/rtp-timeout/silent-peer", Fixture,
              GUINT_TO_POINTER (HARK_MEDIA_DIRECTION_SENDRECV), fixture_setup, test_rtp_timeout,
              fixture_teardown);
  g_test_add ("/hark/media/rtp-timeout/not-while-held", Fixture,
              GUINT_TO_POINTER (HARK_MEDIA_DIRECTION_SENDONLY), fixture_setup, test_rtp_timeout,
              fixture_teardown);
  g_test_add ("/hark/media/codec/echo-cancellation", Fixture,
              GINT_TO_POINTER (WITH_ECHO_CANCELLATION), fixture_setup, test_codec_aec,
              fixture_teardown);
  g_test_add ("/hark/media/dtmf/PCMU", Fixture, &codec_cases[0], fixture_setup, test_dtmf,
              fixture_teardown);
  g_test_add ("/hark/media/dtmf/opus", Fixture, &codec_cases[3], fixture_setup, test_dtmf,
              fixture_teardown);
  g_test_add ("/hark/media/dtmf/not-negotiated", Fixture, NULL, fixture_setup,
              test_dtmf_not_negotiated, fixture_teardown);
  g_test_add ("/hark/media/direction/hold", Fixture, NULL, fixture_setup, test_hold,
              fixture_teardown);
  g_test_add ("/hark/media/direction/mute", Fixture, NULL, fixture_setup, test_mute,
              fixture_teardown);
  g_test_add ("/hark/media/stats/counters", Fixture, NULL, fixture_setup, test_stats,
              fixture_teardown);
  g_test_add ("/hark/media/loss/PCMU", Fixture, &codec_cases[0], fixture_setup, test_loss,
              fixture_teardown);
  g_test_add ("/hark/media/loss/opus", Fixture, &codec_cases[3], fixture_setup, test_loss,
              fixture_teardown);

  g_test_add ("/hark/media/srtp/sha1-80", Fixture, SRTP_SUITE_80, fixture_setup, test_srtp,
              fixture_teardown);
  g_test_add ("/hark/media/srtp/sha1-32", Fixture, "AES_CM_128_HMAC_SHA1_32", fixture_setup,
              test_srtp, fixture_teardown);
  g_test_add ("/hark/media/srtp/wrong-key", Fixture, NULL, fixture_setup, test_srtp_wrong_key,
              fixture_teardown);
  g_test_add_func ("/hark/media/srtp/errors", test_srtp_errors);

  return g_test_run ();
}
