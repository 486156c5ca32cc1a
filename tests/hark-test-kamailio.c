/* hark-test-kamailio.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "hark-test-bus.h"
#include "hark-test-kamailio.h"

#ifndef HARK_TEST_SRCDIR
# error "HARK_TEST_SRCDIR must name the tests/ source directory"
#endif

#define KAMAILIO "kamailio"
#define KAMCMD "kamcmd"
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000

struct _HarkTestKamailio
{
  HarkTestKamailioOptions options;
  char        *password;
  char        *algorithm;

  char        *tmpdir;
  char        *cfg_path;
  char        *ctl_socket;
  char        *log_path;
  char        *ca_file;
  char        *other_ca_file;

  guint        port;       /* UDP and TCP */
  guint        tls_port;

  GSubprocess *process;
  gboolean     exited;
};

static double
timeout_scale (void)
{
  const char *env = g_getenv ("HARK_TEST_TIMEOUT_SCALE");
  double scale = env != NULL ? g_ascii_strtod (env, NULL) : 1.0;

  return scale >= 1.0 ? scale : 1.0;
}

static char *
log_tail (HarkTestKamailio *self)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (self->log_path, &contents, &len, NULL))
    return g_strdup ("(no log)");

  return g_strdup (len > 3000 ? contents + len - 3000 : contents);
}

/* A port free for both UDP and TCP on 127.0.0.1: Kamailio listens on the
 * same number for both, as registrars usually do. */
static guint
pick_port (gboolean   need_udp,
           GError   **error)
{
  for (guint attempt = 0; attempt < 50; attempt++)
    {
      g_autoptr(GSocket) tcp = NULL;
      g_autoptr(GSocket) udp = NULL;
      g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
      g_autoptr(GSocketAddress) bound = NULL;
      g_autoptr(GSocketAddress) same = NULL;
      guint port;

      tcp = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
      if (tcp == NULL || !g_socket_bind (tcp, any_port, FALSE, error))
        return 0;
      bound = g_socket_get_local_address (tcp, error);
      if (bound == NULL)
        return 0;
      port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

      if (!need_udp)
        return port;

      udp = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
                          error);
      if (udp == NULL)
        return 0;
      same = g_inet_socket_address_new (loopback, port);
      if (g_socket_bind (udp, same, FALSE, NULL))
        return port;
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "No port free for both UDP and TCP");
  return 0;
}

static gboolean
run_sync (const char * const  *argv,
          const char          *cwd,
          char               **out,
          GError             **error)
{
  g_autofree char *stdout_buf = NULL;
  g_autofree char *stderr_buf = NULL;
  int status = 0;

  if (!g_spawn_sync (cwd, (char **) argv, NULL, G_SPAWN_SEARCH_PATH,
                     NULL, NULL, &stdout_buf, &stderr_buf, &status, error))
    return FALSE;

  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s%s",
                   argv[0], stderr_buf ? stderr_buf : "", stdout_buf ? stdout_buf : "");
      return FALSE;
    }

  if (out != NULL)
    *out = g_steal_pointer (&stdout_buf);

  return TRUE;
}

/* A CA and a certificate for IP 127.0.0.1 signed by it, plus an unrelated
 * CA for "unknown CA" tests, with the openssl CLI. RSA: what Sofia's TLS
 * has been checked with. */
static gboolean
make_certificates (HarkTestKamailio  *self,
                   GError           **error)
{
  const char *dir = self->tmpdir;
  const char * const ca[] = {
    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
    "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Hark Test CA",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL
  };
  const char * const other_ca[] = {
    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
    "-keyout", "other-ca.key", "-out", "other-ca.pem", "-subj", "/CN=Unrelated Test CA",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL
  };
  const char * const csr[] = {
    "openssl", "req", "-newkey", "rsa:2048", "-nodes",
    "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", NULL
  };
  const char * const sign[] = {
    "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
    "-CAcreateserial", "-days", "2", "-out", "server.pem", "-extfile", "server.ext", NULL
  };
  g_autofree char *ext_path = g_build_filename (dir, "server.ext", NULL);
  const char *ext =
    "subjectAltName=IP:127.0.0.1\n"
    "basicConstraints=CA:FALSE\n"
    "keyUsage=digitalSignature,keyEncipherment\n"
    "extendedKeyUsage=serverAuth\n";

  if (!g_file_set_contents (ext_path, ext, -1, error))
    return FALSE;

  if (!run_sync (ca, dir, NULL, error) ||
      !run_sync (other_ca, dir, NULL, error) ||
      !run_sync (csr, dir, NULL, error) ||
      !run_sync (sign, dir, NULL, error))
    return FALSE;

  self->ca_file = g_build_filename (dir, "ca.pem", NULL);
  self->other_ca_file = g_build_filename (dir, "other-ca.pem", NULL);

  return TRUE;
}

static gboolean
write_tls_config (HarkTestKamailio  *self,
                  const char        *path,
                  GError           **error)
{
  g_autofree char *contents = NULL;

  contents = g_strdup_printf ("[server:default]\n"
                              "method = TLSv1.2+\n"
                              "verify_certificate = no\n"
                              "require_certificate = no\n"
                              "private_key = %s/server.key\n"
                              "certificate = %s/server.pem\n"
                              "\n"
                              "[client:default]\n"
                              "method = TLSv1.2+\n"
                              "verify_certificate = no\n"
                              "require_certificate = no\n",
                              self->tmpdir, self->tmpdir);

  return g_file_set_contents (path, contents, -1, error);
}

static gboolean
write_config (HarkTestKamailio  *self,
              GError           **error)
{
  g_autofree char *template_path = NULL;
  g_autofree char *template = NULL;
  g_autofree char *tls_config = g_build_filename (self->tmpdir, "tls.cfg", NULL);
  g_autofree char *max_expires = NULL;
  g_autofree char *min_expires = NULL;
  g_autofree char *mwi_notifier_port = NULL;
  g_autoptr(GString) cfg = NULL;

  template_path = g_build_filename (HARK_TEST_SRCDIR, "kamailio", "registrar.cfg", NULL);
  if (!g_file_get_contents (template_path, &template, NULL, error))
    return FALSE;

  if (self->options.tls && !write_tls_config (self, tls_config, error))
    return FALSE;

  max_expires = g_strdup_printf ("%u", self->options.max_expires ? self->options.max_expires : 3600);
  min_expires = g_strdup_printf ("%u", self->options.min_expires);

  cfg = g_string_new (template);
  g_string_replace (cfg, "@PASSWORD@", self->password, 0);
  g_string_replace (cfg, "@ALGORITHM@", self->algorithm, 0);
  g_string_replace (cfg, "@QOP_FLAGS@", self->options.no_qop ? "0" : "1", 0);
  g_string_replace (cfg, "@CTL_SOCKET@", self->ctl_socket, 0);
  g_string_replace (cfg, "@TLS_CONFIG@", tls_config, 0);
  g_string_replace (cfg, "@MAX_EXPIRES@", max_expires, 0);
  g_string_replace (cfg, "@MIN_EXPIRES@", min_expires, 0);
  g_string_replace (cfg, "@ONE_TIME_NONCE@", self->options.one_time_nonce ? "1" : "0", 0);
  mwi_notifier_port = g_strdup_printf ("%u", self->options.mwi_notifier_port);
  g_string_replace (cfg, "@MWI_NOTIFIER_PORT@", mwi_notifier_port, 0);

  return g_file_set_contents (self->cfg_path, cfg->str, cfg->len, error);
}

/* Waits for @process with a private main context, so that the caller's
 * sources (Sofia's among them) do not run in the middle of a test step. */
static void
wait_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *done = TRUE;
}

static gboolean
timeout_flag_cb (gpointer user_data)
{
  gboolean *flag = user_data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
wait_for_exit (GSubprocess *process,
               guint        timeout_ms,
               gboolean     kill_on_timeout)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSource) timeout = g_timeout_source_new (timeout_ms);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gboolean done = FALSE;
  gboolean timed_out = FALSE;

  g_main_context_push_thread_default (context);

  g_source_set_callback (timeout, timeout_flag_cb, &timed_out, NULL);
  g_source_attach (timeout, context);
  g_subprocess_wait_async (process, cancellable, wait_cb, &done);

  while (!done && !timed_out)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (timeout);

  if (!done)
    {
      /* the pending wait must finish before its context goes away */
      if (kill_on_timeout)
        g_subprocess_force_exit (process);
      else
        g_cancellable_cancel (cancellable);
      while (!done)
        g_main_context_iteration (context, TRUE);
    }

  g_main_context_pop_thread_default (context);

  /* TRUE if it exited by itself in time */
  return !timed_out;
}

char *
hark_test_kamailio_rpc (HarkTestKamailio  *self,
                        const char        *command,
                        GError           **error)
{
  g_autofree char *socket = g_strdup_printf ("unix:%s", self->ctl_socket);
  const char * const argv[] = { KAMCMD, "-s", socket, command, NULL };
  char *out = NULL;

  if (!run_sync (argv, self->tmpdir, &out, error))
    return NULL;

  return out;
}

/**
 * hark_test_kamailio_add_binding:
 * @user: the AOR's user part
 * @contact: a SIP URI
 *
 * Binds @contact to @user in the location table as a REGISTER would (RPC
 * ul.add), for peers that do not register themselves: several bindings of
 * one user make Kamailio fork INVITEs to every one of them.
 */
gboolean
hark_test_kamailio_add_binding (HarkTestKamailio  *self,
                                const char        *user,
                                const char        *contact,
                                GError           **error)
{
  g_autofree char *socket = g_strdup_printf ("unix:%s", self->ctl_socket);
  /* table, AOR, contact, expires, q, path (empty), flags, cflags, methods */
  const char * const argv[] = { KAMCMD, "-s", socket, "ul.add", "location", user, contact,
                                "3600", "1.0", "s:", "0", "0", "0", NULL };

  g_autofree char *out = NULL;

  if (!run_sync (argv, self->tmpdir, &out, error))
    return FALSE;
  /* kamcmd says an RPC failed on stdout, and exits 0 */
  if (out != NULL && g_str_has_prefix (out, "error:"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "ul.add %s %s: %s", user, contact,
                   g_strstrip (out));
      return FALSE;
    }
  return TRUE;
}

/* Runs in the child before exec: when the test process dies (a failed
 * assertion aborts it before any teardown), Kamailio gets SIGTERM instead
 * of living on as an orphan holding its ports. */
static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean
launch (HarkTestKamailio  *self,
        GError           **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  gint64 deadline;
  int log_fd;

  log_fd = open (self->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot open %s: %s", self->log_path, g_strerror (saved));
      return FALSE;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  g_subprocess_launcher_take_stdout_fd (launcher, dup (log_fd));
  g_subprocess_launcher_take_stderr_fd (launcher, log_fd);

  g_ptr_array_add (argv, g_strdup (KAMAILIO));
  g_ptr_array_add (argv, g_strdup ("-DD"));
  g_ptr_array_add (argv, g_strdup ("-E"));
  g_ptr_array_add (argv, g_strdup ("-f"));
  g_ptr_array_add (argv, g_strdup (self->cfg_path));
  g_ptr_array_add (argv, g_strdup ("-w"));
  g_ptr_array_add (argv, g_strdup (self->tmpdir));
  g_ptr_array_add (argv, g_strdup ("-Y"));
  g_ptr_array_add (argv, g_strdup (self->tmpdir));
  /* small shared and private memory pools: many tests run at once */
  g_ptr_array_add (argv, g_strdup ("-m"));
  g_ptr_array_add (argv, g_strdup ("32"));
  g_ptr_array_add (argv, g_strdup ("-M"));
  g_ptr_array_add (argv, g_strdup ("4"));
  g_ptr_array_add (argv, g_strdup ("-l"));
  g_ptr_array_add (argv, g_strdup_printf ("udp:127.0.0.1:%u", self->port));
  g_ptr_array_add (argv, g_strdup ("-l"));
  g_ptr_array_add (argv, g_strdup_printf ("tcp:127.0.0.1:%u", self->port));
  if (self->options.tls)
    {
      g_ptr_array_add (argv, g_strdup ("-l"));
      g_ptr_array_add (argv, g_strdup_printf ("tls:127.0.0.1:%u", self->tls_port));
      g_ptr_array_add (argv, g_strdup ("-A"));
      g_ptr_array_add (argv, g_strdup ("WITH_TLS"));
    }
  if (self->options.challenge_invites)
    {
      g_ptr_array_add (argv, g_strdup ("-A"));
      g_ptr_array_add (argv, g_strdup ("WITH_INVITE_AUTH"));
    }
  if (self->options.mwi_notifier_port != 0)
    {
      g_ptr_array_add (argv, g_strdup ("-A"));
      g_ptr_array_add (argv, g_strdup ("WITH_MWI_NOTIFIER"));
    }
  g_ptr_array_add (argv, NULL);

  self->exited = FALSE;
  self->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                                error);
  if (self->process == NULL)
    return FALSE;

  /* Ready when the control socket answers: it opens after the SIP sockets */
  deadline = g_get_monotonic_time () + (gint64) (START_TIMEOUT_MS * timeout_scale ()) * 1000;
  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *out = NULL;

      if (g_file_test (self->ctl_socket, G_FILE_TEST_EXISTS))
        {
          out = hark_test_kamailio_rpc (self, "core.uptime", NULL);
          if (out != NULL)
            return TRUE;
        }

      if (wait_for_exit (self->process, 50, FALSE))
        {
          g_autofree char *tail = log_tail (self);

          self->exited = TRUE;
          g_clear_object (&self->process);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "kamailio exited while starting:\n%s", tail);
          return FALSE;
        }
    }

  {
    g_autofree char *tail = log_tail (self);

    hark_test_kamailio_stop (self, NULL);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "kamailio did not come up in time:\n%s", tail);
  }

  return FALSE;
}

/**
 * hark_test_kamailio_start:
 * @options: (nullable): what to run; %NULL for MD5, password "secret", no TLS
 *
 * Returns once Kamailio answers on its control socket.
 */
HarkTestKamailio *
hark_test_kamailio_start (const HarkTestKamailioOptions  *options,
                          GError                        **error)
{
  static const HarkTestKamailioOptions defaults = { 0 };
  g_autoptr(HarkTestKamailio) self = g_new0 (HarkTestKamailio, 1);

  if (options == NULL)
    options = &defaults;

  self->options = *options;
  self->password = g_strdup (options->password ? options->password : "secret");
  self->algorithm = g_strdup (options->algorithm ? options->algorithm : "MD5");
  self->options.password = self->password;
  self->options.algorithm = self->algorithm;

  self->tmpdir = g_dir_make_tmp ("hark-kamailio-XXXXXX", error);
  if (self->tmpdir == NULL)
    return NULL;

  self->cfg_path = g_build_filename (self->tmpdir, "kamailio.cfg", NULL);
  self->ctl_socket = g_build_filename (self->tmpdir, "ctl.sock", NULL);
  self->log_path = g_build_filename (self->tmpdir, "kamailio.log", NULL);

  self->port = pick_port (TRUE, error);
  if (self->port == 0)
    return NULL;

  if (options->tls)
    {
      self->tls_port = pick_port (FALSE, error);
      if (self->tls_port == 0)
        return NULL;
      if (!make_certificates (self, error))
        return NULL;
    }

  if (!write_config (self, error) || !launch (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }

  g_rmdir (path);
}

void
hark_test_kamailio_free (HarkTestKamailio *self)
{
  if (self == NULL)
    return;

  hark_test_kamailio_stop (self, NULL);

  if (self->tmpdir != NULL)
    {
      if (g_test_failed () || g_getenv ("HARK_TEST_KEEP_TMPDIR") != NULL)
        g_test_message ("kamailio files kept in %s", self->tmpdir);
      else
        remove_tree (self->tmpdir);
    }

  g_free (self->password);
  g_free (self->algorithm);
  g_free (self->tmpdir);
  g_free (self->cfg_path);
  g_free (self->ctl_socket);
  g_free (self->log_path);
  g_free (self->ca_file);
  g_free (self->other_ca_file);
  g_free (self);
}

/**
 * hark_test_kamailio_get_port:
 * @transport: "udp", "tcp" or "tls"
 *
 * Returns: the port, also while stopped (restart uses the same ones)
 */
guint
hark_test_kamailio_get_port (HarkTestKamailio *self,
                             const char       *transport)
{
  g_return_val_if_fail (self != NULL, 0);

  if (g_strcmp0 (transport, "tls") == 0)
    return self->tls_port;

  return self->port;
}

/**
 * hark_test_kamailio_dup_uri:
 * @transport: "udp", "tcp" or "tls"
 *
 * Returns: the registrar's URI for that transport, e.g.
 *   "sip:127.0.0.1:5060;transport=tcp"
 */
char *
hark_test_kamailio_dup_uri (HarkTestKamailio *self,
                            const char       *transport)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (transport == NULL || g_str_equal (transport, "udp"))
    return g_strdup_printf ("sip:127.0.0.1:%u", self->port);

  return g_strdup_printf ("sip:127.0.0.1:%u;transport=%s",
                          hark_test_kamailio_get_port (self, transport), transport);
}

/**
 * hark_test_kamailio_get_ca_file:
 *
 * Returns: (nullable): the CA that signed Kamailio's TLS certificate
 */
const char *
hark_test_kamailio_get_ca_file (HarkTestKamailio *self)
{
  return self->ca_file;
}

/**
 * hark_test_kamailio_get_other_ca_file:
 *
 * Returns: (nullable): a CA that has nothing to do with Kamailio's
 *   certificate
 */
const char *
hark_test_kamailio_get_other_ca_file (HarkTestKamailio *self)
{
  return self->other_ca_file;
}

const char *
hark_test_kamailio_get_tmpdir (HarkTestKamailio *self)
{
  return self->tmpdir;
}

const char *
hark_test_kamailio_get_log_path (HarkTestKamailio *self)
{
  return self->log_path;
}

/**
 * hark_test_kamailio_has_binding:
 * @user: the AOR's user part
 *
 * Returns: whether the registrar holds a binding for @user right now
 */
gboolean
hark_test_kamailio_has_binding (HarkTestKamailio *self,
                                const char       *user)
{
  g_autofree char *dump = NULL;
  g_autofree char *needle = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  dump = hark_test_kamailio_rpc (self, "ul.dump", NULL);
  if (dump == NULL)
    return FALSE;

  needle = g_strdup_printf ("AoR: %s\n", user);

  return strstr (dump, needle) != NULL;
}

/**
 * hark_test_kamailio_count_requests:
 * @method: a SIP method, e.g. "REGISTER"
 *
 * Returns: how many @method requests Kamailio received since the first
 *   start, restarts included
 */
guint
hark_test_kamailio_count_requests (HarkTestKamailio *self,
                                   const char       *method)
{
  g_autofree char *contents = NULL;
  g_autofree char *needle = NULL;
  guint count = 0;

  g_return_val_if_fail (self != NULL, 0);

  if (!g_file_get_contents (self->log_path, &contents, NULL, NULL))
    return 0;

  needle = g_strdup_printf ("hark-test: request %s ", method);
  for (const char *p = strstr (contents, needle); p != NULL; p = strstr (p + 1, needle))
    count++;

  return count;
}

gboolean
hark_test_kamailio_is_running (HarkTestKamailio *self)
{
  return self->process != NULL && !self->exited;
}

/**
 * hark_test_kamailio_stop:
 *
 * SIGTERM, then SIGKILL if it takes more than 5 s. Does nothing if stopped.
 */
gboolean
hark_test_kamailio_stop (HarkTestKamailio  *self,
                         GError           **error)
{
  gboolean clean = TRUE;

  g_return_val_if_fail (self != NULL, FALSE);

  if (self->process == NULL)
    return TRUE;

  if (!self->exited)
    {
      guint half = STOP_TIMEOUT_MS * timeout_scale () / 2;

      /* A SIGTERM that lands while Kamailio is still forking its children
       * can go unheeded (seen once in a loaded sanitizer run): ask twice
       * before killing it. */
      g_subprocess_send_signal (self->process, SIGTERM);
      if (!wait_for_exit (self->process, half, FALSE))
        g_subprocess_send_signal (self->process, SIGTERM);
      if (!wait_for_exit (self->process, half, TRUE))
        {
          clean = FALSE;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "kamailio did not stop on SIGTERM; killed");
        }
    }

  self->exited = TRUE;
  g_clear_object (&self->process);

  /* a stale socket would make the next start look ready at once */
  g_unlink (self->ctl_socket);

  return clean;
}

/**
 * hark_test_kamailio_restart:
 *
 * Stops Kamailio if it runs and starts it again on the same ports, with
 * the same configuration (bindings are lost: they live in memory).
 */
gboolean
hark_test_kamailio_restart (HarkTestKamailio  *self,
                            GError           **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!hark_test_kamailio_stop (self, error))
    return FALSE;

  return launch (self, error);
}

/* Profiles at this Kamailio, over a test bus */

static gboolean
profile_exported_cb (gpointer user_data)
{
  gpointer *args = user_data;
  g_autoptr(HarkDBusProfile1) profile = hark_test_bus_get_profile (args[0], args[1]);

  return profile != NULL;
}

/**
 * hark_test_kamailio_create_profile:
 * @bus: the bus of the hark-daemon to create it in
 * @user: the user, also the profile's name
 * @password: (nullable): its password
 * @extra: (nullable): more CreateProfile() settings (a{sv}, floating)
 *
 * Returns: (transfer full): a UDP profile of sip:@user@127.0.0.1 with this
 *   Kamailio as its registrar (120 s bindings), not registered yet
 */
HarkDBusProfile1 *
hark_test_kamailio_create_profile (HarkTestKamailio *self,
                                   HarkTestBus      *bus,
                                   const char       *user,
                                   const char       *password,
                                   GVariant         *extra)
{
  HarkDBusManager1 *manager = hark_test_bus_get_manager (bus);
  g_autofree char *aor = g_strdup_printf ("sip:%s@127.0.0.1", user);
  g_autofree char *registrar = hark_test_kamailio_dup_uri (self, "udp");
  g_autoptr(GVariantDict) dict = g_variant_dict_new (extra);
  const char *aors[] = { aor, NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  gpointer args[2];

  g_variant_dict_insert (dict, "name", "s", user);
  g_variant_dict_insert_value (dict, "aors", g_variant_new_strv (aors, -1));
  g_variant_dict_insert (dict, "registrar", "s", registrar);
  g_variant_dict_insert (dict, "transport", "s", "udp");
  g_variant_dict_insert (dict, "expires", "u", 120);
  if (password != NULL)
    g_variant_dict_insert (dict, "password", "s", password);

  hark_dbus_manager1_call_create_profile_sync (manager, g_variant_dict_end (dict), &path,
                                               NULL, &error);
  g_assert_no_error (error);
  args[0] = bus;
  args[1] = path;
  g_assert_true (hark_test_wait_for (profile_exported_cb, args, 5000));
  return hark_test_bus_get_profile (bus, path);
}

/**
 * hark_test_kamailio_register:
 * @bus: the bus @profile is on
 * @profile: a profile of hark_test_kamailio_create_profile() with a password
 * @user: its user
 *
 * Registers @profile and returns once it is "registered" and Kamailio
 * holds the binding of @user.
 */
void
hark_test_kamailio_register (HarkTestKamailio *self,
                             HarkTestBus      *bus,
                             HarkDBusProfile1 *profile,
                             const char       *user)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GDBusInterface) registration = NULL;

  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  TRUE, 5000));
  hark_dbus_profile1_call_register_sync (profile, &path, NULL, &error);
  g_assert_no_error (error);
  hark_test_iterate (100);
  registration = g_dbus_object_manager_get_interface (hark_test_bus_get_object_manager (bus),
                                                      path, "io.github.hark.Hark.Registration1");
  g_assert_nonnull (registration);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (registration), "State",
                                                 "registered", 15000));
  g_assert_true (hark_test_kamailio_has_binding (self, user));
}
