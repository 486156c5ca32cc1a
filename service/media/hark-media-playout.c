/* hark-media-playout.c — how long a call's receive path holds audio
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "hark-media-playout.h"

/* RFC 3550's jitter is a smoothed mean deviation; four of it covers nearly
 * every packet (the classic d + 4v playout estimate). */
#define JITTER_FACTOR   4.0
#define DELAY_GRAIN_MS  5

/* How far decoded audio may stray from the jitter buffer's timeline before
 * it is marked as a discontinuity (see keep_to_timeline()). */
#define TIMELINE_SLACK (5 * GST_MSECOND)

/* opusdec in GStreamer 1.22 reports 120 ms, the longest Opus packet, as its
 * latency once in-band FEC is on, where it really holds one packet. */
#define OPUSDEC_FEC_LATENCY (120 * GST_MSECOND)

struct _HarkPlayout
{
  guint    bound_ms;
  guint    packet_ms;

  /* The main thread's, from hark_playout_update(). */
  guint    delay_ms;
  gboolean have_baseline;
  guint64  trouble;

  /* Set on the main thread, applied on the decoder's streaming thread. */
  gint     fec_wanted;
  gint     fec_active;
};

/**
 * hark_playout_new:
 * @bound_ms: the longest playout delay (the jitter-buffer-latency setting)
 * @packet_ms: the stream's packet duration (ptime)
 *
 * Returns: (transfer full): a playout delay of HARK_PLAYOUT_START_MS, or
 *   @bound_ms when that is shorter
 */
HarkPlayout *
hark_playout_new (guint bound_ms,
                  guint packet_ms)
{
  HarkPlayout *self = g_atomic_rc_box_new0 (HarkPlayout);

  self->bound_ms = bound_ms;
  self->packet_ms = packet_ms != 0 ? packet_ms : 20;
  self->delay_ms = MIN (HARK_PLAYOUT_START_MS, bound_ms);
  return self;
}

HarkPlayout *
hark_playout_ref (HarkPlayout *self)
{
  return g_atomic_rc_box_acquire (self);
}

void
hark_playout_unref (HarkPlayout *self)
{
  g_atomic_rc_box_release (self);
}

static void
playout_unref_notify (gpointer data)
{
  hark_playout_unref (data);
}

/* The jitter buffer's latency, in ms: what it waits for a late packet. */
guint
hark_playout_get_delay_ms (HarkPlayout *self)
{
  return self->delay_ms;
}

/* Whether the Opus decoder now holds each packet for its FEC copy. */
gboolean
hark_playout_get_fec_active (HarkPlayout *self)
{
  return g_atomic_int_get (&self->fec_active);
}

/* @ms is at most a few seconds of jitter, clamped below by the caller. */
static guint
round_up_to_grain (double ms)
{
  guint whole = (guint) MIN (ms, 60000.0);

  if (whole < ms)
    whole++;
  return (whole + DELAY_GRAIN_MS - 1) / DELAY_GRAIN_MS * DELAY_GRAIN_MS;
}

/**
 * hark_playout_update:
 * @lost: packets the jitter buffer gave up on, since the stream began
 * @late: packets that came after it had, since the stream began
 * @jitter_ms: the RFC 3550 interarrival jitter of the stream
 *
 * Takes the jitter buffer's latest counts (about once a second). The first
 * call only notes them and does not act: a stream's first packets come
 * while both pipelines are still starting. Counts lower than the last ones
 * are a new stream's (the peer changed its SSRC): they are noted the same.
 *
 * Returns: %TRUE when the playout delay grew and the jitter buffer should
 *   take hark_playout_get_delay_ms()
 */
gboolean
hark_playout_update (HarkPlayout *self,
                     guint64      lost,
                     guint64      late,
                     double       jitter_ms)
{
  guint64 trouble = lost + late;
  guint wanted = self->delay_ms;

  if (!self->have_baseline || trouble < self->trouble)
    {
      self->have_baseline = TRUE;
      self->trouble = trouble;
      return FALSE;
    }

  if (trouble > self->trouble)
    {
      wanted += self->packet_ms;
      g_atomic_int_set (&self->fec_wanted, TRUE);
    }
  self->trouble = trouble;

  wanted = MAX (wanted, round_up_to_grain (JITTER_FACTOR * MAX (jitter_ms, 0.0)));
  wanted = MIN (wanted, self->bound_ms);
  if (wanted <= self->delay_ms)
    return FALSE;

  g_debug ("Playout delay %u → %u ms (jitter %.1f ms, %" G_GUINT64_FORMAT " lost, %"
           G_GUINT64_FORMAT " late)", self->delay_ms, wanted, jitter_ms, lost, late);
  self->delay_ms = wanted;
  return TRUE;
}

/* On the decoder's sink pad, in its streaming thread: opusdec reads
 * use-inband-fec while it decodes, so it is only changed between buffers. */
static GstPadProbeReturn
turn_fec_on_when_wanted (GstPad          *pad,
                         GstPadProbeInfo *info,
                         gpointer         user_data)
{
  HarkPlayout *self = user_data;
  g_autoptr(GstElement) decoder = NULL;

  if (!g_atomic_int_get (&self->fec_wanted))
    return GST_PAD_PROBE_OK;

  decoder = gst_pad_get_parent_element (pad);
  if (decoder == NULL)
    return GST_PAD_PROBE_OK;
  g_object_set (decoder, "use-inband-fec", TRUE, NULL);
  g_atomic_int_set (&self->fec_active, TRUE);
  g_debug ("Opus in-band FEC on after the first lost packet");
  /* Sinks must now allow for the packet it holds. */
  gst_element_post_message (decoder, gst_message_new_latency (GST_OBJECT (decoder)));
  return GST_PAD_PROBE_REMOVE;
}

/* On the decoder's source pad: what it really holds, whatever it claims. */
static GstPadProbeReturn
report_opus_latency (GstPad          *pad,
                     GstPadProbeInfo *info,
                     gpointer         user_data)
{
  HarkPlayout *self = user_data;
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  GstClockTime min, max;
  gboolean live;

  /* PULL: on the way back, once opusdec has added its own. */
  if (GST_QUERY_TYPE (query) != GST_QUERY_LATENCY ||
      (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_PULL) == 0)
    return GST_PAD_PROBE_OK;

  gst_query_parse_latency (query, &live, &min, &max);
  if (min >= OPUSDEC_FEC_LATENCY)
    min -= OPUSDEC_FEC_LATENCY;
  if (g_atomic_int_get (&self->fec_active))
    min += self->packet_ms * GST_MSECOND;
  gst_query_set_latency (query, live, min, max);
  return GST_PAD_PROBE_OK;
}

/* Where the audio would be if every buffer followed the last one exactly:
 * the count that audioresample and the sinks keep. */
typedef struct {
  GstClockTime next_pts;
} Timeline;

/* On the decoder's source pad. The jitter buffer corrects its timeline as
 * it learns the stream's real transit (a stream's first packets often come
 * late, in a burst) or when it resynchronises on a late packet. audioresample
 * ignores timestamps that stray less than 1/32 s from its own count, and
 * audio sinks less than 40 ms, so without a discontinuity such a correction
 * never reaches the loudspeaker: the call would play up to 31 ms later than
 * its buffer says, for its whole length. */
static GstPadProbeReturn
keep_to_timeline (GstPad          *pad,
                  GstPadProbeInfo *info,
                  gpointer         user_data)
{
  Timeline *timeline = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return GST_PAD_PROBE_OK;

  if (!GST_CLOCK_TIME_IS_VALID (timeline->next_pts) ||
      GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DISCONT))
    timeline->next_pts = pts;
  else if (pts > timeline->next_pts + TIMELINE_SLACK ||
           pts + TIMELINE_SLACK < timeline->next_pts)
    {
      GST_LOG_OBJECT (pad, "timeline moved by %" GST_STIME_FORMAT ": discontinuity",
                      GST_STIME_ARGS (GST_CLOCK_DIFF (timeline->next_pts, pts)));
      buffer = gst_buffer_make_writable (buffer);
      GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
      GST_PAD_PROBE_INFO_DATA (info) = buffer;
      timeline->next_pts = pts;
    }
  /* Without a duration there is no count to keep: start again from the next. */
  timeline->next_pts = GST_BUFFER_DURATION_IS_VALID (buffer) ?
                       timeline->next_pts + GST_BUFFER_DURATION (buffer) : GST_CLOCK_TIME_NONE;
  return GST_PAD_PROBE_OK;
}

/**
 * hark_playout_attach_decoder:
 * @decoder: the receive path's decoder, before its pipeline starts
 *
 * Makes the audio after @decoder follow the jitter buffer's timeline.
 */
void
hark_playout_attach_decoder (HarkPlayout *self,
                             GstElement  *decoder)
{
  g_autoptr(GstPad) src = gst_element_get_static_pad (decoder, "src");
  Timeline *timeline = g_new0 (Timeline, 1);

  timeline->next_pts = GST_CLOCK_TIME_NONE;
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, keep_to_timeline, timeline, g_free);
}

/**
 * hark_playout_attach_opus_decoder:
 * @decoder: an opusdec, before its pipeline starts
 *
 * Starts @decoder with packet-loss concealment and without in-band FEC,
 * turns FEC on at the first loss hark_playout_update() sees, and makes the
 * decoder's latency say what it holds.
 */
void
hark_playout_attach_opus_decoder (HarkPlayout *self,
                                  GstElement  *decoder)
{
  g_autoptr(GstPad) sink = gst_element_get_static_pad (decoder, "sink");
  g_autoptr(GstPad) src = gst_element_get_static_pad (decoder, "src");

  g_object_set (decoder, "use-inband-fec", FALSE, "plc", TRUE, NULL);
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                     turn_fec_on_when_wanted, hark_playout_ref (self), playout_unref_notify);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM | GST_PAD_PROBE_TYPE_PULL,
                     report_opus_latency, hark_playout_ref (self), playout_unref_notify);
}
