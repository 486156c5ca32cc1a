/* hark-linger.c — ended objects that stay on the bus a while
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An ended call, dialog or subscription stays on the bus a few seconds, so
 * that a client that looks late still sees how it ended. Every object
 * waits the same time, so they leave in the order they ended: one queue
 * and one timer for the queue's head serve them all. A timer each would
 * put hundreds of sources in the main context under load, and the main
 * loop walks all of them on every iteration.
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include "hark-linger.h"

typedef struct
{
  gint64   deadline;   /* monotonic, µs */
  GObject *object;
} Entry;

struct _HarkLinger
{
  GObject         parent_instance;

  gint64          duration_us;
  HarkLingerFunc  func;
  gpointer        user_data;
  GQueue          entries;      /* of Entry, by deadline */
  guint           timeout_id;
};

G_DEFINE_FINAL_TYPE (HarkLinger, hark_linger, G_TYPE_OBJECT)

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_object_unref (entry->object);
  g_free (entry);
}

static void schedule (HarkLinger *self);

static gboolean
expire_cb (gpointer user_data)
{
  HarkLinger *self = user_data;
  gint64 now = g_get_monotonic_time ();
  Entry *entry;

  self->timeout_id = 0;
  g_object_ref (self);
  while ((entry = g_queue_peek_head (&self->entries)) != NULL && entry->deadline <= now)
    {
      g_queue_pop_head (&self->entries);
      self->func (entry->object, self->user_data);
      entry_free (entry);
    }
  schedule (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* A timer for the head's deadline, unless one runs: it is never later
 * than a newer entry's. */
static void
schedule (HarkLinger *self)
{
  Entry *head = g_queue_peek_head (&self->entries);
  gint64 wait_us;

  if (head == NULL || self->timeout_id != 0)
    return;
  wait_us = MAX (head->deadline - g_get_monotonic_time (), 0);
  self->timeout_id = g_timeout_add ((guint) ((wait_us + 999) / 1000), expire_cb, self);
}

static void
hark_linger_dispose (GObject *object)
{
  HarkLinger *self = HARK_LINGER (object);

  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_queue_clear_full (&self->entries, entry_free);

  G_OBJECT_CLASS (hark_linger_parent_class)->dispose (object);
}

static void
hark_linger_class_init (HarkLingerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = hark_linger_dispose;
}

static void
hark_linger_init (HarkLinger *self)
{
  g_queue_init (&self->entries);
}

/**
 * hark_linger_new:
 * @seconds: how long each object stays
 * @func: called for each object when its time is up
 * @user_data: data for @func
 *
 * Objects still waiting when the linger is disposed are dropped without
 * @func: the bus they were on is going too.
 *
 * Returns: (transfer full): a new #HarkLinger
 */
HarkLinger *
hark_linger_new (guint          seconds,
                 HarkLingerFunc func,
                 gpointer       user_data)
{
  HarkLinger *self;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (HARK_TYPE_LINGER, NULL);
  self->duration_us = (gint64) seconds * G_USEC_PER_SEC;
  self->func = func;
  self->user_data = user_data;
  return self;
}

/**
 * hark_linger_add:
 * @self: a #HarkLinger
 * @object: (type GObject): an object that has ended; a reference is taken
 *
 * @object's time starts now.
 */
void
hark_linger_add (HarkLinger *self,
                 gpointer    object)
{
  Entry *entry;

  g_return_if_fail (HARK_IS_LINGER (self));
  g_return_if_fail (G_IS_OBJECT (object));

  entry = g_new (Entry, 1);
  entry->deadline = g_get_monotonic_time () + self->duration_us;
  entry->object = g_object_ref (object);
  g_queue_push_tail (&self->entries, entry);
  schedule (self);
}

/**
 * hark_linger_length:
 * @self: a #HarkLinger
 *
 * Returns: how many objects are waiting
 */
guint
hark_linger_length (HarkLinger *self)
{
  g_return_val_if_fail (HARK_IS_LINGER (self), 0);

  return self->entries.length;
}
