/* pipeline-floor.c — what one GStreamer pipeline per call costs by itself
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The floor under bench/calls' figure for Hark: call ends with nothing but
 * the media pipeline that issue 4 prescribes (one per call, built when the
 * call starts and torn down with it), and no SIP, D-Bus or Hark around it.
 * Each pipeline is the least such a pipeline holds: rtpbin with its jitter
 * buffer, udpsrc and udpsink for RTP and RTCP on shared sockets, the PCMU
 * encoder and payloader fed by a live silent audiotestsrc, and the
 * depayloader and decoder into a fakesink, as bench/calls runs Hark.
 * Pipelines come in pairs that send to each other, so each carries a
 * call's packets both ways: 50 a second out, 50 in.
 *
 * Call ends start at a steady rate, in pairs. As in hark-daemon, each pair
 * is built and started on a worker thread, and stopped there after the
 * call's time; GLib's pool keeps 64 idle threads. The CPU time of the
 * whole process (getrusage) over the measured call ends, divided by their
 * number, is printed with the RSS, after warm-up calls that load the
 * plugins.
 *
 *   pipeline-floor [--calls N] [--rate R] [--seconds S] [--warmup W]
 *
 * N call ends (pipelines) at R a second, as many at once as hark-daemon
 * runs at R calls a second. Prints one line:
 * "calls N cpu-ms-per-call X rss-kb Y packets-in-per-call P", P the RTP
 * packets that reached a depayloader (about 50 in 1 s).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <gio/gio.h>
#include <gst/gst.h>

/* RTP packets that reached a depayloader, all calls: proof that the
 * audio went round */
static gint packets_in;

typedef struct {
  guint      to_start;      /* pairs not started yet */
  guint      running;       /* pairs started, not yet stopped */
  guint      failed;
  guint      seconds;
  GMainLoop *loop;
} Run;

/* One end of a call: what hark-daemon runs for each call */
typedef struct {
  GstElement *pipeline;
  GSocket    *rtp;
  GSocket    *rtcp;
  guint16     rtp_port;
  guint16     rtcp_port;
  GstElement *depayloader;
} Side;

/* Two ends, each sending to the other: rtpbin drops packets that come back
 * with its own SSRC, so a pipeline cannot talk to itself. */
typedef struct {
  Run  *run;
  Side  side[2];
} Call;

static void
call_free (Call *call)
{
  for (guint i = 0; i < G_N_ELEMENTS (call->side); i++)
    {
      g_clear_object (&call->side[i].pipeline);
      g_clear_object (&call->side[i].rtp);
      g_clear_object (&call->side[i].rtcp);
    }
  g_free (call);
}

static GSocket *
bind_loopback (guint16  *port,
               GError  **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL || !g_socket_bind (socket, any_port, FALSE, error))
    return NULL;
  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return NULL;
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return g_steal_pointer (&socket);
}

static GstElement *
add (GstElement *pipeline,
     const char *factory)
{
  GstElement *element = gst_element_factory_make (factory, NULL);

  if (element == NULL)
    {
      g_printerr ("pipeline-floor: the GStreamer element “%s” is missing\n", factory);
      exit (2);
    }
  gst_bin_add (GST_BIN (pipeline), element);
  return element;
}

static void
on_rtpbin_pad_added (GstElement *rtpbin,
                     GstPad     *pad,
                     Side       *side)
{
  g_autoptr(GstPad) sink = NULL;

  if (!g_str_has_prefix (GST_PAD_NAME (pad), "recv_rtp_src_"))
    return;
  sink = gst_element_get_static_pad (side->depayloader, "sink");
  if (!gst_pad_is_linked (sink))
    gst_pad_link (pad, sink);
}

static GstPadProbeReturn
count_packet (GstPad          *pad,
              GstPadProbeInfo *info,
              gpointer         user_data)
{
  g_atomic_int_inc (&packets_in);
  return GST_PAD_PROBE_OK;
}

static GstElement *
make_udpsrc (GstElement *pipeline,
             GSocket    *socket,
             const char *caps_text)
{
  GstElement *src = add (pipeline, "udpsrc");
  g_autoptr(GstCaps) caps = gst_caps_from_string (caps_text);

  g_object_set (src, "socket", socket, "close-socket", FALSE, "caps", caps, NULL);
  return src;
}

static GstElement *
make_udpsink (GstElement *pipeline,
              GSocket    *socket,
              guint16     port)
{
  GstElement *sink = add (pipeline, "udpsink");

  g_object_set (sink, "socket", socket, "close-socket", FALSE, "host", "127.0.0.1",
                "port", (int) port, "sync", FALSE, "async", FALSE, NULL);
  return sink;
}

static gboolean
build_side (Side       *side,
            const Side *peer,
            GError    **error)
{
  GstElement *p, *rtpbin, *rtp_src, *rtcp_src, *rtp_sink, *rtcp_sink;
  GstElement *source, *convert, *resample, *filter, *encoder, *payloader;
  GstElement *decoder, *convert2, *resample2, *fakesink;
  g_autoptr(GstCaps) raw = NULL;

  p = side->pipeline = gst_object_ref_sink (gst_pipeline_new (NULL));
  rtpbin = add (p, "rtpbin");
  g_object_set (rtpbin, "latency", 40, NULL);
  g_signal_connect (rtpbin, "pad-added", G_CALLBACK (on_rtpbin_pad_added), side);

  rtp_src = make_udpsrc (p, side->rtp,
                         "application/x-rtp,media=audio,clock-rate=8000,"
                         "encoding-name=PCMU,payload=0");
  rtcp_src = make_udpsrc (p, side->rtcp, "application/x-rtcp");
  rtp_sink = make_udpsink (p, side->rtp, peer->rtp_port);
  rtcp_sink = make_udpsink (p, side->rtcp, peer->rtcp_port);

  source = add (p, "audiotestsrc");
  g_object_set (source, "is-live", TRUE, NULL);
  gst_util_set_object_arg (G_OBJECT (source), "wave", "silence");
  convert = add (p, "audioconvert");
  resample = add (p, "audioresample");
  filter = add (p, "capsfilter");
  raw = gst_caps_from_string ("audio/x-raw,format=S16LE,layout=interleaved,rate=8000,channels=1");
  g_object_set (filter, "caps", raw, NULL);
  encoder = add (p, "mulawenc");
  payloader = add (p, "rtppcmupay");
  g_object_set (payloader, "min-ptime", (gint64) 20 * GST_MSECOND,
                "max-ptime", (gint64) 20 * GST_MSECOND, NULL);

  side->depayloader = add (p, "rtppcmudepay");
  {
    g_autoptr(GstPad) pad = gst_element_get_static_pad (side->depayloader, "sink");

    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_packet, NULL, NULL);
  }
  decoder = add (p, "mulawdec");
  convert2 = add (p, "audioconvert");
  resample2 = add (p, "audioresample");
  fakesink = add (p, "fakesink");
  g_object_set (fakesink, "sync", FALSE, NULL);

  /* rtpbin makes send_rtp_src_0 with send_rtp_sink_0: that one first */
  if (!gst_element_link_many (source, convert, resample, filter, encoder, payloader, NULL) ||
      !gst_element_link_pads (payloader, "src", rtpbin, "send_rtp_sink_0") ||
      !gst_element_link_pads (rtp_src, "src", rtpbin, "recv_rtp_sink_0") ||
      !gst_element_link_pads (rtcp_src, "src", rtpbin, "recv_rtcp_sink_0") ||
      !gst_element_link_pads (rtpbin, "send_rtp_src_0", rtp_sink, "sink") ||
      !gst_element_link_pads (rtpbin, "send_rtcp_src_0", rtcp_sink, "sink") ||
      !gst_element_link_many (side->depayloader, decoder, convert2, resample2, fakesink, NULL))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot link the pipeline");
      return FALSE;
    }
  return TRUE;
}

static gboolean
build (Call    *call,
       GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (call->side); i++)
    {
      Side *side = &call->side[i];

      if ((side->rtp = bind_loopback (&side->rtp_port, error)) == NULL ||
          (side->rtcp = bind_loopback (&side->rtcp_port, error)) == NULL)
        return FALSE;
    }
  return build_side (&call->side[0], &call->side[1], error) &&
         build_side (&call->side[1], &call->side[0], error);
}

static gboolean
set_state (Call     *call,
           GstState  state)
{
  gboolean ok = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (call->side); i++)
    if (call->side[i].pipeline != NULL &&
        gst_element_set_state (call->side[i].pipeline, state) == GST_STATE_CHANGE_FAILURE)
      ok = FALSE;
  return ok;
}

static void
start_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  Call *call = task_data;
  GError *error = NULL;

  if (!build (call, &error) || !set_state (call, GST_STATE_PLAYING))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                               error ? error->message : "cannot start the pipeline");
      g_clear_error (&error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
stop_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Call *call = task_data;

  set_state (call, GST_STATE_NULL);
  for (guint i = 0; i < G_N_ELEMENTS (call->side); i++)
    g_clear_object (&call->side[i].pipeline);
  g_task_return_boolean (task, TRUE);
}

static void
stopped_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Run *run = user_data;

  run->running--;
  if (run->to_start == 0 && run->running == 0)
    g_main_loop_quit (run->loop);
}

static gboolean
hang_up_cb (gpointer user_data)
{
  Call *call = user_data;
  g_autoptr(GTask) task = g_task_new (NULL, NULL, stopped_cb, call->run);

  g_task_set_task_data (task, call, (GDestroyNotify) call_free);
  g_task_run_in_thread (task, stop_in_thread);
  return G_SOURCE_REMOVE;
}

static void
started_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Run *run = user_data;
  Call *call = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_printerr ("pipeline-floor: %s\n", error->message);
      run->failed++;
    }
  g_timeout_add (run->seconds * 1000, hang_up_cb, call);
}

static gboolean
start_call_cb (gpointer user_data)
{
  Run *run = user_data;
  Call *call;
  g_autoptr(GTask) task = NULL;

  run->to_start--;
  run->running++;

  call = g_new0 (Call, 1);
  call->run = run;
  task = g_task_new (NULL, NULL, started_cb, run);
  /* The hang-up's task frees it */
  g_task_set_task_data (task, call, NULL);
  g_task_run_in_thread (task, start_in_thread);
  return run->to_start > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* @ends call ends (pipelines) at @rate a second: pairs of them at half
 * the rate, so that the process runs as many pipelines at once as
 * hark-daemon does at @rate calls a second */
static void
run_calls (guint  ends,
           guint  rate,
           guint  seconds,
           guint *failed)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Run run = { (ends + 1) / 2, 0, 0, seconds, loop };

  if (run.to_start == 0)
    return;
  g_timeout_add (MAX (2000 / rate, 1), start_call_cb, &run);
  g_main_loop_run (loop);
  *failed += run.failed;
}

static double
cpu_ms (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

static long
rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "VmRSS:")) == NULL)
    return 0;
  return strtol (line + strlen ("VmRSS:"), NULL, 10);
}

int
main (int   argc,
      char *argv[])
{
  int calls = 1000, rate = 50, seconds = 1, warmup = 20;
  GOptionEntry entries[] = {
    { "calls", 0, 0, G_OPTION_ARG_INT, &calls, "Call ends (pipelines) to measure (1000)", "N" },
    { "rate", 0, 0, G_OPTION_ARG_INT, &rate, "Call ends started per second (50)", "R" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Length of each call (1)", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Calls before measuring (20)", "W" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  guint failed = 0;
  double before;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      calls < 1 || rate < 2 || rate > 1000 || seconds < 1 || warmup < 0)
    {
      g_printerr ("pipeline-floor: %s\n", error ? error->message : "bad option value");
      return 2;
    }
  g_thread_pool_set_max_unused_threads (64);

  run_calls (warmup, 10, seconds, &failed);
  before = cpu_ms ();
  g_atomic_int_set (&packets_in, 0);
  run_calls (calls, rate, seconds, &failed);
  if (failed > 0)
    {
      g_printerr ("pipeline-floor: %u calls failed\n", failed);
      return 1;
    }
  calls += calls % 2;
  g_print ("calls %d cpu-ms-per-call %.2f rss-kb %ld packets-in-per-call %.1f\n", calls,
           (cpu_ms () - before) / calls, rss_kb (),
           (double) g_atomic_int_get (&packets_in) / calls);
  return 0;
}
