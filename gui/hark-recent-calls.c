/* hark-recent-calls.c: the calls a person made and received, kept across restarts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-recent-calls.h"
#include "hark-strings.h"

/**
 * HarkRecentCall:
 *
 * One finished call: who, which way, when, and how it ended. @outcome is
 * "answered", "missed" or "declined" for incoming calls; for outgoing ones
 * "answered" or the daemon's StateReason ("busy", "timeout"…).
 */
struct _HarkRecentCall
{
  GObject   parent_instance;

  gboolean  incoming;
  char     *uri;
  char     *name;
  char     *profile;
  gint64    time;
  char     *outcome;
};

G_DEFINE_FINAL_TYPE (HarkRecentCall, hark_recent_call, G_TYPE_OBJECT)

static void
hark_recent_call_finalize (GObject *object)
{
  HarkRecentCall *self = HARK_RECENT_CALL (object);

  g_free (self->uri);
  g_free (self->name);
  g_free (self->profile);
  g_free (self->outcome);

  G_OBJECT_CLASS (hark_recent_call_parent_class)->finalize (object);
}

static void
hark_recent_call_class_init (HarkRecentCallClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hark_recent_call_finalize;
}

static void
hark_recent_call_init (HarkRecentCall *self)
{
}

static HarkRecentCall *
recent_call_new (gboolean    incoming,
                 const char *uri,
                 const char *name,
                 const char *profile,
                 gint64      time,
                 const char *outcome)
{
  HarkRecentCall *self = g_object_new (HARK_TYPE_RECENT_CALL, NULL);

  self->incoming = incoming;
  self->uri = g_strdup (uri != NULL ? uri : "");
  self->name = g_strdup (name != NULL ? name : "");
  self->profile = g_strdup (profile != NULL ? profile : "/");
  self->time = time;
  self->outcome = g_strdup (outcome != NULL ? outcome : "failed");

  return self;
}

gboolean
hark_recent_call_is_incoming (HarkRecentCall *self)
{
  g_return_val_if_fail (HARK_IS_RECENT_CALL (self), FALSE);
  return self->incoming;
}

const char *
hark_recent_call_get_uri (HarkRecentCall *self)
{
  g_return_val_if_fail (HARK_IS_RECENT_CALL (self), NULL);
  return self->uri;
}

const char *
hark_recent_call_get_name (HarkRecentCall *self)
{
  g_return_val_if_fail (HARK_IS_RECENT_CALL (self), NULL);
  return self->name;
}

const char *
hark_recent_call_get_profile (HarkRecentCall *self)
{
  g_return_val_if_fail (HARK_IS_RECENT_CALL (self), NULL);
  return self->profile;
}

gint64
hark_recent_call_get_time (HarkRecentCall *self)
{
  g_return_val_if_fail (HARK_IS_RECENT_CALL (self), 0);
  return self->time;
}

const char *
hark_recent_call_get_outcome (HarkRecentCall *self)
{
  g_return_val_if_fail (HARK_IS_RECENT_CALL (self), NULL);
  return self->outcome;
}

static const char *
outcome_words (HarkRecentCall *self)
{
  const char *words;

  if (g_strcmp0 (self->outcome, "answered") == 0)
    return _("Answered");
  if (g_strcmp0 (self->outcome, "missed") == 0)
    return _("Missed");
  if (g_strcmp0 (self->outcome, "declined") == 0)
    return _("Declined");

  words = hark_call_reason_to_string (self->outcome);
  return words != NULL ? words : _("Failed");
}

/**
 * hark_recent_call_describe:
 *
 * Returns: (transfer full): e.g. "Outgoing · Busy · 14:05"
 */
char *
hark_recent_call_describe (HarkRecentCall *self)
{
  g_autoptr(GDateTime) when = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *time_words = NULL;

  g_return_val_if_fail (HARK_IS_RECENT_CALL (self), NULL);

  when = g_date_time_new_from_unix_local (self->time);
  now = g_date_time_new_now_local ();
  if (when == NULL || now == NULL)
    time_words = g_strdup ("");
  else if (g_date_time_get_year (when) == g_date_time_get_year (now) &&
           g_date_time_get_day_of_year (when) == g_date_time_get_day_of_year (now))
    time_words = g_date_time_format (when, "%H:%M");
  else
    time_words = g_date_time_format (when, "%x %H:%M");

  /* Translators: a recent call: direction, outcome and time, e.g. "Incoming · Missed · 14:05" */
  return g_strdup_printf (_("%s · %s · %s"),
                          self->incoming ? _("Incoming") : _("Outgoing"),
                          outcome_words (self), time_words);
}

/**
 * HarkRecentCalls:
 *
 * Watches the daemon's calls and remembers each one that ends, newest first,
 * at most GSettings "recent-calls-limit" of them. The list lives in a file of
 * the app's data dir (a GVariant text, aa{sv}), replaced atomically on every
 * change, so a crash leaves the old list or the new one.
 */
struct _HarkRecentCalls
{
  GObject     parent_instance;

  char       *path;
  GSettings  *settings;
  GListStore *store;
  HarkClient *client;
};

G_DEFINE_FINAL_TYPE (HarkRecentCalls, hark_recent_calls, G_TYPE_OBJECT)

static guint
limit (HarkRecentCalls *self)
{
  return self->settings != NULL ? g_settings_get_uint (self->settings, "recent-calls-limit") : 50;
}

static void
save (HarkRecentCalls *self)
{
  g_autoptr(GFile) file = g_file_new_for_path (self->path);
  g_autoptr(GFile) dir = g_file_get_parent (file);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree char *text = NULL;
  GVariantBuilder builder;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->store));

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HarkRecentCall) call = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      g_variant_builder_open (&builder, G_VARIANT_TYPE ("a{sv}"));
      g_variant_builder_add (&builder, "{sv}", "direction",
                             g_variant_new_string (call->incoming ? "incoming" : "outgoing"));
      g_variant_builder_add (&builder, "{sv}", "uri", g_variant_new_string (call->uri));
      g_variant_builder_add (&builder, "{sv}", "name", g_variant_new_string (call->name));
      g_variant_builder_add (&builder, "{sv}", "profile", g_variant_new_string (call->profile));
      g_variant_builder_add (&builder, "{sv}", "time", g_variant_new_int64 (call->time));
      g_variant_builder_add (&builder, "{sv}", "outcome", g_variant_new_string (call->outcome));
      g_variant_builder_close (&builder);
    }
  value = g_variant_ref_sink (g_variant_builder_end (&builder));
  text = g_variant_print (value, TRUE);

  if (!g_file_make_directory_with_parents (dir, NULL, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_warning ("Could not save the recent calls: %s", error->message);
      return;
    }
  g_clear_error (&error);

  if (!g_file_replace_contents (file, text, strlen (text), NULL, FALSE,
                                G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION,
                                NULL, NULL, &error))
    g_warning ("Could not save the recent calls: %s", error->message);
}

static void
load (HarkRecentCalls *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree char *text = NULL;
  GVariantIter iter;
  GVariant *entry;

  if (!g_file_get_contents (self->path, &text, NULL, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_warning ("Could not read the recent calls: %s", error->message);
      return;
    }

  value = g_variant_parse (G_VARIANT_TYPE ("aa{sv}"), text, NULL, NULL, &error);
  if (value == NULL)
    {
      g_warning ("Could not read the recent calls in %s: %s", self->path, error->message);
      return;
    }

  g_variant_iter_init (&iter, value);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariantDict) dict = g_variant_dict_new (entry);
      g_autoptr(HarkRecentCall) call = NULL;
      const char *direction = NULL, *uri = NULL, *name = NULL, *profile = NULL, *outcome = NULL;
      gint64 time = 0;

      g_variant_dict_lookup (dict, "direction", "&s", &direction);
      g_variant_dict_lookup (dict, "uri", "&s", &uri);
      g_variant_dict_lookup (dict, "name", "&s", &name);
      g_variant_dict_lookup (dict, "profile", "&s", &profile);
      g_variant_dict_lookup (dict, "time", "x", &time);
      g_variant_dict_lookup (dict, "outcome", "&s", &outcome);
      if (uri != NULL && *uri != '\0')
        {
          call = recent_call_new (g_strcmp0 (direction, "incoming") == 0, uri, name, profile,
                                  time, outcome);
          g_list_store_append (self->store, call);
        }
      g_variant_unref (entry);
    }
}

static void
add (HarkRecentCalls *self,
     HarkRecentCall  *call)
{
  guint max = limit (self);
  guint n;

  g_list_store_insert (self->store, 0, call);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->store));
  if (n > max)
    g_list_store_splice (self->store, max, n - max, NULL, 0);
  save (self);
}

static const char *
outcome_of (HarkDBusCall1 *call,
            gboolean       answered)
{
  const char *reason = hark_dbus_call1_get_state_reason (call);
  gboolean incoming = g_strcmp0 (hark_dbus_call1_get_direction (call), "incoming") == 0;

  if (answered)
    return "answered";
  if (incoming)
    {
      /* Refused here (Decline, or busy on another call): not missed. */
      if (g_strcmp0 (reason, "declined") == 0 || g_strcmp0 (reason, "busy") == 0 ||
          g_strcmp0 (reason, "rejected") == 0 || g_strcmp0 (reason, "local-hangup") == 0)
        return "declined";
      return "missed";
    }
  return reason != NULL && *reason != '\0' ? reason : "failed";
}

static void
on_call_state (HarkDBusCall1   *call,
               GParamSpec      *pspec,
               HarkRecentCalls *self)
{
  const char *state = hark_dbus_call1_get_state (call);
  g_autoptr(HarkRecentCall) recent = NULL;

  if (g_object_get_data (G_OBJECT (call), "hark-recent-recorded") != NULL)
    return;

  if (g_strcmp0 (state, "active") == 0 || g_strcmp0 (state, "held") == 0)
    g_object_set_data (G_OBJECT (call), "hark-recent-answered", GINT_TO_POINTER (TRUE));

  if (g_strcmp0 (state, "terminated") != 0)
    return;

  g_object_set_data (G_OBJECT (call), "hark-recent-recorded", GINT_TO_POINTER (TRUE));
  recent = recent_call_new (g_strcmp0 (hark_dbus_call1_get_direction (call), "incoming") == 0,
                            hark_dbus_call1_get_remote_uri (call),
                            hark_dbus_call1_get_remote_name (call),
                            hark_dbus_call1_get_profile (call),
                            g_get_real_time () / G_USEC_PER_SEC,
                            outcome_of (call, g_object_get_data (G_OBJECT (call),
                                                                 "hark-recent-answered") != NULL));
  add (self, recent);
}

static void
on_calls_changed (HarkRecentCalls *self,
                  guint            position,
                  guint            removed,
                  guint            added,
                  GListModel      *calls)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(HarkDBusObject) object = g_list_model_get_item (calls, i);
      g_autoptr(HarkDBusCall1) call = object ? hark_dbus_object_get_call1 (object) : NULL;

      if (call == NULL || g_object_get_data (G_OBJECT (call), "hark-recent-watched") != NULL)
        continue;

      g_object_set_data (G_OBJECT (call), "hark-recent-watched", GINT_TO_POINTER (TRUE));
      /* Ended before this app saw it (the app restarted while the call object
       * lingers): whoever saw it has recorded it already. */
      if (g_strcmp0 (hark_dbus_call1_get_state (call), "terminated") == 0)
        {
          g_object_set_data (G_OBJECT (call), "hark-recent-recorded", GINT_TO_POINTER (TRUE));
          continue;
        }
      g_signal_connect_object (call, "notify::state", G_CALLBACK (on_call_state), self, 0);
      on_call_state (call, NULL, self);
    }
}

static void
hark_recent_calls_dispose (GObject *object)
{
  HarkRecentCalls *self = HARK_RECENT_CALLS (object);

  g_clear_object (&self->client);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (hark_recent_calls_parent_class)->dispose (object);
}

static void
hark_recent_calls_finalize (GObject *object)
{
  HarkRecentCalls *self = HARK_RECENT_CALLS (object);

  g_free (self->path);

  G_OBJECT_CLASS (hark_recent_calls_parent_class)->finalize (object);
}

static void
hark_recent_calls_class_init (HarkRecentCallsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_recent_calls_dispose;
  object_class->finalize = hark_recent_calls_finalize;
}

static void
hark_recent_calls_init (HarkRecentCalls *self)
{
  self->store = g_list_store_new (HARK_TYPE_RECENT_CALL);
}

/**
 * hark_recent_calls_new:
 * @path: the file the list is kept in
 * @settings: (nullable): the app's settings, for "recent-calls-limit"
 */
HarkRecentCalls *
hark_recent_calls_new (const char *path,
                       GSettings  *settings)
{
  HarkRecentCalls *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (HARK_TYPE_RECENT_CALLS, NULL);
  self->path = g_strdup (path);
  self->settings = settings != NULL ? g_object_ref (settings) : NULL;
  load (self);

  return self;
}

/**
 * hark_recent_calls_get_model:
 *
 * Returns: (transfer none): a list of #HarkRecentCall, newest first
 */
GListModel *
hark_recent_calls_get_model (HarkRecentCalls *self)
{
  g_return_val_if_fail (HARK_IS_RECENT_CALLS (self), NULL);

  return G_LIST_MODEL (self->store);
}

void
hark_recent_calls_watch (HarkRecentCalls *self,
                         HarkClient      *client)
{
  GListModel *calls;

  g_return_if_fail (HARK_IS_RECENT_CALLS (self));
  g_return_if_fail (HARK_IS_CLIENT (client));
  g_return_if_fail (self->client == NULL);

  self->client = g_object_ref (client);
  calls = hark_client_get_calls (client);
  g_signal_connect_object (calls, "items-changed", G_CALLBACK (on_calls_changed), self,
                           G_CONNECT_SWAPPED);
  on_calls_changed (self, 0, 0, g_list_model_get_n_items (calls), calls);
}

void
hark_recent_calls_clear (HarkRecentCalls *self)
{
  g_return_if_fail (HARK_IS_RECENT_CALLS (self));

  g_list_store_remove_all (self->store);
  save (self);
}
