/* hark-media-session.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One GStreamer pipeline per call:
 *
 *   source ! audioconvert ! audioresample ! caps ! [webrtcdsp] ! volume
 *     ! encoder ! payloader ! [rtpdtmfmux ! ] valve ! rtpbin.send_rtp_sink_0
 *   [rtpdtmfsrc ! rtpdtmfmux.priority_sink_0]
 *   rtpbin.send_rtp_src_0 ! udpsink (RTP socket)
 *   rtpbin.send_rtcp_src_0 ! udpsink (RTCP socket)
 *   udpsrc (RTP socket) ! valve ! rtpbin.recv_rtp_sink_0
 *   udpsrc (RTCP socket) ! rtpbin.recv_rtcp_sink_0
 *   rtpbin.recv_rtp_src_0_<ssrc>_<pt> ! funnel ! depayloader ! decoder
 *     ! audioconvert ! audioresample ! [webrtcechoprobe] ! sink
 *   rtpbin.recv_rtp_src_0_<ssrc>_<dtmf pt> ! funnel ! rtpdtmfdepay ! fakesink
 *
 * Each udpsrc/udpsink pair shares one socket that we bind ourselves
 * (symmetric RTP: NAT'd peers get audio back on the 5-tuple they sent
 * from). The valves implement the RFC 3264 direction: RTP is dropped
 * before rtpbin, so RTCP keeps flowing in every direction, as it must.
 * Every element the session may need is created up front, so a missing
 * plugin is an error from hark_media_session_new() and not a silent
 * one-way call later.
 */

#define G_LOG_DOMAIN "hark-media"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gst/gst.h>

#include "hark-env.h"
#include "hark-error.h"
#include "hark-media-playout.h"
#include "hark-media-private.h"
#include "hark-media-session.h"

#define DEFAULT_LATENCY_MS 40
#define MIN_LATENCY_MS     10
#define MAX_LATENCY_MS     1000  /* the settings key's range */
/* rtpdtmfsrc holds each event at least 250 ms and keeps 100 ms between. */
#define DTMF_TONE_MS       250
#define DTMF_GAP_MS        100
#define DTMF_PAUSE_MS      1000
#define DTMF_VOLUME        10   /* -dBm0, RFC 4733 section 2.3.4 */
#define STATS_INTERVAL_S   1
/* GStreamer's default for live sinks is 20 ms. What runs after the jitter
 * buffer (depayload, decode, convert, resample) takes well under 1 ms a
 * packet, and every millisecond here is one the caller hears later. */
#define SINK_PROCESSING_DEADLINE (10 * GST_MSECOND)

typedef struct {
  const char *name;           /* as in SDP, canonical case */
  const char *encoding_name;  /* caps encoding-name */
  guint       clock_rate;     /* default RTP clock rate */
  guint       sample_rate;    /* raw audio rate at the encoder */
  const char *encoder;
  const char *decoder;
  const char *payloader;
  const char *depayloader;
} CodecInfo;

static const CodecInfo codecs[] = {
  { "opus", "OPUS", 48000, 48000, "opusenc", "opusdec", "rtpopuspay", "rtpopusdepay" },
  { "G722", "G722", 8000, 16000, "avenc_g722", "avdec_g722", "rtpg722pay", "rtpg722depay" },
  { "PCMU", "PCMU", 8000, 8000, "mulawenc", "mulawdec", "rtppcmupay", "rtppcmudepay" },
  { "PCMA", "PCMA", 8000, 8000, "alawenc", "alawdec", "rtppcmapay", "rtppcmadepay" },
};

/* Where each element comes from, for an error a person can act on. */
static const struct {
  const char *prefix;
  const char *plugin;
  const char *package;
} element_origins[] = {
  { "avenc_", "libav", "gstreamer1.0-libav" },
  { "avdec_", "libav", "gstreamer1.0-libav" },
  { "opus", "opus", "gstreamer1.0-plugins-base" },
  { "audioconvert", "audioconvert", "gstreamer1.0-plugins-base" },
  { "audioresample", "audioresample", "gstreamer1.0-plugins-base" },
  { "volume", "volume", "gstreamer1.0-plugins-base" },
  { "audiotestsrc", "audiotestsrc", "gstreamer1.0-plugins-base" },
  { "udp", "udp", "gstreamer1.0-plugins-good" },
  { "rtpbin", "rtpmanager", "gstreamer1.0-plugins-good" },
  { "rtpjitterbuffer", "rtpmanager", "gstreamer1.0-plugins-good" },
  { "rtpdtmf", "dtmf", "gstreamer1.0-plugins-good" },
  { "rtp", "rtp", "gstreamer1.0-plugins-good" },
  { "mulaw", "mulaw", "gstreamer1.0-plugins-good" },
  { "alaw", "alaw", "gstreamer1.0-plugins-good" },
  { "autoaudio", "autodetect", "gstreamer1.0-plugins-good" },
  { "webrtc", "webrtcdsp", "gstreamer1.0-plugins-bad" },
  { "srtp", "srtp", "gstreamer1.0-plugins-bad" },
  { "", "coreelements", "libgstreamer1.0-0" },
};

typedef struct _BusLink BusLink;

struct _HarkMediaSession
{
  GObject           parent_instance;

  HarkMediaParams   params;
  const CodecInfo  *codec;
  GSocket          *rtp_socket;
  GSocket          *rtcp_socket;
  guint             local_port;

  GstElement       *pipeline;
  GstElement       *rtpbin;
  GstElement       *rtp_sink;
  GstElement       *rtcp_sink;
  GstElement       *send_valve;
  GstElement       *recv_valve;
  GstElement       *volume;
  GstElement       *dtmf_src;       /* NULL without telephone-event */
  GstElement       *audio_funnel;
  GstElement       *decoder;
  GstElement       *dtmf_funnel;    /* NULL without telephone-event */
  GstElement       *dtmf_depay;
  GstElement       *srtp_enc;       /* NULL for plain RTP */
  GstElement       *srtp_dec;
  BusLink          *bus_link;
  HarkPlayout      *playout;
  GWeakRef          jitterbuffer;   /* the newest stream's; set on a streaming thread */

  gboolean          muted;
  gboolean          started;
  gboolean          stopping;

  GString          *dtmf_queue;
  guint             dtmf_source_id;
  gboolean          dtmf_tone_on;

  char             *echo_probe_name;  /* NULL without echo cancellation */

  GVariant         *stats;            /* the last figures published */
  guint             stats_source_id;

  guint64           peer_activity;    /* changes with each RTP or RTCP packet */
  guint             peer_silent_ms;
  gboolean          rtp_timed_out;
};

G_DEFINE_FINAL_TYPE (HarkMediaSession, hark_media_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MUTED,
  PROP_DIRECTION,
  PROP_STATS,
  N_PROPS
};

enum {
  SIGNAL_DTMF_RECEIVED,
  SIGNAL_ERROR,
  SIGNAL_RTP_TIMEOUT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];
static guint session_serial;

/* ------------------------------------------------------------------------ */
/* GStreamer set-up                                                          */

/**
 * hark_media_ensure_gst:
 * @error: return location for a #GError
 *
 * Initialises GStreamer on first use, so that a daemon with no call never
 * loads it.
 *
 * Returns: %FALSE if GStreamer cannot start
 */
gboolean
hark_media_ensure_gst (GError **error)
{
  static gsize initialised = 0;
  static gboolean ok = FALSE;
  static char *message = NULL;

  if (g_once_init_enter (&initialised))
    {
      g_autoptr(GError) local_error = NULL;

      ok = gst_init_check (NULL, NULL, &local_error);
      if (!ok)
        message = g_strdup (local_error ? local_error->message : "unknown error");
      g_once_init_leave (&initialised, 1);
    }

  if (!ok)
    g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                 "GStreamer cannot start: %s", message);
  return ok;
}

/**
 * hark_media_make_element:
 * @factory: element factory name
 * @name: (nullable): element name
 * @error: return location for a #GError
 *
 * Returns: (transfer floating): the element, or %NULL with @error naming
 *   the missing plugin and the Debian package that has it
 */
GstElement *
hark_media_make_element (const char  *factory,
                         const char  *name,
                         GError     **error)
{
  GstElement *element;

  g_return_val_if_fail (factory != NULL, NULL);

  element = gst_element_factory_make (factory, name);
  if (element != NULL)
    return element;

  for (guint i = 0; i < G_N_ELEMENTS (element_origins); i++)
    {
      if (g_str_has_prefix (factory, element_origins[i].prefix))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED,
                       "The GStreamer element “%s” is missing (plugin “%s”): "
                       "install the Debian package %s",
                       factory, element_origins[i].plugin, element_origins[i].package);
          return NULL;
        }
    }
  g_assert_not_reached ();
}

static const CodecInfo *
find_codec (const char *name)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (codecs); i++)
    if (g_ascii_strcasecmp (codecs[i].name, name) == 0)
      return &codecs[i];
  return NULL;
}

static gboolean
check_factories (const CodecInfo  *codec,
                 GError          **error)
{
  const char *factories[] = { codec->encoder, codec->decoder, codec->payloader,
                              codec->depayloader };

  for (guint i = 0; i < G_N_ELEMENTS (factories); i++)
    {
      g_autoptr(GstElementFactory) factory = gst_element_factory_find (factories[i]);

      if (factory == NULL)
        {
          g_autoptr(GstElement) element = hark_media_make_element (factories[i], NULL, error);

          g_assert (element == NULL);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * hark_media_codec_is_available:
 * @name: an SDP encoding name ("PCMU", "opus", …)
 * @error: return location for a #GError
 *
 * Whether the installed plugins can encode, decode and (de)payload @name:
 * a codec that is not available must not be offered.
 *
 * Returns: %TRUE if @name can be used, else %FALSE with @error saying which
 *   package is missing
 */
gboolean
hark_media_codec_is_available (const char  *name,
                               GError     **error)
{
  const CodecInfo *codec;

  g_return_val_if_fail (name != NULL, FALSE);

  if (!hark_media_ensure_gst (error))
    return FALSE;

  codec = find_codec (name);
  if (codec == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED,
                   "Hark has no support for the codec “%s”", name);
      return FALSE;
    }
  return check_factories (codec, error);
}

/* Filled once by the preload thread: which codecs the installed plugins
 * can run. Read without waiting by hark_media_codec_is_offered(). */
static gint codecs_checked;                      /* atomic: 0, then 1 */
static gboolean codec_missing[G_N_ELEMENTS (codecs)];

static void
check_codecs (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (codecs); i++)
    {
      g_autoptr(GError) error = NULL;

      codec_missing[i] = !check_factories (&codecs[i], &error);
      if (codec_missing[i])
        g_message ("The codec %s is not offered: %s", codecs[i].name, error->message);
    }
  g_atomic_int_set (&codecs_checked, 1);
}

/**
 * hark_media_codec_is_offered:
 * @encoding: an SDP encoding name
 *
 * Whether our SDP should list @encoding. Never waits: until GStreamer has
 * been loaded (hark_media_preload(), which also logs each missing codec
 * once with the Debian package to install), every codec is offered, and a
 * missing one that the peer picks then fails that call's audio with the
 * same message. Encodings that are not Hark's audio codecs
 * (telephone-event) are left alone.
 *
 * Returns: %FALSE if @encoding is a codec whose GStreamer elements are
 *   known to be missing
 */
gboolean
hark_media_codec_is_offered (const char *encoding)
{
  g_return_val_if_fail (encoding != NULL, TRUE);

  if (!g_atomic_int_get (&codecs_checked))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (codecs); i++)
    if (g_ascii_strcasecmp (codecs[i].name, encoding) == 0)
      return !codec_missing[i];
  return TRUE;
}

static gboolean
direction_sends (HarkMediaDirection direction)
{
  return direction == HARK_MEDIA_DIRECTION_SENDRECV || direction == HARK_MEDIA_DIRECTION_SENDONLY;
}

static gboolean
direction_receives (HarkMediaDirection direction)
{
  return direction == HARK_MEDIA_DIRECTION_SENDRECV || direction == HARK_MEDIA_DIRECTION_RECVONLY;
}

static guint
codec_clock_rate (HarkMediaSession *self)
{
  return self->params.codec.clock_rate != 0 ? self->params.codec.clock_rate
                                            : self->codec->clock_rate;
}

static guint
dtmf_clock_rate (HarkMediaSession *self)
{
  return self->params.dtmf_clock_rate != 0 ? self->params.dtmf_clock_rate : 8000;
}

/* Value of @key in an fmtp line ("a=1;b=2"), or NULL. */
static char *
fmtp_get (const char *fmtp,
          const char *key)
{
  g_auto(GStrv) pairs = NULL;

  if (fmtp == NULL)
    return NULL;

  pairs = g_strsplit (fmtp, ";", -1);
  for (guint i = 0; pairs[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (g_strstrip (pairs[i]), "=", 2);

      if (kv[0] != NULL && kv[1] != NULL && g_ascii_strcasecmp (kv[0], key) == 0)
        return g_strdup (g_strstrip (kv[1]));
    }
  return NULL;
}

static GstCaps *
make_rtp_caps (HarkMediaSession *self,
               guint             pt)
{
  if (pt == self->params.codec.payload_type)
    return gst_caps_new_simple ("application/x-rtp",
                                "media", G_TYPE_STRING, "audio",
                                "payload", G_TYPE_INT, (int) pt,
                                "clock-rate", G_TYPE_INT, (int) codec_clock_rate (self),
                                "encoding-name", G_TYPE_STRING, self->codec->encoding_name,
                                NULL);

  if (self->params.dtmf_payload_type != 0 && pt == self->params.dtmf_payload_type)
    return gst_caps_new_simple ("application/x-rtp",
                                "media", G_TYPE_STRING, "audio",
                                "payload", G_TYPE_INT, (int) pt,
                                "clock-rate", G_TYPE_INT, (int) dtmf_clock_rate (self),
                                "encoding-name", G_TYPE_STRING, "TELEPHONE-EVENT",
                                NULL);
  return NULL;
}

/* Runs on a streaming thread; reads only what never changes after _new(). */
static GstCaps *
on_rtpbin_request_pt_map (GstElement       *rtpbin,
                          guint             session,
                          guint             pt,
                          HarkMediaSession *self)
{
  return make_rtp_caps (self, pt);
}

static void
link_to_funnel (GstPad     *pad,
                GstElement *funnel)
{
  g_autoptr(GstPad) sinkpad = gst_element_request_pad_simple (funnel, "sink_%u");
  GstPadLinkReturn ret = gst_pad_link (pad, sinkpad);

  if (ret != GST_PAD_LINK_OK)
    {
      g_warning ("Cannot link %s to %s: %s", GST_PAD_NAME (pad), GST_ELEMENT_NAME (funnel),
                 gst_pad_link_get_name (ret));
      gst_element_release_request_pad (funnel, sinkpad);
    }
}

/* Streaming thread: the peer's stream (a new SSRC) has its jitter buffer. */
static void
on_rtpbin_new_jitterbuffer (GstElement *rtpbin,
                            GstElement *jitterbuffer,
                            guint       session,
                            guint       ssrc,
                            gpointer    user_data)
{
  HarkMediaSession *self = user_data;

  g_weak_ref_set (&self->jitterbuffer, jitterbuffer);
}

/* Streaming thread: a new SSRC or payload type came out of rtpbin. */
static void
on_rtpbin_pad_added (GstElement       *rtpbin,
                     GstPad           *pad,
                     HarkMediaSession *self)
{
  guint session_id, ssrc, pt;
  GstElement *fakesink;
  g_autoptr(GstPad) sinkpad = NULL;

  if (sscanf (GST_PAD_NAME (pad), "recv_rtp_src_%u_%u_%u", &session_id, &ssrc, &pt) != 3)
    return;

  g_debug ("Receiving SSRC %08x payload type %u", ssrc, pt);

  if (pt == self->params.codec.payload_type)
    {
      link_to_funnel (pad, self->audio_funnel);
      return;
    }
  if (self->dtmf_funnel != NULL && pt == self->params.dtmf_payload_type)
    {
      link_to_funnel (pad, self->dtmf_funnel);
      return;
    }

  /* Anything else is discarded; an unlinked pad would stop the stream. */
  fakesink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (fakesink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (self->pipeline), fakesink);
  gst_element_sync_state_with_parent (fakesink);
  sinkpad = gst_element_get_static_pad (fakesink, "sink");
  gst_pad_link (pad, sinkpad);
}

static void
on_rtpbin_pad_removed (GstElement       *rtpbin,
                       GstPad           *pad,
                       HarkMediaSession *self)
{
  g_autoptr(GstPad) peer = gst_pad_get_peer (pad);
  g_autoptr(GstElement) parent = NULL;

  if (peer == NULL)
    return;

  parent = gst_pad_get_parent_element (peer);
  gst_pad_unlink (pad, peer);
  if (parent == self->audio_funnel || (parent != NULL && parent == self->dtmf_funnel))
    gst_element_release_request_pad (parent, peer);
}

static void
shorten_processing_deadline (GstElement *element)
{
  /* GstBaseSink's property: this library links only the core. */
  if (GST_OBJECT_FLAG_IS_SET (element, GST_ELEMENT_FLAG_SINK) &&
      g_object_class_find_property (G_OBJECT_GET_CLASS (element), "processing-deadline"))
    g_object_set (element, "processing-deadline", (guint64) SINK_PROCESSING_DEADLINE, NULL);
}

/* The sinks inside a gst-launch description, which were added to their
 * bin before it joined the pipeline. */
static void
shorten_processing_deadlines (GstElement *endpoint)
{
  g_autoptr(GstIterator) iterator = NULL;
  GValue item = G_VALUE_INIT;

  shorten_processing_deadline (endpoint);
  if (!GST_IS_BIN (endpoint))
    return;
  iterator = gst_bin_iterate_recurse (GST_BIN (endpoint));
  while (gst_iterator_next (iterator, &item) == GST_ITERATOR_OK)
    {
      shorten_processing_deadline (g_value_get_object (&item));
      g_value_reset (&item);
    }
  g_value_unset (&item);
}

/* The default devices are phone streams to the sound server; sinks that
 * auto-plugging adds later get the call's processing deadline too. The
 * pipeline's own children are Hark's (the endpoints are seen to before
 * they join): its network sinks do not sync, and setting the deadline
 * would only post a LATENCY message. */
static void
on_pipeline_deep_element_added (GstBin     *pipeline,
                                GstBin     *bin,
                                GstElement *element,
                                gpointer    user_data)
{
  if (bin == pipeline)
    return;
  shorten_processing_deadline (element);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element), "stream-properties"))
    {
      g_autoptr(GstStructure) props = gst_structure_new ("props",
                                                         "media.role", G_TYPE_STRING, "phone",
                                                         NULL);
      g_object_set (element, "stream-properties", props, NULL);
    }
}

static GstElement *
make_endpoint (const char  *description,
               const char  *fallback,
               const char  *what,
               GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  GstElement *bin;

  if (description == NULL || *description == '\0')
    return hark_media_make_element (fallback, NULL, error);

  bin = gst_parse_bin_from_description (description, TRUE, &local_error);
  if (bin == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "Cannot build the audio %s “%s”: %s", what, description,
                   local_error->message);
      return NULL;
    }
  return bin;
}

static gboolean
add_and_link (HarkMediaSession  *self,
              GstElement       **elements,
              guint              n_elements,
              GError           **error)
{
  for (guint i = 0; i < n_elements; i++)
    if (elements[i] != NULL)
      gst_bin_add (GST_BIN (self->pipeline), elements[i]);

  for (guint i = 0, prev = G_MAXUINT; i < n_elements; i++)
    {
      if (elements[i] == NULL)
        continue;
      if (prev != G_MAXUINT && !gst_element_link (elements[prev], elements[i]))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                       "Cannot link %s to %s in the media pipeline",
                       GST_ELEMENT_NAME (elements[prev]), GST_ELEMENT_NAME (elements[i]));
          return FALSE;
        }
      prev = i;
    }
  return TRUE;
}

static gboolean
link_pads (GstElement  *src,
           const char  *src_pad_name,
           GstElement  *sink,
           const char  *sink_pad_name,
           GError     **error)
{
  if (!gst_element_link_pads (src, src_pad_name, sink, sink_pad_name))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                   "Cannot link %s:%s to %s:%s in the media pipeline",
                   GST_ELEMENT_NAME (src), src_pad_name ? src_pad_name : "src",
                   GST_ELEMENT_NAME (sink), sink_pad_name ? sink_pad_name : "sink");
      return FALSE;
    }
  return TRUE;
}

/* Makes an element into slot @slot of the caller's array e[] (which holds
 * a reference to each until "out:"), or jumps to "out" with error set. */
#define TRY_MAKE(slot, var, factory) \
  G_STMT_START { \
    if ((var = hark_media_make_element (factory, NULL, error)) == NULL) \
      goto out; \
    e[slot] = gst_object_ref_sink (var); \
  } G_STMT_END

static void
unref_elements (GstElement **elements,
                guint        n_elements)
{
  for (guint i = 0; i < n_elements; i++)
    g_clear_pointer (&elements[i], gst_object_unref);
}

static void
configure_encoder (HarkMediaSession *self,
                   GstElement       *encoder,
                   GstElement       *payloader)
{
  guint ptime = self->params.codec.ptime != 0 ? self->params.codec.ptime : 20;

  if (g_str_equal (self->codec->name, "opus"))
    {
      g_autofree char *maxbitrate = fmtp_get (self->params.codec.fmtp, "maxaveragebitrate");
      guint bitrate = 32000;
      /* Opus frames are 2.5, 5, 10, 20, 40 or 60 ms. */
      guint frame_size = ptime >= 60 ? 60 : ptime >= 40 ? 40 : ptime >= 20 ? 20 : 10;
      g_autofree char *frame = g_strdup_printf ("%u", frame_size);

      if (maxbitrate != NULL)
        bitrate = CLAMP (g_ascii_strtoull (maxbitrate, NULL, 10), 6000, 510000);

      g_object_set (encoder,
                    "inband-fec", TRUE,
                    "packet-loss-percentage", 10,
                    "bitrate", (int) bitrate,
                    NULL);
      gst_util_set_object_arg (G_OBJECT (encoder), "audio-type", "voice");
      gst_util_set_object_arg (G_OBJECT (encoder), "frame-size", frame);
    }
  else
    {
      g_object_set (payloader,
                    "min-ptime", (gint64) ptime * GST_MSECOND,
                    "max-ptime", (gint64) ptime * GST_MSECOND,
                    NULL);
    }

  g_object_set (payloader, "pt", self->params.codec.payload_type, NULL);
}

static gboolean
build_send_branch (HarkMediaSession  *self,
                   gboolean           echo_cancellation,
                   const char        *source_description,
                   GError           **error)
{
  GstElement *e[9] = { NULL, };
  GstElement *source = NULL, *convert = NULL, *resample = NULL, *capsfilter = NULL;
  GstElement *dsp = NULL, *volume = NULL, *encoder = NULL, *payloader = NULL;
  GstElement *mux = NULL;
  g_autoptr(GstCaps) caps = NULL;
  gboolean ok = FALSE;

  source = make_endpoint (source_description, "autoaudiosrc", "source", error);
  if (source == NULL)
    return FALSE;
  gst_object_ref_sink (source);
  e[0] = source;

  TRY_MAKE (1, convert, "audioconvert");
  TRY_MAKE (2, resample, "audioresample");
  TRY_MAKE (3, capsfilter, "capsfilter");
  TRY_MAKE (5, volume, "volume");
  TRY_MAKE (6, encoder, self->codec->encoder);
  TRY_MAKE (7, payloader, self->codec->payloader);
  TRY_MAKE (8, self->send_valve, "valve");
  gst_object_ref (self->send_valve);

  if (echo_cancellation)
    {
      g_autoptr(GError) dsp_error = NULL;

      dsp = hark_media_make_element ("webrtcdsp", NULL, &dsp_error);
      if (dsp == NULL)
        g_message ("No echo cancellation: %s", dsp_error->message);
      else
        {
          self->echo_probe_name = g_strdup_printf ("hark-echo-probe-%p", self);
          e[4] = gst_object_ref_sink (dsp);
          g_object_set (dsp, "probe", self->echo_probe_name, NULL);
        }
    }

  /* webrtcdsp wants 10 ms buffers of S16 at 8, 16, 32 or 48 kHz: every
   * codec rate is one of those. */
  caps = gst_caps_new_simple ("audio/x-raw",
                              "format", G_TYPE_STRING, "S16LE",
                              "layout", G_TYPE_STRING, "interleaved",
                              "rate", G_TYPE_INT, (int) self->codec->sample_rate,
                              "channels", G_TYPE_INT, 1,
                              NULL);
  g_object_set (capsfilter, "caps", caps, NULL);
  self->volume = gst_object_ref (volume);
  g_object_set (volume, "mute", self->muted, NULL);
  configure_encoder (self, encoder, payloader);
  g_object_set (self->send_valve, "drop", !direction_sends (self->params.direction), NULL);

  if (self->params.dtmf_payload_type != 0)
    {
      self->dtmf_src = hark_media_make_element ("rtpdtmfsrc", NULL, error);
      if (self->dtmf_src == NULL)
        goto out;
      gst_bin_add (GST_BIN (self->pipeline), self->dtmf_src);
      g_object_set (self->dtmf_src,
                    "pt", self->params.dtmf_payload_type,
                    "clock-rate", dtmf_clock_rate (self),
                    NULL);

      mux = hark_media_make_element ("rtpdtmfmux", NULL, error);
      if (mux == NULL)
        goto out;
      gst_bin_add (GST_BIN (self->pipeline), mux);
    }

  {
    GstElement *chain[] = { source, convert, resample, capsfilter, dsp, volume, encoder,
                            payloader };

    if (!add_and_link (self, chain, G_N_ELEMENTS (chain), error))
      goto out;
    gst_bin_add (GST_BIN (self->pipeline), self->send_valve);
  }

  if (mux != NULL)
    {
      if (!link_pads (payloader, "src", mux, "sink_%u", error) ||
          !link_pads (self->dtmf_src, "src", mux, "priority_sink_%u", error) ||
          !link_pads (mux, "src", self->send_valve, "sink", error))
        goto out;
    }
  else if (!link_pads (payloader, "src", self->send_valve, "sink", error))
    goto out;

  ok = link_pads (self->send_valve, "src", self->rtpbin, "send_rtp_sink_0", error);

out:
  unref_elements (e, G_N_ELEMENTS (e));
  return ok;
}

static gboolean
build_recv_branch (HarkMediaSession  *self,
                   const char        *sink_description,
                   GError           **error)
{
  GstElement *e[11] = { NULL, };
  GstElement *funnel, *depayloader, *decoder, *convert, *resample, *probe = NULL;
  GstElement *convert2 = NULL, *sink;
  GstElement *dtmf_funnel, *dtmf_depay, *fakesink;
  gboolean ok = FALSE;

  TRY_MAKE (0, funnel, "funnel");
  TRY_MAKE (1, depayloader, self->codec->depayloader);
  TRY_MAKE (2, decoder, self->codec->decoder);
  TRY_MAKE (3, convert, "audioconvert");
  TRY_MAKE (4, resample, "audioresample");

  sink = make_endpoint (sink_description, "autoaudiosink", "sink", error);
  if (sink == NULL)
    goto out;
  shorten_processing_deadlines (sink);
  e[7] = gst_object_ref_sink (sink);

  /* The probe feeds webrtcdsp what the loudspeaker plays, so it can be
   * subtracted from what the microphone hears. */
  if (self->echo_probe_name != NULL)
    {
      TRY_MAKE (5, probe, "webrtcechoprobe");
      g_object_set (probe, "name", self->echo_probe_name, NULL);
      TRY_MAKE (6, convert2, "audioconvert");
    }

  /* Packet-loss concealment: Opus has its own (and in-band FEC). spandsp's
   * spanplc would cover G.711/G.722, but it crashes (plc_fillin) on the
   * jitter buffer's gap events in 1.22, so those play the gap as silence. */
  if (g_str_equal (self->codec->name, "opus"))
    hark_playout_attach_opus_decoder (self->playout, decoder);
  hark_playout_attach_decoder (self->playout, decoder);

  self->audio_funnel = gst_object_ref (funnel);
  self->decoder = gst_object_ref (decoder);

  {
    GstElement *chain[] = { funnel, depayloader, decoder, convert, resample, probe, convert2,
                            sink };

    if (!add_and_link (self, chain, G_N_ELEMENTS (chain), error))
      goto out;
  }

  if (self->params.dtmf_payload_type != 0)
    {
      TRY_MAKE (8, dtmf_funnel, "funnel");
      TRY_MAKE (9, dtmf_depay, "rtpdtmfdepay");
      TRY_MAKE (10, fakesink, "fakesink");
      g_object_set (fakesink, "sync", FALSE, "async", FALSE, NULL);
      self->dtmf_funnel = gst_object_ref (dtmf_funnel);
      self->dtmf_depay = gst_object_ref (dtmf_depay);

      {
        GstElement *chain[] = { dtmf_funnel, dtmf_depay, fakesink };

        if (!add_and_link (self, chain, G_N_ELEMENTS (chain), error))
          goto out;
      }
    }
  ok = TRUE;

out:
  unref_elements (e, G_N_ELEMENTS (e));
  return ok;
}

static gboolean
adopt_sockets (HarkMediaSession  *self,
               GError           **error)
{
  g_autoptr(HarkMediaPorts) ports = NULL;

  if (self->params.ports != NULL)
    ports = hark_media_ports_copy (self->params.ports);
  else
    ports = hark_media_ports_allocate (self->params.local_address, error);
  if (ports == NULL)
    return FALSE;

  self->rtp_socket = g_object_ref (ports->rtp);
  self->rtcp_socket = g_object_ref (ports->rtcp);
  self->local_port = ports->rtp_port;
  return TRUE;
}

/* SRTP (RFC 3711) with the keys of an SDES (RFC 4568) exchange: rtpbin
 * asks for an encoder and a decoder per session, for RTP and RTCP; one
 * srtpenc and one srtpdec serve both. */
/* rtpbin looks for the encoder's src pad before linking its sink pad, and
 * srtpenc makes the src pad with the sink pad: request it first (as
 * gst-rtsp-server does). */
static GstElement *
request_encoder (HarkMediaSession *self,
                 guint             session,
                 const char       *pad_name)
{
  g_autoptr(GstPad) pad = NULL;

  if (session != 0)
    return NULL;
  pad = gst_element_request_pad_simple (self->srtp_enc, pad_name);
  return gst_object_ref (self->srtp_enc);
}

static GstElement *
on_rtpbin_request_rtp_encoder (GstElement       *rtpbin,
                               guint             session,
                               HarkMediaSession *self)
{
  return request_encoder (self, session, "rtp_sink_0");
}

static GstElement *
on_rtpbin_request_rtcp_encoder (GstElement       *rtpbin,
                                guint             session,
                                HarkMediaSession *self)
{
  return request_encoder (self, session, "rtcp_sink_0");
}

static GstElement *
on_rtpbin_request_decoder (GstElement       *rtpbin,
                           guint             session,
                           HarkMediaSession *self)
{
  return session == 0 ? gst_object_ref (self->srtp_dec) : NULL;
}

static const char *
srtp_auth_nick (const char *suite)
{
  return g_str_has_suffix (suite, "_32") ? "hmac-sha1-32" : "hmac-sha1-80";
}

/* Called from a streaming thread; params do not change while it plays
 * (new keys make a new session). */
static GstCaps *
on_srtpdec_request_key (GstElement       *srtpdec,
                        guint             ssrc,
                        HarkMediaSession *self)
{
  g_autoptr(GstBuffer) key = NULL;
  guchar *data;
  gsize length;

  data = g_base64_decode (self->params.srtp_remote_key, &length);
  key = gst_buffer_new_wrapped (data, length);
  /* SRTCP is always authenticated with the 80-bit tag (RFC 4568 6.2). */
  return gst_caps_new_simple ("application/x-srtp",
                              "srtp-key", GST_TYPE_BUFFER, key,
                              "srtp-cipher", G_TYPE_STRING, "aes-128-icm",
                              "srtp-auth", G_TYPE_STRING,
                              srtp_auth_nick (self->params.srtp_suite),
                              "srtcp-cipher", G_TYPE_STRING, "aes-128-icm",
                              "srtcp-auth", G_TYPE_STRING, "hmac-sha1-80",
                              NULL);
}

static gboolean
key_is_valid (const char *base64)
{
  g_autofree guchar *data = NULL;
  gsize length = 0;

  if (base64 == NULL || *base64 == '\0')
    return FALSE;
  data = g_base64_decode (base64, &length);
  return length == 30;
}

static gboolean
setup_srtp (HarkMediaSession  *self,
            GError           **error)
{
  g_autoptr(GstBuffer) key = NULL;
  guchar *data;
  gsize length;

  if (!hark_media_srtp_suite_is_supported (self->params.srtp_suite))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED,
                   "Hark has no support for the SRTP crypto suite “%s”",
                   self->params.srtp_suite);
      return FALSE;
    }
  if (!key_is_valid (self->params.srtp_local_key) ||
      !key_is_valid (self->params.srtp_remote_key))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "An SRTP master key must be 30 bytes in base64");
      return FALSE;
    }

  self->srtp_enc = hark_media_make_element ("srtpenc", NULL, error);
  if (self->srtp_enc == NULL)
    return FALSE;
  gst_object_ref_sink (self->srtp_enc);
  self->srtp_dec = hark_media_make_element ("srtpdec", NULL, error);
  if (self->srtp_dec == NULL)
    return FALSE;
  gst_object_ref_sink (self->srtp_dec);

  data = g_base64_decode (self->params.srtp_local_key, &length);
  key = gst_buffer_new_wrapped (data, length);
  g_object_set (self->srtp_enc, "key", key, NULL);
  gst_util_set_object_arg (G_OBJECT (self->srtp_enc), "rtp-cipher", "aes-128-icm");
  gst_util_set_object_arg (G_OBJECT (self->srtp_enc), "rtp-auth",
                           srtp_auth_nick (self->params.srtp_suite));
  gst_util_set_object_arg (G_OBJECT (self->srtp_enc), "rtcp-cipher", "aes-128-icm");
  gst_util_set_object_arg (G_OBJECT (self->srtp_enc), "rtcp-auth", "hmac-sha1-80");

  g_signal_connect (self->srtp_dec, "request-key", G_CALLBACK (on_srtpdec_request_key), self);
  g_signal_connect (self->rtpbin, "request-rtp-encoder",
                    G_CALLBACK (on_rtpbin_request_rtp_encoder), self);
  g_signal_connect (self->rtpbin, "request-rtcp-encoder",
                    G_CALLBACK (on_rtpbin_request_rtcp_encoder), self);
  g_signal_connect (self->rtpbin, "request-rtp-decoder",
                    G_CALLBACK (on_rtpbin_request_decoder), self);
  g_signal_connect (self->rtpbin, "request-rtcp-decoder",
                    G_CALLBACK (on_rtpbin_request_decoder), self);
  return TRUE;
}

static guint
remote_rtcp_port (const HarkMediaParams *params)
{
  return params->remote_rtcp_port != 0 ? params->remote_rtcp_port : params->remote_rtp_port + 1;
}

static gboolean
build_network (HarkMediaSession  *self,
               GError           **error)
{
  GstElement *e[5] = { NULL, };
  GstElement *rtp_src, *rtcp_src;
  g_autoptr(GstCaps) rtp_caps = NULL;
  g_autoptr(GstCaps) rtcp_caps = NULL;
  gboolean ok = FALSE;

  TRY_MAKE (0, rtp_src, "udpsrc");
  TRY_MAKE (1, rtcp_src, "udpsrc");
  TRY_MAKE (2, self->rtp_sink, "udpsink");
  gst_object_ref (self->rtp_sink);
  TRY_MAKE (3, self->rtcp_sink, "udpsink");
  gst_object_ref (self->rtcp_sink);
  TRY_MAKE (4, self->recv_valve, "valve");
  gst_object_ref (self->recv_valve);

  rtp_caps = gst_caps_new_simple (self->srtp_dec ? "application/x-srtp" : "application/x-rtp",
                                  "media", G_TYPE_STRING, "audio", NULL);
  rtcp_caps = gst_caps_new_empty_simple (self->srtp_dec ? "application/x-srtcp"
                                                        : "application/x-rtcp");

  g_object_set (rtp_src, "socket", self->rtp_socket, "close-socket", FALSE,
                "caps", rtp_caps, NULL);
  g_object_set (rtcp_src, "socket", self->rtcp_socket, "close-socket", FALSE,
                "caps", rtcp_caps, NULL);
  g_object_set (self->rtp_sink, "socket", self->rtp_socket, "close-socket", FALSE,
                "host", self->params.remote_address,
                "port", (int) self->params.remote_rtp_port,
                "auto-multicast", FALSE, "sync", FALSE, "async", FALSE, NULL);
  g_object_set (self->rtcp_sink, "socket", self->rtcp_socket, "close-socket", FALSE,
                "host", self->params.remote_address,
                "port", (int) remote_rtcp_port (&self->params),
                "auto-multicast", FALSE, "sync", FALSE, "async", FALSE, NULL);
  g_object_set (self->recv_valve, "drop", !direction_receives (self->params.direction), NULL);

  gst_bin_add_many (GST_BIN (self->pipeline), rtp_src, rtcp_src, self->rtp_sink,
                    self->rtcp_sink, self->recv_valve, NULL);
  ok = link_pads (rtp_src, "src", self->recv_valve, "sink", error) &&
       link_pads (self->recv_valve, "src", self->rtpbin, "recv_rtp_sink_0", error) &&
       link_pads (rtcp_src, "src", self->rtpbin, "recv_rtcp_sink_0", error) &&
       link_pads (self->rtpbin, "send_rtp_src_0", self->rtp_sink, "sink", error) &&
       link_pads (self->rtpbin, "send_rtcp_src_0", self->rtcp_sink, "sink", error);

out:
  unref_elements (e, G_N_ELEMENTS (e));
  return ok;
}

#undef TRY_MAKE

/* ------------------------------------------------------------------------ */
/* Bus                                                                       */

static char
dtmf_event_to_char (int event)
{
  static const char symbols[] = "0123456789*#ABCD";

  return event >= 0 && event < 16 ? symbols[event] : '\0';
}

static void
handle_element_message (HarkMediaSession *self,
                        GstMessage       *message)
{
  const GstStructure *structure = gst_message_get_structure (message);
  int number;
  char digit[2] = { 0, };

  if (GST_MESSAGE_SRC (message) != GST_OBJECT (self->dtmf_depay) ||
      !gst_structure_has_name (structure, "dtmf-event") ||
      !gst_structure_get_int (structure, "number", &number))
    return;

  digit[0] = dtmf_event_to_char (number);
  if (digit[0] == '\0')
    return;

  g_debug ("DTMF received: %s", digit);
  g_signal_emit (self, signals[SIGNAL_DTMF_RECEIVED], 0, digit);
}

/* A call's pipeline posts a few hundred messages as its elements start
 * and stop (state changes, stream status, new clock...): only these are
 * of use here. */
static gboolean
message_is_wanted (GstMessage *message)
{
  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING:
    case GST_MESSAGE_LATENCY:
      return TRUE;

    case GST_MESSAGE_ELEMENT:
      return gst_message_has_name (message, "dtmf-event");

    default:
      return FALSE;
    }
}

static void handle_bus_message (HarkMediaSession *self,
                                GstMessage       *message);

/* The wanted messages go from the posting thread to the main loop one by
 * one, instead of through a bus watch: a watch polls one more descriptor
 * per call on every iteration of the daemon's main loop. The pipeline may
 * outlive its session (it stops in a worker thread): the link only holds
 * the session weakly. */
enum {
  BUS_LINK_WAITING,        /* built in a worker: messages wait in pending */
  BUS_LINK_ATTACHED,       /* session_attach_bus() ran: to the main loop */
  BUS_LINK_CLOSED,         /* the session stopped: dropped */
};

struct _BusLink {
  GWeakRef      session;
  GMutex        lock;
  int           state;     /* under lock */
  GQueue        pending;   /* of GstMessage, while waiting */
  gboolean      latency_queued;  /* under lock: a LATENCY is on its way */
  GMainContext *context;   /* the session's, once attached */
};

static BusLink *
bus_link_new (HarkMediaSession *self)
{
  BusLink *link = g_atomic_rc_box_new0 (BusLink);

  g_weak_ref_init (&link->session, self);
  g_mutex_init (&link->lock);
  return link;
}

static void
bus_link_clear (gpointer data)
{
  BusLink *link = data;

  g_weak_ref_clear (&link->session);
  g_mutex_clear (&link->lock);
  g_queue_clear_full (&link->pending, (GDestroyNotify) gst_message_unref);
  g_clear_pointer (&link->context, g_main_context_unref);
}

static void
bus_link_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, bus_link_clear);
}

typedef struct {
  BusLink    *link;
  GstMessage *message;
} BusDelivery;

static void
bus_delivery_free (gpointer data)
{
  BusDelivery *delivery = data;

  gst_message_unref (delivery->message);
  bus_link_unref (delivery->link);
  g_free (delivery);
}

static int
bus_link_get_state (BusLink *link)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&link->lock);

  return link->state;
}

static gboolean
deliver_cb (gpointer data)
{
  BusDelivery *delivery = data;
  g_autoptr(HarkMediaSession) self = g_weak_ref_get (&delivery->link->session);

  if (self != NULL && bus_link_get_state (delivery->link) == BUS_LINK_ATTACHED)
    handle_bus_message (self, delivery->message);
  return G_SOURCE_REMOVE;
}

/* Always from an idle source, even on the main thread: the handlers may
 * stop the session, which they must not do inside a GStreamer call. */
static void
bus_link_deliver (BusLink    *link,
                  GstMessage *message)
{
  g_autoptr(GSource) idle = g_idle_source_new ();
  BusDelivery *delivery = g_new (BusDelivery, 1);

  delivery->link = g_atomic_rc_box_acquire (link);
  delivery->message = message;
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, deliver_cb, delivery, bus_delivery_free);
  g_source_attach (idle, link->context);
}

/* Attaching hands the messages that waited to @context. */
static void
bus_link_set_state (BusLink      *link,
                    int           state,
                    GMainContext *context)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&link->lock);
  GstMessage *message;

  link->state = state;
  if (state == BUS_LINK_ATTACHED)
    {
      g_assert (link->context == NULL);
      link->context = context;
      while ((message = g_queue_pop_head (&link->pending)) != NULL)
        bus_link_deliver (link, message);
    }
}

/* Runs on whichever thread posts. */
static GstBusSyncReply
on_bus_sync_message (GstBus     *bus,
                     GstMessage *message,
                     gpointer    user_data)
{
  BusLink *link = user_data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&link->lock);

  /* The bus is left empty: each message is dropped, kept or handed on,
   * and then the handler's to unref. */
  if (!message_is_wanted (message) || link->state == BUS_LINK_CLOSED)
    gst_message_unref (message);
  else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_LATENCY && link->latency_queued)
    gst_message_unref (message);  /* the queued one recalculates for both */
  else
    {
      if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_LATENCY)
        link->latency_queued = TRUE;
      if (link->state == BUS_LINK_WAITING)
        g_queue_push_tail (&link->pending, message);
      else
        bus_link_deliver (link, message);
    }
  return GST_BUS_DROP;
}

/* Main thread, before recalculating: a LATENCY posted from now on may
 * report a change that this recalculation misses, so it is delivered. */
static void
bus_link_take_latency (BusLink *link)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&link->lock);

  link->latency_queued = FALSE;
}

static void
handle_bus_message (HarkMediaSession *self,
                    GstMessage       *message)
{
  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;
        g_autoptr(GError) hark_error = NULL;

        gst_message_parse_error (message, &error, &debug);
        g_warning ("Media error from %s: %s (%s)", GST_OBJECT_NAME (GST_MESSAGE_SRC (message)),
                   error->message, debug ? debug : "");
        hark_error = g_error_new (HARK_ERROR, HARK_ERROR_FAILED, "Audio failed: %s",
                                  error->message);
        g_signal_emit (self, signals[SIGNAL_ERROR], 0, hark_error);
      }
      break;

    case GST_MESSAGE_WARNING:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;

        gst_message_parse_warning (message, &error, &debug);
        g_message ("Media warning from %s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (message)),
                   error->message);
      }
      break;

    case GST_MESSAGE_ELEMENT:
      handle_element_message (self, message);
      break;

    case GST_MESSAGE_LATENCY:
      bus_link_take_latency (self->bus_link);
      gst_bin_recalculate_latency (GST_BIN (self->pipeline));
      break;

    default:
      break;
    }
}

/* ------------------------------------------------------------------------ */
/* DTMF sending                                                              */

static int
dtmf_char_to_event (char c)
{
  const char *symbols = "0123456789*#ABCD";
  const char *p = strchr (symbols, g_ascii_toupper (c));

  return c != '\0' && p != NULL ? (int) (p - symbols) : -1;
}

static void
send_dtmf_event (HarkMediaSession *self,
                 int               number,
                 gboolean          start)
{
  g_autoptr(GstPad) srcpad = NULL;
  GstStructure *structure;

  structure = gst_structure_new ("dtmf-event",
                                 "type", G_TYPE_INT, 1,
                                 "start", G_TYPE_BOOLEAN, start,
                                 NULL);
  if (start)
    gst_structure_set (structure,
                       "number", G_TYPE_INT, number,
                       "volume", G_TYPE_INT, DTMF_VOLUME,
                       NULL);
  /* GstBaseSrc ignores custom events given to gst_element_send_event():
   * they must come to its pad, as from downstream. */
  srcpad = gst_element_get_static_pad (self->dtmf_src, "src");
  gst_pad_send_event (srcpad, gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM, structure));
}

static gboolean
dtmf_step_cb (gpointer user_data)
{
  HarkMediaSession *self = user_data;
  guint delay;

  self->dtmf_source_id = 0;

  if (self->dtmf_tone_on)
    {
      send_dtmf_event (self, 0, FALSE);
      self->dtmf_tone_on = FALSE;
      delay = DTMF_GAP_MS;
    }
  else if (self->dtmf_queue->len == 0)
    {
      return G_SOURCE_REMOVE;
    }
  else
    {
      char c = self->dtmf_queue->str[0];

      g_string_erase (self->dtmf_queue, 0, 1);
      if (c == ',')
        delay = DTMF_PAUSE_MS;
      else
        {
          send_dtmf_event (self, dtmf_char_to_event (c), TRUE);
          self->dtmf_tone_on = TRUE;
          delay = DTMF_TONE_MS;
        }
    }

  self->dtmf_source_id = g_timeout_add (delay, dtmf_step_cb, self);
  return G_SOURCE_REMOVE;
}

static void
dtmf_cancel (HarkMediaSession *self)
{
  g_clear_handle_id (&self->dtmf_source_id, g_source_remove);
  if (self->dtmf_tone_on && self->dtmf_src != NULL)
    send_dtmf_event (self, 0, FALSE);
  self->dtmf_tone_on = FALSE;
  g_string_truncate (self->dtmf_queue, 0);
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                   */

static void
stop_bus_and_timers (HarkMediaSession *self)
{
  if (self->dtmf_queue != NULL)
    dtmf_cancel (self);
  g_clear_handle_id (&self->stats_source_id, g_source_remove);
  if (self->bus_link != NULL)
    bus_link_set_state (self->bus_link, BUS_LINK_CLOSED, NULL);
}

static void
release_in_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  g_ptr_array_set_size (task_data, 0);  /* drops the references, here */
}

/* The last unref of a pipeline removes and finalizes every element in it,
 * a tenth of the main loop's time under load: it is done on a worker, as
 * the stop is (whose thread drops its own reference before it returns). */
static void
release_elements (HarkMediaSession *self)
{
  GstElement **fields[] = {
    &self->rtp_sink, &self->rtcp_sink, &self->send_valve, &self->recv_valve, &self->volume,
    &self->audio_funnel, &self->decoder, &self->dtmf_funnel, &self->dtmf_depay,
    &self->srtp_enc, &self->srtp_dec, &self->rtpbin, &self->pipeline,
  };
  g_autoptr(GPtrArray) elements = g_ptr_array_new_with_free_func (gst_object_unref);
  g_autoptr(GTask) task = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    if (*fields[i] != NULL)
      g_ptr_array_add (elements, g_steal_pointer (fields[i]));
  if (elements->len == 0)
    return;

  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_source_tag (task, release_in_thread);
  g_task_set_task_data (task, g_steal_pointer (&elements), (GDestroyNotify) g_ptr_array_unref);
  g_task_run_in_thread (task, release_in_thread);
}

static void
hark_media_session_dispose (GObject *object)
{
  HarkMediaSession *self = HARK_MEDIA_SESSION (object);

  stop_bus_and_timers (self);

  if (self->pipeline != NULL)
    {
      /* hark_media_session_stop_async() normally did this off the main
       * thread already; if not, this may block briefly. */
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      if (self->rtpbin != NULL)
        g_signal_handlers_disconnect_by_data (self->rtpbin, self);
      if (self->srtp_dec != NULL)
        g_signal_handlers_disconnect_by_data (self->srtp_dec, self);
    }

  release_elements (self);
  self->dtmf_src = NULL;   /* owned by the pipeline */
  g_clear_object (&self->rtp_socket);
  g_clear_object (&self->rtcp_socket);
  g_clear_pointer (&self->bus_link, bus_link_unref);

  G_OBJECT_CLASS (hark_media_session_parent_class)->dispose (object);
}

static void
hark_media_session_finalize (GObject *object)
{
  HarkMediaSession *self = HARK_MEDIA_SESSION (object);

  hark_media_params_clear (&self->params);
  g_string_free (self->dtmf_queue, TRUE);
  g_free (self->echo_probe_name);
  g_clear_pointer (&self->stats, g_variant_unref);
  g_clear_pointer (&self->playout, hark_playout_unref);
  g_weak_ref_clear (&self->jitterbuffer);

  G_OBJECT_CLASS (hark_media_session_parent_class)->finalize (object);
}

static void
hark_media_session_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  HarkMediaSession *self = HARK_MEDIA_SESSION (object);

  switch (prop_id)
    {
    case PROP_MUTED:
      g_value_set_boolean (value, self->muted);
      break;

    case PROP_DIRECTION:
      g_value_set_string (value, hark_media_direction_to_string (self->params.direction));
      break;

    case PROP_STATS:
      g_value_set_variant (value, self->stats);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hark_media_session_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  HarkMediaSession *self = HARK_MEDIA_SESSION (object);

  switch (prop_id)
    {
    case PROP_MUTED:
      hark_media_session_set_muted (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hark_media_session_class_init (HarkMediaSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_media_session_dispose;
  object_class->finalize = hark_media_session_finalize;
  object_class->get_property = hark_media_session_get_property;
  object_class->set_property = hark_media_session_set_property;

  /**
   * HarkMediaSession:muted:
   *
   * Whether the microphone is muted (silence is sent, RTP keeps flowing).
   */
  properties[PROP_MUTED] =
    g_param_spec_boolean ("muted", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HarkMediaSession:direction:
   *
   * The RFC 3264 direction applied to the pipeline ("sendrecv", …).
   */
  properties[PROP_DIRECTION] =
    g_param_spec_string ("direction", NULL, NULL, "sendrecv",
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HarkMediaSession:stats:
   *
   * The figures of hark_media_session_get_stats() as they were at the last
   * sampling: taken about once a second from the moment the session is
   * attached to the main loop until it stops, and notified when they
   * changed. %NULL before the first sample.
   */
  properties[PROP_STATS] =
    g_param_spec_variant ("stats", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * HarkMediaSession::dtmf-received:
   * @digit: one of 0-9 * # A-D
   *
   * An RFC 4733 telephone-event arrived (once per event).
   */
  signals[SIGNAL_DTMF_RECEIVED] =
    g_signal_new ("dtmf-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * HarkMediaSession::error:
   * @error: what went wrong (HARK_ERROR)
   *
   * The pipeline failed (a device vanished, …); the session should be
   * stopped.
   */
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);

  /**
   * HarkMediaSession::rtp-timeout:
   *
   * Neither RTP nor RTCP came from the peer for the params' rtp_timeout_ms
   * while both sides send: it is gone. Emitted once.
   */
  signals[SIGNAL_RTP_TIMEOUT] =
    g_signal_new ("rtp-timeout",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
hark_media_session_init (HarkMediaSession *self)
{
  hark_media_params_init (&self->params);
  self->dtmf_queue = g_string_new (NULL);
  g_weak_ref_init (&self->jitterbuffer, NULL);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */

static gboolean
check_params (const HarkMediaParams  *params,
              GError                **error)
{
  if (params->remote_address == NULL || params->remote_rtp_port == 0 ||
      params->remote_rtp_port > G_MAXUINT16 || remote_rtcp_port (params) > G_MAXUINT16)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "The peer's media address is missing or invalid");
      return FALSE;
    }
  if (params->direction > HARK_MEDIA_DIRECTION_INACTIVE)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT, "Invalid media direction");
      return FALSE;
    }
  if (params->codec.payload_type > 127 || params->dtmf_payload_type > 127 ||
      (params->dtmf_payload_type != 0 &&
       params->dtmf_payload_type == params->codec.payload_type))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT, "Invalid RTP payload type");
      return FALSE;
    }
  return TRUE;
}

/* An override from the environment; empty counts as unset. */
static const char *
env_description (const char *variable)
{
  const char *value = g_getenv (variable);

  return value != NULL && *value != '\0' ? value : NULL;
}

/**
 * hark_media_session_new:
 * @params: the negotiated media
 * @error: return location for a #GError
 *
 * Builds (but does not start) the pipeline for @params. GStreamer is
 * loaded on the first call. Errors are in the HARK_ERROR domain:
 * NOT_SUPPORTED for an unknown codec or a missing plugin (the message names
 * the Debian package), INVALID_ARGUMENT for bad parameters or an
 * unusable `HARK_AUDIO_SOURCE`/`HARK_AUDIO_SINK`.
 *
 * Returns: (transfer full): a new session, or %NULL with @error set
 */
/* HARK_RTP_TIMEOUT_MS, for tests and headless use. */
static void
apply_rtp_timeout_override (HarkMediaParams *params)
{
  params->rtp_timeout_ms = hark_env_get_ms ("HARK_RTP_TIMEOUT_MS", 0, G_MAXUINT,
                                            params->rtp_timeout_ms);
}

/* Builds the pipeline; no main-context source is attached, so that this may
 * run on a worker thread (hark_media_session_new_async()). */
static HarkMediaSession *
session_build (const HarkMediaParams  *params,
               GError                **error)
{
  g_autoptr(HarkMediaSession) self = NULL;
  g_autofree char *name = NULL;
  const char *source_description;
  const char *sink_description;
  gboolean echo_cancellation;
  guint latency;

  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hark_media_ensure_gst (error) || !check_params (params, error))
    return NULL;

  self = g_object_new (HARK_TYPE_MEDIA_SESSION, NULL);
  hark_media_params_copy (&self->params, params);
  apply_rtp_timeout_override (&self->params);

  self->codec = find_codec (params->codec.name);
  if (self->codec == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED,
                   "Hark has no support for the codec “%s”",
                   params->codec.name ? params->codec.name : "(none)");
      return NULL;
    }
  if (!check_factories (self->codec, error))
    return NULL;

  /* Test and headless overrides; they also turn echo cancellation off, as
   * they are not a loudspeaker and a microphone in one room. The settings'
   * descriptions (params) are real devices and keep it. */
  source_description = env_description ("HARK_AUDIO_SOURCE");
  sink_description = env_description ("HARK_AUDIO_SINK");
  echo_cancellation = params->echo_cancellation && source_description == NULL &&
                      sink_description == NULL;
  if (source_description == NULL)
    source_description = params->audio_source;
  if (sink_description == NULL)
    sink_description = params->audio_sink;

  if (!adopt_sockets (self, error))
    return NULL;

  name = g_strdup_printf ("hark-media-%u", g_atomic_int_add (&session_serial, 1));
  self->pipeline = gst_object_ref_sink (gst_pipeline_new (name));
  g_signal_connect (self->pipeline, "deep-element-added",
                    G_CALLBACK (on_pipeline_deep_element_added), NULL);
  {
    g_autoptr(GstBus) bus = gst_pipeline_get_bus (GST_PIPELINE (self->pipeline));

    self->bus_link = bus_link_new (self);
    gst_bus_set_sync_handler (bus, on_bus_sync_message, g_atomic_rc_box_acquire (self->bus_link),
                              bus_link_unref);
  }

  self->rtpbin = hark_media_make_element ("rtpbin", NULL, error);
  if (self->rtpbin == NULL)
    return NULL;
  gst_object_ref_sink (self->rtpbin);
  gst_bin_add (GST_BIN (self->pipeline), self->rtpbin);

  latency = params->jitter_latency_ms != 0 ? params->jitter_latency_ms : DEFAULT_LATENCY_MS;
  self->playout = hark_playout_new (CLAMP (latency, MIN_LATENCY_MS, MAX_LATENCY_MS),
                                    params->codec.ptime);
  g_object_set (self->rtpbin,
                "latency", hark_playout_get_delay_ms (self->playout),
                "do-lost", TRUE,
                "drop-on-latency", TRUE,
                NULL);
  g_signal_connect (self->rtpbin, "new-jitterbuffer", G_CALLBACK (on_rtpbin_new_jitterbuffer),
                    self);
  g_signal_connect (self->rtpbin, "request-pt-map", G_CALLBACK (on_rtpbin_request_pt_map), self);
  g_signal_connect (self->rtpbin, "pad-added", G_CALLBACK (on_rtpbin_pad_added), self);
  g_signal_connect (self->rtpbin, "pad-removed", G_CALLBACK (on_rtpbin_pad_removed), self);
  if (params->srtp_suite != NULL && !setup_srtp (self, error))
    return NULL;

  if (!build_send_branch (self, echo_cancellation, source_description, error) ||
      !build_recv_branch (self, sink_description, error) ||
      !build_network (self, error))
    return NULL;

  g_debug ("Media session %s: %s/%u pt %u, local port %u, remote %s:%u, %s", name,
           self->codec->name, codec_clock_rate (self), params->codec.payload_type,
           self->local_port, params->remote_address, params->remote_rtp_port,
           hark_media_direction_to_string (params->direction));

  return g_steal_pointer (&self);
}

static void stats_tick (HarkMediaSession *self);

static gboolean
stats_tick_cb (gpointer user_data)
{
  HarkMediaSession *self = user_data;

  stats_tick (self);
  return G_SOURCE_CONTINUE;
}

/* On the main thread: messages posted before this waited on the bus, and
 * reach the handlers from the main loop, once the caller connected them. */
static void
session_attach_bus (HarkMediaSession *self)
{
  bus_link_set_state (self->bus_link, BUS_LINK_ATTACHED, g_main_context_ref_thread_default ());
  /* rtpbin counts on the streaming threads; sampling it once a second is
   * what the Call's MediaStats promises, and costs next to nothing. */
  self->stats_source_id = g_timeout_add_seconds (STATS_INTERVAL_S, stats_tick_cb, self);
}

HarkMediaSession *
hark_media_session_new (const HarkMediaParams  *params,
                        GError                **error)
{
  HarkMediaSession *self;

  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = session_build (params, error);
  if (self != NULL)
    session_attach_bus (self);
  return self;
}

static gboolean
session_set_playing (HarkMediaSession  *self,
                     GError           **error)
{
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                   "The audio pipeline cannot start (is the audio device available?)");
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      return FALSE;
    }
  self->started = TRUE;
  return TRUE;
}

/* A session that a cancelled hark_media_session_new_async() built and
 * started: taken down off the main thread too. */
static void
session_discard (gpointer data)
{
  HarkMediaSession *self = data;

  hark_media_session_stop_async (self, NULL, NULL, NULL);
  g_object_unref (self);
}

static void
new_in_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  const HarkMediaParams *params = task_data;
  g_autoptr(HarkMediaSession) self = NULL;
  GError *error = NULL;

  if (!hark_media_ensure_gst (&error) ||
      (self = session_build (params, &error)) == NULL ||
      !session_set_playing (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&self), session_discard);
}

static void
params_free (gpointer data)
{
  HarkMediaParams *params = data;

  hark_media_params_clear (params);
  g_free (params);
}

/**
 * hark_media_session_new_async:
 * @params: the negotiated media
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the session playing, or an error
 * @user_data: data for @callback
 *
 * hark_media_session_new() and hark_media_session_start() on a worker
 * thread: loading GStreamer (a registry scan on the first call) and
 * opening the audio devices take up to a second or more, which the main
 * loop (SIP retransmissions, D-Bus) must not wait for. The errors are
 * those of hark_media_session_new() and hark_media_session_start().
 */
void
hark_media_session_new_async (const HarkMediaParams *params,
                              GCancellable          *cancellable,
                              GAsyncReadyCallback    callback,
                              gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  HarkMediaParams *copy;

  g_return_if_fail (params != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_media_session_new_async);
  copy = g_new0 (HarkMediaParams, 1);
  hark_media_params_init (copy);
  hark_media_params_copy (copy, params);
  g_task_set_task_data (task, copy, params_free);
  g_task_run_in_thread (task, new_in_thread);
}

/**
 * hark_media_session_new_finish:
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the started session, or %NULL with @error set
 *   (%G_IO_ERROR_CANCELLED if the operation was cancelled; a session
 *   built meanwhile is then stopped off the main thread)
 */
HarkMediaSession *
hark_media_session_new_finish (GAsyncResult  *result,
                               GError       **error)
{
  HarkMediaSession *self;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == hark_media_session_new_async,
                        NULL);

  self = g_task_propagate_pointer (G_TASK (result), error);
  if (self != NULL)
    session_attach_bus (self);
  return self;
}

static void
preload_in_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  if (hark_media_ensure_gst (NULL))
    check_codecs ();
  g_task_return_boolean (task, TRUE);
}

/**
 * hark_media_preload:
 *
 * Starts loading GStreamer on a worker thread, once: called when the first
 * call begins ringing or dialing, so that its audio starts sooner. A daemon
 * with no call never loads it. The same thread then finds which codecs the
 * installed plugins can run (hark_media_codec_is_offered()).
 */
void
hark_media_preload (void)
{
  static gsize started = 0;

  if (g_once_init_enter (&started))
    {
      g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);

      g_task_set_source_tag (task, hark_media_preload);
      g_task_run_in_thread (task, preload_in_thread);
      g_once_init_leave (&started, 1);
    }
}

/**
 * hark_media_session_start:
 * @self: a #HarkMediaSession
 * @error: return location for a #GError
 *
 * Sets the pipeline playing. From NULL to PLAYING nothing waits for
 * data (the sources are live), so this returns quickly.
 *
 * Returns: %FALSE with @error set if the pipeline cannot start
 */
gboolean
hark_media_session_start (HarkMediaSession  *self,
                          GError           **error)
{
  g_return_val_if_fail (HARK_IS_MEDIA_SESSION (self), FALSE);

  if (self->stopping || self->pipeline == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE, "The media session has ended");
      return FALSE;
    }
  if (self->started)
    return TRUE;

  return session_set_playing (self, error);
}

static void
apply_direction (HarkMediaSession   *self,
                 HarkMediaDirection  direction)
{
  if (self->params.direction == direction)
    return;

  self->params.direction = direction;
  g_object_set (self->send_valve, "drop", !direction_sends (direction), NULL);
  g_object_set (self->recv_valve, "drop", !direction_receives (direction), NULL);
  if (!direction_sends (direction))
    dtmf_cancel (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIRECTION]);
}

/**
 * hark_media_session_update:
 * @self: a #HarkMediaSession
 * @params: the media after a new offer/answer (re-INVITE)
 * @error: return location for a #GError
 *
 * Applies a new direction (hold, resume) and a new remote address to the
 * running pipeline. A different codec or payload type cannot be switched
 * in place: that is %HARK_ERROR_NOT_SUPPORTED, and the caller replaces
 * the session.
 *
 * Returns: %FALSE with @error set if @params needs a new session
 */
gboolean
hark_media_session_update (HarkMediaSession       *self,
                           const HarkMediaParams  *params,
                           GError                **error)
{
  g_return_val_if_fail (HARK_IS_MEDIA_SESSION (self), FALSE);
  g_return_val_if_fail (params != NULL, FALSE);

  if (!check_params (params, error))
    return FALSE;

  if (find_codec (params->codec.name) != self->codec ||
      params->codec.payload_type != self->params.codec.payload_type ||
      (params->codec.clock_rate != 0 && params->codec.clock_rate != codec_clock_rate (self)) ||
      params->dtmf_payload_type != self->params.dtmf_payload_type ||
      g_strcmp0 (params->srtp_suite, self->params.srtp_suite) != 0 ||
      g_strcmp0 (params->srtp_local_key, self->params.srtp_local_key) != 0 ||
      g_strcmp0 (params->srtp_remote_key, self->params.srtp_remote_key) != 0)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED,
                   "The codec or the SRTP keys changed: the media session must be replaced");
      return FALSE;
    }

  if (g_strcmp0 (params->remote_address, self->params.remote_address) != 0 ||
      params->remote_rtp_port != self->params.remote_rtp_port ||
      remote_rtcp_port (params) != remote_rtcp_port (&self->params))
    {
      g_free (self->params.remote_address);
      self->params.remote_address = g_strdup (params->remote_address);
      self->params.remote_rtp_port = params->remote_rtp_port;
      self->params.remote_rtcp_port = params->remote_rtcp_port;
      g_object_set (self->rtp_sink, "host", params->remote_address,
                    "port", (int) params->remote_rtp_port, NULL);
      g_object_set (self->rtcp_sink, "host", params->remote_address,
                    "port", (int) remote_rtcp_port (params), NULL);
    }

  apply_direction (self, params->direction);
  return TRUE;
}

/**
 * hark_media_session_set_muted:
 * @self: a #HarkMediaSession
 * @muted: whether to send silence instead of the microphone
 */
void
hark_media_session_set_muted (HarkMediaSession *self,
                              gboolean          muted)
{
  g_return_if_fail (HARK_IS_MEDIA_SESSION (self));

  muted = !!muted;
  if (self->muted == muted)
    return;

  self->muted = muted;
  if (self->volume != NULL)
    g_object_set (self->volume, "mute", muted, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MUTED]);
}

gboolean
hark_media_session_get_muted (HarkMediaSession *self)
{
  g_return_val_if_fail (HARK_IS_MEDIA_SESSION (self), FALSE);

  return self->muted;
}

HarkMediaDirection
hark_media_session_get_direction (HarkMediaSession *self)
{
  g_return_val_if_fail (HARK_IS_MEDIA_SESSION (self), HARK_MEDIA_DIRECTION_INACTIVE);

  return self->params.direction;
}

/**
 * hark_media_session_get_codec:
 * @self: a #HarkMediaSession
 *
 * Returns: the codec name in canonical case ("PCMU", "G722", "opus", …)
 */
const char *
hark_media_session_get_codec (HarkMediaSession *self)
{
  g_return_val_if_fail (HARK_IS_MEDIA_SESSION (self), NULL);

  return self->codec->name;
}

/**
 * hark_media_session_get_encrypted:
 * @self: a #HarkMediaSession
 *
 * Returns: whether RTP and RTCP are SRTP
 */
gboolean
hark_media_session_get_encrypted (HarkMediaSession *self)
{
  g_return_val_if_fail (HARK_IS_MEDIA_SESSION (self), FALSE);

  return self->srtp_enc != NULL;
}

/**
 * hark_media_session_get_local_port:
 * @self: a #HarkMediaSession
 *
 * Returns: the local RTP port (RTCP is the next one)
 */
guint
hark_media_session_get_local_port (HarkMediaSession *self)
{
  g_return_val_if_fail (HARK_IS_MEDIA_SESSION (self), 0);

  return self->local_port;
}

/**
 * hark_media_session_query_decoded_latency:
 * @self: a started #HarkMediaSession
 *
 * Asks the receive path, up to the decoder's output, how long it holds
 * audio: the jitter buffer's latency plus the decoder's.
 *
 * Returns: the minimum latency, or %GST_CLOCK_TIME_NONE when the path
 *   does not answer (not running yet)
 */
GstClockTime
hark_media_session_query_decoded_latency (HarkMediaSession *self)
{
  g_autoptr(GstQuery) query = gst_query_new_latency ();
  g_autoptr(GstPad) src = NULL;
  GstClockTime min;

  g_return_val_if_fail (HARK_IS_MEDIA_SESSION (self), GST_CLOCK_TIME_NONE);

  src = gst_element_get_static_pad (self->decoder, "src");
  if (!gst_pad_query (src, query))
    return GST_CLOCK_TIME_NONE;
  gst_query_parse_latency (query, NULL, &min, NULL);
  return min;
}

/**
 * hark_media_session_send_dtmf:
 * @self: a #HarkMediaSession
 * @digits: 0-9, *, #, A-D; "," pauses for one second
 * @error: return location for a #GError
 *
 * Queues @digits as RFC 4733 telephone-events (250 ms each, 100 ms apart),
 * after any digits still being sent.
 *
 * Returns: %FALSE with @error set if @digits are invalid, telephone-event
 *   was not negotiated, or the stream does not send
 */
gboolean
hark_media_session_send_dtmf (HarkMediaSession  *self,
                              const char        *digits,
                              GError           **error)
{
  g_return_val_if_fail (HARK_IS_MEDIA_SESSION (self), FALSE);
  g_return_val_if_fail (digits != NULL, FALSE);

  if (*digits == '\0')
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT, "No DTMF digits to send");
      return FALSE;
    }
  for (const char *p = digits; *p != '\0'; p++)
    {
      if (*p != ',' && dtmf_char_to_event (*p) < 0)
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "“%c” is not a DTMF digit (0-9, *, #, A-D, and “,” to pause)", *p);
          return FALSE;
        }
    }
  if (self->dtmf_src == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED,
                   "The peer did not accept telephone-event (RFC 4733) for DTMF");
      return FALSE;
    }
  if (!self->started || self->stopping || !direction_sends (self->params.direction))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "No audio is being sent in this call now");
      return FALSE;
    }

  g_string_append (self->dtmf_queue, digits);
  if (self->dtmf_source_id == 0)
    dtmf_step_cb (self);
  return TRUE;
}

typedef struct {
  guint64 packets_sent;
  guint64 bytes_sent;
  guint64 packets_received;
  guint64 bytes_received;
  gint64  packets_lost;
  double  jitter_ms;
  double  rtt_ms;
  double  remote_fraction_lost;
  gint64  remote_packets_lost;
  gboolean have_rtt;
  guint64 peer_rtcp;   /* sums fields of the peer's last SR and RR */
} Stats;

static guint64
structure_get_count (const GstStructure *s,
                     const char         *field)
{
  const GValue *value = gst_structure_get_value (s, field);

  if (value == NULL)
    return 0;
  if (G_VALUE_HOLDS_UINT64 (value))
    return g_value_get_uint64 (value);
  if (G_VALUE_HOLDS_INT64 (value))
    return MAX (g_value_get_int64 (value), 0);
  if (G_VALUE_HOLDS_UINT (value))
    return g_value_get_uint (value);
  if (G_VALUE_HOLDS_INT (value))
    return MAX (g_value_get_int (value), 0);
  return 0;
}

static void
add_source_stats (Stats              *stats,
                  const GstStructure *source)
{
  gboolean internal = FALSE;
  gboolean have_rb = FALSE;
  guint64 clock_rate;

  gst_structure_get_boolean (source, "internal", &internal);

  if (internal)
    {
      stats->packets_sent += structure_get_count (source, "packets-sent");
      stats->bytes_sent += structure_get_count (source, "octets-sent");
      return;
    }

  stats->packets_received += structure_get_count (source, "packets-received");
  stats->bytes_received += structure_get_count (source, "octets-received");
  stats->peer_rtcp += structure_get_count (source, "sr-ntptime") +
                      structure_get_count (source, "rb-lsr") +
                      structure_get_count (source, "rb-dlsr");
  {
    int lost = 0;

    if (gst_structure_get_int (source, "packets-lost", &lost) && lost > 0)
      stats->packets_lost += lost;
  }
  clock_rate = structure_get_count (source, "clock-rate");
  if (clock_rate > 0)
    stats->jitter_ms = MAX (stats->jitter_ms,
                            structure_get_count (source, "jitter") * 1000.0 / clock_rate);

  /* The last report block this peer sent about our stream. */
  if (gst_structure_get_boolean (source, "have-rb", &have_rb) && have_rb)
    {
      guint fraction = 0;
      int lost = 0;
      guint rtt = 0;

      if (gst_structure_get_uint (source, "rb-fractionlost", &fraction))
        stats->remote_fraction_lost = MAX (stats->remote_fraction_lost, fraction / 256.0);
      if (gst_structure_get_int (source, "rb-packetslost", &lost) && lost > 0)
        stats->remote_packets_lost += lost;
      if (gst_structure_get_uint (source, "rb-round-trip", &rtt) && rtt > 0)
        {
          /* NTP short format: 16.16 seconds */
          stats->rtt_ms = rtt * 1000.0 / 65536.0;
          stats->have_rtt = TRUE;
        }
    }
}

static double
loss_percent (gint64  lost,
              guint64 received)
{
  double expected = (double) received + (double) MAX (lost, 0);

  return expected > 0 ? MAX (lost, 0) * 100.0 / expected : 0.0;
}

static void      collect_stats    (HarkMediaSession *self,
                                   Stats            *stats);
static GVariant *stats_to_variant (HarkMediaSession *self,
                                   const Stats      *stats);

/**
 * hark_media_session_get_stats:
 * @self: a #HarkMediaSession
 *
 * The call's RTP figures, read now from rtpbin's session (its own source
 * and the peer's): `packets-sent`, `bytes-sent`, `packets-received`,
 * `bytes-received` (t, payload bytes); `packets-lost` (x, expected minus
 * received on the incoming stream), `loss-percent` (d, the same as a
 * percentage of the packets expected), `jitter-ms` (d, RFC 3550
 * interarrival jitter of the incoming stream); `remote-packets-lost` (x)
 * and `remote-loss-percent` (d, the fraction lost over the last report
 * interval) from the peer's last RTCP report on our stream; `rtt-ms` (d,
 * round trip from that report, absent until a report with one came);
 * `playout-delay-ms` (u, how long the jitter buffer now waits for a late
 * packet: it starts at 10 ms and grows with late or lost packets and with
 * jitter, up to the jitter-buffer-latency setting); with Opus, `fec` (b,
 * whether the decoder uses in-band FEC, which it turns on at the first loss
 * and which holds one more packet); and `codec` (s). The
 * HarkMediaSession:stats property holds the same, sampled once a second.
 *
 * Returns: (transfer floating): an a{sv}
 */
GVariant *
hark_media_session_get_stats (HarkMediaSession *self)
{
  Stats stats;

  g_return_val_if_fail (HARK_IS_MEDIA_SESSION (self), NULL);

  collect_stats (self, &stats);
  return stats_to_variant (self, &stats);
}

static void
collect_stats (HarkMediaSession *self,
               Stats            *stats)
{
  g_autoptr(GObject) session = NULL;
  g_autoptr(GstStructure) structure = NULL;
  const GValue *sources;

  *stats = (Stats) { 0, };
  if (self->rtpbin != NULL)
    g_signal_emit_by_name (self->rtpbin, "get-internal-session", 0, &session);
  if (session != NULL)
    g_object_get (session, "stats", &structure, NULL);

  sources = structure ? gst_structure_get_value (structure, "source-stats") : NULL;
  /* A GValueArray, whose GType macro is deprecated even to look at. */
  if (sources != NULL && g_str_equal (G_VALUE_TYPE_NAME (sources), "GValueArray"))
    {
      G_GNUC_BEGIN_IGNORE_DEPRECATIONS
      GValueArray *array = g_value_get_boxed (sources);

      for (guint i = 0; array != NULL && i < array->n_values; i++)
        {
          const GValue *v = &array->values[i];

          if (GST_VALUE_HOLDS_STRUCTURE (v))
            add_source_stats (stats, gst_value_get_structure (v));
        }
      G_GNUC_END_IGNORE_DEPRECATIONS
    }
}

static GVariant *
stats_to_variant (HarkMediaSession *self,
                  const Stats      *stats)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  g_variant_builder_add (&builder, "{sv}", "codec", g_variant_new_string (self->codec->name));
  g_variant_builder_add (&builder, "{sv}", "packets-sent", g_variant_new_uint64 (stats->packets_sent));
  g_variant_builder_add (&builder, "{sv}", "bytes-sent", g_variant_new_uint64 (stats->bytes_sent));
  g_variant_builder_add (&builder, "{sv}", "packets-received",
                         g_variant_new_uint64 (stats->packets_received));
  g_variant_builder_add (&builder, "{sv}", "bytes-received",
                         g_variant_new_uint64 (stats->bytes_received));
  g_variant_builder_add (&builder, "{sv}", "packets-lost", g_variant_new_int64 (stats->packets_lost));
  g_variant_builder_add (&builder, "{sv}", "loss-percent",
                         g_variant_new_double (loss_percent (stats->packets_lost,
                                                             stats->packets_received)));
  g_variant_builder_add (&builder, "{sv}", "jitter-ms", g_variant_new_double (stats->jitter_ms));
  g_variant_builder_add (&builder, "{sv}", "remote-packets-lost",
                         g_variant_new_int64 (stats->remote_packets_lost));
  g_variant_builder_add (&builder, "{sv}", "remote-loss-percent",
                         g_variant_new_double (stats->remote_fraction_lost * 100.0));
  if (stats->have_rtt)
    g_variant_builder_add (&builder, "{sv}", "rtt-ms", g_variant_new_double (stats->rtt_ms));
  g_variant_builder_add (&builder, "{sv}", "playout-delay-ms",
                         g_variant_new_uint32 (hark_playout_get_delay_ms (self->playout)));
  if (g_str_equal (self->codec->name, "opus"))
    g_variant_builder_add (&builder, "{sv}", "fec",
                           g_variant_new_boolean (hark_playout_get_fec_active (self->playout)));

  return g_variant_builder_end (&builder);
}

/* Whether the peer is still there: a sendrecv stream with neither RTP nor
 * RTCP from it for rtp_timeout_ms. Held streams (either way) are not
 * timed: many phones send nothing while they hold. */
static void
check_peer_activity (HarkMediaSession *self,
                     const Stats      *stats)
{
  guint64 activity = stats->packets_received + stats->peer_rtcp;

  if (self->params.direction != HARK_MEDIA_DIRECTION_SENDRECV ||
      activity != self->peer_activity)
    {
      self->peer_activity = activity;
      self->peer_silent_ms = 0;
      return;
    }

  self->peer_silent_ms += STATS_INTERVAL_S * 1000;
  if (self->params.rtp_timeout_ms == 0 || self->rtp_timed_out ||
      self->peer_silent_ms < self->params.rtp_timeout_ms)
    return;

  self->rtp_timed_out = TRUE;
  g_message ("No RTP or RTCP from %s:%u for %u s", self->params.remote_address,
             self->params.remote_rtp_port, self->peer_silent_ms / 1000);
  g_signal_emit (self, signals[SIGNAL_RTP_TIMEOUT], 0);
}

/* The jitter buffer's latency follows the network: see HarkPlayout. */
static void
adapt_playout (HarkMediaSession *self,
               const Stats      *stats)
{
  g_autoptr(GstElement) jitterbuffer = g_weak_ref_get (&self->jitterbuffer);
  g_autoptr(GstStructure) counts = NULL;

  if (jitterbuffer == NULL)
    return;
  g_object_get (jitterbuffer, "stats", &counts, NULL);
  if (counts == NULL ||
      !hark_playout_update (self->playout, structure_get_count (counts, "num-lost"),
                            structure_get_count (counts, "num-late"), stats->jitter_ms))
    return;

  /* rtpbin hands it to every jitter buffer; the sinks then wait as long. */
  g_object_set (self->rtpbin, "latency", hark_playout_get_delay_ms (self->playout), NULL);
  gst_bin_recalculate_latency (GST_BIN (self->pipeline));
}

/* Once a second: the playout delay, MediaStats, and whether the peer is
 * still there. */
static void
stats_tick (HarkMediaSession *self)
{
  Stats stats;
  g_autoptr(GVariant) variant = NULL;

  collect_stats (self, &stats);
  adapt_playout (self, &stats);
  variant = g_variant_ref_sink (stats_to_variant (self, &stats));
  if (self->stats == NULL || !g_variant_equal (variant, self->stats))
    {
      g_clear_pointer (&self->stats, g_variant_unref);
      self->stats = g_steal_pointer (&variant);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATS]);
    }
  check_peer_activity (self, &stats);
}

static void
stop_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GstElement *pipeline = task_data;

  gst_element_set_state (pipeline, GST_STATE_NULL);
  /* The session may have released its own reference already: then this is
   * the last one, and finalizing the elements stays off the main thread. */
  gst_object_unref (pipeline);
  g_task_return_boolean (task, TRUE);
}

/* Back on the main thread. The worker's task does not hold the session, so
 * that once the caller's callback has run, no thread keeps it alive. */
static void
stop_done_cb (GObject      *source_object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  g_task_return_boolean (task, TRUE);
}

/**
 * hark_media_session_stop_async:
 * @self: a #HarkMediaSession
 * @cancellable: (nullable): a #GCancellable (the stop itself always completes)
 * @callback: called when the pipeline is down and the devices released
 * @user_data: data for @callback
 *
 * Stops sending and receiving at once, then takes the pipeline to NULL on
 * a worker thread: that state change waits for streaming threads and
 * devices, and must not stall the main loop. The sockets close when the
 * session is finalized.
 */
void
hark_media_session_stop_async (HarkMediaSession    *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) worker = NULL;

  g_return_if_fail (HARK_IS_MEDIA_SESSION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_media_session_stop_async);

  stop_bus_and_timers (self);
  if (self->stopping || self->pipeline == NULL)
    {
      self->stopping = TRUE;
      g_task_return_boolean (task, TRUE);
      return;
    }
  self->stopping = TRUE;

  worker = g_task_new (NULL, NULL, stop_done_cb, g_steal_pointer (&task));
  g_task_set_source_tag (worker, stop_in_thread);
  g_task_set_task_data (worker, gst_object_ref (self->pipeline), NULL);  /* the thread unrefs */
  g_task_run_in_thread (worker, stop_in_thread);
}

gboolean
hark_media_session_stop_finish (HarkMediaSession  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_return_val_if_fail (HARK_IS_MEDIA_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == hark_media_session_stop_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
