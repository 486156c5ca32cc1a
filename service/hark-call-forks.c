/* hark-call-forks.c — the dialogs of one outgoing INVITE
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A proxy that forks our INVITE to several phones relays the provisional
 * responses of each: every To-tag is an early dialog of its own (RFC 3261
 * section 12.1.2), with a Dialog1 object of its own here, sharing the
 * Call-ID. The call's dialog ("primary") is the first one; the fork whose 2xx
 * arrives first wins and becomes the call's dialog (nua takes that answer
 * and ACKs it). A 2xx that comes later from another fork is ACKed and ended
 * with BYE (section 13.2.2.4): nta does that by itself (nta_msg_ackbye()),
 * and its dialog here goes "terminating" until the BYE is answered. The
 * other early dialogs end when the INVITE fails, when the call ends, or
 * 64*T1 after the first 2xx, when no fork can answer any more. Hanging up
 * before an answer cancels them all: one CANCEL, which the proxy sends on
 * to every fork.
 *
 * Sofia tells the application nothing of forks, so what this knows comes
 * from the wire (Dialog1.Trace's source): the primary dialog's watch of the
 * Call-ID sees every message in the order Sofia did, and routes each to the
 * dialog of its remote tag.
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

#include "hark-call.h"
#include "hark-call-forks.h"
#include "sip/hark-sip-agent.h"

typedef struct
{
  HarkCallForks *owner;     /* unowned: forks live as long as their owner */
  HarkDialog    *dialog;
  gboolean       ending;    /* its late 2xx was ACKed and BYEd */
  gboolean       ended;
} Fork;

struct _HarkCallForks
{
  GObject                  parent_instance;

  char                    *usage_path;
  HarkDialogTerminateFunc  terminate;   /* the call's, for the primary dialog */
  gpointer                 usage;

  GPtrArray               *forks;       /* of Fork, the primary's first */
  Fork                    *primary;
  GHashTable              *by_tag;      /* remote tag → Fork (unowned) */
  char                    *answer_tag;  /* of the first 2xx: the one nua took */
  gboolean                 answered;
  guint                    expire_id;
};

G_DEFINE_FINAL_TYPE (HarkCallForks, hark_call_forks, G_TYPE_OBJECT)

enum {
  SIGNAL_DIALOG_ADDED,
  SIGNAL_DIALOG_ENDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
fork_free (gpointer data)
{
  Fork *fork = data;

  hark_dialog_set_wire_router (fork->dialog, NULL, NULL);
  g_object_unref (fork->dialog);
  g_free (fork);
}

/* An early dialog that is not the call's is over. */
static void
end_fork (Fork *fork)
{
  HarkCallForks *self = fork->owner;

  if (fork->ended || fork == self->primary)
    return;

  fork->ended = TRUE;
  hark_dialog_usage_ended (fork->dialog, fork);
  g_signal_emit (self, signals[SIGNAL_DIALOG_ENDED], 0, fork->dialog);
}

/* Dialog1.Terminate() on a fork: before an answer that is hanging up the
 * call (CANCEL ends every fork); after it, this early dialog just ends,
 * with nothing to send, but its options are checked as Hangup() would. */
static gboolean
fork_terminate_cb (gpointer   usage,
                   GVariant  *options,
                   GError   **error)
{
  Fork *fork = usage;
  HarkCallForks *self = fork->owner;

  if (!self->answered)
    return self->terminate (self->usage, options, error);
  if (!hark_call_check_end_options (options, error))
    return FALSE;
  end_fork (fork);
  return TRUE;
}

/* Our requests and the answers to them name the peer in To; the peer's
 * requests, and our answers to those, in From. */
static const char *
remote_tag_of (const char  *direction,
               const sip_t *sip)
{
  gboolean in = g_str_equal (direction, "in");
  gboolean response = sip->sip_status != NULL;
  const sip_addr_t *peer = in == response ? sip->sip_to : sip->sip_from;

  return peer != NULL ? peer->a_tag : NULL;
}

static gboolean route_wire (HarkDialog  *dialog,
                            const char  *direction,
                            const sip_t *sip,
                            gpointer     user_data);

static Fork *
add_fork (HarkCallForks *self,
          const char    *tag)
{
  HarkDialog *primary = self->primary->dialog;
  Fork *fork = g_new0 (Fork, 1);

  fork->owner = self;
  fork->dialog = hark_dialog_new ();
  hark_dialog_set_wire_router (fork->dialog, route_wire, self);
  hark_dialog_add_usage (fork->dialog, self->usage_path, fork_terminate_cb, fork);
  hark_dialog_update_ids (fork->dialog, hark_dialog_get_call_id (primary),
                          hark_dialog_get_local_tag (primary), tag);
  g_ptr_array_add (self->forks, fork);
  g_hash_table_insert (self->by_tag, g_strdup (tag), fork);

  g_debug ("%s: the INVITE forked: early dialog %s with tag %s", self->usage_path,
           hark_dialog_get_object_path (fork->dialog), tag);
  g_signal_emit (self, signals[SIGNAL_DIALOG_ADDED], 0, fork->dialog);
  return fork;
}

/* A 2xx from another fork than the one that answered first: nta ACKs it
 * and sends BYE. */
static void
mark_stray_answer (HarkCallForks *self,
                   Fork          *fork)
{
  g_debug ("%s: %s answered too; Sofia ends it with ACK and BYE", self->usage_path,
           hark_dialog_get_object_path (fork->dialog));
  fork->ending = TRUE;
  hark_dialog_set_state (fork->dialog, "terminating");
}

/* What a response to our INVITE says of the forks: a new early dialog,
 * the answer that wins, or one that comes too late. */
static void
learn_from_response (HarkCallForks *self,
                     const sip_t   *sip,
                     const char    *tag)
{
  int status = sip->sip_status->st_status;
  Fork *fork;

  if (tag == NULL || status <= 100 || sip->sip_cseq == NULL)
    return;

  if (sip->sip_cseq->cs_method == sip_method_bye && status >= 200)
    {
      /* The answer to the BYE that ended a late 2xx */
      fork = g_hash_table_lookup (self->by_tag, tag);
      if (fork != NULL && fork->ending)
        end_fork (fork);
      return;
    }

  if (status >= 300 || sip->sip_cseq->cs_method != sip_method_invite)
    return;

  fork = g_hash_table_lookup (self->by_tag, tag);
  if (fork == NULL && *hark_dialog_get_remote_tag (self->primary->dialog) == '\0')
    {
      /* The first tag is the call's own dialog */
      hark_dialog_update_ids (self->primary->dialog, NULL, NULL, tag);
      fork = self->primary;
      g_hash_table_insert (self->by_tag, g_strdup (tag), fork);
    }
  else if (fork == NULL)
    {
      fork = add_fork (self, tag);
      /* Its watch starts after this message went by */
      hark_dialog_trace_sip (fork->dialog, "in", sip);
    }

  if (status < 200)
    return;

  if (self->answer_tag == NULL)
    self->answer_tag = g_strdup (tag);
  else if (!g_str_equal (self->answer_tag, tag) && !fork->ending && !fork->ended)
    mark_stray_answer (self, fork);
}

static gboolean
route_wire (HarkDialog  *dialog,
            const char  *direction,
            const sip_t *sip,
            gpointer     user_data)
{
  HarkCallForks *self = user_data;
  const char *tag = remote_tag_of (direction, sip);
  Fork *owner;

  /* Each message reaches every dialog's watch: learn from it once. */
  if (dialog == self->primary->dialog && sip->sip_status != NULL &&
      g_str_equal (direction, "in"))
    learn_from_response (self, sip, tag);

  /* Untagged: the INVITE, 100 Trying, CANCEL belong to every fork */
  if (tag == NULL)
    return TRUE;
  owner = g_hash_table_lookup (self->by_tag, tag);
  /* A tag of no dialog (a proxy's own 487 …) goes to the call's */
  if (owner == NULL)
    return dialog == self->primary->dialog;
  return owner->dialog == dialog;
}

static gboolean
expire_cb (gpointer user_data)
{
  HarkCallForks *self = user_data;

  self->expire_id = 0;
  hark_call_forks_end_early (self);
  return G_SOURCE_REMOVE;
}

static void
promote (HarkCallForks *self,
         Fork          *winner)
{
  Fork *old = self->primary;

  g_debug ("%s: answered on %s, not on %s", self->usage_path,
           hark_dialog_get_object_path (winner->dialog), hark_dialog_get_object_path (old->dialog));
  hark_dialog_replace_usage (winner->dialog, winner, self->terminate, self->usage);
  hark_dialog_replace_usage (old->dialog, self->usage, fork_terminate_cb, old);
  self->primary = winner;
}

static void
hark_call_forks_dispose (GObject *object)
{
  HarkCallForks *self = (HarkCallForks *) object;

  g_clear_handle_id (&self->expire_id, g_source_remove);
  if (self->forks != NULL)
    g_ptr_array_set_size (self->forks, 0);

  G_OBJECT_CLASS (hark_call_forks_parent_class)->dispose (object);
}

static void
hark_call_forks_finalize (GObject *object)
{
  HarkCallForks *self = (HarkCallForks *) object;

  g_clear_pointer (&self->forks, g_ptr_array_unref);
  g_clear_pointer (&self->by_tag, g_hash_table_unref);
  g_free (self->usage_path);
  g_free (self->answer_tag);

  G_OBJECT_CLASS (hark_call_forks_parent_class)->finalize (object);
}

static void
hark_call_forks_class_init (HarkCallForksClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_call_forks_dispose;
  object_class->finalize = hark_call_forks_finalize;

  /**
   * HarkCallForks::dialog-added:
   * @dialog: the early dialog of another fork, to export
   */
  signals[SIGNAL_DIALOG_ADDED] =
    g_signal_new ("dialog-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, HARK_TYPE_DIALOG);

  /**
   * HarkCallForks::dialog-ended:
   * @dialog: a dialog that is not the call's any more and has ended
   */
  signals[SIGNAL_DIALOG_ENDED] =
    g_signal_new ("dialog-ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, HARK_TYPE_DIALOG);
}

static void
hark_call_forks_init (HarkCallForks *self)
{
  self->forks = g_ptr_array_new_with_free_func (fork_free);
  self->by_tag = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * hark_call_forks_new:
 * @primary: the call's dialog, which the call has added its usage to
 * @usage_path: the call's object path, the usage of every fork's dialog
 * @terminate: how the call ends (Dialog1.Terminate() before an answer)
 * @usage: for @terminate
 *
 * Returns: (transfer full): the dialogs of one outgoing INVITE
 */
HarkCallForks *
hark_call_forks_new (HarkDialog              *primary,
                     const char              *usage_path,
                     HarkDialogTerminateFunc  terminate,
                     gpointer                 usage)
{
  HarkCallForks *self;

  g_return_val_if_fail (HARK_IS_DIALOG (primary), NULL);
  g_return_val_if_fail (terminate != NULL, NULL);

  self = g_object_new (HARK_TYPE_CALL_FORKS, NULL);
  self->usage_path = g_strdup (usage_path);
  self->terminate = terminate;
  self->usage = usage;

  self->primary = g_new0 (Fork, 1);
  self->primary->owner = self;
  self->primary->dialog = g_object_ref (primary);
  hark_dialog_set_wire_router (primary, route_wire, self);
  g_ptr_array_add (self->forks, self->primary);
  return self;
}

/**
 * hark_call_forks_answered:
 *
 * nua took a 2xx to the INVITE: the dialog it came on is the call's from
 * now on. The other early dialogs get 64*T1 to answer (and be ended).
 *
 * Returns: (transfer none): the call's dialog
 */
HarkDialog *
hark_call_forks_answered (HarkCallForks *self)
{
  Fork *winner;

  g_return_val_if_fail (HARK_IS_CALL_FORKS (self), NULL);

  if (self->answered)
    return self->primary->dialog;
  self->answered = TRUE;

  winner = self->answer_tag != NULL ? g_hash_table_lookup (self->by_tag, self->answer_tag) : NULL;
  if (winner != NULL && winner != self->primary && !winner->ended)
    promote (self, winner);

  if (self->forks->len > 1)
    self->expire_id = g_timeout_add (hark_sip_get_t1x64_ms (), expire_cb, self);
  return self->primary->dialog;
}

/**
 * hark_call_forks_end_early:
 *
 * The INVITE has failed or the call has ended: every other early dialog
 * ends now.
 */
void
hark_call_forks_end_early (HarkCallForks *self)
{
  g_return_if_fail (HARK_IS_CALL_FORKS (self));

  g_clear_handle_id (&self->expire_id, g_source_remove);
  for (guint i = 0; i < self->forks->len; i++)
    end_fork (g_ptr_array_index (self->forks, i));
}
