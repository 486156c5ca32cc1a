/* hark-call-manager.c — the calls of every profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Places calls for Manager1.Dial(), turns INVITEs that reach a profile's
 * SIP agent into incoming calls (Manager1.IncomingCall), exports each call
 * and its dialog, and takes them off the bus a few seconds after they have
 * ended, so that a client that looks late still sees how a call ended.
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/url.h>

#include "hark-call.h"
#include "hark-call-manager.h"
#include "hark-error.h"
#include "hark-linger.h"
#include "hark-profile.h"
#include "hark-profile-store.h"
#include "hark-secret-store.h"
#include "hark-uri.h"
#include "media/hark-media-types.h"
#include "sip/hark-sip-agent.h"

/* How long an ended call and its dialog stay on the bus */
#define LINGER_SECONDS 3

#define AGENT_PROFILE_KEY "hark-call-manager-profile-path"

struct _HarkCallManager
{
  GObject                   parent_instance;

  GDBusObjectManagerServer *server;
  HarkDBusManager1         *manager;
  HarkProfileStore         *profiles;
  GHashTable               *calls;       /* set of HarkCall*, running or lingering */
  HarkLinger               *linger;      /* ended calls, and dialogs of lost forks */
  guint                     trim_id;     /* the second malloc_trim() */
  guint                     calls_peak;  /* most calls since the last trim */
  gboolean                  refusing;    /* INVITEs get 503: no room for media */
};

G_DEFINE_FINAL_TYPE (HarkCallManager, hark_call_manager, G_TYPE_OBJECT)

static gboolean
trim_cb (gpointer user_data)
{
  HarkCallManager *self = user_data;

  self->trim_id = 0;
#ifdef __GLIBC__
  malloc_trim (0);
#endif
  return G_SOURCE_REMOVE;
}

/* Each call's pipeline ran threads with their own malloc arenas; glibc
 * keeps what they freed. Once no call, or half as many as at the busiest
 * moment since the last time, is left, give it back to the system, or the
 * daemon stays at the size of that moment (bench/calls). Sofia keeps each
 * call's last transactions (the BYE's, for a retransmit) for 64*T1 more:
 * what they free then goes back too. */
static void
give_memory_back (HarkCallManager *self)
{
#ifdef __GLIBC__
  malloc_trim (0);
#endif
  g_clear_handle_id (&self->trim_id, g_source_remove);
  self->trim_id = g_timeout_add (hark_sip_get_t1x64_ms () + 1000, trim_cb, self);
}

static void
remove_call (HarkCallManager *self,
             HarkCall        *call)
{
  g_dbus_object_manager_server_unexport (self->server, hark_call_get_object_path (call));
  g_dbus_object_manager_server_unexport (self->server,
                                         hark_dialog_get_object_path (hark_call_get_dialog (call)));
  g_signal_handlers_disconnect_by_data (call, self);
  /* Drops the manager's reference; the linger's goes next, and the call
   * frees its handle and SDP. */
  g_hash_table_remove (self->calls, call);

  if (g_hash_table_size (self->calls) * 2 <= self->calls_peak)
    {
      self->calls_peak = g_hash_table_size (self->calls);
      give_memory_back (self);
    }
}

/* An ended call with its dialog, or the dialog of a fork that lost */
static void
on_linger_over (gpointer object,
                gpointer user_data)
{
  HarkCallManager *self = user_data;

  if (HARK_IS_CALL (object))
    remove_call (self, object);
  else
    g_dbus_object_manager_server_unexport (self->server, hark_dialog_get_object_path (object));
}

static void
on_call_ended (HarkCall        *call,
               HarkCallManager *self)
{
  hark_linger_add (self->linger, call);
}

/* The early dialog of another fork of an outgoing call's INVITE */
static void
on_fork_dialog_added (HarkCallForks   *forks,
                      HarkDialog      *dialog,
                      HarkCallManager *self)
{
  g_dbus_object_manager_server_export (self->server,
                                       G_DBUS_OBJECT_SKELETON (hark_dialog_get_object (dialog)));
}

static void
on_fork_dialog_ended (HarkCallForks   *forks,
                      HarkDialog      *dialog,
                      HarkCallManager *self)
{
  hark_linger_add (self->linger, dialog);
}

static void on_call_transfer_requested (HarkCall        *call,
                                        const char      *uri,
                                        HarkCallManager *self);

static void
add_call (HarkCallManager *self,
          HarkCall        *call)
{
  g_hash_table_add (self->calls, g_object_ref (call));
  self->calls_peak = MAX (self->calls_peak, g_hash_table_size (self->calls));
  g_signal_connect_object (call, "ended", G_CALLBACK (on_call_ended), self, 0);
  g_signal_connect_object (call, "transfer-requested", G_CALLBACK (on_call_transfer_requested),
                           self, 0);

  if (hark_call_get_forks (call) != NULL)
    {
      g_signal_connect_object (hark_call_get_forks (call), "dialog-added",
                               G_CALLBACK (on_fork_dialog_added), self, 0);
      g_signal_connect_object (hark_call_get_forks (call), "dialog-ended",
                               G_CALLBACK (on_fork_dialog_ended), self, 0);
    }

  /* The dialog first, so the call's Dialog property names an object. */
  g_dbus_object_manager_server_export (self->server,
                                       G_DBUS_OBJECT_SKELETON (
                                         hark_dialog_get_object (hark_call_get_dialog (call))));
  g_dbus_object_manager_server_export (self->server,
                                       G_DBUS_OBJECT_SKELETON (hark_call_get_object (call)));
}

/* ------------------------------------------------------------------------ */
/* Incoming                                                                  */

static void
refuse (nua_handle_t *nh,
        int           status,
        const char   *phrase)
{
  nua_respond (nh, status, phrase, TAG_END ());
  nua_handle_destroy (nh);
}

static gboolean
on_incoming_request (HarkSipAgent    *agent,
                     int              event,
                     gpointer         handle,
                     gpointer         message,
                     HarkCallManager *self)
{
  nua_handle_t *nh = handle;
  const sip_t *sip = message;
  const char *profile_path = g_object_get_data (G_OBJECT (agent), AGENT_PROFILE_KEY);
  g_autoptr(HarkCall) call = NULL;
  g_autoptr(GError) error = NULL;
  HarkProfile *profile;

  if (event != nua_i_invite)
    return FALSE;

  /* Sofia has parsed the request, but a peer can still leave out what a
   * call needs; answer it instead of trusting it. */
  if (sip == NULL || sip->sip_from == NULL || sip->sip_to == NULL || sip->sip_call_id == NULL ||
      sip->sip_request == NULL)
    {
      refuse (nh, SIP_400_BAD_REQUEST);
      return TRUE;
    }

  /* A re-INVITE for a dialog that has ended (or never was ours) is not a
   * new call: RFC 3261 section 12.2.2. */
  if (sip->sip_to->a_tag != NULL)
    {
      refuse (nh, SIP_481_NO_TRANSACTION);
      return TRUE;
    }

  if (profile_path == NULL)
    {
      refuse (nh, SIP_480_TEMPORARILY_UNAVAILABLE);
      return TRUE;
    }

  if (!hark_media_has_room_for_call (&error))
    {
      if (!self->refusing)
        g_message ("Refusing incoming calls with 503 until one ends: %s", error->message);
      self->refusing = TRUE;
      refuse (nh, SIP_503_SERVICE_UNAVAILABLE);
      return TRUE;
    }
  if (self->refusing)
    g_message ("Taking incoming calls again");
  self->refusing = FALSE;

  call = hark_call_new_incoming (agent, profile_path, nh, sip);
  add_call (self, call);

  profile = hark_profile_store_lookup (self->profiles, profile_path, NULL);
  if (profile != NULL)
    {
      hark_call_set_auto_answer (call,
                                 hark_dbus_profile1_get_auto_answer (
                                   hark_profile_get_iface (profile)));
      hark_call_set_media_encryption (call,
                                      hark_dbus_profile1_get_media_encryption (
                                        hark_profile_get_iface (profile)));
    }
  hark_call_start (call);

  g_debug ("Incoming call %s for %s", hark_call_get_object_path (call), profile_path);
  hark_dbus_manager1_emit_incoming_call (self->manager, hark_call_get_object_path (call));
  return TRUE;
}

/* For tests only: a shorter 64*T1 (hark_sip_get_t1x64_ms()), how long a
 * 2xx waits for its ACK and a request for an answer. */
static void
apply_test_timers (HarkSipAgent *agent)
{
  nua_t *nua = hark_sip_agent_get_nua (agent);
  guint ms = hark_sip_get_t1x64_ms ();

  if (nua == NULL || ms == HARK_SIP_T1X64_MS)
    return;
  g_debug ("SIP transactions time out after %u ms (HARK_SIP_T1X64_MS)", ms);
  nua_set_params (nua, NTATAG_SIP_T1X64 (ms), TAG_END ());
}

/**
 * hark_call_manager_watch_agent:
 * @profile: the profile that owns @agent
 * @agent: a SIP agent
 *
 * Makes INVITEs that reach @agent incoming calls of @profile. Idempotent.
 */
void
hark_call_manager_watch_agent (HarkCallManager *self,
                               HarkProfile     *profile,
                               HarkSipAgent    *agent)
{
  g_return_if_fail (HARK_IS_CALL_MANAGER (self));
  g_return_if_fail (HARK_IS_PROFILE (profile));
  g_return_if_fail (HARK_IS_SIP_AGENT (agent));

  if (g_object_get_data (G_OBJECT (agent), AGENT_PROFILE_KEY) != NULL)
    return;

  /* The path and not the profile: an agent can outlive its profile while
   * a call still uses it. */
  g_object_set_data_full (G_OBJECT (agent), AGENT_PROFILE_KEY,
                          g_strdup (hark_profile_get_object_path (profile)), g_free);
  g_signal_connect_object (agent, "incoming-request", G_CALLBACK (on_incoming_request), self, 0);
  apply_test_timers (agent);
}

static gboolean
agent_created_hook (GSignalInvocationHint *hint,
                    guint                  n_values,
                    const GValue          *values,
                    gpointer               user_data)
{
  HarkCallManager *self = user_data;

  if (n_values >= 2)
    hark_call_manager_watch_agent (self, g_value_get_object (&values[0]),
                                   g_value_get_object (&values[1]));
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Dial                                                                      */

static char *
first_aor (HarkProfile *profile)
{
  const char * const *aors = hark_dbus_profile1_get_aors (hark_profile_get_iface (profile));

  return aors != NULL && aors[0] != NULL ? g_strdup (aors[0]) : NULL;
}

static gboolean
is_plain_number (const char *text)
{
  gboolean digits = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p))
        digits = TRUE;
      else if (strchr ("+*#-.() ", *p) == NULL)
        return FALSE;
    }
  return digits;
}

/* "sip:…" as it is, "user@host" and plain numbers completed from the
 * profile: the scheme of its transport and, for numbers, its domain. */
static char *
complete_uri (HarkProfile  *profile,
              const char   *uri,
              GError      **error)
{
  HarkDBusProfile1 *iface = hark_profile_get_iface (profile);
  gboolean tls = g_strcmp0 (hark_dbus_profile1_get_transport (iface), "tls") == 0;
  const char *scheme = tls ? "sips" : "sip";
  g_autofree char *completed = NULL;

  if (g_ascii_strncasecmp (uri, "sip:", 4) == 0 || g_ascii_strncasecmp (uri, "sips:", 5) == 0)
    completed = g_strdup (uri);
  else if (strchr (uri, '@') != NULL &&
           (strchr (uri, ':') == NULL || strchr (uri, ':') > strchr (uri, '@')))
    /* user@host[:port]: no scheme before the '@' */
    completed = g_strdup_printf ("%s:%s", scheme, uri);
  else if (is_plain_number (uri))
    {
      su_home_t home[1] = { SU_HOME_INIT (home) };
      g_autofree char *aor = first_aor (profile);
      g_autoptr(GString) number = g_string_new (NULL);
      url_t *url = aor ? url_make (home, aor) : NULL;

      for (const char *p = uri; *p != '\0'; p++)
        if (strchr ("-.() ", *p) == NULL)
          g_string_append_c (number, *p);

      if (url != NULL && url->url_host != NULL)
        completed = g_strdup_printf ("%s:%s@%s%s%s", scheme, number->str, url->url_host,
                                     url->url_port ? ":" : "", url->url_port ? url->url_port : "");
      su_home_deinit (home);

      if (completed == NULL)
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Argument “uri”: “%s” is a number, but profile “%s” has no domain to "
                       "call it at; dial a SIP URI such as sip:%s@192.0.2.1 instead",
                       uri, hark_profile_get_name (profile), number->str);
          return NULL;
        }
    }
  else
    completed = g_strdup (uri);

  if (!hark_uri_check (completed, 0, "Argument “uri”", error))
    return NULL;
  return g_steal_pointer (&completed);
}

/* Whom the profile's password belongs to: its user name, the private
 * identity for IMS (3GPP TS 24.229), else the user part of its AOR. */
static char *
dup_auth_username (HarkProfile *profile,
                   const char  *local_uri)
{
  HarkDBusProfile1 *iface = hark_profile_get_iface (profile);
  const char *username = hark_dbus_profile1_get_username (iface);
  const char *private_id = hark_dbus_profile1_get_private_id (iface);
  su_home_t home[1] = { SU_HOME_INIT (home) };
  g_autofree char *aor = first_aor (profile);
  char *result = NULL;
  url_t *url;

  if (g_strcmp0 (hark_dbus_profile1_get_kind (iface), "ims") == 0 &&
      private_id != NULL && *private_id != '\0')
    return g_strdup (private_id);
  if (username != NULL && *username != '\0')
    return g_strdup (username);

  url = url_make (home, aor ? aor : local_uri);
  if (url != NULL && url->url_user != NULL && *url->url_user != '\0')
    result = g_strdup (url->url_user);
  su_home_deinit (home);
  return result;
}

static gboolean
lookup_uri_option (GVariant    *options,
                   const char  *key,
                   char       **out,
                   GError     **error)
{
  g_autofree char *what = NULL;

  if (!g_variant_lookup (options, key, "s", out))
    return TRUE;

  what = g_strdup_printf ("Option “%s”", key);
  if (!hark_uri_check (*out, 0, what, error))
    {
      g_clear_pointer (out, g_free);
      return FALSE;
    }
  return TRUE;
}

/* A new outgoing call of @profile, on the bus but not started: for Dial()
 * and for a REFER we follow. */
static HarkCall *
place_call (HarkCallManager  *self,
            HarkProfile      *profile,
            const char       *uri,
            GVariant         *options,
            GError          **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(HarkCall) call = NULL;
  g_autofree char *remote_uri = NULL;
  g_autofree char *to = NULL;
  g_autofree char *from = NULL;
  g_autofree char *contact = NULL;
  g_autofree char *request_uri = NULL;
  g_autofree char *local_uri = NULL;
  HarkCallSetup setup = { 0 };
  HarkSipAgent *agent;
  const char *username;
  const char *realm;
  g_autofree char *auth_username = NULL;

  if (options != NULL &&
      (!hark_call_check_dial_options (options, error) ||
       !lookup_uri_option (options, "to", &to, error) ||
       !lookup_uri_option (options, "from", &from, error) ||
       !lookup_uri_option (options, "contact", &contact, error) ||
       !lookup_uri_option (options, "request-uri", &request_uri, error)))
    return NULL;
  if ((remote_uri = complete_uri (profile, uri, error)) == NULL)
    return NULL;

  agent = hark_profile_ensure_agent (profile, &local_error);
  if (agent == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED, "Profile “%s” cannot place calls: %s",
                   hark_profile_get_name (profile), local_error->message);
      return NULL;
    }
  hark_call_manager_watch_agent (self, profile, agent);

  /* Who we are: the caller's choice, the profile's identity, or for the
   * local profile its own Contact (user@this-host:port). */
  local_uri = from ? g_strdup (from) : first_aor (profile);
  if (local_uri == NULL)
    local_uri = g_strdup (hark_dbus_profile1_get_contact (hark_profile_get_iface (profile)));
  if (local_uri == NULL || *local_uri == '\0')
    {
      g_free (local_uri);
      local_uri = g_strdup (hark_sip_agent_get_contact (agent));
    }

  username = hark_dbus_profile1_get_username (hark_profile_get_iface (profile));
  realm = hark_dbus_profile1_get_realm (hark_profile_get_iface (profile));
  auth_username = dup_auth_username (profile, local_uri);

  setup.profile_path = hark_profile_get_object_path (profile);
  setup.remote_uri = to ? to : remote_uri;
  setup.request_uri = request_uri ? request_uri : remote_uri;
  setup.local_uri = local_uri;
  setup.contact = contact;
  setup.contact_user = username && *username ? username : NULL;
  setup.options = options;
  setup.secrets = hark_profile_store_get_secrets (self->profiles);
  setup.profile_id = hark_profile_get_id (profile);
  setup.auth_username = auth_username;
  setup.auth_realm = realm && *realm ? realm : NULL;

  call = hark_call_new_outgoing (agent, &setup, error);
  if (call == NULL)
    return NULL;
  hark_call_set_media_encryption (call, hark_dbus_profile1_get_media_encryption (
                                          hark_profile_get_iface (profile)));

  add_call (self, call);
  return g_steal_pointer (&call);
}

/**
 * hark_call_manager_dial:
 *
 * Handles Manager1.Dial(): completes @invocation with the new call's path
 * or a named error.
 */
void
hark_call_manager_dial (HarkCallManager       *self,
                        GDBusMethodInvocation *invocation,
                        const char            *profile_path,
                        const char            *uri,
                        GVariant              *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkCall) call = NULL;
  HarkProfile *profile;

  g_return_if_fail (HARK_IS_CALL_MANAGER (self));

  profile = hark_profile_store_lookup (self->profiles, profile_path, &error);
  if (profile == NULL ||
      (call = place_call (self, profile, uri, options, &error)) == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }

  hark_dbus_manager1_complete_dial (self->manager, invocation, hark_call_get_object_path (call));
  hark_call_start (call);
}

/* The peer of @call asked us to call @uri instead (REFER): a new outgoing
 * call from the same profile, announced by InterfacesAdded only (it is
 * ours, not an IncomingCall). */
static void
on_call_transfer_requested (HarkCall        *call,
                            const char      *uri,
                            HarkCallManager *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkCall) target = NULL;
  HarkProfile *profile;

  profile = hark_profile_store_lookup (self->profiles, hark_call_get_profile_path (call), &error);
  if (profile != NULL)
    target = place_call (self, profile, uri, NULL, &error);
  if (target == NULL)
    {
      g_debug ("Not following the transfer of %s to %s: %s",
               hark_call_get_object_path (call), uri, error->message);
      hark_call_transfer_failed (call, g_error_matches (error, HARK_ERROR,
                                                        HARK_ERROR_INVALID_ARGUMENT)
                                       ? 400 : 503);
      return;
    }

  g_debug ("%s transferred to %s (%s)", hark_call_get_object_path (call), uri,
           hark_call_get_object_path (target));
  hark_call_follow_transfer (call, target);
  hark_call_start (target);
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                   */

static guint agent_created_signal;
static gulong agent_created_hook_id;

static void
hark_call_manager_dispose (GObject *object)
{
  HarkCallManager *self = (HarkCallManager *) object;

  if (agent_created_hook_id != 0)
    {
      g_signal_remove_emission_hook (agent_created_signal, agent_created_hook_id);
      agent_created_hook_id = 0;
    }

  g_clear_handle_id (&self->trim_id, g_source_remove);
  g_clear_object (&self->linger);
  if (self->calls != NULL)
    {
      GHashTableIter iter;
      gpointer call;

      g_hash_table_iter_init (&iter, self->calls);
      while (g_hash_table_iter_next (&iter, &call, NULL))
        g_signal_handlers_disconnect_by_data (call, self);
      g_hash_table_remove_all (self->calls);
    }

  g_clear_object (&self->manager);
  g_clear_object (&self->server);
  g_clear_object (&self->profiles);

  G_OBJECT_CLASS (hark_call_manager_parent_class)->dispose (object);
}

static void
hark_call_manager_finalize (GObject *object)
{
  HarkCallManager *self = (HarkCallManager *) object;

  g_clear_pointer (&self->calls, g_hash_table_unref);

  G_OBJECT_CLASS (hark_call_manager_parent_class)->finalize (object);
}

static void
hark_call_manager_class_init (HarkCallManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_call_manager_dispose;
  object_class->finalize = hark_call_manager_finalize;
}

static void
hark_call_manager_init (HarkCallManager *self)
{
  self->calls = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->linger = hark_linger_new (LINGER_SECONDS, on_linger_over, self);
}

/**
 * hark_call_manager_new:
 * @server: where calls and dialogs are exported
 * @manager: the Manager1 skeleton (for IncomingCall)
 * @profiles: the profiles calls are made from
 *
 * Returns: (transfer full): the call manager; every SIP agent a profile
 *   creates from now on delivers its INVITEs to it
 */
HarkCallManager *
hark_call_manager_new (GDBusObjectManagerServer *server,
                       HarkDBusManager1         *manager,
                       HarkProfileStore         *profiles)
{
  HarkCallManager *self;
  gpointer klass;

  g_return_val_if_fail (G_IS_DBUS_OBJECT_MANAGER_SERVER (server), NULL);
  g_return_val_if_fail (HARK_DBUS_IS_MANAGER1 (manager), NULL);
  g_return_val_if_fail (HARK_IS_PROFILE_STORE (profiles), NULL);

  self = g_object_new (HARK_TYPE_CALL_MANAGER, NULL);
  self->server = g_object_ref (server);
  self->manager = g_object_ref (manager);
  self->profiles = g_object_ref (profiles);

  /* Agents are made lazily by profiles (registration, Dial, start of the
   * local profile): hook every one of them, whatever made it. */
  klass = g_type_class_ref (HARK_TYPE_PROFILE);
  agent_created_signal = g_signal_lookup ("agent-created", HARK_TYPE_PROFILE);
  g_type_class_unref (klass);
  if (agent_created_signal != 0 && agent_created_hook_id == 0)
    agent_created_hook_id = g_signal_add_emission_hook (agent_created_signal, 0,
                                                        agent_created_hook, self, NULL);

  return self;
}

guint
hark_call_manager_get_n_calls (HarkCallManager *self)
{
  g_return_val_if_fail (HARK_IS_CALL_MANAGER (self), 0);
  return g_hash_table_size (self->calls);
}
