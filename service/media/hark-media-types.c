/* hark-media-types.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The parameter structs, and the RTP/RTCP socket pair bound before the
 * offer. Nothing here loads GStreamer: an idle daemon allocates ports for
 * an offer without paying for the media framework.
 */

#define G_LOG_DOMAIN "hark-media"

#include "config.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "hark-error.h"
#include "hark-media-types.h"

/* The range GNOME Calls and most softphones use by default. */
#define RTP_PORT_MIN 16384
#define RTP_PORT_MAX 32766
#define PORT_ATTEMPTS 64

/* Open files. A call holds its two sockets from its SDP on, and its
 * pipeline adds GStreamer's poll and wakeup descriptors and the sound
 * server's streams: 11 with test endpoints (bench/calls), about 20 with a
 * sound server's two streams, 26 while autoaudiosink tries devices that
 * do not open; the budget is above all of them. The reserve is for the
 * daemon itself (bus, SIP transports, TLS, the keyring). A process out of
 * descriptors aborts in GLib (it cannot make a wakeup), so a call that
 * does not fit is refused before it opens anything. */
#define FDS_PER_CALL 32
#define FDS_RESERVED 256

/* Socket pairs whose RTP socket is still open, whoever holds it now (the
 * call, its pipeline's elements): it closes when the call's media is gone */
static gint calls_with_media;
static G_DEFINE_QUARK (hark-media-counted, counted)

/**
 * hark_media_params_init:
 * @params: uninitialised params
 *
 * Zeroes @params and sets the defaults: sendrecv, no DTMF, 40 ms jitter
 * buffer, echo cancellation on.
 */
void
hark_media_params_init (HarkMediaParams *params)
{
  g_return_if_fail (params != NULL);

  *params = (HarkMediaParams) {
    .direction = HARK_MEDIA_DIRECTION_SENDRECV,
    .jitter_latency_ms = 40,
    .echo_cancellation = TRUE,
    .rtp_timeout_ms = 30000,
  };
}

void
hark_media_codec_clear (HarkMediaCodec *codec)
{
  g_return_if_fail (codec != NULL);

  g_clear_pointer (&codec->name, g_free);
  g_clear_pointer (&codec->fmtp, g_free);
}

void
hark_media_codec_copy (HarkMediaCodec       *dest,
                       const HarkMediaCodec *src)
{
  g_return_if_fail (dest != NULL && src != NULL);

  *dest = *src;
  dest->name = g_strdup (src->name);
  dest->fmtp = g_strdup (src->fmtp);
}

/**
 * hark_media_params_clear:
 * @params: params from hark_media_params_init()
 *
 * Frees what @params owns (strings, ports) and leaves it re-initialised.
 */
void
hark_media_params_clear (HarkMediaParams *params)
{
  g_return_if_fail (params != NULL);

  g_free (params->local_address);
  g_clear_pointer (&params->ports, hark_media_ports_free);
  g_free (params->remote_address);
  hark_media_codec_clear (&params->codec);
  g_free (params->audio_source);
  g_free (params->audio_sink);
  g_free (params->srtp_suite);
  g_free (params->srtp_local_key);
  g_free (params->srtp_remote_key);
  hark_media_params_init (params);
}

/**
 * hark_media_params_copy:
 * @dest: (out caller-allocates): where to copy; not initialised
 * @src: params to copy
 *
 * Deep copy; the sockets of @src->ports are shared (referenced).
 */
void
hark_media_params_copy (HarkMediaParams       *dest,
                        const HarkMediaParams *src)
{
  g_return_if_fail (dest != NULL && src != NULL);

  *dest = *src;
  dest->local_address = g_strdup (src->local_address);
  dest->ports = src->ports != NULL ? hark_media_ports_copy (src->ports) : NULL;
  dest->remote_address = g_strdup (src->remote_address);
  hark_media_codec_copy (&dest->codec, &src->codec);
  dest->audio_source = g_strdup (src->audio_source);
  dest->audio_sink = g_strdup (src->audio_sink);
  dest->srtp_suite = g_strdup (src->srtp_suite);
  dest->srtp_local_key = g_strdup (src->srtp_local_key);
  dest->srtp_remote_key = g_strdup (src->srtp_remote_key);
}

/**
 * hark_media_srtp_suite_is_supported:
 * @suite: an RFC 4568 crypto-suite name
 *
 * Returns: whether a session can run @suite (the AES-CM 128 ones of
 *   RFC 4568 section 6.2)
 */
gboolean
hark_media_srtp_suite_is_supported (const char *suite)
{
  return g_strcmp0 (suite, "AES_CM_128_HMAC_SHA1_80") == 0 ||
         g_strcmp0 (suite, "AES_CM_128_HMAC_SHA1_32") == 0;
}

/**
 * hark_media_srtp_make_key:
 * @error: return location for a #GError
 *
 * A fresh master key and salt (30 bytes) from the kernel's CSPRNG, in
 * base64 as an a=crypto inline: key.
 *
 * Returns: (transfer full): the key, or %NULL with @error set
 */
char *
hark_media_srtp_make_key (GError **error)
{
  guint8 key[30];
  gsize got = 0;

  while (got < sizeof key)
    {
      ssize_t n = getrandom (key + got, sizeof key - got, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "No random bytes for an SRTP key: %s", g_strerror (saved_errno));
          return NULL;
        }
      got += n;
    }
  return g_base64_encode (key, sizeof key);
}

static const char * const direction_names[] = {
  [HARK_MEDIA_DIRECTION_SENDRECV] = "sendrecv",
  [HARK_MEDIA_DIRECTION_SENDONLY] = "sendonly",
  [HARK_MEDIA_DIRECTION_RECVONLY] = "recvonly",
  [HARK_MEDIA_DIRECTION_INACTIVE] = "inactive",
};

/**
 * hark_media_direction_to_string:
 *
 * Returns: the SDP attribute name of @direction ("sendrecv", …)
 */
const char *
hark_media_direction_to_string (HarkMediaDirection direction)
{
  g_return_val_if_fail (direction <= HARK_MEDIA_DIRECTION_INACTIVE, NULL);

  return direction_names[direction];
}

/**
 * hark_media_direction_from_string:
 * @string: "sendrecv", "sendonly", "recvonly" or "inactive"
 * @direction: (out): the direction
 *
 * Returns: %FALSE if @string is none of those
 */
gboolean
hark_media_direction_from_string (const char         *string,
                                  HarkMediaDirection *direction)
{
  g_return_val_if_fail (direction != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (direction_names); i++)
    {
      if (g_strcmp0 (string, direction_names[i]) == 0)
        {
          *direction = i;
          return TRUE;
        }
    }
  return FALSE;
}

static GSocket *
bind_udp (GInetAddress  *address,
          guint          port,
          GError       **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;

  socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL)
    return NULL;

  socket_address = g_inet_socket_address_new (address, port);
  if (!g_socket_bind (socket, socket_address, FALSE, error))
    return NULL;

  return g_steal_pointer (&socket);
}

static void
media_released (gpointer data)
{
  g_atomic_int_add (&calls_with_media, -1);
}

/**
 * hark_media_has_room_for_call:
 * @error: return location for a #GError
 *
 * Whether the daemon's limit of open files (`ulimit -n`) leaves room for
 * the media of one more call, next to the calls whose media is still
 * open. hark_media_ports_allocate() checks it too; an incoming INVITE is
 * checked before it becomes a call, to be refused with 503.
 *
 * Returns: %TRUE if there is room, else %FALSE with @error saying why
 */
gboolean
hark_media_has_room_for_call (GError **error)
{
  struct rlimit limit;
  guint64 room;
  guint open_calls = (guint) g_atomic_int_get (&calls_with_media);

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return TRUE;
  room = limit.rlim_cur > FDS_RESERVED ? (limit.rlim_cur - FDS_RESERVED) / FDS_PER_CALL : 0;
  if (open_calls < room)
    return TRUE;

  g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
               "Too many calls at once: the daemon’s limit of %" G_GUINT64_FORMAT " open "
               "files has room for the audio of %" G_GUINT64_FORMAT " calls, and %u are "
               "open; end a call, or raise the limit (ulimit -n, or LimitNOFILE= in a "
               "systemd unit)",
               (guint64) limit.rlim_cur, room, open_calls);
  return FALSE;
}

/* Counted until @socket, and with it the call's media, is gone */
static void
count_media (GSocket *socket)
{
  g_atomic_int_inc (&calls_with_media);
  g_object_set_qdata_full (G_OBJECT (socket), counted_quark (), GINT_TO_POINTER (1),
                           media_released);
}

/**
 * hark_media_ports_allocate:
 * @bind_address: (nullable): local address to bind, %NULL for any IPv4
 *   address ("::" binds any IPv6 address)
 * @error: return location for a #GError
 *
 * Binds an even RTP port and the odd RTCP port above it (RFC 3550
 * section 11), both held open until the session adopts them or
 * hark_media_ports_free() closes them, so no one else can take them between
 * the offer and the answer. Fails when the open-files limit has no room
 * for another call (hark_media_has_room_for_call()).
 *
 * Returns: (transfer full): the bound pair, or %NULL with @error set
 */
HarkMediaPorts *
hark_media_ports_allocate (const char  *bind_address,
                           GError     **error)
{
  g_autoptr(GInetAddress) address = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hark_media_has_room_for_call (error))
    return NULL;

  if (bind_address == NULL)
    address = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  else
    address = g_inet_address_new_from_string (bind_address);

  if (address == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "“%s” is not an IP address to receive media on", bind_address);
      return NULL;
    }

  for (guint attempt = 0; attempt < PORT_ATTEMPTS; attempt++)
    {
      guint port = RTP_PORT_MIN + 2 * g_random_int_range (0, (RTP_PORT_MAX - RTP_PORT_MIN) / 2);
      g_autoptr(GSocket) rtp = NULL;
      g_autoptr(GSocket) rtcp = NULL;
      g_autoptr(GError) local_error = NULL;
      HarkMediaPorts *ports;

      rtp = bind_udp (address, port, &local_error);
      if (rtp == NULL)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
            continue;
          g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                       "Cannot bind an RTP port on %s: %s",
                       bind_address ? bind_address : "0.0.0.0", local_error->message);
          return NULL;
        }

      rtcp = bind_udp (address, port + 1, NULL);
      if (rtcp == NULL)
        continue;

      count_media (rtp);
      ports = g_new0 (HarkMediaPorts, 1);
      ports->rtp = g_steal_pointer (&rtp);
      ports->rtcp = g_steal_pointer (&rtcp);
      ports->rtp_port = port;
      ports->rtcp_port = port + 1;
      return ports;
    }

  g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
               "No free pair of UDP ports for RTP between %u and %u",
               RTP_PORT_MIN, RTP_PORT_MAX + 1);
  return NULL;
}

/**
 * hark_media_ports_copy:
 * @ports: a socket pair
 *
 * Returns: (transfer full): a new struct sharing @ports' sockets
 */
HarkMediaPorts *
hark_media_ports_copy (const HarkMediaPorts *ports)
{
  HarkMediaPorts *copy;

  g_return_val_if_fail (ports != NULL, NULL);

  copy = g_new0 (HarkMediaPorts, 1);
  copy->rtp = g_object_ref (ports->rtp);
  copy->rtcp = g_object_ref (ports->rtcp);
  copy->rtp_port = ports->rtp_port;
  copy->rtcp_port = ports->rtcp_port;
  return copy;
}

/**
 * hark_media_ports_free:
 * @ports: (nullable): a socket pair
 *
 * Drops this reference to the sockets; they close with the last one.
 */
void
hark_media_ports_free (HarkMediaPorts *ports)
{
  if (ports == NULL)
    return;

  g_clear_object (&ports->rtp);
  g_clear_object (&ports->rtcp);
  g_free (ports);
}
