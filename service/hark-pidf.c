/* hark-pidf.c — RFC 3863 presence documents (PIDF)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Read with GMarkupParseContext, a real XML parser without DTDs or external
 * entities, with XML namespaces resolved here: only elements in the PIDF
 * namespace count, so <dm:note> or an RPID <activities> extension, whatever
 * prefix they use, never pass for PIDF's own <note> or <basic>.
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <string.h>

#include "hark-error.h"
#include "hark-pidf.h"

#define XML_NAMESPACE "http://www.w3.org/XML/1998/namespace"
#define MAX_BODY      (256 * 1024)
#define MAX_DEPTH     64

typedef struct
{
  char       *local;     /* local name if in the PIDF namespace, else NULL */
  GHashTable *ns;        /* prefix → URI declared on this element, or NULL */
} Element;

typedef struct
{
  GArray    *stack;       /* of Element */
  gboolean   any_open;
  gboolean   any_closed;
  GString   *text;        /* text of the <basic> or <note> being read, or NULL */
  gboolean   text_is_basic;
  char      *presence_note;
  char      *tuple_note;
} Parser;

static void
element_clear (gpointer data)
{
  Element *element = data;

  g_clear_pointer (&element->local, g_free);
  g_clear_pointer (&element->ns, g_hash_table_unref);
}

static const char *
lookup_namespace (Parser     *parser,
                  const char *prefix)
{
  if (g_str_equal (prefix, "xml"))
    return XML_NAMESPACE;

  for (guint i = parser->stack->len; i > 0; i--)
    {
      Element *element = &g_array_index (parser->stack, Element, i - 1);
      const char *uri;

      if (element->ns != NULL && (uri = g_hash_table_lookup (element->ns, prefix)) != NULL)
        return *uri != '\0' ? uri : NULL;   /* xmlns="" undeclares the default */
    }
  return NULL;
}

static const char *
parent_local (Parser *parser,
              guint   up)
{
  if (parser->stack->len < up + 1)
    return NULL;
  return g_array_index (parser->stack, Element, parser->stack->len - 1 - up).local;
}

static void
start_element (GMarkupParseContext  *context,
               const char           *element_name,
               const char          **attribute_names,
               const char          **attribute_values,
               gpointer              user_data,
               GError              **error)
{
  Parser *parser = user_data;
  Element element = { 0 };
  const char *colon = strchr (element_name, ':');
  g_autofree char *prefix = colon ? g_strndup (element_name, colon - element_name) : g_strdup ("");
  const char *local = colon ? colon + 1 : element_name;
  const char *uri;

  if (parser->stack->len >= MAX_DEPTH)
    {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                   "elements nested deeper than %u levels", MAX_DEPTH);
      return;
    }

  for (guint i = 0; attribute_names[i] != NULL; i++)
    {
      const char *name = attribute_names[i];

      if (g_str_equal (name, "xmlns") || g_str_has_prefix (name, "xmlns:"))
        {
          if (element.ns == NULL)
            element.ns = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
          g_hash_table_replace (element.ns, g_strdup (name[5] == ':' ? name + 6 : ""),
                                g_strdup (attribute_values[i]));
        }
    }

  /* Push first so that the element's own declarations are in scope. */
  g_array_append_val (parser->stack, element);

  uri = lookup_namespace (parser, prefix);
  if (uri == NULL && *prefix != '\0')
    {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                   "namespace prefix “%s” of <%s> is not declared", prefix, element_name);
      return;
    }

  if (g_strcmp0 (uri, HARK_PIDF_NAMESPACE) == 0)
    g_array_index (parser->stack, Element, parser->stack->len - 1).local = g_strdup (local);

  if (parser->stack->len == 1)
    {
      if (g_strcmp0 (uri, HARK_PIDF_NAMESPACE) != 0 || !g_str_equal (local, "presence"))
        g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                     "the root element is <%s> (namespace %s), not PIDF’s <presence> (%s)",
                     element_name, uri ? uri : "none", HARK_PIDF_NAMESPACE);
      return;
    }

  if (parser->text != NULL)
    {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                   "<%s> inside a PIDF <%s>, which holds text only", element_name,
                   parser->text_is_basic ? "basic" : "note");
      return;
    }

  /* presence/tuple/status/basic */
  if (g_strcmp0 (parent_local (parser, 0), "basic") == 0 &&
      g_strcmp0 (parent_local (parser, 1), "status") == 0 &&
      g_strcmp0 (parent_local (parser, 2), "tuple") == 0 && parser->stack->len == 4)
    {
      parser->text = g_string_new (NULL);
      parser->text_is_basic = TRUE;
      return;
    }

  /* presence/note and presence/tuple/note; the first of each counts */
  if (g_strcmp0 (parent_local (parser, 0), "note") == 0 &&
      ((parser->stack->len == 2 && parser->presence_note == NULL) ||
       (parser->stack->len == 3 && g_strcmp0 (parent_local (parser, 1), "tuple") == 0 &&
        parser->tuple_note == NULL)))
    {
      parser->text = g_string_new (NULL);
      parser->text_is_basic = FALSE;
    }
}

static void
end_element (GMarkupParseContext  *context,
             const char           *element_name,
             gpointer              user_data,
             GError              **error)
{
  Parser *parser = user_data;

  if (parser->text != NULL)
    {
      g_autofree char *text = g_strstrip (g_string_free (g_steal_pointer (&parser->text), FALSE));

      if (parser->text_is_basic)
        {
          if (g_str_equal (text, "open"))
            parser->any_open = TRUE;
          else if (g_str_equal (text, "closed"))
            parser->any_closed = TRUE;
          else
            {
              g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                           "<basic> is “%s”, neither “open” nor “closed”", text);
              return;
            }
        }
      else if (parser->stack->len == 2)
        parser->presence_note = g_steal_pointer (&text);
      else
        parser->tuple_note = g_steal_pointer (&text);
    }

  g_array_set_size (parser->stack, parser->stack->len - 1);
}

static void
on_text (GMarkupParseContext  *context,
      const char           *text_value,
      gsize                 text_len,
      gpointer              user_data,
      GError              **error)
{
  Parser *parser = user_data;

  if (parser->text != NULL)
    g_string_append_len (parser->text, text_value, text_len);
}

static const GMarkupParser pidf_parser = {
  start_element,
  end_element,
  on_text,
  NULL,
  NULL,
};

/**
 * hark_pidf_parse:
 * @body: a PIDF document
 * @length: its length, or -1 if nul-terminated
 * @out_basic: (out): "open" if any tuple is open, else "closed" if any is
 *   closed, else "" (no tuple gave a basic status)
 * @out_note: (out): the presence's <note>, else the first tuple's, else ""
 *
 * Unknown elements and elements of other namespaces are skipped.
 *
 * Returns: %FALSE with %HARK_ERROR_INVALID_ARGUMENT if @body is not
 *   well-formed XML or not a PIDF presence document
 */
gboolean
hark_pidf_parse (const char  *body,
                 gssize       length,
                 char       **out_basic,
                 char       **out_note,
                 GError     **error)
{
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GError) local_error = NULL;
  Parser parser = { 0 };
  gsize len;
  gboolean ok;

  g_return_val_if_fail (body != NULL || length == 0, FALSE);
  g_return_val_if_fail (out_basic != NULL && out_note != NULL, FALSE);

  len = length < 0 ? strlen (body) : (gsize) length;
  if (len > MAX_BODY)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "PIDF: the document is longer than %u bytes", MAX_BODY);
      return FALSE;
    }

  parser.stack = g_array_new (FALSE, TRUE, sizeof (Element));
  g_array_set_clear_func (parser.stack, element_clear);

  context = g_markup_parse_context_new (&pidf_parser,
                                        G_MARKUP_TREAT_CDATA_AS_TEXT |
                                        G_MARKUP_PREFIX_ERROR_POSITION,
                                        &parser, NULL);
  ok = g_markup_parse_context_parse (context, body ? body : "", len, &local_error) &&
       g_markup_parse_context_end_parse (context, &local_error);

  if (ok && !parser.any_open && !parser.any_closed && parser.presence_note == NULL &&
      parser.tuple_note == NULL && len == 0)
    {
      g_set_error_literal (&local_error, G_MARKUP_ERROR, G_MARKUP_ERROR_EMPTY,
                           "the document is empty");
      ok = FALSE;
    }

  if (ok)
    {
      *out_basic = g_strdup (parser.any_open ? "open" : parser.any_closed ? "closed" : "");
      *out_note = g_strdup (parser.presence_note ? parser.presence_note
                            : parser.tuple_note ? parser.tuple_note : "");
    }
  else
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "PIDF: %s", local_error->message);
    }

  if (parser.text != NULL)
    g_string_free (parser.text, TRUE);
  g_free (parser.presence_note);
  g_free (parser.tuple_note);
  g_array_unref (parser.stack);
  return ok;
}

/**
 * hark_pidf_check_basic:
 * @basic: what a user asks to publish
 *
 * Returns: whether @basic is "open" or "closed"
 */
gboolean
hark_pidf_check_basic (const char  *basic,
                       GError     **error)
{
  if (g_strcmp0 (basic, "open") == 0 || g_strcmp0 (basic, "closed") == 0)
    return TRUE;

  g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
               "Argument “basic”: “%s” is neither “open” nor “closed” (RFC 3863)",
               basic ? basic : "");
  return FALSE;
}

/**
 * hark_pidf_build:
 * @entity: the presentity's URI (e.g. the profile's AOR)
 * @basic: "open" or "closed"
 * @note: (nullable): free text, "" or %NULL for none
 *
 * Returns: (transfer full): a PIDF document with one tuple
 */
char *
hark_pidf_build (const char *entity,
                 const char *basic,
                 const char *note)
{
  g_autofree char *entity_escaped = NULL;
  g_autoptr(GString) doc = g_string_new (NULL);

  g_return_val_if_fail (entity != NULL, NULL);
  g_return_val_if_fail (basic != NULL, NULL);

  entity_escaped = g_markup_escape_text (entity, -1);
  g_string_append_printf (doc,
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<presence xmlns=\"" HARK_PIDF_NAMESPACE "\" entity=\"%s\">\n"
                          "  <tuple id=\"hark\">\n"
                          "    <status><basic>%s</basic></status>\n"
                          "  </tuple>\n",
                          entity_escaped, g_str_equal (basic, "open") ? "open" : "closed");
  if (note != NULL && *note != '\0')
    {
      g_autofree char *note_escaped = g_markup_escape_text (note, -1);

      g_string_append_printf (doc, "  <note>%s</note>\n", note_escaped);
    }
  g_string_append (doc, "</presence>\n");

  return g_string_free (g_steal_pointer (&doc), FALSE);
}
