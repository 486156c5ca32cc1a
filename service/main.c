/* main.c — hark-daemon entry point
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <locale.h>
#include <sys/resource.h>
#include <unistd.h>

#include "hark-daemon.h"
#include "hark-sip-agent.h"
#include "media/hark-media-session.h"
#include "sip/hark-sip-sdp.h"

static gboolean
on_quit_signal (gpointer user_data)
{
  HarkDaemon *daemon = user_data;

  g_message ("Signal received, shutting down");
  hark_daemon_quit (daemon);
  return G_SOURCE_CONTINUE;
}

/* GLib before 2.76 hands small blocks out of GSlice magazines, which keep
 * every page they ever held: the GStreamer buffers, events and lists of
 * each call's pipeline left the daemon 15 MB or more bigger after a busy
 * spell, for good (bench/calls). GSlice reads G_SLICE while the libraries
 * load, before main(), so the daemon starts itself once more with it set;
 * it stays the same process. Newer GLib always uses malloc. */
static void
restart_without_gslice (char **argv)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (glib_check_version (2, 76, 0) == NULL || g_getenv ("G_SLICE") != NULL)
    return;

  /* The real path, not /proc/self/exe: the process is named after it. */
  path = g_file_read_link ("/proc/self/exe", &error);
  if (path != NULL)
    {
      int saved_errno;

      g_setenv ("G_SLICE", "always-malloc", TRUE);
      execv (path, argv);
      saved_errno = errno;
      g_unsetenv ("G_SLICE");
      g_set_error_literal (&error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                           g_strerror (saved_errno));
    }
  /* Only memory is at stake: carry on. */
  g_message ("Could not restart with G_SLICE=always-malloc: %s", error->message);
}

/* Every call holds a few dozen open files (sockets, GStreamer's poll and
 * wakeup descriptors, the sound server's streams). The soft limit is
 * often 1024, for the sake of select() users; nothing here uses select(),
 * so take the hard limit. Calls that would not fit are refused
 * (hark_media_has_room_for_call()). */
static void
raise_open_file_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max)
    return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
    g_debug ("Cannot raise the open-files limit: %s", g_strerror (errno));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(HarkDaemon) daemon = NULL;
  int status;
  g_autoptr(GError) error = NULL;
  gboolean replace = FALSE;
  gboolean version = FALSE;
  gboolean verbose = FALSE;
  GOptionEntry entries[] = {
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &replace,
      "Replace a running hark-daemon instead of failing", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      "Print debug messages (same as G_MESSAGES_DEBUG=Hark)", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      "Print the version and exit", NULL },
    { NULL }
  };

  restart_without_gslice (argv);
  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "The Hark SIP daemon. It owns io.github.hark.Hark.Daemon on the session bus\n"
    "and serves SIP profiles, registrations, calls and subscriptions as D-Bus\n"
    "objects under /io/github/hark/Hark.");
  g_option_context_set_description (context,
    "Profiles are kept in $XDG_CONFIG_HOME/hark/profiles.conf, passwords in the\n"
    "Secret Service. The built-in \"local\" profile listens on SIP port 5060 (or a\n"
    "free port when that is taken); HARK_LOCAL_SIP_PORT=N picks another, 0 any.\n"
    "Calls take their audio devices, jitter buffer and echo cancellation from\n"
    "the GSettings schema io.github.hark.Hark (audio-source, audio-sink,\n"
    "jitter-buffer-latency, echo-cancellation, rtp-timeout; defaults when it\n"
    "is not installed). The jitter buffer starts at 10 ms and grows up to\n"
    "jitter-buffer-latency when packets come late or get lost.\n"
    "HARK_AUDIO_SOURCE and HARK_AUDIO_SINK, when not empty, take gst-launch\n"
    "descriptions that replace the audio devices (echo cancellation is then\n"
    "off); HARK_RTP_TIMEOUT_MS=N hangs up answered calls after N ms without\n"
    "RTP or RTCP from the peer (0 never; default 30 s).\n"
    "The open-files limit is raised to its hard limit; each call's audio\n"
    "counts for 32 files of it, and incoming calls beyond that get 503.\n"
    "Codecs whose GStreamer plugins are missing are not offered\n"
    "(the log names the Debian package). Try:\n"
    "  busctl --user tree io.github.hark.Hark.Daemon\n"
    "  gdbus introspect --session --dest io.github.hark.Hark.Daemon "
    "--object-path /io/github/hark/Hark\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("hark-daemon: %s\n", error->message);
      g_printerr ("Run “hark-daemon --help” to see the options.\n");
      return 2;
    }

  if (version)
    {
      g_print ("hark-daemon %s\n", PACKAGE_VERSION);
      return 0;
    }

  if (verbose)
    g_log_set_debug_enabled (TRUE);

  raise_open_file_limit ();

  /* Each call's pipeline runs about six streaming threads from GLib's
   * shared pool, which by default keeps only two idle ones: at tens of
   * calls a second, most of them would be created and joined anew. Idle
   * threads still end after the pool's idle time (15 s). */
  g_thread_pool_set_max_unused_threads (64);

  /* Codecs whose GStreamer elements are missing are left out of our SDP. */
  hark_sip_sdp_set_codec_filter (hark_media_codec_is_offered);
  daemon = hark_daemon_new (replace);
  g_unix_signal_add (SIGTERM, on_quit_signal, daemon);
  g_unix_signal_add (SIGINT, on_quit_signal, daemon);

  status = hark_daemon_run (daemon);

  /* Objects that use the Sofia root must be gone before it is. */
  g_clear_object (&daemon);
  hark_sip_root_shutdown ();

  return status;
}
