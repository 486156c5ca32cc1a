/* test-media-srtp.c — SRTP with SDES (RFC 4568) through whole calls, over D-Bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two hark-daemons call each other's local profile on loopback, each with
 * its own "media-encryption"; A sends a 1000 Hz tone, B's sink writes what
 * it hears to a file. What went on the wire is read with a packet socket
 * on every interface (loopback traffic included): a plaintext Opus stream
 * shows the same TOC byte (RFC 6716 section 3.1) at the start of nearly
 * every payload, and plaintext telephone-events (RFC 4733) show the digits
 * sent; SRTP payloads are ciphertext, and carry a 10-byte authentication
 * tag. The plain control call proves the check finds plaintext. The packet
 * socket needs CAP_NET_RAW (CI runs as root); without it the wire checks
 * are skipped and said so.
 *
 * SIPp covers what a second Hark cannot show: an RTP/SAVP offer to a
 * profile without SRTP (488 and its Warning), and a 2xx without SRTP to a
 * profile that requires it (ACK, then BYE with Reason cause=488).
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>

#include <glib/gstdio.h>

#include "hark-error.h"
#include "hark-sip-sdp.h"
#include "hark-test-audio.h"
#include "hark-test-bus.h"
#include "hark-test-sipp.h"

#define TONE_A    1000.0
#define SINK_RATE 16000
#define SINK_CAPS "audio/x-raw,format=S16LE,rate=16000,channels=1"
#define DIGITS    "159#"

#define PT_OPUS   96
#define PT_EVENT  101
#define SRTP_TAG  10   /* HMAC-SHA1-80 */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusCall1, g_object_unref)

/* An RTP packet seen on the wire: the header is in clear with SRTP too. */
typedef struct {
  guint16 dst_port;
  guint8  payload_type;
  guint8  first_byte;    /* of the payload */
  guint16 payload_length;
} WirePacket;

typedef struct {
  int      fd;
  GThread *thread;
  gint     stop;
  GMutex   lock;
  GArray  *packets;      /* WirePacket */
} Capture;

typedef struct {
  char        *tmpdir;
  char        *b_out;
  HarkTestBus *a;
  HarkTestBus *b;
  char        *b_incoming;
  GString     *b_dtmf;
  Capture      capture;
} Fixture;

/* Capture */

static void
capture_rtp (Capture      *c,
             const guint8 *ip,
             gsize         length)
{
  const guint8 *udp, *rtp;
  gsize header, udp_length;
  WirePacket packet;

  if (length < 20 || ip[0] >> 4 != 4 || ip[9] != IPPROTO_UDP)
    return;
  header = (ip[0] & 0x0f) * 4;
  if (length < header + 8)
    return;
  udp = ip + header;
  udp_length = MIN ((gsize) ((udp[4] << 8) | udp[5]), length - header);
  if (udp_length < 8 + 12)
    return;
  rtp = udp + 8;
  udp_length -= 8;

  /* RTP version 2; RTCP (payload types 200-204) is not audio. */
  if ((rtp[0] & 0xc0) != 0x80 || ((rtp[1] & 0x7f) >= 72 && (rtp[1] & 0x7f) <= 76))
    return;
  header = 12 + 4 * (rtp[0] & 0x0f);
  if ((rtp[0] & 0x10) != 0 && udp_length >= header + 4)
    header += 4 + 4 * ((rtp[header + 2] << 8) | rtp[header + 3]);
  if (udp_length <= header)
    return;

  packet.dst_port = (udp[2] << 8) | udp[3];
  packet.payload_type = rtp[1] & 0x7f;
  packet.first_byte = rtp[header];
  packet.payload_length = udp_length - header;
  g_mutex_lock (&c->lock);
  g_array_append_val (c->packets, packet);
  g_mutex_unlock (&c->lock);
}

static gpointer
capture_thread (gpointer data)
{
  Capture *c = data;
  guint8 buffer[65536];

  while (!g_atomic_int_get (&c->stop))
    {
      struct pollfd pfd = { c->fd, POLLIN, 0 };
      struct sockaddr_ll from;
      socklen_t from_length = sizeof from;
      ssize_t n;

      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = recvfrom (c->fd, buffer, sizeof buffer, 0, (struct sockaddr *) &from, &from_length);
      /* Loopback shows each packet twice, going out and coming in. */
      if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING || ntohs (from.sll_protocol) != ETH_P_IP)
        continue;
      capture_rtp (c, buffer, n);
    }
  return NULL;
}

/* FALSE (test skipped) without CAP_NET_RAW. */
static gboolean
capture_start (Capture *c)
{
  c->fd = socket (AF_PACKET, SOCK_DGRAM, htons (ETH_P_ALL));
  if (c->fd < 0)
    {
      g_autofree char *why = g_strdup_printf ("no packet socket (%s): the wire is not checked",
                                              g_strerror (errno));

      g_test_message ("%s", why);
      return FALSE;
    }
  /* Every test on this machine talks over loopback: room for bursts while
   * the thread waits for a core. */
  if (setsockopt (c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int) { 16 << 20 }, sizeof (int)) < 0)
    setsockopt (c->fd, SOL_SOCKET, SO_RCVBUF, &(int) { 16 << 20 }, sizeof (int));
  g_mutex_init (&c->lock);
  c->packets = g_array_new (FALSE, FALSE, sizeof (WirePacket));
  c->thread = g_thread_new ("capture", capture_thread, c);
  return TRUE;
}

static void
capture_stop (Capture *c)
{
  if (c->thread == NULL)
    return;
  g_atomic_int_set (&c->stop, TRUE);
  g_thread_join (g_steal_pointer (&c->thread));
  close (c->fd);
  c->fd = -1;
}

static void
capture_clear (Capture *c)
{
  capture_stop (c);
  if (c->packets != NULL)
    {
      g_clear_pointer (&c->packets, g_array_unref);
      g_mutex_clear (&c->lock);
    }
}

typedef struct {
  guint audio;           /* Opus packets */
  guint same_toc;        /* of those, with the most common first byte */
  guint events;          /* telephone-event packets */
  guint plain_digits;    /* of those, 4 bytes with an event we sent */
  guint tagged_events;   /* of those, 4 bytes plus an SRTP tag */
} WireSummary;

/* What went to one media port. */
static WireSummary
capture_summarize (Capture *c,
                   guint    port)
{
  guint first_bytes[256] = { 0, };
  WireSummary s = { 0, };

  g_mutex_lock (&c->lock);
  for (guint i = 0; i < c->packets->len; i++)
    {
      const WirePacket *p = &g_array_index (c->packets, WirePacket, i);

      if (p->dst_port != port)
        continue;
      if (p->payload_type == PT_OPUS)
        {
          s.audio++;
          first_bytes[p->first_byte]++;
        }
      else if (p->payload_type == PT_EVENT)
        {
          s.events++;
          /* 1, 5, 9 and # (11) */
          if (p->payload_length == 4 && (p->first_byte == 1 || p->first_byte == 5 ||
                                         p->first_byte == 9 || p->first_byte == 11))
            s.plain_digits++;
          if (p->payload_length == 4 + SRTP_TAG)
            s.tagged_events++;
        }
    }
  g_mutex_unlock (&c->lock);

  for (guint b = 0; b < 256; b++)
    s.same_toc = MAX (s.same_toc, first_bytes[b]);
  return s;
}

/* Fixture */

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmpdir = g_dir_make_tmp ("hark-media-srtp-XXXXXX", &error);
  g_assert_no_error (error);
  f->b_out = g_build_filename (f->tmpdir, "b.raw", NULL);
  f->b_dtmf = g_string_new (NULL);
  f->capture.fd = -1;
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  capture_clear (&f->capture);
  g_clear_pointer (&f->a, hark_test_bus_free);
  g_clear_pointer (&f->b, hark_test_bus_free);
  if (g_test_failed ())
    g_test_message ("kept %s", f->tmpdir);
  else
    {
      g_unlink (f->b_out);
      g_rmdir (f->tmpdir);
    }
  g_free (f->tmpdir);
  g_free (f->b_out);
  g_free (f->b_incoming);
  g_string_free (f->b_dtmf, TRUE);
}

/* Helpers */

static gboolean
contact_known_cb (gpointer user_data)
{
  HarkDBusProfile1 *profile = user_data;
  const char *contact = hark_dbus_profile1_get_contact (profile);

  return contact != NULL && *contact != '\0';
}

/* The local profile with @settings applied, its SIP stack listening. */
static HarkDBusProfile1 *
local_profile (HarkTestBus *bus,
               const char  *settings)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusProfile1) profile = hark_test_bus_find_profile (bus, "local");

  g_assert_nonnull (profile);
  hark_dbus_profile1_call_update_sync (profile, g_variant_new_parsed (settings), NULL, &error);
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

static gboolean
dtmf_cb (gpointer user_data)
{
  Fixture *f = user_data;

  return f->b_dtmf->len >= strlen (DIGITS);
}

typedef struct {
  const char *path;
  double      found;
} ToneWait;

static gboolean
tone_cb (gpointer user_data)
{
  ToneWait *w = user_data;

  if (hark_test_audio_count_samples (w->path) < SINK_RATE / 2)
    return FALSE;
  w->found = hark_test_audio_dominant_frequency (w->path, SINK_RATE, 0.5);
  return fabs (w->found - TONE_A) <= 30.0;
}

/* Two daemons: A with a tone, B writing what it hears, auto-answering. */
static void
start_pair (Fixture    *f,
            const char *a_encryption,
            const char *b_encryption,
            HarkDBusProfile1 **out_b_profile)
{
  g_autofree char *a_source = g_strdup_printf (
    "HARK_AUDIO_SOURCE=audiotestsrc freq=%g volume=0.5 is-live=true", TONE_A);
  g_autofree char *b_sink = g_strdup_printf (
    "HARK_AUDIO_SINK=audioconvert ! audioresample ! " SINK_CAPS " ! "
    "filesink location=\"%s\" buffer-mode=unbuffered sync=false", f->b_out);
  g_autofree char *a_settings = g_strdup_printf ("{'media-encryption': <'%s'>}", a_encryption);
  g_autofree char *b_settings = g_strdup_printf (
    "{'media-encryption': <'%s'>, 'auto-answer': <uint32 10>}", b_encryption);
  /* One GStreamer registry for every daemon of this test (each has its own
   * XDG_CACHE_HOME): a plugin scan per daemon is slow on a busy machine. */
  const char *registry = "GST_REGISTRY=" HARK_TEST_BUILDDIR "/test-media-srtp-registry.bin";
  const char *a_env[] = { a_source, registry, NULL };
  const char *b_env[] = { b_sink, registry, NULL };
  g_autoptr(HarkDBusProfile1) a_profile = NULL;

  f->a = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NONE, a_env);
  f->b = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NONE, b_env);
  a_profile = local_profile (f->a, a_settings);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a_profile), "MediaEncryption",
                                                 a_encryption, hark_test_timeout (5000)));
  *out_b_profile = local_profile (f->b, b_settings);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (*out_b_profile), "MediaEncryption",
                                                 b_encryption, hark_test_timeout (5000)));
  g_signal_connect (hark_test_bus_get_manager (f->b), "incoming-call",
                    G_CALLBACK (on_incoming_call), f);
}

/* B's media session, from its log: "local port N, remote ADDRESS:M". */
static void
read_media_ports (Fixture *f,
                  guint   *b_port,
                  guint   *a_port)
{
  g_autofree char *log = hark_test_bus_read_log (f->b);
  g_autoptr(GRegex) regex = g_regex_new ("local port (\\d+), remote \\S+:(\\d+)", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *b = NULL, *a = NULL;

  g_assert_true (g_regex_match (regex, log, 0, &match));
  b = g_match_info_fetch (match, 1);
  a = g_match_info_fetch (match, 2);
  *b_port = atoi (b);
  *a_port = atoi (a);
  g_test_message ("media: B on port %u, A on port %u", *b_port, *a_port);
}

/* A calls B, the call runs, the tone and the digits arrive; returns
 * whether the wire was captured. */
static gboolean
run_call (Fixture    *f,
          const char *a_encryption,
          const char *b_encryption,
          gboolean    encrypted,
          guint      *b_port,
          guint      *a_port)
{
  g_autoptr(HarkDBusProfile1) b_profile = NULL;
  g_autoptr(HarkDBusCall1) a_call = NULL;
  g_autoptr(HarkDBusCall1) b_call = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  ToneWait tone = { f->b_out, 0 };
  gboolean captured;

  start_pair (f, a_encryption, b_encryption, &b_profile);
  captured = capture_start (&f->capture);

  path = dial (f->a, hark_dbus_profile1_get_contact (b_profile));
  a_call = get_call (f->a, path);
  g_assert_true (hark_test_wait_for (incoming_cb, f, hark_test_timeout (10000)));
  b_call = get_call (f->b, f->b_incoming);
  g_signal_connect (b_call, "dtmf-received", G_CALLBACK (on_dtmf_received), f);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a_call), "State", "active",
                                                 hark_test_timeout (10000)));
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (b_call), "State", "active",
                                                 hark_test_timeout (10000)));
  g_assert_cmpstr (hark_dbus_call1_get_codec (a_call), ==, "opus/48000");

  /* The tone came through (decrypted, when it was encrypted). */
  hark_test_wait_for (tone_cb, &tone, hark_test_timeout (30000));
  g_test_message ("B heard %.0f Hz (A sends %.0f Hz)", tone.found, TONE_A);
  g_assert_cmpfloat_with_epsilon (tone.found, TONE_A, 30.0);

  hark_dbus_call1_call_send_dtmf_sync (a_call, DIGITS, NULL, &error);
  g_assert_no_error (error);
  hark_test_wait_for (dtmf_cb, f, hark_test_timeout (10000));
  g_assert_cmpstr (f->b_dtmf->str, ==, DIGITS);

  /* Encrypted says what ran, on both sides. */
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (a_call), "Encrypted", encrypted,
                                                  hark_test_timeout (5000)));
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (b_call), "Encrypted", encrypted,
                                                  hark_test_timeout (5000)));
  /* A second more of audio on the wire after the digits. */
  hark_test_iterate (1000);
  g_assert_cmpint (hark_dbus_call1_get_encrypted (a_call), ==, encrypted);
  g_assert_cmpint (hark_dbus_call1_get_encrypted (b_call), ==, encrypted);

  hark_dbus_call1_call_hangup_sync (a_call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (b_call), "State", "terminated",
                                                 hark_test_timeout (10000)));
  capture_stop (&f->capture);
  read_media_ports (f, b_port, a_port);
  return captured;
}

static void
log_summary (const char        *who,
             const WireSummary *s)
{
  g_test_message ("to %s: %u Opus packets (%u with the same first byte), %u telephone-events "
                  "(%u plain digits, %u with an SRTP tag)", who, s->audio, s->same_toc,
                  s->events, s->plain_digits, s->tagged_events);
}

/* Tests */

#define KEY_A "pDl2fZCvVYcE/bmdcE7ePn5EFi9UoJ8x2jCMveWd"

static char *
offer_with (const char *proto,
            const char *crypto)
{
  return g_strdup_printf ("v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\n"
                          "t=0 0\r\nm=audio 6000 %s 0\r\na=rtpmap:0 PCMU/8000\r\n%s",
                          proto, crypto);
}

/* Which offered a=crypto line an answer takes up (hark-sip-sdp.c). */
static void
test_read_offer (void)
{
  static const struct {
    const char *proto;
    const char *crypto;
    gboolean    savp;
    guint       tag;
    const char *suite;
  } cases[] = {
    { "RTP/AVP", "", FALSE, 0, NULL },
    { "RTP/SAVP", "", TRUE, 0, NULL },
    { "RTP/AVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "\r\n", FALSE, 1,
      "AES_CM_128_HMAC_SHA1_80" },
    /* The first usable line wins: MKI, an unknown suite, a short key, a
     * session parameter and two keys in one line are not usable. */
    { "RTP/SAVP",
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "|2^20|1:4\r\n"
      "a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:" KEY_A "\r\n"
      "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:pDl2fZCvVYcE/bmdcE7ePn5EFi9Uo\r\n"
      "a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A " UNENCRYPTED_SRTP\r\n"
      "a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A ";inline:" KEY_A "\r\n"
      "a=crypto:6 AES_CM_128_HMAC_SHA1_32 inline:" KEY_A "|2^31\r\n",
      TRUE, 6, "AES_CM_128_HMAC_SHA1_32" },
    { "RTP/SAVP", "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "|1:4\r\n", TRUE, 0,
      NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *sdp = offer_with (cases[i].proto, cases[i].crypto);
      g_auto(HarkSipSdpOffer) offer = { 0, };

      g_test_message ("case %u", i);
      g_assert_true (hark_sip_sdp_read_offer (sdp, &offer));
      g_assert_true (offer.has_audio);
      g_assert_cmpint (offer.savp, ==, cases[i].savp);
      g_assert_cmpstr (offer.crypto_suite, ==, cases[i].suite);
      g_assert_cmpuint (offer.crypto_tag, ==, cases[i].tag);
    }
}

/* An answer names the tag and suite it accepts, with our key. */
static void
test_answer_sdp (void)
{
  g_autofree char *answer = hark_sip_sdp_make_local_crypto ("192.0.2.1", 4000, 6,
                                                            "AES_CM_128_HMAC_SHA1_32", KEY_A,
                                                            TRUE);
  g_autofree char *plain = hark_sip_sdp_make_local_crypto ("192.0.2.1", 4000, 6,
                                                           "AES_CM_128_HMAC_SHA1_32", NULL,
                                                           FALSE);

  g_assert_nonnull (strstr (answer, "m=audio 4000 RTP/SAVP "));
  g_assert_nonnull (strstr (answer, "\r\na=crypto:6 AES_CM_128_HMAC_SHA1_32 inline:" KEY_A
                                    "\r\n"));
  g_assert_nonnull (strstr (plain, "m=audio 4000 RTP/AVP "));
  g_assert_null (strstr (plain, "a=crypto"));
}

/* The profile setting: "optional" by default, validated, on disk. */
static void
test_setting (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) groups = NULL;
  gboolean stored = FALSE;

  /* Registers io.github.hark.Hark.Error.* here too, for g_assert_error(). */
  g_assert_nonnull (g_quark_to_string (HARK_ERROR));
  f->a = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  profile = hark_test_bus_find_profile (f->a, "local");
  g_assert_nonnull (profile);
  g_assert_cmpstr (hark_dbus_profile1_get_media_encryption (profile), ==, "optional");

  hark_dbus_profile1_call_update_sync (profile,
                                       g_variant_new_parsed ("{'media-encryption': <'always'>}"),
                                       NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "media-encryption"));
  g_clear_error (&error);
  hark_dbus_profile1_call_update_sync (profile,
                                       g_variant_new_parsed ("{'media-encryption': <true>}"),
                                       NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpstr (hark_dbus_profile1_get_media_encryption (profile), ==, "optional");

  hark_dbus_profile1_call_update_sync (profile,
                                       g_variant_new_parsed ("{'media-encryption': <'required'>}"),
                                       NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (profile), "MediaEncryption",
                                                 "required", hark_test_timeout (5000)));
  keyfile = hark_test_bus_load_profiles_keyfile (f->a, NULL, &error);
  g_assert_no_error (error);
  groups = g_key_file_get_groups (keyfile, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_autofree char *value = g_key_file_get_string (keyfile, groups[i], "media-encryption",
                                                      NULL);

      stored = stored || g_strcmp0 (value, "required") == 0;
    }
  g_assert_true (stored);
}

/* Both require SRTP: it runs both ways, and nothing plain is on the wire. */
static void
test_required (Fixture       *f,
               gconstpointer  data)
{
  guint b_port, a_port;
  WireSummary to_b, to_a;

  if (!run_call (f, "required", "required", TRUE, &b_port, &a_port))
    {
      g_test_skip ("no CAP_NET_RAW: the wire was not checked");
      return;
    }

  to_b = capture_summarize (&f->capture, b_port);
  to_a = capture_summarize (&f->capture, a_port);
  log_summary ("B", &to_b);
  log_summary ("A", &to_a);
  /* A's tone went as ciphertext: no Opus TOC byte to be seen. */
  g_assert_cmpuint (to_b.audio, >=, 10);
  g_assert_cmpuint (to_b.same_toc, <=, to_b.audio / 2);
  g_assert_cmpuint (to_a.audio, >=, 10);
  g_assert_cmpuint (to_a.same_toc, <=, to_a.audio / 2);
  /* The digits too, each event with its authentication tag. */
  g_assert_cmpuint (to_b.events, >=, strlen (DIGITS));
  g_assert_cmpuint (to_b.plain_digits, ==, 0);
  g_assert_cmpuint (to_b.tagged_events, ==, to_b.events);
}

/* The control: the same check on a call without SRTP finds plaintext. */
static void
test_plain_control (Fixture       *f,
                    gconstpointer  data)
{
  guint b_port, a_port;
  WireSummary to_b;

  if (!run_call (f, "none", "none", FALSE, &b_port, &a_port))
    {
      g_test_skip ("no CAP_NET_RAW: the wire was not checked");
      return;
    }

  to_b = capture_summarize (&f->capture, b_port);
  log_summary ("B", &to_b);
  g_assert_cmpuint (to_b.audio, >=, 10);
  g_assert_cmpuint (to_b.same_toc, >=, to_b.audio * 9 / 10);
  g_assert_cmpuint (to_b.plain_digits, >=, strlen (DIGITS));
  g_assert_cmpuint (to_b.tagged_events, ==, 0);
}

/* "optional" meets "none" (either way round): plain RTP, audio flows. */
static void
test_optional_none (Fixture       *f,
                    gconstpointer  data)
{
  const char *a_encryption = data;
  const char *b_encryption = g_str_equal (a_encryption, "none") ? "optional" : "none";
  guint b_port, a_port;

  if (run_call (f, a_encryption, b_encryption, FALSE, &b_port, &a_port))
    {
      WireSummary to_b = capture_summarize (&f->capture, b_port);

      log_summary ("B", &to_b);
      g_assert_cmpuint (to_b.plain_digits, >=, strlen (DIGITS));
    }
}

/* "required" meets "optional": SRTP. */
static void
test_required_optional (Fixture       *f,
                        gconstpointer  data)
{
  guint b_port, a_port;

  if (run_call (f, "optional", "required", TRUE, &b_port, &a_port))
    {
      WireSummary to_b = capture_summarize (&f->capture, b_port);

      log_summary ("B", &to_b);
      g_assert_cmpuint (to_b.plain_digits, ==, 0);
      g_assert_cmpuint (to_b.tagged_events, ==, to_b.events);
    }
}

/* One side requires SRTP, the other has none: B refuses with 488 and no
 * audio flows. data: A's setting. */
static void
test_mismatch (Fixture       *f,
               gconstpointer  data)
{
  const char *a_encryption = data;
  const char *b_encryption = g_str_equal (a_encryption, "none") ? "required" : "none";
  g_autoptr(HarkDBusProfile1) b_profile = NULL;
  g_autoptr(HarkDBusCall1) a_call = NULL;
  g_autoptr(HarkDBusCall1) b_call = NULL;
  g_autofree char *path = NULL;
  gboolean captured;

  start_pair (f, a_encryption, b_encryption, &b_profile);
  captured = capture_start (&f->capture);

  path = dial (f->a, hark_dbus_profile1_get_contact (b_profile));
  a_call = get_call (f->a, path);
  g_assert_true (hark_test_wait_for (incoming_cb, f, hark_test_timeout (10000)));
  b_call = get_call (f->b, f->b_incoming);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a_call), "State", "terminated",
                                                 hark_test_timeout (10000)));
  g_assert_cmpuint (hark_dbus_call1_get_status_code (a_call), ==, 488);
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (a_call), ==, "rejected");
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (b_call), "State", "terminated",
                                                 hark_test_timeout (10000)));
  g_assert_cmpuint (hark_dbus_call1_get_status_code (b_call), ==, 488);
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (b_call), ==, "encryption-mismatch");
  g_assert_false (hark_dbus_call1_get_encrypted (a_call));
  g_assert_false (hark_dbus_call1_get_encrypted (b_call));

  /* Nothing was heard, and (with a packet socket) nothing was sent. */
  hark_test_iterate (500);
  g_assert_cmpuint (hark_test_audio_count_samples (f->b_out), ==, 0);
  if (captured)
    {
      g_autofree char *log = hark_test_bus_read_log (f->b);

      capture_stop (&f->capture);
      g_assert_null (strstr (log, "Media session"));
    }
}

/* SIPp offers RTP/SAVP to a profile without SRTP: 488 with a Warning
 * (tests/sipp/srtp-uac-savp.xml checks them). */
static void
test_sipp_savp_to_none (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(HarkDBusProfile1) profile = NULL;
  HarkTestProcess *sipp;

  f->a = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  profile = local_profile (f->a, "{'media-encryption': <'none'>}");
  g_signal_connect (hark_test_bus_get_manager (f->a), "incoming-call",
                    G_CALLBACK (on_incoming_call), f);
  sipp = hark_test_sipp_start (f->a, "srtp-uac-savp.xml",
                               hark_test_sipp_get_local_profile_port (f->a), NULL);
  hark_test_sipp_assert_passed (f->a, sipp, "srtp-uac-savp.xml");
  g_assert_true (hark_test_wait_for (incoming_cb, f, hark_test_timeout (5000)));
}

/* A profile that requires SRTP gets a 2xx without it (SIPp answers
 * RTP/SAVP with no a=crypto): ACK, then BYE at once with Reason cause=488
 * (tests/sipp/srtp-uas-plain-answer.xml checks them); no audio starts. */
static void
test_sipp_plain_answer (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  g_autofree char *log = NULL;
  HarkTestProcess *sipp;
  guint port = 0;

  f->a = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  profile = local_profile (f->a, "{'media-encryption': <'required'>}");
  sipp = hark_test_sipp_start (f->a, "srtp-uas-plain-answer.xml", 0, &port);
  uri = g_strdup_printf ("sip:sipp@127.0.0.1:%u", port);
  path = dial (f->a, uri);
  call = get_call (f->a, path);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 hark_test_timeout (10000)));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "encryption-mismatch");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 200);
  g_assert_false (hark_dbus_call1_get_encrypted (call));
  hark_test_sipp_assert_passed (f->a, sipp, "srtp-uas-plain-answer.xml");
  log = hark_test_bus_read_log (f->a);
  g_assert_null (strstr (log, "Media session"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hark/media/srtp/read-offer", test_read_offer);
  g_test_add_func ("/hark/media/srtp/answer-sdp", test_answer_sdp);
  g_test_add ("/hark/media/srtp/setting", Fixture, NULL, fixture_setup, test_setting,
              fixture_teardown);
  g_test_add ("/hark/media/srtp/required", Fixture, NULL, fixture_setup, test_required,
              fixture_teardown);
  g_test_add ("/hark/media/srtp/plain-control", Fixture, NULL, fixture_setup,
              test_plain_control, fixture_teardown);
  g_test_add ("/hark/media/srtp/optional-to-none", Fixture, "optional", fixture_setup,
              test_optional_none, fixture_teardown);
  g_test_add ("/hark/media/srtp/none-to-optional", Fixture, "none", fixture_setup,
              test_optional_none, fixture_teardown);
  g_test_add ("/hark/media/srtp/optional-to-required", Fixture, NULL, fixture_setup,
              test_required_optional, fixture_teardown);
  g_test_add ("/hark/media/srtp/required-to-none", Fixture, "required", fixture_setup,
              test_mismatch, fixture_teardown);
  g_test_add ("/hark/media/srtp/none-to-required", Fixture, "none", fixture_setup,
              test_mismatch, fixture_teardown);
  g_test_add ("/hark/media/srtp/sipp-savp-to-none", Fixture, NULL, fixture_setup,
              test_sipp_savp_to_none, fixture_teardown);
  g_test_add ("/hark/media/srtp/sipp-plain-answer", Fixture, NULL, fixture_setup,
              test_sipp_plain_answer, fixture_teardown);

  return g_test_run ();
}
