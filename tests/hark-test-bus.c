/* hark-test-bus.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define _GNU_SOURCE 1  /* memmem */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "hark-test-bus.h"

#ifndef HARK_DAEMON_PATH
# error "HARK_DAEMON_PATH must be set by tests/meson.build"
#endif

#define EMERGENCY_MAX_PIDS  32
#define START_TIMEOUT_MS    10000
#define STOP_TIMEOUT_MS     5000
#define LOG_TAIL_BYTES      4096
#define KEYRING_PASSWORD    "hark-test-keyring"

struct _HarkTestBus
{
  HarkTestBusFlags    flags;

  char               *tmpdir;
  char               *home;
  char               *config_home;
  char               *data_home;
  char               *cache_home;
  char               *state_home;
  char               *runtime_dir;
  char               *log_path;
  char               *bus_log_path;
  char               *keyring_log_path;
  GStrv               environ;

  char               *address;
  GDBusConnection    *connection;
  GDBusObjectManager *object_manager;
  HarkDBusManager1   *manager;

  HarkTestProcess    *bus;
  HarkTestProcess    *keyring;
  HarkTestProcess    *daemon;
  GPtrArray          *processes;   /* every child, in spawn order */

  guint               n_daemon_runs;
  guint               n_runs;
};

/* What a fatal signal handler may touch: plain memory, no allocation. An
 * assertion failure aborts the test program before teardown runs; the
 * handler then kills our children (PR_SET_PDEATHSIG is the second line of
 * defence) and prints the tail of the daemon's log. */
static pid_t    emergency_pids[EMERGENCY_MAX_PIDS];
static char     emergency_log_path[4096];
static char     emergency_tmpdir[4096];
static gboolean emergency_installed;
static HarkTestBus *current_bus;

static void
emergency_write (const char *text)
{
  gsize len = strlen (text);

  while (len > 0)
    {
      ssize_t n = write (STDERR_FILENO, text, len);

      if (n <= 0)
        return;
      text += n;
      len -= (gsize) n;
    }
}

static void
emergency_handler (int signum)
{
  char buf[LOG_TAIL_BYTES];
  int fd;

  for (guint i = 0; i < EMERGENCY_MAX_PIDS; i++)
    {
      if (emergency_pids[i] > 0)
        kill (emergency_pids[i], SIGKILL);
    }

  if (emergency_log_path[0] != '\0' &&
      (fd = open (emergency_log_path, O_RDONLY | O_CLOEXEC)) >= 0)
    {
      ssize_t n;

      if (lseek (fd, -(off_t) sizeof buf + 1, SEEK_END) < 0)
        lseek (fd, 0, SEEK_SET);
      emergency_write ("\n--- hark-test-bus: tail of the hark-daemon log ---\n");
      while ((n = read (fd, buf, sizeof buf - 1)) > 0)
        {
          buf[n] = '\0';
          emergency_write (buf);
        }
      emergency_write ("--- end of log ---\n");
      close (fd);
    }

  if (emergency_tmpdir[0] != '\0')
    {
      emergency_write ("hark-test-bus: test died; its files are kept in ");
      emergency_write (emergency_tmpdir);
      emergency_write ("\n");
    }

  /* SA_RESETHAND restored the default action: re-deliver on return. */
  raise (signum);
}

static void
emergency_install (void)
{
  static const int signals[] = { SIGABRT, SIGSEGV, SIGBUS, SIGTERM, SIGINT, SIGTRAP };
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = emergency_handler;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset (&sa.sa_mask);

  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    sigaction (signals[i], &sa, NULL);

  emergency_installed = TRUE;
}

static void
emergency_add_pid (pid_t pid)
{
  for (guint i = 0; i < EMERGENCY_MAX_PIDS; i++)
    {
      if (emergency_pids[i] == 0)
        {
          emergency_pids[i] = pid;
          return;
        }
    }
}

static void
emergency_remove_pid (pid_t pid)
{
  for (guint i = 0; i < EMERGENCY_MAX_PIDS; i++)
    {
      if (emergency_pids[i] == pid)
        emergency_pids[i] = 0;
    }
}

static void
child_setup (gpointer user_data)
{
  /* Die with the test program, whatever kills it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

guint
hark_test_timeout (guint timeout_ms)
{
  static double scale = 0;

  if (scale == 0)
    {
      const char *env = g_getenv ("HARK_TEST_TIMEOUT_SCALE");

      scale = env != NULL ? g_ascii_strtod (env, NULL) : 1.0;
      if (scale < 1.0)
        scale = 1.0;
    }

  return (guint) (timeout_ms * scale);
}

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
hark_test_wait_for (HarkTestConditionFunc func,
                    gpointer              user_data,
                    guint                 timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) hark_test_timeout (timeout_ms) * 1000;
  GSource *tick;
  gboolean ok;

  /* A tick, so that conditions which no event announces (files, the log,
   * other processes) are polled too. */
  tick = g_timeout_source_new (10);
  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, NULL);

  while (!(ok = func (user_data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_source_destroy (tick);
  g_source_unref (tick);

  return ok;
}

static gboolean
never_cb (gpointer user_data)
{
  return FALSE;
}

void
hark_test_iterate (guint duration_ms)
{
  hark_test_wait_for (never_cb, NULL, duration_ms);
}

typedef struct {
  GDBusProxy *proxy;
  const char *property;
  GVariant   *value;
} WaitProperty;

static gboolean
property_is_cb (gpointer user_data)
{
  WaitProperty *wait = user_data;
  g_autoptr(GVariant) cached = g_dbus_proxy_get_cached_property (wait->proxy, wait->property);

  return cached != NULL && g_variant_equal (cached, wait->value);
}

gboolean
hark_test_wait_property (GDBusProxy *proxy,
                         const char *property,
                         GVariant   *value,
                         guint       timeout_ms)
{
  g_autoptr(GVariant) expected = g_variant_ref_sink (value);
  WaitProperty wait = { proxy, property, expected };
  g_autoptr(GVariant) cached = NULL;
  g_autofree char *expected_str = NULL;
  g_autofree char *cached_str = NULL;
  g_autoptr(GVariant) fresh = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fresh_str = NULL;

  g_return_val_if_fail (G_IS_DBUS_PROXY (proxy), FALSE);

  if (hark_test_wait_for (property_is_cb, &wait, timeout_ms))
    return TRUE;

  cached = g_dbus_proxy_get_cached_property (proxy, property);
  expected_str = g_variant_print (expected, TRUE);
  cached_str = cached != NULL ? g_variant_print (cached, TRUE) : g_strdup ("(not set)");
  g_test_message ("%s.%s on %s: expected %s, still %s after %u ms",
                  g_dbus_proxy_get_interface_name (proxy), property,
                  g_dbus_proxy_get_object_path (proxy),
                  expected_str, cached_str, hark_test_timeout (timeout_ms));

  /* Ask the daemon too: tells a client that missed a PropertiesChanged
   * from a daemon that never changed the property or never said so. */
  fresh = g_dbus_connection_call_sync (g_dbus_proxy_get_connection (proxy),
                                       g_dbus_proxy_get_name (proxy),
                                       g_dbus_proxy_get_object_path (proxy),
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)",
                                                      g_dbus_proxy_get_interface_name (proxy),
                                                      property),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 2000,
                                       NULL, &error);
  fresh_str = fresh != NULL ? g_variant_print (fresh, TRUE) : g_strdup (error->message);
  g_test_message ("  the daemon says now: %s", fresh_str);
  return FALSE;
}

gboolean
hark_test_wait_property_string (GDBusProxy *proxy,
                                const char *property,
                                const char *value,
                                guint       timeout_ms)
{
  return hark_test_wait_property (proxy, property, g_variant_new_string (value), timeout_ms);
}

gboolean
hark_test_wait_property_boolean (GDBusProxy *proxy,
                                 const char *property,
                                 gboolean    value,
                                 guint       timeout_ms)
{
  return hark_test_wait_property (proxy, property, g_variant_new_boolean (value), timeout_ms);
}

guint16
hark_test_get_free_port (gboolean udp_and_tcp)
{
  static GHashTable *given;

  if (given == NULL)
    given = g_hash_table_new (NULL, NULL);

  for (guint attempt = 0; attempt < 200; attempt++)
    {
      struct sockaddr_in addr;
      socklen_t len = sizeof addr;
      int tcp = -1, udp = -1;
      guint16 port = 0;

      memset (&addr, 0, sizeof addr);
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);

      tcp = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (tcp >= 0 &&
          bind (tcp, (struct sockaddr *) &addr, sizeof addr) == 0 &&
          getsockname (tcp, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);

      if (port != 0 && udp_and_tcp)
        {
          udp = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
          if (udp < 0 || bind (udp, (struct sockaddr *) &addr, sizeof addr) != 0)
            port = 0;
        }

      if (tcp >= 0)
        close (tcp);
      if (udp >= 0)
        close (udp);

      if (port != 0 && !g_hash_table_contains (given, GUINT_TO_POINTER (port)))
        {
          g_hash_table_add (given, GUINT_TO_POINTER (port));
          return port;
        }
    }

  g_error ("hark_test_get_free_port: no free port on 127.0.0.1 after 200 attempts");
  return 0;
}

/* Processes */

static void append_to_file (const char *path,
                            const char *text);

static void
process_wait_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  HarkTestProcess *process = user_data;
  const char *log_path = g_object_get_data (object, "hark-test-log");

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  process->wait_status = g_subprocess_get_status (G_SUBPROCESS (object));
  process->exited = TRUE;

  /* Say in the log how it ended: a crash otherwise leaves no trace there. */
  if (log_path != NULL)
    {
      int status = process->wait_status;
      g_autofree char *note = NULL;

      if (WIFEXITED (status))
        note = g_strdup_printf ("=== hark-test-bus: pid %d exited with status %d ===\n",
                                hark_test_process_get_pid (process), WEXITSTATUS (status));
      else if (WIFSIGNALED (status))
        note = g_strdup_printf ("=== hark-test-bus: pid %d killed by signal %d (%s)%s ===\n",
                                hark_test_process_get_pid (process), WTERMSIG (status),
                                g_strsignal (WTERMSIG (status)),
                                WCOREDUMP (status) ? ", core dumped" : "");
      else
        note = g_strdup_printf ("=== hark-test-bus: pid %d ended, wait status 0x%x ===\n",
                                hark_test_process_get_pid (process), status);
      append_to_file (log_path, note);
    }
}

static gboolean
process_exited_cb (gpointer user_data)
{
  HarkTestProcess *process = user_data;

  return process->exited;
}

gboolean
hark_test_process_wait (HarkTestProcess *process,
                        guint            timeout_ms)
{
  gboolean exited;

  g_return_val_if_fail (process != NULL, FALSE);

  exited = hark_test_wait_for (process_exited_cb, process, timeout_ms);
  if (exited)
    emergency_remove_pid (hark_test_process_get_pid (process));
  return exited;
}

int
hark_test_process_get_pid (HarkTestProcess *process)
{
  g_return_val_if_fail (process != NULL, 0);

  /* The identifier is gone once the child is reaped; remember it. */
  return GPOINTER_TO_INT (g_object_get_data (G_OBJECT (process->subprocess), "hark-test-pid"));
}

static HarkTestProcess *
spawn_process (HarkTestBus         *self,
               const char * const  *argv,
               GSubprocessFlags     flags,
               const char          *output_path,
               GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  HarkTestProcess *process;
  pid_t pid;

  if (output_path != NULL)
    flags |= G_SUBPROCESS_FLAGS_STDERR_MERGE;

  launcher = g_subprocess_launcher_new (flags);
  g_subprocess_launcher_set_environ (launcher, self->environ);
  g_subprocess_launcher_set_cwd (launcher, self->tmpdir);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  if (output_path != NULL)
    {
      int fd = open (output_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

      if (fd < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "cannot open %s: %s", output_path, g_strerror (saved_errno));
          return NULL;
        }
      g_subprocess_launcher_take_stdout_fd (launcher, fd);
    }

  subprocess = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (subprocess == NULL)
    return NULL;

  pid = (pid_t) g_ascii_strtoll (g_subprocess_get_identifier (subprocess), NULL, 10);
  g_object_set_data (G_OBJECT (subprocess), "hark-test-pid", GINT_TO_POINTER (pid));
  if (output_path != NULL)
    g_object_set_data_full (G_OBJECT (subprocess), "hark-test-log", g_strdup (output_path),
                            g_free);
  emergency_add_pid (pid);

  process = g_new0 (HarkTestProcess, 1);
  process->subprocess = g_steal_pointer (&subprocess);
  g_subprocess_wait_async (process->subprocess, NULL, process_wait_cb, process);
  g_ptr_array_add (self->processes, process);

  return process;
}

static void
process_stop (HarkTestProcess *process,
              int              signum,
              guint            timeout_ms)
{
  int pid = hark_test_process_get_pid (process);

  if (process->exited)
    return;

  if (signum != SIGKILL)
    {
      kill (pid, signum);
      if (hark_test_process_wait (process, timeout_ms))
        return;
      g_test_message ("process %d did not exit within %u ms of signal %d; killing it",
                      pid, timeout_ms, signum);
    }

  kill (pid, SIGKILL);
  if (!hark_test_process_wait (process, STOP_TIMEOUT_MS))
    g_test_message ("process %d survived SIGKILL", pid);
}

static void check_daemon_exit (HarkTestBus     *self,
                               HarkTestProcess *process);

static void
process_free (HarkTestProcess *process)
{
  /* process_wait_cb still points at it while the child runs: leak it then. */
  if (!process->exited)
    return;

  g_clear_object (&process->subprocess);
  g_free (process);
}

HarkTestProcess *
hark_test_bus_spawn (HarkTestBus         *self,
                     const char * const  *argv,
                     const char          *output_path,
                     GError             **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  return spawn_process (self, argv, G_SUBPROCESS_FLAGS_NONE,
                        output_path != NULL ? output_path : self->log_path, error);
}

gboolean
hark_test_bus_run (HarkTestBus         *self,
                   const char * const  *argv,
                   guint                timeout_ms,
                   char               **out_output,
                   int                 *out_wait_status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *output_path = NULL;
  g_autofree char *basename = NULL;
  HarkTestProcess *process;
  gboolean finished;

  g_return_val_if_fail (self != NULL, FALSE);

  basename = g_strdup_printf ("run-%u.log", ++self->n_runs);
  output_path = g_build_filename (self->tmpdir, basename, NULL);

  process = spawn_process (self, argv, G_SUBPROCESS_FLAGS_NONE, output_path, &error);
  g_assert_no_error (error);

  finished = hark_test_process_wait (process, timeout_ms);
  if (!finished)
    process_stop (process, SIGKILL, 0);

  if (out_output != NULL)
    {
      if (!g_file_get_contents (output_path, out_output, NULL, NULL))
        *out_output = g_strdup ("");
    }
  if (out_wait_status != NULL)
    *out_wait_status = process->wait_status;

  return finished;
}

/* Logs and files */

static char *
read_tail (const char *path,
           gsize       max_bytes)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  const char *start;

  if (path == NULL || !g_file_get_contents (path, &contents, &length, NULL))
    return g_strdup ("(no log)");

  start = contents;
  if (length > max_bytes)
    start = contents + (length - max_bytes);

  return g_utf8_make_valid (start, -1);
}

char *
hark_test_bus_read_log (HarkTestBus *self)
{
  char *contents = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  if (!g_file_get_contents (self->log_path, &contents, NULL, NULL))
    return g_strdup ("");
  return contents;
}

char *
hark_test_bus_dup_log_tail (HarkTestBus *self,
                            gsize        max_bytes)
{
  g_return_val_if_fail (self != NULL, NULL);

  return read_tail (self->log_path, max_bytes);
}

static void
append_to_file (const char *path,
                const char *text)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

  if (fd >= 0)
    {
      if (write (fd, text, strlen (text)) < 0)
        g_test_message ("cannot write to %s: %s", path, g_strerror (errno));
      close (fd);
    }
}

static gboolean
remove_recursive (const char *path)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return errno == ENOENT;

  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      if (dir != NULL)
        {
          while ((name = g_dir_read_name (dir)) != NULL)
            {
              g_autofree char *child = g_build_filename (path, name, NULL);

              remove_recursive (child);
            }
        }
      return g_rmdir (path) == 0;
    }

  return g_unlink (path) == 0;
}

char *
hark_test_find_in_files (const char *dir_path,
                         const char *needle)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_return_val_if_fail (dir_path != NULL, NULL);
  g_return_val_if_fail (needle != NULL && *needle != '\0', NULL);

  dir = g_dir_open (dir_path, 0, NULL);
  if (dir == NULL)
    return NULL;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      GStatBuf st;

      if (g_lstat (path, &st) != 0)
        continue;

      if (S_ISDIR (st.st_mode))
        {
          char *found = hark_test_find_in_files (path, needle);

          if (found != NULL)
            return found;
        }
      else if (S_ISREG (st.st_mode))
        {
          g_autofree char *contents = NULL;
          gsize length = 0;

          if (g_file_get_contents (path, &contents, &length, NULL) &&
              memmem (contents, length, needle, strlen (needle)) != NULL)
            return g_steal_pointer (&path);
        }
    }

  return NULL;
}

char *
hark_test_bus_dup_hark_config_dir (HarkTestBus *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_build_filename (self->config_home, "hark", NULL);
}

GKeyFile *
hark_test_bus_load_profiles_keyfile (HarkTestBus  *self,
                                     char        **out_path,
                                     GError      **error)
{
  static const char * const preferred[] = {
    "profiles.ini", "profiles.conf", "profiles.keyfile", "profiles", "hark.conf", "hark.ini",
  };
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_return_val_if_fail (self != NULL, NULL);

  dir_path = hark_test_bus_dup_hark_config_dir (self);

  for (guint i = 0; i < G_N_ELEMENTS (preferred); i++)
    {
      char *path = g_build_filename (dir_path, preferred[i], NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (candidates, path);
      else
        g_free (path);
    }

  dir = g_dir_open (dir_path, 0, error);
  if (dir == NULL)
    return NULL;

  /* Otherwise any keyfile there, but not the temp files of
   * g_file_set_contents() (name.XXXXXX) or editors' backups. */
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (name[0] != '.' && !g_str_has_suffix (name, "~"))
        g_ptr_array_add (candidates, g_build_filename (dir_path, name, NULL));
    }

  for (guint i = 0; i < candidates->len; i++)
    {
      const char *path = g_ptr_array_index (candidates, i);
      g_autoptr(GKeyFile) keyfile = g_key_file_new ();

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR) &&
          g_key_file_load_from_file (keyfile, path, G_KEY_FILE_KEEP_COMMENTS, NULL))
        {
          if (out_path != NULL)
            *out_path = g_strdup (path);
          return g_steal_pointer (&keyfile);
        }
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no keyfile in %s", dir_path);
  return NULL;
}

/* Accessors */

const char *
hark_test_bus_get_tmpdir (HarkTestBus *self)
{
  return self->tmpdir;
}

const char *
hark_test_bus_get_config_home (HarkTestBus *self)
{
  return self->config_home;
}

const char *
hark_test_bus_get_data_home (HarkTestBus *self)
{
  return self->data_home;
}

const char *
hark_test_bus_get_cache_home (HarkTestBus *self)
{
  return self->cache_home;
}

const char *
hark_test_bus_get_runtime_dir (HarkTestBus *self)
{
  return self->runtime_dir;
}

const char *
hark_test_bus_get_address (HarkTestBus *self)
{
  return self->address;
}

const char *
hark_test_bus_get_log_path (HarkTestBus *self)
{
  return self->log_path;
}

const char * const *
hark_test_bus_get_environ (HarkTestBus *self)
{
  return (const char * const *) self->environ;
}

GDBusConnection *
hark_test_bus_get_connection (HarkTestBus *self)
{
  return self->connection;
}

HarkTestProcess *
hark_test_bus_get_daemon (HarkTestBus *self)
{
  return self->daemon;
}

GDBusObjectManager *
hark_test_bus_get_object_manager (HarkTestBus *self)
{
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->object_manager == NULL)
    {
      /* Never auto-start: the harness decides when a daemon runs. */
      self->object_manager =
        hark_dbus_object_manager_client_new_sync (self->connection,
                                                  G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
                                                  HARK_TEST_BUS_NAME,
                                                  HARK_TEST_OBJECT_PATH,
                                                  NULL, &error);
      g_assert_no_error (error);
    }

  return self->object_manager;
}

HarkDBusManager1 *
hark_test_bus_get_manager (HarkTestBus *self)
{
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->manager == NULL)
    {
      self->manager = hark_dbus_manager1_proxy_new_sync (self->connection,
                                                         G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                         HARK_TEST_BUS_NAME,
                                                         HARK_TEST_OBJECT_PATH,
                                                         NULL, &error);
      g_assert_no_error (error);
    }

  return self->manager;
}

typedef struct {
  HarkTestBus *self;
  const char  *owner;
} ClientsCaughtUp;

static gboolean
clients_caught_up_cb (gpointer user_data)
{
  ClientsCaughtUp *data = user_data;
  g_autofree char *om_owner = NULL;
  g_autofree char *manager_owner = NULL;
  g_autoptr(GVariant) version = NULL;

  om_owner = g_dbus_object_manager_client_get_name_owner (
    G_DBUS_OBJECT_MANAGER_CLIENT (data->self->object_manager));
  manager_owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (data->self->manager));
  version = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (data->self->manager), "Version");

  return g_strcmp0 (om_owner, data->owner) == 0 &&
         g_strcmp0 (manager_owner, data->owner) == 0 &&
         version != NULL;
}

gboolean
hark_test_bus_wait_clients (HarkTestBus *self,
                            guint        timeout_ms)
{
  g_autofree char *owner = NULL;
  ClientsCaughtUp data;

  g_return_val_if_fail (self != NULL, FALSE);

  owner = hark_test_bus_dup_name_owner (self, HARK_TEST_BUS_NAME);
  if (owner == NULL)
    return FALSE;

  hark_test_bus_get_object_manager (self);
  hark_test_bus_get_manager (self);
  data.self = self;
  data.owner = owner;
  return hark_test_wait_for (clients_caught_up_cb, &data, timeout_ms);
}

GList *
hark_test_bus_list_profiles (HarkTestBus *self)
{
  GDBusObjectManager *manager = hark_test_bus_get_object_manager (self);
  g_autolist(GDBusObject) objects = g_dbus_object_manager_get_objects (manager);
  GList *profiles = NULL;

  for (GList *l = objects; l != NULL; l = l->next)
    {
      HarkDBusProfile1 *profile = hark_dbus_object_get_profile1 (HARK_DBUS_OBJECT (l->data));

      if (profile != NULL)
        profiles = g_list_prepend (profiles, profile);
    }

  return g_list_reverse (profiles);
}

HarkDBusProfile1 *
hark_test_bus_find_profile (HarkTestBus *self,
                            const char  *name)
{
  g_autolist(HarkDBusProfile1) profiles = hark_test_bus_list_profiles (self);

  for (GList *l = profiles; l != NULL; l = l->next)
    {
      if (g_strcmp0 (hark_dbus_profile1_get_name (l->data), name) == 0)
        return g_object_ref (l->data);
    }

  return NULL;
}

HarkDBusProfile1 *
hark_test_bus_get_profile (HarkTestBus *self,
                           const char  *object_path)
{
  GDBusObjectManager *manager = hark_test_bus_get_object_manager (self);
  GDBusInterface *iface = g_dbus_object_manager_get_interface (manager, object_path,
                                                               HARK_TEST_PROFILE1);

  return iface != NULL ? HARK_DBUS_PROFILE1 (iface) : NULL;
}

GVariant *
hark_test_bus_get_all_properties (HarkTestBus  *self,
                                  const char   *object_path,
                                  const char   *interface_name,
                                  GError      **error)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *properties = NULL;

  reply = g_dbus_connection_call_sync (self->connection, HARK_TEST_BUS_NAME, object_path,
                                       "org.freedesktop.DBus.Properties", "GetAll",
                                       g_variant_new ("(s)", interface_name),
                                       G_VARIANT_TYPE ("(a{sv})"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (reply == NULL)
    return NULL;

  g_variant_get (reply, "(@a{sv})", &properties);
  return properties;
}

/* Bus names */

static GVariant *
bus_call (HarkTestBus        *self,
          const char         *method,
          GVariant           *parameters,
          const GVariantType *reply_type,
          GError            **error)
{
  return g_dbus_connection_call_sync (self->connection, "org.freedesktop.DBus",
                                      "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                      method, parameters, reply_type,
                                      G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
}

char *
hark_test_bus_dup_name_owner (HarkTestBus *self,
                              const char  *name)
{
  g_autoptr(GVariant) reply = NULL;
  char *owner = NULL;

  reply = bus_call (self, "GetNameOwner", g_variant_new ("(s)", name),
                    G_VARIANT_TYPE ("(s)"), NULL);
  if (reply != NULL)
    g_variant_get (reply, "(s)", &owner);
  return owner;
}

guint32
hark_test_bus_get_name_owner_pid (HarkTestBus *self,
                                  const char  *name)
{
  g_autoptr(GVariant) reply = NULL;
  guint32 pid = 0;

  reply = bus_call (self, "GetConnectionUnixProcessID", g_variant_new ("(s)", name),
                    G_VARIANT_TYPE ("(u)"), NULL);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &pid);
  return pid;
}

typedef struct {
  HarkTestBus *self;
  const char  *name;
  gboolean     owned;
} WaitName;

static gboolean
name_owned_is_cb (gpointer user_data)
{
  WaitName *wait = user_data;
  g_autofree char *owner = hark_test_bus_dup_name_owner (wait->self, wait->name);

  return (owner != NULL) == wait->owned;
}

gboolean
hark_test_bus_wait_name_owner (HarkTestBus *self,
                               const char  *name,
                               gboolean     owned,
                               guint        timeout_ms)
{
  WaitName wait = { self, name, owned };

  return hark_test_wait_for (name_owned_is_cb, &wait, timeout_ms);
}

/* Secret Service, spoken directly on our connection (libsecret would use
 * the g_bus_get() singleton, which dies with each test's bus). */

static GVariant *
secrets_call (HarkTestBus        *self,
              const char         *object_path,
              const char         *interface_name,
              const char         *method,
              GVariant           *parameters,
              const GVariantType *reply_type,
              GError            **error)
{
  return g_dbus_connection_call_sync (self->connection, HARK_TEST_SECRETS_BUS_NAME,
                                      object_path, interface_name, method, parameters,
                                      reply_type, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
}

GStrv
hark_test_bus_dup_secrets (HarkTestBus  *self,
                           GError      **error)
{
  g_autoptr(GVariant) session_reply = NULL;
  g_autoptr(GVariant) search_reply = NULL;
  g_autoptr(GVariant) secrets_reply = NULL;
  g_autoptr(GVariant) unlocked = NULL;
  g_autoptr(GVariant) secrets = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *session = NULL;
  GVariantIter iter;
  GVariant *value;

  g_return_val_if_fail (self != NULL, NULL);

  session_reply = secrets_call (self, "/org/freedesktop/secrets",
                                "org.freedesktop.Secret.Service", "OpenSession",
                                g_variant_new ("(sv)", "plain", g_variant_new_string ("")),
                                G_VARIANT_TYPE ("(vo)"), error);
  if (session_reply == NULL)
    return NULL;
  g_variant_get (session_reply, "(vo)", NULL, &session);

  /* Empty attributes match every item. */
  search_reply = secrets_call (self, "/org/freedesktop/secrets",
                               "org.freedesktop.Secret.Service", "SearchItems",
                               g_variant_new ("(@a{ss})",
                                              g_variant_new_array (G_VARIANT_TYPE ("{ss}"),
                                                                   NULL, 0)),
                               G_VARIANT_TYPE ("(aoao)"), error);
  if (search_reply == NULL)
    return NULL;
  g_variant_get (search_reply, "(@aoao)", &unlocked, NULL);

  secrets_reply = secrets_call (self, "/org/freedesktop/secrets",
                                "org.freedesktop.Secret.Service", "GetSecrets",
                                g_variant_new ("(@aoo)", unlocked, session),
                                G_VARIANT_TYPE ("(a{o(oayays)})"), error);
  if (secrets_reply == NULL)
    return NULL;
  g_variant_get (secrets_reply, "(@a{o(oayays)})", &secrets);

  g_variant_iter_init (&iter, secrets);
  while (g_variant_iter_next (&iter, "{&o@(oayays)}", NULL, &value))
    {
      g_autoptr(GVariant) bytes = g_variant_get_child_value (value, 2);
      gsize length = 0;
      const char *data = g_variant_get_fixed_array (bytes, &length, 1);

      g_autofree char *secret = g_strndup (data, length);

      g_strv_builder_add (builder, secret);
      g_variant_unref (value);
    }

  secrets_call (self, session, "org.freedesktop.Secret.Session", "Close",
                NULL, NULL, NULL);

  return g_strv_builder_end (builder);
}

/* Setup and teardown */

static char *
make_subdir (const char *parent,
             const char *name,
             int         mode)
{
  char *path = g_build_filename (parent, name, NULL);

  if (g_mkdir_with_parents (path, mode) != 0)
    g_error ("cannot create %s: %s", path, g_strerror (errno));
  /* mkdir honours the umask; XDG_RUNTIME_DIR must be exactly 0700. */
  g_chmod (path, mode);
  return path;
}

static GStrv
make_environ (HarkTestBus *self)
{
  static const char * const unset[] = {
    "DBUS_SESSION_BUS_ADDRESS", "DBUS_STARTER_ADDRESS", "DBUS_STARTER_BUS_TYPE",
    "DISPLAY", "WAYLAND_DISPLAY", "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK",
    "XDG_SESSION_ID", "XDG_SESSION_TYPE", "XDG_CURRENT_DESKTOP", "SESSION_MANAGER",
  };
  char **env = g_get_environ ();

  for (guint i = 0; i < G_N_ELEMENTS (unset); i++)
    env = g_environ_unsetenv (env, unset[i]);

  env = g_environ_setenv (env, "HOME", self->home, TRUE);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", self->config_home, TRUE);
  env = g_environ_setenv (env, "XDG_DATA_HOME", self->data_home, TRUE);
  env = g_environ_setenv (env, "XDG_CACHE_HOME", self->cache_home, TRUE);
  env = g_environ_setenv (env, "XDG_STATE_HOME", self->state_home, TRUE);
  env = g_environ_setenv (env, "XDG_RUNTIME_DIR", self->runtime_dir, TRUE);
  env = g_environ_setenv (env, "TMPDIR", self->tmpdir, TRUE);
  env = g_environ_setenv (env, "LC_ALL", "C.UTF-8", TRUE);
  env = g_environ_setenv (env, "GSETTINGS_BACKEND", "memory", TRUE);
  env = g_environ_setenv (env, "NO_AT_BRIDGE", "1", TRUE);
  /* Never fatal-warnings: the daemon warns on purpose (no Secret Service). */
  env = g_environ_setenv (env, "G_DEBUG", "gc-friendly", TRUE);
  /* As much logging as there is, so that a leaked secret would show. */
  env = g_environ_setenv (env, "G_MESSAGES_DEBUG", "all", FALSE);
  env = g_environ_setenv (env, "HARK_DEBUG", "all", FALSE);
  /* No sound devices on a test machine: calls get silence in and a sink
   * that drops what it gets, unless a test asks for something else. */
  env = g_environ_setenv (env, "HARK_AUDIO_SOURCE", "audiotestsrc is-live=true wave=silence",
                          FALSE);
  env = g_environ_setenv (env, "HARK_AUDIO_SINK", "fakesink sync=false", FALSE);
  /* Tests run in parallel: a request sent to 127.0.0.1:5060 (a default port)
   * must not reach whichever test's daemon happens to hold it. */
  env = g_environ_setenv (env, "HARK_LOCAL_SIP_PORT", "0", FALSE);

  return env;
}

static char *
make_bus_config (HarkTestBus *self)
{
  g_autoptr(GString) config = g_string_new (NULL);
  g_autofree char *socket_path = g_build_filename (self->tmpdir, "bus", NULL);
  g_autofree char *escaped = g_markup_escape_text (socket_path, -1);
  g_autofree char *config_path = g_build_filename (self->tmpdir, "bus.conf", NULL);
  g_autoptr(GError) error = NULL;

  g_string_append (config,
                   "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                   " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                   "<busconfig>\n"
                   "  <type>session</type>\n"
                   "  <keep_umask/>\n");
  g_string_append_printf (config, "  <listen>unix:path=%s</listen>\n", escaped);
  g_string_append (config, "  <auth>EXTERNAL</auth>\n");

  /* Only our services: no standard session service dirs, so that there is
   * no Secret Service unless the test starts one. */
#ifdef HARK_TEST_SERVICES_DIR
  if (g_file_test (HARK_TEST_SERVICES_DIR, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *dir = g_markup_escape_text (HARK_TEST_SERVICES_DIR, -1);

      g_string_append_printf (config, "  <servicedir>%s</servicedir>\n", dir);
    }
#endif

  g_string_append (config,
                   "  <policy context=\"default\">\n"
                   "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                   "    <allow eavesdrop=\"true\"/>\n"
                   "    <allow own=\"*\"/>\n"
                   "  </policy>\n"
                   "</busconfig>\n");

  g_file_set_contents (config_path, config->str, -1, &error);
  g_assert_no_error (error);

  return g_steal_pointer (&config_path);
}

static void
start_bus (HarkTestBus *self)
{
  g_autofree char *config_path = make_bus_config (self);
  g_autofree char *config_arg = g_strdup_printf ("--config-file=%s", config_path);
  const char *argv[] = { "dbus-daemon", config_arg, "--nofork", "--print-address=1", NULL };
  g_autoptr(GDataInputStream) input = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *tail = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  int fd;

  /* dbus-daemon prints its address on stdout (a pipe, read below) and its
   * complaints on stderr (a file, for the failure message). */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_environ (launcher, self->environ);
  g_subprocess_launcher_set_cwd (launcher, self->tmpdir);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  fd = open (self->bus_log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_subprocess_launcher_take_stderr_fd (launcher, fd);

  subprocess = g_subprocess_launcher_spawnv (launcher, argv, &error);
  if (subprocess == NULL)
    g_error ("cannot start dbus-daemon (package dbus): %s", error->message);

  {
    HarkTestProcess *process = g_new0 (HarkTestProcess, 1);
    pid_t pid = (pid_t) g_ascii_strtoll (g_subprocess_get_identifier (subprocess), NULL, 10);

    g_object_set_data (G_OBJECT (subprocess), "hark-test-pid", GINT_TO_POINTER (pid));
    emergency_add_pid (pid);
    process->subprocess = g_object_ref (subprocess);
    g_subprocess_wait_async (subprocess, NULL, process_wait_cb, process);
    g_ptr_array_add (self->processes, process);
    self->bus = process;
  }

  input = g_data_input_stream_new (g_subprocess_get_stdout_pipe (subprocess));
  address = g_data_input_stream_read_line_utf8 (input, NULL, NULL, &error);
  if (address == NULL || *address == '\0')
    {
      tail = read_tail (self->bus_log_path, LOG_TAIL_BYTES);
      g_error ("dbus-daemon printed no address (%s); its log:\n%s",
               error != NULL ? error->message : "end of file", tail);
    }

  self->address = g_steal_pointer (&address);
  self->environ = g_environ_setenv (self->environ, "DBUS_SESSION_BUS_ADDRESS",
                                    self->address, TRUE);

  self->connection =
    g_dbus_connection_new_for_address_sync (self->address,
                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                            NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_set_exit_on_close (self->connection, FALSE);
}

static void
start_keyring (HarkTestBus *self)
{
  const char *argv[] = {
    "gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets", NULL,
  };
  g_autoptr(GError) error = NULL;
  GOutputStream *input;

  self->keyring = spawn_process (self, argv, G_SUBPROCESS_FLAGS_STDIN_PIPE,
                                 self->keyring_log_path, &error);
  if (self->keyring == NULL)
    g_error ("cannot start gnome-keyring-daemon (package gnome-keyring): %s", error->message);

  /* --unlock reads the login keyring's password from stdin, up to EOF. */
  input = g_subprocess_get_stdin_pipe (self->keyring->subprocess);
  g_output_stream_write_all (input, KEYRING_PASSWORD, strlen (KEYRING_PASSWORD),
                             NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_close (input, NULL, &error);
  g_assert_no_error (error);

  if (!hark_test_bus_wait_name_owner (self, HARK_TEST_SECRETS_BUS_NAME, TRUE, START_TIMEOUT_MS))
    {
      g_autofree char *tail = read_tail (self->keyring_log_path, LOG_TAIL_BYTES);

      g_error ("gnome-keyring-daemon did not own %s within %u ms; its log:\n%s",
               HARK_TEST_SECRETS_BUS_NAME, hark_test_timeout (START_TIMEOUT_MS), tail);
    }
}

typedef struct {
  HarkTestBus     *self;
  HarkTestProcess *process;
  gboolean         any_owner;   /* a wrapper (gdb) may run the daemon as its child */
} WaitOwner;

static gboolean
daemon_owns_name (WaitOwner *wait)
{
  if (wait->any_owner)
    {
      g_autofree char *owner = hark_test_bus_dup_name_owner (wait->self, HARK_TEST_BUS_NAME);

      return owner != NULL;
    }

  return hark_test_bus_get_name_owner_pid (wait->self, HARK_TEST_BUS_NAME) ==
         (guint32) hark_test_process_get_pid (wait->process);
}

static gboolean
daemon_owns_name_or_exited_cb (gpointer user_data)
{
  WaitOwner *wait = user_data;

  if (wait->process->exited)
    return TRUE;

  return daemon_owns_name (wait);
}

gboolean
hark_test_bus_start_daemon_full (HarkTestBus         *self,
                                 const char * const  *extra_args,
                                 GError             **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *wrapper = g_getenv ("HARK_TEST_DAEMON_WRAPPER");
  g_auto(GStrv) wrapper_argv = NULL;
  g_autofree char *banner = NULL;
  WaitOwner wait;
  HarkTestProcess *process;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->daemon == NULL || self->daemon->exited, FALSE);

  /* e.g. HARK_TEST_DAEMON_WRAPPER="valgrind --error-exitcode=99" */
  if (wrapper != NULL)
    {
      if (!g_shell_parse_argv (wrapper, NULL, &wrapper_argv, error))
        return FALSE;
      for (guint i = 0; wrapper_argv[i] != NULL; i++)
        g_ptr_array_add (argv, wrapper_argv[i]);
    }
  g_ptr_array_add (argv, (gpointer) HARK_DAEMON_PATH);
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) extra_args[i]);
  g_ptr_array_add (argv, NULL);

  /* The clients exist before the daemon does, so that they see it appear
   * and fetch GetManagedObjects()/GetAll() after subscribing to signals.
   * Made while the daemon is already busy (auto-register, say), a client
   * can apply an InterfacesAdded that is older than its snapshot and keep
   * stale properties for good. */
  hark_test_bus_get_object_manager (self);
  hark_test_bus_get_manager (self);

  banner = g_strdup_printf ("=== hark-test-bus: starting hark-daemon, run %u ===\n",
                            ++self->n_daemon_runs);
  append_to_file (self->log_path, banner);

  process = spawn_process (self, (const char * const *) argv->pdata,
                           G_SUBPROCESS_FLAGS_NONE, self->log_path, error);
  if (process == NULL)
    return FALSE;
  self->daemon = process;

  wait.self = self;
  wait.process = process;
  wait.any_owner = wrapper != NULL;
  hark_test_wait_for (daemon_owns_name_or_exited_cb, &wait, START_TIMEOUT_MS);

  if (process->exited)
    {
      g_autofree char *tail = hark_test_bus_dup_log_tail (self, LOG_TAIL_BYTES);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s exited (wait status 0x%x) before owning %s; log tail:\n%s",
                   HARK_DAEMON_PATH, process->wait_status, HARK_TEST_BUS_NAME, tail);
      return FALSE;
    }

  if (!daemon_owns_name (&wait))
    {
      g_autofree char *tail = hark_test_bus_dup_log_tail (self, LOG_TAIL_BYTES);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "%s (pid %d) did not own %s within %u ms; log tail:\n%s",
                   HARK_DAEMON_PATH, hark_test_process_get_pid (process), HARK_TEST_BUS_NAME,
                   hark_test_timeout (START_TIMEOUT_MS), tail);
      return FALSE;
    }

  if (!hark_test_bus_wait_clients (self, START_TIMEOUT_MS))
    {
      g_autofree char *tail = hark_test_bus_dup_log_tail (self, LOG_TAIL_BYTES);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "%s owns %s but its objects and Manager1 properties did not load "
                   "within %u ms; log tail:\n%s",
                   HARK_DAEMON_PATH, HARK_TEST_BUS_NAME, hark_test_timeout (START_TIMEOUT_MS),
                   tail);
      return FALSE;
    }

  return TRUE;
}

void
hark_test_bus_start_daemon (HarkTestBus *self)
{
  g_autoptr(GError) error = NULL;

  hark_test_bus_start_daemon_full (self, NULL, &error);
  g_assert_no_error (error);
}

gboolean
hark_test_bus_kill_daemon (HarkTestBus *self,
                           int          signum,
                           guint        timeout_ms,
                           int         *out_wait_status)
{
  HarkTestProcess *process;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->daemon != NULL, FALSE);

  process = self->daemon;
  if (!process->exited)
    kill (hark_test_process_get_pid (process), signum);

  if (!hark_test_process_wait (process, timeout_ms))
    return FALSE;

  if (out_wait_status != NULL)
    *out_wait_status = process->wait_status;

  /* The bus notices the closed socket a little later. */
  hark_test_bus_wait_name_owner (self, HARK_TEST_BUS_NAME, FALSE, 2000);

  return TRUE;
}

void
hark_test_bus_restart_daemon (HarkTestBus *self)
{
  g_return_if_fail (self != NULL);

  g_clear_object (&self->object_manager);
  g_clear_object (&self->manager);

  if (self->daemon != NULL && !self->daemon->exited)
    {
      process_stop (self->daemon, SIGTERM, STOP_TIMEOUT_MS);
      check_daemon_exit (self, self->daemon);
      hark_test_bus_wait_name_owner (self, HARK_TEST_BUS_NAME, FALSE, 2000);
    }

  hark_test_bus_start_daemon (self);
}

HarkTestBus *
hark_test_bus_new (HarkTestBusFlags flags)
{
  return hark_test_bus_new_full (flags, NULL);
}

/**
 * hark_test_bus_new_full:
 * @flags: what to start
 * @extra_env: (nullable): "NAME=VALUE" strings for the children's environment,
 *   overriding the harness's defaults (e.g. HARK_AUDIO_SOURCE)
 *
 * Like hark_test_bus_new(). Several buses may live at once (two daemons
 * calling each other); the first one's log is the one shown if the test
 * dies of a signal.
 */
HarkTestBus *
hark_test_bus_new_full (HarkTestBusFlags    flags,
                        const char * const *extra_env)
{
  g_autoptr(GError) error = NULL;
  HarkTestBus *self;
  gboolean primary = current_bus == NULL;

  if (!emergency_installed)
    emergency_install ();

  self = g_new0 (HarkTestBus, 1);
  if (primary)
    current_bus = self;
  self->flags = flags;
  self->processes = g_ptr_array_new ();

  self->tmpdir = g_dir_make_tmp ("hark-test-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_message ("hark-test-bus: files in %s", self->tmpdir);

  self->home = make_subdir (self->tmpdir, "home", 0700);
  self->config_home = make_subdir (self->tmpdir, "config", 0700);
  self->data_home = make_subdir (self->tmpdir, "data", 0700);
  self->cache_home = make_subdir (self->tmpdir, "cache", 0700);
  self->state_home = make_subdir (self->tmpdir, "state", 0700);
  self->runtime_dir = make_subdir (self->tmpdir, "runtime", 0700);
  self->log_path = g_build_filename (self->tmpdir, "hark-daemon.log", NULL);
  self->bus_log_path = g_build_filename (self->tmpdir, "dbus-daemon.log", NULL);
  self->keyring_log_path = g_build_filename (self->tmpdir, "gnome-keyring.log", NULL);
  self->environ = make_environ (self);
  for (guint i = 0; extra_env != NULL && extra_env[i] != NULL; i++)
    {
      g_auto(GStrv) pair = g_strsplit (extra_env[i], "=", 2);

      g_assert_nonnull (pair[1]);
      self->environ = g_environ_setenv (self->environ, pair[0], pair[1], TRUE);
    }

  if (primary)
    {
      g_strlcpy (emergency_log_path, self->log_path, sizeof emergency_log_path);
      g_strlcpy (emergency_tmpdir, self->tmpdir, sizeof emergency_tmpdir);
    }

  start_bus (self);

  if (flags & HARK_TEST_BUS_FLAGS_KEYRING)
    start_keyring (self);

  if (!(flags & HARK_TEST_BUS_FLAGS_NO_DAEMON))
    hark_test_bus_start_daemon (self);

  return self;
}

static gboolean
is_our_child (HarkTestBus *self,
              guint32      pid)
{
  for (guint i = 0; i < self->processes->len; i++)
    {
      HarkTestProcess *process = g_ptr_array_index (self->processes, i);

      if ((guint32) hark_test_process_get_pid (process) == pid)
        return TRUE;
    }
  return FALSE;
}

static gboolean
pid_gone_cb (gpointer user_data)
{
  return kill ((pid_t) GPOINTER_TO_UINT (user_data), 0) != 0 && errno == ESRCH;
}

/* A daemon started by D-Bus activation is the bus's child, not ours. */
static void
stop_activated_daemon (HarkTestBus *self)
{
  guint32 pid = hark_test_bus_get_name_owner_pid (self, HARK_TEST_BUS_NAME);

  if (pid == 0 || is_our_child (self, pid))
    return;

  kill ((pid_t) pid, SIGTERM);
  if (!hark_test_bus_wait_name_owner (self, HARK_TEST_BUS_NAME, FALSE, STOP_TIMEOUT_MS))
    {
      g_test_message ("activated hark-daemon (pid %u) ignored SIGTERM; killing it", pid);
      kill ((pid_t) pid, SIGKILL);
    }

  /* Give the bus the time to reap it, or it stays a zombie of init. */
  hark_test_wait_for (pid_gone_cb, GUINT_TO_POINTER (pid), 2000);
}

/* A sanitizer build reports into the log of the process that erred and
 * exits (or aborts) after the test has already seen what it wanted: without
 * this look, a leak or an overflow in the daemon would pass unnoticed. */
static void
check_sanitizer_reports (HarkTestBus *self)
{
  static const char * const markers[] = {
    "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error: ",
  };

  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    {
      g_autofree char *path = hark_test_find_in_files (self->tmpdir, markers[i]);
      g_autofree char *contents = NULL;
      g_autofree char *report = NULL;
      const char *start;

      if (path == NULL || !g_file_get_contents (path, &contents, NULL, NULL))
        continue;

      /* The report from its first line on: that is where it names the bug. */
      start = strstr (contents, markers[i]);
      start = start != NULL ? start : contents;
      report = g_utf8_make_valid (start, MIN (strlen (start), 8000));
      g_test_message ("hark-test-bus: sanitizer report in %s:\n%s", path, report);
      g_printerr ("hark-test-bus: sanitizer report in %s:\n%s\n", path, report);
      g_test_fail ();
      return;
    }
}

/* The daemon exits 0 on SIGTERM: a crash while it shuts down (which only
 * a sanitizer build would otherwise report) fails the test. */
static void
check_daemon_exit (HarkTestBus     *self,
                   HarkTestProcess *process)
{
  int status = process->wait_status;

  if (!process->exited || !WIFSIGNALED (status) ||
      WTERMSIG (status) == SIGKILL || WTERMSIG (status) == SIGTERM)
    return;
  g_test_message ("hark-test-bus: hark-daemon died of signal %d (%s) while stopping",
                  WTERMSIG (status), g_strsignal (WTERMSIG (status)));
  g_printerr ("hark-test-bus: hark-daemon died of signal %d (%s) while stopping; its log "
              "is %s\n", WTERMSIG (status), g_strsignal (WTERMSIG (status)), self->log_path);
  g_test_fail ();
}

void
hark_test_bus_free (HarkTestBus *self)
{
  gboolean keep;

  if (self == NULL)
    return;

  g_clear_object (&self->object_manager);
  g_clear_object (&self->manager);

  /* hark-daemon (and anything else a test spawned) first, newest first,
   * gently so that a sanitizer build can report; then the keyring; the bus
   * last. */
  for (guint i = self->processes->len; i > 0; i--)
    {
      HarkTestProcess *process = g_ptr_array_index (self->processes, i - 1);

      if (process != self->bus && process != self->keyring)
        process_stop (process, SIGTERM, STOP_TIMEOUT_MS);
      if (process == self->daemon)
        check_daemon_exit (self, process);
    }

  if (self->connection != NULL)
    stop_activated_daemon (self);

  if (self->keyring != NULL)
    process_stop (self->keyring, SIGTERM, STOP_TIMEOUT_MS);

  if (self->connection != NULL)
    {
      g_dbus_connection_close_sync (self->connection, NULL, NULL);
      g_clear_object (&self->connection);
    }

  if (self->bus != NULL)
    process_stop (self->bus, SIGTERM, STOP_TIMEOUT_MS);

  /* Let the last signals and replies reach their (now closed) ends. */
  while (g_main_context_iteration (NULL, FALSE))
    ;

  /* Only this bus's children: another bus may still have its own. */
  for (guint i = 0; i < self->processes->len; i++)
    {
      HarkTestProcess *process = g_ptr_array_index (self->processes, i);

      if (process->exited)
        emergency_remove_pid (hark_test_process_get_pid (process));
    }
  g_ptr_array_foreach (self->processes, (GFunc) process_free, NULL);
  g_ptr_array_unref (self->processes);

  check_sanitizer_reports (self);

  keep = g_test_failed () || g_getenv ("HARK_TEST_KEEP_TMPDIR") != NULL;
  if (keep)
    g_test_message ("hark-test-bus: kept %s", self->tmpdir);
  else if (!remove_recursive (self->tmpdir))
    g_test_message ("hark-test-bus: could not remove all of %s", self->tmpdir);

  if (self == current_bus)
    {
      emergency_log_path[0] = '\0';
      emergency_tmpdir[0] = '\0';
      current_bus = NULL;
    }

  g_free (self->tmpdir);
  g_free (self->home);
  g_free (self->config_home);
  g_free (self->data_home);
  g_free (self->cache_home);
  g_free (self->state_home);
  g_free (self->runtime_dir);
  g_free (self->log_path);
  g_free (self->bus_log_path);
  g_free (self->keyring_log_path);
  g_free (self->address);
  g_strfreev (self->environ);
  g_free (self);
}
