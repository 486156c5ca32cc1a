/* hark-media-types.h — the plain structs the call passes from SDP to media
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Nothing here knows SIP or SDP: the call object reads the negotiated
 * session description and fills these in; the media layer only reads them.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * HarkMediaDirection:
 * @HARK_MEDIA_DIRECTION_SENDRECV: audio both ways
 * @HARK_MEDIA_DIRECTION_SENDONLY: we send, incoming RTP is dropped
 * @HARK_MEDIA_DIRECTION_RECVONLY: we receive, nothing is sent
 * @HARK_MEDIA_DIRECTION_INACTIVE: no RTP either way (RTCP keeps flowing)
 *
 * The RFC 3264 direction of the stream, from our side.
 */
typedef enum {
  HARK_MEDIA_DIRECTION_SENDRECV,
  HARK_MEDIA_DIRECTION_SENDONLY,
  HARK_MEDIA_DIRECTION_RECVONLY,
  HARK_MEDIA_DIRECTION_INACTIVE,
} HarkMediaDirection;

/**
 * HarkMediaCodec:
 * @name: encoding name as in SDP: "PCMU", "PCMA", "G722", "opus" (any case)
 * @payload_type: RTP payload type (0-127)
 * @clock_rate: RTP clock rate (8000 for G.722, as RFC 3551 says; 0 = default)
 * @channels: channels announced in SDP (0 = default)
 * @ptime: packet duration in ms (0 = 20)
 * @fmtp: (nullable): the a=fmtp parameters, e.g. "useinbandfec=1"
 */
typedef struct {
  char  *name;
  guint  payload_type;
  guint  clock_rate;
  guint  channels;
  guint  ptime;
  char  *fmtp;
} HarkMediaCodec;

/**
 * HarkMediaParams:
 * @local_address: (nullable): address to bind when @ports is %NULL
 * @local_port: port to bind when @ports is %NULL (0 = any even port)
 * @ports: (nullable) (owned): sockets bound before the offer
 *   (hark_media_ports_allocate()); freed by hark_media_params_clear(), and a
 *   session holds its own references to the sockets
 * @remote_address: the peer's connection address (c=)
 * @remote_rtp_port: the peer's RTP port (m=)
 * @remote_rtcp_port: the peer's RTCP port (a=rtcp, else @remote_rtp_port + 1)
 * @codec: the negotiated codec
 * @dtmf_payload_type: telephone-event payload type, 0 if not negotiated
 * @dtmf_clock_rate: telephone-event clock rate (0 = 8000)
 * @direction: the negotiated direction, from our side
 * @jitter_latency_ms: jitter buffer latency (0 = 40 ms; kept within 10-1000 ms)
 * @echo_cancellation: run webrtcdsp on real devices
 * @rtp_timeout_ms: how long a sendrecv stream may go without RTP or RTCP
 *   from the peer before #HarkMediaSession::rtp-timeout (0 = never); the
 *   `HARK_RTP_TIMEOUT_MS` environment variable overrides it
 * @audio_source: (nullable): gst-launch description of the source (a
 *   setting); the `HARK_AUDIO_SOURCE` environment variable overrides it
 * @audio_sink: (nullable): same for the sink, `HARK_AUDIO_SINK`
 * @srtp_suite: (nullable): the RFC 4568 crypto suite agreed
 *   (`AES_CM_128_HMAC_SHA1_80` or `AES_CM_128_HMAC_SHA1_32`), %NULL for
 *   plain RTP
 * @srtp_local_key: (nullable): base64 master key and salt (30 bytes) we
 *   encrypt with, as in our a=crypto inline: key parameter
 * @srtp_remote_key: (nullable): the peer's, that we decrypt with
 *
 * Everything a media session needs. Initialise with hark_media_params_init(),
 * release with hark_media_params_clear().
 */
typedef struct _HarkMediaPorts HarkMediaPorts;

typedef struct {
  char               *local_address;
  guint               local_port;
  HarkMediaPorts     *ports;

  char               *remote_address;
  guint               remote_rtp_port;
  guint               remote_rtcp_port;

  HarkMediaCodec      codec;
  guint               dtmf_payload_type;
  guint               dtmf_clock_rate;
  HarkMediaDirection  direction;

  guint               jitter_latency_ms;
  gboolean            echo_cancellation;
  guint               rtp_timeout_ms;
  char               *audio_source;
  char               *audio_sink;

  char               *srtp_suite;
  char               *srtp_local_key;
  char               *srtp_remote_key;
} HarkMediaParams;

/**
 * HarkMediaPorts:
 * @rtp: the bound RTP socket
 * @rtcp: the bound RTCP socket
 * @rtp_port: its port (even)
 * @rtcp_port: @rtp_port + 1
 *
 * A pair of UDP sockets bound before the SDP offer is made, so that the
 * offer carries the port media really arrives on. A session sends from the
 * same sockets it receives on (symmetric RTP).
 */
struct _HarkMediaPorts {
  GSocket *rtp;
  GSocket *rtcp;
  guint    rtp_port;
  guint    rtcp_port;
};

void                hark_media_params_init          (HarkMediaParams       *params);
void                hark_media_params_clear         (HarkMediaParams       *params);
void                hark_media_params_copy          (HarkMediaParams       *dest,
                                                     const HarkMediaParams *src);
void                hark_media_codec_clear          (HarkMediaCodec        *codec);
void                hark_media_codec_copy           (HarkMediaCodec        *dest,
                                                     const HarkMediaCodec  *src);

const char         *hark_media_direction_to_string  (HarkMediaDirection     direction);
gboolean            hark_media_direction_from_string (const char           *string,
                                                      HarkMediaDirection   *direction);

gboolean            hark_media_has_room_for_call    (GError               **error);
HarkMediaPorts     *hark_media_ports_allocate       (const char            *bind_address,
                                                     GError               **error);
HarkMediaPorts     *hark_media_ports_copy           (const HarkMediaPorts  *ports);
void                hark_media_ports_free           (HarkMediaPorts        *ports);

gboolean            hark_media_srtp_suite_is_supported (const char       *suite);
char               *hark_media_srtp_make_key        (GError               **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HarkMediaParams, hark_media_params_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkMediaPorts, hark_media_ports_free)

G_END_DECLS
