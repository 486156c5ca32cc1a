/* hark-dialog.c — one SIP dialog on the bus (io.github.hark.Hark.Dialog1)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The dialog object only describes the dialog (Call-ID, tags, state) and
 * traces its messages; the usages (calls now, subscriptions later) own the
 * nua handles and do the SIP. Terminate() asks every usage still running to
 * end itself by its own rules.
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/msg_header.h>

#include "hark-dialog.h"
#include "hark-error.h"
#include "hark-paths.h"
#include "hark-sip-agent.h"

typedef struct
{
  char                    *object_path;
  HarkDialogTerminateFunc  terminate;   /* NULL once the usage has ended */
  gpointer                 usage;
} Usage;

/*
 * As for profiles and calls, the generated Dialog1 skeleton holds the state:
 * its GObject properties are the D-Bus properties.
 */
struct _HarkDialog
{
  GObject                 parent_instance;

  char                   *object_path;
  HarkDBusObjectSkeleton *object;
  HarkDBusDialog1        *iface;
  GArray                 *usages;       /* of Usage */
  guint                   wire_watch;   /* hark_sip_wire_watch() of the Call-ID */
  HarkDialogWireRouter    router;       /* which messages of the Call-ID are ours */
  gpointer                router_data;
  GQueue                  early_traces; /* of GVariant (ss@a{ss}), before export */
  guint                   flush_id;
  guint                   flush_tries;
};

G_DEFINE_FINAL_TYPE (HarkDialog, hark_dialog, G_TYPE_OBJECT)

static void
usage_clear (gpointer data)
{
  Usage *usage = data;

  g_clear_pointer (&usage->object_path, g_free);
}

static gboolean
state_is_final (const char *state)
{
  return g_strcmp0 (state, "terminating") == 0 || g_strcmp0 (state, "terminated") == 0;
}

static gboolean
handle_terminate (HarkDBusDialog1       *iface,
                  GDBusMethodInvocation *invocation,
                  GVariant              *options,
                  HarkDialog            *self)
{
  g_autoptr(HarkDialog) keep = g_object_ref (self);
  guint running = 0;

  if (state_is_final (hark_dbus_dialog1_get_state (iface)))
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "The dialog is already %s",
                                  hark_dbus_dialog1_get_state (iface));

  for (guint i = 0; i < self->usages->len; i++)
    {
      Usage *usage = &g_array_index (self->usages, Usage, i);
      g_autoptr(GError) error = NULL;

      if (usage->terminate == NULL)
        continue;
      running++;
      /* A usage that cannot end (bad options) fails the whole call before
       * anything is sent: options are checked before the first message. */
      if (!usage->terminate (usage->usage, options, &error))
        return hark_error_return (invocation, error);
    }

  if (running == 0)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "The dialog has no usage left to terminate");

  hark_dbus_dialog1_complete_terminate (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
hark_dialog_dispose (GObject *object)
{
  HarkDialog *self = (HarkDialog *) object;

  hark_sip_wire_unwatch (self->wire_watch);
  self->wire_watch = 0;
  g_clear_handle_id (&self->flush_id, g_source_remove);
  g_queue_clear_full (&self->early_traces, (GDestroyNotify) g_variant_unref);
  if (self->iface != NULL)
    g_signal_handlers_disconnect_by_data (self->iface, self);
  g_clear_object (&self->iface);
  g_clear_object (&self->object);

  G_OBJECT_CLASS (hark_dialog_parent_class)->dispose (object);
}

static void
hark_dialog_finalize (GObject *object)
{
  HarkDialog *self = (HarkDialog *) object;

  g_clear_pointer (&self->usages, g_array_unref);
  g_free (self->object_path);

  G_OBJECT_CLASS (hark_dialog_parent_class)->finalize (object);
}

static void
hark_dialog_class_init (HarkDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_dialog_dispose;
  object_class->finalize = hark_dialog_finalize;
}

static void
hark_dialog_init (HarkDialog *self)
{
  const char * const no_usages[] = { NULL };

  self->usages = g_array_new (FALSE, TRUE, sizeof (Usage));
  g_array_set_clear_func (self->usages, usage_clear);

  self->object_path = hark_path_next ("Dialog");
  self->iface = hark_dbus_dialog1_skeleton_new ();
  g_object_set (self->iface,
                "call-id", "", "local-tag", "", "remote-tag", "",
                "state", "early", "usages", no_usages,
                NULL);
  g_signal_connect (self->iface, "handle-terminate", G_CALLBACK (handle_terminate), self);

  self->object = hark_dbus_object_skeleton_new (self->object_path);
  hark_dbus_object_skeleton_set_dialog1 (self->object, self->iface);
}

/**
 * hark_dialog_new:
 *
 * Returns: (transfer full): a dialog in state "early", not yet exported
 */
HarkDialog *
hark_dialog_new (void)
{
  return g_object_new (HARK_TYPE_DIALOG, NULL);
}

const char *
hark_dialog_get_object_path (HarkDialog *self)
{
  g_return_val_if_fail (HARK_IS_DIALOG (self), NULL);
  return self->object_path;
}

HarkDBusObjectSkeleton *
hark_dialog_get_object (HarkDialog *self)
{
  g_return_val_if_fail (HARK_IS_DIALOG (self), NULL);
  return self->object;
}

const char *
hark_dialog_get_state (HarkDialog *self)
{
  g_return_val_if_fail (HARK_IS_DIALOG (self), NULL);
  return hark_dbus_dialog1_get_state (self->iface);
}

const char *
hark_dialog_get_call_id (HarkDialog *self)
{
  g_return_val_if_fail (HARK_IS_DIALOG (self), NULL);
  return hark_dbus_dialog1_get_call_id (self->iface);
}

const char *
hark_dialog_get_local_tag (HarkDialog *self)
{
  g_return_val_if_fail (HARK_IS_DIALOG (self), NULL);
  return hark_dbus_dialog1_get_local_tag (self->iface);
}

const char *
hark_dialog_get_remote_tag (HarkDialog *self)
{
  g_return_val_if_fail (HARK_IS_DIALOG (self), NULL);
  return hark_dbus_dialog1_get_remote_tag (self->iface);
}

/**
 * hark_dialog_set_state:
 * @state: "early", "confirmed", "terminating" or "terminated"
 *
 * A terminated dialog stays terminated.
 */
void
hark_dialog_set_state (HarkDialog *self,
                       const char *state)
{
  const char *current;

  g_return_if_fail (HARK_IS_DIALOG (self));
  g_return_if_fail (state != NULL);

  current = hark_dbus_dialog1_get_state (self->iface);
  if (g_strcmp0 (current, state) == 0 || g_strcmp0 (current, "terminated") == 0)
    return;

  hark_dbus_dialog1_set_state (self->iface, state);
}

static gboolean
set_if_changed (HarkDialog *self,
                const char *property,
                const char *value)
{
  g_autofree char *current = NULL;
  g_autofree char *valid = NULL;

  if (value == NULL)
    return FALSE;

  /* From the network: D-Bus strings must be UTF-8. */
  valid = g_utf8_make_valid (value, -1);
  g_object_get (self->iface, property, &current, NULL);
  if (g_strcmp0 (current, valid) == 0)
    return FALSE;
  g_object_set (self->iface, property, valid, NULL);
  return TRUE;
}

/* Every message of the dialog as it went over the wire, including those
 * Sofia sends by itself (100 Trying, ACK of an error, 487 after CANCEL …),
 * repeated headers joined as for any other trace. */
static void
on_wire_message (const char  *direction,
                 const sip_t *sip,
                 gpointer     user_data)
{
  HarkDialog *self = HARK_DIALOG (user_data);

  /* A forked INVITE makes several dialogs of one Call-ID */
  if (self->router != NULL && !self->router (self, direction, sip, self->router_data))
    return;
  hark_dialog_trace_sip (self, direction, sip);
}

/**
 * hark_dialog_set_wire_router:
 * @router: (nullable): decides which messages of the Call-ID this dialog
 *   traces; %NULL for all of them
 * @user_data: for @router, which must outlive the dialog's watch
 */
void
hark_dialog_set_wire_router (HarkDialog           *self,
                             HarkDialogWireRouter  router,
                             gpointer              user_data)
{
  g_return_if_fail (HARK_IS_DIALOG (self));

  self->router = router;
  self->router_data = user_data;
}

/**
 * hark_dialog_update_ids:
 * @call_id: (nullable): the Call-ID, %NULL to leave it
 * @local_tag: (nullable): our tag, %NULL to leave it
 * @remote_tag: (nullable): the peer's tag, %NULL to leave it
 */
void
hark_dialog_update_ids (HarkDialog *self,
                        const char *call_id,
                        const char *local_tag,
                        const char *remote_tag)
{
  g_return_if_fail (HARK_IS_DIALOG (self));

  if (set_if_changed (self, "call-id", call_id))
    {
      hark_sip_wire_unwatch (self->wire_watch);
      /* The Call-ID as on the wire, not its UTF-8 repair */
      self->wire_watch = *call_id != '\0'
                         ? hark_sip_wire_watch (call_id, on_wire_message, self) : 0;
    }
  set_if_changed (self, "local-tag", local_tag);
  set_if_changed (self, "remote-tag", remote_tag);
}

/**
 * hark_dialog_add_usage:
 * @object_path: the usage's object path, listed in Usages
 * @terminate: ends the usage on Terminate()
 * @usage: for @terminate; must outlive the usage's registration
 */
void
hark_dialog_add_usage (HarkDialog              *self,
                       const char              *object_path,
                       HarkDialogTerminateFunc  terminate,
                       gpointer                 usage)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new ();
  Usage entry = { 0 };

  g_return_if_fail (HARK_IS_DIALOG (self));
  g_return_if_fail (g_variant_is_object_path (object_path));
  g_return_if_fail (terminate != NULL);

  entry.object_path = g_strdup (object_path);
  entry.terminate = terminate;
  entry.usage = usage;
  g_array_append_val (self->usages, entry);

  for (guint i = 0; i < self->usages->len; i++)
    g_ptr_array_add (paths, g_array_index (self->usages, Usage, i).object_path);
  g_ptr_array_add (paths, NULL);
  hark_dbus_dialog1_set_usages (self->iface, (const char * const *) paths->pdata);
}

/**
 * hark_dialog_replace_usage:
 * @old_usage: what was given to hark_dialog_add_usage()
 * @terminate: what ends it from now on
 * @usage: for @terminate
 *
 * The same usage (its path stays in Usages), ended another way from now
 * on: the early dialog of a fork that turns into the call's dialog.
 */
void
hark_dialog_replace_usage (HarkDialog              *self,
                           gpointer                 old_usage,
                           HarkDialogTerminateFunc  terminate,
                           gpointer                 usage)
{
  g_return_if_fail (HARK_IS_DIALOG (self));
  g_return_if_fail (terminate != NULL);

  for (guint i = 0; i < self->usages->len; i++)
    {
      Usage *entry = &g_array_index (self->usages, Usage, i);

      if (entry->usage == old_usage && entry->terminate != NULL)
        {
          entry->terminate = terminate;
          entry->usage = usage;
        }
    }
}

/**
 * hark_dialog_usage_ended:
 * @usage: what was given to hark_dialog_add_usage()
 *
 * The usage stays listed in Usages (it is still on the bus for a while) but
 * Terminate() no longer reaches it. When no usage is left running the
 * dialog is "terminated" (RFC 5057: a dialog ends with its last usage,
 * whatever the order in which they end).
 */
void
hark_dialog_usage_ended (HarkDialog *self,
                         gpointer    usage)
{
  g_return_if_fail (HARK_IS_DIALOG (self));

  for (guint i = 0; i < self->usages->len; i++)
    {
      Usage *entry = &g_array_index (self->usages, Usage, i);

      if (entry->usage == usage)
        entry->terminate = NULL;
    }

  if (hark_dialog_get_n_running (self) == 0)
    hark_dialog_set_state (self, "terminated");
}

/**
 * hark_dialog_get_n_running:
 *
 * Returns: how many usages have not ended yet
 */
guint
hark_dialog_get_n_running (HarkDialog *self)
{
  guint running = 0;

  g_return_val_if_fail (HARK_IS_DIALOG (self), 0);

  for (guint i = 0; i < self->usages->len; i++)
    if (g_array_index (self->usages, Usage, i).terminate != NULL)
      running++;
  return running;
}

/* How long traces wait for the dialog to be exported, in tries of
 * FLUSH_INTERVAL_MS: the dialog of an incoming request learns its Call-ID
 * (and gets the messages already on the wire) before it is on the bus. */
#define FLUSH_INTERVAL_MS 20
#define FLUSH_MAX_TRIES   50

static gboolean
is_exported (HarkDialog *self)
{
  return g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->iface))
         != NULL;
}

static void
flush_early_traces (HarkDialog *self)
{
  GVariant *trace;

  while ((trace = g_queue_pop_head (&self->early_traces)) != NULL)
    {
      const char *direction, *start_line;
      g_autoptr(GVariant) headers = NULL;

      g_variant_get (trace, "(&s&s@a{ss})", &direction, &start_line, &headers);
      hark_dbus_dialog1_emit_trace (self->iface, direction, start_line, headers);
      g_variant_unref (trace);
    }
}

static gboolean
flush_cb (gpointer user_data)
{
  HarkDialog *self = user_data;

  if (is_exported (self))
    flush_early_traces (self);
  else if (++self->flush_tries < FLUSH_MAX_TRIES)
    return G_SOURCE_CONTINUE;
  else
    /* Never exported: nobody could have seen them */
    g_queue_clear_full (&self->early_traces, (GDestroyNotify) g_variant_unref);

  self->flush_id = 0;
  return G_SOURCE_REMOVE;
}

/* Emits Trace now, or keeps it (in order) until the dialog is on the bus */
static void
emit_trace (HarkDialog *self,
            const char *direction,
            const char *start_line,
            GVariant   *headers)
{
  if (is_exported (self) && g_queue_is_empty (&self->early_traces))
    {
      hark_dbus_dialog1_emit_trace (self->iface, direction, start_line, headers);
      return;
    }

  g_queue_push_tail (&self->early_traces,
                     g_variant_ref_sink (g_variant_new ("(ss@a{ss})", direction, start_line,
                                                        headers)));
  if (self->flush_id == 0)
    {
      self->flush_tries = 0;
      self->flush_id = g_timeout_add (is_exported (self) ? 0 : FLUSH_INTERVAL_MS, flush_cb, self);
    }
}

/**
 * hark_dialog_trace:
 * @direction: "in" or "out"
 * @start_line: the request or status line
 * @headers: (transfer floating): a{ss}
 *
 * Emits Dialog1.Trace.
 */
void
hark_dialog_trace (HarkDialog *self,
                   const char *direction,
                   const char *start_line,
                   GVariant   *headers)
{
  g_return_if_fail (HARK_IS_DIALOG (self));
  g_return_if_fail (g_variant_is_of_type (headers, G_VARIANT_TYPE ("a{ss}")));

  emit_trace (self, direction, start_line, headers);
}

/* Header name and value of one parsed header, or FALSE for the parts of a
 * message that are not headers (start line, separator, body). */
static gboolean
describe_header (const msg_header_t  *h,
                 char               **out_name,
                 char               **out_value)
{
  const msg_hclass_t *klass = h->sh_class;
  char buffer[2048];
  issize_t len;

  if (klass == sip_request_class || klass == sip_status_class ||
      klass == sip_separator_class || klass == sip_payload_class ||
      klass == sip_error_class)
    return FALSE;

  if (klass == sip_unknown_class)
    {
      const msg_unknown_t *unknown = (const msg_unknown_t *) h;

      if (unknown->un_name == NULL)
        return FALSE;
      *out_name = g_utf8_make_valid (unknown->un_name, -1);
      *out_value = g_utf8_make_valid (unknown->un_value ? unknown->un_value : "", -1);
      return TRUE;
    }

  if (klass->hc_name == NULL || *klass->hc_name == '\0')
    return FALSE;

  len = msg_header_field_e (buffer, sizeof buffer, h, 0);
  if (len < 0 || (size_t) len >= sizeof buffer)
    /* Longer than any header a person reads; say so instead of cutting. */
    g_strlcpy (buffer, "(too long to trace)", sizeof buffer);

  *out_name = g_strdup (klass->hc_name);
  *out_value = g_utf8_make_valid (buffer, -1);
  return TRUE;
}

/**
 * hark_dialog_trace_sip:
 * @direction: "in" or "out"
 * @sip: (nullable): a parsed message; nothing is traced if %NULL
 *
 * Emits Dialog1.Trace for a message Sofia parsed, repeated headers joined
 * with ", " as RFC 3261 section 7.3.1 allows. The dialog calls it itself
 * for every message of its Call-ID on the wire (hark_sip_wire_watch());
 * traces made before the dialog is on the bus follow once it is.
 */
void
hark_dialog_trace_sip (HarkDialog  *self,
                       const char  *direction,
                       const sip_t *sip)
{
  g_autoptr(GHashTable) values = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autofree char *start_line = NULL;
  GVariantBuilder builder;
  const msg_header_t *first;

  g_return_if_fail (HARK_IS_DIALOG (self));

  if (sip == NULL)
    return;

  if (sip->sip_request != NULL)
    {
      su_home_t home[1] = { SU_HOME_INIT (home) };
      char *url = url_as_string (home, sip->sip_request->rq_url);
      g_autofree char *line = g_strdup_printf ("%s %s SIP/2.0",
                                               sip->sip_request->rq_method_name
                                               ? sip->sip_request->rq_method_name : "?",
                                               url ? url : "");

      start_line = g_utf8_make_valid (line, -1);
      su_home_deinit (home);
      first = (const msg_header_t *) sip->sip_request;
    }
  else if (sip->sip_status != NULL)
    {
      g_autofree char *line = g_strdup_printf ("SIP/2.0 %03d %s", sip->sip_status->st_status,
                                               sip->sip_status->st_phrase
                                               ? sip->sip_status->st_phrase : "");

      start_line = g_utf8_make_valid (line, -1);
      first = (const msg_header_t *) sip->sip_status;
    }
  else
    {
      return;
    }

  values = g_hash_table_new (g_str_hash, g_str_equal);
  names = g_ptr_array_new_with_free_func (g_free);

  for (const msg_header_t *h = first; h != NULL; h = h->sh_succ)
    {
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;
      GString *joined;

      if (!describe_header (h, &name, &value))
        continue;

      joined = g_hash_table_lookup (values, name);
      if (joined == NULL)
        {
          joined = g_string_new (value);
          g_ptr_array_add (names, g_strdup (name));
          g_hash_table_insert (values, g_ptr_array_index (names, names->len - 1), joined);
        }
      else
        {
          g_string_append (joined, ", ");
          g_string_append (joined, value);
        }
    }

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      GString *joined = g_hash_table_lookup (values, name);

      g_variant_builder_add (&builder, "{ss}", name, joined->str);
      g_string_free (joined, TRUE);
    }

  emit_trace (self, direction, start_line, g_variant_builder_end (&builder));
}
