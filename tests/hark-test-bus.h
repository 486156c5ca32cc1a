/* hark-test-bus.h
 *
 * Shared harness of the D-Bus integration tests: a temp dir used as HOME and
 * every XDG dir, a private dbus-daemon, optionally gnome-keyring-daemon for
 * the Secret Service, and hark-daemon itself, all torn down at the end of
 * each test, even when it fails.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-dbus-generated.h"

G_BEGIN_DECLS

#define HARK_TEST_BUS_NAME    "io.github.hark.Hark.Daemon"
#define HARK_TEST_OBJECT_PATH "/io/github/hark/Hark"
#define HARK_TEST_PROFILE1    "io.github.hark.Hark.Profile1"
#define HARK_TEST_MANAGER1    "io.github.hark.Hark.Manager1"
#define HARK_TEST_SECRETS_BUS_NAME "org.freedesktop.secrets"

/**
 * HarkTestBusFlags:
 * @HARK_TEST_BUS_FLAGS_NONE: a private bus and hark-daemon
 * @HARK_TEST_BUS_FLAGS_KEYRING: also start gnome-keyring-daemon (Secret Service)
 *   on the private bus, with an unlocked login keyring
 * @HARK_TEST_BUS_FLAGS_NO_DAEMON: do not start hark-daemon at setup; call
 *   hark_test_bus_start_daemon() or hark_test_bus_spawn() later
 */
typedef enum {
  HARK_TEST_BUS_FLAGS_NONE      = 0,
  HARK_TEST_BUS_FLAGS_KEYRING   = 1 << 0,
  HARK_TEST_BUS_FLAGS_NO_DAEMON = 1 << 1,
} HarkTestBusFlags;

typedef struct _HarkTestBus HarkTestBus;

/**
 * HarkTestProcess:
 * @subprocess: the process
 * @exited: whether it has been reaped
 * @wait_status: its wait status (see `WIFEXITED()`), once @exited
 *
 * A child process of the harness; killed at teardown if still running.
 */
typedef struct {
  GSubprocess *subprocess;
  gboolean     exited;
  int          wait_status;
} HarkTestProcess;

typedef gboolean (*HarkTestConditionFunc) (gpointer user_data);

/* Fixture life cycle. hark_test_bus_new() fails the test (with the logs'
 * tails) if any part does not come up. */
HarkTestBus       *hark_test_bus_new                    (HarkTestBusFlags   flags);
HarkTestBus       *hark_test_bus_new_full               (HarkTestBusFlags   flags,
                                                         const char * const *extra_env);
void               hark_test_bus_free                   (HarkTestBus       *self);

/* Where things are. */
const char        *hark_test_bus_get_tmpdir             (HarkTestBus       *self);
const char        *hark_test_bus_get_config_home        (HarkTestBus       *self);
const char        *hark_test_bus_get_data_home          (HarkTestBus       *self);
const char        *hark_test_bus_get_cache_home         (HarkTestBus       *self);
const char        *hark_test_bus_get_runtime_dir        (HarkTestBus       *self);
char              *hark_test_bus_dup_hark_config_dir    (HarkTestBus       *self);
const char        *hark_test_bus_get_address            (HarkTestBus       *self);
const char        *hark_test_bus_get_log_path           (HarkTestBus       *self);
const char * const *hark_test_bus_get_environ           (HarkTestBus       *self);

/* Clients on the private bus. The object manager and manager proxy are made
 * before hark-daemon starts (or on first use) and never auto-start it; they
 * are replaced by hark_test_bus_restart_daemon(), so get them again after a
 * restart. hark_test_bus_wait_clients() waits until both follow the
 * current owner of the name (after --replace, say) and have loaded. */
GDBusConnection   *hark_test_bus_get_connection         (HarkTestBus       *self);
GDBusObjectManager *hark_test_bus_get_object_manager    (HarkTestBus       *self);
HarkDBusManager1  *hark_test_bus_get_manager            (HarkTestBus       *self);
gboolean           hark_test_bus_wait_clients           (HarkTestBus       *self,
                                                         guint              timeout_ms);

/* hark-daemon. */
void               hark_test_bus_start_daemon           (HarkTestBus       *self);
gboolean           hark_test_bus_start_daemon_full      (HarkTestBus       *self,
                                                         const char * const *extra_args,
                                                         GError           **error);
HarkTestProcess   *hark_test_bus_get_daemon             (HarkTestBus       *self);
gboolean           hark_test_bus_kill_daemon            (HarkTestBus       *self,
                                                         int                signum,
                                                         guint              timeout_ms,
                                                         int               *out_wait_status);
void               hark_test_bus_restart_daemon         (HarkTestBus       *self);
HarkTestProcess   *hark_test_bus_spawn                  (HarkTestBus       *self,
                                                         const char * const *argv,
                                                         const char        *output_path,
                                                         GError           **error);
gboolean           hark_test_bus_run                    (HarkTestBus       *self,
                                                         const char * const *argv,
                                                         guint              timeout_ms,
                                                         char             **out_output,
                                                         int               *out_wait_status);
gboolean           hark_test_process_wait               (HarkTestProcess   *process,
                                                         guint              timeout_ms);
int                hark_test_process_get_pid            (HarkTestProcess   *process);

/* The daemon's stdout and stderr of every run in this test, appended. */
char              *hark_test_bus_read_log               (HarkTestBus       *self);
char              *hark_test_bus_dup_log_tail           (HarkTestBus       *self,
                                                         gsize              max_bytes);

/* Bus names. */
char              *hark_test_bus_dup_name_owner         (HarkTestBus       *self,
                                                         const char        *name);
guint32            hark_test_bus_get_name_owner_pid     (HarkTestBus       *self,
                                                         const char        *name);
gboolean           hark_test_bus_wait_name_owner        (HarkTestBus       *self,
                                                         const char        *name,
                                                         gboolean           owned,
                                                         guint              timeout_ms);

/* Files. */
GKeyFile          *hark_test_bus_load_profiles_keyfile  (HarkTestBus       *self,
                                                         char             **out_path,
                                                         GError           **error);
char              *hark_test_find_in_files              (const char        *dir,
                                                         const char        *needle);

/* Secret Service (with HARK_TEST_BUS_FLAGS_KEYRING): the secrets of every
 * unlocked item, as text. */
GStrv              hark_test_bus_dup_secrets            (HarkTestBus       *self,
                                                         GError           **error);

/* Objects. */
GList             *hark_test_bus_list_profiles          (HarkTestBus       *self);
HarkDBusProfile1  *hark_test_bus_find_profile           (HarkTestBus       *self,
                                                         const char        *name);
HarkDBusProfile1  *hark_test_bus_get_profile            (HarkTestBus       *self,
                                                         const char        *object_path);
GVariant          *hark_test_bus_get_all_properties     (HarkTestBus       *self,
                                                         const char        *object_path,
                                                         const char        *interface_name,
                                                         GError           **error);

/* Waiting: iterate the default main context until the condition holds or the
 * timeout (scaled by $HARK_TEST_TIMEOUT_SCALE) passes. */
guint              hark_test_timeout                    (guint              timeout_ms);
gboolean           hark_test_wait_for                   (HarkTestConditionFunc func,
                                                         gpointer           user_data,
                                                         guint              timeout_ms);
void               hark_test_iterate                    (guint              duration_ms);
gboolean           hark_test_wait_property              (GDBusProxy        *proxy,
                                                         const char        *property,
                                                         GVariant          *value,
                                                         guint              timeout_ms);
gboolean           hark_test_wait_property_string       (GDBusProxy        *proxy,
                                                         const char        *property,
                                                         const char        *value,
                                                         guint              timeout_ms);
gboolean           hark_test_wait_property_boolean      (GDBusProxy        *proxy,
                                                         const char        *property,
                                                         gboolean           value,
                                                         guint              timeout_ms);

/* A port free on 127.0.0.1 for TCP (and UDP too when @udp_and_tcp) right
 * now; never the same one twice in a process. */
guint16            hark_test_get_free_port              (gboolean           udp_and_tcp);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkTestBus, hark_test_bus_free)

/* gdbus-codegen 2.74 defines cleanup functions for the proxy and skeleton
 * classes only, not for the interface types the accessors return. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusManager1, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusProfile1, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusRegistration1, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusObject, g_object_unref)

G_END_DECLS
