/* hark-subscription-manager.c — the subscriptions of every profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starts subscriptions for Manager1.Subscribe(), turns SUBSCRIBEs that
 * reach a profile's SIP agent into notifier subscriptions
 * (Manager1.IncomingSubscription), shows unsolicited message-summary
 * NOTIFYs, subscribes to the voicemail summary of each registered profile,
 * and answers Profile1.SetPresence(). Subscriptions and their dialogs are
 * exported, and taken off the bus a few seconds after they have ended.
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <string.h>

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/url.h>

#include "hark-env.h"
#include "hark-error.h"
#include "hark-linger.h"
#include "hark-mwi.h"
#include "hark-pidf.h"
#include "hark-profile.h"
#include "hark-profile-store.h"
#include "hark-subscription.h"
#include "hark-subscription-manager.h"
#include "hark-uri.h"
#include "sip/hark-sip-agent.h"

/* How long an ended subscription and its dialog stay on the bus */
#define LINGER_SECONDS 3
/* How long a profile that goes away waits for its subscriptions to end on
 * the wire: within the daemon's 4 s SIGTERM bound, leaving time to
 * unregister */
#define END_PROFILE_TIMEOUT_MS 2000
/* How long an incoming SUBSCRIBE waits for Accept() or Reject() */
#define ANSWER_TIMEOUT_MS 30000
/* Events whose SUBSCRIBEs reach IncomingSubscription; nua answers others 489 */
#define ALLOWED_EVENTS "presence, message-summary, dialog"

#define AGENT_PROFILE_KEY "hark-subscription-manager-profile-path"
#define PROFILE_WATCHED_KEY "hark-subscription-manager-watched"

typedef struct
{
  char             *basic;
  char             *note;
  HarkSubscription *mwi;          /* the automatic message-summary subscription */
  HarkSubscription *unsolicited;  /* the view of unsolicited message-summary NOTIFYs */
  char             *registration; /* path of the Registration1 watched */
} ProfileState;

struct _HarkSubscriptionManager
{
  GObject                   parent_instance;

  GDBusObjectManagerServer *server;
  HarkDBusManager1         *manager;
  HarkProfileStore         *profiles;
  GHashTable               *subscriptions;  /* set of HarkSubscription*, running or lingering */
  HarkLinger               *linger;         /* the ended ones */
  GHashTable               *states;         /* profile path → ProfileState* */
  guint                     answer_timeout_ms;
};

G_DEFINE_FINAL_TYPE (HarkSubscriptionManager, hark_subscription_manager, G_TYPE_OBJECT)

/* Profiles reach the manager through hark_subscription_manager_watch_profile(),
 * called as each one is made; there is one daemon, hence one manager. */
static HarkSubscriptionManager *default_manager;

static void
profile_state_free (gpointer data)
{
  ProfileState *state = data;

  g_free (state->basic);
  g_free (state->note);
  g_clear_object (&state->mwi);
  g_clear_object (&state->unsolicited);
  g_free (state->registration);
  g_free (state);
}

static ProfileState *
get_profile_state (HarkSubscriptionManager *self,
                   const char              *profile_path)
{
  ProfileState *state = g_hash_table_lookup (self->states, profile_path);

  if (state == NULL)
    {
      state = g_new0 (ProfileState, 1);
      g_hash_table_insert (self->states, g_strdup (profile_path), state);
    }
  return state;
}

/* ------------------------------------------------------------------------ */
/* Export and removal                                                        */

static void
remove_subscription (gpointer object,
                     gpointer user_data)
{
  HarkSubscriptionManager *self = user_data;
  HarkSubscription *subscription = object;
  HarkDialog *dialog = hark_subscription_get_dialog (subscription);

  g_dbus_object_manager_server_unexport (self->server,
                                         hark_subscription_get_object_path (subscription));
  if (dialog != NULL)
    g_dbus_object_manager_server_unexport (self->server, hark_dialog_get_object_path (dialog));
  g_signal_handlers_disconnect_by_data (subscription, self);
  g_hash_table_remove (self->subscriptions, subscription);
}

static void
on_subscription_ended (HarkSubscription        *subscription,
                       HarkSubscriptionManager *self)
{
  ProfileState *state = g_hash_table_lookup (self->states,
                                             hark_subscription_get_profile (subscription));
  if (state != NULL && state->mwi == subscription)
    g_clear_object (&state->mwi);
  if (state != NULL && state->unsolicited == subscription)
    g_clear_object (&state->unsolicited);

  hark_linger_add (self->linger, subscription);
}

static void
add_subscription (HarkSubscriptionManager *self,
                  HarkSubscription        *subscription)
{
  HarkDialog *dialog = hark_subscription_get_dialog (subscription);

  g_hash_table_add (self->subscriptions, g_object_ref (subscription));
  g_signal_connect_object (subscription, "ended", G_CALLBACK (on_subscription_ended), self, 0);

  /* The dialog first, so the subscription's Dialog property names an object. */
  if (dialog != NULL)
    g_dbus_object_manager_server_export (self->server,
                                         G_DBUS_OBJECT_SKELETON (hark_dialog_get_object (dialog)));
  g_dbus_object_manager_server_export (self->server,
                                       G_DBUS_OBJECT_SKELETON (
                                         hark_subscription_get_object (subscription)));
}

/* ------------------------------------------------------------------------ */
/* Incoming requests                                                         */

static void
respond (nua_t        *nua,
         nua_handle_t *nh,
         int           status,
         const char   *phrase)
{
  nua_respond (nh, status, phrase, NUTAG_WITH_THIS (nua), TAG_END ());
  nua_handle_destroy (nh);
}

static gboolean
incoming_subscribe (HarkSubscriptionManager *self,
                    HarkSipAgent            *agent,
                    const char              *profile_path,
                    nua_handle_t            *nh,
                    const sip_t             *sip)
{
  nua_t *nua = hark_sip_agent_get_nua (agent);
  g_autoptr(HarkSubscription) subscription = NULL;
  ProfileState *state;

  if (sip == NULL || sip->sip_from == NULL || sip->sip_to == NULL || sip->sip_call_id == NULL ||
      sip->sip_event == NULL || sip->sip_event->o_type == NULL)
    {
      respond (nua, nh, SIP_400_BAD_REQUEST);
      return TRUE;
    }

  /* A SUBSCRIBE for a dialog we do not have (RFC 6665 section 4.2.1.1) */
  if (sip->sip_to->a_tag != NULL)
    {
      respond (nua, nh, SIP_481_NO_TRANSACTION);
      return TRUE;
    }

  if (profile_path == NULL)
    {
      respond (nua, nh, SIP_480_TEMPORARILY_UNAVAILABLE);
      return TRUE;
    }

  subscription = hark_subscription_new_incoming (agent, profile_path, nh, sip,
                                                 self->answer_timeout_ms);
  state = get_profile_state (self, profile_path);
  if (state->basic != NULL)
    hark_subscription_set_presence (subscription, state->basic, state->note);
  add_subscription (self, subscription);

  g_debug ("Incoming subscription %s (%s) for %s",
           hark_subscription_get_object_path (subscription),
           hark_subscription_get_event (subscription), profile_path);
  if (!hark_subscription_is_terminated (subscription))
    hark_dbus_manager1_emit_incoming_subscription (self->manager,
                                                   hark_subscription_get_object_path (subscription));
  return TRUE;
}

/* An unsolicited NOTIFY (no subscription of ours matches): message-summary
 * is shown (RFC 3842 section 3: PBXs send it without SUBSCRIBE), anything
 * else gets the 481 nua would have sent. */
static gboolean
incoming_notify (HarkSubscriptionManager *self,
                 HarkSipAgent            *agent,
                 const char              *profile_path,
                 nua_handle_t            *nh,
                 const sip_t             *sip)
{
  nua_t *nua = hark_sip_agent_get_nua (agent);
  su_home_t home[1] = { SU_HOME_INIT (home) };
  ProfileState *state;
  HarkSubscription *target;

  if (sip == NULL || sip->sip_from == NULL || sip->sip_event == NULL ||
      sip->sip_event->o_type == NULL || profile_path == NULL ||
      g_ascii_strcasecmp (sip->sip_event->o_type, "message-summary") != 0)
    {
      respond (nua, nh, 481, "Subscription Does Not Exist");
      return TRUE;
    }

  respond (nua, nh, SIP_200_OK);

  state = get_profile_state (self, profile_path);
  target = state->mwi != NULL ? state->mwi : state->unsolicited;
  if (target == NULL)
    {
      g_autofree char *uri = g_utf8_make_valid (url_as_string (home, sip->sip_from->a_url), -1);

      state->unsolicited = hark_subscription_new_unsolicited (profile_path, uri,
                                                              "message-summary");
      add_subscription (self, state->unsolicited);
      target = state->unsolicited;
    }
  su_home_deinit (home);

  hark_subscription_take_notify (target, sip);
  return TRUE;
}

static gboolean
on_incoming_request (HarkSipAgent            *agent,
                     int                      event,
                     gpointer                 handle,
                     gpointer                 message,
                     HarkSubscriptionManager *self)
{
  const char *profile_path = g_object_get_data (G_OBJECT (agent), AGENT_PROFILE_KEY);

  if (event == nua_i_subscribe)
    return incoming_subscribe (self, agent, profile_path, handle, message);
  if (event == nua_i_notify)
    return incoming_notify (self, agent, profile_path, handle, message);
  return FALSE;
}

static void
watch_agent (HarkSubscriptionManager *self,
             HarkProfile             *profile,
             HarkSipAgent            *agent)
{
  if (g_object_get_data (G_OBJECT (agent), AGENT_PROFILE_KEY) != NULL)
    return;

  g_object_set_data_full (G_OBJECT (agent), AGENT_PROFILE_KEY,
                          g_strdup (hark_profile_get_object_path (profile)), g_free);
  g_signal_connect_object (agent, "incoming-request", G_CALLBACK (on_incoming_request), self, 0);

  /* nua answers SUBSCRIBEs for events it was not told about with 489, and
   * NOTIFYs that match no subscription with 481 unless the application
   * takes them (both lists are merged with what is there). */
  nua_set_params (hark_sip_agent_get_nua (agent),
                  NUTAG_ALLOW_EVENTS (ALLOWED_EVENTS),
                  NUTAG_APPL_METHOD ("NOTIFY"),
                  TAG_END ());
}

static gboolean
agent_created_hook (GSignalInvocationHint *hint,
                    guint                  n_values,
                    const GValue          *values,
                    gpointer               user_data)
{
  HarkSubscriptionManager *self = user_data;

  if (n_values >= 2)
    watch_agent (self, g_value_get_object (&values[0]), g_value_get_object (&values[1]));
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Subscribe                                                                 */

static char *
first_aor (HarkProfile *profile)
{
  const char * const *aors = hark_dbus_profile1_get_aors (hark_profile_get_iface (profile));

  return aors != NULL && aors[0] != NULL ? g_strdup (aors[0]) : NULL;
}

static char *
dup_auth_username (HarkProfile *profile,
                   const char  *local_uri)
{
  HarkDBusProfile1 *iface = hark_profile_get_iface (profile);
  const char *username = hark_dbus_profile1_get_username (iface);
  const char *private_id = hark_dbus_profile1_get_private_id (iface);
  su_home_t home[1] = { SU_HOME_INIT (home) };
  char *result = NULL;
  url_t *url;

  if (g_strcmp0 (hark_dbus_profile1_get_kind (iface), "ims") == 0 &&
      private_id != NULL && *private_id != '\0')
    return g_strdup (private_id);
  if (username != NULL && *username != '\0')
    return g_strdup (username);

  url = url_make (home, local_uri);
  if (url != NULL && url->url_user != NULL && *url->url_user != '\0')
    result = g_strdup (url->url_user);
  su_home_deinit (home);
  return result;
}

static HarkSubscription *
start_subscription (HarkSubscriptionManager  *self,
                    HarkProfile              *profile,
                    const char               *uri,
                    const char               *event,
                    GVariant                 *options,
                    GError                  **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(HarkSubscription) subscription = NULL;
  g_autofree char *local_uri = NULL;
  g_autofree char *auth_username = NULL;
  HarkSubscriptionSetup setup = { 0 };
  const char *realm;
  HarkSipAgent *agent;

  if (!hark_subscription_check_event (event, error) ||
      !hark_subscription_check_options (options, error))
    return NULL;

  agent = hark_profile_ensure_agent (profile, &local_error);
  if (agent == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED, "Profile “%s” cannot subscribe: %s",
                   hark_profile_get_name (profile), local_error->message);
      return NULL;
    }
  watch_agent (self, profile, agent);

  local_uri = first_aor (profile);
  if (local_uri == NULL)
    local_uri = g_strdup (hark_dbus_profile1_get_contact (hark_profile_get_iface (profile)));
  if (local_uri == NULL || *local_uri == '\0')
    {
      g_free (local_uri);
      local_uri = g_strdup (hark_sip_agent_get_contact (agent));
    }

  realm = hark_dbus_profile1_get_realm (hark_profile_get_iface (profile));
  auth_username = dup_auth_username (profile, local_uri);

  setup.profile_path = hark_profile_get_object_path (profile);
  setup.uri = uri;
  setup.local_uri = local_uri;
  setup.event = event;
  setup.options = options;
  setup.secrets = hark_profile_is_local (profile) ? NULL
                  : hark_profile_store_get_secrets (self->profiles);
  setup.profile_id = hark_profile_get_id (profile);
  setup.auth_username = auth_username;
  setup.auth_realm = realm && *realm ? realm : NULL;

  subscription = hark_subscription_new_outgoing (agent, &setup, error);
  if (subscription == NULL)
    return NULL;

  add_subscription (self, subscription);
  return g_steal_pointer (&subscription);
}

/**
 * hark_subscription_manager_subscribe:
 *
 * Handles Manager1.Subscribe(): completes @invocation with the new
 * subscription's path or a named error.
 */
void
hark_subscription_manager_subscribe (HarkSubscriptionManager *self,
                                     GDBusMethodInvocation   *invocation,
                                     const char              *profile_path,
                                     const char              *uri,
                                     const char              *event,
                                     GVariant                *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkSubscription) subscription = NULL;
  HarkProfile *profile;

  g_return_if_fail (HARK_IS_SUBSCRIPTION_MANAGER (self));

  profile = hark_profile_store_lookup (self->profiles, profile_path, &error);
  if (profile == NULL ||
      !hark_uri_check (uri, 0, "Argument “uri”", &error) ||
      (subscription = start_subscription (self, profile, uri, event, options, &error)) == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }

  hark_dbus_manager1_complete_subscribe (self->manager, invocation,
                                         hark_subscription_get_object_path (subscription));
  hark_subscription_start (subscription);
}

/* ------------------------------------------------------------------------ */
/* Voicemail (MWI) of registered profiles                                    */

static void
mwi_stop (HarkSubscriptionManager *self,
          ProfileState            *state)
{
  g_autoptr(HarkSubscription) mwi = g_steal_pointer (&state->mwi);

  if (mwi != NULL && !hark_subscription_is_terminated (mwi))
    hark_subscription_unsubscribe (mwi, NULL);
}

static void
mwi_start (HarkSubscriptionManager *self,
           HarkProfile             *profile)
{
  ProfileState *state = get_profile_state (self, hark_profile_get_object_path (profile));
  const char *mwi_uri = hark_dbus_profile1_get_mwi_uri (hark_profile_get_iface (profile));
  g_autofree char *uri = (mwi_uri != NULL && *mwi_uri != '\0') ? g_strdup (mwi_uri)
                                                               : first_aor (profile);
  g_autoptr(GError) error = NULL;

  if (state->mwi != NULL || uri == NULL)
    return;

  state->mwi = start_subscription (self, profile, uri, "message-summary", NULL, &error);
  if (state->mwi == NULL)
    {
      g_message ("Profile “%s” cannot subscribe to its voicemail summary: %s",
                 hark_profile_get_name (profile), error->message);
      return;
    }
  g_debug ("Profile %s registered: voicemail subscription %s",
           hark_profile_get_object_path (profile), hark_subscription_get_object_path (state->mwi));
  hark_subscription_start (state->mwi);
}

static void
on_registration_state (HarkDBusRegistration1   *registration,
                       GParamSpec              *pspec,
                       HarkSubscriptionManager *self)
{
  const char *profile_path = hark_dbus_registration1_get_profile (registration);
  const char *state_name = hark_dbus_registration1_get_state (registration);
  HarkProfile *profile = hark_profile_store_lookup (self->profiles, profile_path, NULL);
  ProfileState *state;

  if (profile == NULL)
    return;

  state = get_profile_state (self, profile_path);
  if (g_strcmp0 (state_name, "registered") == 0)
    mwi_start (self, profile);
  else if (g_strcmp0 (state_name, "registering") != 0)
    mwi_stop (self, state);   /* unregistering, unregistered, failed */
}

static void
on_profile_registration (HarkDBusProfile1        *iface,
                         GParamSpec              *pspec,
                         HarkSubscriptionManager *self)
{
  const char *path = hark_dbus_profile1_get_registration (iface);
  g_autoptr(GDBusObject) object = NULL;
  g_autoptr(GObject) registration_object = NULL;
  HarkDBusRegistration1 *registration;
  const char *profile_path;
  ProfileState *state;

  if (path == NULL || !g_variant_is_object_path (path) || g_str_equal (path, "/"))
    return;

  object = g_dbus_object_manager_get_object (G_DBUS_OBJECT_MANAGER (self->server), path);
  if (object == NULL)
    return;
  registration_object = G_OBJECT (hark_dbus_object_get_registration1 (HARK_DBUS_OBJECT (object)));
  if (registration_object == NULL)
    return;
  registration = HARK_DBUS_REGISTRATION1 (registration_object);

  profile_path = hark_dbus_registration1_get_profile (registration);
  state = get_profile_state (self, profile_path ? profile_path : "/");
  if (g_strcmp0 (state->registration, path) == 0)
    return;
  g_free (state->registration);
  state->registration = g_strdup (path);

  g_signal_connect_object (registration, "notify::state", G_CALLBACK (on_registration_state),
                           self, 0);
  on_registration_state (registration, NULL, self);
}

/* ------------------------------------------------------------------------ */
/* Presence                                                                  */

static gboolean
handle_set_presence (HarkDBusProfile1        *iface,
                     GDBusMethodInvocation   *invocation,
                     const char              *basic,
                     const char              *note,
                     HarkProfile             *profile)
{
  HarkSubscriptionManager *self = default_manager;
  g_autoptr(GError) error = NULL;
  const char *profile_path = hark_profile_get_object_path (profile);
  GHashTableIter iter;
  gpointer key;
  ProfileState *state;

  if (self == NULL)
    return hark_error_return_new (invocation, HARK_ERROR_NOT_SUPPORTED,
                                  "Presence is not available in this daemon");

  if (!hark_pidf_check_basic (basic, &error))
    return hark_error_return (invocation, error);
  if (!g_utf8_validate (note, -1, NULL) || strlen (note) > 1024)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_ARGUMENT,
                                  "Argument “note” is longer than 1024 bytes");

  state = get_profile_state (self, profile_path);
  g_free (state->basic);
  state->basic = g_strdup (basic);
  g_free (state->note);
  state->note = g_strdup (note);

  g_hash_table_iter_init (&iter, self->subscriptions);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      HarkSubscription *subscription = key;

      if (hark_subscription_is_notifier (subscription) &&
          g_strcmp0 (hark_subscription_get_profile (subscription), profile_path) == 0)
        hark_subscription_set_presence (subscription, basic, note);
    }

  hark_dbus_profile1_complete_set_presence (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/**
 * hark_subscription_manager_watch_profile:
 * @profile: a profile that was just made
 *
 * Called by every new profile: the manager answers its SetPresence() and
 * follows its registration for voicemail. Idempotent.
 */
void
hark_subscription_manager_watch_profile (HarkProfile *profile)
{
  HarkSubscriptionManager *self = default_manager;
  HarkDBusProfile1 *iface;

  g_return_if_fail (HARK_IS_PROFILE (profile));

  iface = hark_profile_get_iface (profile);
  if (g_object_get_data (G_OBJECT (iface), PROFILE_WATCHED_KEY) != NULL)
    return;
  g_object_set_data (G_OBJECT (iface), PROFILE_WATCHED_KEY, GINT_TO_POINTER (1));

  g_signal_connect (iface, "handle-set-presence", G_CALLBACK (handle_set_presence), profile);
  if (self != NULL)
    {
      g_signal_connect_object (iface, "notify::registration",
                               G_CALLBACK (on_profile_registration), self, 0);
      on_profile_registration (iface, NULL, self);
    }
}

/* ------------------------------------------------------------------------ */
/* A profile's end                                                           */

typedef struct
{
  GPtrArray *subscriptions;  /* those still to end, with a handler each */
  guint      timeout_id;
  gboolean   completed;
} EndProfile;

static void
end_profile_free (gpointer data)
{
  EndProfile *end = data;

  g_clear_handle_id (&end->timeout_id, g_source_remove);
  g_ptr_array_unref (end->subscriptions);
  g_free (end);
}

static void
end_profile_complete (GTask *task)
{
  EndProfile *end = g_task_get_task_data (task);

  g_clear_handle_id (&end->timeout_id, g_source_remove);
  for (guint i = 0; i < end->subscriptions->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (end->subscriptions, i), task);
  g_ptr_array_set_size (end->subscriptions, 0);
  end->completed = TRUE;
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_ending_subscription_ended (HarkSubscription *subscription,
                              GTask            *task)
{
  EndProfile *end = g_task_get_task_data (task);

  g_signal_handlers_disconnect_by_data (subscription, task);
  g_ptr_array_remove (end->subscriptions, subscription);
  if (end->subscriptions->len == 0)
    end_profile_complete (task);
}

static gboolean
end_profile_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  EndProfile *end = g_task_get_task_data (task);

  end->timeout_id = 0;
  g_debug ("%u subscriptions of %s did not end in time", end->subscriptions->len,
           hark_profile_get_object_path (g_task_get_source_object (task)));
  end_profile_complete (task);
  return G_SOURCE_REMOVE;
}

/**
 * hark_subscription_manager_end_profile_async:
 * @profile: a profile that is deleted or shut down
 *
 * Ends every subscription of @profile by the rules of its role (the
 * subscriber's un-SUBSCRIBE and final NOTIFY, the notifier's NOTIFY
 * terminated;reason=noresource) and completes once they have all ended,
 * or after a bounded wait, before the profile's SIP stack goes. The
 * ended subscriptions leave the bus as any others do.
 */
void
hark_subscription_manager_end_profile_async (HarkProfile         *profile,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  HarkSubscriptionManager *self = default_manager;
  g_autoptr(GPtrArray) ending = g_ptr_array_new_with_free_func (g_object_unref);
  const char *profile_path;
  EndProfile *end;
  GTask *task;

  g_return_if_fail (HARK_IS_PROFILE (profile));

  task = g_task_new (profile, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_subscription_manager_end_profile_async);
  end = g_new0 (EndProfile, 1);
  end->subscriptions = g_ptr_array_new_with_free_func (g_object_unref);
  g_task_set_task_data (task, end, end_profile_free);

  profile_path = hark_profile_get_object_path (profile);
  if (self != NULL)
    {
      ProfileState *state = g_hash_table_lookup (self->states, profile_path);
      GHashTableIter iter;
      gpointer key;

      /* No new voicemail subscription while it goes */
      if (state != NULL)
        g_clear_object (&state->mwi);

      g_hash_table_iter_init (&iter, self->subscriptions);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (!hark_subscription_is_terminated (key) &&
            g_strcmp0 (hark_subscription_get_profile (key), profile_path) == 0)
          g_ptr_array_add (ending, g_object_ref (key));
    }

  /* Connect first: ending one may end it at once, in which case it is
   * simply not waited for; ending the last of them so completes the task,
   * which this reference keeps until the loop is over. */
  for (guint i = 0; i < ending->len; i++)
    {
      HarkSubscription *subscription = g_ptr_array_index (ending, i);

      g_ptr_array_add (end->subscriptions, g_object_ref (subscription));
      g_signal_connect (subscription, "ended", G_CALLBACK (on_ending_subscription_ended), task);
    }
  g_object_ref (task);
  for (guint i = 0; i < ending->len; i++)
    hark_subscription_end (g_ptr_array_index (ending, i));

  if (!end->completed && end->subscriptions->len == 0)
    end_profile_complete (task);   /* there were none to end */
  else if (!end->completed)
    end->timeout_id = g_timeout_add (END_PROFILE_TIMEOUT_MS, end_profile_timeout_cb, task);
  g_object_unref (task);
}

gboolean
hark_subscription_manager_end_profile_finish (HarkProfile   *profile,
                                              GAsyncResult  *result,
                                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, profile), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                   */

static guint agent_created_signal;
static gulong agent_created_hook_id;

static void
hark_subscription_manager_dispose (GObject *object)
{
  HarkSubscriptionManager *self = (HarkSubscriptionManager *) object;

  if (default_manager == self)
    default_manager = NULL;

  if (agent_created_hook_id != 0)
    {
      g_signal_remove_emission_hook (agent_created_signal, agent_created_hook_id);
      agent_created_hook_id = 0;
    }

  g_clear_pointer (&self->states, g_hash_table_unref);

  g_clear_object (&self->linger);
  if (self->subscriptions != NULL)
    {
      GHashTableIter iter;
      gpointer subscription;

      g_hash_table_iter_init (&iter, self->subscriptions);
      while (g_hash_table_iter_next (&iter, &subscription, NULL))
        g_signal_handlers_disconnect_by_data (subscription, self);
      g_hash_table_remove_all (self->subscriptions);
    }

  g_clear_object (&self->manager);
  g_clear_object (&self->server);
  g_clear_object (&self->profiles);

  G_OBJECT_CLASS (hark_subscription_manager_parent_class)->dispose (object);
}

static void
hark_subscription_manager_finalize (GObject *object)
{
  HarkSubscriptionManager *self = (HarkSubscriptionManager *) object;

  g_clear_pointer (&self->subscriptions, g_hash_table_unref);

  G_OBJECT_CLASS (hark_subscription_manager_parent_class)->finalize (object);
}

static void
hark_subscription_manager_class_init (HarkSubscriptionManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_subscription_manager_dispose;
  object_class->finalize = hark_subscription_manager_finalize;
}

static void
hark_subscription_manager_init (HarkSubscriptionManager *self)
{
  self->subscriptions = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->linger = hark_linger_new (LINGER_SECONDS, remove_subscription, self);
  self->states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, profile_state_free);

  /* Test-only knob (documented in Subscription1.xml), within sane bounds. */
  self->answer_timeout_ms = hark_env_get_ms ("HARK_SUBSCRIPTION_ANSWER_TIMEOUT_MS", 100, 300000,
                                             ANSWER_TIMEOUT_MS);
}

/**
 * hark_subscription_manager_new:
 * @server: where subscriptions and dialogs are exported
 * @manager: the Manager1 skeleton (for IncomingSubscription)
 * @profiles: the profiles subscriptions belong to
 *
 * Returns: (transfer full): the subscription manager; every SIP agent a
 *   profile creates from now on delivers its SUBSCRIBEs to it
 */
HarkSubscriptionManager *
hark_subscription_manager_new (GDBusObjectManagerServer *server,
                               HarkDBusManager1         *manager,
                               HarkProfileStore         *profiles)
{
  HarkSubscriptionManager *self;
  GPtrArray *existing;
  gpointer klass;

  g_return_val_if_fail (G_IS_DBUS_OBJECT_MANAGER_SERVER (server), NULL);
  g_return_val_if_fail (HARK_DBUS_IS_MANAGER1 (manager), NULL);
  g_return_val_if_fail (HARK_IS_PROFILE_STORE (profiles), NULL);

  self = g_object_new (HARK_TYPE_SUBSCRIPTION_MANAGER, NULL);
  self->server = g_object_ref (server);
  self->manager = g_object_ref (manager);
  self->profiles = g_object_ref (profiles);
  default_manager = self;

  klass = g_type_class_ref (HARK_TYPE_PROFILE);
  agent_created_signal = g_signal_lookup ("agent-created", HARK_TYPE_PROFILE);
  g_type_class_unref (klass);
  if (agent_created_signal != 0 && agent_created_hook_id == 0)
    agent_created_hook_id = g_signal_add_emission_hook (agent_created_signal, 0,
                                                        agent_created_hook, self, NULL);

  /* Profiles made before the manager (the built-in one) */
  existing = hark_profile_store_get_profiles (profiles);
  for (guint i = 0; existing != NULL && i < existing->len; i++)
    {
      HarkProfile *profile = g_ptr_array_index (existing, i);
      HarkDBusProfile1 *iface = hark_profile_get_iface (profile);

      if (g_object_get_data (G_OBJECT (iface), PROFILE_WATCHED_KEY) != NULL)
        {
          g_signal_connect_object (iface, "notify::registration",
                                   G_CALLBACK (on_profile_registration), self, 0);
          on_profile_registration (iface, NULL, self);
        }
      else
        hark_subscription_manager_watch_profile (profile);
    }

  return self;
}

guint
hark_subscription_manager_get_n_subscriptions (HarkSubscriptionManager *self)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTION_MANAGER (self), 0);
  return g_hash_table_size (self->subscriptions);
}
